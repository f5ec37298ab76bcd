//! The fixtures' `probe = true` expectations: callengo and clinic.

mod common;
use common::*;
use dbaudit_probe::{ProbeOutcome, Verdict};

/// Probe a fixture's database (checking it leaves no rows behind) and print the outcome.
async fn probe_fixture(fixture: &str) -> ProbeOutcome {
    let db = fixture_db(fixture).await;
    let o = run_leaving_no_rows(&db).await;
    println!("{:#}", o.to_json());
    for f in &o.findings {
        println!("{} {} {:?} {}", f.code, f.location(), f.object, f.message);
    }
    o
}

#[tokio::test]
async fn callengo() {
    let o = probe_fixture("callengo").await;
    assert!(leaks(&o, "public.voicemail_logs").contains(&"insert".to_string()));
    assert!(leaks(&o, "public.notifications").contains(&"insert".to_string()));
    assert!(leaks(&o, "public.contacts").is_empty());
    assert!(leaks(&o, "public.call_logs").is_empty());
    assert_eq!(verdict(&o, "public.contacts"), Verdict::Isolated);
    assert_eq!(verdict(&o, "public.call_logs"), Verdict::Isolated);
}

#[tokio::test]
async fn clinic() {
    let o = probe_fixture("clinic").await;
    assert!(leaks(&o, "public.appointments").is_empty());
    assert_eq!(verdict(&o, "public.appointments"), Verdict::Isolated);
}
