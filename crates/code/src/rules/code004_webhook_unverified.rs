//! CODE004 `webhook-unverified`: webhook handler that writes without verifying a signature.

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "CODE004",
    name: "webhook-unverified",
    category: Category::Code,
    default_severity: Severity::High,
    source: RuleSource::Code,
    summary: "webhook handler that writes without verifying a signature",
    docs: r#"## What it does
Finds webhook handlers (routes whose path or handler name says `webhook`, `callback` from a
provider) that write to the database and never verify the sender: no
`stripe.webhooks.constructEvent(…)`, no `Webhook.verify`, no HMAC computed with
`createHmac` and compared (`timingSafeEqual`), no provider helper (`validateRequest`,
`verifySignature`, …) in the handler or in its route middleware.

## Why it matters
A webhook endpoint is public by design. Without a signature check anyone can post a forged
event: mark calls completed, attach recordings, upgrade a plan, or, when the payload carries the
tenant id, write into any tenant.

## Example
```ts
webhooks.post('/webhooks/bland', async (req, res) => {
  const { call_id, status } = req.body;
  await supabaseAdmin.from('call_logs').update({ status }).eq('id', call_id);
});
```

## Fix
Verify the provider's signature over the raw body before touching anything:
```ts
const expected = createHmac('sha256', process.env.BLAND_WEBHOOK_SECRET!).update(rawBody).digest('hex');
if (!timingSafeEqual(Buffer.from(expected), Buffer.from(req.header('x-signature') ?? ''))) {
  return res.status(401).end();
}
```
"#,
};

use crate::analyze::Project;
use dbaudit_findings::Finding;

pub fn check(p: &Project<'_, '_>) -> Vec<Finding> {
    let mut out = vec![];
    for (fi, f, h) in p.app_handlers() {
        if !h.is_webhook || h.verification.is_some() {
            continue;
        }
        let writes: Vec<_> = p
            .handler_queries(fi, h)
            .filter(|q| q.op.is_write())
            .collect();
        let Some(q) = writes.first() else { continue };
        out.push(
            META.finding(format!("webhook {} writes to {} without verifying the sender's signature", h.name, q.table))
                .file(&f.display, Some(h.line))
                .object(h.name.clone())
                .impact("anyone can post a forged event to this public endpoint and have it written to the database")
                .evidence("handler", h.name.clone())
                .evidence("statement", q.text.clone())
                .evidence("writes", writes.iter().map(|q| format!("{} {} (line {})", q.op.as_str(), q.table, q.line)).collect::<Vec<_>>())
                .evidence("looked_for", "constructEvent / verify / createHmac + timingSafeEqual / validateRequest in the handler or a signature middleware on the route")
                .with_fingerprint(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testing::findings_with_admin_lib;

    #[test]
    fn unverified_and_verified_webhooks() {
        let code = "import { Router } from 'express';\nimport { admin } from '../lib/db';\nexport const w = Router();\nw.post('/webhooks/telephony', async (req, res) => {\n  await admin.from('call_logs').update({ status: req.body.status }).eq('id', req.body.id);\n  res.end();\n});\nw.post('/webhooks/stripe', async (req, res) => {\n  const event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], secret);\n  await admin.from('organizations').update({ plan: 'pro' }).eq('id', event.data.object.id);\n});\nw.post('/webhooks/other', async (req, res) => {\n  const mac = createHmac('sha256', secret).update(req.rawBody).digest('hex');\n  if (!timingSafeEqual(Buffer.from(mac), Buffer.from(sig))) return res.status(401).end();\n  await admin.from('leads').insert({ org_id: req.body.org_id, phone: '1' });\n});\nw.post('/webhooks/read', async (req, res) => {\n  await admin.from('leads').select('id');\n});\n";
        let f = findings_with_admin_lib("webhook-unverified", "src/routes/webhooks.ts", code);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, Some(4));
        assert_eq!(f[0].object.as_deref(), Some("POST /webhooks/telephony"));
        // Not route-missing-auth's either.
        assert!(
            findings_with_admin_lib("route-missing-auth", "src/routes/webhooks.ts", code)
                .is_empty()
        );
    }
}
