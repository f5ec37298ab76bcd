//! CODE010 `type-check-suppressed`: @ts-ignore / # type: ignore on database access.

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "CODE010",
    name: "type-check-suppressed",
    category: Category::Code,
    default_severity: Severity::Low,
    source: RuleSource::Code,
    summary: "`@ts-ignore` / `# type: ignore` on database access",
    docs: r#"## What it does
Reports `// @ts-ignore`, `// @ts-expect-error` on the line before (or on) a database access, and
Python's `# type: ignore` on a line that queries the database.

## Why it matters
The type checker is what notices that a table or column is missing from the generated database
types, i.e. that the code and the schema disagree. Silencing it on a query hides exactly that
error until it happens at runtime.

## Example
```ts
// @ts-ignore table missing from generated types
const { data } = await supabaseAdmin.from('ai_conversations').insert({ org_id, title });
```

## Fix
Regenerate the types from the schema (`supabase gen types typescript --local > database.types.ts`)
or add the missing migration, then remove the suppression.
"#,
};

use crate::analyze::Project;
use dbaudit_findings::Finding;

pub fn check(p: &Project<'_, '_>) -> Vec<Finding> {
    let mut out = vec![];
    for (fi, f) in p.files.iter().enumerate() {
        for (l, text) in &f.suppressions {
            if text.contains("@ts-nocheck") {
                continue;
            }
            let python = f.display.ends_with(".py");
            let (owner, statement) = if python {
                (format!("line {l}"), text.clone())
            } else {
                // The comment's line (trailing) or the next one is part of a query.
                let Some(q) = f.queries.iter().find(|q| {
                    (q.line <= *l && *l <= q.end_line) || (q.line <= l + 1 && *l < q.end_line)
                }) else {
                    continue;
                };
                let owner = p
                    .handler_at(fi, q.line)
                    .map(|h| h.name.clone())
                    .unwrap_or_else(|| q.owner.clone());
                (
                    format!("{owner}: {} {}", q.op.as_str(), q.table),
                    q.text.clone(),
                )
            };
            out.push(
                META.finding(format!("type checking is suppressed on a database access ({})", text.trim()))
                    .file(&f.display, Some(*l))
                    .object(owner)
                    .impact("the type checker would have reported a table or column missing from the generated database types")
                    .evidence("suppression", text.clone())
                    .evidence("statement", statement)
                    .with_fingerprint(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testing::{findings_of, findings_with_admin_lib};

    #[test]
    fn suppression_on_query() {
        let code = "import { admin } from './lib/db';\nexport async function f() {\n  // @ts-ignore table missing from types\n  await admin.from('leads').insert({ org_id: 'x', phone: '1' });\n  // @ts-expect-error unrelated\n  const x: number = 'a';\n}\n";
        let f = findings_with_admin_lib("type-check-suppressed", "src/a.ts", code);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, Some(3));
        let py = "rows = session.execute(stmt)  # type: ignore\nx = foo()  # type: ignore\n";
        assert_eq!(
            findings_of("type-check-suppressed", &[("app/a.py", py)]).len(),
            1
        );
    }
}
