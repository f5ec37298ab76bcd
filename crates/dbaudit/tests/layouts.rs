//! Every migration layout, end to end through the binary: detected, applied in the tool's order,
//! and audited.

mod common;

use common::*;
use serde_json::Value;

fn files_of(doc: &Value) -> Vec<String> {
    doc["source"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

fn no_errors(doc: &Value) {
    let errs: Vec<_> = findings(doc)
        .into_iter()
        .filter(|f| f["rule"] == "migration-error")
        .collect();
    assert!(errs.is_empty(), "{errs:#?}");
}

/// Migrations that only apply in the given order: each file uses the previous one's table.
fn chain(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            if i == 0 {
                "create table t0 (id int primary key);\n".to_string()
            } else {
                format!(
                    "create table t{i} (id int primary key, p int references t{}(id));\ncreate index on t{i}(p);\n",
                    i - 1
                )
            }
        })
        .collect()
}

#[test]
fn supabase_with_seed() {
    let c = chain(2);
    let dir = project(&[
        ("supabase/migrations/20260101000000_a.sql", &c[0]),
        ("supabase/migrations/20260102000000_b.sql", &c[1]),
        (
            "supabase/seed.sql",
            "insert into t0 values (1); insert into t1 values (1, 1);\n",
        ),
    ]);
    let doc = audit_json(&["--migrations", dir.path().to_str().unwrap()]);
    no_errors(&doc);
    assert_eq!(doc["source"]["layout"], "supabase");
    assert_eq!(doc["source"]["supabase_environment"], true);
    assert_eq!(doc["source"]["seeds"].as_array().unwrap().len(), 1);
}

#[test]
fn plain_folder_in_natural_order() {
    let c = chain(3);
    let dir = project(&[
        ("sql/2_b.sql", &c[1]),
        ("sql/10_c.sql", &c[2]),
        ("sql/1_a.sql", &c[0]),
    ]);
    let doc = audit_json(&["--migrations", dir.path().join("sql").to_str().unwrap()]);
    no_errors(&doc);
    assert_eq!(doc["source"]["layout"], "plain");
    let files = files_of(&doc);
    assert!(
        files[0].ends_with("1_a.sql") && files[2].ends_with("10_c.sql"),
        "{files:?}"
    );
}

#[test]
fn golang_migrate_skips_down_files() {
    let c = chain(2);
    let dir = project(&[
        ("migrations/000001_a.up.sql", &c[0]),
        ("migrations/000001_a.down.sql", "drop table t0;\n"),
        ("migrations/000002_b.up.sql", &c[1]),
        ("migrations/000002_b.down.sql", "drop table t1;\n"),
    ]);
    let doc = audit_json(&[
        "--migrations",
        dir.path().join("migrations").to_str().unwrap(),
    ]);
    no_errors(&doc);
    assert_eq!(doc["source"]["layout"], "golang-migrate");
    assert_eq!(files_of(&doc).len(), 2);
}

#[test]
fn drizzle_journal_order_and_breakpoints() {
    let journal = r#"{"version":"7","dialect":"postgresql","entries":[
        {"idx":0,"version":"7","when":1,"tag":"0000_first","breakpoints":true},
        {"idx":1,"version":"7","when":2,"tag":"0001_second","breakpoints":true}]}"#;
    let dir = project(&[
        ("drizzle/meta/_journal.json", journal),
        (
            "drizzle/0000_first.sql",
            "CREATE TABLE \"t0\" (\"id\" integer PRIMARY KEY);\n--> statement-breakpoint\nCREATE TABLE \"x\" (\"id\" integer PRIMARY KEY);\n",
        ),
        (
            "drizzle/0001_second.sql",
            "CREATE TABLE \"t1\" (\"id\" integer PRIMARY KEY, \"p\" integer REFERENCES \"t0\"(\"id\"));\n",
        ),
        ("drizzle/0002_not_in_journal.sql", "this is not even sql;\n"),
    ]);
    let doc = audit_json(&["--migrations", dir.path().join("drizzle").to_str().unwrap()]);
    no_errors(&doc);
    assert_eq!(doc["source"]["layout"], "drizzle");
    assert_eq!(files_of(&doc).len(), 2);
    let skipped = doc["source"]["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(|s| s["file"]
        .as_str()
        .unwrap()
        .ends_with("0002_not_in_journal.sql")));
    // A Drizzle backend has no API roles: RLS rules stay quiet.
    assert!(!findings(&doc).iter().any(|f| f["rule"] == "rls-disabled"));
}

#[test]
fn prisma_folders_with_spaces() {
    let c = chain(2);
    let dir = project(&[
        ("prisma/migrations/20260101000000_init/migration.sql", &c[0]),
        (
            "prisma/migrations/20260102000000_add things/migration.sql",
            &c[1],
        ),
        (
            "prisma/migrations/migration_lock.toml",
            "provider = \"postgresql\"\n",
        ),
    ]);
    let doc = audit_json(&["--migrations", dir.path().to_str().unwrap()]);
    no_errors(&doc);
    assert_eq!(doc["source"]["layout"], "prisma");
    assert!(files_of(&doc)[1].contains("add things"));
}

#[test]
fn flyway_numeric_versions() {
    let c = chain(3);
    let dir = project(&[
        ("db/migration/V1__a.sql", &c[0]),
        ("db/migration/V1.1__b.sql", &c[1]),
        ("db/migration/V10__c.sql", &c[2]),
    ]);
    let doc = audit_json(&[
        "--migrations",
        dir.path().join("db/migration").to_str().unwrap(),
    ]);
    no_errors(&doc);
    assert_eq!(doc["source"]["layout"], "flyway");
    assert!(files_of(&doc)[2].ends_with("V10__c.sql"));
}

#[test]
fn dbmate_up_sections_only() {
    let dir = project(&[
        (
            "db/migrations/20260101000000_a.sql",
            "-- migrate:up\ncreate table t0 (id int primary key);\n\n-- migrate:down\ndrop table t0;\n",
        ),
        (
            "db/migrations/20260102000000_b.sql",
            "-- migrate:up transaction:false\ncreate index concurrently t0_id on t0 (id);\n\n-- migrate:down\ndrop index t0_id;\n",
        ),
    ]);
    let doc = audit_json(&[
        "--migrations",
        dir.path().join("db/migrations").to_str().unwrap(),
    ]);
    no_errors(&doc);
    assert_eq!(doc["source"]["layout"], "dbmate");
}

#[test]
fn no_flag_discovers_the_layout_in_the_current_directory() {
    let c = chain(1);
    let dir = project(&[("supabase/migrations/20260101000000_a.sql", &c[0])]);
    let o = run_in(
        dir.path(),
        &["audit", "--format", "json", "--fail-on", "never"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["source"]["layout"], "supabase");
}

#[test]
fn seed_flag_loads_data_after_migrations() {
    let c = chain(1);
    let dir = project(&[
        ("migrations/001_a.sql", &c[0]),
        ("seed.sql", "insert into t0 values (1);\n"),
    ]);
    let doc = audit_json(&[
        "--migrations",
        dir.path().join("migrations").to_str().unwrap(),
        "--seed",
        dir.path().join("seed.sql").to_str().unwrap(),
    ]);
    no_errors(&doc);
    assert_eq!(doc["source"]["seeds"].as_array().unwrap().len(), 1);
}

#[test]
fn demo_runs_end_to_end() {
    let o = run(&["demo", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = findings(&doc);
    let has = |rule: &str, needle: &str| {
        f.iter().any(|x| {
            x["rule"] == rule
                && (x["table"] == needle || x["file"].as_str().unwrap_or("").ends_with(needle))
        })
    };
    assert!(has("rls-disabled", "audit_log"), "{f:#?}");
    assert!(has("missing-primary-key", "webhook_deliveries"));
    assert!(has("unindexed-foreign-key", "tasks"));
    assert!(has("migration-error", "20260210000000_due_date_index.sql"));
    assert!(doc["source"]["standins"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "pg_net"));
    // Exactly the planted defects of the first rules, nothing else.
    let first_rules = [
        "rls-disabled",
        "missing-primary-key",
        "unindexed-foreign-key",
        "migration-error",
    ];
    let n = f
        .iter()
        .filter(|x| first_rules.contains(&x["rule"].as_str().unwrap()))
        .count();
    assert_eq!(n, 4, "{f:#?}");
    // The markdown report renders too.
    let o = run(&["demo", "--format", "md"]);
    assert!(stdout(&o).contains("Database Audit Report"));
}
