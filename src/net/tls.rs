//! TLS client configuration (rustls with the ring provider and the webpki roots) and the
//! translation of rustls failures into errors people can act on.

use std::io;
use std::sync::Arc;

use futures_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use futures_rustls::rustls::crypto::{self, CryptoProvider, ring};
use futures_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use futures_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::error::{CertificateProblem, NetError};

/// How the server's certificate is checked.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Accept any certificate. For testing against devices with self-signed certificates;
    /// the GUI shows a warning for as long as such a connection lives.
    pub accept_invalid_certificates: bool,
    /// Authorities trusted besides the built-in web roots (DER).
    pub extra_roots: Vec<CertificateDer<'static>>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// A rustls client configuration for these options.
pub fn client_config(options: &TlsOptions) -> Result<Arc<ClientConfig>, NetError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| NetError::invalid("tls", error.to_string()))?;
    let config = if options.accept_invalid_certificates {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for root in &options.extra_roots {
            roots.add(root.clone()).map_err(|error| {
                NetError::invalid("cacert", format!("not a usable CA certificate: {error}"))
            })?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// The name the certificate must match, and the SNI sent (none for IP addresses).
pub fn server_name(host: &str) -> Result<ServerName<'static>, NetError> {
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    ServerName::try_from(unbracketed.to_string()).map_err(|_| {
        NetError::invalid(
            "host",
            format!("`{host}` is not a valid name for a TLS certificate"),
        )
    })
}

/// Certificate PEM files (`--cacert`) as DER certificates.
pub fn load_pem_certificates(path: &str) -> Result<Vec<CertificateDer<'static>>, NetError> {
    use rustls::pki_types::pem::PemObject;
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|error| NetError::invalid("cacert", format!("cannot read {path}: {error}")))?;
    if certificates.is_empty() {
        return Err(NetError::invalid(
            "cacert",
            format!("{path} holds no PEM certificate"),
        ));
    }
    Ok(certificates)
}

/// Classifies a failed handshake: an untrusted certificate (and why) or anything else.
pub fn handshake_error(host: &str, error: io::Error) -> NetError {
    let host = host.to_string();
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(problem)) => NetError::CertificateUntrusted {
            problem: certificate_problem(&host, problem),
            host,
        },
        Some(
            other @ (rustls::Error::InvalidMessage(_)
            | rustls::Error::InappropriateMessage { .. }
            | rustls::Error::InappropriateHandshakeMessage { .. }),
        ) => NetError::TlsHandshake {
            host,
            detail: format!("the server does not answer in TLS ({other})"),
        },
        Some(other) => NetError::TlsHandshake {
            host,
            detail: other.to_string(),
        },
        None if error.kind() == io::ErrorKind::UnexpectedEof => NetError::TlsHandshake {
            host,
            detail: "the server closed the connection during the handshake".into(),
        },
        None => NetError::TlsHandshake {
            host,
            detail: error.to_string(),
        },
    }
}

fn certificate_problem(host: &str, error: &CertificateError) -> CertificateProblem {
    match error {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => {
            CertificateProblem::UnknownIssuer
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            CertificateProblem::Expired
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            CertificateProblem::NotYetValid
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            CertificateProblem::WrongHost {
                host: host.to_string(),
            }
        }
        // What `openssl req -x509` makes by default: a CA certificate the server uses as its
        // own. To the user it is simply self-signed.
        CertificateError::Other(other)
            if matches!(
                other.0.downcast_ref::<webpki::Error>(),
                Some(webpki::Error::CaUsedAsEndEntity)
            ) =>
        {
            CertificateProblem::UnknownIssuer
        }
        other => CertificateProblem::Other(format!("{other:?}")),
    }
}

/// Accepts any certificate, but still checks that the server holds its key, so the
/// connection is at least encrypted to whoever answered.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

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
        crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
