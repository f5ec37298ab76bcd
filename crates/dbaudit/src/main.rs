//! The `dbaudit` binary: argument parsing, wiring and exit codes. Everything else lives in the
//! library crates.
//!
//! Exit status: 0 nothing at or above `--fail-on`, 1 findings at or above it, 2 the audit could
//! not run.

mod audit;
mod cli;
mod config;
mod demo;

use anyhow::{bail, Result};
use clap::Parser;
use cli::{Cli, Command, ListFormat};
use dbaudit_findings::RuleMeta;
use dbaudit_rules::{catalogue, Settings};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Audit(args) => {
            let cwd = std::env::current_dir()?;
            let start = match &args.migrations {
                Some(p) if args.db.is_none() => cwd.join(p),
                _ => cwd,
            };
            let config = config::Config::find(args.config.as_deref(), &start)?;
            let settings = config.settings(&args.api_roles, &args.schemas);
            let source = audit::Source::from_args(&args);
            let extras = extras(&args)?;
            let outcome = runtime()?.block_on(audit::run(
                source,
                settings,
                &config,
                args.output.fail_on.severity(),
                extras,
            ))?;
            audit::emit(&outcome, &args.output)
        }
        Command::Demo { output } => {
            let dir = tempfile::Builder::new().prefix("dbaudit-demo-").tempdir()?;
            demo::write_project(dir.path())?;
            let source = audit::Source::Migrations {
                path: Some(dir.path().to_path_buf()),
                seeds: vec![],
                supabase: false,
            };
            // The demo shows everything dbaudit does: rows scanned and isolation proven too.
            let extras = audit::Extras {
                scan: Some(dbaudit_scan::ScanOptions::default()),
                probe: true,
                ..audit::Extras::default()
            };
            let mut outcome = runtime()?.block_on(audit::run(
                source,
                Settings::default(),
                &config::Config::default(),
                output.fail_on.severity(),
                extras,
            ))?;
            outcome.report.source.target = "the bundled demo project (Taskboard)".into();
            audit::emit(&outcome, &output)?;
            // The demo's defects are planted: finding them is success.
            Ok(0)
        }
        Command::Rules { format } => {
            print!("{}", rules_listing(format));
            Ok(0)
        }
        Command::Explain { rule } => {
            print!("{}", explain(&rule)?);
            Ok(0)
        }
    }
}

/// What `audit` does besides the schema rules, from the command line.
fn extras(args: &cli::AuditArgs) -> Result<audit::Extras> {
    let baseline = match &args.baseline {
        Some(p) => Some(dbaudit_report::baseline::Baseline::load(p)?),
        None => None,
    };
    for dir in &args.code {
        if !dir.is_dir() {
            bail!(
                "--code {}: no such directory (give the folder holding the application's source)",
                dir.display()
            );
        }
    }
    Ok(audit::Extras {
        scan: args.scan_data.then(|| dbaudit_scan::ScanOptions {
            statement_timeout: std::time::Duration::from_secs(args.scan_timeout.max(1)),
            sample_percent: args.sample,
            progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            ..dbaudit_scan::ScanOptions::default()
        }),
        probe: args.probe,
        allow_live_probe: args.allow_live_probe,
        code: args.code.clone(),
        auto_code: !args.no_code,
        fix_out: args.fix_out.clone(),
        baseline,
        write_baseline: args.write_baseline.clone(),
    })
}

/// Metadata of every implemented rule, in catalogue order: schema rules, data scans, probe,
/// code checks.
pub fn all_rules() -> &'static [&'static RuleMeta] {
    static ALL: std::sync::OnceLock<Vec<&'static RuleMeta>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<&'static RuleMeta> = dbaudit_rules::registry()
            .iter()
            .map(|r| r.meta())
            .chain(dbaudit_scan::RULES.iter().copied())
            .chain(dbaudit_probe::RULES.iter().copied())
            .chain(dbaudit_code::RULES.iter().copied())
            .collect();
        let order = |code: &str| {
            catalogue::CATALOGUE
                .iter()
                .position(|e| e.code == code)
                .unwrap_or(usize::MAX)
        };
        v.sort_by_key(|m| order(m.code));
        v
    })
}

fn find_meta(name_or_code: &str) -> Option<&'static RuleMeta> {
    all_rules()
        .iter()
        .copied()
        .find(|m| m.name == name_or_code || m.code.eq_ignore_ascii_case(name_or_code))
}

fn rules_listing(format: ListFormat) -> String {
    let implemented = |name: &str| find_meta(name).is_some();
    match format {
        ListFormat::Json => {
            let rows: Vec<serde_json::Value> = catalogue::CATALOGUE
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "code": e.code,
                        "name": e.name,
                        "category": e.category,
                        "default_severity": e.default_severity,
                        "source": e.source,
                        "implemented": implemented(e.name),
                        "summary": e.summary,
                    })
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&rows).unwrap_or_default();
            s.push('\n');
            s
        }
        ListFormat::Text => {
            let mut s = format!(
                "{:<9} {:<34} {:<12} {:<9} {:<7} {}\n",
                "CODE", "NAME", "CATEGORY", "SEVERITY", "NEEDS", "STATUS"
            );
            for e in catalogue::CATALOGUE {
                s.push_str(&format!(
                    "{:<9} {:<34} {:<12} {:<9} {:<7} {}\n",
                    e.code,
                    e.name,
                    e.category.as_str(),
                    e.default_severity.as_str(),
                    e.source.as_str(),
                    if implemented(e.name) {
                        "implemented"
                    } else {
                        "not implemented yet"
                    }
                ));
            }
            let n = catalogue::CATALOGUE
                .iter()
                .filter(|e| implemented(e.name))
                .count();
            s.push_str(&format!(
                "\n{n} of {} rules implemented. `dbaudit explain NAME` shows a rule's documentation.\n",
                catalogue::CATALOGUE.len()
            ));
            s
        }
    }
}

fn explain(name: &str) -> Result<String> {
    if let Some(m) = find_meta(name) {
        return Ok(format!(
            "# {} ({})\n\nCategory: {} · default severity: {} · needs: {}\n\n{}\n",
            m.name,
            m.code,
            m.category.title(),
            m.default_severity,
            m.source.as_str(),
            m.docs.trim_end()
        ));
    }
    if let Some(e) = catalogue::entry(name) {
        return Ok(format!(
            "# {} ({})\n\nCategory: {} · default severity: {} · needs: {}\n\n{}\n\nThis rule is not implemented yet in dbaudit {}.\n",
            e.name,
            e.code,
            e.category.title(),
            e.default_severity,
            e.source.as_str(),
            e.summary,
            env!("CARGO_PKG_VERSION")
        ));
    }
    let close: Vec<&str> = catalogue::CATALOGUE
        .iter()
        .map(|e| e.name)
        .filter(|n| {
            let parts: Vec<&str> = name.split('-').filter(|p| p.len() > 2).collect();
            parts.iter().any(|p| n.contains(p))
        })
        .take(5)
        .collect();
    if close.is_empty() {
        bail!("no rule named {name:?}: `dbaudit rules` lists them");
    }
    bail!(
        "no rule named {name:?}; did you mean {}? (`dbaudit rules` lists them)",
        close.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_knows_rules_by_name_and_code() {
        let text = explain("rls-disabled").unwrap();
        assert!(text.contains("## Why it matters"));
        assert_eq!(explain("RLS001").unwrap(), text);
        assert!(explain("orphan-rows").unwrap().contains("## Fix"));
        if let Some(e) = catalogue::CATALOGUE
            .iter()
            .find(|e| find_meta(e.name).is_none())
        {
            assert!(explain(e.name).unwrap().contains("not implemented yet"));
        }
        let err = explain("rls-disable").unwrap_err().to_string();
        assert!(err.contains("rls-disabled"), "{err}");
    }

    #[test]
    fn listing_marks_implemented_rules() {
        let text = rules_listing(ListFormat::Text);
        assert!(text.contains("rls-disabled"));
        assert!(text
            .lines()
            .any(|l| l.starts_with("RLS001") && l.ends_with("implemented")));
        let json: serde_json::Value =
            serde_json::from_str(&rules_listing(ListFormat::Json)).unwrap();
        assert_eq!(json.as_array().unwrap().len(), catalogue::CATALOGUE.len());
    }
}
