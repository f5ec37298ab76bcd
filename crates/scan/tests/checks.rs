//! Each data check, positive and negative, on a plain cluster; plus the paths that must never
//! look clean: a locked table (timeout), a table the role cannot read, RLS in the way.

mod common;

use common::*;
use dbaudit_pgcluster::testing::{test_db, TestDb};
use dbaudit_scan::{ScanOptions, TableStatus};
use std::time::Duration;

/// Tenant root `organizations`; `deals` carries one defect of every kind; `notes`, `tasks`,
/// `contacts` and `empty_things` are clean apart from what the comments say.
const SCHEMA: &str = r#"
create table organizations (id uuid primary key);
create table contacts (
  id uuid primary key,
  org_id uuid references organizations(id),
  deleted_at timestamptz,
  email text
);
create table deal_lists (id uuid primary key, org_id uuid not null references organizations(id));
create table deals (
  id bigint generated always as identity primary key,
  org_id uuid references organizations(id),
  contact_id uuid references contacts(id),
  list_id text,
  price numeric,
  discount_percent integer,
  deleted_at timestamptz
);
create table notes (id uuid primary key, org_id uuid not null references organizations(id), deal_id bigint);
create table tasks (id uuid primary key, org_id uuid not null references organizations(id), deal_id bigint);
create table api_tokens (token text primary key, org_id uuid references organizations(id));
create table empty_things (id uuid primary key, org_id uuid references organizations(id));

insert into organizations values
  ('00000000-0000-4000-8000-0000000000a1'), ('00000000-0000-4000-8000-0000000000a2');
insert into contacts (id, org_id, deleted_at) values
  ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-0000000000a1', null),
  ('00000000-0000-4000-8000-0000000000c2', '00000000-0000-4000-8000-0000000000a2', null),
  ('00000000-0000-4000-8000-0000000000c3', '00000000-0000-4000-8000-0000000000a1', now());
insert into deal_lists values
  ('00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-0000000000a1');
insert into deals (org_id, contact_id, list_id, price, discount_percent, deleted_at) values
  -- 1: clean
  ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-0000000000d1', 10, 5, null),
  -- 2: contact of the other organization; negative price
  ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000c2', null, -1, 0, null),
  -- 3: live deal of a soft-deleted contact; negative price
  ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000c3', null, -5, 100, null),
  -- 4: deleted deal of a soft-deleted contact (fine); 150 %
  ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000c3', '', 0, 150, now()),
  -- 5: no organization (not also a cross-tenant reference)
  (null, '00000000-0000-4000-8000-0000000000c2', null, 1, null, null),
  -- 6: list id that is not a uuid
  ('00000000-0000-4000-8000-0000000000a1', null, 'big-deals', null, null, null),
  -- 7: list that does not exist
  ('00000000-0000-4000-8000-0000000000a1', null, '00000000-0000-4000-8000-0000000000ff', null, null, null),
  -- 8: the existing list in upper case, with spaces: converts and matches
  ('00000000-0000-4000-8000-0000000000a1', null, ' 00000000-0000-4000-8000-0000000000D1 ', null, null, null);
insert into notes values
  ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000a1', 1),
  ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-0000000000a1', 999);
-- declared after the orphan, NOT VALID: never checked
alter table notes add constraint notes_deal_id_fkey foreign key (deal_id) references deals(id) not valid;
insert into tasks values
  ('00000000-0000-4000-8000-0000000000f1', '00000000-0000-4000-8000-0000000000a1', 1),
  ('00000000-0000-4000-8000-0000000000f2', '00000000-0000-4000-8000-0000000000a2', 42),
  ('00000000-0000-4000-8000-0000000000f3', '00000000-0000-4000-8000-0000000000a1', null);
insert into api_tokens values ('tok_live_SECRET', null), ('tok_live_OTHER', '00000000-0000-4000-8000-0000000000a1');
analyze;
"#;

async fn setup(name: &str) -> TestDb {
    let db = test_db(name).await;
    db.client.batch_execute(SCHEMA).await.unwrap();
    db
}

/// The root is named: the schema is too small (and has no policies) for detection to be sure.
fn settings() -> dbaudit_rules::Settings {
    dbaudit_rules::Settings {
        tenant_root: Some("public.organizations".into()),
        ..Default::default()
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn every_check_counts_exactly_and_stays_quiet_on_clean_rows() {
    let db = setup("every_check").await;
    let out = scan_db(&db, &settings(), 2, &ScanOptions::default()).await;
    assert!(
        out.tables.iter().all(|t| t.status == TableStatus::Scanned),
        "{:#?}",
        out.tables
    );

    // DATA001, type-mismatched inferred reference: 6 (not a uuid) and 7 (no such list); 8
    // converts and matches, 4 ('') is no reference.
    let f = get(&out, "orphan-rows", "public.deals", "list_id");
    assert_eq!(count(f), 2, "{}", f.message);
    assert_eq!(f.evidence["not_valid_uuid"], 1);
    assert_eq!(sorted(samples(f)), vec!["6", "7"]);
    assert_eq!(f.evidence["sample_key_columns"], serde_json::json!(["id"]));
    // DATA001, declared NOT VALID foreign key.
    let f = get(&out, "orphan-rows", "public.notes", "deal_id");
    assert_eq!(count(f), 1);
    assert_eq!(samples(f), vec!["00000000-0000-4000-8000-0000000000e2"]);
    assert_eq!(f.evidence["constraint"], "notes_deal_id_fkey");
    // DATA001, inferred reference with compatible types.
    let f = get(&out, "orphan-rows", "public.tasks", "deal_id");
    assert_eq!(count(f), 1);
    assert_eq!(samples(f), vec!["00000000-0000-4000-8000-0000000000f2"]);

    // DATA002.
    let f = get(&out, "null-tenant-rows", "public.deals", "org_id");
    assert_eq!(count(f), 1);
    assert_eq!(samples(f), vec!["5"]);

    // DATA003: deal 2 (contact of a2); deal 5 has no tenant, so it is not counted here.
    let f = get(&out, "cross-tenant-reference", "public.deals", "contact_id");
    assert_eq!(count(f), 1);
    assert_eq!(samples(f), vec!["2"]);
    assert_eq!(f.severity, dbaudit_findings::Severity::Critical);

    // DATA004: deal 3 only (deal 4 is itself deleted).
    let f = get(
        &out,
        "soft-deleted-parent-referenced",
        "public.deals",
        "contact_id",
    );
    assert_eq!(count(f), 1);
    assert_eq!(samples(f), vec!["3"]);

    // DATA005: recommended CHECKs and the uuid conversion.
    let f = get(&out, "check-violations", "public.deals", "price");
    assert_eq!(count(f), 2);
    assert_eq!(sorted(samples(f)), vec!["2", "3"]);
    let f = get(&out, "check-violations", "public.deals", "discount_percent");
    assert_eq!(count(f), 1);
    assert_eq!(samples(f), vec!["4"]);
    let f = get(&out, "check-violations", "public.deals", "list_id");
    assert_eq!(count(f), 1);
    assert_eq!(samples(f), vec!["6"]);

    // The secret-looking primary key is never sampled.
    let f = get(&out, "null-tenant-rows", "public.api_tokens", "org_id");
    assert_eq!(count(f), 1);
    assert!(f.evidence.get("sample_keys").is_none());
    assert!(f.evidence["sample_keys_withheld"]
        .as_str()
        .unwrap()
        .contains("token"));
    let all = serde_json::to_string(&out.findings).unwrap() + &out.to_json().to_string();
    assert!(!all.contains("tok_live"), "a secret key was printed");

    // Negatives: nothing else (clean tables, clean relations, NOT NULL tenants).
    let mut got: Vec<String> = out
        .findings
        .iter()
        .map(|f| format!("{} {}", f.rule, f.location()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            "check-violations public.deals.discount_percent",
            "check-violations public.deals.list_id",
            "check-violations public.deals.price",
            "cross-tenant-reference public.deals.contact_id",
            "null-tenant-rows public.api_tokens.org_id",
            "null-tenant-rows public.deals.org_id",
            "orphan-rows public.deals.list_id",
            "orphan-rows public.notes.deal_id",
            "orphan-rows public.tasks.deal_id",
            "soft-deleted-parent-referenced public.deals.contact_id",
        ]
    );
    // tasks 42 is an orphan, not a cross-tenant reference; tasks 1 is in its tenant.
    assert!(find(&out, "cross-tenant-reference", "public.tasks", "deal_id").is_none());
    let deals = table(&out, "public.deals");
    assert_eq!(deals.rows, Some(8));
    assert_eq!(deals.status, TableStatus::Scanned);
    for c in [
        "orphan-rows:list_id",
        "null-tenant-rows:org_id",
        "cross-tenant-reference:contact_id",
        "soft-deleted-parent-referenced:contact_id",
        "check-violations:price",
    ] {
        assert!(
            deals.checks.iter().any(|x| x == c),
            "{c} not in {:?}",
            deals.checks
        );
    }
    // A validated foreign key has no orphan check.
    assert!(!deals.checks.iter().any(|x| x == "orphan-rows:contact_id"));
    // Every finding is fingerprinted and documented.
    assert!(out.findings.iter().all(|f| f.fingerprint.len() == 16));
}

#[tokio::test]
async fn an_empty_table_is_scanned_and_clean() {
    let db = setup("empty_table").await;
    let out = scan_db(&db, &settings(), 1, &ScanOptions::default()).await;
    let t = table(&out, "public.empty_things");
    assert_eq!(t.status, TableStatus::Scanned);
    assert_eq!(t.rows, Some(0));
    assert_eq!(t.checks, vec!["null-tenant-rows:org_id"]);
    assert!(!out
        .findings
        .iter()
        .any(|f| f.table.as_deref() == Some("empty_things")));
    assert_eq!(out.connections, 1);
}

#[tokio::test]
async fn a_locked_table_times_out_and_is_never_reported_clean() {
    let db = setup("locked_table").await;
    let cat = catalog(&db).await;
    let plan = plan_of(&cat, &settings());
    let locker = db.connect().await;
    locker
        .batch_execute("BEGIN; LOCK TABLE deals IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let clients = vec![db.connect().await, db.connect().await];
    let opts = ScanOptions {
        statement_timeout: Duration::from_millis(300),
        ..ScanOptions::default()
    };
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        dbaudit_scan::scan(plan, clients, &opts),
    )
    .await
    .expect("the scan does not hang on a lock")
    .unwrap();
    // deals itself, and the tables whose checks join it.
    for name in ["public.deals", "public.notes", "public.tasks"] {
        let t = table(&out, name);
        assert_eq!(t.status, TableStatus::Timeout, "{name}: {t:?}");
        assert!(
            t.reason.as_deref().unwrap().contains("lock timeout"),
            "{t:?}"
        );
        assert_eq!(t.rows, None);
        assert!(
            !out.findings
                .iter()
                .any(|f| f.qualified_table().as_deref() == Some(name)),
            "finding on a table that was not scanned"
        );
    }
    // The others were scanned.
    assert_eq!(
        table(&out, "public.api_tokens").status,
        TableStatus::Scanned
    );
    let j = out.to_json();
    assert_eq!(j["totals"]["not_scanned"], 3);
    assert_eq!(
        j["totals"]["scanned"].as_u64().unwrap() + 3,
        j["totals"]["tables"].as_u64().unwrap()
    );
    locker.batch_execute("ROLLBACK").await.unwrap();
}

#[tokio::test]
async fn tables_the_role_cannot_read_fail_with_the_reason() {
    let db = setup("unreadable").await;
    db.client
        .batch_execute(
            "create role dbaudit_scan_reader nologin;
             grant select on all tables in schema public to dbaudit_scan_reader;
             revoke select on tasks from dbaudit_scan_reader;
             revoke select on deal_lists from dbaudit_scan_reader;
             -- RLS would hide rows from this role: failed, not silently partial
             alter table api_tokens enable row level security;
             create policy p on api_tokens for select using (true);",
        )
        .await
        .unwrap();
    let cat = catalog(&db).await;
    let plan = plan_of(&cat, &settings());
    let mut clients = vec![];
    for _ in 0..2 {
        let c = db.connect().await;
        c.batch_execute("SET ROLE dbaudit_scan_reader")
            .await
            .unwrap();
        clients.push(c);
    }
    let out = dbaudit_scan::scan(plan, clients, &ScanOptions::default())
        .await
        .unwrap();
    let t = table(&out, "public.tasks");
    assert_eq!(t.status, TableStatus::Failed);
    assert!(
        t.reason.as_deref().unwrap().contains("permission denied"),
        "{t:?}"
    );
    assert!(find(&out, "orphan-rows", "public.tasks", "deal_id").is_none());

    let t = table(&out, "public.api_tokens");
    assert_eq!(t.status, TableStatus::Failed);
    assert!(
        t.reason.as_deref().unwrap().contains("row-level security"),
        "{t:?}"
    );

    // deals is scanned, without the checks that need the unreadable deal_lists.
    let t = table(&out, "public.deals");
    assert_eq!(t.status, TableStatus::Scanned, "{t:?}");
    assert!(!t.checks.iter().any(|c| c == "orphan-rows:list_id"));
    let skipped: Vec<&str> = t.checks_skipped.iter().map(|s| s.check.as_str()).collect();
    assert_eq!(
        skipped,
        vec!["orphan-rows:list_id", "cross-tenant-reference:list_id"]
    );
    assert!(t
        .checks_skipped
        .iter()
        .all(|s| s.reason.contains("cannot read public.deal_lists")));
    assert!(find(&out, "orphan-rows", "public.deals", "list_id").is_none());
    assert_eq!(
        count(get(&out, "null-tenant-rows", "public.deals", "org_id")),
        1
    );
    // The conversion check needs no parent: still run.
    assert_eq!(
        count(get(&out, "check-violations", "public.deals", "list_id")),
        1
    );
}

#[tokio::test]
async fn sampling_applies_to_large_tables_only_and_is_stated() {
    let db = setup("sampling").await;
    let opts = ScanOptions {
        sample_percent: Some(100.0 - 1e-9),
        sample_min_rows: 5,
        ..ScanOptions::default()
    };
    let out = scan_db(&db, &settings(), 2, &opts).await;
    assert!(table(&out, "public.deals").sampled);
    assert!(!table(&out, "public.notes").sampled);
    let j = out.to_json();
    assert!(j["sample_percent"].as_f64().unwrap() > 99.0);
    for f in out
        .findings
        .iter()
        .filter(|f| f.table.as_deref() == Some("deals"))
    {
        assert!(f.message.contains("sample"), "{}", f.message);
        assert!(f.evidence.contains_key("sample_percent"));
    }
    for f in out
        .findings
        .iter()
        .filter(|f| f.table.as_deref() == Some("notes"))
    {
        assert!(!f.message.contains("sample"), "{}", f.message);
    }
}

#[tokio::test]
async fn no_connection_is_an_error() {
    let err = dbaudit_scan::scan(vec![], vec![], &ScanOptions::default()).await;
    assert!(matches!(err, Err(dbaudit_scan::ScanError::NoConnection)));
}
