//! Planning: from the model alone (no connection), which tables to fill in which order, how to
//! generate each column, which claims and settings to send, and what to try on which table,
//! view and function.

use crate::values::{self, quote_literal};
use dbaudit_catalog::{ConstraintKind, Oid, Relation, RelationKind};
use dbaudit_rules::analysis::relationships::{is_user_column, key_column, singular, Confidence};
use dbaudit_rules::analysis::tenancy::Scope;
use dbaudit_rules::{qualify, Context};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};

/// How one column of a filled row gets its value.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gen {
    /// The row's tenant: the tenant root's key of A or B.
    TenantKey,
    /// The row's user (the member of A, or B's user).
    User,
    /// The value of `column` in the same tenant's row of the filled table `fill` (or its shared
    /// row).
    Ref { fill: usize, column: String },
    /// Candidate SQL expressions, tried in order when a CHECK rejects one.
    Literal { candidates: Vec<String> },
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnFill {
    pub name: String,
    pub sql_type: String,
    pub gen: Gen,
}

/// A table the probe writes rows into.
#[derive(Debug, Clone, Serialize)]
pub struct FillTable {
    pub oid: Oid,
    pub schema: String,
    pub table: String,
    /// `schema.name`, unquoted.
    pub name: String,
    /// Quoted for SQL.
    pub sql: String,
    /// One row per tenant (A and B); otherwise one shared row.
    pub per_tenant: bool,
    /// Tested (tenant-scoped, or the root).
    pub probe: bool,
    pub is_root: bool,
    pub is_auth_users: bool,
    /// Columns identifying a row (primary key); empty: `ctid`.
    pub key: Vec<String>,
    /// Types of the key columns, for typed literals.
    pub key_types: Vec<String>,
    pub columns: Vec<ColumnFill>,
    /// The columns that make a row belong to a tenant (moved by the `move` test).
    pub tenant_columns: Vec<String>,
    /// A column the `update` test sets to itself.
    pub update_column: Option<String>,
    /// CHECK constraint name → its columns (to pick another candidate when it fails).
    pub checks: Vec<(String, Vec<String>)>,
    /// Why it cannot be filled, decided at planning time.
    pub unfillable: Option<String>,
}

impl FillTable {
    pub fn column(&self, name: &str) -> Option<&ColumnFill> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RolePlan {
    pub name: String,
    /// Acts as the signed-in member of A (`sub` and tenant claims), not as a visitor.
    pub signed_in: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ViewTarget {
    pub name: String,
    pub sql: String,
    pub security_invoker: bool,
    /// Filled tables the view reads.
    pub reads: Vec<usize>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ArgGen {
    TenantKey {
        sql_type: String,
    },
    Ref {
        fill: usize,
        column: String,
        sql_type: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct FunctionTarget {
    /// `schema.name(args)`.
    pub signature: String,
    /// `schema.name`, quoted.
    pub sql: String,
    pub args: Vec<ArgGen>,
}

/// A reference whose leftovers are counted after a cascade delete.
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    pub from: usize,
    pub column: String,
    pub column_type: String,
    pub to: usize,
    pub to_column: String,
    pub constraint: Option<String>,
}

/// Everything [`crate::probe`] needs, owned: no borrow of the catalog across awaits.
#[derive(Debug, Clone, Serialize)]
pub struct ProbePlan {
    /// `schema.name` of the tenant root.
    pub tenant_root: Option<String>,
    pub root: Option<usize>,
    pub auth_users: Option<usize>,
    pub users_table: Option<usize>,
    /// In fill order (parents first).
    pub fills: Vec<FillTable>,
    pub roles: Vec<RolePlan>,
    /// Claim paths the policies read, set to tenant A (`["organization_id"]`,
    /// `["app_metadata", "org_id"]`).
    pub claims: Vec<Vec<String>>,
    /// Settings other than the JWT that policies read (`app.tenant_id`), set to tenant A.
    pub settings: Vec<String>,
    pub views: Vec<ViewTarget>,
    pub functions: Vec<FunctionTarget>,
    /// Fills whose B row is deleted in the cascade proof: root, users table, `auth.users`.
    pub cascade_origins: Vec<usize>,
    pub references: Vec<Reference>,
    /// Why there is nothing to probe, when there is not.
    pub skipped: Option<String>,
}

impl ProbePlan {
    pub fn fill_named(&self, name: &str) -> Option<&FillTable> {
        self.fills.iter().find(|f| f.name == name)
    }
}

/// Claim keys every Supabase JWT carries: never overwritten with the tenant.
const STANDARD_CLAIMS: &[&str] = &[
    "sub",
    "role",
    "aud",
    "email",
    "phone",
    "exp",
    "iat",
    "iss",
    "session_id",
    "is_anonymous",
    "aal",
    "amr",
];

/// Plan the probe from the model.
pub fn plan(ctx: &Context<'_>) -> ProbePlan {
    Planner::new(ctx).run()
}

struct Planner<'c, 'a> {
    ctx: &'c Context<'a>,
    auth_users: Option<&'a Relation>,
}

impl<'c, 'a> Planner<'c, 'a> {
    fn new(ctx: &'c Context<'a>) -> Self {
        Planner {
            ctx,
            auth_users: ctx.index.relation_named("auth", "users"),
        }
    }

    fn rel(&self, oid: Oid) -> Option<&'a Relation> {
        self.ctx.index.relation(oid)
    }

    fn run(self) -> ProbePlan {
        let ctx = self.ctx;
        let mut out = ProbePlan {
            tenant_root: ctx
                .tenancy
                .root
                .and_then(|r| self.rel(r))
                .map(Relation::qualified),
            root: None,
            auth_users: None,
            users_table: None,
            fills: vec![],
            roles: vec![],
            claims: vec![],
            settings: vec![],
            views: vec![],
            functions: vec![],
            cascade_origins: vec![],
            references: vec![],
            skipped: None,
        };
        let mut roles: Vec<RolePlan> = ctx
            .exposure
            .api_roles
            .iter()
            .filter(|r| ctx.index.role(r).is_some())
            .map(|r| RolePlan {
                name: r.clone(),
                signed_in: r != "anon",
            })
            .collect();
        roles.sort_by_key(|r| !r.signed_in);
        out.roles = roles;
        let Some(root) = ctx.tenancy.root else {
            out.skipped = Some(
                "no tenant root was detected (set tenant_root in dbaudit.toml): there are no tenants to isolate"
                    .into(),
            );
            return out;
        };
        if out.roles.iter().all(|r| !r.signed_in) {
            out.skipped = Some(
                "no API role to act as (no `authenticated` role, none configured in api_roles)"
                    .into(),
            );
            return out;
        }

        // Tables to test: the root and every tenant-scoped table of the audited schemas.
        let is_fillable_kind = |r: &Relation| r.kind.is_table() && r.partition_of.is_none();
        let mut probe_set: BTreeSet<Oid> = ctx
            .audited_relations()
            .filter(|r| {
                is_fillable_kind(r) && (r.oid == root || ctx.tenancy.is_tenant_scoped(r.oid))
            })
            .map(|r| r.oid)
            .collect();
        probe_set.insert(root);

        // Everything to fill: those, the users and membership tables, auth.users, and the
        // parents their NOT NULL foreign keys require.
        let mut fill_set: BTreeSet<Oid> = probe_set.clone();
        if let Some(u) = ctx.tenancy.users_table {
            fill_set.insert(u);
        }
        if let Some(m) = &ctx.tenancy.membership {
            fill_set.insert(m.table);
        }
        if let Some(a) = self.auth_users {
            fill_set.insert(a.oid);
        }
        let mut queue: Vec<Oid> = fill_set.iter().copied().collect();
        while let Some(t) = queue.pop() {
            for (parent, _) in self.required_parents(t) {
                if self.rel(parent).is_some_and(is_fillable_kind) && fill_set.insert(parent) {
                    queue.push(parent);
                }
            }
        }

        // Order: parents first along required FKs; auth.users and the root lead.
        let (order, cyclic) = self.order(&fill_set, root);
        let mut index_of: HashMap<Oid, usize> = HashMap::new();
        for oid in order.iter().copied() {
            let Some(rel) = self.rel(oid) else { continue };
            let fill = self.fill_table(rel, &index_of, &out.fills, probe_set.contains(&oid), root);
            index_of.insert(oid, out.fills.len());
            out.fills.push(fill);
        }
        for oid in cyclic {
            let Some(rel) = self.rel(oid) else { continue };
            let mut fill =
                self.fill_table(rel, &index_of, &out.fills, probe_set.contains(&oid), root);
            fill.unfillable = Some(
                "its NOT NULL foreign keys form a cycle with other tables: no row can be inserted first"
                    .into(),
            );
            index_of.insert(oid, out.fills.len());
            out.fills.push(fill);
        }
        out.root = index_of.get(&root).copied();
        out.auth_users = self.auth_users.and_then(|a| index_of.get(&a.oid).copied());
        out.users_table = ctx
            .tenancy
            .users_table
            .and_then(|u| index_of.get(&u).copied());
        out.cascade_origins = [out.root, out.users_table, out.auth_users]
            .into_iter()
            .flatten()
            .collect();
        out.cascade_origins.dedup();

        self.claims_and_settings(&mut out);
        self.references(&mut out, &index_of, root);
        self.views(&mut out, &index_of);
        self.functions(&mut out, root);
        out
    }

    /// Parents a row of `table` must point at: declared FKs whose columns are all NOT NULL.
    fn required_parents(&self, table: Oid) -> Vec<(Oid, String)> {
        let Some(rel) = self.rel(table) else {
            return vec![];
        };
        self.ctx
            .index
            .foreign_keys(table)
            .filter_map(|c| {
                let fk = c.foreign_key.as_ref()?;
                let required = c.columns.iter().all(|col| {
                    rel.column(col)
                        .is_some_and(|c| c.not_null && c.default.is_none())
                });
                (required && fk.ref_table != table).then(|| (fk.ref_table, c.name.clone()))
            })
            .collect()
    }

    /// Topological order over required FKs (plus: the root and auth.users first, the users
    /// table early). Tables left in a cycle come back separately.
    fn order(&self, set: &BTreeSet<Oid>, root: Oid) -> (Vec<Oid>, Vec<Oid>) {
        let mut deps: HashMap<Oid, HashSet<Oid>> = HashMap::new();
        for &t in set {
            let mut d: HashSet<Oid> = self
                .required_parents(t)
                .into_iter()
                .map(|(p, _)| p)
                .filter(|p| set.contains(p))
                .collect();
            // Tenant columns need the root row; user columns need the user.
            let is_auth = self.auth_users.is_some_and(|a| a.oid == t);
            if t != root && !is_auth && !self.depends_on(root, t, set) {
                d.insert(root);
            }
            if let Some(a) = self.auth_users {
                if !is_auth && set.contains(&a.oid) {
                    d.insert(a.oid);
                }
            }
            if let Some(u) = self.ctx.tenancy.users_table {
                if t != u && set.contains(&u) && !self.depends_on(u, t, set) {
                    let rel = self.rel(t);
                    let has_user_col =
                        rel.is_some_and(|r| r.columns.iter().any(|c| is_user_column(&c.name)));
                    if has_user_col {
                        d.insert(u);
                    }
                }
            }
            deps.insert(t, d);
        }
        let mut order = vec![];
        let mut done: HashSet<Oid> = HashSet::new();
        loop {
            let ready: Vec<Oid> = set
                .iter()
                .copied()
                .filter(|t| !done.contains(t) && deps[t].iter().all(|d| done.contains(d)))
                .collect();
            if ready.is_empty() {
                break;
            }
            for t in ready {
                done.insert(t);
                order.push(t);
            }
        }
        let cyclic = set.iter().copied().filter(|t| !done.contains(t)).collect();
        (order, cyclic)
    }

    /// Whether `a` (transitively) needs `b` first through required FKs.
    fn depends_on(&self, a: Oid, b: Oid, set: &BTreeSet<Oid>) -> bool {
        let mut seen = HashSet::new();
        let mut stack = vec![a];
        while let Some(t) = stack.pop() {
            if !seen.insert(t) {
                continue;
            }
            for (p, _) in self.required_parents(t) {
                if p == b {
                    return true;
                }
                if set.contains(&p) {
                    stack.push(p);
                }
            }
        }
        false
    }

    fn fill_table(
        &self,
        rel: &Relation,
        index_of: &HashMap<Oid, usize>,
        fills: &[FillTable],
        probe: bool,
        root: Oid,
    ) -> FillTable {
        let ctx = self.ctx;
        let is_auth_users = self.auth_users.is_some_and(|a| a.oid == rel.oid);
        let is_root = rel.oid == root;
        let cons = ctx.index.constraints(rel.oid);
        let key: Vec<String> = ctx
            .index
            .primary_key(rel.oid)
            .map(|c| c.columns.clone())
            .unwrap_or_default();
        let users_key = ctx
            .tenancy
            .users_table
            .filter(|u| *u == rel.oid)
            .and_then(|_| key_column(&ctx.index, rel))
            .map(|c| c.name.clone());
        let tenant_col = ctx.tenancy.tenant_column(rel.oid).map(str::to_string);
        let membership = ctx
            .tenancy
            .membership
            .as_ref()
            .filter(|m| m.table == rel.oid);
        let root_key = self
            .rel(root)
            .and_then(|r| key_column(&ctx.index, r))
            .map(|c| c.name.clone());

        // FK column → (parent, parent column, constraint name).
        let mut fk_of: HashMap<&str, (Oid, String)> = HashMap::new();
        for c in cons.iter().filter(|c| c.kind == ConstraintKind::ForeignKey) {
            if let Some(fk) = &c.foreign_key {
                for (col, rc) in c.columns.iter().zip(&fk.ref_columns) {
                    fk_of.insert(col.as_str(), (fk.ref_table, rc.clone()));
                }
            }
        }
        let checks: Vec<_> = cons
            .iter()
            .filter(|c| c.kind == ConstraintKind::Check)
            .copied()
            .collect();

        let mut columns = vec![];
        let mut unfillable = None;
        for col in &rel.columns {
            if col.generated || col.identity == Some('a') {
                continue;
            }
            let name = col.name.as_str();
            let gen = if is_auth_users {
                match name {
                    "id" => Some(Gen::User),
                    "email" => Some(lit(&col.type_name, "probe-{tag}-{t}@example.test")),
                    "aud" | "role" => Some(lit(&col.type_name, "authenticated")),
                    _ => None,
                }
            } else if is_root && Some(name) == root_key.as_deref() {
                None
            } else if users_key.as_deref() == Some(name) {
                Some(Gen::User)
            } else if tenant_col.as_deref() == Some(name)
                || membership.is_some_and(|m| m.tenant_column == name)
            {
                Some(Gen::TenantKey)
            } else if membership.is_some_and(|m| m.user_column == name) {
                Some(Gen::User)
            } else if let Some((parent, pcol)) = fk_of.get(name) {
                if self.auth_users.is_some_and(|a| a.oid == *parent) {
                    Some(Gen::User)
                } else if *parent == root && Some(pcol) == root_key.as_ref() {
                    Some(Gen::TenantKey)
                } else if let Some(&i) = index_of.get(parent) {
                    Some(Gen::Ref {
                        fill: i,
                        column: pcol.clone(),
                    })
                } else {
                    None
                }
            } else if let Some(r) = ctx
                .relationships
                .inferred_for(rel.oid, name)
                .filter(|r| r.confidence == Confidence::High && r.types_compatible)
            {
                let is_users = Some(r.to) == ctx.tenancy.users_table
                    || self.auth_users.is_some_and(|a| a.oid == r.to);
                if is_users {
                    Some(Gen::User)
                } else if r.to == root {
                    Some(Gen::TenantKey)
                } else if let Some(&i) = index_of.get(&r.to) {
                    Some(Gen::Ref {
                        fill: i,
                        column: r.to_columns[0].clone(),
                    })
                } else {
                    None
                }
            } else if is_user_column(name)
                && col.not_null
                && col.default.is_none()
                && col.base_type_name == "uuid"
            {
                Some(Gen::User)
            } else {
                None
            };
            // A parent of another tenant's table would not be tenant-consistent: a Ref into a
            // per-tenant fill is fine, into a shared one too.
            let gen = match gen {
                Some(g) => Some(g),
                None if col.not_null && col.default.is_none() && col.identity.is_none() => {
                    let cands = values::candidates(&ctx.index, &checks, col);
                    if cands.is_empty() {
                        unfillable.get_or_insert(format!(
                            "column {} is NOT NULL, without a default, of a type the probe cannot generate ({})",
                            col.name, col.type_name
                        ));
                        None
                    } else {
                        Some(Gen::Literal { candidates: cands })
                    }
                }
                None => None,
            };
            if let Some(gen) = gen {
                columns.push(ColumnFill {
                    name: col.name.clone(),
                    sql_type: col.type_name.clone(),
                    gen,
                });
            }
        }

        let per_tenant = is_root
            || is_auth_users
            || probe
            || users_key.is_some()
            || membership.is_some()
            || columns.iter().any(|c| match &c.gen {
                Gen::TenantKey | Gen::User => true,
                Gen::Ref { fill, .. } => fills.get(*fill).is_some_and(|f| f.per_tenant),
                Gen::Literal { .. } => false,
            });

        let tenant_columns: Vec<String> = match ctx.tenancy.scope(rel.oid) {
            Some(Scope::Direct { column }) => vec![column.clone()],
            Some(Scope::ViaParent { columns, .. }) => columns.clone(),
            _ => vec![],
        };
        let update_column = rel
            .columns
            .iter()
            .filter(|c| !c.generated && c.identity.is_none())
            .find(|c| !key.contains(&c.name) && !tenant_columns.contains(&c.name))
            .or_else(|| {
                rel.columns
                    .iter()
                    .find(|c| !c.generated && c.identity.is_none())
            })
            .map(|c| c.name.clone());
        let key_types = key
            .iter()
            .map(|k| {
                rel.column(k)
                    .map(|c| c.type_name.clone())
                    .unwrap_or_else(|| "text".into())
            })
            .collect();
        FillTable {
            oid: rel.oid,
            schema: rel.schema.clone(),
            table: rel.name.clone(),
            name: rel.qualified(),
            key_types,
            sql: qualify(&rel.schema, &rel.name),
            per_tenant,
            probe,
            is_root,
            is_auth_users,
            key,
            columns,
            tenant_columns,
            update_column,
            checks: checks
                .iter()
                .map(|c| (c.name.clone(), c.columns.clone()))
                .collect(),
            unfillable,
        }
    }

    fn claims_and_settings(&self, out: &mut ProbePlan) {
        use dbaudit_rules::analysis::policy::analyse_sql_body;
        let ctx = self.ctx;
        let mut claims: Vec<Vec<String>> = vec![];
        let mut settings: Vec<String> = vec![];
        let mut helpers: Vec<String> = vec![];
        let add_claim = |path: &[String], claims: &mut Vec<Vec<String>>| {
            if path.is_empty() {
                return;
            }
            if path.len() == 1
                && (STANDARD_CLAIMS.contains(&path[0].as_str())
                    || path[0] == "app_metadata"
                    || path[0] == "user_metadata")
            {
                return;
            }
            if !claims.iter().any(|c| c == path) {
                claims.push(path.to_vec());
            }
        };
        for p in &ctx.catalog.policies {
            let Some(facts) = ctx.policies.of(p.oid) else {
                continue;
            };
            for e in facts.exprs() {
                for c in &e.claims {
                    add_claim(&c.path, &mut claims);
                }
                for s in &e.settings {
                    if !s.starts_with("request.jwt") && !settings.contains(s) {
                        settings.push(s.clone());
                    }
                }
                helpers.extend(e.functions.iter().cloned());
            }
            helpers.extend(p.functions.iter().cloned());
        }
        for (r, _) in &ctx.tenancy.resolutions {
            if let dbaudit_rules::analysis::tenancy::Resolution::Claim { path } = r {
                add_claim(path, &mut claims);
            }
        }
        // Helper bodies (two levels: a helper calling another).
        let mut seen = HashSet::new();
        let setting_re = regex::Regex::new(r"current_setting\s*\(\s*'([^']+)'").unwrap();
        for _ in 0..2 {
            let mut next = vec![];
            for h in helpers.drain(..) {
                if !seen.insert(h.clone()) {
                    continue;
                }
                let (schema, name) = h.split_once('.').unwrap_or(("public", h.as_str()));
                if dbaudit_catalog::MANAGED_SCHEMAS.contains(&schema) {
                    continue;
                }
                for f in ctx
                    .catalog
                    .functions
                    .iter()
                    .filter(|f| f.schema == schema && f.name == name)
                {
                    let Some(src) = &f.source else { continue };
                    if let Some(b) = analyse_sql_body(src) {
                        for c in &b.claims {
                            add_claim(&c.path, &mut claims);
                        }
                        next.extend(b.functions.iter().cloned());
                    }
                    for cap in setting_re.captures_iter(src) {
                        let s = cap[1].to_string();
                        if !s.starts_with("request.jwt") && !settings.contains(&s) {
                            settings.push(s);
                        }
                    }
                }
            }
            helpers = next;
        }
        out.claims = claims;
        out.settings = settings;
    }

    fn references(&self, out: &mut ProbePlan, index_of: &HashMap<Oid, usize>, root: Oid) {
        let ctx = self.ctx;
        let mut refs: Vec<Reference> = vec![];
        let push = |r: Reference, refs: &mut Vec<Reference>| {
            if !refs
                .iter()
                .any(|x| x.from == r.from && x.column == r.column && x.to == r.to)
            {
                refs.push(r);
            }
        };
        for r in &ctx.relationships.all {
            if r.from_columns.len() != 1
                || (r.declared.is_none() && r.confidence != Confidence::High)
            {
                continue;
            }
            let (Some(&from), Some(&to)) = (index_of.get(&r.from), index_of.get(&r.to)) else {
                continue;
            };
            push(
                Reference {
                    from,
                    column: r.from_columns[0].clone(),
                    column_type: String::new(),
                    to,
                    to_column: r.to_columns[0].clone(),
                    constraint: r.declared.clone(),
                },
                &mut refs,
            );
        }
        // Declared FKs the relationship analysis may have left out (multi-schema), and tenant
        // columns without any relationship.
        for (i, f) in out.fills.iter().enumerate() {
            for c in ctx.index.foreign_keys(f.oid) {
                let Some(fk) = &c.foreign_key else { continue };
                if c.columns.len() != 1 {
                    continue;
                }
                if let Some(&to) = index_of.get(&fk.ref_table) {
                    push(
                        Reference {
                            from: i,
                            column: c.columns[0].clone(),
                            column_type: String::new(),
                            to,
                            to_column: fk.ref_columns[0].clone(),
                            constraint: Some(c.name.clone()),
                        },
                        &mut refs,
                    );
                }
            }
            if let (Some(Scope::Direct { column }), Some(&r)) =
                (ctx.tenancy.scope(f.oid), index_of.get(&root))
            {
                if let Some(k) = self.rel(root).and_then(|rr| key_column(&ctx.index, rr)) {
                    push(
                        Reference {
                            from: i,
                            column: column.clone(),
                            column_type: String::new(),
                            to: r,
                            to_column: k.name.clone(),
                            constraint: None,
                        },
                        &mut refs,
                    );
                }
            }
            let declared: HashSet<String> = ctx
                .index
                .foreign_keys(f.oid)
                .flat_map(|c| c.columns.iter().cloned())
                .collect();
            for c in &f.columns {
                if matches!(c.gen, Gen::User) && !f.is_auth_users && !declared.contains(&c.name) {
                    let target = out.users_table.filter(|u| *u != i).or(out.auth_users);
                    if let Some(t) = target {
                        if let Some(k) = key_column(&ctx.index, self.rel(out.fills[t].oid).unwrap())
                        {
                            push(
                                Reference {
                                    from: i,
                                    column: c.name.clone(),
                                    column_type: String::new(),
                                    to: t,
                                    to_column: k.name.clone(),
                                    constraint: None,
                                },
                                &mut refs,
                            );
                        }
                    }
                }
            }
        }
        // The users table's key points at auth.users even without a constraint.
        if let (Some(u), Some(a)) = (out.users_table, out.auth_users) {
            if let Some(c) = out.fills[u]
                .columns
                .iter()
                .find(|c| matches!(c.gen, Gen::User))
            {
                push(
                    Reference {
                        from: u,
                        column: c.name.clone(),
                        column_type: String::new(),
                        to: a,
                        to_column: "id".into(),
                        constraint: None,
                    },
                    &mut refs,
                );
            }
        }
        for r in &mut refs {
            r.column_type = self
                .rel(out.fills[r.from].oid)
                .and_then(|rel| rel.column(&r.column))
                .map(|c| c.type_name.clone())
                .unwrap_or_else(|| "text".into());
        }
        out.references = refs;
    }

    fn views(&self, out: &mut ProbePlan, index_of: &HashMap<Oid, usize>) {
        let ctx = self.ctx;
        for v in ctx
            .audited_relations()
            .filter(|r| r.kind == RelationKind::View)
        {
            let reads: Vec<usize> = v
                .depends_on
                .iter()
                .filter_map(|d| index_of.get(d).copied())
                .filter(|&i| out.fills[i].probe)
                .collect();
            if reads.is_empty() || !ctx.exposure.is_exposed(v.oid) {
                continue;
            }
            out.views.push(ViewTarget {
                name: v.qualified(),
                sql: qualify(&v.schema, &v.name),
                security_invoker: v.security_invoker,
                reads,
            });
        }
    }

    fn functions(&self, out: &mut ProbePlan, root: Oid) {
        let ctx = self.ctx;
        let role_names: Vec<&str> = out.roles.iter().map(|r| r.name.as_str()).collect();
        let root_rel = self.rel(root);
        let root_key = root_rel.and_then(|r| key_column(&ctx.index, r));
        let root_stem = root_rel.map(|r| singular(&r.name)).unwrap_or_default();
        for f in &ctx.catalog.functions {
            if !f.security_definer
                || f.kind != 'f'
                || !ctx.settings.audits_schema(&f.schema, &ctx.index)
            {
                continue;
            }
            let result = f.result.to_ascii_lowercase();
            if matches!(result.as_str(), "trigger" | "void" | "event_trigger") {
                continue;
            }
            let executable = f.grants.iter().any(|g| {
                g.privilege == "EXECUTE"
                    && (g.grantee == "PUBLIC" || role_names.contains(&g.grantee.as_str()))
            });
            if !executable {
                continue;
            }
            let mut args = vec![];
            let mut ok = true;
            for a in f
                .identity_args
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
            {
                let parts: Vec<&str> = a.split_whitespace().collect();
                let parts: Vec<&str> = if matches!(
                    parts.first().map(|p| p.to_ascii_lowercase()).as_deref(),
                    Some("in" | "inout")
                ) {
                    parts[1..].to_vec()
                } else {
                    parts
                };
                if parts.len() < 2 {
                    ok = false;
                    break;
                }
                let name = parts[0]
                    .trim_start_matches("p_")
                    .trim_start_matches('_')
                    .to_ascii_lowercase();
                let ty = parts[1..].join(" ");
                let tenantish = ctx.tenancy.tenant_columns.contains(&name)
                    || name == format!("{root_stem}_id")
                    || name == "tenant_id";
                if tenantish && root_key.is_some_and(|k| k.type_name == ty) {
                    args.push(ArgGen::TenantKey { sql_type: ty });
                    continue;
                }
                // `<thing>_id` of a tested table.
                let stem = name.strip_suffix("_id").map(singular);
                let target = stem.and_then(|s| {
                    out.fills.iter().position(|fl| {
                        fl.probe && singular(fl.name.rsplit('.').next().unwrap_or("")) == s
                    })
                });
                match target {
                    Some(i) if out.fills[i].key.len() == 1 => args.push(ArgGen::Ref {
                        fill: i,
                        column: out.fills[i].key[0].clone(),
                        sql_type: ty,
                    }),
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                out.functions.push(FunctionTarget {
                    signature: f.signature(),
                    sql: qualify(&f.schema, &f.name),
                    args,
                });
            }
        }
    }
}

fn lit(ty: &str, s: &str) -> Gen {
    Gen::Literal {
        candidates: vec![format!("{}::{}", quote_literal(s), ty)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::{FkAction, PolicyCommand};
    use dbaudit_rules::Settings;

    fn catalog() -> dbaudit_catalog::Catalog {
        let claim = "(org_id = ((auth.jwt() -> 'app_metadata'::text) ->> 'org_id'::text)::uuid)";
        let mut b = CatalogBuilder::supabase()
            .table(
                "public.organizations",
                &["id uuid not null", "name text not null"],
            )
            .pk("public.organizations", &["id"])
            .column_default("public.organizations", "id", "gen_random_uuid()");
        for t in ["projects", "docs", "invoices"] {
            let q = format!("public.{t}");
            let mut cols = vec![
                "id uuid not null",
                "org_id uuid not null",
                "pages integer not null",
            ];
            if t == "docs" {
                cols.push("project_id uuid not null");
            }
            b = b
                .table(&q, &cols)
                .pk(&q, &["id"])
                .column_default(&q, "id", "gen_random_uuid()")
                .fk(
                    &q,
                    &["org_id"],
                    "public.organizations",
                    &["id"],
                    FkAction::Cascade,
                )
                .rls(&q, true)
                .supabase_grants(&q)
                .policy(
                    &q,
                    "tenant",
                    PolicyCommand::All,
                    &["authenticated"],
                    Some(claim),
                    Some(claim),
                );
        }
        b.fk(
            "public.docs",
            &["project_id"],
            "public.projects",
            &["id"],
            FkAction::Cascade,
        )
        .check(
            "public.docs",
            "docs_pages_check",
            &["pages"],
            "CHECK ((pages > 10))",
        )
        .rls("public.organizations", true)
        .supabase_grants("public.organizations")
        .build()
    }

    #[test]
    fn plans_parents_first_with_claims_and_checks() {
        let cat = catalog();
        let settings = Settings::default();
        let ctx = Context::new(&cat, &settings, &[]);
        let p = plan(&ctx);
        assert!(p.skipped.is_none(), "{:?}", p.skipped);
        assert_eq!(p.tenant_root.as_deref(), Some("public.organizations"));
        let pos = |n: &str| {
            p.fills
                .iter()
                .position(|f| f.name == n)
                .unwrap_or_else(|| panic!("{n}"))
        };
        assert!(pos("auth.users") < pos("public.organizations"));
        assert!(pos("public.organizations") < pos("public.projects"));
        assert!(pos("public.projects") < pos("public.docs"));
        assert!(p
            .claims
            .contains(&vec!["app_metadata".to_string(), "org_id".to_string()]));
        let docs = p.fill_named("public.docs").unwrap();
        assert!(docs.probe && docs.per_tenant);
        assert!(matches!(docs.column("org_id").unwrap().gen, Gen::TenantKey));
        assert!(
            matches!(&docs.column("project_id").unwrap().gen, Gen::Ref { fill, column } if *fill == pos("public.projects") && column == "id")
        );
        // CHECK (pages > 10): 11 comes first.
        let Gen::Literal { candidates } = &docs.column("pages").unwrap().gen else {
            panic!("pages is a literal");
        };
        assert_eq!(candidates[0], "'11'::integer");
        // The key has a default: left to it.
        assert!(docs.column("id").is_none());
        assert_eq!(docs.tenant_columns, vec!["org_id".to_string()]);
        assert_eq!(
            p.roles.first().map(|r| r.name.as_str()),
            Some("authenticated")
        );
        assert!(p.cascade_origins.contains(&pos("public.organizations")));
    }

    #[test]
    fn no_root_no_probe() {
        let cat = CatalogBuilder::supabase()
            .table("public.notes", &["id uuid not null", "body text"])
            .build();
        let settings = Settings::default();
        let ctx = Context::new(&cat, &settings, &[]);
        let p = plan(&ctx);
        assert!(p
            .skipped
            .as_deref()
            .unwrap_or("")
            .contains("no tenant root"));
        assert!(p.fills.is_empty());
    }
}
