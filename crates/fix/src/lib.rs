//! The fix migration (`--fix-out`). See DESIGN.md, "Fix migration".
//!
//! [`build`] takes the findings' `fix.sql`, splits each into statements (comments travel with the
//! statement they precede), classifies every statement into a [`Phase`] from its SQL text (and
//! the rule, when the text says nothing), and writes one file ordered so it applies:
//!
//! 1. cleanup of rows that would block the new constraints: generated, commented out, for review;
//! 2. column and type changes;
//! 3. constraints: unique keys first, foreign keys and checks `NOT VALID`, then `VALIDATE`;
//! 4. `NOT NULL`;
//! 5. row-level security, policies (replacing permissive ones), grants and functions;
//! 6. indexes (`CREATE INDEX CONCURRENTLY`, one statement each);
//! 7. `updated_at` triggers.
//!
//! Within one finding's fix the statements keep their order (a later statement never moves
//! before an earlier one: its phase is lifted when needed); fixes are interleaved by phase, most
//! severe finding first within a phase. Identical statements are written once, with every
//! finding they fix named above them. An `ALTER POLICY` on a policy another fix drops is left out.
//!
//! The file has no `BEGIN`/`COMMIT`: `CREATE INDEX CONCURRENTLY` cannot run in a transaction
//! block, so it is meant to run statement by statement (`psql -f`), which is also how dbaudit's
//! own apply step runs a file that contains `CONCURRENTLY`.

use dbaudit_findings::{Finding, FixSafety};
use regex::Regex;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;
use std::sync::OnceLock;

/// Where a statement goes in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Cleanup,
    Types,
    Constraints,
    NotNull,
    Access,
    Indexes,
    Triggers,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::Cleanup,
        Phase::Types,
        Phase::Constraints,
        Phase::NotNull,
        Phase::Access,
        Phase::Indexes,
        Phase::Triggers,
    ];

    pub fn number(self) -> u8 {
        self as u8 + 1
    }

    pub fn title(self) -> &'static str {
        match self {
            Phase::Cleanup => "cleanup of rows that would block the new constraints (commented out: review, then uncomment)",
            Phase::Types => "column and type changes",
            Phase::Constraints => "constraints: unique keys, foreign keys and checks NOT VALID, then VALIDATE",
            Phase::NotNull => "NOT NULL",
            Phase::Access => "row-level security, policies, grants and functions",
            Phase::Indexes => "indexes (CREATE INDEX CONCURRENTLY: outside a transaction)",
            Phase::Triggers => "updated_at triggers",
        }
    }

    /// Short title for summaries.
    pub fn short(self) -> &'static str {
        match self {
            Phase::Cleanup => "cleanup (commented)",
            Phase::Types => "types and columns",
            Phase::Constraints => "constraints",
            Phase::NotNull => "NOT NULL",
            Phase::Access => "RLS, policies and grants",
            Phase::Indexes => "indexes",
            Phase::Triggers => "triggers",
        }
    }
}

/// One finding the migration fixes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixEntry {
    pub fingerprint: String,
    pub rule: String,
    pub location: String,
    pub safety: FixSafety,
    /// The first phase its statements run in.
    pub phase: Phase,
    /// Every phase its statements run in.
    pub phases: Vec<Phase>,
    /// Statements written for it (shared ones included).
    pub statements: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FixMigration {
    /// The migration file.
    pub sql: String,
    /// One entry per finding with a fix, in finding order.
    pub entries: Vec<FixEntry>,
    /// Statements per phase (executable ones; cleanup counts its commented statements).
    pub statements: BTreeMap<Phase, usize>,
    /// The phase-1 cleanup statements, uncommented (the file has them commented out): what a
    /// user who confirms the cleanup runs first. The self-verification uses them when the fix
    /// does not apply on the data as it is.
    pub cleanup: Vec<String>,
}

impl FixMigration {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn safe(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.safety == FixSafety::Safe)
            .count()
    }
    pub fn review(&self) -> usize {
        self.entries.len() - self.safe()
    }
    pub fn statements_in(&self, p: Phase) -> usize {
        self.statements.get(&p).copied().unwrap_or(0)
    }
    /// Entries whose fix has statements in this phase.
    pub fn entries_in(&self, p: Phase) -> impl Iterator<Item = &FixEntry> {
        self.entries.iter().filter(move |e| e.phases.contains(&p))
    }
}

/// A statement (or comment-only chunk) of a fix, with the comments written above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub comments: Vec<String>,
    /// `None` for comments with no statement after them.
    pub statement: Option<String>,
}

/// Split SQL into statements, each with the comment lines above it. Quotes, dollar quotes and
/// comments are honoured; trailing comments become a chunk of their own.
pub fn split(sql: &str) -> Vec<Chunk> {
    let b = sql.as_bytes();
    let mut chunks = vec![];
    let mut comments: Vec<String> = vec![];
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if sql[i..].starts_with("--") {
            let end = sql[i..].find('\n').map_or(b.len(), |e| i + e);
            comments.push(sql[i..end].trim_end().to_string());
            i = end;
            continue;
        }
        if sql[i..].starts_with("/*") {
            let end = sql[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            comments.push(sql[i..end].to_string());
            i = end;
            continue;
        }
        // A statement: up to the next top-level semicolon.
        let start = i;
        let mut j = i;
        let mut end = b.len();
        while j < b.len() {
            let rest = &sql[j..];
            match b[j] {
                b';' => {
                    end = j + 1;
                    break;
                }
                b'\'' | b'"' => {
                    let q = b[j];
                    j += 1;
                    while j < b.len() {
                        if b[j] == q {
                            if b.get(j + 1) == Some(&q) {
                                j += 2;
                                continue;
                            }
                            break;
                        }
                        j += 1;
                    }
                    j += 1;
                }
                b'-' if rest.starts_with("--") => {
                    j = rest.find('\n').map_or(b.len(), |e| j + e);
                }
                b'/' if rest.starts_with("/*") => {
                    j = rest[2..].find("*/").map_or(b.len(), |e| j + 2 + e + 2);
                }
                b'$' => {
                    let tag_len = rest[1..]
                        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                        .map(|n| n + 1);
                    match tag_len {
                        Some(n) if rest.as_bytes().get(n) == Some(&b'$') => {
                            let tag = &rest[..=n];
                            j = rest[tag.len()..]
                                .find(tag)
                                .map_or(b.len(), |e| j + tag.len() + e + tag.len());
                        }
                        _ => j += 1,
                    }
                }
                _ => j += 1,
            }
        }
        let text = sql[start..end.min(b.len())].trim().to_string();
        i = end;
        chunks.push(Chunk {
            comments: std::mem::take(&mut comments),
            statement: Some(text),
        });
    }
    if !comments.is_empty() {
        chunks.push(Chunk {
            comments,
            statement: None,
        });
    }
    chunks
}

/// Collapse whitespace and drop a trailing semicolon: the dedupe and matching key.
fn normal(s: &str) -> String {
    s.trim_end_matches(';')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The phase and the order within it (`sub`) of one statement.
pub fn classify(rule: &str, statement: &str) -> (Phase, u8) {
    let s = normal(statement).to_ascii_uppercase();
    let starts = |p: &str| s.starts_with(p);
    let has = |p: &str| s.contains(p);
    if starts("CREATE UNIQUE INDEX") {
        return (Phase::Constraints, 0);
    }
    if starts("CREATE INDEX") || starts("DROP INDEX") || starts("REINDEX") {
        return (Phase::Indexes, 0);
    }
    if starts("CREATE TRIGGER") || starts("DROP TRIGGER") || starts("CREATE OR REPLACE TRIGGER") {
        return (Phase::Triggers, 1);
    }
    if starts("CREATE FUNCTION") || starts("CREATE OR REPLACE FUNCTION") {
        return if rule == "updated-at-without-trigger" || has("UPDATED_AT") {
            (Phase::Triggers, 0)
        } else {
            (Phase::Access, 0)
        };
    }
    if starts("CREATE POLICY")
        || starts("ALTER POLICY")
        || starts("DROP POLICY")
        || starts("REVOKE")
        || starts("GRANT")
        || starts("ALTER FUNCTION")
        || starts("ALTER VIEW")
        || starts("ALTER MATERIALIZED VIEW")
        || starts("ALTER DEFAULT PRIVILEGES")
        || starts("ALTER ROLE")
        || starts("DROP VIEW")
        || starts("CREATE VIEW")
        || starts("CREATE OR REPLACE VIEW")
    {
        return (Phase::Access, 1);
    }
    if starts("ALTER TABLE") {
        if has("ROW LEVEL SECURITY") {
            return (Phase::Access, 0);
        }
        if has(" TYPE ") && has("ALTER COLUMN") {
            return (Phase::Types, 0);
        }
        if has("SET NOT NULL") {
            return (Phase::NotNull, 0);
        }
        if has("VALIDATE CONSTRAINT") {
            return (Phase::Constraints, 2);
        }
        if has(" UNIQUE") || has("PRIMARY KEY") {
            return (Phase::Constraints, 0);
        }
        if has("CONSTRAINT") || has("FOREIGN KEY") {
            return (Phase::Constraints, 1);
        }
        if has("ADD COLUMN") || has("DROP COLUMN") {
            return (Phase::Types, 0);
        }
    }
    if starts("UPDATE") || starts("INSERT") || starts("DELETE") {
        return (Phase::Types, 1);
    }
    // Nothing in the text: go by the rule's family.
    match rule.split('-').next().unwrap_or("") {
        _ if rule.contains("index") => (Phase::Indexes, 0),
        _ if rule.contains("policy") || rule.contains("rls") || rule.contains("grant") => {
            (Phase::Access, 1)
        }
        _ if rule.contains("trigger") => (Phase::Triggers, 1),
        _ => (Phase::Constraints, 1),
    }
}

fn fk_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?i)^ALTER TABLE (?:ONLY )?(\S+) .*?ADD CONSTRAINT \S+ FOREIGN KEY \(([^)]*)\) REFERENCES (\S+?) ?\(([^)]*)\)(?: ON DELETE (SET NULL|SET DEFAULT|CASCADE|RESTRICT|NO ACTION)(?: \(([^)]*)\))?)?"#,
        )
        .expect("valid regex")
    })
}

fn not_null_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?i)^ALTER TABLE (?:ONLY )?(\S+) ALTER COLUMN (\S+) SET NOT NULL"#)
            .expect("valid regex")
    })
}

fn uuid_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?i)^ALTER TABLE (?:ONLY )?(\S+) ALTER COLUMN (\S+) (?:SET DATA )?TYPE uuid\b"#,
        )
        .expect("valid regex")
    })
}

fn policy_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?i)^(ALTER|DROP) POLICY (?:IF EXISTS )?("(?:[^"]|"")*"|\S+) ON (\S+)"#)
            .expect("valid regex")
    })
}

fn index_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?i)^CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?\S+ ON (?:ONLY )?(\S+) (?:USING \w+ ?)?\(([^)]*)\)"#)
            .expect("valid regex")
    })
}

/// An identifier as SQL needs it (lower-case plain names stay bare).
fn quote_name(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
    {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn cols(list: &str) -> Vec<String> {
    list.split(',').map(|c| c.trim().to_string()).collect()
}

/// The commented cleanup that lets a statement apply on existing data, if it needs one.
fn cleanup_for(statement: &str) -> Option<String> {
    let s = normal(statement);
    if let Some(m) = fk_re().captures(&s) {
        let child = &m[1];
        let child_cols = cols(&m[2]);
        let parent = &m[3];
        let parent_cols = cols(&m[4]);
        let action = m.get(5).map(|a| a.as_str().to_ascii_uppercase());
        let not_null = child_cols
            .iter()
            .map(|c| format!("c.{c} IS NOT NULL"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let join = child_cols
            .iter()
            .zip(&parent_cols)
            // As text: the cleanup runs before a type conversion may have aligned the types
            // (a text column holding uuids), and it is a one-off.
            .map(|(c, p)| format!("p.{p}::text = c.{c}::text"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let orphan = format!("{not_null} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {join})");
        let sql = if action.as_deref() == Some("SET NULL") {
            let set: Vec<String> = match m.get(6) {
                Some(list) => cols(list.as_str()),
                None => child_cols.clone(),
            };
            let set = set
                .iter()
                .map(|c| format!("{c} = NULL"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("UPDATE {child} c SET {set} WHERE {orphan};")
        } else {
            format!("DELETE FROM {child} c WHERE {orphan};")
        };
        return Some(sql);
    }
    if let Some(m) = uuid_re().captures(&s) {
        return Some(format!(
            "UPDATE {} SET {col} = NULL WHERE {col} IS NOT NULL AND {col}::text !~* '^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$';  -- values that are not uuids: clear them, or map them to the right ids first",
            &m[1],
            col = &m[2]
        ));
    }
    if let Some(m) = not_null_re().captures(&s) {
        return Some(format!(
            "DELETE FROM {} WHERE {} IS NULL;  -- or assign them first",
            &m[1], &m[2]
        ));
    }
    None
}

struct Stmt {
    key: (Phase, u8, usize),
    sql: String,
    comments: Vec<String>,
    /// Comments the fix wrote after its last statement: printed after it.
    trailing: Vec<String>,
    /// Indexes of the findings it fixes.
    fixes: Vec<usize>,
    safe: bool,
}

/// Build the migration from the findings (in the order given: most severe first).
pub fn build(findings: &[Finding]) -> FixMigration {
    let mut stmts: Vec<Stmt> = vec![];
    let mut by_text: HashMap<String, usize> = HashMap::new();
    let mut cleanups: Vec<(String, Vec<usize>)> = vec![];
    let mut finding_phases: BTreeMap<usize, (Vec<Phase>, usize)> = BTreeMap::new();
    let mut seq = 0usize;
    let add = |stmts: &mut Vec<Stmt>,
               by_text: &mut HashMap<String, usize>,
               key: (Phase, u8, usize),
               sql: String,
               comments: Vec<String>,
               fi: usize,
               safe: bool| {
        let norm = normal(&sql);
        match by_text.get(&norm) {
            Some(&at) => {
                let s = &mut stmts[at];
                if !s.fixes.contains(&fi) {
                    s.fixes.push(fi);
                }
                s.safe &= safe;
                if key < s.key {
                    s.key = key;
                }
                for c in comments {
                    if !s.comments.contains(&c) {
                        s.comments.push(c);
                    }
                }
                s.key.0
            }
            None => {
                by_text.insert(norm, stmts.len());
                stmts.push(Stmt {
                    key,
                    sql,
                    comments,
                    trailing: vec![],
                    fixes: vec![fi],
                    safe,
                });
                key.0
            }
        }
    };
    for (fi, f) in findings.iter().enumerate() {
        let Some(fix) = &f.fix else { continue };
        let safe = fix.safety == FixSafety::Safe;
        let mut floor = (Phase::Cleanup, 0u8);
        let mut phases: Vec<Phase> = vec![];
        let mut count = 0;
        let chunks = split(&fix.sql);
        let last_stmt = chunks.iter().rposition(|c| c.statement.is_some());
        for (ci, chunk) in chunks.iter().enumerate() {
            let mut comments = vec![];
            // Commented-out index suggestions ("and index it: -- CREATE INDEX CONCURRENTLY ...")
            // become statements: a new foreign key without its index is a new finding.
            let mut promoted = vec![];
            let promotable = |c: &str| {
                let body = c.trim_start_matches('-').trim();
                (body
                    .to_ascii_uppercase()
                    .starts_with("CREATE INDEX CONCURRENTLY IF NOT EXISTS")
                    && body.ends_with(';'))
                .then(|| body.to_string())
            };
            for (k, c) in chunk.comments.iter().enumerate() {
                if let Some(body) = promotable(c) {
                    promoted.push(body);
                } else if c.trim_end().ends_with(':')
                    && chunk
                        .comments
                        .get(k + 1)
                        .is_some_and(|n| promotable(n).is_some())
                {
                    // "and index it (...):" introduces the promoted statement: it moves too.
                } else {
                    comments.push(c.clone());
                }
            }
            match &chunk.statement {
                Some(sql) => {
                    let (p, sub) = classify(&f.rule, sql);
                    let k = (p, sub).max(floor);
                    floor = k;
                    seq += 1;
                    let ph = add(
                        &mut stmts,
                        &mut by_text,
                        (k.0, k.1, seq),
                        sql.clone(),
                        comments,
                        fi,
                        safe,
                    );
                    phases.push(ph);
                    count += 1;
                    if let Some(c) = cleanup_for(sql) {
                        match cleanups.iter_mut().find(|(s, _)| *s == c) {
                            Some((_, v)) => v.push(fi),
                            None => cleanups.push((c, vec![fi])),
                        }
                        phases.push(Phase::Cleanup);
                    }
                }
                None => {
                    // Trailing comments: with the fix's last statement.
                    if let Some(last) = last_stmt.filter(|&l| l < ci) {
                        let _ = last;
                        if let Some(at) = stmts.iter().rposition(|s| s.fixes.contains(&fi)) {
                            for c in comments {
                                if !stmts[at].trailing.contains(&c) {
                                    stmts[at].trailing.push(c);
                                }
                            }
                        }
                    } else if !comments.is_empty() {
                        // A fix that is only advice: keep it, as comments, in its rule's phase.
                        let (p, sub) = classify(&f.rule, "");
                        seq += 1;
                        stmts.push(Stmt {
                            key: (p, sub, seq),
                            sql: String::new(),
                            comments,
                            trailing: vec![],
                            fixes: vec![fi],
                            safe,
                        });
                        phases.push(p);
                    }
                }
            }
            for sql in promoted {
                seq += 1;
                let ph = add(
                    &mut stmts,
                    &mut by_text,
                    (Phase::Indexes, 0, seq),
                    sql,
                    vec![
                        "-- the new foreign key's index (deletes of the parent look it up)".into(),
                    ],
                    fi,
                    true,
                );
                phases.push(ph);
                count += 1;
            }
        }
        phases.sort();
        phases.dedup();
        finding_phases.insert(fi, (phases, count));
    }

    // Every foreign key the migration adds gets an index leading with its columns (unless one
    // is created already): deletes of the parent look the columns up, and an unindexed foreign
    // key would be a new finding.
    let mut fk_indexes = vec![];
    for s in &stmts {
        let text = normal(&s.sql);
        let Some(m) = fk_re().captures(&text) else {
            continue;
        };
        let table = m[1].to_string();
        let columns = cols(&m[2]);
        // `id` is the table's own key: its primary key index serves the lookups.
        if columns == ["id"] {
            continue;
        }
        let covered = stmts.iter().chain(fk_indexes.iter()).any(|i| {
            index_re()
                .captures(&normal(&i.sql))
                .is_some_and(|c| c[1] == table && cols(&c[2]).starts_with(&columns))
        });
        if covered {
            continue;
        }
        let bare = table.rsplit('.').next().unwrap_or(&table).trim_matches('"');
        let mut name = format!(
            "{bare}_{}_idx",
            columns
                .iter()
                .map(|c| c.trim_matches('"'))
                .collect::<Vec<_>>()
                .join("_")
        );
        if name.len() > 63 {
            name.truncate(59);
            name.push_str("_idx");
        }
        fk_indexes.push(Stmt {
            key: (Phase::Indexes, 1, s.key.2),
            sql: format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {table} ({});",
                quote_name(&name),
                columns.join(", ")
            ),
            comments: vec![format!(
                "-- index for the foreign key added in phase 3 on {table} ({}): deletes of the parent look it up",
                columns.join(", ")
            )],
            trailing: vec![],
            fixes: s.fixes.clone(),
            safe: true,
        });
    }
    for i in fk_indexes {
        by_text.insert(normal(&i.sql), stmts.len());
        for &fi in &i.fixes {
            if let Some((phases, n)) = finding_phases.get_mut(&fi) {
                if !phases.contains(&Phase::Indexes) {
                    phases.push(Phase::Indexes);
                    phases.sort();
                }
                *n += 1;
            }
        }
        stmts.push(i);
    }

    // An ALTER POLICY on a policy that another fix drops would fail: leave it out.
    let dropped: HashSet<(String, String)> = stmts
        .iter()
        .filter_map(|s| {
            policy_re().captures(&normal(&s.sql)).map(|m| {
                (
                    m[1].to_ascii_uppercase(),
                    m[2].to_string(),
                    m[3].to_string(),
                )
            })
        })
        .filter(|(verb, _, _)| verb == "DROP")
        .map(|(_, p, t)| (p, t))
        .collect();
    let mut superseded = vec![];
    stmts.retain(|s| {
        let text = normal(&s.sql);
        let Some(m) = policy_re().captures(&text) else {
            return true;
        };
        let keep = !(m[1].eq_ignore_ascii_case("ALTER")
            && dropped.contains(&(m[2].to_string(), m[3].to_string())));
        if !keep {
            superseded.push((s.fixes.clone(), m[2].to_string(), m[3].to_string()));
        }
        keep
    });
    stmts.sort_by_key(|s| s.key);

    let name = |fi: usize| {
        let f = &findings[fi];
        format!("{} @ {} ({})", f.rule, f.location(), f.fingerprint)
    };
    let with_fix: Vec<usize> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.fix.is_some())
        .map(|(i, _)| i)
        .collect();
    let mut out = String::new();
    let mut counts: BTreeMap<Phase, usize> = BTreeMap::new();
    if with_fix.is_empty() {
        return FixMigration::default();
    }
    let safe_n = with_fix
        .iter()
        .filter(|&&i| {
            findings[i]
                .fix
                .as_ref()
                .is_some_and(|x| x.safety == FixSafety::Safe)
        })
        .count();
    let _ = writeln!(out, "-- dbaudit fix migration");
    let _ = writeln!(
        out,
        "-- Fixes {} finding(s): {} safe (no behaviour change), {} to review before applying.",
        with_fix.len(),
        safe_n,
        with_fix.len() - safe_n
    );
    let _ = writeln!(
        out,
        "-- Every statement names the finding(s) it fixes (rule @ location (fingerprint)) and whether it is safe."
    );
    if stmts
        .iter()
        .any(|s| s.sql.to_ascii_uppercase().contains("CONCURRENTLY"))
    {
        let _ = writeln!(
            out,
            "-- It contains CREATE INDEX CONCURRENTLY, which cannot run inside a transaction block:\n-- run it statement by statement (psql -v ON_ERROR_STOP=1 -f this-file.sql), not wrapped in BEGIN ... COMMIT."
        );
    }
    let _ = writeln!(out, "-- Phases:");
    for p in Phase::ALL {
        let _ = writeln!(out, "--   {}. {}", p.number(), p.title());
    }

    // Phase 1: cleanup, commented.
    if !cleanups.is_empty() {
        let _ = writeln!(out, "\n-- ==== 1. {} ====", Phase::Cleanup.title());
        let _ = writeln!(
            out,
            "-- Rows that break these would make a VALIDATE or SET NOT NULL below fail. Count them with the\n-- queries next to each constraint; delete or repair them here, or fix the data by hand."
        );
        for (sql, fis) in &cleanups {
            let _ = writeln!(out);
            for fi in fis.iter().collect::<std::collections::BTreeSet<_>>() {
                let _ = writeln!(out, "-- for {} [review]", name(*fi));
            }
            let _ = writeln!(out, "-- {sql}");
            *counts.entry(Phase::Cleanup).or_default() += 1;
        }
    }
    let mut current: Option<Phase> = None;
    for s in &stmts {
        let p = s.key.0;
        if current != Some(p) {
            current = Some(p);
            let _ = writeln!(out, "\n-- ==== {}. {} ====", p.number(), p.title());
        }
        let _ = writeln!(out);
        for &fi in &s.fixes {
            let _ = writeln!(
                out,
                "-- {} [{}]",
                name(fi),
                if s.safe { "safe" } else { "review" }
            );
        }
        for c in &s.comments {
            let _ = writeln!(out, "{c}");
        }
        if !s.sql.is_empty() {
            let sql = s.sql.trim();
            let _ = writeln!(out, "{}{}", sql, if sql.ends_with(';') { "" } else { ";" });
            *counts.entry(p).or_default() += 1;
        }
        for c in &s.trailing {
            let _ = writeln!(out, "{c}");
        }
    }
    if !superseded.is_empty() {
        let _ = writeln!(
            out,
            "\n-- Left out: these policies are dropped above, so altering them would fail."
        );
        for (fis, policy, table) in &superseded {
            for fi in fis {
                let _ = writeln!(out, "--   {} (policy {policy} on {table})", name(*fi));
            }
        }
    }

    let entries = with_fix
        .iter()
        .map(|&fi| {
            let f = &findings[fi];
            let (phases, statements) = finding_phases.get(&fi).cloned().unwrap_or_default();
            FixEntry {
                fingerprint: f.fingerprint.clone(),
                rule: f.rule.clone(),
                location: f.location(),
                safety: f
                    .fix
                    .as_ref()
                    .map(|x| x.safety)
                    .unwrap_or(FixSafety::Review),
                phase: phases
                    .iter()
                    .copied()
                    .find(|p| *p != Phase::Cleanup)
                    .or_else(|| phases.first().copied())
                    .unwrap_or(Phase::Access),
                phases,
                statements,
            }
        })
        .collect();
    FixMigration {
        sql: out,
        entries,
        statements: counts,
        cleanup: cleanups.into_iter().map(|(sql, _)| sql).collect(),
    }
}

#[cfg(test)]
mod tests;
