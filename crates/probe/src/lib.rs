//! Isolation proof (`--probe`). See DESIGN.md, "Proof".
//!
//! [`plan`] reads the model (tenancy, policies, relationships, exposure) and decides, without a
//! connection, which tables to fill in which order, how to generate each column, which claims to
//! send and what to try. [`probe`] runs that plan in one transaction that is always rolled back
//! (also when a step fails or the future panics), each step in a savepoint, and returns the
//! per-table verdicts, the cascade results and the PROBE findings.

mod plan;
mod rules;
mod run;
mod values;

use dbaudit_findings::{Finding, RuleMeta};
use serde::Serialize;
use std::time::Duration;

pub use plan::{plan, ProbePlan};
pub use rules::cascade_leftovers::META as CASCADE_LEFTOVERS;
pub use rules::probe_inconclusive::META as PROBE_INCONCLUSIVE;
pub use rules::rls_isolation_leak::META as RLS_ISOLATION_LEAK;

/// PROBE001..PROBE003, in code order.
pub static RULES: &[&RuleMeta] = &[&RLS_ISOLATION_LEAK, &CASCADE_LEFTOVERS, &PROBE_INCONCLUSIVE];

#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The target is a live database (the CLI requires an explicit confirmation flag). Changes
    /// only the report's wording: all work is rolled back either way.
    pub live: bool,
    /// Per statement.
    pub statement_timeout: Duration,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            live: false,
            statement_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("probe: {context}: {source}")]
    Db {
        context: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("probe: the transaction could not be rolled back: {0}")]
    Rollback(tokio_postgres::Error),
    #[error("probe panicked: {0}")]
    Panicked(String),
}

/// A verdict for a table, a command, a view or a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Isolated,
    Leak,
    Inconclusive,
    NotApplicable,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Isolated => "isolated",
            Verdict::Leak => "leak",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotApplicable => "not_applicable",
        }
    }
}

/// One command tried as one role.
#[derive(Debug, Clone, Serialize)]
pub struct CommandResult {
    /// `select`, `insert`, `update`, `delete`, `move` (views and functions: `select`, `execute`).
    pub command: String,
    pub role: String,
    pub verdict: Verdict,
    pub reason: String,
    /// The reproducer (role, claims, statement) for a leak; the statement tried otherwise.
    pub sql: Option<String>,
}

/// Everything tried on one table (or view, or function).
#[derive(Debug, Clone, Serialize)]
pub struct TableResult {
    /// `schema.name` (functions: `schema.name(args)`).
    pub table: String,
    /// `table`, `view`, `function`.
    pub kind: String,
    pub verdict: Verdict,
    /// Why, for an inconclusive table (could not fill it, ...).
    pub reason: Option<String>,
    pub commands: Vec<CommandResult>,
}

/// A row count left pointing at a deleted row.
#[derive(Debug, Clone, Serialize)]
pub struct Leftover {
    pub table: String,
    pub column: String,
    pub rows: i64,
    /// What it pointed at (`public.companies.id`).
    pub references: String,
    /// The FK constraint when declared, else `None` (inferred reference).
    pub constraint: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CascadeResult {
    /// The table B's row was deleted from (`public.companies`, `auth.users`).
    pub origin: String,
    pub deleted: bool,
    /// Why the delete failed (with the FK that blocked it).
    pub error: Option<String>,
    pub blocked_by: Option<String>,
    pub leftovers: Vec<Leftover>,
}

/// What the probe found.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeOutcome {
    pub live: bool,
    pub tenant_root: Option<String>,
    pub elapsed_ms: u64,
    pub tables: Vec<TableResult>,
    pub cascades: Vec<CascadeResult>,
    /// PROBE001..003, fingerprinted and sorted.
    pub findings: Vec<Finding>,
    /// Notes for the report (why a live probe is special, what was skipped).
    pub notes: Vec<String>,
}

impl ProbeOutcome {
    /// Tenant-scoped tables (views and functions left out) by verdict.
    pub fn coverage(&self) -> (usize, usize, usize, usize) {
        let tables = self.tables.iter().filter(|t| t.kind == "table");
        let (mut n, mut iso, mut leak, mut inc) = (0, 0, 0, 0);
        for t in tables {
            n += 1;
            match t.verdict {
                Verdict::Isolated => iso += 1,
                Verdict::Leak => leak += 1,
                _ => inc += 1,
            }
        }
        (n, iso, leak, inc)
    }

    /// The report's `probe` object.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let (n, iso, leak, inc) = self.coverage();
        json!({
            "target": if self.live { "live" } else { "throwaway" },
            "tenant_root": self.tenant_root,
            "elapsed_ms": self.elapsed_ms,
            "coverage": {"tenant_scoped": n, "isolated": iso, "leak": leak, "inconclusive": inc},
            "tables": self.tables.iter().map(|t| json!({
                "table": t.table,
                "kind": t.kind,
                "verdict": t.verdict.as_str(),
                "reason": t.reason,
                "commands": t.commands.iter().map(|c| json!({
                    "command": c.command,
                    "role": c.role,
                    "verdict": c.verdict.as_str(),
                    "reason": c.reason,
                    "sql": c.sql,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "cascades": self.cascades.iter().map(|c| json!({
                "origin": c.origin,
                "deleted": c.deleted,
                "error": c.error,
                "blocked_by": c.blocked_by,
                "leftovers": c.leftovers.iter().map(|l| json!({
                    "table": l.table,
                    "column": l.column,
                    "rows": l.rows,
                    "references": l.references,
                    "constraint": l.constraint,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }
}

/// Run the plan in one transaction that is always rolled back (on success, on error, and when
/// the work panics), each step in a savepoint. The client must be connected as a superuser or
/// the owner of the tables, and not be inside a transaction.
pub async fn probe(
    plan: ProbePlan,
    client: &tokio_postgres::Client,
    opts: &ProbeOptions,
) -> Result<ProbeOutcome, ProbeError> {
    run::probe(plan, client, opts).await
}
