//! PERF005 `unused-index`: an index never scanned since the statistics were reset (live
//! databases only).

use super::index_shape::{backing, key_columns, usable};
use super::unindexed_foreign_key::covers;
use crate::{qualify, Context, Rule};
use dbaudit_catalog::{Index, Oid};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};
use std::collections::HashMap;

pub static META: RuleMeta = RuleMeta {
    code: "PERF005",
    name: "unused-index",
    category: Category::Performance,
    default_severity: Severity::Info,
    source: RuleSource::Stats,
    summary: "index never scanned since statistics reset (not PK/unique)",
    docs: r#"## What it does
On a live database (`--db`), reads `pg_stat_user_indexes.idx_scan` and lists the valid indexes of
the audited tables that have not been scanned once since the statistics were last reset
(`pg_stat_database.stats_reset`, given in the evidence). Left out: primary keys, unique indexes
and indexes backing a constraint (they enforce something even when never read), the only index
covering a foreign key (foreign key checks on delete need it even if no parent was deleted yet),
and partitions' indexes. A database built from migrations has no meaningful statistics, so the
rule does not run there.

## Why it matters
An index nobody reads still costs on every insert, update and delete, slows vacuum, takes disk and
backup space, and pushes useful pages out of cache.

## Example
```sql
-- idx_scan = 0 since 2026-01-01 on the primary
create index contacts_email_idx on public.contacts (email);
```

## Fix
```sql
drop index concurrently if exists public.contacts_email_idx;
```
Statistics are per server: an index used only by queries on a read replica shows 0 scans on the
primary, and a recent `pg_stat_reset()`, crash or major upgrade restarts the count. Check the
replicas, and that the statistics cover a full business cycle (month-end jobs, yearly reports),
before dropping.
"#,
};

pub struct UnusedIndex;

impl Rule for UnusedIndex {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(stats) = &ctx.catalog.stats else {
            return vec![];
        };
        let scans: HashMap<Oid, i64> = stats
            .indexes
            .iter()
            .map(|s| (s.index, s.idx_scan))
            .collect();
        let since = stats.stats_reset.as_deref();
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            if rel.partition_of.is_some() {
                continue;
            }
            let indexes = ctx.index.indexes(rel.oid);
            for idx in indexes {
                if !usable(idx) || idx.unique || idx.primary || backing(idx).is_some() {
                    continue;
                }
                if scans.get(&idx.oid) != Some(&0) {
                    continue;
                }
                if sole_fk_index(ctx, rel.oid, idx, indexes) {
                    continue;
                }
                let since_text = match since {
                    Some(s) => format!("since the statistics were reset at {s}"),
                    None => "since the statistics began (never reset)".into(),
                };
                let mut f = META
                    .finding(format!(
                        "index {} on {} has not been scanned {since_text}",
                        idx.name,
                        rel.qualified()
                    ))
                    .table(&rel.schema, &rel.name)
                    .column(key_columns(idx))
                    .object(format!("index {}", idx.name))
                    .impact(format!(
                        "every write to {} maintains an index no query has read",
                        rel.qualified()
                    ))
                    .evidence("index", idx.name.clone())
                    .evidence("definition", idx.definition.clone())
                    .evidence("idx_scan", 0)
                    .evidence("stats_reset", since.map(str::to_string))
                    .evidence("size_bytes", idx.size_bytes)
                    .evidence(
                        "caveat",
                        "statistics are per server: check read replicas before dropping",
                    )
                    .fix(
                        format!(
                            "DROP INDEX CONCURRENTLY IF EXISTS {};",
                            qualify(&idx.schema, &idx.name)
                        ),
                        FixSafety::Review,
                    );
                if let Some(rows) = rel.row_estimate {
                    f = f.evidence("row_estimate", rows);
                }
                out.push(f);
            }
        }
        out
    }
}

/// Whether `idx` is the only valid index that covers some foreign key of the table: dropping it
/// would make `unindexed-foreign-key` fire.
fn sole_fk_index(ctx: &Context<'_>, table: Oid, idx: &Index, indexes: &[&Index]) -> bool {
    ctx.index.foreign_keys(table).any(|fk| {
        covers(idx, &fk.columns)
            && !indexes
                .iter()
                .any(|o| o.oid != idx.oid && covers(o, &fk.columns))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::{FkAction, IndexStats, Statistics};

    fn with_scans(b: CatalogBuilder, scans: &'static [(&'static str, i64)]) -> CatalogBuilder {
        b.with(|c| {
            let indexes = scans
                .iter()
                .map(|(name, n)| IndexStats {
                    index: c.indexes.iter().find(|i| i.name == *name).unwrap().oid,
                    idx_scan: *n,
                })
                .collect();
            c.stats = Some(Statistics {
                stats_reset: Some("2026-01-01 00:00:00+00".into()),
                tables: vec![],
                indexes,
            });
        })
    }

    fn base() -> CatalogBuilder {
        CatalogBuilder::new()
            .table("public.plans", &["id uuid not null"])
            .pk("public.plans", &["id"])
            .table(
                "public.contacts",
                &[
                    "id uuid not null",
                    "email text",
                    "plan_id uuid",
                    "slug text",
                ],
            )
            .pk("public.contacts", &["id"])
            .index("public.contacts", "contacts_email_idx", &["email"])
            .unique("public.contacts", &["slug"])
    }

    #[test]
    fn never_scanned_index_is_reported() {
        let cat = with_scans(
            base(),
            &[
                ("contacts_email_idx", 0),
                ("contacts_pkey", 0),
                ("contacts_slug_key", 0),
            ],
        )
        .build();
        let f = run(&UnusedIndex, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence["index"], "contacts_email_idx");
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].message.contains("2026-01-01"), "{}", f[0].message);
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn scanned_indexes_and_migrations_are_not_reported() {
        let cat = with_scans(base(), &[("contacts_email_idx", 12)]).build();
        assert!(run(&UnusedIndex, &cat).is_empty());
        // No statistics (a database built from migrations).
        assert!(run(&UnusedIndex, &base().build()).is_empty());
    }

    #[test]
    fn sole_foreign_key_index_is_kept() {
        let b = base()
            .fk(
                "public.contacts",
                &["plan_id"],
                "public.plans",
                &["id"],
                FkAction::NoAction,
            )
            .index("public.contacts", "contacts_plan_idx", &["plan_id"]);
        let cat = with_scans(b, &[("contacts_plan_idx", 0)]).build();
        assert!(run(&UnusedIndex, &cat).is_empty());
        let b = base()
            .fk(
                "public.contacts",
                &["plan_id"],
                "public.plans",
                &["id"],
                FkAction::NoAction,
            )
            .index("public.contacts", "contacts_plan_idx", &["plan_id"])
            .index(
                "public.contacts",
                "contacts_plan_email_idx",
                &["plan_id", "email"],
            );
        let cat = with_scans(
            b,
            &[("contacts_plan_idx", 0), ("contacts_plan_email_idx", 5)],
        )
        .build();
        assert_eq!(run(&UnusedIndex, &cat).len(), 1);
    }
}
