//! Models derived once from the catalog, shared by the rules.

pub mod exposure;
