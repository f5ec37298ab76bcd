//! Throwaway PostgreSQL cluster. (API is the contract; being written.)

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct ServerBinaries {
    pub bindir: PathBuf,
    /// e.g. `15.18`
    pub version: String,
    pub major: u32,
}

impl ServerBinaries {
    pub fn find() -> Result<Self, ClusterError> {
        unimplemented!()
    }
}

#[derive(Debug, Clone, Default)]
pub struct TcpOptions {
    /// Require a password (scram-sha-256) for TCP connections; the superuser gets this one.
    pub password: Option<String>,
    /// Serve TLS with this certificate and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
}

#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Use these binaries instead of searching.
    pub binaries: Option<ServerBinaries>,
    /// Start from the template that already holds the Supabase environment.
    pub supabase: bool,
    /// Also listen on 127.0.0.1 (tests of TCP, passwords and TLS only; dbaudit itself never does).
    pub tcp: Option<TcpOptions>,
}

#[derive(Debug, Clone, Default)]
pub struct StartTimings {
    /// The template had to be built (initdb) in this run.
    pub cold: bool,
    pub template_ms: u64,
    pub copy_ms: u64,
    pub start_ms: u64,
}

pub struct Cluster {
    _private: (),
}

impl Cluster {
    pub async fn start(opts: ClusterOptions) -> Result<Cluster, ClusterError> {
        let _ = opts;
        unimplemented!()
    }
    pub fn socket_dir(&self) -> &Path {
        unimplemented!()
    }
    pub fn port(&self) -> u16 {
        unimplemented!()
    }
    pub fn conn_string(&self, dbname: &str) -> String {
        let _ = dbname;
        unimplemented!()
    }
    pub async fn connect(&self, dbname: &str) -> Result<tokio_postgres::Client, ClusterError> {
        let _ = dbname;
        unimplemented!()
    }
    pub async fn create_database(&self, name: &str) -> Result<(), ClusterError> {
        let _ = name;
        unimplemented!()
    }
    pub fn server_version(&self) -> &str {
        unimplemented!()
    }
    pub fn timings(&self) -> &StartTimings {
        unimplemented!()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("no PostgreSQL server binaries found")]
    NoBinaries { searched: Vec<PathBuf> },
}
