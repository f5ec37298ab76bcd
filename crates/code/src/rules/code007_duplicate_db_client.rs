//! CODE007 `duplicate-db-client`: database client created outside the shared module.

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "CODE007",
    name: "duplicate-db-client",
    category: Category::Code,
    default_severity: Severity::Low,
    source: RuleSource::Code,
    summary: "database client created outside the shared module",
    docs: r#"## What it does
Finds the module the code imports its database client from (the one most files import a
`createClient(...)` result from) and reports every other module that creates its own
supabase-js client. Tests, scripts and seeds are left out.

## Why it matters
Each private client re-reads the environment on its own terms: a different key, a fallback the
shared module does not have (`service-key-fallback`), other auth options. Reviews of "which code
runs with the service role" then have to read every file.

## Example
```ts
// src/services/usage-tracker.ts, while src/lib/supabase.ts exports supabaseAdmin
const supabase = createClient(process.env.SUPABASE_URL!, process.env.SUPABASE_SERVICE_ROLE_KEY!);
```

## Fix
Import the shared client: `import { supabaseAdmin } from '../lib/supabase';`.
"#,
};

use crate::analyze::Project;
use dbaudit_findings::Finding;
use std::collections::{BTreeMap, BTreeSet};

pub fn check(p: &Project<'_, '_>) -> Vec<Finding> {
    // Modules whose exported supabase-js clients other files import: module → importers.
    let mut importers: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for (fi, f) in p.files.iter().enumerate() {
        for imp in &f.imports {
            let Some(target) = p.resolve_module(fi, &imp.source) else {
                continue;
            };
            if target == fi {
                continue;
            }
            let tf = &p.files[target];
            let is_client = tf.clients.iter().any(|d| {
                d.exported && d.name == imp.imported && tf.creations.iter().any(|c| c.supabase_js)
            });
            if is_client {
                importers.entry(target).or_default().insert(fi);
            }
        }
    }
    let Some(most) = importers.values().map(BTreeSet::len).max() else {
        return vec![];
    };
    let shared: Vec<usize> = importers
        .iter()
        .filter(|(_, v)| v.len() == most || v.len() >= 2)
        .map(|(k, _)| *k)
        .collect();
    let main = *importers
        .iter()
        .find(|(_, v)| v.len() == most)
        .map(|(k, _)| k)
        .expect("max exists");
    let mut out = vec![];
    for (fi, f) in p.files.iter().enumerate() {
        if shared.contains(&fi)
            || f.is_test
            || f.display.replace('\\', "/").contains("supabase/functions/")
        {
            continue;
        }
        let Some(c) = f.creations.iter().find(|c| c.supabase_js) else {
            continue;
        };
        let shared_file = &p.files[main].display;
        out.push(
            META.finding(format!("{} creates its own supabase-js client instead of importing the shared one from {shared_file}", f.display))
                .file(&f.display, Some(c.line))
                .object(c.owner.clone())
                .impact("the key and options this client runs with are decided here, not where reviewers look for them")
                .evidence("creation", c.info.how.clone())
                .evidence("shared_module", shared_file.clone())
                .evidence("shared_module_importers", importers[&main].len())
                .with_fingerprint(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testing::{findings_of, ADMIN_LIB};

    #[test]
    fn private_client_outside_the_shared_module() {
        let user = "import { admin } from '../lib/supabase';\nexport const a = () => admin.from('leads').select('id');\n";
        let own = "import { createClient } from '@supabase/supabase-js';\nconst sb = createClient(process.env.SUPABASE_URL!, process.env.SUPABASE_SERVICE_ROLE_KEY!);\nexport const a = () => sb.from('leads').select('id');\n";
        let f = findings_of(
            "duplicate-db-client",
            &[
                ("src/lib/supabase.ts", ADMIN_LIB),
                ("src/routes/a.ts", user),
                ("src/routes/b.ts", user),
                ("src/services/own.ts", own),
                ("src/services/own.test.ts", own),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0]
            .file
            .as_deref()
            .unwrap()
            .ends_with("src/services/own.ts"));
        // No shared module: nothing to compare with.
        assert!(findings_of("duplicate-db-client", &[("src/services/own.ts", own)]).is_empty());
    }
}
