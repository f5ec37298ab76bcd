//! The binary from the outside: commands, exit codes, and bad input that must give a clear
//! error and exit 2, never a panic.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpListener;

fn assert_exit2(o: &std::process::Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "expected exit 2, stderr: {err}");
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    assert!(!err.contains("panicked"), "panicked: {err}");
}

#[test]
fn version_and_help() {
    let o = run(&["--version"]);
    assert!(o.status.success());
    assert!(stdout(&o).starts_with("dbaudit "));
    let o = run(&["audit", "--help"]);
    assert!(o.status.success());
    let help = stdout(&o);
    for flag in [
        "--migrations",
        "--db",
        "--seed",
        "--format",
        "--fail-on",
        "Exit status",
    ] {
        assert!(help.contains(flag), "help lacks {flag}");
    }
}

#[test]
fn probing_a_live_database_needs_the_confirmation_flag() {
    // Refused before any connection is attempted (the host does not exist).
    let o = run(&[
        "audit",
        "--db",
        "postgres://auditor@db.invalid/app",
        "--probe",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("--allow-live-probe"), "{err}");
    assert!(err.contains("rolled back"), "{err}");
}

#[test]
fn scan_and_code_flags_are_checked() {
    let o = run(&["audit", "--migrations", ".", "--sample", "10"]);
    assert_eq!(o.status.code(), Some(2), "--sample needs --scan-data");
    let o = run(&["audit", "--migrations", ".", "--scan-data", "--sample", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("percentage"), "{}", stderr(&o));
    let o = run(&["audit", "--migrations", ".", "--code", "/no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no such directory"), "{}", stderr(&o));
}

#[test]
fn rules_and_explain() {
    let o = run(&["rules"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("unindexed-foreign-key"));
    let o = run(&["explain", "unindexed-foreign-key"]);
    assert!(o.status.success());
    let text = stdout(&o);
    for section in [
        "## What it does",
        "## Why it matters",
        "## Example",
        "## Fix",
    ] {
        assert!(text.contains(section), "{section}");
    }
    let o = run(&["explain", "no-such-rule"]);
    assert_exit2(&o, "no rule named");
}

#[test]
fn nonexistent_path() {
    let o = run(&["audit", "--migrations", "/nonexistent/dbaudit/path"]);
    assert_exit2(&o, "/nonexistent/dbaudit/path");
}

#[test]
fn empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["audit", "--migrations", dir.path().to_str().unwrap()]);
    assert_exit2(&o, "empty");
}

#[test]
fn folder_without_a_recognisable_layout() {
    let dir = project(&[("README.md", "# not migrations\n"), ("notes.txt", "hello")]);
    let o = run(&["audit", "--migrations", dir.path().to_str().unwrap()]);
    assert_exit2(&o, "no migrations found");
}

#[test]
fn no_flag_and_nothing_to_find_in_cwd() {
    let dir = project(&[("README.md", "# nothing here\n")]);
    let o = run_in(dir.path(), &["audit"]);
    assert_exit2(&o, "--migrations");
}

#[test]
fn missing_seed_file() {
    let dir = project(&[(
        "migrations/001_init.sql",
        "create table t (id int primary key);",
    )]);
    let o = run(&[
        "audit",
        "--migrations",
        dir.path().join("migrations").to_str().unwrap(),
        "--seed",
        "/nonexistent/seed.sql",
    ]);
    assert_exit2(&o, "/nonexistent/seed.sql");
}

#[test]
fn syntax_error_is_a_finding_not_a_failure() {
    let dir = project(&[
        (
            "migrations/001_init.sql",
            "create table a (id int primary key);\n",
        ),
        (
            "migrations/002_broken.sql",
            "create table b (id int primary key);\n\ncreate tabel c (id int);\n",
        ),
        (
            "migrations/003_after.sql",
            "create table d (id int primary key);\n",
        ),
    ]);
    let doc = audit_json(&[
        "--migrations",
        dir.path().join("migrations").to_str().unwrap(),
    ]);
    let f = findings(&doc);
    let errs: Vec<_> = f
        .iter()
        .filter(|f| f["rule"] == "migration-error")
        .collect();
    assert_eq!(errs.len(), 1, "{f:#?}");
    assert!(errs[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("002_broken.sql"));
    assert_eq!(errs[0]["line"], 3);
    assert_eq!(errs[0]["evidence"]["sqlstate"], "42601");
    assert!(errs[0]["evidence"]["statement"]
        .as_str()
        .unwrap()
        .contains("create tabel"));
    // The file after the failing one still ran; the failing one was rolled back whole.
    assert_eq!(doc["source"]["files"].as_array().unwrap().len(), 3);
    assert!(!f.iter().any(|x| x["rule"] == "missing-primary-key"));
    // A migration error is high: the default --fail-on high exits 1.
    let o = run(&[
        "audit",
        "--migrations",
        dir.path().join("migrations").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn fail_on_threshold_sets_the_exit_code() {
    let dir = project(&[("migrations/001.sql", "create table t (a int);\n")]);
    let path = dir.path().join("migrations");
    let p = path.to_str().unwrap();
    // missing-primary-key is moderate.
    assert_eq!(run(&["audit", "--migrations", p]).status.code(), Some(0));
    assert_eq!(
        run(&["audit", "--migrations", p, "--fail-on", "moderate"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(&["audit", "--migrations", p, "--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn unreachable_host() {
    // A port nobody listens on.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("postgres://auditor:s3cret-pw@127.0.0.1:{port}/app?sslmode=disable");
    let o = run(&["audit", "--db", &url, "--connect-timeout", "5"]);
    assert_exit2(&o, &format!("127.0.0.1:{port}"));
    assert!(
        !stderr(&o).contains("s3cret-pw"),
        "password leaked: {}",
        stderr(&o)
    );
}

#[test]
fn non_postgres_port() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        // Answer a couple of connection attempts like an HTTP server would.
        for _ in 0..4 {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let url = format!("postgres://auditor:s3cret-pw@127.0.0.1:{port}/app");
    let o = run(&["audit", "--db", &url, "--connect-timeout", "5"]);
    assert_exit2(&o, "PostgreSQL");
    assert!(!stderr(&o).contains("s3cret-pw"));
    drop(server);
}

#[test]
fn invalid_connection_string_does_not_echo_the_password() {
    let o = run(&["audit", "--db", "postgres://u:s3cret-pw@host:notaport/db"]);
    assert_exit2(&o, "port");
    assert!(!stderr(&o).contains("s3cret-pw"));
}

#[test]
fn no_server_binaries() {
    let empty = tempfile::tempdir().unwrap();
    let dir = project(&[(
        "migrations/001.sql",
        "create table t (id int primary key);\n",
    )]);
    let o = bin()
        .env("DBAUDIT_PG_BINDIR", empty.path())
        .args([
            "audit",
            "--migrations",
            dir.path().join("migrations").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_exit2(&o, "apt-get install postgresql");
    assert!(stderr(&o).contains("--db"));
}

#[test]
fn cluster_that_fails_to_start_shows_the_server_log() {
    // Real binaries, but a server that cannot start: point the cluster at a bindir whose
    // `postgres` wraps the real one and adds an invalid setting.
    let real = dbaudit_pgcluster::ServerBinaries::find().expect("server binaries");
    let bindir = tempfile::tempdir().unwrap();
    let initdb = bindir.path().join("initdb");
    std::os::unix::fs::symlink(real.initdb(), &initdb).unwrap();
    let postgres = bindir.path().join("postgres");
    std::fs::write(
        &postgres,
        format!(
            "#!/bin/sh\ncase \"$1\" in --version|-V) exec {real} \"$@\";; esac\nexec {real} \"$@\" -c no_such_setting_for_dbaudit=1\n",
            real = real.postgres().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&postgres, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(bindir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let dir = project(&[(
        "migrations/001.sql",
        "create table t (id int primary key);\n",
    )]);
    let o = bin()
        .env("DBAUDIT_PG_BINDIR", bindir.path())
        .env("XDG_CACHE_HOME", cache.path())
        .args([
            "audit",
            "--migrations",
            dir.path().join("migrations").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_exit2(&o, "no_such_setting_for_dbaudit");
}

#[test]
fn dbaudit_toml_ignores_with_a_reason_and_is_found_walking_up() {
    let dir = project(&[
        ("supabase/migrations/20260101000000_a.sql", "create table public.events (id int primary key, payload text);\n"),
        (
            "dbaudit.toml",
            "[[ignore]]\nrule = \"rls-disabled\"\nobject = \"public.events\"\nreason = \"server-only table, revoked in production\"\n",
        ),
    ]);
    let doc = audit_json(&[
        "--migrations",
        dir.path().join("supabase").to_str().unwrap(),
    ]);
    assert!(
        !findings(&doc).iter().any(|f| f["rule"] == "rls-disabled"),
        "{doc:#}"
    );
    assert_eq!(doc["summary"]["ignored"], 1);
    assert!(doc["source"]["config"]
        .as_str()
        .unwrap()
        .ends_with("dbaudit.toml"));
}

#[test]
fn bad_config_is_exit_2_with_its_path() {
    let dir = project(&[
        (
            "migrations/001.sql",
            "create table t (id int primary key);\n",
        ),
        ("dbaudit.toml", "[tenacy]\nroot = \"public.orgs\"\n"),
    ]);
    let o = run(&[
        "audit",
        "--migrations",
        dir.path().join("migrations").to_str().unwrap(),
    ]);
    assert_exit2(&o, "dbaudit.toml");
    assert!(stderr(&o).contains("tenacy"));
}
