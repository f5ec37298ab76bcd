//! PERF003 `duplicate-index`: an index identical to another index of the same table.

use super::index_shape::{backing, comparable, key_columns, usable, IndexShape};
use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Index, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "PERF003",
    name: "duplicate-index",
    category: Category::Performance,
    default_severity: Severity::Low,
    source: RuleSource::Schema,
    summary: "index identical to another",
    docs: r#"## What it does
Compares the valid indexes of each audited table. Two indexes are duplicates when they use the
same access method over the same key columns or expressions, in the same order, with the same
operator classes, collations and sort order, the same `INCLUDE` columns and the same predicate
(`WHERE ...`). Uniqueness aside: a plain index identical to a unique one is a duplicate of it.

One of each group is kept: the primary key first, then an index that backs a constraint
(unique, exclusion), then a unique index, then the oldest. Every other member is reported. Two
unique indexes that differ in `NULLS NOT DISTINCT` enforce different things and are not
duplicates. Indexes of partitions are left to their partitioned table.

## Why it matters
A duplicate serves no query its twin does not, yet every insert, update and delete writes both,
vacuum scans both, and both compete for cache. It is usually an accident: an ORM that creates an
index for a column already declared `unique`, or a migration re-run under another name.

## Example
```sql
create table public.companies (id uuid primary key, slug text unique);
create index companies_slug_idx on public.companies (slug);   -- same as companies_slug_key
```

## Fix
```sql
drop index concurrently if exists public.companies_slug_idx;
```
When both back constraints (a `primary key` and a `unique` on the same column), drop the
redundant constraint instead; a foreign key that uses its index makes the drop fail until it is
re-pointed.
"#,
};

pub struct DuplicateIndex;

impl Rule for DuplicateIndex {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            if rel.partition_of.is_some() {
                continue;
            }
            let indexes = ctx.index.indexes(rel.oid);
            if indexes.len() < 2 {
                continue;
            }
            let mut shaped: Vec<(&Index, IndexShape)> = indexes
                .iter()
                .copied()
                .filter(|i| usable(i))
                .filter_map(|i| IndexShape::of(i).map(|s| (i, s)))
                .collect();
            shaped.sort_by_key(|(i, _)| keep_rank(i));
            let mut reported = vec![false; shaped.len()];
            for k in 0..shaped.len() {
                if reported[k] {
                    continue;
                }
                let (keeper, ks) = &shaped[k];
                for d in k + 1..shaped.len() {
                    let (dup, ds) = &shaped[d];
                    if reported[d] || !comparable(keeper, dup) || ks != ds {
                        continue;
                    }
                    // Unique indexes that differ in NULLS NOT DISTINCT were told apart by the
                    // shape; a unique and a plain one differ in nothing a query sees.
                    reported[d] = true;
                    out.push(finding(ctx, rel, dup, keeper, ds));
                }
            }
        }
        out
    }
}

/// Sort key: the index to keep comes first.
pub(crate) fn keep_rank(i: &Index) -> (u8, u32) {
    let rank = if i.primary {
        0
    } else if backing(i).is_some() {
        1
    } else if i.unique {
        2
    } else {
        3
    };
    (rank, i.oid)
}

fn why_kept(i: &Index) -> String {
    if i.primary {
        "the primary key".into()
    } else if let Some(c) = backing(i) {
        format!("backs constraint {c}")
    } else if i.unique {
        "unique".into()
    } else {
        "created first".into()
    }
}

fn finding(
    ctx: &Context<'_>,
    rel: &Relation,
    dup: &Index,
    keeper: &Index,
    shape: &IndexShape,
) -> Finding {
    let mut spelled = format!("{} ({})", dup.method, shape.keys.join(", "));
    if !shape.include.is_empty() {
        spelled.push_str(&format!(" INCLUDE ({})", shape.include.join(", ")));
    }
    if let Some(p) = &dup.predicate {
        spelled.push_str(&format!(" WHERE {p}"));
    }
    let fix = match backing(dup) {
        Some(constraint) => {
            let table = qualify(&rel.schema, &rel.name);
            let dependents = ctx.index.referenced_by(rel.oid).len();
            let mut sql = format!(
                "-- {} backs constraint {constraint}; {} enforces the same thing.\n\
                 ALTER TABLE {table} DROP CONSTRAINT {};",
                dup.name,
                keeper.name,
                quote_ident(constraint)
            );
            if dependents > 0 {
                sql.push_str(&format!(
                    "\n-- {dependents} foreign key(s) reference {table}: if one uses this index, the drop \
                     fails; re-create that foreign key after dropping, or keep this constraint."
                ));
            }
            (sql, FixSafety::Review)
        }
        None => {
            let mut sql = format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {};",
                qualify(&dup.schema, &dup.name)
            );
            let dependents = ctx.index.referenced_by(rel.oid).len();
            if dup.unique && dependents > 0 {
                sql.push_str(&format!(
                    "\n-- {dependents} foreign key(s) reference {}: if one uses this unique index, \
                     the drop fails; drop {} instead, or re-create that foreign key.",
                    rel.qualified(),
                    keeper.name
                ));
                (sql, FixSafety::Review)
            } else {
                (sql, FixSafety::Safe)
            }
        }
    };
    META.finding(format!(
        "index {} on {} duplicates {}: both are {}",
        dup.name,
        rel.qualified(),
        keeper.name,
        spelled
    ))
    .table(&rel.schema, &rel.name)
    .column(key_columns(dup))
    .object(format!("index {}", dup.name))
    .impact(format!(
        "every write to {} updates both indexes, vacuum scans both and both take cache, \
             while {} serves no query {} does not",
        rel.qualified(),
        dup.name,
        keeper.name
    ))
    .evidence("index", dup.name.clone())
    .evidence("definition", dup.definition.clone())
    .evidence("duplicate_of", keeper.name.clone())
    .evidence("duplicate_of_definition", keeper.definition.clone())
    .evidence("kept_because", why_kept(keeper))
    .evidence("size_bytes", dup.size_bytes)
    .fix(fix.0, fix.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    fn base() -> CatalogBuilder {
        CatalogBuilder::new()
            .table(
                "public.companies",
                &["id uuid not null", "slug text", "created_at timestamptz"],
            )
            .pk("public.companies", &["id"])
    }

    #[test]
    fn plain_index_duplicating_a_unique_constraint_is_reported() {
        let cat = base()
            .index("public.companies", "companies_slug_idx", &["slug"])
            .unique("public.companies", &["slug"])
            .build();
        let f = run(&DuplicateIndex, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence["index"], "companies_slug_idx");
        assert_eq!(f[0].evidence["duplicate_of"], "companies_slug_key");
        assert_eq!(f[0].fix.as_ref().unwrap().safety, FixSafety::Safe);
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn three_identical_indexes_give_two_findings_keeping_the_oldest() {
        let cat = base()
            .index("public.companies", "a", &["slug", "created_at"])
            .index("public.companies", "b", &["slug", "created_at"])
            .index("public.companies", "c", &["slug", "created_at"])
            .build();
        let f = run(&DuplicateIndex, &cat);
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|f| f.evidence["duplicate_of"] == "a"));
    }

    #[test]
    fn primary_key_and_unique_constraint_on_the_same_column() {
        let cat = base().unique("public.companies", &["id"]).build();
        let f = run(&DuplicateIndex, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence["duplicate_of"], "companies_pkey");
        let fix = f[0].fix.as_ref().unwrap();
        assert_eq!(fix.safety, FixSafety::Review);
        assert!(
            fix.sql.contains("DROP CONSTRAINT companies_id_key"),
            "{}",
            fix.sql
        );
    }

    #[test]
    fn different_order_predicate_sort_or_method_are_not_duplicates() {
        let cat = base()
            .index("public.companies", "a", &["slug", "created_at"])
            .index("public.companies", "b", &["created_at", "slug"])
            .index_full(
                "public.companies",
                "c",
                &["slug", "created_at"],
                false,
                false,
                true,
                Some("(slug IS NOT NULL)"),
            )
            .index("public.companies", "d", &["slug", "created_at DESC"])
            .index("public.companies", "e", &["slug", "created_at"])
            .with(|c| {
                let e = c.indexes.iter_mut().find(|i| i.name == "e").unwrap();
                e.method = "hash".into();
                e.definition = e.definition.replace("btree", "hash");
            })
            .build();
        assert!(run(&DuplicateIndex, &cat).is_empty());
    }

    #[test]
    fn include_columns_and_invalid_indexes() {
        let cat = base()
            .index("public.companies", "a", &["slug"])
            .index("public.companies", "b", &["slug"])
            .with(|c| {
                let b = c.indexes.iter_mut().find(|i| i.name == "b").unwrap();
                b.include_columns = vec!["created_at".into()];
                b.definition.push_str(" INCLUDE (created_at)");
            })
            .index_full(
                "public.companies",
                "broken",
                &["slug"],
                false,
                false,
                false,
                None,
            )
            .build();
        assert!(run(&DuplicateIndex, &cat).is_empty());
    }

    #[test]
    fn expression_indexes_compare_by_expression() {
        let cat = base()
            .index("public.companies", "a", &["(lower(slug))"])
            .index("public.companies", "b", &["(lower(slug))"])
            .index("public.companies", "c", &["(upper(slug))"])
            .build();
        let f = run(&DuplicateIndex, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence["index"], "b");
    }
}
