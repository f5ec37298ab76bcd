//! The throwaway cluster: start (cold and warm), connect, databases, cleanup in every case.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dbaudit_pgcluster::cluster::{
    Cluster, ClusterError, ClusterOptions, ServerBinaries, TcpOptions,
};

/// Tests that re-run this binary as a child process use this variable to pick the child's role.
const CHILD_ENV: &str = "DBAUDIT_PGCLUSTER_TEST_CHILD";

fn child_role() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// Run the test `name` of this binary in a child process with `role`.
fn child(name: &str, role: &str) -> Command {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role);
    cmd
}

fn pid_alive(pid: u32) -> bool {
    // A zombie is as good as gone; /proc/<pid>/stat's state field says which it is.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

async fn start(opts: ClusterOptions) -> Cluster {
    match Cluster::start(opts).await {
        Ok(c) => c,
        Err(e) => panic!("cluster start failed: {e}"),
    }
}

#[tokio::test]
async fn cold_then_warm_start_with_own_cache() {
    let cache = tempfile::tempdir().expect("tempdir");
    let opts = ClusterOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        ..ClusterOptions::default()
    };
    let t = Instant::now();
    let cold = start(opts.clone()).await;
    let cold_ms = t.elapsed().as_millis();
    assert!(
        cold.timings().cold,
        "first start in an empty cache builds the template"
    );
    let t = Instant::now();
    let warm = start(opts.clone()).await;
    let warm_ms = t.elapsed().as_millis();
    assert!(!warm.timings().cold);
    assert_ne!(cold.port(), warm.port());
    eprintln!(
        "TIMING cold start: {cold_ms} ms {:?}; warm start: {warm_ms} ms {:?}",
        cold.timings(),
        warm.timings()
    );
    // Both serve queries.
    for c in [&cold, &warm] {
        let client = c.connect("postgres").await.expect("connect");
        let row = client.query_one("SHOW fsync", &[]).await.expect("query");
        assert_eq!(row.get::<_, String>(0), "off");
    }
    // The cache holds exactly one template (no leftovers from building it).
    let entries: Vec<String> = std::fs::read_dir(cache.path())
        .expect("read cache")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].starts_with(&format!("pg{}-plain-", cold.server_version())));
    cold.stop().await.expect("stop");
    drop(warm);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cold_starts_share_one_template() {
    let cache = tempfile::tempdir().expect("tempdir");
    let opts = ClusterOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        ..ClusterOptions::default()
    };
    let (a, b, c) = tokio::join!(
        Cluster::start(opts.clone()),
        Cluster::start(opts.clone()),
        Cluster::start(opts.clone())
    );
    let all = [a.expect("a"), b.expect("b"), c.expect("c")];
    let cold = all.iter().filter(|c| c.timings().cold).count();
    assert_eq!(cold, 1, "exactly one start builds the template");
    for c in &all {
        let client = c.connect("postgres").await.expect("connect");
        client.batch_execute("SELECT 1").await.expect("query");
    }
}

#[tokio::test]
async fn connect_create_database_and_version() {
    let c = start(ClusterOptions::default()).await;
    eprintln!("TIMING default-cache start: {:?}", c.timings());
    c.create_database("My \"odd\" db").await.expect("create db");
    let client = c.connect("My \"odd\" db").await.expect("connect");
    let row = client
        .query_one("SELECT current_database(), current_setting('server_version'), current_user, current_setting('listen_addresses')", &[])
        .await
        .expect("query");
    assert_eq!(row.get::<_, String>(0), "My \"odd\" db");
    let v: String = row.get(1);
    assert!(
        v.starts_with(c.server_version()),
        "{v} vs {}",
        c.server_version()
    );
    assert_eq!(row.get::<_, String>(2), "postgres");
    assert_eq!(row.get::<_, String>(3), "", "no TCP by default");
    assert_eq!(c.tcp_port(), None);

    // The new database comes from template1.
    client
        .batch_execute("CREATE TABLE t (id int)")
        .await
        .expect("ddl");
    let err = c
        .create_database("My \"odd\" db")
        .await
        .expect_err("exists");
    assert!(err.to_string().contains("42P04"), "{err}");
    assert!(c.create_database("").await.is_err());

    // Connection strings work for other clients.
    let s = c.conn_string("postgres");
    assert!(s.contains(&format!("port={}", c.port())), "{s}");
    let (client2, conn) = tokio_postgres::connect(&s, tokio_postgres::NoTls)
        .await
        .expect("conn_string connects");
    tokio::spawn(conn);
    client2.batch_execute("SELECT 1").await.expect("query");
    let (client3, conn) = tokio_postgres::connect(&c.conn_url("postgres"), tokio_postgres::NoTls)
        .await
        .expect("conn_url connects");
    tokio::spawn(conn);
    client3.batch_execute("SELECT 1").await.expect("query");

    // A missing database is a Connect error.
    let err = c.connect("nope").await.expect_err("no such db");
    assert!(matches!(err, ClusterError::Connect { .. }), "{err}");
}

#[tokio::test]
async fn socket_and_data_are_private() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let c = start(ClusterOptions::default()).await;
    for dir in [c.work_dir(), c.data_dir(), c.socket_dir()] {
        let m = std::fs::metadata(dir).expect("metadata");
        assert_eq!(m.permissions().mode() & 0o777, 0o700, "{}", dir.display());
        if nix::unistd::Uid::effective().is_root() {
            let pg = nix::unistd::User::from_name("postgres")
                .expect("getpwnam")
                .expect("postgres user");
            assert_eq!(
                m.uid(),
                pg.uid.as_raw(),
                "{} owned by postgres",
                dir.display()
            );
        }
    }
    assert!(c
        .socket_dir()
        .join(format!(".s.PGSQL.{}", c.port()))
        .exists());
}

#[tokio::test]
async fn stop_removes_everything() {
    let c = start(ClusterOptions::default()).await;
    let dir = c.work_dir().to_path_buf();
    let pid = c.pid().expect("running");
    assert!(dir.exists());
    c.stop().await.expect("stop");
    assert!(!dir.exists(), "stop removes {}", dir.display());
    assert!(!pid_alive(pid), "postmaster {pid} is gone");
}

#[tokio::test]
async fn drop_removes_everything() {
    let c = start(ClusterOptions::default()).await;
    let dir = c.work_dir().to_path_buf();
    let pid = c.pid().expect("running");
    // A live session does not keep the server up.
    let client = c.connect("postgres").await.expect("connect");
    drop(c);
    assert!(!dir.exists(), "drop removes {}", dir.display());
    assert!(!pid_alive(pid), "postmaster {pid} is gone");
    assert!(client.batch_execute("SELECT 1").await.is_err());
}

#[tokio::test]
async fn bad_setting_fails_with_log_tail_and_cleans_up() {
    let err = Cluster::start(ClusterOptions {
        settings: vec![("shared_buffers".into(), "banana".into())],
        ..ClusterOptions::default()
    })
    .await
    .expect_err("must not start");
    let msg = err.to_string();
    match &err {
        ClusterError::StartFailed { log_tail, log, .. } => {
            assert!(log_tail.contains("shared_buffers"), "{log_tail}");
            assert!(!log.exists(), "the failed cluster's dir is removed too");
        }
        other => panic!("expected StartFailed, got {other:?}"),
    }
    assert!(msg.contains("did not start"), "{msg}");
    assert!(msg.contains("invalid value for parameter"), "{msg}");
}

#[tokio::test]
async fn corrupt_config_fails_with_log_tail() {
    // A template of our own whose postgresql.conf is then broken: every cluster copied from it
    // fails to start, and the message quotes the server's complaint.
    let cache = tempfile::tempdir().expect("tempdir");
    let opts = ClusterOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        ..ClusterOptions::default()
    };
    drop(start(opts.clone()).await);
    let template = std::fs::read_dir(cache.path())
        .expect("read cache")
        .map(|e| e.expect("entry").path())
        .find(|p| p.is_dir())
        .expect("the template");
    std::fs::write(
        template.join("postgresql.conf"),
        "shared_buffers = 'unterminated\n",
    )
    .expect("break the config");
    let err = Cluster::start(opts).await.expect_err("must not start");
    let msg = err.to_string();
    assert!(matches!(err, ClusterError::StartFailed { .. }), "{err:?}");
    eprintln!("MESSAGE {msg}");
    assert!(msg.contains("postgresql.conf"), "{msg}");
    assert!(msg.contains("syntax error"), "{msg}");
}

#[test]
fn no_binaries_in_empty_dir() {
    let empty = tempfile::tempdir().expect("tempdir");
    let err = ServerBinaries::find_in(&[empty.path().to_path_buf()]).expect_err("none");
    let msg = err.to_string();
    assert!(matches!(err, ClusterError::NoBinaries { .. }));
    assert!(msg.contains(&empty.path().display().to_string()), "{msg}");
    assert!(msg.contains("apt-get install postgresql"), "{msg}");
    assert!(msg.contains("DBAUDIT_PG_BINDIR"), "{msg}");
    assert!(msg.contains("--db URL"), "{msg}");
}

#[test]
fn finds_the_machine_binaries() {
    let b = ServerBinaries::find().expect("this machine has PostgreSQL server binaries");
    assert!(b.initdb().exists() && b.postgres().exists());
    assert!(b.major >= 10, "{b:?}");
    assert!(b.version.starts_with(&b.major.to_string()));
}

/// DBAUDIT_PG_BINDIR pointing at an empty dir: only that dir is searched. Runs in a child
/// process so the variable does not leak into other tests.
#[test]
fn no_binaries_env_override() {
    if child_role().as_deref() == Some("nobin") {
        let dir = std::env::var("DBAUDIT_PG_BINDIR").expect("set by parent");
        let err = ServerBinaries::find().expect_err("none");
        match &err {
            ClusterError::NoBinaries { searched } => {
                assert_eq!(searched, &[PathBuf::from(&dir)]);
            }
            other => panic!("expected NoBinaries, got {other:?}"),
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let err = rt
            .block_on(Cluster::start(ClusterOptions::default()))
            .expect_err("no binaries");
        assert!(err.to_string().contains(&dir), "{err}");
        return;
    }
    if child_role().is_some() {
        return;
    }
    let empty = tempfile::tempdir().expect("tempdir");
    let status = child("no_binaries_env_override", "nobin")
        .env("DBAUDIT_PG_BINDIR", empty.path())
        .status()
        .expect("run child");
    assert!(status.success(), "child test failed: {status}");
}

/// Child role "hold": start a cluster, print where it lives, and wait to be killed.
fn hold_cluster(install_signals: bool) {
    if install_signals {
        dbaudit_pgcluster::cluster::install_signal_cleanup();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let c = rt
        .block_on(Cluster::start(ClusterOptions::default()))
        .expect("start");
    println!(
        "CLUSTER {} {}",
        c.pid().expect("pid"),
        c.work_dir().display()
    );
    std::thread::sleep(Duration::from_secs(60));
    drop(c);
}

/// Start the child, read the cluster it reports.
fn spawn_holder(test: &str, role: &str) -> (std::process::Child, u32, PathBuf) {
    let mut ch = child(test, role)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let out = ch.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let found = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some((_, rest)) = line.split_once("CLUSTER ") {
                    break Some(rest.to_string());
                }
            }
            _ => break None,
        }
    };
    let Some((pid, dir)) = found.as_deref().and_then(|f| f.split_once(' ')) else {
        let _ = ch.kill();
        let _ = ch.wait();
        panic!("the child did not report its cluster");
    };
    (ch, pid.parse().expect("pid"), PathBuf::from(dir))
}

/// A process that is SIGKILLed leaves nothing behind: the janitor stops the server and
/// removes the directory.
#[test]
fn janitor_cleans_up_after_sigkill() {
    match child_role().as_deref() {
        Some("hold") => return hold_cluster(false),
        Some(_) => return,
        None => {}
    }
    let (mut ch, pid, dir) = spawn_holder("janitor_cleans_up_after_sigkill", "hold");
    assert!(dir.exists() && pid_alive(pid));
    ch.kill().expect("SIGKILL child");
    let _ = ch.wait();
    assert!(
        wait_until(Duration::from_secs(10), || !dir.exists() && !pid_alive(pid)),
        "janitor removed {} and stopped {pid}",
        dir.display()
    );
}

/// With install_signal_cleanup, SIGINT stops the clusters, removes them, and exits 130.
#[test]
fn sigint_cleans_up_and_exits_130() {
    match child_role().as_deref() {
        Some("hold-signals") => return hold_cluster(true),
        Some(_) => return,
        None => {}
    }
    let (mut ch, pid, dir) = spawn_holder("sigint_cleans_up_and_exits_130", "hold-signals");
    let child_pid = nix::unistd::Pid::from_raw(i32::try_from(ch.id()).expect("pid"));
    nix::sys::signal::kill(child_pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    let status = ch.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "{status}");
    // Removed by the signal handler itself, before exiting: no janitor delay.
    assert!(!dir.exists(), "{} removed", dir.display());
    assert!(wait_until(Duration::from_secs(3), || !pid_alive(pid)));
}

#[tokio::test]
async fn tcp_with_password() {
    let c = start(ClusterOptions {
        tcp: Some(TcpOptions {
            password: Some("s3cret'pw".into()),
            tls: None,
        }),
        ..ClusterOptions::default()
    })
    .await;
    let port = c.tcp_port().expect("tcp port");
    let good =
        format!("host=127.0.0.1 port={port} user=postgres dbname=postgres password='s3cret\\'pw'");
    let (client, conn) = tokio_postgres::connect(&good, tokio_postgres::NoTls)
        .await
        .expect("password login over TCP");
    tokio::spawn(conn);
    client.batch_execute("SELECT 1").await.expect("query");
    let bad = format!("host=127.0.0.1 port={port} user=postgres dbname=postgres password=wrong");
    let err = tokio_postgres::connect(&bad, tokio_postgres::NoTls)
        .await
        .err()
        .expect("wrong password refused");
    assert_eq!(
        err.as_db_error().map(|d| d.code().code()),
        Some("28P01"),
        "{err}"
    );
    // The socket still needs no password.
    c.connect("postgres").await.expect("socket login");
}

#[tokio::test]
async fn tcp_with_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipping tcp_with_tls: no openssl to make a certificate");
        return;
    }
    let c = start(ClusterOptions {
        tcp: Some(TcpOptions {
            password: None,
            tls: Some((cert, key)),
        }),
        ..ClusterOptions::default()
    })
    .await;
    let client = c.connect("postgres").await.expect("connect");
    let row = client.query_one("SHOW ssl", &[]).await.expect("query");
    assert_eq!(row.get::<_, String>(0), "on");
    assert!(c.tcp_port().is_some());
    assert!(Path::new(&c.data_dir().join("server.key")).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_clusters_at_once() {
    let (a, b) = tokio::join!(
        Cluster::start(ClusterOptions::default()),
        Cluster::start(ClusterOptions::default())
    );
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert_ne!(a.work_dir(), b.work_dir());
    let ca = a.connect("postgres").await.expect("a");
    let cb = b.connect("postgres").await.expect("b");
    ca.batch_execute("CREATE TABLE only_in_a ()")
        .await
        .expect("ddl");
    let n: i64 = cb
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname = 'only_in_a'",
            &[],
        )
        .await
        .expect("query")
        .get(0);
    assert_eq!(n, 0);
}

/// The shared test cluster: several tests' databases at once, each with its own runtime.
#[tokio::test]
async fn testing_helper_gives_fresh_databases() {
    let a = dbaudit_pgcluster::testing::test_db("helper a").await;
    let b = dbaudit_pgcluster::testing::test_db("helper a").await;
    assert_ne!(a.dbname, b.dbname);
    a.client
        .batch_execute("CREATE TABLE x (id int)")
        .await
        .expect("ddl");
    b.client
        .batch_execute("CREATE TABLE x (id int)")
        .await
        .expect("ddl in another db");
    let other = a.connect().await;
    other
        .batch_execute("INSERT INTO x VALUES (1)")
        .await
        .expect("insert");
    assert!(std::ptr::eq(a.cluster, b.cluster));
}

#[test]
fn testing_helper_survives_runtimes() {
    // Two runtimes one after the other, as two #[tokio::test]s would have: the shared cluster
    // started under the first must serve the second.
    for i in 0..2 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let db = dbaudit_pgcluster::testing::test_db(&format!("rt{i}")).await;
            db.client.batch_execute("SELECT 1").await.expect("query");
        });
    }
}

/// The Supabase variant: the environment is in template1, in `postgres`, and in every new
/// database; its template is cached like the plain one.
#[tokio::test]
async fn supabase_variant_has_the_environment_everywhere() {
    let db = dbaudit_pgcluster::testing::test_db_supabase("supabase env").await;
    let c = db.cluster;
    eprintln!("TIMING supabase start: {:?}", c.timings());
    for dbname in ["postgres", db.dbname.as_str()] {
        let client = c.connect(dbname).await.expect("connect");
        let row = client
            .query_one(
                "SELECT to_regnamespace('auth') IS NOT NULL, to_regclass('auth.users') IS NOT NULL, \
                 (SELECT count(*) FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role'))",
                &[],
            )
            .await
            .expect("query");
        assert!(row.get::<_, bool>(0), "auth schema in {dbname}");
        assert!(row.get::<_, bool>(1), "auth.users in {dbname}");
        assert_eq!(row.get::<_, i64>(2), 3, "API roles");
    }
    let n: i64 = c
        .connect("postgres")
        .await
        .expect("connect")
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = 'dbaudit_scratch'",
            &[],
        )
        .await
        .expect("query")
        .get(0);
    assert_eq!(n, 0, "no scratch database left in the template");
}
