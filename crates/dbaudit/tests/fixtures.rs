//! The fixture scoreboard: every fixture project under tests/fixtures is built from its
//! migrations and audited the way ../shared/tools/score-fixtures does it (`--scan-data --probe`,
//! plus `--code` for its src/, app/ or backend/ folder); every `[[expect]]` whose rule is
//! implemented must be reported, and no `[[absent]]` may be. As rules are implemented, their
//! expectations join in automatically.

mod common;

use common::*;
use serde_json::Value;
use std::collections::HashSet;

fn implemented_rules() -> HashSet<String> {
    let o = run(&["rules", "--format", "json"]);
    assert!(o.status.success());
    let rows: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    rows.iter()
        .filter(|r| r["implemented"] == true)
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

fn table_of(f: &Value) -> Option<String> {
    let t = f["table"].as_str()?;
    let s = f["schema"].as_str().unwrap_or("public");
    Some(if t.contains('.') {
        t.to_string()
    } else {
        format!("{s}.{t}")
    })
}

fn norm(t: &str) -> String {
    if t.contains('.') {
        t.to_string()
    } else {
        format!("public.{t}")
    }
}

/// Same matching as ../shared/tools/score-fixtures.
fn matches(f: &Value, e: &toml::Table) -> bool {
    let s = |k: &str| e.get(k).and_then(|v| v.as_str());
    if f["rule"].as_str() != s("rule") {
        return false;
    }
    if let Some(t) = s("table") {
        if table_of(f).as_deref() != Some(norm(t).as_str()) {
            return false;
        }
    }
    if let Some(c) = s("column") {
        let col = f["column"].as_str().unwrap_or("");
        if col != c && !col.split(", ").any(|x| x == c) {
            return false;
        }
    }
    if let Some(p) = s("policy") {
        if f["policy"].as_str() != Some(p) {
            return false;
        }
    }
    if let Some(func) = s("function") {
        let name = f["function"].as_str().unwrap_or("");
        let base = name
            .split('(')
            .next()
            .unwrap_or("")
            .rsplit('.')
            .next()
            .unwrap_or("");
        if base != func {
            return false;
        }
    }
    if let Some(file) = s("file") {
        if !f["file"].as_str().unwrap_or("").ends_with(file) {
            return false;
        }
    }
    let line = f["line"].as_i64();
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

fn score(name: &str) {
    let dir = fixtures_dir().join(name);
    let expected: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("expected.toml")).unwrap()).unwrap();
    let implemented = implemented_rules();
    let mut args = vec![
        "--migrations".to_string(),
        dir.display().to_string(),
        "--scan-data".into(),
        "--probe".into(),
    ];
    for code in ["src", "app", "backend"] {
        if dir.join(code).is_dir() {
            args.push("--code".into());
            args.push(dir.join(code).display().to_string());
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let doc = audit_json(&args);
    let found = findings(&doc);
    let mut missed = vec![];
    let mut checked = 0;
    for e in expected
        .get("expect")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let e = e.as_table().unwrap();
        let rule = e["rule"].as_str().unwrap();
        if !implemented.contains(rule) {
            continue;
        }
        checked += 1;
        if !found.iter().any(|f| matches(f, e)) {
            missed.push(e.clone());
        }
    }
    let mut unwanted = vec![];
    for e in expected
        .get("absent")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let e = e.as_table().unwrap();
        for f in &found {
            if matches(f, e) {
                unwanted.push((e.clone(), f["message"].clone()));
            }
        }
    }
    // Migration errors must all be expected ones: the fixtures otherwise build cleanly.
    let expected_errors: Vec<&toml::Table> = expected
        .get("expect")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_table())
        .filter(|e| e.get("rule").and_then(|r| r.as_str()) == Some("migration-error"))
        .collect();
    let stray_errors: Vec<&Value> = found
        .iter()
        .filter(|f| f["rule"] == "migration-error")
        .filter(|f| !expected_errors.iter().any(|e| matches(f, e)))
        .collect();
    assert!(
        missed.is_empty() && unwanted.is_empty() && stray_errors.is_empty(),
        "{name}: checked {checked} expectations\nmissed: {missed:#?}\nunwanted: {unwanted:#?}\nunexpected migration errors: {stray_errors:#?}"
    );
    assert!(checked > 0, "{name}: nothing was checked");
}

#[test]
fn callengo() {
    score("callengo");
}

#[test]
fn clinic() {
    score("clinic");
}

#[test]
fn orgcalls() {
    score("orgcalls");
}

/// The acceptance line, spelled out: these three must be there by name.
#[test]
fn callengo_acceptance() {
    let dir = fixtures_dir().join("callengo");
    let doc = audit_json(&["--migrations", dir.to_str().unwrap()]);
    let found = findings(&doc);
    let has = |rule: &str, table: Option<&str>, col: Option<&str>, file: Option<&str>| {
        found.iter().any(|f| {
            f["rule"] == rule
                && table.is_none_or(|t| f["table"] == t)
                && col.is_none_or(|c| f["column"] == c)
                && file.is_none_or(|x| f["file"].as_str().unwrap_or("").ends_with(x))
        })
    };
    assert!(has("rls-disabled", Some("stripe_events"), None, None));
    assert!(has(
        "unindexed-foreign-key",
        Some("company_subscriptions"),
        Some("plan_id"),
        None
    ));
    assert!(has(
        "migration-error",
        None,
        None,
        Some("20260226000000_grant_sequences.sql")
    ));
    let err = found
        .iter()
        .find(|f| f["rule"] == "migration-error")
        .unwrap();
    assert_eq!(err["line"], 2, "{err:#}");
    assert_eq!(err["evidence"]["sqlstate"], "42P01");
    assert_eq!(doc["source"]["layout"], "supabase");
    assert_eq!(doc["source"]["supabase_environment"], true);
}
