//! SEC002 `auth-users-link-missing`: a Supabase profile table keyed by the auth user's id with no
//! foreign key to `auth.users`.

use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Column, ConstraintKind, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "SEC002",
    name: "auth-users-link-missing",
    category: Category::Security,
    default_severity: Severity::Moderate,
    source: RuleSource::Schema,
    summary: "Supabase profile table (`users`/`profiles` keyed by the auth user id) with no FK to `auth.users` ON DELETE CASCADE",
    docs: r#"## What it does
On Supabase projects (where `auth.users` exists), looks at the application's profile table: an
audited table named `users`, `profiles` or `user_profiles` (or the users table the tenancy
model found) whose primary key is a single `uuid` column named `id` or `user_id` with no default
(or `default auth.uid()`): a key that can only come from `auth.users`. It reports the table when
no foreign key of it references `auth.users`.

A foreign key that exists but does not cascade is `cascade-delete-blocked`'s finding, not this
one; a profile table whose key has its own default (`gen_random_uuid()`) is not keyed by the auth
user and is left alone.

## Why it matters
Nothing ties the profile row to the account it mirrors. Deleting a user from the Supabase
dashboard or with `auth.admin.deleteUser()` leaves the profile behind, with its tenant
membership and everything that hangs off it; a profile can be created for an id that is no
account at all; and a later sign-up that reuses nothing still finds stale rows in reports and
joins.

## Example
```sql
create table public.users (
  id uuid primary key,               -- the auth user's id, but no FK says so
  company_id uuid not null references public.companies(id),
  email text not null
);
```

## Fix
Add the foreign key without checking old rows first, then validate it (which only takes a
`SHARE UPDATE EXCLUSIVE` lock). Remove or fix profile rows with no auth user first, or the
validation fails:
```sql
-- select id from public.users u where not exists (select 1 from auth.users a where a.id = u.id);
alter table public.users
  add constraint users_id_fkey foreign key (id) references auth.users(id) on delete cascade not valid;
alter table public.users validate constraint users_id_fkey;
```
`on delete cascade` makes deleting an account delete its profile, and whatever cascades from
the profile: check that this is the intended behaviour.
"#,
};

pub struct AuthUsersLinkMissing;

const PROFILE_TABLES: &[&str] = &["users", "profiles", "user_profiles"];

impl Rule for AuthUsersLinkMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(auth_users) = ctx.index.relation_named("auth", "users") else {
            return vec![];
        };
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            if !rel.kind.is_table() || rel.oid == auth_users.oid || rel.partition_of.is_some() {
                continue;
            }
            let named = PROFILE_TABLES.contains(&rel.name.as_str());
            if !named && ctx.tenancy.users_table != Some(rel.oid) {
                continue;
            }
            let Some(key) = auth_key(ctx, rel) else {
                continue;
            };
            let linked = ctx.index.foreign_keys(rel.oid).any(|fk| {
                fk.foreign_key
                    .as_ref()
                    .is_some_and(|k| k.ref_table == auth_users.oid)
            });
            if linked {
                continue;
            }
            out.push(finding(ctx, rel, key));
        }
        out
    }
}

/// The primary key column when it looks like the auth user's id: one `uuid` column named `id`
/// or `user_id`, with no default of its own (or `auth.uid()`).
fn auth_key<'a>(ctx: &Context<'_>, rel: &'a Relation) -> Option<&'a Column> {
    let pk = ctx.index.primary_key(rel.oid)?;
    let [name] = pk.columns.as_slice() else {
        return None;
    };
    if name != "id" && name != "user_id" {
        return None;
    }
    let col = rel.column(name)?;
    let own_default = col
        .default
        .as_deref()
        .is_some_and(|d| !d.contains("auth.uid()"));
    (col.base_type_name == "uuid" && !own_default && col.identity.is_none() && !col.generated)
        .then_some(col)
}

fn finding(ctx: &Context<'_>, rel: &Relation, key: &Column) -> Finding {
    let table = qualify(&rel.schema, &rel.name);
    let col = quote_ident(&key.name);
    let mut name = format!("{}_{}_fkey", rel.name, key.name);
    let taken = |n: &str| ctx.index.constraints(rel.oid).iter().any(|c| c.name == n);
    if taken(&name) {
        name = format!("{}_{}_auth_users_fkey", rel.name, key.name);
    }
    let name = quote_ident(&name);
    // Supporting evidence: policies and functions that compare the key with auth.uid().
    let with_uid: Vec<String> = ctx
        .index
        .policies(rel.oid)
        .iter()
        .filter(|p| {
            [&p.using, &p.with_check].iter().any(|e| {
                e.as_deref()
                    .is_some_and(|e| mentions(e, &key.name) && e.contains("auth.uid()"))
            })
        })
        .map(|p| format!("policy \"{}\"", p.name))
        .chain(
            ctx.catalog
                .functions
                .iter()
                .filter(|f| {
                    f.source.as_deref().is_some_and(|s| {
                        let s = s.to_ascii_lowercase();
                        s.contains("auth.uid()")
                            && mentions(&s, &rel.name)
                            && mentions(&s, &key.name)
                    })
                })
                .map(|f| format!("function {}", f.signature())),
        )
        .collect();
    let other_fks: Vec<String> = ctx
        .index
        .foreign_keys(rel.oid)
        .filter_map(|fk| {
            fk.foreign_key
                .as_ref()
                .map(|k| format!("{} → {}.{}", fk.name, k.ref_schema, k.ref_name))
        })
        .collect();
    let default = key.default.clone().unwrap_or_else(|| "none".into());
    let referencing = ctx
        .index
        .referenced_by(rel.oid)
        .iter()
        .filter(|c| c.kind == ConstraintKind::ForeignKey)
        .count();
    let mut f = META
        .finding(format!(
            "{}.{} holds the auth user's id (uuid primary key, no default of its own) but no \
             foreign key references auth.users",
            rel.qualified(),
            key.name
        ))
        .table(&rel.schema, &rel.name)
        .column(key.name.clone())
        .impact(format!(
            "deleting an account from auth.users leaves its {} row behind{}; rows can be \
             created for ids that are no account",
            rel.qualified(),
            match referencing {
                0 => String::new(),
                1 => " (and the rows that reference it through 1 foreign key)".into(),
                n => format!(" (and the rows that reference it through {n} foreign keys)"),
            }
        ))
        .evidence("key_column", key.name.clone())
        .evidence("key_type", key.type_name.clone())
        .evidence("key_default", default)
        .evidence("looked_for", "a foreign key from this table to auth.users")
        .evidence("foreign_keys", other_fks)
        .fix(
            format!(
                "-- rows with no auth user make VALIDATE fail; find them first:\n\
                 -- SELECT {col} FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM auth.users a WHERE a.id = t.{col});\n\
                 ALTER TABLE {table}\n  ADD CONSTRAINT {name} FOREIGN KEY ({col}) REFERENCES auth.users(id) ON DELETE CASCADE NOT VALID;\n\
                 ALTER TABLE {table} VALIDATE CONSTRAINT {name};"
            ),
            FixSafety::Review,
        );
    if !with_uid.is_empty() {
        f = f.evidence("compared_with_auth_uid", with_uid);
    }
    f
}

/// Whether `text` mentions `word` as a whole identifier.
fn mentions(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::{FkAction, PolicyCommand};

    fn callengo() -> CatalogBuilder {
        CatalogBuilder::supabase()
            .table("public.companies", &["id uuid not null"])
            .pk("public.companies", &["id"])
            .column_default("public.companies", "id", "gen_random_uuid()")
            .table(
                "public.users",
                &[
                    "id uuid not null",
                    "company_id uuid not null",
                    "email text not null",
                ],
            )
            .pk("public.users", &["id"])
            .fk(
                "public.users",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::Cascade,
            )
    }

    #[test]
    fn callengo_users_is_reported() {
        let cat = callengo()
            .table(
                "public.notifications",
                &["id uuid not null", "user_id uuid"],
            )
            .fk(
                "public.notifications",
                &["user_id"],
                "public.users",
                &["id"],
                FkAction::Cascade,
            )
            .policy(
                "public.users",
                "read own",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(id = auth.uid())"),
                None,
            )
            .build();
        let f = run(&AuthUsersLinkMissing, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].table.as_deref(), Some("users"));
        assert_eq!(f[0].column.as_deref(), Some("id"));
        assert_eq!(
            f[0].evidence["compared_with_auth_uid"][0],
            "policy \"read own\""
        );
        let fix = &f[0].fix.as_ref().unwrap().sql;
        assert!(
            fix.contains("REFERENCES auth.users(id) ON DELETE CASCADE NOT VALID"),
            "{fix}"
        );
        assert!(fix.contains("VALIDATE CONSTRAINT users_id_fkey"), "{fix}");
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn linked_profile_is_not_reported() {
        let cat = callengo()
            .fk(
                "public.users",
                &["id"],
                "auth.users",
                &["id"],
                FkAction::Cascade,
            )
            .build();
        assert!(run(&AuthUsersLinkMissing, &cat).is_empty());
    }

    #[test]
    fn non_cascading_link_is_left_to_cascade_delete_blocked() {
        let cat = callengo()
            .fk(
                "public.users",
                &["id"],
                "auth.users",
                &["id"],
                FkAction::NoAction,
            )
            .build();
        assert!(run(&AuthUsersLinkMissing, &cat).is_empty());
    }

    #[test]
    fn table_with_its_own_generated_key_is_not_reported() {
        let cat = CatalogBuilder::supabase()
            .table("public.profiles", &["id uuid not null", "user_id uuid"])
            .pk("public.profiles", &["id"])
            .column_default("public.profiles", "id", "gen_random_uuid()")
            .table("public.users", &["id bigint not null"])
            .pk("public.users", &["id"])
            .build();
        assert!(run(&AuthUsersLinkMissing, &cat).is_empty());
    }

    #[test]
    fn auth_uid_default_is_still_the_auth_key() {
        let cat = CatalogBuilder::supabase()
            .table("public.profiles", &["user_id uuid not null"])
            .pk("public.profiles", &["user_id"])
            .column_default("public.profiles", "user_id", "auth.uid()")
            .build();
        assert_eq!(run(&AuthUsersLinkMissing, &cat).len(), 1);
    }

    #[test]
    fn without_supabase_auth_nothing_is_reported() {
        let cat = CatalogBuilder::new()
            .table("public.users", &["id uuid not null"])
            .pk("public.users", &["id"])
            .build();
        assert!(run(&AuthUsersLinkMissing, &cat).is_empty());
    }

    #[test]
    fn other_tables_are_not_reported() {
        let cat = CatalogBuilder::supabase()
            .table("public.documents", &["id uuid not null"])
            .pk("public.documents", &["id"])
            .build();
        assert!(run(&AuthUsersLinkMissing, &cat).is_empty());
    }

    #[test]
    fn identifiers_are_matched_whole() {
        assert!(mentions("from public.users where id = auth.uid()", "users"));
        assert!(!mentions("from public.users_meta", "users"));
        assert!(!mentions("where user_id = 1", "id"));
    }
}
