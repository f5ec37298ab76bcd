//! Integrity rules (INT).

pub mod missing_primary_key;

use crate::Rule;

pub static RULES: &[&dyn Rule] = &[&missing_primary_key::MissingPrimaryKey];
