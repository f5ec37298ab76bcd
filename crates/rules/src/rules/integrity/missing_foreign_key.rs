//! INT002 `missing-foreign-key`: a column that names another table's key with no foreign key.

use super::{add_fk_sql, audited_table, fk_name, on_delete_for, orphan_query, target_label};
use crate::analysis::relationships::{Basis, Confidence};
use crate::rules::performance::unindexed_foreign_key::covers;
use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "INT002",
    name: "missing-foreign-key",
    category: Category::Integrity,
    default_severity: Severity::High,
    source: RuleSource::Schema,
    summary: "column that names another table's key (`<thing>_id` to `thing`/`things`, `user_id` to the users or `auth.users` table, tenant column to the tenant root) with no FK; types compatible",
    docs: r#"## What it does
Reports columns that reference another table by name but have no foreign key, when the inference
is confident and the types could hold one:

* `<thing>_id` (or `<thing>Id`) naming exactly one table `thing` / `things` with a one-column key
  (`call_logs.agent_run_id` → `agent_runs.id`);
* a column name that other tables of the schema declare as a foreign key, always to the same
  table (`usage_tracking.subscription_id`, when two other tables declare `subscription_id` →
  `company_subscriptions`);
* the one table named `*_things` when its prefix is the referencing table's own name or the
  tenant root's (`subscription_id` → `company_subscriptions`);
* `user_id`, `owner_id`, `created_by`, `author_id` → the users table (`public.users`,
  `public.profiles`), or `auth.users` when there is none.

It stays quiet on ids issued elsewhere (`stripe_customer_id`, `external_id`, `provider_*`, a text
`call_id` holding a telephony provider's id), polymorphic pairs (`owner_type` + `owner_id`),
names that match several tables, and text columns named after a uuid-keyed table (that is
`foreign-key-type-mismatch` when the evidence is strong, and often an external id when it is
not). A tenant column without a foreign key to the tenant root is `tenant-foreign-key-missing`.

## Why it matters
Without the constraint nothing stops a row from pointing at a parent that never existed or was
deleted: deleting the parent leaves the children behind, joins silently drop them, and cleanup
code has to delete in hand-written order. The constraint also documents the relationship for
every tool that reads the schema (ORMs, the Supabase client's embedded selects, ER diagrams).

## Example
```sql
create table public.call_logs (
  id uuid primary key,
  company_id uuid not null references public.companies(id) on delete cascade,
  agent_run_id uuid          -- points at agent_runs.id, no constraint
);
```

## Fix
Add the constraint `NOT VALID` (instant, checks new rows), clean the orphans the data scan finds,
then `VALIDATE` (scans without blocking writes):
```sql
alter table public.call_logs
  add constraint call_logs_agent_run_id_fkey foreign key (agent_run_id)
  references public.agent_runs (id) on delete set null not valid;
alter table public.call_logs validate constraint call_logs_agent_run_id_fkey;
```
`ON DELETE` follows the column: a nullable reference is cleared (`SET NULL`), a required one
cascades with its parent, and a reference to a shared catalogue (plans, templates) refuses the
delete. Index the column too (`unindexed-foreign-key` will ask).
"#,
};

pub struct MissingForeignKey;

impl Rule for MissingForeignKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = vec![];
        for r in ctx.relationships.inferred() {
            if r.confidence != Confidence::High || !r.types_compatible || r.from_columns.len() != 1
            {
                continue;
            }
            // A tenant column without FK to the root is tenant-foreign-key-missing's.
            if r.basis == Basis::TenantColumn && Some(r.to) == ctx.tenancy.root {
                continue;
            }
            let Some(rel) = audited_table(ctx, r.from) else {
                continue;
            };
            let Some(target) = ctx.index.relation(r.to) else {
                continue;
            };
            let col_name = &r.from_columns[0];
            let Some(col) = rel.column(col_name) else {
                continue;
            };
            let key = &r.to_columns[0];
            let (action, why_action) = on_delete_for(ctx, col, target.oid);
            let name = fk_name(&rel.name, &r.from_columns);
            let mut sql = format!(
                "-- rows pointing at no {} row make VALIDATE fail; find them first:\n-- {}\n{}",
                target.name,
                orphan_query(rel, col_name, target, key, None),
                add_fk_sql(rel, &name, &r.from_columns, target, &r.to_columns, action)
            );
            let indexed = ctx
                .index
                .indexes(rel.oid)
                .iter()
                .any(|i| covers(i, &r.from_columns));
            if !indexed {
                sql.push_str(&format!(
                    "\n-- and index it (deletes of {} rows look the column up):\n-- CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({});",
                    target.name,
                    quote_ident(&super::ident_name(&format!("{}_{col_name}", rel.name), "_idx")),
                    qualify(&rel.schema, &rel.name),
                    quote_ident(col_name)
                ));
            }
            let mut f = META
                .finding(format!(
                    "{}.{} references {} but has no foreign key",
                    rel.name,
                    col_name,
                    target_label(target, &r.to_columns)
                ))
                .table(&rel.schema, &rel.name)
                .column(col_name.clone())
                .impact(format!(
                    "{} rows can point at {} rows that do not exist, and deleting a row of {} leaves its {} rows pointing at nothing",
                    rel.name, target.name, target.name, rel.name
                ))
                .evidence("inferred_target", target_label(target, &r.to_columns))
                .evidence("why", r.evidence.clone())
                .evidence("basis", serde_json::to_value(r.basis).unwrap_or_default())
                .evidence("confidence", "high")
                .evidence("column_type", r.from_type.clone())
                .evidence("key_type", r.to_type.clone())
                .evidence("nullable", !col.not_null)
                .evidence("on_delete", format!("{} ({why_action})", action.sql()))
                .evidence("indexed", indexed)
                .fix(sql, FixSafety::Review);
            if let Some(rows) = rel.row_estimate {
                f = f.evidence("row_estimate", rows);
            }
            out.push(f);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::FkAction;

    fn base() -> CatalogBuilder {
        CatalogBuilder::supabase()
            .table(
                "public.companies",
                &["id uuid not null", "stripe_customer_id text"],
            )
            .pk("public.companies", &["id"])
            .table(
                "public.users",
                &["id uuid not null", "company_id uuid not null"],
            )
            .pk("public.users", &["id"])
            .fk(
                "public.users",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.agent_runs",
                &["id uuid not null", "company_id uuid not null"],
            )
            .pk("public.agent_runs", &["id"])
            .fk(
                "public.agent_runs",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.call_logs",
                &[
                    "id uuid not null",
                    "company_id uuid not null",
                    "agent_run_id uuid",
                    "call_id text not null",
                ],
            )
            .pk("public.call_logs", &["id"])
            .fk(
                "public.call_logs",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.voicemail_logs",
                &[
                    "id uuid not null",
                    "company_id uuid not null",
                    "call_id uuid not null",
                ],
            )
            .pk("public.voicemail_logs", &["id"])
            .fk(
                "public.voicemail_logs",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::Cascade,
            )
            .fk(
                "public.voicemail_logs",
                &["call_id"],
                "public.call_logs",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.feedback",
                &[
                    "id uuid not null",
                    "company_id uuid not null",
                    "user_id uuid not null",
                ],
            )
            .pk("public.feedback", &["id"])
            .fk(
                "public.feedback",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::Cascade,
            )
    }

    #[test]
    fn reference_without_fk_is_reported() {
        let f = run(&MissingForeignKey, &base().build());
        let run_id = f
            .iter()
            .find(|f| f.column.as_deref() == Some("agent_run_id"))
            .expect("agent_run_id");
        assert_eq!(run_id.severity, Severity::High);
        assert_eq!(run_id.evidence["inferred_target"], "public.agent_runs(id)");
        let sql = &run_id.fix.as_ref().unwrap().sql;
        assert!(sql.contains("ON DELETE SET NULL NOT VALID"), "{sql}");
        assert!(sql.contains("VALIDATE CONSTRAINT call_logs_agent_run_id_fkey"));
        insta::assert_json_snapshot!(run_id);

        let user = f
            .iter()
            .find(|f| f.column.as_deref() == Some("user_id"))
            .expect("user_id");
        assert_eq!(user.evidence["inferred_target"], "public.users(id)");
        assert!(user.fix.as_ref().unwrap().sql.contains("ON DELETE CASCADE"));
    }

    #[test]
    fn external_ids_and_declared_fks_are_not_reported() {
        let f = run(&MissingForeignKey, &base().build());
        let cols: Vec<_> = f.iter().filter_map(|f| f.column.as_deref()).collect();
        assert!(!cols.contains(&"call_id"), "{cols:?}");
        assert!(!cols.contains(&"stripe_customer_id"));
        assert!(!cols.contains(&"company_id"));
        assert_eq!(f.len(), 2, "{cols:?}");
    }

    #[test]
    fn tenant_column_without_fk_is_left_to_int006() {
        let cat = base()
            .table(
                "public.atomic",
                &["id uuid not null", "company_id uuid not null"],
            )
            .pk("public.atomic", &["id"])
            .build();
        let f = run(&MissingForeignKey, &cat);
        assert!(f.iter().all(|f| f.table.as_deref() != Some("atomic")));
    }

    #[test]
    fn type_mismatch_is_not_a_missing_fk() {
        let cat = base()
            .table("public.x", &["id uuid not null", "agent_run_id text"])
            .pk("public.x", &["id"])
            .build();
        let f = run(&MissingForeignKey, &cat);
        assert!(f.iter().all(|f| f.table.as_deref() != Some("x")));
    }

    #[test]
    fn catalogue_target_gets_no_cascade() {
        let cat = base()
            .table("public.plans", &["id uuid not null"])
            .pk("public.plans", &["id"])
            .table(
                "public.subs",
                &[
                    "id uuid not null",
                    "company_id uuid not null",
                    "plan_id uuid not null",
                ],
            )
            .pk("public.subs", &["id"])
            .fk(
                "public.subs",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::Cascade,
            )
            .build();
        let f = run(&MissingForeignKey, &cat);
        let plan = f
            .iter()
            .find(|f| f.column.as_deref() == Some("plan_id"))
            .unwrap();
        let sql = &plan.fix.as_ref().unwrap().sql;
        assert!(!sql.contains("ON DELETE"), "{sql}");
        assert!(plan.evidence["on_delete"]
            .as_str()
            .unwrap()
            .contains("catalogue"));
    }

    #[test]
    fn managed_schemas_are_not_reported() {
        let cat = CatalogBuilder::supabase()
            .table(
                "auth.sessions",
                &["id uuid not null", "user_id uuid not null"],
            )
            .pk("auth.sessions", &["id"])
            .build();
        assert!(run(&MissingForeignKey, &cat).is_empty());
    }
}
