//! The TLS server's side: its certificate (given as PEM files, or self-signed at start), the
//! client certificates it may require, and what a finished handshake says about the client.

use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_net::TcpStream;
use futures_lite::{AsyncRead, AsyncWrite};

use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use futures_rustls::rustls::server::{ServerConnection, WebPkiClientVerifier};
use futures_rustls::rustls::{RootCertStore, ServerConfig};

use super::error::NetError;
use super::tls::{
    Agreed, HANDSHAKE_RECORD, agreed, cipher_suites, provider, provider_with, read_certificates,
    read_identity, summarize_certificate, versions_problem,
};

/// Where the server's certificate comes from, and whether clients must show one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsServerOptions {
    /// The certificate chain (PEM). Without it a self-signed certificate is made at start for
    /// the bind address and `localhost`.
    pub cert: Option<String>,
    /// The certificate's private key (PEM); without it, the key is read from `cert`.
    pub key: Option<String>,
    /// Require a client certificate signed by one of these CAs (PEM).
    pub client_ca: Option<String>,
    /// The cipher suites spoken, as `--ciphers` names them; every one if none.
    pub ciphers: Option<String>,
}

/// A server configuration ready for handshakes, and what clients may check of it.
#[derive(Clone)]
pub struct TlsServer {
    pub config: Arc<ServerConfig>,
    pub identity: ServerIdentity,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TlsServer({:?})", self.identity)
    }
}

/// The server's certificate as a client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerIdentity {
    /// SHA-256 of the certificate, `AB:CD:…` as `openssl x509 -fingerprint -sha256` prints it,
    /// so a client can pin it.
    pub fingerprint: String,
    /// The names a generated certificate was made for; empty for a given one.
    pub generated_for: Vec<String>,
    /// Clients must show a certificate signed by the `client_ca` authorities.
    pub requires_client_certificate: bool,
}

/// What a finished handshake tells about one client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientTls {
    /// e.g. "TLSv1_3".
    pub version: String,
    pub cipher: String,
    /// The application protocol agreed by ALPN, if any.
    pub alpn: Option<String>,
    /// The subject of the certificate the client showed, e.g. "CN=sensor-12".
    pub client_subject: Option<String>,
    /// From the first byte of the handshake to its end.
    pub handshake: std::time::Duration,
}

impl TlsServerOptions {
    /// Reads or makes the certificate and builds the configuration; every problem names the
    /// option it comes from.
    pub fn build(&self, bind: IpAddr) -> Result<TlsServer, NetError> {
        let (chain, key, generated_for) = match &self.cert {
            Some(cert) => {
                let (chain, key) = read_identity(cert, self.key.as_deref())?;
                (chain, key, Vec::new())
            }
            None if self.key.is_some() => {
                return Err(NetError::invalid(
                    "key",
                    "a key needs its certificate; give it with --cert FILE",
                ));
            }
            None => generate(bind)?,
        };
        let fingerprint = fingerprint(&chain[0]);
        let ciphers = match &self.ciphers {
            Some(list) => cipher_suites("ciphers", list)?,
            None => Vec::new(),
        };
        let builder = ServerConfig::builder_with_provider(provider_with(&ciphers))
            .with_safe_default_protocol_versions()
            .map_err(|error| versions_problem(&ciphers, error))?;
        let builder = match &self.client_ca {
            Some(path) => {
                let mut roots = RootCertStore::empty();
                for certificate in read_certificates("client-ca", path)? {
                    roots.add(certificate).map_err(|error| {
                        NetError::invalid(
                            "client-ca",
                            format!("{path} holds a certificate that cannot be a CA: {error}"),
                        )
                    })?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                        .build()
                        .map_err(|error| NetError::invalid("client-ca", error.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let config = builder.with_single_cert(chain, key).map_err(|error| {
            NetError::invalid(
                "key",
                format!("the key does not fit the certificate: {error}"),
            )
        })?;
        Ok(TlsServer {
            config: Arc::new(config),
            identity: ServerIdentity {
                fingerprint,
                generated_for,
                requires_client_certificate: self.client_ca.is_some(),
            },
        })
    }
}

/// What the handshake agreed with a client.
pub fn client_tls(session: &ServerConnection, handshake: std::time::Duration) -> ClientTls {
    let Agreed {
        version,
        cipher,
        alpn,
    } = agreed(session);
    ClientTls {
        version,
        cipher,
        alpn,
        client_subject: session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| summarize_certificate(leaf))
            .map(|summary| summary.subject),
        handshake,
    }
}

/// A client of the TLS server. Whenever the server lets it go (its answer given, the client
/// gone, kicked, the server stopped), it says close_notify first, so the client can tell the
/// end from a cut: without it strict clients report truncation.
pub struct ServerTlsStream(pub futures_rustls::server::TlsStream<RecordWatch>);

impl Drop for ServerTlsStream {
    fn drop(&mut self) {
        let (RecordWatch { tcp, .. }, session) = self.0.get_mut();
        // Once only: after `close` (the end of a stream to it), nothing more is queued.
        session.send_close_notify();
        // Without waiting, as a drop cannot: the alert is a few bytes and the socket's buffer
        // almost always takes them; a client that stopped reading just misses it.
        let socket = std::sync::Arc::<smol::Async<std::net::TcpStream>>::from(tcp.clone());
        let mut out = socket.get_ref();
        while session.wants_write() && matches!(session.write_tls(&mut out), Ok(n) if n > 0) {}
    }
}

/// A TLS server's socket, with the client's records followed as they pass (their type and
/// length are in the clear), so that a request to renegotiate is seen: rustls refuses it with
/// a warning no client acts on (OpenSSL's then waits for a handshake that never comes), so
/// the connection ends instead, with that reason.
pub struct RecordWatch {
    pub tcp: TcpStream,
    /// The handshake is over: a handshake record from now on asks to renegotiate.
    pub established: bool,
    header: [u8; RECORD_HEADER],
    header_len: usize,
    /// Bytes of the current record's body still to come.
    body_left: usize,
}

/// A TLS record's header: type, version, length.
const RECORD_HEADER: usize = 5;

/// Why a client asking to renegotiate is let go.
pub const RENEGOTIATION_REFUSED: &str = "the client asked to renegotiate TLS, which this server refuses (renegotiation is not spoken here)";

impl RecordWatch {
    pub fn new(tcp: TcpStream) -> Self {
        RecordWatch {
            tcp,
            established: false,
            header: [0; RECORD_HEADER],
            header_len: 0,
            body_left: 0,
        }
    }

    /// Follows the records in `bytes`; true when one asks to renegotiate.
    fn asks_to_renegotiate(&mut self, mut bytes: &[u8]) -> bool {
        while !bytes.is_empty() {
            if self.body_left > 0 {
                let skipped = self.body_left.min(bytes.len());
                self.body_left -= skipped;
                bytes = &bytes[skipped..];
                continue;
            }
            let taken = (RECORD_HEADER - self.header_len).min(bytes.len());
            self.header[self.header_len..self.header_len + taken].copy_from_slice(&bytes[..taken]);
            self.header_len += taken;
            bytes = &bytes[taken..];
            if self.header_len == RECORD_HEADER {
                self.header_len = 0;
                if self.established && self.header[0] == HANDSHAKE_RECORD {
                    return true;
                }
                self.body_left = u16::from_be_bytes([self.header[3], self.header[4]]) as usize;
            }
        }
        false
    }
}

impl AsyncRead for RecordWatch {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = std::task::ready!(Pin::new(&mut this.tcp).poll_read(cx, buf))?;
        if this.asks_to_renegotiate(&buf[..n]) {
            return Poll::Ready(Err(io::Error::other(RENEGOTIATION_REFUSED)));
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for RecordWatch {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_close(cx)
    }
}

/// The newest version a ClientHello at the start of `hello` offers, by name, when it is older
/// than TLS 1.2: a client that speaks 1.2 or 1.3 puts 1.2 there (1.3 goes in an extension).
pub fn only_old_versions(hello: &[u8]) -> Option<&'static str> {
    match hello {
        [
            HANDSHAKE_RECORD,
            0x03,
            _,
            _,
            _,
            CLIENT_HELLO,
            _,
            _,
            _,
            0x03,
            minor,
            ..,
        ] => match minor {
            0 => Some("SSL 3.0"),
            1 => Some("TLS 1.0"),
            2 => Some("TLS 1.1"),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `bytes` begin a hello in SSL 2.0's record format (a two-byte length with the top
/// bit set, then CLIENT-HELLO and a version), as clients of SSL 2.0 and 3.0 once sent.
pub fn is_sslv2_hello(bytes: &[u8]) -> bool {
    matches!(bytes, [length, _, CLIENT_HELLO, 0x00, 0x02, ..] | [length, _, CLIENT_HELLO, 0x03, 0x00..=0x03, ..] if length & 0x80 != 0)
}

/// The handshake message type of a ClientHello, in SSL 2.0 and TLS alike.
const CLIENT_HELLO: u8 = 0x01;

/// A self-signed certificate for the bind address and `localhost` (and both loopback addresses
/// when listening on every interface), made fresh at each start.
fn generate(
    bind: IpAddr,
) -> Result<
    (
        Vec<CertificateDer<'static>>,
        PrivateKeyDer<'static>,
        Vec<String>,
    ),
    NetError,
> {
    let mut names = vec!["localhost".to_string()];
    if bind.is_unspecified() {
        names.extend(["127.0.0.1".to_string(), "::1".to_string()]);
    } else {
        names.push(bind.to_string());
    }
    let failed = |error: rcgen::Error| {
        NetError::invalid("tls", format!("cannot make a certificate: {error}"))
    };
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let mut params = rcgen::CertificateParams::new(names.clone()).map_err(failed)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "netdeck self-signed");
    let certificate = params.self_signed(&key).map_err(failed)?;
    let key = PrivateKeyDer::try_from(key.serialize_der())
        .map_err(|error| NetError::invalid("tls", error.to_string()))?;
    Ok((vec![certificate.der().clone()], key, names))
}

/// SHA-256 of a certificate as colon-separated upper-case hex.
pub fn fingerprint(certificate: &CertificateDer<'_>) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, certificate.as_ref());
    let mut text = String::with_capacity(95);
    for (n, byte) in digest.as_ref().iter().enumerate() {
        if n > 0 {
            text.push(':');
        }
        let _ = write!(text, "{byte:02X}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handshake_record_after_the_handshake_is_seen_across_reads() {
        let (tcp, _) = smol::block_on(async {
            let listener = async_net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            futures_lite::future::zip(TcpStream::connect(addr), listener.accept()).await
        });
        let mut watch = RecordWatch::new(tcp.unwrap());
        // During the handshake, handshake records are what is expected.
        assert!(!watch.asks_to_renegotiate(&[0x16, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb]));
        watch.established = true;
        // Application data whose body looks like a header, split in odd places.
        assert!(!watch.asks_to_renegotiate(&[0x17, 0x03]));
        assert!(!watch.asks_to_renegotiate(&[0x03, 0x00, 0x05, 0x16, 0x03]));
        assert!(!watch.asks_to_renegotiate(&[0x03, 0x00, 0x01]));
        // Then a handshake record, its header in two reads.
        assert!(!watch.asks_to_renegotiate(&[0x16, 0x03, 0x03]));
        assert!(watch.asks_to_renegotiate(&[0x00, 0x04]));
    }
}
