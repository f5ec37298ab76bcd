//! `cargo test -p dbaudit-code --release --test bench -- --ignored --nocapture`: times `check`
//! on a generated 5,000-file TypeScript tree (Express routes, supabase-js chains, services).

use dbaudit_catalog::builder::CatalogBuilder;
use dbaudit_catalog::FkAction;
use dbaudit_rules::{Context, Settings};
use std::time::Instant;

fn route_file(i: usize) -> String {
    let mut s = format!(
        "import {{ Router }} from 'express';\nimport {{ supabaseAdmin }} from '../../lib/supabase';\nimport {{ requireAuth, AuthedRequest }} from '../../middleware/auth';\n\nexport const r{i} = Router();\nr{i}.use(requireAuth);\n\n"
    );
    for j in 0..6 {
        s.push_str(&format!(
            "// Route {j} of module {i}.\nr{i}.get('/m{i}/items/{j}', async (req: AuthedRequest, res) => {{\n  let query = supabaseAdmin\n    .from('call_logs')\n    .select('id, phone, status, created_at')\n    .eq('org_id', req.orgId!)\n    .order('created_at', {{ ascending: false }})\n    .limit(100);\n  if (req.query.status) query = query.eq('status', String(req.query.status));\n  const {{ data, error }} = await query;\n  if (error) return res.status(500).json({{ error: error.message }});\n  const rows = (data ?? []).map((row) => ({{ ...row, label: `${{row.phone}}-{j}` }}));\n  res.json(rows);\n}});\n\n"
        ));
    }
    s.push_str(&format!(
        "export async function helper{i}(orgId: string) {{\n  const {{ data }} = await supabaseAdmin.from('leads').select('id, phone').eq('org_id', orgId);\n  return data ?? [];\n}}\n"
    ));
    s
}

#[test]
#[ignore]
fn five_thousand_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("backend");
    std::fs::create_dir_all(root.join("src/lib")).unwrap();
    std::fs::create_dir_all(root.join("src/middleware")).unwrap();
    std::fs::write(
        root.join("src/lib/supabase.ts"),
        "import { createClient } from '@supabase/supabase-js';\nexport const supabaseAdmin = createClient(process.env.SUPABASE_URL!, process.env.SUPABASE_SERVICE_ROLE_KEY!);\n",
    )
    .unwrap();
    std::fs::write(
        root.join("src/middleware/auth.ts"),
        "export async function requireAuth(req: any, res: any, next: any) { next(); }\n",
    )
    .unwrap();
    let mut bytes = 0;
    for i in 0..4998 {
        let d = root.join(format!("src/routes/g{}", i / 100));
        std::fs::create_dir_all(&d).unwrap();
        let src = route_file(i);
        bytes += src.len();
        std::fs::write(d.join(format!("m{i}.ts")), src).unwrap();
    }
    let cat = CatalogBuilder::supabase()
        .table("public.organizations", &["id uuid not null", "name text"])
        .pk("public.organizations", &["id"])
        .table(
            "public.call_logs",
            &[
                "id uuid not null",
                "org_id uuid not null",
                "phone text",
                "status text",
                "created_at timestamptz",
            ],
        )
        .fk(
            "public.call_logs",
            &["org_id"],
            "public.organizations",
            &["id"],
            FkAction::Cascade,
        )
        .table(
            "public.leads",
            &["id uuid not null", "org_id uuid not null", "phone text"],
        )
        .fk(
            "public.leads",
            &["org_id"],
            "public.organizations",
            &["id"],
            FkAction::Cascade,
        )
        .build();
    let settings = Settings::default();
    let ctx = Context::new(&cat, &settings, &[]);
    let t = Instant::now();
    let out = dbaudit_code::check(&ctx, &[root]).unwrap();
    let elapsed = t.elapsed();
    eprintln!(
        "5,000-file TypeScript tree ({} MB): {} files scanned, {} skipped, {} findings in {:.2?} (check reports {} ms), {} threads",
        bytes / 1_000_000,
        out.files_scanned,
        out.skipped.len(),
        out.findings.len(),
        elapsed,
        out.elapsed_ms,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    assert_eq!(out.files_scanned, 5000);
    // Every route filters on org_id; the status filter is conditional but not the tenant's.
    assert!(
        out.findings.is_empty(),
        "{:#?}",
        &out.findings[..out.findings.len().min(3)]
    );
}
