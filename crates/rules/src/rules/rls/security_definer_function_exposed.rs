//! RLS012 `security-definer-function-exposed`: a SECURITY DEFINER function in an API-exposed
//! schema, executable by API roles, that reads or writes tenant data.

use super::common::{
    has_api_roles, is_tenant_data, source_identifies_caller, tables_in_source, ApiRoles,
};
use crate::{quote_ident, Context, Rule};
use dbaudit_catalog::Relation;
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};
use std::collections::HashSet;

pub static META: RuleMeta = RuleMeta {
    code: "RLS012",
    name: "security-definer-function-exposed",
    category: Category::Rls,
    default_severity: Severity::High,
    source: RuleSource::Schema,
    summary: "SECURITY DEFINER function in an exposed schema, executable by API roles, that reads tenant-scoped tables",
    docs: r#"## What it does
Finds SECURITY DEFINER functions of the project in a schema the API roles can use (so PostgREST
serves them as `/rest/v1/rpc/<name>`), executable by an API role or `PUBLIC` (the default for
every new function), whose body reads or writes tenant data: a table named after FROM, JOIN,
UPDATE or INTO that is tenant-scoped or the tenant root (when no tenancy was detected: any table
with row-level security). Trigger functions and procedures are left out: the API cannot call
them.

How bad it is depends on whether the body looks at the caller:

* no `auth.uid()`, `auth.jwt()` or JWT claim anywhere: `high`, whatever it returns is returned
  to any caller, for any tenant they name;
* it identifies the caller, policies call it, and it returns one value (`uuid`, `boolean`), not
  rows: not reported. That is the normal Supabase helper pattern (`current_company_id()` reading
  the membership table by `auth.uid()`, `is_member(org_id)`), which must be SECURITY DEFINER to
  read a table whose own policies call it, and tells the caller nothing about other tenants;
* it identifies the caller and takes no argument otherwise: `low`, it serves the caller's own
  data;
* it identifies the caller and takes arguments otherwise: `moderate`, since every code path must
  check the arguments against the caller, which the audit cannot prove.

## Why it matters
A SECURITY DEFINER function runs with its owner's rights — on a migration-built database, a
superuser that bypasses row-level security. Exposed through the API, `get_org_stats(org_id)` or
`search_contacts(q)` hands any signed-in user (or, through `PUBLIC`, anyone with the anon key)
the data of every tenant, no matter what the tables' policies say.

## Example
```sql
create function public.get_org_stats(p_org uuid) returns json
language sql security definer set search_path = '' as $$
  select json_build_object('calls', count(*)) from public.call_logs where org_id = p_org
$$;
-- POST /rest/v1/rpc/get_org_stats {"p_org": "<another tenant>"}
```

## Fix
Prefer SECURITY INVOKER, so the tables' policies apply; otherwise check the caller inside the
function and revoke it from the roles that do not need it:
```sql
alter function public.get_org_stats(uuid) security invoker;
-- or
revoke execute on function public.get_org_stats(uuid) from public, anon;
```
"#,
};

pub struct SecurityDefinerFunctionExposed;

impl Rule for SecurityDefinerFunctionExposed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if !has_api_roles(ctx) {
            return vec![];
        }
        let api = ApiRoles::new(ctx);
        let tenancy_known = ctx.tenancy.root.is_some();
        let protected: Vec<&Relation> = ctx
            .audited_relations()
            .filter(|r| {
                r.kind.is_table()
                    && if tenancy_known {
                        is_tenant_data(ctx, r.oid)
                    } else {
                        r.rls_enabled
                    }
            })
            .collect();
        if protected.is_empty() {
            return vec![];
        }
        // Functions the policies call.
        let in_policies: HashSet<String> = ctx
            .catalog
            .policies
            .iter()
            .flat_map(|p| p.functions.iter().cloned())
            .collect();
        let mut out = vec![];
        for f in &ctx.catalog.functions {
            // Procedures cannot be called through PostgREST.
            if !f.security_definer
                || f.kind != 'f'
                || !ctx.settings.audits_schema(&f.schema, &ctx.index)
            {
                continue;
            }
            let result = f.result.to_ascii_lowercase();
            if result == "trigger" || result == "event_trigger" {
                continue;
            }
            let Some(source) = f.source.as_deref() else {
                continue;
            };
            let schema_users = api.using_schema(ctx, &f.schema);
            if schema_users.is_empty() {
                continue;
            }
            let executing: Vec<String> = api
                .executing(f)
                .into_iter()
                .filter(|r| schema_users.contains(r))
                .collect();
            if executing.is_empty() {
                continue;
            }
            let tables = tables_in_source(source, &f.schema, &protected);
            if tables.is_empty() {
                continue;
            }
            let identifies = source_identifies_caller(source);
            let no_args = f.identity_args.trim().is_empty();
            let qualified = format!("{}.{}", f.schema, f.name);
            let used_by_policies = in_policies.contains(&qualified);
            // A scalar answer about the caller (`uuid`, `boolean`), not a set of rows.
            let scalar = !(result.starts_with("setof")
                || result.starts_with("table")
                || result.contains("json")
                || result == "record");
            let severity = match (identifies, no_args, used_by_policies && scalar) {
                (true, _, true) => continue,
                (true, true, false) => Severity::Low,
                (true, false, false) => Severity::Moderate,
                (false, _, _) => Severity::High,
            };
            let names: Vec<String> = tables.iter().map(|t| t.qualified()).collect();
            let public = f
                .grants
                .iter()
                .any(|g| g.grantee == "PUBLIC" && g.privilege == "EXECUTE");
            let message = format!(
                "SECURITY DEFINER function {} can be called through the API by {}{} and reads \
                 or writes {} as its owner ({}), bypassing row-level security{}",
                f.signature(),
                executing.join(", "),
                if public { " (EXECUTE granted to PUBLIC)" } else { "" },
                names.join(", "),
                f.owner,
                match severity {
                    Severity::High => "; it never looks at the caller (no auth.uid() or JWT claim)",
                    Severity::Moderate => "; it looks at the caller, but takes arguments every path must check against it",
                    _ => "; it only serves the caller's own data, but no policy needs it to be SECURITY DEFINER",
                }
            );
            let sig = format!(
                "{}.{}({})",
                quote_ident(&f.schema),
                quote_ident(&f.name),
                f.identity_args
            );
            let revoke_from: Vec<String> = std::iter::once("PUBLIC".to_string())
                .chain(executing.iter().cloned())
                .collect();
            let fix = format!(
                "-- Let the tables' policies apply:\nALTER FUNCTION {sig} SECURITY INVOKER;\n\
                 -- or, if clients must not call it:\n-- REVOKE EXECUTE ON FUNCTION {sig} FROM {};",
                revoke_from.join(", ")
            );
            out.push(
                META.finding(message)
                    .severity(severity)
                    .function(f.signature())
                    .impact(if severity == Severity::High {
                        format!(
                            "any caller of POST /rest/v1/rpc/{} gets what it returns from {} for \
                             every tenant",
                            f.name,
                            names.join(", ")
                        )
                    } else {
                        "its own checks, not row-level security, keep tenants apart".to_string()
                    })
                    .evidence("tables", names.clone())
                    .evidence("executable_by", executing.clone())
                    .evidence("execute_granted_to_public", public)
                    .evidence("identifies_caller", identifies)
                    .evidence("arguments", f.identity_args.clone())
                    .evidence("used_by_policies", used_by_policies)
                    .evidence("owner", f.owner.clone())
                    .fix(fix, FixSafety::Review),
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
    use dbaudit_catalog::{FkAction, Function, Grant, PolicyCommand};

    fn func(name: &str, args: &str, result: &str, source: &str, definer: bool) -> Function {
        Function {
            oid: 90000 + name.len() as u32,
            schema: "public".into(),
            name: name.into(),
            identity_args: args.into(),
            result: result.into(),
            kind: 'f',
            language: "sql".into(),
            security_definer: definer,
            volatility: 's',
            leakproof: false,
            config: vec!["search_path=\"\"".into()],
            owner: "postgres".into(),
            grants: [
                "PUBLIC",
                "anon",
                "authenticated",
                "postgres",
                "service_role",
            ]
            .iter()
            .map(|g| Grant {
                grantee: g.to_string(),
                privilege: "EXECUTE".into(),
                grantable: false,
            })
            .collect(),
            source: Some(source.into()),
            comment: None,
        }
    }

    fn project() -> CatalogBuilder {
        CatalogBuilder::supabase()
            .table("public.companies", &["id uuid not null"])
            .pk("public.companies", &["id"])
            .table(
                "public.users",
                &["id uuid not null", "company_id uuid not null"],
            )
            .pk("public.users", &["id"])
            .fk(
                "public.users",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::Cascade,
            )
            .rls("public.users", true)
            .table(
                "public.call_logs",
                &["id uuid not null", "company_id uuid not null"],
            )
            .fk(
                "public.call_logs",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::Cascade,
            )
            .rls("public.call_logs", true)
            .table(
                "public.contacts",
                &["id uuid not null", "company_id uuid not null"],
            )
            .fk(
                "public.contacts",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::Cascade,
            )
            .rls("public.contacts", true)
            .policy(
                "public.call_logs",
                "company read",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(company_id = current_company_id())"),
                None,
            )
            .with(|c| c.policies[0].functions = vec!["public.current_company_id".into()])
    }

    #[test]
    fn definer_function_reading_tenant_data_without_caller_check_is_high() {
        let cat = project()
            .with(|c| {
                c.functions.push(func(
                    "get_company_stats",
                    "p_company uuid",
                    "json",
                    "select json_build_object('calls', count(*)) from public.call_logs where company_id = p_company",
                    true,
                ))
            })
            .build();
        let f = run(&SecurityDefinerFunctionExposed, &cat);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::High);
        assert!(f[0].message.contains("public.call_logs"));
        assert!(f[0].message.contains("PUBLIC"));
    }

    #[test]
    fn tenant_helper_used_by_policies_is_the_normal_pattern() {
        let cat = project()
            .with(|c| {
                c.functions.push(func(
                    "current_company_id",
                    "",
                    "uuid",
                    "\n  select company_id from public.users where id = auth.uid()\n",
                    true,
                ))
            })
            .build();
        assert!(run(&SecurityDefinerFunctionExposed, &cat).is_empty());
    }

    #[test]
    fn membership_check_with_arguments_used_by_policies_is_the_normal_pattern() {
        let cat = project()
            .with(|c| {
                c.policies[0].functions.push("public.is_member".into());
                c.functions.push(func(
                    "is_member",
                    "p_company uuid",
                    "boolean",
                    "select exists (select 1 from public.users u where u.company_id = p_company and u.id = auth.uid())",
                    true,
                ))
            })
            .build();
        assert!(run(&SecurityDefinerFunctionExposed, &cat).is_empty());
    }

    #[test]
    fn caller_checking_function_with_arguments_is_moderate() {
        let cat = project()
            .with(|c| {
                let mut f = func(
                    "archive_contact",
                    "p_id uuid",
                    "void",
                    "begin\n  update public.contacts set archived = true\n  where id = p_id and company_id = (select company_id from public.users where id = auth.uid());\nend;",
                    true,
                );
                f.language = "plpgsql".into();
                c.functions.push(f)
            })
            .build();
        let f = run(&SecurityDefinerFunctionExposed, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Moderate);
    }

    #[test]
    fn invoker_trigger_revoked_and_unrelated_functions_are_not_reported() {
        let cat = project()
            .with(|c| {
                c.functions.push(func(
                    "stats",
                    "",
                    "json",
                    "select count(*) from public.call_logs",
                    false,
                ));
                c.functions.push(func(
                    "touch",
                    "",
                    "trigger",
                    "begin update public.call_logs set x = 1; return new; end;",
                    true,
                ));
                let mut revoked = func(
                    "admin_stats",
                    "",
                    "json",
                    "select count(*) from public.call_logs",
                    true,
                );
                revoked
                    .grants
                    .retain(|g| g.grantee == "postgres" || g.grantee == "service_role");
                c.functions.push(revoked);
                c.functions.push(func(
                    "plans",
                    "",
                    "json",
                    "select 1 -- from public.call_logs\n",
                    true,
                ));
            })
            .build();
        assert!(run(&SecurityDefinerFunctionExposed, &cat).is_empty());
    }
}
