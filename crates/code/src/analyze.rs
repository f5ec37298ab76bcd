//! Cross-file resolution (imports, clients, Drizzle tables) and the rules' shared view of the
//! project.

use crate::model::*;
use dbaudit_catalog::Relation;
use dbaudit_findings::Finding;
use dbaudit_rules::Context;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

pub struct Project<'p, 'c> {
    pub ctx: &'p Context<'c>,
    pub files: &'p [FileModel],
    by_path: HashMap<PathBuf, usize>,
    /// Drizzle table variable → (file, model).
    drizzle: HashMap<String, (usize, usize)>,
    /// A Next.js middleware establishing the caller exists.
    pub next_middleware: bool,
}

pub fn run(ctx: &Context<'_>, files: &[FileModel]) -> Vec<Finding> {
    let p = Project::new(ctx, files);
    let mut out = vec![];
    use crate::rules::*;
    out.extend(code001_query_missing_tenant_filter::check(&p));
    out.extend(code002_service_key_fallback::check(&p));
    out.extend(code003_route_missing_auth::check(&p));
    out.extend(code004_webhook_unverified::check(&p));
    out.extend(code005_unknown_column_reference::check(&p));
    out.extend(code006_tenant_id_from_request::check(&p));
    out.extend(code007_duplicate_db_client::check(&p));
    out.extend(code008_multi_write_without_transaction::check(&p));
    out.extend(code009_orm_foreign_key_mismatch::check(&p));
    out.extend(code010_type_check_suppressed::check(&p));
    // One finding per fingerprint.
    let mut seen = std::collections::HashSet::new();
    out.retain(|f| seen.insert(f.fingerprint.clone()));
    out
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

fn strip_ext(p: &Path) -> PathBuf {
    let s = p.to_string_lossy();
    for ext in [
        ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".py",
    ] {
        if let Some(x) = s.strip_suffix(ext) {
            return PathBuf::from(x);
        }
    }
    p.to_path_buf()
}

impl<'p, 'c> Project<'p, 'c> {
    pub fn new(ctx: &'p Context<'c>, files: &'p [FileModel]) -> Self {
        let mut by_path = HashMap::new();
        let mut drizzle = HashMap::new();
        for (i, f) in files.iter().enumerate() {
            by_path.insert(strip_ext(&normalize(&f.path)), i);
            for (j, m) in f.models.iter().enumerate() {
                if m.drizzle {
                    drizzle.entry(m.class.clone()).or_insert((i, j));
                }
            }
        }
        let next_middleware = files.iter().any(|f| f.auth_middleware);
        Project {
            ctx,
            files,
            by_path,
            drizzle,
            next_middleware,
        }
    }

    /// The file an import of `source` from file `from` names.
    pub fn resolve_module(&self, from: usize, source: &str) -> Option<usize> {
        let base = &self.files[from].path;
        let candidates: Vec<PathBuf> = if source.starts_with('.') {
            let dir = base.parent().unwrap_or(Path::new(""));
            vec![normalize(&dir.join(source))]
        } else if let Some(rest) = source
            .strip_prefix("@/")
            .or_else(|| source.strip_prefix("~/"))
            .or_else(|| source.strip_prefix("src/"))
        {
            // Path aliases: the unique file whose path ends with it.
            let want = PathBuf::from(rest);
            let hits: Vec<usize> = self
                .by_path
                .iter()
                .filter(|(p, _)| p.ends_with(&want) || p.ends_with(want.join("index")))
                .map(|(_, i)| *i)
                .collect();
            return if hits.len() == 1 { Some(hits[0]) } else { None };
        } else {
            return None;
        };
        for c in candidates {
            let c = strip_ext(&c);
            if let Some(i) = self.by_path.get(&c) {
                return Some(*i);
            }
            if let Some(i) = self.by_path.get(&c.join("index")) {
                return Some(*i);
            }
        }
        None
    }

    /// What client a chain's start refers to, following imports.
    pub fn resolve_client(&self, file: usize, r: &ClientRef) -> Option<ClientInfo> {
        self.resolve_client_depth(file, r, 0)
    }

    fn resolve_client_depth(&self, file: usize, r: &ClientRef, depth: u8) -> Option<ClientInfo> {
        if depth > 4 {
            return None;
        }
        let (name, want_fn) = match r {
            ClientRef::Known(kind, how) => {
                return Some(ClientInfo {
                    kind: *kind,
                    how: how.clone(),
                })
            }
            ClientRef::Unknown => return None,
            ClientRef::Name(n) => (n.as_str(), false),
            ClientRef::Call(n) => (n.as_str(), true),
        };
        let f = &self.files[file];
        if let Some(d) = f
            .clients
            .iter()
            .find(|d| d.name == name && d.is_function == want_fn)
        {
            return Some(self.with_place(file, d));
        }
        let imp = f.imports.iter().find(|i| i.local == name)?;
        let target = self.resolve_module(file, &imp.source)?;
        let tf = &self.files[target];
        let d = tf
            .clients
            .iter()
            .find(|d| d.name == imp.imported && d.exported && d.is_function == want_fn)?;
        Some(self.with_place(target, d))
    }

    fn with_place(&self, file: usize, d: &ClientDef) -> ClientInfo {
        ClientInfo {
            kind: d.info.kind,
            how: format!(
                "{}{} = {} ({}:{})",
                d.name,
                if d.is_function { "()" } else { "" },
                d.info.how,
                self.files[file].display,
                d.line
            ),
        }
    }

    /// The relation a query names.
    pub fn relation(&self, file: usize, q: &Query) -> Option<&'c Relation> {
        let (schema, name) = self.table_name(file, q)?;
        self.ctx.index.relation_named(&schema, &name)
    }

    /// Schema and table a query names, resolving Drizzle and Prisma names.
    pub fn table_name(&self, _file: usize, q: &Query) -> Option<(String, String)> {
        let schema = q.schema.clone().unwrap_or_else(|| "public".into());
        if let Some(var) = q.table.strip_prefix("@drizzle:") {
            let (fi, mi) = self.drizzle.get(var)?;
            let m = &self.files[*fi].models[*mi];
            return Some((schema, m.table.clone()));
        }
        if let Some(model) = q.table.strip_prefix("@prisma:") {
            // Prisma model names: `callLog` → CallLog, call_log, call_logs.
            let snake = to_snake(model);
            for cand in [
                model.to_string(),
                upper_first(model),
                snake.clone(),
                format!("{snake}s"),
                format!("{snake}es"),
            ] {
                if self.ctx.index.relation_named(&schema, &cand).is_some() {
                    return Some((schema, cand));
                }
            }
            return None;
        }
        Some((schema, q.table.clone()))
    }

    /// A column name as the query wrote it, as the database's name.
    pub fn column_name(&self, q: &Query, col: &str) -> String {
        if let Some(prop) = col.strip_prefix("@prop:") {
            if let Some(var) = q.table.strip_prefix("@drizzle:") {
                if let Some((fi, mi)) = self.drizzle.get(var) {
                    if let Some(c) = self.files[*fi].models[*mi]
                        .columns
                        .iter()
                        .find(|c| c.attr == prop)
                    {
                        return c.column.clone();
                    }
                }
            }
            return to_snake(prop);
        }
        col.to_string()
    }

    /// The handler (route, action) a line of a file belongs to.
    pub fn handler_at(&self, file: usize, line: u32) -> Option<&'p Handler> {
        self.files[file]
            .handlers
            .iter()
            .filter(|h| h.line <= line && line <= h.end_line)
            .min_by_key(|h| h.end_line - h.line)
    }

    /// The handlers of the files that are not tests, each with its file's index and model.
    pub fn app_handlers(&self) -> impl Iterator<Item = (usize, &'p FileModel, &'p Handler)> {
        self.files
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.is_test)
            .flat_map(|(fi, f)| f.handlers.iter().map(move |h| (fi, f, h)))
    }

    /// The queries of a file that run in handler `h` (the innermost handler at their line), in
    /// file order.
    pub fn handler_queries<'a>(
        &'a self,
        file: usize,
        h: &'a Handler,
    ) -> impl Iterator<Item = &'p Query> + 'a {
        self.files[file].queries.iter().filter(move |q| {
            self.handler_at(file, q.line)
                .is_some_and(|x| std::ptr::eq(x, h))
        })
    }

    /// Drizzle model of a variable.
    pub fn drizzle_model(&self, var: &str) -> Option<&'p OrmModel> {
        self.drizzle
            .get(var)
            .map(|(f, m)| &self.files[*f].models[*m])
    }
}

pub fn to_snake(s: &str) -> String {
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if ch.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Column names compared loosely: `orgId` (Prisma, Drizzle property) and `org_id` are one.
pub fn same_column(a: &str, b: &str) -> bool {
    let n = |s: &str| s.replace('_', "").to_ascii_lowercase();
    n(a) == n(b)
}
