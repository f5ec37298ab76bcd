//! `dbaudit audit`: resolve the source, build the catalog, run the rules, write the report.

use crate::cli::{AuditArgs, Format, OutputArgs};
use crate::config::Config;
use anyhow::{bail, Context as _, Result};
use dbaudit_catalog::{Catalog, LoadOptions};
use dbaudit_findings::Finding;
use dbaudit_findings::Severity;
use dbaudit_pgcluster::{
    Cluster, ClusterOptions, Location, MigrationSet, ObjectKind, ObjectLocations,
};
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

/// What to do besides the schema rules.
#[derive(Default)]
pub struct Extras {
    pub scan: Option<dbaudit_scan::ScanOptions>,
    pub probe: bool,
    /// The user confirmed --probe on a live database.
    pub allow_live_probe: bool,
    /// Code folders given with --code.
    pub code: Vec<PathBuf>,
    /// Look for source folders when the project is found from the current directory.
    pub auto_code: bool,
    pub fix_out: Option<PathBuf>,
    pub baseline: Option<dbaudit_report::baseline::Baseline>,
    pub write_baseline: Option<PathBuf>,
}

/// Connections to the audited database, for the scan and the probe.
enum Backend<'a> {
    Cluster {
        cluster: &'a Cluster,
        dbname: String,
    },
    Live {
        spec: dbaudit_pgconn::ConnSpec,
        connect_timeout: Duration,
    },
}

impl Backend<'_> {
    async fn connect(&self) -> Result<tokio_postgres::Client> {
        match self {
            Backend::Cluster { cluster, dbname } => Ok(cluster.connect(dbname).await?),
            Backend::Live {
                spec,
                connect_timeout,
            } => Ok(dbaudit_pgconn::connect(spec, *connect_timeout).await?),
        }
    }

    fn is_live(&self) -> bool {
        matches!(self, Backend::Live { .. })
    }
}

/// Everything the source produced: the snapshot, how it was made, and what ran.
struct Loaded {
    catalog: Catalog,
    failures: Vec<MigrationFailure>,
    info: SourceInfo,
    locations: Option<ObjectLocations>,
}

pub async fn run(
    source: Source,
    settings: Settings,
    config: &Config,
    fail_on: Option<Severity>,
    extras: Extras,
) -> Result<Outcome> {
    let progress = Progress::new();
    let mut timings = BTreeMap::new();
    let started = Instant::now();
    if extras.probe && matches!(source, Source::Database { .. }) && !extras.allow_live_probe {
        bail!(
            "refusing to --probe a live database without --allow-live-probe: the probe writes \
             rows inside a transaction that is always rolled back, but sequences still advance \
             and triggers may act outside the transaction (HTTP calls, NOTIFY, queues). Probe a \
             staging copy, or the migrations (--migrations), when you can"
        );
    }
    match source {
        Source::Migrations {
            path,
            seeds,
            supabase,
        } => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            let mut set: MigrationSet = match &path {
                Some(p) => dbaudit_pgcluster::detect(p)?,
                None => dbaudit_pgcluster::discover(&cwd)?,
            };
            for s in &seeds {
                set.seeds
                    .push(dbaudit_pgcluster::layout::seed_file(s, &cwd)?);
            }
            if set.files.is_empty() && set.seeds.is_empty() {
                bail!(
                    "{}: no migration files to apply (every file was skipped)",
                    set.root.display()
                );
            }
            let code_root = if path.is_none() && extras.auto_code {
                Some(cwd.clone())
            } else {
                None
            };
            let supabase = supabase || dbaudit_pgcluster::supabase::needed(&set);
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
            let result = async {
                let (catalog, applied) = build_and_load(&cluster, &set, &mut timings).await?;
                let loaded = Loaded {
                    catalog,
                    failures: migration_failures(&applied),
                    info: migrations_info(path.as_deref(), &set, supabase, &applied),
                    locations: Some(ObjectLocations::scan(&set)),
                };
                let backend = Backend::Cluster {
                    cluster: &cluster,
                    dbname: "postgres".into(),
                };
                let verify = FixCheck {
                    cluster: &cluster,
                    set: &set,
                };
                analyse(
                    loaded,
                    &backend,
                    Some(verify),
                    code_root.as_deref(),
                    &settings,
                    config,
                    fail_on,
                    &extras,
                    &progress,
                    timings,
                    started,
                )
                .await
            }
            .await;
            // Always remove the throwaway cluster, whether the audit worked or not.
            let stopped = cluster.stop().await;
            let outcome = result?;
            stopped?;
            Ok(outcome)
        }
        Source::Database {
            url,
            connect_timeout,
            statement_timeout,
        } => {
            let spec = dbaudit_pgconn::ConnSpec::parse(&url)?;
            let (catalog, info) = from_database(
                &spec,
                connect_timeout,
                statement_timeout,
                &progress,
                &mut timings,
            )
            .await?;
            let loaded = Loaded {
                catalog,
                failures: vec![],
                info,
                locations: None,
            };
            let backend = Backend::Live {
                spec,
                connect_timeout,
            };
            analyse(
                loaded, &backend, None, None, &settings, config, fail_on, &extras, &progress,
                timings, started,
            )
            .await
        }
    }
}

/// What the fix verification needs: the cluster and the migrations, to rebuild.
struct FixCheck<'a> {
    cluster: &'a Cluster,
    set: &'a MigrationSet,
}

#[allow(clippy::too_many_arguments)]
async fn analyse(
    loaded: Loaded,
    backend: &Backend<'_>,
    fix_check: Option<FixCheck<'_>>,
    code_root: Option<&Path>,
    settings: &Settings,
    config: &Config,
    fail_on: Option<Severity>,
    extras: &Extras,
    progress: &Progress,
    mut timings: BTreeMap<String, u64>,
    started: Instant,
) -> Result<Outcome> {
    let Loaded {
        catalog,
        failures,
        mut info,
        locations,
    } = loaded;
    let t = Instant::now();
    let ctx = Context::new(&catalog, settings, &failures);
    let mut findings = dbaudit_rules::run_all(&ctx);
    timings.insert("rules".into(), t.elapsed().as_millis() as u64);

    let mut scan_json = None;
    if let Some(opts) = &extras.scan {
        progress.say("Scanning the rows ...");
        let t = Instant::now();
        let plan = dbaudit_scan::plan(&ctx);
        let mut clients = vec![];
        for _ in 0..SCAN_CONNECTIONS {
            clients.push(
                backend
                    .connect()
                    .await
                    .context("opening a connection for the data scan")?,
            );
        }
        let outcome = dbaudit_scan::scan(plan, clients, opts)
            .await
            .context("scanning the data")?;
        findings.extend(outcome.findings.iter().cloned());
        scan_json = Some(outcome.to_json());
        timings.insert("scan".into(), t.elapsed().as_millis() as u64);
    }

    let mut probe_json = None;
    if extras.probe {
        progress.say("Probing tenant isolation (in a transaction that is rolled back) ...");
        let t = Instant::now();
        let plan = dbaudit_probe::plan(&ctx);
        let client = backend
            .connect()
            .await
            .context("opening a connection for the probe")?;
        let opts = dbaudit_probe::ProbeOptions {
            live: backend.is_live(),
            ..dbaudit_probe::ProbeOptions::default()
        };
        let outcome = dbaudit_probe::probe(plan, &client, &opts)
            .await
            .context("probing tenant isolation")?;
        findings.extend(outcome.findings.iter().cloned());
        probe_json = Some(outcome.to_json());
        timings.insert("probe".into(), t.elapsed().as_millis() as u64);
    }

    let mut code_dirs = extras.code.clone();
    if code_dirs.is_empty() {
        if let Some(root) = code_root {
            // Relative to the repository, so file names (and the fingerprints made from them)
            // do not depend on where the checkout lives.
            code_dirs = dbaudit_code::detect_source_dirs(root)
                .into_iter()
                .map(|d| d.strip_prefix(root).map(Path::to_path_buf).unwrap_or(d))
                .collect();
        }
    }
    let mut code_json = None;
    if !code_dirs.is_empty() {
        progress.say(format!(
            "Checking application code in {} ...",
            code_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let t = Instant::now();
        let outcome = dbaudit_code::check(&ctx, &code_dirs)?;
        findings.extend(outcome.findings.iter().cloned());
        code_json = Some(outcome.to_json());
        timings.insert("code".into(), t.elapsed().as_millis() as u64);
    }

    if let Some(locations) = &locations {
        annotate_locations(&mut findings, locations);
    }
    let (ignored, stale) = crate::config::apply_ignores(&mut findings, &config.ignore);
    for ig in &stale {
        eprintln!(
            "warning: {}: [[ignore]] {} on {} matched no finding; remove it if the problem is fixed",
            config.path.as_deref().map(|p| p.display().to_string()).unwrap_or_default(),
            ig.rule,
            ig.object
        );
    }
    dbaudit_findings::sort_findings(&mut findings);

    let mut fix_json = None;
    if let Some(path) = &extras.fix_out {
        let fix = dbaudit_fix::build(&findings);
        std::fs::write(path, &fix.sql)
            .with_context(|| format!("cannot write the fix migration to {}", path.display()))?;
        let mut value = serde_json::json!({
            "file": path.display().to_string(),
            "statements": fix.entries.len(),
            "verification": null,
        });
        if let Some(check) = &fix_check {
            progress.say("Verifying the fix: rebuilding, applying it, auditing again ...");
            let t = Instant::now();
            let verification = verify_fix(check, &fix, settings, &findings).await?;
            value["verification"] = verification;
            timings.insert("fix_verification".into(), t.elapsed().as_millis() as u64);
        }
        fix_json = Some(value);
    }

    if let Some(path) = &extras.write_baseline {
        dbaudit_report::baseline::Baseline::write(path, &findings)
            .with_context(|| format!("cannot write the baseline {}", path.display()))?;
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
    let rules_run = crate::all_rules().len();
    let known: Vec<String> = match &extras.baseline {
        Some(b) => findings
            .iter()
            .filter(|f| b.contains(&f.fingerprint))
            .map(|f| f.fingerprint.clone())
            .collect(),
        None => vec![],
    };
    let counted: Vec<Finding> = findings
        .iter()
        .filter(|f| !known.contains(&f.fingerprint))
        .cloned()
        .collect();
    let mut summary = Summary::new(&counted, rules_run, relations, fail_on);
    summary.ignored = ignored.len();
    let tenancy = ctx.tenancy.to_json(&ctx.index);
    let overview = dbaudit_report::overview::build(&ctx, &findings);
    let report = Report {
        dbaudit: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: now_rfc3339(),
        source: info,
        summary,
        tenancy: (!tenancy.is_null()).then_some(tenancy),
        findings,
        probe: probe_json,
        scan: scan_json,
        code: code_json,
        fix: fix_json,
        overview: Some(overview),
        known,
    };
    Ok(Outcome { report })
}

/// Connections the data scan uses at once.
const SCAN_CONNECTIONS: usize = 3;

/// Point findings about schema objects at the migration that created (or last altered) them:
/// evidence `defined_in` = {file, line}, which SARIF and the Markdown report show.
fn annotate_locations(findings: &mut [Finding], locations: &ObjectLocations) {
    for f in findings.iter_mut() {
        if f.file.is_some() {
            continue;
        }
        let (Some(schema), Some(table)) = (f.schema.as_deref(), f.table.as_deref()) else {
            if let Some(func) = &f.function {
                let name = func.split('(').next().unwrap_or(func);
                let (schema, name) = name.split_once('.').unwrap_or(("public", name));
                let key = ObjectLocations::key(schema, name);
                if let Some(loc) = locations.created(ObjectKind::Function, &key) {
                    set_defined_in(f, loc, None);
                }
            }
            continue;
        };
        let found = if let Some(p) = &f.policy {
            let key = ObjectLocations::table_key(schema, table, p);
            locations
                .created(ObjectKind::Policy, &key)
                .map(|c| (c, locations.altered(ObjectKind::Policy, &key)))
        } else if let Some(idx) = f.object.as_deref().and_then(|o| o.strip_prefix("index ")) {
            let key = ObjectLocations::key(schema, idx);
            locations
                .created(ObjectKind::Index, &key)
                .map(|c| (c, None))
        } else {
            None
        };
        let found = found.or_else(|| {
            let key = ObjectLocations::key(schema, table);
            locations
                .created(ObjectKind::Relation, &key)
                .map(|c| (c, locations.altered(ObjectKind::Relation, &key)))
        });
        if let Some((created, altered)) = found {
            set_defined_in(f, created, altered);
        }
    }
}

fn set_defined_in(f: &mut Finding, created: &Location, altered: Option<&Location>) {
    f.evidence.insert(
        "defined_in".into(),
        serde_json::json!({"file": created.file, "line": created.line}),
    );
    if let Some(a) = altered {
        f.evidence.insert(
            "last_altered_in".into(),
            serde_json::json!({"file": a.file, "line": a.line}),
        );
    }
}

/// Rebuild the database from the same migrations in a second database of the cluster, apply
/// the fix, audit again and say which findings with a fix it cleared. When the fix does not
/// apply on the data as it is (seed rows a new constraint rejects), try again on a fresh
/// rebuild with its commented-out cleanup enabled, and say so.
async fn verify_fix(
    check: &FixCheck<'_>,
    fix: &dbaudit_fix::FixMigration,
    settings: &Settings,
    before: &[Finding],
) -> Result<serde_json::Value> {
    let first = apply_fix(check, "dbaudit_fix_check", &fix.sql).await?;
    let (after, error, with_cleanup) = match first {
        (Some(catalog), None) => (catalog, None, false),
        (_, first_error) if !fix.cleanup.is_empty() => {
            let mut sql = String::from("-- the fix's phase-1 cleanup, uncommented\n");
            for c in &fix.cleanup {
                sql.push_str(c.trim().trim_end_matches(';'));
                sql.push_str(";\n");
            }
            sql.push_str(&fix.sql);
            match apply_fix(check, "dbaudit_fix_check_cleanup", &sql).await? {
                (Some(catalog), None) => (catalog, first_error, true),
                (_, second) => {
                    return Ok(not_applied(second.or(first_error)));
                }
            }
        }
        (_, error) => return Ok(not_applied(error)),
    };
    let failures: Vec<MigrationFailure> = vec![];
    let ctx = Context::new(&after, settings, &failures);
    let after = dbaudit_rules::run_all(&ctx);
    let after_prints: std::collections::HashSet<&str> =
        after.iter().map(|f| f.fingerprint.as_str()).collect();
    let with_fix: Vec<&Finding> = before
        .iter()
        .filter(|f| f.fix.is_some() && f.category != dbaudit_findings::Category::Data)
        .collect();
    let brief = |f: &Finding| serde_json::json!({"rule": f.rule, "location": f.location(), "fingerprint": f.fingerprint});
    let remaining: Vec<serde_json::Value> = with_fix
        .iter()
        .filter(|f| after_prints.contains(f.fingerprint.as_str()))
        .map(|f| brief(f))
        .collect();
    let before_prints: std::collections::HashSet<&str> =
        before.iter().map(|f| f.fingerprint.as_str()).collect();
    let new: Vec<serde_json::Value> = after
        .iter()
        .filter(|f| !before_prints.contains(f.fingerprint.as_str()))
        .map(brief)
        .collect();
    Ok(serde_json::json!({
        "applied": true,
        "with_cleanup": with_cleanup,
        "error": error,
        "with_fix": with_fix.len(),
        "cleared": with_fix.len() - remaining.len(),
        "remaining": remaining,
        "new": new,
    }))
}

fn not_applied(error: Option<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({
        "applied": false,
        "with_cleanup": false,
        "error": error,
        "with_fix": null,
        "cleared": null,
        "remaining": [],
        "new": [],
    })
}

/// Build the migrations into database `db`, apply `sql` as one more migration file and load
/// the catalog: (the catalog when the fix applied, the fix's failure).
async fn apply_fix(
    check: &FixCheck<'_>,
    db: &str,
    sql: &str,
) -> Result<(Option<Catalog>, Option<serde_json::Value>)> {
    check.cluster.create_database(db).await?;
    let client = check.cluster.connect(db).await?;
    dbaudit_pgcluster::apply(&client, check.set).await?;
    let fix_set = MigrationSet {
        files: vec![dbaudit_pgcluster::MigrationFile {
            path: PathBuf::from("dbaudit-fix.sql"),
            display: "dbaudit-fix.sql".into(),
            sql: sql.to_string(),
            first_line: 1,
            transaction: dbaudit_pgcluster::TxMode::Auto,
        }],
        seeds: vec![],
        skipped: vec![],
        ..check.set.clone()
    };
    let applied = dbaudit_pgcluster::apply(&client, &fix_set).await?;
    if let Some(f) = applied.failures.first() {
        let error = serde_json::json!({
            "line": f.line, "statement": f.statement, "sqlstate": f.sqlstate, "message": f.message,
        });
        return Ok((None, Some(error)));
    }
    let catalog = load_snapshot(&client).await?;
    Ok((Some(catalog), None))
}

/// The catalog of a throwaway database, read in one read-only repeatable-read transaction.
async fn load_snapshot(client: &tokio_postgres::Client) -> Result<Catalog> {
    client
        .batch_execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .context("starting the read-only audit transaction")?;
    let catalog = dbaudit_catalog::load(client, &LoadOptions { statistics: false }).await;
    client.batch_execute("ROLLBACK").await.ok();
    Ok(catalog?)
}

fn migration_failures(applied: &dbaudit_pgcluster::ApplyReport) -> Vec<MigrationFailure> {
    applied
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
        .collect()
}

fn migrations_info(
    path: Option<&Path>,
    set: &MigrationSet,
    supabase: bool,
    applied: &dbaudit_pgcluster::ApplyReport,
) -> SourceInfo {
    let target = path
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| set.root.display().to_string());
    SourceInfo {
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
    }
}

async fn build_and_load(
    cluster: &Cluster,
    set: &MigrationSet,
    timings: &mut BTreeMap<String, u64>,
) -> Result<(Catalog, dbaudit_pgcluster::ApplyReport)> {
    let client = cluster.connect("postgres").await?;
    let t = Instant::now();
    let applied = dbaudit_pgcluster::apply(&client, set).await?;
    // Row estimates for the report (tables summary, scan sampling): the seed's rows counted.
    // A failure here costs only the estimates.
    let _ = client.batch_execute("ANALYZE").await;
    timings.insert("apply".into(), t.elapsed().as_millis() as u64);
    let t = Instant::now();
    let catalog = load_snapshot(&client).await?;
    timings.insert("catalog".into(), t.elapsed().as_millis() as u64);
    Ok((catalog, applied))
}

async fn from_database(
    spec: &dbaudit_pgconn::ConnSpec,
    connect_timeout: Duration,
    statement_timeout: Duration,
    progress: &Progress,
    timings: &mut BTreeMap<String, u64>,
) -> Result<(Catalog, SourceInfo)> {
    progress.say(format!("Connecting to {} ...", spec.redacted()));
    let t = Instant::now();
    let client = dbaudit_pgconn::connect(spec, connect_timeout).await?;
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
    Ok((catalog, info))
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
        Format::Md => dbaudit_report::markdown::render(report, crate::all_rules()),
        Format::Sarif => dbaudit_report::sarif::render(report, crate::all_rules()),
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
