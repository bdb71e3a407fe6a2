//! The engine thread: one smol `Executor` on a background thread, `Command`s in over a
//! channel, `Event`s out over a bounded one. The GUI sends commands without waiting and drains
//! events when told there are some; it never waits on the network.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use smol::Executor;

use crate::net::server::{ClientId, ReplyMode, Server, ServerConfig, ServerEvent};
use crate::net::{EventSink, NetError};

/// How many events may wait for the GUI before the engine slows down to its pace. With data
/// chunks of at most 16 KiB this also caps the bytes waiting at a few MiB.
pub const EVENT_QUEUE: usize = 256;

#[derive(Debug)]
pub enum Command {
    Server(ServerCommand),
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
}

impl From<ServerEvent> for Event {
    fn from(event: ServerEvent) -> Self {
        Event::Server(event)
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
    while let Ok(command) = commands.recv().await {
        match command {
            Command::Server(command) => {
                serve_server_command(command, &mut server, executor, &events).await
            }
        }
    }
    if let Some(server) = server.take() {
        server.stop().await;
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
