//! RLS008 `policy-uses-user-metadata`: a policy reads `user_metadata` / `raw_user_meta_data`,
//! which every user can change for themselves.

use super::common::{has_api_roles, ApiRoles};
use crate::analysis::policy::analyse_sql_body;
use crate::{Context, Rule};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS008",
    name: "policy-uses-user-metadata",
    category: Category::Rls,
    default_severity: Severity::Critical,
    source: RuleSource::Schema,
    summary: "policy reads `user_metadata` / `raw_user_meta_data`, which every user can change for themselves",
    docs: r#"## What it does
Finds policies for API roles that read the user's `user_metadata`: from the JWT
(`auth.jwt() -> 'user_metadata' ->> 'org_id'`), from `auth.users.raw_user_meta_data`, or through
a SQL helper function whose body reads either. Permissive policies are `critical`; restrictive
ones `high` (they can only narrow access, but the narrowing is the user's to choose).

## Why it matters
Supabase lets every signed-in user update their own `user_metadata` from the browser
(`supabase.auth.updateUser({ data: { organization_id: '...' } })`), and the next token carries
the new value. A policy that takes the tenant, a role or a permission from it lets any user
pick the tenant they act for: one call and they read and write another organization's rows.
`app_metadata` can only be set with the service role and is the place for such claims.

## Example
```sql
create policy "agents - organization isolation" on public.agents for all to authenticated
  using (org_id = (auth.jwt() -> 'user_metadata' ->> 'organization_id')::uuid);
```

## Fix
Read the tenant from `app_metadata` (set by the backend with the service role, or by a custom
access token hook) or from a membership table:
```sql
alter policy "agents - organization isolation" on public.agents
  using (org_id = ((select auth.jwt()) -> 'app_metadata' ->> 'organization_id')::uuid)
  with check (org_id = ((select auth.jwt()) -> 'app_metadata' ->> 'organization_id')::uuid);
```
Move the value into `app_metadata` for existing users first, or every policy denies them.
"#,
};

pub struct PolicyUsesUserMetadata;

impl Rule for PolicyUsesUserMetadata {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if !has_api_roles(ctx) {
            return vec![];
        }
        let api = ApiRoles::new(ctx);
        // SQL helpers whose body reads user metadata.
        let helpers: Vec<String> = ctx
            .catalog
            .functions
            .iter()
            .filter(|f| {
                f.language == "sql"
                    && f.source
                        .as_deref()
                        .is_some_and(|s| analyse_sql_body(s).is_some_and(|b| b.reads_user_metadata))
            })
            .map(|f| format!("{}.{}", f.schema, f.name))
            .collect();
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            if !rel.kind.is_table() {
                continue;
            }
            for p in ctx.index.policies(rel.oid) {
                let roles = api.of_policy(p);
                if roles.is_empty() {
                    continue;
                }
                let Some(facts) = ctx.policies.of(p.oid) else {
                    continue;
                };
                let mut reads: Vec<String> = vec![];
                for (name, f) in [("USING", &facts.using), ("WITH CHECK", &facts.with_check)] {
                    let Some(f) = f else { continue };
                    if f.reads_user_metadata {
                        let claims: Vec<String> = f
                            .claims
                            .iter()
                            .filter(|c| c.user_metadata)
                            .map(|c| format!("claim {}", c.key()))
                            .collect();
                        reads.push(if claims.is_empty() {
                            format!("{name} reads raw_user_meta_data")
                        } else {
                            format!("{name} reads {}", claims.join(", "))
                        });
                    }
                    for h in f.functions.iter().filter(|h| helpers.contains(h)) {
                        reads.push(format!("{name} calls {h}(), which reads user_metadata"));
                    }
                }
                if reads.is_empty() {
                    continue;
                }
                reads.dedup();
                let severity = if p.permissive {
                    Severity::Critical
                } else {
                    Severity::High
                };
                let message = format!(
                    "policy \"{}\" on {} decides access from user_metadata, which every user can \
                     change for themselves: {}",
                    p.name,
                    rel.qualified(),
                    reads.join("; ")
                );
                let text = |t: &Option<String>| {
                    t.as_deref()
                        .map(|t| t.replace("'user_metadata'", "'app_metadata'"))
                };
                let mut alter = format!("ALTER POLICY {}", super::common::policy_target(p));
                if let Some(u) = text(&p.using) {
                    alter.push_str(&format!(" USING ({u})"));
                }
                if let Some(w) = text(&p.with_check) {
                    alter.push_str(&format!(" WITH CHECK ({w})"));
                }
                out.push(
                    META.finding(message)
                        .severity(severity)
                        .table(&rel.schema, &rel.name)
                        .policy(&p.name)
                        .impact(
                            "any signed-in user can set the value with supabase.auth.updateUser() \
                             and act for another tenant: read and write its rows",
                        )
                        .evidence("reads", reads.clone())
                        .evidence("roles", p.roles.clone())
                        .evidence("using", p.using.clone())
                        .evidence("with_check", p.with_check.clone())
                        .fix(
                            format!(
                                "-- copy the value into app_metadata for existing users first\n{alter};"
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

    const UM: &str =
        "(org_id = (((auth.jwt() -> 'user_metadata'::text) ->> 'organization_id'::text))::uuid)";

    fn agents(using: &str) -> CatalogBuilder {
        CatalogBuilder::supabase()
            .table(
                "public.agents",
                &["id uuid not null", "org_id uuid not null"],
            )
            .supabase_grants("public.agents")
            .rls("public.agents", true)
            .policy(
                "public.agents",
                "agents - organization isolation",
                PolicyCommand::All,
                &["authenticated"],
                Some(using),
                Some(using),
            )
    }

    #[test]
    fn jwt_user_metadata_is_reported() {
        let f = run(&PolicyUsesUserMetadata, &agents(UM).build());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(
            f[0].message.contains("claim user_metadata.organization_id"),
            "{}",
            f[0].message
        );
        assert!(f[0].fix.as_ref().unwrap().sql.contains("'app_metadata'"));
    }

    #[test]
    fn raw_user_meta_data_subquery_is_reported() {
        let f = run(
            &PolicyUsesUserMetadata,
            &agents("(org_id = ((( SELECT users.raw_user_meta_data\n   FROM auth.users\n  WHERE (users.id = auth.uid())) ->> 'org_id'::text))::uuid)").build(),
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("raw_user_meta_data"));
    }

    #[test]
    fn app_metadata_is_fine() {
        let f = run(
            &PolicyUsesUserMetadata,
            &agents("(org_id = (((auth.jwt() -> 'app_metadata'::text) ->> 'organization_id'::text))::uuid)").build(),
        );
        assert!(f.is_empty());
    }

    #[test]
    fn helper_reading_user_metadata_is_reported() {
        let cat = agents("(org_id = my_org())")
            .with(|c| {
                c.policies[0].functions = vec!["public.my_org".into()];
                c.functions.push(dbaudit_catalog::Function {
                    oid: 99999,
                    schema: "public".into(),
                    name: "my_org".into(),
                    identity_args: String::new(),
                    result: "uuid".into(),
                    kind: 'f',
                    language: "sql".into(),
                    security_definer: false,
                    volatility: 's',
                    leakproof: false,
                    config: vec![],
                    owner: "postgres".into(),
                    grants: vec![],
                    source: Some(
                        "select (auth.jwt() -> 'user_metadata' ->> 'org_id')::uuid".into(),
                    ),
                    comment: None,
                })
            })
            .build();
        let f = run(&PolicyUsesUserMetadata, &cat);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("public.my_org()"), "{}", f[0].message);
    }
}
