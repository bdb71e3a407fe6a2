//! The TCP client: resolve, try each address with a connect timeout, optional TLS, then a
//! session that sends and receives until either side closes.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_net::TcpStream;
use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, FutureExt};
use futures_rustls::TlsConnector;
use futures_rustls::client::TlsStream;
use smol::{Executor, Task, Timer};

use super::error::{LocalUse, NetError, Transport, held_only_in_time_wait};
use super::tls::{self, TlsOptions};
use super::tunnel::{self, TcpProxy};
use super::{Counters, EventSink, SessionId};

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes read per system call; each read becomes one event.
const READ_BUFFER: usize = 16 * 1024;

#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// A name, an IPv4 address, or an IPv6 address (with or without brackets).
    pub host: String,
    pub port: u16,
    /// For each address tried, and again for the TLS handshake.
    pub connect_timeout: Duration,
    pub tls: Option<TlsOptions>,
    /// Where the connection starts from, and which of the server's addresses it may use.
    pub origin: Origin,
    /// Reach the server through this proxy.
    pub proxy: Option<TcpProxy>,
}

impl ClientConfig {
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        ClientConfig {
            host: host.into(),
            port,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            tls: None,
            origin: Origin::default(),
            proxy: None,
        }
    }
}

/// An address family, to use only the server's addresses of that kind (`-4`, `-6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn of(ip: IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        }
    }
}

/// This end of a connection: the local address and port it starts from (the system picks
/// what is not given), and the family of the server's addresses to try.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub address: Option<IpAddr>,
    pub port: Option<u16>,
    pub family: Option<Family>,
}

impl Origin {
    /// The family the server's addresses must have: the one asked for, or the source
    /// address's.
    fn wanted_family(&self) -> Option<Family> {
        self.family.or(self.address.map(Family::of))
    }

    /// The local address to bind for a connection to `peer`, when one is asked for.
    fn local_for(&self, peer: SocketAddr) -> Option<SocketAddr> {
        if self.address.is_none() && self.port.is_none() {
            return None;
        }
        let any = match peer {
            SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        Some(SocketAddr::new(
            self.address.unwrap_or(any),
            self.port.unwrap_or(0),
        ))
    }
}

/// What was negotiated on a TLS connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsInfo {
    /// e.g. "TLSv1_3".
    pub version: String,
    pub cipher: String,
    /// The certificate was not checked: the user accepted invalid certificates.
    pub unverified: bool,
    /// The server's own certificate.
    pub certificate: Option<tls::CertificateSummary>,
    /// The application protocol the server chose by ALPN.
    pub alpn: Option<String>,
}

/// A connected socket, plain or TLS, from either end.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// A client of netdeck's TLS server.
    TlsServer(Box<super::tls_server::ServerTlsStream>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            // Many servers close without TLS's close_notify; that is an end like any other,
            // and the framing above tells a complete message from a cut one.
            Stream::Tls(stream) => {
                end_without_close_notify(Pin::new(stream.as_mut()).poll_read(cx, buf))
            }
            Stream::TlsServer(stream) => {
                end_without_close_notify(Pin::new(&mut stream.0).poll_read(cx, buf))
            }
        }
    }
}

impl Stream {
    /// The TCP socket beneath, plain or carrying TLS.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(stream) => stream,
            Stream::Tls(stream) => stream.get_ref().0,
            Stream::TlsServer(stream) => &stream.0.get_ref().0.tcp,
        }
    }
}

fn end_without_close_notify(read: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
    match read {
        Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::UnexpectedEof => {
            Poll::Ready(Ok(0))
        }
        other => other,
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
            Stream::TlsServer(stream) => Pin::new(&mut stream.0).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
            Stream::TlsServer(stream) => Pin::new(&mut stream.0).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_close(cx),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_close(cx),
            Stream::TlsServer(stream) => Pin::new(&mut stream.0).poll_close(cx),
        }
    }
}

pub struct Connection {
    pub stream: Stream,
    /// The address connected to: the server's, or the proxy's when there is one.
    pub peer: SocketAddr,
    /// `host:port` of the proxy the connection goes through.
    pub proxy: Option<String>,
    /// This end's address: on loopback, the peer port the server sees.
    pub local: Option<SocketAddr>,
    pub tls: Option<TlsInfo>,
    pub timings: ConnectTimings,
}

/// How long each step of connecting took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnectTimings {
    /// Resolving the name (zero for an address).
    pub dns: Duration,
    /// TCP, for the address that answered (earlier failed addresses count too).
    pub connect: Duration,
    pub tls: Option<Duration>,
}

/// Resolves the host, tries each address in turn, and does the TLS handshake if asked.
/// Every failure comes back classified: resolve (6), refused or unreachable (7), timeout (28),
/// handshake (35), untrusted certificate (60).
pub async fn connect(config: &ClientConfig) -> Result<Connection, NetError> {
    // Checked before any network traffic: a bad TLS setup or name starts nothing.
    let tls = prepare_tls(config)?;
    let Some(proxy) = &config.proxy else {
        let (stream, peer, timings) = open_tcp(
            &config.host,
            config.port,
            config.connect_timeout,
            config.origin,
        )
        .await?;
        return finish_connecting(stream, peer, timings, tls, config).await;
    };
    let (stream, peer, timings) = tunnel::open(proxy, config).await?;
    let mut connection = finish_connecting(stream, peer, timings, tls, config).await?;
    connection.proxy = Some(proxy.server.address());
    Ok(connection)
}

/// The TLS client configuration and the name to check, when the config asks for TLS.
pub struct PreparedTls {
    config: Arc<futures_rustls::rustls::ClientConfig>,
    server_name: futures_rustls::rustls::pki_types::ServerName<'static>,
    unverified: bool,
}

pub fn prepare_tls(config: &ClientConfig) -> Result<Option<PreparedTls>, NetError> {
    config
        .tls
        .as_ref()
        .map(|options| {
            Ok(PreparedTls {
                config: tls::client_config(options)?,
                server_name: match &options.sni {
                    tls::Sni::Name(name) => {
                        tls::server_name(name).map_err(|error| error.in_field("sni"))?
                    }
                    tls::Sni::Host | tls::Sni::Off => tls::server_name(&config.host)?,
                },
                unverified: options.accept_invalid_certificates,
            })
        })
        .transpose()
}

/// TCP to `host:port` from `origin`: each address the name resolves to in turn (of the
/// family asked for), each within `timeout`.
pub async fn open_tcp(
    host: &str,
    port: u16,
    timeout: Duration,
    origin: Origin,
) -> Result<(TcpStream, SocketAddr, ConnectTimings), NetError> {
    let started = Instant::now();
    let addrs = resolve_family(host, port, timeout, origin).await?;
    let resolved = Instant::now();
    let mut last_error = None;
    for addr in addrs {
        match with_timeout(connect_from(origin, addr, timeout), timeout, || {
            format!("connecting to {addr}")
        })
        .await
        {
            Ok(Err(
                error @ (NetError::AddressNotLocal { .. } | NetError::BindPermission { .. }),
            ))
            | Ok(Err(error @ (NetError::PortInUse { .. } | NetError::PortInTimeWait { .. }))) => {
                // The local end is at fault: no other address of the server would help.
                return Err(error);
            }
            Ok(Ok(stream)) => {
                // Small interactive payloads go out at once.
                let _ = stream.set_nodelay(true);
                let timings = ConnectTimings {
                    dns: resolved - started,
                    connect: resolved.elapsed(),
                    tls: None,
                };
                return Ok((stream, addr, timings));
            }
            Ok(Err(error)) => last_error = Some(error),
            Err(timeout) => last_error = Some(timeout),
        }
    }
    Err(last_error.expect("resolve returns at least one address"))
}

/// The server's addresses, only those of the family asked for (or of the source address).
pub async fn resolve_family(
    host: &str,
    port: u16,
    timeout: Duration,
    origin: Origin,
) -> Result<Vec<SocketAddr>, NetError> {
    let addrs = resolve(host, port, timeout).await?;
    let Some(family) = origin.wanted_family() else {
        return Ok(addrs);
    };
    let kept: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|addr| Family::of(addr.ip()) == family)
        .collect();
    if !kept.is_empty() {
        return Ok(kept);
    }
    let reason = match (origin.family, origin.address) {
        (Some(_), _) => format!("{} was asked for", family.name()),
        (None, Some(source)) => format!("the source address {source} is {}", family.name()),
        (None, None) => unreachable!("a family comes from one of the two"),
    };
    let field = if origin.family.is_some() {
        "family"
    } else {
        "source"
    };
    let problem = match addrs.as_slice() {
        [only]
            if host
                .trim()
                .trim_matches(['[', ']'])
                .parse::<IpAddr>()
                .is_ok() =>
        {
            format!(
                "{} is not an {} address, but {reason}",
                only.ip(),
                family.name()
            )
        }
        _ => format!("{host} has no {} address, but {reason}", family.name()),
    };
    Err(NetError::invalid(field, problem))
}

/// A TCP connection to `peer`, from the local address and port in `origin` when given.
async fn connect_from(
    origin: Origin,
    peer: SocketAddr,
    timeout: Duration,
) -> Result<TcpStream, NetError> {
    let Some(local) = origin.local_for(peer) else {
        return TcpStream::connect(peer)
            .await
            .map_err(|error| connect_error(peer, error, timeout));
    };
    let bound = |error| NetError::from_local(local, LocalUse::ConnectFrom, Transport::Tcp, error);
    let socket = bound_socket(local).map_err(bound)?;
    let stream = smol::Async::new(socket).map_err(|source| NetError::Io {
        action: format!("cannot connect to {peer}"),
        source,
    })?;
    let started = raw_connect(&stream, peer);
    let connected = match started {
        Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => stream
            .writable()
            .await
            .and_then(|()| match stream.get_ref().take_error() {
                Ok(Some(error)) => Err(error),
                other => other.map(|_| ()),
            }),
        other => other,
    };
    match connected {
        Ok(()) => Ok(TcpStream::from(stream)),
        // The same source port, server and port as a connection in TIME-WAIT.
        Err(error)
            if error.raw_os_error() == Some(libc::EADDRNOTAVAIL)
                && origin.port.is_some()
                && held_only_in_time_wait(local.port()) =>
        {
            Err(NetError::PortInTimeWait {
                addr: local,
                purpose: LocalUse::ConnectFrom,
            })
        }
        Err(error) => Err(connect_error(peer, error, timeout)),
    }
}

/// A non-blocking TCP socket bound to `local`. SO_REUSEADDR lets a fixed source port be
/// used again while an earlier connection from it to another server is in TIME-WAIT.
fn bound_socket(local: SocketAddr) -> io::Result<std::net::TcpStream> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let domain = match local {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: a plain socket call; the descriptor is owned at once below.
    let fd = unsafe {
        libc::socket(
            domain,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let reuse: libc::c_int = 1;
    let (address, length) = raw_address(local);
    // SAFETY: live option value and socket address of the sizes given.
    let failed = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&reuse as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) != 0
            || libc::bind(
                fd,
                (&address as *const libc::sockaddr_storage).cast(),
                length,
            ) != 0
    };
    if failed {
        return Err(io::Error::last_os_error());
    }
    Ok(std::net::TcpStream::from(owned))
}

/// Starts connecting the non-blocking socket to `peer`.
fn raw_connect(stream: &smol::Async<std::net::TcpStream>, peer: SocketAddr) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let (address, length) = raw_address(peer);
    // SAFETY: a live socket address of the size given.
    let result = unsafe {
        libc::connect(
            stream.as_raw_fd(),
            (&address as *const libc::sockaddr_storage).cast(),
            length,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A socket address in the system's layout.
fn raw_address(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all zeroes is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let length = match addr {
        SocketAddr::V4(v4) => {
            let raw = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*v4.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than, and aligned for, sockaddr_in.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), raw) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            let raw = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than, and aligned for, sockaddr_in6.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), raw) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, length as libc::socklen_t)
}

/// The TLS handshake, when prepared, on a connected stream (to the server, or a tunnel to
/// it through a proxy).
pub async fn finish_connecting(
    stream: TcpStream,
    peer: SocketAddr,
    mut timings: ConnectTimings,
    tls: Option<PreparedTls>,
    config: &ClientConfig,
) -> Result<Connection, NetError> {
    let local = stream.local_addr().ok();
    let Some(tls) = tls else {
        return Ok(Connection {
            stream: Stream::Plain(stream),
            peer,
            proxy: None,
            local,
            tls: None,
            timings,
        });
    };
    let started = Instant::now();
    // The name the certificate must match: the host, or the one given as SNI.
    let checked_name = tls.server_name.to_str().into_owned();
    let handshake = TlsConnector::from(tls.config).connect(tls.server_name, stream);
    let stream = with_timeout(handshake, config.connect_timeout, || {
        format!("TLS handshake with {}", config.host)
    })
    .await?
    .map_err(|error| tls::handshake_error(&config.host, &checked_name, error))?;
    timings.tls = Some(started.elapsed());
    let (_, session) = stream.get_ref();
    let tls::Agreed {
        version,
        cipher,
        alpn,
    } = tls::agreed(session);
    let info = TlsInfo {
        version,
        cipher,
        unverified: tls.unverified,
        alpn,
        certificate: session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| tls::summarize_certificate(leaf)),
    };
    Ok(Connection {
        stream: Stream::Tls(Box::new(stream)),
        peer,
        proxy: None,
        local,
        tls: Some(info),
        timings,
    })
}

pub async fn resolve(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, NetError> {
    let host = host.trim();
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = unbracketed.parse() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let lookup = async_net::resolve((unbracketed, port));
    let addrs = with_timeout(lookup, timeout, || format!("resolving {host}"))
        .await?
        .map_err(|error| NetError::ResolveFailed {
            host: host.to_string(),
            detail: resolve_detail(&error),
        })?;
    if addrs.is_empty() {
        return Err(NetError::ResolveFailed {
            host: host.to_string(),
            detail: "the name has no addresses".into(),
        });
    }
    Ok(addrs)
}

fn resolve_detail(error: &io::Error) -> String {
    let text = error.to_string();
    let text = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    match text {
        "Name or service not known" | "No address associated with hostname" => {
            "no such host".into()
        }
        "Temporary failure in name resolution" => {
            "the name server did not answer (no network?)".into()
        }
        other => other.into(),
    }
}

fn connect_error(addr: SocketAddr, error: io::Error, limit: Duration) -> NetError {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => NetError::Refused { addr },
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            NetError::Unreachable {
                addr,
                detail: error.to_string(),
            }
        }
        // The system gave up before our own limit did.
        io::ErrorKind::TimedOut => NetError::Timeout {
            action: format!("connecting to {addr}"),
            after: limit,
        },
        _ => NetError::Io {
            action: format!("cannot connect to {addr}"),
            source: error,
        },
    }
}

/// A failure while the connection is up.
pub fn transfer_error(peer: SocketAddr, error: io::Error) -> NetError {
    // Under TLS 1.3 a server that wants a client certificate says so after the handshake,
    // at the first read.
    if let Some(problem) = tls::refusal(&error) {
        return NetError::TlsRefused {
            host: peer.to_string(),
            problem,
        };
    }
    match error.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => NetError::Reset { peer },
        _ => NetError::Io {
            action: format!("connection to {peer}"),
            source: error,
        },
    }
}

/// Runs `future`, or gives a timeout error naming what was being waited for.
pub async fn with_timeout<T>(
    future: impl Future<Output = T>,
    limit: Duration,
    action: impl FnOnce() -> String,
) -> Result<T, NetError> {
    async { Some(future.await) }
        .or(async {
            Timer::after(limit).await;
            None
        })
        .await
        .ok_or_else(|| NetError::Timeout {
            action: action(),
            after: limit,
        })
}

#[derive(Debug)]
pub enum CloseReason {
    ClosedByPeer,
    /// The user disconnected.
    Local,
    Failed(NetError),
}

#[derive(Debug)]
pub enum ClientEvent {
    Connected {
        peer: SocketAddr,
        /// This end's address, when the system tells it.
        local: Option<SocketAddr>,
        tls: Option<TlsInfo>,
        /// How long resolving, TCP and the TLS handshake took.
        timings: ConnectTimings,
    },
    Received(Vec<u8>),
    Sent(Vec<u8>),
    /// Connecting failed; nothing is open.
    Failed(NetError),
    Closed {
        reason: CloseReason,
        bytes_in: u64,
        bytes_out: u64,
    },
}

/// For a consumer of one connection's events, which needs no stamp.
impl From<(SessionId, ClientEvent)> for ClientEvent {
    fn from((_, event): (SessionId, ClientEvent)) -> Self {
        event
    }
}

/// A connection kept open in the background: connects, then sends what is queued and
/// reports what arrives until either side closes.
pub struct ClientSession<E> {
    outgoing: async_channel::Sender<Vec<u8>>,
    counters: Arc<Counters>,
    events: EventSink<E>,
    task: Task<()>,
}

impl<E: From<(SessionId, ClientEvent)> + Send + 'static> ClientSession<E> {
    pub fn open(config: ClientConfig, executor: &Executor<'static>, events: EventSink<E>) -> Self {
        let (outgoing, queue) = async_channel::unbounded();
        let counters = Arc::new(Counters::default());
        let task = executor.spawn(run_session(config, queue, counters.clone(), events.clone()));
        ClientSession {
            outgoing,
            counters,
            events,
            task,
        }
    }

    /// Whether it ended by itself (and reported so).
    pub fn has_ended(&self) -> bool {
        self.task.is_finished()
    }

    /// Queues bytes to send; false once the session has ended.
    pub fn send(&self, bytes: Vec<u8>) -> bool {
        self.outgoing.try_send(bytes).is_ok()
    }

    /// Closes the connection (or stops connecting) and reports it, unless it had already
    /// ended by itself and said so.
    pub async fn close(self) {
        if self.task.cancel().await.is_none() {
            self.events
                .emit(ClientEvent::Closed {
                    reason: CloseReason::Local,
                    bytes_in: self.counters.bytes_in.load(Ordering::Relaxed),
                    bytes_out: self.counters.bytes_out.load(Ordering::Relaxed),
                })
                .await;
        }
    }
}

async fn run_session<E: From<(SessionId, ClientEvent)>>(
    config: ClientConfig,
    queue: async_channel::Receiver<Vec<u8>>,
    counters: Arc<Counters>,
    events: EventSink<E>,
) {
    let connection = match connect(&config).await {
        Ok(connection) => connection,
        Err(error) => return events.emit(ClientEvent::Failed(error)).await,
    };
    events
        .emit(ClientEvent::Connected {
            peer: connection.peer,
            local: connection.local,
            tls: connection.tls.clone(),
            timings: connection.timings,
        })
        .await;
    let reason = pump(connection, &queue, &counters, &events).await;
    events
        .emit(ClientEvent::Closed {
            reason,
            bytes_in: counters.bytes_in.load(Ordering::Relaxed),
            bytes_out: counters.bytes_out.load(Ordering::Relaxed),
        })
        .await;
}

enum Step {
    Outgoing(Vec<u8>),
    Read(io::Result<usize>),
}

async fn pump<E: From<(SessionId, ClientEvent)>>(
    connection: Connection,
    queue: &async_channel::Receiver<Vec<u8>>,
    counters: &Counters,
    events: &EventSink<E>,
) -> CloseReason {
    let Connection {
        mut stream, peer, ..
    } = connection;
    let mut buffer = vec![0; READ_BUFFER];
    loop {
        let outgoing = async {
            match queue.recv().await {
                Ok(bytes) => Step::Outgoing(bytes),
                // The session's owner is gone; it cancels the task right after.
                Err(_) => std::future::pending().await,
            }
        };
        let step = outgoing
            .or(async { Step::Read(stream.read(&mut buffer).await) })
            .await;
        match step {
            Step::Outgoing(bytes) => {
                if let Err(error) = write_all_and_flush(&mut stream, &bytes).await {
                    return CloseReason::Failed(transfer_error(peer, error));
                }
                counters
                    .bytes_out
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                events.emit(ClientEvent::Sent(bytes)).await;
            }
            Step::Read(Ok(0)) => return CloseReason::ClosedByPeer,
            Step::Read(Ok(n)) => {
                counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                events
                    .emit(ClientEvent::Received(buffer[..n].to_vec()))
                    .await;
            }
            Step::Read(Err(error)) => return CloseReason::Failed(transfer_error(peer, error)),
        }
    }
}

/// TLS buffers what it encrypts; a flush puts it on the wire.
pub async fn write_all_and_flush(stream: &mut Stream, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}
