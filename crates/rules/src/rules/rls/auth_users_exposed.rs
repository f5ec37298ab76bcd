//! RLS014 `auth-users-exposed`: a view or materialized view over `auth.users` that API roles
//! can read.

use super::common::{base_relations, has_api_roles};
use crate::{qualify, Context, Rule};
use dbaudit_catalog::RelationKind;
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "RLS014",
    name: "auth-users-exposed",
    category: Category::Rls,
    default_severity: Severity::Critical,
    source: RuleSource::Schema,
    summary: "view or materialized view over `auth.users` readable by API roles",
    docs: r#"## What it does
Finds views and materialized views in the audited schemas that read `auth.users` (directly or
through other views) and that an API role can SELECT. Views with `security_invoker = true` are
left out: they read `auth.users` with the caller's rights, which the API roles do not have.

## Why it matters
`auth.users` holds every user's e-mail, phone, sign-in history and metadata, and is deliberately
outside the API. A view in `public` runs as its owner (a superuser in a migration-built database)
and a materialized view has no row-level security at all: granted to `anon` and `authenticated`
(Supabase's default for new objects in `public`), `GET /rest/v1/the_view` lists every user of
every tenant.

## Example
```sql
create view public.user_directory as select id, email, raw_user_meta_data from auth.users;
```

## Fix
Revoke it from the API roles, or replace it with a `profiles` table kept in sync by a trigger
and protected by row-level security:
```sql
revoke all on public.user_directory from anon, authenticated;
-- or
alter view public.user_directory set (security_invoker = true);  -- then it returns nothing to API roles
```
"#,
};

pub struct AuthUsersExposed;

impl Rule for AuthUsersExposed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        if !has_api_roles(ctx) {
            return vec![];
        }
        let mut out = vec![];
        for view in ctx.audited_relations() {
            let kind = match view.kind {
                RelationKind::View if !view.security_invoker => "view",
                RelationKind::MaterializedView => "materialized view",
                _ => continue,
            };
            let exposure = ctx.exposure.of(view.oid);
            let readers: Vec<&str> = exposure
                .roles
                .iter()
                .filter(|(_, p)| p.iter().any(|x| x == "SELECT"))
                .map(|(r, _)| r.as_str())
                .collect();
            if readers.is_empty() {
                continue;
            }
            let reads_auth_users = base_relations(ctx, view)
                .iter()
                .any(|b| b.schema == "auth" && b.name == "users");
            if !reads_auth_users {
                continue;
            }
            let anon = readers.contains(&"anon");
            out.push(
                META.finding(format!(
                    "{kind} {} reads auth.users and {} can select it: every user's account data \
                     is readable through the API",
                    view.qualified(),
                    readers.join(", ")
                ))
                .table(&view.schema, &view.name)
                .impact(if anon {
                    "anyone holding the anon key can list every user of every tenant (e-mail and whatever else the view selects)"
                } else {
                    "any signed-in user can list every user of every tenant (e-mail and whatever else the view selects)"
                })
                .evidence("kind", kind)
                .evidence("readable_by", readers.clone())
                .evidence("owner", view.owner.clone())
                .fix(
                    format!(
                        "REVOKE ALL ON {} FROM {};",
                        qualify(&view.schema, &view.name),
                        readers.join(", ")
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

    #[test]
    fn view_over_auth_users_granted_to_api_roles_is_reported() {
        let cat = CatalogBuilder::supabase()
            .view(
                "public.user_directory",
                &["id uuid", "email text"],
                &["auth.users"],
            )
            .supabase_grants("public.user_directory")
            .build();
        let f = run(&AuthUsersExposed, &cat);
        assert_eq!(f.len(), 1);
        assert!(f[0].impact.contains("anon key"));
        assert!(f[0]
            .fix
            .as_ref()
            .unwrap()
            .sql
            .contains("FROM anon, authenticated"));
    }

    #[test]
    fn materialized_view_and_view_chain_are_reported() {
        let cat = CatalogBuilder::supabase()
            .view("public.v1", &["id uuid"], &["auth.users"])
            .view("public.v2", &["id uuid"], &["public.v1"])
            .grant("public.v2", "authenticated", &["SELECT"])
            .view("public.mv", &["id uuid"], &["auth.users"])
            .with(|c| c.relations.last_mut().unwrap().kind = RelationKind::MaterializedView)
            .grant("public.mv", "authenticated", &["SELECT"])
            .build();
        let names: Vec<_> = run(&AuthUsersExposed, &cat)
            .into_iter()
            .map(|f| f.table.unwrap())
            .collect();
        assert_eq!(names, vec!["v2", "mv"]);
    }

    #[test]
    fn ungranted_and_invoker_views_are_fine() {
        let cat = CatalogBuilder::supabase()
            .view("public.hidden", &["id uuid"], &["auth.users"])
            .view("public.inv", &["id uuid"], &["auth.users"])
            .with(|c| c.relations.last_mut().unwrap().security_invoker = true)
            .supabase_grants("public.inv")
            .build();
        assert!(run(&AuthUsersExposed, &cat).is_empty());
    }
}
