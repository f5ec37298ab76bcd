//! A throwaway PostgreSQL cluster, started from the machine's server binaries.
//!
//! [`Cluster::start`] copies an initdb'd template (built once and kept in the user cache dir)
//! into a private temp dir and runs `postgres` on a Unix socket there (fsync off, no TCP). As
//! root the server runs as the `postgres` user. The cluster is removed when it is dropped or
//! [stopped](Cluster::stop); [`install_signal_cleanup`] removes live clusters on Ctrl-C; and a
//! detached watcher process removes it if this process dies without doing either (SIGKILL, a
//! test binary exiting with the cluster in a `static`).
//!
//! A `Cluster` does not depend on the tokio runtime it was started on: the server is a plain
//! child process, and each [`connect`](Cluster::connect) spawns its connection task on the
//! caller's runtime.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

mod binaries;
mod fsutil;
mod process;
mod template;

pub use process::install_signal_cleanup;

/// Environment variable naming the directory that holds `initdb` and `postgres`.
pub const BINDIR_ENV: &str = "DBAUDIT_PG_BINDIR";

/// How long to wait for the server to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Lines of the server log (or initdb output) quoted in errors.
const LOG_TAIL_LINES: usize = 20;

#[derive(Debug, Clone)]
pub struct ServerBinaries {
    pub bindir: PathBuf,
    /// e.g. `15.18`
    pub version: String,
    pub major: u32,
}

impl ServerBinaries {
    /// Find the server binaries: `$DBAUDIT_PG_BINDIR` when set (and then only there), else
    /// `initdb` and `postgres` on `PATH` (symlinks resolved), else `pg_config --bindir`, else
    /// `/usr/lib/postgresql/*/bin` (highest major version first).
    pub fn find() -> Result<Self, ClusterError> {
        binaries::find()
    }

    /// The first of `dirs` that holds a working `initdb` and `postgres`.
    pub fn find_in(dirs: &[PathBuf]) -> Result<Self, ClusterError> {
        binaries::find_in(dirs)
    }

    pub fn initdb(&self) -> PathBuf {
        self.bindir.join("initdb")
    }

    pub fn postgres(&self) -> PathBuf {
        self.bindir.join("postgres")
    }
}

#[derive(Debug, Clone, Default)]
pub struct TcpOptions {
    /// Require a password (scram-sha-256) for TCP connections; the superuser gets this one.
    pub password: Option<String>,
    /// Serve TLS with this certificate and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
}

#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Use these binaries instead of searching.
    pub binaries: Option<ServerBinaries>,
    /// Start from the template that already holds the Supabase environment.
    pub supabase: bool,
    /// Also listen on 127.0.0.1 (tests of TCP, passwords and TLS only; dbaudit itself never does).
    pub tcp: Option<TcpOptions>,
    /// Extra server settings, passed as `-c name=value` after ours (so they win).
    pub settings: Vec<(String, String)>,
    /// Where templates are kept (default: `<user cache dir>/dbaudit/templates`).
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct StartTimings {
    /// The template had to be built (initdb) in this run.
    pub cold: bool,
    pub template_ms: u64,
    pub copy_ms: u64,
    pub start_ms: u64,
}

/// A running throwaway cluster. Dropping it stops the server and removes its files.
pub struct Cluster {
    bins: ServerBinaries,
    work_dir: PathBuf,
    data_dir: PathBuf,
    sock_dir: PathBuf,
    log_path: PathBuf,
    port: u16,
    tcp_port: Option<u16>,
    child: Option<Child>,
    live_id: u64,
    timings: StartTimings,
    torn_down: bool,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("version", &self.bins.version)
            .field("work_dir", &self.work_dir)
            .field("port", &self.port)
            .field("tcp_port", &self.tcp_port)
            .field("pid", &self.child.as_ref().map(Child::id))
            .finish()
    }
}

impl Cluster {
    pub async fn start(opts: ClusterOptions) -> Result<Cluster, ClusterError> {
        let variant = if opts.supabase {
            template::Variant::supabase()
        } else {
            template::Variant::Plain
        };
        Self::start_variant(opts, variant).await
    }

    async fn start_variant(
        opts: ClusterOptions,
        variant: template::Variant,
    ) -> Result<Cluster, ClusterError> {
        let bins = match opts.binaries.clone() {
            Some(b) => b,
            None => blocking(ServerBinaries::find).await?,
        };
        let run_as = process::run_as()?;

        let t0 = Instant::now();
        let tpl = template::ensure(&bins, variant, run_as, opts.cache_dir.as_deref()).await?;
        let template_ms = ms(t0.elapsed());

        // From here on, `cluster` owns the work dir: any early return removes it (Drop).
        let work_dir = fsutil::make_work_dir("dbaudit-", run_as)?;
        let live_id = process::register(&work_dir);
        process::spawn_janitor(&work_dir);
        let mut cluster = Cluster {
            data_dir: work_dir.join("data"),
            sock_dir: work_dir.join("sock"),
            log_path: work_dir.join("server.log"),
            work_dir,
            bins,
            port: 0,
            tcp_port: None,
            child: None,
            live_id,
            timings: StartTimings {
                cold: tpl.cold,
                template_ms,
                ..StartTimings::default()
            },
            torn_down: false,
        };

        let t1 = Instant::now();
        {
            let (src, data, sock) = (
                tpl.dir.clone(),
                cluster.data_dir.clone(),
                cluster.sock_dir.clone(),
            );
            blocking(move || {
                fsutil::copy_tree(&src, &data, run_as)?;
                fsutil::make_private_dir(&sock, run_as)
            })
            .await?;
        }
        cluster.timings.copy_ms = ms(t1.elapsed());

        let mut settings = base_settings();
        if let Some(tcp) = &opts.tcp {
            cluster.prepare_tcp(tcp, run_as, &mut settings)?;
        }
        settings.extend(opts.settings.iter().cloned());

        let t2 = Instant::now();
        let attempts = if opts.tcp.is_some() { 3 } else { 1 };
        for attempt in 1..=attempts {
            let port = process::free_port();
            let child = process::spawn_postgres(
                &cluster.bins,
                &cluster.data_dir,
                &cluster.sock_dir,
                port,
                &cluster.log_path,
                &settings,
                run_as,
            )?;
            process::set_pid(cluster.live_id, child.id());
            let mut guard = process::ChildGuard::new(child);
            let ready = process::wait_ready(
                &mut guard,
                &cluster.sock_dir,
                port,
                &cluster.log_path,
                START_TIMEOUT,
            )
            .await;
            match ready {
                Ok(()) => {
                    cluster.child = guard.release();
                    cluster.port = port;
                    break;
                }
                Err(e) => {
                    drop(guard);
                    let port_taken = fsutil::read_tail(&cluster.log_path, LOG_TAIL_LINES)
                        .contains("could not bind");
                    if attempt < attempts && port_taken {
                        continue;
                    }
                    return Err(e);
                }
            }
        }
        if let Some(tcp) = &opts.tcp {
            cluster.tcp_port = Some(cluster.port);
            if let Some(password) = &tcp.password {
                let client = cluster.connect("postgres").await?;
                client
                    .batch_execute(&format!(
                        "ALTER ROLE postgres PASSWORD {}",
                        quote_literal(password)
                    ))
                    .await
                    .map_err(|e| ClusterError::Sql {
                        reason: format!("setting the superuser password: {}", db_error_text(&e)),
                    })?;
            }
        }
        cluster.timings.start_ms = ms(t2.elapsed());
        Ok(cluster)
    }

    fn prepare_tcp(
        &self,
        tcp: &TcpOptions,
        run_as: Option<process::RunAs>,
        settings: &mut Vec<(String, String)>,
    ) -> Result<(), ClusterError> {
        let method = if tcp.password.is_some() {
            "scram-sha-256"
        } else {
            "trust"
        };
        let hba = format!(
            "# written by dbaudit\nlocal all all trust\nhost all all 127.0.0.1/32 {method}\n"
        );
        let hba_path = self.data_dir.join("pg_hba.conf");
        std::fs::write(&hba_path, hba).map_err(|e| io_err("writing", &hba_path, e))?;
        fsutil::chown(&hba_path, run_as)?;
        set(settings, "listen_addresses", "127.0.0.1");
        set(settings, "password_encryption", "scram-sha-256");
        if let Some((cert, key)) = &tcp.tls {
            for (src, name) in [(cert, "server.crt"), (key, "server.key")] {
                let dst = self.data_dir.join(name);
                std::fs::copy(src, &dst).map_err(|e| io_err("copying TLS file", src, e))?;
                fsutil::set_mode(&dst, 0o600)?;
                fsutil::chown(&dst, run_as)?;
            }
            set(settings, "ssl", "on");
            set(settings, "ssl_cert_file", "server.crt");
            set(settings, "ssl_key_file", "server.key");
        }
        Ok(())
    }

    /// The directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.sock_dir
    }

    /// The server's port (the Unix socket is `<socket_dir>/.s.PGSQL.<port>`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TCP port on 127.0.0.1, when started with [`ClusterOptions::tcp`].
    pub fn tcp_port(&self) -> Option<u16> {
        self.tcp_port
    }

    /// A libpq keyword/value connection string for `dbname` over the Unix socket.
    pub fn conn_string(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname={}",
            conninfo_value(&self.sock_dir.to_string_lossy()),
            self.port,
            conninfo_value(dbname)
        )
    }

    /// The same as a `postgresql://` URL (socket directory percent-encoded as the host).
    pub fn conn_url(&self, dbname: &str) -> String {
        format!(
            "postgresql://postgres@{}:{}/{}",
            percent_encode(&self.sock_dir.to_string_lossy()),
            self.port,
            percent_encode(dbname)
        )
    }

    /// A client connected to `dbname` over the Unix socket, its connection task spawned on the
    /// current tokio runtime.
    pub async fn connect(&self, dbname: &str) -> Result<tokio_postgres::Client, ClusterError> {
        let (client, conn) = process::pg_config(&self.sock_dir, self.port, dbname)
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| ClusterError::Connect {
                reason: format!(
                    "database \"{dbname}\" on {}: {}",
                    self.sock_dir.display(),
                    db_error_text(&e)
                ),
            })?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(client)
    }

    /// `CREATE DATABASE "name" TEMPLATE template1`.
    pub async fn create_database(&self, name: &str) -> Result<(), ClusterError> {
        if name.is_empty() || name.contains('\0') {
            return Err(ClusterError::Sql {
                reason: format!("invalid database name {name:?}"),
            });
        }
        let client = self.connect("postgres").await?;
        client
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE template1",
                quote_ident(name)
            ))
            .await
            .map_err(|e| ClusterError::Sql {
                reason: format!("creating database \"{name}\": {}", db_error_text(&e)),
            })
    }

    /// The server's version, e.g. `15.18`.
    pub fn server_version(&self) -> &str {
        &self.bins.version
    }

    pub fn binaries(&self) -> &ServerBinaries {
        &self.bins
    }

    pub fn timings(&self) -> &StartTimings {
        &self.timings
    }

    /// The private temp dir holding `data/`, `sock/` and `server.log`; removed on stop/drop.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server's log (stderr).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The postmaster's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stop the server (fast shutdown) and remove the cluster's files.
    pub async fn stop(mut self) -> Result<(), ClusterError> {
        blocking(move || self.teardown()).await
    }

    fn teardown(&mut self) -> Result<(), ClusterError> {
        if self.torn_down {
            return Ok(());
        }
        self.torn_down = true;
        if let Some(mut child) = self.child.take() {
            process::shutdown(&mut child);
        }
        let removed = fsutil::remove_tree(&self.work_dir);
        process::unregister(self.live_id);
        removed
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.teardown();
    }
}

fn base_settings() -> Vec<(String, String)> {
    [
        ("listen_addresses", ""),
        ("fsync", "off"),
        ("synchronous_commit", "off"),
        ("full_page_writes", "off"),
        ("shared_buffers", "128MB"),
        ("max_connections", "100"),
        ("logging_collector", "off"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn set(settings: &mut Vec<(String, String)>, name: &str, value: &str) {
    settings.retain(|(k, _)| k != name);
    settings.push((name.to_string(), value.to_string()));
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "no PostgreSQL server binaries (initdb and postgres) found; searched {}. Install the \
         PostgreSQL server (e.g. `apt-get install postgresql`), set DBAUDIT_PG_BINDIR, or audit \
         a live database with --db URL",
        list_paths(searched)
    )]
    NoBinaries { searched: Vec<PathBuf> },

    #[error(
        "running as root, and PostgreSQL refuses to run as root, but there is no `postgres` user \
         to run it as: create one (e.g. `useradd --system --user-group postgres`), run dbaudit as \
         a normal user, or audit a live database with --db URL"
    )]
    NoUnprivilegedUser,

    #[error(
        "initdb failed ({status}) while building the cluster template in {}; its output \
         ends with:\n{output}",
        dir.display()
    )]
    Initdb {
        dir: PathBuf,
        status: String,
        output: String,
    },

    #[error(
        "the throwaway PostgreSQL server did not start: {reason}. Its log ends with:\n{log_tail}"
    )]
    StartFailed {
        reason: String,
        log: PathBuf,
        log_tail: String,
    },

    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("could not connect to the throwaway server: {reason}")]
    Connect { reason: String },

    #[error("SQL on the throwaway server failed: {reason}")]
    Sql { reason: String },
}

fn list_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "PATH, `pg_config --bindir` and /usr/lib/postgresql/*/bin (nothing there)".into();
    }
    let mut s = String::new();
    for (i, p) in paths.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{}", p.display());
    }
    s
}

pub(crate) fn io_err(what: &'static str, path: &Path, source: std::io::Error) -> ClusterError {
    ClusterError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Run blocking work off the async worker threads.
async fn blocking<T, F>(f: F) -> Result<T, ClusterError>
where
    F: FnOnce() -> Result<T, ClusterError> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(ClusterError::Io {
            what: "a background task failed",
            path: PathBuf::new(),
            source: std::io::Error::other(e.to_string()),
        }),
    }
}

/// `"name"` with embedded quotes doubled.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` with embedded quotes doubled (standard_conforming_strings is on).
pub(crate) fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A server error as `SQLSTATE: message (detail)`, or the client error's text.
pub(crate) fn db_error_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("{}: {}", db.code().code(), db.message());
            if let Some(d) = db.detail() {
                let _ = write!(s, " ({d})");
            }
            s
        }
        None => e.to_string(),
    }
}

fn conninfo_value(v: &str) -> String {
    if !v.is_empty() && !v.contains([' ', '\'', '\\', '\t', '\n']) {
        return v.to_string();
    }
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn percent_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The environment variant's machinery (the Supabase template's), with SQL of our own.
    #[tokio::test]
    async fn env_template_is_in_every_database() {
        let cache = tempfile::tempdir().expect("tempdir");
        let opts = ClusterOptions {
            cache_dir: Some(cache.path().to_path_buf()),
            ..ClusterOptions::default()
        };
        let variant = template::Variant::Env {
            name: "testenv",
            sql: "CREATE ROLE anon NOLOGIN; CREATE SCHEMA auth; CREATE TABLE auth.users (id int);",
        };
        let c = Cluster::start_variant(opts.clone(), variant)
            .await
            .expect("start");
        assert!(c.timings().cold);
        c.create_database("fresh").await.expect("create");
        for db in ["postgres", "template1", "fresh"] {
            let client = c.connect(db).await.expect("connect");
            let row = client
                .query_one(
                    "SELECT to_regclass('auth.users') IS NOT NULL, \
                     (SELECT count(*) FROM pg_database WHERE datname = 'dbaudit_scratch')",
                    &[],
                )
                .await
                .expect("query");
            assert!(row.get::<_, bool>(0), "auth.users in {db}");
            assert_eq!(row.get::<_, i64>(1), 0);
        }
        drop(c);
        let warm = Cluster::start_variant(opts.clone(), variant)
            .await
            .expect("warm start");
        assert!(!warm.timings().cold);
        let names: Vec<String> = std::fs::read_dir(cache.path())
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].contains("-testenv-"), "{names:?}");

        // SQL that fails: a clear error, nothing cached.
        let broken = template::Variant::Env {
            name: "broken",
            sql: "CREATE SCHEMA x; SELECT no_such_function();",
        };
        let err = Cluster::start_variant(opts, broken)
            .await
            .expect_err("broken env");
        assert!(matches!(err, ClusterError::Sql { .. }), "{err}");
        assert!(err.to_string().contains("no_such_function"), "{err}");
        let names: Vec<String> = std::fs::read_dir(cache.path())
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(conninfo_value("/tmp/x"), "/tmp/x");
        assert_eq!(conninfo_value("a b'c"), "'a b\\'c'");
        assert_eq!(percent_encode("/tmp/a b"), "%2Ftmp%2Fa%20b");
    }

    #[test]
    fn no_binaries_message() {
        let e = ClusterError::NoBinaries {
            searched: vec![PathBuf::from("/nowhere")],
        };
        let msg = e.to_string();
        assert!(msg.contains("/nowhere"), "{msg}");
        assert!(msg.contains("apt-get install postgresql"), "{msg}");
        assert!(msg.contains("DBAUDIT_PG_BINDIR"), "{msg}");
        assert!(msg.contains("--db URL"), "{msg}");
    }
}
