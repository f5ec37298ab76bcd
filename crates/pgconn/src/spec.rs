//! Connection strings as libpq takes them: `postgres://` / `postgresql://` URLs and
//! `key=value` lists, with the `PG*` environment variables filling in what the string leaves
//! out.
//!
//! The string is parsed here rather than by `tokio_postgres::Config::from_str` because that
//! parser knows only `sslmode` disable/prefer/require, rejects `sslrootcert`, and would echo
//! parts of a malformed string (possibly the password) in its errors. Every error produced here
//! names the part of the string that is wrong without quoting the password.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::error::ConnError;

/// Default PostgreSQL port.
pub const DEFAULT_PORT: u16 = 5432;

/// The `application_name` sent when neither the string nor `PGAPPNAME` sets one.
pub const DEFAULT_APPLICATION_NAME: &str = "dbaudit";

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SslMode {
    /// Plaintext only.
    Disable,
    /// Plaintext first; TLS (unverified) if the server rejects the plaintext connection.
    Allow,
    /// TLS (unverified) if the server supports it, plaintext otherwise. libpq's default.
    Prefer,
    /// TLS, certificate not verified (unless `sslrootcert` is given: then as `VerifyCa`).
    Require,
    /// TLS, certificate chain verified, host name not checked.
    VerifyCa,
    /// TLS, certificate chain and host name verified.
    VerifyFull,
}

impl SslMode {
    pub const ALL: [SslMode; 6] = [
        SslMode::Disable,
        SslMode::Allow,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether a plaintext connection is acceptable in this mode.
    pub fn allows_plaintext(self) -> bool {
        matches!(self, SslMode::Disable | SslMode::Allow | SslMode::Prefer)
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SslMode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        SslMode::ALL.into_iter().find(|m| m.as_str() == s).ok_or(())
    }
}

/// Where the trusted root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SslRootCert {
    /// A PEM file with one or more CA certificates (`sslrootcert=/path/ca.pem`).
    File(PathBuf),
    /// `sslrootcert=system`: the public web PKI roots (the Mozilla bundle compiled in).
    System,
}

/// What the TLS handshake checks, derived from `sslmode` and `sslrootcert` as libpq does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Encrypt only; any certificate is accepted.
    None,
    /// The certificate must chain to a trusted root; the host name is not checked.
    Chain,
    /// Chain and host name.
    Full,
}

/// `channel_binding` (SCRAM-SHA-256-PLUS over TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelBinding {
    Disable,
    Prefer,
    Require,
}

/// Where one host's connection goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A host name or IP address.
    Tcp(String),
    /// A directory holding the server's Unix socket (`.s.PGSQL.<port>`).
    Unix(PathBuf),
}

/// One entry of the host list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    pub host: Host,
    /// `hostaddr`: connect to this address instead of resolving the host name (which is still
    /// used for TLS verification).
    pub hostaddr: Option<IpAddr>,
    pub port: u16,
}

impl HostSpec {
    /// `host:port`, `[::1]:port`, or `/socket/dir:port`, for display.
    pub fn display(&self) -> String {
        match &self.host {
            Host::Tcp(h) if h.contains(':') => format!("[{h}]:{}", self.port),
            Host::Tcp(h) => format!("{h}:{}", self.port),
            Host::Unix(dir) => format!("{}:{}", dir.display(), self.port),
        }
    }

    /// What errors name: `host:port` for TCP, the socket file for Unix sockets.
    pub fn target(&self) -> String {
        match &self.host {
            Host::Tcp(_) => self.display(),
            Host::Unix(_) => self
                .socket_path()
                .map_or_else(String::new, |p| p.display().to_string()),
        }
    }

    /// The socket file for a Unix-socket host.
    pub fn socket_path(&self) -> Option<PathBuf> {
        match &self.host {
            Host::Unix(dir) => Some(dir.join(format!(".s.PGSQL.{}", self.port))),
            Host::Tcp(_) => None,
        }
    }
}

/// A parsed connection string with the environment's defaults applied.
///
/// `Display` (and [`ConnSpec::redacted`]) show `user@host:port/db (sslmode=...)`; the password is
/// never shown, and `Debug` prints it as `<redacted>`.
#[derive(Clone)]
pub struct ConnSpec {
    pub(crate) hosts: Vec<HostSpec>,
    pub(crate) user: String,
    pub(crate) password: Option<String>,
    pub(crate) dbname: String,
    pub(crate) sslmode: SslMode,
    pub(crate) sslrootcert: Option<SslRootCert>,
    pub(crate) direct_tls: bool,
    pub(crate) channel_binding: ChannelBinding,
    pub(crate) options: Option<String>,
    pub(crate) application_name: String,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) ignored: Vec<String>,
}

impl fmt::Debug for ConnSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnSpec")
            .field("hosts", &self.hosts)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("dbname", &self.dbname)
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .field("direct_tls", &self.direct_tls)
            .field("channel_binding", &self.channel_binding)
            .field("options", &self.options)
            .field("application_name", &self.application_name)
            .field("connect_timeout", &self.connect_timeout)
            .field("ignored", &self.ignored)
            .finish()
    }
}

impl fmt::Display for ConnSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl FromStr for ConnSpec {
    type Err = ConnError;
    fn from_str(s: &str) -> Result<Self, ConnError> {
        ConnSpec::parse(s)
    }
}

impl ConnSpec {
    /// Parse a libpq connection string (URL or `key=value` form), taking defaults from the
    /// process environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`,
    /// `PGSSLMODE`, `PGSSLROOTCERT`, ...) for whatever the string leaves out.
    pub fn parse(s: &str) -> Result<ConnSpec, ConnError> {
        ConnSpec::parse_with_env(s, &|name| std::env::var(name).ok())
    }

    /// [`ConnSpec::parse`] with the environment given as a lookup function (tests use this to
    /// avoid touching the process environment).
    pub fn parse_with_env(
        s: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ConnSpec, ConnError> {
        let mut params = Params::default();
        let trimmed = s.trim();
        let result = if let Some(rest) = strip_url_scheme(trimmed) {
            parse_url(rest, &mut params)
        } else if let Some((scheme, _)) = trimmed.split_once("://") {
            Err(if is_word(scheme) {
                format!("unsupported URL scheme \"{scheme}://\": use postgres:// or postgresql://")
            } else {
                "not a postgres:// URL nor a list of key=value pairs".to_string()
            })
        } else {
            parse_kv(trimmed, &mut params)
        };
        let result = result.and_then(|()| build(&mut params, env));
        result.map_err(|reason| ConnError::Invalid {
            reason: scrub(&reason, &params.secrets),
        })
    }

    /// `user@host:port/db (sslmode=...)`, never with the password.
    pub fn redacted(&self) -> String {
        let hosts = self
            .hosts
            .iter()
            .map(HostSpec::display)
            .collect::<Vec<_>>()
            .join(",");
        format!(
            "{}@{}/{} (sslmode={})",
            self.user, hosts, self.dbname, self.sslmode
        )
    }

    pub fn hosts(&self) -> &[HostSpec] {
        &self.hosts
    }
    pub fn user(&self) -> &str {
        &self.user
    }
    pub fn dbname(&self) -> &str {
        &self.dbname
    }
    /// Whether a password was given (in the string or `PGPASSWORD`). The password itself is not
    /// exposed.
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }
    pub fn sslmode(&self) -> SslMode {
        self.sslmode
    }
    pub fn sslrootcert(&self) -> Option<&SslRootCert> {
        self.sslrootcert.as_ref()
    }
    /// `sslnegotiation=direct`: TLS starts immediately, without the SSLRequest (PostgreSQL 17+).
    pub fn direct_tls(&self) -> bool {
        self.direct_tls
    }
    pub fn channel_binding(&self) -> ChannelBinding {
        self.channel_binding
    }
    pub fn options(&self) -> Option<&str> {
        self.options.as_deref()
    }
    pub fn application_name(&self) -> &str {
        &self.application_name
    }
    /// `connect_timeout` from the string or `PGCONNECT_TIMEOUT` (`None` when not set or `0`).
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }
    /// Parameters that were accepted but have no effect here (keepalive tuning, ORM-specific
    /// URL parameters such as `pgbouncer=true`, `target_session_attrs`, ...), as `key=...`
    /// (values are not kept). Callers may mention them.
    pub fn ignored_params(&self) -> &[String] {
        &self.ignored
    }

    /// What the TLS handshake verifies, per libpq: `verify-full` checks chain and host name,
    /// `verify-ca` the chain; `require` (and `prefer`/`allow`, when they end up using TLS) check
    /// nothing unless `sslrootcert` is given, in which case they verify the chain like
    /// `verify-ca`.
    pub fn verification(&self) -> Verification {
        match self.sslmode {
            SslMode::VerifyFull => Verification::Full,
            SslMode::VerifyCa => Verification::Chain,
            SslMode::Disable => Verification::None,
            SslMode::Allow | SslMode::Prefer | SslMode::Require => {
                if self.sslrootcert.is_some() {
                    Verification::Chain
                } else {
                    Verification::None
                }
            }
        }
    }

    /// Replace the `application_name` (e.g. to tag a scan connection).
    pub fn set_application_name(&mut self, name: impl Into<String>) {
        self.application_name = name.into();
    }
}

// ---------------------------------------------------------------------------------------------
// Raw parameters

/// Where a value came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    String,
    Env(&'static str),
}

#[derive(Debug, Clone, Default)]
struct Params {
    values: HashMap<&'static str, (String, Origin)>,
    ignored: Vec<String>,
    /// Passwords seen while parsing, scrubbed from any error text.
    secrets: Vec<String>,
}

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|(v, _)| v.as_str())
    }
    fn describe(&self, key: &'static str) -> String {
        match self.values.get(key) {
            Some((_, Origin::Env(var))) => format!("{key} (from {var})"),
            _ => key.to_string(),
        }
    }
}

/// How a connection parameter is handled.
enum KeyUse {
    /// Understood and applied; the canonical key name.
    Apply(&'static str),
    /// Accepted and validated where cheap, but has no effect on a short read-only audit.
    Ignore,
    /// Understood but not supported; the reason says what to do instead.
    Reject(&'static str),
}

fn classify_key(key: &str) -> Option<KeyUse> {
    const APPLY: &[&str] = &[
        "host",
        "hostaddr",
        "port",
        "user",
        "password",
        "dbname",
        "options",
        "application_name",
        "fallback_application_name",
        "connect_timeout",
        "sslmode",
        "sslrootcert",
        "sslnegotiation",
        "channel_binding",
        "client_encoding",
        "requiressl",
        "target_session_attrs",
        "load_balance_hosts",
        "gssencmode",
        "sslcertmode",
    ];
    const IGNORE: &[&str] = &[
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "sslsni",
        "sslcompression",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "krbsrvname",
        "gsslib",
        "gssdelegation",
        // Parameters ORMs and drivers put in DATABASE_URL; libpq would reject them, but they
        // are harmless here.
        "pgbouncer",
        "connection_limit",
        "pool_timeout",
        "pool_max_conns",
        "schema",
        "socket_timeout",
        "statement_cache_size",
        "sslaccept",
        "ssl_accept",
        "prepare_threshold",
    ];
    if let Some(k) = APPLY.iter().find(|k| **k == key) {
        return Some(KeyUse::Apply(k));
    }
    if IGNORE.contains(&key) {
        return Some(KeyUse::Ignore);
    }
    let reject = match key {
        "sslcert" | "sslkey" | "sslpassword" => {
            "client certificates are not supported; use password authentication"
        }
        "sslcrl" | "sslcrldir" => "certificate revocation lists are not supported",
        "service" | "servicefile" => {
            "pg_service.conf services are not supported; spell out host, port, user and dbname"
        }
        "passfile" => {
            "password files are not supported; give the password in the string or in PGPASSWORD"
        }
        "replication" => "replication connections are not supported",
        "requirepeer" => "requirepeer is not supported",
        "require_auth" => {
            "require_auth is not supported (the server's authentication method is accepted as offered)"
        }
        _ => return None,
    };
    Some(KeyUse::Reject(reject))
}

/// Store one `key=value`. `after_password` is set when the previous item was the password, so a
/// stray word after an unquoted password containing a space is not echoed.
fn store(
    params: &mut Params,
    key: &str,
    value: String,
    after_password: bool,
) -> Result<(), String> {
    match classify_key(key) {
        Some(KeyUse::Apply(k)) => {
            if k == "password" {
                params.secrets.push(value.clone());
            }
            params.values.insert(k, (value, Origin::String));
            Ok(())
        }
        Some(KeyUse::Ignore) => {
            params.ignored.push(format!("{key}=..."));
            Ok(())
        }
        Some(KeyUse::Reject(why)) => Err(format!("{key}: {why}")),
        None if after_password => Err(
            "unknown parameter after the password: if the password contains spaces or quotes, \
             wrap it in single quotes and escape ' and \\ with a backslash (password='...')"
                .to_string(),
        ),
        None if is_word(key) => Err(format!("unknown parameter \"{key}\"")),
        None => Err("unknown parameter (a key that is not a plain word)".to_string()),
    }
}

fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// Hide secrets in an error message. Input text only ever appears in messages inside double
/// quotes, so a quoted segment that contains a secret is replaced by `****`; long secrets are
/// also replaced anywhere (they cannot occur in the fixed text by chance).
fn scrub(text: &str, secrets: &[String]) -> String {
    let secrets: Vec<&str> = secrets
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    if secrets.is_empty() {
        return text.to_string();
    }
    let hide = |segment: &str| secrets.iter().any(|s| segment.contains(s));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let (segment, tail, closed) = match after.find('"') {
            Some(close) => (&after[..close], &after[close + 1..], true),
            None => (after, "", false),
        };
        out.push_str(if hide(segment) { "****" } else { segment });
        if closed {
            out.push('"');
        }
        rest = tail;
    }
    out.push_str(rest);
    for s in secrets.iter().filter(|s| s.len() >= 6) {
        out = out.replace(s, "****");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// key=value form

/// libpq's `conninfo_parse`: whitespace-separated `key = value`; a value is either a run of
/// non-space characters or single-quoted, with `\` escaping the next character in both.
fn parse_kv(s: &str, params: &mut Params) -> Result<(), String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut after_password = false;
    let mut index = 0;
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        index += 1;
        let key_start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let key: String = chars[key_start..i].iter().collect();
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() || chars[i] != '=' {
            return Err(if after_password {
                "a word without \"=\" follows the password: if the password contains spaces, \
                 wrap it in single quotes (password='...')"
                    .to_string()
            } else if index == 1 && !s.contains('=') {
                "expected a postgres:// URL or key=value pairs (e.g. \"host=localhost dbname=app\")"
                    .to_string()
            } else if is_word(&key) {
                format!("missing \"=\" after \"{key}\"")
            } else {
                format!("missing \"=\" after item {index}")
            });
        }
        if key.is_empty() {
            return Err(format!(
                "missing parameter name before \"=\" (item {index})"
            ));
        }
        i += 1; // '='
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < chars.len() && chars[i] == '\'' {
            i += 1;
            let mut closed = false;
            while i < chars.len() {
                match chars[i] {
                    '\\' => {
                        i += 1;
                        if i < chars.len() {
                            value.push(chars[i]);
                            i += 1;
                        }
                    }
                    '\'' => {
                        closed = true;
                        i += 1;
                        break;
                    }
                    c => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            if !closed {
                if key == "password" {
                    params.secrets.push(value);
                }
                return Err(if is_word(&key) {
                    format!("unterminated quoted value for \"{key}\" (a ' is missing)")
                } else {
                    "unterminated quoted value (a ' is missing)".to_string()
                });
            }
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '\\' {
                    i += 1;
                    if i < chars.len() {
                        value.push(chars[i]);
                        i += 1;
                    }
                } else {
                    value.push(chars[i]);
                    i += 1;
                }
            }
        }
        let is_password = key == "password";
        store(params, &key, value, after_password)?;
        after_password = is_password;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// URL form

fn strip_url_scheme(s: &str) -> Option<&str> {
    s.strip_prefix("postgresql://")
        .or_else(|| s.strip_prefix("postgres://"))
}

/// `%XX` decoding; `what` names the part for errors (the value itself is never echoed).
fn percent_decode(s: &str, what: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(0) => return Err(format!("%00 is not allowed in the {what}")),
                Some(b) => out.push(b),
                None => {
                    return Err(format!(
                        "invalid percent-encoding in the {what}: % must be followed by two hex \
                         digits (write a literal % as %25)"
                    ))
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| format!("the {what} is not valid UTF-8 once percent-decoded"))
}

/// libpq's `conninfo_uri_parse`, turning the URL into the same parameters as the `key=value`
/// form. One deviation: the user info ends at the *last* `@` of the authority, so a password
/// with an unencoded `@` still works (as in most drivers).
fn parse_url(rest: &str, params: &mut Params) -> Result<(), String> {
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (before_query, None),
    };
    // A password containing '/', '?' or '#' unencoded cuts the authority short; the '@' then
    // shows up later in the URL.
    let stray_at = path.is_some_and(|p| p.contains('@')) || query.is_some_and(|q| q.contains('@'));
    let encode_hint = if stray_at {
        " (the URL has an '@' after the host part: if the password contains '/', '?' or '#', \
         percent-encode them as %2F, %3F, %23)"
    } else {
        ""
    };

    let hostlist = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            if let Some(p) = password {
                // Record the raw and decoded forms before anything can fail.
                params.secrets.push(p.to_string());
                let decoded = percent_decode(p, "password")?;
                params.secrets.push(decoded.clone());
                params.values.insert("password", (decoded, Origin::String));
            }
            let user = percent_decode(user, "user name")?;
            if !user.is_empty() {
                params.values.insert("user", (user, Origin::String));
            }
            hosts
        }
        None => authority,
    };

    if !hostlist.is_empty() {
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for (n, item) in hostlist.split(',').enumerate() {
            let which = if hostlist.contains(',') {
                format!("host {} of the URL", n + 1)
            } else {
                "the URL's host".to_string()
            };
            let (host, port) = if let Some(v6) = item.strip_prefix('[') {
                let Some((addr, after)) = v6.split_once(']') else {
                    return Err(format!(
                        "{which}: an IPv6 address is missing its closing ']'{encode_hint}"
                    ));
                };
                let port = match after {
                    "" => "",
                    p => p.strip_prefix(':').ok_or_else(|| {
                        format!("{which}: unexpected text after the IPv6 address ']'{encode_hint}")
                    })?,
                };
                (addr.to_string(), port)
            } else {
                let (h, p) = match item.split_once(':') {
                    Some((h, p)) => (h, p),
                    None => (item, ""),
                };
                (percent_decode(h, "host name")?, p)
            };
            if !port.is_empty() && parse_port(port).is_none() {
                return Err(format!(
                    "{which}: the port is not a number between 1 and 65535{encode_hint}"
                ));
            }
            hosts.push(host);
            ports.push(port.to_string());
        }
        if hosts.iter().any(|h| !h.is_empty()) {
            params
                .values
                .insert("host", (hosts.join(","), Origin::String));
        }
        if ports.iter().any(|p| !p.is_empty()) {
            params
                .values
                .insert("port", (ports.join(","), Origin::String));
        }
    }

    if let Some(path) = path {
        let db = percent_decode(path, "database name")?;
        if !db.is_empty() {
            params.values.insert("dbname", (db, Origin::String));
        }
    }

    if let Some(query) = query {
        let mut after_password = false;
        for (n, pair) in query.split('&').enumerate() {
            if pair.is_empty() {
                continue;
            }
            let Some((k, v)) = pair.split_once('=') else {
                return Err(if after_password {
                    "a URL query parameter without \"=\" follows the password parameter: \
                     percent-encode '&' in the password as %26"
                        .to_string()
                } else {
                    format!(
                        "URL query parameter {} has no \"=\" (expected key=value)",
                        n + 1
                    )
                });
            };
            let key = percent_decode(k, "query parameter name")?;
            let value = percent_decode(v, "query parameter value")?;
            if key == "password" {
                params.secrets.push(v.to_string());
            }
            // JDBC-style `ssl=true`, which libpq also accepts.
            if key == "ssl" {
                if value == "true" {
                    params
                        .values
                        .insert("sslmode", ("require".to_string(), Origin::String));
                    after_password = false;
                    continue;
                }
                return Err(
                    "ssl: the only accepted value is \"true\" (or use sslmode=...)".to_string(),
                );
            }
            let is_password = key == "password";
            store(params, &key, value, after_password)?;
            after_password = is_password;
        }
    }
    Ok(())
}

fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 5 {
        return None;
    }
    s.parse::<u16>().ok().filter(|p| *p != 0)
}

// ---------------------------------------------------------------------------------------------
// Defaults and validation

const ENV_VARS: &[(&str, &str)] = &[
    ("host", "PGHOST"),
    ("hostaddr", "PGHOSTADDR"),
    ("port", "PGPORT"),
    ("user", "PGUSER"),
    ("password", "PGPASSWORD"),
    ("dbname", "PGDATABASE"),
    ("sslmode", "PGSSLMODE"),
    ("sslrootcert", "PGSSLROOTCERT"),
    ("sslnegotiation", "PGSSLNEGOTIATION"),
    ("channel_binding", "PGCHANNELBINDING"),
    ("application_name", "PGAPPNAME"),
    ("connect_timeout", "PGCONNECT_TIMEOUT"),
    ("options", "PGOPTIONS"),
    ("client_encoding", "PGCLIENTENCODING"),
    ("target_session_attrs", "PGTARGETSESSIONATTRS"),
    ("gssencmode", "PGGSSENCMODE"),
    ("requiressl", "PGREQUIRESSL"),
];

/// The directory libpq uses when no host is given: Debian's `/var/run/postgresql` when it
/// exists, otherwise upstream's `/tmp`.
pub fn default_socket_dir() -> PathBuf {
    let debian = Path::new("/var/run/postgresql");
    if debian.is_dir() {
        debian.to_path_buf()
    } else {
        PathBuf::from("/tmp")
    }
}

fn os_user_name() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .filter(|n| !n.is_empty())
}

fn build(p: &mut Params, env: &dyn Fn(&str) -> Option<String>) -> Result<ConnSpec, String> {
    for (key, var) in ENV_VARS {
        if !p.values.contains_key(key) {
            if let Some(v) = env(var) {
                if *key == "password" {
                    p.secrets.push(v.clone());
                }
                p.values.insert(key, (v, Origin::Env(var)));
            }
        }
    }

    // sslmode, with the deprecated requiressl as a fallback.
    let mut sslmode_given = true;
    let sslmode = match p.get("sslmode") {
        Some(v) => v.parse::<SslMode>().map_err(|()| {
            let shown = if is_word(v) {
                format!("\"{v}\"")
            } else {
                "the value".to_string()
            };
            format!(
                "{}: {shown} is not one of disable, allow, prefer, require, verify-ca, verify-full",
                p.describe("sslmode")
            )
        })?,
        None => match p.get("requiressl") {
            Some("1") => SslMode::Require,
            Some("0") => SslMode::Prefer,
            Some(_) => return Err(format!("{}: must be 0 or 1", p.describe("requiressl"))),
            None => {
                sslmode_given = false;
                SslMode::Prefer
            }
        },
    };

    let sslrootcert = match p.get("sslrootcert") {
        None | Some("") => None,
        Some("system") => Some(SslRootCert::System),
        Some(path) => Some(SslRootCert::File(PathBuf::from(path))),
    };
    // libpq 16: sslrootcert=system defaults sslmode to verify-full and refuses weaker modes,
    // since the public roots vouch for any name they have issued a certificate for.
    let sslmode = if sslrootcert == Some(SslRootCert::System) {
        if !sslmode_given {
            SslMode::VerifyFull
        } else if sslmode != SslMode::VerifyFull {
            return Err(format!(
                "sslmode={sslmode} may not be used with sslrootcert=system: use sslmode=verify-full"
            ));
        } else {
            sslmode
        }
    } else {
        sslmode
    };

    let direct_tls = match p.get("sslnegotiation") {
        None | Some("postgres") => false,
        Some("direct") => {
            if sslmode.allows_plaintext() {
                return Err(format!(
                    "sslnegotiation=direct needs sslmode=require, verify-ca or verify-full \
                     (sslmode is {sslmode})"
                ));
            }
            true
        }
        Some(_) => {
            return Err(format!(
                "{}: must be postgres or direct",
                p.describe("sslnegotiation")
            ))
        }
    };

    let channel_binding = match p.get("channel_binding") {
        None | Some("prefer") => ChannelBinding::Prefer,
        Some("disable") => ChannelBinding::Disable,
        Some("require") => {
            if sslmode == SslMode::Disable {
                return Err("channel_binding=require needs TLS, but sslmode=disable".to_string());
            }
            ChannelBinding::Require
        }
        Some(_) => {
            return Err(format!(
                "{}: must be disable, prefer or require",
                p.describe("channel_binding")
            ))
        }
    };

    if let Some(enc) = p.get("client_encoding") {
        if !matches!(
            enc.to_ascii_lowercase().as_str(),
            "utf8" | "utf-8" | "unicode" | "auto" | ""
        ) {
            return Err(format!(
                "{}: only UTF8 is supported",
                p.describe("client_encoding")
            ));
        }
    }
    match p.get("gssencmode") {
        None | Some("disable") | Some("prefer") | Some("") => {}
        Some("require") => {
            return Err("gssencmode=require: GSSAPI encryption is not supported".to_string())
        }
        Some(_) => {
            return Err(format!(
                "{}: must be disable, prefer or require",
                p.describe("gssencmode")
            ))
        }
    }
    match p.get("sslcertmode") {
        None | Some("disable") | Some("allow") | Some("") => {}
        Some("require") => {
            return Err("sslcertmode=require: client certificates are not supported".to_string())
        }
        Some(_) => {
            return Err(format!(
                "{}: must be disable, allow or require",
                p.describe("sslcertmode")
            ))
        }
    }
    match p.get("target_session_attrs") {
        None => {}
        Some("any" | "read-write" | "read-only" | "primary" | "standby" | "prefer-standby") => {
            // The audit only reads, so any server of the list will do.
            p.ignored.push("target_session_attrs=...".to_string());
        }
        Some(_) => {
            return Err(format!(
                "{}: must be any, read-write, read-only, primary, standby or prefer-standby",
                p.describe("target_session_attrs")
            ))
        }
    }
    match p.get("load_balance_hosts") {
        None | Some("disable") => {}
        Some("random") => p.ignored.push("load_balance_hosts=...".to_string()),
        Some(_) => {
            return Err(format!(
                "{}: must be disable or random",
                p.describe("load_balance_hosts")
            ))
        }
    }

    let connect_timeout = match p.get("connect_timeout") {
        None | Some("") => None,
        Some(v) => {
            let secs: i64 = v.trim().parse().map_err(|_| {
                format!(
                    "{}: must be a whole number of seconds",
                    p.describe("connect_timeout")
                )
            })?;
            // libpq: 0 or less waits forever; 1 is raised to 2.
            (secs > 0).then(|| Duration::from_secs(secs.max(2) as u64))
        }
    };

    let hosts = build_hosts(p)?;

    let user = match p.get("user") {
        Some(u) if !u.is_empty() => u.to_string(),
        _ => os_user_name()
            .or_else(|| env("USER").filter(|u| !u.is_empty()))
            .ok_or_else(|| {
                "no user name given and the current OS user has no name: set user=... or PGUSER"
                    .to_string()
            })?,
    };
    let dbname = match p.get("dbname") {
        Some(d) if !d.is_empty() => d.to_string(),
        _ => user.clone(),
    };
    // libpq treats an empty password as none.
    let password = p
        .get("password")
        .filter(|pw| !pw.is_empty())
        .map(str::to_string);
    let options = p
        .get("options")
        .filter(|o| !o.is_empty())
        .map(str::to_string);
    let application_name = p
        .get("application_name")
        .or_else(|| p.get("fallback_application_name"))
        .filter(|a| !a.is_empty())
        .unwrap_or(DEFAULT_APPLICATION_NAME)
        .to_string();

    Ok(ConnSpec {
        hosts,
        user,
        password,
        dbname,
        sslmode,
        sslrootcert,
        direct_tls,
        channel_binding,
        options,
        application_name,
        connect_timeout,
        ignored: p.ignored.clone(),
    })
}

fn split_list(v: Option<&str>) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(v) => v.split(',').map(|s| s.trim().to_string()).collect(),
    }
}

fn build_hosts(p: &Params) -> Result<Vec<HostSpec>, String> {
    let hosts = split_list(p.get("host"));
    let addrs = split_list(p.get("hostaddr"));
    let ports = split_list(p.get("port"));

    if !hosts.is_empty() && !addrs.is_empty() && hosts.len() != addrs.len() {
        return Err(format!(
            "{} lists {} hosts but {} lists {} addresses: give one hostaddr per host",
            p.describe("host"),
            hosts.len(),
            p.describe("hostaddr"),
            addrs.len()
        ));
    }
    let n = hosts.len().max(addrs.len()).max(1);
    if ports.len() > 1 && ports.len() != n {
        return Err(format!(
            "{} lists {} ports for {} hosts: give one port, or one per host",
            p.describe("port"),
            ports.len(),
            n
        ));
    }

    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let port = match ports.get(i).or_else(|| ports.first()).map(String::as_str) {
            None | Some("") => DEFAULT_PORT,
            Some(s) => parse_port(s).ok_or_else(|| {
                let shown = if s.len() <= 16 && is_word(s) {
                    format!(" (\"{s}\")")
                } else {
                    String::new()
                };
                format!(
                    "{}: not a port number between 1 and 65535{shown}",
                    p.describe("port")
                )
            })?,
        };
        let hostaddr = match addrs.get(i).map(String::as_str) {
            None | Some("") => None,
            Some(a) => Some(a.parse::<IpAddr>().map_err(|_| {
                format!(
                    "{}: \"{}\" is not a numeric IP address (use host= for names)",
                    p.describe("hostaddr"),
                    if is_word(a) || a.contains(':') {
                        a
                    } else {
                        "the value"
                    }
                )
            })?),
        };
        let host = match hosts.get(i).map(String::as_str) {
            Some(h) if h.starts_with('/') => Host::Unix(PathBuf::from(h)),
            Some(h) if h.starts_with('@') => {
                return Err(format!(
                    "{}: abstract Unix sockets (@name) are not supported",
                    p.describe("host")
                ))
            }
            Some(h) if !h.is_empty() => {
                if h.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(format!(
                        "{}: a host name cannot contain spaces",
                        p.describe("host")
                    ));
                }
                Host::Tcp(h.to_string())
            }
            // No host name: connect by hostaddr, or to the default Unix socket.
            _ => match hostaddr {
                Some(a) => Host::Tcp(a.to_string()),
                None => Host::Unix(default_socket_dir()),
            },
        };
        out.push(HostSpec {
            host,
            hostaddr,
            port,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn kv_escapes() {
        let s =
            ConnSpec::parse_with_env(r"host=h user=u password='a\'b c\\d' dbname=x\ y", &no_env)
                .unwrap();
        assert_eq!(s.password.as_deref(), Some(r"a'b c\d"));
        assert_eq!(s.dbname, "x y");
    }

    #[test]
    fn url_password_with_at_sign() {
        let s = ConnSpec::parse_with_env("postgres://u:p@ss@h/db", &no_env).unwrap();
        assert_eq!(s.password.as_deref(), Some("p@ss"));
        assert_eq!(s.hosts[0].host, Host::Tcp("h".into()));
    }

    #[test]
    fn scrub_hides_quoted_segments_and_long_secrets() {
        let secrets = ["sec".to_string()];
        assert_eq!(scrub("a sec b \"xsecx\"", &secrets), "a sec b \"****\"");
        assert_eq!(scrub("unbalanced \"sec", &secrets), "unbalanced \"****");
        let long = ["longsecret".to_string()];
        assert_eq!(scrub("x longsecret \"y\"", &long), "x **** \"y\"");
    }
}
