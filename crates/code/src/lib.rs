//! Application-code checks (`--code`).
