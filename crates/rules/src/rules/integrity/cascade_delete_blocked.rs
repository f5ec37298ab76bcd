//! INT007 `cascade-delete-blocked`: a foreign key on the delete path of the tenant root or of a
//! user with NO ACTION / RESTRICT.

use super::{audited_table, fk_clause};
use crate::analysis::delete_paths::{DeleteEdge, DeleteEffect, DeletePath};
use crate::analysis::relationships::singular;
use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Constraint, FkAction, Oid, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "INT007",
    name: "cascade-delete-blocked",
    category: Category::Integrity,
    default_severity: Severity::High,
    source: RuleSource::Schema,
    summary: "FK on the delete path of the tenant root or of a user with NO ACTION/RESTRICT: deleting a tenant or user fails (or needs hand-ordered deletes)",
    docs: r#"## What it does
Walks what deleting one row of the tenant root, of the users table and of `auth.users` does:
every foreign key that references the row, then, through `ON DELETE CASCADE`, every foreign key
that references the rows deleted with it. Reports the foreign keys on that path declared
`NO ACTION` (the default) or `RESTRICT`.

References to tables off the path are not reported: `company_subscriptions.plan_id → plans` does
not stop a company from being deleted. A `NO ACTION` reference from a table whose own rows the
same delete removes through another cascade is not reported either: Postgres checks it at the
end of the statement, when those rows are gone (unless the reference crosses tenants).

## Why it matters
Deleting a tenant (an account closure, a GDPR erasure, a test cleanup) or a user (from the
Supabase dashboard, `auth.admin.deleteUser`) fails with a foreign key violation as soon as one
such row exists, or works only with hand-ordered deletes that the next table added breaks.

## Example
```sql
create table public.campaigns (
  id uuid primary key,
  org_id uuid not null references public.organizations(id)   -- NO ACTION
);
-- delete from organizations where id = ...;  -> ERROR: violates foreign key constraint
```

## Fix
Recreate the constraint with the action the data needs: `CASCADE` for rows that belong to the
deleted row, `SET NULL` for optional references that should outlive it:
```sql
alter table public.campaigns
  drop constraint campaigns_org_id_fkey,
  add constraint campaigns_org_id_fkey foreign key (org_id)
    references public.organizations (id) on delete cascade not valid;
alter table public.campaigns validate constraint campaigns_org_id_fkey;
```
"#,
};

pub struct CascadeDeleteBlocked;

impl Rule for CascadeDeleteBlocked {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        // One finding per constraint, with every origin whose delete it blocks.
        let mut blocked: Vec<(Oid, String, Hits<'_>)> = vec![];
        for path in &ctx.delete_paths.paths {
            let deleted = path.deleted_tables();
            for edge in &path.edges {
                if !path.blocks(edge, &deleted) {
                    continue;
                }
                let Some(name) = &edge.constraint else {
                    continue;
                };
                if audited_table(ctx, edge.table).is_none() {
                    continue;
                }
                match blocked
                    .iter_mut()
                    .find(|(t, c, _)| *t == edge.table && c == name)
                {
                    Some((_, _, v)) => v.push((path, edge)),
                    None => blocked.push((edge.table, name.clone(), vec![(path, edge)])),
                }
            }
        }
        let mut out = vec![];
        for (table, name, hits) in blocked {
            let Some(rel) = ctx.index.relation(table) else {
                continue;
            };
            let Some(fk) = ctx.index.foreign_keys(table).find(|c| c.name == name) else {
                continue;
            };
            out.extend(finding(ctx, rel, fk, &hits));
        }
        out
    }
}

/// The delete paths (and their edge) a constraint blocks.
type Hits<'a> = Vec<(&'a DeletePath, &'a DeleteEdge)>;

/// What deleting one origin row is called: "an organization", "a user", "an auth user".
fn origin_noun(ctx: &Context<'_>, origin: &Relation) -> String {
    let word = if origin.schema == "auth" && origin.name == "users" {
        "auth user".to_string()
    } else {
        singular(&origin.name).replace('_', " ")
    };
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    let role = if Some(origin.oid) == ctx.tenancy.root {
        " (the tenant root)"
    } else {
        ""
    };
    format!("{article} {word}{role}")
}

/// `organizations → contacts → call_logs`: how the delete reaches the edge's parent.
fn chain(ctx: &Context<'_>, path: &DeletePath, edge: &DeleteEdge) -> String {
    let name = |oid: Oid| {
        ctx.index
            .relation(oid)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    };
    let mut tables = vec![name(edge.table), name(edge.parent)];
    let mut at = edge.parent;
    let mut guard = 0;
    while at != path.origin && guard < 64 {
        guard += 1;
        let Some(up) = path
            .edges
            .iter()
            .find(|e| e.table == at && e.effect == DeleteEffect::Cascade)
        else {
            break;
        };
        at = up.parent;
        tables.push(name(at));
    }
    tables.reverse();
    tables.join(" → ")
}

fn finding(
    ctx: &Context<'_>,
    rel: &Relation,
    fk: &Constraint,
    hits: &[(&DeletePath, &DeleteEdge)],
) -> Option<Finding> {
    let k = fk.foreign_key.as_ref()?;
    let parent = ctx.index.relation(k.ref_table)?;
    let (first_path, first_edge) = hits[0];
    let origin = ctx.index.relation(first_path.origin)?;
    let cols = fk.columns.join(", ");
    let not_null = fk
        .columns
        .iter()
        .all(|c| rel.column(c).is_some_and(|c| c.not_null));
    let tenant_col = ctx
        .tenancy
        .tenant_column(rel.oid)
        .is_some_and(|t| fk.columns.len() == 1 && fk.columns[0] == t);
    let to_root = Some(parent.oid) == ctx.tenancy.root;
    let user_origin = Some(first_path.origin) != ctx.tenancy.root;
    // The rows of a tenant go with it; optional references are cleared.
    let (action, why) = if (to_root && tenant_col) || not_null {
        (
            FkAction::Cascade,
            if to_root && tenant_col {
                format!(
                    "{cols} is the tenant column: the rows belong to the {}",
                    singular(&parent.name)
                )
            } else {
                format!(
                    "{cols} is NOT NULL: the rows belong to their {} row",
                    singular(&parent.name)
                )
            },
        )
    } else {
        (
            FkAction::SetNull,
            format!("{cols} is nullable: keep the rows and clear the reference"),
        )
    };
    let action_now = k.on_delete.sql();
    let noun = origin_noun(ctx, origin);
    let message = if first_edge.depth == 1 {
        format!(
            "{}.{cols} → {} is ON DELETE {action_now}: deleting {noun} fails while it has {} rows",
            rel.name, parent.name, rel.name
        )
    } else {
        format!(
            "deleting {noun} cascades to {}, but {}.{cols} → {} is ON DELETE {action_now}: the delete fails while {} rows point at them",
            parent.name, rel.name, parent.name, rel.name
        )
    };
    let table = qualify(&rel.schema, &rel.name);
    let q = quote_ident(&fk.name);
    let ref_cols = k.ref_columns.clone();
    let mut clause = fk_clause(&fk.columns, parent, &ref_cols, action);
    if k.on_update != FkAction::NoAction {
        clause.push_str(&format!(" ON UPDATE {}", k.on_update.sql()));
    }
    if k.match_type == 'f' {
        match clause.find(" ON DELETE") {
            Some(i) => clause.insert_str(i, " MATCH FULL"),
            None => clause.push_str(" MATCH FULL"),
        }
    }
    if fk.deferrable {
        clause.push_str(" DEFERRABLE");
        if fk.deferred {
            clause.push_str(" INITIALLY DEFERRED");
        }
    }
    let mut sql = String::new();
    if action == FkAction::Cascade && user_origin && !tenant_col {
        sql.push_str(&format!(
            "-- CASCADE deletes the {} rows with the user; if they must outlive the user, drop NOT NULL on {cols} and use ON DELETE SET NULL instead\n",
            rel.name
        ));
    }
    sql.push_str(&format!(
        "ALTER TABLE {table}\n  DROP CONSTRAINT {q},\n  ADD CONSTRAINT {q} {clause} NOT VALID;\nALTER TABLE {table} VALIDATE CONSTRAINT {q};"
    ));
    let origins: Vec<String> = hits
        .iter()
        .filter_map(|(p, _)| ctx.index.relation(p.origin).map(Relation::qualified))
        .collect();
    let chains: Vec<String> = hits.iter().map(|(p, e)| chain(ctx, p, e)).collect();
    let mut f = META
        .finding(message)
        .table(&rel.schema, &rel.name)
        .column(cols.clone())
        .impact(format!(
            "deleting {noun} needs every {} row pointing at it deleted by hand first; account \
             closures, GDPR erasures and dashboard deletes fail",
            rel.name
        ))
        .evidence("constraint", fk.name.clone())
        .evidence(
            "references",
            format!("{}({})", parent.qualified(), ref_cols.join(", ")),
        )
        .evidence("on_delete", action_now)
        .evidence("delete_origins", origins)
        .evidence("delete_path", chains)
        .evidence("recommended", format!("ON DELETE {} ({why})", action.sql()))
        .fix(sql, FixSafety::Review);
    if let Some(rows) = rel.row_estimate {
        f = f.evidence("row_estimate", rows);
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    fn clinic() -> CatalogBuilder {
        let mut b = CatalogBuilder::supabase()
            .table("public.organizations", &["id uuid not null"])
            .pk("public.organizations", &["id"]);
        for t in ["agents", "contacts", "appointments"] {
            let q = format!("public.{t}");
            b = b
                .table(&q, &["id uuid not null", "org_id uuid not null"])
                .pk(&q, &["id"])
                .fk(
                    &q,
                    &["org_id"],
                    "public.organizations",
                    &["id"],
                    FkAction::Cascade,
                );
        }
        b.table("public.plans", &["id uuid not null"])
            .pk("public.plans", &["id"])
            .table(
                "public.campaigns",
                &[
                    "id uuid not null",
                    "org_id uuid not null",
                    "plan_id uuid not null",
                    "agent_id uuid",
                ],
            )
            .pk("public.campaigns", &["id"])
            .fk(
                "public.campaigns",
                &["org_id"],
                "public.organizations",
                &["id"],
                FkAction::NoAction,
            )
            .fk(
                "public.campaigns",
                &["plan_id"],
                "public.plans",
                &["id"],
                FkAction::NoAction,
            )
            .fk(
                "public.campaigns",
                &["agent_id"],
                "public.agents",
                &["id"],
                FkAction::SetNull,
            )
            .table(
                "public.holds",
                &[
                    "id uuid not null",
                    "org_id uuid not null",
                    "appointment_id uuid not null",
                ],
            )
            .pk("public.holds", &["id"])
            .fk(
                "public.holds",
                &["org_id"],
                "public.organizations",
                &["id"],
                FkAction::Cascade,
            )
            .fk(
                "public.holds",
                &["appointment_id"],
                "public.appointments",
                &["id"],
                FkAction::NoAction,
            )
    }

    #[test]
    fn no_action_to_the_root_is_reported() {
        let f = run(&CascadeDeleteBlocked, &clinic().build());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].table.as_deref(), Some("campaigns"));
        assert_eq!(f[0].column.as_deref(), Some("org_id"));
        let sql = &f[0].fix.as_ref().unwrap().sql;
        assert!(
            sql.contains("DROP CONSTRAINT campaigns_org_id_fkey"),
            "{sql}"
        );
        assert!(sql.contains("ON DELETE CASCADE NOT VALID"), "{sql}");
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn catalogue_references_and_same_delete_no_action_are_not_reported() {
        // plan_id → plans is off the path; holds.appointment_id is NO ACTION but holds rows go
        // with the organization too.
        let f = run(&CascadeDeleteBlocked, &clinic().build());
        assert!(f.iter().all(|f| f.column.as_deref() != Some("plan_id")));
        assert!(f.iter().all(|f| f.table.as_deref() != Some("holds")));
    }

    #[test]
    fn deeper_block_from_a_table_the_delete_does_not_reach() {
        let cat = clinic()
            .table("public.audit", &["id uuid not null", "contact_id uuid"])
            .pk("public.audit", &["id"])
            .fk(
                "public.audit",
                &["contact_id"],
                "public.contacts",
                &["id"],
                FkAction::Restrict,
            )
            .build();
        let f = run(&CascadeDeleteBlocked, &cat);
        let audit = f
            .iter()
            .find(|f| f.table.as_deref() == Some("audit"))
            .expect("audit");
        assert!(
            audit.message.contains("cascades to contacts"),
            "{}",
            audit.message
        );
        assert_eq!(
            audit.evidence["delete_path"][0],
            "organizations → contacts → audit"
        );
        assert!(audit
            .fix
            .as_ref()
            .unwrap()
            .sql
            .contains("ON DELETE SET NULL"));
    }

    #[test]
    fn user_deletes_are_walked_too() {
        let cat = CatalogBuilder::supabase()
            .table("public.profiles", &["id uuid not null"])
            .pk("public.profiles", &["id"])
            .fk(
                "public.profiles",
                &["id"],
                "auth.users",
                &["id"],
                FkAction::NoAction,
            )
            .build();
        let f = run(&CascadeDeleteBlocked, &cat);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("deleting an auth user fails"),
            "{}",
            f[0].message
        );
    }
}
