//! The engine: async networking on smol, with no UI types, testable on its own.

pub mod client;
pub mod error;
pub mod h1;
pub mod http;
pub mod http_echo;
pub mod server;
pub mod tls;

use std::sync::Arc;

pub use error::NetError;

/// Where the engine's events go: a bounded channel, plus an optional callback run after
/// each event so a sleeping consumer (the GUI) knows there is work.
pub struct EventSink<E> {
    sender: async_channel::Sender<E>,
    notify: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Senders wait here, in turn, for room in the channel (see `emit`); shared by clones.
    turn: Arc<smol::lock::Mutex<()>>,
}

impl<E> Clone for EventSink<E> {
    fn clone(&self) -> Self {
        EventSink {
            sender: self.sender.clone(),
            notify: self.notify.clone(),
            turn: self.turn.clone(),
        }
    }
}

impl<E> EventSink<E> {
    pub fn new(sender: async_channel::Sender<E>) -> Self {
        EventSink {
            sender,
            notify: None,
            turn: Arc::default(),
        }
    }

    pub fn with_notify(
        sender: async_channel::Sender<E>,
        notify: Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        EventSink {
            sender,
            notify: Some(notify),
            turn: Arc::default(),
        }
    }

    /// Sends the event, waiting while the channel is full: a slow consumer slows the
    /// producer instead of letting the queue grow. Events sent after the consumer has gone
    /// are dropped.
    ///
    /// Senders wait in line: the channel alone lets a sender that did not wait take the room
    /// a waiting one was woken for, so when the consumer is slower than many senders (a
    /// server's clients flooding it), the ones that got through keep getting through and one
    /// that waited can be left out for as long as the flood lasts.
    pub async fn emit(&self, event: impl Into<E>) {
        let _turn = self.turn.lock().await;
        if self.sender.send(event.into()).await.is_ok()
            && let Some(notify) = &self.notify
        {
            notify();
        }
    }

    /// Sends the event if there is room, without waiting; for updates a newer one replaces,
    /// such as progress.
    pub fn try_emit(&self, event: impl Into<E>) {
        if self.sender.try_send(event.into()).is_ok()
            && let Some(notify) = &self.notify
        {
            notify();
        }
    }
}
