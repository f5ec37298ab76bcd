//! Test support: a small multi-tenant catalog and a way to run the checks on in-memory files.

use dbaudit_catalog::builder::CatalogBuilder;
use dbaudit_catalog::{Catalog, FkAction};
use dbaudit_findings::Finding;
use dbaudit_rules::{Context, Settings};

/// organizations (root) ← call_logs.org_id ← call_notes.call_id; leads.org_id; plans (global);
/// users, deals.owner_user_id → users.id.
pub fn catalog() -> Catalog {
    CatalogBuilder::supabase()
        .table(
            "public.organizations",
            &["id uuid not null", "name text not null", "plan text"],
        )
        .pk("public.organizations", &["id"])
        .table(
            "public.call_logs",
            &[
                "id uuid not null",
                "org_id uuid not null",
                "direction text not null",
                "phone text not null",
                "status text not null",
                "created_at timestamptz not null",
            ],
        )
        .pk("public.call_logs", &["id"])
        .fk(
            "public.call_logs",
            &["org_id"],
            "public.organizations",
            &["id"],
            FkAction::Cascade,
        )
        .table(
            "public.call_notes",
            &["id uuid not null", "call_id uuid not null", "body text"],
        )
        .pk("public.call_notes", &["id"])
        .fk(
            "public.call_notes",
            &["call_id"],
            "public.call_logs",
            &["id"],
            FkAction::Cascade,
        )
        .table(
            "public.leads",
            &[
                "id uuid not null",
                "org_id uuid not null",
                "phone text not null",
            ],
        )
        .pk("public.leads", &["id"])
        .fk(
            "public.leads",
            &["org_id"],
            "public.organizations",
            &["id"],
            FkAction::Cascade,
        )
        .table("public.plans", &["id text not null", "price integer"])
        .pk("public.plans", &["id"])
        .table("public.users", &["id integer not null", "email text"])
        .pk("public.users", &["id"])
        .table("public.api_users", &["id integer not null"])
        .pk("public.api_users", &["id"])
        .table(
            "public.deals",
            &["id integer not null", "owner_user_id integer", "title text"],
        )
        .pk("public.deals", &["id"])
        .fk(
            "public.deals",
            &["owner_user_id"],
            "public.users",
            &["id"],
            FkAction::SetNull,
        )
        .build()
}

pub fn settings() -> Settings {
    Settings {
        tenant_root: Some("public.organizations".into()),
        tenant_columns: Some(vec!["org_id".into()]),
        ..Default::default()
    }
}

/// A shared module exporting `admin`, a supabase-js client on the service-role key (RLS does
/// not apply to it).
pub const ADMIN_LIB: &str = "import { createClient } from '@supabase/supabase-js';\nexport const admin = createClient(process.env.SUPABASE_URL!, process.env.SUPABASE_SERVICE_ROLE_KEY!);\n";

/// The findings of one rule on `code` at `path`, next to [`ADMIN_LIB`] as `src/lib/db.ts`.
pub fn findings_with_admin_lib(rule: &str, path: &str, code: &str) -> Vec<Finding> {
    findings_of(rule, &[("src/lib/db.ts", ADMIN_LIB), (path, code)])
}

/// Write the files under a temp dir and run every check; all findings.
pub fn run_files(files: &[(&str, &str)]) -> Vec<Finding> {
    let cat = catalog();
    let settings = settings();
    let ctx = Context::new(&cat, &settings, &[]);
    let dir = tempfile::tempdir().unwrap();
    for (path, src) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, src).unwrap();
    }
    crate::check(&ctx, &[dir.path().to_path_buf()])
        .unwrap()
        .findings
}

/// The findings of one rule.
pub fn findings_of(rule: &str, files: &[(&str, &str)]) -> Vec<Finding> {
    run_files(files)
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
}
