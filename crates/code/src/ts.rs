//! TypeScript / TSX / JavaScript extraction.

use crate::model::*;
use crate::walk::Lang;
use std::path::Path;
use tree_sitter::{Node, Parser, Tree};

/// One parser per language, reused across the files of a thread.
#[derive(Default)]
pub struct Parsers {
    ts: Option<Parser>,
    tsx: Option<Parser>,
    js: Option<Parser>,
    pub(crate) py: Option<Parser>,
}

impl Parsers {
    pub fn parse(&mut self, lang: Lang, src: &str) -> Result<Tree, String> {
        let (slot, language): (&mut Option<Parser>, tree_sitter::Language) = match lang {
            Lang::TypeScript => (
                &mut self.ts,
                tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            ),
            Lang::Tsx => (&mut self.tsx, tree_sitter_typescript::LANGUAGE_TSX.into()),
            Lang::JavaScript => (&mut self.js, tree_sitter_javascript::LANGUAGE.into()),
            Lang::Python => (&mut self.py, tree_sitter_python::LANGUAGE.into()),
        };
        if slot.is_none() {
            let mut p = Parser::new();
            p.set_language(&language)
                .map_err(|e| format!("grammar: {e}"))?;
            *slot = Some(p);
        }
        let parser = slot.as_mut().expect("set above");
        parser.parse(src, None).ok_or_else(|| "parse failed".into())
    }
}

pub fn extract(
    parsers: &mut Parsers,
    lang: Lang,
    display: &str,
    path: &Path,
    src: &str,
) -> Result<FileModel, String> {
    let tree = parsers.parse(lang, src)?;
    let root = tree.root_node();
    if root.has_error() {
        // Tolerate local errors; give up on files that are mostly errors (wrong grammar).
        let mut errors = 0usize;
        count_errors(root, &mut errors);
        if errors > 50 || (errors * 20 > src.lines().count().max(1) && errors > 5) {
            return Err(format!("does not parse ({errors} syntax errors)"));
        }
    }
    let mut x = Extractor {
        src,
        display,
        path,
        m: FileModel {
            display: display.to_string(),
            path: path.to_path_buf(),
            is_test: is_test_path(display),
            ..Default::default()
        },
        bindings: vec![],
        consts: vec![],
    };
    x.m.use_server = has_directive(root, src, "use server");
    let nodes = preorder(root);
    x.prepass(root, &nodes);
    x.walk(&nodes);
    x.routes(&nodes);
    x.next_handlers(root);
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if stem == "middleware" {
        let t = src.to_ascii_lowercase();
        x.m.auth_middleware = t.contains("getuser")
            || t.contains("getsession")
            || t.contains("auth(")
            || t.contains("withauth")
            || t.contains("clerkmiddleware")
            || t.contains("gettoken");
    }
    Ok(x.m)
}

fn count_errors(n: Node, acc: &mut usize) {
    if n.is_error() || n.is_missing() {
        *acc += 1;
    }
    if n.has_error() {
        let mut c = n.walk();
        for ch in n.children(&mut c) {
            count_errors(ch, acc);
        }
    }
}

pub fn is_test_path(p: &str) -> bool {
    let l = p.replace('\\', "/").to_ascii_lowercase();
    l.contains(".test.")
        || l.contains(".spec.")
        || l.contains("/__tests__/")
        || l.contains("/test/")
        || l.contains("/tests/")
        || l.contains("/scripts/")
        || l.contains("/seed")
        || l.contains("/fixtures/")
        || l.contains("/e2e/")
}

fn has_directive(root: Node, src: &str, directive: &str) -> bool {
    let mut c = root.walk();
    for ch in root.named_children(&mut c) {
        match ch.kind() {
            "comment" => continue,
            "expression_statement" => {
                let t = text(ch, src).trim().trim_end_matches(';');
                return t == format!("'{directive}'") || t == format!("\"{directive}\"");
            }
            _ => return false,
        }
    }
    false
}

/// Every node under `root` (inclusive), in document order, with one cursor.
pub fn preorder<'t>(root: Node<'t>) -> Vec<Node<'t>> {
    let mut out = Vec::with_capacity(256);
    let mut c = root.walk();
    loop {
        out.push(c.node());
        if c.goto_first_child() {
            continue;
        }
        loop {
            if c.node() == root {
                return out;
            }
            if c.goto_next_sibling() {
                break;
            }
            if !c.goto_parent() {
                return out;
            }
        }
    }
}

pub fn text<'s>(n: Node, src: &'s str) -> &'s str {
    n.utf8_text(src.as_bytes()).unwrap_or("")
}

pub fn line(n: Node) -> u32 {
    n.start_position().row as u32 + 1
}

fn end_line(n: Node) -> u32 {
    n.end_position().row as u32 + 1
}

/// The value of a string literal (or a template without substitutions).
pub fn string_value(n: Node, src: &str) -> Option<String> {
    match n.kind() {
        "string" => {
            let t = text(n, src);
            if t.len() >= 2 {
                Some(t[1..t.len() - 1].to_string())
            } else {
                None
            }
        }
        "template_string" => {
            let mut c = n.walk();
            if n.named_children(&mut c)
                .any(|ch| ch.kind() == "template_substitution")
            {
                return None;
            }
            let t = text(n, src);
            Some(t[1..t.len().saturating_sub(1)].to_string())
        }
        _ => None,
    }
}

/// Strip `await`, `!`, `as T`, parentheses.
pub fn unwrap_expr(mut n: Node) -> Node {
    loop {
        match n.kind() {
            "await_expression"
            | "non_null_expression"
            | "parenthesized_expression"
            | "as_expression"
            | "satisfies_expression"
            | "type_assertion" => match n.named_child(0) {
                Some(c) => n = c,
                None => return n,
            },
            _ => return n,
        }
    }
}

fn args_of(call: Node) -> Vec<Node> {
    let Some(a) = call.child_by_field_name("arguments") else {
        return vec![];
    };
    let mut c = a.walk();
    a.named_children(&mut c)
        .filter(|n| n.kind() != "comment")
        .collect()
}

/// `obj.prop(...)`: (obj, prop).
fn member_call<'t>(call: Node<'t>, src: &str) -> Option<(Node<'t>, String, Node<'t>)> {
    if call.kind() != "call_expression" {
        return None;
    }
    let f = call.child_by_field_name("function")?;
    if f.kind() != "member_expression" {
        return None;
    }
    let obj = f.child_by_field_name("object")?;
    let prop = f.child_by_field_name("property")?;
    Some((obj, text(prop, src).to_string(), prop))
}

fn callee_name<'s>(call: Node, src: &'s str) -> &'s str {
    call.child_by_field_name("function")
        .or_else(|| call.child_by_field_name("constructor"))
        .map(|f| text(f, src))
        .unwrap_or("")
}

/// What a name means at a place: only valid inside `scope` (byte range), after `pos`.
#[derive(Debug, Clone)]
struct Binding {
    name: String,
    scope: (usize, usize),
    pos: usize,
    kind: BindingKind,
}

#[derive(Debug, Clone)]
enum BindingKind {
    Client(ClientRef),
    Taint(String),
    QueryVar(usize),
}

const SUPABASE_FILTERS: &[&str] = &[
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "like",
    "ilike",
    "is",
    "in",
    "contains",
    "containedBy",
    "overlaps",
    "textSearch",
    "match",
    "filter",
    "not",
    "or",
    "order",
    "likeAllOf",
    "likeAnyOf",
    "ilikeAllOf",
    "ilikeAnyOf",
    "rangeGt",
    "rangeLt",
];

/// Methods that keep a supabase-js builder going.
const SUPABASE_CHAIN: &[&str] = &[
    "select",
    "insert",
    "update",
    "upsert",
    "delete",
    "single",
    "maybeSingle",
    "limit",
    "range",
    "abortSignal",
    "csv",
    "returns",
    "throwOnError",
    "explain",
    "then",
    "overrideTypes",
];

const CREATE_USER_CLIENT: &[&str] = &[
    "createServerClient",
    "createBrowserClient",
    "createRouteHandlerClient",
    "createServerComponentClient",
    "createServerActionClient",
    "createMiddlewareClient",
    "createPagesServerClient",
    "createPagesBrowserClient",
    "createClientComponentClient",
];

struct Extractor<'a> {
    src: &'a str,
    display: &'a str,
    path: &'a Path,
    m: FileModel,
    bindings: Vec<Binding>,
    /// Every `const name = <expr>`: (name, expr text).
    consts: Vec<(String, String)>,
}

impl<'a> Extractor<'a> {
    fn t(&self, n: Node) -> &'a str {
        text(n, self.src)
    }

    /// Imports, consts, client definitions, comments.
    fn prepass(&mut self, root: Node, nodes: &[Node]) {
        for &n in nodes {
            match n.kind() {
                "import_statement" => self.import(n),
                "comment" => {
                    let t = self.t(n);
                    if t.contains("@ts-ignore")
                        || t.contains("@ts-expect-error")
                        || t.contains("@ts-nocheck")
                    {
                        self.m.suppressions.push((line(n), t.trim().to_string()));
                    }
                }
                "variable_declarator" => {
                    if let (Some(name), Some(value)) = (
                        n.child_by_field_name("name"),
                        n.child_by_field_name("value"),
                    ) {
                        if name.kind() == "identifier" {
                            self.consts
                                .push((self.t(name).to_string(), self.t(value).to_string()));
                        }
                        let v = unwrap_expr(value);
                        if v.kind() == "call_expression" && callee_name(v, self.src) == "require" {
                            self.require(name, v);
                        }
                        if v.kind() == "call_expression" {
                            self.drizzle_table(name, v);
                        }
                    }
                }
                _ => {}
            }
        }
        // Module-level client definitions.
        let mut c = root.walk();
        for st in root.named_children(&mut c) {
            let (decl, exported) = if st.kind() == "export_statement" {
                match st.child_by_field_name("declaration") {
                    Some(d) => (d, true),
                    None => continue,
                }
            } else {
                (st, false)
            };
            self.client_def(decl, exported);
        }
        // `export { supabaseAdmin }` / `export default supabase`.
        let mut c = root.walk();
        for st in root.named_children(&mut c) {
            if st.kind() != "export_statement" || st.child_by_field_name("declaration").is_some() {
                continue;
            }
            let t = self.t(st).to_string();
            for d in self.m.clients.iter_mut() {
                if t.contains(&d.name) {
                    d.exported = true;
                }
            }
            if t.starts_with("export default") {
                if let Some(v) = st.child_by_field_name("value") {
                    let name = self.t(v).to_string();
                    if let Some(d) = self.m.clients.iter().find(|d| d.name == name).cloned() {
                        self.m.clients.push(ClientDef {
                            name: "default".into(),
                            ..d
                        });
                    }
                }
            }
        }
    }

    /// `export const calls = pgTable('call_logs', { orgId: uuid('org_id').references(() => orgs.id) })`.
    fn drizzle_table(&mut self, name: Node, call: Node) {
        let callee = callee_name(call, self.src);
        let short = callee.rsplit('.').next().unwrap_or(callee);
        if !(matches!(short, "pgTable" | "mysqlTable" | "sqliteTable")
            || (short == "table" && callee.contains('.')))
        {
            return;
        }
        let args = args_of(call);
        let (Some(t), Some(cols)) = (
            args.first().and_then(|a| string_value(*a, self.src)),
            args.get(1),
        ) else {
            return;
        };
        let cols = unwrap_expr(*cols);
        if cols.kind() != "object" {
            return;
        }
        let mut columns = vec![];
        for (key, v) in self.object_pairs(cols) {
            let Some(v) = v else { continue };
            // Walk the builder chain down to the column constructor.
            let mut cur = unwrap_expr(v);
            let mut column = key.clone();
            let mut references = None;
            while cur.kind() == "call_expression" {
                let f = cur.child_by_field_name("function").unwrap();
                if f.kind() == "member_expression" {
                    let prop = f
                        .child_by_field_name("property")
                        .map(|x| self.t(x))
                        .unwrap_or("");
                    if prop == "references" {
                        if let Some(arrow) = args_of(cur).first() {
                            if let Some(body) = arrow.child_by_field_name("body") {
                                let body = unwrap_expr(body);
                                if body.kind() == "member_expression" {
                                    let o = body
                                        .child_by_field_name("object")
                                        .map(|x| self.t(x).to_string())
                                        .unwrap_or_default();
                                    let pr = body
                                        .child_by_field_name("property")
                                        .map(|x| self.t(x).to_string())
                                        .unwrap_or_default();
                                    references = Some((None, format!("@drizzle:{o}"), pr));
                                }
                            }
                        }
                    }
                    cur = unwrap_expr(f.child_by_field_name("object").unwrap());
                } else {
                    if let Some(n) = args_of(cur)
                        .first()
                        .and_then(|a| string_value(*a, self.src))
                    {
                        column = n;
                    }
                    break;
                }
            }
            columns.push(OrmColumn {
                attr: key,
                column,
                line: line(v),
                references,
            });
        }
        self.m.models.push(OrmModel {
            class: self.t(name).to_string(),
            drizzle: true,
            table: t,
            line: line(call),
            columns,
        });
    }

    fn import(&mut self, n: Node) {
        let Some(source) = n.child_by_field_name("source") else {
            return;
        };
        let Some(source) = string_value(source, self.src) else {
            return;
        };
        let mut c = n.walk();
        for clause in n.named_children(&mut c) {
            if clause.kind() != "import_clause" {
                continue;
            }
            let mut c2 = clause.walk();
            for part in clause.named_children(&mut c2) {
                match part.kind() {
                    "identifier" => self.m.imports.push(Import {
                        local: self.t(part).into(),
                        imported: "default".into(),
                        source: source.clone(),
                    }),
                    "namespace_import" => {
                        if let Some(id) = part.named_child(0) {
                            self.m.imports.push(Import {
                                local: self.t(id).into(),
                                imported: "*".into(),
                                source: source.clone(),
                            })
                        }
                    }
                    "named_imports" => {
                        let mut c3 = part.walk();
                        for spec in part.named_children(&mut c3) {
                            if spec.kind() != "import_specifier" {
                                continue;
                            }
                            let Some(name) = spec.child_by_field_name("name") else {
                                continue;
                            };
                            let local = spec.child_by_field_name("alias").unwrap_or(name);
                            self.m.imports.push(Import {
                                local: self.t(local).into(),
                                imported: self.t(name).into(),
                                source: source.clone(),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn require(&mut self, name: Node, call: Node) {
        let Some(arg) = args_of(call).into_iter().next() else {
            return;
        };
        let Some(source) = string_value(arg, self.src) else {
            return;
        };
        match name.kind() {
            "identifier" => self.m.imports.push(Import {
                local: self.t(name).into(),
                imported: "default".into(),
                source,
            }),
            "object_pattern" => {
                let mut c = name.walk();
                for p in name.named_children(&mut c) {
                    match p.kind() {
                        "shorthand_property_identifier_pattern" => self.m.imports.push(Import {
                            local: self.t(p).into(),
                            imported: self.t(p).into(),
                            source: source.clone(),
                        }),
                        "pair_pattern" => {
                            if let (Some(k), Some(v)) =
                                (p.child_by_field_name("key"), p.child_by_field_name("value"))
                            {
                                self.m.imports.push(Import {
                                    local: self.t(v).into(),
                                    imported: self.t(k).into(),
                                    source: source.clone(),
                                })
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn const_text(&self, name: &str) -> Option<&str> {
        self.consts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Is `name` the supabase-js `createClient` (imported from `@supabase/supabase-js`)?
    fn is_supabase_create(&self, callee: &str) -> bool {
        self.m.imports.iter().any(|i| {
            i.local == callee
                && i.imported == "createClient"
                && i.source.starts_with("@supabase/supabase-js")
        })
    }

    /// The client a creating call makes, when it is one.
    fn creation_info(&self, call: Node) -> Option<(String, ClientInfo, bool)> {
        let callee_node = call
            .child_by_field_name("function")
            .or_else(|| call.child_by_field_name("constructor"))?;
        // Cheap rejection first: this runs on every call of every file.
        let short_node = match callee_node.kind() {
            "member_expression" => callee_node.child_by_field_name("property")?,
            _ => callee_node,
        };
        let short_text = self.t(short_node);
        if !(matches!(
            short_text,
            "PrismaClient" | "Pool" | "Sql" | "Client" | "drizzle" | "postgres" | "createClient"
        ) || CREATE_USER_CLIENT.contains(&short_text))
        {
            return None;
        }
        let callee = self.t(callee_node).to_string();
        let args = args_of(call);
        let short = callee.rsplit('.').next().unwrap_or(&callee).to_string();
        if call.kind() == "new_expression" {
            let direct = matches!(short.as_str(), "PrismaClient" | "Pool" | "Sql")
                || (short == "Client"
                    && self.m.imports.iter().any(|i| {
                        i.local == "Client" && (i.source == "pg" || i.source == "postgres")
                    }));
            if direct {
                return Some((
                    callee.clone(),
                    ClientInfo {
                        kind: ClientKind::Direct,
                        how: format!("new {callee}(...): a direct Postgres connection"),
                    },
                    false,
                ));
            }
            return None;
        }
        if short == "drizzle" || (short == "postgres" && self.imported_from(&short, "postgres")) {
            return Some((
                callee.clone(),
                ClientInfo {
                    kind: ClientKind::Direct,
                    how: format!("{callee}(...): a direct Postgres connection"),
                },
                false,
            ));
        }
        let supabase_js = self.is_supabase_create(&callee);
        let user_client = CREATE_USER_CLIENT.contains(&short.as_str());
        if !(supabase_js || user_client || short == "createClient") {
            return None;
        }
        if short == "createClient" && !supabase_js {
            // A project-local `createClient` wrapper (Next.js' utils/supabase/server): unknown.
            return None;
        }
        let key = args
            .get(1)
            .map(|k| self.resolve_text(*k))
            .unwrap_or_default();
        let opts = args.get(2).map(|o| self.t(*o)).unwrap_or("");
        let ku = key.to_ascii_uppercase();
        let service = ku.contains("SERVICE_ROLE")
            || ku.contains("SERVICE_KEY")
            || ku.contains("SERVICEROLE")
            || ku.contains("SECRET_KEY")
            || ku.contains("SUPABASE_SECRET");
        let anon = ku.contains("ANON") || ku.contains("PUBLISHABLE") || ku.contains("PUBLIC");
        let kind = if service {
            ClientKind::ServiceRole
        } else if user_client || (anon && opts.contains("Authorization")) {
            ClientKind::UserToken
        } else if anon {
            ClientKind::Anon
        } else if opts.contains("Authorization") {
            ClientKind::UserToken
        } else {
            ClientKind::Unknown
        };
        let key_arg = args.get(1).map(|k| self.t(*k)).unwrap_or("");
        let how = if key_arg == key {
            format!("{callee}(…, {key_arg})")
        } else {
            format!("{callee}(…, {key_arg}) where {key_arg} = {key}")
        };
        Some((
            callee,
            ClientInfo {
                kind,
                how: shorten(&how, 200),
            },
            supabase_js,
        ))
    }

    fn imported_from(&self, local: &str, source: &str) -> bool {
        self.m
            .imports
            .iter()
            .any(|i| i.local == local && i.source == source)
    }

    /// An expression's text, following one const.
    fn resolve_text(&self, n: Node) -> String {
        let n = unwrap_expr(n);
        let t = self.t(n);
        if n.kind() == "identifier" {
            if let Some(v) = self.const_text(t) {
                return v.to_string();
            }
        }
        t.to_string()
    }

    fn client_def(&mut self, decl: Node, exported: bool) {
        match decl.kind() {
            "lexical_declaration" | "variable_declaration" => {
                let mut c = decl.walk();
                for d in decl.named_children(&mut c) {
                    if d.kind() != "variable_declarator" {
                        continue;
                    }
                    let (Some(name), Some(value)) = (
                        d.child_by_field_name("name"),
                        d.child_by_field_name("value"),
                    ) else {
                        continue;
                    };
                    let v = unwrap_expr(value);
                    let name = self.t(name).to_string();
                    if matches!(v.kind(), "call_expression" | "new_expression") {
                        if let Some((_, info, _)) = self.creation_info(v) {
                            self.m.clients.push(ClientDef {
                                name,
                                exported,
                                is_function: false,
                                info,
                                line: line(d),
                            });
                        }
                    } else if matches!(
                        v.kind(),
                        "arrow_function" | "function_expression" | "function"
                    ) {
                        if let Some(info) = self.returned_client(v) {
                            self.m.clients.push(ClientDef {
                                name,
                                exported,
                                is_function: true,
                                info,
                                line: line(d),
                            });
                        }
                    }
                }
            }
            "function_declaration" => {
                if let Some(name) = decl.child_by_field_name("name") {
                    if let Some(info) = self.returned_client(decl) {
                        self.m.clients.push(ClientDef {
                            name: self.t(name).into(),
                            exported,
                            is_function: true,
                            info,
                            line: line(decl),
                        });
                    }
                }
            }
            _ => {}
        }
    }

    /// A function whose returned value is a created client.
    fn returned_client(&self, f: Node) -> Option<ClientInfo> {
        let body = f.child_by_field_name("body")?;
        let body_u = unwrap_expr(body);
        if matches!(body_u.kind(), "call_expression" | "new_expression") {
            return self.creation_info(body_u).map(|(_, i, _)| i);
        }
        let mut found = None;
        let mut stack = vec![body];
        while let Some(n) = stack.pop() {
            if n.kind() == "return_statement" {
                if let Some(v) = n.named_child(0) {
                    let v = unwrap_expr(v);
                    if matches!(v.kind(), "call_expression" | "new_expression") {
                        if let Some((_, i, _)) = self.creation_info(v) {
                            found = Some(i);
                        }
                    } else if v.kind() == "identifier" {
                        // const client = createClient(...); return client;
                        let name = self.t(v);
                        let mut s2 = vec![body];
                        while let Some(k) = s2.pop() {
                            if k.kind() == "variable_declarator"
                                && k.child_by_field_name("name").map(|x| self.t(x)) == Some(name)
                            {
                                if let Some(val) = k.child_by_field_name("value") {
                                    let val = unwrap_expr(val);
                                    if let Some((_, i, _)) = self.creation_info(val) {
                                        found = Some(i);
                                    }
                                }
                            }
                            let mut c = k.walk();
                            s2.extend(k.children(&mut c));
                        }
                    }
                }
            }
            if matches!(n.kind(), "function_declaration" | "arrow_function") && n != f {
                continue;
            }
            let mut c = n.walk();
            stack.extend(n.children(&mut c));
        }
        found
    }

    /// Main traversal, document order.
    fn walk(&mut self, nodes: &[Node]) {
        for &n in nodes {
            self.visit(n);
        }
    }

    fn visit(&mut self, n: Node) {
        match n.kind() {
            "variable_declarator" => self.binding(n),
            "call_expression" | "new_expression" => {
                if let Some((callee, info, supabase_js)) = self.creation_info(n) {
                    self.m.creations.push(ClientCreation {
                        line: line(n),
                        callee,
                        info,
                        owner: self.owner(n),
                        supabase_js,
                    });
                }
                if n.kind() == "call_expression" {
                    self.query_call(n);
                }
            }
            "binary_expression" => self.key_fallback(n),
            "formal_parameters" => self.action_params(n),
            _ => {}
        }
    }

    fn scope_of(&self, n: Node) -> (usize, usize) {
        let mut p = n.parent();
        while let Some(x) = p {
            if matches!(
                x.kind(),
                "statement_block"
                    | "program"
                    | "arrow_function"
                    | "function_declaration"
                    | "function_expression"
                    | "method_definition"
            ) {
                return (x.start_byte(), x.end_byte());
            }
            p = x.parent();
        }
        (0, usize::MAX)
    }

    fn lookup(&self, name: &str, at: usize) -> Option<&BindingKind> {
        self.bindings
            .iter()
            .rev()
            .find(|b| b.name == name && b.pos <= at && b.scope.0 <= at && at < b.scope.1)
            .map(|b| &b.kind)
    }

    fn push_binding(&mut self, name: &str, scope: (usize, usize), pos: usize, kind: BindingKind) {
        self.bindings.push(Binding {
            name: name.to_string(),
            scope,
            pos,
            kind,
        });
    }

    /// `const x = supabaseForUser(t)`, `const { org_id } = req.body`, `const body = await req.json()`.
    fn binding(&mut self, d: Node) {
        let (Some(name), Some(value)) = (
            d.child_by_field_name("name"),
            d.child_by_field_name("value"),
        ) else {
            return;
        };
        let scope = self.scope_of(d);
        let pos = d.end_byte();
        let v = unwrap_expr(value);
        let vt = self.t(v);
        // Tainted sources.
        let request_root = request_source(vt).or_else(|| {
            if v.kind() == "identifier" || v.kind() == "member_expression" {
                self.taint_of(v)
            } else {
                None
            }
        });
        match name.kind() {
            "identifier" => {
                let nm = self.t(name);
                if let Some(r) = request_root {
                    self.push_binding(nm, scope, pos, BindingKind::Taint(r));
                    return;
                }
                if v.kind() == "call_expression" {
                    let callee = callee_name(v, self.src);
                    if let Some(r) = form_data_source(v, self.src) {
                        self.push_binding(nm, scope, pos, BindingKind::Taint(r));
                        return;
                    }
                    if callee.ends_with(".json")
                        && is_request_name(callee.trim_end_matches(".json"))
                    {
                        self.push_binding(
                            nm,
                            scope,
                            pos,
                            BindingKind::Taint(format!("{callee}()")),
                        );
                        return;
                    }
                    let f = v.child_by_field_name("function").unwrap();
                    if f.kind() == "identifier" {
                        if let Some((_, info, _)) = self.creation_info(v) {
                            self.push_binding(
                                nm,
                                scope,
                                pos,
                                BindingKind::Client(ClientRef::Known(info.kind, info.how)),
                            );
                        } else {
                            self.push_binding(
                                nm,
                                scope,
                                pos,
                                BindingKind::Client(ClientRef::Call(self.t(f).into())),
                            );
                        }
                    }
                } else if v.kind() == "identifier" {
                    let target = self.t(v).to_string();
                    if let Some(k) = self.lookup(&target, d.start_byte()).cloned() {
                        self.push_binding(nm, scope, pos, k);
                    } else {
                        self.push_binding(
                            nm,
                            scope,
                            pos,
                            BindingKind::Client(ClientRef::Name(target)),
                        );
                    }
                }
            }
            "object_pattern" => {
                let Some(root) = request_root else { return };
                let mut c = name.walk();
                for p in name.named_children(&mut c) {
                    match p.kind() {
                        "shorthand_property_identifier_pattern" => {
                            let nm = self.t(p);
                            self.push_binding(
                                nm,
                                scope,
                                pos,
                                BindingKind::Taint(format!("{root}.{nm}")),
                            );
                        }
                        "pair_pattern" => {
                            if let (Some(k), Some(val)) =
                                (p.child_by_field_name("key"), p.child_by_field_name("value"))
                            {
                                let local = if val.kind() == "assignment_pattern" {
                                    val.child_by_field_name("left").unwrap_or(val)
                                } else {
                                    val
                                };
                                let nm = self.t(local);
                                self.push_binding(
                                    nm,
                                    scope,
                                    pos,
                                    BindingKind::Taint(format!("{root}.{}", self.t(k))),
                                );
                            }
                        }
                        "object_assignment_pattern" => {
                            if let Some(l) = p.child_by_field_name("left") {
                                let nm = self.t(l);
                                self.push_binding(
                                    nm,
                                    scope,
                                    pos,
                                    BindingKind::Taint(format!("{root}.{nm}")),
                                );
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// Server action parameters are request input.
    fn action_params(&mut self, params: Node) {
        if !self.m.use_server {
            return;
        }
        let Some(f) = params.parent() else { return };
        // Only exported functions of the module.
        let exported = f.parent().is_some_and(|p| p.kind() == "export_statement")
            || f.parent()
                .and_then(|p| p.parent())
                .and_then(|p| p.parent())
                .is_some_and(|p| p.kind() == "export_statement");
        if !exported {
            return;
        }
        let Some(body) = f.child_by_field_name("body") else {
            return;
        };
        let scope = (body.start_byte(), body.end_byte());
        let fname = f
            .child_by_field_name("name")
            .map(|n| self.t(n).to_string())
            .unwrap_or_else(|| self.owner(body));
        let mut c = params.walk();
        for p in params.named_children(&mut c) {
            let pat = p.child_by_field_name("pattern").unwrap_or(p);
            let mut ids = vec![];
            collect_pattern_names(pat, self.src, &mut ids);
            for id in ids {
                let origin = format!("argument {id} of server action {fname}");
                self.push_binding(&id, scope, params.end_byte(), BindingKind::Taint(origin));
            }
        }
    }

    fn taint_of(&self, n: Node) -> Option<String> {
        let n = unwrap_expr(n);
        let t = self.t(n);
        if let Some(r) = request_source(t) {
            return Some(r);
        }
        if let Some(r) = form_data_source(n, self.src) {
            return Some(r);
        }
        // `body.org_id` where body is tainted; `orgId` tainted.
        let root = t.split(['.', '[', '?', '!']).next().unwrap_or("");
        if root.is_empty()
            || !root
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            return None;
        }
        match self.lookup(root, n.start_byte()) {
            Some(BindingKind::Taint(r)) => {
                if t == root {
                    Some(r.clone())
                } else {
                    Some(format!("{t} (from {r})"))
                }
            }
            _ => None,
        }
    }

    fn key_fallback(&mut self, n: Node) {
        let Some(op) = n.child_by_field_name("operator") else {
            return;
        };
        let op = self.t(op);
        if op != "||" && op != "??" {
            return;
        }
        let (Some(l), Some(r)) = (
            n.child_by_field_name("left"),
            n.child_by_field_name("right"),
        ) else {
            return;
        };
        let lt = self.t(l).to_ascii_uppercase();
        if !(lt.contains("SERVICE_ROLE")
            || lt.contains("SERVICE_KEY")
            || lt.contains("SERVICEROLE"))
        {
            return;
        }
        let r = unwrap_expr(r);
        let rt = self.t(r).to_ascii_uppercase();
        let literal = matches!(r.kind(), "string" | "template_string");
        if literal && string_value(r, self.src).is_some_and(|s| s.is_empty()) {
            // `|| ''` makes createClient throw: loud, not a silent fallback.
            return;
        }
        if literal || rt.contains("ANON") || rt.contains("PUBLISHABLE") || rt.contains("PUBLIC") {
            self.m.key_fallbacks.push(KeyFallback {
                line: line(n),
                text: shorten(self.t(n), 200),
                owner: self.owner(n),
            });
        }
    }

    /// The name of the function (or route) enclosing `n`.
    fn owner(&self, n: Node) -> String {
        let mut p = n.parent();
        while let Some(x) = p {
            match x.kind() {
                "function_declaration" | "method_definition" | "generator_function_declaration" => {
                    if let Some(name) = x.child_by_field_name("name") {
                        return self.t(name).to_string();
                    }
                }
                "arrow_function" | "function_expression" | "function" => {
                    if let Some(pp) = x.parent() {
                        if pp.kind() == "variable_declarator" {
                            if let Some(name) = pp.child_by_field_name("name") {
                                return self.t(name).to_string();
                            }
                        }
                        if pp.kind() == "pair" {
                            if let Some(k) = pp.child_by_field_name("key") {
                                return self.t(k).to_string();
                            }
                        }
                        if pp.kind() == "arguments" {
                            if let Some(call) = pp.parent() {
                                if let Some(name) = self.route_name(call) {
                                    return name;
                                }
                            }
                        }
                    }
                }
                "variable_declarator"
                    if x.parent().is_some_and(|d| {
                        d.parent().is_some_and(|p| {
                            p.kind() == "program" || p.kind() == "export_statement"
                        })
                    }) =>
                {
                    if let Some(name) = x.child_by_field_name("name") {
                        return self.t(name).to_string();
                    }
                }
                _ => {}
            }
            p = x.parent();
        }
        "<module>".into()
    }

    /// `router.post('/x', ...)` → `POST /x`.
    fn route_name(&self, call: Node) -> Option<String> {
        let (obj, _, _) = member_call(call, self.src)?;
        let method = self.t(call
            .child_by_field_name("function")?
            .child_by_field_name("property")?);
        if !HTTP_METHODS.contains(&method) || obj.kind() != "identifier" {
            return None;
        }
        let first = *args_of(call).first()?;
        let path = string_value(first, self.src)?;
        if !path.starts_with('/') && path != "*" {
            return None;
        }
        Some(format!("{} {path}", method.to_ascii_uppercase()))
    }

    /// A query chain starting at this call, if it is the chain's first link.
    fn query_call(&mut self, call: Node) {
        let Some((obj, _, prop)) = member_call(call, self.src) else {
            return;
        };
        let method = self.t(prop);
        let obj_u = unwrap_expr(obj);
        if method == "from" {
            let args = args_of(call);
            let Some(a0) = args.first() else { return };
            if let Some(table) = string_value(*a0, self.src) {
                // supabase-js: client.from('t'), client.schema('s').from('t'); never storage.
                if self.t(obj_u).ends_with(".storage") || self.t(obj_u).ends_with("storage") {
                    return;
                }
                if obj_u.kind() == "call_expression" {
                    if let Some((_, m, _)) = member_call(obj_u, self.src) {
                        if m != "schema" {
                            return; // knex/kysely `select().from('t')`
                        }
                    }
                }
                self.supabase_chain(call, obj_u, table);
            } else if a0.kind() == "identifier" || a0.kind() == "member_expression" {
                self.drizzle_select(call, obj_u, *a0);
            }
            return;
        }
        if matches!(method, "insert" | "update" | "delete") {
            // Drizzle: db.insert(t).values(...)
            let args = args_of(call);
            if args.len() == 1
                && matches!(args[0].kind(), "identifier" | "member_expression")
                && obj_u.kind() != "call_expression"
            {
                self.drizzle_write(call, obj_u, method, args[0]);
                return;
            }
        }
        if PRISMA_OPS.iter().any(|(m, _)| *m == method) && obj_u.kind() == "member_expression" {
            self.prisma(call, obj_u, method);
            return;
        }
        if matches!(
            method,
            "query" | "execute" | "$queryRawUnsafe" | "$executeRawUnsafe" | "unsafe"
        ) {
            self.raw_sql_call(call, obj_u, method);
            return;
        }
        // Extension of a query variable: `query = query.eq(...)`.
        if (SUPABASE_FILTERS.contains(&method) || SUPABASE_CHAIN.contains(&method))
            && obj_u.kind() == "identifier"
        {
            if let Some(BindingKind::QueryVar(qi)) =
                self.lookup(self.t(obj_u), call.start_byte()).cloned()
            {
                self.extend_query_var(call, qi);
            }
        }
    }

    /// Walk up a builder chain from its first call; returns the calls (method, call node) and
    /// the top expression.
    fn chain_up<'t>(&self, first: Node<'t>) -> (Vec<(String, Node<'t>)>, Node<'t>) {
        let mut calls = vec![];
        let mut cur = first;
        while let Some(p) = cur.parent() {
            match p.kind() {
                "member_expression" if p.child_by_field_name("object") == Some(cur) => {
                    let Some(gp) = p.parent() else { break };
                    if gp.kind() == "call_expression"
                        && gp.child_by_field_name("function") == Some(p)
                    {
                        let m = p
                            .child_by_field_name("property")
                            .map(|x| self.t(x).to_string())
                            .unwrap_or_default();
                        calls.push((m, gp));
                        cur = gp;
                    } else {
                        break;
                    }
                }
                "non_null_expression" | "parenthesized_expression" | "as_expression" => cur = p,
                _ => break,
            }
        }
        (calls, cur)
    }

    fn supabase_chain(&mut self, from_call: Node, client: Node, table: String) {
        let (mut schema, client_node) = (None, client);
        let mut client_node = client_node;
        if client_node.kind() == "call_expression" {
            if let Some((o, _, p)) = member_call(client_node, self.src) {
                if self.t(p) == "schema" {
                    schema = args_of(client_node)
                        .first()
                        .and_then(|a| string_value(*a, self.src));
                    client_node = unwrap_expr(o);
                }
            }
        }
        let cref = self.client_ref(client_node);
        let (calls, top) = self.chain_up(from_call);
        let mut q = Query {
            api: Api::SupabaseJs,
            line: line(from_call),
            end_line: end_line(top),
            text: shorten(&squash(self.t(top)), 300),
            client: cref,
            schema,
            table,
            op: Op::Select,
            filters: vec![],
            read_columns: vec![],
            written: vec![],
            written_opaque: false,
            check_names: true,
            owner: self.owner(from_call),
            binds: vec![],
            uses: vec![],
            tx: false,
        };
        self.apply_calls(&mut q, &calls, false);
        q.tx = self.in_transaction(from_call);
        q.binds = self.binds_of(top);
        let qi = self.m.queries.len();
        self.m.queries.push(q);
        // `let query = admin.from(...)...`: later `query = query.eq(...)` extends it.
        let top_u = top;
        let decl = top_u.parent().filter(|p| p.kind() == "variable_declarator");
        if let Some(d) = decl {
            if let Some(name) = d
                .child_by_field_name("name")
                .filter(|n| n.kind() == "identifier")
            {
                let scope = self.scope_of(d);
                let nm = self.t(name).to_string();
                self.push_binding(&nm, scope, d.end_byte(), BindingKind::QueryVar(qi));
            }
        }
    }

    fn extend_query_var(&mut self, first: Node, qi: usize) {
        let (mut calls, top) = self.chain_up(first);
        let m = member_call(first, self.src)
            .map(|(_, _, p)| self.t(p).to_string())
            .unwrap_or_default();
        calls.insert(0, (m, first));
        // Conditional when any enclosing construct between here and the query's declaration
        // scope branches.
        let decl_line = self.m.queries[qi].line;
        let mut conditional = false;
        let mut p = top.parent();
        while let Some(x) = p {
            if (matches!(
                x.kind(),
                "if_statement"
                    | "else_clause"
                    | "ternary_expression"
                    | "switch_case"
                    | "switch_default"
                    | "for_statement"
                    | "for_in_statement"
                    | "while_statement"
                    | "do_statement"
                    | "catch_clause"
            ) || (x.kind() == "binary_expression"
                && x.child_by_field_name("operator")
                    .is_some_and(|o| matches!(self.t(o), "&&" | "||" | "??"))))
                && line(x) >= decl_line
            {
                conditional = true;
            }
            if matches!(
                x.kind(),
                "arrow_function"
                    | "function_declaration"
                    | "function_expression"
                    | "method_definition"
            ) {
                break;
            }
            p = x.parent();
        }
        let mut q = self.m.queries[qi].clone();
        self.apply_calls(&mut q, &calls, conditional);
        q.end_line = q.end_line.max(end_line(top));
        self.m.queries[qi] = q;
    }

    fn apply_calls(&self, q: &mut Query, calls: &[(String, Node)], conditional: bool) {
        for (m, call) in calls {
            let args = args_of(*call);
            // The line of `.method(`, not of the chain's start.
            let ln = call
                .child_by_field_name("function")
                .and_then(|f| f.child_by_field_name("property"))
                .map(line)
                .unwrap_or_else(|| line(*call));
            match m.as_str() {
                "select" => {
                    if let Some(s) = args.first().and_then(|a| string_value(*a, self.src)) {
                        for c in select_columns(&s) {
                            q.read_columns.push((c, ln));
                        }
                    }
                }
                "insert" | "upsert" | "update" => {
                    q.op = match m.as_str() {
                        "insert" => Op::Insert,
                        "upsert" => Op::Upsert,
                        _ => Op::Update,
                    };
                    match args.first() {
                        Some(a) => self.object_values(*a, q),
                        None => q.written_opaque = true,
                    }
                }
                "delete" => q.op = Op::Delete,
                "order" => {
                    if let Some(c) = args.first().and_then(|a| string_value(*a, self.src)) {
                        q.read_columns.push((c, ln));
                    }
                }
                "match" => {
                    if let Some(o) = args.first() {
                        let o = unwrap_expr(*o);
                        if o.kind() == "object" {
                            for (k, v) in self.object_pairs(o) {
                                self.push_filter(q, k, v, conditional, "match".into(), ln);
                            }
                        }
                    }
                }
                "or" | "not" | "textSearch" => {}
                "filter" => {
                    let col = args.first().and_then(|a| string_value(*a, self.src));
                    let op = args
                        .get(1)
                        .and_then(|a| string_value(*a, self.src))
                        .unwrap_or_default();
                    if let Some(col) = col {
                        let v = args.get(2).copied();
                        self.push_filter(q, col, v, conditional, format!("filter:{op}"), ln);
                    }
                }
                f if SUPABASE_FILTERS.contains(&f) => {
                    if let Some(col) = args.first().and_then(|a| string_value(*a, self.src)) {
                        let v = args.get(1).copied();
                        self.push_filter(q, col, v, conditional, f.to_string(), ln);
                    }
                }
                _ => {}
            }
        }
    }

    /// Records a filter on `column` compared with `value` (when there is
    /// one): the value's origin, and the identifiers it reads as uses.
    fn push_filter(
        &self,
        q: &mut Query,
        column: String,
        value: Option<Node>,
        conditional: bool,
        method: String,
        line: u32,
    ) {
        if let Some(v) = value {
            collect_idents(v, self.src, &mut q.uses);
        }
        q.filters.push(Filter {
            column,
            origin: value.map(|v| self.origin(v)).unwrap_or(Origin::Other),
            conditional,
            method,
            line,
        });
    }

    fn object_pairs<'t>(&self, o: Node<'t>) -> Vec<(String, Option<Node<'t>>)> {
        let mut out = vec![];
        let mut c = o.walk();
        for p in o.named_children(&mut c) {
            match p.kind() {
                "pair" => {
                    let Some(k) = p.child_by_field_name("key") else {
                        continue;
                    };
                    let key = match k.kind() {
                        "property_identifier" => self.t(k).to_string(),
                        "string" => string_value(k, self.src).unwrap_or_default(),
                        _ => continue,
                    };
                    out.push((key, p.child_by_field_name("value")));
                }
                "shorthand_property_identifier" => out.push((self.t(p).to_string(), Some(p))),
                _ => {}
            }
        }
        out
    }

    fn object_values(&self, a: Node, q: &mut Query) {
        let a = unwrap_expr(a);
        let objs: Vec<Node> = match a.kind() {
            "object" => vec![a],
            "array" => {
                let mut c = a.walk();
                a.named_children(&mut c).map(unwrap_expr).collect()
            }
            _ => vec![],
        };
        if objs.is_empty() || objs.iter().any(|o| o.kind() != "object") {
            q.written_opaque = true;
            collect_idents(a, self.src, &mut q.uses);
            return;
        }
        for o in objs {
            let mut c = o.walk();
            if o.named_children(&mut c)
                .any(|p| p.kind() == "spread_element")
            {
                q.written_opaque = true;
            }
            for (k, v) in self.object_pairs(o) {
                let origin = v.map(|v| self.origin(v)).unwrap_or(Origin::Other);
                if let Some(v) = v {
                    collect_idents(v, self.src, &mut q.uses);
                }
                if !q.written.iter().any(|(c, _)| *c == k) {
                    q.written.push((k, origin));
                }
            }
        }
    }

    fn origin(&self, v: Node) -> Origin {
        let v = unwrap_expr(v);
        let v = if v.kind() == "call_expression"
            && matches!(callee_name(v, self.src), "String" | "Number" | "parseInt")
        {
            args_of(v).first().copied().unwrap_or(v)
        } else {
            v
        };
        match self.taint_of(v) {
            Some(r) => Origin::Request(r),
            None => Origin::Other,
        }
    }

    fn client_ref(&self, n: Node) -> ClientRef {
        let n = unwrap_expr(n);
        match n.kind() {
            "identifier" => {
                let name = self.t(n);
                match self.lookup(name, n.start_byte()) {
                    Some(BindingKind::Client(r)) => r.clone(),
                    _ => ClientRef::Name(name.to_string()),
                }
            }
            "call_expression" | "new_expression" => {
                if let Some((_, info, _)) = self.creation_info(n) {
                    return ClientRef::Known(info.kind, info.how);
                }
                let f = n.child_by_field_name("function");
                match f {
                    Some(f) if f.kind() == "identifier" => ClientRef::Call(self.t(f).to_string()),
                    _ => ClientRef::Unknown,
                }
            }
            _ => ClientRef::Unknown,
        }
    }

    fn in_transaction(&self, n: Node) -> bool {
        let mut p = n.parent();
        let mut fn_body = None;
        while let Some(x) = p {
            if x.kind() == "call_expression" {
                let c = callee_name(x, self.src);
                if c.ends_with("transaction")
                    || c.ends_with("$transaction")
                    || c.ends_with(".begin")
                {
                    return true;
                }
            }
            if matches!(x.kind(), "function_declaration" | "method_definition")
                || (matches!(x.kind(), "arrow_function" | "function_expression")
                    && fn_body.is_none())
            {
                fn_body = Some(x);
            }
            p = x.parent();
        }
        if let Some(f) = fn_body {
            let t = self.t(f);
            return t.contains(".transaction(")
                || t.contains("$transaction")
                || t.contains(".rpc(")
                || t.contains("BEGIN");
        }
        false
    }

    /// Names bound by the declaration holding `top` (`const { data: org } = await ...`).
    fn binds_of(&self, top: Node) -> Vec<String> {
        let mut p = top.parent();
        while let Some(x) = p {
            match x.kind() {
                "await_expression"
                | "parenthesized_expression"
                | "non_null_expression"
                | "as_expression" => p = x.parent(),
                "variable_declarator" => {
                    let mut out = vec![];
                    if let Some(n) = x.child_by_field_name("name") {
                        collect_pattern_names(n, self.src, &mut out);
                    }
                    return out;
                }
                _ => return vec![],
            }
        }
        vec![]
    }

    // ---- Drizzle ----

    fn drizzle_select(&mut self, from_call: Node, obj: Node, table: Node) {
        // obj must be `db.select(...)` / `db.selectDistinct(...)`.
        let Some((client, m, _)) = member_call(obj, self.src) else {
            return;
        };
        if !m.starts_with("select") {
            return;
        }
        let (calls, top) = self.chain_up(from_call);
        let mut q = self.drizzle_query(from_call, client, table, Op::Select, top);
        self.drizzle_calls(&mut q, &calls);
        self.finish_direct(q, top);
    }

    fn drizzle_write(&mut self, call: Node, client: Node, method: &str, table: Node) {
        let (calls, top) = self.chain_up(call);
        if method != "delete" && calls.is_empty() {
            return;
        }
        let op = match method {
            "insert" => Op::Insert,
            "update" => Op::Update,
            _ => Op::Delete,
        };
        let mut q = self.drizzle_query(call, client, table, op, top);
        self.drizzle_calls(&mut q, &calls);
        if op == Op::Insert && calls.iter().any(|(m, _)| m == "onConflictDoUpdate") {
            q.op = Op::Upsert;
        }
        self.finish_direct(q, top);
    }

    fn drizzle_query(&self, first: Node, client: Node, table: Node, op: Op, top: Node) -> Query {
        let tname = self.t(table).rsplit('.').next().unwrap_or("").to_string();
        Query {
            api: Api::Drizzle,
            line: line(first),
            end_line: end_line(top),
            text: shorten(&squash(self.t(top)), 300),
            client: self.client_ref(client),
            schema: None,
            table: format!("@drizzle:{tname}"),
            op,
            filters: vec![],
            read_columns: vec![],
            written: vec![],
            written_opaque: false,
            check_names: true,
            owner: self.owner(first),
            binds: vec![],
            uses: vec![],
            tx: false,
        }
    }

    fn drizzle_calls(&self, q: &mut Query, calls: &[(String, Node)]) {
        for (m, call) in calls {
            let args = args_of(*call);
            match m.as_str() {
                "where" => {
                    if let Some(w) = args.first() {
                        self.drizzle_where(*w, q, false);
                    }
                }
                "values" | "set" => match args.first() {
                    Some(a) => self.object_values(*a, q),
                    None => q.written_opaque = true,
                },
                _ => {}
            }
        }
    }

    fn drizzle_where(&self, w: Node, q: &mut Query, conditional: bool) {
        let w = unwrap_expr(w);
        if w.kind() != "call_expression" {
            return;
        }
        let f = callee_name(w, self.src);
        let args = args_of(w);
        match f {
            "and" => {
                for a in args {
                    self.drizzle_where(a, q, conditional);
                }
            }
            "or" | "not" => {
                for a in args {
                    self.drizzle_where(a, q, true);
                }
            }
            "eq" | "inArray" | "ne" | "gt" | "gte" | "lt" | "lte" | "like" | "ilike" | "isNull"
            | "isNotNull" => {
                let Some(c) = args.first() else { return };
                let c = unwrap_expr(*c);
                if c.kind() != "member_expression" {
                    return;
                }
                let prop = c
                    .child_by_field_name("property")
                    .map(|p| self.t(p).to_string())
                    .unwrap_or_default();
                let v = args.get(1).copied();
                self.push_filter(
                    q,
                    format!("@prop:{prop}"),
                    v,
                    conditional || !matches!(f, "eq" | "inArray"),
                    f.to_string(),
                    line(w),
                );
            }
            _ => {}
        }
    }

    fn finish_direct(&mut self, mut q: Query, top: Node) {
        q.tx = self.in_transaction(top);
        q.binds = self.binds_of(top);
        self.m.queries.push(q);
    }

    // ---- Prisma ----

    fn prisma(&mut self, call: Node, obj: Node, method: &str) {
        // prisma.model.findMany({...})
        let (Some(client), Some(model)) = (
            obj.child_by_field_name("object"),
            obj.child_by_field_name("property"),
        ) else {
            return;
        };
        let client = unwrap_expr(client);
        let cref = self.client_ref(client);
        let prisma_like = match &cref {
            ClientRef::Known(ClientKind::Direct, how) => how.contains("Prisma"),
            ClientRef::Name(n) => {
                n == "prisma"
                    || n == "db" && self.m.imports.iter().any(|i| i.local == "db")
                    || self
                        .m
                        .clients
                        .iter()
                        .any(|c| c.name == *n && c.info.how.contains("Prisma"))
            }
            _ => false,
        };
        if !prisma_like {
            return;
        }
        let op = PRISMA_OPS
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, o)| *o)
            .unwrap_or(Op::Select);
        let model = self.t(model).to_string();
        let mut q = Query {
            api: Api::Prisma,
            line: line(call),
            end_line: end_line(call),
            text: shorten(&squash(self.t(call)), 300),
            client: cref,
            schema: None,
            table: format!("@prisma:{model}"),
            op,
            filters: vec![],
            read_columns: vec![],
            written: vec![],
            written_opaque: false,
            check_names: false,
            owner: self.owner(call),
            binds: vec![],
            uses: vec![],
            tx: false,
        };
        if let Some(arg) = args_of(call).first().map(|a| unwrap_expr(*a)) {
            if arg.kind() == "object" {
                for (k, v) in self.object_pairs(arg) {
                    let Some(v) = v.map(unwrap_expr) else {
                        continue;
                    };
                    match k.as_str() {
                        "where" if v.kind() == "object" => {
                            for (col, val) in self.object_pairs(v) {
                                if matches!(col.as_str(), "AND" | "OR" | "NOT") {
                                    continue;
                                }
                                self.push_filter(&mut q, col, val, false, "where".into(), line(v));
                            }
                        }
                        "where" => q.filters.push(Filter {
                            column: "@opaque".into(),
                            origin: Origin::Other,
                            conditional: true,
                            method: "where".into(),
                            line: line(v),
                        }),
                        "data" | "create" => self.object_values(v, &mut q),
                        _ => {}
                    }
                }
            } else {
                q.written_opaque = true;
            }
        }
        let top = call;
        self.finish_direct(q, top);
    }

    // ---- Raw SQL ----

    fn raw_sql_call(&mut self, call: Node, obj: Node, method: &str) {
        let cref = self.client_ref(obj);
        let name = self.t(obj).to_ascii_lowercase();
        let direct = matches!(&cref, ClientRef::Known(ClientKind::Direct, _))
            || [
                "pool",
                "db",
                "client",
                "pg",
                "sql",
                "conn",
                "connection",
                "prisma",
                "tx",
                "trx",
            ]
            .iter()
            .any(|n| name == *n || name.ends_with(&format!(".{n}")));
        if !direct && method != "$queryRawUnsafe" && method != "$executeRawUnsafe" {
            return;
        }
        let Some(a0) = args_of(call).first().copied() else {
            return;
        };
        let a0 = unwrap_expr(a0);
        let sql = match a0.kind() {
            "string" | "template_string" => template_sql(a0, self.src),
            "identifier" => {
                // const q = `...`
                match self.const_text(self.t(a0)) {
                    Some(t) if t.starts_with('`') || t.starts_with('\'') || t.starts_with('"') => {
                        t[1..t.len().saturating_sub(1)].to_string()
                    }
                    _ => return,
                }
            }
            _ => return,
        };
        self.raw_sql(call, cref, &sql);
    }

    fn raw_sql(&mut self, node: Node, cref: ClientRef, sql: &str) {
        let cref = match cref {
            ClientRef::Unknown => ClientRef::Known(
                ClientKind::Direct,
                "a SQL query on a database connection".into(),
            ),
            c => c,
        };
        for s in crate::sqltext::analyse(sql) {
            let q = Query {
                api: Api::Sql,
                line: line(node),
                end_line: end_line(node),
                text: shorten(&squash(sql), 300),
                client: cref.clone(),
                schema: s.schema,
                table: s.table,
                op: s.op,
                filters: s
                    .filters
                    .into_iter()
                    .map(|c| Filter {
                        column: c,
                        origin: Origin::Other,
                        conditional: false,
                        method: "where".into(),
                        line: line(node),
                    })
                    .collect(),
                read_columns: s.columns.into_iter().map(|c| (c, line(node))).collect(),
                written: s.written.into_iter().map(|c| (c, Origin::Other)).collect(),
                written_opaque: false,
                check_names: s.single_table,
                owner: self.owner(node),
                binds: vec![],
                uses: vec![],
                tx: false,
            };
            let top = node;
            self.finish_direct(q, top);
        }
    }

    // ---- Routes ----

    fn routes(&mut self, nodes: &[Node]) {
        // router.use(mw) positions: (router, byte, middleware name).
        let mut uses: Vec<(String, usize, String)> = vec![];
        let mut routes: Vec<(Node, String, String, Vec<String>, Node)> = vec![];
        for &n in nodes {
            if n.kind() == "call_expression" {
                if let Some((obj, _, prop)) = member_call(n, self.src) {
                    let m = self.t(prop);
                    let obj = unwrap_expr(obj);
                    if obj.kind() == "identifier" {
                        let router = self.t(obj).to_string();
                        let args = args_of(n);
                        if m == "use" {
                            for a in &args {
                                let name = middleware_name(*a, self.src);
                                if is_auth_name(&name) {
                                    uses.push((router.clone(), n.start_byte(), name));
                                }
                            }
                        } else if HTTP_METHODS.contains(&m) && args.len() >= 2 {
                            if let Some(path) = string_value(args[0], self.src)
                                .filter(|p| p.starts_with('/') || p == "*")
                            {
                                let handler = *args.last().unwrap();
                                let mids: Vec<String> = args[1..args.len() - 1]
                                    .iter()
                                    .map(|a| middleware_name(*a, self.src))
                                    .collect();
                                routes.push((
                                    n,
                                    format!("{} {path}", m.to_ascii_uppercase()),
                                    router,
                                    mids,
                                    handler,
                                ));
                            }
                        }
                    }
                }
            }
        }
        for (call, name, router, mids, handler) in routes {
            let guard = mids.iter().find(|m| is_auth_name(m)).cloned().or_else(|| {
                uses.iter()
                    .find(|(r, pos, _)| *r == router && *pos < call.start_byte())
                    .map(|(_, _, m)| format!("{router}.use({m})"))
            });
            let handler_u = unwrap_expr(handler);
            let body = if matches!(
                handler_u.kind(),
                "arrow_function" | "function_expression" | "function"
            ) {
                Some(handler_u)
            } else {
                None
            };
            let mut verification = mids.iter().find(|m| is_verify_name(m)).cloned();
            let (auth_call, transactional) = match body {
                Some(b) => {
                    if verification.is_none() {
                        verification = self.verification_in(b);
                    }
                    (
                        self.auth_in(b),
                        self.t(b).contains(".transaction(") || self.t(b).contains(".rpc("),
                    )
                }
                None => (None, false),
            };
            let lname = name.to_ascii_lowercase();
            let is_webhook = lname.contains("webhook")
                || lname.contains("/hooks/")
                || self.display.to_ascii_lowercase().contains("webhook")
                    && !lname.starts_with("get ");
            let span = body.unwrap_or(call);
            self.m.handlers.push(Handler {
                name,
                kind: HandlerKind::Express,
                line: line(call),
                end_line: end_line(span),
                guarded_by: guard,
                auth_call,
                verification,
                is_webhook,
                transactional,
            });
        }
    }

    /// Next.js app router `route.ts` exports and server actions.
    fn next_handlers(&mut self, root: Node) {
        let p = self.display.replace('\\', "/");
        let stem = self.path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let is_route = stem == "route" && p.contains("/app/");
        let is_pages_api = p.contains("/pages/api/");
        if !is_route && !self.m.use_server && !is_pages_api {
            return;
        }
        let route_path = if is_route {
            let i = p.rfind("/app/").map(|i| i + 4).unwrap_or(0);
            p[i..]
                .trim_end_matches(|c| c != '/')
                .trim_end_matches('/')
                .to_string()
        } else if is_pages_api {
            let i = p.find("/pages/").map(|i| i + 6).unwrap_or(0);
            p[i..]
                .rsplit_once('.')
                .map(|(a, _)| a.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let mut c = root.walk();
        for st in root.named_children(&mut c) {
            if st.kind() != "export_statement" {
                continue;
            }
            let is_default = self.t(st).starts_with("export default");
            let mut funcs: Vec<(String, Node)> = vec![];
            if let Some(d) = st.child_by_field_name("declaration") {
                match d.kind() {
                    "function_declaration" => {
                        if let Some(n) = d.child_by_field_name("name") {
                            funcs.push((self.t(n).to_string(), d));
                        }
                    }
                    "lexical_declaration" => {
                        let mut c2 = d.walk();
                        for v in d.named_children(&mut c2) {
                            if let (Some(n), Some(val)) = (
                                v.child_by_field_name("name"),
                                v.child_by_field_name("value"),
                            ) {
                                let val = unwrap_expr(val);
                                if matches!(
                                    val.kind(),
                                    "arrow_function" | "function_expression" | "function"
                                ) {
                                    funcs.push((self.t(n).to_string(), val));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            } else if is_default && is_pages_api {
                if let Some(v) = st.child_by_field_name("value") {
                    funcs.push(("default".into(), v));
                }
            }
            for (name, f) in funcs {
                let (kind, hname) =
                    if is_route && HTTP_METHODS.iter().any(|m| m.to_ascii_uppercase() == name) {
                        (HandlerKind::NextRoute, format!("{name} {route_path}"))
                    } else if is_pages_api && (is_default || name == "handler") {
                        (HandlerKind::NextRoute, format!("API {route_path}"))
                    } else if self.m.use_server {
                        (HandlerKind::ServerAction, format!("action {name}"))
                    } else {
                        continue;
                    };
                let lname = hname.to_ascii_lowercase();
                self.m.handlers.push(Handler {
                    name: hname,
                    kind,
                    line: line(f),
                    end_line: end_line(f),
                    guarded_by: None,
                    auth_call: self.auth_in(f),
                    verification: self.verification_in(f),
                    is_webhook: lname.contains("webhook") || lname.contains("/hooks/"),
                    transactional: self.t(f).contains(".transaction(")
                        || self.t(f).contains(".rpc("),
                });
            }
        }
    }

    fn calls_in<'t>(&self, f: Node<'t>) -> Vec<Node<'t>> {
        preorder(f)
            .into_iter()
            .filter(|n| n.kind() == "call_expression")
            .collect()
    }

    fn verification_in(&self, f: Node) -> Option<String> {
        for call in self.calls_in(f) {
            let c = callee_name(call, self.src);
            let short = c.rsplit('.').next().unwrap_or(c);
            if matches!(
                short,
                "constructEvent"
                    | "constructEventAsync"
                    | "timingSafeEqual"
                    | "createHmac"
                    | "verifySignature"
                    | "validateRequest"
                    | "validateRequestWithBody"
                    | "verifyWebhook"
                    | "verifyWebhookSignature"
                    | "validateSignature"
                    | "checkSignature"
                    | "verifyHeader"
                    | "unwrap"
            ) || (short == "verify" && !c.starts_with("jwt"))
                || short.to_ascii_lowercase().contains("signature")
                    && short.to_ascii_lowercase().contains("verif")
            {
                return Some(format!("{c}(…) at line {}", line(call)));
            }
        }
        None
    }

    /// An auth call in the handler, and whether the handler stops when it finds no user.
    fn auth_in(&self, f: Node) -> Option<(String, bool)> {
        let calls = self.calls_in(f);
        let auth = calls.iter().find(|call| {
            let c = callee_name(**call, self.src);
            let short = c.rsplit('.').next().unwrap_or(c);
            c.ends_with("auth.getUser")
                || c.ends_with("auth.getSession")
                || c.ends_with("auth.getClaims")
                || matches!(
                    short,
                    "getServerSession"
                        | "currentUser"
                        | "getAuth"
                        | "verifyIdToken"
                        | "getUser"
                        | "getSession"
                        | "requireUser"
                        | "requireAuth"
                        | "requireSession"
                        | "getCurrentUser"
                        | "getServerUser"
                        | "ensureAuth"
                        | "authenticate"
                        | "validateSession"
                        | "getUserFromRequest"
                        | "authorize"
                )
                || c == "auth"
                || c == "jwt.verify"
                || c == "jwtVerify"
        })?;
        let c = callee_name(*auth, self.src).to_string();
        let short = c.rsplit('.').next().unwrap_or(&c).to_string();
        if short.starts_with("require")
            || short.starts_with("ensure")
            || short == "verify"
            || short == "jwtVerify"
            || short == "verifyIdToken"
            || short == "authorize"
            || short == "authenticate"
        {
            return Some((c, true));
        }
        // Look for `if (!user) return/throw/redirect` after it.
        let mut stops = false;
        for n in preorder(f) {
            if n.kind() == "if_statement" && n.start_byte() > auth.start_byte() {
                let cond = n
                    .child_by_field_name("condition")
                    .map(|x| self.t(x).to_ascii_lowercase())
                    .unwrap_or_default();
                let cons = n
                    .child_by_field_name("consequence")
                    .map(|x| self.t(x))
                    .unwrap_or("");
                if (cond.contains("user")
                    || cond.contains("session")
                    || cond.contains("error")
                    || cond.contains("claims")
                    || cond.contains("auth"))
                    && (cons.contains("return")
                        || cons.contains("throw")
                        || cons.contains("redirect(")
                        || cons.contains("notFound("))
                {
                    stops = true;
                }
            }
        }
        Some((c, stops))
    }
}

pub const HTTP_METHODS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "all", "options", "head",
];

const PRISMA_OPS: &[(&str, Op)] = &[
    ("findMany", Op::Select),
    ("findFirst", Op::Select),
    ("findFirstOrThrow", Op::Select),
    ("findUnique", Op::Select),
    ("findUniqueOrThrow", Op::Select),
    ("count", Op::Select),
    ("aggregate", Op::Select),
    ("groupBy", Op::Select),
    ("create", Op::Insert),
    ("createMany", Op::Insert),
    ("createManyAndReturn", Op::Insert),
    ("update", Op::Update),
    ("updateMany", Op::Update),
    ("upsert", Op::Upsert),
    ("delete", Op::Delete),
    ("deleteMany", Op::Delete),
];

fn middleware_name(a: Node, src: &str) -> String {
    let a = unwrap_expr(a);
    match a.kind() {
        "call_expression" => callee_name(a, src).to_string(),
        _ => text(a, src).to_string(),
    }
}

pub fn is_auth_name(n: &str) -> bool {
    let l = n.to_ascii_lowercase();
    let l = l.rsplit('.').next().unwrap_or(&l).to_string();
    (l.contains("auth") && !l.contains("oauth") && !l.contains("author"))
        || l.contains("requireuser")
        || l.contains("verifytoken")
        || l.contains("verifyjwt")
        || l.contains("protect")
        || l.contains("ensureloggedin")
        || l.contains("requirelogin")
        || l.contains("isloggedin")
        || l.contains("requiresession")
        || l == "jwt"
        || l.contains("passport.authenticate")
        || l.contains("clerkmiddleware")
}

fn is_verify_name(n: &str) -> bool {
    let l = n.to_ascii_lowercase();
    l.contains("signature")
        || l.contains("verifywebhook")
        || l.contains("webhookauth")
        || l.contains("verifyhmac")
        || l.contains("validatewebhook")
}

fn is_request_name(n: &str) -> bool {
    matches!(n, "req" | "request" | "ctx.request" | "c.req" | "event")
}

/// `req.body`, `req.query.x`, `request.body`: the request source it reads.
fn request_source(t: &str) -> Option<String> {
    let t = t.trim();
    for root in ["req", "request", "ctx.request", "c.req"] {
        for part in ["body", "query"] {
            let base = format!("{root}.{part}");
            if t == base {
                return Some(base);
            }
            if let Some(rest) = t.strip_prefix(&base) {
                if rest.starts_with('.') || rest.starts_with('[') || rest.starts_with("?.") {
                    return Some(t.to_string());
                }
            }
        }
    }
    if let Some(rest) = t.strip_prefix("searchParams.get(") {
        return Some(format!("searchParams.get({rest}"));
    }
    None
}

/// `formData.get('org_id')`.
fn form_data_source(n: Node, src: &str) -> Option<String> {
    let n = unwrap_expr(n);
    if n.kind() != "call_expression" {
        return None;
    }
    let c = callee_name(n, src);
    if c.ends_with("formData.get") || c.ends_with("searchParams.get") || c == "data.get" {
        return Some(text(n, src).to_string());
    }
    None
}

fn collect_pattern_names(n: Node, src: &str, out: &mut Vec<String>) {
    match n.kind() {
        "identifier" | "shorthand_property_identifier_pattern" => {
            out.push(text(n, src).to_string())
        }
        _ => {
            if n.kind() == "pair_pattern" {
                if let Some(v) = n.child_by_field_name("value") {
                    collect_pattern_names(v, src, out);
                }
                if let Some(k) = n.child_by_field_name("key") {
                    out.push(text(k, src).to_string());
                }
                return;
            }
            if n.kind().contains("type_annotation") {
                return;
            }
            let mut c = n.walk();
            for ch in n.named_children(&mut c) {
                collect_pattern_names(ch, src, out);
            }
        }
    }
}

fn collect_idents(n: Node, src: &str, out: &mut Vec<String>) {
    if matches!(n.kind(), "identifier" | "shorthand_property_identifier") {
        let t = text(n, src).to_string();
        if !out.contains(&t) {
            out.push(t);
        }
        return;
    }
    if n.kind() == "member_expression" {
        if let Some(o) = n.child_by_field_name("object") {
            collect_idents(o, src, out);
        }
        return;
    }
    let mut c = n.walk();
    for ch in n.named_children(&mut c) {
        collect_idents(ch, src, out);
    }
}

/// Text of a SQL string or template, substitutions as `$n` parameters.
fn template_sql(n: Node, src: &str) -> String {
    if n.kind() == "string" {
        return string_value(n, src).unwrap_or_default();
    }
    let mut out = String::new();
    let mut i = 0;
    let t = text(n, src);
    let base = n.start_byte();
    let mut c = n.walk();
    let mut last = base + 1;
    for ch in n.named_children(&mut c) {
        if ch.kind() == "template_substitution" {
            out.push_str(&src[last..ch.start_byte()]);
            i += 1;
            out.push_str(&format!("${i}"));
            last = ch.end_byte();
        }
    }
    let end = base + t.len() - 1;
    if last < end {
        out.push_str(&src[last..end]);
    }
    out
}

/// Column names of a PostgREST select list: plain columns only (no embeds, no JSON paths, no
/// aggregates), renames (`alias:col`) and casts (`col::text`) resolved.
pub fn select_columns(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut depth = 0;
    let mut cur = String::new();
    let mut parts = vec![];
    for ch in s.chars() {
        match ch {
            '(' => {
                depth += 1;
                cur.push(ch)
            }
            ')' => {
                depth -= 1;
                cur.push(ch)
            }
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut cur));
            }
            _ => cur.push(ch),
        }
    }
    parts.push(cur);
    for p in parts {
        let p = p.trim();
        if p.is_empty()
            || p == "*"
            || p.contains('(')
            || p.contains("->")
            || p.contains('!')
            || p.starts_with("...")
        {
            continue;
        }
        let p = p.split("::").next().unwrap_or(p);
        let p = p.rsplit(':').next().unwrap_or(p).trim();
        let p = p.trim_matches('"');
        if p.is_empty() || !p.chars().all(|c| c.is_alphanumeric() || c == '_') || p == "count" {
            continue;
        }
        out.push(p.to_string());
    }
    out
}

pub fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_lists() {
        assert_eq!(
            select_columns("id, phone, status"),
            vec!["id", "phone", "status"]
        );
        assert_eq!(
            select_columns("*, org:organizations(name)"),
            Vec::<String>::new()
        );
        assert_eq!(
            select_columns("n:name, data->>x, created_at::text"),
            vec!["name", "created_at"]
        );
    }
}
