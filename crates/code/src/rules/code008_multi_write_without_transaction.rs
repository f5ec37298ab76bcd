//! CODE008 `multi-write-without-transaction`: handler with several dependent writes and no transaction.

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "CODE008",
    name: "multi-write-without-transaction",
    category: Category::Code,
    default_severity: Severity::Moderate,
    source: RuleSource::Code,
    summary: "handler with several dependent writes and no transaction",
    docs: r#"## What it does
Finds functions (route handlers, server actions, exported service functions) that perform two or
more writes where a later write uses the result of an earlier one (the new row's id), without a
transaction: no `db.transaction(…)`, `prisma.$transaction(…)`, `BEGIN`, or a single `rpc(…)`
doing the work in the database.

## Why it matters
When the second write fails (a constraint, a timeout, a deploy) the first stays: an
organization with no owner, an order without its lines. supabase-js cannot open a transaction
at all; the work has to move into a Postgres function called with `rpc`.

## Example
```ts
const { data: org } = await admin.from('organizations').insert({ name }).select('id').single();
await admin.from('memberships').insert({ org_id: org.id, user_id: user.id, role: 'owner' });
```

## Fix
Do both in one transaction: a `security definer` function called with `.rpc('create_org', …)`,
or `db.transaction(async (tx) => { … })` with Drizzle, `prisma.$transaction([...])` with Prisma.
"#,
};

use crate::analyze::Project;
use dbaudit_findings::Finding;
use std::collections::BTreeMap;

pub fn check(p: &Project<'_, '_>) -> Vec<Finding> {
    let mut out = vec![];
    for (fi, f) in p.files.iter().enumerate() {
        let mut by_owner: BTreeMap<String, Vec<&crate::model::Query>> = BTreeMap::new();
        for q in &f.queries {
            if q.owner == "<module>" || !q.op.is_write() || q.tx {
                continue;
            }
            let owner = p
                .handler_at(fi, q.line)
                .map(|h| h.name.clone())
                .unwrap_or_else(|| q.owner.clone());
            if p.handler_at(fi, q.line).is_some_and(|h| h.transactional) {
                continue;
            }
            by_owner.entry(owner).or_default().push(q);
        }
        for (owner, writes) in by_owner {
            if writes.len() < 2 {
                continue;
            }
            // A later write that uses what an earlier one returned.
            let dep = writes.iter().enumerate().find_map(|(j, later)| {
                writes[..j].iter().find_map(|earlier| {
                    earlier
                        .binds
                        .iter()
                        .find(|b| *b != "error" && later.uses.contains(b))
                        .map(|b| (*earlier, *later, b.clone()))
                })
            });
            let Some((first, second, via)) = dep else {
                continue;
            };
            out.push(
                META.finding(format!(
                    "{owner} writes {} then {} using its result ({via}), with no transaction",
                    first.table.trim_start_matches("@drizzle:").trim_start_matches("@prisma:"),
                    second.table.trim_start_matches("@drizzle:").trim_start_matches("@prisma:")
                ))
                .file(&f.display, Some(second.line))
                .object(owner.clone())
                .impact("when the second write fails the first one stays: half-created records the application does not expect")
                .evidence("writes", writes.iter().map(|q| format!("line {}: {}", q.line, q.text)).collect::<Vec<_>>())
                .evidence("depends_on", format!("line {} uses {via} from line {}", second.line, first.line))
                .evidence("looked_for", "db.transaction / prisma.$transaction / BEGIN, or an rpc() doing the writes in one function")
                .with_fingerprint(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testing::{findings_of, findings_with_admin_lib};

    fn run(code: &'static str) -> Vec<dbaudit_findings::Finding> {
        findings_with_admin_lib("multi-write-without-transaction", "src/s.ts", code)
    }

    #[test]
    fn dependent_writes() {
        let f = run("import { admin } from './lib/db';\nexport async function signup(name: string) {\n  const { data: org } = await admin.from('organizations').insert({ name }).select('id').single();\n  await admin.from('leads').insert({ org_id: org.id, phone: '1' });\n}\n");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, Some(4));
        // Independent writes, or one rpc: fine.
        assert!(run("import { admin } from './lib/db';\nexport async function f(o: string) {\n  await admin.from('leads').insert({ org_id: o, phone: '1' });\n  await admin.from('leads').insert({ org_id: o, phone: '2' });\n}\n").is_empty());
        assert!(run("import { admin } from './lib/db';\nexport async function f(name: string) {\n  const { data: org } = await admin.from('organizations').insert({ name }).select('id').single();\n  await admin.from('leads').insert({ org_id: org.id, phone: '1' });\n  await admin.rpc('x');\n}\n").is_empty());
    }

    #[test]
    fn drizzle_transaction() {
        let schema = "export const orgs = pgTable('organizations', { id: uuid('id'), name: text('name') });\nexport const leads = pgTable('leads', { id: uuid('id'), orgId: uuid('org_id'), phone: text('phone') });\n";
        let ok = "import { drizzle } from 'drizzle-orm/node-postgres';\nconst db = drizzle('x');\nexport async function f() {\n  await db.transaction(async (tx) => {\n    const [org] = await tx.insert(orgs).values({ name: 'a' }).returning();\n    await tx.insert(leads).values({ orgId: org.id, phone: '1' });\n  });\n}\n";
        assert!(findings_of(
            "multi-write-without-transaction",
            &[("src/schema.ts", schema), ("src/a.ts", ok)]
        )
        .is_empty());
        let bad = "import { drizzle } from 'drizzle-orm/node-postgres';\nconst db = drizzle('x');\nexport async function f() {\n  const [org] = await db.insert(orgs).values({ name: 'a' }).returning();\n  await db.insert(leads).values({ orgId: org.id, phone: '1' });\n}\n";
        assert_eq!(
            findings_of(
                "multi-write-without-transaction",
                &[("src/schema.ts", schema), ("src/a.ts", bad)]
            )
            .len(),
            1
        );
    }
}
