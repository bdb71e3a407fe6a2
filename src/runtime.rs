//! The engine thread: one smol `Executor` on a background thread, `Command`s in over a
//! channel, `Event`s out over a bounded one. The GUI sends commands without waiting and drains
//! events when told there are some; it never waits on the network.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use smol::Executor;

use crate::net::client::{ClientConfig, ClientEvent, Session};
use crate::net::h1::ResponseHead;
use crate::net::http::cookies::CookieJar;
use crate::net::http::proxy::ProxySettings;
use crate::net::http::{
    BodyPart, HttpOptions, HttpRequest, HttpResponse, HttpSession, RequestBody, Watcher,
};
use crate::net::server::{ClientId, ReplyMode, Server, ServerConfig, ServerEvent};
use crate::net::{EventSink, NetError};

/// How many events may wait for the GUI before the engine slows down to its pace. With data
/// chunks of at most 16 KiB this also caps the bytes waiting at a few MiB.
pub const EVENT_QUEUE: usize = 256;

#[derive(Debug)]
pub enum Command {
    Server(ServerCommand),
    Client(ClientCommand),
    Http(HttpCommand),
}

#[derive(Debug)]
pub enum HttpCommand {
    /// Sends the request (cancelling one under way) on the HTTP tab's kept-alive session.
    Send(Box<HttpSend>),
    Cancel,
    /// Forgets every cookie the tab's session holds.
    ClearCookies,
}

#[derive(Debug)]
pub struct HttpSend {
    pub request: HttpRequest,
    pub settings: HttpSettings,
    /// The body is this file's content instead of the request's own.
    pub body_file: Option<PathBuf>,
    /// The whole body is also written here as it arrives.
    pub save_to: Option<PathBuf>,
}

/// The HTTP tab's choices that shape its session; a change starts a new session (with the
/// same cookies).
#[derive(Clone, Debug, PartialEq)]
pub struct HttpSettings {
    /// Accept any certificate (the user's explicit choice).
    pub insecure: bool,
    pub timeout: Duration,
    pub max_redirects: usize,
    pub compressed: bool,
    pub proxy: ProxySettings,
}

impl HttpSettings {
    fn options(&self) -> HttpOptions {
        let mut options = HttpOptions {
            timeout: self.timeout,
            max_redirects: self.max_redirects,
            compressed: self.compressed,
            proxy: self.proxy.clone(),
            ..HttpOptions::default()
        };
        options.connect_timeout = options.connect_timeout.min(self.timeout);
        options.tls.accept_invalid_certificates = self.insecure;
        options
    }
}

#[derive(Debug)]
pub enum HttpEvent {
    /// Body bytes received so far.
    Progress(u64),
    Done(Box<Result<HttpResponse, NetError>>),
    Cancelled,
}

/// Progress is reported at most once per this many body bytes.
const PROGRESS_STEP: u64 = 256 * 1024;

#[derive(Debug)]
pub enum ClientCommand {
    /// Closes any open connection, then connects with this configuration.
    Connect(ClientConfig),
    Disconnect,
    /// Closes any open connection, then connects again with the last configuration.
    Reconnect,
    Send(Vec<u8>),
}

#[derive(Debug)]
pub enum ServerCommand {
    Start(ServerConfig),
    Stop,
    Send { id: ClientId, bytes: Vec<u8> },
    Broadcast(Vec<u8>),
    Kick(ClientId),
    SetMode(ReplyMode),
}

#[derive(Debug)]
pub enum Event {
    Server(ServerEvent),
    /// Start failed; nothing was started.
    ServerFailed(NetError),
    Client(ClientEvent),
    Http(HttpEvent),
}

impl From<HttpEvent> for Event {
    fn from(event: HttpEvent) -> Self {
        Event::Http(event)
    }
}

impl From<ServerEvent> for Event {
    fn from(event: ServerEvent) -> Self {
        Event::Server(event)
    }
}

impl From<ClientEvent> for Event {
    fn from(event: ClientEvent) -> Self {
        Event::Client(event)
    }
}

pub struct Engine {
    commands: async_channel::Sender<Command>,
    events: async_channel::Receiver<Event>,
    /// Set by the engine when it sends an event, cleared by `drain`: the consumer is woken
    /// once per batch, not once per event.
    pending: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Engine {
    /// Starts the engine thread. `wake` runs on that thread whenever events arrive while
    /// none were pending; it should make the consumer call [`Engine::drain`] soon.
    pub fn start(wake: impl Fn() + Send + Sync + 'static) -> std::io::Result<Engine> {
        let (commands, command_queue) = async_channel::unbounded();
        let (event_sender, events) = async_channel::bounded(EVENT_QUEUE);
        let pending = Arc::new(AtomicBool::new(false));
        let notify = {
            let pending = pending.clone();
            Arc::new(move || {
                if !pending.swap(true, Ordering::AcqRel) {
                    wake();
                }
            })
        };
        let sink = EventSink::with_notify(event_sender, notify);
        let thread = std::thread::Builder::new()
            .name("netdeck-engine".into())
            .spawn(move || {
                let executor = Arc::new(Executor::new());
                smol::block_on(executor.run(serve_commands(&executor, command_queue, sink)));
            })?;
        Ok(Engine {
            commands,
            events,
            pending,
            thread: Some(thread),
        })
    }

    /// Queues a command; never blocks.
    pub fn send(&self, command: Command) {
        // Unbounded: only fails once the engine thread is gone, and then there is no one to tell.
        let _ = self.commands.try_send(command);
    }

    /// Takes up to `max` waiting events. Fewer than `max` means the queue is empty; the next
    /// event will call `wake` again.
    pub fn drain(&self, max: usize) -> Vec<Event> {
        self.pending.store(false, Ordering::Release);
        std::iter::from_fn(|| self.events.try_recv().ok())
            .take(max)
            .collect()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.commands.close();
        // Stop the engine even if it is waiting for room in a full event queue.
        self.events.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve_commands(
    executor: &Arc<Executor<'static>>,
    commands: async_channel::Receiver<Command>,
    events: EventSink<Event>,
) {
    let mut server: Option<Server<Event>> = None;
    let mut client = ClientSlot::default();
    let mut http = HttpSlot::default();
    while let Ok(command) = commands.recv().await {
        match command {
            Command::Server(command) => {
                serve_server_command(command, &mut server, executor, &events).await
            }
            Command::Client(command) => client.handle(command, executor, &events).await,
            Command::Http(command) => http.handle(command, executor, &events).await,
        }
    }
    if let Some(server) = server.take() {
        server.stop().await;
    }
    client.close().await;
}

/// The Client tab's one connection, and what it was opened with (for Reconnect).
#[derive(Default)]
struct ClientSlot {
    session: Option<Session<Event>>,
    last_config: Option<ClientConfig>,
}

impl ClientSlot {
    async fn handle(
        &mut self,
        command: ClientCommand,
        executor: &Executor<'static>,
        events: &EventSink<Event>,
    ) {
        match command {
            ClientCommand::Connect(config) => {
                self.close().await;
                self.last_config = Some(config.clone());
                self.session = Some(Session::open(config, executor, events.clone()));
            }
            ClientCommand::Reconnect => {
                self.close().await;
                match self.last_config.clone() {
                    Some(config) => {
                        self.session = Some(Session::open(config, executor, events.clone()))
                    }
                    None => {
                        let nothing =
                            NetError::invalid("host", "nothing to reconnect to: connect first");
                        events.emit(ClientEvent::Failed(nothing)).await;
                    }
                }
            }
            ClientCommand::Disconnect => self.close().await,
            ClientCommand::Send(bytes) => {
                if let Some(session) = &self.session {
                    session.send(bytes);
                }
            }
        }
    }

    async fn close(&mut self) {
        if let Some(session) = self.session.take() {
            session.close().await;
        }
    }
}

async fn serve_server_command(
    command: ServerCommand,
    server: &mut Option<Server<Event>>,
    executor: &Arc<Executor<'static>>,
    events: &EventSink<Event>,
) {
    match command {
        ServerCommand::Start(config) => {
            if let Some(running) = server.take() {
                running.stop().await;
            }
            match Server::start(config, executor, events.clone()).await {
                Ok(started) => *server = Some(started),
                Err(error) => events.emit(Event::ServerFailed(error)).await,
            }
        }
        ServerCommand::Stop => {
            if let Some(running) = server.take() {
                running.stop().await;
            }
        }
        ServerCommand::Send { id, bytes } => {
            if let Some(running) = server {
                running.send(id, bytes);
            }
        }
        ServerCommand::Broadcast(bytes) => {
            if let Some(running) = server {
                running.broadcast(&bytes);
            }
        }
        ServerCommand::Kick(id) => {
            if let Some(running) = server {
                running.kick(id).await;
            }
        }
        ServerCommand::SetMode(mode) => {
            if let Some(running) = server {
                running.set_mode(mode);
            }
        }
    }
}

/// The HTTP tab's session (kept alive between requests, made anew when the certificate
/// choice changes) and the request under way.
#[derive(Default)]
struct HttpSlot {
    session: Option<(HttpSettings, Arc<HttpSession>)>,
    /// Kept across sessions, until the user clears them.
    cookies: Arc<std::sync::Mutex<CookieJar>>,
    request: Option<smol::Task<()>>,
}

impl HttpSlot {
    async fn handle(
        &mut self,
        command: HttpCommand,
        executor: &Executor<'static>,
        events: &EventSink<Event>,
    ) {
        if let Some(request) = self.request.take()
            && request.cancel().await.is_none()
        {
            events.emit(HttpEvent::Cancelled).await;
        }
        let HttpSend {
            mut request,
            settings,
            body_file,
            save_to,
        } = match command {
            HttpCommand::Send(send) => *send,
            HttpCommand::Cancel => return,
            HttpCommand::ClearCookies => {
                if let Ok(mut jar) = self.cookies.lock() {
                    jar.clear();
                }
                return;
            }
        };
        if self
            .session
            .as_ref()
            .is_none_or(|(current, _)| *current != settings)
        {
            match HttpSession::with_cookies(settings.options(), self.cookies.clone()) {
                Ok(session) => self.session = Some((settings, Arc::new(session))),
                Err(error) => return events.emit(HttpEvent::Done(Box::new(Err(error)))).await,
            }
        }
        let session = self.session.as_ref().expect("made above").1.clone();
        let events = events.clone();
        self.request = Some(executor.spawn(async move {
            let result = async {
                if let Some(path) = body_file {
                    request.body = RequestBody(vec![BodyPart::File(path)]);
                }
                let watcher = Arc::new(BodyWatcher {
                    events: events.clone(),
                    reported: AtomicU64::new(0),
                    save: save_to.map(|path| SavedBody {
                        path,
                        file: std::sync::Mutex::new(None),
                    }),
                });
                session.send(&request, Some(watcher)).await
            }
            .await;
            events.emit(HttpEvent::Done(Box::new(result))).await;
        }));
    }
}

/// The body saved to a file as it arrives; the file is made when the last answer's head is
/// in.
struct SavedBody {
    path: PathBuf,
    file: std::sync::Mutex<Option<std::fs::File>>,
}

/// Tells the window how much of a body has arrived, at most once per `PROGRESS_STEP`, without
/// waiting: a slow window never slows a download. Saves the body too, when asked.
struct BodyWatcher {
    events: EventSink<Event>,
    reported: AtomicU64,
    save: Option<SavedBody>,
}

impl Watcher for BodyWatcher {
    fn answer_head(&self, _head: &ResponseHead, last: bool) -> Result<(), NetError> {
        if let (true, Some(save)) = (last, &self.save) {
            let file = std::fs::File::create(&save.path).map_err(|source| save.failed(source))?;
            *save.file.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
        }
        Ok(())
    }

    fn body(&self, bytes: &[u8], total: u64) -> Result<(), NetError> {
        if let Some(save) = &self.save
            && let Some(file) = save.file.lock().unwrap_or_else(|p| p.into_inner()).as_mut()
        {
            use std::io::Write;
            file.write_all(bytes)
                .map_err(|source| save.failed(source))?;
        }
        if total >= self.reported.load(Ordering::Relaxed) + PROGRESS_STEP {
            self.reported.store(total, Ordering::Relaxed);
            self.events.try_emit(HttpEvent::Progress(total));
        }
        Ok(())
    }
}

impl SavedBody {
    fn failed(&self, source: std::io::Error) -> NetError {
        NetError::WriteFailed {
            target: self.path.display().to_string(),
            source,
        }
    }
}
