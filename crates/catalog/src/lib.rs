//! One snapshot of a PostgreSQL catalog.
//!
//! [`model`] is plain data; [`load`] fills it from a connection with a handful of catalog queries
//! (kept in `queries/*.sql`) run concurrently; [`index::CatalogIndex`] gives rules fast lookups.

pub mod builder;
mod ident;
pub mod index;
pub mod load;
pub mod model;
pub mod synthetic;

pub use ident::quote_ident;
pub use index::CatalogIndex;
pub use load::{load, LoadError, LoadOptions};
pub use model::*;
