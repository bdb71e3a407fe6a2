//! The engine thread: one smol `Executor` on a background thread, `Command`s in over a
//! channel, `Event`s out over a bounded one. Everything live is a session with an id: a
//! listening server, a client connection, an HTTP exchange. Front-ends open, act on and close
//! sessions; every event says which session it comes from. The front-end sends commands
//! without waiting and drains events when told there are some; it never waits on the network.

mod http;
mod registry;

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use smol::Executor;

pub use self::http::{HttpSettings, HttpSpec};
pub use crate::net::SessionId;
use crate::net::client::{ClientConfig, ClientEvent};
use crate::net::http::HttpEvent;
use crate::net::server::{ClientId, ReplyMode, ServerConfig, ServerEvent};
use crate::net::udp::{UdpConfig, UdpEvent};
use crate::net::{EventSink, NetError};

/// How many events may wait for the front-end before the engine slows down to its pace. With
/// data chunks of at most 16 KiB this also caps the bytes waiting at a few MiB.
pub const EVENT_QUEUE: usize = 256;

/// What a session is.
#[derive(Debug)]
pub enum SessionSpec {
    Server(ServerConfig),
    Client(ClientConfig),
    Http(Box<HttpSpec>),
    Udp(UdpConfig),
}

/// What can be done to a live session; an action that does not fit the session's kind, or a
/// session that has ended, is ignored.
#[derive(Debug)]
pub enum Action {
    /// A client connection sends these bytes.
    Send(Vec<u8>),
    /// A server sends these bytes to one of its clients.
    SendTo {
        client: ClientId,
        bytes: Vec<u8>,
    },
    /// A server sends these bytes to every client.
    Broadcast(Vec<u8>),
    /// A server closes one of its clients.
    Kick(ClientId),
    SetMode(ReplyMode),
    /// A UDP socket sends a datagram.
    SendDatagram {
        to: std::net::SocketAddr,
        bytes: Vec<u8>,
    },
}

#[derive(Debug)]
pub enum Command {
    /// Starts a session under `id` (from [`Engine::open`]).
    Open {
        id: SessionId,
        spec: SessionSpec,
    },
    Act {
        id: SessionId,
        action: Action,
    },
    /// Ends a session: a server stops, a connection closes, an exchange is cancelled. Its end
    /// is reported as usual, once.
    Close {
        id: SessionId,
    },
    /// Forgets every cookie the HTTP exchanges keep.
    ClearCookies,
}

#[derive(Debug)]
pub struct Event {
    pub session: SessionId,
    pub kind: EventKind,
}

#[derive(Debug)]
pub enum EventKind {
    Server(ServerEvent),
    /// The server could not start; nothing was started.
    ServerFailed(NetError),
    Client(ClientEvent),
    Http(HttpEvent),
    Udp(UdpEvent),
    /// The UDP socket could not be bound; nothing was started.
    UdpFailed(NetError),
}

impl From<(SessionId, ServerEvent)> for Event {
    fn from((session, event): (SessionId, ServerEvent)) -> Self {
        Event {
            session,
            kind: EventKind::Server(event),
        }
    }
}

impl From<(SessionId, ClientEvent)> for Event {
    fn from((session, event): (SessionId, ClientEvent)) -> Self {
        Event {
            session,
            kind: EventKind::Client(event),
        }
    }
}

impl From<(SessionId, UdpEvent)> for Event {
    fn from((session, event): (SessionId, UdpEvent)) -> Self {
        Event {
            session,
            kind: EventKind::Udp(event),
        }
    }
}

impl From<(SessionId, HttpEvent)> for Event {
    fn from((session, event): (SessionId, HttpEvent)) -> Self {
        Event {
            session,
            kind: EventKind::Http(event),
        }
    }
}

pub struct Engine {
    commands: async_channel::Sender<Command>,
    events: async_channel::Receiver<Event>,
    /// Set by the engine when it sends an event, cleared by `drain`: the consumer is woken
    /// once per batch, not once per event.
    pending: Arc<AtomicBool>,
    last_id: Cell<SessionId>,
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
                smol::block_on(executor.run(registry::serve(&executor, command_queue, sink)));
            })?;
        Ok(Engine {
            commands,
            events,
            pending,
            last_id: Cell::default(),
            thread: Some(thread),
        })
    }

    /// Starts a session and gives its id; what happens is reported as its events.
    pub fn open(&self, spec: SessionSpec) -> SessionId {
        let id = self.last_id.get().next();
        self.last_id.set(id);
        self.send(Command::Open { id, spec });
        id
    }

    pub fn act(&self, id: SessionId, action: Action) {
        self.send(Command::Act { id, action });
    }

    pub fn close(&self, id: SessionId) {
        self.send(Command::Close { id });
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
