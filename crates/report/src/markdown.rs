//! `--format md`: the summary plus every finding grouped by severity, with impact, location,
//! evidence and fix. (The seed-grade report — health score, cascade trees, relationship map —
//! builds on this.)

use crate::Report;
use dbaudit_findings::{Finding, FixSafety, Severity};
use std::fmt::Write;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let src = &report.source;
    let _ = writeln!(out, "# Database audit: {}\n", src.target);
    let date = report
        .generated_at
        .get(..10)
        .unwrap_or(&report.generated_at);
    let _ = writeln!(out, "- **Date:** {date}");
    let _ = writeln!(out, "- **Tool:** dbaudit {}", report.dbaudit);
    match &src.layout {
        Some(layout) => {
            let _ = writeln!(
                out,
                "- **Source:** {} migration files ({layout} layout){}, built on a throwaway PostgreSQL {}",
                src.files.len(),
                if src.seeds.is_empty() {
                    String::new()
                } else {
                    format!(" and {} seed file(s)", src.seeds.len())
                },
                src.server_version
            );
        }
        None => {
            let _ = writeln!(
                out,
                "- **Source:** live database `{}` (PostgreSQL {}), read-only",
                src.target, src.server_version
            );
        }
    }
    if src.supabase_environment {
        let _ = writeln!(out, "- **Environment:** Supabase (auth, storage, realtime, API roles and default privileges provided)");
    }
    if !src.standins.is_empty() {
        let _ = writeln!(
            out,
            "- **Stood in for:** {} (not installed on this machine; schemas, types and signatures provided so the migrations apply)",
            src.standins.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
        );
    }
    if !src.schemas.is_empty() {
        let _ = writeln!(out, "- **Schemas audited:** {}", src.schemas.join(", "));
    }
    let _ = writeln!(
        out,
        "- **API roles:** {} ({})",
        if src.api_roles.is_empty() {
            "none".to_string()
        } else {
            src.api_roles.join(", ")
        },
        src.api_roles_source
    );
    if !src.skipped.is_empty() {
        let _ = writeln!(out, "- **Files not applied:**");
        for s in &src.skipped {
            let _ = writeln!(out, "  - `{}`: {}", s.file, s.reason);
        }
    }

    let _ = writeln!(out, "\n## Summary\n");
    let _ = writeln!(out, "| Severity | Findings |\n|---|---:|");
    for s in Severity::ALL {
        let _ = writeln!(out, "| {} | {} |", title(s), report.summary.count(s));
    }
    let _ = writeln!(out, "| **Total** | **{}** |", report.summary.findings);
    let _ = writeln!(
        out,
        "\n{} rules ran over {} tables and views. {}\n",
        report.summary.rules_run,
        report.summary.relations,
        if report.summary.failed {
            format!(
                "**The audit fails** (findings at or above `{}`).",
                report.summary.fail_on
            )
        } else {
            format!("Nothing at or above `{}`.", report.summary.fail_on)
        }
    );

    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.");
        return out;
    }
    let mut n = 0;
    for s in Severity::ALL {
        let group: Vec<&Finding> = crate::findings_of(report, s).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {} ({})\n", title(s), group.len());
        for f in group {
            n += 1;
            finding(&mut out, n, f);
        }
    }
    out
}

fn title(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Moderate => "MODERATE",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

fn finding(out: &mut String, n: usize, f: &Finding) {
    let _ = writeln!(out, "### {n}. {} — `{}`\n", f.message, f.rule);
    let _ = writeln!(
        out,
        "- **Rule:** `{}` ({}, {})",
        f.rule,
        f.code,
        f.category.title()
    );
    let _ = writeln!(out, "- **Location:** `{}`", f.location());
    if !f.impact.is_empty() {
        let _ = writeln!(out, "- **Impact:** {}", f.impact);
    }
    if !f.evidence.is_empty() {
        let _ = writeln!(out, "- **Evidence:**");
        for (k, v) in &f.evidence {
            let shown = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = writeln!(
                out,
                "  - {}: `{}`",
                k.replace('_', " "),
                shown.replace('`', "'")
            );
        }
    }
    if let Some(fix) = &f.fix {
        let _ = writeln!(
            out,
            "- **Fix** ({}):\n\n```sql\n{}\n```",
            match fix.safety {
                FixSafety::Safe => "safe: no behaviour change",
                FixSafety::Review => "review before applying",
            },
            fix.sql.trim_end()
        );
    }
    let _ = writeln!(out);
}

#[cfg(test)]
mod tests {
    #[test]
    fn markdown_report() {
        insta::assert_snapshot!(super::render(&crate::sample::report()));
    }
}
