//! Delete paths: for the tenant root, the users table and `auth.users`, what deleting one row
//! does to every table that points at it, directly or transitively (cascade, set null, blocked,
//! or nothing because the reference has no FK).
//!
//! A breadth-first walk from each origin over the foreign keys that reference it: `ON DELETE
//! CASCADE` continues into the referencing table (its rows are deleted too, so whatever references
//! them is reached next); `SET NULL` / `SET DEFAULT` and `NO ACTION` / `RESTRICT` (blocked) stop
//! there. Inferred references without a foreign key (`High` confidence) to a table on the path
//! are `Orphaned` edges: their rows are left pointing at nothing. Partitions are left out (their
//! partitioned parent carries the foreign key).

use super::relationships::{Confidence, Relationships};
use dbaudit_catalog::{CatalogIndex, FkAction, Oid, Relation};
use serde::Serialize;
use std::collections::{HashMap, HashSet, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteEffect {
    Cascade,
    SetNull,
    SetDefault,
    /// NO ACTION / RESTRICT: the delete fails while such rows exist.
    Blocked,
    /// An inferred reference with no FK: rows are left pointing at nothing.
    Orphaned,
}

impl DeleteEffect {
    pub fn as_str(self) -> &'static str {
        match self {
            DeleteEffect::Cascade => "CASCADE",
            DeleteEffect::SetNull => "SET NULL",
            DeleteEffect::SetDefault => "SET DEFAULT",
            DeleteEffect::Blocked => "blocked",
            DeleteEffect::Orphaned => "orphaned (no FK)",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DeleteEdge {
    /// The referencing table.
    pub table: Oid,
    pub columns: Vec<String>,
    /// The table it references (the origin or a table that cascades from it).
    pub parent: Oid,
    /// FK constraint name, or `None` for an inferred reference.
    pub constraint: Option<String>,
    pub effect: DeleteEffect,
    /// Distance from the origin (1 = references the origin itself).
    pub depth: usize,
    /// The FK action as declared (`NO ACTION` vs `RESTRICT` matters: see [`DeletePath::blocks`]).
    pub action: Option<FkAction>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeletePath {
    pub origin: Oid,
    pub edges: Vec<DeleteEdge>,
}

impl DeletePath {
    /// The tables whose rows a delete of the origin removes: the origin and every table reached
    /// through cascades.
    pub fn deleted_tables(&self) -> HashSet<Oid> {
        std::iter::once(self.origin)
            .chain(
                self.edges
                    .iter()
                    .filter(|e| e.effect == DeleteEffect::Cascade)
                    .map(|e| e.table),
            )
            .collect()
    }

    /// Whether a blocked edge really makes the delete fail. A `NO ACTION` reference from a table
    /// whose own rows the same delete removes (through another cascade) is checked at the end of
    /// the statement, when those rows are gone: it only fails for rows of another tenant. Edges
    /// at depth 1, `RESTRICT` (checked at once, so the order of the cascades decides), and
    /// references from tables the delete does not reach do block.
    pub fn blocks(&self, edge: &DeleteEdge, deleted: &HashSet<Oid>) -> bool {
        edge.effect == DeleteEffect::Blocked
            && (edge.depth == 1
                || edge.action == Some(FkAction::Restrict)
                || !deleted.contains(&edge.table))
    }
}

#[derive(Debug, Clone, Default)]
pub struct DeletePaths {
    pub paths: Vec<DeletePath>,
}

impl DeletePaths {
    pub fn analyse(
        index: &CatalogIndex<'_>,
        relationships: &Relationships,
        origins: &[Oid],
    ) -> DeletePaths {
        let mut orphaning: HashMap<Oid, Vec<&super::relationships::Relationship>> = HashMap::new();
        for r in relationships.inferred() {
            if r.confidence == Confidence::High {
                orphaning.entry(r.to).or_default().push(r);
            }
        }
        let is_partition = |oid: Oid| {
            index
                .relation(oid)
                .is_some_and(|r: &Relation| r.partition_of.is_some())
        };
        let mut paths = vec![];
        let mut seen_origins = HashSet::new();
        for &origin in origins {
            if !seen_origins.insert(origin) || index.relation(origin).is_none() {
                continue;
            }
            let mut edges = vec![];
            let mut visited: HashSet<Oid> = HashSet::from([origin]);
            let mut queue: VecDeque<(Oid, usize)> = VecDeque::from([(origin, 0)]);
            while let Some((parent, depth)) = queue.pop_front() {
                for fk in index.referenced_by(parent) {
                    let Some(k) = &fk.foreign_key else { continue };
                    if is_partition(fk.table) {
                        continue;
                    }
                    let effect = match k.on_delete {
                        FkAction::Cascade => DeleteEffect::Cascade,
                        FkAction::SetNull => DeleteEffect::SetNull,
                        FkAction::SetDefault => DeleteEffect::SetDefault,
                        FkAction::NoAction | FkAction::Restrict => DeleteEffect::Blocked,
                    };
                    edges.push(DeleteEdge {
                        table: fk.table,
                        columns: fk.columns.clone(),
                        parent,
                        constraint: Some(fk.name.clone()),
                        effect,
                        depth: depth + 1,
                        action: Some(k.on_delete),
                    });
                    if effect == DeleteEffect::Cascade && visited.insert(fk.table) {
                        queue.push_back((fk.table, depth + 1));
                    }
                }
                for r in orphaning.get(&parent).into_iter().flatten() {
                    edges.push(DeleteEdge {
                        table: r.from,
                        columns: r.from_columns.clone(),
                        parent,
                        constraint: None,
                        effect: DeleteEffect::Orphaned,
                        depth: depth + 1,
                        action: None,
                    });
                }
            }
            paths.push(DeletePath { origin, edges });
        }
        DeletePaths { paths }
    }

    /// The path from one origin.
    pub fn of(&self, origin: Oid) -> Option<&DeletePath> {
        self.paths.iter().find(|p| p.origin == origin)
    }

    /// The paths as JSON trees (`origin`, then each edge with its effect), for reports.
    pub fn to_json(&self, index: &CatalogIndex<'_>) -> serde_json::Value {
        let name = |oid: Oid| {
            index
                .relation(oid)
                .map(Relation::qualified)
                .unwrap_or_else(|| oid.to_string())
        };
        self.paths
            .iter()
            .map(|p| {
                let edges: Vec<serde_json::Value> = p
                    .edges
                    .iter()
                    .map(|e| {
                        serde_json::json!({
                            "table": name(e.table),
                            "columns": e.columns,
                            "parent": name(e.parent),
                            "constraint": e.constraint,
                            "effect": e.effect,
                            "depth": e.depth,
                        })
                    })
                    .collect();
                serde_json::json!({ "origin": name(p.origin), "edges": edges })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbaudit_catalog::builder::CatalogBuilder;

    #[test]
    fn walk_follows_cascades_and_stops_elsewhere() {
        let cat = CatalogBuilder::supabase()
            .table("public.orgs", &["id uuid not null"])
            .pk("public.orgs", &["id"])
            .table(
                "public.projects",
                &["id uuid not null", "org_id uuid not null"],
            )
            .pk("public.projects", &["id"])
            .fk(
                "public.projects",
                &["org_id"],
                "public.orgs",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.tasks",
                &[
                    "id uuid not null",
                    "project_id uuid not null",
                    "parent_id uuid",
                ],
            )
            .pk("public.tasks", &["id"])
            .fk(
                "public.tasks",
                &["project_id"],
                "public.projects",
                &["id"],
                FkAction::Cascade,
            )
            .fk(
                "public.tasks",
                &["parent_id"],
                "public.tasks",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.invoices",
                &["id uuid not null", "org_id uuid not null"],
            )
            .pk("public.invoices", &["id"])
            .fk(
                "public.invoices",
                &["org_id"],
                "public.orgs",
                &["id"],
                FkAction::NoAction,
            )
            .table("public.comments", &["id uuid not null", "task_id uuid"])
            .pk("public.comments", &["id"])
            .fk(
                "public.comments",
                &["task_id"],
                "public.tasks",
                &["id"],
                FkAction::SetNull,
            )
            .table("public.notes", &["id uuid not null", "project_id uuid"])
            .pk("public.notes", &["id"])
            .build();
        let ix = CatalogIndex::new(&cat);
        let oid = |n: &str| ix.relation_named("public", n).unwrap().oid;
        let rels = Relationships::analyse(&ix, &[], Some(oid("orgs")), &["org_id".to_string()]);
        let dp = DeletePaths::analyse(&ix, &rels, &[oid("orgs"), oid("orgs")]);
        assert_eq!(dp.paths.len(), 1, "origins are deduplicated");
        let p = dp.of(oid("orgs")).unwrap();
        let edge = |t: &str, c: &str| {
            p.edges
                .iter()
                .find(|e| e.table == oid(t) && e.columns == vec![c.to_string()])
                .unwrap_or_else(|| panic!("{t}.{c}"))
        };
        assert_eq!(edge("projects", "org_id").effect, DeleteEffect::Cascade);
        assert_eq!(edge("projects", "org_id").depth, 1);
        assert_eq!(edge("tasks", "project_id").depth, 2);
        assert_eq!(edge("tasks", "parent_id").effect, DeleteEffect::Cascade);
        assert_eq!(edge("invoices", "org_id").effect, DeleteEffect::Blocked);
        assert_eq!(edge("comments", "task_id").effect, DeleteEffect::SetNull);
        assert_eq!(edge("notes", "project_id").effect, DeleteEffect::Orphaned);
        let deleted = p.deleted_tables();
        assert!(deleted.contains(&oid("tasks")));
        assert!(!deleted.contains(&oid("invoices")));
        assert!(p.blocks(edge("invoices", "org_id"), &deleted));
        let json = dp.to_json(&ix);
        assert_eq!(json[0]["origin"], "public.orgs");
    }

    #[test]
    fn no_action_from_a_table_the_same_delete_removes_does_not_block() {
        let cat = CatalogBuilder::new()
            .table("public.orgs", &["id uuid not null"])
            .pk("public.orgs", &["id"])
            .table(
                "public.contacts",
                &["id uuid not null", "org_id uuid not null"],
            )
            .pk("public.contacts", &["id"])
            .fk(
                "public.contacts",
                &["org_id"],
                "public.orgs",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.calls",
                &[
                    "id uuid not null",
                    "org_id uuid not null",
                    "contact_id uuid not null",
                    "x_id uuid",
                ],
            )
            .pk("public.calls", &["id"])
            .fk(
                "public.calls",
                &["org_id"],
                "public.orgs",
                &["id"],
                FkAction::Cascade,
            )
            .fk(
                "public.calls",
                &["contact_id"],
                "public.contacts",
                &["id"],
                FkAction::NoAction,
            )
            .fk(
                "public.calls",
                &["x_id"],
                "public.contacts",
                &["id"],
                FkAction::Restrict,
            )
            .build();
        let ix = CatalogIndex::new(&cat);
        let oid = |n: &str| ix.relation_named("public", n).unwrap().oid;
        let dp = DeletePaths::analyse(&ix, &Relationships::default(), &[oid("orgs")]);
        let p = dp.of(oid("orgs")).unwrap();
        let deleted = p.deleted_tables();
        let no_action = p
            .edges
            .iter()
            .find(|e| e.columns == ["contact_id"])
            .unwrap();
        let restrict = p.edges.iter().find(|e| e.columns == ["x_id"]).unwrap();
        assert!(!p.blocks(no_action, &deleted));
        assert!(p.blocks(restrict, &deleted));
    }
}
