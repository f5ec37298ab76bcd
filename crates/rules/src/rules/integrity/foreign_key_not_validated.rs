//! INT004 `foreign-key-not-validated`: a foreign key or CHECK created NOT VALID and never
//! validated.

use super::audited_table;
use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Constraint, ConstraintKind, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "INT004",
    name: "foreign-key-not-validated",
    category: Category::Integrity,
    default_severity: Severity::Moderate,
    source: RuleSource::Schema,
    summary: "FK or CHECK created NOT VALID and never validated",
    docs: r#"## What it does
Finds foreign keys and CHECK constraints of the audited tables that were added `NOT VALID` and
never validated (`pg_constraint.convalidated = false`).

## Why it matters
`NOT VALID` is the right first step on a large table: the constraint is checked for new and
updated rows at once, without scanning the existing ones. Left there, the existing rows are never
checked: orphans and out-of-range values from before stay, the planner cannot use the constraint
(no join removal, no constraint exclusion), and the schema promises what the data does not keep.

## Example
```sql
alter table public.call_logs
  add constraint call_logs_agent_run_id_fkey foreign key (agent_run_id)
  references public.agent_runs (id) not valid;
-- ... and no VALIDATE CONSTRAINT afterwards
```

## Fix
Find and fix the rows that violate it, then validate (a scan under SHARE UPDATE EXCLUSIVE, which
does not block reads or writes):
```sql
alter table public.call_logs validate constraint call_logs_agent_run_id_fkey;
```
"#,
};

pub struct ForeignKeyNotValidated;

impl Rule for ForeignKeyNotValidated {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = vec![];
        for c in &ctx.catalog.constraints {
            if c.validated || !matches!(c.kind, ConstraintKind::ForeignKey | ConstraintKind::Check)
            {
                continue;
            }
            let Some(rel) = audited_table(ctx, c.table) else {
                continue;
            };
            out.push(finding(ctx, rel, c));
        }
        out
    }
}

fn finding(ctx: &Context<'_>, rel: &Relation, c: &Constraint) -> Finding {
    let table = qualify(&rel.schema, &rel.name);
    let kind = if c.kind == ConstraintKind::ForeignKey {
        "foreign key"
    } else {
        "check constraint"
    };
    let mut find_rows = String::new();
    let mut parent = None;
    if let Some(k) = &c.foreign_key {
        if let Some(target) = ctx.index.relation(k.ref_table) {
            parent = Some(target.qualified());
            let on: Vec<String> = c
                .columns
                .iter()
                .zip(&k.ref_columns)
                .map(|(a, b)| format!("p.{} = c.{}", quote_ident(b), quote_ident(a)))
                .collect();
            let not_null: Vec<String> = c
                .columns
                .iter()
                .map(|a| format!("c.{} IS NOT NULL", quote_ident(a)))
                .collect();
            find_rows = format!(
                "-- rows with no parent make VALIDATE fail; find them first:\n-- SELECT count(*) FROM {table} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {});\n",
                not_null.join(" AND "),
                qualify(&target.schema, &target.name),
                on.join(" AND ")
            );
        }
    } else if let Some(expr) = c
        .definition
        .strip_prefix("CHECK ")
        .map(|e| e.trim_end_matches(" NOT VALID"))
    {
        find_rows = format!(
            "-- rows that violate it make VALIDATE fail; find them first:\n-- SELECT count(*) FROM {table} WHERE NOT {expr};\n"
        );
    }
    let mut f = META
        .finding(format!(
            "{kind} {} on {} was created NOT VALID and never validated",
            c.name,
            rel.qualified()
        ))
        .table(&rel.schema, &rel.name)
        .impact(format!(
            "rows written before the {kind} was added were never checked against it, and the \
             planner cannot rely on it"
        ))
        .evidence("constraint", c.name.clone())
        .evidence("definition", c.definition.clone())
        .evidence("validated", false)
        .fix(
            format!(
                "{find_rows}ALTER TABLE {table} VALIDATE CONSTRAINT {};",
                quote_ident(&c.name)
            ),
            FixSafety::Safe,
        );
    if !c.columns.is_empty() {
        f = f.column(c.columns.join(", "));
    }
    if let Some(p) = parent {
        f = f.evidence("references", p);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::FkAction;

    fn base() -> CatalogBuilder {
        CatalogBuilder::new()
            .table("public.runs", &["id uuid not null"])
            .pk("public.runs", &["id"])
            .table(
                "public.logs",
                &["id uuid not null", "run_id uuid", "amount integer"],
            )
            .pk("public.logs", &["id"])
    }

    #[test]
    fn not_valid_fk_and_check_are_reported() {
        let cat = base()
            .fk(
                "public.logs",
                &["run_id"],
                "public.runs",
                &["id"],
                FkAction::SetNull,
            )
            .not_valid()
            .check(
                "public.logs",
                "logs_amount_check",
                &["amount"],
                "amount >= 0",
            )
            .not_valid()
            .build();
        let f = run(&ForeignKeyNotValidated, &cat);
        assert_eq!(f.len(), 2);
        let fk = f
            .iter()
            .find(|f| f.column.as_deref() == Some("run_id"))
            .unwrap();
        let sql = &fk.fix.as_ref().unwrap().sql;
        assert!(
            sql.contains("VALIDATE CONSTRAINT logs_run_id_fkey"),
            "{sql}"
        );
        assert!(
            sql.contains("NOT EXISTS (SELECT 1 FROM public.runs p WHERE p.id = c.run_id)"),
            "{sql}"
        );
        insta::assert_json_snapshot!(fk);
        let check = f
            .iter()
            .find(|f| f.column.as_deref() == Some("amount"))
            .unwrap();
        assert!(check
            .fix
            .as_ref()
            .unwrap()
            .sql
            .contains("WHERE NOT (amount >= 0)"));
    }

    #[test]
    fn validated_constraints_are_not_reported() {
        let cat = base()
            .fk(
                "public.logs",
                &["run_id"],
                "public.runs",
                &["id"],
                FkAction::SetNull,
            )
            .check(
                "public.logs",
                "logs_amount_check",
                &["amount"],
                "amount >= 0",
            )
            .build();
        assert!(run(&ForeignKeyNotValidated, &cat).is_empty());
    }
}
