//! RLS004 `permissive-policy`: a policy for API roles that lets every row through (`true`, or
//! only a sign-in check) where that matters: on tenant data, or for writes.

use super::common::{clauses, has_api_roles, policy_target, tenant_pattern, ApiRoles, Clause};
use crate::analysis::policy::Gate;
use crate::analysis::tenancy::Scope;
use crate::{Context, Rule};
use dbaudit_catalog::PolicyCommand;
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS004",
    name: "permissive-policy",
    category: Category::Rls,
    default_severity: Severity::Critical,
    source: RuleSource::Schema,
    summary: "policy for API roles whose USING or WITH CHECK is always true (or only checks sign-in) on a tenant-scoped table or on INSERT/UPDATE/DELETE of any exposed table; SELECT-true on a global table is fine",
    docs: r#"## What it does
Finds permissive policies that apply to an API role (`anon`, `authenticated`, `PUBLIC`, or a
role they belong to) and hold a privilege the command needs, whose USING or WITH CHECK lets every
row through: always true (`true`, `1 = 1`), or only a sign-in check (`auth.uid() IS NOT NULL`,
`auth.role() = 'authenticated'`). It reports them

* on tenant data (a tenant-scoped table, or the tenant root), for any command: every tenant's
  rows are open to every caller;
* on any other exposed table, when the clause decides a write (WITH CHECK of INSERT, UPDATE or
  ALL; USING of UPDATE, DELETE or ALL): anyone can write any row.

`SELECT ... USING (true)` on a global table (a catalogue such as `plans` or `agent_templates`)
is intended and not reported. Restrictive policies are not reported (`true` in a restrictive
policy restricts nothing and opens nothing). Policies whose clause depends on the row but
ignores the tenant are `tenant-policy-missing-tenant-check`.

## Why it matters
Permissive policies are OR-ed: one policy that is always true makes every other policy of the
same command irrelevant. A `WITH CHECK (true)` INSERT policy, often written for a backend job
(`"System can insert notifications"`), lets any signed-in user insert rows for any tenant; the
backend did not need it, since the service role bypasses RLS.

## Example
```sql
create policy "System can insert voicemail logs" on public.voicemail_logs
  for insert to authenticated with check (true);
-- any user of company A can insert voicemail logs into company B.
```

## Fix
Drop the policy when only the backend (service role) writes the table, or constrain it to the
caller's tenant with the project's own tenant check:
```sql
drop policy "System can insert voicemail logs" on public.voicemail_logs;
-- or, if clients insert:
alter policy "System can insert voicemail logs" on public.voicemail_logs
  with check (company_id = (select public.current_company_id()));
```
"#,
};

pub struct PermissivePolicy;

/// What a clause decides for a policy's command.
fn decides(command: PolicyCommand, clause: &str) -> (bool, &'static [&'static str]) {
    // (decides reads, write privileges it decides)
    match (command, clause) {
        (PolicyCommand::Select, _) => (true, &[]),
        (PolicyCommand::Insert, _) => (false, &["INSERT"]),
        (PolicyCommand::Delete, _) => (false, &["DELETE"]),
        (PolicyCommand::Update, _) => (false, &["UPDATE"]),
        (PolicyCommand::All, "USING") => (true, &["UPDATE", "DELETE"]),
        (PolicyCommand::All, _) => (false, &["INSERT", "UPDATE"]),
    }
}

fn who(roles: &[String]) -> String {
    let anon = roles.iter().any(|r| r == "anon");
    let others: Vec<&str> = roles
        .iter()
        .filter(|r| *r != "anon")
        .map(String::as_str)
        .collect();
    match (anon, others.is_empty()) {
        (true, true) => "anyone holding the anon key (anon)".to_string(),
        (true, false) => format!(
            "anyone holding the anon key, signed in or not ({})",
            roles.join(", ")
        ),
        (false, _) if others == ["authenticated"] => {
            "any signed-in user (authenticated)".to_string()
        }
        (false, _) => format!("every caller acting as {}", others.join(", ")),
    }
}

impl Rule for PermissivePolicy {
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
            if !exposure.is_exposed() {
                continue;
            }
            let scope = ctx.tenancy.scope(rel.oid);
            let tenant_scoped =
                matches!(scope, Some(Scope::Direct { .. } | Scope::ViaParent { .. }));
            let root = matches!(scope, Some(Scope::Root));
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
                // Write privileges the reaching roles hold.
                let held: Vec<&str> = reaching
                    .iter()
                    .filter_map(|r| exposure.roles.get(r))
                    .flatten()
                    .map(String::as_str)
                    .collect();
                let mut open: Vec<(&Clause<'_>, Vec<&'static str>)> = vec![];
                let all = clauses(p, facts);
                for c in &all {
                    if !matches!(c.facts.gate, Gate::AlwaysTrue | Gate::SignedIn) {
                        continue;
                    }
                    let (reads, writes) = decides(p.command, c.name);
                    let mut what: Vec<&'static str> = vec![];
                    if reads && held.contains(&"SELECT") && (tenant_scoped || root) {
                        what.push("SELECT");
                    }
                    for w in writes {
                        if held.contains(w) {
                            what.push(w);
                        }
                    }
                    if !what.is_empty() {
                        open.push((c, what));
                    }
                }
                if open.is_empty() {
                    continue;
                }
                let mut commands: Vec<&str> = open.iter().flat_map(|(_, w)| w.clone()).collect();
                commands.sort_by_key(|c| {
                    ["SELECT", "INSERT", "UPDATE", "DELETE"]
                        .iter()
                        .position(|x| x == c)
                });
                commands.dedup();
                let writes = commands.iter().any(|c| *c != "SELECT");
                let anon = reaching.iter().any(|r| r == "anon");
                let severity = if tenant_scoped || anon || (root && writes) {
                    Severity::Critical
                } else {
                    Severity::High
                };
                let clause_text: Vec<String> = open
                    .iter()
                    .map(|(c, _)| format!("{} ({})", c.name, c.text.trim()))
                    .collect();
                let how = if open.iter().all(|(c, _)| c.facts.gate == Gate::AlwaysTrue) {
                    "is always true"
                } else {
                    "only checks that the caller is signed in"
                };
                let whose = if tenant_scoped {
                    "any tenant's rows"
                } else if root {
                    "any tenant's row"
                } else {
                    "any row"
                };
                let tenant_data = tenant_scoped || root;
                let verb = |c: &str| match c {
                    "SELECT" => "read",
                    "INSERT" => "insert",
                    "UPDATE" => "update",
                    _ => "delete",
                };
                let mut phrases: Vec<String> = vec![];
                for (c, cmds) in &open {
                    if c.name == "USING" {
                        let v: Vec<&str> = cmds.iter().map(|c| verb(c)).collect();
                        phrases.push(format!("{} {whose}", v.join(", ")));
                    } else {
                        for cmd in cmds {
                            phrases.push(match (*cmd, tenant_data) {
                                ("INSERT", true) => "insert rows for any tenant".to_string(),
                                ("INSERT", false) => "insert any row".to_string(),
                                (_, true) => {
                                    "move rows they can update into any tenant".to_string()
                                }
                                (_, false) => "give rows they can update any values".to_string(),
                            });
                        }
                    }
                }
                phrases.dedup();
                let what = phrases.join(" and ");
                let verbs: Vec<&str> = commands.iter().map(|c| verb(c)).collect();
                let message = format!(
                    "policy \"{}\" on {} {}: {} can {}",
                    p.name,
                    rel.qualified(),
                    how,
                    who(&reaching),
                    what
                );
                let impact = match (tenant_scoped || root, writes) {
                    (true, true) => format!(
                        "a user of one tenant can {} rows of another tenant in {}{}",
                        verbs
                            .iter()
                            .filter(|v| **v != "read")
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", "),
                        rel.qualified(),
                        if commands.iter().all(|c| *c == "INSERT" || *c == "SELECT") {
                            ": forged data in another tenant's account"
                        } else {
                            ": cross-tenant changes and deletions"
                        }
                    ),
                    (true, false) => format!(
                        "every tenant's rows of {} are readable by every caller of the policy",
                        rel.qualified()
                    ),
                    (false, _) => format!(
                        "{} can be changed by every caller of the policy, whatever the row",
                        rel.qualified()
                    ),
                };
                // The project's own tenant check, when there is one, for the fix.
                let column = ctx
                    .tenancy
                    .tenant_column(rel.oid)
                    .map(str::to_string)
                    .or_else(|| root.then(|| "id".to_string()));
                let pattern = column
                    .as_deref()
                    .and_then(|c| tenant_pattern(ctx, c, rel.oid));
                let target = policy_target(p);
                let replacement = pattern.clone().unwrap_or_else(|| {
                    "/* the caller's tenant or row owner, e.g. org_id = (select public.current_org_id()) */ false".to_string()
                });
                let mut alter = format!("ALTER POLICY {target}");
                for (c, _) in &open {
                    alter.push_str(&format!(" {} ({replacement})", c.name));
                }
                let fix = format!(
                    "-- If only the backend (service role, which bypasses RLS) writes or reads \
                     through this policy:\nDROP POLICY {target};\n-- Otherwise constrain it to \
                     the caller's tenant:\n-- {alter};"
                );
                let mut f = META
                    .finding(message)
                    .severity(severity)
                    .table(&rel.schema, &rel.name)
                    .policy(&p.name)
                    .impact(impact)
                    .evidence("command", p.command.sql())
                    .evidence("roles", p.roles.clone())
                    .evidence("reaching_api_roles", reaching.clone())
                    .evidence("clauses", clause_text)
                    .evidence(
                        "gate",
                        if how == "is always true" {
                            "always_true"
                        } else {
                            "signed_in"
                        },
                    )
                    .evidence("opens", commands.clone())
                    .evidence(
                        "table_scope",
                        match scope {
                            Some(s) => serde_json::to_value(s).unwrap_or_default(),
                            None => serde_json::Value::Null,
                        },
                    )
                    .fix(fix, FixSafety::Review);
                if let Some(pattern) = pattern {
                    f = f.evidence("project_tenant_check", pattern);
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
    use dbaudit_catalog::FkAction;

    /// A Supabase project with a `companies` root, tenant tables with `company_id`, a global
    /// catalogue, and the project's helper.
    fn project() -> CatalogBuilder {
        let mut b = CatalogBuilder::supabase()
            .table(
                "public.companies",
                &["id uuid not null", "name text not null"],
            )
            .pk("public.companies", &["id"])
            .supabase_grants("public.companies")
            .rls("public.companies", true)
            .policy(
                "public.companies",
                "companies: members read own",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(id = current_company_id())"),
                None,
            )
            .table("public.plans", &["id uuid not null", "name text not null"])
            .pk("public.plans", &["id"])
            .supabase_grants("public.plans")
            .rls("public.plans", true)
            .policy(
                "public.plans",
                "plans: readable by all",
                PolicyCommand::Select,
                &["authenticated"],
                Some("true"),
                None,
            );
        for t in [
            "contacts",
            "call_logs",
            "voicemail_logs",
            "notes",
            "invoices",
        ] {
            let q = format!("public.{t}");
            b = b
                .table(
                    &q,
                    &["id uuid not null", "company_id uuid not null", "body text"],
                )
                .pk(&q, &["id"])
                .fk(
                    &q,
                    &["company_id"],
                    "public.companies",
                    &["id"],
                    FkAction::Cascade,
                )
                .index(&q, &format!("{t}_company_idx"), &["company_id"])
                .supabase_grants(&q)
                .rls(&q, true)
                .policy(
                    &q,
                    &format!("{t}: company read"),
                    PolicyCommand::Select,
                    &["authenticated"],
                    Some("(company_id = current_company_id())"),
                    None,
                );
        }
        b
    }

    #[test]
    fn insert_with_check_true_on_tenant_table_is_reported() {
        let cat = project()
            .policy(
                "public.voicemail_logs",
                "System can insert voicemail logs",
                PolicyCommand::Insert,
                &["authenticated"],
                None,
                Some("true"),
            )
            .build();
        let f = run(&PermissivePolicy, &cat);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            f[0].policy.as_deref(),
            Some("System can insert voicemail logs")
        );
        assert!(
            f[0].message.contains("any signed-in user"),
            "{}",
            f[0].message
        );
        let fix = &f[0].fix.as_ref().unwrap().sql;
        assert!(fix
            .contains("DROP POLICY \"System can insert voicemail logs\" ON public.voicemail_logs"));
        assert!(ctx_tenancy_ready(&cat), "tenancy detects the root");
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(
            fix.contains("WITH CHECK ((company_id = current_company_id()))"),
            "{fix}"
        );
    }

    /// These tests rely on the tenancy model detecting the `companies` root.
    fn ctx_tenancy_ready(cat: &dbaudit_catalog::Catalog) -> bool {
        let settings = crate::Settings::default();
        let ctx = Context::new(cat, &settings, &[]);
        ctx.tenancy.root.is_some()
    }

    #[test]
    fn select_true_on_global_catalogue_is_fine() {
        let cat = project().build();
        assert!(run(&PermissivePolicy, &cat).is_empty());
    }

    #[test]
    fn write_true_on_global_table_is_reported() {
        let cat = project()
            .policy(
                "public.plans",
                "plans: anyone edits",
                PolicyCommand::Update,
                &["authenticated"],
                Some("true"),
                Some("true"),
            )
            .build();
        let f = run(&PermissivePolicy, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].evidence["opens"], serde_json::json!(["UPDATE"]));
    }

    #[test]
    fn signin_only_select_on_tenant_table_is_reported() {
        let cat = project()
            .policy(
                "public.notes",
                "notes: signed in",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(auth.uid() IS NOT NULL)"),
                None,
            )
            .build();
        let f = run(&PermissivePolicy, &cat);
        assert!(ctx_tenancy_ready(&cat), "tenancy detects the root");
        assert_eq!(f.len(), 1);
        assert!(f[0]
            .message
            .contains("only checks that the caller is signed in"));
    }

    #[test]
    fn restrictive_service_role_and_unprivileged_policies_are_not_reported() {
        let cat = project()
            .policy(
                "public.invoices",
                "service writes",
                PolicyCommand::Insert,
                &["service_role"],
                None,
                Some("true"),
            )
            .policy(
                "public.invoices",
                "restrictive true",
                PolicyCommand::All,
                &["authenticated"],
                Some("true"),
                None,
            )
            .with(|c| {
                let p = c
                    .policies
                    .iter_mut()
                    .find(|p| p.name == "restrictive true")
                    .unwrap();
                p.permissive = false;
            })
            .table("public.audit", &["id uuid not null"])
            .grant("public.audit", "authenticated", &["SELECT"])
            .rls("public.audit", true)
            .policy(
                "public.audit",
                "insert anything",
                PolicyCommand::Insert,
                &["authenticated"],
                None,
                Some("true"),
            )
            .build();
        // No INSERT privilege on audit: the policy decides nothing.
        assert!(run(&PermissivePolicy, &cat).is_empty());
    }

    #[test]
    fn tenant_scoped_update_with_open_check_moves_rows() {
        let cat = project()
            .policy(
                "public.contacts",
                "contacts: update",
                PolicyCommand::Update,
                &["authenticated"],
                Some("(company_id = current_company_id())"),
                Some("true"),
            )
            .build();
        let f = run(&PermissivePolicy, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].evidence["clauses"],
            serde_json::json!(["WITH CHECK (true)"])
        );
        assert!(
            f[0].message
                .contains("move rows they can update into any tenant"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn select_true_on_the_tenant_root_is_high() {
        let cat = project()
            .policy(
                "public.companies",
                "companies: all readable",
                PolicyCommand::Select,
                &["authenticated"],
                Some("true"),
                None,
            )
            .build();
        assert!(ctx_tenancy_ready(&cat), "tenancy detects the root");
        let f = run(&PermissivePolicy, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert!(
            f[0].message.contains("read any tenant's row"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn anon_reach_is_critical_even_on_global_tables() {
        let cat = project()
            .policy(
                "public.plans",
                "plans: public insert",
                PolicyCommand::Insert,
                &[],
                None,
                Some("true"),
            )
            .build();
        let f = run(&PermissivePolicy, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(f[0].message.contains("anon key"), "{}", f[0].message);
    }
}
