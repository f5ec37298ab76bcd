//! Relationships: declared foreign keys plus inferred ones (`<thing>_id` → `thing`/`things`,
//! `user_id` → the users table or `auth.users`, tenant column → tenant root), each with its
//! evidence and confidence.
//!
//! CONTRACT (types and function names are fixed; inference is being written).

use dbaudit_catalog::{CatalogIndex, Oid};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Serialize)]
pub struct Relationship {
    pub from: Oid,
    pub from_columns: Vec<String>,
    pub to: Oid,
    pub to_columns: Vec<String>,
    /// The FK constraint's name when declared; `None` when inferred.
    pub declared: Option<String>,
    /// Declared ones are `High`.
    pub confidence: Confidence,
    /// Why we think so, in words: "call_logs.agent_run_id is uuid, named after agent_runs, whose
    /// key id is uuid".
    pub evidence: String,
    /// The referencing and referenced column types allow an FK (`text` → `uuid` does not).
    pub types_compatible: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Relationships {
    pub all: Vec<Relationship>,
}

impl Relationships {
    pub fn analyse(index: &CatalogIndex<'_>, users_tables: &[Oid], tenant_root: Option<Oid>, tenant_columns: &[String]) -> Relationships {
        let _ = (index, users_tables, tenant_root, tenant_columns);
        Relationships::default()
    }

    pub fn from_table(&self, table: Oid) -> impl Iterator<Item = &Relationship> {
        self.all.iter().filter(move |r| r.from == table)
    }

    pub fn inferred(&self) -> impl Iterator<Item = &Relationship> {
        self.all.iter().filter(|r| r.declared.is_none())
    }
}
