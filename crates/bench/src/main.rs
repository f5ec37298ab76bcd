//! `cargo run --release -p dbaudit-bench [-- --tables N]`
//!
//! Prints, against the targets of DESIGN.md:
//! - throwaway cluster start, cold (template built) and warm (template cached);
//! - applying 100 generated migration files;
//! - catalog load, and catalog load plus every schema rule, on a generated schema of 5,000 tables
//!   (20,000 columns, 8,000 foreign keys, 10,000 policies) — median of several runs.
//!
//! Timings are printed, never asserted.

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
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let tables = arg("--tables", 5000);
    let runs = arg("--runs", 5);
    dbaudit_pgcluster::cluster::install_signal_cleanup();

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
    let build = t.elapsed();
    let mut load = vec![];
    let mut load_rules = vec![];
    let mut counts = (0, 0, 0, 0);
    for _ in 0..runs {
        // A fresh connection per run, as an audit has.
        let t = Instant::now();
        let conn = cluster.connect("big").await?;
        conn.batch_execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let cat = dbaudit_catalog::load(&conn, &LoadOptions::default()).await?;
        let l = t.elapsed();
        let settings = Settings::default();
        let ctx = RuleContext::new(&cat, &settings, &[]);
        let findings = dbaudit_rules::run_all(&ctx);
        load_rules.push(t.elapsed());
        load.push(l);
        conn.batch_execute("ROLLBACK").await?;
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
    // Where the rule time goes: the derived models, then each rule.
    big.batch_execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let cat = dbaudit_catalog::load(&big, &LoadOptions::default()).await?;
    big.batch_execute("ROLLBACK").await?;
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
    drop(big);
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
    println!(
        "{:<58} {:>10}  -",
        format!(
            "catalog load ({} rel, {} cols, {} FKs, {} policies)",
            counts.0, counts.1, counts.2, counts.3
        ),
        ms(median(load))
    );
    println!(
        "{:<58} {:>10}  < 1 s",
        "catalog load + all schema rules",
        ms(median(load_rules))
    );
    println!(
        "  derived models (exposure, policies, tenancy, relationships, delete paths): {}",
        ms(analysis)
    );
    println!(
        "    of which policy expressions {}, exposure {}, tenancy {}",
        ms(policies_time),
        ms(exposure_time),
        ms(tenancy_time)
    );
    for (d, name, n) in per_rule.iter().take(6) {
        println!("  {name:<40} {:>8}  {n} findings", ms(*d));
    }
    Ok(())
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
