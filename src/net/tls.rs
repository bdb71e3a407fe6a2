//! TLS client configuration (rustls with the ring provider and the webpki roots) and the
//! translation of rustls failures into errors people can act on.

use std::io;
use std::sync::{Arc, OnceLock};

use futures_rustls::rustls::client::WebPkiServerVerifier;
use futures_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use futures_rustls::rustls::crypto::{self, CryptoProvider, ring};
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use futures_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    SupportedCipherSuite,
};

use super::error::{CertificateProblem, NetError, TlsRefusal};

/// How the server's certificate is checked, and what the client shows of itself.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Accept any certificate. For testing against devices with self-signed certificates;
    /// the GUI shows a warning for as long as such a connection lives.
    pub accept_invalid_certificates: bool,
    /// Certificates trusted besides the built-in web roots and the system's store (DER): CAs,
    /// or a server's own self-signed certificate, trusted as itself.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// A client certificate, for servers that ask for one.
    pub identity: Option<Arc<ClientIdentity>>,
    /// The oldest protocol version accepted.
    pub min_version: TlsVersion,
    /// Application protocols offered by ALPN, in order of preference; none offered if empty.
    pub alpn: Vec<String>,
    pub sni: Sni,
    /// The cipher suites offered, in order of preference; every one spoken here if empty.
    pub ciphers: Vec<SupportedCipherSuite>,
}

/// The name sent as SNI (Server Name Indication), which the certificate must also match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Sni {
    /// The host connected to (none for an IP address).
    #[default]
    Host,
    /// Another name: a virtual host reached by address, or through a tunnel.
    Name(String),
    /// None sent; the certificate is still checked against the host.
    Off,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsVersion {
    #[default]
    V1_2,
    V1_3,
}

/// A client certificate chain and its private key.
pub struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ClientIdentity({} certificates, a key)",
            self.chain.len()
        )
    }
}

pub(super) fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// The provider, speaking only `ciphers` when any are chosen.
pub(super) fn provider_with(ciphers: &[SupportedCipherSuite]) -> Arc<CryptoProvider> {
    let mut provider = ring::default_provider();
    if !ciphers.is_empty() {
        provider.cipher_suites = ciphers.to_vec();
    }
    Arc::new(provider)
}

/// The cipher suites named in `list` (separated by commas or colons), in rustls's, IANA's or
/// OpenSSL's names, any case; `field` is the option that gave it.
pub fn cipher_suites(
    field: &'static str,
    list: &str,
) -> Result<Vec<SupportedCipherSuite>, NetError> {
    let mut chosen = Vec::new();
    for name in list
        .split([',', ':'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let suite = ring::ALL_CIPHER_SUITES
            .iter()
            .find(|suite| {
                cipher_names(suite)
                    .iter()
                    .any(|known| known.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| {
                NetError::invalid(
                    field,
                    format!(
                        "`{name}` is not a cipher suite spoken here; choose from {}",
                        cipher_choices()
                    ),
                )
            })?;
        if !chosen.contains(suite) {
            chosen.push(*suite);
        }
    }
    if chosen.is_empty() {
        return Err(NetError::invalid(
            field,
            format!("names no cipher suite; choose from {}", cipher_choices()),
        ));
    }
    Ok(chosen)
}

/// A suite's names: rustls's (`TLS13_AES_128_GCM_SHA256`), IANA's (`TLS_AES_128_GCM_SHA256`)
/// and OpenSSL's (the IANA name for TLS 1.3, `ECDHE-RSA-AES128-GCM-SHA256` for TLS 1.2).
fn cipher_names(suite: &SupportedCipherSuite) -> [String; 3] {
    let rustls_name = format!("{:?}", suite.suite());
    let iana = match rustls_name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => rustls_name.clone(),
    };
    let openssl = match iana.as_str() {
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" => "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" => "ECDHE-RSA-CHACHA20-POLY1305",
        other => other,
    }
    .to_string();
    [rustls_name, iana, openssl]
}

/// Every suite spoken here, for an error message: rustls's name, and OpenSSL's where it
/// differs.
fn cipher_choices() -> String {
    ring::ALL_CIPHER_SUITES
        .iter()
        .map(|suite| {
            let [rustls_name, _, openssl] = cipher_names(suite);
            if openssl.starts_with("TLS_") {
                rustls_name
            } else {
                format!("{rustls_name} ({openssl})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A builder's refusal of the versions and ciphers chosen, in words.
pub(super) fn versions_problem(ciphers: &[SupportedCipherSuite], error: rustls::Error) -> NetError {
    if ciphers.is_empty() {
        NetError::invalid("tls", error.to_string())
    } else {
        NetError::invalid(
            "ciphers",
            "none of the cipher suites chosen is for a TLS version accepted here",
        )
    }
}

/// A rustls client configuration for these options.
pub fn client_config(options: &TlsOptions) -> Result<Arc<ClientConfig>, NetError> {
    let versions: &[&rustls::SupportedProtocolVersion] = match options.min_version {
        TlsVersion::V1_2 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsVersion::V1_3 => &[&rustls::version::TLS13],
    };
    let builder = ClientConfig::builder_with_provider(provider_with(&options.ciphers))
        .with_protocol_versions(versions)
        .map_err(|error| versions_problem(&options.ciphers, error))?;
    let builder = if options.accept_invalid_certificates {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
    } else {
        let mut roots = trusted_roots().clone();
        for root in &options.extra_roots {
            // A self-signed server certificate may not make a root; it is still trusted as
            // itself below.
            if let Err(error) = roots.add(root.clone())
                && webpki::EndEntityCert::try_from(root).is_err()
            {
                return Err(NetError::invalid(
                    "cacert",
                    format!("not a usable certificate: {error}"),
                ));
            }
        }
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|error| NetError::invalid("cacert", error.to_string()))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(TrustGivenCertificates {
                verifier,
                given: options.extra_roots.clone(),
            }))
    };
    let mut config = match &options.identity {
        Some(identity) => builder
            .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            .map_err(|error| NetError::invalid("key", error.to_string()))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = options.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    config.enable_sni = options.sni != Sni::Off;
    Ok(Arc::new(config))
}

/// The built-in web roots and the system's trust store, read once: `SSL_CERT_FILE` (else the
/// usual bundle, where a CA installed on the device lands) and the files in `SSL_CERT_DIR`.
fn trusted_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let bundle = std::env::var_os("SSL_CERT_FILE")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                [
                    "/etc/ssl/certs/ca-certificates.crt",
                    "/etc/pki/tls/certs/ca-bundle.crt",
                    "/etc/ssl/cert.pem",
                ]
                .iter()
                .map(std::path::PathBuf::from)
                .find(|path| path.is_file())
            });
        let mut files: Vec<std::path::PathBuf> = bundle.into_iter().collect();
        if let Some(dirs) = std::env::var_os("SSL_CERT_DIR") {
            for dir in std::env::split_paths(&dirs) {
                if let Ok(entries) = std::fs::read_dir(dir) {
                    files.extend(entries.flatten().map(|entry| entry.path()));
                }
            }
        }
        for file in files {
            use rustls::pki_types::pem::PemObject;
            if let Ok(certificates) = CertificateDer::pem_file_iter(&file) {
                roots.add_parsable_certificates(certificates.flatten());
            }
        }
        roots
    })
}

/// The usual checks, and besides them a server certificate the user gave (`--cacert`)
/// trusted as itself when it names the host, as OpenSSL and curl do with the self-signed CA
/// certificates `openssl req -x509` makes.
#[derive(Debug)]
struct TrustGivenCertificates {
    verifier: Arc<WebPkiServerVerifier>,
    given: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for TrustGivenCertificates {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let checked = self.verifier.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match checked {
            Err(error) if self.given.iter().any(|c| c.as_ref() == end_entity.as_ref()) => {
                let certificate = webpki::EndEntityCert::try_from(end_entity).map_err(|_| error)?;
                certificate
                    .verify_is_valid_for_subject_name(server_name)
                    .map_err(|_| {
                        rustls::Error::InvalidCertificate(CertificateError::NotValidForName)
                    })?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.verifier.supported_verify_schemes()
    }
}

/// A client certificate from PEM files: the chain in `cert`, the key in `key` or, without
/// it, in `cert` too. A key that does not belong to the certificate is refused here.
pub fn load_identity(cert: &str, key_file: Option<&str>) -> Result<ClientIdentity, NetError> {
    let (chain, key) = read_identity(cert, key_file)?;
    let identity = ClientIdentity { chain, key };
    // Whether the key belongs to the certificate, asked once here rather than at connect.
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| NetError::invalid("tls", error.to_string()))?
        .with_root_certificates(RootCertStore::empty())
        .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
        .map_err(|_| {
            NetError::invalid(
                "key",
                format!(
                    "the key in {} does not belong to the certificate in {cert}",
                    key_file.unwrap_or(cert)
                ),
            )
        })?;
    Ok(identity)
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
    read_certificates("cacert", path)
}

/// The certificates in a PEM file; `field` is the option that named it.
pub fn read_certificates(
    field: &'static str,
    path: &str,
) -> Result<Vec<CertificateDer<'static>>, NetError> {
    use rustls::pki_types::pem::PemObject;
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|error| {
            NetError::invalid(field, format!("cannot read {path}: {}", pem_problem(error)))
        })?;
    if certificates.is_empty() {
        return Err(NetError::invalid(
            field,
            format!("{path} holds no PEM certificate"),
        ));
    }
    Ok(certificates)
}

/// A certificate chain (`--cert`) and its private key: from `key_file`, or else from the
/// certificate's own file.
pub fn read_identity(
    cert: &str,
    key_file: Option<&str>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), NetError> {
    use rustls::pki_types::pem::PemObject;
    let chain = read_certificates("cert", cert)?;
    let (key_field, key_path) = match key_file {
        Some(path) => ("key", path),
        None => ("cert", cert),
    };
    if holds_encrypted_key(key_path) {
        return Err(NetError::invalid(
            key_field,
            format!(
                "the private key in {key_path} is encrypted (it needs a passphrase), and only plain keys are read; \
                 decrypt it with `openssl pkey -in {key_path} -out plain.pem` and give plain.pem"
            ),
        ));
    }
    let key = match key_file {
        Some(path) => PrivateKeyDer::from_pem_file(path).map_err(|error| {
            NetError::invalid(
                "key",
                format!(
                    "cannot read a private key from {path}: {}",
                    pem_problem(error)
                ),
            )
        })?,
        None => PrivateKeyDer::from_pem_file(cert).map_err(|_| {
            NetError::invalid(
                "cert",
                format!("{cert} holds no private key; give it with --key FILE"),
            )
        })?,
    };
    Ok((chain, key))
}

/// Whether a PEM file holds a private key locked by a passphrase (PKCS #8 or OpenSSL's older
/// form), which reads as no key at all.
fn holds_encrypted_key(path: &str) -> bool {
    std::fs::read(path).is_ok_and(|text| {
        let text = String::from_utf8_lossy(&text);
        text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
            || text.contains("Proc-Type: 4,ENCRYPTED")
    })
}

/// A PEM reading problem in words: the system's for a file that cannot be read.
fn pem_problem(error: rustls::pki_types::pem::Error) -> String {
    match error {
        rustls::pki_types::pem::Error::Io(error) => error.to_string(),
        other => other.to_string(),
    }
}

/// What a handshake agreed, as either end sees it.
pub struct Agreed {
    /// e.g. "TLSv1_3".
    pub version: String,
    pub cipher: String,
    /// The application protocol chosen by ALPN.
    pub alpn: Option<String>,
}

pub fn agreed(session: &rustls::CommonState) -> Agreed {
    Agreed {
        version: session
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default(),
        cipher: session
            .negotiated_cipher_suite()
            .map(|suite| format!("{:?}", suite.suite()))
            .unwrap_or_default(),
        alpn: session
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
    }
}

/// TLS record content types, as the first byte of a record.
pub const ALERT_RECORD: u8 = 0x15;
pub const HANDSHAKE_RECORD: u8 = 0x16;

/// Whether `bytes` begin a TLS record of one of these content types (SSL 3.0 to TLS 1.3).
pub fn begins_record(bytes: &[u8], content_types: &[u8]) -> bool {
    matches!(bytes, [kind, 0x03, 0x00..=0x04, ..] if content_types.contains(kind))
}

/// The alert a TLS record at the start of `bytes` carries in the clear: its level (1 warning,
/// 2 fatal) and description.
pub fn plain_alert(bytes: &[u8]) -> Option<(u8, rustls::AlertDescription)> {
    match bytes {
        [
            ALERT_RECORD,
            0x03,
            0x00..=0x04,
            0x00,
            0x02,
            level @ (1 | 2),
            description,
            ..,
        ] => Some((*level, rustls::AlertDescription::from(*description))),
        _ => None,
    }
}

/// Whether a server's first bytes are TLS speaking, not data: an alert (what a TLS server
/// answers plain bytes with) or a handshake record.
pub fn answers_in_tls(bytes: &[u8]) -> bool {
    plain_alert(bytes).is_some() || begins_record(bytes, &[HANDSHAKE_RECORD])
}

/// Classifies a failed handshake with `host`, whose certificate was checked against
/// `checked_name`: an untrusted certificate (and why) or anything else.
pub fn handshake_error(host: &str, checked_name: &str, error: io::Error) -> NetError {
    let host = host.to_string();
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    if let Some(problem) = refusal(&error) {
        return NetError::TlsRefused { host, problem };
    }
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(problem)) => NetError::CertificateUntrusted {
            problem: certificate_problem(checked_name, problem),
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

/// A server's refusal that has a cause people can act on: it wants a client certificate, it
/// does not accept the one shown, it speaks only older versions, or no offered protocol.
pub fn refusal(error: &io::Error) -> Option<TlsRefusal> {
    use rustls::{AlertDescription, PeerIncompatible};
    let rustls_error = error.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(match rustls_error {
        rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => {
            TlsRefusal::CertificateRequired
        }
        rustls::Error::AlertReceived(
            AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateUnknown
            | AlertDescription::CertificateExpired
            | AlertDescription::AccessDenied,
        ) => TlsRefusal::CertificateRejected,
        rustls::Error::AlertReceived(AlertDescription::HandshakeFailure) => {
            TlsRefusal::HandshakeRefused
        }
        rustls::Error::AlertReceived(AlertDescription::ProtocolVersion)
        | rustls::Error::PeerIncompatible(
            PeerIncompatible::ServerDoesNotSupportTls12Or13
            | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
            | PeerIncompatible::Tls13RequiredForQuic
            | PeerIncompatible::SupportedVersionsExtensionRequired,
        ) => TlsRefusal::VersionTooOld,
        rustls::Error::AlertReceived(AlertDescription::NoApplicationProtocol)
        | rustls::Error::NoApplicationProtocol => TlsRefusal::NoCommonProtocol,
        _ => return None,
    })
}

/// Why a client's handshake with netdeck's TLS server failed, for the server's log.
pub fn client_handshake_problem(error: &io::Error) -> String {
    use rustls::AlertDescription;
    let Some(rustls_error) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return match error.kind() {
            io::ErrorKind::UnexpectedEof => "the client closed during the handshake".into(),
            _ => error.to_string(),
        };
    };
    match rustls_error {
        rustls::Error::NoCertificatesPresented => {
            "the client showed no certificate, and this server requires one".into()
        }
        rustls::Error::InvalidCertificate(problem) => format!(
            "the client's certificate is not accepted: {}",
            certificate_problem("the client", problem)
        ),
        rustls::Error::AlertReceived(
            AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown,
        ) => "the client does not trust this server's certificate".into(),
        rustls::Error::AlertReceived(AlertDescription::ProtocolVersion)
        | rustls::Error::PeerIncompatible(_) => {
            format!("the client and this server share no TLS version or cipher ({rustls_error})")
        }
        other => other.to_string(),
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

/// Who a certificate names and until when it is valid, as `-v` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateSummary {
    /// e.g. "CN=example.com, O=Example".
    pub subject: String,
    pub issuer: String,
    /// e.g. "2027-03-01 12:00:00 UTC".
    pub expires: String,
}

/// Reads subject, issuer and expiry from a certificate's DER; `None` if it is not shaped as
/// X.509 says.
pub fn summarize_certificate(der: &[u8]) -> Option<CertificateSummary> {
    let (certificate, _) = der_item(der)?;
    let (tbs, _) = der_item(certificate.contents)?;
    let mut rest = tbs.contents;
    let mut next = || {
        let (item, after) = der_item(rest)?;
        rest = after;
        Some(item)
    };
    let mut serial = next()?;
    // An explicit version comes first in v2 and v3 certificates.
    if serial.tag == 0xA0 {
        serial = next()?;
    }
    let _ = serial;
    let _signature = next()?;
    let issuer = next()?;
    let validity = next()?;
    let subject = next()?;
    let (_not_before, after) = der_item(validity.contents)?;
    let (not_after, _) = der_item(after)?;
    Some(CertificateSummary {
        subject: name_text(subject.contents),
        issuer: name_text(issuer.contents),
        expires: time_text(not_after)?,
    })
}

/// One DER item: its tag and contents.
struct DerItem<'a> {
    tag: u8,
    contents: &'a [u8],
}

/// The DER item at the start of `bytes`, and what follows it.
fn der_item(bytes: &[u8]) -> Option<(DerItem<'_>, &[u8])> {
    let tag = *bytes.first()?;
    let first = *bytes.get(1)? as usize;
    let (length, header) = if first < 0x80 {
        (first, 2)
    } else {
        let count = first & 0x7F;
        if count == 0 || count > 4 {
            return None;
        }
        let length = bytes
            .get(2..2 + count)?
            .iter()
            .fold(0usize, |n, b| (n << 8) | *b as usize);
        (length, 2 + count)
    };
    let contents = bytes.get(header..header.checked_add(length)?)?;
    Some((DerItem { tag, contents }, &bytes[header + length..]))
}

/// A distinguished name as "CN=..., O=...", for the attributes people read.
fn name_text(mut rdns: &[u8]) -> String {
    let mut parts = Vec::new();
    while let Some((set, after)) = der_item(rdns) {
        rdns = after;
        let mut attributes = set.contents;
        while let Some((attribute, after)) = der_item(attributes) {
            attributes = after;
            let Some((oid, value)) = der_item(attribute.contents) else {
                continue;
            };
            let label = match oid.contents {
                [0x55, 0x04, 0x03] => "CN",
                [0x55, 0x04, 0x0A] => "O",
                [0x55, 0x04, 0x0B] => "OU",
                [0x55, 0x04, 0x06] => "C",
                [0x55, 0x04, 0x08] => "ST",
                [0x55, 0x04, 0x07] => "L",
                _ => continue,
            };
            if let Some((text, _)) = der_item(value) {
                parts.push(format!(
                    "{label}={}",
                    String::from_utf8_lossy(text.contents)
                ));
            }
        }
    }
    parts.join(", ")
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) as a readable UTC time.
fn time_text(item: DerItem<'_>) -> Option<String> {
    let text = std::str::from_utf8(item.contents).ok()?;
    let digits = text.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let full = match (item.tag, digits.len()) {
        (0x17, 12) => {
            let year: u32 = digits[..2].parse().ok()?;
            format!("{}{digits}", if year >= 50 { "19" } else { "20" })
        }
        (0x18, 14) => digits.to_string(),
        _ => return None,
    };
    Some(format!(
        "{}-{}-{} {}:{}:{} UTC",
        &full[..4],
        &full[4..6],
        &full[6..8],
        &full[8..10],
        &full[10..12],
        &full[12..14]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_times_read_only_digits() {
        let utc = DerItem {
            tag: 0x17,
            contents: b"270301120000Z",
        };
        assert_eq!(time_text(utc).as_deref(), Some("2027-03-01 12:00:00 UTC"));
        let odd = DerItem {
            tag: 0x17,
            contents: "2703011200\u{e9}Z".as_bytes(),
        };
        assert_eq!(time_text(odd), None);
        assert!(summarize_certificate(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
    }

    #[test]
    fn ciphers_are_found_by_any_of_their_names() {
        let names = |list| {
            cipher_suites("ciphers", list)
                .unwrap()
                .iter()
                .map(|suite| format!("{:?}", suite.suite()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("tls_aes_128_gcm_sha256:ECDHE-RSA-AES128-GCM-SHA256, TLS13_AES_128_GCM_SHA256"),
            [
                "TLS13_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
            ]
        );
        let error = cipher_suites("ciphers", "AES128-SHA").unwrap_err();
        assert_eq!(error.field(), Some("ciphers"));
        assert!(
            error
                .to_string()
                .contains("`AES128-SHA` is not a cipher suite spoken here")
        );
        assert_eq!(
            cipher_suites("ciphers", " , ").unwrap_err().field(),
            Some("ciphers")
        );
    }
}
