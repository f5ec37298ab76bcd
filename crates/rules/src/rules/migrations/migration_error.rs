//! MIG001 `migration-error`: a migration file that failed to apply.

use crate::{Context, Rule};
use dbaudit_findings::{Category, Finding, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "MIG001",
    name: "migration-error",
    category: Category::Migrations,
    default_severity: Severity::High,
    source: RuleSource::Apply,
    summary: "a migration file failed to apply: file, line, statement, Postgres error and SQLSTATE",
    docs: r#"## What it does
Applies every migration file in the order the project's migration tool would, each in its own
transaction, on a throwaway PostgreSQL. A file that fails is rolled back and reported with the
file, the line and text of the failing statement, Postgres's message and its SQLSTATE; the
following files still run, so one error does not hide the rest of the audit.

## Why it matters
A migration that fails on a fresh database means the migrations folder no longer describes the
production schema: production was patched by hand, or the file was edited after it ran there.
New environments (preview branches, CI, disaster recovery) cannot be built from the repository,
and everything else in the failing file was never applied here either.

## Example
```sql
-- notifications.id is a uuid, so this sequence never existed:
grant usage on sequence public.notifications_id_seq to authenticated;
-- ERROR 42P01: relation "public.notifications_id_seq" does not exist
```

## Fix
Make the file apply on an empty database: remove or correct the statement, or guard it
(`DO $$ BEGIN IF EXISTS (...) THEN ... END IF; END $$;`). If production already has the change,
add a new migration that reproduces it instead of editing history.
"#,
};

pub struct MigrationError;

impl Rule for MigrationError {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        ctx.migration_failures
            .iter()
            .map(|m| {
                let at = m.line.map(|l| format!(" at line {l}")).unwrap_or_default();
                let mut f = META
                    .finding(format!(
                        "{} failed{at}: {} (SQLSTATE {})",
                        m.file, m.message, m.sqlstate
                    ))
                    .file(m.file.clone(), m.line)
                    .impact(
                        "the rest of this file was rolled back: the database built from the \
                         migrations differs from what they describe, and new environments \
                         cannot be built from the repository",
                    )
                    .evidence("statement", m.statement.clone())
                    .evidence("sqlstate", m.sqlstate.clone())
                    .evidence("error", m.message.clone());
                if let Some(d) = &m.detail {
                    f = f.evidence("detail", d.clone());
                }
                if let Some(h) = &m.hint {
                    f = f.evidence("hint", h.clone());
                }
                f
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run_with;
    use crate::{MigrationFailure, Settings};
    use dbaudit_catalog::builder::CatalogBuilder;

    #[test]
    fn each_failure_is_a_finding() {
        let failure = MigrationFailure {
            file: "supabase/migrations/20260226000000_grant_sequences.sql".into(),
            line: Some(2),
            statement: "grant usage on sequence public.notifications_id_seq to authenticated"
                .into(),
            sqlstate: "42P01".into(),
            message: "relation \"public.notifications_id_seq\" does not exist".into(),
            detail: None,
            hint: None,
        };
        let cat = CatalogBuilder::new().build();
        let f = run_with(&MigrationError, &cat, &Settings::default(), &[failure]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, Some(2));
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn no_failures_no_findings() {
        let cat = CatalogBuilder::new().build();
        assert!(run_with(&MigrationError, &cat, &Settings::default(), &[]).is_empty());
    }
}
