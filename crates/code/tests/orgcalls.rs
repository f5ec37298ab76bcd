//! End to end on the orgcalls fixture: its migrations built in a throwaway Supabase database,
//! its backend checked; every `code = true` expect must be found and no absent reported.

use dbaudit_catalog::LoadOptions;
use dbaudit_findings::Finding;
use dbaudit_rules::{Context, Settings};
use std::path::PathBuf;

fn fixture() -> PathBuf {
    let local =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dbaudit/tests/fixtures/orgcalls");
    if local.join("backend").is_dir() {
        local
    } else {
        PathBuf::from("/work/shared/fixtures/orgcalls")
    }
}

/// The scorer's matching: rule, file suffix, line_from/line_to (and table/column when given).
fn matches(f: &Finding, e: &toml::Table) -> bool {
    let s = |k: &str| e.get(k).and_then(|v| v.as_str());
    if Some(f.rule.as_str()) != s("rule") {
        return false;
    }
    if let Some(file) = s("file") {
        if !f.file.as_deref().unwrap_or("").ends_with(file) {
            return false;
        }
    }
    if let Some(t) = s("table") {
        if f.table.as_deref() != Some(t.rsplit('.').next().unwrap()) {
            return false;
        }
    }
    if let Some(c) = s("column") {
        if f.column.as_deref() != Some(c) {
            return false;
        }
    }
    let line = f.line.map(i64::from);
    if let Some(from) = e.get("line_from").and_then(|v| v.as_integer()) {
        if line.is_none_or(|l| l < from) {
            return false;
        }
    }
    if let Some(to) = e.get("line_to").and_then(|v| v.as_integer()) {
        if line.is_none_or(|l| l > to) {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn orgcalls_expects_and_absents() {
    let dir = fixture();
    let db = dbaudit_pgcluster::testing::test_db_supabase("code_orgcalls").await;
    let set = dbaudit_pgcluster::detect(&dir).expect("migrations");
    dbaudit_pgcluster::apply(&db.client, &set)
        .await
        .expect("apply");
    let catalog = dbaudit_catalog::load(&db.client, &LoadOptions { statistics: false })
        .await
        .expect("catalog");
    let settings = Settings::default();
    let ctx = Context::new(&catalog, &settings, &[]);
    let outcome = dbaudit_code::check(&ctx, &[dir.join("backend")]).expect("check");
    for f in &outcome.findings {
        eprintln!(
            "{} {}:{} {} | {}",
            f.rule,
            f.file.as_deref().unwrap_or(""),
            f.line.unwrap_or(0),
            f.object.as_deref().unwrap_or(""),
            f.message
        );
    }
    assert_eq!(outcome.files_scanned, 8, "{:?}", outcome.skipped);
    let expected: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("expected.toml")).unwrap()).unwrap();
    let mut problems = vec![];
    for e in expected["expect"].as_array().unwrap() {
        let e = e.as_table().unwrap();
        if e.get("code").and_then(|v| v.as_bool()) != Some(true) {
            continue;
        }
        if !outcome.findings.iter().any(|f| matches(f, e)) {
            problems.push(format!("missed: {e:?}"));
        }
    }
    for e in expected["absent"].as_array().unwrap() {
        let e = e.as_table().unwrap();
        for f in outcome.findings.iter().filter(|f| matches(f, e)) {
            problems.push(format!(
                "absent violated by {} {:?}:{:?} {}",
                f.rule, f.file, f.line, f.message
            ));
        }
    }
    // Both calls-dashboard leaks, as two findings.
    let leaks: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| {
            f.rule == "query-missing-tenant-filter"
                && f.file.as_deref().unwrap().ends_with("calls-dashboard.ts")
        })
        .collect();
    if leaks.len() != 2 {
        problems.push(format!(
            "calls-dashboard: {} tenant-filter findings, want 2",
            leaks.len()
        ));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
