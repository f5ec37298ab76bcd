//! INT008 `updated-at-without-trigger`: an `updated_at` column with no trigger that sets it.

use super::{audited_table, ident_name};
use crate::analysis::exposure::ApiRolesSource;
use crate::analysis::relationships::snake;
use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Function, Oid, Relation, Trigger};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};
use std::collections::HashMap;

pub static META: RuleMeta = RuleMeta {
    code: "INT008",
    name: "updated-at-without-trigger",
    category: Category::Integrity,
    default_severity: Severity::Low,
    source: RuleSource::Schema,
    summary: "`updated_at` column with no trigger that sets it",
    docs: r#"## What it does
Finds tables with an `updated_at` (or `updatedAt`, `modified_at`) column and no enabled
`BEFORE UPDATE ... FOR EACH ROW` trigger that sets it. A trigger counts when its function's body
assigns the column (`new.updated_at = now()`), or the function is one of the usual helpers:
`moddatetime` (the extension), `set_updated_at`, `update_updated_at`, `update_updated_at_column`,
`handle_updated_at`, `trigger_set_timestamp`, `set_timestamp`, `touch_updated_at`.

When no role of the API can reach the database (a Drizzle, Prisma or SQLAlchemy backend that
connects with its own role), the ORM usually sets the column (`@updatedAt`, `$onUpdate`), so the
finding is lowered to `info`.

## Why it matters
A column named `updated_at` that nothing updates keeps its insert time forever: sync jobs that
fetch "rows changed since", caches and audit screens silently miss every change made by a path
that forgot to set it (a SQL editor, a migration, another service, the Supabase client).

## Example
```sql
create table public.contacts (
  id uuid primary key,
  status text not null,
  updated_at timestamptz not null default now()   -- set on insert only
);
```

## Fix
Reuse the project's trigger function when it has one, else create it:
```sql
create or replace function public.set_updated_at() returns trigger
language plpgsql as $$ begin new.updated_at = now(); return new; end $$;

create trigger set_contacts_updated_at before update on public.contacts
  for each row execute function public.set_updated_at();
```
"#,
};

pub struct UpdatedAtWithoutTrigger;

const COLUMNS: &[&str] = &[
    "updated_at",
    "modified_at",
    "updated_on",
    "last_modified_at",
];
const HELPERS: &[&str] = &[
    "moddatetime",
    "set_updated_at",
    "update_updated_at",
    "update_updated_at_column",
    "handle_updated_at",
    "trigger_set_timestamp",
    "set_timestamp",
    "update_timestamp",
    "touch_updated_at",
    "set_current_timestamp_updated_at",
    "update_modified_column",
];

impl Rule for UpdatedAtWithoutTrigger {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let functions: HashMap<Oid, &Function> =
            ctx.catalog.functions.iter().map(|f| (f.oid, f)).collect();
        let mut candidates: Vec<(&Relation, &str)> = vec![];
        // Triggers that already do the job elsewhere: the pattern to follow.
        let mut used: Vec<(&Trigger, &Relation, usize)> = vec![];
        for rel in ctx.audited_relations() {
            let Some(rel) = audited_table(ctx, rel.oid) else {
                continue;
            };
            let Some(col) = rel
                .columns
                .iter()
                .find(|c| !c.generated && COLUMNS.contains(&snake(&c.name).as_str()))
            else {
                continue;
            };
            let setter = ctx
                .index
                .triggers(rel.oid)
                .iter()
                .copied()
                .find(|t| sets_column(t, &functions, &col.name));
            match setter {
                Some(t) => match used.iter_mut().find(|(u, _, _)| u.function == t.function) {
                    Some((_, _, n)) => *n += 1,
                    None => used.push((t, rel, 1)),
                },
                None => candidates.push((rel, col.name.as_str())),
            }
        }
        used.sort_by_key(|u| std::cmp::Reverse(u.2));
        let pattern = used.first().map(|(t, r, _)| (*t, *r));
        let app_managed = ctx.exposure.source == ApiRolesSource::None;
        candidates
            .into_iter()
            .map(|(rel, col)| finding(ctx, rel, col, pattern, &functions, app_managed))
            .collect()
    }
}

/// Whether trigger `t` keeps `column` current on UPDATE.
fn sets_column(t: &Trigger, functions: &HashMap<Oid, &Function>, column: &str) -> bool {
    if !t.enabled || !t.row_level || t.timing != "before" || !t.events.iter().any(|e| e == "update")
    {
        return false;
    }
    let name = t.function.rsplit('.').next().unwrap_or(&t.function);
    if name == "moddatetime" {
        // moddatetime(column): the argument names the column it sets.
        let def = t.definition.to_ascii_lowercase();
        return !def.contains("moddatetime(") || def.contains(&column.to_ascii_lowercase());
    }
    if HELPERS.contains(&name) {
        return true;
    }
    let body = functions
        .get(&t.function_oid)
        .and_then(|f| f.source.as_deref())
        .unwrap_or("")
        .to_ascii_lowercase();
    body.contains(&column.to_ascii_lowercase())
}

fn finding(
    ctx: &Context<'_>,
    rel: &Relation,
    column: &str,
    pattern: Option<(&Trigger, &Relation)>,
    functions: &HashMap<Oid, &Function>,
    app_managed: bool,
) -> Finding {
    let table = qualify(&rel.schema, &rel.name);
    let c = quote_ident(column);
    // Follow the project's own trigger when it has one (same function, same naming).
    let reusable = pattern.filter(|(t, _)| {
        let name = t.function.rsplit('.').next().unwrap_or(&t.function);
        name == "moddatetime"
            || functions
                .get(&t.function_oid)
                .and_then(|f| f.source.as_deref())
                .is_some_and(|s| {
                    s.to_ascii_lowercase()
                        .contains(&column.to_ascii_lowercase())
                })
            || (HELPERS.contains(&name) && column == "updated_at")
    });
    let (sql, reuse) = match reusable {
        Some((t, other)) => {
            let trigger_name = if t.name.contains(&other.name) {
                t.name.replace(&other.name, &rel.name)
            } else {
                ident_name(&format!("set_{}_{column}", rel.name), "")
            };
            let call = if t.function.ends_with("moddatetime") {
                format!("{}({c})", t.function)
            } else {
                format!("{}()", t.function)
            };
            (
                format!(
                    "CREATE TRIGGER {} BEFORE UPDATE ON {table}\n  FOR EACH ROW EXECUTE FUNCTION {call};",
                    quote_ident(&trigger_name)
                ),
                Some(t.function.clone()),
            )
        }
        None => {
            let func = if column == "updated_at" {
                format!("{}.set_updated_at", quote_ident(&rel.schema))
            } else {
                format!(
                    "{}.{}",
                    quote_ident(&rel.schema),
                    quote_ident(&format!("set_{column}"))
                )
            };
            (
                format!(
                    "CREATE OR REPLACE FUNCTION {func}() RETURNS trigger\n\
                     LANGUAGE plpgsql SET search_path = '' AS $$\n\
                     BEGIN\n  NEW.{c} = now();\n  RETURN NEW;\nEND;\n$$;\n\
                     CREATE TRIGGER {} BEFORE UPDATE ON {table}\n  FOR EACH ROW EXECUTE FUNCTION {func}();",
                    quote_ident(&ident_name(&format!("set_{}_{column}", rel.name), ""))
                ),
                None,
            )
        }
    };
    let mut f = META
        .finding(format!(
            "{}.{column} has no trigger that sets it on UPDATE",
            rel.qualified()
        ))
        .table(&rel.schema, &rel.name)
        .column(column)
        .impact(format!(
            "{column} keeps the insert time for every update made by a path that does not set it \
             (SQL, other services, the Supabase client): \"changed since\" syncs and audits miss those changes"
        ))
        .evidence(
            "looked_for",
            format!(
                "an enabled BEFORE UPDATE FOR EACH ROW trigger on {} whose function sets {column} \
                 (its body assigns it, or it is moddatetime / set_updated_at / update_updated_at / handle_updated_at ...)",
                rel.qualified()
            ),
        )
        .evidence(
            "triggers_on_table",
            ctx.index
                .triggers(rel.oid)
                .iter()
                .map(|t| t.name.clone())
                .collect::<Vec<_>>(),
        )
        .fix(sql, FixSafety::Review);
    if let Some(func) = reuse {
        f = f.evidence("project_helper", func);
    }
    if app_managed {
        f = f.severity(Severity::Info).evidence(
            "note",
            "no API role reaches the database: the application's ORM may set the column on every write",
        );
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    fn base() -> CatalogBuilder {
        CatalogBuilder::supabase()
            .function(
                "public.set_updated_at",
                "trigger",
                "plpgsql",
                "\nbegin\n  new.updated_at = now();\n  return new;\nend;\n",
            )
            .table(
                "public.companies",
                &["id uuid not null", "updated_at timestamptz not null"],
            )
            .pk("public.companies", &["id"])
            .trigger(
                "public.companies",
                "trg_companies_updated_at",
                "public.set_updated_at",
                "before",
                &["update"],
            )
            .table(
                "public.contacts",
                &["id uuid not null", "updated_at timestamptz not null"],
            )
            .pk("public.contacts", &["id"])
            .table(
                "public.billing",
                &["id uuid not null", "created_at timestamptz not null"],
            )
            .pk("public.billing", &["id"])
    }

    #[test]
    fn column_without_trigger_is_reported_with_the_project_helper() {
        let f = run(&UpdatedAtWithoutTrigger, &base().build());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].table.as_deref(), Some("contacts"));
        assert_eq!(f[0].severity, Severity::Low);
        let sql = &f[0].fix.as_ref().unwrap().sql;
        assert!(
            sql.contains("CREATE TRIGGER trg_contacts_updated_at BEFORE UPDATE ON public.contacts"),
            "{sql}"
        );
        assert!(
            sql.contains("EXECUTE FUNCTION public.set_updated_at();"),
            "{sql}"
        );
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn helper_names_and_moddatetime_count() {
        let cat = base()
            .trigger("public.contacts", "mdt", "extensions.moddatetime", "before", &["update"])
            .with(|c| {
                c.triggers.last_mut().unwrap().definition = "CREATE TRIGGER mdt BEFORE UPDATE ON public.contacts FOR EACH ROW EXECUTE FUNCTION extensions.moddatetime('updated_at')".into();
            })
            .table("public.deals", &["id uuid not null", "updatedAt timestamp"])
            .trigger("public.deals", "t", "public.handle_updated_at", "before", &["update"])
            .build();
        assert!(run(&UpdatedAtWithoutTrigger, &cat).is_empty());
    }

    #[test]
    fn after_or_insert_only_triggers_do_not_count() {
        let cat = base()
            .trigger(
                "public.contacts",
                "a",
                "public.set_updated_at",
                "after",
                &["update"],
            )
            .trigger(
                "public.contacts",
                "b",
                "public.set_updated_at",
                "before",
                &["insert"],
            )
            .build();
        assert_eq!(run(&UpdatedAtWithoutTrigger, &cat).len(), 1);
    }

    #[test]
    fn trigger_function_that_does_not_touch_the_column_does_not_count() {
        let cat = base()
            .function(
                "public.audit",
                "trigger",
                "plpgsql",
                "begin insert into log values (new.id); return new; end",
            )
            .trigger(
                "public.contacts",
                "audit",
                "public.audit",
                "before",
                &["update"],
            )
            .build();
        assert_eq!(run(&UpdatedAtWithoutTrigger, &cat).len(), 1);
    }

    #[test]
    fn without_a_helper_the_fix_creates_one() {
        let cat = CatalogBuilder::new()
            .table("public.t", &["id int not null", "updated_at timestamptz"])
            .build();
        let f = run(&UpdatedAtWithoutTrigger, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].severity,
            Severity::Info,
            "no API roles: the ORM may set it"
        );
        assert!(f[0]
            .fix
            .as_ref()
            .unwrap()
            .sql
            .contains("CREATE OR REPLACE FUNCTION public.set_updated_at()"));
    }
}
