//! Policy analysis: what a policy's USING / WITH CHECK expression does, read from its text with
//! a pure-Rust SQL parser (`sqlparser`) plus the catalog's `pg_depend` facts.
//!
//! The text is what `pg_get_expr` prints, e.g. `(company_id = current_company_id())`,
//! `(org_id = ((auth.jwt() ->> 'organization_id'::text))::uuid)` or
//! `(user_id = ( SELECT auth.uid() AS uid))`. Inside sub-queries Postgres qualifies every column
//! (`c.id = ai_messages.conversation_id`), so a qualifier no sub-query binds names the policy's
//! own table.
//!
//! Evaluated per row or once: an auth call written directly in the expression (or inside a
//! sub-query that refers to the policy's row) runs for every row; one inside a sub-query that
//! does not refer to the row (`( SELECT auth.uid() AS uid)`, `org_id IN (SELECT ... WHERE
//! user_id = auth.uid())`) becomes an initplan or a hashed sub-plan and runs once.
//!
//! When the text does not parse, `parsed` is false and nothing is claimed about it except what
//! a plain text search can tell for sure (`reads_user_metadata`); in [`PolicyAnalysis`] the
//! functions then come from `pg_depend`.

use dbaudit_catalog::{CatalogIndex, Oid};
use serde::Serialize;
use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName,
    Query, SelectItem, SetExpr, TableFactor, TableWithJoins, UnaryOperator, Value, Visit, Visitor,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

/// A JWT claim an expression reads, e.g. `auth.jwt() ->> 'org_id'` (path `["org_id"]`),
/// `auth.jwt() -> 'app_metadata' ->> 'org_id'` (path `["app_metadata", "org_id"]`), or
/// `current_setting('request.jwt.claims', true)::json ->> 'org_id'`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimRead {
    pub path: Vec<String>,
    /// Read from `user_metadata` / `raw_user_meta_data`, which users can change themselves.
    pub user_metadata: bool,
}

impl ClaimRead {
    /// `app_metadata.org_id`
    pub fn key(&self) -> String {
        self.path.join(".")
    }
}

/// What a column of the policy's table is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Against {
    /// A JWT claim.
    Claim {
        path: Vec<String>,
    },
    /// A function call such as `public.current_company_id()` or `auth.uid()`; also a helper
    /// the column is passed to (`is_org_member(org_id)`), and `current_setting` for settings
    /// other than the JWT (`current_setting('app.tenant_id')`, see [`ExprFacts::settings`]).
    Function {
        name: String,
    },
    /// `col IN (SELECT ... FROM t WHERE ...)` / `EXISTS (SELECT ... WHERE t.x = col)`.
    Subquery {
        tables: Vec<String>,
    },
    /// A literal.
    Literal,
    Other,
}

/// `column <op> something`, where `column` belongs to the policy's table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnComparison {
    pub column: String,
    pub against: Against,
}

/// How an expression lets rows through, for the callers of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// Not parsed: nothing is claimed.
    #[default]
    Unknown,
    /// `true`, `1 = 1`: every row, for every caller.
    AlwaysTrue,
    /// Only checks that the caller is signed in (`auth.uid() IS NOT NULL`,
    /// `auth.role() = 'authenticated'`): every row, for every signed-in caller.
    SignedIn,
    /// Never true for API callers (`false`, `auth.role() = 'service_role'`).
    Deny,
    /// Depends on the row: reads the table's columns (directly or in a correlated sub-query).
    Rows,
    /// Depends only on who the caller is (`is_admin()`, `auth.jwt() ->> 'role' = 'admin'`, an
    /// `EXISTS` sub-query that never refers to the row): whoever passes sees every row.
    Caller,
}

/// Facts about one expression.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExprFacts {
    /// The parser understood it (when false, only the catalog facts are reliable).
    pub parsed: bool,
    /// Always true: `true`, `(true)`, `1 = 1`, ...
    pub always_true: bool,
    /// Only checks that a user is signed in (`auth.uid() IS NOT NULL`,
    /// `auth.role() = 'authenticated'`), nothing about which rows.
    pub only_checks_signin: bool,
    pub claims: Vec<ClaimRead>,
    /// Functions called, as written, lower case (`auth.uid`, `current_company_id`). In
    /// [`PolicyAnalysis`] unqualified names are qualified from `pg_depend` where they match
    /// (`public.current_company_id`); built-ins stay as written (`lower`, `current_setting`).
    pub functions: Vec<String>,
    /// Columns of the policy's table the expression reads.
    pub columns: Vec<String>,
    pub comparisons: Vec<ColumnComparison>,
    /// Auth calls evaluated per row: `auth.uid()`, `auth.jwt()`, `current_setting(...)` not
    /// wrapped in a scalar sub-select.
    pub per_row_calls: Vec<String>,
    /// `auth.uid() IS NULL OR ...`: lets anonymous callers through.
    pub null_auth_disjunct: bool,
    /// Reads `user_metadata` / `raw_user_meta_data`.
    pub reads_user_metadata: bool,
    /// Tables read in sub-queries (as written, lower case; qualified from `pg_depend` in
    /// [`PolicyAnalysis`] where they match).
    pub subquery_tables: Vec<String>,
    /// How the expression lets rows through (see [`Gate`]).
    pub gate: Gate,
    /// Settings read with `current_setting` (`request.jwt.claims`, `app.tenant_id`).
    pub settings: Vec<String>,
    /// Every call evaluated per row whose arguments do not depend on the row (so it could be
    /// wrapped in `(select ...)`): the auth calls of `per_row_calls` and helpers alike.
    pub per_row_functions: Vec<String>,
    /// The project's own STABLE or VOLATILE functions among `per_row_functions` (filled by
    /// [`PolicyAnalysis`], which knows the catalog): helpers such as `current_company_id()`
    /// that run for every row.
    pub per_row_helpers: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicyFacts {
    pub using: Option<ExprFacts>,
    pub with_check: Option<ExprFacts>,
}

impl PolicyFacts {
    /// The USING and WITH CHECK facts that exist.
    pub fn exprs(&self) -> impl Iterator<Item = &ExprFacts> {
        self.using.iter().chain(self.with_check.iter())
    }
}

/// Facts for every policy, by policy oid.
#[derive(Debug, Clone, Default)]
pub struct PolicyAnalysis {
    facts: HashMap<Oid, PolicyFacts>,
}

impl PolicyAnalysis {
    pub fn analyse(index: &CatalogIndex<'_>) -> PolicyAnalysis {
        let catalog = index.catalog;
        // (schema, name) -> volatility of the project's functions, for per-row helpers.
        let mut volatility: HashMap<(&str, &str), char> = HashMap::new();
        for f in &catalog.functions {
            let v = volatility
                .entry((&f.schema, &f.name))
                .or_insert(f.volatility);
            // Overloads: keep the least stable one.
            if f.volatility == 'v' || (f.volatility == 's' && *v == 'i') {
                *v = f.volatility;
            }
        }
        // Parse each distinct text once (USING and WITH CHECK are often the same, and so are
        // the policies of many tables), on every core for big catalogs.
        let mut texts: Vec<&str> = catalog
            .policies
            .iter()
            .flat_map(|p| p.using.iter().chain(p.with_check.iter()))
            .map(String::as_str)
            .collect();
        texts.sort_unstable();
        texts.dedup();
        let parsed: HashMap<&str, Option<Expr>> = texts
            .iter()
            .copied()
            .zip(par_map(&texts, |t| parse_expr(t)))
            .collect();
        let facts = par_map(&catalog.policies, |p| {
            let rel = index.relation(p.table);
            let columns: Vec<&str> = rel
                .map(|r| r.columns.iter().map(|c| c.name.as_str()).collect())
                .unwrap_or_default();
            let schema = p.schema.as_str();
            let lookup = |table: &str, column: &str| -> Option<bool> {
                let (s, t) = match table.split_once('.') {
                    Some((s, t)) => (s, t),
                    None => (schema, table),
                };
                let r = index
                    .relation_named(s, t)
                    .or_else(|| index.relation_named("public", t))?;
                Some(r.column(column).is_some())
            };
            let env = ExprEnv {
                table: Some(&p.table_name),
                columns: &columns,
                has_column: Some(&lookup),
                // pg_depend lists the non-built-in functions a policy calls; a hand-built
                // catalog may list none, and then the names decide.
                user_functions: (!p.functions.is_empty()).then_some(p.functions.as_slice()),
            };
            let analyse = |text: &Option<String>| {
                text.as_deref().map(|t| {
                    let expr = parsed.get(t).and_then(Option::as_ref);
                    let mut f = analyse_parsed(expr, t, &env);
                    resolve_names(&mut f, &p.functions, &p.relations);
                    f.per_row_helpers = f
                        .per_row_functions
                        .iter()
                        .filter(|name| {
                            let (s, n) = name.split_once('.').unwrap_or(("public", name));
                            !is_managed_schema(s)
                                && volatility.get(&(s, n)).is_some_and(|v| *v != 'i')
                        })
                        .cloned()
                        .collect();
                    f
                })
            };
            (
                p.oid,
                PolicyFacts {
                    using: analyse(&p.using),
                    with_check: analyse(&p.with_check),
                },
            )
        });
        PolicyAnalysis {
            facts: facts.into_iter().collect(),
        }
    }

    pub fn of(&self, policy: Oid) -> Option<&PolicyFacts> {
        self.facts.get(&policy)
    }
}

fn is_managed_schema(s: &str) -> bool {
    dbaudit_catalog::MANAGED_SCHEMAS.contains(&s) || s == "pg_catalog"
}

/// Qualify unqualified function and table names from the policy's `pg_depend` references
/// (`current_company_id` → `public.current_company_id`) and, for text that did not parse,
/// take the functions from there.
fn resolve_names(f: &mut ExprFacts, functions: &[String], relations: &[String]) {
    let qualify = |name: &str, deps: &[String]| -> String {
        if name.contains('.') {
            return name.to_string();
        }
        let mut hits = deps.iter().filter(|d| {
            d.rsplit('.')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        });
        match (hits.next(), hits.next()) {
            (Some(d), None) => d.to_ascii_lowercase(),
            _ => name.to_string(),
        }
    };
    if !f.parsed {
        f.functions = functions.iter().map(|s| s.to_ascii_lowercase()).collect();
        return;
    }
    for name in f
        .functions
        .iter_mut()
        .chain(f.per_row_calls.iter_mut())
        .chain(f.per_row_functions.iter_mut())
    {
        *name = qualify(name, functions);
    }
    for t in f.subquery_tables.iter_mut() {
        *t = qualify(t, relations);
    }
    for c in f.comparisons.iter_mut() {
        match &mut c.against {
            Against::Function { name } => *name = qualify(name, functions),
            Against::Subquery { tables } => {
                for t in tables.iter_mut() {
                    *t = qualify(t, relations);
                }
            }
            _ => {}
        }
    }
    dedup(&mut f.functions);
    dedup(&mut f.per_row_calls);
    dedup(&mut f.per_row_functions);
    dedup(&mut f.subquery_tables);
}

/// `(table as written, column)` → whether the table has the column; `None`: unknown table.
pub type HasColumn<'a> = &'a dyn Fn(&str, &str) -> Option<bool>;

/// What [`analyse_expr_in`] may know about the policy's surroundings.
pub struct ExprEnv<'a> {
    /// The policy's table name (unqualified), to recognise `table.col` inside sub-queries.
    pub table: Option<&'a str>,
    /// The policy table's column names.
    pub columns: &'a [&'a str],
    /// Whether a table (as written in a sub-query, maybe schema-qualified) has a column;
    /// `None` when the table is unknown. Used for unqualified names inside sub-queries.
    pub has_column: Option<HasColumn<'a>>,
    /// The non-built-in functions the expression calls (`pg_depend`, `schema.name`). When
    /// given, an unqualified call that is not among them is a built-in.
    pub user_functions: Option<&'a [String]>,
}

/// Analyse one expression; `table_columns` are the policy table's column names.
pub fn analyse_expr(expr: &str, table_columns: &[&str]) -> ExprFacts {
    analyse_expr_in(
        expr,
        &ExprEnv {
            table: None,
            columns: table_columns,
            has_column: None,
            user_functions: None,
        },
    )
}

/// Parse a policy expression as Postgres prints it.
pub fn parse_expr(text: &str) -> Option<Expr> {
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(400)
        .try_with_sql(text)
        .ok()?;
    let e = parser.parse_expr().ok()?;
    (parser.next_token().token == Token::EOF).then_some(e)
}

/// Analyse one expression with what is known about its table.
pub fn analyse_expr_in(text: &str, env: &ExprEnv<'_>) -> ExprFacts {
    analyse_parsed(parse_expr(text).as_ref(), text, env)
}

/// `f` over `items`, in order, split over the cores when there are many.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || items.len() < 512 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn analyse_parsed(expr: Option<&Expr>, text: &str, env: &ExprEnv<'_>) -> ExprFacts {
    let Some(expr) = expr else {
        let lower = text.to_ascii_lowercase();
        return ExprFacts {
            parsed: false,
            reads_user_metadata: lower.contains("user_metadata")
                || lower.contains("raw_user_meta_data"),
            ..ExprFacts::default()
        };
    };
    let mut w = Walker::new(env);
    let _ = expr.visit(&mut w);
    let mut f = w.facts;
    f.parsed = true;
    let cx = Cx { env };
    f.gate = cx.gate(expr);
    f.always_true = f.gate == Gate::AlwaysTrue;
    f.only_checks_signin = f.gate == Gate::SignedIn;
    f.null_auth_disjunct = cx.null_auth_disjunct(expr);
    f.reads_user_metadata |= f.claims.iter().any(|c| c.user_metadata);
    dedup(&mut f.functions);
    dedup(&mut f.columns);
    dedup(&mut f.per_row_calls);
    dedup(&mut f.per_row_functions);
    dedup(&mut f.subquery_tables);
    dedup(&mut f.settings);
    let mut seen = HashSet::new();
    f.claims.retain(|c| seen.insert(c.path.clone()));
    let mut seen = Vec::new();
    f.comparisons.retain(|c| {
        if seen.contains(c) {
            false
        } else {
            seen.push(c.clone());
            true
        }
    });
    f
}

/// Facts about a SQL function body (`prosrc` of a `LANGUAGE sql` function): the claims, the
/// functions and the tables it reads. `None` when it does not parse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BodyFacts {
    pub claims: Vec<ClaimRead>,
    pub functions: Vec<String>,
    /// Tables read, as written, lower case.
    pub tables: Vec<String>,
    pub reads_user_metadata: bool,
}

pub fn analyse_sql_body(source: &str) -> Option<BodyFacts> {
    let dialect = PostgreSqlDialect {};
    let stmts = Parser::new(&dialect)
        .with_recursion_limit(400)
        .try_with_sql(source)
        .ok()?
        .parse_statements()
        .ok()?;
    let env = ExprEnv {
        table: None,
        columns: &[],
        has_column: None,
        user_functions: None,
    };
    let mut w = Walker::new(&env);
    let _ = stmts.visit(&mut w);
    let mut f = w.facts;
    dedup(&mut f.functions);
    dedup(&mut f.subquery_tables);
    let mut seen = HashSet::new();
    f.claims.retain(|c| seen.insert(c.path.clone()));
    Some(BodyFacts {
        reads_user_metadata: f.reads_user_metadata || f.claims.iter().any(|c| c.user_metadata),
        claims: f.claims,
        functions: f.functions,
        tables: f.subquery_tables,
    })
}

/// Rewrite an expression so that each call of `calls` (`auth.uid`, `public.current_company_id`,
/// matched qualified or by its bare name) whose arguments are constants and that is not yet
/// wrapped becomes `(SELECT call)`, evaluated once per statement. Works on the text as Postgres
/// prints it, so the rest of the expression is kept as it was. `None` when nothing changed.
pub fn wrap_calls_in_select(text: &str, calls: &[String]) -> Option<String> {
    let b = text.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'"';
    let mut out = String::with_capacity(text.len() + 32);
    let mut i = 0;
    let mut changed = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            let end = skip_quoted(b, i);
            out.push_str(&text[i..end]);
            i = end;
            continue;
        }
        let starts_ident = is_ident(c) && (i == 0 || !(is_ident(b[i - 1]) || b[i - 1] == b'.'));
        if !starts_ident {
            out.push(c as char);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && (is_ident(b[j]) || b[j] == b'.') {
            j += 1;
        }
        let name = text[i..j].replace('"', "").to_ascii_lowercase();
        let wanted = b.get(j) == Some(&b'(')
            && calls.iter().any(|c| {
                *c == name || (!name.contains('.') && c.rsplit('.').next() == Some(name.as_str()))
            });
        if !wanted {
            out.push_str(&text[i..j]);
            i = j;
            continue;
        }
        let Some(close) = matching_paren(b, j) else {
            out.push_str(&text[i..]);
            break;
        };
        let call = &text[i..=close];
        let before = out.trim_end();
        let wrapped = before.len() >= 6
            && before[before.len() - 6..].eq_ignore_ascii_case("select")
            && before[..before.len() - 6].trim_end().ends_with('(');
        if !wrapped && constant_args(&text[j + 1..close]) {
            out.push_str("(SELECT ");
            out.push_str(call);
            out.push(')');
            changed = true;
        } else {
            out.push_str(call);
        }
        i = close + 1;
    }
    changed.then_some(out)
}

/// The index just past a quoted string starting at `i` (`''` escapes a quote).
fn skip_quoted(b: &[u8], i: usize) -> usize {
    let mut k = i + 1;
    while k < b.len() {
        if b[k] == b'\'' {
            if b.get(k + 1) == Some(&b'\'') {
                k += 2;
                continue;
            }
            return k + 1;
        }
        k += 1;
    }
    b.len()
}

/// The `)` matching the `(` at `open`.
fn matching_paren(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut k = open;
    while k < b.len() {
        match b[k] {
            b'\'' => {
                k = skip_quoted(b, k);
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
        k += 1;
    }
    None
}

/// Arguments made of literals and casts only (`'request.jwt.claims'::text, true`).
fn constant_args(args: &str) -> bool {
    let b = args.as_bytes();
    let mut k = 0;
    let mut after_cast = false;
    while k < b.len() {
        let c = b[k];
        if c == b'\'' {
            k = skip_quoted(b, k);
            after_cast = false;
            continue;
        }
        if c == b':' {
            after_cast = true;
            k += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'"' {
            let start = k;
            while k < b.len()
                && (b[k].is_ascii_alphanumeric() || b[k] == b'_' || b[k] == b'"' || b[k] == b'.')
            {
                k += 1;
            }
            let word = args[start..k].to_ascii_lowercase();
            if !after_cast && !matches!(word.as_str(), "true" | "false" | "null") {
                return false;
            }
            // Multi-word types (`character varying`) follow a cast too.
            continue;
        }
        if !(c.is_ascii_whitespace() || c == b'[' || c == b']') {
            after_cast = false;
        }
        k += 1;
    }
    true
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
}

// ---------------------------------------------------------------------------------------------
// Names and small helpers over the AST.

fn ident_name(i: &Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_ascii_lowercase()
    }
}

fn object_name(n: &ObjectName) -> String {
    n.0.iter()
        .map(|p| match p.as_ident() {
            Some(i) => ident_name(i),
            None => p.to_string().to_ascii_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn function_args(f: &sqlparser::ast::Function) -> Vec<&Expr> {
    match &f.args {
        FunctionArguments::List(l) => l
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                | FunctionArg::Named {
                    arg: FunctionArgExpr::Expr(e),
                    ..
                }
                | FunctionArg::ExprNamed {
                    arg: FunctionArgExpr::Expr(e),
                    ..
                } => Some(e),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

/// Strip parentheses, casts and `COLLATE`.
fn unwrap(mut e: &Expr) -> &Expr {
    loop {
        e = match e {
            Expr::Nested(x) => x,
            Expr::Cast { expr, .. } => expr,
            Expr::Collate { expr, .. } => expr,
            _ => return e,
        };
    }
}

fn string_literal(e: &Expr) -> Option<&str> {
    match unwrap(e) {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s)
            | Value::EscapedStringLiteral(s)
            | Value::DoubleQuotedString(s) => Some(s),
            Value::DollarQuotedString(d) => Some(&d.value),
            _ => None,
        },
        _ => None,
    }
}

/// A literal (possibly cast), or an array / list of them.
fn is_literal(e: &Expr) -> bool {
    match unwrap(e) {
        Expr::Value(_) | Expr::TypedString(_) => true,
        Expr::Array(a) => a.elem.iter().all(is_literal),
        Expr::Tuple(t) => t.iter().all(is_literal),
        Expr::UnaryOp { expr, .. } => is_literal(expr),
        _ => false,
    }
}

/// `( SELECT x AS y)` with no FROM, WHERE or set operation: the inner expression.
fn scalar_select_item(e: &Expr) -> Option<&Expr> {
    let Expr::Subquery(q) = e else { return None };
    scalar_query_item(q)
}

fn scalar_query_item(q: &Query) -> Option<&Expr> {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    if !s.from.is_empty() || s.selection.is_some() || s.projection.len() != 1 {
        return None;
    }
    match &s.projection[0] {
        SelectItem::UnnamedExpr(x) | SelectItem::ExprWithAlias { expr: x, .. } => Some(x),
        _ => None,
    }
}

/// Strip parentheses, casts and no-FROM scalar sub-selects: `( SELECT auth.uid() AS uid)` →
/// `auth.uid()`.
fn unwrap_select(mut e: &Expr) -> &Expr {
    loop {
        let u = unwrap(e);
        match scalar_select_item(u) {
            Some(inner) => e = inner,
            None => return u,
        }
    }
}

const AUTH_CALLS: &[&str] = &["auth.uid", "auth.jwt", "auth.role", "auth.email"];

fn is_auth_call(name: &str) -> bool {
    AUTH_CALLS.contains(&name) || name == "current_setting" || name == "pg_catalog.current_setting"
}

const ROLE_KEYWORDS: &[&str] = &["current_user", "current_role", "session_user", "user"];

/// Built-ins that pass a column through (`lower(email)`), for comparisons.
const TRANSPARENT: &[&str] = &[
    "lower", "upper", "btrim", "trim", "ltrim", "rtrim", "coalesce", "nullif", "text",
];

/// Common built-ins: never a tenant helper.
const BUILTINS: &[&str] = &[
    "lower",
    "upper",
    "btrim",
    "trim",
    "ltrim",
    "rtrim",
    "coalesce",
    "nullif",
    "text",
    "now",
    "length",
    "char_length",
    "date_trunc",
    "array",
    "unnest",
    "array_agg",
    "string_to_array",
    "split_part",
    "concat",
    "format",
    "substring",
    "substr",
    "greatest",
    "least",
    "md5",
    "jsonb_extract_path_text",
    "json_extract_path_text",
    "jsonb_extract_path",
    "json_extract_path",
    "to_jsonb",
    "to_json",
    "array_length",
    "cardinality",
    "age",
    "extract",
    "date_part",
    "gen_random_uuid",
    "uuid_generate_v4",
    "exists",
    "any",
    "all",
    "left",
    "right",
    "position",
    "replace",
    "regexp_replace",
    "starts_with",
    "jsonb_build_object",
    "json_build_object",
    "jsonb_array_elements_text",
    "json_array_elements_text",
    "abs",
    "round",
    "floor",
    "ceil",
    "count",
    "sum",
    "max",
    "min",
    "bool_or",
    "bool_and",
    "current_date",
    "current_timestamp",
    "localtimestamp",
    "statement_timestamp",
    "clock_timestamp",
    "transaction_timestamp",
    "timezone",
    "has_table_privilege",
    "pg_has_role",
];

fn strip_pg_catalog(name: &str) -> &str {
    name.strip_prefix("pg_catalog.").unwrap_or(name)
}

// ---------------------------------------------------------------------------------------------
// Scopes: which sub-query binds which name.

#[derive(Debug, Clone)]
struct Binding {
    /// The alias, or the table's own name.
    name: String,
    /// The table as written (`members`, `auth.users`); empty for derived tables.
    table: String,
}

#[derive(Debug, Clone)]
struct Scope {
    bindings: Vec<Binding>,
    /// Refers to the policy's row: evaluated per row.
    correlated: bool,
}

fn query_bindings(q: &Query) -> Vec<Binding> {
    let mut out = vec![];
    fn from_factor(f: &TableFactor, out: &mut Vec<Binding>) {
        match f {
            TableFactor::Table { name, alias, .. } => {
                let table = object_name(name);
                let own = table.rsplit('.').next().unwrap_or(&table).to_string();
                out.push(Binding {
                    name: alias.as_ref().map(|a| ident_name(&a.name)).unwrap_or(own),
                    table,
                });
            }
            TableFactor::Derived { alias, .. }
            | TableFactor::TableFunction { alias, .. }
            | TableFactor::Function { alias, .. }
            | TableFactor::UNNEST { alias, .. } => out.push(Binding {
                name: alias
                    .as_ref()
                    .map(|a| ident_name(&a.name))
                    .unwrap_or_default(),
                table: String::new(),
            }),
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                from_twj(table_with_joins, out);
                if let Some(a) = alias {
                    out.push(Binding {
                        name: ident_name(&a.name),
                        table: String::new(),
                    });
                }
            }
            _ => out.push(Binding {
                name: String::new(),
                table: String::new(),
            }),
        }
    }
    fn from_twj(t: &TableWithJoins, out: &mut Vec<Binding>) {
        from_factor(&t.relation, out);
        for j in &t.joins {
            from_factor(&j.relation, out);
        }
    }
    fn from_set(s: &SetExpr, out: &mut Vec<Binding>) {
        match s {
            SetExpr::Select(sel) => {
                for t in &sel.from {
                    from_twj(t, out);
                }
            }
            SetExpr::Query(q) => from_set(&q.body, out),
            SetExpr::SetOperation { left, right, .. } => {
                from_set(left, out);
                from_set(right, out);
            }
            _ => {}
        }
    }
    from_set(&q.body, &mut out);
    out
}

/// What a column reference resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ref {
    /// A column of the policy's table.
    Own(String),
    /// A column bound by the sub-query scope at this depth.
    Inner(usize),
    /// `CURRENT_USER` and friends.
    RoleKeyword,
    Unknown,
}

struct Resolver<'e, 's> {
    env: &'e ExprEnv<'e>,
    /// Scopes of enclosing sub-queries the walk started inside (outermost first).
    outer: &'s [Scope],
    /// Scopes entered during the walk (outermost first), after `outer`.
    scopes: Vec<Scope>,
}

impl Resolver<'_, '_> {
    /// Scopes from the innermost out, with their depth.
    fn scopes_rev(&self) -> impl Iterator<Item = (usize, &Scope)> {
        let n = self.outer.len();
        self.scopes
            .iter()
            .enumerate()
            .rev()
            .map(move |(i, s)| (n + i, s))
            .chain(self.outer.iter().enumerate().rev())
    }

    fn scope_at(&self, depth: usize) -> &Scope {
        match depth.checked_sub(self.outer.len()) {
            Some(i) => &self.scopes[i],
            None => &self.outer[depth],
        }
    }

    fn resolve(&self, parts: &[Ident]) -> Ref {
        match parts {
            [] => Ref::Unknown,
            [one] => {
                let name = ident_name(one);
                for (depth, scope) in self.scopes_rev() {
                    if scope.bindings.is_empty() {
                        continue;
                    }
                    let mut all_known_without = true;
                    for b in &scope.bindings {
                        let known = match (self.env.has_column, b.table.is_empty()) {
                            (Some(f), false) => f(&b.table, &name),
                            _ => None,
                        };
                        match known {
                            Some(true) => return Ref::Inner(depth),
                            Some(false) => {}
                            None => all_known_without = false,
                        }
                    }
                    if !all_known_without {
                        // Postgres looks in the innermost scope first; with tables we cannot
                        // see, assume the name is theirs.
                        return Ref::Inner(depth);
                    }
                }
                let own = self.env.columns.iter().any(|c| *c == name);
                if !own && one.quote_style.is_none() && ROLE_KEYWORDS.contains(&name.as_str()) {
                    Ref::RoleKeyword
                } else {
                    Ref::Own(name)
                }
            }
            _ => {
                let qualifier = ident_name(&parts[parts.len() - 2]);
                let column = ident_name(&parts[parts.len() - 1]);
                for (depth, scope) in self.scopes_rev() {
                    if scope.bindings.iter().any(|b| b.name == qualifier) {
                        return Ref::Inner(depth);
                    }
                }
                match self.env.table {
                    Some(t) if t != qualifier => Ref::Unknown,
                    _ => Ref::Own(column),
                }
            }
        }
    }

    fn resolve_expr(&self, e: &Expr) -> Option<Ref> {
        match e {
            Expr::Identifier(i) => Some(self.resolve(std::slice::from_ref(i))),
            Expr::CompoundIdentifier(parts) => Some(self.resolve(parts)),
            Expr::Function(f) if matches!(f.args, FunctionArguments::None) => {
                let n = object_name(&f.name);
                ROLE_KEYWORDS
                    .contains(&n.as_str())
                    .then_some(Ref::RoleKeyword)
            }
            _ => None,
        }
    }

    /// The own column an expression stands for: `org_id`, `(org_id)::text`, `lower(email)`.
    fn own_column(&self, e: &Expr) -> Option<String> {
        let e = unwrap(e);
        if let Some(Ref::Own(c)) = self.resolve_expr(e) {
            return Some(c);
        }
        if let Expr::Function(f) = e {
            let name = object_name(&f.name);
            if TRANSPARENT.contains(&strip_pg_catalog(&name)) {
                return function_args(f).first().and_then(|a| self.own_column(a));
            }
        }
        None
    }

    /// The scope depth whose column an expression stands for.
    fn inner_column(&self, e: &Expr) -> Option<usize> {
        match self.resolve_expr(unwrap(e)) {
            Some(Ref::Inner(d)) => Some(d),
            _ => None,
        }
    }

    /// Does anything in `node` refer to the policy's row? Sub-queries inside are resolved with
    /// their own scopes.
    fn refers_to_row<V: Visit + ?Sized>(&self, node: &V) -> bool {
        struct Find<'e, 's> {
            r: Resolver<'e, 's>,
        }
        impl Visitor for Find<'_, '_> {
            type Break = ();
            fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
                self.r.scopes.push(Scope {
                    bindings: query_bindings(q),
                    correlated: false,
                });
                ControlFlow::Continue(())
            }
            fn post_visit_query(&mut self, _q: &Query) -> ControlFlow<()> {
                self.r.scopes.pop();
                ControlFlow::Continue(())
            }
            fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
                match self.r.resolve_expr(e) {
                    Some(Ref::Own(_)) => ControlFlow::Break(()),
                    _ => ControlFlow::Continue(()),
                }
            }
        }
        // The walk's scopes become the finder's outer ones, borrowed when they are in one piece.
        let combined: Vec<Scope>;
        let outer: &[Scope] = if self.outer.is_empty() {
            &self.scopes
        } else {
            combined = self
                .outer
                .iter()
                .chain(self.scopes.iter())
                .cloned()
                .collect();
            &combined
        };
        let mut f = Find {
            r: Resolver {
                env: self.env,
                outer,
                scopes: vec![],
            },
        };
        node.visit(&mut f).is_break()
    }

    fn is_user_function(&self, name: &str) -> bool {
        let bare = strip_pg_catalog(name);
        if name.starts_with("pg_catalog.") || BUILTINS.contains(&bare) {
            return false;
        }
        if name.contains('.') {
            return true;
        }
        match self.env.user_functions {
            Some(list) => list.iter().any(|d| {
                d.rsplit('.')
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            }),
            None => true,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Claims.

/// Where a JSON access chain starts.
enum JsonBase {
    /// The JWT claims: `auth.jwt()`, `current_setting('request.jwt.claims', true)::json`.
    Jwt,
    /// `raw_user_meta_data` / `user_metadata` read from a table (`auth.users`).
    UserMetadataColumn,
    Other,
}

fn json_base(e: &Expr) -> JsonBase {
    let e = unwrap_select(e);
    match e {
        Expr::Function(f) => {
            let name = object_name(&f.name);
            let bare = strip_pg_catalog(&name);
            if name == "auth.jwt" {
                return JsonBase::Jwt;
            }
            if bare == "current_setting" {
                if let Some(s) = function_args(f).first().and_then(|a| string_literal(a)) {
                    if s == "request.jwt.claims" {
                        return JsonBase::Jwt;
                    }
                }
            }
            if bare == "nullif" || bare == "coalesce" {
                if let Some(a) = function_args(f).first() {
                    return json_base(a);
                }
            }
            JsonBase::Other
        }
        Expr::Subquery(q) => match q.body.as_ref() {
            // `( SELECT users.raw_user_meta_data FROM auth.users WHERE ...) ->> 'org_id'`
            SetExpr::Select(s) if s.projection.len() == 1 => match &s.projection[0] {
                SelectItem::UnnamedExpr(x) | SelectItem::ExprWithAlias { expr: x, .. } => {
                    json_base(x)
                }
                _ => JsonBase::Other,
            },
            _ => JsonBase::Other,
        },
        Expr::Identifier(i) => column_base(&ident_name(i)),
        Expr::CompoundIdentifier(p) => p
            .last()
            .map(|i| column_base(&ident_name(i)))
            .unwrap_or(JsonBase::Other),
        _ => JsonBase::Other,
    }
}

fn column_base(name: &str) -> JsonBase {
    if name == "raw_user_meta_data" || name == "user_metadata" {
        JsonBase::UserMetadataColumn
    } else {
        JsonBase::Other
    }
}

fn is_json_op(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Arrow
            | BinaryOperator::LongArrow
            | BinaryOperator::HashArrow
            | BinaryOperator::HashLongArrow
    )
}

/// Keys of one JSON step: `'org_id'` → `["org_id"]`, `'{app_metadata,org_id}'` (for `#>`) →
/// `["app_metadata", "org_id"]`.
fn json_keys(op: &BinaryOperator, right: &Expr) -> Option<Vec<String>> {
    let s = string_literal(right)?;
    match op {
        BinaryOperator::HashArrow | BinaryOperator::HashLongArrow => {
            let inner = s.trim().strip_prefix('{')?.strip_suffix('}')?;
            Some(
                inner
                    .split(',')
                    .map(|k| k.trim().trim_matches('"').to_string())
                    .filter(|k| !k.is_empty())
                    .collect(),
            )
        }
        _ => Some(vec![s.to_string()]),
    }
}

/// A JSON access chain: its base and key path, plus the inner chain nodes.
fn json_chain(e: &Expr) -> Option<(&Expr, Vec<String>, Vec<*const Expr>)> {
    let mut steps: Vec<Vec<String>> = vec![];
    let mut inner = vec![];
    let mut cur = e;
    let mut first = true;
    loop {
        match cur {
            Expr::BinaryOp { left, op, right } if is_json_op(op) => {
                if !first {
                    inner.push(cur as *const Expr);
                }
                first = false;
                steps.push(json_keys(op, right)?);
                cur = left;
            }
            Expr::Nested(x) | Expr::Cast { expr: x, .. } if !first => {
                inner.push(cur as *const Expr);
                cur = x;
            }
            _ if first => return None,
            _ => break,
        }
    }
    steps.reverse();
    Some((cur, steps.into_iter().flatten().collect(), inner))
}

/// A claim read by `current_setting('request.jwt.claim.org_id', true)` (PostgREST before 9).
fn setting_claim(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::Function(f) => setting_claim_fn(f),
        _ => None,
    }
}

fn setting_claim_fn(f: &sqlparser::ast::Function) -> Option<Vec<String>> {
    let name = object_name(&f.name);
    if strip_pg_catalog(&name) != "current_setting" {
        return None;
    }
    let s = function_args(f).first().and_then(|a| string_literal(a))?;
    let key = s.strip_prefix("request.jwt.claim.")?;
    Some(key.split('.').map(str::to_string).collect())
}

/// The first JWT claim read anywhere in `e`.
fn first_claim(e: &Expr) -> Option<Vec<String>> {
    struct F(Option<Vec<String>>);
    impl Visitor for F {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if let Some((base, path, _)) = json_chain(e) {
                if matches!(json_base(base), JsonBase::Jwt) && !path.is_empty() {
                    self.0 = Some(path);
                    return ControlFlow::Break(());
                }
            }
            if let Some(path) = setting_claim(e) {
                self.0 = Some(path);
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut f = F(None);
    let _ = e.visit(&mut f);
    f.0
}

// ---------------------------------------------------------------------------------------------
// The fact-collecting walk.

struct Walker<'e> {
    r: Resolver<'e, 'static>,
    facts: ExprFacts,
    /// Inner nodes of JSON chains already read as a whole.
    skip: HashSet<*const Expr>,
}

impl<'e> Walker<'e> {
    fn new(env: &'e ExprEnv<'e>) -> Self {
        Walker {
            r: Resolver {
                env,
                outer: &[],
                scopes: vec![],
            },
            facts: ExprFacts::default(),
            skip: HashSet::new(),
        }
    }

    /// Is an expression at the current position evaluated for every row of the policy's table?
    fn per_row(&self) -> bool {
        self.r.scopes.last().is_none_or(|s| s.correlated)
    }

    fn compare(&mut self, column_side: &Expr, other: &Expr) {
        let Some(column) = self.r.own_column(column_side) else {
            return;
        };
        if self.r.own_column(other).is_some() {
            self.facts.comparisons.push(ColumnComparison {
                column,
                against: Against::Other,
            });
            return;
        }
        let against = self.against(other);
        self.facts
            .comparisons
            .push(ColumnComparison { column, against });
    }

    fn against(&self, e: &Expr) -> Against {
        if let Some(depth) = self.r.inner_column(e) {
            return Against::Subquery {
                tables: self
                    .r
                    .scope_at(depth)
                    .bindings
                    .iter()
                    .filter(|b| !b.table.is_empty())
                    .map(|b| b.table.clone())
                    .collect(),
            };
        }
        let tables = tables_of_subqueries(e);
        if !tables.is_empty() {
            return Against::Subquery { tables };
        }
        if let Some(path) = first_claim(e) {
            return Against::Claim { path };
        }
        if let Some(name) = self.first_source_function(e) {
            return Against::Function { name };
        }
        if is_literal(e) {
            return Against::Literal;
        }
        Against::Other
    }

    /// The first call in `e` that can say who the caller is: a project or auth function, or
    /// `current_setting`.
    fn first_source_function(&self, e: &Expr) -> Option<String> {
        struct F<'a, 'e>(&'a Resolver<'e, 'static>, Option<String>);
        impl Visitor for F<'_, '_> {
            type Break = ();
            fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
                if let Expr::Function(f) = e {
                    if matches!(f.args, FunctionArguments::None) {
                        return ControlFlow::Continue(());
                    }
                    let name = object_name(&f.name);
                    if strip_pg_catalog(&name) == "current_setting"
                        || self.0.is_user_function(&name)
                    {
                        self.1 = Some(strip_pg_catalog(&name).to_string());
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            }
        }
        let mut f = F(&self.r, None);
        let _ = e.visit(&mut f);
        f.1
    }

    fn function(&mut self, f: &sqlparser::ast::Function) {
        if matches!(f.args, FunctionArguments::None) {
            // CURRENT_USER, CURRENT_TIMESTAMP: SQL keywords, not calls.
            return;
        }
        let name = object_name(&f.name);
        if name == "array" && matches!(f.args, FunctionArguments::Subquery(_)) {
            return;
        }
        let bare = strip_pg_catalog(&name).to_string();
        self.facts.functions.push(bare.clone());
        let args = function_args(f);
        if bare == "current_setting" {
            if let Some(s) = args.first().and_then(|a| string_literal(a)) {
                self.facts.settings.push(s.to_string());
            }
        }
        if let Some(path) = setting_claim_fn(f) {
            self.push_claim(path);
        }
        let row_free = args.iter().all(|a| !self.r.refers_to_row(*a));
        if self.per_row() && row_free && (is_auth_call(&bare) || self.r.is_user_function(&bare)) {
            if is_auth_call(&bare) {
                self.facts.per_row_calls.push(bare.clone());
            }
            self.facts.per_row_functions.push(bare.clone());
        }
        // A helper the row's column is passed to: `is_org_member(org_id)`.
        if !is_auth_call(&bare) && self.r.is_user_function(&bare) {
            for a in &args {
                if let Some(column) = self.r.own_column(a) {
                    self.facts.comparisons.push(ColumnComparison {
                        column,
                        against: Against::Function { name: bare.clone() },
                    });
                }
            }
        }
    }

    fn push_claim(&mut self, path: Vec<String>) {
        if path.is_empty() {
            return;
        }
        let user_metadata = path[0] == "user_metadata";
        self.facts.claims.push(ClaimRead {
            path,
            user_metadata,
        });
    }
}

/// Tables in the FROM of the sub-queries of `e` (not descending into their own sub-queries).
fn tables_of_subqueries(e: &Expr) -> Vec<String> {
    struct F(Vec<String>, usize);
    impl Visitor for F {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            self.1 += 1;
            if self.1 == 1 {
                for b in query_bindings(q) {
                    if !b.table.is_empty() && !self.0.contains(&b.table) {
                        self.0.push(b.table);
                    }
                }
            }
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _q: &Query) -> ControlFlow<()> {
            self.1 -= 1;
            ControlFlow::Continue(())
        }
    }
    let mut f = F(vec![], 0);
    let _ = e.visit(&mut f);
    f.0
}

impl Visitor for Walker<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        let bindings = query_bindings(q);
        for b in &bindings {
            if !b.table.is_empty() {
                self.facts.subquery_tables.push(b.table.clone());
            }
        }
        // Correlated when anything in it refers to the policy's row; checked with the scopes
        // outside this query (the finder pushes this query's own scope as it enters it).
        let correlated = self.r.refers_to_row(q);
        self.r.scopes.push(Scope {
            bindings,
            correlated,
        });
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _q: &Query) -> ControlFlow<()> {
        self.r.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        let ptr = e as *const Expr;
        match e {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                if let Some(Ref::Own(c)) = self.r.resolve_expr(e) {
                    self.facts.columns.push(c);
                }
            }
            Expr::Function(f) => self.function(f),
            Expr::BinaryOp { left, op, right } => {
                if is_json_op(op) && !self.skip.contains(&ptr) {
                    if let Some((base, path, inner)) = json_chain(e) {
                        self.skip.extend(inner);
                        match json_base(base) {
                            JsonBase::Jwt => self.push_claim(path),
                            JsonBase::UserMetadataColumn => self.facts.reads_user_metadata = true,
                            JsonBase::Other => {}
                        }
                    }
                }
                if *op == BinaryOperator::Eq {
                    self.compare(left, right);
                    self.compare(right, left);
                }
            }
            Expr::IsNotDistinctFrom(a, b) => {
                self.compare(a, b);
                self.compare(b, a);
            }
            Expr::AnyOp {
                left,
                compare_op: BinaryOperator::Eq,
                right,
                ..
            } => self.compare(left, right),
            Expr::InList {
                expr,
                list,
                negated: false,
            } => {
                if let Some(column) = self.r.own_column(expr) {
                    let against = if list.iter().all(is_literal) {
                        Against::Literal
                    } else {
                        list.iter()
                            .find(|x| !is_literal(x))
                            .map(|x| self.against(x))
                            .unwrap_or(Against::Other)
                    };
                    self.facts
                        .comparisons
                        .push(ColumnComparison { column, against });
                }
            }
            Expr::InSubquery {
                expr,
                subquery,
                negated: false,
            } => {
                if let Some(column) = self.r.own_column(expr) {
                    let tables: Vec<String> = query_bindings(subquery)
                        .into_iter()
                        .filter(|b| !b.table.is_empty())
                        .map(|b| b.table)
                        .collect();
                    let against = if !tables.is_empty() {
                        Against::Subquery { tables }
                    } else if let Some(item) = scalar_query_item(subquery) {
                        self.against(item)
                    } else {
                        Against::Other
                    };
                    self.facts
                        .comparisons
                        .push(ColumnComparison { column, against });
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

// ---------------------------------------------------------------------------------------------
// The gate: how the boolean expression lets rows through.

struct Cx<'e> {
    env: &'e ExprEnv<'e>,
}

/// What identifies the caller: `auth.uid()`, `auth.jwt()`, `auth.email()`, the `sub` claim.
fn is_identity(e: &Expr) -> bool {
    let e = unwrap_select(e);
    match e {
        Expr::Function(f) => {
            let name = object_name(&f.name);
            if matches!(name.as_str(), "auth.uid" | "auth.jwt" | "auth.email") {
                return true;
            }
            if let Some(path) = setting_claim(e) {
                return path == ["sub"] || path == ["email"];
            }
            if strip_pg_catalog(&name) == "current_setting" {
                return function_args(f)
                    .first()
                    .and_then(|a| string_literal(a))
                    .is_some_and(|s| s == "request.jwt.claims");
            }
            false
        }
        Expr::BinaryOp { op, .. } if is_json_op(op) => match json_chain(e) {
            Some((base, path, _)) => {
                matches!(json_base(base), JsonBase::Jwt) && (path == ["sub"] || path == ["email"])
            }
            None => false,
        },
        _ => false,
    }
}

/// What names the caller's database role: `auth.role()`, the `role` claim, `CURRENT_USER`.
fn is_role_expr(e: &Expr, r: &Resolver<'_, '_>) -> bool {
    let e = unwrap_select(e);
    match e {
        Expr::Function(f) => {
            let name = object_name(&f.name);
            if name == "auth.role" {
                return true;
            }
            if matches!(f.args, FunctionArguments::None) {
                return ROLE_KEYWORDS.contains(&name.as_str());
            }
            setting_claim(e).is_some_and(|p| p == ["role"])
        }
        Expr::Identifier(_) => r.resolve_expr(e) == Some(Ref::RoleKeyword),
        Expr::BinaryOp { op, .. } if is_json_op(op) => match json_chain(e) {
            Some((base, path, _)) => matches!(json_base(base), JsonBase::Jwt) && path == ["role"],
            None => false,
        },
        _ => false,
    }
}

const API_ROLE_NAMES: &[&str] = &["anon", "authenticated"];

fn combine_and(a: Gate, b: Gate) -> Gate {
    use Gate::*;
    let rank = |g: Gate| match g {
        Unknown => 5,
        Deny => 4,
        Rows => 3,
        Caller => 2,
        SignedIn => 1,
        AlwaysTrue => 0,
    };
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}

fn combine_or(a: Gate, b: Gate) -> Gate {
    use Gate::*;
    let rank = |g: Gate| match g {
        Unknown => 5,
        AlwaysTrue => 4,
        SignedIn => 3,
        Rows => 2,
        Caller => 1,
        Deny => 0,
    };
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}

impl Cx<'_> {
    fn resolver(&self) -> Resolver<'_, 'static> {
        Resolver {
            env: self.env,
            outer: &[],
            scopes: vec![],
        }
    }

    fn gate(&self, e: &Expr) -> Gate {
        let r = self.resolver();
        match e {
            Expr::Nested(x) => self.gate(x),
            Expr::Value(v) => match v.value {
                Value::Boolean(true) => Gate::AlwaysTrue,
                Value::Boolean(false) | Value::Null => Gate::Deny,
                _ => Gate::Caller,
            },
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => combine_and(self.gate(left), self.gate(right)),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Or,
                right,
            } => combine_or(self.gate(left), self.gate(right)),
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => match unwrap(expr) {
                Expr::IsNull(x) if is_identity(x) => Gate::SignedIn,
                Expr::IsNotNull(x) if is_identity(x) => Gate::Caller,
                inner => match self.gate(inner) {
                    Gate::AlwaysTrue => Gate::Deny,
                    Gate::Deny => Gate::AlwaysTrue,
                    Gate::SignedIn => Gate::Caller,
                    g => g,
                },
            },
            Expr::IsNotNull(x) if is_identity(x) => Gate::SignedIn,
            Expr::IsNull(x) if is_identity(x) => Gate::Caller,
            Expr::IsTrue(x) | Expr::IsNotFalse(x) => self.gate(x),
            Expr::BinaryOp { left, op, right }
                if matches!(op, BinaryOperator::Eq | BinaryOperator::NotEq) =>
            {
                let eq = *op == BinaryOperator::Eq;
                if let Some(g) = self.role_gate(left, right, eq, &r) {
                    return g;
                }
                if is_literal(left) && is_literal(right) {
                    let same = unwrap(left).to_string() == unwrap(right).to_string();
                    return if same == eq {
                        Gate::AlwaysTrue
                    } else {
                        Gate::Deny
                    };
                }
                self.leaf(e)
            }
            Expr::AnyOp {
                left,
                compare_op: BinaryOperator::Eq,
                right,
                ..
            } => self
                .role_gate(left, right, true, &r)
                .unwrap_or_else(|| self.leaf(e)),
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                if is_role_expr(expr, &r) && list.iter().all(|x| string_literal(x).is_some()) {
                    let names: Vec<&str> = list.iter().filter_map(string_literal).collect();
                    return role_names_gate(&names, !negated);
                }
                self.leaf(e)
            }
            _ => self.leaf(e),
        }
    }

    /// `auth.role() = 'authenticated'` and friends.
    fn role_gate(&self, left: &Expr, right: &Expr, eq: bool, r: &Resolver<'_, '_>) -> Option<Gate> {
        let other = if is_role_expr(left, r) {
            right
        } else if is_role_expr(right, r) {
            left
        } else {
            return None;
        };
        let names: Vec<&str> = match unwrap(other) {
            Expr::Array(a) => a.elem.iter().filter_map(string_literal).collect(),
            x => string_literal(x).into_iter().collect(),
        };
        if names.is_empty() {
            return None;
        }
        Some(role_names_gate(&names, eq))
    }

    /// Anything else: rows when it reads the row, else a property of the caller.
    fn leaf(&self, e: &Expr) -> Gate {
        if self.resolver().refers_to_row(e) {
            Gate::Rows
        } else {
            Gate::Caller
        }
    }

    /// Does the top-level OR have a disjunct true for anonymous callers
    /// (`auth.uid() IS NULL`)?
    fn null_auth_disjunct(&self, e: &Expr) -> bool {
        match e {
            Expr::Nested(x) => self.null_auth_disjunct(x),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Or,
                right,
            } => self.null_auth_disjunct(left) || self.null_auth_disjunct(right),
            Expr::IsNull(x) => is_identity(x),
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => matches!(unwrap(expr), Expr::IsNotNull(x) if is_identity(x)),
            _ => false,
        }
    }
}

/// The gate of "the caller's role is (not) one of `names`".
fn role_names_gate(names: &[&str], eq: bool) -> Gate {
    let api = names.iter().filter(|n| API_ROLE_NAMES.contains(n)).count();
    if eq {
        if api == 0 {
            Gate::Deny
        } else {
            Gate::SignedIn
        }
    } else if api == 0 {
        // `auth.role() <> 'service_role'`: every API caller.
        Gate::SignedIn
    } else if names.contains(&"anon") && !names.contains(&"authenticated") {
        Gate::SignedIn
    } else {
        Gate::Caller
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(e: &str) -> ExprFacts {
        analyse_expr(e, &[])
    }

    fn in_table(e: &str, table: &str) -> ExprFacts {
        analyse_expr_in(
            e,
            &ExprEnv {
                table: Some(table),
                columns: &[],
                has_column: None,
                user_functions: None,
            },
        )
    }

    fn cmp(column: &str, against: Against) -> ColumnComparison {
        ColumnComparison {
            column: column.into(),
            against,
        }
    }

    #[test]
    fn always_true_shapes() {
        for e in [
            "true",
            "(true)",
            "(1 = 1)",
            "('a'::text = 'a'::text)",
            "(true OR (org_id = x()))",
        ] {
            let f = facts(e);
            assert!(f.parsed, "{e}");
            assert!(f.always_true, "{e}: {:?}", f.gate);
        }
        for e in ["false", "(1 = 2)", "(org_id = current_company_id())"] {
            assert!(!facts(e).always_true, "{e}");
        }
    }

    #[test]
    fn helper_function_comparison_as_postgres_prints_it() {
        let f = facts("(company_id = current_company_id())");
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "company_id",
                Against::Function {
                    name: "current_company_id".into()
                }
            )]
        );
        assert_eq!(f.functions, vec!["current_company_id"]);
        assert_eq!(f.columns, vec!["company_id"]);
        assert_eq!(f.gate, Gate::Rows);
        // Called per row: a helper, not an auth call.
        assert!(f.per_row_calls.is_empty());
        assert_eq!(f.per_row_functions, vec!["current_company_id"]);
    }

    #[test]
    fn jwt_claim_comparison() {
        let f = facts("(org_id = ((auth.jwt() ->> 'organization_id'::text))::uuid)");
        assert_eq!(
            f.claims,
            vec![ClaimRead {
                path: vec!["organization_id".into()],
                user_metadata: false
            }]
        );
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "org_id",
                Against::Claim {
                    path: vec!["organization_id".into()]
                }
            )]
        );
        assert_eq!(f.per_row_calls, vec!["auth.jwt"]);
        assert!(!f.reads_user_metadata);
    }

    #[test]
    fn nested_claim_path_and_user_metadata() {
        let f = facts(
            "(org_id = (((auth.jwt() -> 'user_metadata'::text) ->> 'organization_id'::text))::uuid)",
        );
        assert_eq!(
            f.claims,
            vec![ClaimRead {
                path: vec!["user_metadata".into(), "organization_id".into()],
                user_metadata: true
            }]
        );
        assert!(f.reads_user_metadata);
        let f =
            facts("(org_id = (((auth.jwt() -> 'app_metadata'::text) ->> 'org_id'::text))::uuid)");
        assert_eq!(f.claims[0].key(), "app_metadata.org_id");
        assert!(!f.reads_user_metadata);
    }

    #[test]
    fn claims_from_current_setting_and_hash_paths() {
        let f = facts(
            "(org_id = (((current_setting('request.jwt.claims'::text, true))::json ->> 'org_id'::text))::uuid)",
        );
        assert_eq!(f.claims[0].path, vec!["org_id"]);
        assert_eq!(f.settings, vec!["request.jwt.claims"]);
        assert_eq!(f.per_row_calls, vec!["current_setting"]);
        let f = facts("(org_id = (current_setting('request.jwt.claim.org_id'::text, true))::uuid)");
        assert_eq!(f.claims[0].path, vec!["org_id"]);
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "org_id",
                Against::Claim {
                    path: vec!["org_id".into()]
                }
            )]
        );
        let f = facts("((auth.jwt() #>> '{app_metadata,org_id}'::text[]) = (org_id)::text)");
        assert_eq!(f.claims[0].path, vec!["app_metadata", "org_id"]);
        assert_eq!(f.comparisons[0].column, "org_id");
    }

    #[test]
    fn app_setting_is_a_function_source() {
        let f = facts("((current_setting('app.tenant_id'::text))::uuid = org_id)");
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "org_id",
                Against::Function {
                    name: "current_setting".into()
                }
            )]
        );
        assert_eq!(f.settings, vec!["app.tenant_id"]);
        assert!(f.claims.is_empty());
    }

    #[test]
    fn wrapped_auth_call_is_evaluated_once() {
        let f = facts("(user_id = ( SELECT auth.uid() AS uid))");
        assert!(f.per_row_calls.is_empty(), "{:?}", f.per_row_calls);
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "user_id",
                Against::Function {
                    name: "auth.uid".into()
                }
            )]
        );
        let f = facts("(org_id = ( SELECT auth_org_id() AS auth_org_id))");
        assert!(f.per_row_functions.is_empty());
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "org_id",
                Against::Function {
                    name: "auth_org_id".into()
                }
            )]
        );
        let f = facts("(user_id = auth.uid())");
        assert_eq!(f.per_row_calls, vec!["auth.uid"]);
        let f = facts(
            "(((( SELECT auth.jwt() AS jwt) -> 'app_metadata'::text) ->> 'org_id'::text) = (org_id)::text)",
        );
        assert!(f.per_row_calls.is_empty());
        assert_eq!(f.claims[0].path, vec!["app_metadata", "org_id"]);
    }

    #[test]
    fn uncorrelated_membership_subquery() {
        let f = in_table(
            "(org_id IN ( SELECT members.org_id\n   FROM members\n  WHERE (members.user_id = auth.uid())))",
            "docs",
        );
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "org_id",
                Against::Subquery {
                    tables: vec!["members".into()]
                }
            )]
        );
        assert_eq!(f.subquery_tables, vec!["members"]);
        // A hashed sub-plan: run once, not per row.
        assert!(f.per_row_calls.is_empty());
        assert_eq!(f.gate, Gate::Rows);
        assert_eq!(f.columns, vec!["org_id"]);
    }

    #[test]
    fn correlated_exists_constrains_the_parent_reference() {
        let f = in_table(
            "(EXISTS ( SELECT 1\n   FROM ai_conversations c\n  WHERE ((c.id = ai_messages.conversation_id) AND (c.user_id = ( SELECT auth.uid() AS uid)))))",
            "ai_messages",
        );
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "conversation_id",
                Against::Subquery {
                    tables: vec!["ai_conversations".into()]
                }
            )]
        );
        assert_eq!(f.columns, vec!["conversation_id"]);
        assert_eq!(f.gate, Gate::Rows);
        assert!(f.per_row_calls.is_empty());
        // Unwrapped inside a correlated sub-query: per row.
        let f = in_table(
            "(EXISTS ( SELECT 1\n   FROM members m\n  WHERE ((m.org_id = docs.org_id) AND (m.user_id = auth.uid()))))",
            "docs",
        );
        assert_eq!(f.per_row_calls, vec!["auth.uid"]);
    }

    #[test]
    fn exists_that_never_refers_to_the_row_is_a_caller_check() {
        // The classic mistake: unqualified org_id inside the sub-query is members.org_id.
        let f = in_table(
            "(EXISTS ( SELECT 1\n   FROM members\n  WHERE ((members.user_id = auth.uid()) AND (members.org_id = members.org_id))))",
            "docs",
        );
        assert!(f.comparisons.is_empty(), "{:?}", f.comparisons);
        assert!(f.columns.is_empty());
        assert_eq!(f.gate, Gate::Caller);
        assert!(f.per_row_calls.is_empty());
    }

    #[test]
    fn signin_only_shapes() {
        for e in [
            "(auth.uid() IS NOT NULL)",
            "(( SELECT auth.uid() AS uid) IS NOT NULL)",
            "(auth.role() = 'authenticated'::text)",
            "((auth.jwt() ->> 'role'::text) = 'authenticated'::text)",
            "(CURRENT_USER = 'authenticated'::name)",
            "(auth.role() = ANY (ARRAY['authenticated'::text, 'anon'::text]))",
            "((auth.uid() IS NOT NULL) AND (auth.role() = 'authenticated'::text))",
            "((org_id = current_company_id()) OR (auth.uid() IS NOT NULL))",
            "(NOT (auth.uid() IS NULL))",
        ] {
            let f = facts(e);
            assert!(f.only_checks_signin, "{e}: {:?}", f.gate);
            assert!(!f.always_true, "{e}");
        }
        for e in [
            "((org_id = current_company_id()) AND (auth.uid() IS NOT NULL))",
            "((auth.jwt() ->> 'role'::text) = 'service_role'::text)",
            "(user_id = auth.uid())",
        ] {
            assert!(!facts(e).only_checks_signin, "{e}");
        }
        assert_eq!(
            facts("((auth.jwt() ->> 'role'::text) = 'service_role'::text)").gate,
            Gate::Deny
        );
    }

    #[test]
    fn caller_checks_and_row_checks() {
        assert_eq!(facts("is_admin()").gate, Gate::Caller);
        assert_eq!(
            facts("((owner_id = auth.uid()) OR is_public)").gate,
            Gate::Rows
        );
        assert_eq!(facts("(status = 'open'::text)").gate, Gate::Rows);
        let f = facts("is_member(org_id)");
        assert_eq!(f.gate, Gate::Rows);
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "org_id",
                Against::Function {
                    name: "is_member".into()
                }
            )]
        );
        assert!(
            f.per_row_functions.is_empty(),
            "row-dependent arguments cannot be hoisted"
        );
    }

    #[test]
    fn null_auth_disjunct() {
        let f = facts(
            "((auth.uid() IS NULL) OR (org_id = (((auth.jwt() -> 'app_metadata'::text) ->> 'org_id'::text))::uuid))",
        );
        assert!(f.null_auth_disjunct);
        assert_eq!(f.gate, Gate::Rows);
        assert!(!facts("((user_id IS NULL) OR (user_id = auth.uid()))").null_auth_disjunct);
        assert!(
            !facts("((auth.uid() IS NOT NULL) AND (org_id = current_company_id()))")
                .null_auth_disjunct
        );
    }

    #[test]
    fn any_array_subquery_and_literal_lists() {
        let f = facts("(org_id = ANY (ARRAY( SELECT my_orgs() AS my_orgs)))");
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "org_id",
                Against::Function {
                    name: "my_orgs".into()
                }
            )]
        );
        assert!(f.per_row_functions.is_empty());
        let f = facts("(status = ANY (ARRAY['a'::text, 'b'::text]))");
        assert_eq!(f.comparisons, vec![cmp("status", Against::Literal)]);
        let f = facts("(org_id IN ( SELECT my_orgs() AS my_orgs))");
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "org_id",
                Against::Function {
                    name: "my_orgs".into()
                }
            )]
        );
    }

    #[test]
    fn user_metadata_from_auth_users() {
        let f = in_table(
            "(org_id = ((( SELECT users.raw_user_meta_data\n   FROM auth.users\n  WHERE (users.id = auth.uid())) ->> 'org_id'::text))::uuid)",
            "docs",
        );
        assert!(f.reads_user_metadata);
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "org_id",
                Against::Subquery {
                    tables: vec!["auth.users".into()]
                }
            )]
        );
        assert_eq!(f.subquery_tables, vec!["auth.users"]);
    }

    #[test]
    fn unparsable_text_claims_nothing() {
        let f = facts("(org_id = ??? user_metadata");
        assert!(!f.parsed);
        assert!(!f.always_true && !f.only_checks_signin);
        assert_eq!(f.gate, Gate::Unknown);
        assert!(f.reads_user_metadata);
    }

    #[test]
    fn lower_and_coalesce_pass_the_column_through() {
        let f = facts("(lower(email) = lower(auth.email()))");
        assert_eq!(
            f.comparisons,
            vec![cmp(
                "email",
                Against::Function {
                    name: "auth.email".into()
                }
            )]
        );
        let f = facts(
            "(org_id = (COALESCE(((auth.jwt() -> 'user_metadata'::text) ->> 'org'::text), ''::text))::uuid)",
        );
        assert!(f.reads_user_metadata);
        assert_eq!(
            f.comparisons[0].against,
            Against::Claim {
                path: vec!["user_metadata".into(), "org".into()]
            }
        );
    }

    #[test]
    fn sql_body_claims() {
        let b = analyse_sql_body(
            "\n  select nullif((select auth.jwt()) -> 'app_metadata' ->> 'org_id', '')::uuid\n",
        )
        .unwrap();
        assert_eq!(b.claims[0].path, vec!["app_metadata", "org_id"]);
        let b = analyse_sql_body("\n  select company_id from public.users where id = auth.uid()\n")
            .unwrap();
        assert_eq!(b.tables, vec!["public.users"]);
        assert!(b.functions.contains(&"auth.uid".to_string()));
    }

    #[test]
    fn wrapping_rewrites_only_unwrapped_calls() {
        let out = wrap_calls_in_select(
            "((user_id = auth.uid()) OR (owner_id = ( SELECT auth.uid() AS uid)))",
            &["auth.uid".into()],
        )
        .unwrap();
        assert_eq!(out.matches("SELECT auth.uid()").count(), 2, "{out}");
        assert!(!out.contains("(SELECT (SELECT"), "{out}");
        let f = facts(&out);
        assert!(f.per_row_calls.is_empty(), "{out}");
        assert_eq!(
            wrap_calls_in_select(
                "(org_id = ( SELECT auth_org_id() AS x))",
                &["auth_org_id".into()]
            ),
            None
        );
        let out = wrap_calls_in_select(
            "(company_id = current_company_id())",
            &["public.current_company_id".into()],
        )
        .unwrap();
        assert_eq!(out, "(company_id = (SELECT current_company_id()))");
    }

    #[test]
    fn wrapping_keeps_the_text_and_skips_row_arguments() {
        let out = wrap_calls_in_select(
            "(org_id = (((current_setting('request.jwt.claims'::text, true))::json ->> 'org_id'::text))::uuid)",
            &["current_setting".into()],
        )
        .unwrap();
        assert_eq!(
            out,
            "(org_id = ((((SELECT current_setting('request.jwt.claims'::text, true)))::json ->> 'org_id'::text))::uuid)"
        );
        assert!(facts(&out).per_row_calls.is_empty());
        assert_eq!(
            wrap_calls_in_select("is_member(org_id)", &["is_member".into()]),
            None
        );
        assert_eq!(
            wrap_calls_in_select("(x = 'auth.uid()')", &["auth.uid".into()]),
            None,
            "string literals are not code"
        );
        let out = wrap_calls_in_select(
            "(EXISTS ( SELECT 1\n   FROM members m\n  WHERE ((m.org_id = docs.org_id) AND (m.user_id = auth.uid()))))",
            &["auth.uid".into()],
        )
        .unwrap();
        assert!(out.contains("(m.user_id = (SELECT auth.uid()))"), "{out}");
        assert!(in_table(&out, "docs").per_row_calls.is_empty());
    }

    #[test]
    fn deep_conjunctions_parse() {
        let mut e = String::from("(a = 1)");
        for i in 0..120 {
            e = format!("({e} AND (c{i} = current_company_id()))");
        }
        assert!(facts(&e).parsed);
    }
}

#[cfg(test)]
mod perf {
    /// `cargo test --release -p dbaudit-rules policy_speed -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn policy_speed() {
        let shapes = [
            "(company_id = current_company_id())",
            "(org_id = ((auth.jwt() ->> 'organization_id'::text))::uuid)",
            "((user_id = ( SELECT auth.uid() AS uid)) AND (company_id = current_company_id()))",
            "(EXISTS ( SELECT 1\n   FROM ai_conversations c\n  WHERE ((c.id = ai_messages.conversation_id) AND (c.user_id = ( SELECT auth.uid() AS uid)))))",
            "(org_id IN ( SELECT m.org_id\n   FROM (members m\n     JOIN orgs o ON ((o.id = m.org_id)))\n  WHERE (m.user_id = ( SELECT auth.uid() AS uid))))",
        ];
        let t = std::time::Instant::now();
        let mut n = 0;
        for i in 0..20_000 {
            let f = super::analyse_expr(shapes[i % shapes.len()], &["company_id", "org_id"]);
            n += f.comparisons.len();
        }
        eprintln!("20000 expressions: {:?} ({n})", t.elapsed());
        let t = std::time::Instant::now();
        for i in 0..20_000 {
            n += super::parse_expr(shapes[i % shapes.len()]).is_some() as usize;
        }
        eprintln!("20000 parses: {:?} ({n})", t.elapsed());
    }

    /// 10,000 policies, every expression distinct, through `PolicyAnalysis` and every RLS rule.
    #[test]
    #[ignore]
    fn ten_thousand_distinct_policies() {
        use dbaudit_catalog::builder::CatalogBuilder;
        use dbaudit_catalog::{CatalogIndex, PolicyCommand};
        let mut b = CatalogBuilder::supabase().table(
            "public.members",
            &["org_id uuid not null", "user_id uuid not null"],
        );
        for i in 0..5_000 {
            let t = format!("public.t{i}");
            b = b
                .table(&t, &["id uuid not null", "org_id uuid not null", "user_id uuid"])
                .supabase_grants(&t)
                .rls(&t, true)
                .policy(
                    &t,
                    "members",
                    PolicyCommand::Select,
                    &["authenticated"],
                    Some(&format!(
                        "(EXISTS ( SELECT 1\n   FROM members m\n  WHERE ((m.org_id = t{i}.org_id) AND (m.user_id = ( SELECT auth.uid() AS uid)))))"
                    )),
                    None,
                )
                .policy(
                    &t,
                    "own",
                    PolicyCommand::All,
                    &["authenticated"],
                    Some(&format!("((user_id = auth.uid()) AND (org_id = ((auth.jwt() ->> 'org_{i}'::text))::uuid))")),
                    Some(&format!("((user_id = auth.uid()) AND (org_id = ((auth.jwt() ->> 'org_{i}'::text))::uuid))")),
                );
        }
        let cat = b.build();
        let t = std::time::Instant::now();
        let ix = CatalogIndex::new(&cat);
        let pa = super::PolicyAnalysis::analyse(&ix);
        eprintln!(
            "PolicyAnalysis of {} policies: {:?}",
            cat.policies.len(),
            t.elapsed()
        );
        let t = std::time::Instant::now();
        let mut n = 0;
        for p in &cat.policies {
            n += super::parse_expr(p.using.as_deref().unwrap()).is_some() as usize;
        }
        eprintln!("parse of {n} USING texts, one thread: {:?}", t.elapsed());
        let t = std::time::Instant::now();
        for p in &cat.policies {
            let cols = ["id", "org_id", "user_id"];
            let env = super::ExprEnv {
                table: Some(&p.table_name),
                columns: &cols,
                has_column: None,
                user_functions: None,
            };
            n += super::analyse_expr_in(p.using.as_deref().unwrap(), &env)
                .comparisons
                .len();
            assert!(n > 0);
        }
        eprintln!(
            "analyse_expr_in of the USING texts, one thread: {:?}",
            t.elapsed()
        );
        assert!(pa.of(cat.policies[0].oid).is_some());

        // The synthetic benchmark's shapes: two texts shared by every table.
        let mut shared = cat.clone();
        for (i, p) in shared.policies.iter_mut().enumerate() {
            let e = if i % 2 == 0 {
                "(org_id IN ( SELECT m.org_id\n   FROM bench.memberships m\n  WHERE (m.user_id = ( SELECT auth.uid() AS uid))))"
            } else {
                "(org_id IN ( SELECT bench.user_org_ids() AS user_org_ids))"
            };
            p.using = Some(e.into());
            p.with_check = (i % 5 == 2).then(|| e.into());
        }
        let t = std::time::Instant::now();
        let ix = CatalogIndex::new(&shared);
        let _ = super::PolicyAnalysis::analyse(&ix);
        eprintln!(
            "PolicyAnalysis of {} policies, 2 texts: {:?}",
            shared.policies.len(),
            t.elapsed()
        );
        let settings = crate::Settings::default();
        let t = std::time::Instant::now();
        let ctx = crate::Context::new(&cat, &settings, &[]);
        eprintln!("Context::new: {:?}", t.elapsed());
        for r in crate::rules::rls::RULES {
            let t = std::time::Instant::now();
            let n = r.check(&ctx).len();
            eprintln!("{}: {n} findings in {:?}", r.meta().name, t.elapsed());
        }
    }
}
