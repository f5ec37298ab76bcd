//! INT003 `foreign-key-type-mismatch`: a referencing column whose type differs from the key's.

use super::{add_fk_sql, audited_table, fk_name, on_delete_for, orphan_query, target_label};
use crate::analysis::relationships::{base_type, type_family, Basis, Confidence, TypeFamily};
use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Column, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "INT003",
    name: "foreign-key-type-mismatch",
    category: Category::Integrity,
    default_severity: Severity::High,
    source: RuleSource::Schema,
    summary: "referencing column's type differs from the referenced key's (text vs uuid: no FK can exist; int vs bigint: FK exists but overflows)",
    docs: r#"## What it does
Two cases:

* **No foreign key can exist.** A column confidently inferred to reference another table's key
  (see `missing-foreign-key`: named after the table, or the one `*_things` table carrying the
  referencing table's own name, as `contacts.list_id` → `contact_lists`) whose type cannot be
  compared with the key's: `text` against `uuid`, `integer` against `uuid`. Reported `high`.
* **The foreign key exists but the column is narrower than the key.** A declared foreign key
  from an `integer` (or `smallint`) column to a `bigint` key. Reported `moderate`: it works until
  the parent's ids pass 2,147,483,647, then every insert of a child fails.

A text column merely named after a uuid-keyed table (`video_id text` next to `videos`) is not
reported: it holds an external id as often as a mistyped reference. Tenant columns are left to
`tenant-foreign-key-missing`, which includes the conversion in its fix.

## Why it matters
A reference stored as text cannot carry a foreign key: nothing stops typos, deleted parents or
another tenant's ids, joins need casts that defeat indexes, and a malformed value only fails
when some query casts it. A narrower column is a time bomb on a growing table.

## Example
```sql
create table public.contact_lists (id uuid primary key default gen_random_uuid());
create table public.contacts (
  id uuid primary key,
  list_id text            -- holds contact_lists.id as text
);
```

## Fix
Convert the column (after checking every value converts, see the data scan's `check-violations`),
then add the foreign key:
```sql
alter table public.contacts alter column list_id type uuid using nullif(list_id, '')::uuid;
alter table public.contacts
  add constraint contacts_list_id_fkey foreign key (list_id)
  references public.contact_lists (id) on delete set null not valid;
alter table public.contacts validate constraint contacts_list_id_fkey;
```
`ALTER COLUMN ... TYPE` rewrites the table under an exclusive lock: schedule it.
"#,
};

pub struct ForeignKeyTypeMismatch;

impl Rule for ForeignKeyTypeMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = vec![];
        // Inferred references whose types cannot hold a foreign key.
        for r in ctx.relationships.inferred() {
            if r.confidence != Confidence::High || r.types_compatible || r.from_columns.len() != 1 {
                continue;
            }
            if r.basis == Basis::TenantColumn && Some(r.to) == ctx.tenancy.root {
                continue;
            }
            let Some(rel) = audited_table(ctx, r.from) else {
                continue;
            };
            let Some(target) = ctx.index.relation(r.to) else {
                continue;
            };
            let (Some(col), Some(key)) = (
                rel.column(&r.from_columns[0]),
                target.column(&r.to_columns[0]),
            ) else {
                continue;
            };
            out.push(inferred_finding(ctx, rel, col, target, key, &r.evidence));
        }
        // Declared foreign keys from a narrower integer column.
        for rel in ctx.audited_relations() {
            if !rel.kind.is_table() || rel.partition_of.is_some() {
                continue;
            }
            for fk in ctx.index.foreign_keys(rel.oid) {
                let Some(k) = &fk.foreign_key else { continue };
                let Some(target) = ctx.index.relation(k.ref_table) else {
                    continue;
                };
                for (c, kc) in fk.columns.iter().zip(&k.ref_columns) {
                    let (Some(col), Some(key)) = (rel.column(c), target.column(kc)) else {
                        continue;
                    };
                    if let (TypeFamily::Int(a), TypeFamily::Int(b)) =
                        (type_family(col), type_family(key))
                    {
                        if a < b {
                            out.push(narrow_finding(rel, col, target, key, &fk.name));
                        }
                    }
                }
            }
        }
        out
    }
}

/// `USING` expression converting `col` to the key's type.
pub(crate) fn conversion(col: &Column, key: &Column) -> String {
    let c = quote_ident(&col.name);
    let to = base_type(key);
    match type_family(col) {
        TypeFamily::Str => format!("NULLIF(btrim({c}), '')::{to}"),
        _ => format!("{c}::{to}"),
    }
}

fn inferred_finding(
    ctx: &Context<'_>,
    rel: &Relation,
    col: &Column,
    target: &Relation,
    key: &Column,
    why: &str,
) -> Finding {
    let table = qualify(&rel.schema, &rel.name);
    let to = base_type(key);
    let cols = vec![col.name.clone()];
    let key_cols = vec![key.name.clone()];
    let (action, why_action) = on_delete_for(ctx, col, target.oid);
    let name = fk_name(&rel.name, &cols);
    let check = match type_family(key) {
        TypeFamily::Uuid => format!(
            "-- values that are not uuids make the conversion fail; find them first:\n-- SELECT {c}, count(*) FROM {table} WHERE {c} IS NOT NULL AND {c}::text !~* '^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$' GROUP BY 1;\n",
            c = quote_ident(&col.name)
        ),
        TypeFamily::Int(_) => format!(
            "-- values that are not integers make the conversion fail; find them first:\n-- SELECT {c}, count(*) FROM {table} WHERE {c} IS NOT NULL AND {c}::text !~ '^\\s*-?[0-9]+\\s*$' GROUP BY 1;\n",
            c = quote_ident(&col.name)
        ),
        _ => String::new(),
    };
    let sql = format!(
        "{check}ALTER TABLE {table} ALTER COLUMN {} TYPE {to} USING {};\n-- then the foreign key (orphans: {})\n{}",
        quote_ident(&col.name),
        conversion(col, key),
        orphan_query(rel, &col.name, target, &key.name, None),
        add_fk_sql(rel, &name, &cols, target, &key_cols, action)
    );
    let mut f = META
        .finding(format!(
            "{}.{} is {} but references {}, a {}: no foreign key can exist",
            rel.name,
            col.name,
            col.type_name,
            target_label(target, &key_cols),
            key.type_name
        ))
        .table(&rel.schema, &rel.name)
        .column(col.name.clone())
        .impact(format!(
            "nothing checks that {} values name existing {} rows: typos, deleted {} and other \
             tenants' ids are all accepted, and joins need a cast that no index serves",
            col.name, target.name, target.name
        ))
        .evidence("inferred_target", target_label(target, &key_cols))
        .evidence("why", why.to_string())
        .evidence("column_type", col.type_name.clone())
        .evidence("key_type", key.type_name.clone())
        .evidence("on_delete", format!("{} ({why_action})", action.sql()))
        .fix(sql, FixSafety::Review);
    if let Some(rows) = rel.row_estimate {
        f = f.evidence("row_estimate", rows);
    }
    f
}

fn narrow_finding(
    rel: &Relation,
    col: &Column,
    target: &Relation,
    key: &Column,
    fk: &str,
) -> Finding {
    let table = qualify(&rel.schema, &rel.name);
    let to = base_type(key);
    META.finding(format!(
        "{}.{} is {} but its foreign key {} references {}, a {}",
        rel.name,
        col.name,
        col.type_name,
        fk,
        target_label(target, std::slice::from_ref(&key.name)),
        key.type_name
    ))
    .severity(Severity::Moderate)
    .table(&rel.schema, &rel.name)
    .column(col.name.clone())
    .impact(format!(
        "once {} ids pass the range of {}, rows referencing them cannot be stored",
        target.name, col.type_name
    ))
    .evidence("constraint", fk.to_string())
    .evidence("references", target_label(target, std::slice::from_ref(&key.name)))
    .evidence("column_type", col.type_name.clone())
    .evidence("key_type", key.type_name.clone())
    .fix(
        format!(
            "-- rewrites the table under an exclusive lock: schedule it\nALTER TABLE {table} ALTER COLUMN {} TYPE {to};",
            quote_ident(&col.name)
        ),
        FixSafety::Review,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::FkAction;

    #[test]
    fn text_column_pointing_at_uuid_key_is_reported() {
        let cat = CatalogBuilder::supabase()
            .table("public.contact_lists", &["id uuid not null"])
            .pk("public.contact_lists", &["id"])
            .table("public.contacts", &["id uuid not null", "list_id text"])
            .pk("public.contacts", &["id"])
            .build();
        let f = run(&ForeignKeyTypeMismatch, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].column.as_deref(), Some("list_id"));
        assert_eq!(f[0].severity, Severity::High);
        let sql = &f[0].fix.as_ref().unwrap().sql;
        assert!(
            sql.contains("TYPE uuid USING NULLIF(btrim(list_id), '')::uuid"),
            "{sql}"
        );
        assert!(sql.contains("REFERENCES public.contact_lists (id) ON DELETE SET NULL NOT VALID"));
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn external_text_ids_are_not_reported() {
        let cat = CatalogBuilder::supabase()
            .table("public.videos", &["id uuid not null"])
            .pk("public.videos", &["id"])
            .table(
                "public.plays",
                &["id uuid not null", "video_id text", "call_id text"],
            )
            .pk("public.plays", &["id"])
            .table("public.notes", &["id uuid not null", "user_id text"])
            .pk("public.notes", &["id"])
            .build();
        assert!(run(&ForeignKeyTypeMismatch, &cat).is_empty());
    }

    #[test]
    fn narrower_declared_fk_is_moderate() {
        let cat = CatalogBuilder::new()
            .table("public.events", &["id bigint not null"])
            .pk("public.events", &["id"])
            .table(
                "public.event_tags",
                &["id bigint not null", "event_id integer not null"],
            )
            .pk("public.event_tags", &["id"])
            .fk(
                "public.event_tags",
                &["event_id"],
                "public.events",
                &["id"],
                FkAction::Cascade,
            )
            .build();
        let f = run(&ForeignKeyTypeMismatch, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Moderate);
        assert!(f[0].fix.as_ref().unwrap().sql.contains("TYPE bigint"));
    }

    #[test]
    fn wider_or_equal_declared_fk_is_fine() {
        let cat = CatalogBuilder::new()
            .table("public.events", &["id integer not null"])
            .pk("public.events", &["id"])
            .table(
                "public.event_tags",
                &[
                    "id bigint not null",
                    "event_id bigint not null",
                    "other_id integer",
                ],
            )
            .pk("public.event_tags", &["id"])
            .fk(
                "public.event_tags",
                &["event_id"],
                "public.events",
                &["id"],
                FkAction::Cascade,
            )
            .fk(
                "public.event_tags",
                &["other_id"],
                "public.events",
                &["id"],
                FkAction::Cascade,
            )
            .build();
        assert!(run(&ForeignKeyTypeMismatch, &cat).is_empty());
    }
}
