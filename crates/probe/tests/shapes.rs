//! Each leak shape on a small Supabase schema, and its fixed twin proven isolated.

mod common;
use common::*;
use dbaudit_probe::Verdict;

/// Tenants `orgs`, a membership table, three tenant tables; RLS on; a correct membership helper.
const BASE: &str = r#"
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.members (
  user_id uuid not null references auth.users(id) on delete cascade,
  org_id uuid not null references public.orgs(id) on delete cascade,
  role text not null default 'member' check (role in ('owner', 'member')),
  primary key (user_id, org_id)
);
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs(id) on delete cascade,
  name text not null
);
create table public.docs (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs(id) on delete cascade,
  project_id uuid not null references public.projects(id) on delete cascade,
  title text not null,
  pages integer not null check (pages > 0 and pages <= 500)
);
alter table public.orgs enable row level security;
alter table public.members enable row level security;
alter table public.projects enable row level security;
alter table public.docs enable row level security;
create function public.is_member(o uuid) returns boolean
  language sql stable security definer set search_path = public as $$
  select exists (select 1 from public.members m where m.org_id = o and m.user_id = auth.uid())
$$;
create policy orgs_read on public.orgs for select to authenticated using (public.is_member(id));
create policy members_read on public.members for select to authenticated using (user_id = auth.uid());
create policy projects_all on public.projects for all to authenticated
  using (public.is_member(org_id)) with check (public.is_member(org_id));
"#;

const DOCS_OK: &str = r#"
create policy docs_all on public.docs for all to authenticated
  using (public.is_member(org_id)) with check (public.is_member(org_id));
"#;

async fn probe_with(name: &str, extra: &str) -> dbaudit_probe::ProbeOutcome {
    let db = supabase_db(name, &format!("{BASE}\n{extra}")).await;
    let o = run_leaving_no_rows(&db).await;
    assert_eq!(
        o.tenant_root.as_deref(),
        Some("public.orgs"),
        "{:#}",
        o.to_json()
    );
    // The base tables are always proven isolated.
    assert_eq!(
        verdict(&o, "public.projects"),
        Verdict::Isolated,
        "{:#}",
        o.to_json()
    );
    o
}

fn assert_isolated(o: &dbaudit_probe::ProbeOutcome, table: &str) {
    assert!(leaks(o, table).is_empty(), "{:#}", o.to_json());
    assert_eq!(verdict(o, table), Verdict::Isolated, "{:#}", o.to_json());
}

#[tokio::test]
async fn always_true_policy() {
    let o = probe_with(
        "always_true",
        "create policy docs_all on public.docs for all to authenticated using (true) with check (true);",
    )
    .await;
    let l = leaks(&o, "public.docs");
    for c in ["select", "insert", "update", "delete"] {
        assert!(l.contains(&c.to_string()), "{c}: {l:?}");
    }
    let f = o
        .findings
        .iter()
        .find(|f| f.rule == "rls-isolation-leak")
        .unwrap();
    let sql = f.evidence["sql"].as_str().unwrap();
    assert!(sql.contains("SET LOCAL ROLE authenticated"), "{sql}");
    assert!(sql.contains("request.jwt.claims"), "{sql}");

    let fixed = probe_with("always_true_fixed", DOCS_OK).await;
    assert_isolated(&fixed, "public.docs");
    for c in ["select", "insert", "update", "delete", "move"] {
        assert_eq!(
            command(&fixed, "public.docs", c, "authenticated"),
            Verdict::Isolated,
            "{c}"
        );
    }
}

#[tokio::test]
async fn policy_checking_only_signin() {
    let o = probe_with(
        "signin_only",
        "create policy docs_all on public.docs for all to authenticated
           using (auth.uid() is not null) with check (auth.uid() is not null);",
    )
    .await;
    assert!(leaks(&o, "public.docs").contains(&"select".to_string()));
    // Anonymous visitors are still kept out.
    assert_eq!(
        command(&o, "public.docs", "select", "anon"),
        Verdict::Isolated
    );
    let fixed = probe_with("signin_only_fixed", DOCS_OK).await;
    assert_isolated(&fixed, "public.docs");
}

#[tokio::test]
async fn membership_helper_forgetting_the_user() {
    let o = probe_with(
        "helper_no_uid",
        r#"
        create function public.in_org(o uuid) returns boolean
          language sql stable security definer set search_path = public as $$
          select exists (select 1 from public.members m where m.org_id = o)
        $$;
        create policy docs_all on public.docs for all to authenticated
          using (public.in_org(org_id)) with check (public.in_org(org_id));
        "#,
    )
    .await;
    let l = leaks(&o, "public.docs");
    assert!(
        l.contains(&"select".to_string()) && l.contains(&"insert".to_string()),
        "{l:?}"
    );
    let fixed = probe_with("helper_no_uid_fixed", DOCS_OK).await;
    assert_isolated(&fixed, "public.docs");
}

#[tokio::test]
async fn update_letting_a_row_change_tenant() {
    let o = probe_with(
        "update_move",
        r#"
        create policy docs_read on public.docs for select to authenticated using (public.is_member(org_id));
        create policy docs_insert on public.docs for insert to authenticated with check (public.is_member(org_id));
        create policy docs_update on public.docs for update to authenticated
          using (public.is_member(org_id)) with check (true);
        "#,
    )
    .await;
    assert_eq!(
        leaks(&o, "public.docs"),
        vec!["move".to_string()],
        "{:#}",
        o.to_json()
    );
    let fixed = probe_with(
        "update_move_fixed",
        r#"
        create policy docs_read on public.docs for select to authenticated using (public.is_member(org_id));
        create policy docs_insert on public.docs for insert to authenticated with check (public.is_member(org_id));
        create policy docs_update on public.docs for update to authenticated
          using (public.is_member(org_id)) with check (public.is_member(org_id));
        "#,
    )
    .await;
    assert_isolated(&fixed, "public.docs");
    assert_eq!(
        command(&fixed, "public.docs", "move", "authenticated"),
        Verdict::Isolated
    );
}

#[tokio::test]
async fn view_without_security_invoker() {
    let o = probe_with(
        "view_definer",
        &format!("{DOCS_OK}\ncreate view public.doc_titles as select id, org_id, title from public.docs;"),
    )
    .await;
    assert_isolated(&o, "public.docs");
    assert_eq!(
        verdict(&o, "public.doc_titles"),
        Verdict::Leak,
        "{:#}",
        o.to_json()
    );
    assert!(!leaks(&o, "public.doc_titles").is_empty());
    let fixed = probe_with(
        "view_invoker",
        &format!(
            "{DOCS_OK}\ncreate view public.doc_titles with (security_invoker = true) as select id, org_id, title from public.docs;"
        ),
    )
    .await;
    assert_eq!(
        verdict(&fixed, "public.doc_titles"),
        Verdict::Isolated,
        "{:#}",
        fixed.to_json()
    );
}

#[tokio::test]
async fn exposed_security_definer_function() {
    let o = probe_with(
        "definer_fn",
        &format!(
            "{DOCS_OK}
            create function public.org_docs(p_org_id uuid) returns setof public.docs
              language sql stable security definer set search_path = public as $$
              select * from public.docs where org_id = p_org_id
            $$;"
        ),
    )
    .await;
    assert_isolated(&o, "public.docs");
    let f = table(&o, "public.org_docs(p_org_id uuid)");
    assert_eq!(f.verdict, Verdict::Leak, "{:#}", o.to_json());
    assert!(o.findings.iter().any(|f| f.rule == "rls-isolation-leak"
        && f.function.as_deref() == Some("public.org_docs(p_org_id uuid)")));
    let fixed = probe_with(
        "definer_fn_fixed",
        &format!(
            "{DOCS_OK}
            create function public.org_docs(p_org_id uuid) returns setof public.docs
              language sql stable security definer set search_path = public as $$
              select * from public.docs where org_id = p_org_id and public.is_member(p_org_id)
            $$;"
        ),
    )
    .await;
    assert_eq!(
        table(&fixed, "public.org_docs(p_org_id uuid)").verdict,
        Verdict::Isolated,
        "{:#}",
        fixed.to_json()
    );
}
