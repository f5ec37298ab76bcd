//! RLS003 `policy-exists-rls-disabled`: policies written on a table whose row-level security
//! is off, so none of them applies.

use super::common::{has_api_roles, quoted_list};
use crate::{qualify, Context, Rule};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS003",
    name: "policy-exists-rls-disabled",
    category: Category::Rls,
    default_severity: Severity::High,
    source: RuleSource::Schema,
    summary: "policies written but RLS off, so none applies",
    docs: r#"## What it does
Finds tables that have policies (`CREATE POLICY`) while row-level security is disabled on them.
Postgres ignores policies until `ALTER TABLE ... ENABLE ROW LEVEL SECURITY`, so the table is as
open as its grants.

A table that API roles can reach is already reported as `rls-disabled` (critical), whose
message counts the policies that never apply; this rule reports the others, where the policies
show that someone meant the table to be protected: tables no API role reaches today, and every
table of a project without API roles (a backend whose own role is meant to be bound by RLS).

## Why it matters
The policies read like protection in a review, and in `pg_policies`, while they protect nothing.
The moment a grant reaches the table (Supabase grants every new `public` table to `anon` and
`authenticated` by default; a later `GRANT` does the same), every row of every tenant is open.

## Example
```sql
create table public.invoices (id uuid primary key, org_id uuid not null);
create policy "org members read invoices" on public.invoices
  for select to authenticated using (org_id = (select public.current_org_id()));
-- forgotten: alter table public.invoices enable row level security;
```

## Fix
Enable row-level security; the existing policies then apply:
```sql
alter table public.invoices enable row level security;
```
Check that the policies cover every command the clients use: with RLS on, a command without a
policy is denied.
"#,
};

pub struct PolicyExistsRlsDisabled;

impl Rule for PolicyExistsRlsDisabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let api = has_api_roles(ctx);
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            if !rel.kind.is_table() || rel.rls_enabled {
                continue;
            }
            let policies = ctx.index.policies(rel.oid);
            if policies.is_empty() {
                continue;
            }
            let exposure = ctx.exposure.of(rel.oid);
            if api && exposure.is_exposed() {
                // rls-disabled reports it, policies included.
                continue;
            }
            let names: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
            let message = format!(
                "{} has {} polic{} ({}) but row-level security is disabled, so none of them \
                 applies",
                rel.qualified(),
                names.len(),
                if names.len() == 1 { "y" } else { "ies" },
                quoted_list(&names)
            );
            let impact = if api {
                "no API role reaches the table today; the first grant to one (or Supabase's \
                 default privileges on a recreated table) opens every row, whatever the \
                 policies say"
            } else {
                "roles the policies were written for are not restricted by them: they see and \
                 change every row their grants allow"
            };
            out.push(
                META.finding(message)
                    .table(&rel.schema, &rel.name)
                    .impact(impact)
                    .evidence("rls_enabled", false)
                    .evidence("policies", names.clone())
                    .evidence("api_roles_detected", api)
                    .fix(
                        format!(
                            "ALTER TABLE {} ENABLE ROW LEVEL SECURITY;",
                            qualify(&rel.schema, &rel.name)
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
    use dbaudit_catalog::PolicyCommand;

    fn with_policy(b: CatalogBuilder) -> CatalogBuilder {
        b.table(
            "public.invoices",
            &["id uuid not null", "org_id uuid not null"],
        )
        .policy(
            "public.invoices",
            "org members read invoices",
            PolicyCommand::Select,
            &["authenticated"],
            Some("(org_id = current_org_id())"),
            None,
        )
    }

    #[test]
    fn unexposed_table_with_policies_and_rls_off_is_reported() {
        let cat = with_policy(CatalogBuilder::supabase()).build();
        let f = run(&PolicyExistsRlsDisabled, &cat);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("\"org members read invoices\""));
        assert!(f[0]
            .fix
            .as_ref()
            .unwrap()
            .sql
            .contains("ENABLE ROW LEVEL SECURITY"));
    }

    #[test]
    fn exposed_table_is_left_to_rls_disabled() {
        let cat = with_policy(CatalogBuilder::supabase())
            .supabase_grants("public.invoices")
            .build();
        assert!(run(&PolicyExistsRlsDisabled, &cat).is_empty());
    }

    #[test]
    fn reported_without_api_roles_too() {
        let cat = with_policy(CatalogBuilder::new()).build();
        let f = run(&PolicyExistsRlsDisabled, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence["api_roles_detected"], false);
    }

    #[test]
    fn rls_enabled_is_not_reported() {
        let cat = with_policy(CatalogBuilder::supabase())
            .rls("public.invoices", true)
            .build();
        assert!(run(&PolicyExistsRlsDisabled, &cat).is_empty());
    }
}
