//! The tenancy model: the tenant root table, the tenant column name(s), the membership table, how
//! policies resolve the caller's tenant, and every table's scope.
//!
//! Detection, each step overridable in `dbaudit.toml`:
//!
//! * **Tenant root.** Tables named like a tenant (`organizations`, `orgs`, `tenants`, `companies`,
//!   `workspaces`, `teams`, `accounts`, singular or plural) with a one-column key, scored by how
//!   many other tables point at them (a declared foreign key, or a column named after them:
//!   `company_id` → `companies`, `org_id` → `organizations`). A candidate is kept when most of
//!   those references are NOT NULL and they cover a fair share of the schema (more for the
//!   ambiguous `teams` / `accounts`), and when it is not itself scoped by another candidate
//!   (`teams.org_id`). Without a named candidate, a table most other tables point at through
//!   NOT NULL columns that policies compare with a claim, a helper or a membership sub-query can
//!   be the root. Nothing convincing: no root (a schema without tenants is not forced into one).
//! * **Tenant columns.** The names of the columns that point at the root, most used first.
//! * **Users table.** A project table whose key references `auth.users`, else `users` /
//!   `profiles`.
//! * **Scopes.** `Root`; `Direct` (has a tenant column); `ViaParent` (reaches a scoped table
//!   through NOT NULL references, declared or confidently inferred); `Unscoped` (holds the acting
//!   user, or is the users table, with no path to a tenant); `Global` (everything else: catalogues
//!   such as `plans`, and tables unrelated to tenants such as `stripe_events`).
//! * **Resolutions.** How each policy on a scoped table constrains the tenant column: a JWT
//!   claim, a helper function or a membership sub-query (from the policy facts; without them,
//!   from the functions and relations the catalog says the policy depends on).
//! * **Membership.** The table a membership sub-query or a tenant helper reads, else a
//!   `*member*` table, else the users table, when it holds both a user and a tenant column.

use super::policy::{Against, PolicyAnalysis};
use super::relationships::{key_column, ref_stem, singular, snake, Confidence, Relationships};
use dbaudit_catalog::{CatalogIndex, Column, Oid, Policy, Relation};
use serde::Serialize;
use std::collections::{HashMap, HashSet, VecDeque};

/// How a table relates to tenants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// The tenant root itself.
    Root,
    /// Has the tenant column.
    Direct { column: String },
    /// Reaches the root through NOT NULL foreign keys (e.g. messages → conversations).
    ViaParent {
        parent: Oid,
        /// The FK columns on this table that lead to `parent`.
        columns: Vec<String>,
    },
    /// Shared by every tenant (a catalogue such as `plans`).
    Global,
    /// Looks tenant-owned but has no path to the root.
    Unscoped,
}

/// How policies find the caller's tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resolution {
    /// A JWT claim, e.g. `app_metadata.org_id`.
    Claim { path: Vec<String> },
    /// A helper function, e.g. `public.current_company_id()`.
    Helper { function: String },
    /// A sub-query on the membership table.
    Membership { table: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Membership {
    pub table: Oid,
    pub user_column: String,
    pub tenant_column: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Tenancy {
    pub root: Option<Oid>,
    /// Why this root: "set in dbaudit.toml", "named organizations; 14 tenant columns point at it".
    pub root_evidence: String,
    /// Tenant column names, most used first (`company_id`; `org_id`, `organization_id`).
    pub tenant_columns: Vec<String>,
    /// The application's users/profiles table, if any (`public.users`, `public.profiles`).
    pub users_table: Option<Oid>,
    pub membership: Option<Membership>,
    /// Each way policies resolve the tenant, with the policies (`table: name`) that use it.
    pub resolutions: Vec<(Resolution, Vec<String>)>,
    #[serde(skip)]
    pub scopes: HashMap<Oid, Scope>,
    /// The relationships scope detection computed (users table and `auth.users`, this root and
    /// these tenant columns), handed to the context so they are not computed twice.
    #[serde(skip)]
    pub(crate) relationships: Option<Relationships>,
    /// Why a table is `Global` or `Unscoped`, in words.
    #[serde(skip)]
    pub scope_reasons: HashMap<Oid, String>,
    /// Where the tenant columns came from: `detected` or `config`.
    pub tenant_columns_source: &'static str,
}

/// Table names that mean "tenant", strongest first. The last two are ambiguous (sports teams,
/// NextAuth's OAuth accounts) and need more evidence.
const ROOT_NAMES: &[&str] = &[
    "organization",
    "organisation",
    "org",
    "tenant",
    "workspace",
    "company",
    "team",
    "account",
];
const WEAK_ROOT_NAMES: &[&str] = &["team", "account"];

/// Stems a tenant column may be named after, for a root of singular name `s`.
fn root_stems(s: &str) -> Vec<String> {
    match s {
        "org" | "organization" | "organisation" => {
            vec!["org".into(), "organization".into(), "organisation".into()]
        }
        other => vec![other.to_string()],
    }
}

/// A table pointing at a root candidate.
#[derive(Debug, Clone)]
struct Pointer<'c> {
    table: &'c Relation,
    column: String,
    not_null: bool,
    declared: bool,
}

struct Detect<'a, 'c> {
    index: &'a CatalogIndex<'c>,
    policies: &'a PolicyAnalysis,
    /// Audited tables, partitions left out.
    tables: Vec<&'c Relation>,
    audited: HashSet<Oid>,
    /// `ref_stem` → (table, column) for every column named like a reference.
    stems: HashMap<String, Vec<(&'c Relation, &'c Column)>>,
}

impl<'a, 'c> Detect<'a, 'c> {
    /// Columns of `rel` in a single-column FK, and where they point.
    fn fk_target(&self, rel: &Relation, column: &str) -> Option<Oid> {
        self.index.foreign_keys(rel.oid).find_map(|fk| {
            match (&fk.foreign_key, fk.columns.as_slice()) {
                (Some(k), [c]) if c == column => Some(k.ref_table),
                _ => None,
            }
        })
    }

    fn pointers(&self, cand: &'c Relation) -> Vec<Pointer<'c>> {
        let mut out: Vec<Pointer<'c>> = vec![];
        let mut seen: HashMap<Oid, usize> = HashMap::new();
        let mut push = |p: Pointer<'c>, out: &mut Vec<Pointer<'c>>| match seen.get(&p.table.oid) {
            Some(&i) => {
                if p.not_null && !out[i].not_null {
                    out[i] = p;
                }
            }
            None => {
                seen.insert(p.table.oid, out.len());
                out.push(p);
            }
        };
        for fk in self.index.referenced_by(cand.oid) {
            let Some(rel) = self.index.relation(fk.table) else {
                continue;
            };
            if rel.oid == cand.oid || !self.audited.contains(&rel.oid) {
                continue;
            }
            let not_null = fk
                .columns
                .iter()
                .all(|c| rel.column(c).is_some_and(|c| c.not_null));
            push(
                Pointer {
                    table: rel,
                    column: fk.columns.join(", "),
                    not_null,
                    declared: fk.columns.len() == 1,
                },
                &mut out,
            );
        }
        for stem in root_stems(&singular(&snake(&cand.name))) {
            for (rel, col) in self.stems.get(&stem).into_iter().flatten() {
                if rel.oid == cand.oid {
                    continue;
                }
                match self.fk_target(rel, &col.name) {
                    Some(t) if t != cand.oid => continue,
                    Some(_) => {}
                    None => push(
                        Pointer {
                            table: rel,
                            column: col.name.clone(),
                            not_null: col.not_null,
                            declared: false,
                        },
                        &mut out,
                    ),
                }
            }
        }
        out
    }

    /// Whether a policy of `table` compares `column` with a claim, a helper or a sub-query.
    fn policy_constrains(&self, table: Oid, column: &str) -> bool {
        self.index
            .policies(table)
            .iter()
            .any(|p| !policy_resolutions(self.policies, p, column).is_empty())
    }
}

/// The single-table name of a policy for the resolution lists: `public.contacts: name`.
fn policy_label(p: &Policy) -> String {
    format!("{}.{}: {}", p.schema, p.table_name, p.name)
}

fn is_auth_function(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let base = n.rsplit('.').next().unwrap_or(&n);
    n.starts_with("auth.")
        || n.starts_with("pg_catalog.")
        || n.starts_with("extensions.")
        || matches!(
            base,
            "uid" | "jwt" | "role" | "email" | "current_setting" | "nullif" | "coalesce" | "now"
        )
}

/// Identifiers of an SQL text, lower case, quotes stripped (`public.users`, `company_id`).
fn identifiers(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut in_str = false;
    for ch in text.chars() {
        if in_str {
            if ch == '\'' {
                in_str = false;
            }
            continue;
        }
        if ch == '\'' {
            in_str = true;
        }
        if ch.is_alphanumeric() || ch == '_' || ch == '.' {
            cur.push(ch.to_ascii_lowercase());
        } else if ch != '"' && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether `text` names `name` (`users` matches `users`, `public.users`, `u.users`).
fn mentions(text: &str, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    identifiers(text)
        .iter()
        .any(|t| *t == name || t.rsplit('.').next() == Some(name.as_str()))
}

/// The resolutions one policy applies to `column` (from the parsed facts; without them, from the
/// catalog's dependency facts), each with whether it comes from the parsed expression.
fn policy_resolutions(
    policies: &PolicyAnalysis,
    p: &Policy,
    column: &str,
) -> Vec<(Resolution, bool)> {
    let mut out: Vec<(Resolution, bool)> = vec![];
    let mut add = |r: Resolution, parsed: bool| {
        if !out.iter().any(|(x, _)| *x == r) {
            out.push((r, parsed));
        }
    };
    let qualify_fn = |name: &str| -> String {
        if name.contains('.') {
            return name.to_string();
        }
        p.functions
            .iter()
            .find(|f| f.rsplit('.').next() == Some(name))
            .cloned()
            .unwrap_or_else(|| name.to_string())
    };
    let facts = policies.of(p.oid);
    let parsed: Vec<_> = facts
        .into_iter()
        .flat_map(|f| [f.using.as_ref(), f.with_check.as_ref()])
        .flatten()
        .filter(|e| e.parsed)
        .collect();
    if !parsed.is_empty() {
        for e in parsed {
            for c in e.comparisons.iter().filter(|c| c.column == column) {
                match &c.against {
                    Against::Claim { path } => add(Resolution::Claim { path: path.clone() }, true),
                    Against::Function { name } if !is_auth_function(name) => add(
                        Resolution::Helper {
                            function: qualify_fn(name),
                        },
                        true,
                    ),
                    Against::Subquery { tables } => {
                        if let Some(t) = tables.first() {
                            add(Resolution::Membership { table: t.clone() }, true)
                        }
                    }
                    _ => {}
                }
            }
        }
        return out;
    }
    // Fallback: the expression names the column, and depends on a helper or another table.
    let text = [p.using.as_deref(), p.with_check.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !mentions(&text, column) {
        return out;
    }
    for f in &p.functions {
        if !is_auth_function(f) {
            add(
                Resolution::Helper {
                    function: f.clone(),
                },
                false,
            );
        }
    }
    for r in &p.relations {
        add(Resolution::Membership { table: r.clone() }, false);
    }
    out
}

impl Tenancy {
    pub fn analyse(
        index: &CatalogIndex<'_>,
        settings: &crate::Settings,
        policies: &super::policy::PolicyAnalysis,
    ) -> Tenancy {
        let tables: Vec<&Relation> = index
            .catalog
            .relations
            .iter()
            .filter(|r| {
                r.kind.is_table()
                    && r.partition_of.is_none()
                    && settings.audits_schema(&r.schema, index)
            })
            .collect();
        let mut stems: HashMap<String, Vec<(&Relation, &Column)>> = HashMap::new();
        for rel in &tables {
            for col in &rel.columns {
                if let Some(s) = ref_stem(&col.name) {
                    stems.entry(s).or_default().push((rel, col));
                }
            }
        }
        let audited = tables.iter().map(|r| r.oid).collect();
        let d = Detect {
            index,
            policies,
            tables,
            audited,
            stems,
        };
        let mut t = Tenancy {
            tenant_columns_source: "detected",
            ..Tenancy::default()
        };
        t.users_table = detect_users_table(&d);
        let (root, evidence, pointers) = detect_root(&d, settings, t.users_table);
        t.root = root.map(|r| r.oid);
        t.root_evidence = evidence;

        // Tenant columns: names of single-column references to the root, most used first.
        match &settings.tenant_columns {
            Some(cols) => {
                t.tenant_columns = cols.clone();
                t.tenant_columns_source = "config";
            }
            None => {
                let mut counts: Vec<(String, usize)> = vec![];
                for p in pointers.iter().filter(|p| !p.column.contains(", ")) {
                    match counts.iter_mut().find(|(c, _)| *c == p.column) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((p.column.clone(), 1)),
                    }
                }
                counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                t.tenant_columns = counts.into_iter().map(|(c, _)| c).collect();
            }
        }
        t.scopes_and_membership(&d);
        // Partitions share their partitioned parent's scope.
        for rel in &index.catalog.relations {
            if rel.partition_of.is_none() || !settings.audits_schema(&rel.schema, index) {
                continue;
            }
            let mut top = rel;
            let mut guard = 0;
            while let Some(parent) = top.partition_of.and_then(|p| index.relation(p)) {
                top = parent;
                guard += 1;
                if guard > 32 {
                    break;
                }
            }
            if let Some(scope) = t.scopes.get(&top.oid).cloned() {
                t.scopes.insert(rel.oid, scope);
                t.scope_reasons
                    .insert(rel.oid, format!("a partition of {}", top.qualified()));
            }
        }
        t
    }

    fn scopes_and_membership(&mut self, d: &Detect<'_, '_>) {
        let index = d.index;
        let Some(root) = self.root.and_then(|r| index.relation(r)) else {
            for rel in &d.tables {
                self.scopes.insert(rel.oid, Scope::Global);
                self.scope_reasons
                    .insert(rel.oid, "no tenant root was found".to_string());
            }
            return;
        };
        // Direct: a tenant column that, if it has a single-column FK, references the root.
        for rel in &d.tables {
            if rel.oid == root.oid {
                self.scopes.insert(rel.oid, Scope::Root);
                continue;
            }
            let col = self.tenant_columns.iter().find(|c| {
                rel.column(c).is_some() && d.fk_target(rel, c).is_none_or(|t| t == root.oid)
            });
            if let Some(c) = col {
                self.scopes
                    .insert(rel.oid, Scope::Direct { column: c.clone() });
            }
        }
        // ViaParent: breadth-first from every scoped table along NOT NULL references.
        let users: Vec<Oid> = self
            .users_table
            .into_iter()
            .chain(index.relation_named("auth", "users").map(|r| r.oid))
            .collect();
        let rels = Relationships::analyse(index, &users, self.root, &self.tenant_columns);
        let mut inferred_by_target: HashMap<Oid, Vec<&super::relationships::Relationship>> =
            HashMap::new();
        for r in rels.inferred() {
            if r.confidence == Confidence::High && r.types_compatible {
                inferred_by_target.entry(r.to).or_default().push(r);
            }
        }
        let audited = &d.audited;
        let mut queue: VecDeque<Oid> = d
            .tables
            .iter()
            .filter(|r| self.scopes.contains_key(&r.oid))
            .map(|r| r.oid)
            .collect();
        while let Some(parent) = queue.pop_front() {
            let declared = index
                .referenced_by(parent)
                .iter()
                .map(|c| (c.table, c.columns.clone()));
            let inferred = inferred_by_target
                .get(&parent)
                .into_iter()
                .flatten()
                .map(|r| (r.from, r.from_columns.clone()));
            for (child, columns) in declared.chain(inferred) {
                if !audited.contains(&child) || self.scopes.contains_key(&child) {
                    continue;
                }
                let Some(rel) = index.relation(child) else {
                    continue;
                };
                if !columns
                    .iter()
                    .all(|c| rel.column(c).is_some_and(|c| c.not_null))
                {
                    continue;
                }
                self.scopes
                    .insert(child, Scope::ViaParent { parent, columns });
                queue.push_back(child);
            }
        }
        self.relationships = Some(rels);
        // Everything else: Unscoped when it holds a user (or is the users table), else Global.
        let users_set: HashSet<Oid> = users.iter().copied().collect();
        for rel in &d.tables {
            if self.scopes.contains_key(&rel.oid) {
                continue;
            }
            let user_col = rel.columns.iter().find(|c| {
                snake(&c.name) == "user_id"
                    || d.fk_target(rel, &c.name)
                        .is_some_and(|t| users_set.contains(&t))
            });
            let (scope, reason) = if Some(rel.oid) == self.users_table {
                (
                    Scope::Unscoped,
                    "the users table, with no tenant column and no NOT NULL reference to a tenant table"
                        .to_string(),
                )
            } else if let Some(c) = user_col {
                (
                    Scope::Unscoped,
                    format!(
                        "holds a user ({}) but has no tenant column and no NOT NULL reference to a tenant table",
                        c.name
                    ),
                )
            } else {
                let referenced = index
                    .referenced_by(rel.oid)
                    .iter()
                    .filter(|c| {
                        matches!(
                            self.scopes.get(&c.table),
                            Some(Scope::Direct { .. } | Scope::ViaParent { .. })
                        )
                    })
                    .map(|c| c.table)
                    .collect::<HashSet<_>>()
                    .len();
                let reason = if referenced > 0 {
                    format!(
                        "no tenant column and no NOT NULL reference to a tenant table; referenced by {referenced} tenant table{} (a shared catalogue)",
                        if referenced == 1 { "" } else { "s" }
                    )
                } else {
                    "no tenant column and no NOT NULL reference to a tenant table".to_string()
                };
                (Scope::Global, reason)
            };
            self.scopes.insert(rel.oid, scope);
            self.scope_reasons.insert(rel.oid, reason);
        }

        // Resolutions, from the policies of the root and of directly scoped tables.
        let root_key = key_column(index, root).map(|c| c.name.clone());
        // (resolution position, policy label) already listed: a set, since one resolution can
        // gather thousands of policies.
        let mut listed: HashSet<(usize, String)> = HashSet::new();
        for rel in &d.tables {
            let column = match self.scopes.get(&rel.oid) {
                Some(Scope::Direct { column }) => column.clone(),
                Some(Scope::Root) => match &root_key {
                    Some(k) => k.clone(),
                    None => continue,
                },
                _ => continue,
            };
            for p in index.policies(rel.oid) {
                for (r, parsed) in policy_resolutions(d.policies, p, &column) {
                    let r = match r {
                        Resolution::Membership { table } => {
                            match self.resolve_table(d, &table) {
                                // Without the parsed expression, only a table holding a user
                                // counts as a membership look-up (not any table it reads).
                                Some(m)
                                    if m.oid != rel.oid
                                        && (parsed || self.holds_user(d, m, &users_set)) =>
                                {
                                    Resolution::Membership {
                                        table: m.qualified(),
                                    }
                                }
                                _ => continue,
                            }
                        }
                        other => other,
                    };
                    let label = policy_label(p);
                    match self.resolutions.iter().position(|(x, _)| *x == r) {
                        Some(i) => {
                            if listed.insert((i, label.clone())) {
                                self.resolutions[i].1.push(label)
                            }
                        }
                        None => {
                            listed.insert((self.resolutions.len(), label.clone()));
                            self.resolutions.push((r, vec![label]));
                        }
                    }
                }
            }
        }
        // The project's main pattern first.
        self.resolutions
            .sort_by_key(|r| std::cmp::Reverse(r.1.len()));
        self.membership = self.detect_membership(d, &users_set);
    }

    /// The users table, or a table with a `user_id` / a reference to a users table.
    fn holds_user(&self, d: &Detect<'_, '_>, rel: &Relation, users: &HashSet<Oid>) -> bool {
        Some(rel.oid) == self.users_table
            || rel.columns.iter().any(|c| {
                snake(&c.name) == "user_id"
                    || d.fk_target(rel, &c.name)
                        .is_some_and(|t| users.contains(&t))
            })
    }

    /// A table as a policy or function writes it (`users`, `public.users`), among the audited.
    fn resolve_table<'c>(&self, d: &Detect<'_, 'c>, name: &str) -> Option<&'c Relation> {
        let name = name.trim_matches('"').to_ascii_lowercase();
        match name.split_once('.') {
            Some((s, t)) => d
                .tables
                .iter()
                .copied()
                .find(|r| r.schema == s && r.name.to_ascii_lowercase() == t),
            None => {
                let all: Vec<_> = d
                    .tables
                    .iter()
                    .copied()
                    .filter(|r| r.name.to_ascii_lowercase() == name)
                    .collect();
                all.iter()
                    .copied()
                    .find(|r| r.schema == "public")
                    .or_else(|| (all.len() == 1).then(|| all[0]))
            }
        }
    }

    fn detect_membership(&self, d: &Detect<'_, '_>, users: &HashSet<Oid>) -> Option<Membership> {
        // Candidates: directly scoped tables holding a user column (or the users table itself).
        let mut cands: Vec<(&Relation, Membership)> = vec![];
        for rel in &d.tables {
            let Some(Scope::Direct { column }) = self.scopes.get(&rel.oid) else {
                continue;
            };
            let user_col = if Some(rel.oid) == self.users_table {
                key_column(d.index, rel).map(|c| c.name.clone())
            } else {
                rel.columns
                    .iter()
                    .find(|c| {
                        d.fk_target(rel, &c.name)
                            .is_some_and(|t| users.contains(&t))
                    })
                    .or_else(|| rel.columns.iter().find(|c| snake(&c.name) == "user_id"))
                    .map(|c| c.name.clone())
            };
            if let Some(u) = user_col {
                cands.push((
                    rel,
                    Membership {
                        table: rel.oid,
                        user_column: u,
                        tenant_column: column.clone(),
                    },
                ));
            }
        }
        let take = |oid: Oid| {
            cands
                .iter()
                .find(|(r, _)| r.oid == oid)
                .map(|(_, m)| m.clone())
        };
        // 1. What policies read: a membership sub-query, or a helper function's body.
        for (r, _) in &self.resolutions {
            match r {
                Resolution::Membership { table } => {
                    if let Some(m) = self.resolve_table(d, table).and_then(|t| take(t.oid)) {
                        return Some(m);
                    }
                }
                Resolution::Helper { function } => {
                    let (schema, name) = function.split_once('.').unwrap_or(("", function));
                    let body = d
                        .index
                        .catalog
                        .functions
                        .iter()
                        .find(|f| f.name == name && (schema.is_empty() || f.schema == schema));
                    if let Some(src) = body.and_then(|f| f.source.as_deref()) {
                        if let Some(m) = cands
                            .iter()
                            .find(|(r, _)| mentions(src, &r.name))
                            .map(|(_, m)| m.clone())
                        {
                            return Some(m);
                        }
                    }
                }
                Resolution::Claim { .. } => {}
            }
        }
        // 2. Named like one.
        let root_singular = self
            .root
            .and_then(|r| d.index.relation(r))
            .map(|r| singular(&snake(&r.name)))
            .unwrap_or_default();
        if let Some((_, m)) = cands.iter().find(|(r, _)| {
            let n = snake(&r.name);
            n.contains("member")
                || n == format!("{root_singular}_users")
                || n == format!("user_{root_singular}s")
        }) {
            return Some(m.clone());
        }
        // 3. The users table carrying the tenant column.
        self.users_table.and_then(take)
    }

    /// The relationships computed while detecting scopes, if any (taken, not cloned).
    pub(crate) fn take_relationships(&mut self) -> Option<Relationships> {
        self.relationships.take()
    }

    pub fn scope(&self, rel: Oid) -> Option<&Scope> {
        self.scopes.get(&rel)
    }

    pub fn is_tenant_scoped(&self, rel: Oid) -> bool {
        matches!(
            self.scope(rel),
            Some(Scope::Direct { .. } | Scope::ViaParent { .. })
        )
    }

    /// The tenant column of a directly scoped table.
    pub fn tenant_column(&self, rel: Oid) -> Option<&str> {
        match self.scope(rel) {
            Some(Scope::Direct { column }) => Some(column),
            _ => None,
        }
    }

    /// Why a table is `Global` or `Unscoped`.
    pub fn scope_reason(&self, rel: Oid) -> Option<&str> {
        self.scope_reasons.get(&rel).map(String::as_str)
    }

    /// The model as the JSON report's `tenancy` object.
    pub fn to_json(&self, index: &CatalogIndex<'_>) -> serde_json::Value {
        use serde_json::{json, Map, Value};
        let name = |oid: Oid| {
            index
                .relation(oid)
                .map(Relation::qualified)
                .unwrap_or_else(|| oid.to_string())
        };
        let mut tables: Vec<(String, Value)> = self
            .scopes
            .iter()
            .map(|(oid, scope)| {
                let mut m = Map::new();
                match scope {
                    Scope::Root => {
                        m.insert("scope".into(), "root".into());
                    }
                    Scope::Direct { column } => {
                        m.insert("scope".into(), "direct".into());
                        m.insert("column".into(), column.clone().into());
                    }
                    Scope::ViaParent { parent, columns } => {
                        m.insert("scope".into(), "via_parent".into());
                        m.insert("parent".into(), name(*parent).into());
                        m.insert("columns".into(), json!(columns));
                    }
                    Scope::Global => {
                        m.insert("scope".into(), "global".into());
                    }
                    Scope::Unscoped => {
                        m.insert("scope".into(), "unscoped".into());
                    }
                }
                if let Some(r) = self.scope_reasons.get(oid) {
                    m.insert("reason".into(), r.clone().into());
                }
                (name(*oid), Value::Object(m))
            })
            .collect();
        tables.sort_by(|a, b| a.0.cmp(&b.0));
        let resolutions: Vec<Value> = self
            .resolutions
            .iter()
            .map(|(r, pols)| {
                let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
                if let Value::Object(m) = &mut v {
                    m.insert("policies".into(), json!(pols));
                }
                v
            })
            .collect();
        json!({
            "root": self.root.map(name),
            "root_evidence": self.root_evidence,
            "tenant_columns": self.tenant_columns,
            "tenant_columns_source": self.tenant_columns_source,
            "users_table": self.users_table.map(name),
            "membership": self.membership.as_ref().map(|m| json!({
                "table": name(m.table),
                "user_column": m.user_column,
                "tenant_column": m.tenant_column,
            })),
            "resolutions": resolutions,
            "tables": Value::Object(tables.into_iter().collect()),
        })
    }
}

/// The application's users table: a project table keyed by the `auth.users` id, else one named
/// `users` / `profiles` (the `public` schema first).
fn detect_users_table(d: &Detect<'_, '_>) -> Option<Oid> {
    let auth_users = d.index.relation_named("auth", "users").map(|r| r.oid);
    const NAMES: &[&str] = &[
        "users",
        "user",
        "profiles",
        "profile",
        "user_profiles",
        "app_users",
    ];
    let rank = |r: &Relation| {
        let n = snake(&r.name);
        (
            NAMES.iter().position(|x| *x == n).unwrap_or(NAMES.len()),
            r.schema != "public",
        )
    };
    if let Some(auth) = auth_users {
        let mut keyed: Vec<&Relation> = d
            .tables
            .iter()
            .copied()
            .filter(|r| {
                key_column(d.index, r).is_some_and(|k| d.fk_target(r, &k.name) == Some(auth))
            })
            .collect();
        keyed.sort_by_key(|r| rank(r));
        if let Some(r) = keyed.first() {
            return Some(r.oid);
        }
    }
    let mut named: Vec<&Relation> = d
        .tables
        .iter()
        .copied()
        .filter(|r| NAMES.contains(&snake(&r.name).as_str()) && key_column(d.index, r).is_some())
        .collect();
    named.sort_by_key(|r| rank(r));
    named.first().map(|r| r.oid)
}

fn detect_root<'c>(
    d: &Detect<'_, 'c>,
    settings: &crate::Settings,
    users_table: Option<Oid>,
) -> (Option<&'c Relation>, String, Vec<Pointer<'c>>) {
    if let Some(q) = &settings.tenant_root {
        let (s, t) = q.split_once('.').unwrap_or(("public", q.as_str()));
        return match d.index.relation_named(s, t) {
            Some(r) => {
                let p = d.pointers(r);
                (
                    Some(r),
                    format!(
                        "set in dbaudit.toml (tenant_root = {q}); {} tables point at it",
                        p.len()
                    ),
                    p,
                )
            }
            None => (
                None,
                format!("tenant_root = {q} in dbaudit.toml matches no table"),
                vec![],
            ),
        };
    }
    let others = d.tables.len().saturating_sub(1).max(1);
    struct Cand<'c> {
        rel: &'c Relation,
        rank: usize,
        pointers: Vec<Pointer<'c>>,
        policy_tables: usize,
    }
    let mut cands: Vec<Cand<'c>> = vec![];
    let mut rejected: Vec<String> = vec![];
    for rel in &d.tables {
        let s = singular(&snake(&rel.name));
        let Some(rank) = ROOT_NAMES.iter().position(|n| *n == s) else {
            continue;
        };
        if Some(rel.oid) == users_table || key_column(d.index, rel).is_none() {
            continue;
        }
        let pointers = d.pointers(rel);
        let n = pointers.len();
        let not_null = pointers.iter().filter(|p| p.not_null).count();
        let policy_tables = pointers
            .iter()
            .filter(|p| !p.column.contains(", ") && d.policy_constrains(p.table.oid, &p.column))
            .count();
        let share = n as f64 / others as f64;
        let weak = WEAK_ROOT_NAMES.contains(&s.as_str());
        let min_share = match (weak, policy_tables > 0) {
            (true, false) => 0.4,
            (true, true) => 0.2,
            (false, false) => 0.25,
            (false, true) => 0.1,
        };
        let enough = n >= 2 || (n == 1 && others <= 3);
        if !enough || not_null * 2 < n || share < min_share {
            rejected.push(format!(
                "{} ({n} of {others} tables point at it, {not_null} NOT NULL)",
                rel.qualified()
            ));
            continue;
        }
        cands.push(Cand {
            rel,
            rank,
            pointers,
            policy_tables,
        });
    }
    // A candidate scoped by another (teams.org_id NOT NULL → organizations) is not the root.
    let scoped: HashSet<Oid> = cands
        .iter()
        .flat_map(|o| {
            o.pointers
                .iter()
                .filter(|p| p.not_null && p.table.oid != o.rel.oid)
                .map(|p| p.table.oid)
        })
        .collect();
    cands.retain(|c| !scoped.contains(&c.rel.oid));
    cands.sort_by(|a, b| {
        b.pointers
            .len()
            .cmp(&a.pointers.len())
            .then(a.rank.cmp(&b.rank))
    });
    if let Some(c) = cands.into_iter().next() {
        let ev = describe(
            c.rel,
            &c.pointers,
            others,
            c.policy_tables,
            "named like a tenant table",
        );
        return (Some(c.rel), ev, c.pointers);
    }
    // No named candidate: a table most tables point at through NOT NULL columns that policies
    // use to isolate tenants.
    let mut best: Option<(&'c Relation, Vec<Pointer<'c>>, usize)> = None;
    for rel in &d.tables {
        if Some(rel.oid) == users_table || key_column(d.index, rel).is_none() {
            continue;
        }
        let pointers = d.pointers(rel);
        let n = pointers.len();
        if n < 3 || (n as f64) < 0.5 * others as f64 {
            continue;
        }
        if pointers.iter().filter(|p| p.not_null).count() * 2 < n {
            continue;
        }
        let policy_tables = pointers
            .iter()
            .filter(|p| !p.column.contains(", ") && d.policy_constrains(p.table.oid, &p.column))
            .count();
        if policy_tables < 2 {
            continue;
        }
        if best.as_ref().is_none_or(|b| n > b.1.len()) {
            best = Some((rel, pointers, policy_tables));
        }
    }
    if let Some((rel, pointers, policy_tables)) = best {
        let ev = describe(
            rel,
            &pointers,
            others,
            policy_tables,
            "not named like a tenant table, but most tables point at it and policies isolate on it",
        );
        return (Some(rel), ev, pointers);
    }
    let mut ev = "no tenant root: no table named organizations, orgs, tenants, companies, \
                  workspaces, teams or accounts is referenced by enough of the schema, and no \
                  other table is the one most tables and their policies isolate on"
        .to_string();
    if !rejected.is_empty() {
        ev.push_str(&format!(" (considered: {})", rejected.join("; ")));
    }
    (None, ev, vec![])
}

fn describe(
    rel: &Relation,
    pointers: &[Pointer<'_>],
    others: usize,
    policy_tables: usize,
    why: &str,
) -> String {
    let declared = pointers.iter().filter(|p| p.declared).count();
    let mut cols: Vec<(String, usize)> = vec![];
    for p in pointers {
        match cols.iter_mut().find(|(c, _)| *c == p.column) {
            Some((_, n)) => *n += 1,
            None => cols.push((p.column.clone(), 1)),
        }
    }
    cols.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let cols: Vec<String> = cols.iter().map(|(c, n)| format!("{c} ×{n}")).collect();
    let mut s = format!(
        "{}: {why}; {} of the other {others} tables point at it ({}), {declared} through a declared foreign key",
        rel.qualified(),
        pointers.len(),
        cols.join(", ")
    );
    if policy_tables > 0 {
        s.push_str(&format!(
            "; policies of {policy_tables} table{} isolate on that column",
            if policy_tables == 1 { "" } else { "s" }
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::{Catalog, FkAction, PolicyCommand};

    fn analyse(cat: &Catalog, settings: &Settings) -> (Tenancy, serde_json::Value) {
        let ix = CatalogIndex::new(cat);
        let pol = PolicyAnalysis::analyse(&ix);
        let t = Tenancy::analyse(&ix, settings, &pol);
        let j = t.to_json(&ix);
        (t, j)
    }

    /// Callengo's shape: companies, users(id, company_id) without FK to auth.users, a helper
    /// `current_company_id()` reading public.users.
    pub(crate) fn callengo() -> Catalog {
        let mut b = CatalogBuilder::supabase()
            .table(
                "public.companies",
                &["id uuid not null", "name text not null"],
            )
            .pk("public.companies", &["id"])
            .table(
                "public.users",
                &["id uuid not null", "company_id uuid not null", "email text"],
            )
            .pk("public.users", &["id"])
            .fk(
                "public.users",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.agent_templates",
                &["id uuid not null", "slug text not null"],
            )
            .pk("public.agent_templates", &["id"])
            .table(
                "public.subscription_plans",
                &["id uuid not null", "price_monthly numeric(10,2) not null"],
            )
            .pk("public.subscription_plans", &["id"])
            .table(
                "public.stripe_events",
                &["id text not null", "payload jsonb"],
            )
            .pk("public.stripe_events", &["id"]);
        for t in ["contacts", "call_logs", "billing_events"] {
            let q = format!("public.{t}");
            b = b
                .table(&q, &["id uuid not null", "company_id uuid not null"])
                .pk(&q, &["id"])
                .fk(
                    &q,
                    &["company_id"],
                    "public.companies",
                    &["id"],
                    FkAction::Cascade,
                );
        }
        b.table(
            "public.agent_runs",
            &[
                "id uuid not null",
                "company_id uuid not null",
                "agent_template_id uuid",
            ],
        )
        .pk("public.agent_runs", &["id"])
        .fk(
            "public.agent_runs",
            &["company_id"],
            "public.companies",
            &["id"],
            FkAction::Cascade,
        )
        .fk(
            "public.agent_runs",
            &["agent_template_id"],
            "public.agent_templates",
            &["id"],
            FkAction::NoAction,
        )
        .table(
            "public.company_subscriptions",
            &[
                "id uuid not null",
                "company_id uuid not null",
                "plan_id uuid not null",
            ],
        )
        .pk("public.company_subscriptions", &["id"])
        .fk(
            "public.company_subscriptions",
            &["company_id"],
            "public.companies",
            &["id"],
            FkAction::Cascade,
        )
        .fk(
            "public.company_subscriptions",
            &["plan_id"],
            "public.subscription_plans",
            &["id"],
            FkAction::NoAction,
        )
        .table(
            "public.ai_conversations",
            &[
                "id uuid not null",
                "company_id uuid not null",
                "user_id uuid not null",
            ],
        )
        .pk("public.ai_conversations", &["id"])
        .fk(
            "public.ai_conversations",
            &["company_id"],
            "public.companies",
            &["id"],
            FkAction::Cascade,
        )
        .fk(
            "public.ai_conversations",
            &["user_id"],
            "auth.users",
            &["id"],
            FkAction::Cascade,
        )
        .table(
            "public.ai_messages",
            &[
                "id uuid not null",
                "conversation_id uuid not null",
                "content text",
            ],
        )
        .pk("public.ai_messages", &["id"])
        .fk(
            "public.ai_messages",
            &["conversation_id"],
            "public.ai_conversations",
            &["id"],
            FkAction::Cascade,
        )
        .policy(
            "public.contacts",
            "contacts: company access",
            PolicyCommand::All,
            &["authenticated"],
            Some("(company_id = current_company_id())"),
            Some("(company_id = current_company_id())"),
        )
        .with(|c| {
            let p = c.policies.last_mut().unwrap();
            p.functions = vec!["public.current_company_id".into()];
            c.functions.push(dbaudit_catalog::Function {
                oid: 99_000,
                schema: "public".into(),
                name: "current_company_id".into(),
                identity_args: String::new(),
                result: "uuid".into(),
                kind: 'f',
                language: "sql".into(),
                security_definer: true,
                volatility: 's',
                leakproof: false,
                config: vec!["search_path=public".into()],
                owner: "postgres".into(),
                grants: vec![],
                source: Some(
                    "\n  select company_id from public.users where id = auth.uid()\n".into(),
                ),
                comment: None,
            });
        })
        .build()
    }

    #[test]
    fn callengo_like_model() {
        let cat = callengo();
        let (t, j) = analyse(&cat, &Settings::default());
        assert_eq!(j["root"], "public.companies", "{j:#}");
        assert!(
            t.root_evidence.contains("named like a tenant table"),
            "{}",
            t.root_evidence
        );
        assert_eq!(t.tenant_columns, vec!["company_id"]);
        assert_eq!(j["users_table"], "public.users");
        assert_eq!(j["membership"]["table"], "public.users", "{j:#}");
        assert_eq!(j["membership"]["user_column"], "id");
        assert_eq!(j["membership"]["tenant_column"], "company_id");
        assert_eq!(j["resolutions"][0]["kind"], "helper");
        assert_eq!(j["resolutions"][0]["function"], "public.current_company_id");
        assert_eq!(
            j["resolutions"][0]["policies"][0],
            "public.contacts: contacts: company access"
        );
        let tables = &j["tables"];
        assert_eq!(tables["public.companies"]["scope"], "root");
        assert_eq!(tables["public.contacts"]["scope"], "direct");
        assert_eq!(tables["public.contacts"]["column"], "company_id");
        assert_eq!(tables["public.users"]["scope"], "direct");
        assert_eq!(tables["public.ai_messages"]["scope"], "via_parent");
        assert_eq!(
            tables["public.ai_messages"]["parent"],
            "public.ai_conversations"
        );
        assert_eq!(tables["public.agent_templates"]["scope"], "global");
        assert!(tables["public.agent_templates"]["reason"]
            .as_str()
            .unwrap()
            .contains("catalogue"));
        assert_eq!(tables["public.subscription_plans"]["scope"], "global");
        assert_eq!(tables["public.stripe_events"]["scope"], "global");
        // auth.users is not audited.
        assert!(tables.get("auth.users").is_none());
    }

    fn clinic() -> Catalog {
        let mut b = CatalogBuilder::supabase()
            .table(
                "public.organizations",
                &["id uuid not null", "slug text not null"],
            )
            .pk("public.organizations", &["id"]);
        for t in ["agents", "contacts", "campaigns", "appointments"] {
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
                )
                .policy(
                    &q,
                    &format!("{t} - organization isolation"),
                    PolicyCommand::All,
                    &["authenticated"],
                    Some("(org_id = ((auth.jwt() ->> 'organization_id'::text))::uuid)"),
                    None,
                )
                .with(|c| c.policies.last_mut().unwrap().functions = vec!["auth.jwt".into()]);
        }
        b.table(
            "public.cold_call_logs",
            &["id uuid not null", "org_id uuid"],
        )
        .pk("public.cold_call_logs", &["id"])
        .fk(
            "public.cold_call_logs",
            &["org_id"],
            "public.organizations",
            &["id"],
            FkAction::Cascade,
        )
        .table(
            "public.atomic_appointments",
            &["id uuid not null", "org_id uuid not null"],
        )
        .pk("public.atomic_appointments", &["id"])
        .build()
    }

    #[test]
    fn clinic_like_model() {
        let cat = clinic();
        let (t, j) = analyse(&cat, &Settings::default());
        assert_eq!(j["root"], "public.organizations");
        assert_eq!(t.tenant_columns, vec!["org_id"]);
        assert!(t.users_table.is_none());
        assert!(t.membership.is_none());
        // The policies read the tenant from a JWT claim (through the policy facts).
        assert!(t
            .resolutions
            .iter()
            .all(|(r, _)| !matches!(r, Resolution::Helper { .. })));
        assert_eq!(j["resolutions"][0]["kind"], "claim", "{j:#}");
        assert_eq!(j["resolutions"][0]["path"][0], "organization_id");
        assert_eq!(j["resolutions"][0]["policies"].as_array().unwrap().len(), 4);
        // org_id without FK is still the tenant column.
        assert_eq!(j["tables"]["public.atomic_appointments"]["scope"], "direct");
        assert_eq!(j["tables"]["public.cold_call_logs"]["column"], "org_id");
    }

    #[test]
    fn drizzle_like_model_without_api_roles() {
        let mut b = CatalogBuilder::new()
            .table(
                "public.tenants",
                &["id uuid not null", "name text not null"],
            )
            .pk("public.tenants", &["id"])
            .table(
                "public.users",
                &["id uuid not null", "tenantId uuid not null", "email text"],
            )
            .pk("public.users", &["id"])
            .fk(
                "public.users",
                &["tenantId"],
                "public.tenants",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.companies",
                &["id uuid not null", "tenantId uuid not null", "ownerId uuid"],
            )
            .pk("public.companies", &["id"])
            .fk(
                "public.companies",
                &["tenantId"],
                "public.tenants",
                &["id"],
                FkAction::Cascade,
            )
            .fk(
                "public.companies",
                &["ownerId"],
                "public.users",
                &["id"],
                FkAction::SetNull,
            );
        for t in [
            "contacts",
            "deals",
            "activities",
            "tags",
            "pipelineStages",
            "auditLogs",
        ] {
            let q = format!("public.{t}");
            b = b
                .table(
                    &q,
                    &[
                        "id uuid not null",
                        "tenantId uuid not null",
                        "companyId uuid",
                    ],
                )
                .pk(&q, &["id"])
                .fk(
                    &q,
                    &["tenantId"],
                    "public.tenants",
                    &["id"],
                    FkAction::Cascade,
                )
                .fk(
                    &q,
                    &["companyId"],
                    "public.companies",
                    &["id"],
                    FkAction::SetNull,
                );
        }
        let cat = b.build();
        let (t, j) = analyse(&cat, &Settings::default());
        assert_eq!(j["root"], "public.tenants", "{}", t.root_evidence);
        assert_eq!(t.tenant_columns, vec!["tenantId"]);
        assert_eq!(j["users_table"], "public.users");
        assert_eq!(j["membership"]["table"], "public.users");
        assert_eq!(j["membership"]["tenant_column"], "tenantId");
        assert_eq!(j["tables"]["public.companies"]["scope"], "direct");
        assert_eq!(j["tables"]["public.companies"]["column"], "tenantId");
        assert_eq!(j["tables"]["public.deals"]["column"], "tenantId");
        assert!(t.resolutions.is_empty());
    }

    #[test]
    fn schema_without_tenants_has_no_root() {
        let cat = CatalogBuilder::new()
            .table("public.users", &["id uuid not null", "email text"])
            .pk("public.users", &["id"])
            .table(
                "public.posts",
                &["id uuid not null", "user_id uuid not null"],
            )
            .pk("public.posts", &["id"])
            .fk(
                "public.posts",
                &["user_id"],
                "public.users",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.comments",
                &[
                    "id uuid not null",
                    "post_id uuid not null",
                    "user_id uuid not null",
                ],
            )
            .pk("public.comments", &["id"])
            .fk(
                "public.comments",
                &["post_id"],
                "public.posts",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.likes",
                &["id uuid not null", "post_id uuid not null"],
            )
            .pk("public.likes", &["id"])
            .fk(
                "public.likes",
                &["post_id"],
                "public.posts",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.accounts",
                &["id uuid not null", "user_id uuid not null", "provider text"],
            )
            .pk("public.accounts", &["id"])
            .fk(
                "public.accounts",
                &["user_id"],
                "public.users",
                &["id"],
                FkAction::Cascade,
            )
            .build();
        let (t, j) = analyse(&cat, &Settings::default());
        assert!(t.root.is_none(), "{}", t.root_evidence);
        assert!(t.root_evidence.starts_with("no tenant root"));
        assert!(t.tenant_columns.is_empty());
        assert_eq!(j["tables"]["public.posts"]["scope"], "global");
        assert!(t.scopes.values().all(|s| *s == Scope::Global));
    }

    #[test]
    fn crm_companies_with_optional_references_are_not_a_root() {
        let cat = CatalogBuilder::new()
            .table("public.companies", &["id uuid not null"])
            .pk("public.companies", &["id"])
            .table("public.contacts", &["id uuid not null", "company_id uuid"])
            .pk("public.contacts", &["id"])
            .fk(
                "public.contacts",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::SetNull,
            )
            .table("public.deals", &["id uuid not null", "company_id uuid"])
            .pk("public.deals", &["id"])
            .fk(
                "public.deals",
                &["company_id"],
                "public.companies",
                &["id"],
                FkAction::SetNull,
            )
            .build();
        let (t, _) = analyse(&cat, &Settings::default());
        assert!(t.root.is_none(), "{}", t.root_evidence);
        assert!(t
            .root_evidence
            .contains("public.companies (2 of 2 tables point at it, 0 NOT NULL)"));
    }

    #[test]
    fn a_team_inside_an_organization_is_not_the_root() {
        let cat = CatalogBuilder::new()
            .table("public.organizations", &["id uuid not null"])
            .pk("public.organizations", &["id"])
            .table(
                "public.teams",
                &["id uuid not null", "org_id uuid not null"],
            )
            .pk("public.teams", &["id"])
            .fk(
                "public.teams",
                &["org_id"],
                "public.organizations",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.a",
                &[
                    "id uuid not null",
                    "org_id uuid not null",
                    "team_id uuid not null",
                ],
            )
            .pk("public.a", &["id"])
            .table(
                "public.b",
                &[
                    "id uuid not null",
                    "org_id uuid not null",
                    "team_id uuid not null",
                ],
            )
            .pk("public.b", &["id"])
            .table(
                "public.c",
                &[
                    "id uuid not null",
                    "org_id uuid not null",
                    "team_id uuid not null",
                ],
            )
            .pk("public.c", &["id"])
            .build();
        let (t, j) = analyse(&cat, &Settings::default());
        assert_eq!(j["root"], "public.organizations", "{}", t.root_evidence);
        assert_eq!(j["tables"]["public.teams"]["scope"], "direct");
    }

    #[test]
    fn config_overrides_root_and_columns() {
        let cat = clinic();
        let settings = Settings {
            tenant_root: Some("public.agents".into()),
            tenant_columns: Some(vec!["agent_id".into()]),
            ..Settings::default()
        };
        let (t, j) = analyse(&cat, &settings);
        assert_eq!(j["root"], "public.agents");
        assert!(t.root_evidence.starts_with("set in dbaudit.toml"));
        assert_eq!(j["tenant_columns_source"], "config");
        let missing = Settings {
            tenant_root: Some("public.nope".into()),
            ..Settings::default()
        };
        let (t, _) = analyse(&cat, &missing);
        assert!(t.root.is_none());
        assert!(t.root_evidence.contains("matches no table"));
    }

    #[test]
    fn membership_table_and_unscoped_user_data() {
        let cat = CatalogBuilder::supabase()
            .table("public.orgs", &["id uuid not null"])
            .pk("public.orgs", &["id"])
            .table("public.profiles", &["id uuid not null", "full_name text"])
            .pk("public.profiles", &["id"])
            .fk("public.profiles", &["id"], "auth.users", &["id"], FkAction::Cascade)
            .table("public.org_members", &["org_id uuid not null", "user_id uuid not null", "role text"])
            .pk("public.org_members", &["org_id", "user_id"])
            .fk("public.org_members", &["org_id"], "public.orgs", &["id"], FkAction::Cascade)
            .fk("public.org_members", &["user_id"], "public.profiles", &["id"], FkAction::Cascade)
            .table("public.projects", &["id uuid not null", "org_id uuid not null"])
            .pk("public.projects", &["id"])
            .fk("public.projects", &["org_id"], "public.orgs", &["id"], FkAction::Cascade)
            .policy(
                "public.projects",
                "members",
                PolicyCommand::Select,
                &["authenticated"],
                Some("(org_id IN ( SELECT org_members.org_id FROM org_members WHERE (org_members.user_id = auth.uid())))"),
                None,
            )
            .with(|c| {
                let p = c.policies.last_mut().unwrap();
                p.functions = vec!["auth.uid".into()];
                p.relations = vec!["public.org_members".into()];
            })
            .table("public.user_settings", &["id uuid not null", "user_id uuid not null"])
            .pk("public.user_settings", &["id"])
            .fk("public.user_settings", &["user_id"], "auth.users", &["id"], FkAction::Cascade)
            .build();
        let (t, j) = analyse(&cat, &Settings::default());
        assert_eq!(j["root"], "public.orgs", "{}", t.root_evidence);
        assert_eq!(j["users_table"], "public.profiles");
        assert_eq!(j["membership"]["table"], "public.org_members", "{j:#}");
        assert_eq!(j["membership"]["user_column"], "user_id");
        assert_eq!(j["resolutions"][0]["kind"], "membership");
        assert_eq!(j["resolutions"][0]["table"], "public.org_members");
        assert_eq!(j["tables"]["public.user_settings"]["scope"], "unscoped");
        assert_eq!(j["tables"]["public.profiles"]["scope"], "unscoped");
    }

    fn isolated_by(using: &str) -> Catalog {
        let mut b = CatalogBuilder::supabase()
            .table("public.stores", &["id uuid not null", "name text"])
            .pk("public.stores", &["id"]);
        for t in ["products", "orders", "customers", "coupons"] {
            let q = format!("public.{t}");
            b = b
                .table(
                    &q,
                    &[
                        "id uuid not null",
                        "store_id uuid not null",
                        "user_id uuid not null",
                    ],
                )
                .pk(&q, &["id"])
                .fk(
                    &q,
                    &["store_id"],
                    "public.stores",
                    &["id"],
                    FkAction::Cascade,
                )
                .policy(
                    &q,
                    "isolation",
                    PolicyCommand::All,
                    &["authenticated"],
                    Some(using),
                    None,
                )
                .with(|c| {
                    c.policies.last_mut().unwrap().functions =
                        vec!["auth.jwt".into(), "auth.uid".into()]
                });
        }
        b.build()
    }

    #[test]
    fn unnamed_root_needs_policies_that_isolate_on_it() {
        let cat = isolated_by("(store_id = ((auth.jwt() ->> 'store_id'::text))::uuid)");
        let (t, j) = analyse(&cat, &Settings::default());
        assert_eq!(j["root"], "public.stores", "{}", t.root_evidence);
        assert!(
            t.root_evidence.contains("not named like a tenant table"),
            "{}",
            t.root_evidence
        );
        assert_eq!(t.tenant_columns, vec!["store_id"]);

        // Same shape, but the policies only check the row owner: a parent table, not a tenant.
        let cat = isolated_by("(user_id = ( SELECT auth.uid() AS uid))");
        let (t, _) = analyse(&cat, &Settings::default());
        assert!(t.root.is_none(), "{}", t.root_evidence);
    }

    #[test]
    fn partitions_share_their_parents_scope() {
        let cat = CatalogBuilder::new()
            .table("public.orgs", &["id uuid not null"])
            .pk("public.orgs", &["id"])
            .table(
                "public.events",
                &["id uuid not null", "org_id uuid not null"],
            )
            .fk(
                "public.events",
                &["org_id"],
                "public.orgs",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.events_2026",
                &["id uuid not null", "org_id uuid not null"],
            )
            .fk(
                "public.events_2026",
                &["org_id"],
                "public.orgs",
                &["id"],
                FkAction::Cascade,
            )
            .table("public.logs", &["id uuid not null", "org_id uuid not null"])
            .fk(
                "public.logs",
                &["org_id"],
                "public.orgs",
                &["id"],
                FkAction::Cascade,
            )
            .with(|c| {
                let parent = c.relations.iter().find(|r| r.name == "events").unwrap().oid;
                let p = c
                    .relations
                    .iter_mut()
                    .find(|r| r.name == "events_2026")
                    .unwrap();
                p.partition_of = Some(parent);
            })
            .build();
        let (t, j) = analyse(&cat, &Settings::default());
        assert_eq!(j["root"], "public.orgs", "{}", t.root_evidence);
        assert!(
            t.root_evidence.contains("2 of the other 2 tables"),
            "{}",
            t.root_evidence
        );
        assert_eq!(j["tables"]["public.events_2026"]["scope"], "direct");
        assert_eq!(
            j["tables"]["public.events_2026"]["reason"],
            "a partition of public.events"
        );
    }

    #[test]
    fn identifiers_and_mentions() {
        assert!(mentions(
            "select company_id from public.users where id = auth.uid()",
            "users"
        ));
        assert!(!mentions("select 'users' from x", "users"));
        assert!(mentions("(\"company_id\" = x())", "company_id"));
        assert!(!mentions("(company_ids = x())", "company_id"));
    }
}
