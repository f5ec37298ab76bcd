//! Loads a [`Catalog`](crate::Catalog) from a connection. (Being written.)

use crate::model::Catalog;

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Also load statistics (`pg_stat_*`, sequence values): live databases only.
    pub statistics: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("catalog query {query} failed: {reason}")]
    Query { query: &'static str, reason: String },
}

pub async fn load(client: &tokio_postgres::Client, opts: &LoadOptions) -> Result<Catalog, LoadError> {
    let _ = (client, opts);
    unimplemented!()
}
