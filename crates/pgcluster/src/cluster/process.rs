//! The server process: who it runs as, starting it, waiting for it, stopping it, and making
//! sure it goes away with us (registry for signals, janitor for SIGKILL).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::{Pid, Uid};

use super::fsutil::read_tail;
use super::{io_err, ClusterError, ServerBinaries, LOG_TAIL_LINES};

/// The unprivileged user the server runs as when we are root.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunAs {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// `None` when not root (the server runs as us); the `postgres` user when root.
pub(crate) fn run_as() -> Result<Option<RunAs>, ClusterError> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name("postgres") {
        Ok(Some(u)) if !u.uid.is_root() => Ok(Some(RunAs {
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
        })),
        _ => Err(ClusterError::NoUnprivilegedUser),
    }
}

/// Make `cmd` run as `run_as` (std drops supplementary groups when root sets a uid).
pub(crate) fn apply_run_as(cmd: &mut Command, run_as: Option<RunAs>) {
    if let Some(u) = run_as {
        cmd.uid(u.uid).gid(u.gid);
    }
}

pub(crate) fn pg_config(sock_dir: &Path, port: u16, dbname: &str) -> tokio_postgres::Config {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host_path(sock_dir)
        .port(port)
        .user("postgres")
        .dbname(dbname)
        .application_name("dbaudit")
        .connect_timeout(Duration::from_secs(10));
    cfg
}

/// A port nobody listens on right now (the kernel's pick for an ephemeral bind).
pub(crate) fn free_port() -> u16 {
    if let Ok(l) = std::net::TcpListener::bind(("127.0.0.1", 0)) {
        if let Ok(addr) = l.local_addr() {
            return addr.port();
        }
    }
    // No loopback: the port only names our private socket file then.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let seed = u64::from(std::process::id()) ^ u64::from(nanos);
    20000 + (seed % 40000) as u16
}

/// Start `postgres` on `data` (not waiting for it).
pub(crate) fn spawn_postgres(
    bins: &ServerBinaries,
    data: &Path,
    sock: &Path,
    port: u16,
    log: &Path,
    settings: &[(String, String)],
    run_as: Option<RunAs>,
) -> Result<Child, ClusterError> {
    let log_file = std::fs::File::create(log).map_err(|e| io_err("creating", log, e))?;
    let log_err = log_file
        .try_clone()
        .map_err(|e| io_err("opening", log, e))?;
    let mut cmd = Command::new(bins.postgres());
    cmd.arg("-D")
        .arg(data)
        .arg("-k")
        .arg(sock)
        .arg("-p")
        .arg(port.to_string());
    for (k, v) in settings {
        cmd.arg("-c").arg(format!("{k}={v}"));
    }
    if let Some(parent) = data.parent() {
        cmd.current_dir(parent);
    }
    cmd.stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err)
        .env("LC_ALL", "C")
        .env_remove("PGDATA")
        // Its own process group: a terminal's Ctrl-C reaches us, and we decide how the server
        // stops.
        .process_group(0);
    apply_run_as(&mut cmd, run_as);
    cmd.spawn()
        .map_err(|e| io_err("starting", &bins.postgres(), e))
}

/// A server child that is stopped when dropped (a start cancelled or failed half-way must
/// not leave a server running on a deleted directory).
pub(crate) struct ChildGuard(Option<Child>);

impl ChildGuard {
    pub(crate) fn new(child: Child) -> Self {
        ChildGuard(Some(child))
    }

    pub(crate) fn child(&mut self) -> Option<&mut Child> {
        self.0.as_mut()
    }

    /// Keep the server running; the caller owns it now.
    pub(crate) fn release(mut self) -> Option<Child> {
        self.0.take()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            shutdown(child);
        }
    }
}

/// Wait until the server accepts a connection on its socket.
pub(crate) async fn wait_ready(
    guard: &mut ChildGuard,
    sock: &Path,
    port: u16,
    log: &Path,
    timeout: Duration,
) -> Result<(), ClusterError> {
    let deadline = Instant::now() + timeout;
    let socket_file = sock.join(format!(".s.PGSQL.{port}"));
    let cfg = pg_config(sock, port, "postgres");
    let mut last_error = String::from("the socket never appeared");
    loop {
        let Some(child) = guard.child() else {
            return Err(start_failed("the server is gone".into(), log));
        };
        match child.try_wait() {
            Ok(Some(status)) => {
                return Err(start_failed(format!("the server exited ({status})"), log));
            }
            Ok(None) => {}
            Err(e) => return Err(io_err("waiting for the server, log", log, e)),
        }
        if socket_file.exists() {
            match cfg.connect(tokio_postgres::NoTls).await {
                Ok(_) => return Ok(()),
                Err(e) => last_error = super::db_error_text(&e),
            }
        }
        if Instant::now() >= deadline {
            return Err(start_failed(
                format!(
                    "it did not accept connections within {} s (last attempt: {last_error})",
                    timeout.as_secs()
                ),
                log,
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn start_failed(reason: String, log: &Path) -> ClusterError {
    // Give the dying server a moment to finish writing its last words.
    std::thread::sleep(Duration::from_millis(20));
    ClusterError::StartFailed {
        reason,
        log: log.to_path_buf(),
        log_tail: read_tail(log, LOG_TAIL_LINES),
    }
}

/// Stop the server: fast shutdown, then immediate, then SIGKILL; reaps it. True when it
/// stopped cleanly on the fast shutdown request.
pub(crate) fn shutdown(child: &mut Child) -> bool {
    if let Ok(Some(status)) = child.try_wait() {
        return status.success();
    }
    let Ok(raw) = i32::try_from(child.id()) else {
        return false;
    };
    let pid = Pid::from_raw(raw);
    for (sig, wait) in [
        (Signal::SIGINT, Duration::from_secs(5)),
        (Signal::SIGQUIT, Duration::from_secs(3)),
    ] {
        let _ = kill(pid, sig);
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(status)) => return sig == Signal::SIGINT && status.success(),
                Err(_) => return false,
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

// ---- Registry of live clusters, for signal cleanup. ----

#[derive(Debug, Clone)]
struct Live {
    id: u64,
    dir: PathBuf,
    pid: Option<i32>,
}

static LIVE: Mutex<Vec<Live>> = Mutex::new(Vec::new());
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn live() -> std::sync::MutexGuard<'static, Vec<Live>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn register(dir: &Path) -> u64 {
    let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    live().push(Live {
        id,
        dir: dir.to_path_buf(),
        pid: None,
    });
    id
}

pub(crate) fn set_pid(id: u64, pid: u32) {
    if let Some(l) = live().iter_mut().find(|l| l.id == id) {
        l.pid = i32::try_from(pid).ok();
    }
}

pub(crate) fn unregister(id: u64) {
    live().retain(|l| l.id != id);
}

/// On SIGINT or SIGTERM: stop every live cluster, remove their directories, and exit with
/// status 130. Idempotent; call it early in `main`.
pub fn install_signal_cleanup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("dbaudit-signals".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    let _ = ready_tx.send(());
                    return;
                };
                rt.block_on(async move {
                    use tokio::signal::unix::{signal, SignalKind};
                    let int = signal(SignalKind::interrupt());
                    let term = signal(SignalKind::terminate());
                    let _ = ready_tx.send(());
                    let (Ok(mut int), Ok(mut term)) = (int, term) else {
                        return;
                    };
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                    cleanup_all();
                    std::process::exit(130);
                });
            });
        if spawned.is_ok() {
            let _ = ready_rx.recv_timeout(Duration::from_secs(5));
        }
    });
}

/// Stop every registered server and remove every registered directory.
fn cleanup_all() {
    let entries: Vec<Live> = live().drain(..).collect();
    for e in &entries {
        if let Some(pid) = e.pid {
            let _ = kill(Pid::from_raw(pid), Signal::SIGQUIT);
        }
    }
    for e in &entries {
        if let Some(pid) = e.pid {
            let pid = Pid::from_raw(pid);
            let deadline = Instant::now() + Duration::from_secs(3);
            loop {
                use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
                match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Ok(WaitStatus::StillAlive) => {
                        let _ = kill(pid, Signal::SIGKILL);
                        let _ = waitpid(pid, None);
                        break;
                    }
                    _ => break,
                }
            }
        }
        let _ = std::fs::remove_dir_all(&e.dir);
    }
}

// ---- Janitor: cleans up after us if we die without dropping the cluster. ----

const JANITOR: &str = r#"
parent=$1
dir=$2
(
  while [ -d "$dir" ] && kill -0 "$parent" 2>/dev/null; do sleep 0.5; done
  [ -d "$dir" ] || exit 0
  pm=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
  case "$pm" in ''|*[!0-9]*) pm= ;; esac
  if [ -n "$pm" ] && grep -qF -- "$dir" "/proc/$pm/cmdline" 2>/dev/null; then
    kill -QUIT "$pm" 2>/dev/null
    i=0
    while [ "$i" -lt 30 ] && kill -0 "$pm" 2>/dev/null; do sleep 0.1; i=$((i+1)); done
    kill -KILL "$pm" 2>/dev/null
  fi
  rm -rf -- "$dir"
) </dev/null >/dev/null 2>&1 &
"#;

/// Start a detached watcher that, once this process is gone, stops the server whose data dir
/// is `<dir>/data` and removes `dir`. It exits by itself as soon as `dir` is removed.
pub(crate) fn spawn_janitor(dir: &Path) {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(JANITOR)
        .arg("dbaudit-janitor")
        .arg(std::process::id().to_string())
        .arg(dir)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent; a new session
    // keeps the watcher out of reach of the terminal's signals and of our process group.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    // The shell backgrounds the watcher and exits at once; reap it so no zombie stays.
    if let Ok(mut child) = cmd.spawn() {
        let _ = child.wait();
    }
}
