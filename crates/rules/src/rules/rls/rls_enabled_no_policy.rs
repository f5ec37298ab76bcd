//! RLS002 `rls-enabled-no-policy`: row-level security on, no policy, so every API query is
//! denied.

use super::common::has_api_roles;
use crate::{qualify, Context, Rule};
use dbaudit_findings::{Category, Finding, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS002",
    name: "rls-enabled-no-policy",
    category: Category::Rls,
    default_severity: Severity::Info,
    source: RuleSource::Schema,
    summary: "RLS on, no policy: every API query is denied",
    docs: r#"## What it does
Lists tables that have row-level security enabled and no policy at all. For the API roles
(`anon`, `authenticated`) such a table is empty: every SELECT returns nothing and every INSERT,
UPDATE and DELETE fails or touches no row. Only the table owner and roles with BYPASSRLS (the
service role) see its rows.

It is information, not a defect: it is exactly right for tables only the backend uses
(webhook logs, queues, audit trails). Partitions are left out (their parent's policies apply to
queries through the parent), and so are projects without API roles, which do not rely on RLS.

## Why it matters
When a client of the API is meant to read the table, the empty result looks like missing data
rather than a permission problem, and it is easy to "fix" by disabling RLS. Knowing which tables
are deliberately server-only avoids that.

## Example
```sql
create table public.webhook_events (id bigint primary key, payload jsonb);
alter table public.webhook_events enable row level security;
-- no policy: only the service role can read or write it.
```

## Fix
Nothing, if only the backend uses the table; say so in a comment. Otherwise add the policies the
clients need, constrained to the caller's tenant:
```sql
comment on table public.webhook_events is 'server-only: RLS on, no policy by design';
-- or
create policy "members read their events" on public.webhook_events
  for select to authenticated using (org_id = (select public.current_org_id()));
```
"#,
};

pub struct RlsEnabledNoPolicy;

impl Rule for RlsEnabledNoPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if !has_api_roles(ctx) {
            return vec![];
        }
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            if !rel.kind.is_table()
                || !rel.rls_enabled
                || rel.partition_of.is_some()
                || !ctx.index.policies(rel.oid).is_empty()
            {
                continue;
            }
            let exposure = ctx.exposure.of(rel.oid);
            let (message, impact) = if exposure.is_exposed() {
                let roles: Vec<&str> = exposure.roles.keys().map(String::as_str).collect();
                (
                    format!(
                        "{} has row-level security enabled and no policy: every query by {} is \
                         denied (they hold {} but no policy lets a row through)",
                        rel.qualified(),
                        roles.join(", "),
                        exposure.privileges().join(", ")
                    ),
                    "API clients see the table as empty and cannot write it; only the owner \
                     and the service role can. Right for a server-only table."
                        .to_string(),
                )
            } else {
                (
                    format!(
                        "{} has row-level security enabled and no policy; no API role can reach \
                         it either",
                        rel.qualified()
                    ),
                    "only the owner and roles with BYPASSRLS can use the table".to_string(),
                )
            };
            out.push(
                META.finding(message)
                    .table(&rel.schema, &rel.name)
                    .impact(impact)
                    .evidence("rls_enabled", true)
                    .evidence("policies", 0)
                    .evidence(
                        "api_roles",
                        serde_json::to_value(&exposure.roles).unwrap_or_default(),
                    )
                    .evidence(
                        "server_only_hint",
                        format!(
                            "COMMENT ON TABLE {} IS 'server-only: RLS on, no policy by design';",
                            qualify(&rel.schema, &rel.name)
                        ),
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
    use dbaudit_catalog::PolicyCommand;

    #[test]
    fn exposed_table_with_rls_and_no_policy_is_reported_as_info() {
        let cat = CatalogBuilder::supabase()
            .table(
                "public.webhook_events",
                &["id bigint not null", "payload jsonb"],
            )
            .supabase_grants("public.webhook_events")
            .rls("public.webhook_events", true)
            .build();
        let f = run(&RlsEnabledNoPolicy, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0]
            .message
            .contains("every query by anon, authenticated is denied"));
    }

    #[test]
    fn unexposed_table_says_so() {
        let cat = CatalogBuilder::supabase()
            .table("public.jobs", &["id bigint not null"])
            .rls("public.jobs", true)
            .build();
        let f = run(&RlsEnabledNoPolicy, &cat);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("no API role can reach it"));
    }

    #[test]
    fn tables_with_a_policy_or_without_rls_are_not_reported() {
        let cat = CatalogBuilder::supabase()
            .table("public.a", &["id uuid"])
            .rls("public.a", true)
            .policy(
                "public.a",
                "p",
                PolicyCommand::Select,
                &["authenticated"],
                Some("true"),
                None,
            )
            .table("public.b", &["id uuid"])
            .build();
        assert!(run(&RlsEnabledNoPolicy, &cat).is_empty());
    }

    #[test]
    fn no_api_roles_no_finding() {
        let cat = CatalogBuilder::new()
            .table("public.t", &["id int"])
            .rls("public.t", true)
            .build();
        assert!(run(&RlsEnabledNoPolicy, &cat).is_empty());
    }
}
