//! The environment Supabase provides before a project's migrations run, and stand-ins for
//! extensions this machine's PostgreSQL lacks. (API is the contract; being written.)

use crate::layout::MigrationSet;

/// An extension replaced by SQL that provides its schemas, types and function signatures.
#[derive(Debug)]
pub struct StandIn {
    pub name: &'static str,
    /// Schema the extension installs into when `CREATE EXTENSION` names none.
    pub default_schema: &'static str,
    /// SQL with `@extschema@` where the target schema goes; idempotent.
    pub sql: &'static str,
}

/// Whether the migrations need the Supabase environment.
pub fn needed(set: &MigrationSet) -> bool {
    let _ = set;
    unimplemented!()
}

/// SQL that builds the Supabase environment in an empty database (idempotent).
pub fn env_sql() -> &'static str {
    unimplemented!()
}

/// The stand-in for an extension name, if we have one.
pub fn standin(extension: &str) -> Option<&'static StandIn> {
    let _ = extension;
    unimplemented!()
}
