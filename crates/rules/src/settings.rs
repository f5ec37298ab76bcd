//! What the user told us (or what we default to): API roles, schemas under audit, the tenancy
//! overrides and ignored findings. `dbaudit.toml` and the command line fill it.

use dbaudit_catalog::CatalogIndex;

#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Roles untrusted clients act as. `None`: detect (`anon`, `authenticated` when they exist).
    pub api_roles: Option<Vec<String>>,
    /// Schemas to audit. `None`: every schema that is not managed by Supabase or Postgres.
    pub schemas: Option<Vec<String>>,
    /// The tenant root table (`public.organizations`). `None`: detect.
    pub tenant_root: Option<String>,
    /// Tenant column names. `None`: detect.
    pub tenant_columns: Option<Vec<String>>,
}

impl Settings {
    pub fn audits_schema(&self, schema: &str, index: &CatalogIndex<'_>) -> bool {
        match &self.schemas {
            Some(list) => list.iter().any(|s| s == schema),
            None => index.schema(schema).is_some_and(|s| !s.managed),
        }
    }
}
