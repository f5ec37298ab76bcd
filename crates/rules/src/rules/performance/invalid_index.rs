//! PERF006 `invalid-index`: an index left invalid, usually by a failed
//! `CREATE INDEX CONCURRENTLY`.

use super::index_shape::key_columns;
use crate::{qualify, Context, Rule};
use dbaudit_catalog::{Index, Relation, RelationKind};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "PERF006",
    name: "invalid-index",
    category: Category::Performance,
    default_severity: Severity::Moderate,
    source: RuleSource::Schema,
    summary: "index left invalid by a failed CREATE INDEX CONCURRENTLY",
    docs: r#"## What it does
Lists the indexes of the audited tables that `pg_index.indisvalid` marks invalid. On a plain table
that is what a `CREATE INDEX CONCURRENTLY` (or `REINDEX CONCURRENTLY`) leaves behind when it fails
or is cancelled: a duplicate key for a unique index, a deadlock, a statement timeout, a dropped
connection. On a partitioned table it is an index created with `ON ONLY` whose partitions do not
all have an attached index yet.

## Why it matters
The planner never uses an invalid index, so the queries it was built for still scan, yet Postgres
keeps updating it on every write once the build got far enough (`indisready`), and a unique one
keeps rejecting duplicates. Migrations that say `if not exists` will not build it again, because
the name is taken.

## Example
```sql
create unique index concurrently users_email_key on public.users (email);
-- ERROR: could not create unique index "users_email_key"
-- DETAIL: Key (email)=(a@example.com) is duplicated.
-- the index stays, invalid
```

## Fix
Drop it and build it again, concurrently (after removing the duplicates, for a unique index):
```sql
drop index concurrently if exists public.users_email_key;
create unique index concurrently users_email_key on public.users (email);
```
For a partitioned table, create the index on each partition that lacks one and attach it
(`alter index parent_idx attach partition part_idx`); the parent index becomes valid when every
partition has one.
"#,
};

pub struct InvalidIndex;

impl Rule for InvalidIndex {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            for idx in ctx.index.indexes(rel.oid) {
                if !idx.valid {
                    out.push(finding(rel, idx));
                }
            }
        }
        out
    }
}

fn finding(rel: &Relation, idx: &Index) -> Finding {
    let name = qualify(&idx.schema, &idx.name);
    let partitioned = rel.kind == RelationKind::PartitionedTable;
    let (message, fix, safety) = if partitioned {
        (
            format!(
                "index {} on partitioned table {} is invalid: not every partition has an attached index",
                idx.name,
                rel.qualified()
            ),
            format!(
                "-- for each partition of {} without a matching index:\n\
                 -- CREATE INDEX CONCURRENTLY <part_idx> ON <partition> (...);\n\
                 -- ALTER INDEX {name} ATTACH PARTITION <part_idx>;",
                rel.qualified()
            ),
            FixSafety::Review,
        )
    } else {
        let mut fix = if idx.definition.is_empty() {
            format!("REINDEX INDEX CONCURRENTLY {name};")
        } else {
            let create = concurrently(&idx.definition);
            format!("DROP INDEX CONCURRENTLY IF EXISTS {name};\n{create};")
        };
        if idx.unique {
            fix = format!(
                "-- a unique build usually fails on duplicate keys: remove them first, or this fails again\n{fix}"
            );
        }
        (
            format!(
                "index {} on {} is invalid, left by a failed or cancelled CREATE INDEX CONCURRENTLY",
                idx.name,
                rel.qualified()
            ),
            fix,
            if idx.unique { FixSafety::Review } else { FixSafety::Safe },
        )
    };
    let impact = match (idx.ready, idx.unique) {
        (true, true) => format!(
            "no query can use it, yet every write to {} updates it and it still rejects duplicate keys",
            rel.qualified()
        ),
        (true, false) => format!(
            "no query can use it, yet every write to {} still updates it",
            rel.qualified()
        ),
        (false, _) => "no query can use it; the lookups it was built for still scan the table".to_string(),
    };
    META.finding(message)
        .table(&rel.schema, &rel.name)
        .column(key_columns(idx))
        .object(format!("index {}", idx.name))
        .impact(impact)
        .evidence("index", idx.name.clone())
        .evidence("definition", idx.definition.clone())
        .evidence("indisvalid", false)
        .evidence("indisready", idx.ready)
        .fix(fix, safety)
}

/// `CREATE [UNIQUE] INDEX name ...` → `CREATE [UNIQUE] INDEX CONCURRENTLY name ...`.
fn concurrently(definition: &str) -> String {
    match definition.find(" INDEX ") {
        Some(p) if !definition.contains(" CONCURRENTLY ") => {
            format!(
                "{} INDEX CONCURRENTLY {}",
                &definition[..p],
                &definition[p + 7..]
            )
        }
        _ => definition.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    #[test]
    fn invalid_index_is_reported_with_a_rebuild() {
        let cat = CatalogBuilder::new()
            .table(
                "public.tasks",
                &["id uuid not null", "org_id uuid", "due_date date"],
            )
            .index_full(
                "public.tasks",
                "tasks_due_idx",
                &["org_id", "due_date"],
                false,
                false,
                false,
                None,
            )
            .build();
        let f = run(&InvalidIndex, &cat);
        assert_eq!(f.len(), 1);
        let fix = f[0].fix.as_ref().unwrap();
        assert_eq!(fix.safety, FixSafety::Safe);
        assert_eq!(
            fix.sql,
            "DROP INDEX CONCURRENTLY IF EXISTS public.tasks_due_idx;\n\
             CREATE INDEX CONCURRENTLY tasks_due_idx ON public.tasks USING btree (org_id, due_date);"
        );
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn valid_indexes_are_not_reported() {
        let cat = CatalogBuilder::new()
            .table("public.tasks", &["id uuid not null"])
            .pk("public.tasks", &["id"])
            .index("public.tasks", "i", &["id"])
            .build();
        assert!(run(&InvalidIndex, &cat).is_empty());
    }

    #[test]
    fn unique_and_partitioned() {
        let cat = CatalogBuilder::new()
            .table("public.users", &["email text"])
            .index_full(
                "public.users",
                "users_email_key",
                &["email"],
                true,
                false,
                false,
                None,
            )
            .table("public.events", &["at timestamptz"])
            .index_full(
                "public.events",
                "events_at_idx",
                &["at"],
                false,
                false,
                false,
                None,
            )
            .with(|c| {
                c.relations
                    .iter_mut()
                    .find(|r| r.name == "events")
                    .unwrap()
                    .kind = RelationKind::PartitionedTable;
                // A unique index that passed the ready phase still checks new rows.
                c.indexes
                    .iter_mut()
                    .find(|i| i.name == "users_email_key")
                    .unwrap()
                    .ready = true;
            })
            .build();
        let f = run(&InvalidIndex, &cat);
        assert_eq!(f.len(), 2);
        let users = f
            .iter()
            .find(|f| f.table.as_deref() == Some("users"))
            .unwrap();
        assert_eq!(users.fix.as_ref().unwrap().safety, FixSafety::Review);
        assert!(users.impact.contains("rejects duplicate keys"));
        let events = f
            .iter()
            .find(|f| f.table.as_deref() == Some("events"))
            .unwrap();
        assert!(events.message.contains("partitioned"));
    }

    #[test]
    fn concurrently_is_inserted_once() {
        assert_eq!(
            concurrently("CREATE UNIQUE INDEX u ON public.t USING btree (a)"),
            "CREATE UNIQUE INDEX CONCURRENTLY u ON public.t USING btree (a)"
        );
    }
}
