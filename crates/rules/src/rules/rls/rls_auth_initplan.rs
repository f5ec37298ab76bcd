//! RLS009 `rls-auth-initplan`: `auth.uid()`, `auth.jwt()`, `current_setting()` or a STABLE
//! helper evaluated for every row instead of once.

use super::common::{has_api_roles, policy_target, ApiRoles};
use crate::analysis::policy::wrap_calls_in_select;
use crate::{Context, Rule};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS009",
    name: "rls-auth-initplan",
    category: Category::Rls,
    default_severity: Severity::Moderate,
    source: RuleSource::Schema,
    summary: "`auth.uid()`, `auth.jwt()`, `current_setting()` or a STABLE helper evaluated per row instead of once (`(select auth.uid())`)",
    docs: r#"## What it does
Finds policies for API roles that call `auth.uid()`, `auth.jwt()`, `auth.role()`,
`auth.email()`, `current_setting()`, or one of the project's own STABLE or VOLATILE functions
(`current_company_id()`), with arguments that do not depend on the row, where Postgres
evaluates the call once per row: directly in the expression, or inside a sub-query that refers
to the row (`exists (select 1 from members m where m.org_id = t.org_id and m.user_id =
auth.uid())`).

Calls already wrapped in a scalar sub-select (`(select auth.uid())`, printed by Postgres as
`( SELECT auth.uid() AS uid)`), and calls inside a sub-query that does not refer to the row
(`org_id in (select org_id from members where user_id = auth.uid())`, run once as a hashed
sub-plan) are not reported. Neither are helpers that take the row's columns
(`is_member(org_id)`): they cannot be hoisted.

## Why it matters
Postgres only caches a function result for the statement when the call is an initplan, which
the scalar sub-select makes it. Unwrapped, `auth.uid()` parses the JWT claims again for every
row the policy looks at, and a helper such as `current_company_id()` — a SECURITY DEFINER SQL
function, which Postgres never inlines — runs its own query per row. On tables with 100k rows
that is the difference between milliseconds and seconds, on every request.

## Example
```sql
create policy "contacts: company access" on public.contacts for all to authenticated
  using (company_id = public.current_company_id());
-- evaluated once per row of contacts.
```

## Fix
Wrap the call in a sub-select; nothing else changes:
```sql
alter policy "contacts: company access" on public.contacts
  using (company_id = (select public.current_company_id()))
  with check (company_id = (select public.current_company_id()));
```
"#,
};

pub struct RlsAuthInitplan;

impl Rule for RlsAuthInitplan {
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
            for p in ctx.index.policies(rel.oid) {
                if api.of_policy(p).is_empty() {
                    continue;
                }
                let Some(facts) = ctx.policies.of(p.oid) else {
                    continue;
                };
                let mut calls: Vec<String> = vec![];
                let mut clauses: Vec<&str> = vec![];
                for (name, f) in [("USING", &facts.using), ("WITH CHECK", &facts.with_check)] {
                    let Some(f) = f else { continue };
                    let before = calls.len();
                    for c in f.per_row_calls.iter().chain(f.per_row_helpers.iter()) {
                        if !calls.contains(c) {
                            calls.push(c.clone());
                        }
                    }
                    if calls.len() > before
                        || !f.per_row_calls.is_empty()
                        || !f.per_row_helpers.is_empty()
                    {
                        clauses.push(name);
                    }
                }
                if calls.is_empty() {
                    continue;
                }
                let shown: Vec<String> = calls.iter().map(|c| format!("{c}()")).collect();
                let message = format!(
                    "policy \"{}\" on {} evaluates {} for every row ({}); wrapped in \
                     (select ...) {} run once per statement",
                    p.name,
                    rel.qualified(),
                    shown.join(", "),
                    clauses.join(" and "),
                    if calls.len() == 1 {
                        "it would"
                    } else {
                        "they would"
                    }
                );
                let mut alter = format!("ALTER POLICY {}", policy_target(p));
                let mut rewritten = false;
                for (name, text) in [("USING", &p.using), ("WITH CHECK", &p.with_check)] {
                    let Some(text) = text else { continue };
                    if let Some(new) = wrap_calls_in_select(text, &calls) {
                        alter.push_str(&format!(" {name} ({new})"));
                        rewritten = true;
                    }
                }
                let mut f = META
                    .finding(message)
                    .table(&rel.schema, &rel.name)
                    .policy(&p.name)
                    .impact(format!(
                        "every query on {} pays {} per row it filters; slow scans and timeouts \
                         as the table grows",
                        rel.qualified(),
                        shown.join(" + ")
                    ))
                    .evidence("per_row_calls", calls.clone())
                    .evidence("clauses", clauses.clone())
                    .evidence("using", p.using.clone())
                    .evidence("with_check", p.with_check.clone());
                if let Some(rows) = rel.row_estimate {
                    f = f.evidence("row_estimate", rows);
                }
                if rewritten {
                    f = f.fix(format!("{alter};"), FixSafety::Safe);
                }
                out.push(f);
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

    fn table(using: &str, with_check: Option<&str>) -> CatalogBuilder {
        CatalogBuilder::supabase()
            .table(
                "public.contacts",
                &[
                    "id uuid not null",
                    "company_id uuid not null",
                    "user_id uuid",
                ],
            )
            .supabase_grants("public.contacts")
            .rls("public.contacts", true)
            .policy(
                "public.contacts",
                "contacts: company access",
                PolicyCommand::All,
                &["authenticated"],
                Some(using),
                with_check,
            )
    }

    fn helper(c: &mut dbaudit_catalog::Catalog, volatility: char) {
        c.policies[0].functions = vec!["public.current_company_id".into()];
        c.functions.push(dbaudit_catalog::Function {
            oid: 99999,
            schema: "public".into(),
            name: "current_company_id".into(),
            identity_args: String::new(),
            result: "uuid".into(),
            kind: 'f',
            language: "sql".into(),
            security_definer: true,
            volatility,
            leakproof: false,
            config: vec!["search_path=public".into()],
            owner: "postgres".into(),
            grants: vec![],
            source: Some("select company_id from public.users where id = auth.uid()".into()),
            comment: None,
        });
    }

    #[test]
    fn unwrapped_auth_uid_is_reported_with_a_rewrite() {
        let cat = table("(user_id = auth.uid())", None).build();
        let f = run(&RlsAuthInitplan, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Moderate);
        let fix = &f[0].fix.as_ref().unwrap().sql;
        assert!(
            fix.contains("USING ((user_id = (SELECT auth.uid())))"),
            "{fix}"
        );
    }

    #[test]
    fn wrapped_calls_are_not_reported() {
        let cat = table(
            "((user_id = ( SELECT auth.uid() AS uid)) AND (company_id = ( SELECT current_company_id() AS current_company_id)))",
            None,
        )
        .with(|c| helper(c, 's'))
        .build();
        assert!(run(&RlsAuthInitplan, &cat).is_empty());
    }

    #[test]
    fn stable_helper_called_per_row_is_reported() {
        let e = "(company_id = current_company_id())";
        let cat = table(e, Some(e)).with(|c| helper(c, 's')).build();
        let f = run(&RlsAuthInitplan, &cat);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("public.current_company_id()"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[0].evidence["clauses"],
            serde_json::json!(["USING", "WITH CHECK"])
        );
        let fix = &f[0].fix.as_ref().unwrap().sql;
        assert!(
            fix.contains("WITH CHECK ((company_id = (SELECT current_company_id())))"),
            "{fix}"
        );
    }

    #[test]
    fn immutable_helpers_and_uncorrelated_subqueries_are_not_reported() {
        let cat = table("(company_id = current_company_id())", None)
            .with(|c| helper(c, 'i'))
            .policy(
                "public.contacts",
                "membership",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(company_id IN ( SELECT users.company_id\n   FROM users\n  WHERE (users.id = auth.uid())))"),
                None,
            )
            .build();
        assert!(run(&RlsAuthInitplan, &cat).is_empty());
    }

    #[test]
    fn policies_for_other_roles_are_not_reported() {
        let cat = CatalogBuilder::supabase()
            .table("public.t", &["id uuid", "user_id uuid"])
            .rls("public.t", true)
            .policy(
                "public.t",
                "svc",
                PolicyCommand::All,
                &["service_role"],
                Some("(user_id = auth.uid())"),
                None,
            )
            .build();
        assert!(run(&RlsAuthInitplan, &cat).is_empty());
    }
}
