//! The probe on a generated 50-table tenant schema (`cargo test -p dbaudit-probe --release
//! --test bench -- --ignored --nocapture`): prints the time. A measurement, not a timed test.

mod common;
use common::*;
use dbaudit_catalog::synthetic::{schema_sql, SyntheticSchema};
use std::time::Instant;

#[tokio::test]
#[ignore]
async fn fifty_tables() {
    let sql = schema_sql(&SyntheticSchema {
        tables: 50,
        columns_per_table: 6,
        foreign_keys: 80,
        policies: 100,
        define_auth: false,
        ..Default::default()
    });
    let db = dbaudit_pgcluster::testing::test_db_supabase("bench50").await;
    db.client.batch_execute(&sql).await.expect("schema");
    let t = Instant::now();
    let o = run(&db).await;
    let total = t.elapsed();
    let (n, iso, leak, inc) = o.coverage();
    println!(
        "probe on 50 tables: {} ms in the probe, {} ms with catalog load and planning; tenant-scoped {n}, isolated {iso}, leak {leak}, inconclusive {inc}",
        o.elapsed_ms,
        total.as_millis()
    );
    for t in o
        .tables
        .iter()
        .filter(|t| t.verdict != dbaudit_probe::Verdict::Isolated)
        .take(5)
    {
        println!("  {} {:?} {:?}", t.table, t.verdict, t.reason);
    }
    assert!(n >= 49, "{n} tables probed");
}
