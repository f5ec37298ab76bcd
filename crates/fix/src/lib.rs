//! The fix migration (`--fix-out`). See DESIGN.md, "Fix migration".
