//! RLS013 `function-search-path-mutable`: a function without a fixed `search_path`.

use super::common::{has_api_roles, ApiRoles};
use crate::{quote_ident, Context, Rule};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS013",
    name: "function-search-path-mutable",
    category: Category::Rls,
    default_severity: Severity::Moderate,
    source: RuleSource::Schema,
    summary: "function (SECURITY DEFINER ones above all) without a fixed `search_path`; plain SQL functions left unpinned so they can be inlined are `low`",
    docs: r#"## What it does
Finds the project's functions and procedures (not those of extensions or of Supabase's schemas)
that do not pin `search_path` with `SET search_path = ...` (`proconfig`). Severity follows what
a hijacked name could do:

* SECURITY DEFINER, executable by an API role or `PUBLIC`: `high`; by nobody else: `moderate`;
* any other function: `moderate`;
* a plain SQL function that is not SECURITY DEFINER: `low`, since pinning `search_path` keeps
  Postgres from inlining it into the calling query, which can cost more than it protects.

C and internal functions are left out. Without API roles (a backend that connects with a
trusted role), only SECURITY DEFINER functions are reported, at `moderate`: they are the ones
another database role could turn against their owner.

## Why it matters
Unqualified names in a function body (`users`, `now()`, even `=`) are resolved through the
caller's `search_path` at run time. Whoever can create objects in a schema that comes earlier in
that path — or set the path themselves before calling — can make the function use their table or
function instead. In a SECURITY DEFINER function that runs their code with the owner's rights,
a classic privilege escalation; Supabase's own linter flags every such function.

## Example
```sql
create function public.current_company_id() returns uuid
language sql stable security definer as $$
  select company_id from users where id = auth.uid()
$$;
```

## Fix
Pin the path, and schema-qualify what the body uses:
```sql
alter function public.current_company_id() set search_path = '';
-- and write public.users in the body; or: set search_path = public, pg_temp
```
"#,
};

pub struct FunctionSearchPathMutable;

impl Rule for FunctionSearchPathMutable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let api_present = has_api_roles(ctx);
        let api = ApiRoles::new(ctx);
        let mut out = vec![];
        for f in &ctx.catalog.functions {
            if !matches!(f.kind, 'f' | 'p')
                || matches!(f.language.as_str(), "c" | "internal")
                || f.search_path().is_some()
                || !ctx.settings.audits_schema(&f.schema, &ctx.index)
            {
                continue;
            }
            if !api_present && !f.security_definer {
                continue;
            }
            let executing = if api_present {
                let users = api.using_schema(ctx, &f.schema);
                api.executing(f)
                    .into_iter()
                    .filter(|r| users.contains(r))
                    .collect::<Vec<_>>()
            } else {
                vec![]
            };
            let (severity, why) = if f.security_definer {
                if executing.is_empty() {
                    (
                        Severity::Moderate,
                        "it is SECURITY DEFINER: names in its body resolve through the caller's \
                         search_path but run with its owner's rights"
                            .to_string(),
                    )
                } else {
                    (
                        Severity::High,
                        format!(
                            "it is SECURITY DEFINER and {} can call it: names in its body resolve \
                             through the caller's search_path but run with its owner's rights",
                            executing.join(", ")
                        ),
                    )
                }
            } else if f.language == "sql" {
                (
                    Severity::Low,
                    "a plain SQL function; pinning search_path stops Postgres from inlining it, \
                     so schema-qualifying its names may be the better fix"
                        .to_string(),
                )
            } else {
                (
                    Severity::Moderate,
                    "names in its body resolve through the caller's search_path".to_string(),
                )
            };
            let sig = format!(
                "{}.{}({})",
                quote_ident(&f.schema),
                quote_ident(&f.name),
                f.identity_args
            );
            let kind = if f.kind == 'p' {
                "PROCEDURE"
            } else {
                "FUNCTION"
            };
            out.push(
                META.finding(format!(
                    "{} {} has no fixed search_path: {}",
                    if f.kind == 'p' {
                        "procedure"
                    } else {
                        "function"
                    },
                    f.signature(),
                    why
                ))
                .severity(severity)
                .function(f.signature())
                .impact(if f.security_definer {
                    "a caller who controls search_path (or can create objects in a schema on it) \
                     can run their own code with the function owner's rights"
                } else {
                    "the function can resolve its names to objects someone else created earlier \
                     on the search_path"
                })
                .evidence("security_definer", f.security_definer)
                .evidence("language", f.language.clone())
                .evidence("volatility", f.volatility.to_string())
                .evidence("executable_by_api_roles", executing.clone())
                .fix(
                    format!(
                        "ALTER {kind} {sig} SET search_path = '';\n-- then schema-qualify every \
                         name its body uses (public.users, pg_catalog.now())"
                    ),
                    FixSafety::Review,
                ),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::{Function, Grant};

    fn func(
        name: &str,
        language: &str,
        definer: bool,
        config: &[&str],
        grants: &[&str],
    ) -> Function {
        Function {
            oid: 90000 + name.len() as u32,
            schema: "public".into(),
            name: name.into(),
            identity_args: String::new(),
            result: "uuid".into(),
            kind: 'f',
            language: language.into(),
            security_definer: definer,
            volatility: 's',
            leakproof: false,
            config: config.iter().map(|s| s.to_string()).collect(),
            owner: "postgres".into(),
            grants: grants
                .iter()
                .map(|g| Grant {
                    grantee: g.to_string(),
                    privilege: "EXECUTE".into(),
                    grantable: false,
                })
                .collect(),
            source: Some("select 1".into()),
            comment: None,
        }
    }

    fn severities(cat: &dbaudit_catalog::Catalog) -> Vec<(String, Severity)> {
        run(&FunctionSearchPathMutable, cat)
            .into_iter()
            .map(|f| (f.function.unwrap(), f.severity))
            .collect()
    }

    #[test]
    fn severities_follow_the_risk() {
        let cat = CatalogBuilder::supabase()
            .with(|c| {
                c.functions
                    .push(func("definer_public", "plpgsql", true, &[], &["PUBLIC"]));
                c.functions
                    .push(func("definer_private", "sql", true, &[], &["postgres"]));
                c.functions
                    .push(func("trigger_fn", "plpgsql", false, &[], &["PUBLIC"]));
                c.functions
                    .push(func("inlinable", "sql", false, &[], &["PUBLIC"]));
                c.functions.push(func(
                    "pinned",
                    "sql",
                    true,
                    &["search_path=\"\""],
                    &["PUBLIC"],
                ));
                c.functions.push(func(
                    "pinned_public",
                    "plpgsql",
                    true,
                    &["search_path=public"],
                    &["PUBLIC"],
                ));
                let mut managed = func("uid", "sql", false, &[], &["PUBLIC"]);
                managed.schema = "auth".into();
                c.functions.push(managed);
                c.functions.push(func("c_fn", "c", true, &[], &["PUBLIC"]));
            })
            .build();
        let s = severities(&cat);
        assert_eq!(
            s,
            vec![
                ("public.definer_public()".to_string(), Severity::High),
                ("public.definer_private()".to_string(), Severity::Moderate),
                ("public.trigger_fn()".to_string(), Severity::Moderate),
                ("public.inlinable()".to_string(), Severity::Low),
            ]
        );
    }

    #[test]
    fn without_api_roles_only_definer_functions() {
        let cat = CatalogBuilder::new()
            .with(|c| {
                c.functions
                    .push(func("definer", "plpgsql", true, &[], &["PUBLIC"]));
                c.functions
                    .push(func("plain", "plpgsql", false, &[], &["PUBLIC"]));
            })
            .build();
        assert_eq!(
            severities(&cat),
            vec![("public.definer()".to_string(), Severity::Moderate)]
        );
    }
}
