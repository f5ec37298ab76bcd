//! Isolation proof (`--probe`). See DESIGN.md, "Proof".
