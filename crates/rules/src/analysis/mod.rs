//! Models derived once from the catalog, shared by the rules: exposure (who can reach what),
//! policy facts (what each policy expression does), relationships (declared and inferred
//! foreign keys), tenancy (tenant root, columns, membership, each table's scope) and delete
//! paths (what deleting a tenant or a user does to every table).

pub mod delete_paths;
pub mod exposure;
pub mod policy;
pub mod relationships;
pub mod tenancy;
