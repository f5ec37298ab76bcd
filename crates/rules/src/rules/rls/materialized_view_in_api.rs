//! RLS016 `materialized-view-in-api`: a materialized view (no RLS possible) readable by API
//! roles.

use super::common::{base_relations, has_api_roles, is_tenant_data};
use crate::{qualify, Context, Rule};
use dbaudit_catalog::RelationKind;
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS016",
    name: "materialized-view-in-api",
    category: Category::Rls,
    default_severity: Severity::Moderate,
    source: RuleSource::Schema,
    summary: "materialized view (no RLS possible) readable by API roles",
    docs: r#"## What it does
Finds materialized views in the audited schemas that an API role can SELECT. A materialized
view is a stored copy: it cannot have row-level security and does not apply the policies of the
tables it was built from. It is `high` when it copies tenant data or a table with row-level
security, `moderate` otherwise. Materialized views over `auth.users` are
`auth-users-exposed`.

## Why it matters
Whatever the view stored — for every tenant — is returned to every caller it is granted to, and
Supabase grants new objects in `public` to `anon` and `authenticated` by default. Aggregates per
tenant (revenue, usage, counts) are the usual case.

## Example
```sql
create materialized view public.usage_by_org as
  select org_id, sum(minutes) from public.call_logs group by org_id;
```

## Fix
Revoke it from the API roles (or create it in a schema the API does not expose), and serve it
through a SECURITY DEFINER function that filters by the caller's tenant:
```sql
revoke all on public.usage_by_org from anon, authenticated;
```
"#,
};

pub struct MaterializedViewInApi;

impl Rule for MaterializedViewInApi {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if !has_api_roles(ctx) {
            return vec![];
        }
        let mut out = vec![];
        for mv in ctx.audited_relations() {
            if mv.kind != RelationKind::MaterializedView {
                continue;
            }
            let exposure = ctx.exposure.of(mv.oid);
            let readers: Vec<&str> = exposure
                .roles
                .iter()
                .filter(|(_, p)| p.iter().any(|x| x == "SELECT"))
                .map(|(r, _)| r.as_str())
                .collect();
            if readers.is_empty() {
                continue;
            }
            let bases = base_relations(ctx, mv);
            if bases
                .iter()
                .any(|b| b.schema == "auth" && b.name == "users")
            {
                continue;
            }
            let protected: Vec<String> = bases
                .iter()
                .filter(|b| b.rls_enabled || is_tenant_data(ctx, b.oid))
                .map(|b| b.qualified())
                .collect();
            let severity = if protected.is_empty() {
                Severity::Moderate
            } else {
                Severity::High
            };
            let mut message = format!(
                "materialized view {} is readable by {} and cannot have row-level security",
                mv.qualified(),
                readers.join(", ")
            );
            if !protected.is_empty() {
                message.push_str(&format!(
                    "; it copies {}, whose policies do not apply to it",
                    protected.join(", ")
                ));
            }
            out.push(
                META.finding(message)
                    .severity(severity)
                    .table(&mv.schema, &mv.name)
                    .impact(if protected.is_empty() {
                        "every row it stores is readable by every API caller".to_string()
                    } else {
                        format!(
                            "every tenant's data copied from {} is readable by every API caller",
                            protected.join(", ")
                        )
                    })
                    .evidence("readable_by", readers.clone())
                    .evidence(
                        "reads",
                        bases.iter().map(|b| b.qualified()).collect::<Vec<_>>(),
                    )
                    .evidence("protected_sources", protected.clone())
                    .fix(
                        format!(
                            "REVOKE ALL ON {} FROM {};",
                            qualify(&mv.schema, &mv.name),
                            readers.join(", ")
                        ),
                        FixSafety::Review,
                    ),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    fn mv(b: CatalogBuilder, name: &str, reads: &[&str]) -> CatalogBuilder {
        b.view(name, &["x int"], reads)
            .with(|c| c.relations.last_mut().unwrap().kind = RelationKind::MaterializedView)
    }

    #[test]
    fn exposed_matview_over_rls_table_is_high() {
        let b = CatalogBuilder::supabase()
            .table("public.call_logs", &["id uuid", "org_id uuid"])
            .rls("public.call_logs", true);
        let cat = mv(b, "public.usage_by_org", &["public.call_logs"])
            .supabase_grants("public.usage_by_org")
            .build();
        let f = run(&MaterializedViewInApi, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
    }

    #[test]
    fn matview_over_open_data_is_moderate_and_ungranted_is_fine() {
        let b = CatalogBuilder::supabase().table("public.plans", &["id uuid"]);
        let b = mv(b, "public.plan_stats", &["public.plans"]).grant(
            "public.plan_stats",
            "anon",
            &["SELECT"],
        );
        let cat = mv(b, "public.hidden", &["public.plans"]).build();
        let f = run(&MaterializedViewInApi, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Moderate);
        assert_eq!(f[0].table.as_deref(), Some("plan_stats"));
    }
}
