//! Exposure: which API roles (the roles untrusted clients act as) can reach which relations.
//!
//! A relation is reachable by a role when the role — directly, through role membership with
//! INHERIT, or through `PUBLIC` — holds USAGE on the relation's schema and any privilege on the
//! relation (table-level, or on any of its columns).

use crate::settings::Settings;
use dbaudit_catalog::{CatalogIndex, Grant, Oid, Relation};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Where the list of API roles came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiRolesSource {
    /// Set in the configuration.
    Config,
    /// Supabase's `anon` / `authenticated` roles were found.
    Detected,
    /// No API roles: the application reaches the database with a trusted role only, so RLS is
    /// not what isolates tenants.
    None,
}

impl ApiRolesSource {
    /// As in the JSON report: `config`, `detected`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiRolesSource::Config => "config",
            ApiRolesSource::Detected => "detected",
            ApiRolesSource::None => "none",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Exposure {
    pub api_roles: Vec<String>,
    pub source: ApiRolesSource,
    /// API roles that bypass RLS (superuser or BYPASSRLS): a misconfiguration in itself.
    pub bypassing_roles: Vec<String>,
    #[serde(skip)]
    relations: HashMap<Oid, RelationExposure>,
}

/// The privileges each API role holds on one relation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RelationExposure {
    /// Role → privileges (upper case, sorted).
    pub roles: BTreeMap<String, Vec<String>>,
}

impl RelationExposure {
    pub fn is_exposed(&self) -> bool {
        !self.roles.is_empty()
    }

    /// Privileges of any API role, deduplicated, in a stable order.
    pub fn privileges(&self) -> Vec<String> {
        const ORDER: &[&str] = &[
            "SELECT",
            "INSERT",
            "UPDATE",
            "DELETE",
            "TRUNCATE",
            "REFERENCES",
            "TRIGGER",
        ];
        let mut all: Vec<String> = self.roles.values().flatten().cloned().collect();
        all.sort_by_key(|p| ORDER.iter().position(|o| o == p).unwrap_or(ORDER.len()));
        all.dedup();
        all
    }

    pub fn can_write(&self) -> bool {
        self.privileges()
            .iter()
            .any(|p| matches!(p.as_str(), "INSERT" | "UPDATE" | "DELETE" | "TRUNCATE"))
    }
}

impl Exposure {
    pub fn analyse(index: &CatalogIndex<'_>, settings: &Settings) -> Exposure {
        let (api_roles, source) = match &settings.api_roles {
            Some(roles) => (roles.clone(), ApiRolesSource::Config),
            None => {
                let found: Vec<String> = ["anon", "authenticated"]
                    .iter()
                    .filter(|r| index.role(r).is_some())
                    .map(|r| r.to_string())
                    .collect();
                if found.is_empty() {
                    (found, ApiRolesSource::None)
                } else {
                    (found, ApiRolesSource::Detected)
                }
            }
        };
        let bypassing_roles = api_roles
            .iter()
            .filter(|r| index.role(r).is_some_and(|r| r.bypass_rls || r.superuser))
            .cloned()
            .collect();
        let effective: Vec<(String, Vec<String>)> = api_roles
            .iter()
            .map(|r| (r.clone(), index.effective_roles(r)))
            .collect();
        let mut relations = HashMap::new();
        for rel in &index.catalog.relations {
            let mut exp = RelationExposure::default();
            for (role, eff) in &effective {
                let privs = privileges_of(index, rel, eff);
                if !privs.is_empty() {
                    exp.roles.insert(role.clone(), privs);
                }
            }
            if exp.is_exposed() {
                relations.insert(rel.oid, exp);
            }
        }
        Exposure {
            api_roles,
            source,
            bypassing_roles,
            relations,
        }
    }

    /// The exposure of one relation (empty when no API role reaches it). Borrowed: rules ask
    /// for it once per relation.
    pub fn of(&self, rel: Oid) -> &RelationExposure {
        static UNEXPOSED: RelationExposure = RelationExposure {
            roles: BTreeMap::new(),
        };
        self.relations.get(&rel).unwrap_or(&UNEXPOSED)
    }

    pub fn is_exposed(&self, rel: Oid) -> bool {
        self.relations.contains_key(&rel)
    }
}

fn held_by<'a>(grants: &'a [Grant], roles: &'a [String]) -> impl Iterator<Item = String> + 'a {
    grants
        .iter()
        .filter(move |g| roles.contains(&g.grantee))
        .map(|g| g.privilege.clone())
}

fn privileges_of(index: &CatalogIndex<'_>, rel: &Relation, roles: &[String]) -> Vec<String> {
    let Some(schema) = index.schema(&rel.schema) else {
        return vec![];
    };
    let usage = schema
        .grants
        .iter()
        .any(|g| g.privilege == "USAGE" && roles.contains(&g.grantee));
    if !usage {
        return vec![];
    }
    let mut privs: Vec<String> = held_by(&rel.grants, roles).collect();
    for col in &rel.columns {
        privs.extend(held_by(&col.grants, roles));
    }
    privs.sort();
    privs.dedup();
    privs
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbaudit_catalog::builder::CatalogBuilder;

    #[test]
    fn supabase_roles_are_detected_and_grants_make_exposure() {
        let cat = CatalogBuilder::supabase()
            .table("public.a", &["id uuid"])
            .supabase_grants("public.a")
            .table("public.b", &["id uuid"])
            .build();
        let ix = CatalogIndex::new(&cat);
        let e = Exposure::analyse(&ix, &Settings::default());
        assert_eq!(e.source, ApiRolesSource::Detected);
        assert_eq!(e.api_roles, vec!["anon", "authenticated"]);
        assert!(e.is_exposed(ix.relation_named("public", "a").unwrap().oid));
        assert!(!e.is_exposed(ix.relation_named("public", "b").unwrap().oid));
    }

    #[test]
    fn no_schema_usage_means_no_exposure() {
        let cat = CatalogBuilder::supabase()
            .schema("private")
            .table("private.t", &["id uuid"])
            .supabase_grants("private.t")
            .build();
        let ix = CatalogIndex::new(&cat);
        let e = Exposure::analyse(&ix, &Settings::default());
        assert!(!e.is_exposed(ix.relation_named("private", "t").unwrap().oid));
    }

    #[test]
    fn grants_reach_through_public_and_membership() {
        let cat = CatalogBuilder::supabase()
            .role_with("readers", false, false, &[])
            .with(|c| {
                let r = c
                    .roles
                    .iter_mut()
                    .find(|r| r.name == "authenticated")
                    .unwrap();
                r.member_of.push("readers".into());
            })
            .table("public.via_role", &["id uuid"])
            .grant("public.via_role", "readers", &["SELECT"])
            .table("public.via_public", &["id uuid"])
            .grant("public.via_public", "PUBLIC", &["SELECT"])
            .build();
        let ix = CatalogIndex::new(&cat);
        let e = Exposure::analyse(&ix, &Settings::default());
        let via_role = e.of(ix.relation_named("public", "via_role").unwrap().oid);
        assert_eq!(
            via_role.roles.keys().collect::<Vec<_>>(),
            vec!["authenticated"]
        );
        let via_public = e.of(ix.relation_named("public", "via_public").unwrap().oid);
        assert_eq!(via_public.roles.len(), 2);
    }

    #[test]
    fn plain_postgres_has_no_api_roles() {
        let cat = CatalogBuilder::new()
            .table("public.t", &["id int"])
            .grant("public.t", "PUBLIC", &["SELECT"])
            .build();
        let ix = CatalogIndex::new(&cat);
        let e = Exposure::analyse(&ix, &Settings::default());
        assert_eq!(e.source, ApiRolesSource::None);
        assert!(!e.is_exposed(ix.relation_named("public", "t").unwrap().oid));
    }

    #[test]
    fn configured_roles_win() {
        let cat = CatalogBuilder::new()
            .role("web_anon")
            .with(|c| {
                c.schemas[0].grants.push(Grant {
                    grantee: "web_anon".into(),
                    privilege: "USAGE".into(),
                    grantable: false,
                })
            })
            .table("public.t", &["id int"])
            .grant("public.t", "web_anon", &["SELECT"])
            .build();
        let ix = CatalogIndex::new(&cat);
        let settings = Settings {
            api_roles: Some(vec!["web_anon".into()]),
            ..Settings::default()
        };
        let e = Exposure::analyse(&ix, &settings);
        assert_eq!(e.source, ApiRolesSource::Config);
        assert_eq!(
            serde_json::to_value(e.source).unwrap(),
            e.source.as_str(),
            "as_str spells it as the JSON does"
        );
        assert!(e.is_exposed(ix.relation_named("public", "t").unwrap().oid));
    }
}
