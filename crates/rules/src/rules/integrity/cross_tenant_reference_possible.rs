//! INT010 `cross-tenant-reference-possible`: a foreign key between two tenant tables that does
//! not include the tenant column.

use super::{audited_table, ident_name};
use crate::analysis::tenancy::Scope;
use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Constraint, FkAction, PolicyCommand, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "INT010",
    name: "cross-tenant-reference-possible",
    category: Category::Integrity,
    default_severity: Severity::Low,
    source: RuleSource::Schema,
    summary: "FK between two tenant-scoped tables that does not include the tenant column, so a row can point at another tenant's row",
    docs: r#"## What it does
Finds foreign keys from one table carrying the tenant column to another table carrying it (the
tenant root itself excluded) whose columns do not pair the two tenant columns:
`call_logs.contact_id → contacts.id` rather than
`(company_id, contact_id) → contacts (company_id, id)`.

Reported `low` when an API role can write the referencing table (a grant plus, with RLS on, an
INSERT or UPDATE policy), `info` otherwise (only the backend writes it, and a bug there is what
the constraint would catch).

## Why it matters
The foreign key checks that the parent exists, not that it belongs to the same tenant. A row of
tenant A can point at tenant B's contact: a crafted API request, or a backend bug that takes the
id from the request, is enough. Joins then show B's data in A's screens, and deleting B's contact
changes A's rows. A composite foreign key makes the database refuse it.

## Example
```sql
create table public.call_logs (
  id uuid primary key,
  company_id uuid not null references public.companies(id) on delete cascade,
  contact_id uuid references public.contacts(id) on delete set null   -- any company's contact
);
```

## Fix
Give the parent a unique key on `(tenant, id)` and reference it with both columns:
```sql
create unique index concurrently contacts_company_id_id_key on public.contacts (company_id, id);
alter table public.contacts add constraint contacts_company_id_id_key
  unique using index contacts_company_id_id_key;
alter table public.call_logs
  drop constraint call_logs_contact_id_fkey,
  add constraint call_logs_contact_id_fkey foreign key (company_id, contact_id)
    references public.contacts (company_id, id) on delete set null (contact_id) not valid;
alter table public.call_logs validate constraint call_logs_contact_id_fkey;
```
`SET NULL (column)` needs PostgreSQL 15; before it, a composite `SET NULL` would clear the tenant
column too.
"#,
};

pub struct CrossTenantReferencePossible;

impl Rule for CrossTenantReferencePossible {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(root) = ctx.tenancy.root else {
            return vec![];
        };
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            let Some(rel) = audited_table(ctx, rel.oid) else {
                continue;
            };
            let Some(Scope::Direct { column: tenant }) = ctx.tenancy.scope(rel.oid) else {
                continue;
            };
            for fk in ctx.index.foreign_keys(rel.oid) {
                let Some(k) = &fk.foreign_key else { continue };
                if k.ref_table == root || k.ref_table == rel.oid {
                    continue;
                }
                let Some(parent_tenant) = ctx.tenancy.tenant_column(k.ref_table) else {
                    continue;
                };
                let paired = fk
                    .columns
                    .iter()
                    .zip(&k.ref_columns)
                    .any(|(a, b)| a == tenant && b == parent_tenant);
                if paired || fk.columns.iter().any(|c| c == tenant) {
                    continue;
                }
                let Some(parent) = ctx.index.relation(k.ref_table) else {
                    continue;
                };
                out.extend(finding(ctx, rel, tenant, fk, parent, parent_tenant));
            }
        }
        out
    }
}

/// An API role can insert or update rows of `rel` (grant, and a policy when RLS is on).
fn api_writable(ctx: &Context<'_>, rel: &Relation) -> bool {
    let exposure = ctx.exposure.of(rel.oid);
    let grants = exposure
        .privileges()
        .iter()
        .any(|p| p == "INSERT" || p == "UPDATE");
    if !grants {
        return false;
    }
    if !rel.rls_enabled {
        return true;
    }
    ctx.index.policies(rel.oid).iter().any(|p| {
        matches!(
            p.command,
            PolicyCommand::All | PolicyCommand::Insert | PolicyCommand::Update
        ) && p
            .roles
            .iter()
            .any(|r| r == "PUBLIC" || ctx.exposure.api_roles.iter().any(|a| a == r))
    })
}

fn finding(
    ctx: &Context<'_>,
    rel: &Relation,
    tenant: &str,
    fk: &Constraint,
    parent: &Relation,
    parent_tenant: &str,
) -> Option<Finding> {
    let k = fk.foreign_key.as_ref()?;
    let table = qualify(&rel.schema, &rel.name);
    let ptable = qualify(&parent.schema, &parent.name);
    let cols = fk.columns.join(", ");
    let q = |c: &String| quote_ident(c);
    // The parent's (tenant, key) unique key, unless an index already provides it.
    let mut wanted: Vec<String> = vec![parent_tenant.to_string()];
    wanted.extend(k.ref_columns.iter().cloned());
    let has_key = ctx.index.indexes(parent.oid).iter().any(|i| {
        i.unique
            && i.valid
            && i.predicate.is_none()
            && i.key_columns.len() == wanted.len()
            && wanted.iter().all(|w| {
                i.key_columns
                    .iter()
                    .any(|c| c.as_deref() == Some(w.as_str()))
            })
    });
    let key_name = ident_name(&format!("{}_{}", parent.name, wanted.join("_")), "_key");
    let mut sql = String::new();
    if !has_key {
        sql.push_str(&format!(
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {kn} ON {ptable} ({});\n\
             ALTER TABLE {ptable} ADD CONSTRAINT {kn} UNIQUE USING INDEX {kn};\n",
            wanted.iter().map(q).collect::<Vec<_>>().join(", "),
            kn = quote_ident(&key_name)
        ));
    }
    let mut from = vec![tenant.to_string()];
    from.extend(fk.columns.iter().cloned());
    let on_delete = match k.on_delete {
        FkAction::SetNull | FkAction::SetDefault if ctx.catalog.server_version_num >= 150000 => {
            format!(
                " ON DELETE {} ({})",
                k.on_delete.sql(),
                fk.columns.iter().map(q).collect::<Vec<_>>().join(", ")
            )
        }
        FkAction::SetNull | FkAction::SetDefault => {
            sql.push_str(&format!(
                "-- PostgreSQL < 15 cannot SET NULL only ({cols}); a composite SET NULL would clear {tenant} too. Use NO ACTION and clear {cols} before deleting, or upgrade.\n"
            ));
            String::new()
        }
        FkAction::NoAction => String::new(),
        other => format!(" ON DELETE {}", other.sql()),
    };
    let name = quote_ident(&fk.name);
    sql.push_str(&format!(
        "ALTER TABLE {table}\n  DROP CONSTRAINT {name},\n  ADD CONSTRAINT {name} FOREIGN KEY ({}) REFERENCES {ptable} ({}){on_delete} NOT VALID;\n\
         ALTER TABLE {table} VALIDATE CONSTRAINT {name};",
        from.iter().map(q).collect::<Vec<_>>().join(", "),
        wanted.iter().map(q).collect::<Vec<_>>().join(", "),
    ));
    let writable = api_writable(ctx, rel);
    let mut f = META
        .finding(format!(
            "{}.{cols} → {}.{} does not include {tenant}: rows of {} can point at another tenant's {} rows",
            rel.name,
            parent.name,
            k.ref_columns.join(", "),
            rel.name,
            parent.name
        ))
        .table(&rel.schema, &rel.name)
        .column(cols.clone())
        .impact(format!(
            "nothing stops a {} row of one tenant from referencing a {} row of another: joins \
             show the other tenant's data and its deletes change this tenant's rows",
            rel.name, parent.name
        ))
        .evidence("constraint", fk.name.clone())
        .evidence("tenant_column", tenant)
        .evidence("parent_tenant_column", format!("{}.{parent_tenant}", parent.qualified()))
        .evidence("api_writable", writable)
        .fix(sql, FixSafety::Review);
    if !writable {
        f = f.severity(Severity::Info);
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    fn base() -> CatalogBuilder {
        CatalogBuilder::supabase()
            .table("public.companies", &["id uuid not null"])
            .pk("public.companies", &["id"])
            .table(
                "public.contacts",
                &["id uuid not null", "company_id uuid not null"],
            )
            .pk("public.contacts", &["id"])
            .fk(
                "public.contacts",
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
                    "contact_id uuid",
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
    }

    #[test]
    fn single_column_fk_between_tenant_tables_is_reported() {
        let cat = base()
            .fk(
                "public.call_logs",
                &["contact_id"],
                "public.contacts",
                &["id"],
                FkAction::SetNull,
            )
            .supabase_grants("public.call_logs")
            .rls("public.call_logs", true)
            .policy(
                "public.call_logs",
                "company access",
                PolicyCommand::All,
                &["authenticated"],
                Some("(company_id = current_company_id())"),
                Some("(company_id = current_company_id())"),
            )
            .build();
        let f = run(&CrossTenantReferencePossible, &cat);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Low);
        let sql = &f[0].fix.as_ref().unwrap().sql;
        assert!(sql.contains("ON public.contacts (company_id, id)"), "{sql}");
        assert!(sql.contains("FOREIGN KEY (company_id, contact_id) REFERENCES public.contacts (company_id, id) ON DELETE SET NULL (contact_id) NOT VALID"), "{sql}");
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn read_only_through_the_api_is_info() {
        let cat = base()
            .fk(
                "public.call_logs",
                &["contact_id"],
                "public.contacts",
                &["id"],
                FkAction::SetNull,
            )
            .supabase_grants("public.call_logs")
            .rls("public.call_logs", true)
            .policy(
                "public.call_logs",
                "read",
                PolicyCommand::Select,
                &["authenticated"],
                Some("true"),
                None,
            )
            .build();
        let f = run(&CrossTenantReferencePossible, &cat);
        assert_eq!(f[0].severity, Severity::Info);
    }

    #[test]
    fn composite_fk_with_tenant_and_references_to_root_or_global_are_fine() {
        let cat = base()
            .unique("public.contacts", &["company_id", "id"])
            .fk(
                "public.call_logs",
                &["company_id", "contact_id"],
                "public.contacts",
                &["company_id", "id"],
                FkAction::NoAction,
            )
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
            .fk(
                "public.subs",
                &["plan_id"],
                "public.plans",
                &["id"],
                FkAction::NoAction,
            )
            .build();
        assert!(run(&CrossTenantReferencePossible, &cat).is_empty());
    }

    #[test]
    fn child_without_tenant_column_is_not_reported() {
        let cat = base()
            .table(
                "public.messages",
                &["id uuid not null", "contact_id uuid not null"],
            )
            .pk("public.messages", &["id"])
            .fk(
                "public.messages",
                &["contact_id"],
                "public.contacts",
                &["id"],
                FkAction::Cascade,
            )
            .build();
        assert!(run(&CrossTenantReferencePossible, &cat).is_empty());
    }
}
