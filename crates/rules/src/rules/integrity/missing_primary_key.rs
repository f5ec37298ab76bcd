//! INT001 `missing-primary-key`: a table without a primary key.

use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{ConstraintKind, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "INT001",
    name: "missing-primary-key",
    category: Category::Integrity,
    default_severity: Severity::Moderate,
    source: RuleSource::Schema,
    summary: "table without a primary key",
    docs: r#"## What it does
Finds tables (and partitioned tables) of the audited schemas that have no primary key. When the
table has a unique, non-partial index over NOT NULL columns — a key in all but name — the finding
is lowered to `low` and names that index.

## Why it matters
Without a primary key nothing stops duplicate rows, no foreign key can point at the table, logical
replication (Supabase Realtime, read replicas, CDC) cannot send its updates and deletes, and ORMs
and the Supabase client cannot address a single row reliably.

## Example
```sql
create table public.audit_events (
  org_id uuid not null,
  event text not null,
  created_at timestamptz not null default now()
);
```

## Fix
Add a surrogate key, or promote an existing unique index:
```sql
alter table public.audit_events
  add column id bigint generated always as identity primary key;
-- or, when a unique index over NOT NULL columns exists:
alter table public.audit_events add primary key using index audit_events_key_idx;
```
Adding a column rewrites the table under an ACCESS EXCLUSIVE lock; on a large table schedule it.
"#,
};

pub struct MissingPrimaryKey;

impl Rule for MissingPrimaryKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            // Partitions carry the key of their partitioned parent.
            if !rel.kind.is_table() || rel.partition_of.is_some() {
                continue;
            }
            if ctx
                .index
                .constraints(rel.oid)
                .iter()
                .any(|c| c.kind == ConstraintKind::PrimaryKey)
            {
                continue;
            }
            out.push(finding(ctx, rel));
        }
        out
    }
}

fn finding(ctx: &Context<'_>, rel: &Relation) -> Finding {
    let table = qualify(&rel.schema, &rel.name);
    // A unique, valid, non-partial index over NOT NULL plain columns can become the key.
    let candidate = ctx.index.indexes(rel.oid).iter().find(|i| {
        i.unique
            && i.valid
            && i.predicate.is_none()
            && i.key_columns.iter().all(|c| {
                c.as_deref()
                    .and_then(|c| rel.column(c))
                    .is_some_and(|c| c.not_null)
            })
    });
    let mut f = META
        .finding(format!("{} has no primary key", rel.qualified()))
        .table(&rel.schema, &rel.name)
        .impact(
            "duplicate rows can creep in, nothing can reference a row by key, and logical \
             replication (Realtime, replicas) cannot carry its updates and deletes",
        );
    if let Some(rows) = rel.row_estimate {
        f = f.evidence("row_estimate", rows);
    }
    if let Some(idx) = candidate {
        let cols: Vec<&str> = idx
            .key_columns
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        f.message = format!(
            "{} has no primary key (unique index {} on ({}) could be one)",
            rel.qualified(),
            idx.name,
            cols.join(", ")
        );
        return f
            .severity(Severity::Low)
            .evidence("candidate_key_index", idx.name.clone())
            .fix(
                format!(
                    "ALTER TABLE {table} ADD PRIMARY KEY USING INDEX {};",
                    quote_ident(&idx.name)
                ),
                FixSafety::Safe,
            );
    }
    let fix = match rel.column("id") {
        Some(c) => format!(
            "-- check that id is unique and never NULL first\nALTER TABLE {table} ADD PRIMARY KEY (id); -- id is {}",
            c.type_name
        ),
        None => format!(
            "ALTER TABLE {table} ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;"
        ),
    };
    f.fix(fix, FixSafety::Review)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    #[test]
    fn table_without_key_is_reported() {
        let cat = CatalogBuilder::new()
            .table(
                "public.audit_events",
                &["org_id uuid not null", "event text"],
            )
            .build();
        let f = run(&MissingPrimaryKey, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Moderate);
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn table_with_key_is_not_reported() {
        let cat = CatalogBuilder::new()
            .table("public.t", &["id uuid not null"])
            .pk("public.t", &["id"])
            .build();
        assert!(run(&MissingPrimaryKey, &cat).is_empty());
    }

    #[test]
    fn unique_not_null_index_lowers_severity_and_is_offered() {
        let cat = CatalogBuilder::new()
            .table("public.t", &["code text not null", "name text"])
            .unique("public.t", &["code"])
            .build();
        let f = run(&MissingPrimaryKey, &cat);
        assert_eq!(f[0].severity, Severity::Low);
        assert!(f[0]
            .fix
            .as_ref()
            .unwrap()
            .sql
            .contains("USING INDEX t_code_key"));
    }

    #[test]
    fn unique_index_on_nullable_column_is_not_a_candidate() {
        let cat = CatalogBuilder::new()
            .table("public.t", &["code text", "name text"])
            .unique("public.t", &["code"])
            .build();
        let f = run(&MissingPrimaryKey, &cat);
        assert_eq!(f[0].severity, Severity::Moderate);
    }

    #[test]
    fn existing_id_column_is_promoted() {
        let cat = CatalogBuilder::new()
            .table("public.t", &["id uuid", "name text"])
            .build();
        let f = run(&MissingPrimaryKey, &cat);
        assert!(f[0]
            .fix
            .as_ref()
            .unwrap()
            .sql
            .contains("ADD PRIMARY KEY (id)"));
    }

    #[test]
    fn views_partitions_and_managed_schemas_are_skipped() {
        let cat = CatalogBuilder::supabase()
            .table("public.parent", &["id uuid not null"])
            .pk("public.parent", &["id"])
            .table("public.part_2026", &["id uuid not null"])
            .with(|c| {
                let parent = c.relations.iter().find(|r| r.name == "parent").unwrap().oid;
                c.relations
                    .iter_mut()
                    .find(|r| r.name == "part_2026")
                    .unwrap()
                    .partition_of = Some(parent);
            })
            .view("public.v", &["id uuid"], &["public.parent"])
            .table("storage.migrations", &["name text"])
            .build();
        assert!(run(&MissingPrimaryKey, &cat).is_empty());
    }
}
