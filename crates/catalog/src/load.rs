//! Loads a [`Catalog`](crate::Catalog) from a connection.
//!
//! Every catalog area has its own query in `queries/*.sql` (names fully qualified with
//! `pg_catalog`, deterministic `ORDER BY`). [`load`] issues them all at once on the one client;
//! tokio-postgres pipelines queries that are in flight together, so the whole load costs a couple
//! of round trips plus the server's work. Nothing is written and no temporary objects are made:
//! it runs inside the caller's `BEGIN READ ONLY` transaction (under `REPEATABLE READ` every query
//! sees the same snapshot). A small second round follows only when the first leaves something the
//! loader cannot settle itself (see below).
//!
//! **Scope.** Every schema except `pg_catalog`, `information_schema`, `pg_toast` and temp schemas.
//! Extension members (`pg_depend` deptype `e`) and dbaudit's stand-ins for missing extensions
//! (comment starting with `dbaudit stand-in`) are skipped: relations, functions, types and
//! sequences in SQL; the columns, constraints, indexes, policies, triggers, owned sequences and
//! statistics of a skipped relation are dropped here, by keeping only those whose relation was
//! loaded.
//!
//! **Where the time goes.** The server's deparsing functions dominate a large catalog: every
//! `pg_get_expr` / `pg_get_indexdef` / `pg_get_constraintdef` with a table context opens the
//! table, and `pg_get_indexdef` scans `pg_opclass` for every key column. So the queries return
//! attnum arrays that the loader names from `columns.sql`, leave column defaults without column
//! references to `pg_get_expr(.., 0)`, and leave the definitions of plain indexes, primary keys
//! and plain foreign keys NULL: the loader spells those exactly as the server would (its tests
//! compare them on every object they create), and asks the server in the second round for the
//! few candidates it cannot spell. Policy expressions are deparsed by the server, always: that is
//! about half of a large load, so on catalogs with 1,000+ policies it runs in up to two parallel
//! workers (`policies.sql`).
//!
//! **Session.** The first statement turns JIT and parallel workers (but for policies) off and
//! raises `work_mem` for the transaction (`set_config(.., true)`, see `settings.sql`); the last
//! puts everything back. Outside a transaction block those settings last one statement only, so
//! JIT may kick in on large schemas: call it inside a transaction, as the audit does.
//!
//! **Locks.** The queries read catalogs; deparsing takes `AccessShareLock` on the tables it
//! deparses for (released at once) and on the relations that views and policy sub-selects read
//! (held to the end of the transaction), as any `SELECT` would. Sizes are `relpages` estimates
//! rather than `pg_total_relation_size`, which opens every relation and waits behind any
//! `ACCESS EXCLUSIVE` holder. With [`LoadOptions::statistics`], reading a sequence's last value
//! takes `RowExclusiveLock` on it until the transaction ends (that is how PostgreSQL reads a
//! sequence), and each lock takes a slot of the server's shared lock table: only sequences that
//! can run out are read (`sequence_values.sql`).

use crate::model::*;
use futures::try_join;
use std::collections::{HashMap, HashSet};
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{Client, Row, SimpleQueryMessage};

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Also load statistics (`pg_stat_*`, sequence values): live databases only.
    pub statistics: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The server refused or failed a query.
    #[error("catalog query {query} failed: {reason}")]
    Query { query: &'static str, reason: String },
    /// A column of a query's result could not be read as expected (missing, NULL, wrong type).
    #[error("catalog query {query}: column {column}: {reason}")]
    Column {
        query: &'static str,
        column: String,
        reason: String,
    },
    /// A value the loader does not know how to map (e.g. a catalog code from a newer server).
    #[error("catalog query {query}: unexpected {what}")]
    Unexpected { query: &'static str, what: String },
}

impl LoadError {
    fn query(query: &'static str, err: tokio_postgres::Error) -> Self {
        let reason = match err.as_db_error() {
            Some(db) => {
                let mut s = format!(
                    "{}: {} (SQLSTATE {})",
                    db.severity(),
                    db.message(),
                    db.code().code()
                );
                if let Some(detail) = db.detail() {
                    s.push_str("; DETAIL: ");
                    s.push_str(detail);
                }
                if let Some(hint) = db.hint() {
                    s.push_str("; HINT: ");
                    s.push_str(hint);
                }
                s
            }
            None => err.to_string(),
        };
        LoadError::Query { query, reason }
    }
}

/// One catalog query: its file name (for errors) and its text.
#[derive(Clone, Copy)]
struct Query {
    name: &'static str,
    sql: &'static str,
}

macro_rules! query {
    ($file:literal) => {
        Query {
            name: $file,
            sql: include_str!(concat!("../queries/", $file)),
        }
    };
}

const SETTINGS: Query = query!("settings.sql");
const SETTINGS_RESTORE: Query = query!("settings_restore.sql");
const SERVER: Query = query!("server.sql");
const KEYWORDS: Query = query!("keywords.sql");
const DEFAULT_OPCLASSES: Query = query!("default_opclasses.sql");
const SCHEMAS: Query = query!("schemas.sql");
const RELATIONS: Query = query!("relations.sql");
const COLUMNS: Query = query!("columns.sql");
const COLUMN_DEFAULTS: Query = query!("column_defaults.sql");
const COLUMN_COMMENTS: Query = query!("column_comments.sql");
const CONSTRAINTS: Query = query!("constraints.sql");
const INDEXES: Query = query!("indexes.sql");
const POLICIES: Query = query!("policies.sql");
const POLICY_REFERENCES: Query = query!("policy_references.sql");
const TRIGGERS: Query = query!("triggers.sql");
const FUNCTIONS: Query = query!("functions.sql");
const SEQUENCES: Query = query!("sequences.sql");
const TYPES: Query = query!("types.sql");
const ROLES: Query = query!("roles.sql");
const EXTENSIONS: Query = query!("extensions.sql");
const DEFAULT_PRIVILEGES: Query = query!("default_privileges.sql");
const PUBLICATIONS: Query = query!("publications.sql");
const SEQUENCE_VALUES: Query = query!("sequence_values.sql");
const STAT_TABLES: Query = query!("stat_tables.sql");
const STAT_INDEXES: Query = query!("stat_indexes.sql");
const STAT_DATABASE: Query = query!("stat_database.sql");
const INDEX_DEFINITIONS: Query = query!("index_definitions.sql");
const CONSTRAINT_DEFINITIONS: Query = query!("constraint_definitions.sql");
const OBJECT_NAMES: Query = query!("object_names.sql");

const ALL_QUERIES: &[Query] = &[
    SETTINGS,
    SETTINGS_RESTORE,
    SERVER,
    KEYWORDS,
    DEFAULT_OPCLASSES,
    SCHEMAS,
    RELATIONS,
    COLUMNS,
    COLUMN_DEFAULTS,
    COLUMN_COMMENTS,
    CONSTRAINTS,
    INDEXES,
    POLICIES,
    POLICY_REFERENCES,
    TRIGGERS,
    FUNCTIONS,
    SEQUENCES,
    TYPES,
    ROLES,
    EXTENSIONS,
    DEFAULT_PRIVILEGES,
    PUBLICATIONS,
    SEQUENCE_VALUES,
    STAT_TABLES,
    STAT_INDEXES,
    STAT_DATABASE,
    INDEX_DEFINITIONS,
    CONSTRAINT_DEFINITIONS,
    OBJECT_NAMES,
];

/// Every query file the loader uses, as (file name, text).
pub fn query_files() -> Vec<(&'static str, &'static str)> {
    ALL_QUERIES.iter().map(|q| (q.name, q.sql)).collect()
}

/// The rows of one query, with the query's name for error messages and its columns' positions
/// (looked up once: by-name access on every row is a linear search).
struct Rows {
    query: &'static str,
    rows: Vec<Row>,
    positions: HashMap<String, usize>,
}

impl Rows {
    fn new(query: &'static str, rows: Vec<Row>) -> Self {
        let positions = rows
            .first()
            .map(|r| {
                r.columns()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.name().to_string(), i))
                    .collect()
            })
            .unwrap_or_default();
        Rows {
            query,
            rows,
            positions,
        }
    }

    fn iter(&self) -> impl Iterator<Item = R<'_>> {
        self.rows.iter().map(move |row| R { rows: self, row })
    }

    fn map<T>(
        &self,
        mut f: impl FnMut(&R<'_>) -> Result<T, LoadError>,
    ) -> Result<Vec<T>, LoadError> {
        self.iter().map(|r| f(&r)).collect()
    }
}

async fn run_with(
    client: &Client,
    q: Query,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Rows, LoadError> {
    let rows = client
        .query(q.sql, params)
        .await
        .map_err(|e| LoadError::query(q.name, e))?;
    Ok(Rows::new(q.name, rows))
}

/// `settings.sql` over the simple-query protocol: its one message goes out before any of the
/// other queries' messages (which are sent when their futures are first polled, after this one),
/// so every other query is planned under its settings. Returns the previous values.
async fn apply_settings(client: &Client) -> Result<[String; 6], LoadError> {
    let messages = client
        .simple_query(SETTINGS.sql)
        .await
        .map_err(|e| LoadError::query(SETTINGS.name, e))?;
    let column_error = |column: &str, reason: String| LoadError::Column {
        query: SETTINGS.name,
        column: column.to_string(),
        reason,
    };
    for m in messages {
        if let SimpleQueryMessage::Row(row) = m {
            let get = |column: &str| -> Result<String, LoadError> {
                row.try_get(column)
                    .map_err(|e| column_error(column, e.to_string()))?
                    .map(str::to_string)
                    .ok_or_else(|| column_error(column, "NULL".to_string()))
            };
            return Ok([
                get("jit")?,
                get("work_mem")?,
                get("max_parallel_workers_per_gather")?,
                get("parallel_setup_cost")?,
                get("parallel_tuple_cost")?,
                get("min_parallel_table_scan_size")?,
            ]);
        }
    }
    Err(LoadError::Unexpected {
        query: SETTINGS.name,
        what: "empty result".to_string(),
    })
}

type Key = (Oid, i16);

/// The server and session, from `server.sql`.
struct ServerInfo {
    version: String,
    version_num: i32,
    database: String,
    current_user: String,
    quote_all_identifiers: bool,
    block_size: i64,
}

struct RelationRow {
    rel: Relation,
    /// Table + TOAST pages.
    pages: i64,
    options: Vec<String>,
}

struct ColumnRow {
    table: Oid,
    column: Column,
    collation: Oid,
}

struct IndexRow {
    index: Index,
    pages: i64,
    attnums: Vec<i16>,
    key_count: usize,
    opclasses: Vec<Oid>,
    collations: Vec<Oid>,
}

struct ConstraintRow {
    constraint: Constraint,
    key_attnums: Vec<i16>,
    ref_attnums: Vec<i16>,
    ref_table: Option<Oid>,
    ref_visible: bool,
    on_delete: FkAction,
    on_update: FkAction,
    match_type: char,
    index_oid: Oid,
}

struct TriggerRow {
    trigger: Trigger,
    update_attnums: Vec<i16>,
}

struct SequenceRow {
    sequence: Sequence,
    owner: Option<Key>,
}

struct PolicyReference {
    policy: Oid,
    is_function: bool,
    target: Oid,
}

fn map_pairs<K: std::hash::Hash + Eq, V>(
    rows: &Rows,
    f: impl Fn(&R<'_>) -> Result<Option<(K, V)>, LoadError>,
) -> Result<HashMap<K, V>, LoadError> {
    let mut out = HashMap::with_capacity(rows.rows.len());
    for r in rows.iter() {
        if let Some((k, v)) = f(&r)? {
            out.insert(k, v);
        }
    }
    Ok(out)
}

/// Reads the catalog of the database `client` is connected to.
pub async fn load(client: &Client, opts: &LoadOptions) -> Result<Catalog, LoadError> {
    let first = first_round(client, opts.statistics).await?;
    let previous = first.previous.clone();
    let (mut catalog, pending) = assemble(first)?;
    second_round(client, &mut catalog, pending).await?;
    let params: Vec<&(dyn ToSql + Sync)> =
        previous.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
    run_with(client, SETTINGS_RESTORE, &params).await?;
    Ok(catalog)
}

/// What the first round returns, each query's rows mapped as soon as they were in.
struct FirstRound {
    previous: [String; 6],
    server: ServerInfo,
    keywords: HashSet<String>,
    default_opclasses: HashMap<Oid, Oid>,
    schemas: Vec<Schema>,
    relations: Vec<RelationRow>,
    columns: Vec<ColumnRow>,
    defaults: HashMap<Key, String>,
    comments: HashMap<Key, String>,
    constraints: Vec<ConstraintRow>,
    indexes: Vec<IndexRow>,
    policies: Vec<PolicyRow>,
    policy_references: Vec<PolicyReference>,
    triggers: Vec<TriggerRow>,
    functions: Vec<Function>,
    sequences: Vec<SequenceRow>,
    types: Vec<UserType>,
    roles: Vec<Role>,
    extensions: Vec<Extension>,
    default_privileges: Vec<DefaultPrivilege>,
    publications: Vec<Publication>,
    sequence_values: HashMap<Oid, i64>,
    /// Table and index statistics and `stats_reset`, when asked for.
    stats: Option<(Vec<TableStats>, Vec<IndexStats>, Option<String>)>,
}

/// Runs a query and maps its rows as soon as they are in, while the server works on the queries
/// behind it.
async fn fetch<T>(
    client: &Client,
    q: Query,
    f: fn(&Rows) -> Result<T, LoadError>,
) -> Result<T, LoadError> {
    f(&run_with(client, q, &[]).await?)
}

/// [`fetch`] when `wanted`.
async fn fetch_if<T>(
    client: &Client,
    q: Query,
    wanted: bool,
    f: fn(&Rows) -> Result<T, LoadError>,
) -> Result<Option<T>, LoadError> {
    if wanted {
        fetch(client, q, f).await.map(Some)
    } else {
        Ok(None)
    }
}

/// Every query of the first round, in flight together on the one connection (pipelined).
async fn first_round(client: &Client, stats: bool) -> Result<FirstRound, LoadError> {
    let (
        previous,
        policies,
        server,
        keywords,
        default_opclasses,
        schemas,
        relations,
        columns,
        defaults,
        comments,
        constraints,
        indexes,
        policy_references,
        triggers,
        functions,
        sequences,
        types,
        roles,
        extensions,
        default_privileges,
        publications,
        sequence_values,
        stat_tables,
        stat_indexes,
        stat_database,
    ) = try_join!(
        apply_settings(client),
        fetch_policies(client),
        fetch(client, SERVER, map_server),
        fetch(client, KEYWORDS, |rows| {
            rows.iter().map(|r| r.get::<String>("word")).collect()
        }),
        fetch(client, DEFAULT_OPCLASSES, |rows| {
            map_pairs(rows, |r| Ok(Some((r.get("oid")?, r.get("type_oid")?))))
        }),
        fetch(client, SCHEMAS, |rows| rows.map(map_schema)),
        fetch(client, RELATIONS, |rows| rows.map(map_relation)),
        fetch(client, COLUMNS, |rows| rows.map(map_column)),
        fetch(client, COLUMN_DEFAULTS, |rows| {
            map_pairs(rows, |r| keyed(r, "default_expr"))
        }),
        fetch(client, COLUMN_COMMENTS, |rows| {
            map_pairs(rows, |r| keyed(r, "comment"))
        }),
        fetch(client, CONSTRAINTS, |rows| rows.map(map_constraint)),
        fetch(client, INDEXES, |rows| rows.map(map_index)),
        fetch(client, POLICY_REFERENCES, |rows| rows
            .map(map_policy_reference)),
        fetch(client, TRIGGERS, |rows| rows.map(map_trigger)),
        fetch(client, FUNCTIONS, |rows| rows.map(map_function)),
        fetch(client, SEQUENCES, |rows| rows.map(map_sequence)),
        fetch(client, TYPES, |rows| rows.map(map_type)),
        fetch(client, ROLES, |rows| rows.map(map_role)),
        fetch(client, EXTENSIONS, |rows| rows.map(map_extension)),
        fetch(client, DEFAULT_PRIVILEGES, |rows| rows
            .map(map_default_privilege)),
        fetch(client, PUBLICATIONS, |rows| rows.map(map_publication)),
        fetch_if(client, SEQUENCE_VALUES, stats, |rows| {
            map_pairs(rows, |r| {
                let value: Option<i64> = r.get("last_value")?;
                value.map(|v| Ok((r.get("oid")?, v))).transpose()
            })
        }),
        fetch_if(client, STAT_TABLES, stats, |rows| rows.map(map_table_stats)),
        fetch_if(client, STAT_INDEXES, stats, |rows| rows
            .map(map_index_stats)),
        fetch_if(client, STAT_DATABASE, stats, |rows| {
            rows.iter()
                .next()
                .map(|r| r.get::<Option<String>>("stats_reset"))
                .transpose()
                .map(Option::flatten)
        }),
    )?;
    Ok(FirstRound {
        previous,
        server,
        keywords,
        default_opclasses,
        schemas,
        relations,
        columns,
        defaults,
        comments,
        constraints,
        indexes,
        policies,
        policy_references,
        triggers,
        functions,
        sequences,
        types,
        roles,
        extensions,
        default_privileges,
        publications,
        sequence_values: sequence_values.unwrap_or_default(),
        stats: match (stat_tables, stat_indexes, stat_database) {
            (Some(t), Some(i), Some(reset)) => Some((t, i, reset)),
            _ => None,
        },
    })
}

/// A `(table_oid, num) → text` row, skipped when the text is NULL.
fn keyed(r: &R<'_>, column: &str) -> Result<Option<(Key, String)>, LoadError> {
    let text: Option<String> = r.get(column)?;
    text.map(|t| Ok(((r.get("table_oid")?, r.get("num")?), t)))
        .transpose()
}

/// What the second round must fetch, and what waits for it.
struct Pending {
    link: Linker,
    index_definitions: Vec<Oid>,
    constraint_definitions: Vec<Oid>,
    /// Per policy, the (is_function, oid) its expressions reference.
    references: HashMap<Oid, Vec<(bool, Oid)>>,
}

/// Sorts children by their relation's place in the catalog, then by name and oid.
fn by_relation<T>(mut items: Vec<(usize, T)>, name: impl Fn(&T) -> (&str, Oid)) -> Vec<T> {
    items.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| name(x).cmp(&name(y))));
    items.into_iter().map(|(_, t)| t).collect()
}

/// Links the first round's rows into the catalog: columns onto their relations, attnums to
/// names, definitions spelled, children of skipped relations dropped, everything ordered by
/// schema, relation and name (the big queries order by oid: sorting thousands of rows by name
/// costs the server more than the rest of such a query).
fn assemble(first: FirstRound) -> Result<(Catalog, Pending), LoadError> {
    let FirstRound {
        previous: _,
        server,
        keywords,
        default_opclasses,
        schemas,
        mut relations,
        columns,
        mut defaults,
        mut comments,
        constraints,
        indexes,
        policies,
        policy_references,
        triggers,
        functions,
        sequences,
        mut types,
        roles,
        extensions,
        default_privileges,
        publications,
        sequence_values,
        stats,
    } = first;
    let mut link = Linker {
        quoter: Quoter {
            reserved: keywords,
            all: server.quote_all_identifiers,
        },
        default_opclasses,
        attrs: HashMap::with_capacity(columns.len()),
        names: HashMap::new(),
        need_names: HashSet::new(),
    };
    let role_names: HashMap<Oid, String> = roles.iter().map(|r| (r.oid, r.name.clone())).collect();
    let mut catalog = Catalog {
        server_version: server.version,
        server_version_num: server.version_num,
        database: server.database,
        current_user: server.current_user,
        schemas,
        functions,
        roles: roles
            .into_iter()
            .filter(|r| !r.name.starts_with("pg_"))
            .collect(),
        extensions,
        default_privileges,
        publications,
        ..Catalog::default()
    };
    let pg15 = catalog.server_version_num >= 150000;
    let block_size = server.block_size;

    // Columns: every in-scope relation's, extension members' included (they name the attnums of
    // foreign keys that reference such tables); attached to the relations that were kept.
    let mut columns_of: HashMap<Oid, Vec<Column>> = HashMap::new();
    for ColumnRow {
        table,
        mut column,
        collation,
    } in columns
    {
        let key = (table, column.num);
        column.default = defaults.remove(&key);
        column.comment = comments.remove(&key);
        link.attrs.insert(
            key,
            Attr {
                name: column.name.clone(),
                type_oid: column.type_oid,
                collation,
            },
        );
        columns_of.entry(table).or_default().push(column);
    }

    relations.sort_by(|a, b| (&a.rel.schema, &a.rel.name).cmp(&(&b.rel.schema, &b.rel.name)));
    let mut bytes: Vec<i64> = Vec::with_capacity(relations.len());
    for RelationRow {
        mut rel,
        pages,
        options,
    } in relations
    {
        rel.columns = columns_of.remove(&rel.oid).unwrap_or_default();
        let is_view = rel.kind == RelationKind::View;
        rel.security_invoker = is_view && pg15 && reloption_bool(&options, "security_invoker");
        rel.security_barrier = is_view && reloption_bool(&options, "security_barrier");
        bytes.push(pages * block_size);
        link.names
            .insert((false, rel.oid), (rel.schema.clone(), rel.name.clone()));
        catalog.relations.push(rel);
    }
    for f in &catalog.functions {
        link.names
            .insert((true, f.oid), (f.schema.clone(), f.name.clone()));
    }
    let positions: HashMap<Oid, usize> = catalog
        .relations
        .iter()
        .enumerate()
        .map(|(i, r)| (r.oid, i))
        .collect();
    let position = |table: Oid| positions.get(&table).copied();

    // Indexes, plain ones' definitions spelled here; their sizes go to their tables'.
    let mut index_definitions = Vec::new();
    let mut includes: HashMap<Oid, Vec<String>> = HashMap::new();
    let mut kept = Vec::new();
    for row in indexes {
        let Some(pos) = position(row.index.table) else {
            continue;
        };
        let size = row.pages * block_size;
        let mut index = link.index(row, &catalog.relations[pos])?;
        index.size_bytes = size;
        bytes[pos] += size;
        if index.definition.is_empty() {
            index_definitions.push(index.oid);
        }
        includes.insert(index.oid, index.include_columns.clone());
        kept.push((pos, index));
    }
    catalog.indexes = by_relation(kept, |i| (&i.name, i.oid));
    for (rel, bytes) in catalog.relations.iter_mut().zip(bytes) {
        rel.size_bytes = bytes;
    }

    // Constraints, primary keys' and plain foreign keys' definitions spelled here.
    let mut constraint_definitions = Vec::new();
    let mut backing: HashMap<Oid, String> = HashMap::new();
    let mut kept = Vec::new();
    for row in constraints {
        let Some(pos) = position(row.constraint.table) else {
            continue;
        };
        let index_oid = row.index_oid;
        let c = link.constraint(row, &catalog.relations[pos], &includes)?;
        if c.definition.is_empty() {
            constraint_definitions.push(c.oid);
        }
        let backed = matches!(
            c.kind,
            ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion
        );
        if backed && index_oid != 0 {
            backing.insert(index_oid, c.name.clone());
        }
        kept.push((pos, c));
    }
    catalog.constraints = by_relation(kept, |c| (&c.name, c.oid));
    for index in &mut catalog.indexes {
        index.constraint = backing.remove(&index.oid);
    }

    // Policies; what they reference is named once the second round is in.
    let mut kept = Vec::new();
    for PolicyRow {
        mut policy,
        role_oids,
    } in policies
    {
        let Some(pos) = position(policy.table) else {
            continue;
        };
        let rel = &catalog.relations[pos];
        policy.schema = rel.schema.clone();
        policy.table_name = rel.name.clone();
        policy.roles = role_oids
            .iter()
            .map(|oid| match oid {
                0 => "PUBLIC".to_string(),
                _ => role_names
                    .get(oid)
                    .cloned()
                    .unwrap_or_else(|| oid.to_string()),
            })
            .collect();
        policy.roles.sort();
        policy.roles.dedup();
        kept.push((pos, policy));
    }
    catalog.policies = by_relation(kept, |p| (&p.name, p.oid));
    let policy_tables: HashMap<Oid, Oid> =
        catalog.policies.iter().map(|p| (p.oid, p.table)).collect();
    let mut references: HashMap<Oid, Vec<(bool, Oid)>> = HashMap::new();
    for PolicyReference {
        policy,
        is_function,
        target,
    } in policy_references
    {
        let Some(&table) = policy_tables.get(&policy) else {
            continue;
        };
        if is_function || target != table {
            link.want_name(is_function, target);
            references
                .entry(policy)
                .or_default()
                .push((is_function, target));
        }
    }

    let mut kept = Vec::new();
    for row in triggers {
        let Some(pos) = position(row.trigger.table) else {
            continue;
        };
        let mut trigger = row.trigger;
        trigger.update_columns =
            link.attnames(TRIGGERS.name, trigger.table, &row.update_attnums)?;
        kept.push((pos, trigger));
    }
    catalog.triggers = by_relation(kept, |t| (&t.name, t.oid));

    for SequenceRow {
        mut sequence,
        owner,
    } in sequences
    {
        if let Some((table, attnum)) = owner {
            // A sequence owned by a skipped relation goes with it.
            let Some(pos) = position(table) else {
                continue;
            };
            let rel = &catalog.relations[pos];
            sequence.owned_by = Some(format!(
                "{}.{}.{}",
                rel.schema,
                rel.name,
                link.attname(SEQUENCES.name, table, attnum)?
            ));
        }
        sequence.last_value = sequence_values.get(&sequence.oid).copied();
        catalog.sequences.push(sequence);
    }
    catalog
        .sequences
        .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    types.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    catalog.types = types;

    if let Some((mut tables, mut indexes, stats_reset)) = stats {
        let index_oids: HashSet<Oid> = catalog.indexes.iter().map(|i| i.oid).collect();
        tables.retain(|t| positions.contains_key(&t.table));
        indexes.retain(|i| index_oids.contains(&i.index));
        catalog.stats = Some(Statistics {
            stats_reset,
            tables,
            indexes,
        });
    }

    Ok((
        catalog,
        Pending {
            link,
            index_definitions,
            constraint_definitions,
            references,
        },
    ))
}

/// The second round, only for what the first could not settle: definitions the loader could
/// not spell, names of objects it did not load. Then the policies' references are named.
async fn second_round(
    client: &Client,
    catalog: &mut Catalog,
    pending: Pending,
) -> Result<(), LoadError> {
    let Pending {
        mut link,
        index_definitions,
        constraint_definitions,
        mut references,
    } = pending;
    let wanted = |is_function: bool| -> Vec<Oid> {
        link.need_names
            .iter()
            .filter(|(f, _)| *f == is_function)
            .map(|(_, o)| *o)
            .collect()
    };
    let (functions, relations) = (wanted(true), wanted(false));
    let (index_defs, constraint_defs, names) = try_join!(
        async {
            match index_definitions.is_empty() {
                true => Ok(None),
                false => run_with(client, INDEX_DEFINITIONS, &[&index_definitions])
                    .await
                    .map(Some),
            }
        },
        async {
            match constraint_definitions.is_empty() {
                true => Ok(None),
                false => run_with(client, CONSTRAINT_DEFINITIONS, &[&constraint_definitions])
                    .await
                    .map(Some),
            }
        },
        async {
            match functions.is_empty() && relations.is_empty() {
                true => Ok(None),
                false => run_with(client, OBJECT_NAMES, &[&functions, &relations])
                    .await
                    .map(Some),
            }
        },
    )?;
    if let Some(rows) = index_defs {
        let mut defs = definitions(&rows)?;
        for index in &mut catalog.indexes {
            if let Some(d) = defs.remove(&index.oid) {
                index.definition = d;
            }
        }
    }
    if let Some(rows) = constraint_defs {
        let mut defs = definitions(&rows)?;
        for c in &mut catalog.constraints {
            if let Some(d) = defs.remove(&c.oid) {
                c.definition = d;
            }
        }
    }
    if let Some(rows) = names {
        for r in rows.iter() {
            link.names.insert(
                (r.get("is_function")?, r.get("oid")?),
                (r.get("schema")?, r.get("name")?),
            );
        }
    }
    for c in &mut catalog.constraints {
        if let Some(fk) = &mut c.foreign_key {
            if fk.ref_name.is_empty() {
                if let Some((schema, name)) = link.names.get(&(false, fk.ref_table)) {
                    fk.ref_schema = schema.clone();
                    fk.ref_name = name.clone();
                }
            }
        }
    }
    for policy in &mut catalog.policies {
        for (is_function, target) in references.remove(&policy.oid).unwrap_or_default() {
            if let Some((schema, name)) = link.names.get(&(is_function, target)) {
                let list = match is_function {
                    true => &mut policy.functions,
                    false => &mut policy.relations,
                };
                list.push(format!("{schema}.{name}"));
            }
        }
        policy.functions.sort();
        policy.functions.dedup();
        policy.relations.sort();
        policy.relations.dedup();
    }
    Ok(())
}

fn definitions(rows: &Rows) -> Result<HashMap<Oid, String>, LoadError> {
    map_pairs(rows, |r| {
        Ok(Some((
            r.get::<Oid>("oid")?,
            r.get::<Option<String>>("definition")?.unwrap_or_default(),
        )))
    })
}

/// What the loader knows of a column, to name attnums and spell index definitions.
struct Attr {
    name: String,
    type_oid: Oid,
    collation: Oid,
}

/// Links the first round's rows: names attnums, spells definitions, and notes what the second
/// round must fetch.
struct Linker {
    quoter: Quoter,
    /// Default btree operator class → its type (`default_opclasses.sql`).
    default_opclasses: HashMap<Oid, Oid>,
    attrs: HashMap<Key, Attr>,
    /// (is_function, oid) → (schema, name) of what was loaded (and, after the second round,
    /// of what was asked for).
    names: HashMap<(bool, Oid), (String, String)>,
    need_names: HashSet<(bool, Oid)>,
}

impl Linker {
    fn attr(&self, query: &'static str, table: Oid, attnum: i16) -> Result<&Attr, LoadError> {
        self.attrs
            .get(&(table, attnum))
            .ok_or_else(|| LoadError::Unexpected {
                query,
                what: format!(
                    "column {attnum} of relation {table}, which columns.sql did not return"
                ),
            })
    }

    fn attname(&self, query: &'static str, table: Oid, attnum: i16) -> Result<String, LoadError> {
        Ok(self.attr(query, table, attnum)?.name.clone())
    }

    fn attnames(
        &self,
        query: &'static str,
        table: Oid,
        attnums: &[i16],
    ) -> Result<Vec<String>, LoadError> {
        attnums
            .iter()
            .map(|&a| self.attname(query, table, a))
            .collect()
    }

    fn want_name(&mut self, is_function: bool, oid: Oid) {
        if !self.names.contains_key(&(is_function, oid)) {
            self.need_names.insert((is_function, oid));
        }
    }

    /// Names an index's columns and, for a plain candidate (see indexes.sql), spells its
    /// definition when every key column has its own type's default operator class and its own
    /// collation, which pg_get_indexdef leaves unsaid. An empty definition is for the second
    /// round.
    fn index(&self, row: IndexRow, rel: &Relation) -> Result<Index, LoadError> {
        let q = INDEXES.name;
        let IndexRow {
            mut index,
            pages: _,
            attnums,
            key_count,
            opclasses,
            collations,
        } = row;
        let table = index.table;
        index.schema = rel.schema.clone();
        index.key_columns = attnums[..key_count]
            .iter()
            .map(|&a| {
                if a == 0 {
                    Ok(None)
                } else {
                    self.attname(q, table, a).map(Some)
                }
            })
            .collect::<Result<_, _>>()?;
        index.include_columns = self.attnames(q, table, &attnums[key_count..])?;
        if !index.definition.is_empty() {
            return Ok(index);
        }
        for (k, &attnum) in attnums[..key_count].iter().enumerate() {
            let attr = self.attr(q, table, attnum)?;
            let opclass_ok = opclasses
                .get(k)
                .and_then(|oc| self.default_opclasses.get(oc))
                .is_some_and(|t| *t == attr.type_oid);
            let collation_ok = collations
                .get(k)
                .is_some_and(|c| *c == 0 || *c == attr.collation);
            if !(opclass_ok && collation_ok) {
                return Ok(index);
            }
        }
        let quote = |s: &str| self.quoter.quote(s);
        let keys: Vec<String> = index.key_columns.iter().flatten().cloned().collect();
        let mut d = format!(
            "CREATE {}INDEX {} ON {}.{} USING btree ({}",
            if index.unique { "UNIQUE " } else { "" },
            quote(&index.name),
            quote(&rel.schema),
            quote(&rel.name),
            self.quoter.list(&keys),
        );
        if !index.include_columns.is_empty() {
            d.push_str(") INCLUDE (");
            d.push_str(&self.quoter.list(&index.include_columns));
        }
        d.push(')');
        index.definition = d;
        Ok(index)
    }

    /// Names a constraint's columns and referenced table and, when constraints.sql left the
    /// definition NULL, spells it. An empty definition is for the second round.
    fn constraint(
        &mut self,
        row: ConstraintRow,
        rel: &Relation,
        index_includes: &HashMap<Oid, Vec<String>>,
    ) -> Result<Constraint, LoadError> {
        let q = CONSTRAINTS.name;
        let mut c = row.constraint;
        c.schema = rel.schema.clone();
        c.columns = self.attnames(q, c.table, &row.key_attnums)?;
        if c.kind == ConstraintKind::ForeignKey {
            let ref_table = row.ref_table.ok_or_else(|| LoadError::Unexpected {
                query: q,
                what: format!("foreign key {} without confrelid", c.name),
            })?;
            let (ref_schema, ref_name) = match self.names.get(&(false, ref_table)) {
                Some((s, n)) => (s.clone(), n.clone()),
                None => {
                    // A table that was not loaded (an extension's): named in the second round.
                    self.want_name(false, ref_table);
                    (String::new(), String::new())
                }
            };
            c.foreign_key = Some(ForeignKey {
                ref_table,
                ref_schema,
                ref_name,
                ref_columns: self.attnames(q, ref_table, &row.ref_attnums)?,
                on_delete: row.on_delete,
                on_update: row.on_update,
                match_type: row.match_type,
            });
        }
        if c.definition.is_empty() {
            c.definition = spell_constraint(
                &c,
                row.ref_visible,
                &self.quoter,
                index_includes.get(&row.index_oid),
            )
            .unwrap_or_default();
        }
        Ok(c)
    }
}

/// `pg_get_constraintdef` of a primary key or a foreign key without a SET NULL / SET DEFAULT
/// delete action (the cases constraints.sql leaves NULL), as ruleutils.c spells them on PG 13-17.
/// `None` when something it needs is unknown (the backing index of a primary key, the name of a
/// referenced table that was not loaded): the second round asks the server.
fn spell_constraint(
    c: &Constraint,
    ref_visible: bool,
    q: &Quoter,
    includes: Option<&Vec<String>>,
) -> Option<String> {
    let mut d = match (&c.kind, &c.foreign_key) {
        (ConstraintKind::PrimaryKey, _) => {
            let includes = includes?;
            let mut d = format!("PRIMARY KEY ({})", q.list(&c.columns));
            if !includes.is_empty() {
                d.push_str(&format!(" INCLUDE ({})", q.list(includes)));
            }
            d
        }
        (ConstraintKind::ForeignKey, Some(fk)) => {
            if fk.ref_name.is_empty()
                || matches!(fk.on_delete, FkAction::SetNull | FkAction::SetDefault)
            {
                return None;
            }
            let target = if ref_visible {
                q.quote(&fk.ref_name)
            } else {
                format!("{}.{}", q.quote(&fk.ref_schema), q.quote(&fk.ref_name))
            };
            let mut d = format!(
                "FOREIGN KEY ({}) REFERENCES {}({})",
                q.list(&c.columns),
                target,
                q.list(&fk.ref_columns)
            );
            match fk.match_type {
                'f' => d.push_str(" MATCH FULL"),
                'p' => d.push_str(" MATCH PARTIAL"),
                _ => {}
            }
            if fk.on_update != FkAction::NoAction {
                d.push_str(" ON UPDATE ");
                d.push_str(fk.on_update.sql());
            }
            if fk.on_delete != FkAction::NoAction {
                d.push_str(" ON DELETE ");
                d.push_str(fk.on_delete.sql());
            }
            d
        }
        _ => return None,
    };
    if c.deferrable {
        d.push_str(" DEFERRABLE");
    }
    if c.deferred {
        d.push_str(" INITIALLY DEFERRED");
    }
    if !c.validated {
        d.push_str(" NOT VALID");
    }
    Some(d)
}

/// `quote_ident` exactly as the server does it (`quote_identifier` in ruleutils.c): left alone
/// when it is lower-case letters, digits and underscores, not starting with a digit, and not a
/// keyword other than an unreserved one; double-quoted otherwise.
struct Quoter {
    /// The server's keywords that are not unreserved (`keywords.sql`).
    reserved: HashSet<String>,
    /// `quote_all_identifiers`.
    all: bool,
}

impl Quoter {
    fn quote(&self, ident: &str) -> String {
        let safe = !self.all
            && ident
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && ident
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !self.reserved.contains(ident);
        if safe {
            ident.to_string()
        } else {
            format!("\"{}\"", ident.replace('"', "\"\""))
        }
    }

    fn list(&self, idents: &[String]) -> String {
        idents
            .iter()
            .map(|i| self.quote(i))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A row and the query it came from: typed getters whose errors name both.
struct R<'a> {
    rows: &'a Rows,
    row: &'a Row,
}

impl<'a> R<'a> {
    fn get<T: FromSql<'a>>(&self, column: &str) -> Result<T, LoadError> {
        let error = |reason: String| LoadError::Column {
            query: self.rows.query,
            column: column.to_string(),
            reason,
        };
        let i = *self
            .rows
            .positions
            .get(column)
            .ok_or_else(|| error("no such column".to_string()))?;
        self.row
            .try_get::<_, T>(i)
            .map_err(|e| error(e.to_string()))
    }

    /// A `"char"` column cast to text in SQL; must be one character.
    fn char(&self, column: &str) -> Result<char, LoadError> {
        let s: &str = self.get(column)?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(self.unexpected(format!("{column} value {s:?}"))),
        }
    }

    /// A `"char"` column where the empty code means "none" (`attidentity`, `attgenerated`).
    fn opt_char(&self, column: &str) -> Result<Option<char>, LoadError> {
        let s: Option<&str> = self.get(column)?;
        Ok(s.and_then(|s| s.chars().next()))
    }

    /// A text array that may be NULL (no rows aggregated): empty then.
    fn strings(&self, column: &str) -> Result<Vec<String>, LoadError> {
        Ok(self.get::<Option<Vec<String>>>(column)?.unwrap_or_default())
    }

    /// An `int2[]` that may be NULL: empty then.
    fn attnums(&self, column: &str) -> Result<Vec<i16>, LoadError> {
        Ok(self.get::<Option<Vec<i16>>>(column)?.unwrap_or_default())
    }

    /// Grants from the `grant_grantees` / `grant_privileges` / `grant_grantable` arrays.
    fn grants(&self) -> Result<Vec<Grant>, LoadError> {
        let grantees = self.strings("grant_grantees")?;
        let privileges = self.strings("grant_privileges")?;
        let grantable = self
            .get::<Option<Vec<bool>>>("grant_grantable")?
            .unwrap_or_default();
        if grantees.len() != privileges.len() || grantees.len() != grantable.len() {
            return Err(self.unexpected("grant arrays of different lengths".to_string()));
        }
        Ok(grantees
            .into_iter()
            .zip(privileges)
            .zip(grantable)
            .map(|((grantee, privilege), grantable)| Grant {
                grantee,
                privilege,
                grantable,
            })
            .collect())
    }

    /// Grants from a JSON array of `[grantee, privilege, grantable]` (NULL: none).
    fn json_grants(&self, column: &str) -> Result<Vec<Grant>, LoadError> {
        let Some(value) = self.get::<Option<serde_json::Value>>(column)? else {
            return Ok(Vec::new());
        };
        let bad = || self.unexpected(format!("{column} value {value}"));
        let items = value.as_array().ok_or_else(bad)?;
        items
            .iter()
            .map(|item| match item.as_array().map(Vec::as_slice) {
                Some([grantee, privilege, grantable]) => Ok(Grant {
                    grantee: grantee.as_str().ok_or_else(bad)?.to_string(),
                    privilege: privilege.as_str().ok_or_else(bad)?.to_string(),
                    grantable: grantable.as_bool().ok_or_else(bad)?,
                }),
                _ => Err(bad()),
            })
            .collect()
    }

    fn unexpected(&self, what: String) -> LoadError {
        LoadError::Unexpected {
            query: self.rows.query,
            what,
        }
    }
}

fn map_server(rows: &Rows) -> Result<ServerInfo, LoadError> {
    let r = rows.iter().next().ok_or_else(|| LoadError::Unexpected {
        query: rows.query,
        what: "empty result".to_string(),
    })?;
    Ok(ServerInfo {
        version: r.get("server_version")?,
        version_num: r.get("server_version_num")?,
        database: r.get("database")?,
        current_user: r.get("current_user")?,
        quote_all_identifiers: r.get("quote_all_identifiers")?,
        block_size: r.get("block_size")?,
    })
}

fn map_schema(r: &R<'_>) -> Result<Schema, LoadError> {
    let name: String = r.get("name")?;
    Ok(Schema {
        oid: r.get("oid")?,
        managed: MANAGED_SCHEMAS.contains(&name.as_str()),
        name,
        owner: r.get("owner")?,
        grants: r.grants()?,
    })
}

/// A relation, its columns, size and view options still to fill.
fn map_relation(r: &R<'_>) -> Result<RelationRow, LoadError> {
    let kind_code = r.char("kind")?;
    let kind = RelationKind::from_relkind(kind_code)
        .ok_or_else(|| r.unexpected(format!("relkind {kind_code:?}")))?;
    let reltuples: Option<f64> = r.get("reltuples")?;
    let rel = Relation {
        oid: r.get("oid")?,
        schema: r.get("schema")?,
        name: r.get("name")?,
        kind,
        owner: r.get("owner")?,
        rls_enabled: r.get("rls_enabled")?,
        rls_forced: r.get("rls_forced")?,
        row_estimate: reltuples.filter(|t| *t >= 0.0).map(|t| t.round() as i64),
        size_bytes: 0,
        columns: Vec::new(),
        grants: r.grants()?,
        partition_of: r.get("partition_of")?,
        view_definition: r.get("view_definition")?,
        security_invoker: false,
        security_barrier: false,
        depends_on: r.get::<Option<Vec<Oid>>>("depends_on")?.unwrap_or_default(),
        comment: r.get("comment")?,
    };
    Ok(RelationRow {
        rel,
        pages: r.get::<Option<i64>>("pages")?.unwrap_or(0),
        options: r.strings("reloptions")?,
    })
}

/// A boolean reloption as PostgreSQL reads it: `name` alone is stored as `name=true`; the value
/// is whatever the user wrote (`on`, `1`, `yes`, `TRUE` lower-cased, ...), kept verbatim.
fn reloption_bool(options: &[String], name: &str) -> bool {
    options.iter().any(|o| {
        o.split_once('=')
            .is_some_and(|(k, v)| k == name && parse_bool(v) == Some(true))
    })
}

/// PostgreSQL's `parse_bool`: case-insensitive prefixes of `true`/`false`/`yes`/`no`, `on`/`off`
/// (at least two letters), `1`/`0`.
fn parse_bool(value: &str) -> Option<bool> {
    let v = value.trim().to_ascii_lowercase();
    let prefix_of = |word: &str, min: usize| v.len() >= min && word.starts_with(v.as_str());
    if prefix_of("true", 1) || prefix_of("yes", 1) || v == "on" || v == "1" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || v == "0" {
        Some(false)
    } else {
        None
    }
}

fn map_column(r: &R<'_>) -> Result<ColumnRow, LoadError> {
    let type_name: String = r.get("type_name")?;
    let (base_type_name, type_category) = match r.get::<Option<Vec<String>>>("domain_base")? {
        Some(base) => match base.as_slice() {
            [name, category] => (name.clone(), category.chars().next().unwrap_or('X')),
            _ => return Err(r.unexpected(format!("domain_base {base:?}"))),
        },
        None => (
            type_name.clone(),
            r.opt_char("type_category")?.unwrap_or('X'),
        ),
    };
    Ok(ColumnRow {
        table: r.get("table_oid")?,
        collation: r.get("collation_oid")?,
        column: Column {
            num: r.get("num")?,
            name: r.get("name")?,
            type_name,
            type_oid: r.get("type_oid")?,
            base_type_name,
            type_category,
            not_null: r.get("not_null")?,
            default: None,
            identity: r.opt_char("identity")?,
            generated: r.opt_char("generated")?.is_some(),
            grants: r.json_grants("grants")?,
            comment: None,
        },
    })
}

fn map_index(r: &R<'_>) -> Result<IndexRow, LoadError> {
    let attnums = r.attnums("attnums")?;
    let key_count = usize::try_from(r.get::<i32>("key_count")?)
        .ok()
        .filter(|k| *k <= attnums.len())
        .ok_or_else(|| r.unexpected("indnkeyatts past indkey".to_string()))?;
    Ok(IndexRow {
        index: Index {
            oid: r.get("oid")?,
            schema: String::new(),
            name: r.get("name")?,
            table: r.get("table_oid")?,
            key_columns: Vec::new(),
            include_columns: Vec::new(),
            expressions: r.get("expressions")?,
            predicate: r.get("predicate")?,
            unique: r.get("is_unique")?,
            primary: r.get("is_primary")?,
            valid: r.get("is_valid")?,
            ready: r.get("is_ready")?,
            method: r.get::<Option<String>>("method")?.unwrap_or_default(),
            definition: r.get::<Option<String>>("definition")?.unwrap_or_default(),
            constraint: None,
            size_bytes: 0,
        },
        pages: r.get::<Option<i64>>("pages")?.unwrap_or(0),
        attnums,
        key_count,
        opclasses: r.get::<Option<Vec<Oid>>>("opclasses")?.unwrap_or_default(),
        collations: r.get::<Option<Vec<Oid>>>("collations")?.unwrap_or_default(),
    })
}

fn fk_action(r: &R<'_>, column: &str) -> Result<FkAction, LoadError> {
    let c = r.char(column)?;
    FkAction::from_code(c).ok_or_else(|| r.unexpected(format!("{column} {c:?}")))
}

fn map_constraint(r: &R<'_>) -> Result<ConstraintRow, LoadError> {
    let code = r.char("kind")?;
    let kind = ConstraintKind::from_contype(code)
        .ok_or_else(|| r.unexpected(format!("contype {code:?}")))?;
    let is_fk = kind == ConstraintKind::ForeignKey;
    Ok(ConstraintRow {
        constraint: Constraint {
            oid: r.get("oid")?,
            name: r.get("name")?,
            schema: String::new(),
            table: r.get("table_oid")?,
            kind,
            columns: Vec::new(),
            definition: r.get::<Option<String>>("definition")?.unwrap_or_default(),
            validated: r.get("validated")?,
            deferrable: r.get("deferrable")?,
            deferred: r.get("deferred")?,
            foreign_key: None,
        },
        key_attnums: r.attnums("key_attnums")?,
        ref_attnums: if is_fk {
            r.attnums("ref_attnums")?
        } else {
            Vec::new()
        },
        ref_table: r.get("ref_table")?,
        ref_visible: r.get::<Option<bool>>("ref_visible")?.unwrap_or(false),
        on_delete: if is_fk {
            fk_action(r, "on_delete")?
        } else {
            FkAction::NoAction
        },
        on_update: if is_fk {
            fk_action(r, "on_update")?
        } else {
            FkAction::NoAction
        },
        match_type: if is_fk { r.char("match_type")? } else { 's' },
        index_oid: r.get("index_oid")?,
    })
}

/// `policies.sql`, a simple query of three statements (see the file): the policy rows come
/// back as text.
async fn fetch_policies(client: &Client) -> Result<Vec<PolicyRow>, LoadError> {
    let messages = client
        .simple_query(POLICIES.sql)
        .await
        .map_err(|e| LoadError::query(POLICIES.name, e))?;
    let mut out = Vec::new();
    for m in messages {
        if let SimpleQueryMessage::Row(row) = m {
            if row.columns().first().map(|c| c.name()) == Some("oid") {
                out.push(map_policy(&TextRow {
                    query: POLICIES.name,
                    row: &row,
                })?);
            }
        }
    }
    Ok(out)
}

struct PolicyRow {
    policy: Policy,
    role_oids: Vec<Oid>,
}

fn map_policy(r: &TextRow<'_>) -> Result<PolicyRow, LoadError> {
    let code = r.char("command")?;
    let command =
        PolicyCommand::from_polcmd(code).ok_or_else(|| r.unexpected(format!("polcmd {code:?}")))?;
    Ok(PolicyRow {
        policy: Policy {
            oid: r.parse("oid")?,
            schema: String::new(),
            table_name: String::new(),
            table: r.parse("table_oid")?,
            name: r.text("name")?,
            command,
            permissive: r.bool("permissive")?,
            roles: Vec::new(),
            using: r.opt_text("using_expr")?,
            with_check: r.opt_text("with_check_expr")?,
            functions: Vec::new(),
            relations: Vec::new(),
        },
        role_oids: r.oids("role_oids")?,
    })
}

/// A row of a simple query: every value is text (or NULL).
struct TextRow<'a> {
    query: &'static str,
    row: &'a tokio_postgres::SimpleQueryRow,
}

impl TextRow<'_> {
    fn opt_text(&self, column: &str) -> Result<Option<String>, LoadError> {
        self.row
            .try_get(column)
            .map(|v| v.map(str::to_string))
            .map_err(|e| self.error(column, e.to_string()))
    }

    fn text(&self, column: &str) -> Result<String, LoadError> {
        self.opt_text(column)?
            .ok_or_else(|| self.error(column, "NULL".to_string()))
    }

    fn parse<T: std::str::FromStr>(&self, column: &str) -> Result<T, LoadError>
    where
        T::Err: std::fmt::Display,
    {
        let text = self.text(column)?;
        text.parse()
            .map_err(|e: T::Err| self.error(column, format!("{text:?}: {e}")))
    }

    fn bool(&self, column: &str) -> Result<bool, LoadError> {
        match self.text(column)?.as_str() {
            "t" => Ok(true),
            "f" => Ok(false),
            other => Err(self.error(column, format!("{other:?} is not a boolean"))),
        }
    }

    fn char(&self, column: &str) -> Result<char, LoadError> {
        let text = self.text(column)?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(self.unexpected(format!("{column} value {text:?}"))),
        }
    }

    /// An `oid[]` in its text form, `{10,16384}`.
    fn oids(&self, column: &str) -> Result<Vec<Oid>, LoadError> {
        let text = self.text(column)?;
        let inner = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .ok_or_else(|| self.error(column, format!("{text:?} is not an array")))?;
        if inner.is_empty() {
            return Ok(Vec::new());
        }
        inner
            .split(',')
            .map(|o| {
                o.parse()
                    .map_err(|e| self.error(column, format!("{text:?}: {e}")))
            })
            .collect()
    }

    fn error(&self, column: &str, reason: String) -> LoadError {
        LoadError::Column {
            query: self.query,
            column: column.to_string(),
            reason,
        }
    }

    fn unexpected(&self, what: String) -> LoadError {
        LoadError::Unexpected {
            query: self.query,
            what,
        }
    }
}

fn map_policy_reference(r: &R<'_>) -> Result<PolicyReference, LoadError> {
    Ok(PolicyReference {
        policy: r.get("policy")?,
        is_function: r.get("is_function")?,
        target: r.get("ref_oid")?,
    })
}

// pg_trigger.tgtype bits (catalog/pg_trigger.h).
const TRIGGER_TYPE_ROW: i32 = 1 << 0;
const TRIGGER_TYPE_BEFORE: i32 = 1 << 1;
const TRIGGER_TYPE_INSERT: i32 = 1 << 2;
const TRIGGER_TYPE_DELETE: i32 = 1 << 3;
const TRIGGER_TYPE_UPDATE: i32 = 1 << 4;
const TRIGGER_TYPE_TRUNCATE: i32 = 1 << 5;
const TRIGGER_TYPE_INSTEAD: i32 = 1 << 6;

/// `before`, `after` or `instead_of`; the events in `insert, update, delete, truncate` order;
/// row-level.
fn decode_tgtype(tgtype: i32) -> (&'static str, Vec<String>, bool) {
    let timing = if tgtype & TRIGGER_TYPE_INSTEAD != 0 {
        "instead_of"
    } else if tgtype & TRIGGER_TYPE_BEFORE != 0 {
        "before"
    } else {
        "after"
    };
    let events = [
        (TRIGGER_TYPE_INSERT, "insert"),
        (TRIGGER_TYPE_UPDATE, "update"),
        (TRIGGER_TYPE_DELETE, "delete"),
        (TRIGGER_TYPE_TRUNCATE, "truncate"),
    ]
    .iter()
    .filter(|(bit, _)| tgtype & bit != 0)
    .map(|(_, name)| name.to_string())
    .collect();
    (timing, events, tgtype & TRIGGER_TYPE_ROW != 0)
}

fn map_trigger(r: &R<'_>) -> Result<TriggerRow, LoadError> {
    let (timing, events, row_level) = decode_tgtype(r.get("tgtype")?);
    Ok(TriggerRow {
        trigger: Trigger {
            oid: r.get("oid")?,
            name: r.get("name")?,
            table: r.get("table_oid")?,
            function: r.get("function")?,
            function_oid: r.get("function_oid")?,
            timing: timing.to_string(),
            events,
            row_level,
            enabled: r.char("enabled")? != 'D',
            update_columns: Vec::new(),
            definition: r.get::<Option<String>>("definition")?.unwrap_or_default(),
        },
        update_attnums: r.attnums("update_attnums")?,
    })
}

fn map_function(r: &R<'_>) -> Result<Function, LoadError> {
    Ok(Function {
        oid: r.get("oid")?,
        schema: r.get("schema")?,
        name: r.get("name")?,
        identity_args: r
            .get::<Option<String>>("identity_args")?
            .unwrap_or_default(),
        // NULL for procedures.
        result: r.get::<Option<String>>("result")?.unwrap_or_default(),
        kind: r.char("kind")?,
        language: r.get::<Option<String>>("language")?.unwrap_or_default(),
        security_definer: r.get("security_definer")?,
        volatility: r.char("volatility")?,
        leakproof: r.get("leakproof")?,
        config: r.strings("config")?,
        owner: r.get("owner")?,
        grants: r.grants()?,
        source: r.get("source")?,
        comment: r.get("comment")?,
    })
}

fn map_sequence(r: &R<'_>) -> Result<SequenceRow, LoadError> {
    let owner_table: Option<Oid> = r.get("owner_table")?;
    let owner_attnum: Option<i16> = r.get("owner_attnum")?;
    Ok(SequenceRow {
        sequence: Sequence {
            oid: r.get("oid")?,
            schema: r.get("schema")?,
            name: r.get("name")?,
            data_type: r.get("data_type")?,
            max_value: r.get("max_value")?,
            increment: r.get("increment")?,
            last_value: None,
            owned_by: None,
        },
        owner: owner_table.zip(owner_attnum),
    })
}

fn map_type(r: &R<'_>) -> Result<UserType, LoadError> {
    let code = r.char("typtype")?;
    let kind = match code {
        'e' => UserTypeKind::Enum {
            labels: r.strings("labels")?,
        },
        'd' => UserTypeKind::Domain {
            base_type: r.get::<Option<String>>("base_type")?.unwrap_or_default(),
            not_null: r.get("not_null")?,
            checks: r.strings("checks")?,
        },
        'c' => UserTypeKind::Composite,
        'r' => UserTypeKind::Range,
        'b' => UserTypeKind::Base,
        other => return Err(r.unexpected(format!("typtype {other:?}"))),
    };
    Ok(UserType {
        oid: r.get("oid")?,
        schema: r.get("schema")?,
        name: r.get("name")?,
        kind,
    })
}

fn map_role(r: &R<'_>) -> Result<Role, LoadError> {
    Ok(Role {
        oid: r.get("oid")?,
        name: r.get("name")?,
        superuser: r.get("superuser")?,
        bypass_rls: r.get("bypass_rls")?,
        can_login: r.get("can_login")?,
        inherit: r.get("inherit")?,
        member_of: r.strings("member_of")?,
    })
}

fn map_extension(r: &R<'_>) -> Result<Extension, LoadError> {
    Ok(Extension {
        name: r.get("name")?,
        schema: r.get("schema")?,
        version: r.get("version")?,
    })
}

fn map_default_privilege(r: &R<'_>) -> Result<DefaultPrivilege, LoadError> {
    Ok(DefaultPrivilege {
        role: r.get("role")?,
        schema: r.get("schema")?,
        object_type: r.char("object_type")?,
        grants: r.grants()?,
    })
}

fn map_publication(r: &R<'_>) -> Result<Publication, LoadError> {
    Ok(Publication {
        name: r.get("name")?,
        all_tables: r.get("all_tables")?,
        tables: r.strings("tables")?,
    })
}

fn map_table_stats(r: &R<'_>) -> Result<TableStats, LoadError> {
    Ok(TableStats {
        table: r.get("table_oid")?,
        live_rows: r.get("live_rows")?,
        dead_rows: r.get("dead_rows")?,
        seq_scan: r.get("seq_scan")?,
        idx_scan: r.get("idx_scan")?,
    })
}

fn map_index_stats(r: &R<'_>) -> Result<IndexStats, LoadError> {
    Ok(IndexStats {
        index: r.get("index_oid")?,
        idx_scan: r.get("idx_scan")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_bool_like_postgres() {
        for t in ["true", "TRUE", "t", "tr", "yes", "y", "on", "ON", "1"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["false", "f", "no", "n", "off", "of", "0"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for x in ["o", "", "2", "truex", "enable"] {
            assert_eq!(parse_bool(x), None, "{x}");
        }
    }

    #[test]
    fn reloption_values() {
        let opts = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(reloption_bool(
            &opts(&["security_invoker=on"]),
            "security_invoker"
        ));
        assert!(reloption_bool(
            &opts(&["security_barrier=true", "security_invoker=1"]),
            "security_invoker"
        ));
        assert!(!reloption_bool(
            &opts(&["security_invoker=off"]),
            "security_invoker"
        ));
        assert!(!reloption_bool(
            &opts(&["security_barrier=yes"]),
            "security_invoker"
        ));
        assert!(!reloption_bool(&[], "security_invoker"));
    }

    #[test]
    fn quoting_like_quote_ident() {
        let q = Quoter {
            reserved: ["select", "user", "table"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            all: false,
        };
        assert_eq!(q.quote("org_id"), "org_id");
        assert_eq!(q.quote("_x1"), "_x1");
        assert_eq!(q.quote("user"), "\"user\"");
        assert_eq!(q.quote("OrgId"), "\"OrgId\"");
        assert_eq!(q.quote("1abc"), "\"1abc\"");
        assert_eq!(q.quote("a b"), "\"a b\"");
        assert_eq!(q.quote("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(q.quote("é"), "\"é\"");
        assert_eq!(q.quote(""), "\"\"");
        let all = Quoter {
            reserved: HashSet::new(),
            all: true,
        };
        assert_eq!(all.quote("org_id"), "\"org_id\"");
    }

    #[test]
    fn every_query_is_qualified_and_ordered() {
        for (name, sql) in query_files() {
            let code: String = sql
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            // Single-row queries need no order.
            let single_row = ["server.sql", "settings.sql", "settings_restore.sql"];
            assert!(
                code.contains("ORDER BY") || single_row.contains(&name),
                "{name} has no ORDER BY"
            );
            for object in [
                "pg_class",
                "pg_namespace",
                "pg_attribute",
                "pg_depend",
                "pg_type",
                "pg_proc",
                "pg_constraint",
                "pg_index",
                "pg_description",
                "current_setting",
                "set_config",
                "pg_get_expr",
                "format_type",
                "aclexplode",
                "array_agg",
                "unnest",
            ] {
                let bare = code.match_indices(object).any(|(i, _)| {
                    let before_ok = code[..i].ends_with("pg_catalog.");
                    let after = code[i + object.len()..].chars().next();
                    let whole_word = !matches!(after, Some(c) if c.is_alphanumeric() || c == '_')
                        && !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
                    whole_word && !before_ok
                });
                assert!(!bare, "{name}: {object} not qualified with pg_catalog");
            }
        }
    }
}
