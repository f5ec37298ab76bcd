//! Sources that need a server of our own: a throwaway PostgreSQL cluster started from the
//! machine's server binaries ([`cluster`]), the migration layouts projects use ([`layout`]),
//! applying them file by file ([`apply`]), and the Supabase environment they expect
//! ([`supabase`]).

pub mod apply;
pub mod cluster;
pub mod layout;
pub mod locations;
pub mod split;
pub mod supabase;
pub mod testing;

pub use apply::{apply, ApplyError, ApplyReport, FileOutcome, MigrationFailure};
pub use cluster::{Cluster, ClusterError, ClusterOptions, ServerBinaries};
pub use layout::{detect, discover, LayoutError, LayoutKind, MigrationFile, MigrationSet, TxMode};
pub use locations::{Location, ObjectKind, ObjectLocations};
