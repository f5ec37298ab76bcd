//! Fast lookups over a [`Catalog`]: by oid, by qualified name, and per table.

use crate::model::*;
use std::collections::HashMap;

/// Borrowing index over a catalog. Build once, share across rules.
pub struct CatalogIndex<'c> {
    pub catalog: &'c Catalog,
    relations: HashMap<Oid, &'c Relation>,
    by_name: HashMap<(&'c str, &'c str), &'c Relation>,
    constraints: HashMap<Oid, Vec<&'c Constraint>>,
    /// Foreign keys pointing at a table, keyed by the referenced table.
    referencing: HashMap<Oid, Vec<&'c Constraint>>,
    indexes: HashMap<Oid, Vec<&'c Index>>,
    policies: HashMap<Oid, Vec<&'c Policy>>,
    triggers: HashMap<Oid, Vec<&'c Trigger>>,
    schemas: HashMap<&'c str, &'c Schema>,
    roles: HashMap<&'c str, &'c Role>,
}

impl<'c> CatalogIndex<'c> {
    pub fn new(catalog: &'c Catalog) -> Self {
        let mut ix = CatalogIndex {
            catalog,
            relations: HashMap::with_capacity(catalog.relations.len()),
            by_name: HashMap::with_capacity(catalog.relations.len()),
            constraints: HashMap::new(),
            referencing: HashMap::new(),
            indexes: HashMap::new(),
            policies: HashMap::new(),
            triggers: HashMap::new(),
            schemas: catalog
                .schemas
                .iter()
                .map(|s| (s.name.as_str(), s))
                .collect(),
            roles: catalog.roles.iter().map(|r| (r.name.as_str(), r)).collect(),
        };
        for r in &catalog.relations {
            ix.relations.insert(r.oid, r);
            ix.by_name.insert((r.schema.as_str(), r.name.as_str()), r);
        }
        for c in &catalog.constraints {
            ix.constraints.entry(c.table).or_default().push(c);
            if let Some(fk) = &c.foreign_key {
                ix.referencing.entry(fk.ref_table).or_default().push(c);
            }
        }
        for i in &catalog.indexes {
            ix.indexes.entry(i.table).or_default().push(i);
        }
        for p in &catalog.policies {
            ix.policies.entry(p.table).or_default().push(p);
        }
        for t in &catalog.triggers {
            ix.triggers.entry(t.table).or_default().push(t);
        }
        ix
    }

    pub fn relation(&self, oid: Oid) -> Option<&'c Relation> {
        self.relations.get(&oid).copied()
    }

    pub fn relation_named(&self, schema: &str, name: &str) -> Option<&'c Relation> {
        self.by_name.get(&(schema, name)).copied()
    }

    pub fn schema(&self, name: &str) -> Option<&'c Schema> {
        self.schemas.get(name).copied()
    }

    pub fn role(&self, name: &str) -> Option<&'c Role> {
        self.roles.get(name).copied()
    }

    pub fn constraints(&self, table: Oid) -> &[&'c Constraint] {
        self.constraints
            .get(&table)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn foreign_keys(&self, table: Oid) -> impl Iterator<Item = &'c Constraint> + '_ {
        self.constraints(table)
            .iter()
            .copied()
            .filter(|c| c.kind == ConstraintKind::ForeignKey)
    }

    pub fn primary_key(&self, table: Oid) -> Option<&'c Constraint> {
        self.constraints(table)
            .iter()
            .copied()
            .find(|c| c.kind == ConstraintKind::PrimaryKey)
    }

    /// Foreign keys of other tables that reference `table`.
    pub fn referenced_by(&self, table: Oid) -> &[&'c Constraint] {
        self.referencing
            .get(&table)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn indexes(&self, table: Oid) -> &[&'c Index] {
        self.indexes.get(&table).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn policies(&self, table: Oid) -> &[&'c Policy] {
        self.policies.get(&table).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn triggers(&self, table: Oid) -> &[&'c Trigger] {
        self.triggers.get(&table).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every role `role` belongs to, directly or through membership chains, itself included.
    /// Privileges are inherited only through roles with `inherit`; `PUBLIC` is always included.
    pub fn effective_roles(&self, role: &str) -> Vec<String> {
        let mut out = vec![role.to_string()];
        let mut i = 0;
        while i < out.len() {
            let name = out[i].clone();
            i += 1;
            let Some(r) = self.role(&name) else { continue };
            if !r.inherit && name != role {
                continue;
            }
            for parent in &r.member_of {
                if !out.contains(parent) {
                    out.push(parent.clone());
                }
            }
        }
        out.push("PUBLIC".to_string());
        out
    }
}
