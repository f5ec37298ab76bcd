//! Application-code checks (`--code`).
//!
//! Files are found the way git would (`.gitignore` honoured, `node_modules`, build output,
//! binaries and huge generated files skipped), parsed with tree-sitter (TypeScript, TSX,
//! JavaScript, Python) into a [`model::FileModel`] each, in parallel. The models are then
//! resolved against each other (which client an imported `supabaseAdmin` is, which module is
//! the shared client module) and checked against the catalog by the rules in [`rules`].

mod analyze;
pub mod model;
mod py;
pub mod rules;
mod sqltext;
#[cfg(test)]
mod testing;
mod ts;
mod walk;

use dbaudit_findings::Finding;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use rules::RULES;
pub use walk::detect_source_dirs;

/// What a `--code` run found.
#[derive(Debug, Clone, Default)]
pub struct CodeOutcome {
    pub findings: Vec<Finding>,
    pub files_scanned: usize,
    /// Files left out, with why: `(path, reason)`.
    pub skipped: Vec<(String, String)>,
    pub elapsed_ms: u64,
}

impl CodeOutcome {
    /// The report's `code` object (the findings themselves go with the other findings).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "files_scanned": self.files_scanned,
            "findings": self.findings.len(),
            "skipped": self.skipped.iter().map(|(p, r)| serde_json::json!({"file": p, "reason": r})).collect::<Vec<_>>(),
            "elapsed_ms": self.elapsed_ms,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("{path}: no such directory or file")]
    Missing { path: String },
    #[error("{path}: {source}")]
    Unreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Parse every source file under `roots` and check it against the schema. A file that cannot
/// be read or parsed is skipped and counted, never fatal; only a root that does not exist or
/// cannot be read is an error.
pub fn check(
    ctx: &dbaudit_rules::Context<'_>,
    roots: &[PathBuf],
) -> Result<CodeOutcome, CodeError> {
    let start = Instant::now();
    let mut files = vec![];
    let mut skipped = vec![];
    for root in roots {
        let meta = std::fs::metadata(root).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                CodeError::Missing {
                    path: root.display().to_string(),
                }
            } else {
                CodeError::Unreadable {
                    path: root.display().to_string(),
                    source: e,
                }
            }
        })?;
        if meta.is_file() {
            files.push(walk::SourceFile {
                display: root.display().to_string(),
                path: root.clone(),
                rel: root
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            });
            continue;
        }
        std::fs::read_dir(root).map_err(|e| CodeError::Unreadable {
            path: root.display().to_string(),
            source: e,
        })?;
        walk::collect(root, &mut files, &mut skipped);
    }
    let walked = start.elapsed();
    let (models, parse_skips) = parse_all(&files);
    let parsed = start.elapsed();
    skipped.extend(parse_skips);
    let files_scanned = models.len();
    let mut findings = analyze::run(ctx, &models);
    if std::env::var_os("DBAUDIT_CODE_TIMING").is_some() {
        eprintln!(
            "code: walk {walked:?}, parse {:?}, analyse {:?}",
            parsed - walked,
            start.elapsed() - parsed
        );
    }
    dbaudit_findings::sort_findings(&mut findings);
    skipped.sort();
    Ok(CodeOutcome {
        findings,
        files_scanned,
        skipped,
        elapsed_ms: start.elapsed().as_millis() as u64,
    })
}

/// Parse files on all cores; the models come back in the files' order.
fn parse_all(files: &[walk::SourceFile]) -> (Vec<model::FileModel>, Vec<(String, String)>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(files.len().max(1));
    let mut results: Vec<(usize, Result<model::FileModel, String>)> = vec![];
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = vec![];
                    let mut parsers = ts::Parsers::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= files.len() {
                            break;
                        }
                        out.push((i, parse_file(&mut parsers, &files[i])));
                    }
                    out
                })
            })
            .collect();
        for h in handles {
            if let Ok(r) = h.join() {
                results.extend(r);
            }
        }
    });
    results.sort_by_key(|(i, _)| *i);
    let mut models = vec![];
    let mut skipped = vec![];
    for (i, r) in results {
        match r {
            Ok(m) => models.push(m),
            Err(reason) => skipped.push((files[i].display.clone(), reason)),
        }
    }
    (models, skipped)
}

/// Largest file parsed; bigger ones are generated (bundles, type dumps).
const MAX_FILE_BYTES: u64 = 1_000_000;

fn parse_file(
    parsers: &mut ts::Parsers,
    file: &walk::SourceFile,
) -> Result<model::FileModel, String> {
    let len = std::fs::metadata(&file.path)
        .map_err(|e| format!("unreadable: {e}"))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(format!("too large ({len} bytes): generated?"));
    }
    let bytes = std::fs::read(&file.path).map_err(|e| format!("unreadable: {e}"))?;
    if bytes.iter().take(8000).any(|b| *b == 0) {
        return Err("binary".into());
    }
    let src = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    if looks_generated(&src) {
        return Err("generated or minified".into());
    }
    let lang = walk::language_of(&file.path).ok_or("not a source file")?;
    if !worth_parsing(lang, &file.path, &src) {
        // Nothing any rule looks at: scanned, not parsed (most UI components).
        return Ok(model::FileModel {
            display: file.display.clone(),
            path: file.path.clone(),
            ..Default::default()
        });
    }
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match lang {
        walk::Lang::Python => py::extract(parsers, &file.display, &file.path, &src),
        _ => ts::extract(parsers, lang, &file.display, &file.path, &src),
    }));
    match r {
        Ok(Ok(mut m)) => {
            // Judged on the path under the root: the root itself may sit in a tests/ folder.
            m.is_test = ts::is_test_path(&format!("/{}", file.rel.replace('\\', "/")));
            Ok(m)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err("internal error while analysing".into()),
    }
}

/// A cheap text test before parsing: files that mention none of what the rules look for
/// cannot produce or influence a finding.
fn worth_parsing(lang: walk::Lang, path: &Path, src: &str) -> bool {
    if lang == walk::Lang::Python {
        return src.contains("__tablename__") || src.contains("type: ignore");
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if matches!(stem, "route" | "middleware") || path.to_string_lossy().contains("pages/api") {
        return true;
    }
    const MARKERS: &[&str] = &[
        ".from(",
        "createClient",
        "Client(",
        "SERVICE_ROLE",
        "SERVICE_KEY",
        "@ts-ignore",
        "@ts-expect-error",
        "prisma",
        "drizzle",
        "Table(",
        ".query(",
        ".execute(",
        "sql`",
        "use server",
        "Router(",
        "express(",
        "fastify",
        ".get(",
        ".post(",
        ".put(",
        ".patch(",
        ".delete(",
        "supabase",
        "$queryRaw",
        "$executeRaw",
        ".insert(",
        ".update(",
        ".unsafe(",
    ];
    MARKERS.iter().any(|m| src.contains(m))
}

fn looks_generated(src: &str) -> bool {
    // Minified bundles: few very long lines.
    let lines = src.lines().count().max(1);
    src.len() / lines > 500
}

/// Display path of a file under a root: the root as the user gave it joined with the path
/// under it.
pub(crate) fn display_path(root: &Path, rel: &Path) -> String {
    root.join(rel).display().to_string()
}
