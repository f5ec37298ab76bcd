//! Apply a migration set file by file.
//!
//! Each file runs in a transaction of its own (one round trip for the whole file), unless it
//! cannot: statements PostgreSQL refuses inside a transaction block (`CREATE INDEX
//! CONCURRENTLY`, `VACUUM`, …), `ALTER TYPE … ADD VALUE` (the new value is unusable until
//! committed), its own `BEGIN`/`COMMIT`, or a tool that says so ([`TxMode::None`]). Those files
//! run statement by statement in autocommit, their own transaction control passing through.
//!
//! Before each file the session is `RESET ALL` (as the Supabase CLI does), so a dump's
//! `set_config('search_path', '', false)` does not leak into the next file.
//!
//! A failing file is rolled back and reported as a [`MigrationFailure`] pointing at the line and
//! statement in the real file; the next files still run. `CREATE EXTENSION` of an extension this
//! server lacks runs the Supabase stand-in instead, when there is one.

use std::collections::{BTreeSet, HashSet};
use std::time::Instant;

use tokio_postgres::error::{DbError, ErrorPosition};
use tokio_postgres::Client;

use crate::layout::{MigrationFile, MigrationSet, TxMode};
use crate::split::{self, Statement, Word};

/// Longest statement text quoted in a failure.
const STATEMENT_MAX_CHARS: usize = 300;

#[derive(Debug, Clone, serde::Serialize)]
pub struct FileOutcome {
    pub file: String,
    pub ok: bool,
    pub transactional: bool,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationFailure {
    pub file: String,
    pub line: Option<u32>,
    pub statement: String,
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ApplyReport {
    pub files: Vec<FileOutcome>,
    pub failures: Vec<MigrationFailure>,
    /// Extensions that were stood in for.
    pub standins: Vec<String>,
    pub elapsed_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("lost the connection to the throwaway server while applying {file}: {reason}")]
    Connection { file: String, reason: String },
}

/// Run `set.files`, then `set.seeds`, in order. Failing files become
/// [`ApplyReport::failures`]; only a lost connection is an error.
pub async fn apply(client: &Client, set: &MigrationSet) -> Result<ApplyReport, ApplyError> {
    let t0 = Instant::now();
    let mut applier = Applier {
        client,
        available: None,
        standins: BTreeSet::new(),
        ran_standins: Vec::new(),
    };
    let mut report = ApplyReport::default();
    for file in set.files.iter().chain(set.seeds.iter()) {
        let t = Instant::now();
        let (transactional, failure) = applier.file(file).await?;
        report.files.push(FileOutcome {
            file: file.display.clone(),
            ok: failure.is_none(),
            transactional,
            elapsed_ms: ms(t),
        });
        report.failures.extend(failure);
    }
    report.standins = applier.standins.into_iter().collect();
    report.elapsed_ms = ms(t0);
    Ok(report)
}

fn ms(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// What to do with one statement.
#[derive(Debug)]
enum Action {
    /// Send it as written.
    Run,
    /// Run this SQL instead (the stand-in `name` for a missing extension).
    StandIn { sql: String, name: &'static str },
    /// Leave it out (`COMMENT ON EXTENSION` of a stood-in extension).
    Skip,
    /// Do not send it; fail the file with this.
    Reject(Synthetic),
}

/// A failure we detect ourselves, without the server.
#[derive(Debug, Clone)]
struct Synthetic {
    sqlstate: &'static str,
    message: String,
    hint: Option<String>,
}

struct Plan<'a> {
    /// The text sent (the file's SQL, byte order mark blanked).
    sql: &'a str,
    stmts: Vec<Statement<'a>>,
    actions: Vec<Action>,
    transactional: bool,
}

/// A server error, where it happened.
struct Located {
    err: DbError,
    stmt: Option<usize>,
    /// Byte offset in the file's SQL, when the server gave a position.
    at: Option<usize>,
    /// Raised by the COMMIT that ends the file (deferred constraints).
    at_commit: bool,
}

impl Located {
    fn new(err: DbError, stmt: Option<usize>, at: Option<usize>) -> Self {
        Located {
            err,
            stmt,
            at,
            at_commit: false,
        }
    }

    fn commit(err: DbError) -> Self {
        Located {
            err,
            stmt: None,
            at: None,
            at_commit: true,
        }
    }
}

enum Outcome {
    Done,
    Failed(Box<Located>),
    Rejected(usize, Synthetic),
}

struct Applier<'c> {
    client: &'c Client,
    /// `pg_available_extensions`, loaded on first need.
    available: Option<HashSet<String>>,
    standins: BTreeSet<String>,
    /// Stand-ins run by the current file so far.
    ran_standins: Vec<&'static str>,
}

impl Applier<'_> {
    /// Apply one file: whether it ran in one transaction, and its failure if it failed.
    async fn file(
        &mut self,
        file: &MigrationFile,
    ) -> Result<(bool, Option<MigrationFailure>), ApplyError> {
        let sql = file.sql.as_str();
        if let Some(at) = sql.find('\0') {
            let line = file_line(file, line_of(sql, at));
            let failure = synthetic_failure(
                file,
                Some(line),
                String::new(),
                Synthetic {
                    sqlstate: "22021",
                    message: "the file contains a NUL byte, which PostgreSQL does not accept in \
                              SQL text"
                        .into(),
                    hint: Some("check the file's encoding (UTF-16 files need converting)".into()),
                },
            );
            return Ok((true, Some(failure)));
        }
        // A byte order mark would glue itself to the first keyword: send a space instead (one
        // character for one, so the server's positions still match).
        let mut text: std::borrow::Cow<'_, str> = match sql.strip_prefix('\u{feff}') {
            Some(rest) => format!(" {rest}").into(),
            None => sql.into(),
        };
        // The vector stand-in's hnsw/ivfflat access methods accept no options (`m`, `lists`):
        // blank their `WITH (...)` clauses, keeping every position, when vector is stood in.
        if self.standin_for(file, "vector").await?.is_some() {
            if let Some(stripped) = crate::supabase::strip_vector_index_options(&text) {
                text = stripped.into();
            }
        }
        let plan = self.plan(file, &text).await?;
        if plan.stmts.is_empty() {
            return Ok((true, None));
        }
        self.ran_standins.clear();
        let outcome = if plan.transactional {
            self.run_transactional(file, &plan).await?
        } else {
            self.run_autocommit(file, &plan).await?
        };
        // Stand-ins count when they stayed: not when the file's transaction rolled back.
        if !plan.transactional || matches!(outcome, Outcome::Done) {
            let ran = std::mem::take(&mut self.ran_standins);
            self.standins.extend(ran.into_iter().map(str::to_string));
        }
        let failure = match outcome {
            Outcome::Done => None,
            Outcome::Rejected(i, syn) => {
                let st = &plan.stmts[i];
                Some(synthetic_failure(
                    file,
                    Some(file_line(file, st.line)),
                    st.summary(STATEMENT_MAX_CHARS),
                    syn,
                ))
            }
            Outcome::Failed(loc) => Some(self.describe(file, &plan, *loc)),
        };
        Ok((plan.transactional, failure))
    }

    async fn plan<'a>(
        &mut self,
        file: &MigrationFile,
        sql: &'a str,
    ) -> Result<Plan<'a>, ApplyError> {
        let stmts = split::split(sql);
        let mut actions = Vec::with_capacity(stmts.len());
        let mut transactional = file.transaction != TxMode::None;
        for st in &stmts {
            let head = st.words(12);
            let first = head.first().and_then(Word::ident).unwrap_or("");
            // ALTER statements need all their words (`ALTER TYPE … ADD VALUE`, `DETACH
            // PARTITION … CONCURRENTLY`).
            let words = if first == "alter" || first == "reindex" {
                st.words(usize::MAX)
            } else {
                head
            };
            if outside_transaction(&words) {
                transactional = false;
            }
            actions.push(self.action(file, &words).await?);
        }
        Ok(Plan {
            sql,
            stmts,
            actions,
            transactional,
        })
    }

    async fn action(&mut self, file: &MigrationFile, w: &[Word]) -> Result<Action, ApplyError> {
        if let Some((name, schema)) = parse_create_extension(w) {
            if let Some(standin) = self.standin_for(file, &name).await? {
                let schema = schema.unwrap_or_else(|| standin.default_schema.to_string());
                let q = crate::cluster::quote_ident(&schema);
                let mut sql = String::new();
                if !schema.starts_with("pg_") {
                    sql.push_str(&format!("CREATE SCHEMA IF NOT EXISTS {q};\n"));
                }
                sql.push_str(&standin.sql.replace("@extschema@", &q));
                return Ok(Action::StandIn {
                    sql,
                    name: standin.name,
                });
            }
        } else if w.len() >= 4 && w[0].is("comment") && w[1].is("on") && w[2].is("extension") {
            if let Some(name) = w[3].ident() {
                if self.standin_for(file, name).await?.is_some() {
                    return Ok(Action::Skip);
                }
            }
        } else if w.first().is_some_and(|x| x.is("copy"))
            && w.windows(2).any(|p| p[0].is("from") && p[1].is("stdin"))
        {
            return Ok(Action::Reject(Synthetic {
                sqlstate: "0A000",
                message: "COPY … FROM stdin needs psql to send the data, which dbaudit does not do"
                    .into(),
                hint: Some("load the data with INSERT statements instead".into()),
            }));
        }
        Ok(Action::Run)
    }

    /// The stand-in for `ext`, when this server lacks the extension and we have one.
    async fn standin_for(
        &mut self,
        file: &MigrationFile,
        ext: &str,
    ) -> Result<Option<&'static crate::supabase::StandIn>, ApplyError> {
        if self.available.is_none() {
            let rows = self
                .client
                .simple_query("SELECT name FROM pg_available_extensions")
                .await
                .map_err(|e| lost(file, &e))?;
            let names = rows
                .iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                    _ => None,
                })
                .collect();
            self.available = Some(names);
        }
        if self.available.as_ref().is_some_and(|a| a.contains(ext)) {
            return Ok(None);
        }
        Ok(crate::supabase::standin(ext))
    }

    /// The whole file in one transaction: runs of ordinary statements go as one query string
    /// each (the whole file, unless a statement is replaced or rejected).
    async fn run_transactional(
        &mut self,
        file: &MigrationFile,
        plan: &Plan<'_>,
    ) -> Result<Outcome, ApplyError> {
        let sql = plan.sql;
        self.exec_infra(file, "RESET ALL; BEGIN").await?;
        let mut chunk_start = 0usize;
        let mut outcome = Outcome::Done;
        for (i, (st, action)) in plan.stmts.iter().zip(&plan.actions).enumerate() {
            if matches!(action, Action::Run) {
                continue;
            }
            // Everything before this statement, then the statement's replacement.
            if let Err(loc) = self
                .exec_chunk(file, plan, chunk_start, st.range.start)
                .await?
            {
                outcome = Outcome::Failed(Box::new(loc));
                break;
            }
            chunk_start = st.range.end;
            match action {
                Action::Run | Action::Skip => {}
                Action::StandIn { sql, name } => {
                    if let Err(err) = self.exec(file, sql).await? {
                        outcome = Outcome::Failed(Box::new(Located::new(err, Some(i), None)));
                        break;
                    }
                    self.ran_standins.push(name);
                }
                Action::Reject(syn) => {
                    outcome = Outcome::Rejected(i, syn.clone());
                    break;
                }
            }
        }
        if matches!(outcome, Outcome::Done) {
            if let Err(loc) = self.exec_chunk(file, plan, chunk_start, sql.len()).await? {
                outcome = Outcome::Failed(Box::new(loc));
            }
        }
        if matches!(outcome, Outcome::Done) {
            // Deferred constraints are checked here.
            if let Err(err) = self.exec(file, "COMMIT").await? {
                return Ok(Outcome::Failed(Box::new(Located::commit(err))));
            }
            return Ok(Outcome::Done);
        }
        self.exec_infra(file, "ROLLBACK").await?;
        if let Outcome::Failed(loc) = &outcome {
            if loc.stmt.is_none() && loc.at.is_none() && !loc.at_commit {
                // No position: find the statement by running them one by one, then roll back.
                if let Some(found) = self.find_failing_statement(file, plan).await? {
                    return Ok(Outcome::Failed(Box::new(found)));
                }
            }
        }
        Ok(outcome)
    }

    /// Send `sql[start..end]` if it holds any statement; a server error comes back located.
    async fn exec_chunk(
        &mut self,
        file: &MigrationFile,
        plan: &Plan<'_>,
        start: usize,
        end: usize,
    ) -> Result<Result<(), Located>, ApplyError> {
        let has_statement = plan
            .stmts
            .iter()
            .any(|s| s.range.start >= start && s.range.start < end);
        if !has_statement {
            return Ok(Ok(()));
        }
        let text = &plan.sql[start..end];
        Ok(match self.exec(file, text).await? {
            Ok(()) => Ok(()),
            Err(err) => {
                let at = original_position(&err).map(|p| start + byte_of_char(text, p));
                Err(Located::new(
                    err,
                    at.map(|a| statement_at(&plan.stmts, a)),
                    at,
                ))
            }
        })
    }

    /// Re-run the file statement by statement in a transaction that is rolled back, to find
    /// the statement behind an error without a position.
    async fn find_failing_statement(
        &mut self,
        file: &MigrationFile,
        plan: &Plan<'_>,
    ) -> Result<Option<Located>, ApplyError> {
        self.exec_infra(file, "RESET ALL; BEGIN").await?;
        let mut found = None;
        for (i, (st, action)) in plan.stmts.iter().zip(&plan.actions).enumerate() {
            let result = match action {
                Action::Run => self.exec(file, st.sql).await?,
                Action::StandIn { sql, .. } => self.exec(file, sql).await?,
                Action::Skip | Action::Reject(_) => Ok(()),
            };
            if let Err(err) = result {
                let at = match action {
                    Action::Run => {
                        original_position(&err).map(|p| st.range.start + byte_of_char(st.sql, p))
                    }
                    _ => None,
                };
                found = Some(Located::new(err, Some(i), at));
                break;
            }
        }
        self.exec_infra(file, "ROLLBACK").await?;
        Ok(found)
    }

    /// Statement by statement, autocommit; the file's own BEGIN/COMMIT pass through.
    async fn run_autocommit(
        &mut self,
        file: &MigrationFile,
        plan: &Plan<'_>,
    ) -> Result<Outcome, ApplyError> {
        self.exec_infra(file, "RESET ALL").await?;
        let mut in_tx = false;
        let mut outcome = Outcome::Done;
        for (i, (st, action)) in plan.stmts.iter().zip(&plan.actions).enumerate() {
            let result = match action {
                Action::Run => self.exec(file, st.sql).await?,
                Action::StandIn { sql, name } => {
                    let r = self.exec(file, sql).await?;
                    if r.is_ok() {
                        self.ran_standins.push(name);
                    }
                    r
                }
                Action::Skip => Ok(()),
                Action::Reject(syn) => {
                    outcome = Outcome::Rejected(i, syn.clone());
                    break;
                }
            };
            if let Err(err) = result {
                let at = match action {
                    Action::Run => {
                        original_position(&err).map(|p| st.range.start + byte_of_char(st.sql, p))
                    }
                    _ => None,
                };
                outcome = Outcome::Failed(Box::new(Located::new(err, Some(i), at)));
                break;
            }
            if let Some(open) = transaction_control(&st.words(3)) {
                in_tx = open;
            }
        }
        if in_tx {
            // The file left its transaction open: finish it the way it went.
            match outcome {
                Outcome::Done => {
                    if let Err(err) = self.exec(file, "COMMIT").await? {
                        return Ok(Outcome::Failed(Box::new(Located::commit(err))));
                    }
                }
                _ => self.exec_infra(file, "ROLLBACK").await?,
            }
        }
        Ok(outcome)
    }

    /// Run `sql`; a server error is the file's failure, anything else a lost connection.
    async fn exec(
        &self,
        file: &MigrationFile,
        sql: &str,
    ) -> Result<Result<(), DbError>, ApplyError> {
        match self.client.batch_execute(sql).await {
            Ok(()) => Ok(Ok(())),
            Err(e) => match e.as_db_error() {
                Some(db) => Ok(Err(db.clone())),
                None => Err(lost(file, &e)),
            },
        }
    }

    /// Our own statements (BEGIN, ROLLBACK, RESET): any failure is an infrastructure one.
    async fn exec_infra(&self, file: &MigrationFile, sql: &str) -> Result<(), ApplyError> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(|e| lost(file, &e))
    }

    fn describe(&self, file: &MigrationFile, plan: &Plan<'_>, loc: Located) -> MigrationFailure {
        let sql = plan.sql;
        let stmt = loc.stmt.and_then(|i| plan.stmts.get(i));
        let line = match (loc.at, stmt) {
            (Some(at), _) => Some(file_line(file, line_of(sql, at))),
            (None, Some(st)) => Some(file_line(file, st.line)),
            (None, None) => None,
        };
        let statement = match stmt {
            Some(st) => st.summary(STATEMENT_MAX_CHARS),
            None if loc.at_commit => "COMMIT".to_string(),
            None => String::new(),
        };
        MigrationFailure {
            file: file.display.clone(),
            line,
            statement,
            sqlstate: loc.err.code().code().to_string(),
            message: loc.err.message().to_string(),
            detail: loc.err.detail().map(str::to_string),
            hint: loc.err.hint().map(str::to_string),
        }
    }
}

fn lost(file: &MigrationFile, e: &tokio_postgres::Error) -> ApplyError {
    ApplyError::Connection {
        file: file.display.clone(),
        reason: e.to_string(),
    }
}

fn synthetic_failure(
    file: &MigrationFile,
    line: Option<u32>,
    statement: String,
    syn: Synthetic,
) -> MigrationFailure {
    MigrationFailure {
        file: file.display.clone(),
        line,
        statement,
        sqlstate: syn.sqlstate.to_string(),
        message: syn.message,
        detail: None,
        hint: syn.hint,
    }
}

/// 1-based line in the real file of 1-based `line` in `file.sql`.
fn file_line(file: &MigrationFile, line: u32) -> u32 {
    file.first_line
        .max(1)
        .saturating_sub(1)
        .saturating_add(line)
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> u32 {
    let at = at.min(text.len());
    let n = text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1)
}

/// The server's 1-based character position in the query text it was sent.
fn original_position(err: &DbError) -> Option<u32> {
    match err.position() {
        Some(ErrorPosition::Original(p)) => Some(*p),
        _ => None,
    }
}

/// Byte offset in `text` of the 1-based character position `pos` (clamped to the end).
fn byte_of_char(text: &str, pos: u32) -> usize {
    let idx = usize::try_from(pos.saturating_sub(1)).unwrap_or(usize::MAX);
    text.char_indices()
        .nth(idx)
        .map(|(b, _)| b)
        .unwrap_or(text.len())
}

/// Index of the statement that byte offset `at` falls in (the last one starting at or before it).
fn statement_at(stmts: &[Statement<'_>], at: usize) -> usize {
    stmts.iter().rposition(|s| s.range.start <= at).unwrap_or(0)
}

/// `CREATE EXTENSION [IF NOT EXISTS] name [WITH] [SCHEMA s] [VERSION v] [CASCADE]`: the name
/// and schema.
fn parse_create_extension(w: &[Word]) -> Option<(String, Option<String>)> {
    if !(w.first()?.is("create") && w.get(1)?.is("extension")) {
        return None;
    }
    let mut i = 2;
    if w.get(i).is_some_and(|x| x.is("if"))
        && w.get(i + 1).is_some_and(|x| x.is("not"))
        && w.get(i + 2).is_some_and(|x| x.is("exists"))
    {
        i += 3;
    }
    let name = w.get(i)?.ident()?.to_string();
    i += 1;
    let mut schema = None;
    while let Some(word) = w.get(i) {
        match word {
            Word::Bare(k) if k == "with" || k == "cascade" => i += 1,
            Word::Bare(k) if k == "schema" => {
                schema = Some(w.get(i + 1)?.ident()?.to_string());
                i += 2;
            }
            Word::Bare(k) if k == "version" || k == "from" => {
                w.get(i + 1)?;
                i += 2;
            }
            _ => return None,
        }
    }
    Some((name, schema))
}

/// Whether PostgreSQL refuses (or we must not run) this statement inside our transaction.
fn outside_transaction(w: &[Word]) -> bool {
    let kw = |i: usize, k: &str| w.get(i).is_some_and(|x| x.is(k));
    let any = |k: &str| w.iter().any(|x| x.is(k));
    let pair = |a: &str, b: &str| w.windows(2).any(|p| p[0].is(a) && p[1].is(b));
    let Some(Word::Bare(first)) = w.first() else {
        return false;
    };
    match first.as_str() {
        "create" => {
            (kw(1, "index") && kw(2, "concurrently"))
                || (kw(1, "unique") && kw(2, "index") && kw(3, "concurrently"))
                || kw(1, "database")
                || kw(1, "tablespace")
                || kw(1, "subscription")
        }
        "drop" => {
            (kw(1, "index") && kw(2, "concurrently"))
                || kw(1, "database")
                || kw(1, "tablespace")
                || kw(1, "subscription")
        }
        "reindex" => {
            any("concurrently")
                || w.iter()
                    .skip(1)
                    .find(|x| matches!(x, Word::Bare(k) if !matches!(k.as_str(), "verbose" | "tablespace")))
                    .is_some_and(|x| x.is("schema") || x.is("database") || x.is("system"))
        }
        "vacuum" => true,
        "alter" => {
            kw(1, "system")
                || kw(1, "subscription")
                || (kw(1, "type") && pair("add", "value"))
                || (kw(1, "table")
                    && pair("detach", "partition")
                    && (any("concurrently") || any("finalize")))
        }
        _ => transaction_control(w).is_some(),
    }
}

/// Transaction control at the top level: `Some(true)` opens a transaction block
/// (`BEGIN`, `START TRANSACTION`), `Some(false)` ends one (`COMMIT`, `END`, `ROLLBACK`,
/// `ABORT`, `PREPARE TRANSACTION`); savepoint commands are not.
fn transaction_control(w: &[Word]) -> Option<bool> {
    let kw = |i: usize, k: &str| w.get(i).is_some_and(|x| x.is(k));
    let Some(Word::Bare(first)) = w.first() else {
        return None;
    };
    match first.as_str() {
        "begin" => Some(true),
        "start" if kw(1, "transaction") => Some(true),
        "commit" | "end" | "abort" => Some(false),
        "rollback" => {
            let to = kw(1, "to") || ((kw(1, "work") || kw(1, "transaction")) && kw(2, "to"));
            (!to).then_some(false)
        }
        "prepare" if kw(1, "transaction") => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(sql: &str) -> Vec<Word> {
        split::words(sql, usize::MAX)
    }

    #[test]
    fn needs_autocommit() {
        for sql in [
            "CREATE INDEX CONCURRENTLY i ON t (a)",
            "create unique index concurrently if not exists i on t (a)",
            "DROP INDEX CONCURRENTLY i",
            "REINDEX INDEX CONCURRENTLY i",
            "REINDEX (VERBOSE) TABLE CONCURRENTLY t",
            "REINDEX SCHEMA public",
            "VACUUM ANALYZE t",
            "CREATE DATABASE x",
            "DROP DATABASE x",
            "ALTER SYSTEM SET work_mem = '1MB'",
            "ALTER TYPE mood ADD VALUE 'meh'",
            "alter type public.\"Mood\" add value if not exists 'x' before 'y'",
            "ALTER TABLE p DETACH PARTITION c CONCURRENTLY",
            "BEGIN",
            "begin transaction isolation level serializable",
            "START TRANSACTION",
            "COMMIT",
            "END",
            "ROLLBACK",
            "ABORT",
        ] {
            assert!(outside_transaction(&w(sql)), "{sql}");
        }
        for sql in [
            "CREATE INDEX i ON t (a)",
            "CREATE TABLE concurrently (a int)",
            "REINDEX TABLE t",
            "ALTER TYPE mood RENAME VALUE 'a' TO 'b'",
            "ALTER TABLE t ADD COLUMN value int",
            "SAVEPOINT a",
            "ROLLBACK TO SAVEPOINT a",
            "ROLLBACK TO a",
            "RELEASE a",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
            "DO $$ BEGIN COMMIT; END $$",
            "SELECT 'begin'",
            "\"begin\"",
            "",
        ] {
            assert!(!outside_transaction(&w(sql)), "{sql}");
        }
    }

    #[test]
    fn create_extension() {
        let p = |s: &str| parse_create_extension(&w(s));
        assert_eq!(
            p("create extension pgcrypto"),
            Some(("pgcrypto".into(), None))
        );
        assert_eq!(
            p("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA \"extensions\""),
            Some(("uuid-ossp".into(), Some("extensions".into())))
        );
        assert_eq!(
            p("create extension PG_GRAPHQL schema Graphql version '1.5' cascade"),
            Some(("pg_graphql".into(), Some("graphql".into())))
        );
        assert_eq!(p("create extension"), None);
        assert_eq!(p("create extension x with schema"), None);
        assert_eq!(p("create extension x something else"), None);
        assert_eq!(p("create table x ()"), None);
    }

    #[test]
    fn positions() {
        assert_eq!(byte_of_char("abc", 1), 0);
        assert_eq!(byte_of_char("éab", 2), 2);
        assert_eq!(byte_of_char("ab", 10), 2);
        assert_eq!(byte_of_char("ab", 0), 0);
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
