//! The TCP server: bind, accept, one task per client, send / broadcast / kick, and the
//! manual, echo and auto-reply modes.
//!
//! Each client task reports its own end (peer closed, reset, error). When the server ends a
//! client (kick, stop), it removes the client from the table first and cancels the task, then
//! reports the end itself; whoever removes the table entry reports, so every client's end is
//! reported exactly once.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use async_net::{TcpListener, TcpStream};
use futures_lite::{AsyncReadExt, AsyncWriteExt, FutureExt};
use smol::lock::Semaphore;
use smol::{Async, Executor, Task, Timer};

use super::client::{Stream, write_all_and_flush};
use super::http_echo::HttpEcho;
use super::tls_server::{
    ClientTls, RecordWatch, ServerIdentity, ServerTlsStream, TlsServer, client_tls,
};
use super::{Counters, EventSink, NetError, SessionId};

/// Bytes read per system call while a client is sending; a plain client holds a buffer only
/// while its socket has data, so idle clients cost no buffer. Bulk transfers (discarded, or
/// written to a [`ReceivedSink`]) read big; when every chunk becomes an event, chunks are
/// smaller so the bounded event queue also bounds the bytes waiting in it.
const BULK_READ_BUFFER: usize = 128 * 1024;
const REPORTED_READ_BUFFER: usize = 16 * 1024;
/// Read buffers kept for the next client that has data, so a busy stream does not allocate
/// (and zero) a buffer every time its socket runs dry for a moment.
const SPARE_READ_BUFFERS: usize = 4;

pub const DEFAULT_PORT: u16 = 1234;
pub const DEFAULT_HTTP_HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// A TLS client has this long from connecting to finishing its handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Chunks waiting to go to one client. Sending by hand never comes near it; a stream from
/// standard input waits here for a slow client instead of filling memory.
const OUTGOING_QUEUE: usize = 64;

pub type ClientId = u64;

/// What the server does with what it receives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ReplyMode {
    /// Nothing: the user sends by hand.
    #[default]
    Manual,
    /// Every received chunk goes back to its sender.
    Echo,
    /// These bytes go back for every received chunk.
    AutoReply(Vec<u8>),
    /// Every HTTP request is answered with `200` and a JSON description of it.
    Http,
}

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub bind: IpAddr,
    /// 0 picks a free port; `Listening` reports the one chosen.
    pub port: u16,
    pub mode: ReplyMode,
    /// Clients over this many are closed at once.
    pub max_clients: Option<usize>,
    /// Whether `Received` and `Sent` events are sent at all. Off for bulk transfers, where only
    /// the byte counts in `Disconnected` matter.
    pub report_data: bool,
    /// In HTTP mode, a client that has not sent a complete request head this long after
    /// connecting (or after its last answer) is closed.
    pub http_head_timeout: Duration,
    /// Speak TLS to every client, with this certificate.
    pub tls: Option<TlsServer>,
    /// Something is streamed to the clients (standard input) until [`Broadcaster::finish_sending`]:
    /// a client that closes its sending side still gets all of it.
    pub streams_to_clients: bool,
    /// Where the bytes received go, written straight from the read buffer, in place of
    /// `Received` events.
    pub sink: Option<Arc<dyn ReceivedSink>>,
}

/// Takes the bytes a server receives as they are read (`serve --raw`, `serve -o FILE`): no
/// event, no copy, and the client is read again only once its bytes are taken, so a slow
/// output slows the senders rather than filling memory.
pub trait ReceivedSink: Send + Sync + fmt::Debug {
    /// Takes one read's bytes whole, so several clients' bytes are never interleaved within a
    /// read. An error ends that client with [`DisconnectReason::NotWritten`].
    fn write(&self, bytes: &[u8]) -> io::Result<()>;
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            mode: ReplyMode::Manual,
            max_clients: None,
            report_data: true,
            http_head_timeout: DEFAULT_HTTP_HEAD_TIMEOUT,
            tls: None,
            streams_to_clients: false,
            sink: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    ClosedByPeer,
    ResetByPeer,
    Failed(String),
    Kicked,
    ServerStopped,
    /// HTTP mode answered a request that asked to close (or could not be read).
    ClosedAfterAnswer,
    /// HTTP mode waited too long for a request head.
    HeadTimeout(Duration),
    /// HTTP mode closed a kept-alive connection that asked nothing more for this long after
    /// its answers: the normal end of keep-alive.
    IdleAfterAnswers(Duration),
    /// A TLS server's client whose handshake did not finish.
    TlsFailed(String),
    /// What the client sent could not be written to the server's [`ReceivedSink`].
    NotWritten(String),
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::ClosedByPeer => f.write_str("closed by peer"),
            DisconnectReason::ResetByPeer => f.write_str("reset by peer"),
            DisconnectReason::Failed(error) => write!(f, "error: {error}"),
            DisconnectReason::Kicked => f.write_str("kicked"),
            DisconnectReason::ServerStopped => f.write_str("server stopped"),
            DisconnectReason::ClosedAfterAnswer => f.write_str("closed after the answer"),
            DisconnectReason::HeadTimeout(limit) => {
                write!(f, "no complete request within {} s", limit.as_secs_f64())
            }
            DisconnectReason::IdleAfterAnswers(limit) => write!(
                f,
                "kept alive {} s after its answers, then closed",
                limit.as_secs_f64()
            ),
            DisconnectReason::TlsFailed(detail) => write!(f, "TLS handshake failed: {detail}"),
            DisconnectReason::NotWritten(error) => {
                write!(f, "what it sent could not be written out: {error}")
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// The socket accepts connections; a TLS server says which certificate it shows.
    Listening {
        addr: SocketAddr,
        tls: Option<ServerIdentity>,
    },
    Connected {
        id: ClientId,
        peer: SocketAddr,
        since: SystemTime,
    },
    /// A TLS server's client finished its handshake.
    Secured {
        id: ClientId,
        peer: SocketAddr,
        tls: ClientTls,
    },
    /// A plain server's client began with a TLS handshake: it expects a TLS server.
    TlsOnPlainPort { id: ClientId, peer: SocketAddr },
    Received {
        id: ClientId,
        peer: SocketAddr,
        bytes: Vec<u8>,
    },
    Sent {
        id: ClientId,
        peer: SocketAddr,
        bytes: Vec<u8>,
    },
    Disconnected {
        id: ClientId,
        peer: SocketAddr,
        reason: DisconnectReason,
        bytes_in: u64,
        bytes_out: u64,
    },
    /// A client over the limit, closed at once.
    Refused {
        peer: SocketAddr,
        max_clients: usize,
    },
    /// Accepting failed, e.g. the process ran out of file descriptors; the server goes on.
    AcceptFailed { error: String },
    /// The listening socket is closed and every client is gone.
    Stopped,
}

/// For a consumer of one server's events, which needs no stamp.
impl From<(SessionId, ServerEvent)> for ServerEvent {
    fn from((_, event): (SessionId, ServerEvent)) -> Self {
        event
    }
}

/// What waits to go to one client.
enum Outgoing {
    Bytes(Vec<u8>),
    /// Nothing more will be sent: half-close, and keep reading.
    Finish,
}

/// The sending end of a client's queue of [`OUTGOING_QUEUE`] chunks. The queue itself is
/// unbounded, since a bounded one takes memory for all its places at once even for a client
/// that is never sent anything; the semaphore's permits are the free places.
#[derive(Clone)]
struct Outbox {
    queue: async_channel::Sender<Outgoing>,
    room: Arc<Semaphore>,
}

/// The client task's end of its [`Outbox`].
struct Inbox {
    queue: async_channel::Receiver<Outgoing>,
    room: Arc<Semaphore>,
}

fn outbox() -> (Outbox, Inbox) {
    let (sender, receiver) = async_channel::unbounded();
    let room = Arc::new(Semaphore::new(OUTGOING_QUEUE));
    (
        Outbox {
            queue: sender,
            room: room.clone(),
        },
        Inbox {
            queue: receiver,
            room,
        },
    )
}

impl Outbox {
    /// Queues without waiting; false if the client has gone or its queue is full.
    fn try_send(&self, outgoing: Outgoing) -> bool {
        let Some(place) = self.room.try_acquire() else {
            return false;
        };
        place.forget();
        self.queue.try_send(outgoing).is_ok()
    }

    /// Queues once there is room; false if the client has gone.
    async fn send(&self, outgoing: Outgoing) -> bool {
        self.room.acquire().await.forget();
        self.queue.send(outgoing).await.is_ok()
    }
}

impl Inbox {
    async fn recv(&self) -> Option<Outgoing> {
        let outgoing = self.queue.recv().await.ok()?;
        self.room.add_permits(1);
        Some(outgoing)
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        // A sender waiting for room wakes to find the client gone.
        self.queue.close();
        self.room.add_permits(OUTGOING_QUEUE);
    }
}

struct Client {
    peer: SocketAddr,
    outgoing: Outbox,
    counters: Arc<Counters>,
    task: Task<()>,
}

/// Read buffers that no client is using, for the next client that has data.
struct SpareBuffers {
    size: usize,
    spares: Mutex<Vec<Box<[u8]>>>,
}

impl SpareBuffers {
    fn take(&self) -> Box<[u8]> {
        self.lock()
            .pop()
            .unwrap_or_else(|| vec![0; self.size].into_boxed_slice())
    }

    fn give_back(&self, buffer: Box<[u8]>) {
        let mut spares = self.lock();
        if spares.len() < SPARE_READ_BUFFERS {
            spares.push(buffer);
        }
    }

    fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Box<[u8]>>> {
        self.spares
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct Shared<E> {
    clients: Mutex<HashMap<ClientId, Client>>,
    mode: Mutex<ReplyMode>,
    report_data: bool,
    sink: Option<Arc<dyn ReceivedSink>>,
    read_buffers: SpareBuffers,
    http_head_timeout: Duration,
    tls: Option<TlsServer>,
    /// The stream to the clients goes on (see `ServerConfig::streams_to_clients`).
    streaming: AtomicBool,
    /// The stream has ended: a client that comes now is half-closed at once.
    stream_finished: AtomicBool,
    events: EventSink<E>,
}

impl<E> Shared<E> {
    fn clients(&self) -> MutexGuard<'_, HashMap<ClientId, Client>> {
        self.clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn mode(&self) -> ReplyMode {
        self.mode
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn outgoing(&self) -> Vec<Outbox> {
        self.clients()
            .values()
            .map(|c| c.outgoing.clone())
            .collect()
    }

    async fn report_end(
        &self,
        id: ClientId,
        peer: SocketAddr,
        counters: &Counters,
        reason: DisconnectReason,
    ) where
        E: From<(SessionId, ServerEvent)>,
    {
        self.events
            .emit(ServerEvent::Disconnected {
                id,
                peer,
                reason,
                bytes_in: counters.bytes_in.load(Ordering::Relaxed),
                bytes_out: counters.bytes_out.load(Ordering::Relaxed),
            })
            .await;
    }
}

/// A running server. Dropping it closes the socket and every client without reporting;
/// [`Server::stop`] reports each end.
pub struct Server<E> {
    shared: Arc<Shared<E>>,
    accept_task: Option<Task<()>>,
    local_addr: SocketAddr,
}

impl<E: From<(SessionId, ServerEvent)> + Send + 'static> Server<E> {
    /// Binds and starts accepting. Bind errors come back here, classified; once this returns
    /// `Ok`, `Listening` has been sent and connections are accepted.
    pub async fn start(
        config: ServerConfig,
        executor: &Arc<Executor<'static>>,
        events: EventSink<E>,
    ) -> Result<Self, NetError> {
        let requested = SocketAddr::new(config.bind, config.port);
        let listener = TcpListener::bind(requested)
            .await
            .map_err(|error| NetError::from_bind(requested, error))?;
        lengthen_accept_queue(&listener);
        let local_addr = listener
            .local_addr()
            .map_err(|error| NetError::from_bind(requested, error))?;
        let shared = Arc::new(Shared {
            clients: Mutex::new(HashMap::new()),
            mode: Mutex::new(config.mode),
            report_data: config.report_data,
            read_buffers: SpareBuffers {
                // Only events need small reads.
                size: if config.report_data && config.sink.is_none() {
                    REPORTED_READ_BUFFER
                } else {
                    BULK_READ_BUFFER
                },
                spares: Mutex::new(Vec::new()),
            },
            sink: config.sink,
            http_head_timeout: config.http_head_timeout,
            tls: config.tls,
            streaming: AtomicBool::new(config.streams_to_clients),
            stream_finished: AtomicBool::new(false),
            events,
        });
        shared
            .events
            .emit(ServerEvent::Listening {
                addr: local_addr,
                tls: shared.tls.as_ref().map(|tls| tls.identity.clone()),
            })
            .await;
        let accept_task = executor.spawn(accept_loop(
            listener,
            shared.clone(),
            executor.clone(),
            config.max_clients,
        ));
        Ok(Server {
            shared,
            accept_task: Some(accept_task),
            local_addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn client_count(&self) -> usize {
        self.shared.clients().len()
    }

    pub fn set_mode(&self, mode: ReplyMode) {
        *self
            .shared
            .mode
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = mode;
    }

    /// Queues bytes for one client; false if it is not connected (or has fallen far behind).
    pub fn send(&self, id: ClientId, bytes: Vec<u8>) -> bool {
        let outgoing = self.shared.clients().get(&id).map(|c| c.outgoing.clone());
        outgoing.is_some_and(|outgoing| outgoing.try_send(Outgoing::Bytes(bytes)))
    }

    /// Queues bytes for every client; returns how many.
    pub fn broadcast(&self, bytes: &[u8]) -> usize {
        self.shared
            .outgoing()
            .iter()
            .filter(|outgoing| outgoing.try_send(Outgoing::Bytes(bytes.to_vec())))
            .count()
    }

    /// A handle that streams to every client from another task (standard input).
    pub fn broadcaster(&self) -> Broadcaster<E> {
        Broadcaster(self.shared.clone())
    }

    /// Closes one client; false if it is not connected.
    pub async fn kick(&self, id: ClientId) -> bool {
        let Some(client) = self.shared.clients().remove(&id) else {
            return false;
        };
        end_client(&self.shared, id, client, DisconnectReason::Kicked).await;
        if self.shared.clients().is_empty() {
            release_free_memory(&self.shared.read_buffers);
        }
        true
    }

    /// Closes the listening socket and every client, then reports `Stopped`. When this
    /// returns, the port is free.
    pub async fn stop(mut self) {
        if let Some(accept_task) = self.accept_task.take() {
            accept_task.cancel().await;
        }
        let clients: Vec<_> = self.shared.clients().drain().collect();
        for (id, client) in clients {
            end_client(&self.shared, id, client, DisconnectReason::ServerStopped).await;
        }
        release_free_memory(&self.shared.read_buffers);
        self.shared.events.emit(ServerEvent::Stopped).await;
    }
}

/// Streams bytes to a server's clients from a task of its own; see [`Server::broadcaster`].
pub struct Broadcaster<E>(Arc<Shared<E>>);

impl<E> Broadcaster<E> {
    /// Queues bytes for every client, waiting while a client's queue is full, so a long
    /// stream goes at the pace of the slowest client; returns how many got it.
    pub async fn broadcast_waiting(&self, bytes: &[u8]) -> usize {
        let mut reached = 0;
        for outgoing in self.0.outgoing() {
            if outgoing.send(Outgoing::Bytes(bytes.to_vec())).await {
                reached += 1;
            }
        }
        reached
    }

    /// Tells every client nothing more will be sent (a half-close after what is queued);
    /// clients can still send and are still read.
    pub async fn finish_sending(&self) {
        self.0.streaming.store(false, Ordering::Relaxed);
        self.0.stream_finished.store(true, Ordering::Relaxed);
        for outgoing in self.0.outgoing() {
            outgoing.send(Outgoing::Finish).await;
        }
    }
}

impl<E> Drop for Server<E> {
    fn drop(&mut self) {
        // Client tasks hold the shared table that holds them: break the cycle so dropping the
        // server really closes every socket.
        let clients: Vec<_> = self
            .shared
            .clients
            .lock()
            .map(|mut clients| clients.drain().collect())
            .unwrap_or_default();
        drop(clients);
    }
}

async fn end_client<E: From<(SessionId, ServerEvent)>>(
    shared: &Shared<E>,
    id: ClientId,
    client: Client,
    reason: DisconnectReason,
) {
    let Client {
        peer,
        counters,
        task,
        ..
    } = client;
    task.cancel().await;
    shared.report_end(id, peer, &counters, reason).await;
}

/// Connections the kernel has completed wait in the listen queue until they are accepted:
/// while the server is busy (`serve` waiting for its output to be read), hundreds of clients
/// that reconnect overflow std's 128, and the kernel then drops handshakes and resets some
/// connections whose clients have already sent and closed. Listening again only changes the
/// queue's length (the kernel caps it at net.core.somaxconn).
fn lengthen_accept_queue(listener: &TcpListener) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        const ACCEPT_QUEUE: libc::c_int = 4096;
        // SAFETY: listen on a socket we own, which already listens.
        unsafe { libc::listen(listener.as_raw_fd(), ACCEPT_QUEUE) };
    }
}

/// Gives the memory the clients freed back to the system, spare read buffers too. glibc keeps
/// freed memory for reuse, so after a burst (in HTTP mode each upload holds up to 64 KiB of
/// body) a server with no client left would stay at the burst's peak; the moment the last
/// client leaves is a cheap one to return it.
fn release_free_memory(read_buffers: &SpareBuffers) {
    read_buffers.clear();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the system; nothing in use moves.
    unsafe {
        libc::malloc_trim(0);
    }
}

async fn accept_loop<E: From<(SessionId, ServerEvent)> + Send + 'static>(
    listener: TcpListener,
    shared: Arc<Shared<E>>,
    executor: Arc<Executor<'static>>,
    max_clients: Option<usize>,
) {
    let mut next_id: ClientId = 1;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if let Some(max_clients) =
                    admit(&shared, &executor, next_id, stream, peer, max_clients)
                {
                    shared
                        .events
                        .emit(ServerEvent::Refused { peer, max_clients })
                        .await;
                } else {
                    next_id += 1;
                }
            }
            Err(error) => {
                let out_of_descriptors =
                    matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
                shared
                    .events
                    .emit(ServerEvent::AcceptFailed {
                        error: error.to_string(),
                    })
                    .await;
                if out_of_descriptors {
                    // The pending connection stays queued; retrying at once would spin.
                    Timer::after(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// Starts a task for the new client, or closes it at once if the server is full (and returns
/// the limit).
fn admit<E: From<(SessionId, ServerEvent)> + Send + 'static>(
    shared: &Arc<Shared<E>>,
    executor: &Executor<'static>,
    id: ClientId,
    stream: TcpStream,
    peer: SocketAddr,
    max_clients: Option<usize>,
) -> Option<usize> {
    let mut clients = shared.clients();
    if let Some(max_clients) = max_clients.filter(|&max| clients.len() >= max) {
        return Some(max_clients);
    }
    let (outgoing, inbox) = outbox();
    if shared.stream_finished.load(Ordering::Relaxed) {
        // Came after the stream ended: there is nothing more to send it.
        outgoing.try_send(Outgoing::Finish);
    }
    let counters = Arc::new(Counters::default());
    // The table stays locked until the task is in it, so a client that ends at once still
    // finds its own entry.
    let task = executor.spawn(serve_client(
        shared.clone(),
        id,
        peer,
        stream,
        inbox,
        counters.clone(),
    ));
    clients.insert(
        id,
        Client {
            peer,
            outgoing,
            counters,
            task,
        },
    );
    None
}

async fn serve_client<E: From<(SessionId, ServerEvent)>>(
    shared: Arc<Shared<E>>,
    id: ClientId,
    peer: SocketAddr,
    stream: TcpStream,
    inbox: Inbox,
    counters: Arc<Counters>,
) {
    shared
        .events
        .emit(ServerEvent::Connected {
            id,
            peer,
            since: SystemTime::now(),
        })
        .await;
    let reason = match &shared.tls {
        None => {
            let plain = stream.clone().into();
            let stream = Stream::Plain(stream);
            pump(&shared, id, peer, stream, Some(plain), &inbox, &counters).await
        }
        // Boxed: every client's task is as large as its largest state, and only a TLS client
        // needs the handshake's.
        Some(tls) => {
            match Box::pin(accept_tls(tls, stream, shared.mode() == ReplyMode::Http)).await {
                Ok((stream, tls)) => {
                    shared
                        .events
                        .emit(ServerEvent::Secured { id, peer, tls })
                        .await;
                    pump(&shared, id, peer, stream, None, &inbox, &counters).await
                }
                Err(detail) => DisconnectReason::TlsFailed(detail),
            }
        }
    };
    let (entry, no_clients_left) = {
        let mut clients = shared.clients();
        (clients.remove(&id), clients.is_empty())
    };
    if let Some(client) = entry {
        // This is our own handle: dropping it would cancel us before the report is out.
        client.task.detach();
        if no_clients_left {
            // Before the report: whoever sees the last end sees the memory given back.
            release_free_memory(&shared.read_buffers);
        }
        shared.report_end(id, peer, &counters, reason).await;
    }
}

/// The TLS handshake, in the client's own task and within [`TLS_HANDSHAKE_TIMEOUT`]. A client
/// that speaks plain TCP is told so in HTTP mode (as an HTTP answer) and named in the reason.
async fn accept_tls(
    tls: &TlsServer,
    stream: TcpStream,
    http: bool,
) -> Result<(Stream, ClientTls), String> {
    let deadline = Instant::now() + TLS_HANDSHAKE_TIMEOUT;
    let too_late = || format!("no handshake within {} s", TLS_HANDSHAKE_TIMEOUT.as_secs());
    let mut first = [0u8; 24];
    let peeked = async { Some(stream.peek(&mut first).await) }
        .or(async {
            Timer::at(deadline).await;
            None
        })
        .await;
    let hello = match peeked {
        None => return Err(too_late()),
        Some(Err(error)) => return Err(error.to_string()),
        Some(Ok(0)) => return Err("the client closed before its handshake".into()),
        // A TLS handshake record.
        Some(Ok(n)) if first[0] == super::tls::HANDSHAKE_RECORD => &first[..n],
        Some(Ok(n)) => {
            // As a TLS server answers bytes it cannot read: an HTTP client gets words, any
            // other a fatal unexpected_message alert.
            let answer = if http {
                PLAIN_HTTP_ON_TLS_PORT
            } else {
                UNEXPECTED_MESSAGE_ALERT
            };
            let mut stream = stream;
            let _ = stream.write_all(answer).await;
            // Half-close, then take what the client sent, so that closing is an orderly FIN
            // rather than a reset that can lose the answer.
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let drained = async {
                let mut rest = [0u8; 4096];
                while matches!(stream.read(&mut rest).await, Ok(n) if n > 0) {}
            };
            drained
                .or(async {
                    Timer::after(PLAIN_CLIENT_DRAIN).await;
                })
                .await;
            return Err(not_a_handshake(&first[..n]));
        }
    };
    let only_old_versions = super::tls_server::only_old_versions(hello);
    let started = Instant::now();
    let accepted = async {
        Some(
            futures_rustls::TlsAcceptor::from(tls.config.clone())
                .accept(RecordWatch::new(stream))
                .await,
        )
    }
    .or(async {
        Timer::at(deadline).await;
        None
    })
    .await;
    match accepted {
        None => Err(too_late()),
        Some(Ok(mut stream)) => {
            stream.get_mut().0.established = true;
            let info = client_tls(stream.get_ref().1, started.elapsed());
            Ok((Stream::TlsServer(Box::new(ServerTlsStream(stream))), info))
        }
        Some(Err(error)) => Err(match only_old_versions {
            Some(newest) => format!(
                "the client offers only {newest} and older; this server speaks TLS 1.2 and 1.3"
            ),
            None => super::tls::client_handshake_problem(&error),
        }),
    }
}

/// Why a client's first bytes are not a TLS handshake, in words.
fn not_a_handshake(first: &[u8]) -> String {
    if let Some((level, description)) = super::tls::plain_alert(first) {
        let level = if level == 2 { "fatal" } else { "warning" };
        return format!(
            "the client sent a TLS alert ({level}, {description:?}) instead of a handshake"
        );
    }
    if super::tls_server::is_sslv2_hello(first) {
        return "the client began with an SSLv2-format hello, which only clients of SSL 2.0 send; this server speaks TLS 1.2 and 1.3".into();
    }
    format!(
        "the client speaks plain TCP, not TLS (it sent \"{}\")",
        crate::payload::display_text(first, crate::payload::Lines::Escape)
    )
}

/// How long a plain client on the TLS port may take to close after its answer.
const PLAIN_CLIENT_DRAIN: Duration = Duration::from_secs(1);

/// What an HTTP client that forgot `https` gets from the TLS port, as nginx answers it.
const PLAIN_HTTP_ON_TLS_PORT: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 45\r\nConnection: close\r\n\r\nThis port speaks HTTPS: use an https:// URL.\n";

/// A TLS 1.2 record: alert, fatal, unexpected_message.
const UNEXPECTED_MESSAGE_ALERT: &[u8] = &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a];

enum Step {
    Outgoing(Option<Outgoing>),
    Read(io::Result<usize>),
    HeadTimeout,
}

/// Moves bytes both ways until the connection ends, and says why it ended. `plain` is the
/// socket of a plain client, read directly; a TLS client is read through its `stream`.
async fn pump<E: From<(SessionId, ServerEvent)>>(
    shared: &Shared<E>,
    id: ClientId,
    peer: SocketAddr,
    mut stream: Stream,
    plain: Option<Arc<Async<std::net::TcpStream>>>,
    inbox: &Inbox,
    counters: &Counters,
) -> DisconnectReason {
    let mut buffer: Option<Box<[u8]>> = None;
    // Boxed, so that a client that is not an HTTP client does not carry its room.
    let mut http: Option<Box<HttpEcho>> = None;
    let mut waiting_for_head_since = Instant::now();
    // HTTP mode has answered a request on this connection.
    let mut answered = false;
    let mut first_read = true;
    let mut finished_sending = false;
    // The client closed its side while the stream to it goes on.
    let mut client_finished = false;
    loop {
        let mode = shared.mode();
        let head_deadline = (mode == ReplyMode::Http
            && http.as_ref().is_none_or(|http| http.awaiting_head()))
        .then(|| waiting_for_head_since + shared.http_head_timeout);
        let step = async { Step::Outgoing(inbox.recv().await) }
            .or(async {
                if client_finished {
                    return std::future::pending().await;
                }
                Step::Read(match &plain {
                    Some(socket) => read_plain(socket, &mut buffer, &shared.read_buffers).await,
                    // TLS may hold decrypted data the socket no longer shows, so a TLS client
                    // keeps its buffer.
                    None => {
                        let buffer = buffer.get_or_insert_with(|| shared.read_buffers.take());
                        stream.read(buffer).await
                    }
                })
            })
            .or(async {
                match head_deadline {
                    Some(deadline) => {
                        Timer::at(deadline).await;
                        Step::HeadTimeout
                    }
                    None => std::future::pending().await,
                }
            })
            .await;
        let mut close_after_reply = false;
        let reply = match step {
            Step::Outgoing(None) => return DisconnectReason::Kicked,
            Step::Outgoing(Some(Outgoing::Bytes(bytes))) => bytes,
            Step::Outgoing(Some(Outgoing::Finish)) => {
                if !finished_sending {
                    finished_sending = true;
                    if let Err(error) = stream.close().await {
                        return disconnect_reason(error);
                    }
                }
                if client_finished {
                    return DisconnectReason::ClosedByPeer;
                }
                continue;
            }
            Step::Read(Ok(0)) if shared.streaming.load(Ordering::Relaxed) && !finished_sending => {
                client_finished = true;
                continue;
            }
            Step::Read(Ok(0)) => return DisconnectReason::ClosedByPeer,
            Step::Read(Err(error)) => return disconnect_reason(error),
            Step::HeadTimeout if answered && http.as_ref().is_some_and(|http| http.idle()) => {
                return DisconnectReason::IdleAfterAnswers(shared.http_head_timeout);
            }
            Step::HeadTimeout => return DisconnectReason::HeadTimeout(shared.http_head_timeout),
            Step::Read(Ok(n)) => {
                counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                let received = &buffer.as_ref().expect("a read fills the buffer")[..n];
                if first_read
                    && plain.is_some()
                    && super::tls::begins_record(received, &[super::tls::HANDSHAKE_RECORD])
                {
                    shared
                        .events
                        .emit(ServerEvent::TlsOnPlainPort { id, peer })
                        .await;
                }
                first_read = false;
                if let Some(sink) = &shared.sink {
                    if let Err(error) = sink.write(received) {
                        return DisconnectReason::NotWritten(error.to_string());
                    }
                } else if shared.report_data {
                    shared
                        .events
                        .emit(ServerEvent::Received {
                            id,
                            peer,
                            bytes: received.to_vec(),
                        })
                        .await;
                }
                // The mode as it is now: a change made while this read waited applies to it.
                let reply = match shared.mode() {
                    ReplyMode::Manual => Vec::new(),
                    ReplyMode::Echo => received.to_vec(),
                    ReplyMode::AutoReply(reply) => reply,
                    ReplyMode::Http => {
                        let answer = http.get_or_insert_default().feed(received, peer);
                        close_after_reply = answer.close;
                        if !answer.bytes.is_empty() {
                            waiting_for_head_since = Instant::now();
                            answered = true;
                        }
                        answer.bytes
                    }
                };
                if reply.is_empty() {
                    continue;
                }
                reply
            }
        };
        if finished_sending {
            // Half-closed: nothing more can go out.
            continue;
        }
        if let Err(error) = write_all_and_flush(&mut stream, &reply).await {
            return disconnect_reason(error);
        }
        counters
            .bytes_out
            .fetch_add(reply.len() as u64, Ordering::Relaxed);
        if shared.report_data {
            shared
                .events
                .emit(ServerEvent::Sent {
                    id,
                    peer,
                    bytes: reply,
                })
                .await;
        }
        if close_after_reply {
            return DisconnectReason::ClosedAfterAnswer;
        }
    }
}

/// Reads a plain client's socket into `buffer`, which it holds only while the socket has data:
/// once a read finds nothing, the buffer goes back to the spares, and the client waits for its
/// next bytes without one.
async fn read_plain(
    socket: &Async<std::net::TcpStream>,
    buffer: &mut Option<Box<[u8]>>,
    spares: &SpareBuffers,
) -> io::Result<usize> {
    loop {
        if let Some(bytes) = buffer {
            match io::Read::read(&mut socket.get_ref(), bytes) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    spares.give_back(buffer.take().expect("held above"));
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                result => return result,
            }
        }
        socket.readable().await?;
        buffer.get_or_insert_with(|| spares.take());
    }
}

fn disconnect_reason(error: io::Error) -> DisconnectReason {
    match error.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => DisconnectReason::ResetByPeer,
        _ => DisconnectReason::Failed(error.to_string()),
    }
}
