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
}

impl<E> Clone for EventSink<E> {
    fn clone(&self) -> Self {
        EventSink {
            sender: self.sender.clone(),
            notify: self.notify.clone(),
        }
    }
}

impl<E> EventSink<E> {
    pub fn new(sender: async_channel::Sender<E>) -> Self {
        EventSink {
            sender,
            notify: None,
        }
    }

    pub fn with_notify(
        sender: async_channel::Sender<E>,
        notify: Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        EventSink {
            sender,
            notify: Some(notify),
        }
    }

    /// Sends the event, waiting while the channel is full: a slow consumer slows the
    /// producer instead of letting the queue grow. Events sent after the consumer has gone
    /// are dropped.
    pub async fn emit(&self, event: impl Into<E>) {
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
