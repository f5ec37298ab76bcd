//! PERF004 `redundant-index`: an index whose keys are a leading prefix of another index's.

use super::duplicate_index::keep_rank;
use super::index_shape::{backing, comparable, key_columns, usable, IndexShape};
use crate::{qualify, Context, Rule};
use dbaudit_catalog::{Index, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "PERF004",
    name: "redundant-index",
    category: Category::Performance,
    default_severity: Severity::Low,
    source: RuleSource::Schema,
    summary: "index whose columns are a leading prefix of another index with the same predicate",
    docs: r#"## What it does
Compares the valid btree indexes of each audited table. An index is redundant when another index
of the same table, with the same predicate (or none), starts with exactly its key columns — same
columns or expressions, same order, operator classes, collations and sort order — and has at least
as much after them: `(company_id)` beside `(company_id, created_at)`. An index whose keys equal
another's but whose `INCLUDE` columns are a subset of the other's is redundant too.

Not reported: unique indexes and indexes that back a constraint (they enforce something the
longer index does not), identical indexes (that is `duplicate-index`), other access methods
(a prefix of a GIN or hash index is not served the same way), and partitions' indexes.

## Why it matters
Whatever the short index serves — equality and range lookups on its columns, foreign key checks,
ordering — the longer index serves too, so the short one only costs: every write updates it, vacuum
scans it, and it takes cache the hot indexes need. The longer index is a little larger to scan, but
rarely enough to matter.

## Example
```sql
create index idx_contacts_company on public.contacts (company_id);
create index idx_contacts_company_status on public.contacts (company_id, status);
-- idx_contacts_company serves nothing idx_contacts_company_status does not
```

## Fix
```sql
drop index concurrently if exists public.idx_contacts_company;
```
Check first on a busy table: for a very selective first column the planner may have preferred the
smaller index, and on a read replica the statistics of the primary do not show its use.
"#,
};

pub struct RedundantIndex;

impl Rule for RedundantIndex {
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
            let shaped: Vec<(&Index, IndexShape)> = indexes
                .iter()
                .copied()
                .filter(|i| usable(i) && i.method == "btree")
                .filter_map(|i| IndexShape::of(i).map(|s| (i, s)))
                .collect();
            for (short, ss) in &shaped {
                if short.unique || short.primary || backing(short).is_some() {
                    continue;
                }
                // A duplicate of an index that is kept is duplicate-index's finding already.
                let duplicate = shaped.iter().any(|(other, os)| {
                    other.oid != short.oid
                        && comparable(short, other)
                        && os == ss
                        && keep_rank(other) < keep_rank(short)
                });
                if duplicate {
                    continue;
                }
                let covering: Vec<&Index> = shaped
                    .iter()
                    .filter(|(long, ls)| {
                        long.oid != short.oid && comparable(short, long) && serves(ss, ls)
                    })
                    .map(|(long, _)| *long)
                    .collect();
                if let Some(first) = covering.first() {
                    out.push(finding(rel, short, ss, first, &covering));
                }
            }
        }
        out
    }
}

/// Whether an index shaped `long` serves every query one shaped `short` does, and is not the
/// same index (`duplicate-index` reports those).
fn serves(short: &IndexShape, long: &IndexShape) -> bool {
    if short.keys.len() > long.keys.len() || long.keys[..short.keys.len()] != short.keys[..] {
        return false;
    }
    // Index-only scans of the short index need its INCLUDE columns somewhere in the long one.
    let long_has = |c: &String| long.include.contains(c) || long.keys.contains(c);
    if !short.include.iter().all(long_has) {
        return false;
    }
    if short.keys.len() < long.keys.len() {
        return true;
    }
    // Same keys: redundant only when the long one includes strictly more.
    long.include.len() > short.include.len()
}

fn finding(
    rel: &Relation,
    short: &Index,
    shape: &IndexShape,
    first: &Index,
    covering: &[&Index],
) -> Finding {
    let mut f = META
        .finding(format!(
            "index {} on {} ({}) is redundant: {} starts with the same key{}",
            short.name,
            rel.qualified(),
            shape.keys.join(", "),
            first.name,
            if shape.keys.len() == 1 { "" } else { "s" }
        ))
        .table(&rel.schema, &rel.name)
        .column(key_columns(short))
        .object(format!("index {}", short.name))
        .impact(format!(
            "every write to {} maintains {} although {} serves the same lookups",
            rel.qualified(),
            short.name,
            first.name
        ))
        .evidence("index", short.name.clone())
        .evidence("definition", short.definition.clone())
        .evidence(
            "covered_by",
            covering.iter().map(|i| i.name.clone()).collect::<Vec<_>>(),
        )
        .evidence("covered_by_definition", first.definition.clone())
        .evidence("size_bytes", short.size_bytes)
        .fix(
            format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {};",
                qualify(&short.schema, &short.name)
            ),
            FixSafety::Safe,
        );
    if let Some(p) = &short.predicate {
        f = f.evidence("predicate", p.clone());
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    fn base() -> CatalogBuilder {
        CatalogBuilder::new()
            .table(
                "public.contacts",
                &[
                    "id uuid not null",
                    "company_id uuid not null",
                    "status text",
                    "created_at timestamptz",
                ],
            )
            .pk("public.contacts", &["id"])
    }

    #[test]
    fn prefix_of_a_composite_index_is_reported() {
        // callengo: idx_contacts_company beside idx_contacts_company_status.
        let cat = base()
            .index("public.contacts", "idx_contacts_company", &["company_id"])
            .index(
                "public.contacts",
                "idx_contacts_company_status",
                &["company_id", "status"],
            )
            .build();
        let f = run(&RedundantIndex, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence["index"], "idx_contacts_company");
        assert_eq!(
            f[0].evidence["covered_by"][0],
            "idx_contacts_company_status"
        );
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn unique_and_constraint_indexes_are_kept() {
        let cat = base()
            .unique("public.contacts", &["company_id"])
            .index(
                "public.contacts",
                "c_company_status",
                &["company_id", "status"],
            )
            .index("public.contacts", "c_id_status", &["id", "status"])
            .build();
        assert!(run(&RedundantIndex, &cat).is_empty());
    }

    #[test]
    fn not_a_leading_prefix_or_different_predicate_or_order() {
        let cat = base()
            .index("public.contacts", "a", &["status"])
            .index("public.contacts", "b", &["company_id", "status"])
            .index_full(
                "public.contacts",
                "c",
                &["created_at"],
                false,
                false,
                true,
                Some("(status = 'x'::text)"),
            )
            .index("public.contacts", "d", &["created_at", "status"])
            .index("public.contacts", "e", &["company_id DESC"])
            .build();
        assert!(run(&RedundantIndex, &cat).is_empty());
    }

    #[test]
    fn same_predicate_counts() {
        let p = Some("(status = 'x'::text)");
        let cat = base()
            .index_full(
                "public.contacts",
                "a",
                &["created_at"],
                false,
                false,
                true,
                p,
            )
            .index_full(
                "public.contacts",
                "b",
                &["created_at", "status"],
                false,
                false,
                true,
                p,
            )
            .build();
        assert_eq!(run(&RedundantIndex, &cat).len(), 1);
    }

    #[test]
    fn identical_indexes_are_left_to_duplicate_index() {
        let cat = base()
            .index("public.contacts", "a", &["company_id"])
            .index("public.contacts", "b", &["company_id"])
            .build();
        assert!(run(&RedundantIndex, &cat).is_empty());
    }

    #[test]
    fn duplicates_of_a_kept_index_are_left_to_duplicate_index() {
        let cat = base()
            .index("public.contacts", "a", &["company_id"])
            .index("public.contacts", "b", &["company_id"])
            .index("public.contacts", "c", &["company_id", "status"])
            .build();
        let f = run(&RedundantIndex, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence["index"], "a");
    }

    #[test]
    fn include_columns() {
        let inc = |name: &'static str, cols: &'static str| {
            move |c: &mut dbaudit_catalog::Catalog| {
                let i = c.indexes.iter_mut().find(|i| i.name == name).unwrap();
                i.include_columns = cols.split(", ").map(String::from).collect();
                i.definition.push_str(&format!(" INCLUDE ({cols})"));
            }
        };
        // (company_id) INCLUDE (created_at) is not served by (company_id, status) ...
        let cat = base()
            .index("public.contacts", "a", &["company_id"])
            .with(inc("a", "created_at"))
            .index("public.contacts", "b", &["company_id", "status"])
            .build();
        assert!(run(&RedundantIndex, &cat).is_empty());
        // ... but (company_id) is served by (company_id) INCLUDE (status).
        let cat = base()
            .index("public.contacts", "a", &["company_id"])
            .index("public.contacts", "b", &["company_id"])
            .with(inc("b", "status"))
            .build();
        let f = run(&RedundantIndex, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence["index"], "a");
    }

    #[test]
    fn invalid_covering_index_does_not_count() {
        let cat = base()
            .index("public.contacts", "a", &["company_id"])
            .index_full(
                "public.contacts",
                "b",
                &["company_id", "status"],
                false,
                false,
                false,
                None,
            )
            .build();
        assert!(run(&RedundantIndex, &cat).is_empty());
    }
}
