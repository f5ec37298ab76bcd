//! SEC006 `foreign-table-in-api`: a foreign table (which cannot have RLS) readable by API roles.

use crate::analysis::exposure::ApiRolesSource;
use crate::{qualify, Context, Rule};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "SEC006",
    name: "foreign-table-in-api",
    category: Category::Security,
    default_severity: Severity::Moderate,
    source: RuleSource::Schema,
    summary: "foreign table (no RLS) readable by API roles",
    docs: r#"## What it does
Finds foreign tables (`postgres_fdw`, Supabase Wrappers such as the Stripe or Firebase wrapper,
`file_fdw`, ...) in the audited schemas on which an API role (`anon`, `authenticated`, or the
configured ones) holds a privilege and whose schema it can use.

## Why it matters
Row-level security cannot be enabled on a foreign table, so a grant is all there is: every row
the remote server returns — every Stripe customer, every row of another database — is readable
by every caller the grant reaches, with the credentials stored in the foreign server's user
mapping. Supabase's default privileges grant new objects in `public` to `anon` and
`authenticated`, so a wrapper created there is exposed at once.

## Example
```sql
create foreign table public.stripe_customers (id text, email text, name text)
  server stripe_server options (object 'customers');
-- readable at /rest/v1/stripe_customers with the anon key
```

## Fix
Keep foreign tables in a schema the API does not expose, and read them from the server (or
through a SECURITY DEFINER function that checks the caller):
```sql
create schema if not exists private;
alter foreign table public.stripe_customers set schema private;
-- or, to keep it where it is:
revoke all on public.stripe_customers from anon, authenticated;
```
"#,
};

pub struct ForeignTableInApi;

impl Rule for ForeignTableInApi {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if ctx.exposure.source == ApiRolesSource::None {
            return vec![];
        }
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            if rel.kind != dbaudit_catalog::RelationKind::ForeignTable {
                continue;
            }
            let exposure = ctx.exposure.of(rel.oid);
            if !exposure.is_exposed() {
                continue;
            }
            let roles: Vec<&str> = exposure.roles.keys().map(String::as_str).collect();
            let privileges = exposure.privileges();
            let table = qualify(&rel.schema, &rel.name);
            let impact = if exposure.can_write() {
                "every row the remote server returns is readable, and writable, by every caller \
                 the grant reaches; no RLS can narrow it"
            } else {
                "every row the remote server returns is readable by every caller the grant \
                 reaches; no RLS can narrow it"
            };
            out.push(
                META.finding(format!(
                    "foreign table {} cannot have row-level security and {} can {} it through the API",
                    rel.qualified(),
                    roles.join(", "),
                    privileges.join(", ")
                ))
                .table(&rel.schema, &rel.name)
                .impact(impact)
                .evidence("kind", "foreign table")
                .evidence(
                    "api_roles",
                    serde_json::to_value(&exposure.roles).unwrap_or_default(),
                )
                .fix(
                    format!(
                        "REVOKE ALL ON {table} FROM {};\n\
                         -- or move it out of the API's reach:\n\
                         -- CREATE SCHEMA IF NOT EXISTS private;\n\
                         -- ALTER FOREIGN TABLE {table} SET SCHEMA private;",
                        roles.join(", ")
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
    use dbaudit_catalog::RelationKind;

    fn foreign(b: CatalogBuilder, name: &str) -> CatalogBuilder {
        let (_, t) = name.split_once('.').unwrap();
        let t = t.to_string();
        b.table(name, &["id text", "email text"]).with(move |c| {
            c.relations.iter_mut().find(|r| r.name == t).unwrap().kind = RelationKind::ForeignTable
        })
    }

    #[test]
    fn exposed_foreign_table_is_reported() {
        let cat = foreign(CatalogBuilder::supabase(), "public.stripe_customers")
            .grant("public.stripe_customers", "anon", &["SELECT"])
            .grant("public.stripe_customers", "authenticated", &["SELECT"])
            .build();
        let f = run(&ForeignTableInApi, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Moderate);
        assert!(
            f[0].message.contains("anon, authenticated can SELECT"),
            "{}",
            f[0].message
        );
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn ungranted_or_private_foreign_tables_are_not_reported() {
        let b = foreign(CatalogBuilder::supabase(), "public.stripe_customers");
        let b = foreign(b.schema("private"), "private.remote");
        let cat = b.grant("private.remote", "anon", &["SELECT"]).build();
        assert!(run(&ForeignTableInApi, &cat).is_empty());
    }

    #[test]
    fn ordinary_tables_and_plain_postgres_are_not_reported() {
        let cat = CatalogBuilder::supabase()
            .table("public.t", &["id uuid"])
            .supabase_grants("public.t")
            .build();
        assert!(run(&ForeignTableInApi, &cat).is_empty());
        let cat = foreign(CatalogBuilder::new(), "public.remote")
            .grant("public.remote", "PUBLIC", &["SELECT"])
            .build();
        assert!(run(&ForeignTableInApi, &cat).is_empty());
    }
}
