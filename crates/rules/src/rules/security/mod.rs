//! Security rules (SEC).

use crate::Rule;

pub static RULES: &[&dyn Rule] = &[];
