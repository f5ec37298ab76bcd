//! The tenancy model: the tenant root table, the tenant column name(s), the membership table, how
//! policies resolve the caller's tenant, and every table's scope.
//!
//! CONTRACT (types and function names are fixed; detection is being written).

use dbaudit_catalog::{CatalogIndex, Oid};
use serde::Serialize;
use std::collections::HashMap;

/// How a table relates to tenants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// The tenant root itself.
    Root,
    /// Has the tenant column.
    Direct { column: String },
    /// Reaches the root through NOT NULL foreign keys (e.g. messages → conversations).
    ViaParent {
        parent: Oid,
        /// The FK columns on this table that lead to `parent`.
        columns: Vec<String>,
    },
    /// Shared by every tenant (a catalogue such as `plans`).
    Global,
    /// Looks tenant-owned but has no path to the root.
    Unscoped,
}

/// How policies find the caller's tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resolution {
    /// A JWT claim, e.g. `app_metadata.org_id`.
    Claim { path: Vec<String> },
    /// A helper function, e.g. `public.current_company_id()`.
    Helper { function: String },
    /// A sub-query on the membership table.
    Membership { table: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Membership {
    pub table: Oid,
    pub user_column: String,
    pub tenant_column: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Tenancy {
    pub root: Option<Oid>,
    /// Why this root: "set in dbaudit.toml", "named organizations; 14 tenant columns point at it".
    pub root_evidence: String,
    /// Tenant column names, most used first (`company_id`; `org_id`, `organization_id`).
    pub tenant_columns: Vec<String>,
    /// The application's users/profiles table, if any (`public.users`, `public.profiles`).
    pub users_table: Option<Oid>,
    pub membership: Option<Membership>,
    /// Each way policies resolve the tenant, with the policies (`table: name`) that use it.
    pub resolutions: Vec<(Resolution, Vec<String>)>,
    #[serde(skip)]
    pub scopes: HashMap<Oid, Scope>,
}

impl Tenancy {
    pub fn analyse(
        index: &CatalogIndex<'_>,
        settings: &crate::Settings,
        policies: &super::policy::PolicyAnalysis,
    ) -> Tenancy {
        let _ = (index, settings, policies);
        Tenancy::default()
    }

    pub fn scope(&self, rel: Oid) -> Option<&Scope> {
        self.scopes.get(&rel)
    }

    pub fn is_tenant_scoped(&self, rel: Oid) -> bool {
        matches!(
            self.scope(rel),
            Some(Scope::Direct { .. } | Scope::ViaParent { .. })
        )
    }

    /// The tenant column of a directly scoped table.
    pub fn tenant_column(&self, rel: Oid) -> Option<&str> {
        match self.scope(rel) {
            Some(Scope::Direct { column }) => Some(column),
            _ => None,
        }
    }

    /// The model as the JSON report's `tenancy` object.
    pub fn to_json(&self, index: &CatalogIndex<'_>) -> serde_json::Value {
        let _ = index;
        serde_json::Value::Null
    }
}
