//! The DATA rules: one file per rule, each with its metadata, docs and finding.

pub mod check_violations;
pub mod cross_tenant_reference;
pub mod null_tenant_rows;
pub mod orphan_rows;
pub mod soft_deleted_parent_referenced;

use crate::plan::{Check, TablePlan};
use dbaudit_findings::Finding;

/// What one check of one table counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckResult {
    /// Rows the check matched.
    pub count: i64,
    /// Up to three primary keys of those rows.
    pub samples: Vec<String>,
    /// Of `count`, values that do not even convert to the key's type.
    pub invalid: i64,
    /// Rows read (of the sample when sampled).
    pub rows: i64,
}

/// How the table was read, for messages: `""` or `" (in a 1% sample)"`.
/// A check's parent (`schema.table`, unqualified meaning `public`): quoted, and its bare name.
pub(crate) fn parent_name(parent: &str) -> (String, &str) {
    let (schema, name) = parent.split_once('.').unwrap_or(("public", parent));
    (dbaudit_rules::qualify(schema, name), name)
}

/// `p.key = c.column AND ...`: the child's columns joined to the parent's key.
pub(crate) fn join_on(columns: &[String], parent_columns: &[String]) -> String {
    columns
        .iter()
        .zip(parent_columns)
        .map(|(c, p)| {
            format!(
                "p.{} = c.{}",
                dbaudit_rules::quote_ident(p),
                dbaudit_rules::quote_ident(c)
            )
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

pub(crate) fn sample_note(sample: Option<f64>) -> String {
    match sample {
        Some(p) => format!(" (in a {p}% sample)"),
        None => String::new(),
    }
}

/// `1 row`, `3 rows`.
pub(crate) fn rows(n: i64) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

/// The finding of one check with a count above zero.
pub(crate) fn finding(t: &TablePlan, ch: &Check, r: &CheckResult, sample: Option<f64>) -> Finding {
    let f = match ch.rule.code {
        "DATA001" => orphan_rows::finding(t, ch, r, sample),
        "DATA002" => null_tenant_rows::finding(t, ch, r, sample),
        "DATA003" => cross_tenant_reference::finding(t, ch, r, sample),
        "DATA004" => soft_deleted_parent_referenced::finding(t, ch, r, sample),
        _ => check_violations::finding(t, ch, r, sample),
    };
    common_evidence(f, t, ch, r, sample).with_fingerprint()
}

fn common_evidence(
    mut f: Finding,
    t: &TablePlan,
    ch: &Check,
    r: &CheckResult,
    sample: Option<f64>,
) -> Finding {
    f = f
        .table(&t.schema, &t.name)
        .column(ch.columns.join(", "))
        .evidence("rows", r.count)
        .evidence("rows_scanned", r.rows)
        .evidence("check", ch.label());
    if let Some(p) = sample {
        f = f.evidence("sample_percent", p);
    }
    if t.key_columns.is_empty() {
        if let Some(why) = &t.no_samples {
            f = f.evidence("sample_keys_withheld", why.clone());
        }
    } else {
        f = f
            .evidence("sample_key_columns", t.key_columns.clone())
            .evidence("sample_keys", r.samples.clone());
    }
    f
}
