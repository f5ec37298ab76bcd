//! Finding source files the way git would.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    TypeScript,
    Tsx,
    JavaScript,
    Python,
}

pub struct SourceFile {
    /// Root as given joined with the path under it.
    pub display: String,
    pub path: PathBuf,
    /// The path under the root (what test/script detection looks at).
    pub rel: String,
}

pub fn language_of(path: &Path) -> Option<Lang> {
    let name = path.file_name()?.to_str()?;
    if name.ends_with(".d.ts") || name.ends_with(".min.js") {
        return None;
    }
    match path.extension()?.to_str()? {
        "ts" | "mts" | "cts" => Some(Lang::TypeScript),
        "tsx" => Some(Lang::Tsx),
        "js" | "mjs" | "cjs" | "jsx" => Some(Lang::JavaScript),
        "py" => Some(Lang::Python),
        _ => None,
    }
}

/// Folders never worth parsing, even when not in `.gitignore`.
const SKIP_DIRS: &[&str] = &[
    "node_modules",
    "dist",
    "build",
    ".next",
    ".nuxt",
    ".svelte-kit",
    ".vercel",
    ".turbo",
    "out",
    "coverage",
    "vendor",
    "__pycache__",
    ".venv",
    "venv",
    "site-packages",
    ".git",
    "target",
];

fn walker(root: &Path) -> ignore::Walk {
    ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .parents(true)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && e.depth() > 0
                && e.file_name()
                    .to_str()
                    .is_some_and(|n| SKIP_DIRS.contains(&n)))
        })
        .build()
}

pub fn collect(root: &Path, files: &mut Vec<SourceFile>, skipped: &mut Vec<(String, String)>) {
    for entry in walker(root) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                skipped.push((root.display().to_string(), format!("walk error: {e}")));
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        if language_of(path).is_none() {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(path);
        files.push(SourceFile {
            display: crate::display_path(root, rel),
            path: path.to_path_buf(),
            rel: rel.display().to_string(),
        });
    }
}

/// Source folders worth scanning in a repository when the user named none: the usual
/// top-level (and `apps/*`, `packages/*`) source folders that contain TypeScript, JavaScript
/// or Python files.
pub fn detect_source_dirs(repo_root: &Path) -> Vec<PathBuf> {
    const NAMES: &[&str] = &[
        "src",
        "app",
        "backend",
        "server",
        "api",
        "lib",
        "pages",
        "functions",
        "services",
        "routes",
        "worker",
        "workers",
        "jobs",
    ];
    let mut candidates: Vec<PathBuf> = NAMES.iter().map(|n| repo_root.join(n)).collect();
    candidates.push(repo_root.join("supabase").join("functions"));
    for group in ["apps", "packages"] {
        if let Ok(rd) = std::fs::read_dir(repo_root.join(group)) {
            let mut subs: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            subs.sort();
            candidates.extend(subs);
        }
    }
    let mut out: Vec<PathBuf> = vec![];
    for c in candidates {
        if !c.is_dir() || out.iter().any(|o| c.starts_with(o)) {
            continue;
        }
        let has_source = walker(&c)
            .filter_map(|e| e.ok())
            .take(20_000)
            .any(|e| e.file_type().is_some_and(|t| t.is_file()) && language_of(e.path()).is_some());
        if has_source {
            out.push(c);
        }
    }
    out
}
