//! Connection-string parsing: URL and key=value forms, sslmode, environment defaults, and the
//! password never showing up in display or errors.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use dbaudit_pgconn::{
    ChannelBinding, ConnError, ConnSpec, Host, HostSpec, SslMode, SslRootCert, Verification,
};

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(s: &str) -> ConnSpec {
    match ConnSpec::parse_with_env(s, &no_env) {
        Ok(spec) => spec,
        Err(e) => panic!("{s:?} should parse: {e}"),
    }
}

fn parse_env(s: &str, vars: &[(&str, &str)]) -> Result<ConnSpec, ConnError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ConnSpec::parse_with_env(s, &move |k| map.get(k).cloned())
}

fn invalid(s: &str) -> String {
    match ConnSpec::parse_with_env(s, &no_env) {
        Ok(spec) => panic!("{s:?} should not parse, got {spec:?}"),
        Err(e @ ConnError::Invalid { .. }) => e.to_string(),
        Err(e) => panic!("{s:?}: expected Invalid, got {e:?}"),
    }
}

fn tcp(host: &str, port: u16) -> HostSpec {
    HostSpec {
        host: Host::Tcp(host.to_string()),
        hostaddr: None,
        port,
    }
}

fn unix(dir: &str, port: u16) -> HostSpec {
    HostSpec {
        host: Host::Unix(PathBuf::from(dir)),
        hostaddr: None,
        port,
    }
}

// ----------------------------------------------------------------------------- URL form

#[test]
fn url_full() {
    let s = parse("postgres://alice:s3cret@db.example.com:6543/app?sslmode=require");
    assert_eq!(s.hosts(), &[tcp("db.example.com", 6543)]);
    assert_eq!(s.user(), "alice");
    assert!(s.has_password());
    assert_eq!(s.dbname(), "app");
    assert_eq!(s.sslmode(), SslMode::Require);
    assert_eq!(s.verification(), Verification::None);
}

#[test]
fn url_postgresql_scheme_and_defaults() {
    let s = parse("postgresql://bob@localhost");
    assert_eq!(s.hosts(), &[tcp("localhost", 5432)]);
    assert_eq!(s.user(), "bob");
    assert!(!s.has_password());
    assert_eq!(s.dbname(), "bob", "dbname defaults to the user");
    assert_eq!(s.sslmode(), SslMode::Prefer, "libpq's default sslmode");
}

#[test]
fn url_percent_encoding() {
    let s = parse("postgres://us%40er:p%40ss%2Fw%3Ard@h/my%20db");
    assert_eq!(s.user(), "us@er");
    assert_eq!(s.dbname(), "my db");
    assert!(s.has_password());
    assert!(!s.redacted().contains("p@ss"));
}

#[test]
fn url_unencoded_at_in_password() {
    let s = parse("postgres://u:p@ss@h:5433/db");
    assert_eq!(s.hosts(), &[tcp("h", 5433)]);
    assert_eq!(s.user(), "u");
}

#[test]
fn url_multiple_hosts() {
    let s = parse("postgres://u@h1:5433,h2,h3:5435/db");
    assert_eq!(
        s.hosts(),
        &[tcp("h1", 5433), tcp("h2", 5432), tcp("h3", 5435)]
    );
    assert_eq!(
        s.redacted(),
        "u@h1:5433,h2:5432,h3:5435/db (sslmode=prefer)"
    );
}

#[test]
fn url_ipv6() {
    let s = parse("postgres://u@[::1]:5433/db");
    assert_eq!(s.hosts(), &[tcp("::1", 5433)]);
    assert_eq!(s.hosts()[0].display(), "[::1]:5433");
}

#[test]
fn url_unix_socket_encoded_host() {
    let s = parse("postgres://u@%2Fvar%2Frun%2Fpostgresql:5433/db");
    assert_eq!(s.hosts(), &[unix("/var/run/postgresql", 5433)]);
    assert_eq!(s.hosts()[0].target(), "/var/run/postgresql/.s.PGSQL.5433");
}

#[test]
fn url_unix_socket_query_host() {
    let s = parse("postgresql:///db?host=/var/run/postgresql&port=5434&user=u");
    assert_eq!(s.hosts(), &[unix("/var/run/postgresql", 5434)]);
    assert_eq!(s.dbname(), "db");
    assert_eq!(s.user(), "u");
}

#[test]
fn url_query_parameters() {
    let s = parse(
        "postgres://u@h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=x\
         &connect_timeout=7&options=-c%20search_path%3Dpublic&channel_binding=require",
    );
    assert_eq!(s.sslmode(), SslMode::VerifyFull);
    assert_eq!(
        s.sslrootcert(),
        Some(&SslRootCert::File(PathBuf::from("/etc/ca.pem")))
    );
    assert_eq!(s.application_name(), "x");
    assert_eq!(s.connect_timeout(), Some(Duration::from_secs(7)));
    assert_eq!(s.options(), Some("-c search_path=public"));
    assert_eq!(s.channel_binding(), ChannelBinding::Require);
}

#[test]
fn url_jdbc_ssl_true() {
    assert_eq!(
        parse("postgres://u@h/db?ssl=true").sslmode(),
        SslMode::Require
    );
}

#[test]
fn url_orm_parameters_are_ignored_and_listed() {
    let s =
        parse("postgresql://u:pw@h:6543/postgres?pgbouncer=true&connection_limit=1&schema=public");
    assert_eq!(s.ignored_params().len(), 3);
    assert!(s
        .ignored_params()
        .iter()
        .any(|p| p.starts_with("pgbouncer")));
}

#[test]
fn url_password_in_query() {
    let s = parse("postgres://u@h/db?password=hunter2");
    assert!(s.has_password());
    assert!(!s.to_string().contains("hunter2"));
}

// ----------------------------------------------------------------------------- key=value form

#[test]
fn kv_basic() {
    let s = parse("host=db.internal port=5433 user=carol password=pw dbname=prod sslmode=verify-full sslrootcert=/path/ca.pem");
    assert_eq!(s.hosts(), &[tcp("db.internal", 5433)]);
    assert_eq!(s.user(), "carol");
    assert_eq!(s.dbname(), "prod");
    assert_eq!(s.sslmode(), SslMode::VerifyFull);
    assert_eq!(s.verification(), Verification::Full);
    assert_eq!(
        s.sslrootcert(),
        Some(&SslRootCert::File(PathBuf::from("/path/ca.pem")))
    );
}

#[test]
fn kv_quoted_values_and_spaces_around_equals() {
    let s = parse(r"host = h  user='a b'  password='x y\'z'   dbname='it\'s'");
    assert_eq!(s.user(), "a b");
    assert_eq!(s.dbname(), "it's");
    assert!(s.has_password());
}

#[test]
fn kv_empty_quoted_value() {
    let s = parse("host=h user=u dbname=''");
    assert_eq!(s.dbname(), "u", "an empty dbname means the default");
}

#[test]
fn kv_unix_socket_and_multiple_hosts() {
    let s = parse("host=/tmp port=5433 user=u");
    assert_eq!(s.hosts(), &[unix("/tmp", 5433)]);
    let s = parse("host=a,b,/run/pg port=1,2,3 user=u");
    assert_eq!(s.hosts(), &[tcp("a", 1), tcp("b", 2), unix("/run/pg", 3)]);
    let s = parse("host=a,b port=7 user=u");
    assert_eq!(s.hosts(), &[tcp("a", 7), tcp("b", 7)]);
}

#[test]
fn kv_hostaddr() {
    let s = parse("host=db.example.com hostaddr=127.0.0.1 user=u");
    assert_eq!(s.hosts()[0].host, Host::Tcp("db.example.com".into()));
    assert_eq!(s.hosts()[0].hostaddr, Some("127.0.0.1".parse().unwrap()));
    let s = parse("hostaddr=127.0.0.1 user=u");
    assert_eq!(s.hosts()[0].host, Host::Tcp("127.0.0.1".into()));
}

#[test]
fn empty_string_means_all_defaults() {
    let s = parse("");
    assert!(matches!(s.hosts()[0].host, Host::Unix(_)));
    assert_eq!(s.hosts()[0].port, 5432);
    assert!(!s.user().is_empty());
    assert_eq!(s.dbname(), s.user());
}

#[test]
fn from_str_and_display() {
    let s: ConnSpec = "host=h user=u password=pw dbname=d"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let shown = s.to_string();
    assert_eq!(shown, "u@h:5432/d (sslmode=prefer)");
    assert_eq!(shown, s.redacted());
}

// ----------------------------------------------------------------------------- sslmode

#[test]
fn every_sslmode_parses() {
    for mode in SslMode::ALL {
        let s = parse(&format!("host=h user=u sslmode={mode}"));
        assert_eq!(s.sslmode(), mode);
        let s = parse(&format!("postgres://u@h/d?sslmode={mode}"));
        assert_eq!(s.sslmode(), mode);
    }
}

#[test]
fn verification_follows_libpq() {
    let v = |s: &str| parse(s).verification();
    assert_eq!(v("host=h sslmode=disable"), Verification::None);
    assert_eq!(v("host=h sslmode=allow"), Verification::None);
    assert_eq!(v("host=h sslmode=prefer"), Verification::None);
    assert_eq!(v("host=h sslmode=require"), Verification::None);
    assert_eq!(v("host=h sslmode=verify-ca"), Verification::Chain);
    assert_eq!(v("host=h sslmode=verify-full"), Verification::Full);
    // With a root certificate, require verifies the chain like verify-ca.
    assert_eq!(
        v("host=h sslmode=require sslrootcert=/ca.pem"),
        Verification::Chain
    );
}

#[test]
fn sslrootcert_system_means_verify_full() {
    let s = parse("host=h sslrootcert=system");
    assert_eq!(s.sslmode(), SslMode::VerifyFull);
    assert_eq!(s.sslrootcert(), Some(&SslRootCert::System));
    let e = invalid("host=h sslrootcert=system sslmode=require");
    assert!(e.contains("verify-full"), "{e}");
}

#[test]
fn unknown_sslmode_is_invalid() {
    let e = invalid("host=h sslmode=verify_full");
    assert!(e.contains("sslmode") && e.contains("verify_full"), "{e}");
    assert!(e.contains("verify-full"), "lists the valid values: {e}");
    let e = invalid("postgres://u@h/db?sslmode=yes");
    assert!(e.contains("sslmode"), "{e}");
}

#[test]
fn requiressl_maps_to_require() {
    assert_eq!(parse("host=h requiressl=1").sslmode(), SslMode::Require);
}

#[test]
fn direct_negotiation_needs_strong_sslmode() {
    assert!(parse("host=h sslmode=require sslnegotiation=direct").direct_tls());
    let e = invalid("host=h sslmode=prefer sslnegotiation=direct");
    assert!(e.contains("sslnegotiation"), "{e}");
}

// ----------------------------------------------------------------------------- environment

#[test]
fn env_fills_what_the_string_leaves_out() {
    let s = parse_env(
        "dbname=fromstring",
        &[
            ("PGHOST", "envhost"),
            ("PGPORT", "6000"),
            ("PGUSER", "envuser"),
            ("PGPASSWORD", "envpass"),
            ("PGDATABASE", "envdb"),
            ("PGSSLMODE", "verify-ca"),
            ("PGSSLROOTCERT", "/env/ca.pem"),
            ("PGAPPNAME", "envapp"),
            ("PGCONNECT_TIMEOUT", "9"),
        ],
    )
    .unwrap();
    assert_eq!(s.hosts(), &[tcp("envhost", 6000)]);
    assert_eq!(s.user(), "envuser");
    assert!(s.has_password());
    assert_eq!(s.dbname(), "fromstring", "the string wins over PGDATABASE");
    assert_eq!(s.sslmode(), SslMode::VerifyCa);
    assert_eq!(
        s.sslrootcert(),
        Some(&SslRootCert::File(PathBuf::from("/env/ca.pem")))
    );
    assert_eq!(s.application_name(), "envapp");
    assert_eq!(s.connect_timeout(), Some(Duration::from_secs(9)));
}

#[test]
fn string_overrides_env() {
    let s = parse_env(
        "postgres://u@h:1234/db?sslmode=disable",
        &[
            ("PGHOST", "envhost"),
            ("PGPORT", "6000"),
            ("PGUSER", "envuser"),
            ("PGSSLMODE", "verify-full"),
        ],
    )
    .unwrap();
    assert_eq!(s.hosts(), &[tcp("h", 1234)]);
    assert_eq!(s.user(), "u");
    assert_eq!(s.sslmode(), SslMode::Disable);
}

#[test]
fn env_unix_socket_host() {
    let s = parse_env("", &[("PGHOST", "/run/postgresql"), ("PGUSER", "x")]).unwrap();
    assert_eq!(s.hosts(), &[unix("/run/postgresql", 5432)]);
    assert_eq!(s.dbname(), "x");
}

#[test]
fn bad_env_value_names_the_variable() {
    let e = parse_env("host=h", &[("PGSSLMODE", "bogus")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("PGSSLMODE"), "{e}");
    let e = parse_env("host=h", &[("PGPORT", "http")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("PGPORT"), "{e}");
}

#[test]
fn default_user_is_the_os_user() {
    let s = parse("host=h");
    assert!(!s.user().is_empty());
    assert_eq!(s.dbname(), s.user());
    let expected = nix_user_name();
    if let Some(name) = expected {
        assert_eq!(s.user(), name);
    }
}

fn nix_user_name() -> Option<String> {
    // The same lookup libpq does: the effective uid's passwd entry; compare with `id -un`.
    let out = std::process::Command::new("id").arg("-un").output().ok()?;
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}

#[test]
fn application_name_defaults() {
    assert_eq!(parse("host=h").application_name(), "dbaudit");
    assert_eq!(
        parse("host=h fallback_application_name=fb").application_name(),
        "fb"
    );
    assert_eq!(
        parse("host=h fallback_application_name=fb application_name=app").application_name(),
        "app"
    );
}

#[test]
fn connect_timeout_follows_libpq() {
    assert_eq!(parse("host=h connect_timeout=0").connect_timeout(), None);
    assert_eq!(
        parse("host=h connect_timeout=1").connect_timeout(),
        Some(Duration::from_secs(2)),
        "libpq raises 1 second to 2"
    );
    let e = invalid("host=h connect_timeout=soon");
    assert!(e.contains("connect_timeout"), "{e}");
}

// ----------------------------------------------------------------------------- bad input

#[test]
fn unknown_key_is_named() {
    let e = invalid("host=h sslmdoe=require");
    assert!(e.contains("sslmdoe"), "{e}");
    let e = invalid("postgres://u@h/db?foo=bar");
    assert!(e.contains("foo"), "{e}");
}

#[test]
fn unsupported_libpq_keys_say_why() {
    let e = invalid("host=h sslcert=/c.pem sslkey=/k.pem");
    assert!(e.contains("client certificates"), "{e}");
    let e = invalid("service=mydb");
    assert!(e.contains("pg_service"), "{e}");
}

#[test]
fn missing_equals() {
    let e = invalid("host=h dbname");
    assert!(e.contains("dbname") && e.contains('='), "{e}");
}

#[test]
fn not_a_connection_string() {
    let e = invalid("just-a-word");
    assert!(e.contains("postgres://"), "{e}");
}

#[test]
fn unterminated_quote() {
    let e = invalid("host=h dbname='abc");
    assert!(e.contains("dbname") && e.contains("unterminated"), "{e}");
}

#[test]
fn bad_ports() {
    for s in [
        "host=h port=0",
        "host=h port=65536",
        "host=h port=abc",
        "host=h port=-1",
        "postgres://u@h:0/db",
        "postgres://u@h:99999/db",
        "postgres://u@h:x/db",
    ] {
        let e = invalid(s);
        assert!(e.contains("port"), "{s}: {e}");
    }
}

#[test]
fn host_and_port_counts_must_match() {
    let e = invalid("host=a,b,c port=1,2");
    assert!(e.contains("3 hosts") && e.contains("2 ports"), "{e}");
    let e = invalid("host=a,b hostaddr=127.0.0.1");
    assert!(e.contains("hostaddr"), "{e}");
}

#[test]
fn bad_hostaddr() {
    let e = invalid("hostaddr=not-an-ip");
    assert!(e.contains("hostaddr"), "{e}");
}

#[test]
fn bad_percent_encoding() {
    let e = invalid("postgres://u@h/db%zz");
    assert!(
        e.contains("percent-encoding") && e.contains("database name"),
        "{e}"
    );
}

#[test]
fn unsupported_scheme() {
    let e = invalid("mysql://u:pw@h/db");
    assert!(e.contains("mysql://"), "{e}");
    assert!(!e.contains("pw"), "{e}");
}

#[test]
fn ipv6_without_closing_bracket() {
    let e = invalid("postgres://u@[::1/db");
    assert!(e.contains("]"), "{e}");
}

#[test]
fn bad_enumerations() {
    for (s, key) in [
        ("host=h channel_binding=maybe", "channel_binding"),
        (
            "host=h target_session_attrs=whatever",
            "target_session_attrs",
        ),
        ("host=h load_balance_hosts=roundrobin", "load_balance_hosts"),
        ("host=h client_encoding=LATIN1", "client_encoding"),
        ("host=h sslnegotiation=fast", "sslnegotiation"),
        ("host=h gssencmode=require", "gssencmode"),
        ("host=h requiressl=yes", "requiressl"),
    ] {
        let e = invalid(s);
        assert!(e.contains(key), "{s}: {e}");
    }
}

#[test]
fn abstract_socket_rejected() {
    let e = invalid("host=@pg");
    assert!(e.contains("abstract"), "{e}");
}

// ----------------------------------------------------------------------------- no password leaks

const SECRET: &str = "Xyzzy-s3cret";

#[test]
fn password_never_in_redacted_display_or_debug() {
    for s in [
        format!("postgres://u:{SECRET}@h/db"),
        format!("postgres://u@h/db?password={SECRET}"),
        format!("host=h user=u password={SECRET}"),
        format!("host=h user=u password='{SECRET}'"),
    ] {
        let spec = parse(&s);
        assert!(spec.has_password());
        assert!(!spec.redacted().contains(SECRET), "{s}");
        assert!(!spec.to_string().contains(SECRET), "{s}");
        assert!(!format!("{spec:?}").contains(SECRET), "{s}");
    }
    let spec = parse_env("host=h", &[("PGPASSWORD", SECRET)]).unwrap();
    assert!(spec.has_password());
    assert!(!format!("{spec} {spec:?}").contains(SECRET));
}

#[test]
fn password_never_in_parse_errors() {
    let cases = [
        // URL with a bad port after the password.
        format!("postgres://u:{SECRET}@h:notaport/db"),
        // Password containing '/' unencoded: the authority is cut at the '/'.
        format!("postgres://u:{SECRET}/x@h/db"),
        // Password with a bad percent escape.
        format!("postgres://u:{SECRET}%zz@h/db"),
        // Bad sslmode with a password present.
        format!("postgres://u:{SECRET}@h/db?sslmode={SECRET}"),
        // Password as a query parameter, with a bad parameter after it.
        format!("postgres://u@h/db?password={SECRET}&bogus"),
        format!("postgres://u@h/db?password={SECRET}&{SECRET}=1"),
        // Unquoted password with a space: the second half looks like a key.
        format!("host=h password={SECRET} {SECRET}"),
        format!("host=h password=abc {SECRET}=1"),
        format!("host=h password=abc {SECRET}"),
        // Unterminated quote.
        format!("host=h password='{SECRET}"),
        format!("host=h password='{SECRET} port=5432"),
        // Quote inside a quoted password.
        format!("host=h password='{SECRET}'x' dbname=d"),
        // Password used as another value.
        format!("host=h password={SECRET} sslmode={SECRET}"),
        format!("host=h password={SECRET} port={SECRET}"),
        format!("host=h password={SECRET} hostaddr={SECRET}"),
        format!("mysql://u:{SECRET}@h/db"),
    ];
    for s in &cases {
        match ConnSpec::parse_with_env(s, &no_env) {
            Ok(spec) => panic!("{s:?} should not parse: {spec:?}"),
            Err(e) => {
                let shown = format!("{e} {e:?}");
                assert!(
                    !shown.contains(SECRET),
                    "{s:?} leaked the password: {shown}"
                );
                assert!(
                    !shown.contains("s3cret"),
                    "{s:?} leaked part of it: {shown}"
                );
            }
        }
    }
    // Password from the environment, bad value elsewhere.
    let e = parse_env("host=h port=x", &[("PGPASSWORD", SECRET)]).unwrap_err();
    assert!(!format!("{e} {e:?}").contains(SECRET));
}

#[test]
fn empty_password_means_none() {
    assert!(!parse("postgres://u:@h/db").has_password());
    assert!(!parse("host=h password=''").has_password());
}

#[test]
fn never_panics_on_arbitrary_input() {
    const PIECES: &[&str] = &[
        "postgres://",
        "postgresql://",
        "host=",
        "port=",
        "user=",
        "password=",
        "dbname=",
        "sslmode=",
        "sslrootcert=",
        "hostaddr=",
        "'",
        "\\",
        " ",
        "=",
        "@",
        ":",
        "/",
        "?",
        "&",
        ",",
        "[",
        "]",
        "%",
        "%2F",
        "%zz",
        "%00",
        "::1",
        "127.0.0.1",
        "5432",
        "99999",
        "verify-full",
        "system",
        "h",
        "é",
        "\0",
        "\n",
        "#",
        "ssl=true",
        "connect_timeout=",
        "-1",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let n = (next() % 12) as usize;
        let s: String = (0..n)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        // Either outcome is fine; a panic is not.
        if let Err(e) = ConnSpec::parse_with_env(&s, &no_env) {
            assert!(matches!(e, ConnError::Invalid { .. }));
        }
    }
}
