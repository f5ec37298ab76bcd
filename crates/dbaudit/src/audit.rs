//! `dbaudit audit`: resolve the source, build the catalog, run the rules, write the report.

use crate::cli::{AuditArgs, Format, OutputArgs};
use crate::config::Config;
use anyhow::{bail, Context as _, Result};
use dbaudit_catalog::{Catalog, LoadOptions};
use dbaudit_findings::Severity;
use dbaudit_pgcluster::{Cluster, ClusterOptions, MigrationSet};
use dbaudit_report::{Report, SkippedFile, SourceInfo, Summary};
use dbaudit_rules::{Context, MigrationFailure, Settings};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What the audit produced, before rendering.
pub struct Outcome {
    pub report: Report,
}

/// Where the schema comes from.
pub enum Source {
    Migrations {
        /// `None`: discover in the current directory.
        path: Option<PathBuf>,
        seeds: Vec<PathBuf>,
        supabase: bool,
    },
    Database {
        url: String,
        connect_timeout: Duration,
        statement_timeout: Duration,
    },
}

impl Source {
    pub fn from_args(args: &AuditArgs) -> Source {
        let db = args.db.clone().or_else(|| {
            if args.migrations.is_none() {
                std::env::var("DATABASE_URL")
                    .ok()
                    .filter(|s| !s.trim().is_empty())
            } else {
                None
            }
        });
        match db {
            Some(url) => Source::Database {
                url,
                connect_timeout: Duration::from_secs(args.connect_timeout.max(1)),
                statement_timeout: Duration::from_secs(args.statement_timeout.max(1)),
            },
            None => Source::Migrations {
                path: args.migrations.clone(),
                seeds: args.seed.clone(),
                supabase: args.supabase,
            },
        }
    }
}

/// Progress lines on stderr, only when a person is watching.
pub struct Progress {
    on: bool,
}

impl Progress {
    pub fn new() -> Self {
        Progress {
            on: std::io::stderr().is_terminal(),
        }
    }
    pub fn say(&self, msg: impl AsRef<str>) {
        if self.on {
            eprintln!("{}", msg.as_ref());
        }
    }
}

pub async fn run(
    source: Source,
    settings: Settings,
    config: &Config,
    fail_on: Option<Severity>,
) -> Result<Outcome> {
    let progress = Progress::new();
    let mut timings = BTreeMap::new();
    let started = Instant::now();
    let (catalog, failures, mut info) = match source {
        Source::Migrations {
            path,
            seeds,
            supabase,
        } => from_migrations(path.as_deref(), &seeds, supabase, &progress, &mut timings).await?,
        Source::Database {
            url,
            connect_timeout,
            statement_timeout,
        } => {
            from_database(
                &url,
                connect_timeout,
                statement_timeout,
                &progress,
                &mut timings,
            )
            .await?
        }
    };

    let t = Instant::now();
    let ctx = Context::new(&catalog, &settings, &failures);
    let mut findings = dbaudit_rules::run_all(&ctx);
    timings.insert("rules".into(), t.elapsed().as_millis() as u64);
    let (ignored, stale) = crate::config::apply_ignores(&mut findings, &config.ignore);
    for ig in &stale {
        eprintln!(
            "warning: {}: [[ignore]] {} on {} matched no finding; remove it if the problem is fixed",
            config.path.as_deref().map(|p| p.display().to_string()).unwrap_or_default(),
            ig.rule,
            ig.object
        );
    }
    timings.insert("total".into(), started.elapsed().as_millis() as u64);

    info.server_version = short_version(&catalog.server_version);
    info.schemas = catalog
        .schemas
        .iter()
        .filter(|s| settings.audits_schema(&s.name, &ctx.index))
        .map(|s| s.name.clone())
        .collect();
    info.api_roles = ctx.exposure.api_roles.clone();
    info.api_roles_source = ctx.exposure.source.as_str().to_string();
    info.timings_ms = timings;
    info.config = config.path.as_ref().map(|p| p.display().to_string());
    let relations = ctx.audited_relations().count();
    let rules_run = dbaudit_rules::registry().len();
    let threshold = fail_on.unwrap_or(Severity::Critical);
    let mut summary = Summary::new(&findings, rules_run, relations, threshold);
    if fail_on.is_none() {
        summary.failed = false;
    }
    summary.ignored = ignored.len();
    let tenancy = ctx.tenancy.to_json(&ctx.index);
    let report = Report {
        dbaudit: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: now_rfc3339(),
        source: info,
        summary,
        tenancy: (!tenancy.is_null()).then_some(tenancy),
        findings,
        probe: None,
        scan: None,
    };
    Ok(Outcome { report })
}

async fn from_migrations(
    path: Option<&Path>,
    seeds: &[PathBuf],
    force_supabase: bool,
    progress: &Progress,
    timings: &mut BTreeMap<String, u64>,
) -> Result<(Catalog, Vec<MigrationFailure>, SourceInfo)> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut set: MigrationSet = match path {
        Some(p) => dbaudit_pgcluster::detect(p)?,
        None => dbaudit_pgcluster::discover(&cwd)?,
    };
    for s in seeds {
        set.seeds
            .push(dbaudit_pgcluster::layout::seed_file(s, &cwd)?);
    }
    if set.files.is_empty() && set.seeds.is_empty() {
        bail!(
            "{}: no migration files to apply (every file was skipped)",
            set.root.display()
        );
    }
    let supabase = force_supabase || dbaudit_pgcluster::supabase::needed(&set);
    progress.say(format!(
        "Building the database from {} migration file(s) ({} layout){} ...",
        set.files.len(),
        set.kind.as_str(),
        if supabase {
            " with the Supabase environment"
        } else {
            ""
        }
    ));
    dbaudit_pgcluster::cluster::install_signal_cleanup();
    let t = Instant::now();
    let cluster = Cluster::start(ClusterOptions {
        supabase,
        ..ClusterOptions::default()
    })
    .await?;
    timings.insert("cluster_start".into(), t.elapsed().as_millis() as u64);
    let result = build_and_load(&cluster, &set, timings).await;
    // Always remove the throwaway cluster, whether the build worked or not.
    let stopped = cluster.stop().await;
    let (catalog, applied) = result?;
    stopped?;

    let failures = applied
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
    let target = path
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| set.root.display().to_string());
    let info = SourceInfo {
        kind: "migrations".into(),
        target,
        layout: Some(set.kind.as_str().to_string()),
        files: set.files.iter().map(|f| f.display.clone()).collect(),
        seeds: set.seeds.iter().map(|f| f.display.clone()).collect(),
        skipped: set
            .skipped
            .iter()
            .map(|(p, reason)| SkippedFile {
                file: p.display().to_string(),
                reason: reason.clone(),
            })
            .collect(),
        supabase_environment: supabase,
        standins: applied.standins.clone(),
        ..SourceInfo::default()
    };
    Ok((catalog, failures, info))
}

async fn build_and_load(
    cluster: &Cluster,
    set: &MigrationSet,
    timings: &mut BTreeMap<String, u64>,
) -> Result<(Catalog, dbaudit_pgcluster::ApplyReport)> {
    let client = cluster.connect("postgres").await?;
    let t = Instant::now();
    let applied = dbaudit_pgcluster::apply(&client, set).await?;
    timings.insert("apply".into(), t.elapsed().as_millis() as u64);
    let t = Instant::now();
    client
        .batch_execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .context("starting the read-only audit transaction")?;
    let catalog = dbaudit_catalog::load(&client, &LoadOptions { statistics: false }).await?;
    client.batch_execute("ROLLBACK").await.ok();
    timings.insert("catalog".into(), t.elapsed().as_millis() as u64);
    Ok((catalog, applied))
}

async fn from_database(
    url: &str,
    connect_timeout: Duration,
    statement_timeout: Duration,
    progress: &Progress,
    timings: &mut BTreeMap<String, u64>,
) -> Result<(Catalog, Vec<MigrationFailure>, SourceInfo)> {
    let spec = dbaudit_pgconn::ConnSpec::parse(url)?;
    progress.say(format!("Connecting to {} ...", spec.redacted()));
    let t = Instant::now();
    let client = dbaudit_pgconn::connect(&spec, connect_timeout).await?;
    dbaudit_pgconn::begin_audit_session(&client, statement_timeout, Duration::from_secs(5)).await?;
    timings.insert("connect".into(), t.elapsed().as_millis() as u64);
    let t = Instant::now();
    let catalog = dbaudit_catalog::load(&client, &LoadOptions { statistics: true })
        .await
        .with_context(|| format!("reading the catalog of {}", spec.redacted()))?;
    client.batch_execute("ROLLBACK").await.ok();
    timings.insert("catalog".into(), t.elapsed().as_millis() as u64);
    let info = SourceInfo {
        kind: "database".into(),
        target: spec.redacted(),
        ..SourceInfo::default()
    };
    Ok((catalog, vec![], info))
}

/// `15.18 (Debian 15.18-0+deb12u1)` → `15.18`.
fn short_version(v: &str) -> String {
    v.split_whitespace().next().unwrap_or(v).to_string()
}

/// Current UTC time as RFC 3339 (seconds precision).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Render and write the report; returns the exit code the findings call for.
pub fn emit(outcome: &Outcome, output: &OutputArgs) -> Result<u8> {
    let report = &outcome.report;
    let rendered = match output.format {
        Format::Json => dbaudit_report::json::render(report),
        Format::Md => dbaudit_report::markdown::render(report),
        Format::Text => {
            let color = output.out.is_none() && dbaudit_report::text::color_wanted();
            dbaudit_report::text::render(report, color)
        }
    };
    match &output.out {
        Some(path) => {
            std::fs::write(path, rendered)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            eprintln!(
                "Wrote {} finding(s) to {}",
                report.summary.findings,
                path.display()
            );
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            // A closed pipe (`dbaudit audit | head`) is not an error worth a message.
            let _ = out.write_all(rendered.as_bytes());
            let _ = out.flush();
        }
    }
    Ok(if report.summary.failed { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_779), (2026, 11, 22));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(now_rfc3339().len(), 20);
    }

    #[test]
    fn versions() {
        assert_eq!(short_version("15.18 (Debian 15.18-0+deb12u1)"), "15.18");
        assert_eq!(short_version("16.2"), "16.2");
    }
}
