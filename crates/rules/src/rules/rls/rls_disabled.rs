//! RLS001 `rls-disabled`: an API-exposed table with row-level security off.

use crate::analysis::exposure::ApiRolesSource;
use crate::{qualify, Context, Rule};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS001",
    name: "rls-disabled",
    category: Category::Rls,
    default_severity: Severity::Critical,
    source: RuleSource::Schema,
    summary: "API-exposed table with RLS off",
    docs: r#"## What it does
Finds tables that the roles untrusted clients act as (Supabase's `anon` and `authenticated`, or the
`api_roles` of `dbaudit.toml`) can reach — USAGE on the schema plus any privilege on the table,
directly, through role membership or through `PUBLIC` — while row-level security is disabled.

Tables no API role can reach are not reported: a backend that connects with a trusted role and
filters tenants in application code (Drizzle, Prisma, SQLAlchemy) does not rely on RLS.

## Why it matters
With RLS off, a grant is the only barrier, and on Supabase every new table in `public` is granted
to `anon` and `authenticated` by default. Anyone holding the public anon key can then read — and,
with the default grants, insert, update and delete — every row of every tenant through the REST
API.

## Example
```sql
create table public.stripe_events (id text primary key, payload jsonb);
-- Supabase's default privileges grant ALL on it to anon and authenticated; no RLS.
```

## Fix
Enable RLS and write the policies the table needs; a table only the backend uses needs no policy
(RLS on with no policy denies every API request), or revoke the API roles' privileges:
```sql
alter table public.stripe_events enable row level security;
-- or, for a server-only table:
revoke all on public.stripe_events from anon, authenticated;
```
Enabling RLS without policies denies the API roles everything, so check which clients read the
table first.
"#,
};

pub struct RlsDisabled;

impl Rule for RlsDisabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if ctx.exposure.source == ApiRolesSource::None {
            return vec![];
        }
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            if !rel.kind.is_table() || rel.rls_enabled {
                continue;
            }
            let exposure = ctx.exposure.of(rel.oid);
            if !exposure.is_exposed() {
                continue;
            }
            let roles: Vec<&str> = exposure.roles.keys().map(String::as_str).collect();
            let privileges = exposure.privileges();
            let policies = ctx.index.policies(rel.oid).len();
            let table = qualify(&rel.schema, &rel.name);
            let dml: Vec<&str> = privileges
                .iter()
                .map(String::as_str)
                .filter(|p| matches!(*p, "SELECT" | "INSERT" | "UPDATE" | "DELETE"))
                .collect();
            let mut message = format!(
                "row-level security is disabled on {}, which {} can {} through the API",
                rel.qualified(),
                roles.join(" and "),
                if dml.is_empty() {
                    privileges.join(", ")
                } else {
                    dml.join(", ")
                }
            );
            if policies > 0 {
                message.push_str(&format!(
                    "; its {policies} polic{} never apply",
                    if policies == 1 { "y" } else { "ies" }
                ));
            }
            let impact = if exposure.can_write() {
                "anyone with the API key can read and change every tenant's rows in this table"
            } else {
                "anyone with the API key can read every tenant's rows in this table"
            };
            let fix = format!(
                "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n\
                 -- then add policies for the API roles, or, if only the backend uses it:\n\
                 -- REVOKE ALL ON {table} FROM {};",
                roles.join(", ")
            );
            let mut f = META
                .finding(message)
                .table(&rel.schema, &rel.name)
                .impact(impact)
                .evidence("rls_enabled", false)
                .evidence(
                    "api_roles",
                    serde_json::to_value(&exposure.roles).unwrap_or_default(),
                )
                .evidence("policies", policies)
                .fix(fix, FixSafety::Review);
            if let Some(rows) = rel.row_estimate {
                f = f.evidence("row_estimate", rows);
            }
            out.push(f);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{run, run_with};
    use crate::Settings;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::PolicyCommand;

    #[test]
    fn exposed_table_without_rls_is_reported() {
        let cat = CatalogBuilder::supabase()
            .table(
                "public.stripe_events",
                &["id text not null", "payload jsonb"],
            )
            .supabase_grants("public.stripe_events")
            .build();
        let f = run(&RlsDisabled, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].table.as_deref(), Some("stripe_events"));
        assert_eq!(f[0].severity, Severity::Critical);
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn table_with_rls_is_not_reported() {
        let cat = CatalogBuilder::supabase()
            .table("public.t", &["id uuid"])
            .supabase_grants("public.t")
            .rls("public.t", true)
            .build();
        assert!(run(&RlsDisabled, &cat).is_empty());
    }

    #[test]
    fn table_without_api_grants_is_not_reported() {
        let cat = CatalogBuilder::supabase()
            .table("public.server_only", &["id uuid"])
            .grant("public.server_only", "service_role", &["SELECT"])
            .build();
        assert!(run(&RlsDisabled, &cat).is_empty());
    }

    #[test]
    fn application_level_tenancy_without_api_roles_is_not_reported() {
        // Drizzle/Prisma backend: no anon/authenticated roles exist at all.
        let cat = CatalogBuilder::new()
            .table("public.orders", &["id uuid"])
            .grant("public.orders", "PUBLIC", &["SELECT"])
            .build();
        assert!(run(&RlsDisabled, &cat).is_empty());
    }

    #[test]
    fn managed_schemas_and_views_are_not_reported() {
        let cat = CatalogBuilder::supabase()
            .table("public.t", &["id uuid"])
            .rls("public.t", true)
            .view("public.v", &["id uuid"], &["public.t"])
            .supabase_grants("public.v")
            .build();
        // auth.users (managed) has RLS off in the preset; views have no RLS of their own.
        assert!(run(&RlsDisabled, &cat).is_empty());
    }

    #[test]
    fn policies_on_a_disabled_table_are_mentioned() {
        let cat = CatalogBuilder::supabase()
            .table("public.t", &["id uuid"])
            .supabase_grants("public.t")
            .policy(
                "public.t",
                "p",
                PolicyCommand::Select,
                &["authenticated"],
                Some("true"),
                None,
            )
            .build();
        let f = run(&RlsDisabled, &cat);
        assert!(
            f[0].message.contains("1 policy never apply"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn configured_api_roles_are_used() {
        let cat = CatalogBuilder::new()
            .role("web_anon")
            .with(|c| {
                c.schemas[0].grants.push(dbaudit_catalog::Grant {
                    grantee: "web_anon".into(),
                    privilege: "USAGE".into(),
                    grantable: false,
                })
            })
            .table("public.t", &["id int"])
            .grant("public.t", "web_anon", &["SELECT"])
            .build();
        let settings = Settings {
            api_roles: Some(vec!["web_anon".into()]),
            ..Settings::default()
        };
        let f = run_with(&RlsDisabled, &cat, &settings, &[]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("web_anon can SELECT"),
            "{}",
            f[0].message
        );
    }
}
