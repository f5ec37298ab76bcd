//! Opening the connection: socket, TLS negotiation per `sslmode`, startup and authentication,
//! each failure turned into a [`ConnError`] that names the host.
//!
//! The socket is opened here and handed to `tokio_postgres::Config::connect_raw`, rather than
//! letting `tokio_postgres::Config::connect` do it, so that every step can be told apart:
//! DNS failure or refused connection (`Unreachable`), a peer that is not PostgreSQL
//! (`NotPostgres`), a server that refuses TLS (`TlsRefused`). The SSLRequest is sent here too;
//! when the server answers `S`, tokio-postgres is told to start the TLS handshake right away
//! (its "direct" negotiation), which is exactly what the server expects at that point.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio_postgres::config::{SslMode as PgSslMode, SslNegotiation};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::ConnError;
use crate::spec::{ChannelBinding, ConnSpec, Host, HostSpec, SslMode, Verification};
use crate::tls;

/// The SSLRequest packet: length 8, request code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Connect to the first host of `spec` that accepts the connection, with TLS as `sslmode`
/// says, and spawn the connection task on the current tokio runtime (its error, if any, after
/// the client is dropped is ignored: every query on the client reports a broken connection
/// anyway).
///
/// `timeout` bounds each host's whole attempt: name resolution, TCP connect, TLS handshake,
/// startup and authentication (libpq applies `connect_timeout` per host the same way). A
/// `connect_timeout` in the string lowers it; `Duration::ZERO` means no limit. With several
/// hosts, they are tried in order and the last host's error is returned.
pub async fn connect(spec: &ConnSpec, timeout: Duration) -> Result<Client, ConnError> {
    let limit = effective_timeout(timeout, spec.connect_timeout);
    let mut last = None;
    for host in &spec.hosts {
        let target = host.target();
        let attempt = connect_host(spec, host, &target);
        let result = match limit {
            Some(limit) => tokio::time::timeout(limit, attempt)
                .await
                .unwrap_or_else(|_| {
                    Err(ConnError::Timeout {
                        host: target.clone(),
                        secs: limit.as_secs_f64(),
                    })
                }),
            None => attempt.await,
        };
        match result {
            Ok(client) => return Ok(client),
            // A local configuration problem (unreadable sslrootcert, ...) is the same for
            // every host.
            Err(e @ ConnError::Invalid { .. }) => return Err(e),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| ConnError::Invalid {
        reason: "no host to connect to".to_string(),
    }))
}

fn effective_timeout(arg: Duration, from_string: Option<Duration>) -> Option<Duration> {
    let arg = (!arg.is_zero()).then_some(arg);
    match (arg, from_string) {
        (Some(a), Some(s)) => Some(a.min(s)),
        (a, s) => a.or(s),
    }
}

/// How TLS is attempted on one connection.
#[derive(Clone, Copy)]
struct TlsPlan<'a> {
    /// The host name for SNI and verification.
    name: &'a str,
    /// Whether a server that answers `N` to the SSLRequest may be used in plaintext.
    fallback_plain: bool,
}

async fn connect_host(spec: &ConnSpec, host: &HostSpec, target: &str) -> Result<Client, ConnError> {
    let name = match &host.host {
        // PostgreSQL does not do TLS over Unix sockets; libpq ignores sslmode there.
        Host::Unix(_) => return startup(open_unix(host, target).await?, spec, target, None).await,
        Host::Tcp(name) => name.as_str(),
    };
    match spec.sslmode {
        SslMode::Disable => startup(open_tcp(host, name, target).await?, spec, target, None).await,
        SslMode::Allow => {
            let plain = startup(open_tcp(host, name, target).await?, spec, target, None).await;
            match plain {
                // The server turned the plaintext connection down: try again with TLS.
                Err(first @ (ConnError::Auth { .. } | ConnError::Server { .. })) => {
                    let plan = TlsPlan {
                        name,
                        fallback_plain: false,
                    };
                    let stream = open_tcp(host, name, target).await?;
                    match startup(stream, spec, target, Some(plan)).await {
                        Err(ConnError::TlsRefused { .. }) => Err(first),
                        other => other,
                    }
                }
                other => other,
            }
        }
        SslMode::Prefer => {
            let plan = TlsPlan {
                name,
                fallback_plain: true,
            };
            let stream = open_tcp(host, name, target).await?;
            match startup(stream, spec, target, Some(plan)).await {
                // libpq retries without TLS when the handshake fails in prefer mode.
                Err(ConnError::TlsHandshake { .. }) => {
                    startup(open_tcp(host, name, target).await?, spec, target, None).await
                }
                other => other,
            }
        }
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            let plan = TlsPlan {
                name,
                fallback_plain: false,
            };
            startup(
                open_tcp(host, name, target).await?,
                spec,
                target,
                Some(plan),
            )
            .await
        }
    }
}

async fn open_unix(host: &HostSpec, target: &str) -> Result<UnixStream, ConnError> {
    let path = host.socket_path().unwrap_or_default();
    UnixStream::connect(&path)
        .await
        .map_err(|e| ConnError::Unreachable {
            host: target.to_string(),
            reason: match e.kind() {
                io::ErrorKind::NotFound => "no such socket file".to_string(),
                _ => e.to_string(),
            },
        })
}

async fn open_tcp(host: &HostSpec, name: &str, target: &str) -> Result<TcpStream, ConnError> {
    let unreachable = |reason: String| ConnError::Unreachable {
        host: target.to_string(),
        reason,
    };
    let addrs: Vec<SocketAddr> = if let Some(ip) = host.hostaddr {
        vec![SocketAddr::new(ip, host.port)]
    } else if let Ok(ip) = name.parse::<IpAddr>() {
        vec![SocketAddr::new(ip, host.port)]
    } else {
        tokio::net::lookup_host((name, host.port))
            .await
            .map_err(|e| unreachable(format!("could not resolve the host name \"{name}\": {e}")))?
            .collect()
    };
    if addrs.is_empty() {
        return Err(unreachable(format!(
            "the host name \"{name}\" resolved to no addresses"
        )));
    }
    let several = addrs.len() > 1;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => {
                last = Some(if several {
                    format!("{addr}: {e}")
                } else {
                    e.to_string()
                })
            }
        }
    }
    Err(unreachable(last.unwrap_or_default()))
}

fn base_config(spec: &ConnSpec) -> tokio_postgres::Config {
    let mut cfg = tokio_postgres::Config::new();
    cfg.user(&spec.user)
        .dbname(&spec.dbname)
        .application_name(&spec.application_name)
        .channel_binding(match spec.channel_binding {
            ChannelBinding::Disable => tokio_postgres::config::ChannelBinding::Disable,
            ChannelBinding::Prefer => tokio_postgres::config::ChannelBinding::Prefer,
            ChannelBinding::Require => tokio_postgres::config::ChannelBinding::Require,
        });
    if let Some(password) = &spec.password {
        cfg.password(password);
    }
    if let Some(options) = &spec.options {
        cfg.options(options);
    }
    cfg
}

/// Negotiate TLS (when `tls` is given), then run the startup and authentication.
async fn startup<S>(
    mut stream: S,
    spec: &ConnSpec,
    target: &str,
    tls: Option<TlsPlan<'_>>,
) -> Result<Client, ConnError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut cfg = base_config(spec);
    let Some(plan) = tls else {
        return plaintext(stream, cfg, spec, target).await;
    };

    if !spec.direct_tls {
        let not_postgres = |reason: String| ConnError::NotPostgres {
            host: target.to_string(),
            reason,
        };
        stream
            .write_all(&SSL_REQUEST)
            .await
            .map_err(|e| not_postgres(format!("sending the TLS request failed: {e}")))?;
        let mut answer = [0u8; 1];
        let n = stream.read(&mut answer).await.map_err(|e| {
            not_postgres(format!("reading the answer to the TLS request failed: {e}"))
        })?;
        if n == 0 {
            return Err(not_postgres(
                "it closed the connection when asked for TLS".to_string(),
            ));
        }
        match answer[0] {
            b'S' => {}
            b'N' if plan.fallback_plain => return plaintext(stream, cfg, spec, target).await,
            b'N' => {
                return Err(ConnError::TlsRefused {
                    host: target.to_string(),
                    sslmode: spec.sslmode.to_string(),
                })
            }
            b'E' => return Err(error_response(&mut stream, target).await),
            other => {
                return Err(not_postgres(format!(
                    "it answered the TLS request with {}",
                    describe_byte(other)
                )))
            }
        }
    }

    // Host names that are neither DNS names nor IP addresses cannot be verified; when nothing
    // is verified, a placeholder name is used and SNI is left out.
    let verification = spec.verification();
    let (tls_name, sni) = match ServerName::try_from(plan.name) {
        Ok(_) => (plan.name, true),
        Err(_) if verification == Verification::Full => {
            return Err(ConnError::TlsHandshake {
                host: target.to_string(),
                reason: format!(
                    "\"{}\" is not a valid DNS name or IP address, so the certificate cannot be \
                     checked against it; use the server's DNS name, or sslmode=verify-ca",
                    plan.name
                ),
            })
        }
        Err(_) => ("localhost", false),
    };
    let config = tls::client_config(verification, spec.sslrootcert.as_ref(), sni)?;
    let mut make = MakeRustlsConnect::new(config);
    let connector = MakeTlsConnect::<S>::make_tls_connect(&mut make, tls_name).map_err(|e| {
        ConnError::TlsHandshake {
            host: target.to_string(),
            reason: e.to_string(),
        }
    })?;

    cfg.ssl_mode(PgSslMode::Require)
        .ssl_negotiation(SslNegotiation::Direct);
    let (client, connection) = cfg
        .connect_raw(stream, connector)
        .await
        .map_err(|e| classify(&e, spec, target, Some(plan.name)))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

async fn plaintext<S>(
    stream: S,
    mut cfg: tokio_postgres::Config,
    spec: &ConnSpec,
    target: &str,
) -> Result<Client, ConnError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    cfg.ssl_mode(PgSslMode::Disable);
    let (client, connection) = cfg
        .connect_raw(stream, NoTls)
        .await
        .map_err(|e| classify(&e, spec, target, None))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}' (an HTTP server or another protocol?)", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

/// The server answered the SSLRequest with an error (e.g. it could not fork a backend). Read
/// what it sent: a v3 ErrorResponse (length, then fields) or an old-style bare message.
async fn error_response<S>(stream: &mut S, target: &str) -> ConnError
where
    S: AsyncRead + Unpin,
{
    let mut buf = Vec::new();
    let read = tokio::time::timeout(
        Duration::from_secs(2),
        (&mut *stream).take(8192).read_to_end(&mut buf),
    )
    .await;
    if read.is_err() && buf.is_empty() {
        return ConnError::NotPostgres {
            host: target.to_string(),
            reason: "it answered the TLS request with 'E' and nothing else".to_string(),
        };
    }
    let (mut code, mut message) = (String::new(), String::new());
    let fields = if buf.len() >= 4 {
        let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        (len >= 4 && len <= buf.len()).then(|| &buf[4..len])
    } else {
        None
    };
    match fields {
        Some(fields) => {
            for field in fields.split(|b| *b == 0) {
                if let Some((&kind, value)) = field.split_first() {
                    let value = String::from_utf8_lossy(value).into_owned();
                    match kind {
                        b'C' => code = value,
                        b'M' => message = value,
                        _ => {}
                    }
                }
            }
        }
        None => {
            message = String::from_utf8_lossy(&buf)
                .trim_matches(|c: char| c == '\0' || c.is_whitespace())
                .to_string();
        }
    }
    if message.is_empty() {
        message = "the server answered the TLS request with an error".to_string();
    }
    ConnError::Server {
        host: target.to_string(),
        code: if code.is_empty() {
            "08006".to_string()
        } else {
            code
        },
        message,
    }
}

/// Turn a tokio-postgres error from the startup phase into a [`ConnError`].
fn classify(
    err: &tokio_postgres::Error,
    spec: &ConnSpec,
    target: &str,
    tls_name: Option<&str>,
) -> ConnError {
    let host = target.to_string();
    if let Some(db) = err.as_db_error() {
        let code = db.code().code().to_string();
        let message = db.message().to_string();
        return match code.as_str() {
            "28P01" | "28000" => ConnError::Auth {
                host,
                user: spec.user.clone(),
                message,
            },
            _ => ConnError::Server {
                host,
                code,
                message,
            },
        };
    }
    if let Some(tls_err) = tls::find_rustls_error(err) {
        return ConnError::TlsHandshake {
            host,
            reason: tls::describe_tls_error(
                tls_err,
                tls_name.unwrap_or_default(),
                spec.sslrootcert.as_ref(),
            ),
        };
    }
    let text = err.to_string();
    let cause = std::error::Error::source(err)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let full = if cause.is_empty() {
        text.clone()
    } else {
        format!("{text}: {cause}")
    };
    if text.starts_with("error performing TLS handshake") {
        let eof = std::error::Error::source(err)
            .and_then(|s| s.downcast_ref::<io::Error>())
            .is_some_and(|e| e.kind() == io::ErrorKind::UnexpectedEof);
        return ConnError::TlsHandshake {
            host,
            reason: if eof {
                "the server closed the connection during the TLS handshake".to_string()
            } else if cause.is_empty() {
                text
            } else {
                cause
            },
        };
    }
    if cause.contains("password missing") {
        return ConnError::Auth {
            host,
            user: spec.user.clone(),
            message: "the server asks for a password and none was given".to_string(),
        };
    }
    if text.starts_with("authentication error") || text.starts_with("invalid configuration") {
        return ConnError::Auth {
            host,
            user: spec.user.clone(),
            message: full,
        };
    }
    if err.is_closed() {
        return ConnError::NotPostgres {
            host,
            reason: "it closed the connection during the startup handshake".to_string(),
        };
    }
    ConnError::NotPostgres {
        host,
        reason: format!("its reply is not the PostgreSQL protocol: {full}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_combination() {
        let s = Duration::from_secs;
        assert_eq!(effective_timeout(s(10), None), Some(s(10)));
        assert_eq!(effective_timeout(s(10), Some(s(3))), Some(s(3)));
        assert_eq!(effective_timeout(s(2), Some(s(3))), Some(s(2)));
        assert_eq!(effective_timeout(Duration::ZERO, None), None);
        assert_eq!(effective_timeout(Duration::ZERO, Some(s(4))), Some(s(4)));
    }
}
