//! CODE009 `orm-foreign-key-mismatch`: ORM model (SQLAlchemy, Drizzle, Prisma) declares a reference that differs from the database's FK.

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "CODE009",
    name: "orm-foreign-key-mismatch",
    category: Category::Code,
    default_severity: Severity::High,
    source: RuleSource::Code,
    summary: "ORM model (SQLAlchemy, Drizzle, Prisma) declares a reference that differs from the database's FK",
    docs: r#"## What it does
Compares the references ORM models declare with the foreign keys the migrations create:
SQLAlchemy `Column(ForeignKey('t.c'))` / `mapped_column(ForeignKey(...))` and Drizzle
`.references(() => t.id)`. It reports a model reference whose target table or column differs
from the database's foreign key on that column, one to a table or column that does not exist,
and (at moderate severity) one the database does not enforce at all.

## Why it matters
The ORM joins, cascades and generates migrations from its model; the database enforces its own
constraints. When they disagree, autogenerate produces a migration that drops or re-points the
real constraint, joins in the ORM go to the wrong table, and inserts that the model accepts fail
in production.

## Example
```python
class Deal(Base):
    __tablename__ = "deals"
    owner_user_id = Column(Integer, ForeignKey("api_users.id"))   # the migration says users.id
```

## Fix
Make the migration and the model name the same target: fix the model, or write a migration that
re-points the constraint (`drop constraint … ; add constraint … not valid; validate constraint …`).
"#,
};

use crate::analyze::Project;
use dbaudit_findings::Finding;

pub fn check(p: &Project<'_, '_>) -> Vec<Finding> {
    let mut out = vec![];
    for f in p.files {
        for m in &f.models {
            let Some(rel) = p.ctx.index.relation_named("public", &m.table) else {
                continue;
            };
            for c in &m.columns {
                let Some((ref_schema, ref_table, ref_col)) = &c.references else {
                    continue;
                };
                // Drizzle references name a variable and a property.
                let (ref_table, ref_col) = match ref_table.strip_prefix("@drizzle:") {
                    Some(var) => match p.drizzle_model(var) {
                        Some(t) => (
                            t.table.clone(),
                            t.columns
                                .iter()
                                .find(|x| x.attr == *ref_col)
                                .map(|x| x.column.clone())
                                .unwrap_or_else(|| crate::analyze::to_snake(ref_col)),
                        ),
                        None => continue,
                    },
                    None => (ref_table.clone(), ref_col.clone()),
                };
                let ref_schema = ref_schema.clone().unwrap_or_else(|| "public".into());
                if rel.column(&c.column).is_none() {
                    continue; // unknown-column-reference
                }
                let declared = format!("{}.{}.{}", ref_schema, ref_table, ref_col);
                let db_fk = p
                    .ctx
                    .index
                    .foreign_keys(rel.oid)
                    .find(|k| k.columns == [c.column.clone()]);
                let (problem, severity, db) = match db_fk.and_then(|k| k.foreign_key.as_ref()) {
                    Some(fk) => {
                        let actual = format!(
                            "{}.{}.{}",
                            fk.ref_schema,
                            fk.ref_name,
                            fk.ref_columns.join(",")
                        );
                        if actual == declared {
                            continue;
                        }
                        (format!("the model references {declared}, the database's foreign key {actual}"), Severity::High, actual)
                    }
                    None => {
                        if p.ctx
                            .index
                            .relation_named(&ref_schema, &ref_table)
                            .is_none()
                        {
                            (format!("the model references {declared}, a table that does not exist, and the database has no foreign key"), Severity::High, "none".into())
                        } else {
                            (format!("the model references {declared}, the database has no foreign key on the column"), Severity::Moderate, "none".into())
                        }
                    }
                };
                out.push(
                    META.finding(format!("{}.{}: {problem}", rel.name, c.column))
                        .severity(severity)
                        .table(&rel.schema, &rel.name)
                        .column(c.column.clone())
                        .file(&f.display, Some(c.line))
                        .object(format!("{}.{}", m.class, c.attr))
                        .impact("the ORM joins and generates migrations from a relationship the database does not have")
                        .evidence("model_reference", declared)
                        .evidence("database_foreign_key", db)
                        .with_fingerprint(),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testing::findings_of;

    #[test]
    fn sqlalchemy_reference_differs() {
        let py = "class Deal(Base):\n    __tablename__ = 'deals'\n    id = Column(Integer, primary_key=True)\n    owner_user_id = Column(Integer, ForeignKey('api_users.id'), nullable=True)\n";
        let f = findings_of("orm-foreign-key-mismatch", &[("app/models.py", py)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, Some(4));
        assert!(f[0].message.contains("public.users.id"));
        let ok = "class Deal(Base):\n    __tablename__ = 'deals'\n    owner_user_id = Column(Integer, ForeignKey('users.id'))\n";
        assert!(findings_of("orm-foreign-key-mismatch", &[("app/models.py", ok)]).is_empty());
    }

    #[test]
    fn drizzle_reference_differs() {
        let ts = "export const users = pgTable('users', { id: integer('id') });\nexport const apiUsers = pgTable('api_users', { id: integer('id') });\nexport const deals = pgTable('deals', {\n  id: integer('id'),\n  ownerUserId: integer('owner_user_id').references(() => apiUsers.id),\n});\n";
        let f = findings_of("orm-foreign-key-mismatch", &[("src/db/schema.ts", ts)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, Some(5));
    }
}
