//! What can go wrong when connecting, each said with the host and what to do about it. No
//! message ever contains the password.

use std::time::Duration;

/// Why a connection could not be made. `host` is `host:port` for TCP and the socket file for
/// Unix sockets.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnError {
    /// The connection string (or a `PG*` variable) is malformed; `reason` names the part.
    #[error("invalid connection string: {reason}")]
    Invalid { reason: String },

    /// Nothing accepted the connection: refused, no route, DNS failure, no socket file.
    #[error("{}", unreachable_message(.host, .reason))]
    Unreachable { host: String, reason: String },

    /// The connection (TCP, TLS and startup together) did not complete in time.
    #[error(
        "timed out after {} connecting to {host}: the server did not complete the handshake; \
         check the host and port and that no firewall drops the traffic, or raise the connect \
         timeout",
        fmt_secs(*.secs)
    )]
    Timeout { host: String, secs: f64 },

    /// The server rejected the credentials (SQLSTATE 28P01 / 28000), or asked for a password
    /// that was not given. `message` is the server's.
    #[error(
        "authentication failed for user \"{user}\" at {host}: {message}; check the user name \
         and password (in the connection string or PGPASSWORD) and that pg_hba.conf admits \
         this user from this address"
    )]
    Auth {
        host: String,
        user: String,
        message: String,
    },

    /// The peer is not a PostgreSQL server (an HTTP server, or something that closed the socket
    /// on the startup packet).
    #[error(
        "{host} did not answer like a PostgreSQL server ({reason}); check the host and port \
         (PostgreSQL usually listens on 5432, poolers on 6432 or 6543)"
    )]
    NotPostgres { host: String, reason: String },

    /// The server does not do TLS, but the sslmode requires it.
    #[error(
        "{host} does not accept TLS connections, but sslmode={sslmode} requires TLS; enable ssl \
         on the server, or use sslmode=prefer or sslmode=disable if the network is trusted"
    )]
    TlsRefused { host: String, sslmode: String },

    /// The TLS handshake failed; `reason` says why (unknown CA, host name mismatch, ...) and
    /// what to change.
    #[error("TLS handshake with {host} failed: {reason}")]
    TlsHandshake { host: String, reason: String },

    /// Any other error the server reported while accepting the connection (e.g. 3D000
    /// database does not exist).
    #[error("{host} refused the connection: {message} (SQLSTATE {code}){}", server_hint(.code))]
    Server {
        host: String,
        code: String,
        message: String,
    },
}

impl ConnError {
    /// The host the error is about, when there is one.
    pub fn host(&self) -> Option<&str> {
        match self {
            ConnError::Invalid { .. } => None,
            ConnError::Unreachable { host, .. }
            | ConnError::Timeout { host, .. }
            | ConnError::Auth { host, .. }
            | ConnError::NotPostgres { host, .. }
            | ConnError::TlsRefused { host, .. }
            | ConnError::TlsHandshake { host, .. }
            | ConnError::Server { host, .. } => Some(host),
        }
    }

    /// The SQLSTATE, for errors the server reported.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            ConnError::Server { code, .. } => Some(code),
            _ => None,
        }
    }
}

fn unreachable_message(host: &str, reason: &str) -> String {
    if host.starts_with('/') {
        format!(
            "cannot connect to {host}: {reason}; is the server running locally and accepting \
             connections on that Unix socket?"
        )
    } else {
        format!(
            "cannot connect to {host}: {reason}; is the server running and accepting TCP \
             connections on {host}?"
        )
    }
}

fn server_hint(code: &str) -> &'static str {
    match code {
        "3D000" => "; check the database name (dbname, or the path of the URL)",
        "53300" => {
            "; the server has no free connection slots: close other sessions or use a pooler"
        }
        "57P03" => "; the server is starting up or shutting down: try again shortly",
        "08004" => "; the server rejected the connection",
        "42501" => "; the user may not connect to this database (CONNECT privilege)",
        _ => "",
    }
}

pub(crate) fn fmt_secs(secs: f64) -> String {
    let d = Duration::from_secs_f64(secs.max(0.0));
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{secs:.1}s")
    }
}

/// Setting up the audit transaction failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error(
        "could not start the read-only audit transaction ({step}): {message}{}",
        code_suffix(.code)
    )]
    Setup {
        /// The statement that failed.
        step: String,
        /// SQLSTATE, empty when the connection itself failed.
        code: String,
        message: String,
    },
}

fn code_suffix(code: &str) -> String {
    if code.is_empty() {
        String::new()
    } else {
        format!(" (SQLSTATE {code})")
    }
}
