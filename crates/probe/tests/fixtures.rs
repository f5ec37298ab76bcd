//! The fixtures' `probe = true` expectations: callengo and clinic.

mod common;
use common::*;
use dbaudit_probe::Verdict;

#[tokio::test]
async fn callengo() {
    let db = fixture_db("callengo").await;
    let before = counts(&db).await;
    let o = run(&db).await;
    let after = counts(&db).await;
    assert_eq!(before, after, "the probe left rows behind");
    println!("{:#}", o.to_json());
    for f in &o.findings {
        println!("{} {} {:?} {}", f.code, f.location(), f.object, f.message);
    }
    assert!(leaks(&o, "public.voicemail_logs").contains(&"insert".to_string()));
    assert!(leaks(&o, "public.notifications").contains(&"insert".to_string()));
    assert!(leaks(&o, "public.contacts").is_empty());
    assert!(leaks(&o, "public.call_logs").is_empty());
    assert_eq!(verdict(&o, "public.contacts"), Verdict::Isolated);
    assert_eq!(verdict(&o, "public.call_logs"), Verdict::Isolated);
}

#[tokio::test]
async fn clinic() {
    let db = fixture_db("clinic").await;
    let before = counts(&db).await;
    let o = run(&db).await;
    let after = counts(&db).await;
    assert_eq!(before, after, "the probe left rows behind");
    println!("{:#}", o.to_json());
    for f in &o.findings {
        println!("{} {} {:?} {}", f.code, f.location(), f.object, f.message);
    }
    assert!(leaks(&o, "public.appointments").is_empty());
    assert_eq!(verdict(&o, "public.appointments"), Verdict::Isolated);
}
