//! `dbaudit demo`: a small bundled Supabase project with planted defects, written to a temporary
//! folder, built in a throwaway PostgreSQL and audited like any other project.

use anyhow::{Context, Result};
use std::path::Path;

/// (path inside the project, contents)
pub const FILES: &[(&str, &str)] = &[
    (
        "supabase/migrations/20260101000000_init.sql",
        include_str!("../demo/supabase/migrations/20260101000000_init.sql"),
    ),
    (
        "supabase/migrations/20260115000000_audit_log.sql",
        include_str!("../demo/supabase/migrations/20260115000000_audit_log.sql"),
    ),
    (
        "supabase/migrations/20260201000000_webhooks.sql",
        include_str!("../demo/supabase/migrations/20260201000000_webhooks.sql"),
    ),
    (
        "supabase/migrations/20260210000000_due_date_index.sql",
        include_str!("../demo/supabase/migrations/20260210000000_due_date_index.sql"),
    ),
    (
        "supabase/seed.sql",
        include_str!("../demo/supabase/seed.sql"),
    ),
];

/// Write the demo project under `dir`.
pub fn write_project(dir: &Path) -> Result<()> {
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
