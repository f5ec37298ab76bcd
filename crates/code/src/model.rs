//! What one source file says about the database, extracted from its syntax tree. Plain data:
//! files are parsed in parallel and resolved against each other afterwards.

use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct FileModel {
    /// Root as given joined with the path under it (what findings show).
    pub display: String,
    /// The path on disk (for resolving relative imports).
    pub path: PathBuf,
    pub imports: Vec<Import>,
    /// Module-level names bound to a database client or a function returning one.
    pub clients: Vec<ClientDef>,
    /// Every `createClient(...)`-like call.
    pub creations: Vec<ClientCreation>,
    pub key_fallbacks: Vec<KeyFallback>,
    pub queries: Vec<Query>,
    pub handlers: Vec<Handler>,
    /// Lines of `@ts-ignore` / `@ts-expect-error` / `# type: ignore` comments, with the text.
    pub suppressions: Vec<(u32, String)>,
    /// Python ORM models and Drizzle tables.
    pub models: Vec<OrmModel>,
    /// The file has a `'use server'` directive.
    pub use_server: bool,
    /// A Next.js `middleware.ts` that establishes the caller.
    pub auth_middleware: bool,
    /// Test, script, seed or fixture file.
    pub is_test: bool,
}

#[derive(Debug, Clone)]
pub struct Import {
    pub local: String,
    /// The exported name, `default` or `*`.
    pub imported: String,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// supabase-js with the service-role (secret) key: RLS bypassed.
    ServiceRole,
    /// Acts as the signed-in user (anon/publishable key plus the user's token): RLS applies.
    UserToken,
    /// Anon key, no user token: RLS applies as `anon`.
    Anon,
    /// A direct Postgres connection (Drizzle, Prisma, pg, postgres.js): RLS bypassed unless
    /// the role is restricted, which code cannot tell.
    Direct,
    Unknown,
}

impl ClientKind {
    pub fn bypasses_rls(self) -> bool {
        matches!(self, ClientKind::ServiceRole | ClientKind::Direct)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::ServiceRole => "service-role",
            ClientKind::UserToken => "user-token",
            ClientKind::Anon => "anon",
            ClientKind::Direct => "direct-connection",
            ClientKind::Unknown => "unknown",
        }
    }
}

/// How a client was made, as evidence.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub kind: ClientKind,
    /// `createClient(url, process.env.SUPABASE_SERVICE_ROLE_KEY)`.
    pub how: String,
}

#[derive(Debug, Clone)]
pub struct ClientDef {
    pub name: String,
    pub exported: bool,
    /// A function returning a client (`supabaseForUser(token)`).
    pub is_function: bool,
    pub info: ClientInfo,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct ClientCreation {
    pub line: u32,
    /// `createClient`, `createServerClient`, ...
    pub callee: String,
    pub info: ClientInfo,
    /// The enclosing declaration, for fingerprints.
    pub owner: String,
    /// The callee is supabase-js' `createClient` imported from `@supabase/supabase-js`.
    pub supabase_js: bool,
}

#[derive(Debug, Clone)]
pub struct KeyFallback {
    pub line: u32,
    pub text: String,
    pub owner: String,
}

/// Where the chain starts.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientRef {
    /// A name: local client, imported client, or unknown.
    Name(String),
    /// A call to a factory: `supabaseForUser(token)`.
    Call(String),
    /// Resolved at extraction time (an inline `createClient(...)`).
    Known(ClientKind, String),
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Select,
    Insert,
    Update,
    Upsert,
    Delete,
}

impl Op {
    pub fn is_write(self) -> bool {
        !matches!(self, Op::Select)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Select => "select",
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Upsert => "upsert",
            Op::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    SupabaseJs,
    Drizzle,
    Prisma,
    Sql,
}

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// `req.body.org_id`, `req.query.x`, a server action's argument: the text.
    Request(String),
    Other,
}

#[derive(Debug, Clone)]
pub struct Filter {
    /// Column name as written (`org_id`, `conversations.org_id`).
    pub column: String,
    pub origin: Origin,
    /// Only applied on some paths (a branch, a ternary).
    pub conditional: bool,
    pub method: String,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct Query {
    pub api: Api,
    pub line: u32,
    pub end_line: u32,
    /// The chain or statement (shortened).
    pub text: String,
    pub client: ClientRef,
    pub schema: Option<String>,
    pub table: String,
    pub op: Op,
    pub filters: Vec<Filter>,
    /// Columns named by `select(...)`, `order(...)` etc.: (column, line).
    pub read_columns: Vec<(String, u32)>,
    /// Columns written by insert/update/upsert values: (column, origin).
    pub written: Vec<(String, Origin)>,
    /// The writes' value expressions could not all be read (a variable, a spread).
    pub written_opaque: bool,
    /// Whether table and column names may be checked against the catalog.
    pub check_names: bool,
    /// The enclosing function (for fingerprints and CODE008).
    pub owner: String,
    /// Names the statement binds (`const { data: org } = await ...` binds `org`, `data`).
    pub binds: Vec<String>,
    /// Identifiers used in the query's arguments.
    pub uses: Vec<String>,
    /// Runs inside a transaction, or its function opens one / calls `rpc`.
    pub tx: bool,
}

#[derive(Debug, Clone)]
pub struct Handler {
    /// `POST /calls/send`, `GET app/api/x/route.ts`, `action createCall`.
    pub name: String,
    pub kind: HandlerKind,
    pub line: u32,
    pub end_line: u32,
    /// Route-level or router-level middleware that establishes the caller.
    pub guarded_by: Option<String>,
    /// An auth call inside the handler, and whether it stops when there is no user.
    pub auth_call: Option<(String, bool)>,
    /// A signature verification inside the handler or its middleware.
    pub verification: Option<String>,
    pub is_webhook: bool,
    /// Calls `transaction(...)`, `$transaction`, `rpc(...)` or runs `BEGIN`.
    pub transactional: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandlerKind {
    Express,
    NextRoute,
    ServerAction,
    /// An exported function (only for CODE008).
    Function,
}

#[derive(Debug, Clone)]
pub struct OrmModel {
    /// Class (SQLAlchemy) or variable (Drizzle) name.
    pub class: String,
    pub drizzle: bool,
    pub table: String,
    pub line: u32,
    pub columns: Vec<OrmColumn>,
}

#[derive(Debug, Clone)]
pub struct OrmColumn {
    pub attr: String,
    pub column: String,
    pub line: u32,
    /// `ForeignKey('t.c')`: (table, column) as written (may be `schema.t.c`).
    pub references: Option<(Option<String>, String, String)>,
}
