//! `cargo run --release -p dbaudit-bench [-- --tables N]`
//!
//! Prints, against the targets of DESIGN.md:
//! - throwaway cluster start, cold (template built) and warm (template cached);
//! - applying 100 generated migration files;
//! - catalog load, and catalog load plus every schema rule, on a generated schema of 5,000 tables
//!   (20,000 columns, 8,000 foreign keys, 10,000 policies) — median of several runs.
//!
//! Timings are printed, never asserted.
//!
//! While iterating on the loader, build the large schema once and reuse it:
//! - `--serve`: start a cluster, build the schema, print its connection string and wait (stop
//!   it with Ctrl-C or SIGTERM, which removes the cluster);
//! - `--db "<connection string>"`: only the catalog figures, against that database;
//! - `--queries`: also time each catalog query on its own (server time plus transfer and
//!   row decoding, not the loader's mapping);
//! - `--dump <file>`: write the loaded catalog (`Debug`) there, to compare two loaders.

use anyhow::{Context, Result};
use dbaudit_catalog::{synthetic, LoadOptions};
use dbaudit_pgcluster::{Cluster, ClusterOptions, LayoutKind, MigrationFile, MigrationSet, TxMode};
use dbaudit_rules::{Context as RuleContext, Settings};
use std::time::{Duration, Instant};

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn arg(name: &str, default: usize) -> usize {
    str_arg(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn str_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

async fn connect_to(conn: &str) -> Result<tokio_postgres::Client> {
    let (client, connection) = conn
        .parse::<tokio_postgres::Config>()?
        .connect(tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {conn}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

async fn build_schema(big: &tokio_postgres::Client, tables: usize) -> Result<Duration> {
    let params = synthetic::SyntheticSchema {
        tables,
        foreign_keys: tables * 8 / 5,
        policies: tables * 2,
        ..synthetic::SyntheticSchema::default()
    };
    let t = Instant::now();
    for batch in synthetic::schema_batches(&params) {
        big.batch_execute(&batch)
            .await
            .context("building the synthetic schema")?;
    }
    Ok(t.elapsed())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let tables = arg("--tables", 5000);
    let runs = arg("--runs", 5);
    dbaudit_pgcluster::cluster::install_signal_cleanup();
    if let Some(conn) = str_arg("--db") {
        let figures = catalog_figures(&conn, runs).await?;
        println!("{:<58} {:>10}  target", "measure", "result");
        figures.print(runs);
        return Ok(());
    }
    if flag("--serve") {
        let cluster = Cluster::start(ClusterOptions::default()).await?;
        cluster.create_database("big").await?;
        let big = cluster.connect("big").await?;
        let build = build_schema(&big, tables).await?;
        drop(big);
        println!(
            "built {tables} tables in {}; serving until Ctrl-C / SIGTERM:\n  --db \"{}\"",
            ms(build),
            cluster.conn_string("big")
        );
        std::future::pending::<()>().await;
        unreachable!();
    }

    // Cold start: a fresh cache dir forces the template to be built.
    let cache = tempfile::tempdir()?;
    std::env::set_var("XDG_CACHE_HOME", cache.path());
    let t = Instant::now();
    let c = Cluster::start(ClusterOptions::default()).await?;
    let cold = t.elapsed();
    c.stop().await?;
    let mut warm = vec![];
    for _ in 0..runs {
        let t = Instant::now();
        let c = Cluster::start(ClusterOptions::default()).await?;
        warm.push(t.elapsed());
        c.stop().await?;
    }
    let t = Instant::now();
    let c = Cluster::start(ClusterOptions {
        supabase: true,
        ..ClusterOptions::default()
    })
    .await?;
    let cold_supabase = t.elapsed();
    c.stop().await?;
    let t = Instant::now();
    let c = Cluster::start(ClusterOptions {
        supabase: true,
        ..ClusterOptions::default()
    })
    .await?;
    let warm_supabase = t.elapsed();
    c.stop().await?;

    // 100 migration files.
    let set = MigrationSet {
        kind: LayoutKind::Plain,
        root: "bench".into(),
        files: (0..100)
            .map(|i| MigrationFile {
                path: format!("bench/{i:03}.sql").into(),
                display: format!("{i:03}.sql"),
                sql: migration(i),
                first_line: 1,
                transaction: TxMode::Auto,
            })
            .collect(),
        seeds: vec![],
        skipped: vec![],
    };
    let cluster = Cluster::start(ClusterOptions::default()).await?;
    let client = cluster.connect("postgres").await?;
    let t = Instant::now();
    let applied = dbaudit_pgcluster::apply(&client, &set).await?;
    let apply_100 = t.elapsed();
    anyhow::ensure!(
        applied.failures.is_empty(),
        "generated migrations failed: {:?}",
        applied.failures
    );

    // The large schema.
    cluster.create_database("big").await?;
    let big = cluster.connect("big").await?;
    let build = build_schema(&big, tables).await?;
    drop(big);
    let figures = catalog_figures(&cluster.conn_string("big"), runs).await?;
    drop(client);
    cluster.stop().await?;

    println!(
        "dbaudit benchmarks ({} CPUs)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!("{:<58} {:>10}  target", "measure", "result");
    println!(
        "{:<58} {:>10}  -",
        "cluster start, cold (initdb + template)",
        ms(cold)
    );
    println!(
        "{:<58} {:>10}  < 1 s",
        format!("cluster start, warm (median of {runs})"),
        ms(median(warm))
    );
    println!(
        "{:<58} {:>10}  -",
        "cluster start with Supabase env, cold",
        ms(cold_supabase)
    );
    println!(
        "{:<58} {:>10}  < 1 s",
        "cluster start with Supabase env, warm",
        ms(warm_supabase)
    );
    println!(
        "{:<58} {:>10}  < 3 s",
        "apply 100 migration files",
        ms(apply_100)
    );
    println!(
        "{:<58} {:>10}  -",
        format!("build synthetic schema ({tables} tables)"),
        ms(build)
    );
    figures.print(runs);
    Ok(())
}

/// The catalog figures of one database.
struct CatalogFigures {
    /// Per run: the server's CPU time (backend and parallel workers), the loader's (this
    /// process, load only).
    server_cpu: Duration,
    client_cpu: Duration,
    counts: (usize, usize, usize, usize),
    load: Vec<Duration>,
    load_rules: Vec<Duration>,
    analysis: Duration,
    policies_time: Duration,
    exposure_time: Duration,
    tenancy_time: Duration,
    per_rule: Vec<(Duration, &'static str, usize)>,
    queries: Vec<(&'static str, Duration, usize)>,
}

impl CatalogFigures {
    fn print(&self, runs: usize) {
        let counts = self.counts;
        println!(
            "{:<58} {:>10}  -",
            format!(
                "catalog load ({} rel, {} cols, {} FKs, {} policies)",
                counts.0, counts.1, counts.2, counts.3
            ),
            ms(median(self.load.clone()))
        );
        println!(
            "{:<58} {:>10}  < 1 s",
            "catalog load + all schema rules",
            ms(median(self.load_rules.clone()))
        );
        let all = |v: &[Duration]| v.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(", ");
        println!("  runs ({runs}): load {}", all(&self.load));
        println!("  runs ({runs}): load + rules {}", all(&self.load_rules));
        println!(
            "  CPU per load: server {} (backend + workers, from the postmaster's reaped children), client {}",
            ms(self.server_cpu),
            ms(self.client_cpu)
        );
        println!(
            "  derived models (exposure, policies, tenancy, relationships, delete paths): {}",
            ms(self.analysis)
        );
        println!(
            "    of which policy expressions {}, exposure {}, tenancy {}",
            ms(self.policies_time),
            ms(self.exposure_time),
            ms(self.tenancy_time)
        );
        for (d, name, n) in self.per_rule.iter().take(6) {
            println!("  {name:<40} {:>8}  {n} findings", ms(*d));
        }
        if !self.queries.is_empty() {
            println!("  each catalog query alone (server + transfer + decoding):");
            for (name, d, n) in &self.queries {
                println!("    {name:<36} {:>8}  {n} rows", ms(*d));
            }
        }
    }
}

/// CPU time (user + system) of a process from `/proc/<pid>/stat` (Linux; zero elsewhere): its
/// own, or that of its children it has waited for (for the postmaster: every backend and
/// parallel worker that has ended).
fn proc_cpu(pid: &str, children: bool) -> Duration {
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may hold spaces) in parentheses.
            let rest = s.rsplit_once(')')?.1.to_string();
            let f: Vec<u64> = rest
                .split_whitespace()
                .skip(11)
                .take(4)
                .map(|v| v.parse().unwrap_or(0))
                .collect();
            Some(if children { f[2] + f[3] } else { f[0] + f[1] })
        })
        .unwrap_or(0);
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// The postmaster's pid: the parent of this connection's backend.
async fn postmaster_pid(client: &tokio_postgres::Client) -> Result<String> {
    let backend: i32 = client
        .query_one("SELECT pg_catalog.pg_backend_pid()", &[])
        .await?
        .get(0);
    let stat = std::fs::read_to_string(format!("/proc/{backend}/stat")).unwrap_or_default();
    Ok(stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(1))
        .unwrap_or("0")
        .to_string())
}

/// Catalog load, load plus rules (`runs` times, a fresh connection each), then where the rule
/// time goes, on the database at `conn`.
async fn catalog_figures(conn: &str, runs: usize) -> Result<CatalogFigures> {
    let mut load = vec![];
    let mut load_rules = vec![];
    let mut counts = (0, 0, 0, 0);
    let postmaster = postmaster_pid(&connect_to(conn).await?).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let server_cpu_before = proc_cpu(&postmaster, true);
    let mut client_cpu = Duration::ZERO;
    for _ in 0..runs {
        // A fresh connection per run, as an audit has.
        let t = Instant::now();
        let cpu = proc_cpu("self", false);
        let client = connect_to(conn).await?;
        client
            .batch_execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let cat = dbaudit_catalog::load(&client, &LoadOptions::default()).await?;
        let l = t.elapsed();
        client_cpu += proc_cpu("self", false).saturating_sub(cpu);
        let settings = Settings::default();
        let ctx = RuleContext::new(&cat, &settings, &[]);
        let findings = dbaudit_rules::run_all(&ctx);
        load_rules.push(t.elapsed());
        load.push(l);
        client.batch_execute("ROLLBACK").await?;
        counts = (
            cat.relations.len(),
            cat.relations.iter().map(|r| r.columns.len()).sum::<usize>(),
            cat.constraints
                .iter()
                .filter(|c| c.foreign_key.is_some())
                .count(),
            cat.policies.len(),
        );
        std::hint::black_box(findings);
    }
    // Every backend of the runs has ended (and been reaped) by now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server_cpu = proc_cpu(&postmaster, true).saturating_sub(server_cpu_before) / runs as u32;
    let client_cpu = client_cpu / runs as u32;
    // Where the rule time goes: the derived models, then each rule.
    let big = connect_to(conn).await?;
    big.batch_execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let cat = dbaudit_catalog::load(&big, &LoadOptions::default()).await?;
    big.batch_execute("ROLLBACK").await?;
    if let Some(path) = str_arg("--dump") {
        // The loaded catalog, to compare two versions of the loader.
        std::fs::write(&path, format!("{cat:#?}")).with_context(|| path.clone())?;
    }
    let settings = Settings::default();
    let t = Instant::now();
    let ix = dbaudit_catalog::CatalogIndex::new(&cat);
    let policy_analysis = dbaudit_rules::analysis::policy::PolicyAnalysis::analyse(&ix);
    let policies_time = t.elapsed();
    let t = Instant::now();
    let exposure = dbaudit_rules::analysis::exposure::Exposure::analyse(&ix, &settings);
    let exposure_time = t.elapsed();
    let t = Instant::now();
    let tenancy =
        dbaudit_rules::analysis::tenancy::Tenancy::analyse(&ix, &settings, &policy_analysis);
    let tenancy_time = t.elapsed();
    std::hint::black_box((policy_analysis, exposure, tenancy));
    let t = Instant::now();
    let ctx = RuleContext::new(&cat, &settings, &[]);
    let analysis = t.elapsed();
    let mut per_rule: Vec<(Duration, &str, usize)> = dbaudit_rules::registry()
        .iter()
        .map(|r| {
            let t = Instant::now();
            let n = r.check(&ctx).len();
            (t.elapsed(), r.meta().name, n)
        })
        .collect();
    per_rule.sort_by_key(|r| std::cmp::Reverse(r.0));
    let queries = if flag("--queries") {
        query_times(&big).await?
    } else {
        vec![]
    };
    Ok(CatalogFigures {
        server_cpu,
        client_cpu,
        counts,
        load,
        load_rules,
        analysis,
        policies_time,
        exposure_time,
        tenancy_time,
        per_rule,
        queries,
    })
}

/// Each catalog query alone, under the loader's settings, slowest first. Queries with
/// parameters (the second round's, the settings) are left out.
async fn query_times(
    client: &tokio_postgres::Client,
) -> Result<Vec<(&'static str, Duration, usize)>> {
    let files = dbaudit_catalog::load::query_files();
    let settings = files
        .iter()
        .find(|(name, _)| *name == "settings.sql")
        .map(|(_, sql)| *sql)
        .context("settings.sql")?;
    let mut out = vec![];
    for (name, sql) in files {
        if sql.contains("$1") || name.starts_with("settings") {
            continue;
        }
        client
            .batch_execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        client.simple_query(settings).await?;
        let t = Instant::now();
        let n = if sql.matches(';').count() > 1 {
            // Several statements (policies.sql): the simple-query protocol, rows as text.
            client
                .simple_query(sql)
                .await
                .with_context(|| name.to_string())?
                .iter()
                .filter(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
                .count()
        } else {
            client
                .query(sql, &[])
                .await
                .with_context(|| name.to_string())?
                .len()
        };
        out.push((name, t.elapsed(), n));
        client.batch_execute("ROLLBACK").await?;
    }
    out.sort_by_key(|q| std::cmp::Reverse(q.1));
    Ok(out)
}

/// One small, realistic migration: a tenant table with an FK, an index and a policy.
fn migration(i: usize) -> String {
    let parent = if i == 0 {
        String::new()
    } else {
        format!(
            "  parent_id bigint references public.t{:03}(id) on delete cascade,\n",
            i - 1
        )
    };
    format!(
        "create table public.t{i:03} (\n  id bigint generated always as identity primary key,\n  org_id uuid not null,\n{parent}  name text not null,\n  created_at timestamptz not null default now()\n);\n\
         create index t{i:03}_org_idx on public.t{i:03} (org_id);\n\
         alter table public.t{i:03} enable row level security;\n\
         create policy t{i:03}_org on public.t{i:03} using (org_id = current_setting('app.org_id', true)::uuid);\n\
         comment on table public.t{i:03} is 'bench table {i}';\n"
    )
}
