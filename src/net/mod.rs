//! The engine: async networking on smol, with no UI types, testable on its own.

pub mod client;
pub mod error;
pub mod h1;
pub mod http;
pub mod http_echo;
pub mod server;
pub mod tls;
pub mod tls_server;
pub mod tunnel;
pub mod udp;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

pub use error::NetError;

/// Bytes moved each way on one connection, counted as they go.
#[derive(Default)]
struct Counters {
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

/// Which live thing an event comes from: a listening server, a client connection, an HTTP
/// exchange. Ids are positive and fit Slint's `int` (an `i32`), so the window can hold them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(u32);

impl SessionId {
    /// The id after this one; after `i32::MAX` it starts again at 1.
    pub fn next(self) -> SessionId {
        SessionId(if self.0 >= i32::MAX as u32 {
            1
        } else {
            self.0 + 1
        })
    }

    pub fn to_slint(self) -> i32 {
        self.0 as i32
    }

    /// `None` for what no id can be (0 or negative: "none" in the window).
    pub fn from_slint(value: i32) -> Option<SessionId> {
        (value > 0).then_some(SessionId(value as u32))
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where the engine's events go: a bounded channel, plus an optional callback run after
/// each event so a sleeping consumer (the GUI) knows there is work. Every event is stamped
/// with the sink's session; a consumer of one session's events ignores the stamp.
pub struct EventSink<E> {
    sender: async_channel::Sender<E>,
    notify: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Senders wait here, in turn, for room in the channel (see `emit`); shared by clones.
    turn: Arc<smol::lock::Mutex<()>>,
    session: SessionId,
}

impl<E> Clone for EventSink<E> {
    fn clone(&self) -> Self {
        EventSink {
            sender: self.sender.clone(),
            notify: self.notify.clone(),
            turn: self.turn.clone(),
            session: self.session,
        }
    }
}

impl<E> EventSink<E> {
    pub fn new(sender: async_channel::Sender<E>) -> Self {
        EventSink {
            sender,
            notify: None,
            turn: Arc::default(),
            session: SessionId::default(),
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
            session: SessionId::default(),
        }
    }

    /// The same channel, stamping events with `session`.
    pub fn for_session(&self, session: SessionId) -> Self {
        EventSink {
            session,
            ..self.clone()
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
    pub async fn emit<T>(&self, event: T)
    where
        E: From<(SessionId, T)>,
    {
        let _turn = self.turn.lock().await;
        if self.sender.send((self.session, event).into()).await.is_ok()
            && let Some(notify) = &self.notify
        {
            notify();
        }
    }

    /// Sends the event if there is room, without waiting; for updates a newer one replaces,
    /// such as progress.
    pub fn try_emit<T>(&self, event: T)
    where
        E: From<(SessionId, T)>,
    {
        if self.sender.try_send((self.session, event).into()).is_ok()
            && let Some(notify) = &self.notify
        {
            notify();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SessionId;

    #[test]
    fn session_ids_stay_within_slints_int() {
        let first = SessionId::default().next();
        assert_eq!(first.to_slint(), 1);
        assert_eq!(SessionId::from_slint(1), Some(first));
        assert_eq!(SessionId::from_slint(0), None);
        assert_eq!(SessionId::from_slint(-1), None);
        let last = SessionId(i32::MAX as u32);
        assert_eq!(last.to_slint(), i32::MAX);
        assert_eq!(
            last.next(),
            first,
            "after i32::MAX the ids start again at 1"
        );
    }
}
