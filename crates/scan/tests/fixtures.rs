//! The fixtures' planted data defects (`data = true` in expected.toml), built from their
//! migrations and seed on the Supabase test cluster, scanned, with exact counts.

mod common;

use common::*;
use dbaudit_pgcluster::testing::test_db_supabase;
use dbaudit_scan::{ScanOptions, TableStatus};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../dbaudit/tests/fixtures")
        .join(name)
}

async fn build(name: &str) -> dbaudit_pgcluster::testing::TestDb {
    let db = test_db_supabase(name).await;
    let set = dbaudit_pgcluster::detect(&fixture(name)).expect("fixture layout");
    assert!(!set.seeds.is_empty(), "{name} has a seed");
    dbaudit_pgcluster::apply(&db.client, &set)
        .await
        .expect("fixture applies");
    db
}

/// Every `data = true` expect of the fixture, as (rule, table, column).
fn data_expects(name: &str) -> Vec<(String, String, Option<String>)> {
    let text = std::fs::read_to_string(fixture(name).join("expected.toml")).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    doc["expect"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.get("data").and_then(|d| d.as_bool()) == Some(true))
        .map(|e| {
            (
                e["rule"].as_str().unwrap().to_string(),
                format!("public.{}", e["table"].as_str().unwrap()),
                e.get("column").and_then(|c| c.as_str()).map(String::from),
            )
        })
        .collect()
}

fn assert_all_expects_found(name: &str, out: &dbaudit_scan::ScanOutcome) {
    for (rule, table, column) in data_expects(name) {
        let hit = out.findings.iter().any(|f| {
            f.rule == rule
                && f.qualified_table().as_deref() == Some(table.as_str())
                && column
                    .as_deref()
                    .is_none_or(|c| f.column.as_deref() == Some(c))
        });
        assert!(hit, "{name}: {rule} {table} {column:?} not reported");
    }
}

#[tokio::test]
async fn callengo_planted_orphans_are_counted() {
    let db = build("callengo").await;
    let out = scan_db(&db, &Default::default(), 3, &ScanOptions::default()).await;
    assert!(
        out.tables.iter().all(|t| t.status == TableStatus::Scanned),
        "{:#?}",
        out.tables
    );
    assert_all_expects_found("callengo", &out);

    // 'c0000000-...-00000000dead' (no such list) and 'leads-2025' (not a uuid); NULL is no orphan.
    let f = get(&out, "orphan-rows", "public.contacts", "list_id");
    assert_eq!(count(f), 2);
    assert_eq!(f.evidence["not_valid_uuid"], 1);
    assert_eq!(f.evidence["missing_parent"], 1);
    assert_eq!(samples(f).len(), 2);
    assert!(
        f.message.contains("1 of them not even a valid uuid"),
        "{}",
        f.message
    );
    // The conversion the type-mismatch fix recommends would reject 'leads-2025'.
    let f = get(&out, "check-violations", "public.contacts", "list_id");
    assert_eq!(count(f), 1);

    for (t, c) in [
        ("public.usage_tracking", "subscription_id"),
        ("public.call_logs", "agent_run_id"),
        ("public.cancellation_feedback", "user_id"),
    ] {
        let f = get(&out, "orphan-rows", t, c);
        assert_eq!(count(f), 1, "{t}.{c}: {}", f.message);
        assert_eq!(samples(f).len(), 1, "{t}.{c}");
    }
    // Nothing else is an orphan, and no tenant is mixed in the seed.
    let orphans = out
        .findings
        .iter()
        .filter(|f| f.rule == "orphan-rows")
        .count();
    assert_eq!(orphans, 4, "{:#?}", out.findings);
    assert!(!out
        .findings
        .iter()
        .any(|f| f.rule == "cross-tenant-reference"));
    assert!(!out.findings.iter().any(|f| f.rule == "null-tenant-rows"));
    // The JSON the report embeds.
    let j = out.to_json();
    assert_eq!(j["connections"], 3);
    assert_eq!(j["totals"]["not_scanned"], 0);
    let contacts = j["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "public.contacts")
        .unwrap();
    assert_eq!(contacts["status"], "scanned");
    assert_eq!(contacts["rows"], 5);
    assert!(contacts["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "orphan-rows:list_id"));
}

#[tokio::test]
async fn clinic_null_tenant_and_orphan_tenant_are_counted() {
    let db = build("clinic").await;
    let out = scan_db(&db, &Default::default(), 3, &ScanOptions::default()).await;
    assert!(
        out.tables.iter().all(|t| t.status == TableStatus::Scanned),
        "{:#?}",
        out.tables
    );
    assert_all_expects_found("clinic", &out);
    let f = get(&out, "null-tenant-rows", "public.cold_call_logs", "org_id");
    assert_eq!(count(f), 1);
    let f = get(&out, "orphan-rows", "public.atomic_appointments", "org_id");
    assert_eq!(count(f), 1);
    assert_eq!(
        out.findings
            .iter()
            .filter(|f| f.rule == "orphan-rows" || f.rule == "null-tenant-rows")
            .count(),
        2,
        "{:#?}",
        out.findings
    );
    // The NULL-tenant log is not also a cross-tenant reference.
    assert!(!out
        .findings
        .iter()
        .any(|f| f.rule == "cross-tenant-reference"));
}
