//! PERF002 `tenant-column-unindexed`: a tenant-scoped table whose tenant column leads no index.

use super::unindexed_foreign_key::covers;
use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Index, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "PERF002",
    name: "tenant-column-unindexed",
    category: Category::Performance,
    default_severity: Severity::Moderate,
    source: RuleSource::Schema,
    summary:
        "tenant-scoped table whose tenant column leads no index: every RLS-filtered query scans",
    docs: r#"## What it does
For every table that carries the tenant column (`company_id`, `org_id`, ... as the tenancy
model detected or `dbaudit.toml` set), looks for a valid, non-partial index whose first key
column is the tenant column. A composite index such as `(org_id, created_at)` or a unique
`(org_id, provider)` counts; `(created_at, org_id)` does not.

When the tenant column is also the first column of a foreign key that no index covers,
`unindexed-foreign-key` already reports it with the same fix, so this rule stays quiet: one
problem, one finding. It reports the tables where the tenant column has no foreign key (or one
that an index covers without leading with the tenant column).

## Why it matters
Every query of a tenant's rows filters on the tenant column, whether RLS adds the filter
(`org_id = (select current_org_id())`) or the application does. Without an index leading with it,
each such query reads the whole table, every tenant's rows included: fast with ten customers,
a sequential scan per request with a thousand.

## Example
```sql
create table public.atomic_appointments (
  id uuid primary key,
  org_id uuid not null,          -- tenant column, no index leads with it
  appointment_id uuid references public.appointments(id)
);
create index on public.atomic_appointments (appointment_id, org_id);
```

## Fix
```sql
create index concurrently if not exists atomic_appointments_org_id_idx
  on public.atomic_appointments (org_id);
```
If the common queries also sort or filter by another column, lead with the tenant column and add
it: `(org_id, created_at desc)` serves both the filter and the order.
"#,
};

pub struct TenantColumnUnindexed;

impl Rule for TenantColumnUnindexed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            if !rel.kind.is_table() {
                continue;
            }
            let Some(column) = ctx.tenancy.tenant_column(rel.oid) else {
                continue;
            };
            let cols = [column.to_string()];
            let indexes = ctx.index.indexes(rel.oid);
            if indexes.iter().any(|i| covers(i, &cols)) {
                continue;
            }
            // unindexed-foreign-key reports this one, and its fix index leads with the column.
            let fk_reported = ctx.index.foreign_keys(rel.oid).any(|fk| {
                fk.columns.first().map(String::as_str) == Some(column)
                    && !indexes.iter().any(|i| covers(i, &fk.columns))
            });
            if fk_reported {
                continue;
            }
            out.push(finding(ctx, rel, column, indexes));
        }
        out
    }
}

fn finding(ctx: &Context<'_>, rel: &Relation, column: &str, indexes: &[&Index]) -> Finding {
    let considered: serde_json::Map<String, serde_json::Value> = indexes
        .iter()
        .map(|i| (i.name.clone(), why_not(i).into()))
        .collect();
    let in_policies: Vec<String> = ctx
        .index
        .policies(rel.oid)
        .iter()
        .filter(|p| {
            [&p.using, &p.with_check]
                .iter()
                .any(|e| e.as_deref().is_some_and(|e| mentions(e, column)))
        })
        .map(|p| p.name.clone())
        .collect();
    let name = index_name(&rel.name, column);
    let mut f = META
        .finding(format!(
            "{} is tenant-scoped by {column} but no index leads with {column}",
            rel.qualified()
        ))
        .table(&rel.schema, &rel.name)
        .column(column)
        .impact(format!(
            "every query for one tenant's rows of {} (RLS filters included) reads the whole \
             table, every tenant's rows with it",
            rel.qualified()
        ))
        .evidence("tenant_column", column)
        .evidence(
            "looked_for",
            format!(
                "a valid, non-partial index on {} whose first column is {column}",
                rel.qualified()
            ),
        )
        .evidence("indexes_considered", considered)
        .fix(
            format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({});",
                quote_ident(&name),
                qualify(&rel.schema, &rel.name),
                quote_ident(column)
            ),
            FixSafety::Safe,
        );
    if !in_policies.is_empty() {
        f = f.evidence("policies_filtering_on_it", in_policies);
    }
    if let Some(rows) = rel.row_estimate {
        f = f.evidence("row_estimate", rows);
    }
    f
}

fn why_not(i: &Index) -> String {
    if !i.valid {
        return "invalid (failed CREATE INDEX CONCURRENTLY)".into();
    }
    if let Some(p) = &i.predicate {
        return format!("partial (WHERE {p})");
    }
    match i.key_columns.first() {
        Some(Some(c)) => format!("leads with {c}"),
        _ => "leads with an expression".into(),
    }
}

/// Whether `text` mentions `word` as a whole identifier.
fn mentions(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(is_ident)
            && !text[i + word.len()..].chars().next().is_some_and(is_ident)
    })
}

/// `<table>_<column>_idx`, cut to Postgres's 63-byte identifier limit.
fn index_name(table: &str, column: &str) -> String {
    let mut name = format!("{table}_{column}_idx");
    if name.len() > 63 {
        let mut cut = 59;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
        name.push_str("_idx");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tenancy::Scope;
    use crate::{Context, Settings};
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::{Catalog, FkAction, PolicyCommand};

    /// Run with `public.<table>` scoped directly by `org_id` (the tenancy model is set by hand
    /// so the test does not depend on its detection).
    fn run_scoped(cat: &Catalog, tables: &[&str]) -> Vec<Finding> {
        let settings = Settings::default();
        let mut ctx = Context::new(cat, &settings, &[]);
        ctx.tenancy.scopes.clear();
        for t in tables {
            let oid = ctx.index.relation_named("public", t).unwrap().oid;
            ctx.tenancy.scopes.insert(
                oid,
                Scope::Direct {
                    column: "org_id".into(),
                },
            );
        }
        TenantColumnUnindexed
            .check(&ctx)
            .into_iter()
            .map(Finding::with_fingerprint)
            .collect()
    }

    fn base() -> CatalogBuilder {
        CatalogBuilder::supabase()
            .table("public.organizations", &["id uuid not null"])
            .pk("public.organizations", &["id"])
            .table(
                "public.atomic_appointments",
                &[
                    "id uuid not null",
                    "org_id uuid not null",
                    "appointment_id uuid",
                ],
            )
            .pk("public.atomic_appointments", &["id"])
    }

    #[test]
    fn tenant_column_without_fk_or_index_is_reported() {
        let cat = base()
            .index(
                "public.atomic_appointments",
                "aa_appt_org",
                &["appointment_id", "org_id"],
            )
            .policy(
                "public.atomic_appointments",
                "iso",
                PolicyCommand::All,
                &["authenticated"],
                Some("(org_id = ((auth.jwt() ->> 'organization_id'::text))::uuid)"),
                None,
            )
            .build();
        let f = run_scoped(&cat, &["atomic_appointments"]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].column.as_deref(), Some("org_id"));
        assert_eq!(
            f[0].evidence["indexes_considered"]["aa_appt_org"],
            "leads with appointment_id"
        );
        assert_eq!(f[0].evidence["policies_filtering_on_it"][0], "iso");
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn leading_composite_or_unique_index_covers() {
        let cat = base()
            .index(
                "public.atomic_appointments",
                "aa_org_created",
                &["org_id", "id"],
            )
            .build();
        assert!(run_scoped(&cat, &["atomic_appointments"]).is_empty());
        let cat = base()
            .unique("public.atomic_appointments", &["org_id", "appointment_id"])
            .build();
        assert!(run_scoped(&cat, &["atomic_appointments"]).is_empty());
    }

    #[test]
    fn partial_index_does_not_cover() {
        let cat = base()
            .index_full(
                "public.atomic_appointments",
                "aa_org_live",
                &["org_id"],
                false,
                false,
                true,
                Some("(appointment_id IS NOT NULL)"),
            )
            .build();
        let f = run_scoped(&cat, &["atomic_appointments"]);
        assert_eq!(f.len(), 1);
        assert!(f[0].evidence["indexes_considered"]["aa_org_live"]
            .as_str()
            .unwrap()
            .starts_with("partial"));
    }

    #[test]
    fn unindexed_tenant_fk_is_left_to_unindexed_foreign_key() {
        let cat = base()
            .fk(
                "public.atomic_appointments",
                &["org_id"],
                "public.organizations",
                &["id"],
                FkAction::Cascade,
            )
            .build();
        assert!(run_scoped(&cat, &["atomic_appointments"]).is_empty());
    }

    #[test]
    fn fk_covered_by_an_index_not_leading_with_the_tenant_column_is_reported() {
        let cat = base()
            .table(
                "public.appointments",
                &["id uuid not null", "org_id uuid not null"],
            )
            .pk("public.appointments", &["id"])
            .unique("public.appointments", &["id", "org_id"])
            .fk(
                "public.atomic_appointments",
                &["org_id", "appointment_id"],
                "public.appointments",
                &["org_id", "id"],
                FkAction::Cascade,
            )
            .index(
                "public.atomic_appointments",
                "aa_appt_org",
                &["appointment_id", "org_id"],
            )
            .build();
        assert_eq!(run_scoped(&cat, &["atomic_appointments"]).len(), 1);
    }

    #[test]
    fn unscoped_tables_are_not_reported() {
        let cat = base().build();
        assert!(run_scoped(&cat, &[]).is_empty());
    }
}
