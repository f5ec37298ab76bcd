//! The environment Supabase provides before a project's migrations run, and stand-ins for
//! extensions this machine's PostgreSQL lacks.
//!
//! [`env_sql`] builds, in an empty database and as a superuser, what a Supabase project has
//! before its first migration: the roles, the `auth`, `storage`, `realtime`, `vault`,
//! `graphql`, `supabase_functions` and `extensions` schemas with their tables and functions,
//! the grants and default privileges, and the `supabase_realtime` publication.
//!
//! [`standin`] gives SQL that provides an extension's schemas, types and function signatures
//! when the server has no such extension (`pg_net`, `pg_cron`, `vector`, ...). Every object a
//! stand-in creates carries the comment [`StandIn::comment`] so the catalog loader can leave
//! it out.

use dbaudit_catalog::quote_ident;
use std::sync::OnceLock;

use crate::layout::{LayoutKind, MigrationSet};

/// An extension replaced by SQL that provides its schemas, types and function signatures.
#[derive(Debug)]
pub struct StandIn {
    pub name: &'static str,
    /// Schema the extension installs into when `CREATE EXTENSION` names none. For extensions
    /// whose objects live in a schema of their own (`net`, `cron`, `vault`, `pgsodium`,
    /// `graphql`) that schema, which the SQL creates itself: it does not use `@extschema@`.
    pub default_schema: &'static str,
    /// SQL with `@extschema@` where the target schema goes; idempotent.
    pub sql: &'static str,
}

impl StandIn {
    /// The comment every object of this stand-in carries:
    /// `dbaudit stand-in for extension <name>`.
    pub fn comment(&self) -> String {
        format!("dbaudit stand-in for extension {}", self.name)
    }

    /// The SQL with `@extschema@` replaced by `schema`, quoted when it needs quotes (as
    /// PostgreSQL does for extension scripts).
    pub fn render(&self, schema: &str) -> String {
        self.sql.replace("@extschema@", &quote_ident(schema))
    }
}

static STANDINS: &[StandIn] = &[
    StandIn {
        name: "pg_net",
        default_schema: "net",
        sql: include_str!("standins/pg_net.sql"),
    },
    StandIn {
        name: "pg_cron",
        default_schema: "cron",
        sql: include_str!("standins/pg_cron.sql"),
    },
    StandIn {
        name: "pgjwt",
        default_schema: "public",
        sql: include_str!("standins/pgjwt.sql"),
    },
    StandIn {
        name: "pgsodium",
        default_schema: "pgsodium",
        sql: include_str!("standins/pgsodium.sql"),
    },
    StandIn {
        name: "supabase_vault",
        default_schema: "vault",
        sql: include_str!("standins/supabase_vault.sql"),
    },
    StandIn {
        name: "pg_jsonschema",
        default_schema: "public",
        sql: include_str!("standins/pg_jsonschema.sql"),
    },
    StandIn {
        name: "http",
        default_schema: "public",
        sql: include_str!("standins/http.sql"),
    },
    StandIn {
        name: "vector",
        default_schema: "public",
        sql: include_str!("standins/vector.sql"),
    },
    StandIn {
        name: "pg_graphql",
        default_schema: "graphql",
        sql: include_str!("standins/pg_graphql.sql"),
    },
];

/// Extensions every Supabase project has installed, with the schema they are in; the
/// environment includes their stand-ins (pg_net: database webhooks are on by default).
const ENV_EXTENSIONS: &[(&str, &str)] = &[
    ("supabase_vault", "vault"),
    ("pg_graphql", "graphql"),
    ("pg_net", "extensions"),
];

const ENV_SQL: &str = include_str!("env.sql");
const ENV_AFTER_EXTENSIONS_SQL: &str = include_str!("env_after_extensions.sql");

/// SQL that builds the Supabase environment in an empty database (idempotent).
pub fn env_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let mut sql = String::from(ENV_SQL);
        for (name, schema) in ENV_EXTENSIONS {
            if let Some(s) = standin(name) {
                sql.push_str(&format!(
                    "\n-- ---- {} (stand-in, in schema {}) ----\n",
                    s.name, schema
                ));
                sql.push_str(&s.render(schema));
            }
        }
        sql.push('\n');
        sql.push_str(ENV_AFTER_EXTENSIONS_SQL);
        sql
    })
}

/// The stand-in for an extension name, if we have one.
pub fn standin(extension: &str) -> Option<&'static StandIn> {
    STANDINS.iter().find(|s| s.name == extension)
}

/// The extensions there is a stand-in for.
pub fn standin_names() -> impl Iterator<Item = &'static str> {
    STANDINS.iter().map(|s| s.name)
}

/// Whether the migrations need the Supabase environment: a Supabase project, or SQL (outside
/// comments) that uses the `auth`, `storage`, `realtime` or `supabase_functions` schemas or
/// grants to the API roles `anon`, `authenticated`, `service_role`.
pub fn needed(set: &MigrationSet) -> bool {
    set.kind == LayoutKind::Supabase
        || set
            .files
            .iter()
            .chain(set.seeds.iter())
            .any(|f| sql_needs_supabase(&f.sql))
}

fn sql_needs_supabase(sql: &str) -> bool {
    static SCHEMA_REF: OnceLock<regex::Regex> = OnceLock::new();
    static ROLE_REF: OnceLock<regex::Regex> = OnceLock::new();
    let schema_ref = SCHEMA_REF.get_or_init(|| {
        regex::Regex::new(
            r#"(?i)(?:^|[^a-z0-9_$."])"?(?:auth|storage|realtime|supabase_functions)"?\s*\.\s*"?[a-z_]"#,
        )
        .expect("static regex")
    });
    let role_ref = ROLE_REF.get_or_init(|| {
        regex::Regex::new(
            r#"(?i)(?:\b(?:to|from|role)\s+(?:"?[a-z_][a-z0-9_$]*"?\s*,\s*)*|\bgrant\s+)"?(?:anon|authenticated|service_role)"?(?:[^a-z0-9_$]|$)"#,
        )
        .expect("static regex")
    });
    let without_comments = mask(sql, Mask::Comments);
    if schema_ref.is_match(&without_comments) {
        return true;
    }
    let code = mask(sql, Mask::CommentsAndStrings);
    role_ref.is_match(&code)
}

/// Rewrites `CREATE INDEX ... USING hnsw|ivfflat (...) WITH (...)` for the `vector` stand-in,
/// whose access methods accept no hnsw/ivfflat options (`m`, `ef_construction`, `lists`): the
/// `WITH (...)` clause is replaced by spaces (newlines kept), so every other statement, line
/// and column stays where it was. `None` when the SQL has no such clause.
pub fn strip_vector_index_options(sql: &str) -> Option<String> {
    let code = mask(sql, Mask::CommentsAndStrings);
    let bytes = code.as_bytes();
    let mut blank: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while let Some(at) = find_word(bytes, i, b"using") {
        i = at + 5;
        let mut j = skip_space(bytes, i);
        let (am_start, am_end) = match word_at(bytes, j) {
            Some(r) => r,
            None => continue,
        };
        let am = code[am_start..am_end]
            .trim_matches('"')
            .to_ascii_lowercase();
        if am != "hnsw" && am != "ivfflat" {
            continue;
        }
        j = skip_space(bytes, am_end);
        if bytes.get(j) != Some(&b'(') {
            continue;
        }
        let Some(close) = matching_paren(bytes, j) else {
            continue;
        };
        let k = skip_space(bytes, close + 1);
        let Some(with_end) = keyword_at(bytes, k, b"with") else {
            continue;
        };
        let p = skip_space(bytes, with_end);
        if bytes.get(p) != Some(&b'(') {
            continue;
        }
        let Some(opts_close) = matching_paren(bytes, p) else {
            continue;
        };
        blank.push((k, opts_close + 1));
        i = opts_close + 1;
    }
    if blank.is_empty() {
        return None;
    }
    let mut out = sql.as_bytes().to_vec();
    for (start, end) in blank {
        for b in &mut out[start..end] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    }
    // Whole characters were replaced by ASCII spaces: still UTF-8.
    String::from_utf8(out).ok()
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// The next occurrence of `word` (ASCII, case-insensitive) as a whole word at or after `from`.
fn find_word(bytes: &[u8], from: usize, word: &[u8]) -> Option<usize> {
    let mut i = from;
    while i + word.len() <= bytes.len() {
        if keyword_at(bytes, i, word).is_some() && (i == 0 || !is_ident_byte(bytes[i - 1])) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// End of `word` when it stands at `at` as a whole word.
fn keyword_at(bytes: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    let end = at + word.len();
    let w = bytes.get(at..end)?;
    if !w.eq_ignore_ascii_case(word) {
        return None;
    }
    if bytes.get(end).is_some_and(|&b| is_ident_byte(b)) {
        return None;
    }
    Some(end)
}

/// An identifier (bare or double-quoted) starting at `at`.
fn word_at(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    match bytes.get(at)? {
        b'"' => {
            let mut i = at + 1;
            while i < bytes.len() {
                if bytes[i] == b'"' {
                    if bytes.get(i + 1) == Some(&b'"') {
                        i += 2;
                        continue;
                    }
                    return Some((at, i + 1));
                }
                i += 1;
            }
            None
        }
        b if b.is_ascii_alphabetic() || *b == b'_' => {
            let mut i = at;
            while i < bytes.len() && is_ident_byte(bytes[i]) {
                i += 1;
            }
            Some((at, i))
        }
        _ => None,
    }
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The `)` closing the `(` at `open` (strings and comments are already masked).
fn matching_paren(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mask {
    /// Comments become spaces.
    Comments,
    /// Comments and single-quoted strings become spaces; dollar-quoted bodies (function
    /// bodies, DO blocks) stay, they are code.
    CommentsAndStrings,
}

/// `sql` with comments (and quoted strings) replaced by spaces, byte for byte, newlines kept.
fn mask(sql: &str, what: Mask) -> String {
    let b = sql.as_bytes();
    let mut out = b.to_vec();
    mask_range(b, &mut out, 0, b.len(), what);
    // Only whole comments/strings were overwritten, with ASCII spaces.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn blank_range(out: &mut [u8], from: usize, to: usize) {
    for x in &mut out[from..to] {
        if *x != b'\n' {
            *x = b' ';
        }
    }
}

/// Masks `b[from..to]` into `out`. Dollar-quoted bodies are lexed on their own, so a stray
/// quote inside one cannot run past its end.
fn mask_range(b: &[u8], out: &mut [u8], from: usize, to: usize, what: Mask) {
    let mut i = from;
    while i < to {
        match b[i] {
            b'-' if i + 1 < to && b[i + 1] == b'-' => {
                let end = b[i..to]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(to, |p| i + p);
                blank_range(out, i, end);
                i = end;
            }
            b'/' if i + 1 < to && b[i + 1] == b'*' => {
                let mut depth = 0usize;
                let mut j = i;
                while j < to {
                    if b[j] == b'/' && j + 1 < to && b[j + 1] == b'*' {
                        depth += 1;
                        j += 2;
                    } else if b[j] == b'*' && j + 1 < to && b[j + 1] == b'/' {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                let end = j.min(to);
                blank_range(out, i, end);
                i = end;
            }
            b'\'' => {
                let escapes = i > from
                    && (b[i - 1] == b'e' || b[i - 1] == b'E')
                    && (i < from + 2 || !is_ident_byte(b[i - 2]));
                let mut j = i + 1;
                while j < to {
                    if escapes && b[j] == b'\\' {
                        j += 2;
                        continue;
                    }
                    if b[j] == b'\'' {
                        if j + 1 < to && b[j + 1] == b'\'' {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                let end = (j + 1).min(to);
                if what == Mask::CommentsAndStrings {
                    blank_range(out, i, end);
                }
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < to {
                    if b[j] == b'"' {
                        if j + 1 < to && b[j + 1] == b'"' {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                i = (j + 1).min(to);
            }
            b'$' if i == from || !is_ident_byte(b[i - 1]) => {
                // $tag$ body $tag$: the body is code (function bodies, DO blocks).
                let mut j = i + 1;
                while j < to && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                let opens = j < to && b[j] == b'$' && !(i + 1 < to && b[i + 1].is_ascii_digit());
                if !opens {
                    i += 1;
                    continue;
                }
                let tag = &b[i..=j];
                let body = j + 1;
                let close = b[body..to]
                    .windows(tag.len())
                    .position(|w| w == tag)
                    .map(|p| body + p);
                match close {
                    Some(c) => {
                        mask_range(b, out, body, c, what);
                        i = c + tag.len();
                    }
                    None => {
                        mask_range(b, out, body, to, what);
                        i = to;
                    }
                }
            }
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{MigrationFile, TxMode};
    use std::path::PathBuf;

    fn set(kind: LayoutKind, sqls: &[&str]) -> MigrationSet {
        MigrationSet {
            kind,
            root: PathBuf::from("/x"),
            files: sqls
                .iter()
                .enumerate()
                .map(|(i, s)| MigrationFile {
                    path: PathBuf::from(format!("/x/{i}.sql")),
                    display: format!("{i}.sql"),
                    sql: s.to_string(),
                    first_line: 1,
                    transaction: TxMode::Auto,
                })
                .collect(),
            seeds: Vec::new(),
            skipped: Vec::new(),
        }
    }

    fn plain(sql: &str) -> bool {
        needed(&set(LayoutKind::Plain, &[sql]))
    }

    #[test]
    fn supabase_layout_always_needs_it() {
        assert!(needed(&set(
            LayoutKind::Supabase,
            &["create table t (id int);"]
        )));
        assert!(needed(&set(LayoutKind::Supabase, &[])));
    }

    #[test]
    fn schema_references_need_it() {
        assert!(plain("create table p (id uuid references auth.users(id));"));
        assert!(plain("create policy x on t using (auth.uid() = user_id);"));
        assert!(plain(
            "create table p (id uuid references \"auth\".\"users\"(id));"
        ));
        assert!(plain(
            "insert into storage.buckets (id, name) values ('a', 'a');"
        ));
        assert!(plain("alter publication supabase_realtime add table t; select realtime.send('{}', 'e', 't');"));
        assert!(plain(
            "create trigger h after insert on t for each row execute function supabase_functions.http_request('u','POST','{}','{}','1000');"
        ));
        assert!(plain(
            "create function f() returns uuid language sql as $$ select auth.uid() $$;"
        ));
        assert!(plain("select 'auth.users'::regclass;"));
    }

    #[test]
    fn role_references_need_it() {
        assert!(plain("grant select on t to anon;"));
        assert!(plain("grant select on t to postgres, authenticated;"));
        assert!(plain(
            "create policy p on t for select to authenticated using (true);"
        ));
        assert!(plain("revoke all on t from service_role;"));
        assert!(plain("set local role authenticated;"));
        assert!(plain("GRANT anon TO app;"));
    }

    #[test]
    fn comments_strings_and_lookalikes_do_not() {
        assert!(!plain("-- uses auth.users later\ncreate table t (id int);"));
        assert!(!plain(
            "/* grant select on t to anon; */ create table t (id int);"
        ));
        assert!(!plain(
            "create table t (authenticated boolean, anon_id int);"
        ));
        assert!(!plain(
            "create table oauth (id int); select oauth.id from oauth;"
        ));
        assert!(!plain("create table t (s text default 'to anon');"));
        assert!(!plain("select * from t join my_storage.files f on true;"));
        assert!(!plain("create table users (id int);"));
    }

    #[test]
    fn seeds_count_too() {
        let mut s = set(LayoutKind::Plain, &["create table t (id int);"]);
        assert!(!needed(&s));
        s.seeds = set(
            LayoutKind::Plain,
            &["insert into auth.users (id) values (gen_random_uuid());"],
        )
        .files;
        assert!(needed(&s));
    }

    #[test]
    fn standins_are_listed_and_render() {
        let names: Vec<&str> = standin_names().collect();
        for n in [
            "pg_net",
            "pg_cron",
            "pgjwt",
            "pgsodium",
            "supabase_vault",
            "pg_jsonschema",
            "http",
            "vector",
            "pg_graphql",
        ] {
            assert!(names.contains(&n), "{n}");
            let s = standin(n).unwrap();
            assert!(s.sql.contains(&s.comment()), "{n} comments its objects");
        }
        assert!(standin("postgis").is_none());
        let v = standin("vector").unwrap();
        assert!(!v.render("extensions").contains("@extschema@"));
        assert!(v.render("My Schema").contains("\"My Schema\".vector_in"));
        assert_eq!(quote_ident("extensions"), "extensions");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn env_sql_includes_the_default_extensions() {
        let sql = env_sql();
        assert!(sql.contains("CREATE TABLE IF NOT EXISTS auth.users"));
        assert!(sql.contains("dbaudit stand-in for extension supabase_vault"));
        assert!(sql.contains("CREATE OR REPLACE FUNCTION supabase_functions.http_request()"));
        assert!(!sql.contains("@extschema@"));
        // The same string every time.
        assert!(std::ptr::eq(sql, env_sql()));
    }

    #[test]
    fn vector_index_options_are_blanked_in_place() {
        let sql = "create index on docs using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 64);\n\
                   CREATE INDEX i ON d USING ivfflat (e vector_l2_ops)\n  WITH (lists = 100);\n\
                   create index j on d using btree (x) with (fillfactor = 90);\n\
                   -- using hnsw (e) with (m = 4)\n";
        let out = strip_vector_index_options(sql).unwrap();
        assert_eq!(out.len(), sql.len());
        assert_eq!(out.lines().count(), sql.lines().count());
        assert!(out.starts_with(
            "create index on docs using hnsw (embedding vector_cosine_ops)                                    ;"
        ));
        assert!(!out.contains("lists"));
        assert!(out.contains("with (fillfactor = 90)"));
        assert!(out.contains("-- using hnsw (e) with (m = 4)"));
        assert!(
            strip_vector_index_options("create index on d using hnsw (e vector_l2_ops);").is_none()
        );
        assert!(strip_vector_index_options("select 'using hnsw (e) with (m = 1)';").is_none());
    }

    #[test]
    fn masking_keeps_positions() {
        let sql = "select 'a -- b', $f$ select 'x' || y $f$, E'\\'x' -- c\n/* d /* e */ f */ g";
        let m = mask(sql, Mask::CommentsAndStrings);
        assert_eq!(m.len(), sql.len());
        assert!(m.contains("$f$ select     || y $f$"), "{m}");
        assert!(!m.contains("a -- b"));
        assert!(m.ends_with(" g"));
        let m = mask(sql, Mask::Comments);
        assert!(m.contains("'a -- b'"));
        assert!(!m.contains(" c\n"));
        // A stray quote inside a dollar-quoted body stays inside it.
        let m = mask("select $$ it's $$, 1 -- x", Mask::CommentsAndStrings);
        assert!(m.ends_with("$$, 1     "), "{m}");
    }
}
