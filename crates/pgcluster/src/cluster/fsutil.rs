//! File system helpers: private temp dirs, copying a data dir, ownership.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::process::RunAs;
use super::{io_err, ClusterError};

/// Longest Unix socket path the kernel takes (sun_path is 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;
/// What a work dir adds below its base: `dbaudit-XXXXXX/sock/.s.PGSQL.65535`.
const WORK_SUFFIX_LEN: usize = "/dbaudit-build-XXXXXX/sock/.s.PGSQL.65535".len();

/// A fresh private (0700) directory under the temp dir, owned by the server user.
pub(super) fn make_work_dir(prefix: &str, run_as: Option<RunAs>) -> Result<PathBuf, ClusterError> {
    let base = temp_base(run_as);
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&base)
        .map_err(|e| io_err("creating a temp dir in", &base, e))?
        .keep();
    if let Err(e) = set_mode(&dir, 0o700).and_then(|()| chown(&dir, run_as)) {
        let _ = fs::remove_dir_all(&dir);
        return Err(e);
    }
    Ok(dir)
}

/// Where work dirs go: `$DBAUDIT_TMPDIR` when set; else `/dev/shm` when it has room (a
/// memory file system: creating the data dir's ~1000 files there is ~10x faster than on a
/// journaling disk, which is most of a warm start); else the system temp dir. Falls back to
/// `/tmp` when the socket path would be too long, or (as root) the server user could not
/// reach the directory.
fn temp_base(run_as: Option<RunAs>) -> PathBuf {
    let usable = |base: &Path| {
        base.is_absolute()
            && base.is_dir()
            && base.as_os_str().len() + WORK_SUFFIX_LEN <= MAX_SOCKET_PATH
            && (run_as.is_none() || world_traversable(base))
    };
    if let Some(dir) = std::env::var_os(TMPDIR_ENV).filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(dir);
        if usable(&dir) {
            return dir;
        }
    }
    let shm = Path::new("/dev/shm");
    if usable(shm) && free_bytes(shm) >= SHM_MIN_FREE && writable(shm) {
        return shm.to_path_buf();
    }
    let base = std::env::temp_dir();
    if usable(&base) {
        base
    } else {
        PathBuf::from("/tmp")
    }
}

/// Environment variable naming the directory for clusters' work dirs.
pub(super) const TMPDIR_ENV: &str = "DBAUDIT_TMPDIR";
/// Free space `/dev/shm` needs before clusters go there (they grow with the migrations).
const SHM_MIN_FREE: u64 = 2 << 30;

// The statvfs field types are narrower than u64 on some targets.
#[allow(clippy::unnecessary_cast)]
fn free_bytes(dir: &Path) -> u64 {
    nix::sys::statvfs::statvfs(dir)
        .map(|s| (s.blocks_available() as u64).saturating_mul(s.fragment_size() as u64))
        .unwrap_or(0)
}

fn writable(dir: &Path) -> bool {
    nix::unistd::access(
        dir,
        nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
    )
    .is_ok()
}

fn world_traversable(dir: &Path) -> bool {
    dir.ancestors().all(|a| {
        a.as_os_str().is_empty()
            || fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o001 != 0)
    })
}

/// Create `dir` with mode 0700, owned by the server user.
pub(super) fn make_private_dir(dir: &Path, run_as: Option<RunAs>) -> Result<(), ClusterError> {
    fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(|e| io_err("creating", dir, e))?;
    chown(dir, run_as)
}

pub(super) fn set_mode(path: &Path, mode: u32) -> Result<(), ClusterError> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| io_err("setting permissions of", path, e))
}

pub(super) fn chown(path: &Path, run_as: Option<RunAs>) -> Result<(), ClusterError> {
    match run_as {
        Some(u) => std::os::unix::fs::lchown(path, Some(u.uid), Some(u.gid))
            .map_err(|e| io_err("changing the owner of", path, e)),
        None => Ok(()),
    }
}

/// Copy the data directory `src` to `dst` (which must not exist): directories 0700, files with
/// their modes, everything owned by the server user. Skips a stale `postmaster.pid`.
pub(super) fn copy_tree(src: &Path, dst: &Path, run_as: Option<RunAs>) -> Result<(), ClusterError> {
    copy_dir(src, dst, run_as, true)
}

fn copy_dir(src: &Path, dst: &Path, run_as: Option<RunAs>, top: bool) -> Result<(), ClusterError> {
    make_private_dir(dst, run_as)?;
    let entries = fs::read_dir(src).map_err(|e| io_err("reading", src, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err("reading", src, e))?;
        let name = entry.file_name();
        if top && (name == "postmaster.pid" || name == "postmaster.opts") {
            continue;
        }
        let from = entry.path();
        let to = dst.join(&name);
        let ft = entry.file_type().map_err(|e| io_err("reading", &from, e))?;
        if ft.is_dir() {
            copy_dir(&from, &to, run_as, false)?;
        } else if ft.is_symlink() {
            let target = fs::read_link(&from).map_err(|e| io_err("reading", &from, e))?;
            std::os::unix::fs::symlink(&target, &to).map_err(|e| io_err("creating", &to, e))?;
            chown(&to, run_as)?;
        } else if ft.is_file() {
            fs::copy(&from, &to).map_err(|e| io_err("copying to", &to, e))?;
            chown(&to, run_as)?;
        }
    }
    Ok(())
}

/// Remove a directory tree; a missing one is fine.
pub(super) fn remove_tree(dir: &Path) -> Result<(), ClusterError> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("removing", dir, e)),
    }
}

/// The last `lines` lines of a (log) file, or a note saying why there are none.
pub(super) fn read_tail(path: &Path, lines: usize) -> String {
    const MAX_READ: u64 = 64 * 1024;
    let mut f = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return format!("(could not read {}: {e})", path.display()),
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len > MAX_READ {
        let _ = f.seek(SeekFrom::Start(len - MAX_READ));
    }
    let mut buf = Vec::new();
    if let Err(e) = f.read_to_end(&mut buf) {
        return format!("(could not read {}: {e})", path.display());
    }
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    let tail = all[all.len().saturating_sub(lines)..].join("\n");
    if tail.trim().is_empty() {
        "(the log is empty)".to_string()
    } else {
        tail
    }
}
