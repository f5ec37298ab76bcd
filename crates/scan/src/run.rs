//! Running the plan: a read-only transaction per connection (one shared snapshot), tables taken
//! from a queue, largest first, one query each under a statement and lock timeout.

use crate::plan::TablePlan;
use crate::rules::{self, CheckResult};
use crate::{ScanError, ScanOptions, ScanOutcome, SkippedCheck, TableScan, TableStatus};
use dbaudit_findings::Finding;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// A table's result and its findings.
type Done = (TableScan, Vec<Finding>);

/// `work_mem` of the scan transactions: enough for the parents' hash tables to stay in memory.
/// The transactions also turn JIT off (compiling the wide aggregate costs more than it saves)
/// and merge and nested-loop joins (a scan reads every row: hash joins, one pass), and make
/// parallel plans cheaper to choose (the query returns one row, so tuple transfer costs
/// nothing; the server's `max_parallel_workers_per_gather` still decides how many).
const WORK_MEM: &str = "128MB";
/// How long past the statement timeout the client waits for an answer before giving the
/// connection up (the server should have cancelled the query long before).
const CLIENT_GRACE: Duration = Duration::from_secs(15);

/// Run `plan` over `clients` (their number is the concurrency). See the crate docs.
pub async fn scan(
    mut plan: Vec<TablePlan>,
    clients: Vec<Client>,
    opts: &ScanOptions,
) -> Result<ScanOutcome, ScanError> {
    if clients.is_empty() {
        return Err(ScanError::NoConnection);
    }
    let start = Instant::now();
    let mut ready = vec![];
    let mut snapshot: Option<String> = None;
    let mut last_error = None;
    for c in clients {
        match begin(&c, opts, snapshot.as_deref()).await {
            Ok(exported) => {
                if snapshot.is_none() {
                    snapshot = exported;
                }
                ready.push(c);
            }
            Err(e) => last_error = Some(e),
        }
    }
    if ready.is_empty() {
        return Err(ScanError::Setup(last_error.unwrap_or_default()));
    }
    let connections = ready.len();

    // Checks whose parent the role cannot read are left out (the table is still scanned).
    let skipped = unreadable_parents(&ready[0], &mut plan).await;

    let bar = progress_bar(opts.progress, plan.len() as u64);
    let mut order: Vec<usize> = (0..plan.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(plan[i].row_estimate.unwrap_or(0)));
    let queue = Mutex::new(order.into_iter().collect::<VecDeque<usize>>());
    let results: Mutex<Vec<Option<Done>>> = Mutex::new(vec![None; plan.len()]);
    let total_rows = Mutex::new(0i64);

    let survivors: Vec<Option<Client>> = futures::future::join_all(ready.into_iter().map(|c| {
        worker(
            c,
            &plan,
            &skipped,
            opts,
            &queue,
            &results,
            &bar,
            &total_rows,
        )
    }))
    .await;
    bar.finish_and_clear();
    for c in survivors.into_iter().flatten() {
        let _ = c.batch_execute("ROLLBACK").await;
    }

    let mut findings = vec![];
    let mut tables = vec![];
    for (i, r) in results.into_inner().unwrap().into_iter().enumerate() {
        match r {
            Some((t, f)) => {
                tables.push(t);
                findings.extend(f);
            }
            None => tables.push(TableScan {
                table: plan[i].qualified(),
                status: TableStatus::Skipped,
                reason: Some("not run: every connection of the scan was lost".into()),
                rows: None,
                sampled: false,
                elapsed_ms: 0,
                checks: plan[i].checks.iter().map(|c| c.label()).collect(),
                checks_skipped: skipped[i].clone(),
            }),
        }
    }
    dbaudit_findings::sort_findings(&mut findings);
    Ok(ScanOutcome {
        findings,
        tables,
        sample_percent: opts.sample_percent,
        connections,
        elapsed_ms: start.elapsed().as_millis() as u64,
    })
}

fn progress_bar(show: bool, len: u64) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "scanning data {bar:30} {pos}/{len} tables, {msg} ({elapsed})",
    ) {
        bar.set_style(style);
    }
    bar.set_message("0 rows");
    bar
}

/// `BEGIN` read-only repeatable read, importing `snapshot` when given, exporting one otherwise.
async fn begin(
    c: &Client,
    opts: &ScanOptions,
    snapshot: Option<&str>,
) -> Result<Option<String>, String> {
    let ms = opts.statement_timeout.as_millis().max(1);
    // The lock timeout fires first, so a locked table says so rather than "statement timeout".
    let lock_ms = (ms * 4 / 5).max(1);
    let settings = format!(
        "SET LOCAL statement_timeout = '{ms}ms'; SET LOCAL lock_timeout = '{lock_ms}ms'; \
         SET LOCAL work_mem = '{WORK_MEM}'; SET LOCAL row_security = off; \
         SET LOCAL jit = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_nestloop = off; \
         SET LOCAL parallel_setup_cost = 100; SET LOCAL parallel_tuple_cost = 0.01; \
         SET LOCAL idle_in_transaction_session_timeout = 0; \
         SET LOCAL application_name = 'dbaudit scan-data'"
    );
    let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    if let Some(snap) = snapshot {
        let with_snapshot = format!(
            "{begin}; SET TRANSACTION SNAPSHOT '{}'; {settings}",
            snap.replace('\'', "''")
        );
        if c.batch_execute(&with_snapshot).await.is_ok() {
            return Ok(None);
        }
        let _ = c.batch_execute("ROLLBACK").await;
    }
    c.batch_execute(&format!("{begin}; {settings}"))
        .await
        .map_err(|e| error_text(&e))?;
    if snapshot.is_some() {
        return Ok(None);
    }
    // One snapshot for every connection, when the server allows exporting it.
    let _ = c.batch_execute("SAVEPOINT dbaudit_snapshot").await;
    match c.query_one("SELECT pg_export_snapshot()", &[]).await {
        Ok(row) => Ok(row.try_get::<_, String>(0).ok()),
        Err(_) => {
            let _ = c
                .batch_execute("ROLLBACK TO SAVEPOINT dbaudit_snapshot")
                .await;
            Ok(None)
        }
    }
}

/// Drop the checks whose parent table does not exist or cannot be read; per table, what was
/// dropped and why.
async fn unreadable_parents(c: &Client, plan: &mut [TablePlan]) -> Vec<Vec<SkippedCheck>> {
    let mut names: Vec<String> = plan
        .iter()
        .flat_map(|t| {
            t.joins
                .iter()
                .map(|j| dbaudit_rules::qualify(&j.schema, &j.name))
        })
        .collect();
    names.sort();
    names.dedup();
    let mut out = vec![vec![]; plan.len()];
    if names.is_empty() {
        return out;
    }
    let _ = c.batch_execute("SAVEPOINT dbaudit_privileges").await;
    let rows = match c
        .query(
            "SELECT n, CASE WHEN to_regclass(n) IS NULL THEN NULL \
             ELSE has_any_column_privilege(to_regclass(n), 'SELECT') END \
             FROM unnest($1::text[]) AS n",
            &[&names],
        )
        .await
    {
        Ok(rows) => rows,
        Err(_) => {
            let _ = c
                .batch_execute("ROLLBACK TO SAVEPOINT dbaudit_privileges")
                .await;
            return out;
        }
    };
    let verdict: std::collections::HashMap<String, Option<bool>> = rows
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, Option<bool>>(1)))
        .collect();
    for (t, skipped) in plan.iter_mut().zip(out.iter_mut()) {
        for j in 0..t.joins.len() {
            let name = dbaudit_rules::qualify(&t.joins[j].schema, &t.joins[j].name);
            let reason = match verdict.get(&name) {
                Some(Some(true)) | None => continue,
                Some(Some(false)) => {
                    format!("the scanning role cannot read {}", t.joins[j].qualified())
                }
                Some(None) => format!("{} does not exist in this database", t.joins[j].qualified()),
            };
            for check in t.drop_join(j) {
                skipped.push(SkippedCheck {
                    check,
                    reason: reason.clone(),
                });
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn worker(
    c: Client,
    plan: &[TablePlan],
    skipped: &[Vec<SkippedCheck>],
    opts: &ScanOptions,
    queue: &Mutex<VecDeque<usize>>,
    results: &Mutex<Vec<Option<Done>>>,
    bar: &indicatif::ProgressBar,
    total_rows: &Mutex<i64>,
) -> Option<Client> {
    loop {
        let Some(i) = queue.lock().unwrap().pop_front() else {
            return Some(c);
        };
        let t = &plan[i];
        let (scan, findings, alive) = if t.checks.is_empty() {
            // Every check lost its parent: nothing left to run on this table.
            (
                TableScan {
                    table: t.qualified(),
                    status: TableStatus::Skipped,
                    reason: Some("no check left to run (see checks_skipped)".into()),
                    rows: None,
                    sampled: false,
                    elapsed_ms: 0,
                    checks: vec![],
                    checks_skipped: skipped[i].clone(),
                },
                vec![],
                true,
            )
        } else {
            let (mut scan, findings, alive) = scan_table(&c, t, opts).await;
            scan.checks_skipped = skipped[i].clone();
            (scan, findings, alive)
        };
        let rows = {
            let mut total = total_rows.lock().unwrap();
            *total += scan.rows.unwrap_or(0);
            *total
        };
        bar.inc(1);
        bar.set_message(format!("{rows} rows"));
        results.lock().unwrap()[i] = Some((scan, findings));
        if !alive {
            return None;
        }
    }
}

/// One table's query. The third value is false when the connection can no longer be used.
async fn scan_table(
    c: &Client,
    t: &TablePlan,
    opts: &ScanOptions,
) -> (TableScan, Vec<Finding>, bool) {
    let sampled = t.sampled(opts.sample_percent, opts.sample_min_rows);
    let sample = if sampled { opts.sample_percent } else { None };
    let mut scan = TableScan {
        table: t.qualified(),
        status: TableStatus::Scanned,
        reason: None,
        rows: None,
        sampled,
        elapsed_ms: 0,
        checks: t.checks.iter().map(|c| c.label()).collect(),
        checks_skipped: vec![],
    };
    let start = Instant::now();
    let sql = t.sql(sample);
    let run = async {
        c.batch_execute("SAVEPOINT dbaudit_table").await?;
        c.query_one(&sql, &[]).await
    };
    let outcome = tokio::time::timeout(opts.statement_timeout + CLIENT_GRACE, run).await;
    scan.elapsed_ms = start.elapsed().as_millis() as u64;
    match outcome {
        Err(_) => {
            scan.status = TableStatus::Timeout;
            scan.reason = Some(format!(
                "no answer within the statement timeout ({} ms): connection given up",
                opts.statement_timeout.as_millis()
            ));
            (scan, vec![], false)
        }
        Ok(Err(e)) => {
            let alive = !e.is_closed()
                && c.batch_execute("ROLLBACK TO SAVEPOINT dbaudit_table")
                    .await
                    .is_ok();
            let (status, reason) = classify(&e, opts);
            scan.status = status;
            scan.reason = Some(reason);
            (scan, vec![], alive)
        }
        Ok(Ok(row)) => {
            let _ = c.batch_execute("RELEASE SAVEPOINT dbaudit_table").await;
            match read_row(&row, t) {
                Ok((rows, results)) => {
                    scan.rows = Some(rows);
                    let findings = t
                        .checks
                        .iter()
                        .zip(&results)
                        .filter(|(_, r)| r.count > 0)
                        .map(|(ch, r)| rules::finding(t, ch, r, sample))
                        .collect();
                    (scan, findings, true)
                }
                Err(e) => {
                    scan.status = TableStatus::Failed;
                    scan.reason = Some(format!("unexpected result: {e}"));
                    (scan, vec![], true)
                }
            }
        }
    }
}

fn read_row(
    row: &tokio_postgres::Row,
    t: &TablePlan,
) -> Result<(i64, Vec<CheckResult>), tokio_postgres::Error> {
    let rows: i64 = row.try_get(0)?;
    let mut out = vec![];
    for i in 0..t.checks.len() {
        let base = 1 + 3 * i;
        out.push(CheckResult {
            count: row.try_get(base)?,
            samples: {
                let mut keys: Vec<String> = vec![];
                for k in row
                    .try_get::<_, Option<Vec<Option<String>>>>(base + 1)?
                    .unwrap_or_default()
                    .into_iter()
                    .flatten()
                {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                keys.truncate(crate::plan::SAMPLE_KEYS);
                keys
            },
            invalid: row.try_get(base + 2)?,
            rows,
        });
    }
    Ok((rows, out))
}

/// Status and reason of a failed query.
fn classify(e: &tokio_postgres::Error, opts: &ScanOptions) -> (TableStatus, String) {
    let ms = opts.statement_timeout.as_millis();
    match e.as_db_error() {
        Some(db) if *db.code() == SqlState::QUERY_CANCELED => (
            TableStatus::Timeout,
            format!(
                "statement timeout ({ms} ms) reached: {} (SQLSTATE {})",
                db.message(),
                db.code().code()
            ),
        ),
        Some(db) if *db.code() == SqlState::LOCK_NOT_AVAILABLE => (
            TableStatus::Timeout,
            format!(
                "lock timeout ({} ms): another session holds a conflicting lock: {} (SQLSTATE {})",
                (ms * 4 / 5).max(1),
                db.message(),
                db.code().code()
            ),
        ),
        Some(db) if db.message().contains("row-level security") => (
            TableStatus::Failed,
            format!(
                "{} (SQLSTATE {}): scan as the tables' owner or a role with BYPASSRLS, \
                 or counts would only cover the rows the policies show",
                db.message(),
                db.code().code()
            ),
        ),
        Some(db) => (
            TableStatus::Failed,
            format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        ),
        None => (TableStatus::Failed, error_text(e)),
    }
}

fn error_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}
