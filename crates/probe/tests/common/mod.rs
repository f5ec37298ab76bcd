#![allow(dead_code)]
//! Shared by the probe's integration tests: build a schema, load its catalog, run the probe.

use dbaudit_catalog::{Catalog, LoadOptions};
use dbaudit_pgcluster::testing::{test_db_supabase, TestDb};
use dbaudit_probe::{plan, probe, ProbeOptions, ProbeOutcome, Verdict};
use dbaudit_rules::{Context, Settings};
use std::path::PathBuf;

pub async fn load(db: &TestDb) -> Catalog {
    dbaudit_catalog::load(&db.client, &LoadOptions { statistics: false })
        .await
        .expect("catalog loads")
}

/// A fresh Supabase database with `sql` applied.
pub async fn supabase_db(name: &str, sql: &str) -> TestDb {
    let db = test_db_supabase(name).await;
    db.client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("schema of {name}: {e:?}"));
    db
}

/// A fresh Supabase database built from a fixture copy under crates/dbaudit/tests/fixtures.
pub async fn fixture_db(fixture: &str) -> TestDb {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../dbaudit/tests/fixtures")
        .join(fixture);
    let set = dbaudit_pgcluster::detect(&path).expect("fixture layout");
    let db = test_db_supabase(fixture).await;
    dbaudit_pgcluster::apply(&db.client, &set)
        .await
        .expect("fixture applies");
    db
}

pub async fn run(db: &TestDb) -> ProbeOutcome {
    let catalog = load(db).await;
    let settings = Settings::default();
    let p = {
        let ctx = Context::new(&catalog, &settings, &[]);
        plan(&ctx)
    };
    let o = probe(p, &db.client, &ProbeOptions::default())
        .await
        .expect("probe runs");
    if std::env::var_os("PROBE_DEBUG").is_some() {
        println!("{:#}", o.to_json());
    }
    o
}

/// [`run`], checking that the probe left every table's row count as it found it.
pub async fn run_leaving_no_rows(db: &TestDb) -> ProbeOutcome {
    let before = counts(db).await;
    let o = run(db).await;
    assert_eq!(before, counts(db).await, "the probe left rows behind");
    o
}

pub fn table<'o>(o: &'o ProbeOutcome, name: &str) -> &'o dbaudit_probe::TableResult {
    o.tables
        .iter()
        .find(|t| t.table == name)
        .unwrap_or_else(|| panic!("{name} not probed: {:#}", o.to_json()))
}

pub fn verdict(o: &ProbeOutcome, name: &str) -> Verdict {
    table(o, name).verdict
}

/// The verdict of one command as one role.
pub fn command(o: &ProbeOutcome, name: &str, command: &str, role: &str) -> Verdict {
    table(o, name)
        .commands
        .iter()
        .find(|c| c.command == command && c.role == role)
        .unwrap_or_else(|| panic!("{name}: no {command} as {role}: {:#}", o.to_json()))
        .verdict
}

pub fn leaks(o: &ProbeOutcome, table: &str) -> Vec<String> {
    o.findings
        .iter()
        .filter(|f| f.rule == "rls-isolation-leak" && f.qualified_table().as_deref() == Some(table))
        .flat_map(|f| {
            // One finding per table and role: `commands` lists what leaked (or `command`).
            let mut cmds: Vec<String> = f
                .evidence
                .get("commands")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(c) = f.evidence.get("command").and_then(|v| v.as_str()) {
                cmds.push(c.to_string());
            }
            let anon = f.evidence.get("role").and_then(|v| v.as_str()) == Some("anon");
            cmds.into_iter()
                .map(move |c| if anon { format!("{c} as anon") } else { c })
        })
        .collect()
}

/// Row counts of every table of `public` (and auth.users), to check the probe left nothing.
pub async fn counts(db: &TestDb) -> Vec<(String, i64)> {
    let rows = db
        .client
        .query(
            "select format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where c.relkind in ('r','p') and (n.nspname = 'public' or (n.nspname = 'auth' and c.relname = 'users'))
              order by 1",
            &[],
        )
        .await
        .unwrap();
    let mut out = vec![];
    for r in rows {
        let t: String = r.get(0);
        let n: i64 = db
            .client
            .query_one(&format!("select count(*) from {t}"), &[])
            .await
            .unwrap()
            .get(0);
        out.push((t, n));
    }
    out
}
