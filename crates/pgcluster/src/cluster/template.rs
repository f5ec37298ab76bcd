//! The template data directory: initdb'd once per server version and variant, kept in the
//! user cache dir (`<cache>/dbaudit/templates/pg<version>-<variant>-<hash>`), and copied for
//! every run.
//!
//! Built in a private temp dir (where the unprivileged server user can work), copied into a
//! hidden sibling of its final name in the cache and renamed into place, all under an `flock`
//! on `.<name>.lock`, so concurrent builders (parallel test binaries) neither collide nor ever
//! see a half-built template.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::fcntl::{Flock, FlockArg};
use sha2::{Digest, Sha256};

use super::process::{self, RunAs};
use super::{base_settings, blocking, db_error_text, fsutil, io_err, ClusterError, ServerBinaries};
use super::{LOG_TAIL_LINES, START_TIMEOUT};

/// Bump when the way templates are built changes.
const FORMAT: &str = "dbaudit-template-1";
const INITDB_ARGS: &[&str] = &[
    "-U",
    "postgres",
    "--auth=trust",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
];

/// What the template holds beyond a fresh initdb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    Plain,
    /// An environment built by running SQL in `template1` (then `postgres` is recreated
    /// from it): the Supabase one, or another in tests.
    Env {
        name: &'static str,
        sql: &'static str,
    },
}

impl Variant {
    pub(crate) fn supabase() -> Variant {
        Variant::Env {
            name: "supabase",
            sql: crate::supabase::env_sql(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::Env { name, .. } => name,
        }
    }
}

pub(crate) struct Template {
    pub(crate) dir: PathBuf,
    /// Built by this call.
    pub(crate) cold: bool,
}

/// The template for `variant`, building it if needed.
pub(crate) async fn ensure(
    bins: &ServerBinaries,
    variant: Variant,
    run_as: Option<RunAs>,
    cache_dir: Option<&Path>,
) -> Result<Template, ClusterError> {
    let root = match cache_dir {
        Some(d) => d.to_path_buf(),
        None => cache_root()?,
    };
    let name = format!(
        "pg{}-{}-{}",
        bins.version,
        variant.name(),
        key(bins, variant)
    );
    let dir = root.join(&name);
    if is_complete(&dir) {
        return Ok(Template { dir, cold: false });
    }
    fs::create_dir_all(&root).map_err(|e| cache_err(&root, e))?;
    let lock_path = root.join(format!(".{name}.lock"));
    let lock_file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| cache_err(&lock_path, e))?;
    let lp = lock_path.clone();
    let lock = blocking(move || {
        Flock::lock(lock_file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| io_err("locking", &lp, std::io::Error::from(errno)))
    })
    .await?;
    if is_complete(&dir) {
        // Someone else built it while we waited.
        return Ok(Template { dir, cold: false });
    }
    // Holding the lock: whatever partial state is here is from a builder that died.
    remove_leftovers(&root, &name)?;
    fsutil::remove_tree(&dir)?;

    let built = build(bins, variant, run_as).await?;
    let staging = root.join(format!(".{name}.tmp-{}", std::process::id()));
    let (data, st) = (built.data(), staging.clone());
    let copied = blocking(move || fsutil::copy_tree(&data, &st, None)).await;
    drop(built);
    if let Err(e) = copied {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    if let Err(e) = fs::rename(&staging, &dir) {
        let _ = fs::remove_dir_all(&staging);
        return Err(cache_err(&dir, e));
    }
    drop(lock);
    Ok(Template { dir, cold: true })
}

fn cache_root() -> Result<PathBuf, ClusterError> {
    match dirs::cache_dir() {
        Some(d) => Ok(d.join("dbaudit").join("templates")),
        None => Err(ClusterError::Io {
            what: "finding the user cache directory (set HOME or XDG_CACHE_HOME) for",
            path: PathBuf::from("dbaudit/templates"),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no cache directory"),
        }),
    }
}

fn cache_err(path: &Path, e: std::io::Error) -> ClusterError {
    io_err(
        "using the template cache (set XDG_CACHE_HOME to a writable directory to move it)",
        path,
        e,
    )
}

fn is_complete(dir: &Path) -> bool {
    dir.join("PG_VERSION").is_file() && dir.join("global").join("pg_control").is_file()
}

fn remove_leftovers(root: &Path, name: &str) -> Result<(), ClusterError> {
    let prefix = format!(".{name}.tmp-");
    let entries = fs::read_dir(root).map_err(|e| cache_err(root, e))?;
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            fsutil::remove_tree(&entry.path())?;
        }
    }
    Ok(())
}

/// Hash of everything the template's contents depend on.
fn key(bins: &ServerBinaries, variant: Variant) -> String {
    let mut h = Sha256::new();
    for part in [FORMAT, &bins.version, variant.name()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for a in INITDB_ARGS {
        h.update(a.as_bytes());
        h.update([0]);
    }
    for (k, v) in base_settings() {
        h.update(format!("{k}={v}").as_bytes());
        h.update([0]);
    }
    if let Variant::Env { sql, .. } = variant {
        h.update(sql.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

/// A build directory in the temp dir; removed (server stopped) when dropped.
struct Build {
    work: PathBuf,
    live_id: u64,
    child: Option<std::process::Child>,
}

impl Build {
    fn data(&self) -> PathBuf {
        self.work.join("data")
    }
}

impl Drop for Build {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::shutdown(&mut child);
        }
        let _ = fsutil::remove_tree(&self.work);
        process::unregister(self.live_id);
    }
}

async fn build(
    bins: &ServerBinaries,
    variant: Variant,
    run_as: Option<RunAs>,
) -> Result<Build, ClusterError> {
    let work = fsutil::make_work_dir("dbaudit-build-", run_as)?;
    let live_id = process::register(&work);
    process::spawn_janitor(&work);
    let mut b = Build {
        work,
        live_id,
        child: None,
    };
    let data = b.data();

    let mut cmd = Command::new(bins.initdb());
    cmd.arg("-D")
        .arg(&data)
        .args(INITDB_ARGS)
        .current_dir(&b.work)
        .env("LC_ALL", "C")
        .env_remove("PGDATA")
        .stdin(Stdio::null());
    process::apply_run_as(&mut cmd, run_as);
    let initdb = bins.initdb();
    let out = blocking(move || cmd.output().map_err(|e| io_err("running", &initdb, e))).await?;
    if !out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stdout).to_string();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        let lines: Vec<&str> = text.lines().collect();
        return Err(ClusterError::Initdb {
            dir: data,
            status: out.status.to_string(),
            output: lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n"),
        });
    }

    if let Variant::Env { sql, .. } = variant {
        let sock = b.work.join("sock");
        let log = b.work.join("server.log");
        fsutil::make_private_dir(&sock, run_as)?;
        let port = process::free_port();
        let child =
            process::spawn_postgres(bins, &data, &sock, port, &log, &base_settings(), run_as)?;
        process::set_pid(b.live_id, child.id());
        let mut guard = process::ChildGuard::new(child);
        process::wait_ready(&mut guard, &sock, port, &log, START_TIMEOUT).await?;
        b.child = guard.release();
        build_env(&sock, port, sql).await?;
        if let Some(mut child) = b.child.take() {
            if !process::shutdown(&mut child) {
                return Err(ClusterError::StartFailed {
                    reason: "the template server did not shut down cleanly".into(),
                    log_tail: fsutil::read_tail(&log, LOG_TAIL_LINES),
                    log,
                });
            }
        }
    }
    Ok(b)
}

/// Run `env_sql` in `template1`, then recreate `postgres` from it.
async fn build_env(sock: &Path, port: u16, env_sql: &str) -> Result<(), ClusterError> {
    async fn run(sock: &Path, port: u16, db: &str, sqls: &[&str]) -> Result<(), ClusterError> {
        let (client, conn) = process::pg_config(sock, port, db)
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| ClusterError::Connect {
                reason: format!("template server, database {db}: {}", db_error_text(&e)),
            })?;
        let task = tokio::spawn(conn);
        let mut result = Ok(());
        for sql in sqls {
            result = client.batch_execute(sql).await;
            if result.is_err() {
                break;
            }
        }
        drop(client);
        // Wait for the session to end, so that template1 is free to copy.
        let _ = task.await;
        result.map_err(|e| ClusterError::Sql {
            reason: format!(
                "building the template's environment (database {db}): {}",
                db_error_text(&e)
            ),
        })
    }
    // (DROP/CREATE DATABASE cannot share a query string: each runs on its own.)
    run(sock, port, "template1", &[env_sql]).await?;
    let scratch = "CREATE DATABASE dbaudit_scratch TEMPLATE template0";
    run(sock, port, "postgres", &[scratch]).await?;
    let recreate = [
        "DROP DATABASE postgres",
        "CREATE DATABASE postgres TEMPLATE template1",
    ];
    run(sock, port, "dbaudit_scratch", &recreate).await?;
    run(sock, port, "postgres", &["DROP DATABASE dbaudit_scratch"]).await
}
