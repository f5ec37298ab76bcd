//! SEC005 `public-bucket-allows-listing`: a `storage.objects` SELECT policy that lets anonymous
//! callers read (and so list) every file of a bucket.

use crate::{quote_ident, Context, Rule};
use dbaudit_catalog::{Policy, PolicyCommand};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "SEC005",
    name: "public-bucket-allows-listing",
    category: Category::Security,
    default_severity: Severity::Moderate,
    source: RuleSource::Schema,
    summary:
        "public storage bucket whose `storage.objects` SELECT policy lets anyone list every file",
    docs: r#"## What it does
Looks at the project's policies on Supabase's `storage.objects` and reports a permissive
`SELECT` (or `ALL`) policy for `anon` or `public` (every role) whose `USING` checks nothing but
the bucket: `bucket_id = 'avatars'` (or a list of buckets), or `true` (every bucket). Such a
policy lets a caller who has only the anon key list and download every file of the bucket.

Policies that also check the path or the owner (`storage.foldername(name)`, `owner_id`,
`auth.uid()`), policies for `authenticated` only, and tables with a restrictive policy for the
same roles are not reported.

Whether a bucket is *public* is a row of `storage.buckets` (`public = true`), which the catalog
cannot see: the finding is about the policy, which exposes the bucket's files whatever that flag
says. Check the bucket's setting in the dashboard before changing the policy.

## Why it matters
A public bucket already serves each file to whoever knows its URL; no policy is needed for that.
A SELECT policy on `storage.objects` adds listing: `storage.from('invoices').list()` with the anon
key returns every object name in the bucket, so files that were only safe because their names
were unguessable (invoices, exports, user uploads, call recordings) can be enumerated and
downloaded. For a private bucket, the same policy makes every file readable by anyone.

## Example
```sql
create policy "Public read" on storage.objects
  for select to public using (bucket_id = 'recordings');
```

## Fix
For a public bucket whose files are fetched by URL, drop the policy; downloads keep working:
```sql
drop policy "Public read" on storage.objects;
```
If clients must list files, scope the policy to what the caller owns:
```sql
create policy "Own folder" on storage.objects for select to authenticated
  using (bucket_id = 'recordings' and (storage.foldername(name))[1] = (select auth.uid())::text);
```
"#,
};

pub struct PublicBucketAllowsListing;

impl Rule for PublicBucketAllowsListing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(objects) = ctx.index.relation_named("storage", "objects") else {
            return vec![];
        };
        if ctx.index.role("anon").is_none() {
            return vec![];
        }
        let policies = ctx.index.policies(objects.oid);
        let anonymous = |p: &Policy| p.roles.iter().any(|r| r == "anon" || r == "PUBLIC");
        let reads = |p: &Policy| matches!(p.command, PolicyCommand::Select | PolicyCommand::All);
        // A restrictive policy for the same callers narrows every permissive one: stay quiet.
        if policies
            .iter()
            .any(|p| !p.permissive && anonymous(p) && reads(p))
        {
            return vec![];
        }
        let mut out = vec![];
        for p in policies {
            if !p.permissive || !anonymous(p) || !reads(p) {
                continue;
            }
            let Some(using) = p.using.as_deref() else {
                continue;
            };
            let Some(buckets) = only_bucket_check(using) else {
                continue;
            };
            out.push(finding(p, using, &buckets, objects.rls_enabled));
        }
        out
    }
}

/// What a USING expression allows when it checks nothing but the bucket: `Some([])` for every
/// bucket (`true`), `Some(buckets)` for `bucket_id = 'x'` / `bucket_id = ANY (ARRAY['x', 'y'])`,
/// `None` for anything else.
fn only_bucket_check(expr: &str) -> Option<Vec<String>> {
    let e = expr
        .replace("::character varying", "")
        .replace("::text", "");
    let e = strip_parens(e.trim());
    if e.eq_ignore_ascii_case("true") {
        return Some(vec![]);
    }
    let (lhs, rhs) = e.split_once(" = ")?;
    let (lhs, rhs) = (strip_parens(lhs.trim()), strip_parens(rhs.trim()));
    let value = if is_bucket_column(lhs) {
        rhs
    } else if is_bucket_column(rhs) {
        lhs
    } else {
        return None;
    };
    if let Some(lit) = literal(value) {
        return Some(vec![lit]);
    }
    // ANY (ARRAY['a', 'b'])
    let list = value
        .strip_prefix("ANY ")
        .map(|v| strip_parens(v.trim()))
        .and_then(|v| v.strip_prefix("ARRAY["))
        .and_then(|v| v.strip_suffix(']'))?;
    let items: Option<Vec<String>> = list.split(", ").map(|s| literal(s.trim())).collect();
    items.filter(|v| !v.is_empty())
}

fn is_bucket_column(s: &str) -> bool {
    matches!(
        s,
        "bucket_id" | "objects.bucket_id" | "storage.objects.bucket_id"
    )
}

/// A single-quoted literal with nothing around it and no quote inside.
fn literal(s: &str) -> Option<String> {
    let inner = s.strip_prefix('\'')?.strip_suffix('\'')?;
    (!inner.contains('\'')).then(|| inner.to_string())
}

/// Remove parentheses that wrap the whole text.
fn strip_parens(mut s: &str) -> &str {
    while s.starts_with('(') && s.ends_with(')') && wraps(s) {
        s = s[1..s.len() - 1].trim();
    }
    s
}

/// Whether the opening parenthesis at 0 closes at the very end.
fn wraps(s: &str) -> bool {
    let mut depth = 0i32;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return i == s.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

fn finding(p: &Policy, using: &str, buckets: &[String], rls_on: bool) -> Finding {
    let roles = p.roles.join(", ");
    let what = if buckets.is_empty() {
        "every file of every bucket".to_string()
    } else {
        format!(
            "every file of bucket{} {}",
            if buckets.len() == 1 { "" } else { "s" },
            buckets
                .iter()
                .map(|b| format!("'{b}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut f = META
        .finding(format!(
            "policy \"{}\" on storage.objects lets {} list and read {}: its USING checks only the bucket",
            p.name,
            if roles == "PUBLIC" { "anyone (PUBLIC)".to_string() } else { roles.clone() },
            what
        ))
        .table("storage", "objects")
        .policy(p.name.clone())
        .impact(
            "anyone with the anon key can enumerate the bucket's file names and download them, \
             including files that were only protected by an unguessable name",
        )
        .evidence("command", p.command.sql())
        .evidence("roles", p.roles.clone())
        .evidence("using", using)
        .evidence("buckets", buckets.to_vec())
        .evidence(
            "catalog_limitation",
            "whether the bucket is public is a storage.buckets row, which the catalog does not \
             read; the policy exposes the files either way",
        )
        .fix(
            format!(
                "-- a public bucket serves files by URL without any policy; drop it unless clients list files:\n\
                 DROP POLICY {} ON storage.objects;\n\
                 -- or scope it to the caller's own folder:\n\
                 -- CREATE POLICY ... FOR SELECT TO authenticated USING (bucket_id = '...' AND (storage.foldername(name))[1] = (select auth.uid())::text);",
                quote_ident(&p.name)
            ),
            FixSafety::Review,
        );
    if !rls_on {
        f = f.evidence("rls_enabled", false);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    fn storage() -> CatalogBuilder {
        CatalogBuilder::supabase()
            .schema_with("storage", &[("anon", "USAGE"), ("authenticated", "USAGE")])
            .table(
                "storage.objects",
                &[
                    "id uuid not null",
                    "bucket_id text",
                    "name text",
                    "owner_id text",
                ],
            )
            .rls("storage.objects", true)
            .supabase_grants("storage.objects")
    }

    fn policy(roles: &[&str], using: &str) -> CatalogBuilder {
        storage().policy(
            "storage.objects",
            "Public read",
            PolicyCommand::Select,
            roles,
            Some(using),
            None,
        )
    }

    #[test]
    fn bucket_only_policy_for_public_is_reported() {
        let cat = policy(&[], "(bucket_id = 'recordings'::text)").build();
        let f = run(&PublicBucketAllowsListing, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence["buckets"][0], "recordings");
        assert_eq!(f[0].policy.as_deref(), Some("Public read"));
        assert_eq!(f[0].table.as_deref(), Some("objects"));
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn bucket_list_and_true_are_reported() {
        assert_eq!(
            only_bucket_check("(bucket_id = ANY (ARRAY['a'::text, 'b'::text]))"),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(only_bucket_check("true"), Some(vec![]));
        assert_eq!(
            only_bucket_check("('avatars'::text = (bucket_id)::text)"),
            Some(vec!["avatars".to_string()])
        );
        let cat = policy(&["anon"], "true").build();
        assert!(run(&PublicBucketAllowsListing, &cat)[0]
            .message
            .contains("every bucket"));
    }

    #[test]
    fn scoped_policies_are_not_reported() {
        for using in [
            "((bucket_id = 'avatars'::text) AND ((storage.foldername(name))[1] = (auth.uid())::text))",
            "((bucket_id = 'avatars'::text) AND (owner_id = (auth.uid())::text))",
            "(bucket_id = 'a''b'::text)",
            "((bucket_id = 'a'::text) OR (bucket_id = 'b'::text))",
            "(name = 'x'::text)",
        ] {
            assert_eq!(only_bucket_check(using), None, "{using}");
        }
    }

    #[test]
    fn authenticated_only_and_insert_policies_are_not_reported() {
        let cat = policy(&["authenticated"], "(bucket_id = 'avatars'::text)")
            .policy(
                "storage.objects",
                "upload",
                PolicyCommand::Insert,
                &["anon"],
                None,
                Some("(bucket_id = 'avatars'::text)"),
            )
            .build();
        assert!(run(&PublicBucketAllowsListing, &cat).is_empty());
    }

    #[test]
    fn restrictive_policy_silences() {
        let cat = policy(&["anon"], "(bucket_id = 'avatars'::text)")
            .policy(
                "storage.objects",
                "narrow",
                PolicyCommand::Select,
                &["anon"],
                Some("false"),
                None,
            )
            .with(|c| c.policies.last_mut().unwrap().permissive = false)
            .build();
        assert!(run(&PublicBucketAllowsListing, &cat).is_empty());
    }

    #[test]
    fn without_storage_nothing_is_reported() {
        let cat = CatalogBuilder::supabase().build();
        assert!(run(&PublicBucketAllowsListing, &cat).is_empty());
    }
}
