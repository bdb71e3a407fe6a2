//! Idle kept-alive connections, kept for a while per destination and bounded in all. Each
//! idle connection is watched by a small task that waits for the server to close it (or send
//! anything unasked) and for its time to run out, whichever comes first, and then drops it:
//! a closed connection never lingers half-closed here, and nothing wakes while nothing happens.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures_lite::FutureExt;
use smol::{Executor, Task, Timer};

use crate::net::client::Connection;

/// How long an idle connection is kept. Pressing Send again within half a minute reuses the
/// connection; after that, a fresh handshake costs milliseconds, while a connection held
/// costs a descriptor here and one of the few connections many small devices accept.
/// (Servers close idle connections on their own after 5 s (Apache, Node) to 75 s (nginx);
/// those are dropped as soon as they close.)
pub const KEEP_IDLE: Duration = Duration::from_secs(30);

/// Idle connections kept per destination: as many as exchanges usually run at once.
const IDLE_PER_DESTINATION: usize = 4;

/// Idle connections kept in all: a window polling a few dozen devices keeps one to each, and
/// a process that talks to hundreds of servers still holds no more than 3 % of the usual
/// 1,024 descriptors. Past it, the connection idle the longest goes.
pub const MAX_IDLE: usize = 32;

pub(super) struct Pool<K> {
    idle: Arc<Mutex<Idle<K>>>,
    keep_idle: Duration,
    /// Where the watchers run; without one, an idle connection is only checked when taken.
    watchers: Option<Arc<Executor<'static>>>,
}

struct Idle<K> {
    /// Oldest first.
    entries: VecDeque<Entry<K>>,
    next_number: u64,
}

struct Entry<K> {
    destination: K,
    /// Names the entry for its watcher.
    number: u64,
    since: Instant,
    connection: Connection,
    watcher: Option<Task<()>>,
}

impl<K: Eq + Send + 'static> Pool<K> {
    pub fn new(keep_idle: Duration, watchers: Option<Arc<Executor<'static>>>) -> Self {
        Pool {
            idle: Arc::new(Mutex::new(Idle {
                entries: VecDeque::new(),
                next_number: 0,
            })),
            keep_idle,
            watchers,
        }
    }

    /// The connection to `destination` idle the shortest time, if one is still open.
    pub async fn take(&self, destination: &K) -> Option<Connection> {
        loop {
            let entry = {
                let mut idle = self.idle.lock().ok()?;
                let newest = idle
                    .entries
                    .iter()
                    .rposition(|entry| entry.destination == *destination)?;
                idle.entries.remove(newest)?
            };
            // The watcher lets go of the socket before the exchange reads it. One that has
            // finished saw the server close it, or bytes nobody asked for.
            let watched_to_its_end = match entry.watcher {
                Some(watcher) => watcher.cancel().await.is_some(),
                None => false,
            };
            if !watched_to_its_end && entry.since.elapsed() < self.keep_idle {
                return Some(entry.connection);
            }
        }
    }

    /// Keeps the connection idle, making room by closing the oldest of its destination, or
    /// of all, when a bound is reached. Returns once those are closed.
    pub async fn put(&self, destination: K, connection: Connection) {
        let evicted = {
            let Ok(mut idle) = self.idle.lock() else {
                return;
            };
            let keep_idle = self.keep_idle;
            let mut evicted: Vec<Entry<K>> = Vec::new();
            // Without watchers, nothing else drops an expired connection.
            while let Some(expired) = idle
                .entries
                .iter()
                .position(|entry| entry.since.elapsed() >= keep_idle)
            {
                evicted.extend(idle.entries.remove(expired));
            }
            let same = idle
                .entries
                .iter()
                .filter(|entry| entry.destination == destination)
                .count();
            if same >= IDLE_PER_DESTINATION
                && let Some(oldest) = idle
                    .entries
                    .iter()
                    .position(|entry| entry.destination == destination)
            {
                evicted.extend(idle.entries.remove(oldest));
            }
            if idle.entries.len() >= MAX_IDLE {
                evicted.extend(idle.entries.pop_front());
            }
            let number = idle.next_number;
            idle.next_number += 1;
            let watcher = self.watchers.as_ref().map(|executor| {
                let socket = connection.stream.tcp().clone();
                executor.spawn(watch(socket, Arc::downgrade(&self.idle), number, keep_idle))
            });
            idle.entries.push_back(Entry {
                destination,
                number,
                since: Instant::now(),
                connection,
                watcher,
            });
            evicted
        };
        for entry in evicted {
            // The watcher holds the socket too: it is closed once the watcher is gone.
            if let Some(watcher) = entry.watcher {
                watcher.cancel().await;
            }
        }
    }
}

/// Waits on an idle connection for the server to close it (or send what was not asked for)
/// or for `keep_idle` to pass, then drops it from the pool. A peek takes nothing from the
/// socket, so a connection taken meanwhile is as it was; on a TLS connection it sees the
/// encrypted bytes, which are just as unasked.
async fn watch<K>(
    socket: async_net::TcpStream,
    idle: Weak<Mutex<Idle<K>>>,
    number: u64,
    keep_idle: Duration,
) {
    let mut byte = [0];
    let closed = async {
        let _ = socket.peek(&mut byte).await;
    };
    let expired = async {
        Timer::after(keep_idle).await;
    };
    closed.or(expired).await;
    let Some(idle) = idle.upgrade() else {
        return;
    };
    let ended = {
        let Ok(mut idle) = idle.lock() else {
            return;
        };
        let Some(place) = idle.entries.iter().position(|entry| entry.number == number) else {
            return;
        };
        idle.entries.remove(place)
    };
    if let Some(Entry {
        watcher: Some(watcher),
        ..
    }) = ended
    {
        // This very task: it ends by itself as it returns, and closes its socket then.
        watcher.detach();
    }
}
