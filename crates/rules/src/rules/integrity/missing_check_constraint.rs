//! INT009 `missing-check-constraint`: a numeric column whose name implies a range, with no CHECK.

use super::{audited_table, ident_name};
use crate::analysis::relationships::{base_type, snake, type_family, TypeFamily};
use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Column, ConstraintKind, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "INT009",
    name: "missing-check-constraint",
    category: Category::Integrity,
    default_severity: Severity::Low,
    source: RuleSource::Schema,
    summary: "column whose name implies a range (probability, percent, rate 0–100; amount, price, value, quantity, count >= 0) with no CHECK",
    docs: r#"## What it does
Looks at numeric columns (integers, `numeric`, `real`, `double precision`, `money`) whose name
says what range they hold, and reports those that no CHECK constraint of the table mentions:

* `*_percent`, `*_percentage`, `*_pct`: between 0 and 100;
* `probability`: between 0 and 100 for an integer; at least 0 otherwise (0–1 or 0–100 is the
  application's choice);
* `price`, `cost`, `amount`, `quantity` / `qty`, `count` / `*_count`, and rates that cannot be
  negative (`tax_rate`, `discount_rate`, `conversion_rate`, `hourly_rate`, ...): at least 0.

To stay quiet where a negative value is legitimate, it skips names that describe a change
(`*_change`, `*_delta`, `growth_*`, `balance`, `margin`, `net_*`, ...), amounts in ledgers and
typed event tables (a table named like `transactions`, `ledger_entries`, `refunds`, or with a
`type` / `kind` / `direction` column, where refunds and credits are negative), scores (sentiment
and NPS scores are signed), the generic `value`, keys, foreign keys, generated columns and
columns of a domain type (domains carry their own checks).

## Why it matters
A negative price or quantity, or a 250% discount, is always a bug upstream. Without the CHECK it
is stored, then summed into invoices, dashboards and payouts, and found weeks later. The
constraint rejects it at the write that made it, where the stack trace still points at the cause.

## Example
```sql
create table public.retention_offers (
  id uuid primary key,
  discount_percent integer not null      -- 0..100, nothing enforces it
);
```

## Fix
```sql
alter table public.retention_offers
  add constraint retention_offers_discount_percent_check
  check (discount_percent >= 0 and discount_percent <= 100) not valid;
alter table public.retention_offers validate constraint retention_offers_discount_percent_check;
```
`NOT VALID` then `VALIDATE` avoids a long lock; the data scan's `check-violations` lists the rows
that would make `VALIDATE` fail.
"#,
};

pub struct MissingCheckConstraint;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Bound {
    /// `>= 0`.
    NonNegative,
    /// `>= 0 AND <= 100`.
    Percent,
}

/// Words that make a name signed (a change, a net figure).
const SIGNED: &[&str] = &[
    "change",
    "delta",
    "diff",
    "difference",
    "growth",
    "variance",
    "adjustment",
    "balance",
    "net",
    "offset",
    "trend",
    "profit",
    "margin",
    "pnl",
    "gain",
    "loss",
    "correction",
    "shift",
];
const RATES: &[&str] = &[
    "tax_rate",
    "discount_rate",
    "commission_rate",
    "success_rate",
    "conversion_rate",
    "open_rate",
    "click_rate",
    "bounce_rate",
    "churn_rate",
    "hourly_rate",
    "daily_rate",
    "answer_rate",
    "completion_rate",
    "win_rate",
    "vat_rate",
];
/// Table words of ledgers and typed event logs, where amounts carry a sign.
const LEDGER: &[&str] = &[
    "ledger",
    "ledgers",
    "transaction",
    "transactions",
    "adjustment",
    "adjustments",
    "balance",
    "balances",
    "credit",
    "credits",
    "refund",
    "refunds",
    "payout",
    "payouts",
    "entry",
    "entries",
    "movement",
    "movements",
    "journal",
    "journals",
];

fn numeric(c: &Column) -> bool {
    matches!(type_family(c), TypeFamily::Int(_))
        || matches!(
            base_type(c).as_str(),
            "numeric" | "decimal" | "real" | "double precision" | "money" | "float4" | "float8"
        )
}

/// The range a column's name implies, with the words that made us think so.
fn implied(rel: &Relation, c: &Column) -> Option<(Bound, &'static str)> {
    let s = snake(&c.name);
    let words: Vec<&str> = s.split('_').collect();
    if words.iter().any(|w| SIGNED.contains(w)) || words.contains(&"score") {
        return None;
    }
    let has = |w: &str| words.contains(&w);
    if has("percent") || has("percentage") || has("pct") {
        return Some((Bound::Percent, "a percentage"));
    }
    if has("probability") {
        return Some(if matches!(type_family(c), TypeFamily::Int(_)) {
            (Bound::Percent, "a probability stored as a whole percentage")
        } else {
            (Bound::NonNegative, "a probability")
        });
    }
    if RATES.contains(&s.as_str()) {
        return Some((Bound::NonNegative, "a rate that cannot be negative"));
    }
    if has("price") || has("cost") {
        return Some((Bound::NonNegative, "a price"));
    }
    if has("quantity") || has("qty") {
        return Some((Bound::NonNegative, "a quantity"));
    }
    if s == "count" || s.ends_with("_count") {
        return Some((Bound::NonNegative, "a count"));
    }
    if has("amount") {
        let table_words: Vec<String> = snake(&rel.name).split('_').map(str::to_string).collect();
        let ledger = table_words.iter().any(|w| LEDGER.contains(&w.as_str()))
            || rel.columns.iter().any(|o| {
                let n = snake(&o.name);
                matches!(n.as_str(), "type" | "kind" | "direction" | "sign")
                    || n.ends_with("_type")
                    || n.ends_with("_kind")
            });
        if ledger {
            return None;
        }
        return Some((Bound::NonNegative, "an amount"));
    }
    None
}

/// Whether `text` names `word` as an identifier.
fn names(text: &str, word: &str) -> bool {
    let t = text.to_ascii_lowercase();
    let w = word.to_ascii_lowercase();
    t.match_indices(&w).any(|(i, _)| {
        let before = t[..i].chars().next_back();
        let after = t[i + w.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

impl Rule for MissingCheckConstraint {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            let Some(rel) = audited_table(ctx, rel.oid) else {
                continue;
            };
            let cons = ctx.index.constraints(rel.oid);
            for c in &rel.columns {
                if c.generated
                    || c.identity.is_some()
                    || !numeric(c)
                    || c.type_name != c.base_type_name
                {
                    continue;
                }
                let keyed = cons.iter().any(|k| {
                    matches!(
                        k.kind,
                        ConstraintKind::PrimaryKey | ConstraintKind::ForeignKey
                    ) && k.columns.contains(&c.name)
                });
                if keyed {
                    continue;
                }
                let Some((bound, what)) = implied(rel, c) else {
                    continue;
                };
                let checks: Vec<&str> = cons
                    .iter()
                    .filter(|k| k.kind == ConstraintKind::Check)
                    .map(|k| k.name.as_str())
                    .collect();
                let mentioned = cons.iter().any(|k| {
                    k.kind == ConstraintKind::Check
                        && (k.columns.contains(&c.name) || names(&k.definition, &c.name))
                });
                if mentioned {
                    continue;
                }
                out.push(finding(rel, c, bound, what, &checks));
            }
        }
        out
    }
}

fn finding(rel: &Relation, c: &Column, bound: Bound, what: &str, checks: &[&str]) -> Finding {
    let table = qualify(&rel.schema, &rel.name);
    let col = quote_ident(&c.name);
    let (expr, range) = match bound {
        Bound::NonNegative => (format!("{col} >= 0"), "at least 0"),
        Bound::Percent => (format!("{col} >= 0 AND {col} <= 100"), "between 0 and 100"),
    };
    let name = quote_ident(&ident_name(&format!("{}_{}", rel.name, c.name), "_check"));
    let mut sql = format!(
        "-- rows outside the range make VALIDATE fail; find them first:\n-- SELECT count(*) FROM {table} WHERE NOT ({expr});\n\
         ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({expr}) NOT VALID;\n\
         ALTER TABLE {table} VALIDATE CONSTRAINT {name};"
    );
    if what == "a probability" {
        sql.push_str(&format!(
            "\n-- and an upper bound: {col} <= 1 or {col} <= 100, whichever the application stores"
        ));
    }
    META.finding(format!(
        "{}.{} is {what} ({}) but no CHECK keeps it {range}",
        rel.qualified(),
        c.name,
        c.type_name
    ))
    .table(&rel.schema, &rel.name)
    .column(c.name.clone())
    .impact(format!(
        "a bug upstream can store an impossible {} and every sum, invoice or report built on it \
         inherits the error",
        c.name
    ))
    .evidence("expected", range)
    .evidence("column_type", c.type_name.clone())
    .evidence(
        "looked_for",
        format!(
            "a CHECK constraint on {} mentioning {}",
            rel.qualified(),
            c.name
        ),
    )
    .evidence(
        "checks_on_table",
        checks.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    )
    .fix(sql, FixSafety::Review)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    #[test]
    fn range_columns_without_check_are_reported() {
        let cat = CatalogBuilder::new()
            .table(
                "public.deals",
                &[
                    "id uuid not null",
                    "probability integer",
                    "price numeric(10,2)",
                    "quantity integer",
                    "discount_percent numeric",
                    "name text",
                ],
            )
            .pk("public.deals", &["id"])
            .build();
        let f = run(&MissingCheckConstraint, &cat);
        let cols: Vec<_> = f.iter().map(|f| f.column.clone().unwrap()).collect();
        assert_eq!(
            cols,
            vec!["probability", "price", "quantity", "discount_percent"]
        );
        assert!(f.iter().all(|f| f.severity == Severity::Low));
        let p = &f[0];
        assert!(p
            .fix
            .as_ref()
            .unwrap()
            .sql
            .contains("CHECK (probability >= 0 AND probability <= 100) NOT VALID"));
        insta::assert_json_snapshot!(f[3]);
    }

    #[test]
    fn existing_checks_and_signed_names_are_quiet() {
        let cat = CatalogBuilder::new()
            .table(
                "public.deals",
                &[
                    "id uuid not null",
                    "price numeric",
                    "price_change numeric",
                    "sentiment_score real",
                    "value numeric",
                    "account_id integer",
                    "discount text",
                ],
            )
            .pk("public.deals", &["id"])
            .check(
                "public.deals",
                "deals_price_check",
                &["price"],
                "price >= 0",
            )
            .build();
        assert!(run(&MissingCheckConstraint, &cat).is_empty());
    }

    #[test]
    fn amounts_in_ledgers_and_typed_events_may_be_negative() {
        let cat = CatalogBuilder::new()
            .table(
                "public.ledger_entries",
                &["id uuid not null", "amount_cents integer not null"],
            )
            .table(
                "public.billing_events",
                &[
                    "id uuid not null",
                    "event_type text",
                    "amount_cents integer not null",
                ],
            )
            .table(
                "public.invoices",
                &[
                    "id uuid not null",
                    "amount_cents integer not null",
                    "line_count integer",
                ],
            )
            .build();
        let f = run(&MissingCheckConstraint, &cat);
        let got: Vec<_> = f
            .iter()
            .map(|f| {
                format!(
                    "{}.{}",
                    f.table.as_deref().unwrap(),
                    f.column.as_deref().unwrap()
                )
            })
            .collect();
        assert_eq!(got, vec!["invoices.amount_cents", "invoices.line_count"]);
    }

    #[test]
    fn non_numeric_and_domain_columns_are_skipped() {
        let cat = CatalogBuilder::new()
            .table(
                "public.t",
                &["id uuid not null", "amount text", "price positive_money"],
            )
            .with(|c| {
                let col = &mut c.relations[0].columns[2];
                col.base_type_name = "numeric".into();
            })
            .build();
        assert!(run(&MissingCheckConstraint, &cat).is_empty());
    }
}
