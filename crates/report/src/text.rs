//! `--format text`: a short terminal summary, coloured when the stream supports it and
//! `NO_COLOR` is not set.

use crate::Report;
use dbaudit_findings::Severity;
use owo_colors::{OwoColorize, Style};
use std::fmt::Write;

/// At most this many findings are listed; the rest are counted.
const MAX_LISTED: usize = 25;

/// One line each for the probe, the scan, the code checks, the fix and the baseline, when run.
fn extras(report: &Report) -> Vec<String> {
    use serde_json::Value;
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    let mut out = vec![];
    if let Some(p) = &report.probe {
        if let Some(c) = p.get("coverage") {
            out.push(format!(
                "probe: {} of {} tenant-scoped tables proven isolated, {} leaking, {} inconclusive",
                n(c, "isolated"),
                n(c, "tenant_scoped"),
                n(c, "leak"),
                n(c, "inconclusive")
            ));
        }
    }
    if let Some(t) = report.scan.as_ref().and_then(|s| s.get("totals")) {
        let not = n(t, "not_scanned");
        out.push(format!(
            "scan: {} of {} tables scanned ({} rows){}",
            n(t, "scanned"),
            n(t, "tables"),
            n(t, "rows"),
            if not > 0 {
                format!(", {not} NOT scanned (see the report)")
            } else {
                String::new()
            }
        ));
    }
    if let Some(c) = &report.code {
        out.push(format!(
            "code: {} files checked, {} skipped",
            n(c, "files_scanned"),
            c.get("skipped")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        ));
    }
    if let Some(f) = &report.fix {
        let file = f.get("file").and_then(Value::as_str).unwrap_or("");
        let v = f.get("verification").filter(|v| !v.is_null());
        out.push(match v {
            Some(v) if v.get("applied") == Some(&Value::Bool(true)) => format!(
                "fix: {file}, verified on a rebuild: clears {} of {} findings with a fix{}",
                n(v, "cleared"),
                n(v, "with_fix"),
                if v.get("with_cleanup") == Some(&Value::Bool(true)) {
                    " (once its commented-out cleanup is enabled)"
                } else {
                    ""
                }
            ),
            Some(_) => format!("fix: {file}, does NOT apply on a rebuild (see the report)"),
            None => format!("fix: {file} (not verified: live database)"),
        });
    }
    if !report.known.is_empty() {
        out.push(format!(
            "baseline: {} known finding(s) not counted",
            report.known.len()
        ));
    }
    out
}

/// Render for a stream; `color` is decided by the caller (see [`color_wanted`]).
pub fn render(report: &Report, color: bool) -> String {
    let paint = |s: &str, style: Style| -> String {
        if color {
            s.style(style).to_string()
        } else {
            s.to_string()
        }
    };
    let sev_style = |s: Severity| match s {
        Severity::Critical => Style::new().bold().white().on_red(),
        Severity::High => Style::new().bold().red(),
        Severity::Moderate => Style::new().yellow(),
        Severity::Low => Style::new().cyan(),
        Severity::Info => Style::new().dimmed(),
    };
    let mut out = String::new();
    let src = &report.source;
    let _ = writeln!(
        out,
        "{} {} ({}{}, PostgreSQL {})",
        paint("dbaudit", Style::new().bold()),
        src.target,
        src.kind,
        src.layout
            .as_ref()
            .map(|l| format!(", {l}, {} files", src.files.len()))
            .unwrap_or_default(),
        src.server_version
    );
    if !src.standins.is_empty() {
        let _ = writeln!(out, "stand-ins used for: {}", src.standins.join(", "));
    }
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|s| {
            let n = report.summary.count(*s);
            let label = format!("{n} {s}");
            if n > 0 {
                paint(&label, sev_style(*s))
            } else {
                label
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "{} findings: {}  ·  health {}/100 ({})",
        report.summary.findings,
        counts.join(", "),
        report.summary.score.score,
        report.summary.score.grade
    );
    for line in extras(report) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out);
    for f in report.findings.iter().take(MAX_LISTED) {
        let tag = format!("{:<8}", f.severity.as_str());
        let _ = writeln!(
            out,
            "{} {} {}",
            paint(&tag, sev_style(f.severity)),
            paint(&f.rule, Style::new().bold()),
            f.location()
        );
        let _ = writeln!(out, "         {}", f.message);
    }
    if report.findings.len() > MAX_LISTED {
        let _ = writeln!(
            out,
            "... and {} more (use --format md or json for all of them)",
            report.findings.len() - MAX_LISTED
        );
    }
    if report.findings.is_empty() {
        let _ = writeln!(out, "{}", paint("No findings.", Style::new().green()));
    }
    let _ = writeln!(out);
    let verdict = if report.summary.fail_on.is_none() {
        paint(
            "--fail-on never: findings do not change the exit status",
            Style::new().bold(),
        )
    } else if report.summary.failed {
        paint(
            &format!(
                "FAIL: findings at or above {}",
                report.summary.fail_on_name()
            ),
            Style::new().bold().red(),
        )
    } else {
        paint(
            &format!(
                "PASS: nothing at or above {}",
                report.summary.fail_on_name()
            ),
            Style::new().bold().green(),
        )
    };
    let _ = writeln!(out, "{verdict}");
    out
}

/// Whether to colour output going to stdout: a terminal that supports it, and `NO_COLOR` unset.
pub fn color_wanted() -> bool {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    std::io::IsTerminal::is_terminal(&std::io::stdout())
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_text() {
        insta::assert_snapshot!(super::render(&crate::sample::report(), false));
    }

    #[test]
    fn colour_codes_only_when_asked() {
        let coloured = super::render(&crate::sample::report(), true);
        assert!(coloured.contains("\u{1b}["));
        let plain = super::render(&crate::sample::report(), false);
        assert!(!plain.contains("\u{1b}["));
    }
}
