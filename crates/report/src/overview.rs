//! The overview: what a reader needs besides the findings to understand the schema — a summary
//! row per table, the delete trees from the tenant root and the users tables, the relationship
//! map, what is good (checks that passed) and queries to verify the findings by hand.
//!
//! Built once by the caller from the analysis [`Context`] (writers never look anything up) and
//! serialised as the report's `overview` object.

use dbaudit_catalog::{CatalogIndex, FkAction, Oid, Relation};
use dbaudit_findings::Finding;
use dbaudit_rules::analysis::delete_paths::{DeleteEffect, DeletePath};
use dbaudit_rules::analysis::relationships::{is_user_column, Confidence};
use dbaudit_rules::analysis::tenancy::{Resolution, Scope};
use dbaudit_rules::Context;
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Overview {
    /// The tenant root (`public.companies`), when one was found.
    pub tenant_root: Option<String>,
    /// The tenant column names (`company_id`).
    pub tenant_columns: Vec<String>,
    /// The application's users table (`public.users`), when one was found.
    pub users_table: Option<String>,
    /// One row per audited table, by name.
    pub tables: Vec<TableRow>,
    /// What deleting one row of the tenant root, the users table and `auth.users` does.
    pub delete_trees: Vec<DeleteTree>,
    /// Declared and inferred relationships between audited tables (and `auth.users`).
    pub relationships: Vec<RelationshipEdge>,
    /// Checks that passed, in words.
    pub good: Vec<String>,
    /// Queries a reader can run to see the problems (and their absence after the fix).
    pub verification: Vec<VerificationQuery>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    /// `schema.name`.
    pub table: String,
    /// `root`, `direct`, `via_parent`, `global`, `unscoped`, or `unknown` without a tenancy model.
    pub scope: String,
    /// The scope in words: `company_id`, `via public.ai_conversations`, `global (shared)`.
    pub scope_detail: String,
    /// The FK of the tenant column to the root: its ON DELETE action (`CASCADE`), `missing` when
    /// the column has none, `via parent` for tables scoped through a parent, `n/a` otherwise.
    pub tenant_fk: String,
    /// FKs of user columns (`user_id`, `created_by`, ...) to the users table or `auth.users`:
    /// `CASCADE`, `SET NULL`, ..., `missing`; `n/a` when the table has no user column. The users
    /// table shows its link to `auth.users` (`auth: CASCADE`).
    pub user_fk: String,
    /// Row-level security enabled.
    pub rls: bool,
    /// Some API role holds a privilege on it.
    pub exposed: bool,
    /// Number of policies.
    pub policies: usize,
    /// Deleting a tenant (or a user) removes this table's rows without being blocked and
    /// without leaving rows that point at nothing. `None` for global tables and the root.
    pub cascade_ok: Option<bool>,
    /// Why not, when `cascade_ok` is false.
    pub cascade_issue: Option<String>,
    /// `pg_class.reltuples`; `None` when never analyzed (a fresh build from migrations).
    pub rows: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeleteTree {
    /// `tenant_root`, `users_table` or `auth_users`.
    pub kind: String,
    /// `public.companies`.
    pub origin: String,
    /// The delete statement this tree describes.
    pub statement: String,
    /// Tables whose rows the delete removes, the origin included.
    pub deleted_tables: usize,
    /// Edges that make the delete fail.
    pub blocked: usize,
    /// References without a foreign key: rows left pointing at nothing.
    pub orphaned: usize,
    pub children: Vec<DeleteNode>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeleteNode {
    /// The referencing table.
    pub table: String,
    /// Its referencing columns.
    pub columns: Vec<String>,
    pub constraint: Option<String>,
    /// `cascade`, `set_null`, `set_default`, `blocked`, `orphaned`.
    pub effect: DeleteEffect,
    /// `NO ACTION` / `RESTRICT` for blocked edges.
    pub action: Option<String>,
    /// This edge makes the delete fail.
    pub blocks: bool,
    /// The table cascades but was already expanded elsewhere in the tree.
    pub repeated: bool,
    pub children: Vec<DeleteNode>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RelationshipEdge {
    pub from: String,
    pub from_columns: Vec<String>,
    pub to: String,
    pub to_columns: Vec<String>,
    /// The FK constraint when declared.
    pub constraint: Option<String>,
    pub declared: bool,
    pub confidence: Confidence,
    /// The ON DELETE action of a declared FK.
    pub on_delete: Option<String>,
    /// The referencing column is NOT NULL (mandatory relationship).
    pub mandatory: bool,
    /// Why an inferred relationship is believed.
    pub evidence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerificationQuery {
    pub title: String,
    pub sql: String,
    /// What a healthy database returns.
    pub expect: String,
}

/// Build the overview from the analysis and the findings.
pub fn build(ctx: &Context<'_>, findings: &[Finding]) -> Overview {
    let ix = &ctx.index;
    let name = |oid: Oid| {
        ix.relation(oid)
            .map(Relation::qualified)
            .unwrap_or_else(|| oid.to_string())
    };
    let tables: Vec<&Relation> = {
        let mut t: Vec<&Relation> = ctx
            .audited_relations()
            .filter(|r| r.kind.is_table() && r.partition_of.is_none())
            .collect();
        t.sort_by_key(|a| a.qualified());
        t
    };
    let audited: HashSet<Oid> = tables.iter().map(|r| r.oid).collect();
    let auth_users = ix.relation_named("auth", "users").map(|r| r.oid);
    let users_oids: Vec<Oid> = ctx
        .tenancy
        .users_table
        .into_iter()
        .chain(auth_users)
        .collect();

    let root = ctx.tenancy.root;
    let root_path = root.and_then(|r| ctx.delete_paths.of(r));
    let root_deleted = root_path
        .map(DeletePath::deleted_tables)
        .unwrap_or_default();

    // Per-table problems on any delete path.
    let mut path_issues: std::collections::HashMap<Oid, Vec<String>> = Default::default();
    for p in &ctx.delete_paths.paths {
        let deleted = p.deleted_tables();
        for e in &p.edges {
            let what = match e.effect {
                DeleteEffect::Blocked if p.blocks(e, &deleted) => format!(
                    "deleting a {} row is blocked by {} ({})",
                    name(p.origin),
                    e.constraint.as_deref().unwrap_or("?"),
                    e.action.map(FkAction::sql).unwrap_or("NO ACTION")
                ),
                DeleteEffect::Orphaned => format!(
                    "{} has no foreign key to {}: rows are left behind",
                    e.columns.join(", "),
                    name(e.parent)
                ),
                _ => continue,
            };
            let v = path_issues.entry(e.table).or_default();
            if !v.contains(&what) {
                v.push(what);
            }
        }
    }

    let rows: Vec<TableRow> = tables
        .iter()
        .map(|r| {
            let scope = ctx.tenancy.scope(r.oid);
            let (scope_kind, scope_detail) = match scope {
                Some(Scope::Root) => ("root", "tenant root".to_string()),
                Some(Scope::Direct { column }) => ("direct", column.clone()),
                Some(Scope::ViaParent { parent, .. }) => {
                    ("via_parent", format!("via {}", name(*parent)))
                }
                Some(Scope::Global) => ("global", "global (shared)".to_string()),
                Some(Scope::Unscoped) => ("unscoped", "unscoped".to_string()),
                None => ("unknown", "-".to_string()),
            };
            let fks: Vec<_> = ix.foreign_keys(r.oid).collect();
            let tenant_fk = match scope {
                Some(Scope::Root) => "n/a (is the tenant)".to_string(),
                Some(Scope::Direct { column }) => fks
                    .iter()
                    .find(|c| {
                        c.columns.first() == Some(column)
                            && c.foreign_key
                                .as_ref()
                                .is_some_and(|k| Some(k.ref_table) == root)
                    })
                    .and_then(|c| c.foreign_key.as_ref())
                    .map(|k| k.on_delete.sql().to_string())
                    .unwrap_or_else(|| "missing".into()),
                Some(Scope::ViaParent { .. }) => "via parent".into(),
                _ => "n/a".into(),
            };
            let user_fk = if Some(r.oid) == ctx.tenancy.users_table {
                match fks.iter().find_map(|c| {
                    c.foreign_key
                        .as_ref()
                        .filter(|k| Some(k.ref_table) == auth_users)
                }) {
                    Some(k) => format!("auth: {}", k.on_delete.sql()),
                    None => "auth: missing".into(),
                }
            } else {
                let user_cols: Vec<&str> = r
                    .columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .filter(|c| is_user_column(c))
                    .collect();
                if user_cols.is_empty() {
                    "n/a".into()
                } else {
                    let parts: BTreeSet<String> = user_cols
                        .iter()
                        .map(|col| {
                            fks.iter()
                                .find(|c| c.columns.len() == 1 && c.columns[0] == *col)
                                .and_then(|c| c.foreign_key.as_ref())
                                .map(|k| {
                                    let to = if Some(k.ref_table) == auth_users {
                                        " (auth)"
                                    } else {
                                        ""
                                    };
                                    format!("{}{to}", k.on_delete.sql())
                                })
                                .unwrap_or_else(|| "missing".into())
                        })
                        .collect();
                    parts.into_iter().collect::<Vec<_>>().join(", ")
                }
            };
            let issues = path_issues.get(&r.oid);
            let (cascade_ok, cascade_issue) = match scope {
                Some(Scope::Root) => (None, None),
                Some(Scope::Global) if issues.is_none() => (None, None),
                _ => {
                    if let Some(v) = issues {
                        (Some(false), Some(v.join("; ")))
                    } else if root.is_some()
                        && ctx.tenancy.is_tenant_scoped(r.oid)
                        && !root_deleted.contains(&r.oid)
                    {
                        (
                            Some(false),
                            Some(format!(
                                "not deleted with its {} row (no cascade path)",
                                root.map(name).unwrap_or_default()
                            )),
                        )
                    } else if root.is_none() && !users_oids.is_empty() {
                        (Some(true), None)
                    } else if matches!(scope, Some(Scope::Unscoped)) {
                        (Some(false), Some("no path to the tenant root".into()))
                    } else {
                        (Some(true), None)
                    }
                }
            };
            TableRow {
                table: r.qualified(),
                scope: scope_kind.into(),
                scope_detail,
                tenant_fk,
                user_fk,
                rls: r.rls_enabled,
                exposed: ctx.exposure.is_exposed(r.oid),
                policies: ix.policies(r.oid).len(),
                cascade_ok,
                cascade_issue,
                rows: r.row_estimate,
            }
        })
        .collect();

    // Delete trees.
    let mut delete_trees = vec![];
    for p in &ctx.delete_paths.paths {
        let kind = if Some(p.origin) == root {
            "tenant_root"
        } else if Some(p.origin) == auth_users {
            "auth_users"
        } else if Some(p.origin) == ctx.tenancy.users_table {
            "users_table"
        } else {
            "origin"
        };
        let shown = |oid: Oid| {
            ix.relation(oid)
                .is_some_and(|r| ctx.settings.audits_schema(&r.schema, ix))
        };
        delete_trees.push(tree(ix, p, kind, &shown));
    }

    // Relationships between audited tables (and the users tables they point at).
    let keep = |oid: Oid| audited.contains(&oid) || Some(oid) == auth_users;
    let mut relationships: Vec<RelationshipEdge> = ctx
        .relationships
        .all
        .iter()
        .filter(|r| keep(r.from) && keep(r.to) && r.confidence >= Confidence::Medium)
        .map(|r| {
            let declared_fk = r.declared.as_ref().and_then(|n| {
                ix.foreign_keys(r.from)
                    .find(|c| &c.name == n)
                    .and_then(|c| c.foreign_key.as_ref())
            });
            let mandatory = ix.relation(r.from).is_some_and(|rel| {
                r.from_columns
                    .iter()
                    .all(|c| rel.column(c).is_some_and(|c| c.not_null))
            });
            RelationshipEdge {
                from: name(r.from),
                from_columns: r.from_columns.clone(),
                to: name(r.to),
                to_columns: r.to_columns.clone(),
                constraint: r.declared.clone(),
                declared: r.declared.is_some(),
                confidence: r.confidence,
                on_delete: declared_fk.map(|k| k.on_delete.sql().to_string()),
                mandatory,
                evidence: r.evidence.clone(),
            }
        })
        .collect();
    relationships
        .sort_by(|a, b| (&a.from, &a.from_columns, &a.to).cmp(&(&b.from, &b.from_columns, &b.to)));
    relationships
        .dedup_by(|a, b| a.from == b.from && a.from_columns == b.from_columns && a.to == b.to);

    let good = good_lines(ctx, findings, &tables, &rows, &delete_trees);
    let verification = verification(ctx, findings, &tables);
    Overview {
        tenant_root: root.map(name),
        tenant_columns: ctx.tenancy.tenant_columns.clone(),
        users_table: ctx.tenancy.users_table.map(name),
        tables: rows,
        delete_trees,
        relationships,
        good,
        verification,
    }
}

/// The tree of one delete path; edges into relations `shown` rejects (Supabase's own `auth.*`
/// tables under `auth.users`) are left out.
fn tree(
    ix: &CatalogIndex<'_>,
    p: &DeletePath,
    kind: &str,
    shown: &dyn Fn(Oid) -> bool,
) -> DeleteTree {
    let name = |oid: Oid| {
        ix.relation(oid)
            .map(Relation::qualified)
            .unwrap_or_else(|| oid.to_string())
    };
    let deleted = p.deleted_tables();
    // A cascading table is expanded at its first (shallowest) edge, as the walk did.
    let mut expanded: HashSet<Oid> = HashSet::from([p.origin]);
    let mut expand_at: HashSet<usize> = HashSet::new();
    for (i, e) in p.edges.iter().enumerate() {
        if e.effect == DeleteEffect::Cascade && expanded.insert(e.table) {
            expand_at.insert(i);
        }
    }
    struct Walk<'w> {
        p: &'w DeletePath,
        expand_at: HashSet<usize>,
        deleted: HashSet<Oid>,
        name: &'w dyn Fn(Oid) -> String,
        shown: &'w dyn Fn(Oid) -> bool,
    }
    fn children(w: &Walk<'_>, parent: Oid, depth: usize) -> Vec<DeleteNode> {
        let (p, expand_at, deleted, name) = (w.p, &w.expand_at, &w.deleted, w.name);
        let mut out: Vec<DeleteNode> = p
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.parent == parent && e.depth == depth && (w.shown)(e.table))
            .map(|(i, e)| {
                let expand = expand_at.contains(&i);
                DeleteNode {
                    table: name(e.table),
                    columns: e.columns.clone(),
                    constraint: e.constraint.clone(),
                    effect: e.effect,
                    action: match e.effect {
                        DeleteEffect::Blocked => e.action.map(|a| a.sql().to_string()),
                        _ => None,
                    },
                    blocks: p.blocks(e, deleted),
                    repeated: e.effect == DeleteEffect::Cascade && !expand,
                    children: if expand {
                        children(w, e.table, depth + 1)
                    } else {
                        vec![]
                    },
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.table, &a.columns).cmp(&(&b.table, &b.columns)));
        out
    }
    let origin = name(p.origin);
    let key = ix
        .primary_key(p.origin)
        .map(|k| k.columns.join(", "))
        .unwrap_or_else(|| "id".into());
    let visible = |e: &&dbaudit_rules::analysis::delete_paths::DeleteEdge| shown(e.table);
    let deleted_tables = 1 + deleted
        .iter()
        .filter(|t| **t != p.origin && shown(**t))
        .count();
    let blocked = p
        .edges
        .iter()
        .filter(visible)
        .filter(|e| p.blocks(e, &deleted))
        .count();
    let orphaned = p
        .edges
        .iter()
        .filter(visible)
        .filter(|e| e.effect == DeleteEffect::Orphaned)
        .count();
    let walk = Walk {
        p,
        expand_at,
        deleted,
        name: &name,
        shown,
    };
    DeleteTree {
        kind: kind.into(),
        statement: format!("DELETE FROM {origin} WHERE {key} = ...;"),
        origin,
        deleted_tables,
        blocked,
        orphaned,
        children: children(&walk, p.origin, 1),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn good_lines(
    ctx: &Context<'_>,
    findings: &[Finding],
    tables: &[&Relation],
    rows: &[TableRow],
    trees: &[DeleteTree],
) -> Vec<String> {
    let ran: HashSet<&str> = dbaudit_rules::registry()
        .iter()
        .map(|r| r.meta().name)
        .collect();
    let hit: HashSet<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    let clean = |rule: &str| ran.contains(rule) && !hit.contains(rule);
    let ix = &ctx.index;
    let mut good = vec![];

    if !ctx.exposure.api_roles.is_empty() {
        let exposed: Vec<&&Relation> = tables
            .iter()
            .filter(|r| ctx.exposure.is_exposed(r.oid))
            .collect();
        let with_rls = exposed.iter().filter(|r| r.rls_enabled).count();
        if !exposed.is_empty() && with_rls * 10 >= exposed.len() * 8 {
            good.push(if with_rls == exposed.len() {
                format!(
                    "**Row-level security is on for every table the API roles can reach** ({} tables).",
                    exposed.len()
                )
            } else {
                format!(
                    "**Row-level security is on for {with_rls} of the {} tables the API roles can reach.**",
                    exposed.len()
                )
            });
        }
    }
    if let Some(root) = ctx.tenancy.root {
        let root_name = ix
            .relation(root)
            .map(|r| r.name.clone())
            .unwrap_or_default();
        let scoped: Vec<&TableRow> = rows
            .iter()
            .filter(|r| matches!(r.scope.as_str(), "direct" | "via_parent"))
            .collect();
        let direct = scoped.iter().filter(|r| r.scope == "direct").count();
        if !scoped.is_empty() {
            let cascades = scoped
                .iter()
                .filter(|r| r.tenant_fk == "CASCADE" || r.scope == "via_parent")
                .count();
            let tree_ok = trees
                .iter()
                .find(|t| t.kind == "tenant_root")
                .is_some_and(|t| t.blocked == 0);
            if cascades == scoped.len() && tree_ok {
                good.push(format!(
                    "**Solid multi-tenant structure:** every tenant-scoped table ({}) cascades from `{root_name}`, {direct} of them through their own `{}` foreign key, and deleting a tenant is never blocked.",
                    scoped.len(),
                    ctx.tenancy.tenant_columns.first().cloned().unwrap_or_default()
                ));
            } else if cascades * 10 >= scoped.len() * 8 {
                good.push(format!(
                    "**Mostly solid multi-tenant structure:** {cascades} of {} tenant-scoped tables cascade from `{root_name}`.",
                    scoped.len()
                ));
            }
        }
        if clean("inconsistent-tenant-claim") && ctx.tenancy.resolutions.len() == 1 {
            let (res, policies) = &ctx.tenancy.resolutions[0];
            let how = match res {
                Resolution::Claim { path } => format!("the JWT claim `{}`", path.join(".")),
                Resolution::Helper { function } => format!("the helper `{function}()`"),
                Resolution::Membership { table } => format!("a sub-query on `{table}`"),
            };
            good.push(format!(
                "**One way to find the tenant:** {} resolve it through {how}.",
                plural(policies.len(), "policy", "policies")
            ));
        }
        if clean("tenant-column-nullable") && clean("tenant-foreign-key-missing") {
            good.push("**Tenant columns are NOT NULL and reference the tenant root** on every tenant table.".into());
        }
    }
    if clean("permissive-policy") && !ctx.catalog.policies.is_empty() {
        good.push("**No always-true policies:** no policy lets API roles through with `USING (true)` where tenants' rows live.".into());
    }
    if clean("policy-uses-user-metadata") && clean("tenant-policy-missing-tenant-check") {
        good.push(
            "**Policies check the tenant** and never trust `user_metadata`, which users can edit."
                .into(),
        );
    }
    if clean("plaintext-secret-column") {
        good.push("**No plaintext secrets:** no column named like a password, token or API key stores it as clear text.".into());
    }
    if clean("security-definer-function-exposed") && clean("view-bypasses-rls") {
        good.push("**No RLS bypass:** no SECURITY DEFINER function or owner-run view gives API roles other tenants' rows.".into());
    }
    if clean("missing-primary-key") {
        good.push(format!(
            "**Every table has a primary key** ({} tables).",
            tables.len()
        ));
    }
    let fk_count = tables
        .iter()
        .map(|r| ix.foreign_keys(r.oid).count())
        .sum::<usize>();
    if clean("unindexed-foreign-key") && fk_count > 0 {
        good.push(format!(
            "**Every foreign key is indexed** ({fk_count} foreign keys): deletes of parents never scan their children."
        ));
    } else if fk_count > 0 {
        let unindexed = findings
            .iter()
            .filter(|f| f.rule == "unindexed-foreign-key")
            .count();
        if unindexed * 10 <= fk_count {
            good.push(format!(
                "**Well-indexed:** {} of {fk_count} foreign keys have an index leading with their columns.",
                fk_count - unindexed
            ));
        }
    }
    if clean("foreign-key-not-validated") && fk_count > 0 {
        good.push(
            "**Every constraint is validated:** no foreign key or check was left NOT VALID.".into(),
        );
    }
    if clean("migration-error") {
        good.push("**The migrations apply cleanly** on an empty database, in order.".into());
    }
    if clean("auth-users-link-missing") && ctx.tenancy.users_table.is_some() {
        good.push("**Accounts and profiles are linked:** the users table references `auth.users`, so deleting an account removes its profile.".into());
    }
    if clean("duplicate-index") && clean("redundant-index") {
        good.push("**No duplicate or redundant indexes.**".into());
    }
    good
}

fn verification(
    ctx: &Context<'_>,
    findings: &[Finding],
    tables: &[&Relation],
) -> Vec<VerificationQuery> {
    let mut schemas: Vec<String> = tables.iter().map(|r| r.schema.clone()).collect();
    schemas.sort();
    schemas.dedup();
    let schema_list = schemas
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let mut v = vec![];
    if !ctx.exposure.api_roles.is_empty() {
        v.push(VerificationQuery {
            title: "Tables with row-level security off".into(),
            sql: format!(
                "SELECT n.nspname AS schema, c.relname AS table\nFROM pg_catalog.pg_class c\nJOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\nWHERE c.relkind IN ('r', 'p') AND NOT c.relrowsecurity\n  AND n.nspname IN ({schema_list})\nORDER BY 1, 2;"
            ),
            expect: "no rows (or only tables no API role can reach)".into(),
        });
        v.push(VerificationQuery {
            title: "Policies that are always true".into(),
            sql: format!(
                "SELECT schemaname, tablename, policyname, cmd, roles, qual, with_check\nFROM pg_catalog.pg_policies\nWHERE schemaname IN ({schema_list})\n  AND (qual = 'true' OR with_check = 'true')\nORDER BY 1, 2, 3;"
            ),
            expect: "no rows, or only SELECT on global tables".into(),
        });
        v.push(VerificationQuery {
            title: "Policies that call auth functions per row (not wrapped in a sub-select)".into(),
            sql: format!(
                "SELECT schemaname, tablename, policyname\nFROM pg_catalog.pg_policies\nWHERE schemaname IN ({schema_list})\n  AND (coalesce(qual, '') || coalesce(with_check, '')) ~ '(auth\\.(uid|jwt|role)|current_setting)\\('\n  AND (coalesce(qual, '') || coalesce(with_check, '')) !~* 'select\\s+(auth\\.|current_setting)'\nORDER BY 1, 2, 3;"
            ),
            expect: "no rows".into(),
        });
    }
    if let Some(root) = ctx.tenancy.root.and_then(|r| ctx.index.relation(r)) {
        v.push(VerificationQuery {
            title: format!("Foreign keys to {} that do not cascade", root.qualified()),
            sql: format!(
                "SELECT conrelid::regclass AS table, conname, confdeltype\nFROM pg_catalog.pg_constraint\nWHERE contype = 'f' AND confrelid = '{}'::regclass\n  AND confdeltype <> 'c'\nORDER BY 1, 2;",
                dbaudit_rules::qualify(&root.schema, &root.name)
            ),
            expect: "no rows: deleting a tenant removes all its rows".into(),
        });
        if let Some(col) = ctx.tenancy.tenant_columns.first() {
            v.push(VerificationQuery {
                title: format!("Tenant columns (`{col}`) that allow NULL or have no foreign key"),
                sql: format!(
                    "SELECT c.table_schema, c.table_name, c.is_nullable,\n       EXISTS (SELECT 1 FROM information_schema.key_column_usage k\n               JOIN information_schema.referential_constraints r USING (constraint_schema, constraint_name)\n               WHERE k.table_schema = c.table_schema AND k.table_name = c.table_name\n                 AND k.column_name = c.column_name) AS has_fk\nFROM information_schema.columns c\nWHERE c.column_name = '{}' AND c.table_schema IN ({schema_list})\nORDER BY 1, 2;",
                    col.replace('\'', "''")
                ),
                expect: "is_nullable = NO and has_fk = true on every row".into(),
            });
        }
    }
    v.push(VerificationQuery {
        title: "Foreign keys without an index leading with their columns".into(),
        sql: format!(
            "SELECT c.conrelid::regclass AS table, c.conname\nFROM pg_catalog.pg_constraint c\nWHERE c.contype = 'f'\n  AND c.connamespace::regnamespace::text IN ({schema_list})\n  AND NOT EXISTS (\n    SELECT 1 FROM pg_catalog.pg_index i\n    WHERE i.indrelid = c.conrelid\n      AND (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] @> c.conkey)\nORDER BY 1, 2;"
        ),
        expect: "no rows".into(),
    });
    // Orphans behind each missing foreign key.
    for f in findings.iter().filter(|f| {
        matches!(
            f.rule.as_str(),
            "missing-foreign-key" | "foreign-key-type-mismatch" | "tenant-foreign-key-missing"
        )
    }) {
        let (Some(t), Some(c), Some(target)) = (
            f.qualified_table(),
            f.column.as_deref(),
            f.evidence.get("inferred_target").and_then(|v| v.as_str()),
        ) else {
            continue;
        };
        let Some((parent, key)) = target.strip_suffix(')').and_then(|s| s.split_once('(')) else {
            continue;
        };
        let cast = if f.rule == "foreign-key-type-mismatch" {
            "::text"
        } else {
            ""
        };
        v.push(VerificationQuery {
            title: format!("Rows of {t} whose {c} points at no {parent} row"),
            sql: format!(
                "SELECT count(*) AS orphans\nFROM {t} c\nWHERE c.{c} IS NOT NULL\n  AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{key}{cast} = c.{c}{cast});"
            ),
            expect: "0".into(),
        });
    }
    v
}
