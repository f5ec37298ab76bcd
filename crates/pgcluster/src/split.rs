//! A PostgreSQL statement splitter.
//!
//! Splits SQL text into top-level statements the way `psql` does: a `;` ends a statement unless
//! it is inside a string (`'…'`, `E'…'`, `U&'…'`), a quoted identifier (`"…"`), a dollar quote
//! (`$$…$$`, `$fn$…$fn$`), a comment (`-- …`, nested `/* … */`), parentheses (`CREATE RULE …
//! DO (…; …)`), or the `BEGIN ATOMIC … END` body of an SQL-standard function.
//!
//! It never fails: unterminated strings, comments and quotes simply run to the end of the text,
//! where the server reports them.

use std::ops::Range;

/// One top-level statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement from its first token up to (not including) its terminating `;`, with
    /// trailing whitespace removed (trailing comments are kept, so running `sql` on its own
    /// behaves like the original text).
    pub sql: &'a str,
    /// Byte range in the input, from the first token through the terminating `;` (or to the end
    /// of the statement's text when there is no `;`).
    pub range: Range<usize>,
    /// 1-based line (in the input) of the statement's first token.
    pub line: u32,
}

impl Statement<'_> {
    /// The statement for messages: comments removed, whitespace collapsed, at most `max` chars.
    pub fn summary(&self, max: usize) -> String {
        summarize(self.sql, max)
    }

    /// The statement's leading words, for recognising the kind of statement.
    pub fn words(&self, max: usize) -> Vec<Word> {
        words(self.sql, max)
    }
}

/// Split `sql` into its top-level statements. Empty statements (`;;`) are skipped.
pub fn split(sql: &str) -> Vec<Statement<'_>> {
    let mut out = Vec::new();
    let mut lines = LineCounter::default();
    let mut lexer = Lexer::new(sql);
    let mut state = StmtState::default();
    let mut start: Option<usize> = None;

    while let Some(tok) = lexer.next_token() {
        match tok.kind {
            TokKind::Space | TokKind::Comment => continue,
            TokKind::Punct(b';') if state.paren_depth == 0 && state.begin_depth == 0 => {
                if let Some(s) = start.take() {
                    out.push(make_statement(
                        sql,
                        s,
                        tok.range.start,
                        tok.range.end,
                        &mut lines,
                    ));
                }
                state = StmtState::default();
                continue;
            }
            TokKind::Punct(b'(') => state.paren_depth += 1,
            TokKind::Punct(b')') => state.paren_depth = state.paren_depth.saturating_sub(1),
            TokKind::Word => state.word(&sql[tok.range.clone()]),
            _ => {}
        }
        if start.is_none() {
            start = Some(tok.range.start);
        }
    }
    if let Some(s) = start {
        // Without a `;`, the statement runs to the end of the text (trailing whitespace
        // trimmed, a trailing comment kept).
        out.push(make_statement(sql, s, sql.len(), s, &mut lines));
    }
    out
}

fn make_statement<'a>(
    sql: &'a str,
    start: usize,
    body_end: usize,
    range_end: usize,
    lines: &mut LineCounter,
) -> Statement<'a> {
    let body = sql[start..body_end].trim_end();
    Statement {
        sql: body,
        range: start..range_end.max(start + body.len()),
        line: lines.line_at(sql, start),
    }
}

/// Counts lines forward through a text (positions must not decrease).
#[derive(Debug, Default)]
pub(crate) struct LineCounter {
    pos: usize,
    line: u32,
}

impl LineCounter {
    /// 1-based line of byte offset `pos` in `text`.
    pub(crate) fn line_at(&mut self, text: &str, pos: usize) -> u32 {
        let pos = pos.min(text.len());
        if pos < self.pos {
            self.pos = 0;
            self.line = 0;
        }
        let newlines = text.as_bytes()[self.pos..pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line = self
            .line
            .saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
        self.pos = pos;
        self.line.saturating_add(1)
    }
}

/// psql's heuristic for `BEGIN ATOMIC … END` bodies: inside `CREATE [OR REPLACE] FUNCTION` or
/// `PROCEDURE`, `BEGIN` (and `CASE` within it) opens a block that `END` closes.
#[derive(Debug, Default)]
struct StmtState {
    paren_depth: u32,
    begin_depth: u32,
    idents: [u8; 4],
    ident_count: usize,
}

impl StmtState {
    fn word(&mut self, word: &str) {
        let lower = if word.len() <= 9 {
            word.to_ascii_lowercase()
        } else {
            String::new()
        };
        if matches!(
            lower.as_str(),
            "create" | "function" | "procedure" | "or" | "replace"
        ) && self.ident_count < self.idents.len()
        {
            self.idents[self.ident_count] = lower.as_bytes()[0];
        }
        self.ident_count = self.ident_count.saturating_add(1);
        let id = self.idents;
        let in_routine = id[0] == b'c'
            && (id[1] == b'f'
                || id[1] == b'p'
                || (id[1] == b'o' && id[2] == b'r' && (id[3] == b'f' || id[3] == b'p')));
        if in_routine && self.paren_depth == 0 {
            match lower.as_str() {
                "begin" => self.begin_depth += 1,
                "case" if self.begin_depth >= 1 => self.begin_depth += 1,
                "end" => self.begin_depth = self.begin_depth.saturating_sub(1),
                _ => {}
            }
        }
    }
}

/// A significant token of a statement, for recognising statement kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word {
    /// An unquoted word (keyword or identifier), lowercased as PostgreSQL folds it.
    Bare(String),
    /// A double-quoted identifier, unescaped, case kept.
    Quoted(String),
    /// A string constant's contents (single-quoted or dollar-quoted), unescaped where simple.
    Str(String),
    /// Any other token (punctuation, numbers, operators), as written.
    Other(String),
}

impl Word {
    /// Whether this is the unquoted keyword `kw` (lowercase).
    pub fn is(&self, kw: &str) -> bool {
        matches!(self, Word::Bare(w) if w == kw)
    }

    /// The name this token denotes when used as an identifier.
    pub fn ident(&self) -> Option<&str> {
        match self {
            Word::Bare(w) | Word::Quoted(w) => Some(w),
            _ => None,
        }
    }
}

/// The first `max` significant tokens of `sql` (comments and whitespace skipped).
pub fn words(sql: &str, max: usize) -> Vec<Word> {
    let mut out = Vec::new();
    let mut lexer = Lexer::new(sql);
    while out.len() < max {
        let Some(tok) = lexer.next_token() else { break };
        let text = &sql[tok.range.clone()];
        let w = match tok.kind {
            TokKind::Space | TokKind::Comment => continue,
            TokKind::Word => Word::Bare(text.to_ascii_lowercase()),
            TokKind::QuotedIdent => {
                let inner = text
                    .strip_prefix("U&")
                    .or_else(|| text.strip_prefix("u&"))
                    .unwrap_or(text);
                let inner = inner.strip_prefix('"').unwrap_or(inner);
                let inner = inner.strip_suffix('"').unwrap_or(inner);
                Word::Quoted(inner.replace("\"\"", "\""))
            }
            TokKind::Str => {
                let inner = text.strip_prefix('\'').unwrap_or(text);
                let inner = inner.strip_suffix('\'').unwrap_or(inner);
                Word::Str(inner.replace("''", "'"))
            }
            TokKind::EStr | TokKind::UStr => Word::Str(text.to_string()),
            TokKind::Dollar => {
                let tag_end = text[1..].find('$').map(|i| i + 2).unwrap_or(text.len());
                let tag = &text[..tag_end];
                let inner = text
                    .get(tag_end..)
                    .and_then(|rest| rest.strip_suffix(tag))
                    .unwrap_or("");
                Word::Str(inner.to_string())
            }
            TokKind::Punct(_) | TokKind::Other => Word::Other(text.to_string()),
        };
        out.push(w);
    }
    out
}

/// `sql` for messages: comments dropped, whitespace runs collapsed to one space, trimmed, and
/// cut to at most `max` characters (with `…` when cut).
pub fn summarize(sql: &str, max: usize) -> String {
    let mut flat = String::with_capacity(sql.len().min(max.saturating_mul(4)));
    let mut lexer = Lexer::new(sql);
    let mut pending_space = false;
    let mut chars = 0usize;
    'outer: while let Some(tok) = lexer.next_token() {
        if matches!(tok.kind, TokKind::Space | TokKind::Comment) {
            pending_space = true;
            continue;
        }
        for c in sql[tok.range.clone()].chars() {
            let ws = c.is_whitespace();
            if ws {
                pending_space = true;
                continue;
            }
            if pending_space && !flat.is_empty() {
                flat.push(' ');
                chars += 1;
            }
            pending_space = false;
            flat.push(c);
            chars += 1;
            if chars > max {
                break 'outer;
            }
        }
    }
    if chars > max {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    } else {
        flat
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokKind {
    Space,
    Comment,
    /// Unquoted identifier or keyword.
    Word,
    QuotedIdent,
    /// `'…'` (also the string part of `B'…'`, `X'…'`, `N'…'`).
    Str,
    /// `E'…'`
    EStr,
    /// `U&'…'`
    UStr,
    /// `$tag$…$tag$`
    Dollar,
    /// `(`, `)`, `;`
    Punct(u8),
    Other,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) kind: TokKind,
    pub(crate) range: Range<usize>,
}

/// A lexer just precise enough to find statement boundaries and leading keywords. Every token
/// boundary is a `char` boundary of the input.
pub(crate) struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer {
            src: src.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self, off: usize) -> Option<u8> {
        self.src.get(self.pos + off).copied()
    }

    pub(crate) fn next_token(&mut self) -> Option<Token> {
        let start = self.pos;
        let b = *self.src.get(start)?;
        let kind = match b {
            _ if is_space(b) => {
                while self.peek(0).is_some_and(is_space) {
                    self.pos += 1;
                }
                TokKind::Space
            }
            b'-' if self.peek(1) == Some(b'-') => {
                while self.peek(0).is_some_and(|c| c != b'\n') {
                    self.pos += 1;
                }
                TokKind::Comment
            }
            b'/' if self.peek(1) == Some(b'*') => {
                self.block_comment();
                TokKind::Comment
            }
            b'\'' => {
                self.pos += 1;
                self.quoted(b'\'', false);
                TokKind::Str
            }
            b'"' => {
                self.pos += 1;
                self.quoted(b'"', false);
                TokKind::QuotedIdent
            }
            b'$' => self.dollar(),
            b'(' | b')' | b';' => {
                self.pos += 1;
                TokKind::Punct(b)
            }
            _ if is_ident_start(b) => self.word(),
            _ => {
                self.pos += 1;
                TokKind::Other
            }
        };
        debug_assert!(self.pos > start);
        Some(Token {
            kind,
            range: start..self.pos,
        })
    }

    fn block_comment(&mut self) {
        // At `/*`. Nested, like PostgreSQL's.
        self.pos += 2;
        let mut depth = 1u32;
        while self.pos < self.src.len() {
            match (self.src[self.pos], self.peek(1)) {
                (b'/', Some(b'*')) => {
                    depth += 1;
                    self.pos += 2;
                }
                (b'*', Some(b'/')) => {
                    depth -= 1;
                    self.pos += 2;
                    if depth == 0 {
                        return;
                    }
                }
                _ => self.pos += 1,
            }
        }
    }

    /// After an opening `quote`: up to and including the closing one (a doubled quote is an
    /// escaped one; with `backslash`, `\x` escapes `x`).
    fn quoted(&mut self, quote: u8, backslash: bool) {
        while self.pos < self.src.len() {
            let c = self.src[self.pos];
            if backslash && c == b'\\' {
                self.pos = (self.pos + 2).min(self.src.len());
                // `\` may have escaped the first byte of a multi-byte character: skip its
                // continuation bytes so positions stay on char boundaries.
                while self.pos < self.src.len() && (self.src[self.pos] & 0xC0) == 0x80 {
                    self.pos += 1;
                }
                continue;
            }
            self.pos += 1;
            if c == quote {
                if self.peek(0) == Some(quote) {
                    self.pos += 1;
                } else {
                    return;
                }
            }
        }
    }

    fn dollar(&mut self) -> TokKind {
        // At `$`: a parameter (`$1`), a dollar quote (`$$`, `$tag$`), or a lone `$`.
        let start = self.pos;
        if self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            return TokKind::Other;
        }
        let mut i = start + 1;
        if self.src.get(i).is_some_and(|&c| is_ident_start(c)) {
            i += 1;
            while self
                .src
                .get(i)
                .is_some_and(|&c| is_ident_start(c) || c.is_ascii_digit())
            {
                i += 1;
            }
        }
        if self.src.get(i) != Some(&b'$') {
            self.pos += 1;
            return TokKind::Other;
        }
        let tag = &self.src[start..=i];
        let body = i + 1;
        self.pos = match find(&self.src[body..], tag) {
            Some(at) => body + at + tag.len(),
            None => self.src.len(),
        };
        TokKind::Dollar
    }

    fn word(&mut self) -> TokKind {
        let start = self.pos;
        while self.peek(0).is_some_and(is_ident_cont) {
            self.pos += 1;
        }
        let len = self.pos - start;
        if len == 1 {
            match (self.src[start], self.peek(0), self.peek(1)) {
                (b'e' | b'E', Some(b'\''), _) => {
                    self.pos += 1;
                    self.quoted(b'\'', true);
                    return TokKind::EStr;
                }
                (b'u' | b'U', Some(b'&'), Some(b'\'')) => {
                    self.pos += 2;
                    self.quoted(b'\'', false);
                    return TokKind::UStr;
                }
                (b'u' | b'U', Some(b'&'), Some(b'"')) => {
                    self.pos += 2;
                    self.quoted(b'"', false);
                    return TokKind::QuotedIdent;
                }
                _ => {}
            }
        }
        TokKind::Word
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).into_iter().map(|s| s.sql).collect()
    }

    #[test]
    fn simple() {
        assert_eq!(
            texts("select 1; select 2;\n\nselect 3"),
            ["select 1", "select 2", "select 3"]
        );
        assert_eq!(texts(";;  ; -- nothing\n"), Vec::<&str>::new());
        assert_eq!(texts(""), Vec::<&str>::new());
    }

    #[test]
    fn lines_and_ranges() {
        let sql = "-- header\n\n/* c */ create table a (id int);\n\ninsert into a\n  values (1);\nselect 1";
        let st = split(sql);
        assert_eq!(st.len(), 3);
        assert_eq!(st[0].line, 3);
        assert_eq!(st[0].sql, "create table a (id int)");
        assert_eq!(&sql[st[0].range.clone()], "create table a (id int);");
        assert_eq!(st[1].line, 5);
        assert_eq!(st[1].sql, "insert into a\n  values (1)");
        assert_eq!(st[2].line, 7);
        assert_eq!(&sql[st[2].range.clone()], "select 1");
    }

    #[test]
    fn strings_and_identifiers() {
        assert_eq!(
            texts("select 'a;b', 'it''s;'; select \"x;\"\"y\" from t;"),
            ["select 'a;b', 'it''s;'", "select \"x;\"\"y\" from t"]
        );
        // Backslash is not an escape in a standard string...
        assert_eq!(
            texts(r"select 'a\'; select 2"),
            [r"select 'a\'", "select 2"]
        );
        // ...but it is in an E'' string.
        assert_eq!(
            texts(r"select E'a\';b'; select 2"),
            [r"select E'a\';b'", "select 2"]
        );
        assert_eq!(
            texts(r"select e'\\'; select 2"),
            [r"select e'\\'", "select 2"]
        );
        // `name'` is not an E string.
        assert_eq!(texts(r"select name'\'; x"), [r"select name'\'", "x"]);
        assert_eq!(
            texts("select U&'d\\0061t;a'; select U&\"a;\""),
            ["select U&'d\\0061t;a'", "select U&\"a;\""]
        );
    }

    #[test]
    fn dollar_quotes() {
        let sql = "create function f() returns int as $$ select 1; $$ language sql;\n\
                   create function g() returns int as $fn$ begin return 1; end $fn$ language plpgsql;\n\
                   do $a$ begin perform $b$ ; $b$; end $a$;\n\
                   select $1; select a$b$c from t;";
        let t = texts(sql);
        assert_eq!(t.len(), 5, "{t:#?}");
        assert!(t[0].ends_with("language sql"));
        assert!(t[1].ends_with("language plpgsql"));
        assert!(t[2].starts_with("do $a$"));
        assert_eq!(t[3], "select $1");
        assert_eq!(t[4], "select a$b$c from t");
    }

    #[test]
    fn comments() {
        assert_eq!(
            texts("select 1 -- a; comment\n; /* x; /* nested; */ still; */ select 2;"),
            ["select 1 -- a; comment", "select 2"]
        );
        let st = split("/* a */\n/* b\n*/ select 1;");
        assert_eq!(st[0].line, 3);
    }

    #[test]
    fn begin_atomic() {
        let sql = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT a + 1;\n  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\nEND;\nCREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END;\nBEGIN;\nCOMMIT;\nselect 1";
        let st = split(sql);
        let t: Vec<_> = st.iter().map(|s| s.sql).collect();
        assert_eq!(t.len(), 5, "{t:#?}");
        assert!(t[0].ends_with("END"));
        assert!(t[1].starts_with("CREATE OR REPLACE PROCEDURE"));
        assert_eq!(t[2], "BEGIN");
        assert_eq!(t[3], "COMMIT");
        assert_eq!(st[2].line, 7);
    }

    #[test]
    fn parentheses() {
        assert_eq!(
            texts("create rule r as on insert to t do also (insert into a values (1); delete from b); select 1"),
            [
                "create rule r as on insert to t do also (insert into a values (1); delete from b)",
                "select 1"
            ]
        );
    }

    #[test]
    fn unterminated() {
        assert_eq!(texts("select 'abc; select 2"), ["select 'abc; select 2"]);
        assert_eq!(
            texts("select 1 /* abc; select 2"),
            ["select 1 /* abc; select 2"]
        );
        assert_eq!(
            texts("select $x$ abc; select 2"),
            ["select $x$ abc; select 2"]
        );
        assert_eq!(texts("select \"abc; select 2"), ["select \"abc; select 2"]);
        assert_eq!(texts("select E'ab\\"), ["select E'ab\\"]);
    }

    #[test]
    fn multibyte() {
        let sql = "select 'é;ü'; select \"日本\"; select E'\\é'; select ö$ä$";
        let t = texts(sql);
        assert_eq!(
            t,
            [
                "select 'é;ü'",
                "select \"日本\"",
                "select E'\\é'",
                "select ö$ä$"
            ]
        );
    }

    #[test]
    fn words_and_summary() {
        let w = words(
            "/* c */ CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA Extensions;",
            20,
        );
        assert!(w[0].is("create"));
        assert!(w[1].is("extension"));
        assert_eq!(w[5], Word::Quoted("uuid-ossp".into()));
        assert_eq!(w[6], Word::Bare("with".into()));
        assert_eq!(w[8], Word::Bare("extensions".into()));
        assert_eq!(w[9], Word::Other(";".into()));
        assert_eq!(
            summarize(
                "GRANT  USAGE -- why\n ON\n\tSEQUENCE /* x */ s TO anon",
                300
            ),
            "GRANT USAGE ON SEQUENCE s TO anon"
        );
        let long = "x ".repeat(400);
        let s = summarize(&long, 300);
        assert!(s.chars().count() <= 300, "{}", s.chars().count());
        assert!(s.ends_with('…'));
        assert_eq!(summarize("", 10), "");
    }

    /// A small deterministic generator of nasty inputs; checks the splitter's invariants.
    #[test]
    fn never_panics_on_arbitrary_input() {
        const PIECES: &[&str] = &[
            "'",
            "\"",
            "$",
            "$$",
            "$a$",
            "$1",
            "--",
            "/*",
            "*/",
            "\n",
            ";",
            " ",
            "(",
            ")",
            "E'",
            "e",
            "U&'",
            "u&\"",
            "\\",
            "begin",
            "BEGIN",
            "end",
            "case",
            "create",
            "function",
            "or",
            "replace",
            "procedure",
            "atomic",
            "é",
            "日",
            "x",
            "1",
            "select",
            "''",
            "\"\"",
            "\r\n",
            "\t",
            "$fn$",
            "&",
            "ö$",
            "\u{0}",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let n = (next() % 40) as usize;
            let mut s = String::new();
            for _ in 0..n {
                s.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            let st = split(&s);
            let mut prev_end = 0;
            let mut prev_line = 0;
            for stmt in &st {
                assert!(stmt.range.start >= prev_end, "{s:?}: {st:?}");
                assert!(stmt.range.end <= s.len());
                assert!(s.is_char_boundary(stmt.range.start));
                assert!(s.is_char_boundary(stmt.range.end));
                assert!(!stmt.sql.is_empty());
                assert!(s[stmt.range.start..].starts_with(stmt.sql));
                assert!(stmt.line >= 1 && stmt.line >= prev_line);
                let expected = 1 + s[..stmt.range.start].matches('\n').count() as u32;
                assert_eq!(stmt.line, expected);
                prev_end = stmt.range.end;
                prev_line = stmt.line;
                let _ = stmt.summary(50);
                let _ = stmt.words(10);
            }
            let _ = words(&s, 100);
            assert!(summarize(&s, 20).chars().count() <= 20);
        }
    }
}
