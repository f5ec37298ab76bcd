//! SEC003 `anon-write-grant`: INSERT, UPDATE or DELETE granted to the anonymous API role (or to
//! `PUBLIC`) on a table without row-level security.

use crate::analysis::exposure::ApiRolesSource;
use crate::{qualify, Context, Rule};
use dbaudit_catalog::{Grant, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};
use std::collections::BTreeSet;

pub static META: RuleMeta = RuleMeta {
    code: "SEC003",
    name: "anon-write-grant",
    category: Category::Security,
    default_severity: Severity::High,
    source: RuleSource::Schema,
    summary: "INSERT/UPDATE/DELETE granted to anon or PUBLIC on a table without RLS",
    docs: r#"## What it does
Finds tables with row-level security off on which the anonymous API role (Supabase's `anon`)
holds `INSERT`, `UPDATE` or `DELETE` — granted to it directly, through a role it belongs to, or
to `PUBLIC` — and tables on which any of those is granted to `PUBLIC` while an API role can
reach the schema. Column-level grants (`GRANT UPDATE (col)`) count.

`rls-disabled` reports the same tables for being readable; this rule is about the write grant,
whose fix (revoking it) is different from enabling RLS and often the right one for tables only
the backend writes. Projects with no API roles (a backend that connects with a trusted role) are
not checked.

## Why it matters
The anon key ships in every browser bundle. With a write grant and no RLS, anyone who has it can
insert rows for any tenant, rewrite existing ones or delete the whole table through the REST API,
without signing in. Supabase's default privileges grant ALL on every new `public` table to
`anon`, so a table created without `enable row level security` is writable by the internet.

## Example
```sql
create table public.stripe_events (id text primary key, payload jsonb not null);
-- Supabase's default privileges: grant all on public.stripe_events to anon, authenticated;
-- no RLS: POST /rest/v1/stripe_events with the anon key inserts a forged event.
```

## Fix
Revoke what the API roles do not need; a table only the backend (service role) writes needs no
write grant at all:
```sql
revoke insert, update, delete on public.stripe_events from anon;
alter table public.stripe_events enable row level security;
```
Check first whether any client writes the table with the anon key (a public form, say); if so,
enable RLS and write an INSERT policy that checks what the form may insert.
"#,
};

pub struct AnonWriteGrant;

const WRITES: &[&str] = &["INSERT", "UPDATE", "DELETE"];
const ANON: &str = "anon";

impl Rule for AnonWriteGrant {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if ctx.exposure.source == ApiRolesSource::None {
            return vec![];
        }
        let anon_is_api = ctx.exposure.api_roles.iter().any(|r| r == ANON);
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            if !rel.kind.is_table() || rel.rls_enabled {
                continue;
            }
            let exposure = ctx.exposure.of(rel.oid);
            if !exposure.is_exposed() {
                continue;
            }
            let anon: Vec<String> = if anon_is_api {
                exposure
                    .roles
                    .get(ANON)
                    .map(|p| writes(p.iter().map(String::as_str)))
                    .unwrap_or_default()
            } else {
                vec![]
            };
            let public = writes(public_grants(rel).map(|g| g.privilege.as_str()));
            if anon.is_empty() && public.is_empty() {
                continue;
            }
            out.push(finding(rel, &anon, &public, &exposure.roles));
        }
        out
    }
}

/// Table- and column-level grants to `PUBLIC`.
fn public_grants(rel: &Relation) -> impl Iterator<Item = &Grant> {
    rel.grants
        .iter()
        .chain(rel.columns.iter().flat_map(|c| c.grants.iter()))
        .filter(|g| g.grantee == "PUBLIC")
}

/// The write privileges among `privs`, in INSERT, UPDATE, DELETE order.
fn writes<'a>(privs: impl Iterator<Item = &'a str>) -> Vec<String> {
    let held: BTreeSet<&str> = privs.collect();
    WRITES
        .iter()
        .filter(|w| held.contains(*w))
        .map(|w| w.to_string())
        .collect()
}

fn finding(
    rel: &Relation,
    anon: &[String],
    public: &[String],
    roles: &std::collections::BTreeMap<String, Vec<String>>,
) -> Finding {
    let table = qualify(&rel.schema, &rel.name);
    let subset = anon.iter().all(|a| public.contains(a));
    let who = if public.is_empty() {
        format!("anon holds {}", anon.join(", "))
    } else if subset {
        format!(
            "PUBLIC (every role, {} included) holds {}",
            if anon.is_empty() {
                "the API roles"
            } else {
                "anon"
            },
            public.join(", ")
        )
    } else {
        format!(
            "anon holds {} and PUBLIC holds {}",
            anon.join(", "),
            public.join(", ")
        )
    };
    let mut revoke_from = vec![];
    if !anon.is_empty() {
        revoke_from.push("anon");
    }
    if !public.is_empty() {
        revoke_from.push("PUBLIC");
    }
    let revoke_privs: BTreeSet<&str> = anon.iter().chain(public).map(String::as_str).collect();
    let revoke_privs: Vec<&str> = WRITES
        .iter()
        .copied()
        .filter(|w| revoke_privs.contains(w))
        .collect();
    let mut f = META
        .finding(format!(
            "{} has row-level security off and {who} on it: {}",
            rel.qualified(),
            if anon.is_empty() {
                "every API client can write it"
            } else {
                "anyone with the anon key can write it without signing in"
            }
        ))
        .table(&rel.schema, &rel.name)
        .impact(
            "anyone holding the public anon key can insert forged rows, rewrite or delete every \
             row of this table through the API",
        )
        .evidence("rls_enabled", false)
        .evidence("api_roles", serde_json::to_value(roles).unwrap_or_default())
        .fix(
            format!(
                "REVOKE {} ON {table} FROM {};\n\
                 -- and, if API clients must keep some access, enable RLS and add policies:\n\
                 -- ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;",
                revoke_privs.join(", "),
                revoke_from.join(", ")
            ),
            FixSafety::Review,
        );
    if !anon.is_empty() {
        f = f.evidence("anon_writes", anon.to_vec());
    }
    if !public.is_empty() {
        f = f.evidence("public_writes", public.to_vec());
    }
    if let Some(rows) = rel.row_estimate {
        f = f.evidence("row_estimate", rows);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{run, run_with};
    use crate::Settings;
    use dbaudit_catalog::builder::CatalogBuilder;

    #[test]
    fn default_supabase_grants_without_rls_are_reported() {
        let cat = CatalogBuilder::supabase()
            .table(
                "public.stripe_events",
                &["id text not null", "payload jsonb"],
            )
            .supabase_grants("public.stripe_events")
            .build();
        let f = run(&AnonWriteGrant, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(
            f[0].fix.as_ref().unwrap().sql.lines().next().unwrap(),
            "REVOKE INSERT, UPDATE, DELETE ON public.stripe_events FROM anon;"
        );
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn rls_enabled_tables_are_not_reported() {
        let cat = CatalogBuilder::supabase()
            .table("public.t", &["id uuid"])
            .supabase_grants("public.t")
            .rls("public.t", true)
            .build();
        assert!(run(&AnonWriteGrant, &cat).is_empty());
    }

    #[test]
    fn read_only_anon_and_authenticated_writes_are_not_reported() {
        let cat = CatalogBuilder::supabase()
            .table("public.t", &["id uuid"])
            .grant("public.t", "anon", &["SELECT", "TRUNCATE", "REFERENCES"])
            .grant("public.t", "authenticated", &["INSERT", "UPDATE", "DELETE"])
            .build();
        assert!(run(&AnonWriteGrant, &cat).is_empty());
    }

    #[test]
    fn public_and_column_grants_count() {
        let cat = CatalogBuilder::supabase()
            .table("public.a", &["id uuid"])
            .grant("public.a", "PUBLIC", &["INSERT"])
            .table("public.b", &["id uuid", "note text"])
            .with(|c| {
                let b = c.relations.iter_mut().find(|r| r.name == "b").unwrap();
                b.columns[1].grants.push(dbaudit_catalog::Grant {
                    grantee: "anon".into(),
                    privilege: "UPDATE".into(),
                    grantable: false,
                });
            })
            .build();
        let f = run(&AnonWriteGrant, &cat);
        assert_eq!(f.len(), 2);
        let a = f.iter().find(|f| f.table.as_deref() == Some("a")).unwrap();
        assert!(
            a.message
                .contains("PUBLIC (every role, anon included) holds INSERT"),
            "{}",
            a.message
        );
        let b = f.iter().find(|f| f.table.as_deref() == Some("b")).unwrap();
        assert_eq!(b.evidence["anon_writes"][0], "UPDATE");
    }

    #[test]
    fn plain_postgres_without_api_roles_is_not_checked() {
        let cat = CatalogBuilder::new()
            .table("public.t", &["id int"])
            .grant("public.t", "PUBLIC", &["INSERT", "UPDATE", "DELETE"])
            .build();
        assert!(run(&AnonWriteGrant, &cat).is_empty());
    }

    #[test]
    fn unreachable_schema_is_not_reported() {
        let cat = CatalogBuilder::supabase()
            .schema("private")
            .table("private.t", &["id uuid"])
            .supabase_grants("private.t")
            .build();
        let settings = Settings::default();
        assert!(run_with(&AnonWriteGrant, &cat, &settings, &[]).is_empty());
    }
}
