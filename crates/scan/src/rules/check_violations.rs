//! DATA005 `check-violations`: rows a recommended CHECK (INT009) or type conversion (INT003)
//! would reject.

use super::{rows, sample_note, CheckResult};
use crate::plan::{Check, CheckKind, TablePlan};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};
use dbaudit_rules::{qualify, quote_ident, Context};
use std::collections::HashMap;

pub static META: RuleMeta = RuleMeta {
    code: "DATA005",
    name: "check-violations",
    category: Category::Data,
    default_severity: Severity::Moderate,
    source: RuleSource::Data,
    summary: "rows that a recommended CHECK (INT009) or type conversion (INT003) would reject: the fix cannot apply before they are cleaned",
    docs: r#"## What it does
With `--scan-data`, runs ahead of time the fixes two schema rules recommend, and counts the rows
they would reject:

* `missing-check-constraint` (INT009) recommends a CHECK such as `price >= 0` or
  `discount_percent >= 0 AND discount_percent <= 100`: the rows outside that range;
* `foreign-key-type-mismatch` (INT003) recommends converting a text reference to the key's type
  (`NULLIF(btrim(list_id), '')::uuid`): the values that do not convert (`'leads-2025'`).

Each finding gives the count and up to three primary keys of the rows.

## Why it matters
These rows are bugs already in the data (a negative price, a 250% discount, a list id that is not
an id) and they make the recommended fix fail: `VALIDATE CONSTRAINT` stops at the first row
outside the range, and `ALTER COLUMN ... TYPE` aborts (after holding an exclusive lock while it
rewrote part of the table).

## Example
```sql
select count(*) from public.deals where not (price >= 0);            -- 3
select count(*) from public.contacts
where nullif(btrim(list_id), '') is not null
  and list_id !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';  -- 1
```

## Fix
Correct or clear the rows first (they are wrong whatever the fix), then apply the schema rule's
fix:
```sql
update public.deals set price = abs(price) where price < 0;  -- or whatever the data means
alter table public.deals add constraint deals_price_check check (price >= 0) not valid;
alter table public.deals validate constraint deals_price_check;
```
"#,
};

/// `(column, expression, expected)`: `("price", "price >= 0", "at least 0")`.
pub(crate) type Recommended = (String, String, String);

/// The CHECKs `missing-check-constraint` recommends, by table: `(column, expression, expected)`
/// with the column quoted in the expression (`price >= 0`, `at least 0`).
pub(crate) fn recommended_checks(ctx: &Context<'_>) -> HashMap<(String, String), Vec<Recommended>> {
    let mut out: HashMap<(String, String), Vec<Recommended>> = HashMap::new();
    let Some(rule) = dbaudit_rules::find_rule("missing-check-constraint") else {
        return out;
    };
    for f in rule.check(ctx) {
        let (Some(schema), Some(table), Some(col)) = (&f.schema, &f.table, &f.column) else {
            continue;
        };
        let Some(rel) = ctx.index.relation_named(schema, table) else {
            continue;
        };
        let Some(column) = rel.column(col) else {
            continue;
        };
        let zero = if column.base_type_name == "money" {
            "'0'::money"
        } else {
            "0"
        };
        let hundred = if column.base_type_name == "money" {
            "'100'::money"
        } else {
            "100"
        };
        let c = quote_ident(col);
        let expected = f
            .evidence
            .get("expected")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        let expr = match expected.as_str() {
            "at least 0" => format!("{c} >= {zero}"),
            "between 0 and 100" => format!("{c} >= {zero} AND {c} <= {hundred}"),
            _ => continue,
        };
        out.entry((schema.clone(), table.clone()))
            .or_default()
            .push((col.clone(), expr, expected));
    }
    out
}

pub(crate) fn finding(t: &TablePlan, ch: &Check, r: &CheckResult, sample: Option<f64>) -> Finding {
    let col = ch.columns.join(", ");
    let table = qualify(&t.schema, &t.name);
    match &ch.kind {
        CheckKind::RangeViolation {
            expression,
            expected,
        } => META
            .finding(format!(
                "{} of {} have {col} outside the range a CHECK would enforce ({expected}){}",
                rows(r.count),
                t.qualified(),
                sample_note(sample)
            ))
            .impact(format!(
                "the CHECK missing-check-constraint recommends cannot be validated until these rows \
                 are corrected, and every sum or report over {col} already includes them"
            ))
            .evidence("expected", expected.clone())
            .evidence("check_expression", expression.clone())
            .evidence("recommended_by", "missing-check-constraint")
            .fix(
                format!(
                    "-- correct the rows, then add the CHECK:\n-- SELECT count(*) FROM {table} WHERE NOT ({expression});\n\
                     ALTER TABLE {table} ADD CONSTRAINT {} CHECK ({expression}) NOT VALID;\n\
                     ALTER TABLE {table} VALIDATE CONSTRAINT {};",
                    quote_ident(&format!("{}_{}_check", t.name, ch.columns[0])),
                    quote_ident(&format!("{}_{}_check", t.name, ch.columns[0]))
                ),
                FixSafety::Review,
            ),
        CheckKind::ConversionViolation { to, target } => META
            .finding(format!(
                "{} of {} have a {col} that does not convert to {to}{}",
                rows(r.count),
                t.qualified(),
                sample_note(sample)
            ))
            .impact(format!(
                "the conversion to {to} that foreign-key-type-mismatch recommends aborts on these rows, \
                 so no foreign key to {target} can be added until they are cleaned"
            ))
            .evidence("conversion", format!("NULLIF(btrim({col}), '')::{to}"))
            .evidence("references", target.clone())
            .evidence("recommended_by", "foreign-key-type-mismatch")
            .fix(
                format!(
                    "-- clear (or correct) the values that are not a {to}, then convert:\n\
                     -- UPDATE {table} SET {c} = NULL WHERE NULLIF(btrim({c}), '') IS NOT NULL AND NOT ({valid});\n\
                     ALTER TABLE {table} ALTER COLUMN {c} TYPE {to} USING NULLIF(btrim({c}), '')::{to};",
                    c = quote_ident(&ch.columns[0]),
                    valid = valid_text(&quote_ident(&ch.columns[0]), to)
                ),
                FixSafety::Review,
            ),
        _ => unreachable!("check-violations finding of another check"),
    }
}

/// A SQL test that `col` (text) holds a value of type `to`, for the cleanup a user runs by hand.
fn valid_text(col: &str, to: &str) -> String {
    match to {
        "uuid" => format!(
            "btrim({col}) ~* '^[{{]?[0-9a-f]{{8}}-?[0-9a-f]{{4}}-?[0-9a-f]{{4}}-?[0-9a-f]{{4}}-?[0-9a-f]{{12}}[}}]?$'"
        ),
        "smallint" | "integer" | "bigint" => format!("btrim({col}) ~ '^[+-]?[0-9]+$'"),
        "numeric" => format!("btrim({col}) ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)$'"),
        "boolean" => format!(
            "lower(btrim({col})) IN ('t','f','true','false','yes','no','on','off','1','0','y','n')"
        ),
        other => format!("pg_input_is_valid({col}, '{other}')  -- PostgreSQL 16+"),
    }
}
