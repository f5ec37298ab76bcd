//! `--db`: auditing a live database, and the ways connecting to one can fail.

mod common;

use common::*;
use dbaudit_pgcluster::cluster::TcpOptions;
use dbaudit_pgcluster::{Cluster, ClusterOptions};

const SCHEMA: &str = "
create role anon nologin; create role authenticated nologin;
grant usage on schema public to anon, authenticated;
create table public.orgs (id uuid primary key);
create table public.events (org_id uuid references public.orgs(id), payload text);
grant select, insert on public.events to anon, authenticated;
";

#[tokio::test]
async fn audits_a_live_database_read_only() {
    let db = dbaudit_pgcluster::testing::test_db("live_audit").await;
    // Roles are cluster-wide: tolerate a rerun on the same cluster.
    let _ = db.client.batch_execute("create role anon nologin").await;
    let _ = db
        .client
        .batch_execute("create role authenticated nologin")
        .await;
    db.client
        .batch_execute(&SCHEMA.replace(
            "create role anon nologin; create role authenticated nologin;",
            "",
        ))
        .await
        .unwrap();
    let count_relations = "select count(*) from pg_catalog.pg_class";
    let before: i64 = db
        .client
        .query_one(count_relations, &[])
        .await
        .unwrap()
        .get(0);
    let url = db.conn_url();
    let doc = tokio::task::spawn_blocking(move || audit_json(&["--db", &url]))
        .await
        .unwrap();
    assert_eq!(doc["source"]["kind"], "database");
    assert!(doc["source"]["layout"].is_null());
    let f = findings(&doc);
    let has = |rule: &str, table: &str| f.iter().any(|x| x["rule"] == rule && x["table"] == table);
    assert!(has("rls-disabled", "events"), "{f:#?}");
    assert!(has("missing-primary-key", "events"));
    assert!(has("unindexed-foreign-key", "events"));
    assert!(!has("rls-disabled", "orgs"), "orgs has no API grants");
    // The audit created nothing (no temp tables, no objects).
    let after: i64 = db
        .client
        .query_one(count_relations, &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(before, after);
}

#[tokio::test]
async fn database_url_env_is_used_when_no_flag_is_given() {
    let db = dbaudit_pgcluster::testing::test_db("live_env").await;
    db.client
        .batch_execute("create table t (id int)")
        .await
        .unwrap();
    let url = db.conn_url();
    let o = tokio::task::spawn_blocking(move || {
        bin()
            .env("DATABASE_URL", url)
            .args(["audit", "--format", "json", "--fail-on", "never"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["source"]["kind"], "database");
}

async fn tcp_cluster() -> Cluster {
    Cluster::start(ClusterOptions {
        tcp: Some(TcpOptions {
            password: Some("right-pw".into()),
            tls: None,
        }),
        ..ClusterOptions::default()
    })
    .await
    .expect("start a TCP cluster")
}

#[tokio::test]
async fn wrong_password_and_refused_tls() {
    let cluster = tcp_cluster().await;
    let port = cluster.tcp_port().expect("tcp port");
    let wrong = format!("postgres://postgres:wrong-pw@127.0.0.1:{port}/postgres?sslmode=disable");
    let o = tokio::task::spawn_blocking(move || run(&["audit", "--db", &wrong]))
        .await
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains("wrong-pw"), "{err}");

    let tls = format!("postgres://postgres:right-pw@127.0.0.1:{port}/postgres?sslmode=require");
    let o = tokio::task::spawn_blocking(move || run(&["audit", "--db", &tls]))
        .await
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.to_lowercase().contains("tls") || err.to_lowercase().contains("ssl"),
        "{err}"
    );
    assert!(!err.contains("right-pw"), "{err}");

    let ok = format!("postgres://postgres:right-pw@127.0.0.1:{port}/postgres?sslmode=prefer");
    let o = tokio::task::spawn_blocking(move || run(&["audit", "--db", &ok, "--format", "json"]))
        .await
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        !doc.to_string().contains("right-pw"),
        "password in the report"
    );
    cluster.stop().await.unwrap();
}

/// A live database gets the same scan and probe as a throwaway one: the probe only with its
/// confirmation flag, and neither leaves anything behind.
#[tokio::test]
async fn scans_and_probes_a_live_database_without_changing_it() {
    let db = dbaudit_pgcluster::testing::test_db_supabase("live_probe").await;
    let set = dbaudit_pgcluster::detect(&fixtures_dir().join("callengo")).unwrap();
    let applied = dbaudit_pgcluster::apply(&db.client, &set).await.unwrap();
    assert_eq!(
        applied.failures.len(),
        1,
        "callengo has one failing migration"
    );
    let count_rows = "select sum((xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint)::bigint
                        from pg_class c join pg_namespace n on n.oid = c.relnamespace
                       where c.relkind = 'r' and n.nspname in ('public', 'auth')";
    let rows_before: i64 = db.client.query_one(count_rows, &[]).await.unwrap().get(0);
    let url = db.conn_url();
    let doc = tokio::task::spawn_blocking(move || {
        audit_json(&["--db", &url, "--scan-data", "--probe", "--allow-live-probe"])
    })
    .await
    .unwrap();
    assert_eq!(doc["probe"]["target"], "live");
    let f = findings(&doc);
    let has = |rule: &str, table: &str| f.iter().any(|x| x["rule"] == rule && x["table"] == table);
    assert!(has("rls-isolation-leak", "voicemail_logs"), "{f:#?}");
    assert!(!has("rls-isolation-leak", "contacts"));
    assert!(has("orphan-rows", "contacts"));
    assert_eq!(doc["scan"]["totals"]["not_scanned"], 0, "{:#}", doc["scan"]);
    let rows_after: i64 = db.client.query_one(count_rows, &[]).await.unwrap().get(0);
    assert_eq!(rows_before, rows_after, "the probe's rows were rolled back");
}
