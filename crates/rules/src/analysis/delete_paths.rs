//! Delete paths: for the tenant root, the users table and `auth.users`, what deleting one row
//! does to every table that points at it, directly or transitively (cascade, set null, blocked,
//! or nothing because the reference has no FK).
//!
//! CONTRACT (types and function names are fixed; the walk is being written).

use super::relationships::Relationships;
use dbaudit_catalog::{CatalogIndex, Oid};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteEffect {
    Cascade,
    SetNull,
    SetDefault,
    /// NO ACTION / RESTRICT: the delete fails while such rows exist.
    Blocked,
    /// An inferred reference with no FK: rows are left pointing at nothing.
    Orphaned,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeleteEdge {
    /// The referencing table.
    pub table: Oid,
    pub columns: Vec<String>,
    /// The table it references (the origin or a table that cascades from it).
    pub parent: Oid,
    /// FK constraint name, or `None` for an inferred reference.
    pub constraint: Option<String>,
    pub effect: DeleteEffect,
    /// Distance from the origin (1 = references the origin itself).
    pub depth: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeletePath {
    pub origin: Oid,
    pub edges: Vec<DeleteEdge>,
}

#[derive(Debug, Clone, Default)]
pub struct DeletePaths {
    pub paths: Vec<DeletePath>,
}

impl DeletePaths {
    pub fn analyse(index: &CatalogIndex<'_>, relationships: &Relationships, origins: &[Oid]) -> DeletePaths {
        let _ = (index, relationships, origins);
        DeletePaths::default()
    }
}
