//! RLS006 `tenant-policy-missing-tenant-check`: a policy on a tenant-scoped table that
//! constrains neither the tenant column, nor a parent reference, nor the row owner.

use super::common::{clauses, has_api_roles, policy_target, tenant_pattern, ApiRoles};
use crate::analysis::policy::{Against, ExprFacts, Gate};
use crate::analysis::tenancy::Scope;
use crate::{Context, Rule};
use dbaudit_catalog::PolicyCommand;
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS006",
    name: "tenant-policy-missing-tenant-check",
    category: Category::Rls,
    default_severity: Severity::Critical,
    source: RuleSource::Schema,
    summary: "tenant-scoped table with a policy that constrains neither the tenant column nor a parent reference nor the row owner",
    docs: r#"## What it does
On tenant-scoped tables (with the tenant column, or reaching the tenant root through NOT NULL
foreign keys), finds permissive policies for API roles whose USING or WITH CHECK depends on
something, but never ties the row to the caller: no column of the row is compared with a JWT
claim, a helper function (`current_company_id()`, `is_member(org_id)`) or a sub-query. Checks
that count:

* the tenant column: `org_id = (select auth.jwt() ->> 'org_id')::uuid`,
  `company_id = current_company_id()`, `org_id in (select org_id from members where ...)`;
* a parent reference: `exists (select 1 from conversations c where c.id = conversation_id and
  ...)`, `project_id in (select id from projects where ...)`;
* the row owner: `user_id = (select auth.uid())`.

What it reports: a sub-query that never refers to the row (`exists (select 1 from members where
members.user_id = auth.uid() and members.org_id = members.org_id)` — the unqualified `org_id`
Postgres resolved to the sub-query's own table), conditions on the row that involve no caller
(`status = 'open'`), and checks of the caller alone (`is_admin()`, a role claim), the last at
`moderate`, since a platform-staff check can be intended. Policies that are always true or only
check sign-in are `permissive-policy`; expressions that did not parse are not judged.

## Why it matters
Permissive policies are OR-ed: one policy that lets a row through without looking at its tenant
opens that row to every tenant, whatever the other policies check. The sub-query mistake reads
like a membership check in review and in tests with one tenant, and lets any member of any
organization read every organization's rows.

## Example
```sql
create policy "members read" on public.documents for select to authenticated
  using (exists (select 1 from public.members where user_id = auth.uid() and org_id = org_id));
-- org_id = org_id compares members.org_id with itself: any member of any org sees every document.
```

## Fix
Tie the row to the caller's tenant, qualifying the row's column:
```sql
alter policy "members read" on public.documents using (
  exists (select 1 from public.members m
          where m.user_id = (select auth.uid()) and m.org_id = documents.org_id));
```
"#,
};

pub struct TenantPolicyMissingTenantCheck;

/// Does the clause tie some column of the row to the caller?
fn ties_row_to_caller(f: &ExprFacts) -> bool {
    f.comparisons.iter().any(|c| {
        matches!(
            c.against,
            Against::Claim { .. } | Against::Function { .. } | Against::Subquery { .. }
        )
    })
}

impl Rule for TenantPolicyMissingTenantCheck {
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
            let scope = match ctx.tenancy.scope(rel.oid) {
                Some(s @ (Scope::Direct { .. } | Scope::ViaParent { .. })) => s,
                _ => continue,
            };
            let exposure = ctx.exposure.of(rel.oid);
            if !exposure.is_exposed() {
                continue;
            }
            for p in ctx.index.policies(rel.oid) {
                if !p.permissive {
                    continue;
                }
                let reaching = api.reaching(p, exposure);
                if reaching.is_empty() {
                    continue;
                }
                let Some(facts) = ctx.policies.of(p.oid) else {
                    continue;
                };
                let bad: Vec<_> = clauses(p, facts)
                    .into_iter()
                    .filter(|c| {
                        matches!(c.facts.gate, Gate::Rows | Gate::Caller)
                            && !ties_row_to_caller(c.facts)
                    })
                    .collect();
                if bad.is_empty() {
                    continue;
                }
                let membership_like = bad
                    .iter()
                    .any(|c| c.facts.gate == Gate::Caller && !c.facts.subquery_tables.is_empty());
                let caller_only = bad.iter().all(|c| c.facts.gate == Gate::Caller);
                let writes = bad.iter().any(|c| {
                    c.name == "WITH CHECK"
                        || matches!(
                            p.command,
                            PolicyCommand::Update | PolicyCommand::Delete | PolicyCommand::All
                        )
                });
                let (severity, why) = if membership_like {
                    (
                        Severity::Critical,
                        format!(
                            "its sub-query on {} never refers to the row, so it only asks whether \
                             the caller is a member of some tenant",
                            bad.iter()
                                .flat_map(|c| c.facts.subquery_tables.iter())
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                } else if caller_only {
                    let mut what: Vec<String> = bad
                        .iter()
                        .flat_map(|c| c.facts.functions.iter().map(|f| format!("{f}()")))
                        .chain(bad.iter().flat_map(|c| {
                            c.facts.claims.iter().map(|x| format!("claim {}", x.key()))
                        }))
                        .collect();
                    what.dedup();
                    (
                        Severity::Moderate,
                        format!(
                            "it only checks who the caller is ({}), not which tenant the row \
                             belongs to; intended only if that identifies platform staff",
                            what.join(", ")
                        ),
                    )
                } else if writes {
                    (
                        Severity::Critical,
                        "it checks the row but never compares it with the caller's tenant, a \
                         parent the caller can see, or the caller"
                            .to_string(),
                    )
                } else {
                    (
                        Severity::High,
                        "it checks the row but never compares it with the caller's tenant, a \
                         parent the caller can see, or the caller"
                            .to_string(),
                    )
                };
                let tenant_ref = match scope {
                    Scope::Direct { column } => format!("tenant column {column}"),
                    Scope::ViaParent { columns, .. } => {
                        format!("parent reference {}", columns.join(", "))
                    }
                    _ => String::new(),
                };
                let clause_text: Vec<String> = bad
                    .iter()
                    .map(|c| format!("{} ({})", c.name, c.text.trim()))
                    .collect();
                let message = format!(
                    "policy \"{}\" on tenant-scoped {} does not constrain the {}: {}",
                    p.name,
                    rel.qualified(),
                    tenant_ref,
                    why
                );
                let impact = if writes {
                    format!(
                        "callers who pass {} can read or change rows of every tenant in {}",
                        clause_text.join(" / "),
                        rel.qualified()
                    )
                } else {
                    format!(
                        "callers who pass {} read rows of every tenant in {}",
                        clause_text.join(" / "),
                        rel.qualified()
                    )
                };
                let pattern = match scope {
                    Scope::Direct { column } => tenant_pattern(ctx, column, rel.oid),
                    _ => None,
                };
                let target = policy_target(p);
                let fix = match &pattern {
                    Some(pat) => {
                        let mut alter = format!("ALTER POLICY {target}");
                        for c in &bad {
                            alter.push_str(&format!(" {} (({}) AND {pat})", c.name, c.text.trim()));
                        }
                        format!("{alter};")
                    }
                    None => format!(
                        "-- Add the caller's tenant (or the parent reference) to the policy, e.g.\n\
                         -- ALTER POLICY {target} USING (<existing condition> AND <tenant check>);"
                    ),
                };
                out.push(
                    META.finding(message)
                        .severity(severity)
                        .table(&rel.schema, &rel.name)
                        .policy(&p.name)
                        .impact(impact)
                        .evidence("command", p.command.sql())
                        .evidence("reaching_api_roles", reaching.clone())
                        .evidence("clauses", clause_text)
                        .evidence("scope", serde_json::to_value(scope).unwrap_or_default())
                        .evidence(
                            "comparisons",
                            serde_json::to_value(
                                bad.iter()
                                    .flat_map(|c| c.facts.comparisons.iter())
                                    .collect::<Vec<_>>(),
                            )
                            .unwrap_or_default(),
                        )
                        .fix(fix, FixSafety::Review),
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
    use dbaudit_catalog::FkAction;

    fn project() -> CatalogBuilder {
        let mut b = CatalogBuilder::supabase()
            .table("public.organizations", &["id uuid not null", "name text"])
            .pk("public.organizations", &["id"])
            .table(
                "public.members",
                &["org_id uuid not null", "user_id uuid not null"],
            )
            .fk(
                "public.members",
                &["org_id"],
                "public.organizations",
                &["id"],
                FkAction::Cascade,
            )
            .fk(
                "public.members",
                &["user_id"],
                "auth.users",
                &["id"],
                FkAction::Cascade,
            );
        for t in ["documents", "projects", "contacts", "calls"] {
            let q = format!("public.{t}");
            b = b
                .table(
                    &q,
                    &[
                        "id uuid not null",
                        "org_id uuid not null",
                        "owner_id uuid",
                        "status text",
                    ],
                )
                .pk(&q, &["id"])
                .fk(
                    &q,
                    &["org_id"],
                    "public.organizations",
                    &["id"],
                    FkAction::Cascade,
                )
                .supabase_grants(&q)
                .rls(&q, true)
                .policy(
                    &q,
                    &format!("{t}: org"),
                    PolicyCommand::All,
                    &["authenticated"],
                    Some("(org_id = ( SELECT auth_org_id() AS auth_org_id))"),
                    None,
                );
        }
        b.table(
            "public.messages",
            &["id uuid not null", "project_id uuid not null", "body text"],
        )
        .fk(
            "public.messages",
            &["project_id"],
            "public.projects",
            &["id"],
            FkAction::Cascade,
        )
        .supabase_grants("public.messages")
        .rls("public.messages", true)
    }

    fn ready(cat: &dbaudit_catalog::Catalog) -> bool {
        let s = crate::Settings::default();
        Context::new(cat, &s, &[]).tenancy.is_tenant_scoped(
            cat.relations
                .iter()
                .find(|r| r.name == "documents")
                .unwrap()
                .oid,
        )
    }

    #[test]
    fn uncorrelated_membership_exists_is_reported() {
        let cat = project()
            .policy(
                "public.documents",
                "members read",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(EXISTS ( SELECT 1\n   FROM members\n  WHERE ((members.user_id = auth.uid()) AND (members.org_id = members.org_id))))"),
                None,
            )
            .build();
        assert!(ready(&cat), "tenancy detects the root");
        let f = run(&TenantPolicyMissingTenantCheck, &cat);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].policy.as_deref(), Some("members read"));
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(
            f[0].message.contains("never refers to the row"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn status_only_update_is_reported_and_read_is_high() {
        let cat = project()
            .policy(
                "public.contacts",
                "open ones",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(status = 'open'::text)"),
                None,
            )
            .policy(
                "public.calls",
                "close any",
                PolicyCommand::Update,
                &["authenticated"],
                Some("(status = 'open'::text)"),
                None,
            )
            .build();
        assert!(ready(&cat), "tenancy detects the root");
        let f = run(&TenantPolicyMissingTenantCheck, &cat);
        let sev: Vec<_> = f
            .iter()
            .map(|f| (f.table.clone().unwrap(), f.severity))
            .collect();
        assert!(
            sev.contains(&("contacts".into(), Severity::High)),
            "{sev:?}"
        );
        assert!(
            sev.contains(&("calls".into(), Severity::Critical)),
            "{sev:?}"
        );
    }

    #[test]
    fn tenant_parent_and_owner_checks_are_fine() {
        let cat = project()
            .policy(
                "public.documents",
                "owner",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(owner_id = ( SELECT auth.uid() AS uid))"),
                None,
            )
            .policy(
                "public.documents",
                "helper",
                PolicyCommand::Select,
                &["authenticated"],
                Some("is_org_member(org_id)"),
                None,
            )
            .policy(
                "public.documents",
                "membership",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(org_id IN ( SELECT members.org_id\n   FROM members\n  WHERE (members.user_id = auth.uid())))"),
                None,
            )
            .policy(
                "public.messages",
                "via project",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(EXISTS ( SELECT 1\n   FROM projects p\n  WHERE ((p.id = messages.project_id) AND (p.org_id = ( SELECT auth_org_id() AS auth_org_id)))))"),
                None,
            )
            .policy(
                "public.documents",
                "service only",
                PolicyCommand::Select,
                &["authenticated"],
                Some("((auth.jwt() ->> 'role'::text) = 'service_role'::text)"),
                None,
            )
            .build();
        assert!(run(&TenantPolicyMissingTenantCheck, &cat).is_empty());
    }

    #[test]
    fn always_true_is_left_to_permissive_policy() {
        let cat = project()
            .policy(
                "public.documents",
                "all",
                PolicyCommand::Select,
                &["authenticated"],
                Some("true"),
                None,
            )
            .build();
        assert!(run(&TenantPolicyMissingTenantCheck, &cat).is_empty());
    }

    #[test]
    fn caller_only_check_is_moderate() {
        let cat = project()
            .policy(
                "public.documents",
                "admins",
                PolicyCommand::Select,
                &["authenticated"],
                Some("is_admin()"),
                None,
            )
            .build();
        assert!(ready(&cat), "tenancy detects the root");
        let f = run(&TenantPolicyMissingTenantCheck, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Moderate);
        assert!(f[0].message.contains("is_admin"), "{}", f[0].message);
    }
}
