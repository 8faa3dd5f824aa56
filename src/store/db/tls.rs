//! TLS: how a connection to PostgreSQL is encrypted, and whose certificate
//! it trusts. A *target* is a `postgres://` url read the way libpq reads it:
//! its `sslmode` and `sslrootcert` keys (or `PGSSLMODE` and `PGSSLROOTCERT`)
//! say whether to encrypt and what to verify, and the rest goes to
//! tokio-postgres, which knows only `disable`, `prefer` and `require`.
//!
//! | `sslmode` | encrypted | certificate checked |
//! |---|---|---|
//! | `disable` | never | - |
//! | `allow`, `prefer` (the default) | when the server offers it | against `sslrootcert` if given |
//! | `require` | always | against `sslrootcert` if given |
//! | `verify-ca` | always | signed by `sslrootcert` |
//! | `verify-full` | always | signed by `sslrootcert`, and for the url's host |
//!
//! `sslrootcert` is a PEM file of CA certificates, or `system` for the
//! well-known public CAs (a managed database's). `sslcert` and `sslkey`
//! (PEM files, or `PGSSLCERT` and `PGSSLKEY`) are the client certificate
//! and its key, for a server that asks for one (`cert` authentication).

use std::sync::Arc;

use percent_encoding::percent_decode_str;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode;
pub(crate) use tokio_postgres_rustls::MakeRustlsConnect as Tls;

/// What libpq's `sslmode` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// libpq's TLS keys that byline does not support, each refused by name
/// rather than passed on to a client that would call it an unknown option.
const UNSUPPORTED: [&str; 4] = ["sslpassword", "sslcrl", "sslcrldir", "sslsni"];

/// A `postgres://` url read: the client's settings and the TLS policy.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) config: tokio_postgres::Config,
    mode: Mode,
    root: Option<String>,
    /// The client certificate chain and its key, both PEM files.
    client: Option<(String, String)>,
}

/// Read `url`; the error says which key was wrong and what it may be.
pub(crate) fn target(url: &str) -> Result<Target, String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let mut mode = None;
    let mut root = None;
    let mut cert = None;
    let mut client_key = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = || {
            percent_decode_str(value)
                .decode_utf8()
                .map(|v| v.into_owned())
                .map_err(|_| format!("{key}: not UTF-8 once decoded"))
        };
        match key {
            "sslmode" => mode = Some(value()?),
            "sslrootcert" => root = Some(value()?),
            "sslcert" => cert = Some(value()?),
            "sslkey" => client_key = Some(value()?),
            k if UNSUPPORTED.contains(&k) => {
                return Err(format!(
                    "`{k}` is not supported (byline verifies the server with `sslrootcert`, and \
                     its own key in `sslkey` must not be encrypted)"
                ));
            }
            _ => rest.push(pair),
        }
    }
    let mode = mode.or_else(|| env("PGSSLMODE"));
    let root = root.or_else(|| env("PGSSLROOTCERT"));
    let client = match (
        cert.or_else(|| env("PGSSLCERT")),
        client_key.or_else(|| env("PGSSLKEY")),
    ) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => {
            return Err(
                "sslcert and sslkey go together: the client certificate and its private key"
                    .to_owned(),
            );
        }
    };
    let mode = match mode.as_deref() {
        None | Some("prefer" | "allow") => Mode::Prefer,
        Some("disable") => Mode::Disable,
        Some("require") => Mode::Require,
        Some("verify-ca") => Mode::VerifyCa,
        Some("verify-full") => Mode::VerifyFull,
        Some(other) => {
            return Err(format!(
                "sslmode: expected disable, allow, prefer, require, verify-ca or verify-full, \
                 got {other:?}"
            ));
        }
    };
    if matches!(mode, Mode::VerifyCa | Mode::VerifyFull) && root.is_none() {
        return Err(
            "sslmode=verify-ca and verify-full need sslrootcert: the PEM file of the CA that \
             signed the server's certificate, or `system` for the public CAs"
                .to_owned(),
        );
    }
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
    config.ssl_mode(match mode {
        Mode::Disable => SslMode::Disable,
        Mode::Prefer => SslMode::Prefer,
        _ => SslMode::Require,
    });
    Ok(Target {
        config,
        mode,
        root,
        client,
    })
}

/// A libpq environment variable, when set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Target {
    /// The TLS connector for this target; reads `sslrootcert`, `sslcert`
    /// and `sslkey`, so a missing or empty file is reported here, before
    /// any connection is tried.
    pub(crate) fn tls(&self) -> Result<Tls, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = match (&self.root, self.mode) {
            (Some(root), Mode::VerifyFull) => builder.with_root_certificates(roots(root)?),
            (root, mode) => {
                let chain = match root {
                    Some(root) if mode != Mode::Disable => Some(
                        WebPkiServerVerifier::builder_with_provider(
                            Arc::new(roots(root)?),
                            provider.clone(),
                        )
                        .build()
                        .map_err(|e| format!("sslrootcert {root}: {e}"))?,
                    ),
                    _ => None,
                };
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(Verifier { chain, provider }))
            }
        };
        let config = match &self.client {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = pem_certs("sslcert", cert)?;
                let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                    format!("sslkey {key}: cannot read an unencrypted PEM private key: {e}")
                })?;
                builder
                    .with_client_auth_cert(chain, key_der)
                    .map_err(|e| format!("sslcert {cert} and sslkey {key}: {e}"))?
            }
        };
        Ok(Tls::new(config))
    }
}

/// The CA certificates of `root`: a PEM file, or `system`.
fn roots(root: &str) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    if root == "system" {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok(store);
    }
    let (added, _) = store.add_parsable_certificates(pem_certs("sslrootcert", root)?);
    if added == 0 {
        return Err(format!("sslrootcert {root}: no CA certificate in it"));
    }
    Ok(store)
}

/// The certificates of the PEM file `path`, which url key `key` named; at
/// least one.
fn pem_certs(key: &str, path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{key} {path}: cannot read it: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "{key} {path}: no certificate in it (expected PEM, `-----BEGIN CERTIFICATE-----`)"
        ));
    }
    Ok(certs)
}

/// The check of `prefer`, `require` and `verify-ca` (`verify-full` is
/// rustls's own): with a `chain` verifier the certificate must lead to one
/// of its CAs, whatever name it carries; without one, as libpq does with no
/// `sslrootcert`, any certificate is taken, which keeps out those who
/// listen but not one who stands in between. The handshake's signatures
/// are checked either way.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
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
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_keys_are_read_and_the_rest_passed_on() {
        let t = target("postgres://u@h:5433/db?connect_timeout=3&sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20x.pem").unwrap();
        assert_eq!(t.mode, Mode::VerifyFull);
        assert_eq!(t.root.as_deref(), Some("/etc/ca x.pem"));
        assert_eq!(t.config.get_ssl_mode(), SslMode::Require);
        assert_eq!(
            t.config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(3))
        );
        assert_eq!(t.config.get_dbname(), Some("db"));
        let t = target("postgres://u@h/db?sslmode=disable").unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Disable);
    }

    #[test]
    fn a_wrong_key_or_value_is_named() {
        let e = target("postgres://u@h/db?sslmode=verify").unwrap_err();
        assert!(e.contains("sslmode") && e.contains("verify-full"), "{e}");
        let e = target("postgres://u@h/db?sslmode=verify-full").unwrap_err();
        assert!(e.contains("sslrootcert"), "{e}");
        let e = target("postgres://u@h/db?sslcert=/c.pem").unwrap_err();
        assert!(e.contains("sslcert and sslkey"), "{e}");
        let e = target("postgres://u@h/db?sslpassword=x").unwrap_err();
        assert!(e.contains("sslpassword"), "{e}");
        let e = target("postgres://u@h/db?sslcert=/nonexistent/c.pem&sslkey=/nonexistent/c.key")
            .unwrap()
            .tls()
            .err()
            .unwrap();
        assert!(e.contains("/nonexistent/c.pem"), "{e}");
        let e = target("postgres://u@h/db?sslrootcert=/nonexistent/ca.pem&sslmode=verify-ca")
            .unwrap()
            .tls()
            .err()
            .unwrap();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }
}
