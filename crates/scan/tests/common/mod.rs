//! Shared by the scan's integration tests: build a catalog of a test database, plan, scan.

#![allow(dead_code)]

use dbaudit_catalog::{Catalog, LoadOptions};
use dbaudit_findings::Finding;
use dbaudit_pgcluster::testing::TestDb;
use dbaudit_rules::{Context, Settings};
use dbaudit_scan::{plan, scan, ScanOptions, ScanOutcome, TablePlan, TableScan};

pub async fn catalog(db: &TestDb) -> Catalog {
    dbaudit_catalog::load(&db.client, &LoadOptions { statistics: false })
        .await
        .expect("catalog loads")
}

pub fn plan_of(catalog: &Catalog, settings: &Settings) -> Vec<TablePlan> {
    let ctx = Context::new(catalog, settings, &[]);
    plan(&ctx)
}

/// Plan from the database's catalog and scan it over `connections` new clients.
pub async fn scan_db(
    db: &TestDb,
    settings: &Settings,
    connections: usize,
    opts: &ScanOptions,
) -> ScanOutcome {
    let cat = catalog(db).await;
    let p = plan_of(&cat, settings);
    let mut clients = vec![];
    for _ in 0..connections {
        clients.push(db.connect().await);
    }
    scan(p, clients, opts).await.expect("scan runs")
}

pub fn find<'a>(
    out: &'a ScanOutcome,
    rule: &str,
    table: &str,
    column: &str,
) -> Option<&'a Finding> {
    out.findings.iter().find(|f| {
        f.rule == rule
            && f.qualified_table().as_deref() == Some(table)
            && f.column.as_deref() == Some(column)
    })
}

pub fn get<'a>(out: &'a ScanOutcome, rule: &str, table: &str, column: &str) -> &'a Finding {
    find(out, rule, table, column).unwrap_or_else(|| {
        panic!(
            "no {rule} on {table}.{column}; findings: {:#?}",
            out.findings
                .iter()
                .map(|f| (&f.rule, f.location(), &f.message))
                .collect::<Vec<_>>()
        )
    })
}

pub fn count(f: &Finding) -> i64 {
    f.evidence["rows"].as_i64().unwrap()
}

pub fn samples(f: &Finding) -> Vec<String> {
    f.evidence["sample_keys"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

pub fn table<'a>(out: &'a ScanOutcome, name: &str) -> &'a TableScan {
    out.tables
        .iter()
        .find(|t| t.table == name)
        .unwrap_or_else(|| panic!("{name} not in the scan: {:?}", out.tables))
}
