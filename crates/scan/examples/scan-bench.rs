//! The data scan against a single sequential pass, on a generated dataset.
//!
//! `cargo run --release -p dbaudit-scan --example scan-bench -- [--rows 2000000] [--runs 3]`
//!
//! Starts a throwaway cluster, generates `--rows` child rows (`calls`) with a tenant column, a
//! NOT VALID foreign key to `contacts` (whose rows are soft-deletable), a text column holding
//! `call_lists` uuids (type-mismatched reference), a second child (`call_events`, `--rows / 2`
//! rows, inferred reference to `calls` without a foreign key) and planted defects of every kind,
//! then `VACUUM ANALYZE`. Then, in one run, median of `--runs`:
//! - the scan (plan + `scan` over 3 connections);
//! - `count(*)` of every table the scan reads, one after the other, with index scans disabled
//!   (a single sequential pass over the same data);
//!
//! and prints both, the ratio, the planted and found counts, and the client's peak RSS.

use dbaudit_catalog::LoadOptions;
use dbaudit_pgcluster::{Cluster, ClusterOptions};
use dbaudit_rules::{Context, Settings};
use dbaudit_scan::{plan, scan, ScanOptions};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// `VmHWM` (peak resident set) of this process, in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn schema(rows: u64) -> String {
    let orgs = 1000;
    let contacts = (rows / 10).max(10);
    let lists = (rows / 100).max(10);
    let events = rows / 2;
    format!(
        r#"
create table organizations (id uuid primary key, name text not null);
create table contacts (
  id uuid primary key,
  org_id uuid not null references organizations(id),
  full_name text,
  deleted_at timestamptz
);
create table call_lists (id uuid primary key, org_id uuid not null references organizations(id), name text);
create table calls (
  id bigint primary key,
  org_id uuid,
  contact_id uuid,
  list_id text,
  duration_seconds integer,
  price numeric(10,2),
  status text,
  created_at timestamptz not null default now(),
  deleted_at timestamptz
);
create table call_events (id bigint primary key, org_id uuid not null, call_id bigint, kind text, at timestamptz);

insert into organizations select md5('o' || i)::uuid, 'org ' || i from generate_series(0, {orgs} - 1) i;
insert into contacts
  select md5('c' || i)::uuid, md5('o' || (i % {orgs}))::uuid, 'contact ' || i,
         case when i % 1000 = 7 then now() end
  from generate_series(0, {contacts} - 1) i;
insert into call_lists select md5('l' || i)::uuid, md5('o' || (i % {orgs}))::uuid, 'list ' || i
  from generate_series(0, {lists} - 1) i;
-- contact i % {contacts} belongs to org (i % {contacts}) % {orgs}; the call's org matches it
-- except where defects are planted.
insert into calls
  select i,
    case when i % 10007 = 1 then null
         when i % 10009 = 2 then md5('o' || (((i % {contacts}) % {orgs}) + 1) % {orgs})::uuid
         else md5('o' || ((i % {contacts}) % {orgs}))::uuid end,
    case when i % 10037 = 3 then md5('missing contact ' || i)::uuid
         when i % 5 = 0 then null
         else md5('c' || (i % {contacts}))::uuid end,
    case when i % 10039 = 4 then 'list-' || i
         when i % 10061 = 5 then md5('missing list ' || i)::uuid::text
         when i % 3 = 0 then null
         else md5('l' || (i % {lists}))::uuid::text end,
    (i % 600)::int,
    case when i % 10067 = 6 then -1 else (i % 100) / 10.0 end,
    'done', now() - (i || ' seconds')::interval, null
  from generate_series(1, {rows}) i;
alter table calls add constraint calls_org_id_fkey foreign key (org_id) references organizations(id);
alter table calls add constraint calls_contact_id_fkey foreign key (contact_id) references contacts(id) not valid;
alter table call_events add constraint call_events_org_id_fkey foreign key (org_id) references organizations(id);
insert into call_events
  select i, md5('o' || (((i * 2) % {contacts}) % {orgs}))::uuid,
    case when i % 10069 = 7 then {rows} + i else i * 2 end,
    'ring', now()
  from generate_series(1, {events}) i;
"#
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let rows = arg("--rows", 2_000_000);
    let runs = arg("--runs", 3).max(1) as usize;
    let connections = arg("--connections", 3).max(1) as usize;
    dbaudit_pgcluster::cluster::install_signal_cleanup();

    let cluster = Cluster::start(ClusterOptions::default()).await?;
    cluster.create_database("scanbench").await?;
    let client = cluster.connect("scanbench").await?;
    let t = Instant::now();
    client.batch_execute(&schema(rows)).await?;
    client.batch_execute("VACUUM ANALYZE").await?;
    println!(
        "generated {rows} calls, {} call_events, {} contacts, {} call_lists: {}",
        rows / 2,
        (rows / 10).max(10),
        (rows / 100).max(10),
        ms(t.elapsed())
    );

    let catalog = dbaudit_catalog::load(&client, &LoadOptions { statistics: false }).await?;
    let settings = Settings {
        tenant_root: Some("public.organizations".into()),
        ..Settings::default()
    };
    let ctx = Context::new(&catalog, &settings, &[]);
    let the_plan = plan(&ctx);
    let mut tables: Vec<String> = vec![];
    for p in &the_plan {
        println!(
            "  {}: {}",
            p.qualified(),
            p.checks
                .iter()
                .map(|c| c.label())
                .collect::<Vec<_>>()
                .join(" ")
        );
        tables.push(dbaudit_rules::qualify(&p.schema, &p.name));
        for j in &p.joins {
            tables.push(dbaudit_rules::qualify(&j.schema, &j.name));
        }
    }
    tables.sort();
    tables.dedup();
    if std::env::args().any(|a| a == "--explain") {
        for p in &the_plan {
            client
                .batch_execute(
                    "set jit = off; set enable_mergejoin = off; set enable_nestloop = off; \
                     set work_mem = '128MB'; set parallel_setup_cost = 100; \
                     set parallel_tuple_cost = 0.01",
                )
                .await?;
            let rows = client
                .query(&format!("EXPLAIN (ANALYZE, BUFFERS) {}", p.sql(None)), &[])
                .await?;
            println!("\n{}", p.sql(None));
            for r in rows {
                println!("  {}", r.get::<_, String>(0));
            }
        }
    }

    if let Some(secs) = std::env::args()
        .position(|a| a == "--hold")
        .map(|_| arg("--hold", 300))
    {
        // Keep the cluster up for manual experiments (psql "<conn string>").
        println!(
            "holding {secs} s: psql \"{}\"",
            cluster.conn_string("scanbench")
        );
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }

    // Warm the cache for both sides.
    for t in &tables {
        client
            .query_one(&format!("select count(*) from {t}"), &[])
            .await?;
    }

    let opts = ScanOptions {
        statement_timeout: Duration::from_secs(600),
        ..ScanOptions::default()
    };
    let mut scan_times = vec![];
    let mut count_times = vec![];
    let mut outcome = None;
    let rss_before = peak_rss_mib();
    for _ in 0..runs {
        // Baseline: one sequential pass over the same tables.
        let base = cluster.connect("scanbench").await?;
        base.batch_execute(
            "set enable_indexscan = off; set enable_bitmapscan = off; set enable_indexonlyscan = off",
        )
        .await?;
        let t = Instant::now();
        for name in &tables {
            base.query_one(&format!("select count(*) from {name}"), &[])
                .await?;
        }
        count_times.push(t.elapsed());

        let mut clients = vec![];
        for _ in 0..connections {
            clients.push(cluster.connect("scanbench").await?);
        }
        let t = Instant::now();
        let out = scan(the_plan.clone(), clients, &opts).await?;
        scan_times.push(t.elapsed());
        outcome = Some(out);
    }
    let out = outcome.expect("at least one run");
    let (s, c) = (median(scan_times), median(count_times));
    println!("\ntables read: {}", tables.join(", "));
    for t in &out.tables {
        println!(
            "  {} {} rows={:?} {} ms",
            t.table,
            t.status.as_str(),
            t.rows,
            t.elapsed_ms
        );
    }
    println!("findings:");
    for f in &out.findings {
        println!("  {} {}: {}", f.rule, f.location(), f.evidence["rows"]);
    }
    println!(
        "\nscan ({connections} connections): {}\ncount(*) sequential, index scans off: {}\nratio: {:.2} (target <= 1.5)",
        ms(s),
        ms(c),
        s.as_secs_f64() / c.as_secs_f64()
    );
    println!(
        "client peak RSS: {:.1} MiB before the scans, {:.1} MiB after",
        rss_before,
        peak_rss_mib()
    );
    drop(client);
    cluster.stop().await?;
    Ok(())
}
