//! Migration layouts: find the files a project's migration tool would run, in its order.
//! (Types are the contract; detection is being written.)

use std::path::{Path, PathBuf};

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
    #[error("{0}: the folder is empty: point --migrations at the folder that holds the .sql files")]
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

/// Detect the layout of `path` (a project root or a migrations folder) and list its files.
pub fn detect(path: &Path) -> Result<MigrationSet, LayoutError> {
    let _ = path;
    unimplemented!("layout detection is being written")
}

/// No `--migrations` flag: look for the known folders under `cwd`.
pub fn discover(cwd: &Path) -> Result<MigrationSet, LayoutError> {
    let _ = cwd;
    unimplemented!("layout discovery is being written")
}

/// A seed file given with `--seed FILE`.
pub fn seed_file(path: &Path, base: &Path) -> Result<MigrationFile, LayoutError> {
    let _ = (path, base);
    unimplemented!("seed loading is being written")
}
