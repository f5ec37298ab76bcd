//! Connecting to real servers (throwaway clusters on loopback) and to fake ones (listeners that
//! refuse, hang, speak HTTP, or record the TLS ClientHello).
//!
//! Two clusters are shared by all tests of this binary: `plain` (TCP with a password, no TLS)
//! and `tls` (TCP with a password and TLS, its certificate issued for `localhost` and
//! 127.0.0.1 by a test CA generated with `openssl` when the tests start).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use dbaudit_pgcluster::cluster::TcpOptions;
use dbaudit_pgcluster::{Cluster, ClusterOptions};
use dbaudit_pgconn::{begin_audit_session, connect, Client, ConnError, ConnSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const PASSWORD: &str = "Tr0ub4dor&3 with spaces";
const WRONG_PASSWORD: &str = "definitely-Wrong-pw";
const TIMEOUT: Duration = Duration::from_secs(20);

// ----------------------------------------------------------------------------- fixtures

struct Certs {
    ca_pem: String,
    other_ca_pem: String,
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e} (is openssl installed?)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and, in `dir`, `ca.crt`, `server.crt` and `server.key` for `localhost`/127.0.0.1.
fn make_ca(dir: &Path, name: &str) -> String {
    let key = dir.join(format!("{name}.key"));
    let crt = dir.join(format!("{name}.crt"));
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "3650", "-subj"])
        .arg(format!("/CN=dbaudit test {name}"))
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt));
    std::fs::read_to_string(&crt).unwrap()
}

fn make_server_cert(dir: &Path, ca: &str) -> (PathBuf, PathBuf) {
    let key = dir.join("server.key");
    let csr = dir.join("server.csr");
    let crt = dir.join("server.crt");
    let ext = dir.join("server.ext");
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(Command::new("openssl")
        .args([
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "3650", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(dir.join(format!("{ca}.crt")))
        .arg("-CAkey")
        .arg(dir.join(format!("{ca}.key")))
        .arg("-CAcreateserial")
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(&crt));
    (crt, key)
}

/// Start a cluster on a thread and runtime of its own, so it outlives every test's runtime.
fn start_detached(tcp: TcpOptions) -> Cluster {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(Cluster::start(ClusterOptions {
            tcp: Some(tcp),
            ..ClusterOptions::default()
        }))
    })
    .join()
    .expect("starting a cluster panicked")
    .unwrap_or_else(|e| panic!("test cluster could not start: {e}"))
}

/// TCP with a password, no TLS.
fn plain() -> &'static Cluster {
    static CELL: OnceLock<Cluster> = OnceLock::new();
    CELL.get_or_init(|| {
        start_detached(TcpOptions {
            password: Some(PASSWORD.to_string()),
            tls: None,
        })
    })
}

/// TCP with a password and TLS; and the PEM of the CA that issued its certificate and of an
/// unrelated CA.
fn tls() -> &'static (Cluster, Certs) {
    static CELL: OnceLock<(Cluster, Certs)> = OnceLock::new();
    CELL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ca_pem = make_ca(dir.path(), "ca");
        let other_ca_pem = make_ca(dir.path(), "other-ca");
        let (crt, key) = make_server_cert(dir.path(), "ca");
        // The cluster copies the certificate and key into its data directory.
        let cluster = start_detached(TcpOptions {
            password: Some(PASSWORD.to_string()),
            tls: Some((crt, key)),
        });
        (
            cluster,
            Certs {
                ca_pem,
                other_ca_pem,
            },
        )
    })
}

/// TCP with TLS where pg_hba.conf admits TCP connections only over TLS (`hostssl`).
fn tls_only() -> &'static Cluster {
    static CELL: OnceLock<Cluster> = OnceLock::new();
    CELL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        make_ca(dir.path(), "ca");
        let (crt, key) = make_server_cert(dir.path(), "ca");
        let cluster = start_detached(TcpOptions {
            password: Some(PASSWORD.to_string()),
            tls: Some((crt, key)),
        });
        std::fs::write(
            cluster.data_dir().join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
        )
        .unwrap();
        let plain_s = tcp_conninfo(&cluster, "127.0.0.1", "sslmode=disable");
        let socket_s = cluster.conn_string("postgres");
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        let client = connect_ok(&socket_s).await;
                        client
                            .simple_query("SELECT pg_reload_conf()")
                            .await
                            .unwrap();
                        // The reload is asynchronous: wait until plaintext is turned away.
                        for _ in 0..100 {
                            if connect(&spec(&plain_s), TIMEOUT).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        panic!("pg_hba.conf reload did not take effect");
                    });
                })
                .join()
                .unwrap();
        });
        cluster
    })
}

fn tcp_port(c: &Cluster) -> u16 {
    c.tcp_port().expect("cluster started with TCP")
}

/// A key=value string for a TCP connection as `postgres` with the right password.
fn tcp_conninfo(c: &Cluster, host: &str, extra: &str) -> String {
    format!(
        "host={host} port={} user=postgres password='{PASSWORD}' dbname=postgres {extra}",
        tcp_port(c)
    )
}

fn write_pem(dir: &tempfile::TempDir, name: &str, pem: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, pem).unwrap();
    p
}

fn spec(s: &str) -> ConnSpec {
    ConnSpec::parse_with_env(s, &|_| None).unwrap_or_else(|e| panic!("{e}"))
}

async fn connect_ok(s: &str) -> Client {
    let spec = spec(s);
    match connect(&spec, TIMEOUT).await {
        Ok(c) => c,
        Err(e) => panic!("connecting to {spec} failed: {e}"),
    }
}

async fn connect_err(s: &str) -> ConnError {
    connect_err_within(s, TIMEOUT).await
}

async fn connect_err_within(s: &str, timeout: Duration) -> ConnError {
    let spec = spec(s);
    match connect(&spec, timeout).await {
        Ok(_) => panic!("connecting to {spec} should fail"),
        Err(e) => {
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(PASSWORD), "password in error: {shown}");
            assert!(
                !shown.contains(WRONG_PASSWORD),
                "password in error: {shown}"
            );
            e
        }
    }
}

/// Whether this connection is encrypted, per the server.
async fn uses_tls(client: &Client) -> bool {
    client
        .query_one(
            "SELECT ssl FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// A loopback port nothing listens on.
async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

// ----------------------------------------------------------------------------- real servers

#[tokio::test]
async fn unix_socket_connect() {
    let c = plain();
    for s in [c.conn_string("postgres"), c.conn_url("postgres")] {
        let client = connect_ok(&s).await;
        let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
        assert_eq!(one, 1);
    }
    // sslmode is ignored on Unix sockets, as in libpq.
    let client = connect_ok(&format!("{} sslmode=require", c.conn_string("postgres"))).await;
    client.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn unix_socket_missing() {
    let dir = tempfile::tempdir().unwrap();
    let e = connect_err(&format!("host={} port=5999 user=u", dir.path().display())).await;
    match &e {
        ConnError::Unreachable { host, .. } => assert!(host.ends_with(".s.PGSQL.5999"), "{e}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(e.to_string().contains("Unix socket"), "{e}");
}

#[tokio::test]
async fn tcp_with_password() {
    let c = plain();
    let client = connect_ok(&tcp_conninfo(c, "127.0.0.1", "sslmode=disable")).await;
    assert!(!uses_tls(&client).await);
    // URL form with the password percent-encoded.
    let url = format!(
        "postgres://postgres:{}@127.0.0.1:{}/postgres?sslmode=disable",
        PASSWORD.replace('&', "%26").replace(' ', "%20"),
        tcp_port(c)
    );
    let client = connect_ok(&url).await;
    client.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn wrong_password_is_auth_error() {
    let c = plain();
    let s = format!(
        "host=127.0.0.1 port={} user=postgres password={WRONG_PASSWORD} dbname=postgres",
        tcp_port(c)
    );
    let e = connect_err(&s).await;
    match &e {
        ConnError::Auth {
            host,
            user,
            message,
        } => {
            assert_eq!(host, &format!("127.0.0.1:{}", tcp_port(c)));
            assert_eq!(user, "postgres");
            assert!(message.contains("password authentication failed"), "{e}");
        }
        other => panic!("expected Auth, got {other:?}"),
    }
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
}

#[tokio::test]
async fn missing_password_is_auth_error() {
    let c = plain();
    let s = format!(
        "host=127.0.0.1 port={} user=postgres dbname=postgres sslmode=disable",
        tcp_port(c)
    );
    let e = connect_err(&s).await;
    assert!(matches!(e, ConnError::Auth { .. }), "{e:?}");
    assert!(e.to_string().contains("password"), "{e}");
}

#[tokio::test]
async fn missing_database_is_server_error() {
    let c = plain();
    let s = format!(
        "host=127.0.0.1 port={} user=postgres password='{PASSWORD}' dbname=no_such_db",
        tcp_port(c)
    );
    let e = connect_err(&s).await;
    match &e {
        ConnError::Server { code, message, .. } => {
            assert_eq!(code, "3D000");
            assert!(message.contains("no_such_db"), "{e}");
        }
        other => panic!("expected Server, got {other:?}"),
    }
}

#[tokio::test]
async fn require_against_server_without_tls() {
    let c = plain();
    let e = connect_err(&tcp_conninfo(c, "127.0.0.1", "sslmode=require")).await;
    match &e {
        ConnError::TlsRefused { sslmode, .. } => assert_eq!(sslmode, "require"),
        other => panic!("expected TlsRefused, got {other:?}"),
    }
    for mode in ["verify-ca", "verify-full"] {
        let e = connect_err(&tcp_conninfo(c, "127.0.0.1", &format!("sslmode={mode}"))).await;
        assert!(matches!(e, ConnError::TlsRefused { .. }), "{mode}: {e:?}");
    }
}

#[tokio::test]
async fn prefer_and_allow_against_server_without_tls() {
    let c = plain();
    for extra in ["", "sslmode=prefer", "sslmode=allow"] {
        let client = connect_ok(&tcp_conninfo(c, "127.0.0.1", extra)).await;
        assert!(!uses_tls(&client).await, "{extra}");
    }
}

#[tokio::test]
async fn require_accepts_untrusted_certificate() {
    let (c, _) = tls();
    for extra in ["sslmode=require", "sslmode=prefer", ""] {
        let client = connect_ok(&tcp_conninfo(c, "127.0.0.1", extra)).await;
        assert!(uses_tls(&client).await, "{extra}");
    }
    // allow tries plaintext first, which this server accepts.
    let client = connect_ok(&tcp_conninfo(c, "127.0.0.1", "sslmode=allow")).await;
    assert!(!uses_tls(&client).await);
    // Disable means plaintext even when the server has TLS.
    let client = connect_ok(&tcp_conninfo(c, "127.0.0.1", "sslmode=disable")).await;
    assert!(!uses_tls(&client).await);
}

#[tokio::test]
async fn verify_full_with_the_right_ca() {
    let (c, certs) = tls();
    let dir = tempfile::tempdir().unwrap();
    let ca = write_pem(&dir, "ca.pem", &certs.ca_pem);
    for host in ["localhost", "127.0.0.1"] {
        let s = tcp_conninfo(
            c,
            host,
            &format!("sslmode=verify-full sslrootcert={}", ca.display()),
        );
        let client = connect_ok(&s).await;
        assert!(uses_tls(&client).await, "{host}");
    }
    // verify-ca and require with the CA given verify the chain.
    for mode in ["verify-ca", "require"] {
        let s = tcp_conninfo(
            c,
            "localhost",
            &format!("sslmode={mode} sslrootcert={}", ca.display()),
        );
        assert!(uses_tls(&connect_ok(&s).await).await, "{mode}");
    }
}

#[tokio::test]
async fn channel_binding_over_tls() {
    let (c, _) = tls();
    let client = connect_ok(&tcp_conninfo(
        c,
        "127.0.0.1",
        "sslmode=require channel_binding=require",
    ))
    .await;
    assert!(uses_tls(&client).await);
}

#[tokio::test]
async fn verify_full_with_public_roots_rejects_test_ca() {
    let (c, _) = tls();
    let e = connect_err(&tcp_conninfo(c, "localhost", "sslmode=verify-full")).await;
    match &e {
        ConnError::TlsHandshake { reason, .. } => {
            assert!(reason.contains("certificate authority"), "{e}");
            assert!(reason.contains("sslrootcert"), "suggests sslrootcert: {e}");
        }
        other => panic!("expected TlsHandshake, got {other:?}"),
    }
}

#[tokio::test]
async fn verify_with_unrelated_ca_fails() {
    let (c, certs) = tls();
    let dir = tempfile::tempdir().unwrap();
    let other = write_pem(&dir, "other.pem", &certs.other_ca_pem);
    // require with sslrootcert behaves like verify-ca, as in libpq.
    for mode in ["verify-full", "verify-ca", "require"] {
        let s = tcp_conninfo(
            c,
            "localhost",
            &format!("sslmode={mode} sslrootcert={}", other.display()),
        );
        let e = connect_err(&s).await;
        match &e {
            ConnError::TlsHandshake { reason, .. } => {
                assert!(reason.contains("not issued by a trusted"), "{mode}: {e}")
            }
            other => panic!("{mode}: expected TlsHandshake, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn verify_full_with_wrong_host_name() {
    let (c, certs) = tls();
    let dir = tempfile::tempdir().unwrap();
    let ca = write_pem(&dir, "ca.pem", &certs.ca_pem);
    // hostaddr connects to the server while the certificate is checked against `host`.
    let s = tcp_conninfo(
        c,
        "db.example.com",
        &format!(
            "hostaddr=127.0.0.1 sslmode=verify-full sslrootcert={}",
            ca.display()
        ),
    );
    let e = connect_err(&s).await;
    match &e {
        ConnError::TlsHandshake { host, reason } => {
            assert!(host.starts_with("db.example.com:"), "{e}");
            assert!(
                reason.contains("not valid for the host name \"db.example.com\""),
                "{e}"
            );
            assert!(
                reason.contains("localhost"),
                "lists the certificate's names: {e}"
            );
        }
        other => panic!("expected TlsHandshake, got {other:?}"),
    }
    // verify-ca does not check the name.
    let s = tcp_conninfo(
        c,
        "db.example.com",
        &format!(
            "hostaddr=127.0.0.1 sslmode=verify-ca sslrootcert={}",
            ca.display()
        ),
    );
    assert!(uses_tls(&connect_ok(&s).await).await);
}

#[tokio::test]
async fn unreadable_sslrootcert_is_invalid() {
    let (c, _) = tls();
    let e = connect_err(&tcp_conninfo(
        c,
        "localhost",
        "sslmode=verify-full sslrootcert=/nonexistent/ca.pem",
    ))
    .await;
    assert!(
        matches!(&e, ConnError::Invalid { reason } if reason.contains("/nonexistent/ca.pem")),
        "{e:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let empty = write_pem(&dir, "empty.pem", "not a certificate\n");
    let e = connect_err(&tcp_conninfo(
        c,
        "localhost",
        &format!("sslmode=verify-full sslrootcert={}", empty.display()),
    ))
    .await;
    assert!(
        matches!(&e, ConnError::Invalid { reason } if reason.contains("no PEM certificates")),
        "{e:?}"
    );
}

#[tokio::test]
async fn prefer_falls_back_to_plaintext_when_the_handshake_fails() {
    // libpq semantics: with sslrootcert given, prefer verifies the chain, and a failed
    // handshake is retried without TLS.
    let (c, certs) = tls();
    let dir = tempfile::tempdir().unwrap();
    let other = write_pem(&dir, "other.pem", &certs.other_ca_pem);
    let s = tcp_conninfo(
        c,
        "localhost",
        &format!("sslmode=prefer sslrootcert={}", other.display()),
    );
    assert!(!uses_tls(&connect_ok(&s).await).await);
}

#[tokio::test]
async fn allow_uses_tls_when_plaintext_is_turned_away() {
    let c = tls_only();
    let e = connect_err(&tcp_conninfo(c, "127.0.0.1", "sslmode=disable")).await;
    match &e {
        ConnError::Auth { message, .. } => assert!(message.contains("pg_hba.conf"), "{e}"),
        other => panic!("expected Auth, got {other:?}"),
    }
    let client = connect_ok(&tcp_conninfo(c, "127.0.0.1", "sslmode=allow")).await;
    assert!(uses_tls(&client).await);
}

#[tokio::test]
async fn multiple_hosts_fall_through_to_a_working_one() {
    let c = plain();
    let dead = closed_port().await;
    let s = format!(
        "host=127.0.0.1,127.0.0.1 port={dead},{} user=postgres password='{PASSWORD}' dbname=postgres",
        tcp_port(c)
    );
    let client = connect_ok(&s).await;
    client.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn read_only_session_rejects_writes() {
    let c = plain();
    let setup = connect_ok(&c.conn_string("postgres")).await;
    setup
        .batch_execute("CREATE TABLE IF NOT EXISTS pgconn_ro_test (id int)")
        .await
        .unwrap();

    let client = connect_ok(&c.conn_string("postgres")).await;
    begin_audit_session(&client, Duration::from_secs(30), Duration::from_secs(5))
        .await
        .unwrap();
    let row = client
        .query_one(
            "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only'), \
             current_setting('statement_timeout'), current_setting('lock_timeout'), \
             current_setting('idle_in_transaction_session_timeout')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "repeatable read");
    assert_eq!(row.get::<_, String>(1), "on");
    assert_eq!(row.get::<_, String>(2), "30s");
    assert_eq!(row.get::<_, String>(3), "5s");
    assert_eq!(row.get::<_, String>(4), "1min");

    let err = client
        .execute("INSERT INTO pgconn_ro_test VALUES (1)", &[])
        .await
        .expect_err("a write in the audit session must fail");
    assert_eq!(err.code().map(|c| c.code()), Some("25006"), "{err:?}");
    client.batch_execute("ROLLBACK").await.unwrap();

    // Inside a transaction that already took its snapshot, the isolation level cannot change:
    // refused, and the connection is left idle.
    client.batch_execute("BEGIN; SELECT 1").await.unwrap();
    let e = begin_audit_session(&client, Duration::from_secs(30), Duration::from_secs(5))
        .await
        .expect_err("a transaction already under way must be refused");
    assert!(e.to_string().contains("25001"), "{e}");

    // SET LOCAL: the settings end with the transaction.
    let row = client
        .query_one("SELECT current_setting('statement_timeout')", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "0");
}

// ----------------------------------------------------------------------------- fake servers

#[tokio::test]
async fn closed_port_is_unreachable() {
    let port = closed_port().await;
    let e = connect_err(&format!("host=127.0.0.1 port={port} user=u")).await;
    match &e {
        ConnError::Unreachable { host, .. } => assert_eq!(host, &format!("127.0.0.1:{port}")),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(
        e.to_string()
            .contains(&format!("accepting TCP connections on 127.0.0.1:{port}")),
        "{e}"
    );
}

#[tokio::test]
async fn silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock); // accept, never answer
        }
    });
    for mode in ["prefer", "disable", "require"] {
        let e = connect_err_within(
            &format!("host=127.0.0.1 port={port} user=u sslmode={mode}"),
            Duration::from_secs(1),
        )
        .await;
        match &e {
            ConnError::Timeout { host, .. } => assert_eq!(host, &format!("127.0.0.1:{port}")),
            other => panic!("{mode}: expected Timeout, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn connect_timeout_in_string_applies() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let e = connect_err_within(
        &format!("host=127.0.0.1 port={port} user=u connect_timeout=2"),
        Duration::from_secs(600),
    )
    .await;
    assert!(matches!(e, ConnError::Timeout { .. }), "{e:?}");
}

/// A listener that answers every connection like an HTTP server answers garbage.
async fn http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
                let _ = sock.shutdown().await;
            });
        }
    });
    port
}

#[tokio::test]
async fn http_server_is_not_postgres() {
    let port = http_server().await;
    for mode in ["prefer", "require", "disable"] {
        let e = connect_err(&format!(
            "host=127.0.0.1 port={port} user=u password={WRONG_PASSWORD} sslmode={mode}"
        ))
        .await;
        match &e {
            ConnError::NotPostgres { host, .. } => assert_eq!(host, &format!("127.0.0.1:{port}")),
            other => panic!("{mode}: expected NotPostgres, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn server_closing_on_startup_is_not_postgres() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = sock.read(&mut buf).await;
            drop(sock);
        }
    });
    for mode in ["prefer", "disable"] {
        let e = connect_err(&format!("host=127.0.0.1 port={port} user=u sslmode={mode}")).await;
        assert!(matches!(e, ConnError::NotPostgres { .. }), "{mode}: {e:?}");
    }
}

/// Answers the SSLRequest with `S`, records the TLS ClientHello, and hangs up.
async fn client_hello_recorder() -> (u16, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut req = [0u8; 8];
            if sock.read_exact(&mut req).await.is_err() {
                continue;
            }
            let _ = sock.write_all(b"S").await;
            let mut hello = vec![0u8; 16384];
            let n = sock.read(&mut hello).await.unwrap_or(0);
            hello.truncate(n);
            let _ = tx.send(hello);
        }
    });
    (port, rx)
}

/// The server_name (SNI) extension's host name in a ClientHello record, if any.
fn sni_of(record: &[u8]) -> Option<String> {
    // record header (5) + handshake header (4) + version (2) + random (32)
    let mut i = 5 + 4 + 2 + 32;
    let sid = *record.get(i)? as usize;
    i += 1 + sid;
    let suites = u16::from_be_bytes([*record.get(i)?, *record.get(i + 1)?]) as usize;
    i += 2 + suites;
    let comp = *record.get(i)? as usize;
    i += 1 + comp;
    let ext_len = u16::from_be_bytes([*record.get(i)?, *record.get(i + 1)?]) as usize;
    i += 2;
    let end = i + ext_len;
    while i + 4 <= end {
        let ty = u16::from_be_bytes([record[i], record[i + 1]]);
        let len = u16::from_be_bytes([record[i + 2], record[i + 3]]) as usize;
        let body = record.get(i + 4..i + 4 + len)?;
        if ty == 0 {
            // list length (2), name type (1), name length (2), name
            let n = u16::from_be_bytes([*body.get(3)?, *body.get(4)?]) as usize;
            return Some(String::from_utf8_lossy(body.get(5..5 + n)?).into_owned());
        }
        i += 4 + len;
    }
    None
}

#[tokio::test]
async fn verify_full_sends_the_host_name_as_sni() {
    let (port, mut hellos) = client_hello_recorder().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, certs) = tls();
    let ca = write_pem(&dir, "ca.pem", &certs.ca_pem);
    let base = format!(
        "hostaddr=127.0.0.1 port={port} user=u sslrootcert={}",
        ca.display()
    );

    let e = connect_err(&format!("host=db.example.com {base} sslmode=verify-full")).await;
    assert!(!matches!(e, ConnError::Timeout { .. }), "{e:?}");
    let hello = hellos.recv().await.unwrap();
    assert_eq!(hello.first(), Some(&0x16), "a TLS handshake record");
    assert_eq!(sni_of(&hello).as_deref(), Some("db.example.com"));

    // No SNI for an IP address (RFC 6066), as libpq.
    let _ = connect_err(&format!("host=127.0.0.1 {base} sslmode=verify-full")).await;
    let hello = hellos.recv().await.unwrap();
    assert_eq!(sni_of(&hello), None);
}
