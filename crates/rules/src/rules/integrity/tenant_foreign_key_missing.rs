//! INT006 `tenant-foreign-key-missing`: a tenant column with no foreign key to the tenant root.

use super::foreign_key_type_mismatch::conversion;
use super::{add_fk_sql, audited_table, fk_name, orphan_query, usual_on_delete};
use crate::analysis::relationships::{base_type, key_column, singular, types_compatible};
use crate::analysis::tenancy::Scope;
use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{FkAction, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "INT006",
    name: "tenant-foreign-key-missing",
    category: Category::Integrity,
    default_severity: Severity::High,
    source: RuleSource::Schema,
    summary: "tenant column with no FK to the tenant root",
    docs: r#"## What it does
For every table that carries the tenant column, reports the column when no foreign key covers it:
neither one to the tenant root (`org_id` → `organizations.id`) nor a composite one to a parent
that carries the tenant (`(org_id, appointment_id)` → `appointments (org_id, id)`). When the
column's type cannot hold the key (text against uuid), the fix converts it first.

## Why it matters
The tenant column is what every policy and every backend query filters on. Without the
constraint it accepts any value: a typo or a deleted organization's id makes rows that belong to
no tenant (or to the wrong one), and deleting the tenant leaves them behind, since no cascade
reaches them. That is how "deleted" customers' data survives in production.

## Example
```sql
create table public.atomic_appointments (
  id uuid primary key,
  org_id uuid not null,        -- no references public.organizations(id)
  payload jsonb not null
);
```

## Fix
```sql
alter table public.atomic_appointments
  add constraint atomic_appointments_org_id_fkey foreign key (org_id)
  references public.organizations (id) on delete cascade not valid;
alter table public.atomic_appointments validate constraint atomic_appointments_org_id_fkey;
```
Delete or reassign the orphans first (the data scan's `orphan-rows` lists them), or `VALIDATE`
fails. `ON DELETE` follows what the project's other references to the root do, `CASCADE` when
they disagree.
"#,
};

pub struct TenantForeignKeyMissing;

impl Rule for TenantForeignKeyMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(root) = ctx.tenancy.root.and_then(|r| ctx.index.relation(r)) else {
            return vec![];
        };
        let Some(key) = key_column(&ctx.index, root) else {
            return vec![];
        };
        let mut out = vec![];
        for (oid, scope) in &ctx.tenancy.scopes {
            let Scope::Direct { column } = scope else {
                continue;
            };
            let Some(rel) = audited_table(ctx, *oid) else {
                continue;
            };
            let covered = ctx
                .index
                .foreign_keys(rel.oid)
                .any(|fk| fk.columns.iter().any(|c| c == column));
            if covered {
                continue;
            }
            out.extend(finding(ctx, rel, column, root, key));
        }
        out.sort_by(|a, b| a.table.cmp(&b.table));
        out
    }
}

fn finding(
    ctx: &Context<'_>,
    rel: &Relation,
    column: &str,
    root: &Relation,
    key: &dbaudit_catalog::Column,
) -> Option<Finding> {
    let col = rel.column(column)?;
    let table = qualify(&rel.schema, &rel.name);
    let cols = vec![column.to_string()];
    let key_cols = vec![key.name.clone()];
    // ON DELETE: what the project's other references to the root do, CASCADE by default.
    let (action, why_action) = match usual_on_delete(ctx, root.oid) {
        Some((a, n, total))
            if matches!(a, FkAction::Cascade | FkAction::SetNull) && n * 2 > total =>
        {
            (
                a,
                format!(
                    "{n} of the {total} foreign keys to {} do the same",
                    root.name
                ),
            )
        }
        _ => (
            FkAction::Cascade,
            format!("tenant data goes with its {}", root.name),
        ),
    };
    let action = if action == FkAction::SetNull && col.not_null {
        FkAction::Cascade
    } else {
        action
    };
    let compatible = types_compatible(col, key);
    let mut sql = String::new();
    if !compatible {
        sql.push_str(&format!(
            "-- {column} is {}, {}.{} is {}: convert it first (fails on values that do not convert)\n\
             ALTER TABLE {table} ALTER COLUMN {} TYPE {} USING {};\n",
            col.type_name,
            root.name,
            key.name,
            key.type_name,
            quote_ident(column),
            base_type(key),
            conversion(col, key)
        ));
    }
    sql.push_str(&format!(
        "-- rows naming no {} make VALIDATE fail; find them first:\n-- {}\n{}",
        singular(&root.name),
        orphan_query(rel, column, root, &key.name, None),
        add_fk_sql(
            rel,
            &fk_name(&rel.name, &cols),
            &cols,
            root,
            &key_cols,
            action
        )
    ));
    let mut message = format!(
        "tenant column {}.{column} has no foreign key to {}",
        rel.qualified(),
        root.qualified()
    );
    if !compatible {
        message.push_str(&format!(
            " (and is {}, not {})",
            col.type_name, key.type_name
        ));
    }
    let mut f = META
        .finding(message)
        .table(&rel.schema, &rel.name)
        .column(column)
        .impact(format!(
            "{} rows can name {} that does not exist, and deleting {} leaves them behind",
            rel.name,
            super::with_article(&singular(&root.name)),
            super::with_article(&singular(&root.name))
        ))
        .evidence("tenant_column", column)
        .evidence("tenant_root", format!("{}({})", root.qualified(), key.name))
        .evidence("root_evidence", ctx.tenancy.root_evidence.clone())
        .evidence("column_type", col.type_name.clone())
        .evidence("key_type", key.type_name.clone())
        .evidence("types_compatible", compatible)
        .evidence("on_delete", format!("{} ({why_action})", action.sql()))
        .fix(sql, FixSafety::Review);
    if let Some(rows) = rel.row_estimate {
        f = f.evidence("row_estimate", rows);
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    fn base() -> CatalogBuilder {
        let mut b = CatalogBuilder::supabase()
            .table("public.organizations", &["id uuid not null"])
            .pk("public.organizations", &["id"]);
        for t in ["agents", "contacts", "appointments"] {
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
        b
    }

    #[test]
    fn tenant_column_without_fk_is_reported() {
        let cat = base()
            .table(
                "public.atomic_appointments",
                &["id uuid not null", "org_id uuid not null"],
            )
            .pk("public.atomic_appointments", &["id"])
            .build();
        let f = run(&TenantForeignKeyMissing, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].table.as_deref(), Some("atomic_appointments"));
        let sql = &f[0].fix.as_ref().unwrap().sql;
        assert!(
            sql.contains("REFERENCES public.organizations (id) ON DELETE CASCADE NOT VALID"),
            "{sql}"
        );
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn text_tenant_column_is_converted_first() {
        let cat = base()
            .table(
                "public.imports",
                &["id uuid not null", "org_id text not null"],
            )
            .pk("public.imports", &["id"])
            .build();
        let f = run(&TenantForeignKeyMissing, &cat);
        assert_eq!(f.len(), 1);
        let sql = &f[0].fix.as_ref().unwrap().sql;
        assert!(
            sql.contains("TYPE uuid USING NULLIF(btrim(org_id), '')::uuid"),
            "{sql}"
        );
        assert!(f[0].message.contains("(and is text, not uuid)"));
    }

    #[test]
    fn declared_and_composite_fks_are_fine() {
        let cat = base()
            .unique("public.appointments", &["org_id", "id"])
            .table(
                "public.holds",
                &[
                    "id uuid not null",
                    "org_id uuid not null",
                    "appointment_id uuid not null",
                ],
            )
            .pk("public.holds", &["id"])
            .fk(
                "public.holds",
                &["org_id", "appointment_id"],
                "public.appointments",
                &["org_id", "id"],
                FkAction::Cascade,
            )
            .build();
        assert!(run(&TenantForeignKeyMissing, &cat).is_empty());
    }

    #[test]
    fn no_tenants_no_findings() {
        let cat = CatalogBuilder::new()
            .table(
                "public.posts",
                &["id uuid not null", "org_id uuid not null"],
            )
            .pk("public.posts", &["id"])
            .build();
        assert!(run(&TenantForeignKeyMissing, &cat).is_empty());
    }
}
