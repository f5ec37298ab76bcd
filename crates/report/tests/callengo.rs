//! The writers on a real project: the callengo fixture built from its migrations (with its seed
//! data), audited, rendered as Markdown and SARIF. Snapshots pin both; the SARIF is validated
//! against the SARIF 2.1.0 JSON schema (vendored from the npm package `@microsoft/jest-sarif`,
//! MIT, `lib/schemas/sarif-2.1.0-rtm.5.json`).

use dbaudit_catalog::LoadOptions;
use dbaudit_findings::{RuleMeta, Severity};
use dbaudit_pgcluster::testing::test_db_supabase;
use dbaudit_report::{Report, SourceInfo, Summary};
use dbaudit_rules::{Context, MigrationFailure, Settings};
use std::path::Path;

const SCHEMA: &str = include_str!("sarif-schema-2.1.0.json");

fn rules() -> Vec<&'static RuleMeta> {
    dbaudit_rules::registry().iter().map(|r| r.meta()).collect()
}

async fn callengo_report() -> Report {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dbaudit/tests/fixtures/callengo");
    let set = dbaudit_pgcluster::detect(&root).expect("callengo migrations");
    let db = test_db_supabase("report_callengo").await;
    let applied = dbaudit_pgcluster::apply(&db.client, &set)
        .await
        .expect("apply");
    let failures: Vec<MigrationFailure> = applied
        .failures
        .iter()
        .map(|f| MigrationFailure {
            file: f.file.clone(),
            line: f.line,
            statement: f.statement.clone(),
            sqlstate: f.sqlstate.clone(),
            message: f.message.clone(),
            detail: f.detail.clone(),
            hint: f.hint.clone(),
        })
        .collect();
    let catalog = dbaudit_catalog::load(&db.client, &LoadOptions { statistics: false })
        .await
        .expect("catalog");
    let settings = Settings::default();
    let ctx = Context::new(&catalog, &settings, &failures);
    let findings = dbaudit_rules::run_all(&ctx);
    let overview = dbaudit_report::overview::build(&ctx, &findings);
    let summary = Summary::new(
        &findings,
        dbaudit_rules::registry().len(),
        ctx.audited_relations().count(),
        Some(Severity::High),
    );
    let tenancy = ctx.tenancy.to_json(&ctx.index);
    Report {
        dbaudit: "0.1.0".into(),
        generated_at: "2026-11-22T10:00:00Z".into(),
        source: SourceInfo {
            kind: "migrations".into(),
            target: "fixtures/callengo".into(),
            layout: Some("supabase".into()),
            files: set.files.iter().map(|f| f.display.clone()).collect(),
            seeds: set.seeds.iter().map(|f| f.display.clone()).collect(),
            server_version: "15".into(),
            supabase_environment: true,
            schemas: vec!["public".into()],
            api_roles: ctx.exposure.api_roles.clone(),
            api_roles_source: ctx.exposure.source.as_str().into(),
            ..SourceInfo::default()
        },
        summary,
        tenancy: Some(tenancy),
        findings,
        probe: None,
        scan: None,
        code: None,
        fix: None,
        overview: Some(overview),
        known: vec![],
    }
}

#[tokio::test]
async fn callengo_markdown_and_sarif() {
    let report = callengo_report().await;
    let rules = rules();

    let md = dbaudit_report::markdown::render(&report, &rules);
    for needle in [
        "## EXECUTIVE SUMMARY",
        "**Health score:",
        "## WHAT'S GOOD",
        "## CRITICAL ISSUES",
        "## CASCADE DELETE CHAINS",
        "## TABLES SUMMARY",
        "```mermaid\nerDiagram",
        "## FIX MIGRATION",
        "## VERIFICATION QUERIES",
        "rls-auth-initplan",
    ] {
        assert!(md.contains(needle), "markdown lacks {needle:?}");
    }
    // Every finding appears in the report.
    for f in &report.findings {
        assert!(
            md.contains(&f.location()),
            "{} missing from the report",
            f.location()
        );
    }
    insta::assert_snapshot!("callengo_markdown", md);

    let sarif = dbaudit_report::sarif::render(&report, &rules);
    let value: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    validate_sarif(&value);
    assert_eq!(
        value["runs"][0]["results"].as_array().unwrap().len(),
        report.findings.len()
    );
    insta::assert_snapshot!("callengo_sarif", sarif);
}

fn validate_sarif(value: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sample_sarif_validates_with_baseline_states() {
    // A physical location (migration file), logical ones, and baseline states.
    let sarif = include_str!("../src/snapshots/dbaudit_report__sarif__tests__sample_sarif.snap");
    let json = &sarif[sarif.find("\n---\n").unwrap() + 5..];
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    validate_sarif(&value);
}
