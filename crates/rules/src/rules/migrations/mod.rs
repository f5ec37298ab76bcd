//! Migration rules (MIG).

pub mod migration_error;

use crate::Rule;

pub static RULES: &[&dyn Rule] = &[&migration_error::MigrationError];
