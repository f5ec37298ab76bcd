//! Row-level security rules (RLS).

pub mod rls_disabled;

use crate::Rule;

pub static RULES: &[&dyn Rule] = &[&rls_disabled::RlsDisabled];
