//! CODE006 `tenant-id-from-request`: tenant id taken from request body, query string or action argument instead of the session.

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "CODE006",
    name: "tenant-id-from-request",
    category: Category::Code,
    default_severity: Severity::High,
    source: RuleSource::Code,
    summary:
        "tenant id taken from request body, query string or action argument instead of the session",
    docs: r#"## What it does
Finds queries through an RLS-bypassing client whose tenant filter or written tenant column takes
its value from the request: `req.body.org_id`, `req.query.org_id`, a name destructured from them
(`const { org_id } = req.body`), `formData.get('org_id')`, or a parameter of a server action
(`'use server'`). Webhook handlers are left to `webhook-unverified` (the payload is the
provider's, once verified).

## Why it matters
The tenant filter is only as good as its value. A client that sends another organization's id
reads or writes that organization's rows: the filter is there, the isolation is not.

## Example
```ts
const { org_id, phone } = req.body;
await supabaseAdmin.from('call_logs').insert({ org_id, phone });
```

## Fix
Take the tenant from the verified session (the JWT's `app_metadata`, the membership table), set
by the auth middleware:
```ts
await supabaseAdmin.from('call_logs').insert({ org_id: req.orgId, phone: req.body.phone });
```
"#,
};

use crate::analyze::{same_column, Project};
use crate::model::Origin;
use dbaudit_findings::Finding;

pub fn check(p: &Project<'_, '_>) -> Vec<Finding> {
    let mut out = vec![];
    for (fi, f) in p.files.iter().enumerate() {
        for q in &f.queries {
            let Some(client) = p.resolve_client(fi, &q.client) else {
                continue;
            };
            if !client.kind.bypasses_rls() {
                continue;
            }
            let handler = p.handler_at(fi, q.line);
            if handler.is_some_and(|h| h.is_webhook) {
                continue;
            }
            let Some(rel) = p.relation(fi, q) else {
                continue;
            };
            let Some(tcol) = p.ctx.tenancy.tenant_column(rel.oid) else {
                continue;
            };
            let mut sources = vec![];
            for flt in &q.filters {
                if let Origin::Request(r) = &flt.origin {
                    if same_column(&p.column_name(q, &flt.column), tcol) {
                        sources.push((
                            format!("filter {}('{}')", flt.method, flt.column),
                            r.clone(),
                            flt.line,
                        ));
                    }
                }
            }
            for (c, o) in &q.written {
                if let Origin::Request(r) = o {
                    if same_column(&p.column_name(q, c), tcol) {
                        sources.push((format!("{} value {c}", q.op.as_str()), r.clone(), q.line));
                    }
                }
            }
            let Some((used, origin, line)) = sources.first().cloned() else {
                continue;
            };
            let owner = handler
                .map(|h| h.name.clone())
                .unwrap_or_else(|| q.owner.clone());
            out.push(
                META.finding(format!("{owner} takes the tenant ({}.{tcol}) from {origin}", rel.name))
                    .table(&rel.schema, &rel.name)
                    .column(tcol.to_string())
                    .file(&f.display, Some(line))
                    .object(format!("{owner}: {} {}", q.op.as_str(), rel.name))
                    .impact("a caller who sends another organization's id reads or writes that organization's rows; the client bypasses RLS, so nothing else stops it")
                    .evidence("statement", q.text.clone())
                    .evidence("tenant_value", format!("{used} = {origin}"))
                    .evidence("client", client.how.clone())
                    .with_fingerprint(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testing::findings_with_admin_lib;

    fn run(path: &'static str, code: &'static str) -> Vec<dbaudit_findings::Finding> {
        findings_with_admin_lib("tenant-id-from-request", path, code)
    }

    #[test]
    fn request_body_and_query() {
        let f = run("src/routes/a.ts", "import { admin } from '../lib/db';\nr.post('/calls', async (req, res) => {\n  const { org_id, phone } = req.body;\n  await admin.from('call_logs').insert({ org_id, phone });\n});\n");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].evidence["tenant_value"]
            .as_str()
            .unwrap()
            .contains("req.body.org_id"));
        let f = run("src/routes/a.ts", "import { admin } from '../lib/db';\nr.get('/calls', async (req, res) => {\n  await admin.from('call_logs').select('id').eq('org_id', String(req.query.org));\n});\n");
        assert_eq!(f.len(), 1, "{f:#?}");
        // From the session: fine.
        assert!(run("src/routes/a.ts", "import { admin } from '../lib/db';\nr.get('/calls', async (req, res) => {\n  await admin.from('call_logs').select('id').eq('org_id', req.orgId);\n});\n").is_empty());
        // Scope: another handler's org_id is not this one's.
        assert!(run("src/routes/a.ts", "import { admin } from '../lib/db';\nr.post('/a', async (req, res) => { const { org_id } = req.body; res.json(org_id); });\nr.get('/b', async (req, res) => { const org_id = req.orgId; await admin.from('leads').select('id').eq('org_id', org_id); });\n").is_empty());
    }

    #[test]
    fn server_action_argument() {
        let f = run("src/app/actions.ts", "'use server';\nimport { admin } from '../lib/db';\nexport async function leads(orgId: string) {\n  return admin.from('leads').select('id').eq('org_id', orgId);\n}\n");
        assert_eq!(f.len(), 1, "{f:#?}");
    }
}
