//! Finding `initdb` and `postgres`.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::{ClusterError, ServerBinaries, BINDIR_ENV};

/// The last successful search, keyed by the `DBAUDIT_PG_BINDIR` and `PATH` it ran with.
type Found = (Option<OsString>, Option<OsString>, ServerBinaries);
static FOUND: Mutex<Option<Found>> = Mutex::new(None);

pub(super) fn find() -> Result<ServerBinaries, ClusterError> {
    let env_dir = std::env::var_os(BINDIR_ENV).filter(|v| !v.is_empty());
    let path = std::env::var_os("PATH");
    if let Ok(guard) = FOUND.lock() {
        if let Some((e, p, bins)) = guard.as_ref() {
            if *e == env_dir && *p == path {
                return Ok(bins.clone());
            }
        }
    }
    let found = match &env_dir {
        // An explicit choice is not second-guessed: only that directory.
        Some(dir) => find_in(&[PathBuf::from(dir)]),
        None => find_in(&candidates(path.as_deref())).map_err(|e| match e {
            // Say that PATH was searched too (each of its directories).
            ClusterError::NoBinaries { mut searched } => {
                searched.insert(0, PathBuf::from("$PATH"));
                ClusterError::NoBinaries { searched }
            }
            other => other,
        }),
    }?;
    if let Ok(mut guard) = FOUND.lock() {
        *guard = Some((env_dir, path, found.clone()));
    }
    Ok(found)
}

pub(super) fn find_in(dirs: &[PathBuf]) -> Result<ServerBinaries, ClusterError> {
    dirs.iter()
        .find_map(|d| probe(d))
        .ok_or_else(|| ClusterError::NoBinaries {
            searched: dirs.to_vec(),
        })
}

/// Directories to look in, best first, without duplicates.
fn candidates(path: Option<&std::ffi::OsStr>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut push = |p: PathBuf| {
        if !out.contains(&p) {
            out.push(p);
        }
    };
    if let Some(path) = path {
        for dir in std::env::split_paths(path) {
            let postgres = dir.join("postgres");
            if is_executable(&postgres) && is_executable(&dir.join("initdb")) {
                // Resolve symlinks (Debian's /usr/bin wrappers, /usr/local/bin links) to the
                // real bindir, where the two binaries and the share dir belong together.
                match std::fs::canonicalize(&postgres) {
                    Ok(real) => {
                        if let Some(parent) = real.parent() {
                            push(parent.to_path_buf());
                        }
                    }
                    Err(_) => push(dir),
                }
            }
        }
    }
    if let Ok(out) = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    {
        if out.status.success() {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !dir.is_empty() {
                push(PathBuf::from(dir));
            }
        }
    }
    let mut versioned: Vec<(Vec<u32>, PathBuf)> = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        for entry in rd.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let key: Vec<u32> = name.split('.').map_while(|p| p.parse().ok()).collect();
            if !key.is_empty() {
                versioned.push((key, entry.path().join("bin")));
            }
        }
    }
    versioned.sort_by(|a, b| b.0.cmp(&a.0));
    if versioned.is_empty() {
        push(PathBuf::from("/usr/lib/postgresql/*/bin"));
    }
    for (_, dir) in versioned {
        push(dir);
    }
    out
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn probe(dir: &Path) -> Option<ServerBinaries> {
    let postgres = dir.join("postgres");
    if !is_executable(&postgres) || !is_executable(&dir.join("initdb")) {
        return None;
    }
    let out = Command::new(&postgres)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let (version, major) = parse_version(&String::from_utf8_lossy(&out.stdout))?;
    Some(ServerBinaries {
        bindir: dir.to_path_buf(),
        version,
        major,
    })
}

/// `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → (`15.18`, 15).
pub(super) fn parse_version(text: &str) -> Option<(String, u32)> {
    let rest = match text.find("(PostgreSQL)") {
        Some(i) => &text[i + "(PostgreSQL)".len()..],
        None => text,
    };
    let token = rest
        .split_whitespace()
        .find(|t| t.starts_with(|c: char| c.is_ascii_digit()))?;
    let version: String = token
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let major: u32 = version
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    Some((version, major))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            parse_version("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n"),
            Some(("15.18".into(), 15))
        );
        assert_eq!(
            parse_version("postgres (PostgreSQL) 17devel"),
            Some(("17devel".into(), 17))
        );
        assert_eq!(
            parse_version("postgres (PostgreSQL) 9.6.24"),
            Some(("9.6.24".into(), 9))
        );
        assert_eq!(parse_version("garbage"), None);
        assert_eq!(parse_version(""), None);
    }

    #[test]
    fn empty_dir_has_no_binaries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = find_in(&[dir.path().to_path_buf()]).expect_err("no binaries");
        match err {
            ClusterError::NoBinaries { searched } => assert_eq!(searched, [dir.path()]),
            other => panic!("unexpected {other}"),
        }
    }
}
