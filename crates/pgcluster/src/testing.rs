//! Test support for integration tests that need a PostgreSQL server.
//!
//! One throwaway cluster per test binary, started on first use and shared by every test in
//! it; a fresh database per test:
//!
//! ```no_run
//! use dbaudit_pgcluster::testing::test_db;
//!
//! #[tokio::test]
//! async fn reads_tables() {
//!     let db = test_db("reads_tables").await;
//!     db.client.batch_execute("CREATE TABLE t (id int)").await.unwrap();
//!     // More connections to the same database: `db.connect().await`,
//!     // or hand `db.conn_string()` / `db.conn_url()` to code that connects itself.
//! }
//! ```
//!
//! [`test_db_supabase`] does the same on a second shared cluster whose template holds the
//! Supabase environment (roles, `auth`, `storage`, …).
//!
//! The clusters live in `static`s and are never dropped: when the test binary exits, the
//! janitor process each cluster starts stops its server and removes its files within about a
//! second. Each `#[tokio::test]` has its own runtime; the cluster does not depend on any of
//! them (it is started on a thread of its own), and `client` runs on the calling test's runtime.
//!
//! Everything here panics on failure, with a message saying what went wrong: it is for tests.
//! When the machine has no PostgreSQL server binaries the panic says how to install them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::cluster::{Cluster, ClusterOptions};

/// A database of its own for one test.
pub struct TestDb {
    /// The shared cluster (also usable to create more databases).
    pub cluster: &'static Cluster,
    /// Connected to `dbname` as the superuser `postgres`.
    pub client: tokio_postgres::Client,
    pub dbname: String,
}

impl TestDb {
    /// Another client connected to this database (on the current runtime).
    pub async fn connect(&self) -> tokio_postgres::Client {
        match self.cluster.connect(&self.dbname).await {
            Ok(c) => c,
            Err(e) => panic!("connecting to test database {}: {e}", self.dbname),
        }
    }

    /// libpq keyword/value connection string for this database (Unix socket, no password).
    pub fn conn_string(&self) -> String {
        self.cluster.conn_string(&self.dbname)
    }

    /// `postgresql://` URL for this database (Unix socket, no password).
    pub fn conn_url(&self) -> String {
        self.cluster.conn_url(&self.dbname)
    }
}

/// A fresh database on this test binary's shared plain cluster.
pub async fn test_db(name_hint: &str) -> TestDb {
    fresh_db(shared_cluster(), name_hint).await
}

/// A fresh database on this test binary's shared Supabase cluster.
pub async fn test_db_supabase(name_hint: &str) -> TestDb {
    fresh_db(shared_supabase_cluster(), name_hint).await
}

/// This test binary's shared plain cluster (started on first use).
pub fn shared_cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    get(&CLUSTER, false)
}

/// This test binary's shared cluster with the Supabase environment (started on first use).
pub fn shared_supabase_cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    get(&CLUSTER, true)
}

fn get(cell: &'static OnceLock<Result<Cluster, String>>, supabase: bool) -> &'static Cluster {
    match cell.get_or_init(|| start_detached(supabase)) {
        Ok(c) => c,
        Err(e) => panic!("the shared test cluster could not start: {e}"),
    }
}

/// Start a cluster on a thread and runtime of its own, so it outlives the calling test's.
fn start_detached(supabase: bool) -> Result<Cluster, String> {
    let handle = std::thread::Builder::new()
        .name("dbaudit-test-cluster".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("building a tokio runtime: {e}"))?;
            rt.block_on(Cluster::start(ClusterOptions {
                supabase,
                ..ClusterOptions::default()
            }))
            .map_err(|e| e.to_string())
        })
        .map_err(|e| format!("spawning a thread: {e}"))?;
    handle
        .join()
        .unwrap_or_else(|_| Err("starting the cluster panicked (see the output above)".into()))
}

async fn fresh_db(cluster: &'static Cluster, name_hint: &str) -> TestDb {
    let dbname = unique_name(name_hint);
    if let Err(e) = cluster.create_database(&dbname).await {
        panic!("creating test database {dbname}: {e}");
    }
    let client = match cluster.connect(&dbname).await {
        Ok(c) => c,
        Err(e) => panic!("connecting to test database {dbname}: {e}"),
    };
    TestDb {
        cluster,
        client,
        dbname,
    }
}

/// `t_<hint>_<n>`: lowercase letters, digits and `_`, at most 63 bytes, unique in the process.
fn unique_name(hint: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut clean: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if clean.is_empty() {
        clean.push_str("db");
    }
    format!("t_{clean}_{n}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        let a = super::unique_name("Some Test::name");
        let b = super::unique_name("Some Test::name");
        assert!(a.starts_with("t_some_test__name_"), "{a}");
        assert_ne!(a, b);
        assert!(super::unique_name(&"x".repeat(200)).len() <= 63);
        assert!(super::unique_name("").starts_with("t_db_"));
    }
}
