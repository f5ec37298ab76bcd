//! RLS010 `multiple-permissive-policies`: several permissive policies for the same role and
//! command, each evaluated for every row.

use super::common::{has_api_roles, quoted_list, redundancies, ApiRoles};
use crate::{Context, Rule};
use dbaudit_catalog::{Oid, PolicyCommand};
use dbaudit_findings::{Category, Finding, RuleMeta, RuleSource, Severity};
use std::collections::{BTreeMap, HashSet};

pub static META: RuleMeta = RuleMeta {
    code: "RLS010",
    name: "multiple-permissive-policies",
    category: Category::Rls,
    default_severity: Severity::Low,
    source: RuleSource::Schema,
    summary:
        "several permissive policies for the same role and command: each is evaluated for every row",
    docs: r#"## What it does
For each table and each API role, counts the permissive policies that apply to a command
(SELECT, INSERT, UPDATE, DELETE; a `FOR ALL` policy counts for each). Tables where some role has
more than one for the same command are reported once, listing every command, role and policy
involved. Policies for different commands never add up, and a policy another one makes
redundant (`redundant-policy`) is left out, so a pair that rule reports is not reported twice.

## Why it matters
Postgres ORs permissive policies: for every row it evaluates each of them until one passes, so
two policies cost (nearly) twice one. They also make the table's access rule harder to read,
since the effective condition is spread over several policies.

## Example
```sql
create policy "owner reads" on public.documents for select to authenticated
  using (owner_id = (select auth.uid()));
create policy "org reads" on public.documents for select to authenticated
  using (org_id = (select public.current_org_id()));
```

## Fix
Merge them into one policy per command, OR-ing the conditions:
```sql
drop policy "owner reads" on public.documents;
alter policy "org reads" on public.documents
  using (org_id = (select public.current_org_id()) or owner_id = (select auth.uid()));
```
"#,
};

pub struct MultiplePermissivePolicies;

const COMMANDS: [PolicyCommand; 4] = [
    PolicyCommand::Select,
    PolicyCommand::Insert,
    PolicyCommand::Update,
    PolicyCommand::Delete,
];

impl Rule for MultiplePermissivePolicies {
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
            let policies = ctx.index.policies(rel.oid);
            if policies.len() < 2 {
                continue;
            }
            let redundant: HashSet<Oid> = redundancies(policies)
                .iter()
                .map(|r| r.redundant.oid)
                .collect();
            // command → policy names → roles.
            let mut groups: BTreeMap<&str, (Vec<String>, Vec<&str>)> = BTreeMap::new();
            let mut order: Vec<&str> = vec![];
            for cmd in COMMANDS {
                for (role, _) in &api.roles {
                    let mut names: Vec<String> = policies
                        .iter()
                        .filter(|p| {
                            p.permissive
                                && !redundant.contains(&p.oid)
                                && (p.command == cmd || p.command == PolicyCommand::All)
                                && api.of_policy(p).contains(&role.as_str())
                        })
                        .map(|p| p.name.clone())
                        .collect();
                    if names.len() < 2 {
                        continue;
                    }
                    names.sort();
                    let e = groups.entry(cmd.sql()).or_default();
                    if !order.contains(&cmd.sql()) {
                        order.push(cmd.sql());
                    }
                    for n in names {
                        if !e.0.contains(&n) {
                            e.0.push(n);
                        }
                    }
                    e.1.push(role.as_str());
                }
            }
            if groups.is_empty() {
                continue;
            }
            for (names, _) in groups.values_mut() {
                names.sort();
            }
            let parts: Vec<String> = order
                .iter()
                .map(|cmd| {
                    let (names, roles) = &groups[cmd];
                    format!("{cmd} for {}: {}", roles.join(", "), quoted_list(names))
                })
                .collect();
            let most = groups.values().map(|(n, _)| n.len()).max().unwrap_or(2);
            let evidence: serde_json::Map<String, serde_json::Value> = order
                .iter()
                .map(|cmd| {
                    let (names, roles) = &groups[cmd];
                    (
                        cmd.to_string(),
                        serde_json::json!({ "roles": roles, "policies": names }),
                    )
                })
                .collect();
            out.push(
                META.finding(format!(
                    "{} has several permissive policies for the same role and command: {}",
                    rel.qualified(),
                    parts.join("; ")
                ))
                .table(&rel.schema, &rel.name)
                .impact(format!(
                    "each row is checked against up to {most} policies for these commands; merging \
                     them into one per command evaluates one expression"
                ))
                .evidence("commands", serde_json::Value::Object(evidence)),
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

    fn table() -> CatalogBuilder {
        CatalogBuilder::supabase()
            .table(
                "public.documents",
                &["id uuid not null", "org_id uuid", "owner_id uuid"],
            )
            .supabase_grants("public.documents")
            .rls("public.documents", true)
    }

    #[test]
    fn two_select_policies_for_one_role_are_reported_once() {
        let cat = table()
            .policy(
                "public.documents",
                "owner reads",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(owner_id = ( SELECT auth.uid() AS uid))"),
                None,
            )
            .policy(
                "public.documents",
                "org manages",
                PolicyCommand::All,
                &["authenticated"],
                Some("(org_id = ( SELECT current_org_id() AS current_org_id))"),
                None,
            )
            .build();
        let f = run(&MultiplePermissivePolicies, &cat);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("SELECT for authenticated: \"org manages\", \"owner reads\""),
            "{}",
            f[0].message
        );
        assert!(!f[0].message.contains("INSERT"));
    }

    #[test]
    fn different_commands_or_roles_are_not_reported() {
        let cat = table()
            .policy(
                "public.documents",
                "read",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(owner_id = auth.uid())"),
                None,
            )
            .policy(
                "public.documents",
                "insert",
                PolicyCommand::Insert,
                &["authenticated"],
                None,
                Some("(owner_id = auth.uid())"),
            )
            .policy(
                "public.documents",
                "anon read",
                PolicyCommand::Select,
                &["anon"],
                Some("false"),
                None,
            )
            .build();
        assert!(run(&MultiplePermissivePolicies, &cat).is_empty());
    }

    #[test]
    fn redundant_pairs_are_left_to_redundant_policy() {
        let e = "(company_id = current_company_id())";
        let cat = table()
            .policy(
                "public.documents",
                "read",
                PolicyCommand::Select,
                &["authenticated"],
                Some(e),
                None,
            )
            .policy(
                "public.documents",
                "manage",
                PolicyCommand::All,
                &["authenticated"],
                Some(e),
                Some(e),
            )
            .build();
        assert!(run(&MultiplePermissivePolicies, &cat).is_empty());
    }

    #[test]
    fn restrictive_policies_do_not_count() {
        let cat = table()
            .policy(
                "public.documents",
                "a",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(owner_id = auth.uid())"),
                None,
            )
            .policy(
                "public.documents",
                "b",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(org_id IS NOT NULL)"),
                None,
            )
            .with(|c| c.policies.last_mut().unwrap().permissive = false)
            .build();
        assert!(run(&MultiplePermissivePolicies, &cat).is_empty());
    }
}
