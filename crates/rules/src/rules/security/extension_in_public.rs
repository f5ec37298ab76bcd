//! SEC004 `extension-in-public`: an extension installed in the API-exposed `public` schema.

use crate::analysis::exposure::ApiRolesSource;
use crate::{quote_ident, Context, Rule};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "SEC004",
    name: "extension-in-public",
    category: Category::Security,
    default_severity: Severity::Low,
    source: RuleSource::Schema,
    summary: "extension installed in the API-exposed `public` schema",
    docs: r#"## What it does
Lists extensions (other than `plpgsql`, which lives in `pg_catalog`) installed in the `public`
schema when an API role (`anon`, `authenticated`, or the configured ones) has USAGE on `public`.
Projects without API roles, where `public` is only reached by the backend's own role, are not
checked: there an extension in `public` is the ordinary default.

## Why it matters
Everything an extension creates lands beside the application's tables: on Supabase, its
functions become RPC endpoints (`/rest/v1/rpc/...`) that any holder of the anon key can call
(`http_get`, `crypt`, `gen_random_bytes`, ...), its tables and views show up in the API, and
its types and operators clutter the schema the API documents. It also makes `public` harder to
lock down: revoking from it breaks the extension. Supabase installs extensions into the
`extensions` schema, which the API does not expose.

## Example
```sql
create extension pg_trgm;             -- goes to the first schema of search_path: public
create extension pg_trgm schema extensions;   -- what was meant
```

## Fix
Move the extension; relocatable extensions (pgcrypto, pg_trgm, citext, uuid-ossp, hstore,
vector, ...) move in place:
```sql
create schema if not exists extensions;
alter extension pg_trgm set schema extensions;
```
Code that calls its functions schema-qualified as `public.` must change; unqualified calls keep
working when `extensions` is on the `search_path` (it is on Supabase). An extension that is not
relocatable must be dropped and re-created in `extensions`, which drops what depends on it
(indexes using its operator classes, columns of its types): plan that as a migration.
"#,
};

pub struct ExtensionInPublic;

impl Rule for ExtensionInPublic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if ctx.exposure.source == ApiRolesSource::None
            || !ctx.settings.audits_schema("public", &ctx.index)
        {
            return vec![];
        }
        let Some(public) = ctx.index.schema("public") else {
            return vec![];
        };
        // API roles that can use the schema, directly, through membership or PUBLIC.
        let reaching: Vec<&str> = ctx
            .exposure
            .api_roles
            .iter()
            .filter(|r| {
                let eff = ctx.index.effective_roles(r);
                public
                    .grants
                    .iter()
                    .any(|g| g.privilege == "USAGE" && eff.contains(&g.grantee))
            })
            .map(String::as_str)
            .collect();
        if reaching.is_empty() {
            return vec![];
        }
        ctx.catalog
            .extensions
            .iter()
            .filter(|e| e.schema == "public" && e.name != "plpgsql")
            .map(|e| {
                let ext = quote_ident(&e.name);
                META.finding(format!(
                    "extension {} is installed in schema public, which {} can use through the API",
                    e.name,
                    reaching.join(", ")
                ))
                .object(format!("extension {}", e.name))
                .impact(format!(
                    "the functions, tables and types of {} sit in the API schema: its functions \
                     are callable as RPC endpoints by API roles, and public cannot be locked down \
                     without breaking it",
                    e.name
                ))
                .evidence("extension", e.name.clone())
                .evidence("version", e.version.clone())
                .evidence("schema", "public")
                .evidence("schema_usage", reaching.clone())
                .fix(
                    format!(
                        "CREATE SCHEMA IF NOT EXISTS extensions;\n\
                         ALTER EXTENSION {ext} SET SCHEMA extensions;\n\
                         -- fails if {} is not relocatable: then drop and re-create it WITH SCHEMA \
                         extensions (drops the objects that depend on it); code calling public.<function> must change",
                        e.name
                    ),
                    FixSafety::Review,
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    #[test]
    fn extension_in_exposed_public_is_reported() {
        let cat = CatalogBuilder::supabase()
            .extension("pg_trgm", "public")
            .extension("pgcrypto", "extensions")
            .extension("plpgsql", "public")
            .build();
        let f = run(&ExtensionInPublic, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Low);
        assert_eq!(f[0].evidence["extension"], "pg_trgm");
        assert!(f[0]
            .fix
            .as_ref()
            .unwrap()
            .sql
            .contains("ALTER EXTENSION pg_trgm SET SCHEMA extensions;"));
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn plain_postgres_is_not_checked() {
        let cat = CatalogBuilder::new().extension("pg_trgm", "public").build();
        assert!(run(&ExtensionInPublic, &cat).is_empty());
    }

    #[test]
    fn public_without_api_usage_is_not_reported() {
        let cat = CatalogBuilder::supabase()
            .extension("citext", "public")
            .with(|c| {
                let p = c.schemas.iter_mut().find(|s| s.name == "public").unwrap();
                p.grants.retain(|g| {
                    g.grantee != "anon" && g.grantee != "authenticated" && g.grantee != "PUBLIC"
                });
            })
            .build();
        assert!(run(&ExtensionInPublic, &cat).is_empty());
    }
}
