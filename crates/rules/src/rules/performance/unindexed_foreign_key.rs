//! PERF001 `unindexed-foreign-key`: foreign key columns that lead no usable index.

use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Constraint, Index, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "PERF001",
    name: "unindexed-foreign-key",
    category: Category::Performance,
    default_severity: Severity::Moderate,
    source: RuleSource::Schema,
    summary: "FK columns that are not the leading columns of any valid, non-partial index",
    docs: r#"## What it does
For every foreign key of the audited schemas, looks for an index on the referencing table whose
leading key columns are exactly the foreign key's columns (in any order). A composite index such
as `(company_id, created_at)` covers a foreign key on `company_id`; a unique index or the primary
key counts. Partial indexes (`WHERE ...`), expression indexes and indexes left invalid by a failed
`CREATE INDEX CONCURRENTLY` do not, because Postgres cannot use them for every lookup.

## Why it matters
Deleting or updating a parent row makes Postgres look for referencing rows; with no index that is
a sequential scan of the child table for every parent row touched, under a lock. A tenant delete
that cascades through unindexed foreign keys can take minutes. Joins from parent to children and
RLS policies that filter on the column scan the same way.

## Example
```sql
create table public.company_subscriptions (
  id uuid primary key,
  plan_id uuid not null references public.subscription_plans(id)  -- no index on plan_id
);
```

## Fix
```sql
create index concurrently if not exists company_subscriptions_plan_id_idx
  on public.company_subscriptions (plan_id);
```
`CONCURRENTLY` builds the index without blocking writes; it cannot run inside a transaction.
"#,
};

pub struct UnindexedForeignKey;

impl Rule for UnindexedForeignKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            if !rel.kind.is_table() {
                continue;
            }
            let indexes = ctx.index.indexes(rel.oid);
            for fk in ctx.index.foreign_keys(rel.oid) {
                if indexes.iter().any(|i| covers(i, &fk.columns)) {
                    continue;
                }
                out.push(finding(rel, fk, indexes));
            }
        }
        out
    }
}

/// Whether `index` can serve lookups on exactly `columns`: valid, not partial, and its first
/// `columns.len()` keys are those plain columns in some order.
pub fn covers(index: &Index, columns: &[String]) -> bool {
    if !index.valid || index.predicate.is_some() || index.key_columns.len() < columns.len() {
        return false;
    }
    if !matches!(
        index.method.as_str(),
        "btree" | "hash" | "gist" | "gin" | "brin"
    ) || (index.method == "hash" && columns.len() > 1)
    {
        return false;
    }
    let leading = &index.key_columns[..columns.len()];
    columns
        .iter()
        .all(|c| leading.iter().any(|k| k.as_deref() == Some(c.as_str())))
}

/// Why an index on the table does not cover the foreign key (evidence for the reader).
fn rejection(index: &Index, columns: &[String]) -> String {
    if !index.valid {
        return "invalid (failed CREATE INDEX CONCURRENTLY)".into();
    }
    if let Some(p) = &index.predicate {
        return format!("partial (WHERE {p})");
    }
    let leading: Vec<String> = index
        .key_columns
        .iter()
        .take(columns.len().max(1))
        .map(|k| k.clone().unwrap_or_else(|| "<expression>".into()))
        .collect();
    format!("leads with ({})", leading.join(", "))
}

fn finding(rel: &Relation, fk: &Constraint, indexes: &[&Index]) -> Finding {
    let cols = fk.columns.join(", ");
    let target = fk
        .foreign_key
        .as_ref()
        .map(|k| format!("{}.{}", k.ref_schema, k.ref_name))
        .unwrap_or_default();
    let considered: serde_json::Map<String, serde_json::Value> = indexes
        .iter()
        .map(|i| (i.name.clone(), rejection(i, &fk.columns).into()))
        .collect();
    let idx_name = index_name(&rel.name, &fk.columns);
    let quoted_cols: Vec<String> = fk.columns.iter().map(|c| quote_ident(c)).collect();
    let mut f = META
        .finding(format!(
            "foreign key {} on {}({}) → {} has no index leading with ({})",
            fk.name,
            rel.qualified(),
            cols,
            target,
            cols
        ))
        .table(&rel.schema, &rel.name)
        .column(cols.clone())
        .impact(format!(
            "every delete or key update on {target} scans {} for referencing rows; joins and \
             filters on ({cols}) scan too",
            rel.qualified()
        ))
        .evidence("constraint", fk.name.clone())
        .evidence("columns", fk.columns.clone())
        .evidence("references", target.clone())
        .evidence(
            "looked_for",
            format!(
                "a valid, non-partial index on {} whose leading columns are ({cols})",
                rel.qualified()
            ),
        )
        .evidence("indexes_considered", considered)
        .fix(
            format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({});",
                quote_ident(&idx_name),
                qualify(&rel.schema, &rel.name),
                quoted_cols.join(", ")
            ),
            FixSafety::Safe,
        );
    if let Some(rows) = rel.row_estimate {
        f = f.evidence("row_estimate", rows);
    }
    f
}

/// `<table>_<cols>_idx`, shortened to Postgres's 63-byte identifier limit.
fn index_name(table: &str, columns: &[String]) -> String {
    let mut name = format!("{table}_{}_idx", columns.join("_"));
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
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::{CatalogIndex, FkAction};

    fn base() -> CatalogBuilder {
        CatalogBuilder::new()
            .table("public.plans", &["id uuid not null"])
            .pk("public.plans", &["id"])
            .table(
                "public.subs",
                &[
                    "id uuid not null",
                    "plan_id uuid not null",
                    "org_id uuid not null",
                    "created_at timestamptz",
                ],
            )
            .pk("public.subs", &["id"])
            .fk(
                "public.subs",
                &["plan_id"],
                "public.plans",
                &["id"],
                FkAction::NoAction,
            )
    }

    #[test]
    fn fk_without_index_is_reported() {
        let f = run(&UnindexedForeignKey, &base().build());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].column.as_deref(), Some("plan_id"));
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn plain_index_covers() {
        let cat = base()
            .index("public.subs", "subs_plan", &["plan_id"])
            .build();
        assert!(run(&UnindexedForeignKey, &cat).is_empty());
    }

    #[test]
    fn composite_index_leading_with_fk_covers() {
        let cat = base()
            .index(
                "public.subs",
                "subs_plan_created",
                &["plan_id", "created_at"],
            )
            .build();
        assert!(run(&UnindexedForeignKey, &cat).is_empty());
    }

    #[test]
    fn unique_index_leading_with_fk_covers() {
        let cat = base().unique("public.subs", &["plan_id", "org_id"]).build();
        assert!(run(&UnindexedForeignKey, &cat).is_empty());
    }

    #[test]
    fn index_with_fk_in_second_position_does_not_cover() {
        let cat = base()
            .index("public.subs", "subs_org_plan", &["org_id", "plan_id"])
            .build();
        let f = run(&UnindexedForeignKey, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].evidence["indexes_considered"]["subs_org_plan"],
            "leads with (org_id)"
        );
    }

    #[test]
    fn partial_and_invalid_indexes_do_not_cover() {
        let cat = base()
            .index_full(
                "public.subs",
                "subs_plan_live",
                &["plan_id"],
                false,
                false,
                true,
                Some("(created_at IS NOT NULL)"),
            )
            .index_full(
                "public.subs",
                "subs_plan_broken",
                &["plan_id"],
                false,
                false,
                false,
                None,
            )
            .build();
        let f = run(&UnindexedForeignKey, &cat);
        assert_eq!(f.len(), 1);
        let considered = &f[0].evidence["indexes_considered"];
        assert!(considered["subs_plan_live"]
            .as_str()
            .unwrap()
            .starts_with("partial"));
        assert!(considered["subs_plan_broken"]
            .as_str()
            .unwrap()
            .starts_with("invalid"));
    }

    #[test]
    fn multi_column_fk_in_any_order_covers() {
        let cat = CatalogBuilder::new()
            .table("public.p", &["a int not null", "b int not null"])
            .pk("public.p", &["a", "b"])
            .table("public.c", &["a int", "b int"])
            .fk(
                "public.c",
                &["a", "b"],
                "public.p",
                &["a", "b"],
                FkAction::Cascade,
            )
            .index("public.c", "c_b_a", &["b", "a"])
            .build();
        assert!(run(&UnindexedForeignKey, &cat).is_empty());
        let ix = CatalogIndex::new(&cat);
        assert!(
            ix.indexes(ix.relation_named("public", "c").unwrap().oid)
                .len()
                == 1
        );
    }

    #[test]
    fn expression_index_does_not_cover() {
        let cat = base()
            .index("public.subs", "subs_expr", &["(lower(plan_id::text))"])
            .build();
        assert_eq!(run(&UnindexedForeignKey, &cat).len(), 1);
    }

    #[test]
    fn long_index_names_are_cut_to_63_bytes() {
        let cols = vec!["a_really_long_column_name_that_goes_on".to_string()];
        let n = index_name("a_table_with_an_equally_long_name_for_testing", &cols);
        assert!(n.len() <= 63);
        assert!(n.ends_with("_idx"));
    }
}
