//! Apply a migration set file by file. (API is the contract; being written.)

use crate::layout::MigrationSet;

#[derive(Debug, Clone, serde::Serialize)]
pub struct FileOutcome {
    pub file: String,
    pub ok: bool,
    pub transactional: bool,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationFailure {
    pub file: String,
    pub line: Option<u32>,
    pub statement: String,
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ApplyReport {
    pub files: Vec<FileOutcome>,
    pub failures: Vec<MigrationFailure>,
    /// Extensions that were stood in for.
    pub standins: Vec<String>,
    pub elapsed_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("lost the connection to the throwaway server while applying {file}: {reason}")]
    Connection { file: String, reason: String },
}

pub async fn apply(
    client: &tokio_postgres::Client,
    set: &MigrationSet,
) -> Result<ApplyReport, ApplyError> {
    let _ = (client, set);
    unimplemented!()
}
