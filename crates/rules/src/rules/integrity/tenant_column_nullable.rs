//! INT005 `tenant-column-nullable`: a tenant column that allows NULL.

use super::{audited_table, ident_name};
use crate::analysis::tenancy::Scope;
use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::Relation;
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "INT005",
    name: "tenant-column-nullable",
    category: Category::Integrity,
    default_severity: Severity::High,
    source: RuleSource::Schema,
    summary: "tenant column allows NULL",
    docs: r#"## What it does
For every table that carries the tenant column (`org_id`, `company_id`, ... as detected or set in
`dbaudit.toml`), reports the column when it allows NULL.

Two cases stay quiet: the users table (a user may sign up before joining a tenant), and tables
whose policies test the column for NULL (`org_id is null or org_id = ...`), where NULL
deliberately marks a row shared by every tenant.

## Why it matters
A row with no tenant belongs to nobody: tenant policies (`org_id = <caller's org>`) never match
it, so it is invisible to every user yet still counted, billed, exported by backend jobs that
bypass RLS, and never deleted with its tenant. It is usually the sign of an insert path that
forgot the tenant, which the constraint would have caught.

## Example
```sql
create table public.cold_call_logs (
  id uuid primary key,
  org_id uuid references public.organizations(id) on delete cascade,   -- nullable
  outcome text
);
```

## Fix
Assign or delete the rows with no tenant (the data scan's `null-tenant-rows` counts them), then
set NOT NULL without a long exclusive lock, through a validated CHECK:
```sql
alter table public.cold_call_logs add constraint cold_call_logs_org_id_not_null
  check (org_id is not null) not valid;
alter table public.cold_call_logs validate constraint cold_call_logs_org_id_not_null;
alter table public.cold_call_logs alter column org_id set not null;  -- uses the CHECK, no scan
alter table public.cold_call_logs drop constraint cold_call_logs_org_id_not_null;
```
"#,
};

pub struct TenantColumnNullable;

impl Rule for TenantColumnNullable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(root) = ctx.tenancy.root.and_then(|r| ctx.index.relation(r)) else {
            return vec![];
        };
        let mut out = vec![];
        for (oid, scope) in &ctx.tenancy.scopes {
            let Scope::Direct { column } = scope else {
                continue;
            };
            if Some(*oid) == ctx.tenancy.users_table {
                continue;
            }
            let Some(rel) = audited_table(ctx, *oid) else {
                continue;
            };
            let Some(col) = rel.column(column) else {
                continue;
            };
            if col.not_null || null_means_shared(ctx, rel, column) {
                continue;
            }
            out.push(finding(ctx, rel, column, root));
        }
        out.sort_by(|a, b| a.table.cmp(&b.table));
        out
    }
}

/// A policy tests the column for NULL: NULL marks rows shared by every tenant on purpose.
fn null_means_shared(ctx: &Context<'_>, rel: &Relation, column: &str) -> bool {
    let needle = format!("{} is null", column.to_ascii_lowercase());
    let quoted = format!("\"{}\" is null", column.to_ascii_lowercase());
    ctx.index.policies(rel.oid).iter().any(|p| {
        [p.using.as_deref(), p.with_check.as_deref()]
            .into_iter()
            .flatten()
            .map(|t| t.to_ascii_lowercase())
            .any(|t| {
                t.match_indices(&needle).any(|(i, _)| {
                    i == 0 || !t[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                }) || t.contains(&quoted)
            })
    })
}

fn finding(ctx: &Context<'_>, rel: &Relation, column: &str, root: &Relation) -> Finding {
    let table = qualify(&rel.schema, &rel.name);
    let c = quote_ident(column);
    let check = ident_name(&format!("{}_{column}", rel.name), "_not_null");
    let q = quote_ident(&check);
    let sql = format!(
        "-- rows without a tenant must be assigned or deleted first:\n\
         -- SELECT count(*) FROM {table} WHERE {c} IS NULL;\n\
         ALTER TABLE {table} ADD CONSTRAINT {q} CHECK ({c} IS NOT NULL) NOT VALID;\n\
         ALTER TABLE {table} VALIDATE CONSTRAINT {q};\n\
         ALTER TABLE {table} ALTER COLUMN {c} SET NOT NULL;\n\
         ALTER TABLE {table} DROP CONSTRAINT {q};"
    );
    let policies = ctx.index.policies(rel.oid).len();
    let mut f = META
        .finding(format!(
            "tenant column {}.{column} allows NULL",
            rel.qualified()
        ))
        .table(&rel.schema, &rel.name)
        .column(column)
        .impact(format!(
            "a row without {column} belongs to no {}: tenant policies never match it, it is not \
             deleted with its tenant, and backend jobs that bypass RLS still see it",
            crate::analysis::relationships::singular(&root.name)
        ))
        .evidence("tenant_column", column)
        .evidence("tenant_root", root.qualified())
        .evidence("not_null", false)
        .evidence("policies", policies)
        .fix(sql, FixSafety::Review);
    if let Some(rows) = rel.row_estimate {
        f = f.evidence("row_estimate", rows);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::{FkAction, PolicyCommand};

    fn base() -> CatalogBuilder {
        let mut b = CatalogBuilder::supabase()
            .table("public.organizations", &["id uuid not null"])
            .pk("public.organizations", &["id"]);
        for t in ["agents", "contacts", "campaigns"] {
            let q = format!("public.{t}");
            b = b
                .table(&q, &["id uuid not null", "org_id uuid not null"])
                .pk(&q, &["id"])
                .fk(
                    &q,
                    &["org_id"],
                    "public.organizations",
                    &["id"],
                    FkAction::Cascade,
                );
        }
        b.table(
            "public.cold_call_logs",
            &["id uuid not null", "org_id uuid"],
        )
        .pk("public.cold_call_logs", &["id"])
        .fk(
            "public.cold_call_logs",
            &["org_id"],
            "public.organizations",
            &["id"],
            FkAction::Cascade,
        )
    }

    #[test]
    fn nullable_tenant_column_is_reported() {
        let f = run(&TenantColumnNullable, &base().build());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].table.as_deref(), Some("cold_call_logs"));
        assert_eq!(f[0].column.as_deref(), Some("org_id"));
        assert!(f[0].fix.as_ref().unwrap().sql.contains("SET NOT NULL"));
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn null_as_shared_row_is_deliberate() {
        let cat = base()
            .policy(
                "public.cold_call_logs",
                "shared or own",
                PolicyCommand::Select,
                &["authenticated"],
                Some("((org_id IS NULL) OR (org_id = current_org()))"),
                None,
            )
            .build();
        assert!(run(&TenantColumnNullable, &cat).is_empty());
    }

    #[test]
    fn users_table_may_lack_a_tenant() {
        let cat = base()
            .with(|c| {
                let r = c
                    .relations
                    .iter_mut()
                    .find(|r| r.name == "cold_call_logs")
                    .unwrap();
                r.name = "users".into();
            })
            .build();
        assert!(run(&TenantColumnNullable, &cat).is_empty());
    }

    #[test]
    fn no_root_no_finding() {
        let cat = CatalogBuilder::new()
            .table("public.posts", &["id uuid not null", "org_id uuid"])
            .build();
        assert!(run(&TenantColumnNullable, &cat).is_empty());
    }
}
