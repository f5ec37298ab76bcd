//! CODE001 `query-missing-tenant-filter`: query on a tenant-scoped table through a client that bypasses RLS (service role, direct connection) with no filter on the tenant column.

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "CODE001",
    name: "query-missing-tenant-filter",
    category: Category::Code,
    default_severity: Severity::Critical,
    source: RuleSource::Code,
    summary: "query on a tenant-scoped table through a client that bypasses RLS (service role, direct connection) with no filter on the tenant column",
    docs: r#"## What it does
Follows every database query in the application code (supabase-js builder chains, Drizzle,
Prisma, raw SQL strings) back to the client it starts from. When that client bypasses row level
security (a supabase-js client created with the service-role key, a direct Postgres connection
through Drizzle, Prisma or `pg`) and the query reads or writes a tenant-scoped table, the query
must restrict itself to one tenant:

* `select`, `update`, `delete`: an unconditional filter on the tenant column (`.eq('org_id', …)`,
  `.match({ org_id })`, `.in('org_id', …)`, `.filter('org_id', 'eq', …)`, `WHERE org_id = $1`);
* `insert`, `upsert`: the tenant column among the written values.

Filters are followed through intermediate variables: `let q = admin.from('t').select()` then
`q = q.eq('org_id', id)` counts, but only when the re-assignment is unconditional. A filter added
in one branch (`if (req.query.org) q = q.eq('org_id', …)`) does not: the other branch runs
unfiltered.

Tables scoped through a parent (e.g. `messages` → `conversations.org_id`) count as filtered when
the query filters on the foreign key to the parent (`.eq('conversation_id', id)`: one parent whose
ownership the code checked) or on the parent's tenant column through an embedded inner join
(`.select('*, conversations!inner(org_id)').eq('conversations.org_id', orgId)`).

Clients that act as the signed-in user (created with the anon/publishable key and the user's
`Authorization` header, `@supabase/ssr`'s `createServerClient`) are left alone: RLS scopes them.
The tenant root itself (`organizations`) is not reported: jobs legitimately list tenants.

## Why it matters
With the service-role key, Postgres' row level security is switched off: the query returns every
tenant's rows unless the code filters them itself. One forgotten `.eq('org_id', …)` shows one
customer's calls, messages or invoices to another, and an unfiltered `update` rewrites them all.

## Example
```ts
// every organization's inbound calls, to any signed-in user
const { data } = await supabaseAdmin
  .from('call_logs')
  .select('id, phone, status')
  .eq('direction', 'inbound');
```

## Fix
Filter on the tenant taken from the session, not from the request:
```ts
const { data } = await supabaseAdmin
  .from('call_logs')
  .select('id, phone, status')
  .eq('org_id', req.orgId)        // set by requireAuth from the verified JWT
  .eq('direction', 'inbound');
```
Better still, read with a client acting as the user (`createClient(url, ANON_KEY, { global: {
headers: { Authorization: `Bearer ${token}` } } })`) so the database's policies apply.
"#,
};

use crate::analyze::{same_column, Project};
use crate::model::{Op, Query};
use dbaudit_findings::Finding;
use dbaudit_rules::analysis::tenancy::Scope;

/// Filter methods that restrict rows to the value given.
pub(crate) fn scoping(method: &str) -> bool {
    matches!(
        method,
        "eq" | "in" | "match" | "filter:eq" | "filter:in" | "where" | "inArray"
    )
}

pub fn check(p: &Project<'_, '_>) -> Vec<Finding> {
    let mut out = vec![];
    for (fi, f) in p.files.iter().enumerate() {
        for q in &f.queries {
            if q.api == crate::model::Api::Sql && !q.check_names {
                continue; // joins, several tables: not attributed
            }
            let Some(client) = p.resolve_client(fi, &q.client) else {
                continue;
            };
            if !client.kind.bypasses_rls() {
                continue;
            }
            let Some(rel) = p.relation(fi, q) else {
                continue;
            };
            let Some(scope) = p.ctx.tenancy.scope(rel.oid) else {
                continue;
            };
            let (wanted, ok) = match scope {
                Scope::Direct { column } => (
                    format!("an unconditional filter on {column} (eq/in/match/filter)")
                        + if matches!(q.op, Op::Insert | Op::Upsert) {
                            " or the column among the inserted values"
                        } else {
                            ""
                        },
                    filtered_on(p, q, &[column.as_str()])
                        || (matches!(q.op, Op::Insert | Op::Upsert)
                            && (q.written_opaque
                                || q.written.iter().any(|(c, _)| same_column(c, column)))),
                ),
                Scope::ViaParent { parent, columns } => {
                    let parent_rel = p.ctx.index.relation(*parent);
                    let parent_name = parent_rel.map(|r| r.name.as_str()).unwrap_or("parent");
                    let parent_tenant = p.ctx.tenancy.tenant_column(*parent).unwrap_or("");
                    let embedded = format!("{parent_name}.{parent_tenant}");
                    let mut cols: Vec<&str> = columns.iter().map(String::as_str).collect();
                    cols.push(&embedded);
                    (
                        format!(
                            "a filter on {} (the key to {parent_name}, which carries the tenant) or on {embedded} through an inner join",
                            columns.join(", ")
                        ),
                        filtered_on(p, q, &cols)
                            || (matches!(q.op, Op::Insert | Op::Upsert)
                                && (q.written_opaque
                                    || q.written.iter().any(|(c, _)| columns.iter().any(|k| same_column(c, k))))),
                    )
                }
                _ => continue,
            };
            if ok {
                continue;
            }
            let handler = p.handler_at(fi, q.line);
            let owner = handler
                .map(|h| h.name.clone())
                .unwrap_or_else(|| q.owner.clone());
            let conditional: Vec<String> = q
                .filters
                .iter()
                .filter(|f| f.conditional)
                .map(|f| {
                    format!(
                        "{}('{}') at line {} (conditional)",
                        f.method, f.column, f.line
                    )
                })
                .collect();
            let what = match q.op {
                Op::Select => "reads",
                Op::Delete => "deletes from",
                Op::Insert | Op::Upsert => "writes",
                Op::Update => "updates",
            };
            let mut finding = META
                .finding(format!(
                    "{owner} {what} {}.{} through a {} client with no tenant filter",
                    rel.schema,
                    rel.name,
                    client.kind.as_str()
                ))
                .table(&rel.schema, &rel.name)
                .file(&f.display, Some(q.line))
                .object(format!("{owner}: {} {}", q.op.as_str(), rel.name))
                .impact(format!(
                    "{} is tenant-scoped, and this client bypasses row level security: the query {what} every tenant's rows",
                    rel.name
                ))
                .evidence("statement", q.text.clone())
                .evidence("client", client.how.clone())
                .evidence(
                    "client_bypasses_rls_because",
                    match client.kind {
                        crate::model::ClientKind::ServiceRole => "created with the service-role key",
                        _ => "a direct database connection (table owner or superuser role)",
                    },
                )
                .evidence("looked_for", wanted)
                .evidence(
                    "filters",
                    q.filters
                        .iter()
                        .map(|f| format!("{}('{}')", f.method, f.column))
                        .collect::<Vec<_>>(),
                );
            if !conditional.is_empty() {
                finding = finding.evidence("conditional_filters", conditional);
            }
            if let Some(h) = handler {
                finding = finding.evidence("handler", h.name.clone());
            }
            out.push(finding.with_fingerprint());
        }
    }
    out
}

fn filtered_on(p: &Project<'_, '_>, q: &Query, cols: &[&str]) -> bool {
    q.filters.iter().any(|f| {
        !f.conditional
            && scoping(&f.method)
            && cols.iter().any(|c| {
                let name = p.column_name(q, &f.column);
                same_column(&name, c) || (c.contains('.') && name == *c)
            })
    })
}

#[cfg(test)]
mod tests {
    use crate::testing::*;

    const LIB: &str = r#"
import { createClient } from '@supabase/supabase-js';
export const admin = createClient(process.env.SUPABASE_URL!, process.env.SUPABASE_SERVICE_ROLE_KEY!);
export function forUser(token: string) {
  return createClient(process.env.SUPABASE_URL!, process.env.SUPABASE_ANON_KEY!, {
    global: { headers: { Authorization: `Bearer ${token}` } },
  });
}
"#;

    fn run(code: &str) -> Vec<dbaudit_findings::Finding> {
        findings_of(
            "query-missing-tenant-filter",
            &[("src/lib/db.ts", LIB), ("src/routes/x.ts", code)],
        )
    }

    #[test]
    fn unfiltered_service_role_read_is_reported() {
        let f = run("import { admin } from '../lib/db';\nexport async function list() {\n  return admin.from('call_logs').select('id').eq('direction', 'inbound');\n}\n");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, Some(3));
        assert!(f[0].evidence["looked_for"]
            .as_str()
            .unwrap()
            .contains("org_id"));
        assert!(f[0].evidence["client"]
            .as_str()
            .unwrap()
            .contains("SERVICE_ROLE"));
    }

    #[test]
    fn tenant_filter_is_enough() {
        assert!(run("import { admin } from '../lib/db';\nexport const f = (org: string) => admin.from('call_logs').select('id').eq('org_id', org);\n").is_empty());
        assert!(run("import { admin } from '../lib/db';\nexport const f = (org: string) => admin.from('call_logs').update({ status: 'x' }).match({ org_id: org, id: 1 });\n").is_empty());
        assert!(run("import { admin } from '../lib/db';\nexport const f = (org: string) => admin.from('call_logs').insert({ org_id: org, phone: '1' });\n").is_empty());
    }

    #[test]
    fn filter_in_a_branch_only_does_not_count() {
        let code = "import { admin } from '../lib/db';\nexport async function f(org?: string) {\n  let q = admin.from('call_logs').select('id');\n  if (org) q = q.eq('org_id', org);\n  return await q;\n}\n";
        let f = run(code);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].evidence.contains_key("conditional_filters"));
        let code = "import { admin } from '../lib/db';\nexport async function f(org: string) {\n  let q = admin.from('call_logs').select('id');\n  q = q.eq('org_id', org);\n  return await q;\n}\n";
        assert!(run(code).is_empty());
    }

    #[test]
    fn user_token_client_is_left_to_rls() {
        let code = "import { forUser } from '../lib/db';\nexport const f = (t: string) => forUser(t).from('call_logs').select('id');\n";
        assert!(run(code).is_empty());
        let code = "import { forUser } from '../lib/db';\nexport async function f(t: string) { const sb = forUser(t); return sb.from('call_logs').select('id'); }\n";
        assert!(run(code).is_empty());
    }

    #[test]
    fn tenant_root_and_global_tables_are_not_reported() {
        assert!(run("import { admin } from '../lib/db';\nexport const f = () => admin.from('organizations').select('id');\n").is_empty());
        assert!(run("import { admin } from '../lib/db';\nexport const f = () => admin.from('plans').select('id');\n").is_empty());
    }

    #[test]
    fn table_scoped_via_parent() {
        // Filtering on the key to the parent, or the parent's tenant column through !inner.
        assert!(run("import { admin } from '../lib/db';\nexport const f = (c: string) => admin.from('call_notes').select('id').eq('call_id', c);\n").is_empty());
        assert!(run("import { admin } from '../lib/db';\nexport const f = (o: string) => admin.from('call_notes').select('id, call_logs!inner(org_id)').eq('call_logs.org_id', o);\n").is_empty());
        let f = run("import { admin } from '../lib/db';\nexport const f = (id: string) => admin.from('call_notes').select('id').eq('id', id);\n");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].evidence["looked_for"]
            .as_str()
            .unwrap()
            .contains("call_id"));
    }

    #[test]
    fn drizzle_prisma_and_sql() {
        let schema = "import { pgTable, uuid, text } from 'drizzle-orm/pg-core';\nexport const calls = pgTable('call_logs', { id: uuid('id'), orgId: uuid('org_id'), phone: text('phone') });\n";
        let dbm = "import { drizzle } from 'drizzle-orm/node-postgres';\nexport const db = drizzle(process.env.DATABASE_URL!);\n";
        let files = |code: &'static str| {
            vec![
                ("src/db/schema.ts", schema),
                ("src/db/index.ts", dbm),
                ("src/x.ts", code),
            ]
        };
        let f = findings_of("query-missing-tenant-filter", &files("import { db } from './db';\nimport { calls } from './db/schema';\nexport const a = () => db.select().from(calls).where(eq(calls.phone, '1'));\n"));
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = findings_of("query-missing-tenant-filter", &files("import { db } from './db';\nimport { calls } from './db/schema';\nexport const a = (o: string) => db.select().from(calls).where(and(eq(calls.orgId, o), eq(calls.phone, '1')));\n"));
        assert!(f.is_empty(), "{f:#?}");
        let prisma = "import { PrismaClient } from '@prisma/client';\nconst prisma = new PrismaClient();\nexport const a = () => prisma.callLog.findMany({ where: { phone: '1' } });\nexport const b = (o: string) => prisma.callLog.findMany({ where: { orgId: o } });\n";
        let f = findings_of("query-missing-tenant-filter", &[("src/p.ts", prisma)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, Some(3));
        let sql = "import { Pool } from 'pg';\nconst pool = new Pool();\nexport const a = () => pool.query('select id from call_logs where phone = $1', ['1']);\nexport const b = (o: string) => pool.query(`select id from call_logs where org_id = ${o}`);\n";
        let f = findings_of("query-missing-tenant-filter", &[("src/s.ts", sql)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, Some(3));
    }
}
