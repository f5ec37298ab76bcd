//! CODE005 `unknown-column-reference`: code references a table or column that does not exist in the schema.

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "CODE005",
    name: "unknown-column-reference",
    category: Category::Code,
    default_severity: Severity::High,
    source: RuleSource::Code,
    summary: "code references a table or column that does not exist in the schema",
    docs: r#"## What it does
Checks the tables and columns the code names against the schema the migrations build:
supabase-js `.from('t')`, the columns of `.select('a, b')`, of filters (`.eq('c', …)`,
`.order('c')`) and of `insert`/`update`/`upsert` objects; raw SQL strings; Prisma model fields;
SQLAlchemy models (`__tablename__`, `Column(...)`). Embedded resources
(`select('*, parent(name)')`), JSON paths (`data->>key`) and computed aliases are not checked.

## Why it matters
PostgREST answers a query naming a missing column with an error, and supabase-js returns that
error in `{ error }` rather than throwing: code that ignores it (or maps `data ?? []`) silently
does nothing. Typical causes are a column renamed or never migrated, or types generated from a
different database.

## Example
```ts
// organizations has no status column: this returns an error, and no organization
const { data } = await supabaseAdmin.from('organizations').select('id').eq('status', 'active');
```

## Fix
Use the column the schema has, or add it with a migration. Regenerate the database types
(`supabase gen types typescript`) and drop the `any`/`@ts-ignore` that hid the mistake.
"#,
};

use crate::analyze::Project;
use crate::model::{Api, ClientKind};
use dbaudit_findings::Finding;

pub fn check(p: &Project<'_, '_>) -> Vec<Finding> {
    let mut out = vec![];
    for (fi, f) in p.files.iter().enumerate() {
        for q in &f.queries {
            if !q.check_names {
                continue;
            }
            // Only where we know it is this database: a resolved supabase-js client, a Drizzle
            // table we read the definition of, SQL on a direct connection.
            let client = p.resolve_client(fi, &q.client);
            let known = match q.api {
                Api::SupabaseJs => client
                    .as_ref()
                    .is_some_and(|c| !matches!(c.kind, ClientKind::Unknown | ClientKind::Direct)),
                Api::Drizzle => p
                    .drizzle_model(q.table.trim_start_matches("@drizzle:"))
                    .is_some(),
                Api::Sql => true,
                Api::Prisma => false,
            };
            if !known {
                continue;
            }
            let Some((schema, table)) = p.table_name(fi, q) else {
                continue;
            };
            if !p.ctx.settings.audits_schema(&schema, &p.ctx.index)
                && p.ctx.index.schema(&schema).is_some()
            {
                continue;
            }
            let owner = p
                .handler_at(fi, q.line)
                .map(|h| h.name.clone())
                .unwrap_or_else(|| q.owner.clone());
            let Some(rel) = p.ctx.index.relation_named(&schema, &table) else {
                if q.api == Api::Drizzle
                    || p.ctx.index.schema(&schema).is_none() && q.schema.is_some()
                {
                    continue;
                }
                out.push(
                    META.finding(format!("{schema}.{table} does not exist in the schema"))
                        .table(&schema, &table)
                        .file(&f.display, Some(q.line))
                        .object(format!("{owner}: {table}"))
                        .impact("every call fails with a PostgREST/Postgres error that the code may ignore")
                        .evidence("statement", q.text.clone())
                        .with_fingerprint(),
                );
                continue;
            };
            let mut named: Vec<(String, u32, &str)> = vec![];
            for (c, l) in &q.read_columns {
                named.push((p.column_name(q, c), *l, "read"));
            }
            for flt in &q.filters {
                if flt.column.contains('.') || flt.column.starts_with("@opaque") {
                    continue;
                }
                named.push((p.column_name(q, &flt.column), flt.line, "filtered on"));
            }
            if q.api != Api::Drizzle {
                for (c, _) in &q.written {
                    named.push((p.column_name(q, c), q.line, "written"));
                }
            }
            let mut seen = std::collections::HashSet::new();
            for (col, line, how) in named {
                if col.is_empty() || col.contains("->") || !seen.insert(col.clone()) {
                    continue;
                }
                if rel.column(&col).is_some() {
                    continue;
                }
                let cols: Vec<&str> = rel.columns.iter().map(|c| c.name.as_str()).collect();
                out.push(
                    META.finding(format!("column {}.{col} does not exist ({how} by {owner})", rel.name))
                        .table(&rel.schema, &rel.name)
                        .column(col.clone())
                        .file(&f.display, Some(line))
                        .object(format!("{owner}: {}.{col}", rel.name))
                        .impact("the query fails with an error (supabase-js returns it in `error`, it does not throw), so the code silently gets no rows or writes nothing")
                        .evidence("statement", q.text.clone())
                        .evidence("columns_of_table", cols)
                        .with_fingerprint(),
                );
            }
        }
        // SQLAlchemy models: their table and columns.
        for m in &f.models {
            if m.drizzle {
                continue;
            }
            let Some(rel) = p.ctx.index.relation_named("public", &m.table) else {
                out.push(
                    META.finding(format!(
                        "model {} maps table {} which does not exist in the schema",
                        m.class, m.table
                    ))
                    .table("public", &m.table)
                    .file(&f.display, Some(m.line))
                    .object(m.class.clone())
                    .impact("queries through the model fail at runtime")
                    .evidence("model", m.class.clone())
                    .with_fingerprint(),
                );
                continue;
            };
            for c in &m.columns {
                if rel.column(&c.column).is_none() {
                    out.push(
                        META.finding(format!(
                            "model {} maps column {}.{} which does not exist",
                            m.class, rel.name, c.column
                        ))
                        .table(&rel.schema, &rel.name)
                        .column(c.column.clone())
                        .file(&f.display, Some(c.line))
                        .object(format!("{}.{}", m.class, c.attr))
                        .impact("every query through the model that selects this column fails")
                        .evidence("model", m.class.clone())
                        .with_fingerprint(),
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testing::{findings_of, findings_with_admin_lib};

    fn run(code: &str) -> Vec<dbaudit_findings::Finding> {
        findings_with_admin_lib("unknown-column-reference", "src/x.ts", code)
    }

    #[test]
    fn unknown_columns_and_tables() {
        let f = run("import { admin } from './lib/db';\nexport const a = () => admin\n  .from('organizations')\n  .select('id, name')\n  .eq('status', 'active');\n");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].column.as_deref(), Some("status"));
        assert_eq!(f[0].line, Some(5));
        let f = run("import { admin } from './lib/db';\nexport const a = () => admin.from('call_logz').select('id');\nexport const b = () => admin.from('leads').insert({ org_id: 'x', phone: '1', nmae: 'y' });\n");
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(run("import { admin } from './lib/db';\nexport const a = () => admin.from('call_logs').select('id, phone, org:organizations(name), n:status, created_at::text').order('created_at').eq('organizations.name', 'x');\n").is_empty());
        // Storage buckets and unknown clients are not tables.
        assert!(run("import { admin } from './lib/db';\nexport const a = () => admin.storage.from('recordings').upload('a', b);\nexport const c = (x: any) => x.from('whatever').select('nope');\n").is_empty());
    }

    #[test]
    fn sqlalchemy_model_columns() {
        let py = "class Deal(Base):\n    __tablename__ = 'deals'\n    id = Column(Integer, primary_key=True)\n    stage = Column(String)\n";
        let f = findings_of("unknown-column-reference", &[("app/models.py", py)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].column.as_deref(), Some("stage"));
    }
}
