//! The fix migration on a real project: build the callengo fixture from its migrations (no seed
//! data), audit it, write the fix migration, apply it to a fresh build of the same migrations,
//! audit again: the fix must apply cleanly and clear at least 90% of the findings with a fix.

use dbaudit_catalog::LoadOptions;
use dbaudit_pgcluster::testing::test_db_supabase;
use dbaudit_rules::{Context, Settings};
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dbaudit/tests/fixtures/callengo")
}

async fn audit(client: &tokio_postgres::Client) -> Vec<dbaudit_findings::Finding> {
    let catalog = dbaudit_catalog::load(client, &LoadOptions { statistics: false })
        .await
        .expect("catalog loads");
    let settings = Settings::default();
    let ctx = Context::new(&catalog, &settings, &[]);
    dbaudit_rules::run_all(&ctx)
}

#[tokio::test]
async fn callengo_fix_applies_and_clears_the_findings() {
    let mut set = dbaudit_pgcluster::detect(&fixture()).expect("callengo migrations");
    set.seeds.clear();

    let db = test_db_supabase("fix_callengo_before").await;
    dbaudit_pgcluster::apply(&db.client, &set)
        .await
        .expect("apply");
    let before = audit(&db.client).await;
    let fix = dbaudit_fix::build(&before);
    assert!(!fix.is_empty());

    let after_db = test_db_supabase("fix_callengo_after").await;
    dbaudit_pgcluster::apply(&after_db.client, &set)
        .await
        .expect("apply");
    let fix_set = dbaudit_pgcluster::MigrationSet {
        files: vec![dbaudit_pgcluster::MigrationFile {
            path: PathBuf::from("dbaudit-fix.sql"),
            display: "dbaudit-fix.sql".into(),
            sql: fix.sql.clone(),
            first_line: 1,
            transaction: dbaudit_pgcluster::TxMode::Auto,
        }],
        seeds: vec![],
        skipped: vec![],
        ..set.clone()
    };
    let applied = dbaudit_pgcluster::apply(&after_db.client, &fix_set)
        .await
        .expect("apply fix");
    assert!(
        applied.failures.is_empty(),
        "the fix migration failed: {:#?}\n{}",
        applied.failures,
        fix.sql
    );
    let after = audit(&after_db.client).await;
    let after_prints: std::collections::HashSet<&str> =
        after.iter().map(|f| f.fingerprint.as_str()).collect();
    let with_fix: Vec<_> = before.iter().filter(|f| f.fix.is_some()).collect();
    let remaining: Vec<String> = with_fix
        .iter()
        .filter(|f| after_prints.contains(f.fingerprint.as_str()))
        .map(|f| format!("{} {}", f.rule, f.location()))
        .collect();
    let cleared = with_fix.len() - remaining.len();
    let before_prints: std::collections::HashSet<&str> =
        before.iter().map(|f| f.fingerprint.as_str()).collect();
    let new: Vec<String> = after
        .iter()
        .filter(|f| !before_prints.contains(f.fingerprint.as_str()))
        .map(|f| format!("{} {}: {}", f.rule, f.location(), f.message))
        .collect();
    eprintln!(
        "cleared {cleared} of {}; remaining: {remaining:#?}; new: {new:#?}",
        with_fix.len()
    );
    assert!(
        cleared * 10 >= with_fix.len() * 9,
        "cleared only {cleared} of {}: remaining {remaining:#?}",
        with_fix.len()
    );
}
