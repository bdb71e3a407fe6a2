//! The one error type: every failure a user can meet, with a message that names the address,
//! port or field, a hint saying what to do, and the command line's exit code.

use std::io;
use std::net::SocketAddr;

use crate::payload::PayloadError;

/// Exit codes. Where curl has a code for the same failure, it is curl's.
pub mod exit {
    /// Bad command-line input or a bad field.
    pub const BAD_INPUT: u8 = 2;
    /// A local address or port could not be used (curl: "interface failed").
    pub const LOCAL_ADDRESS: u8 = 45;
    /// Anything else the system refused.
    pub const OTHER: u8 = 1;
    pub const COULD_NOT_RESOLVE: u8 = 6;
    pub const COULD_NOT_CONNECT: u8 = 7;
    pub const TIMED_OUT: u8 = 28;
    pub const TLS_HANDSHAKE: u8 = 35;
    /// The connection broke while receiving (curl: "failure receiving network data").
    pub const RECEIVE_FAILED: u8 = 56;
    pub const CERTIFICATE_UNTRUSTED: u8 = 60;
    pub const BAD_URL: u8 = 3;
    /// curl: "weird server reply".
    pub const BAD_RESPONSE: u8 = 8;
    /// curl: "partial file".
    pub const PARTIAL_BODY: u8 = 18;
    /// With --fail, an HTTP status of 400 or more.
    pub const HTTP_STATUS: u8 = 22;
    pub const TOO_MANY_REDIRECTS: u8 = 47;
    pub const COULD_NOT_RESOLVE_PROXY: u8 = 5;
    /// curl: "write error", for the body's destination.
    pub const WRITE_FAILED: u8 = 23;
}

/// A setting a hint points at. Each front-end names it in its own words (a flag on the
/// command line, a field in the window), or not at all where it has no such setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    StartServer,
    /// Speaking TLS at all.
    Tls,
    Timeout,
    TrustedCa,
    AnyCertificate,
    MaxRedirects,
    InsecureRedirects,
    /// How to see the body of an error answer.
    ErrorBody,
    Proxy,
    NoProxy,
    SaveToFile,
    WriteAnyway,
    ClientCertificate,
    OldestTls,
    Alpn,
    Idle,
}

/// How a front-end names the settings that hints point at.
pub trait Vocabulary {
    fn name(&self, setting: Setting) -> Option<&'static str>;
}

/// What went wrong with a forward proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyProblem {
    Unresolved(String),
    Refused,
    Unreachable(String),
    TimedOut(std::time::Duration),
    /// 407: the proxy wants credentials (or refused the ones given).
    NeedsCredentials {
        given: bool,
    },
    /// It answered `CONNECT` with something other than 2xx.
    Status {
        status: u16,
        reason: String,
    },
    /// A SOCKS5 proxy refused the tunnel with this reply code (RFC 1928, 6).
    Socks(u8),
    /// It closed or answered something that is not HTTP.
    Broken(String),
}

/// A SOCKS5 reply code in words.
fn socks_reply(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "connection not allowed by its rules",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused by the destination",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown reply",
    }
}

impl std::fmt::Display for ProxyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyProblem::Unresolved(detail) => write!(f, "could not be resolved: {detail}"),
            ProxyProblem::Refused => f.write_str("refused the connection"),
            ProxyProblem::Unreachable(detail) => write!(f, "cannot be reached: {detail}"),
            ProxyProblem::TimedOut(after) => write!(f, "did not answer within {}", seconds(*after)),
            ProxyProblem::NeedsCredentials { given: false } => {
                f.write_str("asks for credentials (407 Proxy Authentication Required)")
            }
            ProxyProblem::NeedsCredentials { given: true } => {
                f.write_str("refused the credentials given (407 Proxy Authentication Required)")
            }
            ProxyProblem::Status { status, reason } => {
                write!(f, "refused the tunnel: {status} {reason}")
            }
            ProxyProblem::Socks(code) => write!(
                f,
                "refused the tunnel: {} (SOCKS5 reply {code})",
                socks_reply(*code)
            ),
            ProxyProblem::Broken(detail) => f.write_str(detail),
        }
    }
}

/// Why a server's certificate was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateProblem {
    /// Self-signed, or signed by an authority not in the trusted roots.
    UnknownIssuer,
    Expired,
    NotYetValid,
    /// Issued for other names than the one connected to.
    WrongHost {
        host: String,
    },
    Other(String),
}

impl std::fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertificateProblem::UnknownIssuer => {
                f.write_str("it is self-signed or signed by an unknown authority")
            }
            CertificateProblem::Expired => f.write_str("it has expired"),
            CertificateProblem::NotYetValid => f.write_str("it is not valid yet"),
            CertificateProblem::WrongHost { host } => write!(f, "it is not valid for {host}"),
            CertificateProblem::Other(problem) => f.write_str(problem),
        }
    }
}

/// A TLS server's refusal with a cause people can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsRefusal {
    /// It asks for a client certificate and none was shown.
    CertificateRequired,
    /// It does not accept the client certificate shown.
    CertificateRejected,
    /// A handshake_failure alert: often a missing client certificate under TLS 1.2.
    HandshakeRefused,
    /// It speaks only versions older than TLS 1.2.
    VersionTooOld,
    /// It speaks none of the application protocols offered (ALPN).
    NoCommonProtocol,
}

impl std::fmt::Display for TlsRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TlsRefusal::CertificateRequired => "the server requires a client certificate",
            TlsRefusal::CertificateRejected => "the server does not accept the client certificate",
            TlsRefusal::HandshakeRefused => "the server refused the handshake (handshake_failure)",
            TlsRefusal::VersionTooOld => {
                "the server speaks only TLS versions older than those accepted here"
            }
            TlsRefusal::NoCommonProtocol => {
                "the server speaks none of the application protocols offered (ALPN)"
            }
        })
    }
}

/// What a local address was wanted for, as messages say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalUse {
    Listen,
    /// A UDP socket's own address, datagrams go out from (`udp send --bind`).
    SendFrom,
    /// A TCP client's own address (`connect --source`, `--source-port`).
    ConnectFrom,
}

impl std::fmt::Display for LocalUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LocalUse::Listen => "listen on",
            LocalUse::SendFrom => "send from",
            LocalUse::ConnectFrom => "connect from",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("{field}: {problem}")]
    InvalidInput {
        /// The field or option the value came from: `port`, `bind`, `max-clients`...
        field: &'static str,
        problem: String,
    },

    #[error("{field}: {source}")]
    Payload {
        field: &'static str,
        #[source]
        source: PayloadError,
    },

    #[error("cannot {purpose} {}: another program is using port {port}", local(addr, purpose), port = addr.port())]
    PortInUse { addr: SocketAddr, purpose: LocalUse },

    /// The only sockets on the port are connections that closed moments ago: the system
    /// keeps them (TIME-WAIT) for a minute so late packets cannot reach a new connection.
    #[error(
        "cannot {purpose} {}: port {port} is still held by connections that closed moments ago (TIME-WAIT), which the system keeps for up to a minute",
        local(addr, purpose),
        port = addr.port()
    )]
    PortInTimeWait { addr: SocketAddr, purpose: LocalUse },

    #[error("cannot {purpose} {}: permission denied", local(addr, purpose))]
    BindPermission { addr: SocketAddr, purpose: LocalUse },

    #[error("cannot {purpose} {}: {ip} is not an address of this machine", local(addr, purpose), ip = addr.ip())]
    AddressNotLocal { addr: SocketAddr, purpose: LocalUse },

    #[error("could not resolve {host}: {detail}")]
    ResolveFailed { host: String, detail: String },

    #[error("connection refused by {addr}: nothing is listening there")]
    Refused { addr: SocketAddr },

    #[error("nothing is listening on UDP {addr}")]
    UdpUnreachable { addr: SocketAddr },

    #[error("cannot reach {addr}: {detail}")]
    Unreachable { addr: SocketAddr, detail: String },

    #[error("{action} timed out after {}", seconds(*after))]
    Timeout {
        /// What was being waited for, e.g. "connecting to 10.0.0.1:80".
        action: String,
        after: std::time::Duration,
    },

    #[error("nothing moved between here and {peer} for {}", seconds(*after))]
    Idle {
        peer: SocketAddr,
        after: std::time::Duration,
    },

    #[error("TLS handshake with {host} failed: {detail}")]
    TlsHandshake { host: String, detail: String },

    #[error("{peer} answered in TLS: this port speaks TLS, and the connection is plain TCP")]
    TlsOnPlainConnection { peer: SocketAddr },

    #[error("TLS with {host}: {problem}")]
    TlsRefused { host: String, problem: TlsRefusal },

    #[error("the certificate of {host} is not trusted: {problem}")]
    CertificateUntrusted {
        host: String,
        problem: CertificateProblem,
    },

    #[error("connection to {peer} was reset")]
    Reset { peer: SocketAddr },

    #[error("URL {url}: {problem}")]
    BadUrl { url: String, problem: String },

    #[error("bad answer from {host}: {detail}")]
    BadResponse { host: String, detail: String },

    #[error("incomplete answer from {host}: {detail}")]
    PartialBody { host: String, detail: String },

    #[error("redirect loop: {url} was already visited")]
    RedirectLoop { url: String },

    #[error("more than {limit} redirects")]
    TooManyRedirects { limit: usize },

    #[error("refused to follow a redirect from {from} to unencrypted {to}")]
    InsecureRedirect { from: String, to: String },

    #[error("HTTP {status} {reason}")]
    HttpStatus { status: u16, reason: String },

    #[error(
        "preset: no {kind} preset `{name}` in {}; {}",
        file.display(),
        saved_names(kind, saved)
    )]
    UnknownPreset {
        /// As the settings file names it: `server`, `client`, `http`.
        kind: &'static str,
        /// The window's tab that saves it: `Server`, `Client`, `HTTP`.
        tab: &'static str,
        name: String,
        file: std::path::PathBuf,
        /// The names saved for this kind, in order.
        saved: Vec<String>,
    },

    #[error("the proxy {proxy} {problem}")]
    ProxyFailed {
        /// `host:port`.
        proxy: String,
        problem: ProxyProblem,
    },

    #[error("cannot write the body to {target}: {source}")]
    WriteFailed {
        /// A file's path, or "standard output".
        target: String,
        #[source]
        source: io::Error,
    },

    /// `serve` could not write what it received (`--raw`, `-o`) or its event lines.
    #[error("{}", output_failure(target, source))]
    OutputFailed {
        /// A file's path, "standard output" or "standard error".
        target: String,
        #[source]
        source: io::Error,
    },

    /// A failure after part of the body had been written out.
    #[error("{cause}; {} of the body had arrived and {} written to {target}", bytes(*arrived), if *arrived == 1 { "was" } else { "were" })]
    Interrupted {
        cause: Box<NetError>,
        arrived: u64,
        target: String,
    },

    #[error("the body is binary, which can garble a terminal")]
    BinaryToTerminal,

    /// A failure the user asked not to be told about (`-s`): only its exit code remains.
    #[error("")]
    Silent { code: u8 },

    #[error("{action}: {source}")]
    Io {
        /// What was being done, e.g. "cannot listen on 127.0.0.1:1234".
        action: String,
        #[source]
        source: io::Error,
    },
}

impl NetError {
    pub fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        NetError::InvalidInput {
            field,
            problem: problem.into(),
        }
    }

    /// The same error about input, told of another field: a front-end's name for it.
    pub fn in_field(self, field: &'static str) -> Self {
        match self {
            NetError::InvalidInput { problem, .. } => NetError::InvalidInput { field, problem },
            NetError::Payload { source, .. } => NetError::Payload { field, source },
            other => other,
        }
    }

    /// The same local-address error, told of another use of the address (a UDP socket bound
    /// to send from, rather than to listen on).
    pub fn for_use(self, new_purpose: LocalUse) -> Self {
        match self {
            NetError::PortInUse { addr, .. } => NetError::PortInUse {
                addr,
                purpose: new_purpose,
            },
            NetError::PortInTimeWait { addr, .. } => NetError::PortInTimeWait {
                addr,
                purpose: new_purpose,
            },
            NetError::BindPermission { addr, .. } => NetError::BindPermission {
                addr,
                purpose: new_purpose,
            },
            NetError::AddressNotLocal { addr, .. } => NetError::AddressNotLocal {
                addr,
                purpose: new_purpose,
            },
            other => other,
        }
    }

    /// What went wrong when binding a TCP listening socket, by class.
    pub fn from_bind(addr: SocketAddr, error: io::Error) -> Self {
        Self::from_local(addr, LocalUse::Listen, Transport::Tcp, error)
    }

    /// What went wrong when binding a socket to a local address, by class. A TCP port the
    /// system refuses only because connections on it are in TIME-WAIT is told as such.
    pub fn from_local(
        addr: SocketAddr,
        purpose: LocalUse,
        transport: Transport,
        error: io::Error,
    ) -> Self {
        match error.kind() {
            io::ErrorKind::AddrInUse
                if transport == Transport::Tcp && held_only_in_time_wait(addr.port()) =>
            {
                NetError::PortInTimeWait { addr, purpose }
            }
            io::ErrorKind::AddrInUse => NetError::PortInUse { addr, purpose },
            io::ErrorKind::PermissionDenied => NetError::BindPermission { addr, purpose },
            io::ErrorKind::AddrNotAvailable => NetError::AddressNotLocal { addr, purpose },
            _ if error.raw_os_error() == Some(libc::EAFNOSUPPORT) => {
                NetError::AddressNotLocal { addr, purpose }
            }
            _ => NetError::Io {
                action: format!("cannot {purpose} {addr}"),
                source: error,
            },
        }
    }

    /// What to do about it, in a sentence, naming settings in the words of `words`.
    pub fn hint(&self, words: &dyn Vocabulary) -> String {
        // `shape` with NAME replaced by the front-end's words for `setting`; nothing where the
        // front-end has no such setting.
        let named = |setting: Setting, shape: &str| {
            (words.name(setting))
                .map(|name| shape.replace("NAME", name))
                .unwrap_or_default()
        };
        match self {
            NetError::InvalidInput { .. } | NetError::Payload { .. } => {
                "Correct the value and try again.".into()
            }
            NetError::PortInUse {
                purpose: LocalUse::Listen,
                ..
            } => "Stop the other program, or choose another port (0 picks a free one).".into(),
            NetError::PortInUse { .. } => {
                "Stop the other program, or choose another local port (or none, to let the system pick one).".into()
            }
            NetError::PortInTimeWait {
                purpose: LocalUse::Listen,
                ..
            } => "Wait a minute, or choose another port (0 picks a free one).".into(),
            NetError::PortInTimeWait { .. } => {
                "Wait a minute, or choose another local port (or none, to let the system pick one).".into()
            }
            NetError::BindPermission { addr, .. } if addr.port() < 1024 && addr.port() != 0 => {
                "Ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port of 1024 or more."
                    .into()
            }
            NetError::BindPermission { .. } => {
                "The system does not allow this program to listen there; check firewall or sandbox rules."
                    .into()
            }
            NetError::AddressNotLocal { .. } => {
                "Use 127.0.0.1 for this machine only, 0.0.0.0 or :: for every interface, or one of this machine's addresses."
                    .into()
            }
            NetError::ResolveFailed { .. } => {
                "Check the spelling of the host name, or use an IP address.".into()
            }
            NetError::Refused { .. } => format!(
                "Start the server{} or check the port.",
                named(Setting::StartServer, " (NAME)")
            ),
            NetError::Unreachable { .. } => {
                "Check the address and that this machine has a route to it.".into()
            }
            NetError::UdpUnreachable { .. } => {
                "Its system answered \"port unreachable\": start the UDP listener there, or check the port.".into()
            }
            NetError::Timeout { .. } => format!(
                "The other side did not answer in time: check that it is running and reachable{}.",
                named(Setting::Timeout, ", or allow more time (NAME)")
            ),
            NetError::Idle { .. } => format!(
                "The session was quiet for longer than allowed{}.",
                named(Setting::Idle, "; allow more (NAME), or leave it out to wait as long as it takes")
            ),
            NetError::TlsHandshake { .. } => {
                "Check that the server speaks TLS on this port; turn TLS off for a plain TCP port.".into()
            }
            NetError::TlsOnPlainConnection { .. } => {
                format!("Connect with TLS{}.", named(Setting::Tls, " (NAME)"))
            }
            NetError::TlsRefused { problem, .. } => match problem {
                TlsRefusal::CertificateRequired => format!(
                    "Show a client certificate the server trusts{}.",
                    named(Setting::ClientCertificate, " (NAME)")
                ),
                TlsRefusal::CertificateRejected => {
                    "Use a client certificate signed by an authority the server trusts, and check that it has not expired.".into()
                }
                TlsRefusal::HandshakeRefused => format!(
                    "The server may want a client certificate{}, or share no cipher with this client; its log says which.",
                    named(Setting::ClientCertificate, " (NAME)")
                ),
                TlsRefusal::VersionTooOld => format!(
                    "Enable TLS 1.2 or 1.3 on the server (1.0 and 1.1 are not spoken here){}.",
                    named(Setting::OldestTls, "; if only TLS 1.3 was asked for, accept TLS 1.2 (NAME)")
                ),
                TlsRefusal::NoCommonProtocol => format!(
                    "Offer a protocol the server speaks{}.",
                    named(Setting::Alpn, " (NAME)")
                ),
            },
            NetError::CertificateUntrusted { .. } => format!(
                "Use a certificate from a trusted authority{}; for testing only, accept invalid certificates{}.",
                named(Setting::TrustedCa, " or trust its CA (NAME)"),
                named(Setting::AnyCertificate, " (NAME)")
            ),
            NetError::Reset { .. } => {
                "The other side aborted the connection; check its log, then reconnect.".into()
            }
            NetError::BadUrl { .. } => {
                "Write the whole URL, like http://192.168.1.10:8080/status or https://example.com/.".into()
            }
            NetError::BadResponse { .. } => {
                "The server did not answer in HTTP/1.x; check the port and the scheme (http or https).".into()
            }
            NetError::PartialBody { .. } => {
                "The server stopped in the middle of its answer; try again or check the server.".into()
            }
            NetError::RedirectLoop { .. } | NetError::TooManyRedirects { .. } => format!(
                "The server keeps redirecting; check its configuration{}.",
                named(Setting::MaxRedirects, ", or allow more (NAME)")
            ),
            NetError::InsecureRedirect { .. } => format!(
                "The request would leave TLS; request the http URL yourself{}.",
                named(Setting::InsecureRedirects, ", or allow it (NAME)")
            ),
            NetError::HttpStatus { .. } => format!(
                "The server answered with an error status; its body says more{}.",
                named(Setting::ErrorBody, " (NAME)")
            ),
            NetError::UnknownPreset { tab, saved, .. } if saved.is_empty() => format!(
                "In the window, fill in the {tab} tab, name the preset in the Settings tab and press Save {tab}."
            ),
            NetError::UnknownPreset { .. } => {
                "Use one of the saved names (they are case-sensitive).".into()
            }
            NetError::ProxyFailed { problem, .. } => match problem {
                ProxyProblem::NeedsCredentials { .. } => {
                    "Give the proxy's user and password in its URL, like http://user:pass@proxy:3128.".into()
                }
                ProxyProblem::Socks(3..=6) => {
                    "The proxy could not reach the destination: check its host and port, and that it runs.".into()
                }
                ProxyProblem::Socks(_) => {
                    "The proxy does not allow this destination; ask its administrator.".into()
                }
                ProxyProblem::Status { .. } => format!(
                    "The proxy does not allow this destination; ask its administrator{}.",
                    named(Setting::NoProxy, ", or bypass it (NAME)")
                ),
                _ => format!(
                    "Check the proxy's address{}, or go direct{}.",
                    named(Setting::Proxy, " (NAME)"),
                    named(Setting::NoProxy, " (NAME)")
                ),
            },
            NetError::WriteFailed { .. } => {
                "Check that the disk has room and the file can be written.".into()
            }
            NetError::OutputFailed { source, .. } if source.kind() == io::ErrorKind::BrokenPipe => {
                "The program reading it has ended, so netdeck stopped too.".into()
            }
            NetError::OutputFailed { .. } => {
                "Check that there is room and that it can be written.".into()
            }
            NetError::BinaryToTerminal => format!(
                "Save it to a file{}, or write it here anyway{}.",
                named(Setting::SaveToFile, " (NAME)"),
                named(Setting::WriteAnyway, " (NAME)")
            ),
            NetError::Silent { .. } => String::new(),
            NetError::Interrupted { cause, .. } => cause.hint(words),
            NetError::Io { .. } => "Check the address and the system's limits, then try again.".into(),
        }
    }

    /// The command line's exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            NetError::InvalidInput { .. }
            | NetError::Payload { .. }
            | NetError::UnknownPreset { .. } => exit::BAD_INPUT,
            NetError::PortInUse { .. }
            | NetError::PortInTimeWait { .. }
            | NetError::BindPermission { .. }
            | NetError::AddressNotLocal { .. } => exit::LOCAL_ADDRESS,
            NetError::ResolveFailed { .. } => exit::COULD_NOT_RESOLVE,
            NetError::Refused { .. }
            | NetError::Unreachable { .. }
            | NetError::UdpUnreachable { .. } => exit::COULD_NOT_CONNECT,
            NetError::Timeout { .. } | NetError::Idle { .. } => exit::TIMED_OUT,
            NetError::TlsHandshake { .. }
            | NetError::TlsRefused { .. }
            | NetError::TlsOnPlainConnection { .. } => exit::TLS_HANDSHAKE,
            NetError::CertificateUntrusted { .. } => exit::CERTIFICATE_UNTRUSTED,
            NetError::Reset { .. } => exit::RECEIVE_FAILED,
            NetError::BadUrl { .. } => exit::BAD_URL,
            NetError::BadResponse { .. } => exit::BAD_RESPONSE,
            NetError::PartialBody { .. } => exit::PARTIAL_BODY,
            NetError::RedirectLoop { .. }
            | NetError::TooManyRedirects { .. }
            | NetError::InsecureRedirect { .. } => exit::TOO_MANY_REDIRECTS,
            NetError::HttpStatus { .. } => exit::HTTP_STATUS,
            NetError::ProxyFailed { problem, .. } => match problem {
                ProxyProblem::Unresolved(_) => exit::COULD_NOT_RESOLVE_PROXY,
                ProxyProblem::Refused | ProxyProblem::Unreachable(_) => exit::COULD_NOT_CONNECT,
                ProxyProblem::TimedOut(_) => exit::TIMED_OUT,
                _ => exit::RECEIVE_FAILED,
            },
            NetError::WriteFailed { .. }
            | NetError::OutputFailed { .. }
            | NetError::BinaryToTerminal => exit::WRITE_FAILED,
            NetError::Silent { code } => *code,
            NetError::Interrupted { cause, .. } => cause.exit_code(),
            NetError::Io { .. } => exit::OTHER,
        }
    }

    /// The input field the GUI shows this error under, if one caused it.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            NetError::InvalidInput { field, .. } | NetError::Payload { field, .. } => Some(field),
            NetError::PortInUse { purpose, .. }
            | NetError::PortInTimeWait { purpose, .. }
            | NetError::BindPermission { purpose, .. } => Some(match purpose {
                LocalUse::Listen => "port",
                LocalUse::SendFrom => "bind",
                LocalUse::ConnectFrom => "source-port",
            }),
            NetError::AddressNotLocal { purpose, .. } => Some(match purpose {
                LocalUse::ConnectFrom => "source",
                _ => "bind",
            }),
            NetError::ResolveFailed { .. } => Some("host"),
            NetError::BadUrl { .. } => Some("url"),
            NetError::UnknownPreset { .. } => Some("preset"),
            _ => None,
        }
    }
}

/// A local address as messages show it: a socket to send or connect from whose port the
/// system was to pick shows the address alone (a listening port 0 was asked for as such).
fn local(addr: &SocketAddr, purpose: &LocalUse) -> String {
    match (addr.port(), purpose) {
        (0, LocalUse::SendFrom | LocalUse::ConnectFrom) => addr.ip().to_string(),
        _ => addr.to_string(),
    }
}

/// The protocol a local address is bound for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
}

/// Whether every TCP socket on this local port is a connection in TIME-WAIT (Linux's
/// `/proc/net/tcp` and `tcp6`, state 06), and there is at least one.
pub fn held_only_in_time_wait(port: u16) -> bool {
    const TIME_WAIT: &str = "06";
    let mut states = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let mut fields = line.split_whitespace();
            let local = fields.nth(1).unwrap_or("");
            let state = fields.nth(1).unwrap_or("");
            let local_port = local
                .rsplit(':')
                .next()
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            if local_port == Some(port) {
                states.push(state == TIME_WAIT);
            }
        }
    }
    !states.is_empty() && states.iter().all(|&time_wait| time_wait)
}

/// The names of the saved presets of a kind, for an error message.
fn saved_names(kind: &str, saved: &[String]) -> String {
    if saved.is_empty() {
        return format!("no {kind} presets are saved there");
    }
    let names: Vec<String> = saved.iter().map(|name| format!("`{name}`")).collect();
    format!("the saved {kind} presets are {}", names.join(", "))
}

/// A closed pipe is not a failure to write but the reader's end, so it is told as such.
fn output_failure(target: &str, source: &io::Error) -> String {
    if source.kind() == io::ErrorKind::BrokenPipe {
        format!("{target} was closed: {source}")
    } else {
        format!("cannot write to {target}: {source}")
    }
}

fn bytes(n: u64) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

/// A duration as people say it: `500 ms`, `5 s`, `1.5 s`.
fn seconds(duration: std::time::Duration) -> String {
    if duration < std::time::Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}
