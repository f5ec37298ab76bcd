//! RLS015 `policy-null-auth-disjunct`: a policy of the form `auth.uid() IS NULL OR ...`, which
//! lets anonymous callers through.

use super::common::{clauses, has_api_roles, ApiRoles};
use crate::{Context, Rule};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS015",
    name: "policy-null-auth-disjunct",
    category: Category::Rls,
    default_severity: Severity::High,
    source: RuleSource::Schema,
    summary: "policy of the form `auth.uid() IS NULL OR ...`, which lets anonymous callers through",
    docs: r#"## What it does
Finds permissive policies whose USING or WITH CHECK is an OR with a branch that is true when
there is no signed-in user: `auth.uid() IS NULL`, `auth.jwt() IS NULL`, `(select auth.uid()) IS
NULL`, `NOT (auth.uid() IS NOT NULL)`, or the same on the `sub` claim.

It is `high` when the anonymous role can use the policy (it applies to `anon` or `PUBLIC`, and
`anon` holds the privilege its command needs). When only signed-in roles can, the branch is
dead code today (a signed-in caller always has a user id) and it is reported at `low`: it opens
the table the day the policy is granted to `anon`.

## Why it matters
The branch is usually meant for the backend ("service calls have no user"), but the service role
bypasses RLS and never needed it. What it does instead is let every anonymous request through:
with the anon key from the browser bundle, anyone reads (or writes) every row the OR lets by.

## Example
```sql
create policy "read projects" on public.projects for select
  using (auth.uid() is null or org_id = (select public.current_org_id()));
```

## Fix
Drop the branch; the service role does not need it:
```sql
alter policy "read projects" on public.projects
  using (org_id = (select public.current_org_id()));
```
"#,
};

pub struct PolicyNullAuthDisjunct;

impl Rule for PolicyNullAuthDisjunct {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if !has_api_roles(ctx) {
            return vec![];
        }
        let api = ApiRoles::new(ctx);
        let mut out = vec![];
        for rel in ctx.rls_tables() {
            let exposure = ctx.exposure.of(rel.oid);
            for p in ctx.index.policies(rel.oid) {
                if !p.permissive || api.of_policy(p).is_empty() {
                    continue;
                }
                let Some(facts) = ctx.policies.of(p.oid) else {
                    continue;
                };
                let bad: Vec<String> = clauses(p, facts)
                    .into_iter()
                    .filter(|c| c.facts.null_auth_disjunct)
                    .map(|c| format!("{} ({})", c.name, c.text.trim()))
                    .collect();
                if bad.is_empty() {
                    continue;
                }
                let anon_reaches = api.reaching(p, exposure).iter().any(|r| r == "anon");
                let severity = if anon_reaches {
                    Severity::High
                } else {
                    Severity::Low
                };
                let message = if anon_reaches {
                    format!(
                        "policy \"{}\" on {} lets anonymous callers through: {} is true for anon \
                         when no user is signed in",
                        p.name,
                        rel.qualified(),
                        bad.join(" / ")
                    )
                } else {
                    format!(
                        "policy \"{}\" on {} has a branch for callers without a user ({}); only \
                         signed-in roles use the policy today, so it is dead code that opens the \
                         table once anon can use it",
                        p.name,
                        rel.qualified(),
                        bad.join(" / ")
                    )
                };
                out.push(
                    META.finding(message)
                        .severity(severity)
                        .table(&rel.schema, &rel.name)
                        .policy(&p.name)
                        .impact(if anon_reaches {
                            "anyone holding the anon key passes the policy without signing in"
                        } else {
                            "no effect today; the branch only matters for callers without a user"
                        })
                        .evidence("clauses", bad.clone())
                        .evidence("roles", p.roles.clone())
                        .evidence("anon_reaches", anon_reaches)
                        .fix(
                            format!(
                                "-- remove the `auth.uid() IS NULL OR` branch (the service role \
                                 bypasses RLS and does not need it):\n-- ALTER POLICY {} USING \
                                 (<the rest of the condition>);",
                                super::common::policy_target(p)
                            ),
                            FixSafety::Review,
                        ),
                );
            }
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

    const OR_NULL: &str = "((auth.uid() IS NULL) OR (org_id = (((auth.jwt() -> 'app_metadata'::text) ->> 'org_id'::text))::uuid))";

    fn table(roles: &[&str], using: &str) -> dbaudit_catalog::Catalog {
        CatalogBuilder::supabase()
            .table(
                "public.projects",
                &["id uuid not null", "org_id uuid not null"],
            )
            .supabase_grants("public.projects")
            .rls("public.projects", true)
            .policy(
                "public.projects",
                "read projects",
                PolicyCommand::Select,
                roles,
                Some(using),
                None,
            )
            .build()
    }

    #[test]
    fn public_policy_with_null_branch_is_high() {
        let f = run(&PolicyNullAuthDisjunct, &table(&[], OR_NULL));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert!(f[0].message.contains("anonymous"));
    }

    #[test]
    fn authenticated_only_is_low() {
        let f = run(&PolicyNullAuthDisjunct, &table(&["authenticated"], OR_NULL));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Low);
    }

    #[test]
    fn null_checks_on_columns_are_fine() {
        let f = run(
            &PolicyNullAuthDisjunct,
            &table(
                &[],
                "((org_id IS NULL) OR (org_id = ( SELECT auth_org_id() AS auth_org_id)))",
            ),
        );
        assert!(f.is_empty());
        let f = run(
            &PolicyNullAuthDisjunct,
            &table(
                &[],
                "((auth.uid() IS NOT NULL) AND (org_id = ( SELECT auth_org_id() AS x)))",
            ),
        );
        assert!(f.is_empty());
    }
}
