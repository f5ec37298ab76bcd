//! RLS011 `view-bypasses-rls`: a view over a table with row-level security, reachable by API
//! roles, that runs as its owner (no `security_invoker`).

use super::common::{base_relations, bypasses_rls, has_api_roles, is_tenant_data};
use crate::{qualify, Context, Rule};
use dbaudit_catalog::RelationKind;
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS011",
    name: "view-bypasses-rls",
    category: Category::Rls,
    default_severity: Severity::Critical,
    source: RuleSource::Schema,
    summary: "view over an RLS table, reachable by API roles, without `security_invoker` (runs as its owner)",
    docs: r#"## What it does
Finds views in the audited schemas that an API role can read, that do not have
`security_invoker = true`, and that read (directly or through other views) a table with
row-level security enabled whose policies the view's owner does not go through: a superuser, a
role with BYPASSRLS, or the table's owner without `FORCE ROW LEVEL SECURITY` — which is what a
view created in a migration is.

A view whose definition itself filters on the caller (`auth.uid()`, `auth.jwt()`, the JWT
claims) is reported at `moderate`: it may be a deliberate, narrower window, but its filter,
not the table's policies, is then all that separates tenants. Views over `auth.users` are
`auth-users-exposed`.

## Why it matters
A view runs with its owner's privileges unless `security_invoker` is set (PostgreSQL 15+), so
the policies of the tables it reads are checked for the owner, not the caller. Through the REST
API, `select * from the_view` returns every tenant's rows to anyone the view is granted to —
and Supabase grants new views in `public` to `anon` and `authenticated` by default.

## Example
```sql
create view public.call_stats as
  select company_id, count(*) from public.call_logs group by company_id;
-- call_logs has RLS; the view does not apply it.
```

## Fix
On PostgreSQL 15 and later, make the view check the caller's permissions and policies:
```sql
alter view public.call_stats set (security_invoker = true);
```
On older versions, revoke it from the API roles (or move it to a schema the API does not
expose) and serve it through a function that filters by the caller.
"#,
};

pub struct ViewBypassesRls;

fn filters_on_caller(def: &str) -> bool {
    let compact: String = def
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    [
        "auth.uid(",
        "auth.jwt(",
        "auth.email(",
        "request.jwt.claim",
        "current_user",
        "session_user",
    ]
    .iter()
    .any(|k| compact.contains(k))
}

impl Rule for ViewBypassesRls {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if !has_api_roles(ctx) {
            return vec![];
        }
        let mut out = vec![];
        for view in ctx.audited_relations() {
            if view.kind != RelationKind::View || view.security_invoker {
                continue;
            }
            let exposure = ctx.exposure.of(view.oid);
            if !exposure.privileges().iter().any(|p| p == "SELECT") {
                continue;
            }
            let bases = base_relations(ctx, view);
            if bases
                .iter()
                .any(|b| b.schema == "auth" && b.name == "users")
            {
                // auth-users-exposed.
                continue;
            }
            let bypassed: Vec<_> = bases
                .iter()
                .filter(|b| b.kind.is_table() && b.rls_enabled && bypasses_rls(ctx, &view.owner, b))
                .collect();
            if bypassed.is_empty() {
                continue;
            }
            let names: Vec<String> = bypassed.iter().map(|b| b.qualified()).collect();
            let tenant: Vec<String> = bypassed
                .iter()
                .filter(|b| is_tenant_data(ctx, b.oid))
                .map(|b| b.qualified())
                .collect();
            let own_filter = view
                .view_definition
                .as_deref()
                .is_some_and(filters_on_caller);
            let roles: Vec<&str> = exposure.roles.keys().map(String::as_str).collect();
            let severity = if own_filter {
                Severity::Moderate
            } else {
                Severity::Critical
            };
            let mut message = format!(
                "view {} runs as its owner ({}) and reads {} with row-level security, so their \
                 policies do not apply to {} reading it",
                view.qualified(),
                view.owner,
                names.join(", "),
                roles.join(", ")
            );
            if own_filter {
                message.push_str(
                    "; the view filters on the caller itself, which is then the only barrier",
                );
            }
            let impact = if own_filter {
                "whatever the view's own filter lets through is readable, regardless of the \
                 tables' policies"
                    .to_string()
            } else if !tenant.is_empty() {
                format!(
                    "every tenant's rows of {} are readable through the view by every API caller",
                    tenant.join(", ")
                )
            } else {
                "every row the view selects is readable by every API caller, whatever the \
                 tables' policies say"
                    .to_string()
            };
            let fix = if ctx.catalog.server_version_num >= 150000
                || ctx.catalog.server_version_num == 0
            {
                format!(
                    "ALTER VIEW {} SET (security_invoker = true);",
                    qualify(&view.schema, &view.name)
                )
            } else {
                format!(
                    "-- PostgreSQL < 15 has no security_invoker views:\nREVOKE ALL ON {} FROM {};",
                    qualify(&view.schema, &view.name),
                    roles.join(", ")
                )
            };
            out.push(
                META.finding(message)
                    .severity(severity)
                    .table(&view.schema, &view.name)
                    .impact(impact)
                    .evidence("owner", view.owner.clone())
                    .evidence("security_invoker", false)
                    .evidence("rls_tables", names.clone())
                    .evidence(
                        "api_roles",
                        serde_json::to_value(&exposure.roles).unwrap_or_default(),
                    )
                    .evidence("filters_on_caller", own_filter)
                    .fix(fix, FixSafety::Review),
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

    fn base() -> CatalogBuilder {
        CatalogBuilder::supabase()
            .table(
                "public.call_logs",
                &["id uuid not null", "company_id uuid not null"],
            )
            .supabase_grants("public.call_logs")
            .rls("public.call_logs", true)
    }

    #[test]
    fn definer_view_over_rls_table_is_reported() {
        let cat = base()
            .view(
                "public.call_stats",
                &["company_id uuid"],
                &["public.call_logs"],
            )
            .supabase_grants("public.call_stats")
            .build();
        let f = run(&ViewBypassesRls, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(f[0]
            .fix
            .as_ref()
            .unwrap()
            .sql
            .contains("security_invoker = true"));
    }

    #[test]
    fn view_over_view_is_followed() {
        let cat = base()
            .view("public.v1", &["company_id uuid"], &["public.call_logs"])
            .view("public.v2", &["company_id uuid"], &["public.v1"])
            .supabase_grants("public.v2")
            .build();
        let f = run(&ViewBypassesRls, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].table.as_deref(), Some("v2"));
    }

    #[test]
    fn invoker_views_unexposed_views_and_views_over_open_tables_are_fine() {
        let cat = base()
            .view("public.inv", &["company_id uuid"], &["public.call_logs"])
            .with(|c| c.relations.last_mut().unwrap().security_invoker = true)
            .supabase_grants("public.inv")
            .view("public.hidden", &["company_id uuid"], &["public.call_logs"])
            .table("public.plans", &["id uuid"])
            .view("public.plan_list", &["id uuid"], &["public.plans"])
            .supabase_grants("public.plan_list")
            .build();
        assert!(run(&ViewBypassesRls, &cat).is_empty());
    }

    #[test]
    fn owner_bound_by_rls_is_fine() {
        let cat = base()
            .role("view_owner")
            .view("public.v", &["company_id uuid"], &["public.call_logs"])
            .with(|c| c.relations.last_mut().unwrap().owner = "view_owner".into())
            .supabase_grants("public.v")
            .build();
        assert!(run(&ViewBypassesRls, &cat).is_empty());
    }

    #[test]
    fn view_filtering_on_the_caller_is_moderate() {
        let cat = base()
            .view("public.my_calls", &["company_id uuid"], &["public.call_logs"])
            .with(|c| {
                c.relations.last_mut().unwrap().view_definition = Some(
                    " SELECT call_logs.company_id\n   FROM call_logs\n  WHERE (call_logs.user_id = auth.uid());".into(),
                )
            })
            .supabase_grants("public.my_calls")
            .build();
        let f = run(&ViewBypassesRls, &cat);
        assert_eq!(f[0].severity, Severity::Moderate);
    }
}
