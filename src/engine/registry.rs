//! The live sessions, owned by the engine task alone: commands are handled one at a time, so
//! opening, acting and closing need no locks, and each session's end is reported once (by
//! the session itself, or by `Close` when it was still running).

use std::collections::HashMap;
use std::sync::Arc;

use smol::{Executor, Task};

use super::http::HttpClients;
use super::{Action, Command, Event, EventKind, SessionId, SessionSpec};
use crate::net::EventSink;
use crate::net::client::ClientSession;
use crate::net::http::HttpEvent;
use crate::net::server::Server;
use crate::net::udp::UdpSession;

enum Live {
    Server(Server<Event>),
    Connection(ClientSession<Event>),
    Exchange(Task<()>),
    Socket(UdpSession<Event>),
}

impl Live {
    /// A connection or exchange that ended by itself and said so; a server runs until closed.
    fn has_ended(&self) -> bool {
        match self {
            Live::Server(_) | Live::Socket(_) => false,
            Live::Connection(connection) => connection.has_ended(),
            Live::Exchange(task) => task.is_finished(),
        }
    }

    async fn close(self, events: &EventSink<Event>) {
        match self {
            Live::Server(server) => server.stop().await,
            Live::Connection(connection) => connection.close().await,
            Live::Socket(socket) => socket.close().await,
            Live::Exchange(task) => {
                if task.cancel().await.is_none() {
                    events.emit(HttpEvent::Cancelled).await;
                }
            }
        }
    }
}

pub(super) async fn serve(
    executor: &Arc<Executor<'static>>,
    commands: async_channel::Receiver<Command>,
    events: EventSink<Event>,
) {
    let mut live: HashMap<SessionId, Live> = HashMap::new();
    let mut http = HttpClients::default();
    while let Ok(command) = commands.recv().await {
        // What ended by itself has been reported; only its handle is left to drop.
        live.retain(|_, session| !session.has_ended());
        match command {
            Command::Open { id, spec } => {
                let sink = events.for_session(id);
                if let Some(old) = live.remove(&id) {
                    old.close(&sink).await;
                }
                let session = match spec {
                    SessionSpec::Server(config) => {
                        match Server::start(config, executor, sink.clone()).await {
                            Ok(server) => Live::Server(server),
                            Err(error) => {
                                let failed = Event {
                                    session: id,
                                    kind: EventKind::ServerFailed(error),
                                };
                                events.emit(failed).await;
                                continue;
                            }
                        }
                    }
                    SessionSpec::Client(config) => {
                        Live::Connection(ClientSession::open(config, executor, sink))
                    }
                    SessionSpec::Http(spec) => Live::Exchange(http.start(*spec, executor, sink)),
                    SessionSpec::Udp(config) => {
                        match UdpSession::open(config, executor, sink.clone()).await {
                            Ok(socket) => Live::Socket(socket),
                            Err(error) => {
                                let failed = Event {
                                    session: id,
                                    kind: EventKind::UdpFailed(error),
                                };
                                events.emit(failed).await;
                                continue;
                            }
                        }
                    }
                };
                live.insert(id, session);
            }
            Command::Act { id, action } => match (live.get(&id), action) {
                (Some(Live::Connection(connection)), Action::Send(bytes)) => {
                    connection.send(bytes);
                }
                (Some(Live::Server(server)), Action::SendTo { client, bytes }) => {
                    server.send(client, bytes);
                }
                (Some(Live::Server(server)), Action::Broadcast(bytes)) => {
                    server.broadcast(&bytes);
                }
                (Some(Live::Server(server)), Action::Kick(client)) => {
                    server.kick(client).await;
                }
                (Some(Live::Server(server)), Action::SetMode(mode)) => server.set_mode(mode),
                (Some(Live::Socket(socket)), Action::SendDatagram { to, bytes }) => {
                    socket.send_to(to, bytes);
                }
                _ => {}
            },
            Command::Close { id } => {
                if let Some(session) = live.remove(&id) {
                    session.close(&events.for_session(id)).await;
                }
            }
            Command::ClearCookies => http.clear_cookies(),
        }
    }
    for (id, session) in live.drain() {
        session.close(&events.for_session(id)).await;
    }
}

/// An event that needs no stamp: it carries its session already.
impl From<(SessionId, Event)> for Event {
    fn from((_, event): (SessionId, Event)) -> Self {
        event
    }
}
