//! PERF007 `sequence-near-overflow`: a sequence, or the integer column it feeds, past 75% of its
//! range (live databases only).

use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Column, Relation, Sequence};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};
use std::collections::HashMap;

pub static META: RuleMeta = RuleMeta {
    code: "PERF007",
    name: "sequence-near-overflow",
    category: Category::Performance,
    default_severity: Severity::High,
    source: RuleSource::Stats,
    summary: "sequence or integer key past 75% of its type's range",
    docs: r#"## What it does
On a live database (`--db`), compares each ascending sequence's `last_value` (from
`pg_sequences`) with the largest value it can hand out: the sequence's own `MAXVALUE`, and, when
it feeds a column (a `serial`, an identity column, a `default nextval(...)`), that column's type
(`integer`: 2,147,483,647; `smallint`: 32,767). It reports sequences past 75% of that limit,
and raises the finding to critical past 95%. A `bigint` identity column fed by a `bigint`
sequence is effectively unbounded and never reported. Databases built from migrations have no
`last_value` worth reading, so the rule does not run there.

## Why it matters
When the sequence reaches the limit, `nextval()` fails (`reached maximum value of sequence`) or the
insert fails (`integer out of range`): every insert into the table stops at once, in production,
usually at the busiest table. Widening an `integer` key later means rewriting the table and every
table that references it, under an exclusive lock, which takes hours on a large table: the time to
plan it is before it is urgent.

## Example
```sql
create table public.events (id serial primary key, payload jsonb);
-- pg_sequences: events_id_seq last_value = 1,800,000,000 (84% of 2,147,483,647)
```

## Fix
```sql
-- rewrites the table (and each referencing one) under an ACCESS EXCLUSIVE lock
alter table public.events alter column id type bigint;
alter sequence public.events_id_seq as bigint;
```
On a large table, add a `bigint` column, backfill it in batches, and swap it in, rather than
rewriting the table in one statement. Foreign key columns that reference the key must be widened
too.
"#,
};

pub struct SequenceNearOverflow;

const THRESHOLD: f64 = 0.75;
const CRITICAL: f64 = 0.95;

impl Rule for SequenceNearOverflow {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if ctx.catalog.stats.is_none() {
            return vec![];
        }
        let fed = fed_columns(ctx);
        let mut out = vec![];
        for seq in &ctx.catalog.sequences {
            if !ctx.settings.audits_schema(&seq.schema, &ctx.index) || seq.increment <= 0 {
                continue;
            }
            let Some(last) = seq.last_value else {
                continue;
            };
            let column = fed.get(&(seq.schema.as_str(), seq.name.as_str())).copied();
            let col_max = column.and_then(|(_, c)| type_max(&c.base_type_name));
            let (limit, limited_by_column) = match col_max {
                Some(m) if m <= seq.max_value => (m, true),
                _ => (seq.max_value, false),
            };
            if limit <= 0 {
                continue;
            }
            let used = last as f64 / limit as f64;
            if used <= THRESHOLD {
                continue;
            }
            out.push(finding(
                ctx,
                seq,
                last,
                limit,
                used,
                column,
                limited_by_column,
            ));
        }
        out
    }
}

/// The largest value of an integer type, by its `format_type` name.
fn type_max(t: &str) -> Option<i64> {
    match t {
        "smallint" => Some(i16::MAX as i64),
        "integer" => Some(i32::MAX as i64),
        "bigint" => Some(i64::MAX),
        _ => None,
    }
}

type Fed<'a> = HashMap<(&'a str, &'a str), (&'a Relation, &'a Column)>;

/// The column each sequence feeds: the owner (`serial`, identity, `OWNED BY`), else a column whose
/// default calls `nextval` on it.
fn fed_columns<'a>(ctx: &Context<'a>) -> Fed<'a> {
    let mut out: Fed<'a> = HashMap::new();
    for seq in &ctx.catalog.sequences {
        let Some(owner) = seq.owned_by.as_deref() else {
            continue;
        };
        let Some((table, col)) = owner.rsplit_once('.') else {
            continue;
        };
        let Some((schema, table)) = table.split_once('.') else {
            continue;
        };
        if let Some(rel) = ctx.index.relation_named(schema, table) {
            if let Some(c) = rel.column(col) {
                out.insert((seq.schema.as_str(), seq.name.as_str()), (rel, c));
            }
        }
    }
    let by_name: HashMap<(&str, &str), &'a Sequence> = ctx
        .catalog
        .sequences
        .iter()
        .map(|s| ((s.schema.as_str(), s.name.as_str()), s))
        .collect();
    for rel in ctx.audited_relations() {
        for col in &rel.columns {
            let Some(name) = col.default.as_deref().and_then(nextval_target) else {
                continue;
            };
            let key = match name.split_once('.') {
                Some((s, n)) => (s, n),
                None => (rel.schema.as_str(), name),
            };
            // The sequence's own strings, so the key borrows from the catalog.
            if let Some(seq) = by_name.get(&key) {
                out.entry((seq.schema.as_str(), seq.name.as_str()))
                    .or_insert((rel, col));
            }
        }
    }
    out
}

/// `nextval('public.seq'::regclass)` → `public.seq` (unquoted identifiers only).
fn nextval_target(default: &str) -> Option<&str> {
    let rest = default.split_once("nextval('")?.1;
    let name = rest.split_once("'::regclass")?.0;
    (!name.contains('"')).then_some(name)
}

fn finding(
    ctx: &Context<'_>,
    seq: &Sequence,
    last: i64,
    limit: i64,
    used: f64,
    column: Option<(&Relation, &Column)>,
    limited_by_column: bool,
) -> Finding {
    let pct = (used * 100.0).floor() as i64;
    let seq_name = qualify(&seq.schema, &seq.name);
    let what = match (column, limited_by_column) {
        (Some((rel, col)), true) => format!(
            "{}.{} ({}) cannot hold values past {}",
            rel.qualified(),
            col.name,
            col.type_name,
            thousands(limit)
        ),
        _ => format!("the sequence stops at {}", thousands(limit)),
    };
    let mut f = META
        .finding(format!(
            "sequence {}.{} is at {} of {} ({pct}%): {what}",
            seq.schema,
            seq.name,
            thousands(last),
            thousands(limit)
        ))
        .impact(
            "when it runs out, every insert that takes a value from it fails (`integer out of \
             range` or `reached maximum value of sequence`) until the column and sequence are \
             widened",
        )
        .evidence("sequence", format!("{}.{}", seq.schema, seq.name))
        .evidence("sequence_type", seq.data_type.clone())
        .evidence("last_value", last)
        .evidence("sequence_max", seq.max_value)
        .evidence("limit", limit)
        .evidence("percent_used", pct)
        .evidence("increment", seq.increment);
    if used >= CRITICAL {
        f = f.severity(Severity::Critical);
    }
    let mut fix = vec![];
    match column {
        Some((rel, col)) => {
            f = f
                .table(&rel.schema, &rel.name)
                .column(col.name.clone())
                .evidence("feeds", format!("{}.{}", rel.qualified(), col.name))
                .evidence("column_type", col.type_name.clone());
            if limited_by_column {
                let table = qualify(&rel.schema, &rel.name);
                fix.push(
                    "-- rewrites each table under an ACCESS EXCLUSIVE lock; on a large table, add a bigint \
                     column, backfill it in batches and swap it in instead"
                        .to_string(),
                );
                fix.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {} TYPE bigint;",
                    quote_ident(&col.name)
                ));
                let mut referencing = vec![];
                for fk in ctx.index.referenced_by(rel.oid) {
                    let Some(k) = &fk.foreign_key else { continue };
                    let Some(pos) = k.ref_columns.iter().position(|c| *c == col.name) else {
                        continue;
                    };
                    let (Some(child), Some(child_col)) =
                        (ctx.index.relation(fk.table), fk.columns.get(pos))
                    else {
                        continue;
                    };
                    referencing.push(format!("{}.{}", child.qualified(), child_col));
                    fix.push(format!(
                        "ALTER TABLE {} ALTER COLUMN {} TYPE bigint;",
                        qualify(&child.schema, &child.name),
                        quote_ident(child_col)
                    ));
                }
                if !referencing.is_empty() {
                    f = f.evidence("referencing_columns", referencing);
                }
                if col.identity.is_none() && seq.data_type != "bigint" {
                    fix.push(format!("ALTER SEQUENCE {seq_name} AS bigint;"));
                }
            } else {
                fix.push(sequence_fix(seq, &seq_name, true));
            }
        }
        None => fix.push(sequence_fix(seq, &seq_name, false)),
    }
    if f.schema.is_none() {
        // A sequence that feeds no known column: locate the finding by its schema and name.
        f.schema = Some(seq.schema.clone());
        f.function = Some(format!("sequence {}", seq.name));
    }
    f.fix(fix.join("\n"), FixSafety::Review)
}

/// `1800000000` → `1,800,000,000`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// Raise the sequence's own limit; `column_wide`: the column it feeds already holds bigint.
fn sequence_fix(seq: &Sequence, seq_name: &str, column_wide: bool) -> String {
    if seq.data_type == "bigint" {
        format!("ALTER SEQUENCE {seq_name} NO MAXVALUE;")
    } else if column_wide {
        format!("ALTER SEQUENCE {seq_name} AS bigint NO MAXVALUE;")
    } else {
        format!(
            "ALTER SEQUENCE {seq_name} AS bigint NO MAXVALUE;  -- and widen the columns it feeds"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::{Catalog, FkAction, Statistics};

    fn sequence(
        name: &str,
        data_type: &str,
        max: i64,
        last: Option<i64>,
        owned_by: Option<&str>,
    ) -> Sequence {
        Sequence {
            oid: 1,
            schema: "public".into(),
            name: name.into(),
            data_type: data_type.into(),
            max_value: max,
            increment: 1,
            last_value: last,
            owned_by: owned_by.map(String::from),
        }
    }

    fn live(mut cat: Catalog, seqs: Vec<Sequence>) -> Catalog {
        cat.sequences = seqs;
        cat.stats = Some(Statistics::default());
        cat
    }

    fn events() -> CatalogBuilder {
        CatalogBuilder::new()
            .table("public.events", &["id integer not null", "payload jsonb"])
            .pk("public.events", &["id"])
            .table("public.event_tags", &["event_id integer not null"])
            .fk(
                "public.event_tags",
                &["event_id"],
                "public.events",
                &["id"],
                FkAction::Cascade,
            )
    }

    #[test]
    fn serial_key_past_three_quarters_is_reported() {
        let cat = live(
            events().build(),
            vec![sequence(
                "events_id_seq",
                "integer",
                i32::MAX as i64,
                Some(1_800_000_000),
                Some("public.events.id"),
            )],
        );
        let f = run(&SequenceNearOverflow, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].table.as_deref(), Some("events"));
        assert_eq!(f[0].evidence["percent_used"], 83);
        let fix = &f[0].fix.as_ref().unwrap().sql;
        assert!(
            fix.contains("ALTER TABLE public.events ALTER COLUMN id TYPE bigint;"),
            "{fix}"
        );
        assert!(
            fix.contains("ALTER TABLE public.event_tags ALTER COLUMN event_id TYPE bigint;"),
            "{fix}"
        );
        assert!(
            fix.contains("ALTER SEQUENCE public.events_id_seq AS bigint;"),
            "{fix}"
        );
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn bigint_sequence_feeding_an_integer_column_is_limited_by_the_column() {
        let cat = live(
            events()
                .column_default("public.events", "id", "nextval('events_seq'::regclass)")
                .build(),
            vec![sequence(
                "events_seq",
                "bigint",
                i64::MAX,
                Some(2_100_000_000),
                None,
            )],
        );
        let f = run(&SequenceNearOverflow, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].evidence["limit"], i32::MAX as i64);
        assert_eq!(f[0].column.as_deref(), Some("id"));
    }

    #[test]
    fn healthy_bigint_and_unused_sequences_are_not_reported() {
        let cat = live(
            CatalogBuilder::new()
                .table("public.big", &["id bigint not null"])
                .build(),
            vec![
                sequence(
                    "big_id_seq",
                    "bigint",
                    i64::MAX,
                    Some(3_000_000_000),
                    Some("public.big.id"),
                ),
                sequence("low", "integer", i32::MAX as i64, Some(1_000_000_000), None),
                sequence("fresh", "integer", i32::MAX as i64, None, None),
            ],
        );
        assert!(run(&SequenceNearOverflow, &cat).is_empty());
    }

    #[test]
    fn without_statistics_nothing_runs() {
        let mut cat = events().build();
        cat.sequences = vec![sequence(
            "events_id_seq",
            "integer",
            i32::MAX as i64,
            Some(2_000_000_000),
            Some("public.events.id"),
        )];
        assert!(run(&SequenceNearOverflow, &cat).is_empty());
    }

    #[test]
    fn explicit_maxvalue_counts() {
        let cat = live(
            CatalogBuilder::new().build(),
            vec![sequence("invoice_no", "bigint", 99_999, Some(90_000), None)],
        );
        let f = run(&SequenceNearOverflow, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].function.as_deref(), Some("sequence invoice_no"));
        assert!(
            f[0].message.contains("the sequence stops at 99,999"),
            "{}",
            f[0].message
        );
    }
}
