//! Data scans (`--scan-data`). See DESIGN.md, "Data scans".
