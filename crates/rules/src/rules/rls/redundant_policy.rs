//! RLS005 `redundant-policy`: a policy whose effect another policy of the same table already
//! grants (a FOR ALL policy covering a FOR SELECT one with the same USING).

use super::common::{has_api_roles, policy_target, redundancies};
use crate::{Context, Rule};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS005",
    name: "redundant-policy",
    category: Category::Rls,
    default_severity: Severity::Low,
    source: RuleSource::Schema,
    summary: "policy whose effect another policy of the same table already grants (FOR ALL covering FOR SELECT with the same USING)",
    docs: r#"## What it does
Finds policies another policy of the same table already covers: both permissive (or both
restrictive), the covering one applies to every role the other does (or to `PUBLIC`), and for the
other's command it checks the same expressions:

* a `FOR ALL` policy covers a `FOR SELECT` or `FOR DELETE` policy with the same USING, a
  `FOR INSERT` policy whose WITH CHECK equals its own (its USING when it has no WITH CHECK), and
  a `FOR UPDATE` policy with the same USING and WITH CHECK;
* two policies of the same command, roles and expressions are duplicates: the later one (by
  name) is reported.

Expressions are compared as Postgres prints them, re-printed by the parser so spacing and
parentheses do not matter.

## Why it matters
A redundant policy changes nothing today, but each one is evaluated for every row (permissive
policies are OR-ed), and it misleads: whoever tightens the `FOR ALL` policy later leaves the old
copy granting what they meant to remove.

## Example
```sql
create policy "follow_up_queue: company read" on public.follow_up_queue
  for select to authenticated using (company_id = public.current_company_id());
create policy "follow_up_queue: company manage" on public.follow_up_queue
  for all to authenticated using (company_id = public.current_company_id())
  with check (company_id = public.current_company_id());
-- the SELECT policy adds nothing: FOR ALL already covers SELECT with the same USING.
```

## Fix
Drop the narrower policy:
```sql
drop policy "follow_up_queue: company read" on public.follow_up_queue;
```
"#,
};

pub struct RedundantPolicy;

impl Rule for RedundantPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if !has_api_roles(ctx) {
            return vec![];
        }
        let mut out = vec![];
        for rel in ctx.rls_tables() {
            let policies = ctx.index.policies(rel.oid);
            if policies.len() < 2 {
                continue;
            }
            for r in redundancies(policies) {
                let (n, b) = (r.redundant, r.covered_by);
                let same_command = n.command == b.command;
                let message = if same_command {
                    format!(
                        "policy \"{}\" on {} duplicates \"{}\": same command ({}), roles and \
                         expressions",
                        n.name,
                        rel.qualified(),
                        b.name,
                        n.command.sql()
                    )
                } else {
                    format!(
                        "policy \"{}\" (FOR {}) on {} is redundant: \"{}\" (FOR ALL) already \
                         grants it to the same roles with the same {}",
                        n.name,
                        n.command.sql(),
                        rel.qualified(),
                        b.name,
                        match n.command {
                            dbaudit_catalog::PolicyCommand::Insert => "WITH CHECK",
                            dbaudit_catalog::PolicyCommand::Update => "USING and WITH CHECK",
                            _ => "USING",
                        }
                    )
                };
                out.push(
                    META.finding(message)
                        .table(&rel.schema, &rel.name)
                        .policy(&n.name)
                        .impact(
                            "no effect on access today; evaluated for every row, and it keeps \
                             granting access if the covering policy is tightened later",
                        )
                        .evidence("covered_by", b.name.clone())
                        .evidence("command", n.command.sql())
                        .evidence("covering_command", b.command.sql())
                        .evidence("roles", n.roles.clone())
                        .evidence("using", n.using.clone())
                        .evidence("with_check", n.with_check.clone())
                        .fix(
                            format!("DROP POLICY {};", policy_target(n)),
                            FixSafety::Safe,
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

    const USING: &str = "(company_id = current_company_id())";

    fn table() -> CatalogBuilder {
        CatalogBuilder::supabase()
            .table(
                "public.follow_up_queue",
                &["id uuid not null", "company_id uuid not null"],
            )
            .supabase_grants("public.follow_up_queue")
            .rls("public.follow_up_queue", true)
    }

    #[test]
    fn for_all_covering_for_select_is_reported() {
        let cat = table()
            .policy(
                "public.follow_up_queue",
                "follow_up_queue: company read",
                PolicyCommand::Select,
                &["authenticated"],
                Some(USING),
                None,
            )
            .policy(
                "public.follow_up_queue",
                "follow_up_queue: company manage",
                PolicyCommand::All,
                &["authenticated"],
                // Same expression, printed differently: still the same.
                Some("( company_id = current_company_id() )"),
                Some(USING),
            )
            .build();
        let f = run(&RedundantPolicy, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].policy.as_deref(),
            Some("follow_up_queue: company read")
        );
        assert_eq!(
            f[0].evidence["covered_by"],
            "follow_up_queue: company manage"
        );
        assert!(f[0]
            .fix
            .as_ref()
            .unwrap()
            .sql
            .starts_with("DROP POLICY \"follow_up_queue: company read\""));
    }

    #[test]
    fn different_using_or_roles_are_not_redundant() {
        let cat = table()
            .policy(
                "public.follow_up_queue",
                "read",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(company_id = current_company_id()) OR is_public"),
                None,
            )
            .policy(
                "public.follow_up_queue",
                "manage",
                PolicyCommand::All,
                &["authenticated"],
                Some(USING),
                None,
            )
            .policy(
                "public.follow_up_queue",
                "anon read",
                PolicyCommand::Select,
                &["anon"],
                Some(USING),
                None,
            )
            .build();
        assert!(run(&RedundantPolicy, &cat).is_empty());
    }

    #[test]
    fn insert_covered_by_all_without_with_check_and_duplicates() {
        let cat = table()
            .policy(
                "public.follow_up_queue",
                "a manage",
                PolicyCommand::All,
                &[],
                Some(USING),
                None,
            )
            .policy(
                "public.follow_up_queue",
                "b insert",
                PolicyCommand::Insert,
                &["authenticated"],
                None,
                Some(USING),
            )
            .policy(
                "public.follow_up_queue",
                "c manage again",
                PolicyCommand::All,
                &[],
                Some(USING),
                None,
            )
            .build();
        let f = run(&RedundantPolicy, &cat);
        let names: Vec<_> = f.iter().map(|f| f.policy.clone().unwrap()).collect();
        assert_eq!(names, vec!["b insert", "c manage again"]);
    }

    #[test]
    fn restrictive_does_not_cover_permissive() {
        let cat = table()
            .policy(
                "public.follow_up_queue",
                "read",
                PolicyCommand::Select,
                &["authenticated"],
                Some(USING),
                None,
            )
            .policy(
                "public.follow_up_queue",
                "all restrictive",
                PolicyCommand::All,
                &["authenticated"],
                Some(USING),
                None,
            )
            .with(|c| c.policies.last_mut().unwrap().permissive = false)
            .build();
        assert!(run(&RedundantPolicy, &cat).is_empty());
    }
}
