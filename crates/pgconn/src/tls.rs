//! rustls client configuration for each libpq `sslmode`, and plain-language TLS errors.
//!
//! Only the `ring` crypto provider is used (no aws-lc-rs: it needs cmake and clang to build).
//! The provider is passed explicitly, never installed process-wide.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::error::ConnError;
use crate::spec::{SslRootCert, Verification};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Where the trusted roots came from, for messages.
pub(crate) fn roots_description(root: Option<&SslRootCert>) -> String {
    match root {
        Some(SslRootCert::File(p)) => format!("the CA certificates in sslrootcert {}", p.display()),
        Some(SslRootCert::System) | None => {
            "the public certificate authorities built into dbaudit (Mozilla's root store)"
                .to_string()
        }
    }
}

fn load_roots(root: Option<&SslRootCert>) -> Result<RootCertStore, ConnError> {
    match root {
        Some(SslRootCert::File(path)) => load_pem_roots(path),
        Some(SslRootCert::System) | None => Ok(RootCertStore::from_iter(
            webpki_roots::TLS_SERVER_ROOTS.iter().cloned(),
        )),
    }
}

fn load_pem_roots(path: &Path) -> Result<RootCertStore, ConnError> {
    let invalid = |why: String| ConnError::Invalid {
        reason: format!("sslrootcert {}: {why}", path.display()),
    };
    let file = File::open(path).map_err(|e| invalid(format!("cannot open the file: {e}")))?;
    let mut reader = BufReader::new(file);
    let mut store = RootCertStore::empty();
    let mut count = 0usize;
    for cert in rustls_pemfile::certs(&mut reader) {
        let cert = cert.map_err(|e| invalid(format!("cannot read the PEM file: {e}")))?;
        store
            .add(cert)
            .map_err(|e| invalid(format!("not a usable CA certificate: {e}")))?;
        count += 1;
    }
    if count == 0 {
        return Err(invalid(
            "no PEM certificates (-----BEGIN CERTIFICATE-----) in the file".to_string(),
        ));
    }
    Ok(store)
}

/// The rustls configuration for one connection attempt.
pub(crate) fn client_config(
    verification: Verification,
    root: Option<&SslRootCert>,
    sni: bool,
) -> Result<ClientConfig, ConnError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnError::Invalid {
            reason: format!("TLS setup failed: {e}"),
        })?;
    let mut config = match verification {
        Verification::None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate {
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth(),
        Verification::Full => builder
            .with_root_certificates(load_roots(root)?)
            .with_no_client_auth(),
        Verification::Chain => {
            let inner = WebPkiServerVerifier::builder_with_provider(
                Arc::new(load_roots(root)?),
                provider.clone(),
            )
            .build()
            .map_err(|e| ConnError::Invalid {
                reason: format!("TLS setup failed: {e}"),
            })?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly { inner }))
                .with_no_client_auth()
        }
    };
    // What libpq 17 sends; PostgreSQL 17 requires it for direct TLS and accepts it otherwise,
    // older servers ignore it.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    config.enable_sni = sni;
    Ok(config)
}

/// Accepts any server certificate. DANGEROUS by design: this is libpq's `sslmode=require`
/// (and `prefer`/`allow`) without `sslrootcert`, which encrypts the connection but does not
/// authenticate the server, so an active man in the middle can read it. Users who need more
/// choose `verify-ca`/`verify-full`. The handshake signatures are still checked against the
/// presented certificate, so the session is bound to that certificate's key (which keeps
/// SCRAM channel binding meaningful).
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// libpq's `verify-ca`: the chain must lead to a trusted root, the host name is not checked.
/// webpki checks the chain first and the name last, so a name error means the chain passed.
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Find a rustls error in an error's source chain (tokio-rustls wraps it in an `io::Error`).
pub(crate) fn find_rustls_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(r) = inner.downcast_ref::<rustls::Error>() {
                    return Some(r);
                }
            }
        }
        cur = e.source();
    }
    None
}

/// Say what a rustls error means for the user and what to change.
pub(crate) fn describe_tls_error(
    err: &rustls::Error,
    server_name: &str,
    root: Option<&SslRootCert>,
) -> String {
    let roots = roots_description(root);
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => format!(
                "the server's certificate was not issued by a trusted certificate authority \
                 (trusted: {roots}); pass the CA that signed it with sslrootcert=/path/to/ca.pem, \
                 or use sslmode=require to encrypt without verifying the certificate"
            ),
            CertificateError::NotValidForName => format!(
                "the server's certificate is not valid for the host name \"{server_name}\"; \
                 connect with a host name the certificate lists, or use sslmode=verify-ca to \
                 verify the certificate authority but not the name"
            ),
            CertificateError::NotValidForNameContext { presented, .. } => format!(
                "the server's certificate is not valid for the host name \"{server_name}\" \
                 (it is for: {}); connect with a host name the certificate lists, or use \
                 sslmode=verify-ca to verify the certificate authority but not the name",
                if presented.is_empty() {
                    "no names".to_string()
                } else {
                    presented
                        .iter()
                        .map(|n| plain_name(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the server's certificate has expired; renew it on the server".to_string()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet; check this machine's clock".to_string()
            }
            CertificateError::BadSignature => {
                "the server's certificate chain has a bad signature".to_string()
            }
            CertificateError::Revoked => "the server's certificate was revoked".to_string(),
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                "the server's certificate is not meant for TLS servers (extended key usage)"
                    .to_string()
            }
            other => format!("the server's certificate was rejected: {other:?}"),
        },
        rustls::Error::AlertReceived(alert) => format!(
            "the server aborted the TLS handshake (alert: {alert:?}); the server may need a \
             newer TLS version (TLS 1.2 or 1.3 are supported here)"
        ),
        rustls::Error::PeerIncompatible(p) => format!(
            "the server's TLS setup is incompatible ({p:?}); TLS 1.2 or 1.3 with modern ciphers \
             is required"
        ),
        other => other.to_string(),
    }
}

/// rustls lists a certificate's names as `DnsName("example.com")` / `IpAddress(10.0.0.1)`;
/// show just the name.
fn plain_name(name: &str) -> &str {
    if let Some(inner) = name
        .strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
    {
        return inner;
    }
    if let Some(inner) = name
        .strip_prefix("IpAddress(")
        .and_then(|n| n.strip_suffix(')'))
    {
        return inner;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::plain_name;

    #[test]
    fn names_are_shown_plainly() {
        assert_eq!(plain_name("DnsName(\"localhost\")"), "localhost");
        assert_eq!(plain_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(plain_name("*.example.com"), "*.example.com");
    }
}
