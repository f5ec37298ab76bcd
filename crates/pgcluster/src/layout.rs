//! Migration layouts: find the files a project's migration tool would run, in its order.
//!
//! [`detect`] takes what the user named with `--migrations` (a project root, a migrations
//! folder or one `.sql` file) and recognises, in this order of evidence: Supabase
//! (`supabase/migrations`), Drizzle (`meta/_journal.json`), Prisma (`*/migration.sql`), Flyway
//! (`V<version>__*.sql`), golang-migrate / sqlx (`*.up.sql`), dbmate (`-- migrate:up`) and a
//! plain folder of `.sql` files. [`discover`] does the same without a flag, from the known
//! folders under the current directory.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayoutKind {
    Supabase,
    Plain,
    GolangMigrate,
    Drizzle,
    Prisma,
    Flyway,
    Dbmate,
}

impl LayoutKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LayoutKind::Supabase => "supabase",
            LayoutKind::Plain => "plain",
            LayoutKind::GolangMigrate => "golang-migrate",
            LayoutKind::Drizzle => "drizzle",
            LayoutKind::Prisma => "prisma",
            LayoutKind::Flyway => "flyway",
            LayoutKind::Dbmate => "dbmate",
        }
    }
}

/// Whether a file runs inside one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxMode {
    /// Decided by the apply engine: one transaction unless the text needs otherwise
    /// (`CREATE INDEX CONCURRENTLY`, its own `BEGIN`/`COMMIT`, ...).
    Auto,
    /// The tool says so (dbmate `transaction:false`): statements run one by one, autocommit.
    None,
}

#[derive(Debug, Clone)]
pub struct MigrationFile {
    pub path: PathBuf,
    /// Path shown to users: relative to the directory the user named (or the cwd).
    pub display: String,
    /// The SQL to run (for dbmate only the `-- migrate:up` section).
    pub sql: String,
    /// 1-based line of the file where `sql` starts, so error lines point into the real file.
    pub first_line: u32,
    pub transaction: TxMode,
}

#[derive(Debug, Clone)]
pub struct MigrationSet {
    pub kind: LayoutKind,
    /// The migrations directory that was detected.
    pub root: PathBuf,
    /// In the order the tool would apply them.
    pub files: Vec<MigrationFile>,
    /// Data loaded after the migrations (`supabase/seed.sql`, `--seed FILE`).
    pub seeds: Vec<MigrationFile>,
    /// Files that were seen but not run, with the reason (`.down.sql`, not in the Drizzle
    /// journal, ...).
    pub skipped: Vec<(PathBuf, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("{0}: no such file or directory")]
    NotFound(PathBuf),
    #[error(
        "{0}: the folder is empty: point --migrations at the folder that holds the .sql files"
    )]
    Empty(PathBuf),
    #[error("{path}: no migrations found: looked for {looked_for}")]
    Unrecognized { path: PathBuf, looked_for: String },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What [`detect`] recognises, for error messages.
const LAYOUTS_LOOKED_FOR: &str = "Supabase (supabase/migrations/*.sql), Drizzle \
    (meta/_journal.json), Prisma (<folder>/migration.sql), Flyway (V<version>__<name>.sql), \
    golang-migrate/sqlx (<version>_<name>.up.sql), dbmate (-- migrate:up), or a folder of \
    .sql files";

/// Folders under a project root that hold migrations, in the order they are tried.
const PROJECT_FOLDERS: &[&str] = &[
    "supabase/migrations",
    "drizzle",
    "prisma/migrations",
    "migrations",
    "db/migrations",
    "db/migration",
    "src/main/resources/db/migration",
    "sql",
];

/// Where a Drizzle `meta/_journal.json` is looked for under the named folder.
const DRIZZLE_FOLDERS: &[&str] = &[
    "drizzle",
    "migrations",
    "drizzle/migrations",
    "src/drizzle",
    "db/migrations",
    "src/db/migrations",
];

/// Detect the layout of `path` (a project root or a migrations folder) and list its files.
pub fn detect(path: &Path) -> Result<MigrationSet, LayoutError> {
    let given = absolute(path)?;
    let meta = fs::metadata(&given).map_err(|e| io_error(path, e))?;
    if meta.is_file() {
        return single_file(&given).and_then(finish);
    }
    if !meta.is_dir() {
        return Err(LayoutError::Invalid {
            path: path.to_path_buf(),
            reason: "neither a folder nor a .sql file".into(),
        });
    }

    if let Some(set) = detect_dir(&given, &given)? {
        return finish(set);
    }
    for sub in PROJECT_FOLDERS {
        let dir = given.join(sub);
        if dir.is_dir() {
            if let Some(set) = detect_dir(&dir, &given)? {
                return finish(set);
            }
        }
    }
    if visible_entries(&given)?.is_empty() {
        return Err(LayoutError::Empty(path.to_path_buf()));
    }
    Err(LayoutError::Unrecognized {
        path: path.to_path_buf(),
        looked_for: LAYOUTS_LOOKED_FOR.into(),
    })
}

/// No `--migrations` flag: look for the known folders under `cwd`.
pub fn discover(cwd: &Path) -> Result<MigrationSet, LayoutError> {
    let base = absolute(cwd)?;
    if !base.is_dir() {
        return Err(LayoutError::Invalid {
            path: cwd.to_path_buf(),
            reason: "not a folder".into(),
        });
    }
    let mut without_migrations = Vec::new();
    for sub in PROJECT_FOLDERS {
        let dir = base.join(sub);
        if dir.is_dir() {
            match detect_dir(&dir, &base)? {
                Some(set) => return finish(set),
                None => without_migrations.push(format!("{sub}/")),
            }
        }
    }
    // A Drizzle journal somewhere less usual (`src/db/migrations`, ...).
    for sub in DRIZZLE_FOLDERS {
        let dir = base.join(sub);
        if dir.join("meta/_journal.json").is_file() {
            return drizzle(&dir, &base).and_then(finish);
        }
    }
    let mut looked_for: Vec<String> = PROJECT_FOLDERS.iter().map(|s| format!("{s}/")).collect();
    looked_for[1] = "drizzle/meta/_journal.json".into();
    let mut text = looked_for.join(", ");
    if !without_migrations.is_empty() {
        text.push_str(&format!(
            "; {} held no migrations",
            without_migrations.join(", ")
        ));
    }
    text.push_str(
        " (give --migrations PATH to name the migrations folder, or --db URL to audit a live database)",
    );
    Err(LayoutError::Unrecognized {
        path: cwd.to_path_buf(),
        looked_for: text,
    })
}

/// A seed file given with `--seed FILE`.
pub fn seed_file(path: &Path, base: &Path) -> Result<MigrationFile, LayoutError> {
    let abs = absolute(path)?;
    let meta = fs::metadata(&abs).map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Err(LayoutError::Invalid {
            path: path.to_path_buf(),
            reason: "a seed must be a file".into(),
        });
    }
    let base = absolute(base).unwrap_or_else(|_| base.to_path_buf());
    let display = display_path(&abs, &base);
    migration_file(abs, display)
}

// ---------------------------------------------------------------------------------------------
// Detection per folder.

/// A set that would run nothing is an error: empty, or every file skipped (with the reasons).
fn finish(set: MigrationSet) -> Result<MigrationSet, LayoutError> {
    if !set.files.is_empty() {
        return Ok(set);
    }
    if set.skipped.is_empty() {
        return Err(LayoutError::Empty(set.root));
    }
    let mut reasons: Vec<String> = set
        .skipped
        .iter()
        .take(5)
        .map(|(p, why)| format!("{} ({why})", name_of(p)))
        .collect();
    if set.skipped.len() > 5 {
        reasons.push(format!("and {} more", set.skipped.len() - 5));
    }
    Err(LayoutError::Invalid {
        path: set.root,
        reason: format!(
            "no {} migration would run: skipped {}",
            set.kind.as_str(),
            reasons.join(", ")
        ),
    })
}

/// The layout of one folder, or `None` when it holds nothing recognisable. `base` is what
/// displayed paths are made relative to (the folder the user named).
fn detect_dir(dir: &Path, base: &Path) -> Result<Option<MigrationSet>, LayoutError> {
    if let Some(mig) = supabase_migrations_dir(dir) {
        return supabase(&mig, base).map(Some);
    }
    if dir.join("meta/_journal.json").is_file() {
        return drizzle(dir, base).map(Some);
    }
    for sub in DRIZZLE_FOLDERS {
        let d = dir.join(sub);
        if d.join("meta/_journal.json").is_file() {
            return drizzle(&d, base).map(Some);
        }
    }

    let entries = visible_entries(dir)?;
    let sql_files: Vec<PathBuf> = entries.iter().filter(|p| is_sql_file(p)).cloned().collect();
    let prisma_dirs: Vec<PathBuf> = entries
        .iter()
        .filter(|p| p.is_dir() && p.join("migration.sql").is_file())
        .cloned()
        .collect();
    if sql_files.is_empty() && !prisma_dirs.is_empty() {
        return prisma(dir, base, &entries).map(Some);
    }
    if sql_files.is_empty() {
        if dir.file_name().is_some_and(|n| n == "prisma") && dir.join("migrations").is_dir() {
            return detect_dir(&dir.join("migrations"), base);
        }
        return Ok(None);
    }
    let base = display_base(dir, base);
    if sql_files.iter().any(|p| flyway_name(p).is_some()) {
        return flyway(dir, &base, &entries).map(Some);
    }
    if sql_files.iter().any(|p| name_of(p).ends_with(".up.sql")) {
        return golang_migrate(dir, &base, &sql_files).map(Some);
    }
    // Reading every file once: dbmate is recognised by its content, plain needs it anyway.
    let mut read = Vec::with_capacity(sql_files.len());
    for p in sql_files {
        let text = read_sql(&p)?;
        read.push((p, text));
    }
    if read.iter().any(|(_, t)| dbmate_up(t).is_some()) {
        return dbmate(dir, &base, read).map(Some);
    }
    plain(dir, &base, read).map(Some)
}

/// The `supabase/migrations` folder `dir` stands for, if any: a project root holding
/// `supabase/migrations`, the `supabase` folder itself, or `supabase/migrations`.
fn supabase_migrations_dir(dir: &Path) -> Option<PathBuf> {
    let nested = dir.join("supabase/migrations");
    if nested.is_dir() {
        return Some(nested);
    }
    if dir.file_name().is_some_and(|n| n == "supabase") && dir.join("migrations").is_dir() {
        return Some(dir.join("migrations"));
    }
    if dir.file_name().is_some_and(|n| n == "migrations")
        && dir
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "supabase")
    {
        return Some(dir.to_path_buf());
    }
    None
}

fn supabase(mig: &Path, base: &Path) -> Result<MigrationSet, LayoutError> {
    let supabase_dir = mig.parent().unwrap_or(mig).to_path_buf();
    // Show `supabase/migrations/x.sql` even when the user named `supabase/migrations`.
    let base = if base.starts_with(&supabase_dir) {
        supabase_dir.parent().unwrap_or(&supabase_dir).to_path_buf()
    } else {
        base.to_path_buf()
    };
    let mut skipped = Vec::new();
    let mut names: Vec<PathBuf> = Vec::new();
    for p in visible_entries(mig)? {
        if !is_sql_file(&p) {
            if p.is_file() {
                skipped.push((p, "not a .sql file".to_string()));
            }
            continue;
        }
        // The Supabase CLI only runs `<timestamp>_name.sql`.
        let name = name_of(&p);
        let digits = name.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 || !name[digits..].starts_with('_') {
            skipped.push((
                p,
                "the Supabase CLI skips it: the name must match <timestamp>_name.sql".into(),
            ));
            continue;
        }
        names.push(p);
    }
    names.sort_by(|a, b| name_of(a).cmp(name_of(b)));
    let files = names
        .into_iter()
        .map(|p| {
            let display = display_path(&p, &base);
            migration_file(p, display)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut seeds = Vec::new();
    for p in supabase_seed_paths(&supabase_dir)? {
        let display = display_path(&p, &base);
        seeds.push(migration_file(p, display)?);
    }
    Ok(MigrationSet {
        kind: LayoutKind::Supabase,
        root: mig.to_path_buf(),
        files,
        seeds,
        skipped,
    })
}

/// Seed files of a Supabase project: `[db.seed] sql_paths` of `supabase/config.toml`
/// (globs, relative to the `supabase` folder), `./seed.sql` when it names none.
fn supabase_seed_paths(supabase_dir: &Path) -> Result<Vec<PathBuf>, LayoutError> {
    let config = supabase_dir.join("config.toml");
    let (enabled, patterns) = match fs::read_to_string(&config) {
        Ok(text) => parse_seed_config(&text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (true, None),
        Err(e) => return Err(io_error(&config, e)),
    };
    if !enabled {
        return Ok(Vec::new());
    }
    let patterns = patterns.unwrap_or_else(|| vec!["./seed.sql".to_string()]);
    let mut out: Vec<PathBuf> = Vec::new();
    for pattern in patterns {
        let pattern = pattern.trim_start_matches("./").to_string();
        if pattern.is_empty() {
            continue;
        }
        let mut matched = if has_glob(&pattern) {
            let mut found = Vec::new();
            walk_files(supabase_dir, supabase_dir, 0, &mut found)?;
            found
                .into_iter()
                .filter(|(rel, _)| glob_match(&pattern, rel))
                .map(|(_, p)| p)
                .collect::<Vec<_>>()
        } else {
            let p = supabase_dir.join(&pattern);
            if p.is_file() {
                vec![p]
            } else {
                Vec::new()
            }
        };
        matched.sort();
        for p in matched {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// `[db.seed]` of a Supabase `config.toml`: `enabled` and `sql_paths`. Only what these two
/// keys need of TOML: bare keys, booleans, and an array of strings that may span lines.
fn parse_seed_config(text: &str) -> (bool, Option<Vec<String>>) {
    let mut enabled = true;
    let mut paths = None;
    let mut in_section = false;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = strip_toml_comment(line).trim().to_string();
        if line.starts_with('[') {
            in_section = line.trim_start_matches('[').trim_end_matches(']').trim() == "db.seed";
            continue;
        }
        if !in_section {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key.trim() {
            "enabled" => enabled = value.trim() != "false",
            "sql_paths" => {
                let mut value = value.trim().to_string();
                while !value.contains(']') {
                    match lines.next() {
                        Some(more) => {
                            value.push(' ');
                            value.push_str(strip_toml_comment(more));
                        }
                        None => break,
                    }
                }
                paths = Some(toml_strings(&value));
            }
            _ => {}
        }
    }
    (enabled, paths)
}

fn strip_toml_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => return &line[..i],
            None => {}
        }
    }
    line
}

fn toml_strings(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '"' || c == '\'' {
            let mut s = String::new();
            let mut escaped = false;
            for d in chars.by_ref() {
                if c == '"' && escaped {
                    s.push(d);
                    escaped = false;
                } else if c == '"' && d == '\\' {
                    escaped = true;
                } else if d == c {
                    break;
                } else {
                    s.push(d);
                }
            }
            out.push(s);
        }
    }
    out
}

fn has_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// Files under `dir` as (path relative to `root` with `/`, path), a few levels deep.
fn walk_files(
    root: &Path,
    dir: &Path,
    depth: usize,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), LayoutError> {
    if depth > 8 {
        return Ok(());
    }
    for p in visible_entries(dir)? {
        if p.is_dir() {
            walk_files(root, &p, depth + 1, out)?;
        } else if p.is_file() {
            out.push((display_path(&p, root), p));
        }
    }
    Ok(())
}

/// Shell-style glob on `/`-separated paths: `*` and `?` stay within one segment, `**` spans
/// segments, `[abc]` is a character class.
fn glob_match(pattern: &str, path: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') if p.get(1) == Some(&'*') => {
                let rest = if p.get(2) == Some(&'/') {
                    &p[3..]
                } else {
                    &p[2..]
                };
                (0..=s.len()).any(|i| go(rest, &s[i..]))
            }
            Some('*') => {
                let mut i = 0;
                loop {
                    if go(&p[1..], &s[i..]) {
                        return true;
                    }
                    if i == s.len() || s[i] == '/' {
                        return false;
                    }
                    i += 1;
                }
            }
            Some('?') => !s.is_empty() && s[0] != '/' && go(&p[1..], &s[1..]),
            Some('[') => {
                let Some(end) = p.iter().position(|&c| c == ']') else {
                    return !s.is_empty() && s[0] == '[' && go(&p[1..], &s[1..]);
                };
                let class = &p[1..end];
                let (negate, class) = match class.first() {
                    Some('!') | Some('^') => (true, &class[1..]),
                    _ => (false, class),
                };
                let Some(&c) = s.first() else { return false };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= c && c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == c;
                        i += 1;
                    }
                }
                hit != negate && go(&p[end + 1..], &s[1..])
            }
            Some(&c) => !s.is_empty() && s[0] == c && go(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    go(&p, &s)
}

#[derive(serde::Deserialize)]
struct DrizzleJournal {
    #[serde(default)]
    dialect: Option<String>,
    entries: Vec<DrizzleEntry>,
}

#[derive(serde::Deserialize)]
struct DrizzleEntry {
    idx: i64,
    tag: String,
}

fn drizzle(dir: &Path, base: &Path) -> Result<MigrationSet, LayoutError> {
    let journal_path = dir.join("meta/_journal.json");
    let text = read_sql(&journal_path)?;
    let journal: DrizzleJournal =
        serde_json::from_str(&text).map_err(|e| LayoutError::Invalid {
            path: journal_path.clone(),
            reason: format!("not a Drizzle journal: {e}"),
        })?;
    if let Some(d) = journal.dialect.as_deref() {
        if !matches!(d, "postgresql" | "pg" | "postgres") {
            return Err(LayoutError::Invalid {
                path: journal_path,
                reason: format!(
                    "the Drizzle journal is for dialect \"{d}\"; dbaudit audits PostgreSQL"
                ),
            });
        }
    }
    let base = display_base(dir, base);
    let mut entries = journal.entries;
    entries.sort_by_key(|e| e.idx);
    let mut files = Vec::with_capacity(entries.len());
    let mut listed = BTreeSet::new();
    for e in &entries {
        if e.tag.is_empty() || e.tag.contains(['/', '\\']) || e.tag.contains("..") {
            return Err(LayoutError::Invalid {
                path: journal_path,
                reason: format!("entry {} has an unusable tag {:?}", e.idx, e.tag),
            });
        }
        let p = dir.join(format!("{}.sql", e.tag));
        if !p.is_file() {
            return Err(LayoutError::Invalid {
                path: journal_path,
                reason: format!(
                    "entry {} (tag \"{}\") names {}.sql, which does not exist",
                    e.idx, e.tag, e.tag
                ),
            });
        }
        listed.insert(format!("{}.sql", e.tag));
        let display = display_path(&p, &base);
        files.push(migration_file(p, display)?);
    }
    let mut skipped = Vec::new();
    for p in visible_entries(dir)? {
        if is_sql_file(&p) && !listed.contains(name_of(&p)) {
            skipped.push((
                p,
                "not in meta/_journal.json: drizzle-kit migrate does not run it".into(),
            ));
        }
    }
    Ok(MigrationSet {
        kind: LayoutKind::Drizzle,
        root: dir.to_path_buf(),
        files,
        seeds: Vec::new(),
        skipped,
    })
}

fn prisma(dir: &Path, base: &Path, entries: &[PathBuf]) -> Result<MigrationSet, LayoutError> {
    // Show `prisma/migrations/<name>/migration.sql` when the user named `prisma/migrations`.
    let base = if dir.file_name().is_some_and(|n| n == "migrations")
        && dir
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "prisma")
        && base.starts_with(dir.parent().unwrap_or(dir))
    {
        dir.parent()
            .and_then(Path::parent)
            .unwrap_or(dir)
            .to_path_buf()
    } else {
        display_base(dir, base)
    };
    let mut dirs = Vec::new();
    let mut skipped = Vec::new();
    for p in entries {
        if p.is_dir() {
            if p.join("migration.sql").is_file() {
                dirs.push(p.clone());
            } else {
                skipped.push((p.clone(), "a folder without migration.sql".into()));
            }
        } else if name_of(p) != "migration_lock.toml" {
            skipped.push((p.clone(), "not a Prisma migration folder".into()));
        }
    }
    // Prisma orders migrations by folder name.
    dirs.sort_by(|a, b| name_of(a).cmp(name_of(b)));
    let files = dirs
        .into_iter()
        .map(|d| {
            let p = d.join("migration.sql");
            let display = display_path(&p, &base);
            migration_file(p, display)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MigrationSet {
        kind: LayoutKind::Prisma,
        root: dir.to_path_buf(),
        files,
        seeds: Vec::new(),
        skipped,
    })
}

/// A Flyway file name: versioned `V<version>__<desc>.sql`, repeatable `R__<desc>.sql` or
/// undo `U<version>__<desc>.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FlywayName {
    Versioned(Vec<String>, String),
    Repeatable(String),
    Undo,
}

fn flyway_name(p: &Path) -> Option<FlywayName> {
    let name = name_of(p);
    let stem = name.strip_suffix(".sql")?;
    let mut chars = stem.chars();
    let prefix = chars.next()?;
    let rest = chars.as_str();
    let (version, desc) = rest.split_once("__")?;
    match prefix {
        'V' | 'v' => {
            let parts: Vec<String> = version
                .split(['.', '_'])
                .map(|s| s.trim_start_matches('0').to_string())
                .collect();
            let valid = !version.is_empty()
                && version
                    .split(['.', '_'])
                    .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
            valid.then(|| FlywayName::Versioned(parts, desc.to_string()))
        }
        'R' | 'r' if version.is_empty() => Some(FlywayName::Repeatable(desc.to_string())),
        'U' | 'u' if !version.is_empty() => Some(FlywayName::Undo),
        _ => None,
    }
}

/// Numeric order of version parts (leading zeros already stripped); `1` equals `1.0`.
fn cmp_version(a: &[String], b: &[String]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).map(String::as_str).unwrap_or("");
        let y = b.get(i).map(String::as_str).unwrap_or("");
        let o = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn flyway(dir: &Path, base: &Path, entries: &[PathBuf]) -> Result<MigrationSet, LayoutError> {
    let mut versioned: Vec<(Vec<String>, PathBuf)> = Vec::new();
    let mut repeatable: Vec<(String, PathBuf)> = Vec::new();
    let mut skipped = Vec::new();
    for p in entries.iter().filter(|p| is_sql_file(p)) {
        match flyway_name(p) {
            Some(FlywayName::Versioned(v, _)) => versioned.push((v, p.clone())),
            Some(FlywayName::Repeatable(d)) => repeatable.push((d, p.clone())),
            Some(FlywayName::Undo) => skipped.push((
                p.clone(),
                "Flyway undo migration: only run by flyway undo".into(),
            )),
            None => skipped.push((
                p.clone(),
                "not a Flyway migration name (V<version>__<name>.sql or R__<name>.sql)".into(),
            )),
        }
    }
    versioned.sort_by(|a, b| cmp_version(&a.0, &b.0).then_with(|| a.1.cmp(&b.1)));
    for w in versioned.windows(2) {
        if cmp_version(&w[0].0, &w[1].0) == Ordering::Equal {
            return Err(LayoutError::Invalid {
                path: w[1].1.clone(),
                reason: format!(
                    "Flyway found more than one migration with this version (also {})",
                    name_of(&w[0].1)
                ),
            });
        }
    }
    repeatable.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut files = Vec::new();
    for p in versioned
        .into_iter()
        .map(|(_, p)| p)
        .chain(repeatable.into_iter().map(|(_, p)| p))
    {
        let display = display_path(&p, base);
        let mut f = migration_file(p, display)?;
        if flyway_no_transaction(&f.path)? {
            f.transaction = TxMode::None;
        }
        files.push(f);
    }
    Ok(MigrationSet {
        kind: LayoutKind::Flyway,
        root: dir.to_path_buf(),
        files,
        seeds: Vec::new(),
        skipped,
    })
}

/// Flyway's per-script configuration: `V1__x.sql.conf` with `executeInTransaction=false`.
fn flyway_no_transaction(sql: &Path) -> Result<bool, LayoutError> {
    let mut conf = sql.as_os_str().to_owned();
    conf.push(".conf");
    let conf = PathBuf::from(conf);
    match fs::read_to_string(&conf) {
        Ok(text) => Ok(text.lines().any(|l| {
            l.split_once('=').is_some_and(|(k, v)| {
                k.trim() == "executeInTransaction" && v.trim().eq_ignore_ascii_case("false")
            })
        })),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error(&conf, e)),
    }
}

/// The leading digits of a file name with leading zeros stripped (`000012_x` → `12`).
fn numeric_prefix(name: &str) -> Option<String> {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    Some(digits.trim_start_matches('0').to_string())
}

fn golang_migrate(
    dir: &Path,
    base: &Path,
    sql_files: &[PathBuf],
) -> Result<MigrationSet, LayoutError> {
    let mut ups: Vec<(String, PathBuf)> = Vec::new();
    let mut skipped = Vec::new();
    for p in sql_files {
        let name = name_of(p);
        if name.ends_with(".down.sql") {
            skipped.push((p.clone(), "down migration".into()));
        } else if name.ends_with(".up.sql") {
            match numeric_prefix(name) {
                Some(v) => ups.push((v, p.clone())),
                None => skipped.push((
                    p.clone(),
                    "no numeric version prefix (<version>_<name>.up.sql)".into(),
                )),
            }
        } else {
            skipped.push((p.clone(), "not an .up.sql migration".into()));
        }
    }
    ups.sort_by(|a, b| {
        cmp_version(std::slice::from_ref(&a.0), std::slice::from_ref(&b.0))
            .then_with(|| a.1.cmp(&b.1))
    });
    for w in ups.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(LayoutError::Invalid {
                path: w[1].1.clone(),
                reason: format!(
                    "two up migrations with version {} (also {})",
                    if w[0].0.is_empty() { "0" } else { &w[0].0 },
                    name_of(&w[0].1)
                ),
            });
        }
    }
    let files = ups
        .into_iter()
        .map(|(_, p)| {
            let display = display_path(&p, base);
            migration_file(p, display)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MigrationSet {
        kind: LayoutKind::GolangMigrate,
        root: dir.to_path_buf(),
        files,
        seeds: Vec::new(),
        skipped,
    })
}

/// The up section of a dbmate file: (sql, 1-based first line, transaction mode).
fn dbmate_up(text: &str) -> Option<(String, u32, TxMode)> {
    let mut start: Option<(usize, u32, TxMode)> = None;
    let mut offset = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let lineno = i as u32 + 1;
        let trimmed = line.trim();
        if let Some((begin, first, tx)) = start {
            if is_marker(trimmed, "-- migrate:down") {
                return Some((text[begin..offset].to_string(), first, tx));
            }
        } else if is_marker(trimmed, "-- migrate:up") {
            let options = trimmed["-- migrate:up".len()..].trim();
            let tx = if options
                .split_whitespace()
                .any(|o| o.eq_ignore_ascii_case("transaction:false"))
            {
                TxMode::None
            } else {
                TxMode::Auto
            };
            start = Some((offset + line.len(), lineno + 1, tx));
        }
        offset += line.len();
    }
    start.map(|(begin, first, tx)| (text[begin..].to_string(), first, tx))
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

fn dbmate(
    dir: &Path,
    base: &Path,
    mut read: Vec<(PathBuf, String)>,
) -> Result<MigrationSet, LayoutError> {
    // dbmate applies by version (the numeric prefix), then name.
    read.sort_by(|a, b| {
        let va = numeric_prefix(name_of(&a.0)).unwrap_or_default();
        let vb = numeric_prefix(name_of(&b.0)).unwrap_or_default();
        cmp_version(&[va], &[vb]).then_with(|| name_of(&a.0).cmp(name_of(&b.0)))
    });
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for (p, text) in read {
        match dbmate_up(&text) {
            Some((sql, first_line, transaction)) => {
                let display = display_path(&p, base);
                files.push(MigrationFile {
                    path: p,
                    display,
                    sql,
                    first_line,
                    transaction,
                });
            }
            None => skipped.push((p, "no -- migrate:up section".into())),
        }
    }
    Ok(MigrationSet {
        kind: LayoutKind::Dbmate,
        root: dir.to_path_buf(),
        files,
        seeds: Vec::new(),
        skipped,
    })
}

fn plain(
    dir: &Path,
    base: &Path,
    mut read: Vec<(PathBuf, String)>,
) -> Result<MigrationSet, LayoutError> {
    read.sort_by(|a, b| natural_cmp(name_of(&a.0), name_of(&b.0)));
    let files = read
        .into_iter()
        .map(|(p, sql)| MigrationFile {
            display: display_path(&p, base),
            path: p,
            sql,
            first_line: 1,
            transaction: TxMode::Auto,
        })
        .collect();
    Ok(MigrationSet {
        kind: LayoutKind::Plain,
        root: dir.to_path_buf(),
        files,
        seeds: Vec::new(),
        skipped: Vec::new(),
    })
}

fn single_file(path: &Path) -> Result<MigrationSet, LayoutError> {
    if !is_sql_name(name_of(path)) {
        return Err(LayoutError::Invalid {
            path: path.to_path_buf(),
            reason: "not a .sql file: point --migrations at a .sql file or a migrations folder"
                .into(),
        });
    }
    let parent = path.parent().unwrap_or(path).to_path_buf();
    let display = display_path(path, &parent);
    let file = migration_file(path.to_path_buf(), display)?;
    Ok(MigrationSet {
        kind: LayoutKind::Plain,
        root: parent,
        files: vec![file],
        seeds: Vec::new(),
        skipped: Vec::new(),
    })
}

/// Natural order: digit runs compare as numbers, so `2_x.sql` comes before `10_x.sql`.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let digit = bytes[i].is_ascii_digit();
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() == digit {
                i += 1;
            }
            out.push((digit, &s[start..i]));
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(cb.iter()) {
        let o = match (x.0, y.0) {
            (true, true) => {
                let (tx, ty) = (x.1.trim_start_matches('0'), y.1.trim_start_matches('0'));
                tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty))
            }
            _ => x.1.cmp(y.1),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

// ---------------------------------------------------------------------------------------------
// Files and paths.

fn migration_file(path: PathBuf, display: String) -> Result<MigrationFile, LayoutError> {
    let sql = read_sql(&path)?;
    Ok(MigrationFile {
        path,
        display,
        sql,
        first_line: 1,
        transaction: TxMode::Auto,
    })
}

/// A text file as UTF-8, without a leading byte-order mark.
fn read_sql(path: &Path) -> Result<String, LayoutError> {
    let bytes = fs::read(path).map_err(|e| io_error(path, e))?;
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.drain(..'\u{feff}'.len_utf8());
            }
            Ok(s)
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(LayoutError::Invalid {
                path: path.to_path_buf(),
                reason: format!("not valid UTF-8 (line {line}, byte {at}): save the file as UTF-8"),
            })
        }
    }
}

fn io_error(path: &Path, e: io::Error) -> LayoutError {
    if e.kind() == io::ErrorKind::NotFound {
        LayoutError::NotFound(path.to_path_buf())
    } else {
        LayoutError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

/// `path` made absolute and free of `.`/`..`, without requiring it to exist.
fn absolute(path: &Path) -> Result<PathBuf, LayoutError> {
    if let Ok(p) = fs::canonicalize(path) {
        return Ok(p);
    }
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| io_error(path, e))?
            .join(path)
    };
    if !joined.exists() {
        return Err(LayoutError::NotFound(path.to_path_buf()));
    }
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    Ok(out)
}

/// What displayed paths of files in `dir` are relative to: the folder the user named when
/// the migrations are below it, else its parent so the folder's own name shows.
fn display_base(dir: &Path, base: &Path) -> PathBuf {
    if dir != base && dir.starts_with(base) {
        base.to_path_buf()
    } else {
        dir.parent().unwrap_or(dir).to_path_buf()
    }
}

/// `path` relative to `base` with `/` separators; the full path when it is not below `base`.
fn display_path(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::RootDir => Some(String::new()),
            _ => None,
        })
        .collect();
    let s = parts.join("/");
    if s.is_empty() {
        name_of(path).to_string()
    } else {
        s
    }
}

/// Entries of a folder, hidden ones (`.gitkeep`, `.DS_Store`) left out, sorted by name.
fn visible_entries(dir: &Path) -> Result<Vec<PathBuf>, LayoutError> {
    let rd = fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        out.push(entry.path());
    }
    out.sort();
    Ok(out)
}

fn name_of(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

fn is_sql_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 4 && b[b.len() - 4..].eq_ignore_ascii_case(b".sql")
}

fn is_sql_file(p: &Path) -> bool {
    is_sql_name(name_of(p)) && p.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_digit_runs_as_numbers() {
        let mut v = vec![
            "10_x.sql",
            "2_x.sql",
            "1_a.sql",
            "001_b.sql",
            "a.sql",
            "2_a.sql",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "1_a.sql",
                "001_b.sql",
                "2_a.sql",
                "2_x.sql",
                "10_x.sql",
                "a.sql"
            ]
        );
    }

    #[test]
    fn flyway_names_parse() {
        let v = |s: &str| flyway_name(Path::new(s));
        assert_eq!(
            v("V1.1__add.sql"),
            Some(FlywayName::Versioned(
                vec!["1".into(), "1".into()],
                "add".into()
            ))
        );
        assert_eq!(
            v("V2_1__x.sql"),
            Some(FlywayName::Versioned(
                vec!["2".into(), "1".into()],
                "x".into()
            ))
        );
        assert_eq!(
            v("R__views.sql"),
            Some(FlywayName::Repeatable("views".into()))
        );
        assert_eq!(v("U3__undo.sql"), Some(FlywayName::Undo));
        assert_eq!(v("V__x.sql"), None);
        assert_eq!(v("Vx__x.sql"), None);
        assert_eq!(v("init.sql"), None);
        let a = vec!["1".to_string(), "10".to_string()];
        let b = vec!["1".to_string(), "9".to_string()];
        assert_eq!(cmp_version(&a, &b), Ordering::Greater);
        assert_eq!(
            cmp_version(&["1".to_string()], &["1".to_string(), String::new()]),
            Ordering::Equal
        );
    }

    #[test]
    fn dbmate_sections() {
        let text = "-- migrate:up\ncreate table a (id int);\n\n-- migrate:down\ndrop table a;\n";
        let (sql, line, tx) = dbmate_up(text).unwrap();
        assert_eq!(sql, "create table a (id int);\n\n");
        assert_eq!(line, 2);
        assert_eq!(tx, TxMode::Auto);
        let text =
            "-- comment\n-- migrate:up transaction:false\ncreate index concurrently i on a (id);\n";
        let (sql, line, tx) = dbmate_up(text).unwrap();
        assert_eq!(sql, "create index concurrently i on a (id);\n");
        assert_eq!(line, 3);
        assert_eq!(tx, TxMode::None);
        assert!(dbmate_up("-- migrate:upx\n").is_none());
    }

    #[test]
    fn seed_config_is_read() {
        let text = r#"
[db]
port = 54322
[db.seed]
# comment
enabled = true
sql_paths = [
  "./seed.sql", # main
  './seeds/*.sql',
]
[api]
enabled = false
"#;
        let (enabled, paths) = parse_seed_config(text);
        assert!(enabled);
        assert_eq!(
            paths,
            Some(vec!["./seed.sql".to_string(), "./seeds/*.sql".to_string()])
        );
        let (enabled, paths) = parse_seed_config("[db.seed]\nenabled = false\n");
        assert!(!enabled);
        assert_eq!(paths, None);
    }

    #[test]
    fn globs() {
        assert!(glob_match("seeds/*.sql", "seeds/a.sql"));
        assert!(!glob_match("seeds/*.sql", "seeds/x/a.sql"));
        assert!(glob_match("seeds/**/*.sql", "seeds/x/a.sql"));
        assert!(glob_match("seeds/**/*.sql", "seeds/a.sql"));
        assert!(glob_match("seed?.sql", "seed1.sql"));
        assert!(glob_match("seed[0-9].sql", "seed1.sql"));
        assert!(!glob_match("seed[!0-9].sql", "seed1.sql"));
    }
}
