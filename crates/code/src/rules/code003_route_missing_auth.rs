//! CODE003 `route-missing-auth`: HTTP handler that touches the database without establishing the caller (no auth check, or proceeds when there is no user).

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "CODE003",
    name: "route-missing-auth",
    category: Category::Code,
    default_severity: Severity::High,
    source: RuleSource::Code,
    summary: "HTTP handler that touches the database without establishing the caller (no auth check, or proceeds when there is no user)",
    docs: r#"## What it does
Finds HTTP handlers (Express/Fastify routes, Next.js route handlers, server actions) that query
the database and never establish who the caller is. A handler is authenticated when:

* its router applies auth middleware before the route (`router.use(requireAuth)`; every route
  registered after the `use` is guarded), or the route lists it (`router.post('/x', requireAuth, …)`);
* the handler calls `auth.getUser()`, `auth.getSession()`, `getServerSession()`, `auth()`,
  `currentUser()`, `jwt.verify()` … and stops (returns, throws, redirects) when there is no user.

A handler that calls `getUser()` but carries on when `user` is null is reported too. Webhook
routes are `webhook-unverified`'s, not this rule's. Middleware names count when they say so
(`requireAuth`, `authenticate`, `verifyToken`, `withAuth`, `protect`, …).

## Why it matters
Anyone who finds the URL can call the handler. With a service-role client behind it, that is
anonymous read or write access to the data it touches.

## Example
```ts
router.post('/calls/send', async (req, res) => {
  const { org_id, phone } = req.body;
  await supabaseAdmin.from('call_logs').insert({ org_id, phone });
});
```

## Fix
Put the router behind the auth middleware and take the tenant from the session:
```ts
router.use(requireAuth);
router.post('/calls/send', async (req: AuthedRequest, res) => {
  await supabaseAdmin.from('call_logs').insert({ org_id: req.orgId, phone: req.body.phone });
});
```
"#,
};

use crate::analyze::Project;
use crate::model::HandlerKind;
use dbaudit_findings::Finding;

/// Paths that are public by design.
fn public_path(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    [
        "login",
        "signin",
        "sign-in",
        "signup",
        "sign-up",
        "register",
        "/auth",
        "oauth",
        "public",
        "health",
        "callback",
        "reset-password",
        "forgot",
        "unsubscribe",
        "verify",
        "webhook",
        "/hooks/",
        "invite",
    ]
    .iter()
    .any(|p| l.contains(p))
}

pub fn check(p: &Project<'_, '_>) -> Vec<Finding> {
    let mut out = vec![];
    for (fi, f, h) in p.app_handlers() {
        if h.kind == HandlerKind::Function
            || h.is_webhook
            || h.guarded_by.is_some()
            || public_path(&h.name)
        {
            continue;
        }
        if matches!(h.kind, HandlerKind::NextRoute | HandlerKind::ServerAction)
            && p.next_middleware
            && h.auth_call.is_none()
        {
            continue; // a middleware.ts establishes the session; its matcher is not read
        }
        let reason = match &h.auth_call {
            None => "establishes no caller: no auth middleware on the route or its router, no auth call in the handler".to_string(),
            Some((call, false)) => format!("calls {call}() but carries on when there is no user"),
            Some((_, true)) => continue,
        };
        // Touches the database through a client that RLS does not restrain.
        let queries: Vec<_> = p
            .handler_queries(fi, h)
            .filter_map(|q| {
                p.resolve_client(fi, &q.client)
                    .filter(|c| c.kind.bypasses_rls())
                    .map(|c| (q, c))
            })
            .collect();
        let Some((q, client)) = queries.first() else {
            continue;
        };
        out.push(
            META.finding(format!("{} {reason}, and queries {} with a {} client", h.name, q.table, client.kind.as_str()))
                .file(&f.display, Some(h.line))
                .object(h.name.clone())
                .impact("anyone who finds the URL can run the handler, and its queries are not limited by row level security")
                .evidence("handler", h.name.clone())
                .evidence("statement", q.text.clone())
                .evidence("client", client.how.clone())
                .evidence("looked_for", "router.use(<auth middleware>) before the route, auth middleware in the route's arguments, or auth.getUser()/getSession() followed by a return when there is no user")
                .with_fingerprint(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testing::findings_with_admin_lib;

    fn run(code: &str) -> Vec<dbaudit_findings::Finding> {
        findings_with_admin_lib("route-missing-auth", "src/routes/r.ts", code)
    }

    #[test]
    fn unguarded_route_is_reported() {
        let f = run("import { Router } from 'express';\nimport { admin } from '../lib/db';\nexport const r = Router();\nr.post('/calls/send', async (req, res) => {\n  await admin.from('call_logs').insert({ org_id: req.body.org_id });\n});\n");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, Some(4));
        assert_eq!(f[0].object.as_deref(), Some("POST /calls/send"));
    }

    #[test]
    fn router_middleware_guards_later_routes_only() {
        let code = "import { Router } from 'express';\nimport { admin } from '../lib/db';\nimport { requireAuth } from '../mw';\nexport const r = Router();\nr.get('/before', async (req, res) => { await admin.from('leads').select('id'); });\nr.use(requireAuth);\nr.get('/after', async (req, res) => { await admin.from('leads').select('id'); });\n";
        let f = run(code);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].object.as_deref(), Some("GET /before"));
        let code = "import { Router } from 'express';\nimport { admin } from '../lib/db';\nexport const r = Router();\nr.get('/x', authenticate, async (req, res) => { await admin.from('leads').select('id'); });\n";
        assert!(run(code).is_empty());
    }

    #[test]
    fn get_user_without_a_stop_is_reported() {
        let stops = "import { Router } from 'express';\nimport { admin } from '../lib/db';\nexport const r = Router();\nr.get('/x', async (req, res) => {\n  const { data: { user } } = await admin.auth.getUser(req.headers.authorization);\n  if (!user) return res.status(401).end();\n  await admin.from('leads').select('id').eq('org_id', user.id);\n});\n";
        assert!(run(stops).is_empty());
        let proceeds = "import { Router } from 'express';\nimport { admin } from '../lib/db';\nexport const r = Router();\nr.get('/x', async (req, res) => {\n  const { data: { user } } = await admin.auth.getUser(req.headers.authorization);\n  await admin.from('leads').select('id').eq('org_id', user?.id);\n});\n";
        let f = run(proceeds);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("carries on"));
    }

    #[test]
    fn next_route_handler_and_server_action() {
        let route = "import { admin } from '@/lib/db';\nexport async function GET() {\n  return Response.json(await admin.from('leads').select('id'));\n}\n";
        let f = findings_with_admin_lib("route-missing-auth", "src/app/api/leads/route.ts", route);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].object.as_deref(), Some("GET /api/leads"));
        let action = "'use server';\nimport { admin } from '@/lib/db';\nimport { getUser } from '@/lib/auth';\nexport async function del(id: string) {\n  const user = await getUser();\n  if (!user) throw new Error('no');\n  await admin.from('leads').delete().eq('id', id);\n}\n";
        assert!(
            findings_with_admin_lib("route-missing-auth", "src/app/actions.ts", action).is_empty()
        );
    }
}
