//! RLS007 `inconsistent-tenant-claim`: policies derive the caller's tenant from different
//! sources (claim `org_id` here, `organization_id` there, a helper function elsewhere).

use super::common::{has_api_roles, policy_target, tenant_pattern, ApiRoles};
use crate::analysis::policy::{analyse_sql_body, Against};
use crate::analysis::tenancy::Scope;
use crate::{Context, Rule};
use dbaudit_catalog::{Oid, Policy};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub static META: RuleMeta = RuleMeta {
    code: "RLS007",
    name: "inconsistent-tenant-claim",
    category: Category::Rls,
    default_severity: Severity::High,
    source: RuleSource::Schema,
    summary: "policies derive the tenant from different sources (claim `org_id` here, `organization_id` there, a helper function elsewhere)",
    docs: r#"## What it does
Reads, for every policy of an API role on tenant data, where it takes the caller's tenant from
when it constrains the tenant column (the key of the tenant root for the root itself):

* a JWT claim (`auth.jwt() ->> 'organization_id'`, `auth.jwt() -> 'app_metadata' ->> 'org_id'`,
  `current_setting('request.jwt.claims', true)::json ->> 'org_id'`);
* a helper function (`current_company_id()`); a SQL helper that reads one claim counts as that
  claim, and one that looks the caller up in a table counts as that table;
* a membership sub-query (`org_id in (select org_id from members where ...)`).

When the project uses more than one source, the policies using the less common ones are
reported, each with the source most policies use. Claims from `user_metadata` are left to
`policy-uses-user-metadata`. When two sources are used equally often, every policy involved is
reported, at `moderate`.

Different claim keys are `high`: one of them is wrong. A mix of claims, helpers and sub-queries
is `moderate`: each can be right, but they can disagree (a stale claim after a user switches
organization, a helper that reads another table).

## Why it matters
A policy that reads a claim the token does not carry compares the tenant column with NULL and
silently denies everything, which invites "temporary" `using (true)` fixes; one that reads a
different claim than the rest can follow a tenant the user no longer belongs to. Tenant
isolation is only as good as its least consistent policy.

## Example
```sql
-- every policy:
create policy "appointments - organization isolation" on public.appointments for all
  to authenticated using (org_id = (auth.jwt() ->> 'organization_id')::uuid);
-- but this one:
create policy "calendar_connections - organization isolation" on public.calendar_connections
  for all to authenticated using (org_id = (auth.jwt() ->> 'org_id')::uuid);
```

## Fix
Make the odd policy read the tenant the way the others do, best through one helper:
```sql
alter policy "calendar_connections - organization isolation" on public.calendar_connections
  using (org_id = (auth.jwt() ->> 'organization_id')::uuid)
  with check (org_id = (auth.jwt() ->> 'organization_id')::uuid);
```
"#,
};

pub struct InconsistentTenantClaim;

/// Where a policy takes the tenant from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Source {
    Claim(String),
    Helper(String),
    Membership(String),
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::Claim(k) => format!("JWT claim {k}"),
            Source::Helper(f) => format!("helper {f}()"),
            Source::Membership(t) => format!("a membership look-up in {t}"),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Source::Claim(_) => "claim",
            Source::Helper(_) => "helper",
            Source::Membership(_) => "membership",
        }
    }
}

/// What a helper function resolves to, read from its SQL body when it can be.
fn helper_source(ctx: &Context<'_>, name: &str, cache: &mut HashMap<String, Source>) -> Source {
    if let Some(s) = cache.get(name) {
        return s.clone();
    }
    let (schema, bare) = match name.split_once('.') {
        Some((s, n)) => (Some(s), n),
        None => (None, name),
    };
    let candidates: Vec<_> = ctx
        .catalog
        .functions
        .iter()
        .filter(|f| f.name == bare && schema.is_none_or(|s| f.schema == s))
        .collect();
    let mut source = Source::Helper(name.to_string());
    if let [f] = candidates.as_slice() {
        if f.language == "sql" {
            if let Some(body) = f.source.as_deref().and_then(analyse_sql_body) {
                let claims: BTreeSet<String> = body
                    .claims
                    .iter()
                    .filter(|c| !c.user_metadata)
                    .map(|c| c.key())
                    .collect();
                if claims.len() == 1 && !body.reads_user_metadata {
                    source = Source::Claim(claims.into_iter().next().unwrap_or_default());
                } else if claims.is_empty()
                    && !body.tables.is_empty()
                    && body.functions.iter().any(|f| f == "auth.uid")
                {
                    source = Source::Membership(qualified(&body.tables[0]));
                }
            }
        }
    }
    cache.insert(name.to_string(), source.clone());
    source
}

/// A table as written, with `public` for an unqualified one.
fn qualified(t: &str) -> String {
    if t.contains('.') {
        t.to_string()
    } else {
        format!("public.{t}")
    }
}

fn bare(t: &str) -> &str {
    t.rsplit('.').next().unwrap_or(t)
}

impl Rule for InconsistentTenantClaim {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if !has_api_roles(ctx) {
            return vec![];
        }
        let api = ApiRoles::new(ctx);
        let mut cache = HashMap::new();
        // Policy → its sources; source → policies.
        let mut by_policy: Vec<(&Policy, BTreeSet<Source>)> = vec![];
        for rel in ctx.rls_tables() {
            let column = match ctx.tenancy.scope(rel.oid) {
                Some(Scope::Direct { column }) => column.clone(),
                Some(Scope::Root) => ctx
                    .index
                    .primary_key(rel.oid)
                    .and_then(|pk| pk.columns.first().cloned())
                    .unwrap_or_else(|| "id".to_string()),
                _ => continue,
            };
            for p in ctx.index.policies(rel.oid) {
                if api.of_policy(p).is_empty() {
                    continue;
                }
                let Some(facts) = ctx.policies.of(p.oid) else {
                    continue;
                };
                let mut sources = BTreeSet::new();
                // Clauses reading user_metadata are policy-uses-user-metadata's.
                for f in facts.exprs().filter(|f| !f.reads_user_metadata) {
                    for c in f.comparisons.iter().filter(|c| c.column == column) {
                        let s = match &c.against {
                            Against::Claim { path }
                                if path.first().map(String::as_str) != Some("user_metadata") =>
                            {
                                Source::Claim(path.join("."))
                            }
                            Against::Function { name }
                                if !matches!(bare(name), "uid" | "email" | "current_setting") =>
                            {
                                helper_source(ctx, name, &mut cache)
                            }
                            Against::Subquery { tables } if !tables.is_empty() => {
                                Source::Membership(qualified(&tables[0]))
                            }
                            _ => continue,
                        };
                        sources.insert(s);
                    }
                }
                if !sources.is_empty() {
                    by_policy.push((p, sources));
                }
            }
        }
        let mut counts: BTreeMap<&Source, Vec<&Policy>> = BTreeMap::new();
        for (p, sources) in &by_policy {
            for s in sources {
                counts.entry(s).or_default().push(p);
            }
        }
        if counts.len() < 2 {
            return vec![];
        }
        let max = counts.values().map(Vec::len).max().unwrap_or(0);
        let top: Vec<&Source> = counts
            .iter()
            .filter(|(_, ps)| ps.len() == max)
            .map(|(s, _)| *s)
            .collect();
        let tie = top.len() > 1;
        let majority = top[0];
        let mut out = vec![];
        let mut reported: BTreeSet<Oid> = BTreeSet::new();
        for (p, sources) in &by_policy {
            let odd: Vec<&Source> = sources.iter().filter(|s| tie || !top.contains(s)).collect();
            if odd.is_empty() || !reported.insert(p.oid) {
                continue;
            }
            // What most policies do instead (for a tie: the other sources).
            let others: Vec<&Source> = if tie {
                counts
                    .keys()
                    .copied()
                    .filter(|s| !sources.contains(s))
                    .collect()
            } else {
                vec![majority]
            };
            if others.is_empty() {
                continue;
            }
            let example = counts[others[0]]
                .iter()
                .find(|o| o.oid != p.oid)
                .map(|o| format!("\"{}\" on {}.{}", o.name, o.schema, o.table_name))
                .unwrap_or_default();
            let claims_disagree = odd.iter().all(|s| s.kind() == "claim")
                && others.iter().all(|s| s.kind() == "claim");
            let severity = if tie {
                Severity::Moderate
            } else if claims_disagree {
                Severity::High
            } else {
                Severity::Moderate
            };
            let other_count: usize = others.iter().map(|s| counts[*s].len()).sum();
            let message =
                format!(
                "policy \"{}\" on {}.{} takes the tenant from {}, while {} other polic{} take it \
                 from {} (e.g. {})",
                p.name,
                p.schema,
                p.table_name,
                odd.iter().map(|s| s.describe()).collect::<Vec<_>>().join(" and "),
                other_count,
                if other_count == 1 { "y" } else { "ies" },
                others.iter().map(|s| s.describe()).collect::<Vec<_>>().join(" or "),
                example
            );
            let impact =
                if claims_disagree {
                    format!(
                    "a token without {} makes this policy compare the tenant with NULL and deny \
                     everything; one that carries both can tie this table to a different tenant \
                     than the rest of the schema",
                    odd.iter().map(|s| s.describe()).collect::<Vec<_>>().join(" or ")
                )
                } else {
                    "the sources can disagree (a stale claim after a user changes organization, a \
                 helper reading another table): this table then follows a different tenant than \
                 the rest"
                        .to_string()
                };
            let column = match ctx.tenancy.scope(p.table) {
                Some(Scope::Direct { column }) => Some(column.as_str()),
                _ => None,
            };
            let pattern = (!tie)
                .then(|| column.and_then(|c| tenant_pattern(ctx, c, p.table)))
                .flatten();
            let fix = match (&pattern, p.using.is_some(), p.with_check.is_some()) {
                (Some(pat), u, w) => {
                    let mut s = format!("ALTER POLICY {}", policy_target(p));
                    if u {
                        s.push_str(&format!(" USING ({pat})"));
                    }
                    if w {
                        s.push_str(&format!(" WITH CHECK ({pat})"));
                    }
                    format!("-- read the tenant the way the other policies do (keep any other condition of the policy)\n{s};")
                }
                _ => format!(
                    "-- make {} read the tenant from the same source as the other policies",
                    policy_target(p)
                ),
            };
            out.push(
                META.finding(message)
                    .severity(severity)
                    .table(&p.schema, &p.table_name)
                    .policy(&p.name)
                    .impact(impact)
                    .evidence(
                        "sources",
                        odd.iter().map(|s| s.describe()).collect::<Vec<_>>(),
                    )
                    .evidence(
                        "project_sources",
                        serde_json::Value::Object(
                            counts
                                .iter()
                                .map(|(s, ps)| (s.describe(), ps.len().into()))
                                .collect(),
                        ),
                    )
                    .evidence(
                        "same_source_as_this",
                        odd.iter()
                            .flat_map(|s| counts[*s].iter())
                            .map(|o| format!("{}.{}: {}", o.schema, o.table_name, o.name))
                            .collect::<Vec<_>>(),
                    )
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
    use dbaudit_catalog::{FkAction, PolicyCommand};

    const GOOD: &str = "(org_id = ((auth.jwt() ->> 'organization_id'::text))::uuid)";
    const ODD: &str = "(org_id = ((auth.jwt() ->> 'org_id'::text))::uuid)";

    fn clinic(odd: &str) -> CatalogBuilder {
        let mut b = CatalogBuilder::supabase()
            .table(
                "public.organizations",
                &["id uuid not null", "name text not null"],
            )
            .pk("public.organizations", &["id"])
            .supabase_grants("public.organizations");
        for t in [
            "agents",
            "contacts",
            "campaigns",
            "appointments",
            "calendar_connections",
        ] {
            let q = format!("public.{t}");
            let using = if t == "calendar_connections" {
                odd
            } else {
                GOOD
            };
            b = b
                .table(&q, &["id uuid not null", "org_id uuid not null"])
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
                    &format!("{t} - organization isolation"),
                    PolicyCommand::All,
                    &["authenticated"],
                    Some(using),
                    Some(using),
                );
        }
        b
    }

    fn ready(cat: &dbaudit_catalog::Catalog) -> bool {
        let s = crate::Settings::default();
        Context::new(cat, &s, &[]).tenancy.root.is_some()
    }

    #[test]
    fn minority_claim_is_reported() {
        let cat = clinic(ODD).build();
        assert!(ready(&cat), "tenancy detects the root");
        let f = run(&InconsistentTenantClaim, &cat);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].table.as_deref(), Some("calendar_connections"));
        assert_eq!(f[0].severity, Severity::High);
        assert!(
            f[0].message.contains("JWT claim org_id"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("JWT claim organization_id"),
            "{}",
            f[0].message
        );
        let fix = &f[0].fix.as_ref().unwrap().sql;
        assert!(fix.contains("'organization_id'"), "{fix}");
    }

    #[test]
    fn consistent_claims_are_not_reported() {
        let cat = clinic(GOOD).build();
        assert!(run(&InconsistentTenantClaim, &cat).is_empty());
    }

    #[test]
    fn helper_reading_the_same_claim_is_the_same_source() {
        let cat = clinic("(org_id = ( SELECT auth_org_id() AS auth_org_id))")
            .with(|c| {
                c.functions.push(dbaudit_catalog::Function {
                    oid: 99999,
                    schema: "public".into(),
                    name: "auth_org_id".into(),
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
                        "\n  select nullif((select auth.jwt()) ->> 'organization_id', '')::uuid\n"
                            .into(),
                    ),
                    comment: None,
                })
            })
            .build();
        assert!(run(&InconsistentTenantClaim, &cat).is_empty());
    }

    #[test]
    fn membership_helper_and_inline_membership_are_one_source() {
        let helper = "(org_id = current_org_id())";
        let inline = "(org_id IN ( SELECT members.org_id\n   FROM members\n  WHERE (members.user_id = auth.uid())))";
        let cat = clinic(inline)
            .table(
                "public.members",
                &["org_id uuid not null", "user_id uuid not null"],
            )
            .with(|c| {
                for p in c.policies.iter_mut() {
                    if p.table_name != "calendar_connections" {
                        p.using = Some(helper.into());
                        p.with_check = Some(helper.into());
                        p.functions = vec!["public.current_org_id".into()];
                    } else {
                        p.relations = vec!["public.members".into()];
                    }
                }
                c.functions.push(dbaudit_catalog::Function {
                    oid: 99998,
                    schema: "public".into(),
                    name: "current_org_id".into(),
                    identity_args: String::new(),
                    result: "uuid".into(),
                    kind: 'f',
                    language: "sql".into(),
                    security_definer: true,
                    volatility: 's',
                    leakproof: false,
                    config: vec![],
                    owner: "postgres".into(),
                    grants: vec![],
                    source: Some("select org_id from members where user_id = auth.uid()".into()),
                    comment: None,
                })
            })
            .build();
        assert!(run(&InconsistentTenantClaim, &cat).is_empty());
    }

    #[test]
    fn user_metadata_is_left_to_its_own_rule() {
        let cat = clinic(
            "(org_id = (((auth.jwt() -> 'user_metadata'::text) ->> 'organization_id'::text))::uuid)",
        )
        .build();
        assert!(run(&InconsistentTenantClaim, &cat).is_empty());
    }
}
