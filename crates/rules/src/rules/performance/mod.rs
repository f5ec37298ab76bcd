//! Performance rules (PERF).

pub mod unindexed_foreign_key;

use crate::Rule;

pub static RULES: &[&dyn Rule] = &[&unindexed_foreign_key::UnindexedForeignKey];
