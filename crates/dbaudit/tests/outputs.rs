//! The CI-facing outputs end to end: baselines, SARIF, the fix migration and its
//! self-verification, and the Markdown report's sections.

mod common;

use common::*;
use serde_json::Value;

fn callengo() -> String {
    fixtures_dir().join("callengo").display().to_string()
}

#[test]
fn a_baseline_turns_every_finding_into_a_known_one() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let fx = callengo();
    let o = run(&[
        "audit",
        "--migrations",
        &fx,
        "--format",
        "json",
        "--write-baseline",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "callengo has high findings");
    let first: Value = serde_json::from_slice(&o.stdout).unwrap();
    let total = first["findings"].as_array().unwrap().len();
    assert!(total > 10);

    let o = run(&[
        "audit",
        "--migrations",
        &fx,
        "--format",
        "json",
        "--baseline",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "known findings do not count for --fail-on: {}",
        stderr(&o)
    );
    let second: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(second["known"].as_array().unwrap().len(), total);
    assert_eq!(second["summary"]["findings"], 0);
    assert_eq!(second["findings"].as_array().unwrap().len(), total);

    // A baseline that is not one is refused with the file's name.
    std::fs::write(&baseline, "not json").unwrap();
    let o = run(&[
        "audit",
        "--migrations",
        &fx,
        "--baseline",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("baseline.json"), "{}", stderr(&o));
}

#[test]
fn sarif_has_a_result_per_finding_and_a_rule_per_rule() {
    let fx = callengo();
    let doc = audit_json(&["--migrations", &fx]);
    let o = run(&[
        "audit",
        "--migrations",
        &fx,
        "--format",
        "sarif",
        "--fail-on",
        "never",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings(&doc).len());
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        assert!(rules.iter().any(|x| x["id"] == id), "{id} has no rule");
        assert!(r["partialFingerprints"].is_object());
    }
    // Findings about schema objects point at the migration that created them.
    assert!(results.iter().any(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with(".sql"))
    ));
}

#[test]
fn the_fix_migration_applies_and_clears_what_it_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let fix = dir.path().join("fix.sql");
    let doc = audit_json(&[
        "--migrations",
        &callengo(),
        "--fix-out",
        fix.to_str().unwrap(),
    ]);
    let sql = std::fs::read_to_string(&fix).unwrap();
    assert!(sql.contains("-- dbaudit fix migration"));
    assert!(!sql.contains("<valid"), "placeholders never reach the file");
    let v = &doc["fix"]["verification"];
    assert_eq!(v["applied"], true, "{v:#}");
    // callengo's seed has a list_id that is not a uuid: the fix applies once its commented
    // cleanup is enabled, and the report says so.
    assert_eq!(v["with_cleanup"], true, "{v:#}");
    let (cleared, with_fix) = (
        v["cleared"].as_u64().unwrap(),
        v["with_fix"].as_u64().unwrap(),
    );
    assert!(
        cleared * 10 >= with_fix * 9,
        "cleared {cleared} of {with_fix}: {v:#}"
    );
}

#[test]
fn markdown_has_the_seed_report_sections() {
    let o = run(&[
        "audit",
        "--migrations",
        &callengo(),
        "--scan-data",
        "--probe",
        "--format",
        "md",
        "--fail-on",
        "never",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = stdout(&o);
    for section in [
        "## EXECUTIVE SUMMARY",
        "Health score",
        "## CRITICAL ISSUES",
        "## CASCADE DELETE CHAINS",
        "## TABLES SUMMARY",
        "```mermaid",
        "erDiagram",
        "## ISOLATION PROOF",
        "## DATA SCAN",
        "## VERIFICATION QUERIES",
    ] {
        assert!(md.contains(section), "missing {section}");
    }
    // The scan's problems are listed, not summed up as clean.
    assert!(md.contains("orphan-rows on list_id: 2 rows"), "{md}");
    assert!(!md.contains("Every scanned table passed every check"));
}

#[test]
fn a_repository_audited_without_flags_gets_its_code_checked() {
    let dir = fixtures_dir().join("orgcalls");
    let o = run_in(&dir, &["audit", "--format", "json", "--fail-on", "never"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let code: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["category"] == "code")
        .collect();
    assert!(!code.is_empty(), "backend/ was found and checked");
    for f in &code {
        let file = f["file"].as_str().unwrap();
        assert!(
            file.starts_with("backend/src/"),
            "relative to the repository: {file}"
        );
    }
    // --no-code turns it off.
    let o = run_in(
        &dir,
        &[
            "audit",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--no-code",
        ],
    );
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(doc["code"].is_null());
}
