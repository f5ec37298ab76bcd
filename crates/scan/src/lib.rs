//! Data scans (`--scan-data`). See DESIGN.md, "Data scans".
//!
//! [`plan`] turns the catalog (through a rules [`Context`](dbaudit_rules::Context)) into one
//! query per table that folds every data check of that table into a single pass: aggregates with
//! `FILTER` for the counts, `LEFT JOIN`s to the parents (hash joins reading only the parents' key,
//! tenant and `deleted_at` columns) for orphans, cross-tenant references and soft-deleted parents,
//! and `min`/`max`/smallest-hash aggregates for a few sample keys (primary key values only, constant
//! memory). Nothing in the query keeps PostgreSQL from running it with parallel workers
//! (partial aggregates). [`scan`] runs the plan over a few connections, each in a read-only
//! `REPEATABLE READ` transaction sharing one snapshot, with a statement and lock timeout per
//! table; a table that times out or fails is reported as such, never as clean.
//!
//! Nothing here prints row contents: the queries return counts and sample primary keys, and keys
//! of columns that look secret (or personal, such as an email) are never sampled.

mod plan;
pub mod rules;
mod run;

pub use plan::{plan, Check, CheckKind, Join, TablePlan};
pub use run::scan;

use dbaudit_findings::{Finding, RuleMeta};
use serde::Serialize;
use std::time::Duration;

/// Rule metadata with docs, for `dbaudit rules/explain` and SARIF, one static per rule file.
pub static RULES: &[&RuleMeta] = &[
    &rules::orphan_rows::META,
    &rules::null_tenant_rows::META,
    &rules::cross_tenant_reference::META,
    &rules::soft_deleted_parent_referenced::META,
    &rules::check_violations::META,
];

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Statement (and lock) timeout of each table's query.
    pub statement_timeout: Duration,
    /// `--sample PERCENT`: `TABLESAMPLE SYSTEM (PERCENT)` on tables whose catalog row estimate is
    /// at least `sample_min_rows`.
    pub sample_percent: Option<f64>,
    /// Tables smaller than this (by `pg_class.reltuples`) are read whole even with a sample.
    pub sample_min_rows: u64,
    /// An indicatif bar (tables, rows) on stderr when true; silent otherwise.
    pub progress: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            statement_timeout: Duration::from_secs(60),
            sample_percent: None,
            sample_min_rows: 1_000_000,
            progress: false,
        }
    }
}

/// What happened to one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableStatus {
    /// Read; its counts are in the findings (or it is clean).
    Scanned,
    /// The statement or lock timeout fired: not scanned, not clean.
    Timeout,
    /// The query failed (permission denied, missing table, ...): not scanned, not clean.
    Failed,
    /// Not run at all (no connection was left to run it).
    Skipped,
}

impl TableStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TableStatus::Scanned => "scanned",
            TableStatus::Timeout => "timeout",
            TableStatus::Failed => "failed",
            TableStatus::Skipped => "skipped",
        }
    }
}

/// A check of the plan that was not run, and why (e.g. its parent table cannot be read).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedCheck {
    pub check: String,
    pub reason: String,
}

/// One table of the scan, as the report's `scan.tables[]` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TableScan {
    /// `schema.name`.
    pub table: String,
    pub status: TableStatus,
    /// Why it was not scanned (the server's message and SQLSTATE), `None` when scanned.
    pub reason: Option<String>,
    /// Rows read (of the sample when sampled); `None` when not scanned.
    pub rows: Option<i64>,
    /// Read through `TABLESAMPLE SYSTEM (sample_percent)`.
    pub sampled: bool,
    pub elapsed_ms: u64,
    /// The checks run, `rule:column` (`orphan-rows:list_id`).
    pub checks: Vec<String>,
    /// Checks of the plan left out, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks_skipped: Vec<SkippedCheck>,
}

/// The result of [`scan`].
#[derive(Debug, Clone)]
pub struct ScanOutcome {
    /// One per check whose count is above zero, on scanned tables only; fingerprinted, sorted.
    pub findings: Vec<Finding>,
    /// Every table of the plan, in plan order.
    pub tables: Vec<TableScan>,
    pub sample_percent: Option<f64>,
    /// Connections used.
    pub connections: usize,
    pub elapsed_ms: u64,
}

impl ScanOutcome {
    /// Tables that were not scanned (timeout, failed, skipped).
    pub fn not_scanned(&self) -> impl Iterator<Item = &TableScan> {
        self.tables
            .iter()
            .filter(|t| t.status != TableStatus::Scanned)
    }

    /// The report's `scan` object.
    pub fn to_json(&self) -> serde_json::Value {
        let scanned = self
            .tables
            .iter()
            .filter(|t| t.status == TableStatus::Scanned)
            .count();
        let rows: i64 = self.tables.iter().filter_map(|t| t.rows).sum();
        serde_json::json!({
            "sample_percent": self.sample_percent,
            "connections": self.connections,
            "elapsed_ms": self.elapsed_ms,
            "totals": {
                "tables": self.tables.len(),
                "scanned": scanned,
                "not_scanned": self.tables.len() - scanned,
                "rows": rows,
            },
            "tables": self.tables.iter().map(|t| serde_json::to_value(t).unwrap_or_default()).collect::<Vec<_>>(),
        })
    }
}

/// Why the scan as a whole could not run (per-table failures are in [`ScanOutcome::tables`]).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("the data scan needs at least one connection")]
    NoConnection,
    #[error("could not start the read-only scan transaction: {0}")]
    Setup(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_rule_is_in_the_catalogue_with_full_docs() {
        let codes: Vec<_> = RULES.iter().map(|m| m.code).collect();
        assert_eq!(
            codes,
            ["DATA001", "DATA002", "DATA003", "DATA004", "DATA005"]
        );
        for m in RULES {
            let entry = dbaudit_rules::catalogue::CATALOGUE
                .iter()
                .find(|e| e.name == m.name)
                .expect("rule listed in the catalogue");
            assert_eq!(entry.code, m.code);
            assert_eq!(entry.default_severity, m.default_severity, "{}", m.name);
            assert_eq!(entry.summary, m.summary, "{}", m.name);
            for section in ["What it does", "Why it matters", "Example", "Fix"] {
                assert!(
                    m.docs_section(section).is_some_and(|s| !s.is_empty()),
                    "{} lacks {section}",
                    m.name
                );
            }
        }
    }

    #[test]
    fn json_totals_count_tables_not_scanned() {
        let t = |name: &str, status, rows| TableScan {
            table: name.into(),
            status,
            reason: None,
            rows,
            sampled: false,
            elapsed_ms: 1,
            checks: vec!["orphan-rows:list_id".into()],
            checks_skipped: vec![],
        };
        let out = ScanOutcome {
            findings: vec![],
            tables: vec![
                t("public.a", TableStatus::Scanned, Some(10)),
                t("public.b", TableStatus::Timeout, None),
            ],
            sample_percent: None,
            connections: 3,
            elapsed_ms: 5,
        };
        let j = out.to_json();
        assert_eq!(
            j["totals"],
            serde_json::json!({"tables": 2, "scanned": 1, "not_scanned": 1, "rows": 10})
        );
        assert_eq!(j["tables"][1]["status"], "timeout");
        assert_eq!(j["tables"][1]["rows"], serde_json::Value::Null);
        assert!(j["tables"][0].get("checks_skipped").is_none());
        assert_eq!(j["sample_percent"], serde_json::Value::Null);
    }
}
