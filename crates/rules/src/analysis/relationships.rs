//! Relationships: declared foreign keys plus inferred ones (`<thing>_id` → `thing`/`things`,
//! `user_id` → the users table or `auth.users`, tenant column → tenant root), each with its
//! evidence and confidence.
//!
//! Inference is deliberately narrow: a wrong "missing foreign key" costs more trust than a missed
//! one. A column is considered only when it has no foreign key of its own, is not the table's
//! `id`, has a key-like type (uuid, an integer, text), is not an external id (`stripe_*`,
//! `external_*`, `provider_*`, polymorphic `<x>_id` + `<x>_type` pairs), and names exactly one
//! table with a single-column key. In order:
//!
//! 1. a tenant column (as the tenancy model names them) → the tenant root (`High`);
//! 2. `user_id`, `owner_id`, `created_by`, `author_id`, ... → the table the project's own
//!    declared FKs of that name all point at, else the users table, else `auth.users` (`High`;
//!    dropped when the types cannot match: text user ids usually come from an external identity
//!    provider);
//! 3. `<thing>_id` → the one table named `thing`/`things`/`thinges`/`thingies` (`High`);
//! 4. the same column name with a declared foreign key elsewhere, always to the same table
//!    (`subscription_id` → `company_subscriptions` because two other tables declare it) (`High`;
//!    dropped when the types cannot match or the target is the table itself);
//! 5. the one table whose name ends with `_things` (`list_id` → `contact_lists`): `High` when the
//!    prefix is the referencing table's own singular name or the tenant root's
//!    (`contacts.list_id` → `contact_lists`), `Medium` otherwise;
//! 6. `<role>_<thing>_id` (`primary_contact_id` → `contacts`): `Medium`.
//!
//! Generic names that as often hold someone else's id (`event_id`, `task_id`, `session_id`,
//! `message_id`, ...) are inferred only through steps 3 and 4 with compatible types.
//!
//! Types are compatible when an FK could exist: the same base type, both integers or both
//! strings. `text` → `uuid` is not (`types_compatible = false`): a type-mismatch, not a missing
//! FK. Name matches (3, 4, 6) whose types cannot match are kept only as `Medium`: a text column
//! named after a uuid-keyed table is as often an external id as a mistyped reference.

use dbaudit_catalog::{CatalogIndex, Column, ConstraintKind, Oid, Relation};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// What an inferred relationship rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// A declared foreign key.
    Declared,
    /// A tenant column pointing at the tenant root.
    TenantColumn,
    /// `user_id` and friends pointing at the users table or `auth.users`.
    UserColumn,
    /// `<thing>_id` named after table `things`.
    TableName,
    /// The same column name has a declared foreign key to the table elsewhere in the schema.
    DeclaredElsewhere,
    /// The one table whose name ends with `_things`.
    TableSuffix,
    /// `<role>_<thing>_id` named after `things`.
    RolePrefix,
}

#[derive(Debug, Clone, Serialize)]
pub struct Relationship {
    pub from: Oid,
    pub from_columns: Vec<String>,
    pub to: Oid,
    pub to_columns: Vec<String>,
    /// The FK constraint's name when declared; `None` when inferred.
    pub declared: Option<String>,
    /// Declared ones are `High`.
    pub confidence: Confidence,
    /// Why we think so, in words: "call_logs.agent_run_id is uuid, named after agent_runs, whose
    /// key id is uuid".
    pub evidence: String,
    /// The referencing and referenced column types allow an FK (`text` → `uuid` does not).
    pub types_compatible: bool,
    /// What the relationship rests on.
    pub basis: Basis,
    /// Referencing column type(s), as `format_type` spells them (`text`, `uuid`).
    pub from_type: String,
    /// Referenced key type(s).
    pub to_type: String,
}

#[derive(Debug, Clone, Default)]
pub struct Relationships {
    pub all: Vec<Relationship>,
}

impl Relationships {
    pub fn analyse(
        index: &CatalogIndex<'_>,
        users_tables: &[Oid],
        tenant_root: Option<Oid>,
        tenant_columns: &[String],
    ) -> Relationships {
        Inference::new(index, users_tables, tenant_root, tenant_columns).run()
    }

    pub fn from_table(&self, table: Oid) -> impl Iterator<Item = &Relationship> {
        self.all.iter().filter(move |r| r.from == table)
    }

    pub fn inferred(&self) -> impl Iterator<Item = &Relationship> {
        self.all.iter().filter(|r| r.declared.is_none())
    }

    /// Inferred relationships at `High` confidence: what the integrity rules report on.
    pub fn inferred_high(&self) -> impl Iterator<Item = &Relationship> {
        self.inferred().filter(|r| r.confidence == Confidence::High)
    }

    /// The inferred relationship of one column, if any.
    pub fn inferred_for(&self, table: Oid, column: &str) -> Option<&Relationship> {
        self.inferred()
            .find(|r| r.from == table && r.from_columns.len() == 1 && r.from_columns[0] == column)
    }

    /// The graph as JSON (`from`, `to` qualified; declared and inferred), for reports.
    pub fn to_json(&self, index: &CatalogIndex<'_>) -> serde_json::Value {
        let name = |oid: Oid| {
            index
                .relation(oid)
                .map(Relation::qualified)
                .unwrap_or_else(|| oid.to_string())
        };
        self.all
            .iter()
            .map(|r| {
                serde_json::json!({
                    "from": name(r.from),
                    "from_columns": r.from_columns,
                    "to": name(r.to),
                    "to_columns": r.to_columns,
                    "declared": r.declared,
                    "confidence": r.confidence,
                    "basis": r.basis,
                    "types_compatible": r.types_compatible,
                    "evidence": r.evidence,
                })
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Naming and types, shared with the tenancy model and the integrity rules.

/// `agentRunId` → `agent_run_id`; `Organization` → `organization`; already-snake names unchanged.
pub fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for ch in name.chars() {
        if ch.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
            prev_lower = false;
        } else {
            out.push(ch);
            prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        }
    }
    out
}

/// The thing a reference column is named after: `agent_run_id` / `agentRunId` → `agent_run`,
/// `userid` → `user`. `None` when the name does not end in `id`.
pub fn ref_stem(column: &str) -> Option<String> {
    let s = snake(column);
    if let Some(stem) = s.strip_suffix("_id") {
        return (stem.len() >= 2).then(|| stem.trim_end_matches('_').to_string());
    }
    // `<thing>id` without a separator: only plain lower-case names (`userid`), at least 2 + 2.
    if s.len() >= 5 && !s.contains('_') && s.ends_with("id") {
        return Some(s[..s.len() - 2].to_string());
    }
    None
}

/// Singular of a (snake-case) table name, on its last word: `company_subscriptions` →
/// `company_subscription`, `categories` → `category`, `addresses` → `address`, `status` unchanged.
pub fn singular(name: &str) -> String {
    let n = name;
    if let Some(s) = n.strip_suffix("ies") {
        if !s.is_empty() {
            return format!("{s}y");
        }
    }
    if let Some(head) = n.strip_suffix("people") {
        return format!("{head}person");
    }
    for suffix in ["sses", "shes", "ches", "xes", "zes", "uses"] {
        if n.ends_with(suffix) {
            return n[..n.len() - 2].to_string();
        }
    }
    if n.ends_with("ss") || n.ends_with("us") || n.ends_with("is") {
        return n.to_string();
    }
    if let Some(s) = n.strip_suffix('s') {
        if !s.is_empty() {
            return s.to_string();
        }
    }
    n.to_string()
}

/// The table names a stem may be spelled as: `agent_run` → `agent_runs`, `agent_run`;
/// `company` → `companies`; `address` → `addresses`.
pub fn table_forms(stem: &str) -> Vec<String> {
    let mut v = vec![format!("{stem}s"), stem.to_string(), format!("{stem}es")];
    if let Some(s) = stem.strip_suffix('y') {
        if !s.ends_with(['a', 'e', 'i', 'o', 'u']) {
            v.insert(0, format!("{s}ies"));
        }
    }
    if let Some(s) = stem.strip_suffix("person") {
        v.push(format!("{s}people"));
    }
    v
}

/// The family of a column type, for FK compatibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeFamily {
    /// smallint / integer / bigint, with the byte width.
    Int(u8),
    /// text / varchar / char.
    Str,
    Uuid,
    Other,
}

/// `character varying(255)` → `character varying`; domains are read through their base type.
pub fn base_type(c: &Column) -> String {
    let t = if c.base_type_name.is_empty() {
        &c.type_name
    } else {
        &c.base_type_name
    };
    let t = t.trim().to_ascii_lowercase();
    let t = match t.find('(') {
        Some(i) => format!(
            "{}{}",
            t[..i].trim_end(),
            t[i..].find(')').map_or("", |j| &t[i + j + 1..])
        ),
        None => t,
    };
    let t = t.rsplit('.').next().unwrap_or(&t).trim().to_string();
    match t.as_str() {
        "int" | "int4" | "serial" | "serial4" => "integer".into(),
        "int8" | "bigserial" | "serial8" => "bigint".into(),
        "int2" | "smallserial" | "serial2" => "smallint".into(),
        "varchar" => "character varying".into(),
        "char" | "bpchar" => "character".into(),
        _ => t,
    }
}

pub fn type_family(c: &Column) -> TypeFamily {
    match base_type(c).as_str() {
        "smallint" => TypeFamily::Int(2),
        "integer" => TypeFamily::Int(4),
        "bigint" => TypeFamily::Int(8),
        "text" | "character varying" | "character" => TypeFamily::Str,
        "uuid" => TypeFamily::Uuid,
        _ => TypeFamily::Other,
    }
}

/// Whether a foreign key from `from` to `to` can exist (Postgres finds an equality operator).
pub fn types_compatible(from: &Column, to: &Column) -> bool {
    let (a, b) = (base_type(from), base_type(to));
    if a == b {
        return true;
    }
    matches!(
        (type_family(from), type_family(to)),
        (TypeFamily::Int(_), TypeFamily::Int(_)) | (TypeFamily::Str, TypeFamily::Str)
    )
}

/// The single-column key other tables would reference: the primary key when it has one column,
/// else a one-column unique constraint on `id`.
pub fn key_column<'c>(index: &CatalogIndex<'c>, rel: &'c Relation) -> Option<&'c Column> {
    let cons = index.constraints(rel.oid);
    if let Some(pk) = cons.iter().find(|c| c.kind == ConstraintKind::PrimaryKey) {
        return match pk.columns.as_slice() {
            [one] => rel.column(one),
            _ => None,
        };
    }
    cons.iter()
        .find(|c| c.kind == ConstraintKind::Unique && c.columns.len() == 1 && c.columns[0] == "id")
        .and_then(|_| rel.column("id"))
}

/// Column names that hold the acting user by convention.
pub fn is_user_column(column: &str) -> bool {
    matches!(
        snake(column).as_str(),
        "user_id"
            | "owner_id"
            | "owner_user_id"
            | "created_by"
            | "created_by_id"
            | "creator_id"
            | "author_id"
            | "updated_by"
            | "updated_by_id"
    )
}

/// Names of ids issued by someone else (payment, telephony, auth providers): never inferred.
fn is_external_id(snake_name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "stripe_",
        "external_",
        "ext_",
        "provider_",
        "remote_",
        "vendor_",
        "third_party_",
        "paypal_",
        "twilio_",
        "google_",
        "github_",
        "slack_",
        "hubspot_",
        "salesforce_",
        "shopify_",
        "clerk_",
        "auth0_",
        "firebase_",
        "apple_",
        "facebook_",
        "microsoft_",
        "intercom_",
        "zoom_",
        "calendly_",
        "sendgrid_",
        "mailchimp_",
        "openai_",
        "bland_",
        "vapi_",
        "retell_",
        "paddle_",
        "lemonsqueezy_",
        "polar_",
        "plaid_",
        "segment_",
        "mixpanel_",
        "posthog_",
        "sentry_",
        "oauth_",
        "sso_",
        "idp_",
    ];
    const NAMES: &[&str] = &[
        "external_id",
        "provider_id",
        "vendor_id",
        "remote_id",
        "idempotency_key_id",
        "trace_id",
        "span_id",
        "correlation_id",
        "tracking_id",
    ];
    PREFIXES.iter().any(|p| snake_name.starts_with(p))
        || snake_name.ends_with("_external_id")
        || snake_name.ends_with("_provider_id")
        || snake_name.ends_with("_sid")
        || NAMES.contains(&snake_name)
}

/// Generic names (`event_id`, `task_id`, `session_id`, ...) that as often hold someone else's id:
/// inferred only from a table of exactly that name (or the project's own declared FKs) with a
/// compatible type, never from looser matches.
fn is_generic_id(snake_name: &str) -> bool {
    GENERIC.contains(&snake_name)
}

const GENERIC: &[&str] = &[
    "message_id",
    "thread_id",
    "session_id",
    "request_id",
    "transaction_id",
    "event_id",
    "job_id",
    "task_id",
    "client_id",
    "object_id",
    "resource_id",
    "entity_id",
    "target_id",
    "source_id",
    "subject_id",
    "parent_id",
    "ref_id",
    "reference_id",
];

// ---------------------------------------------------------------------------------------------

struct Target<'c> {
    rel: &'c Relation,
    key: &'c Column,
}

struct Inference<'a, 'c> {
    index: &'a CatalogIndex<'c>,
    users_tables: &'a [Oid],
    root: Option<Oid>,
    tenant_columns: &'a [String],
    /// Tables of the project's (non-managed) schemas, partitions left out.
    tables: Vec<&'c Relation>,
    /// snake name → tables.
    by_name: HashMap<String, Vec<&'c Relation>>,
    /// every `_`-suffix of a snake name (`company_subscriptions` → `subscriptions`) → tables.
    by_suffix: HashMap<String, Vec<&'c Relation>>,
    /// column name → the tables its declared single-column FKs reference.
    /// (with how many declare it).
    declared_targets: HashMap<&'c str, Vec<(Oid, usize)>>,
}

impl<'a, 'c> Inference<'a, 'c> {
    fn new(
        index: &'a CatalogIndex<'c>,
        users_tables: &'a [Oid],
        root: Option<Oid>,
        tenant_columns: &'a [String],
    ) -> Self {
        let tables: Vec<&'c Relation> = index
            .catalog
            .relations
            .iter()
            .filter(|r| {
                r.kind.is_table()
                    && r.partition_of.is_none()
                    && index.schema(&r.schema).is_none_or(|s| !s.managed)
            })
            .collect();
        let mut by_name: HashMap<String, Vec<&'c Relation>> = HashMap::new();
        let mut by_suffix: HashMap<String, Vec<&'c Relation>> = HashMap::new();
        let mut declared_targets: HashMap<&'c str, Vec<(Oid, usize)>> = HashMap::new();
        for r in &tables {
            let s = snake(&r.name);
            for (i, ch) in s.char_indices() {
                if ch == '_' && i + 1 < s.len() {
                    by_suffix.entry(s[i + 1..].to_string()).or_default().push(r);
                }
            }
            by_name.entry(s).or_default().push(r);
            for fk in index.foreign_keys(r.oid) {
                if let (Some(k), [col]) = (&fk.foreign_key, fk.columns.as_slice()) {
                    let v = declared_targets.entry(col.as_str()).or_default();
                    match v.iter_mut().find(|(t, _)| *t == k.ref_table) {
                        Some((_, n)) => *n += 1,
                        None => v.push((k.ref_table, 1)),
                    }
                }
            }
        }
        Inference {
            index,
            users_tables,
            root,
            tenant_columns,
            tables,
            by_name,
            by_suffix,
            declared_targets,
        }
    }

    fn target(&self, rel: &'c Relation) -> Option<Target<'c>> {
        key_column(self.index, rel).map(|key| Target { rel, key })
    }

    /// The one table of `candidates`, preferring the referencing table's schema.
    fn unique<'x>(&self, candidates: &'x [&'c Relation], schema: &str) -> Option<&'c Relation> {
        match candidates {
            [] => None,
            [one] => Some(*one),
            many => {
                let same: Vec<_> = many.iter().filter(|r| r.schema == schema).collect();
                (same.len() == 1).then(|| *same[0])
            }
        }
    }

    fn by_table_name(&self, stem: &str, schema: &str) -> Option<&'c Relation> {
        let mut found: Vec<&'c Relation> = vec![];
        for form in table_forms(stem) {
            if let Some(v) = self.by_name.get(&form) {
                for r in v {
                    if !found.iter().any(|f| f.oid == r.oid) {
                        found.push(r);
                    }
                }
            }
        }
        self.unique(&found, schema)
    }

    fn by_table_suffix(&self, stem: &str, schema: &str) -> Option<&'c Relation> {
        let mut found: Vec<&'c Relation> = vec![];
        for form in table_forms(stem) {
            if let Some(v) = self.by_suffix.get(&form) {
                for r in v {
                    if !found.iter().any(|f| f.oid == r.oid) {
                        found.push(r);
                    }
                }
            }
        }
        self.unique(&found, schema)
    }

    fn run(&self) -> Relationships {
        let mut all = vec![];
        for rel in &self.tables {
            self.declared(rel, &mut all);
        }
        for rel in &self.tables {
            self.infer_table(rel, &mut all);
        }
        Relationships { all }
    }

    fn declared(&self, rel: &'c Relation, out: &mut Vec<Relationship>) {
        for fk in self.index.foreign_keys(rel.oid) {
            let Some(k) = &fk.foreign_key else { continue };
            let target = self.index.relation(k.ref_table);
            let types = |cols: &[String], on: Option<&Relation>| -> Vec<String> {
                cols.iter()
                    .map(|c| {
                        on.and_then(|r| r.column(c))
                            .map(|c| c.type_name.clone())
                            .unwrap_or_default()
                    })
                    .collect()
            };
            out.push(Relationship {
                from: rel.oid,
                from_columns: fk.columns.clone(),
                to: k.ref_table,
                to_columns: k.ref_columns.clone(),
                declared: Some(fk.name.clone()),
                confidence: Confidence::High,
                evidence: format!("declared foreign key {}", fk.name),
                types_compatible: true,
                basis: Basis::Declared,
                from_type: types(&fk.columns, Some(rel)).join(", "),
                to_type: types(&k.ref_columns, target).join(", "),
            });
        }
    }

    fn infer_table(&self, rel: &'c Relation, out: &mut Vec<Relationship>) {
        let in_fk: HashSet<&str> = self
            .index
            .foreign_keys(rel.oid)
            .flat_map(|c| c.columns.iter().map(String::as_str))
            .collect();
        let own_key = key_column(self.index, rel).map(|c| c.name.as_str());
        let names: HashSet<String> = rel.columns.iter().map(|c| snake(&c.name)).collect();
        let own_singular = singular(&snake(&rel.name));
        for col in &rel.columns {
            if in_fk.contains(col.name.as_str()) || col.generated {
                continue;
            }
            if type_family(col) == TypeFamily::Other {
                continue;
            }
            let s = snake(&col.name);
            if Some(col.name.as_str()) == own_key && s == "id" {
                continue;
            }
            if let Some(r) = self.infer_column(rel, col, &s, &names, &own_singular) {
                out.push(r);
            }
        }
    }

    fn make(
        &self,
        rel: &Relation,
        col: &Column,
        t: &Target<'c>,
        confidence: Confidence,
        basis: Basis,
        why: String,
    ) -> Relationship {
        let compatible = types_compatible(col, t.key);
        let mut evidence = format!(
            "{}.{} is {}, {}; {}'s key {} is {}",
            rel.name,
            col.name,
            col.type_name,
            why,
            t.rel.qualified(),
            t.key.name,
            t.key.type_name
        );
        if !compatible {
            evidence.push_str(" (the types cannot hold a foreign key)");
        }
        Relationship {
            from: rel.oid,
            from_columns: vec![col.name.clone()],
            to: t.rel.oid,
            to_columns: vec![t.key.name.clone()],
            declared: None,
            confidence,
            evidence,
            types_compatible: compatible,
            basis,
            from_type: col.type_name.clone(),
            to_type: t.key.type_name.clone(),
        }
    }

    /// How many other tables declare `column` → `target`, for the evidence.
    fn declared_elsewhere(&self, column: &str, target: Oid) -> Option<String> {
        let n = match self.declared_targets.get(column)?.as_slice() {
            [(t, n)] if *t == target => *n,
            _ => return None,
        };
        (n > 0).then(|| {
            format!(
                "{n} other table{} declare{} {column} as a foreign key to it",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" }
            )
        })
    }

    fn infer_column(
        &self,
        rel: &'c Relation,
        col: &'c Column,
        s: &str,
        names: &HashSet<String>,
        own_singular: &str,
    ) -> Option<Relationship> {
        // 1. Tenant column → tenant root.
        if let Some(root) = self.root {
            if root != rel.oid && self.tenant_columns.contains(&col.name) {
                let t = self.target(self.index.relation(root)?)?;
                return Some(self.make(
                    rel,
                    col,
                    &t,
                    Confidence::High,
                    Basis::TenantColumn,
                    format!("a tenant column; {} is the tenant root", t.rel.name),
                ));
            }
        }
        if is_external_id(s) {
            return None;
        }
        let stem = ref_stem(&col.name);
        // Polymorphic association (`owner_type` + `owner_id`): no single target.
        if let Some(stem) = &stem {
            if names.contains(&format!("{stem}_type")) || names.contains(&format!("{stem}_kind")) {
                return None;
            }
        }
        // A table named after the column wins over conventions (`owner_id` → `owners`).
        let named = stem
            .as_deref()
            .and_then(|st| self.by_table_name(st, &rel.schema))
            .filter(|t| t.oid != rel.oid);

        // 2. The acting user.
        if named.is_none() && is_user_column(&col.name) {
            // The project's own declared FKs for this name win (`user_id` → `accounts`).
            let learned = match self
                .declared_targets
                .get(col.name.as_str())
                .map(Vec::as_slice)
            {
                Some([(t, _)]) => Some(*t),
                _ => None,
            };
            let target = learned.or_else(|| self.users_tables.first().copied())?;
            let t = self.target(self.index.relation(target)?)?;
            if !types_compatible(col, t.key) || t.rel.oid == rel.oid {
                return None;
            }
            let mut why = if self.users_tables.contains(&t.rel.oid) {
                format!(
                    "named like a reference to the acting user; {} is the users table",
                    t.rel.qualified()
                )
            } else {
                "named like a reference to the acting user".to_string()
            };
            if let Some(e) = self.declared_elsewhere(&col.name, t.rel.oid) {
                why.push_str(&format!(" and {e}"));
            }
            return Some(self.make(rel, col, &t, Confidence::High, Basis::UserColumn, why));
        }
        let stem = stem?;

        // 3. Named after a table.
        if let Some(target) = named {
            let t = self.target(target)?;
            let compatible = types_compatible(col, t.key);
            if !compatible && is_generic_id(s) {
                return None;
            }
            let mut why = format!("named after {}", target.name);
            // The project's own declared FKs for this name may point elsewhere.
            let conflict = self
                .declared_targets
                .get(col.name.as_str())
                .is_some_and(|v| !v.iter().any(|(t, _)| *t == target.oid));
            if let Some(e) = self.declared_elsewhere(&col.name, target.oid) {
                why.push_str(&format!(", and {e}"));
            }
            if conflict {
                why.push_str(", but the same column name references another table elsewhere");
            }
            let confidence = if compatible && !conflict {
                Confidence::High
            } else {
                Confidence::Medium
            };
            return Some(self.make(rel, col, &t, confidence, Basis::TableName, why));
        }

        // 4. The project's own convention: the same name is a declared FK to one table.
        if let Some([(target, _)]) = self
            .declared_targets
            .get(col.name.as_str())
            .map(Vec::as_slice)
        {
            if *target != rel.oid {
                if let Some(t) = self.index.relation(*target).and_then(|r| self.target(r)) {
                    if types_compatible(col, t.key) {
                        let why = self
                            .declared_elsewhere(&col.name, *target)
                            .unwrap_or_else(|| "declared as a foreign key elsewhere".into());
                        return Some(self.make(
                            rel,
                            col,
                            &t,
                            Confidence::High,
                            Basis::DeclaredElsewhere,
                            why,
                        ));
                    }
                }
            }
            return None;
        }

        if is_generic_id(s) {
            return None;
        }

        // 5. The one table whose name ends with `_<things>`.
        if let Some(target) = self
            .by_table_suffix(&stem, &rel.schema)
            .filter(|t| t.oid != rel.oid)
        {
            // A child of this table (it references us) is not what we point at.
            let child = self.index.foreign_keys(target.oid).any(|fk| {
                fk.foreign_key
                    .as_ref()
                    .is_some_and(|k| k.ref_table == rel.oid)
            });
            if child {
                return None;
            }
            let t = self.target(target)?;
            let tname = snake(&target.name);
            let prefix = tname
                .strip_suffix(
                    &table_forms(&stem)
                        .into_iter()
                        .find(|f| tname.ends_with(&format!("_{f}")))?,
                )
                .map(|p| p.trim_end_matches('_').to_string())
                .unwrap_or_default();
            let root_singular = self
                .root
                .and_then(|r| self.index.relation(r))
                .map(|r| singular(&snake(&r.name)));
            let confidence = if prefix == own_singular || Some(&prefix) == root_singular.as_ref() {
                Confidence::High
            } else {
                Confidence::Medium
            };
            let mut why = format!(
                "named after {}s; no such table exists and {} is the only table named *_{}",
                stem,
                target.name,
                tname.rsplit('_').next().unwrap_or(&tname)
            );
            if prefix == own_singular {
                why.push_str(&format!(
                    " (its prefix {prefix}_ is the singular of {})",
                    rel.name
                ));
            } else if Some(&prefix) == root_singular.as_ref() {
                why.push_str(&format!(
                    " (its prefix {prefix}_ is the tenant root's name)"
                ));
            }
            if let Some(e) = self.declared_elsewhere(&col.name, target.oid) {
                why.push_str(&format!(", and {e}"));
            }
            return Some(self.make(rel, col, &t, confidence, Basis::TableSuffix, why));
        }

        // 6. `<role>_<thing>_id` → `things` (Medium).
        let mut rest = stem.as_str();
        while let Some((_, tail)) = rest.split_once('_') {
            rest = tail;
            if let Some(target) = self
                .by_table_name(rest, &rel.schema)
                .filter(|t| t.oid != rel.oid)
            {
                let t = self.target(target)?;
                let why = format!("named <role>_{rest}_id after {}", target.name);
                return Some(self.make(rel, col, &t, Confidence::Medium, Basis::RolePrefix, why));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::{Catalog, FkAction};

    fn rels(cat: &Catalog, users: &[&str], root: Option<&str>, tcols: &[&str]) -> Relationships {
        let ix = CatalogIndex::new(cat);
        let oid = |q: &str| {
            let (s, t) = q.split_once('.').unwrap();
            ix.relation_named(s, t).unwrap().oid
        };
        let users: Vec<Oid> = users.iter().map(|u| oid(u)).collect();
        let tcols: Vec<String> = tcols.iter().map(|s| s.to_string()).collect();
        Relationships::analyse(&ix, &users, root.map(oid), &tcols)
    }

    fn find<'r>(
        r: &'r Relationships,
        cat: &Catalog,
        table: &str,
        col: &str,
    ) -> Option<&'r Relationship> {
        let ix = CatalogIndex::new(cat);
        let oid = ix.relation_named("public", table).unwrap().oid;
        r.inferred_for(oid, col)
    }

    #[test]
    fn naming_helpers() {
        assert_eq!(snake("agentRunId"), "agent_run_id");
        assert_eq!(snake("userID"), "user_id");
        assert_eq!(snake("Organization"), "organization");
        assert_eq!(ref_stem("agent_run_id").as_deref(), Some("agent_run"));
        assert_eq!(ref_stem("tenantId").as_deref(), Some("tenant"));
        assert_eq!(ref_stem("userid").as_deref(), Some("user"));
        assert_eq!(ref_stem("id"), None);
        assert_eq!(ref_stem("name"), None);
        assert_eq!(singular("companies"), "company");
        assert_eq!(singular("company_subscriptions"), "company_subscription");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("orgs"), "org");
        assert!(table_forms("company").contains(&"companies".to_string()));
        assert!(table_forms("agent_run").contains(&"agent_runs".to_string()));
        assert!(table_forms("key").contains(&"keys".to_string()));
        assert!(!table_forms("key").contains(&"kies".to_string()));
    }

    #[test]
    fn type_compatibility() {
        let cat = CatalogBuilder::new()
            .table(
                "public.t",
                &[
                    "a integer",
                    "b bigint",
                    "c text",
                    "d character varying(36)",
                    "e uuid",
                    "f numeric(10,2)",
                ],
            )
            .build();
        let t = &cat.relations[0];
        let c = |n: &str| t.column(n).unwrap();
        assert!(types_compatible(c("a"), c("b")));
        assert!(types_compatible(c("c"), c("d")));
        assert!(!types_compatible(c("c"), c("e")));
        assert!(!types_compatible(c("a"), c("e")));
        assert_eq!(base_type(c("d")), "character varying");
        assert_eq!(base_type(c("f")), "numeric");
        assert_eq!(type_family(c("b")), TypeFamily::Int(8));
    }

    fn callengo_like() -> Catalog {
        CatalogBuilder::supabase()
            .table(
                "public.companies",
                &["id uuid not null", "stripe_customer_id text"],
            )
            .pk("public.companies", &["id"])
            .table(
                "public.users",
                &["id uuid not null", "company_id uuid not null"],
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
                "public.contact_lists",
                &["id uuid not null", "company_id uuid not null"],
            )
            .pk("public.contact_lists", &["id"])
            .table(
                "public.contacts",
                &[
                    "id uuid not null",
                    "company_id uuid not null",
                    "list_id text",
                ],
            )
            .pk("public.contacts", &["id"])
            .table(
                "public.agent_runs",
                &["id uuid not null", "company_id uuid not null"],
            )
            .pk("public.agent_runs", &["id"])
            .table(
                "public.call_logs",
                &[
                    "id uuid not null",
                    "company_id uuid not null",
                    "agent_run_id uuid",
                    "call_id text not null",
                ],
            )
            .pk("public.call_logs", &["id"])
            .table(
                "public.voicemail_logs",
                &["id uuid not null", "call_id uuid not null"],
            )
            .pk("public.voicemail_logs", &["id"])
            .fk(
                "public.voicemail_logs",
                &["call_id"],
                "public.call_logs",
                &["id"],
                FkAction::Cascade,
            )
            .table(
                "public.company_subscriptions",
                &[
                    "id uuid not null",
                    "company_id uuid not null",
                    "stripe_subscription_id text",
                ],
            )
            .pk("public.company_subscriptions", &["id"])
            .table(
                "public.cancellation_feedback",
                &[
                    "id uuid not null",
                    "user_id uuid not null",
                    "subscription_id uuid",
                ],
            )
            .pk("public.cancellation_feedback", &["id"])
            .fk(
                "public.cancellation_feedback",
                &["subscription_id"],
                "public.company_subscriptions",
                &["id"],
                FkAction::SetNull,
            )
            .table(
                "public.usage_tracking",
                &["id uuid not null", "subscription_id uuid"],
            )
            .pk("public.usage_tracking", &["id"])
            .build()
    }

    #[test]
    fn callengo_references_are_inferred() {
        let cat = callengo_like();
        let r = rels(
            &cat,
            &["public.users", "auth.users"],
            Some("public.companies"),
            &["company_id"],
        );
        let run = find(&r, &cat, "call_logs", "agent_run_id").expect("agent_run_id");
        assert_eq!(run.confidence, Confidence::High);
        assert!(run.types_compatible);
        assert_eq!(run.basis, Basis::TableName);
        assert!(
            run.evidence.contains("named after agent_runs"),
            "{}",
            run.evidence
        );

        let user = find(&r, &cat, "cancellation_feedback", "user_id").expect("user_id");
        assert_eq!(
            user.to,
            CatalogIndex::new(&cat)
                .relation_named("public", "users")
                .unwrap()
                .oid
        );
        assert_eq!(user.confidence, Confidence::High);

        let sub = find(&r, &cat, "usage_tracking", "subscription_id").expect("subscription_id");
        assert_eq!(sub.confidence, Confidence::High);
        assert!(
            sub.evidence.contains("company_subscriptions"),
            "{}",
            sub.evidence
        );

        let list = find(&r, &cat, "contacts", "list_id").expect("list_id");
        assert_eq!(list.confidence, Confidence::High);
        assert!(!list.types_compatible);
        assert_eq!(list.basis, Basis::TableSuffix);

        // Tenant columns without FK → root.
        let tenant = find(&r, &cat, "contacts", "company_id").expect("company_id");
        assert_eq!(tenant.basis, Basis::TenantColumn);
    }

    #[test]
    fn external_ids_are_not_inferred() {
        let cat = callengo_like();
        let r = rels(
            &cat,
            &["public.users", "auth.users"],
            Some("public.companies"),
            &["company_id"],
        );
        // call_id on call_logs: text, and the only declared call_id points at call_logs itself.
        assert!(find(&r, &cat, "call_logs", "call_id").is_none());
        assert!(find(&r, &cat, "companies", "stripe_customer_id").is_none());
        assert!(find(&r, &cat, "company_subscriptions", "stripe_subscription_id").is_none());
        // Declared ones are listed as declared.
        assert!(r
            .all
            .iter()
            .any(|x| x.declared.as_deref() == Some("voicemail_logs_call_id_fkey")));
    }

    #[test]
    fn text_column_named_after_uuid_table_is_only_medium() {
        let cat = CatalogBuilder::new()
            .table("public.videos", &["id uuid not null"])
            .pk("public.videos", &["id"])
            .table("public.plays", &["id uuid not null", "video_id text"])
            .pk("public.plays", &["id"])
            .build();
        let r = rels(&cat, &[], None, &[]);
        let v = find(&r, &cat, "plays", "video_id").unwrap();
        assert_eq!(v.confidence, Confidence::Medium);
        assert!(!v.types_compatible);
    }

    #[test]
    fn text_user_ids_from_an_identity_provider_are_not_inferred() {
        let cat = CatalogBuilder::supabase()
            .table(
                "public.notes",
                &["id uuid not null", "user_id text not null"],
            )
            .pk("public.notes", &["id"])
            .build();
        let r = rels(&cat, &["auth.users"], None, &[]);
        assert!(find(&r, &cat, "notes", "user_id").is_none());
    }

    #[test]
    fn user_columns_go_to_auth_users_without_a_users_table() {
        let cat = CatalogBuilder::supabase()
            .table(
                "public.notes",
                &[
                    "id uuid not null",
                    "user_id uuid not null",
                    "created_by uuid",
                ],
            )
            .pk("public.notes", &["id"])
            .build();
        let r = rels(&cat, &["auth.users"], None, &[]);
        let u = find(&r, &cat, "notes", "user_id").unwrap();
        assert_eq!(u.basis, Basis::UserColumn);
        assert!(u.evidence.contains("auth.users"));
        assert!(find(&r, &cat, "notes", "created_by").is_some());
    }

    #[test]
    fn polymorphic_and_ambiguous_names_are_not_inferred() {
        let cat = CatalogBuilder::new()
            .table(
                "public.comments",
                &[
                    "id uuid not null",
                    "commentable_id uuid",
                    "commentable_type text",
                    "owner_id uuid",
                    "owner_type text",
                ],
            )
            .pk("public.comments", &["id"])
            .table("public.a_lists", &["id uuid not null"])
            .pk("public.a_lists", &["id"])
            .table("public.b_lists", &["id uuid not null"])
            .pk("public.b_lists", &["id"])
            .table("public.items", &["id uuid not null", "list_id uuid"])
            .pk("public.items", &["id"])
            .build();
        let r = rels(&cat, &[], None, &[]);
        assert!(find(&r, &cat, "comments", "owner_id").is_none());
        assert!(find(&r, &cat, "comments", "commentable_id").is_none());
        assert!(
            find(&r, &cat, "items", "list_id").is_none(),
            "two *_lists tables: ambiguous"
        );
    }

    #[test]
    fn suffix_match_without_corroboration_is_medium() {
        let cat = CatalogBuilder::new()
            .table("public.contact_lists", &["id uuid not null"])
            .pk("public.contact_lists", &["id"])
            .table("public.items", &["id uuid not null", "list_id uuid"])
            .pk("public.items", &["id"])
            .build();
        let r = rels(&cat, &[], None, &[]);
        assert_eq!(
            find(&r, &cat, "items", "list_id").unwrap().confidence,
            Confidence::Medium
        );
    }

    #[test]
    fn camel_case_columns_and_singular_tables() {
        let cat = CatalogBuilder::new()
            .table("public.pipelineStages", &["id uuid not null"])
            .pk("public.pipelineStages", &["id"])
            .table(
                "public.deals",
                &["id uuid not null", "stageId uuid", "pipelineStageId uuid"],
            )
            .pk("public.deals", &["id"])
            .build();
        let r = rels(&cat, &[], None, &[]);
        assert!(find(&r, &cat, "deals", "pipelineStageId")
            .is_some_and(|x| x.confidence == Confidence::High));
        // `stageId` → the one *_stages table, prefix unrelated: Medium.
        assert_eq!(
            find(&r, &cat, "deals", "stageId").unwrap().confidence,
            Confidence::Medium
        );
    }

    #[test]
    fn generic_names_need_a_table_of_that_name_and_a_matching_type() {
        let cat = CatalogBuilder::new()
            .table("public.tasks", &["id uuid not null"])
            .pk("public.tasks", &["id"])
            .table("public.stripe_events", &["id text not null"])
            .pk("public.stripe_events", &["id"])
            .table(
                "public.comments",
                &[
                    "id uuid not null",
                    "task_id uuid",
                    "event_id text",
                    "session_id uuid",
                ],
            )
            .pk("public.comments", &["id"])
            .table("public.logs", &["id uuid not null", "task_id text"])
            .pk("public.logs", &["id"])
            .build();
        let r = rels(&cat, &[], None, &[]);
        assert_eq!(
            find(&r, &cat, "comments", "task_id").unwrap().confidence,
            Confidence::High
        );
        assert!(
            find(&r, &cat, "comments", "event_id").is_none(),
            "no suffix match for generic names"
        );
        assert!(find(&r, &cat, "comments", "session_id").is_none());
        assert!(
            find(&r, &cat, "logs", "task_id").is_none(),
            "text task_id: someone else's task"
        );
    }

    #[test]
    fn user_columns_follow_the_projects_own_foreign_keys() {
        let cat = CatalogBuilder::supabase()
            .table("public.accounts", &["id uuid not null"])
            .pk("public.accounts", &["id"])
            .table("public.a", &["id uuid not null", "user_id uuid not null"])
            .pk("public.a", &["id"])
            .fk(
                "public.a",
                &["user_id"],
                "public.accounts",
                &["id"],
                FkAction::Cascade,
            )
            .table("public.b", &["id uuid not null", "user_id uuid not null"])
            .pk("public.b", &["id"])
            .build();
        let r = rels(&cat, &["auth.users"], None, &[]);
        let ix = CatalogIndex::new(&cat);
        let b = find(&r, &cat, "b", "user_id").unwrap();
        assert_eq!(b.to, ix.relation_named("public", "accounts").unwrap().oid);
        assert!(
            b.evidence.contains("1 other table declares user_id"),
            "{}",
            b.evidence
        );
    }

    #[test]
    fn no_key_no_inference() {
        let cat = CatalogBuilder::new()
            .table("public.tags", &["name text not null"])
            .table("public.posts", &["id uuid not null", "tag_id uuid"])
            .pk("public.posts", &["id"])
            .build();
        let r = rels(&cat, &[], None, &[]);
        assert!(find(&r, &cat, "posts", "tag_id").is_none());
    }
}
