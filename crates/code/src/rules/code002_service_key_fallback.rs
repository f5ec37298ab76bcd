//! CODE002 `service-key-fallback`: service-role key falling back to the anon key (SERVICE_ROLE_KEY || ANON_KEY) or to a literal.

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "CODE002",
    name: "service-key-fallback",
    category: Category::Code,
    default_severity: Severity::High,
    source: RuleSource::Code,
    summary: "service-role key falling back to the anon key (`SERVICE_ROLE_KEY || ANON_KEY`) or to a literal",
    docs: r#"## What it does
Reports expressions where the service-role key falls back to something else when it is not
set: `process.env.SUPABASE_SERVICE_ROLE_KEY || process.env.SUPABASE_ANON_KEY`, `?? 'dev-key'`, or
any string literal.

## Why it matters
When the variable is missing in one environment the code silently runs with a different key.
Falling back to the anon key turns every privileged write into an RLS-denied no-op (supabase-js
returns empty results, not errors), so data silently stops being written; falling back to a
literal ships a key in the source. Either way the failure is hidden instead of stopping the
deploy.

## Example
```ts
const supabase = createClient(
  process.env.SUPABASE_URL!,
  process.env.SUPABASE_SERVICE_ROLE_KEY || process.env.SUPABASE_ANON_KEY!,
);
```

## Fix
Fail fast, and use the shared client:
```ts
const serviceKey = process.env.SUPABASE_SERVICE_ROLE_KEY;
if (!serviceKey) throw new Error('SUPABASE_SERVICE_ROLE_KEY is not set');
export const supabaseAdmin = createClient(url, serviceKey);
```
"#,
};

use crate::analyze::Project;
use dbaudit_findings::Finding;

pub fn check(p: &Project<'_, '_>) -> Vec<Finding> {
    let mut out = vec![];
    for f in p.files {
        for k in &f.key_fallbacks {
            out.push(
                META.finding(format!(
                    "the service-role key falls back to another value when unset: {}",
                    k.text
                ))
                .file(&f.display, Some(k.line))
                .object(k.owner.clone())
                .impact("a missing SUPABASE_SERVICE_ROLE_KEY silently switches the client to another key instead of failing the deploy")
                .evidence("expression", k.text.clone())
                .with_fingerprint(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testing::findings_of;

    fn run(src: &str) -> usize {
        findings_of("service-key-fallback", &[("src/a.ts", src)]).len()
    }

    #[test]
    fn fallbacks() {
        assert_eq!(run("const k = process.env.SUPABASE_SERVICE_ROLE_KEY || process.env.SUPABASE_ANON_KEY!;\n"), 1);
        assert_eq!(
            run("const k = process.env.SUPABASE_SERVICE_ROLE_KEY ?? 'eyJhbGciOi';\n"),
            1
        );
        assert_eq!(run("const k = process.env.SUPABASE_SERVICE_ROLE_KEY!;\nconst u = process.env.URL || 'http://localhost';\n"), 0);
        assert_eq!(
            run("const k = process.env.SUPABASE_SERVICE_ROLE_KEY || '';\n"),
            0
        );
    }
}
