//! The catalog model: plain data, no connection. Rules take a [`Catalog`] and nothing else, so
//! most rule tests build one by hand (see [`crate::builder`]).
//!
//! Names are unquoted identifiers as stored in `pg_catalog` (`public`, `call_logs`). Roles are
//! role names; the pseudo-role of grants to everyone is spelled `PUBLIC`.

use serde::{Deserialize, Serialize};

pub type Oid = u32;

/// Schemas Supabase (or Postgres) manages: their objects are loaded, so rules can see
/// `auth.users` or `storage.objects`, but they are not audited as the project's own.
pub const MANAGED_SCHEMAS: &[&str] = &[
    "auth",
    "storage",
    "realtime",
    "_realtime",
    "extensions",
    "graphql",
    "graphql_public",
    "vault",
    "pgsodium",
    "pgsodium_masks",
    "net",
    "cron",
    "supabase_functions",
    "supabase_migrations",
    "pgbouncer",
    "_analytics",
    "pgtle",
    "tiger",
    "topology",
];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Catalog {
    /// `server_version`, e.g. `15.18 (Debian 15.18-0+deb12u1)`.
    pub server_version: String,
    /// `server_version_num`, e.g. `150018`.
    pub server_version_num: i32,
    pub database: String,
    pub current_user: String,
    pub schemas: Vec<Schema>,
    /// Tables, partitioned tables, views, materialized views and foreign tables.
    pub relations: Vec<Relation>,
    pub constraints: Vec<Constraint>,
    pub indexes: Vec<Index>,
    pub policies: Vec<Policy>,
    pub triggers: Vec<Trigger>,
    pub functions: Vec<Function>,
    pub sequences: Vec<Sequence>,
    pub types: Vec<UserType>,
    pub roles: Vec<Role>,
    pub extensions: Vec<Extension>,
    pub default_privileges: Vec<DefaultPrivilege>,
    /// Publications and the tables they carry (e.g. `supabase_realtime`).
    pub publications: Vec<Publication>,
    /// Present when loaded from a live database whose statistics mean something.
    pub stats: Option<Statistics>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Schema {
    pub oid: Oid,
    pub name: String,
    pub owner: String,
    /// Listed in [`MANAGED_SCHEMAS`].
    pub managed: bool,
    pub grants: Vec<Grant>,
}

/// One privilege held by one grantee (`PUBLIC` for everyone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: String,
    /// Upper case, as in `aclexplode`: `SELECT`, `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`,
    /// `REFERENCES`, `TRIGGER`, `USAGE`, `CREATE`, `EXECUTE`.
    pub privilege: String,
    pub grantable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    Table,
    PartitionedTable,
    View,
    MaterializedView,
    ForeignTable,
}

impl RelationKind {
    /// From `pg_class.relkind`.
    pub fn from_relkind(c: char) -> Option<Self> {
        Some(match c {
            'r' => RelationKind::Table,
            'p' => RelationKind::PartitionedTable,
            'v' => RelationKind::View,
            'm' => RelationKind::MaterializedView,
            'f' => RelationKind::ForeignTable,
            _ => return None,
        })
    }
    pub fn is_table(self) -> bool {
        matches!(self, RelationKind::Table | RelationKind::PartitionedTable)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::Table => "table",
            RelationKind::PartitionedTable => "partitioned table",
            RelationKind::View => "view",
            RelationKind::MaterializedView => "materialized view",
            RelationKind::ForeignTable => "foreign table",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Relation {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    pub kind: RelationKind,
    pub owner: String,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    /// `pg_class.reltuples`; `None` when never analyzed (-1).
    pub row_estimate: Option<i64>,
    /// `pg_total_relation_size`.
    pub size_bytes: i64,
    /// In attnum order, dropped and system columns left out.
    pub columns: Vec<Column>,
    /// Table-level grants (column grants are on the columns).
    pub grants: Vec<Grant>,
    /// The parent when this is a partition.
    pub partition_of: Option<Oid>,
    /// Views and materialized views: `pg_get_viewdef`.
    pub view_definition: Option<String>,
    /// Views: `security_invoker = true` in reloptions (PG 15+).
    pub security_invoker: bool,
    pub security_barrier: bool,
    /// Views and materialized views: relations they read (from `pg_depend` via `pg_rewrite`).
    pub depends_on: Vec<Oid>,
    pub comment: Option<String>,
}

impl Relation {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Column {
    pub num: i16,
    pub name: String,
    /// `format_type(atttypid, atttypmod)`, e.g. `uuid`, `character varying(255)`, `vector(1536)`.
    pub type_name: String,
    pub type_oid: Oid,
    /// For domains, the base type's `format_type`; otherwise the same as `type_name`.
    pub base_type_name: String,
    /// `pg_type.typcategory` of the base type (`S` string, `N` numeric, `U` user, ...).
    pub type_category: char,
    pub not_null: bool,
    /// `pg_get_expr(adbin, adrelid)`.
    pub default: Option<String>,
    /// `a` ALWAYS or `d` BY DEFAULT identity.
    pub identity: Option<char>,
    /// Generated (stored) column.
    pub generated: bool,
    /// Column-level grants.
    pub grants: Vec<Grant>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    PrimaryKey,
    ForeignKey,
    Unique,
    Check,
    Exclusion,
    Trigger,
    NotNull,
}

impl ConstraintKind {
    /// From `pg_constraint.contype`.
    pub fn from_contype(c: char) -> Option<Self> {
        Some(match c {
            'p' => ConstraintKind::PrimaryKey,
            'f' => ConstraintKind::ForeignKey,
            'u' => ConstraintKind::Unique,
            'c' => ConstraintKind::Check,
            'x' => ConstraintKind::Exclusion,
            't' => ConstraintKind::Trigger,
            'n' => ConstraintKind::NotNull,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FkAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl FkAction {
    /// From `pg_constraint.confdeltype` / `confupdtype`.
    pub fn from_code(c: char) -> Option<Self> {
        Some(match c {
            'a' => FkAction::NoAction,
            'r' => FkAction::Restrict,
            'c' => FkAction::Cascade,
            'n' => FkAction::SetNull,
            'd' => FkAction::SetDefault,
            _ => return None,
        })
    }
    pub fn sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForeignKey {
    pub ref_table: Oid,
    pub ref_schema: String,
    pub ref_name: String,
    pub ref_columns: Vec<String>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
    /// `f` FULL, `p` PARTIAL, `s` SIMPLE.
    pub match_type: char,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Constraint {
    pub oid: Oid,
    pub name: String,
    pub schema: String,
    /// The constrained relation (`conrelid`).
    pub table: Oid,
    pub kind: ConstraintKind,
    /// Constrained columns in key order.
    pub columns: Vec<String>,
    /// `pg_get_constraintdef`.
    pub definition: String,
    pub validated: bool,
    pub deferrable: bool,
    pub deferred: bool,
    pub foreign_key: Option<ForeignKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Index {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    pub table: Oid,
    /// Key columns in order (`indnkeyatts` of them); `None` for an expression.
    pub key_columns: Vec<Option<String>>,
    /// INCLUDE columns.
    pub include_columns: Vec<String>,
    /// `pg_get_expr(indexprs)` when any key is an expression.
    pub expressions: Option<String>,
    /// `pg_get_expr(indpred)` for a partial index.
    pub predicate: Option<String>,
    pub unique: bool,
    pub primary: bool,
    pub valid: bool,
    pub ready: bool,
    /// Access method: `btree`, `gin`, `gist`, `hash`, `brin`, ...
    pub method: String,
    /// `pg_get_indexdef`.
    pub definition: String,
    /// The constraint this index backs, if any.
    pub constraint: Option<String>,
    pub size_bytes: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyCommand {
    All,
    Select,
    Insert,
    Update,
    Delete,
}

impl PolicyCommand {
    /// From `pg_policy.polcmd`.
    pub fn from_polcmd(c: char) -> Option<Self> {
        Some(match c {
            '*' => PolicyCommand::All,
            'r' => PolicyCommand::Select,
            'a' => PolicyCommand::Insert,
            'w' => PolicyCommand::Update,
            'd' => PolicyCommand::Delete,
            _ => return None,
        })
    }
    pub fn sql(self) -> &'static str {
        match self {
            PolicyCommand::All => "ALL",
            PolicyCommand::Select => "SELECT",
            PolicyCommand::Insert => "INSERT",
            PolicyCommand::Update => "UPDATE",
            PolicyCommand::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Policy {
    pub oid: Oid,
    pub schema: String,
    pub table_name: String,
    pub table: Oid,
    pub name: String,
    pub command: PolicyCommand,
    pub permissive: bool,
    /// Role names; `PUBLIC` when the policy applies to everyone.
    pub roles: Vec<String>,
    /// `pg_get_expr(polqual)`.
    pub using: Option<String>,
    /// `pg_get_expr(polwithcheck)`.
    pub with_check: Option<String>,
    /// Functions the expressions call (`schema.name`), from `pg_depend`.
    pub functions: Vec<String>,
    /// Relations the expressions read (`schema.name`), from `pg_depend`, the policy's own table
    /// left out.
    pub relations: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trigger {
    pub oid: Oid,
    pub name: String,
    pub table: Oid,
    /// `schema.name` of the trigger function.
    pub function: String,
    pub function_oid: Oid,
    /// `before`, `after` or `instead_of`.
    pub timing: String,
    /// Any of `insert`, `update`, `delete`, `truncate`.
    pub events: Vec<String>,
    /// Row-level (`FOR EACH ROW`) rather than statement-level.
    pub row_level: bool,
    /// `tgenabled != 'D'`.
    pub enabled: bool,
    /// `UPDATE OF col, ...` columns, if any.
    pub update_columns: Vec<String>,
    /// `pg_get_triggerdef`.
    pub definition: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Function {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// `pg_get_function_identity_arguments`, e.g. `org uuid, n integer`.
    pub identity_args: String,
    /// `pg_get_function_result`, e.g. `uuid`, `trigger`, `SETOF public.t`.
    pub result: String,
    /// `f` function, `p` procedure, `a` aggregate, `w` window.
    pub kind: char,
    pub language: String,
    pub security_definer: bool,
    /// `i` immutable, `s` stable, `v` volatile.
    pub volatility: char,
    pub leakproof: bool,
    /// `proconfig` entries, e.g. `search_path=""`.
    pub config: Vec<String>,
    pub owner: String,
    /// Grants of EXECUTE (and anything else in `proacl`); a function with a NULL `proacl` has
    /// the default: EXECUTE to PUBLIC, which is listed here explicitly.
    pub grants: Vec<Grant>,
    /// `prosrc` (body text) for SQL and plpgsql functions.
    pub source: Option<String>,
    pub comment: Option<String>,
}

impl Function {
    /// The `search_path` this function pins, if any.
    pub fn search_path(&self) -> Option<&str> {
        self.config
            .iter()
            .find_map(|c| c.strip_prefix("search_path="))
    }
    /// `schema.name(args)`.
    pub fn signature(&self) -> String {
        format!("{}.{}({})", self.schema, self.name, self.identity_args)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sequence {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    pub data_type: String,
    pub max_value: i64,
    pub increment: i64,
    /// `pg_sequences.last_value` where readable (live statistics).
    pub last_value: Option<i64>,
    /// `schema.table.column` that owns it.
    pub owned_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UserTypeKind {
    Enum {
        labels: Vec<String>,
    },
    Domain {
        base_type: String,
        not_null: bool,
        checks: Vec<String>,
    },
    Composite,
    Range,
    Base,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserType {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    #[serde(flatten)]
    pub kind: UserTypeKind,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub oid: Oid,
    pub name: String,
    pub superuser: bool,
    pub bypass_rls: bool,
    pub can_login: bool,
    pub inherit: bool,
    /// Roles this role is a direct member of.
    pub member_of: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extension {
    pub name: String,
    pub schema: String,
    pub version: String,
}

/// `ALTER DEFAULT PRIVILEGES`: what `role` grants on objects it creates later in `schema`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DefaultPrivilege {
    pub role: String,
    /// `None` for all schemas.
    pub schema: Option<String>,
    /// `r` tables, `S` sequences, `f` functions, `T` types, `n` schemas.
    pub object_type: char,
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Publication {
    pub name: String,
    pub all_tables: bool,
    /// `schema.name` of the tables it publishes.
    pub tables: Vec<String>,
}

/// Statistics of a live database (empty and meaningless on a throwaway cluster).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Statistics {
    /// `pg_stat_database.stats_reset` as text, if ever reset.
    pub stats_reset: Option<String>,
    pub tables: Vec<TableStats>,
    pub indexes: Vec<IndexStats>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableStats {
    pub table: Oid,
    pub live_rows: i64,
    pub dead_rows: i64,
    pub seq_scan: i64,
    pub idx_scan: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexStats {
    pub index: Oid,
    pub idx_scan: i64,
}
