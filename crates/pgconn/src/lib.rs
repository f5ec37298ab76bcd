//! Connect to a live PostgreSQL database the way libpq would.
//!
//! - [`ConnSpec::parse`] takes libpq connection strings (`postgres://` URLs and `key=value`
//!   lists) plus the `PG*` environment variables, including `sslmode` (`disable`, `allow`,
//!   `prefer`, `require`, `verify-ca`, `verify-full`) and `sslrootcert` (a PEM file or
//!   `system`). Its `Display` never shows the password.
//! - [`connect`] opens the connection with TLS over rustls (ring provider) as the `sslmode`
//!   says, within a timeout, and reports failures as a [`ConnError`] that names the host and
//!   says what to do.
//! - [`begin_audit_session`] starts the read-only, repeatable-read transaction the audit runs
//!   in, with statement and lock timeouts.

mod connect;
mod error;
mod session;
mod spec;
mod tls;

pub use connect::connect;
pub use error::{ConnError, SessionError};
pub use session::begin_audit_session;
pub use spec::{
    default_socket_dir, ChannelBinding, ConnSpec, Host, HostSpec, SslMode, SslRootCert,
    Verification, DEFAULT_APPLICATION_NAME, DEFAULT_PORT,
};
pub use tokio_postgres::Client;
