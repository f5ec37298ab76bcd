//! Integrity rules (INT).

pub mod cascade_delete_blocked;
pub mod cross_tenant_reference_possible;
pub mod foreign_key_not_validated;
pub mod foreign_key_type_mismatch;
pub mod missing_check_constraint;
pub mod missing_foreign_key;
pub mod missing_primary_key;
pub mod tenant_column_nullable;
pub mod tenant_foreign_key_missing;
pub mod updated_at_without_trigger;

use crate::analysis::tenancy::Scope;
use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Column, Constraint, FkAction, Oid, Relation};

pub static RULES: &[&dyn Rule] = &[
    &missing_primary_key::MissingPrimaryKey,
    &missing_foreign_key::MissingForeignKey,
    &foreign_key_type_mismatch::ForeignKeyTypeMismatch,
    &foreign_key_not_validated::ForeignKeyNotValidated,
    &tenant_column_nullable::TenantColumnNullable,
    &tenant_foreign_key_missing::TenantForeignKeyMissing,
    &cascade_delete_blocked::CascadeDeleteBlocked,
    &updated_at_without_trigger::UpdatedAtWithoutTrigger,
    &missing_check_constraint::MissingCheckConstraint,
    &cross_tenant_reference_possible::CrossTenantReferencePossible,
];

/// A table (not a partition: its parent carries the constraints) of the audited schemas.
pub(crate) fn audited_table<'a>(ctx: &Context<'a>, oid: Oid) -> Option<&'a Relation> {
    ctx.index.relation(oid).filter(|r| {
        r.kind.is_table()
            && r.partition_of.is_none()
            && ctx.settings.audits_schema(&r.schema, &ctx.index)
    })
}

/// Identifier of at most 63 bytes, cut on a character boundary, keeping `suffix`.
pub(crate) fn ident_name(base: &str, suffix: &str) -> String {
    let mut name = format!("{base}{suffix}");
    if name.len() > 63 {
        let mut cut = 63 - suffix.len();
        while !base.is_char_boundary(cut) {
            cut -= 1;
        }
        name = format!("{}{suffix}", &base[..cut]);
    }
    name
}

/// Postgres's default name for a foreign key: `<table>_<cols>_fkey`.
pub(crate) fn fk_name(table: &str, columns: &[String]) -> String {
    ident_name(&format!("{table}_{}", columns.join("_")), "_fkey")
}

fn cols_sql(cols: &[String]) -> String {
    cols.iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `FOREIGN KEY (a) REFERENCES s.t (id) ON DELETE ...` (no action: nothing said).
pub(crate) fn fk_clause(
    cols: &[String],
    target: &Relation,
    target_cols: &[String],
    on_delete: FkAction,
) -> String {
    let mut s = format!(
        "FOREIGN KEY ({}) REFERENCES {} ({})",
        cols_sql(cols),
        qualify(&target.schema, &target.name),
        cols_sql(target_cols)
    );
    if on_delete != FkAction::NoAction {
        s.push_str(&format!(" ON DELETE {}", on_delete.sql()));
    }
    s
}

/// Add a foreign key without a long lock: `NOT VALID` (checks new rows only), then `VALIDATE`
/// (scans existing rows under a lock that does not block writes).
pub(crate) fn add_fk_sql(
    rel: &Relation,
    name: &str,
    cols: &[String],
    target: &Relation,
    target_cols: &[String],
    on_delete: FkAction,
) -> String {
    let table = qualify(&rel.schema, &rel.name);
    format!(
        "ALTER TABLE {table}\n  ADD CONSTRAINT {} {} NOT VALID;\nALTER TABLE {table} VALIDATE CONSTRAINT {};",
        quote_ident(name),
        fk_clause(cols, target, target_cols, on_delete),
        quote_ident(name)
    )
}

/// A query listing the rows whose reference finds no parent (to run before `VALIDATE`).
pub(crate) fn orphan_query(
    rel: &Relation,
    col: &str,
    target: &Relation,
    key: &str,
    cast: Option<&str>,
) -> String {
    let c = quote_ident(col);
    let lhs = match cast {
        Some(t) => format!("c.{c}::{t}"),
        None => format!("c.{c}"),
    };
    format!(
        "SELECT c.{c}, count(*) FROM {} c LEFT JOIN {} p ON p.{} = {lhs} WHERE c.{c} IS NOT NULL AND p.{} IS NULL GROUP BY 1;",
        qualify(&rel.schema, &rel.name),
        qualify(&target.schema, &target.name),
        quote_ident(key),
        quote_ident(key)
    )
}

/// What a new reference from `col` to `target` should do on delete, and why: a catalogue row is
/// protected (no action); an optional reference is cleared (set null); a required one goes with
/// its parent (cascade).
pub(crate) fn on_delete_for(ctx: &Context<'_>, col: &Column, target: Oid) -> (FkAction, String) {
    let name = ctx
        .index
        .relation(target)
        .map(|r| r.name.clone())
        .unwrap_or_default();
    if matches!(ctx.tenancy.scope(target), Some(Scope::Global)) && ctx.tenancy.root.is_some() {
        return (
            FkAction::NoAction,
            format!("{name} is a shared catalogue: refuse to delete rows still in use"),
        );
    }
    if col.not_null {
        (
            FkAction::Cascade,
            format!(
                "{} is NOT NULL: its rows belong to their {name} row",
                col.name
            ),
        )
    } else {
        (
            FkAction::SetNull,
            format!(
                "{} is nullable: keep the rows and clear the reference",
                col.name
            ),
        )
    }
}

/// The most common ON DELETE of the foreign keys referencing `target` (the project's own habit).
pub(crate) fn usual_on_delete(ctx: &Context<'_>, target: Oid) -> Option<(FkAction, usize, usize)> {
    let fks: Vec<&Constraint> = ctx.index.referenced_by(target).to_vec();
    let mut counts: Vec<(FkAction, usize)> = vec![];
    for fk in &fks {
        let Some(k) = &fk.foreign_key else { continue };
        match counts.iter_mut().find(|(a, _)| *a == k.on_delete) {
            Some((_, n)) => *n += 1,
            None => counts.push((k.on_delete, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts.first().map(|(a, n)| (*a, *n, fks.len()))
}

/// `a contact`, `an organization`.
pub(crate) fn with_article(word: &str) -> String {
    let an = word.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {word}", if an { "an" } else { "a" })
}

/// `schema.table(col)` for messages.
pub(crate) fn target_label(rel: &Relation, cols: &[String]) -> String {
    format!("{}({})", rel.qualified(), cols.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_in_63_bytes() {
        let n = fk_name(
            "a_table_with_an_extremely_long_name_for_testing",
            &["a_column_with_an_equally_long_name".to_string()],
        );
        assert!(n.len() <= 63, "{n}");
        assert!(n.ends_with("_fkey"));
        assert_eq!(
            fk_name("call_logs", &["agent_run_id".into()]),
            "call_logs_agent_run_id_fkey"
        );
    }
}

#[cfg(test)]
mod scale {
    use crate::{Context, Settings};
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::FkAction;
    use std::time::Instant;

    /// 5,000 tables, ~8,000 foreign keys (some undeclared references, some nullable tenant
    /// columns): the analysis and the integrity rules must stay linear. Run with
    /// `cargo test --release -p dbaudit-rules scale -- --ignored --nocapture` for the timing.
    #[test]
    #[ignore = "timing benchmark"]
    fn five_thousand_tables() {
        let mut b = CatalogBuilder::supabase()
            .table("public.organizations", &["id uuid not null"])
            .pk("public.organizations", &["id"]);
        let n = 5_000;
        let mut fks = 0;
        let mut specs: Vec<(String, Vec<String>)> = vec![];
        for i in 1..n {
            let mut cols = vec![
                "id uuid not null".to_string(),
                format!("org_id uuid{}", if i % 97 == 0 { "" } else { " not null" }),
                "amount numeric".to_string(),
                "updated_at timestamptz".to_string(),
            ];
            if i > 1 {
                cols.push(format!("t_{:05}_id uuid", (i * 7) % (i - 1) + 1));
            }
            specs.push((format!("public.t_{i:05}s"), cols));
        }
        b = b.with(|c| c.relations.reserve(n));
        for (i, (name, cols)) in specs.iter().enumerate() {
            let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
            b = b.table(name, &cols).pk(name, &["id"]);
            if i % 50 != 0 {
                b = b.fk(
                    name,
                    &["org_id"],
                    "public.organizations",
                    &["id"],
                    FkAction::Cascade,
                );
                fks += 1;
            }
            if let Some(r) = cols.get(4) {
                let target = format!(
                    "public.{}s",
                    r.split(' ').next().unwrap().trim_end_matches("_id")
                );
                if i % 3 != 0 {
                    b = b.fk(
                        name,
                        &[r.split(' ').next().unwrap()],
                        &target,
                        &["id"],
                        FkAction::NoAction,
                    );
                    fks += 1;
                }
            }
        }
        let cat = b.build();
        let settings = Settings::default();
        let t = Instant::now();
        let ctx = Context::new(&cat, &settings, &[]);
        let analysis = t.elapsed();
        let t = Instant::now();
        let mut findings = 0;
        for r in super::RULES {
            let t = Instant::now();
            let k = r.check(&ctx).len();
            eprintln!("  {}: {:?} ({k})", r.meta().name, t.elapsed());
            findings += k;
        }
        for (name, f) in [
            (
                "tenancy",
                &(|| {
                    let _ = crate::analysis::tenancy::Tenancy::analyse(
                        &ctx.index,
                        &settings,
                        &ctx.policies,
                    );
                }) as &dyn Fn(),
            ),
            ("relationships", &|| {
                let _ = crate::analysis::relationships::Relationships::analyse(
                    &ctx.index,
                    &[],
                    ctx.tenancy.root,
                    &ctx.tenancy.tenant_columns,
                );
            }),
        ] {
            let t = Instant::now();
            f();
            eprintln!("  {name}: {:?}", t.elapsed());
        }
        let rules = t.elapsed();
        eprintln!(
            "{} tables, {fks} declared FKs: analysis {analysis:?}, integrity rules {rules:?}, {findings} findings",
            cat.relations.len()
        );
        assert!(ctx.tenancy.root.is_some());
    }
}
