//! `--format sarif`: SARIF 2.1.0 for code-scanning uploads.
//!
//! - `tool.driver.rules`: one per dbaudit rule (id = code, name, short description = summary,
//!   full description and help from the rule's docs, default level from its severity, the
//!   category as a tag).
//! - `results`: one per finding, with `partialFingerprints["dbaudit/v1"]` = the finding's
//!   fingerprint, and a physical location (file and line) when the finding has one — its own
//!   `file`/`line`, or `evidence.defined_in` `{file, line}` (where the object was created or last
//!   altered) — else a logical location with the object's fully qualified name.
//! - Known (baseline) findings are included with `baselineState: "unchanged"`, new ones with
//!   `"new"` when a baseline was used.

use crate::Report;
use dbaudit_findings::{Finding, RuleMeta, Severity};
use serde_json::{json, Map, Value};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const INFORMATION_URI: &str = "https://github.com/dbaudit/dbaudit";

/// SARIF level of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Moderate => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (0.0–10.0) for a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Moderate => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn rule_descriptor(m: &RuleMeta) -> Value {
    let what = m.docs_section("What it does").unwrap_or(m.summary);
    let why = m.docs_section("Why it matters").unwrap_or("");
    let full = if why.is_empty() {
        what.to_string()
    } else {
        format!("{what}\n\n{why}")
    };
    let help_md = if m.docs.trim().is_empty() {
        m.summary.to_string()
    } else {
        m.docs.trim().to_string()
    };
    let help_text = match m.docs_section("Fix") {
        Some(fix) => format!("{full}\n\nFix: {fix}"),
        None => full.clone(),
    };
    let short = if m.summary.is_empty() {
        m.name
    } else {
        m.summary
    };
    json!({
        "id": m.code,
        "name": m.name,
        "shortDescription": { "text": short },
        "fullDescription": { "text": if full.is_empty() { short.to_string() } else { full } },
        "help": { "text": help_text, "markdown": help_md },
        "defaultConfiguration": { "level": level(m.default_severity) },
        "properties": {
            "tags": [m.category.as_str(), "dbaudit", m.source.as_str()],
            "security-severity": security_severity(m.default_severity),
            "precision": "high",
        },
    })
}

/// A rule seen only in findings (e.g. from a check whose metadata the caller did not pass).
fn descriptor_from_finding(f: &Finding) -> Value {
    json!({
        "id": f.code,
        "name": f.rule,
        "shortDescription": { "text": f.rule },
        "defaultConfiguration": { "level": level(f.severity) },
        "properties": { "tags": [f.category.as_str(), "dbaudit"] },
    })
}

/// The fully qualified name of what a finding is about.
fn qualified_name(f: &Finding) -> (String, &'static str) {
    let table = f.qualified_table();
    if let Some(p) = &f.policy {
        return (format!("{}.{}", table.unwrap_or_default(), p), "policy");
    }
    if let Some(func) = &f.function {
        let q = match &f.schema {
            Some(s) if !func.contains('.') => format!("{s}.{func}"),
            _ => func.clone(),
        };
        return (q, "function");
    }
    if let (Some(t), Some(c)) = (&table, &f.column) {
        return (format!("{t}.{c}"), "column");
    }
    if let Some(t) = table {
        return (t, "table");
    }
    if let Some(o) = &f.object {
        return (o.clone(), "object");
    }
    (f.location(), "object")
}

/// The artifact URI of a file a finding names: migration and seed files are relative to the
/// migrations path, so that path is put in front (a repository-relative URI is what code
/// scanning wants when dbaudit runs at the repository root).
fn artifact_uri(report: &Report, file: &str) -> String {
    let file = file.trim_start_matches("./");
    let src = &report.source;
    let target = src.target.trim_end_matches('/').trim_start_matches("./");
    let is_source_file = src.files.iter().chain(&src.seeds).any(|f| f == file);
    if src.kind == "migrations"
        && is_source_file
        && !target.is_empty()
        && target != "."
        && !target.starts_with('/')
        && !file.starts_with(&format!("{target}/"))
    {
        format!("{target}/{file}")
    } else {
        file.to_string()
    }
}

fn location(report: &Report, f: &Finding) -> Value {
    let (fqn, kind) = qualified_name(f);
    let logical = json!({ "fullyQualifiedName": fqn, "kind": kind });
    let file_line = match (&f.file, f.line) {
        (Some(file), line) => Some((file.clone(), line)),
        _ => f.evidence.get("defined_in").and_then(|d| {
            let file = d.get("file")?.as_str()?.to_string();
            let line = d.get("line").and_then(Value::as_u64).map(|l| l as u32);
            Some((file, line))
        }),
    };
    match file_line {
        Some((file, line)) => {
            let mut phys = Map::new();
            phys.insert(
                "artifactLocation".into(),
                json!({ "uri": artifact_uri(report, &file) }),
            );
            if let Some(l) = line.filter(|l| *l > 0) {
                phys.insert("region".into(), json!({ "startLine": l }));
            }
            let mut loc = json!({ "physicalLocation": Value::Object(phys) });
            if f.file.is_none() || f.table.is_some() || f.function.is_some() {
                loc["logicalLocations"] = json!([logical]);
            }
            loc
        }
        None => json!({ "logicalLocations": [logical] }),
    }
}

fn result(
    report: &Report,
    f: &Finding,
    rule_index: Option<usize>,
    baseline: Option<&str>,
) -> Value {
    let mut text = f.message.clone();
    if !f.impact.is_empty() {
        text.push_str(". Impact: ");
        text.push_str(&f.impact);
    }
    let mut r = json!({
        "ruleId": f.code,
        "level": level(f.severity),
        "message": { "text": text },
        "locations": [location(report, f)],
        "partialFingerprints": { "dbaudit/v1": f.fingerprint },
        "properties": {
            "rule": f.rule,
            "severity": f.severity.as_str(),
            "category": f.category.as_str(),
            "evidence": Value::Object(f.evidence.clone()),
        },
    });
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    if let Some(b) = baseline {
        r["baselineState"] = json!(b);
    }
    if let Some(fix) = &f.fix {
        r["properties"]["fix"] = json!({ "sql": fix.sql, "safety": fix.safety });
    }
    r
}

pub fn render(report: &Report, rules: &[&'static RuleMeta]) -> String {
    let mut descriptors: Vec<Value> = vec![];
    let mut ids: Vec<String> = vec![];
    for m in rules {
        if !ids.iter().any(|i| i == m.code) {
            ids.push(m.code.to_string());
            descriptors.push(rule_descriptor(m));
        }
    }
    for f in &report.findings {
        if !ids.contains(&f.code) {
            ids.push(f.code.clone());
            descriptors.push(descriptor_from_finding(f));
        }
    }
    let index_of = |code: &str| ids.iter().position(|i| i == code);
    let with_baseline = !report.known.is_empty();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let state = with_baseline.then(|| {
                if report.is_known(f) {
                    "unchanged"
                } else {
                    "new"
                }
            });
            result(report, f, index_of(&f.code), state)
        })
        .collect();
    let invocation = json!({
        "executionSuccessful": true,
        "endTimeUtc": report.generated_at,
        "properties": {
            "source": report.source.kind,
            "target": report.source.target,
            "server_version": report.source.server_version,
        },
    });
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "dbaudit",
                    "version": report.dbaudit,
                    "semanticVersion": report.dbaudit,
                    "informationUri": INFORMATION_URI,
                    "rules": descriptors,
                }
            },
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "score": report.summary.score.score,
                "grade": report.summary.score.grade.to_string(),
            },
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).expect("plain data serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn sample_sarif() {
        let r = crate::sample::report();
        let out = super::render(&r, &crate::sample::rules());
        insta::assert_snapshot!(out);
    }
}
