//! The GUI: one controller per page, each wiring its adapter's callbacks to engine commands
//! and engine events to its models. Events are drained on a Slint `Timer` that runs only while
//! the engine has something to say, so an idle window never wakes up.

mod client;
mod http;
mod log;
mod server;

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use slint::{ComponentHandle, Timer, TimerMode};

use crate::net::NetError;
use crate::net::client::ClientEvent;
use crate::net::server::ServerEvent;
use crate::payload::{self, Encoding, LineEnding};
use crate::runtime::{Engine, Event};

pub use server::{ClientView, ServerView, TAIL_BYTES};

/// The code generated from `ui/*.slint`.
pub mod ui {
    slint::include_modules!();
}

use ui::AppWindow;

/// How often a busy engine's events reach the window: fast enough to look live, slow enough
/// to batch a flood into a few model updates.
const DRAIN_INTERVAL: Duration = Duration::from_millis(33);
/// Events handled per tick; the rest wait for the next one.
const DRAIN_BATCH: usize = 512;

thread_local! {
    /// The dispatcher the engine's wake-ups reach; it lives on the GUI thread.
    static DISPATCHER: RefCell<Weak<Dispatcher>> = const { RefCell::new(Weak::new()) };
}

/// Keeps the engine and the page controllers alive as long as it is held.
pub struct Gui {
    _dispatcher: Rc<Dispatcher>,
}

struct Dispatcher {
    engine: Rc<Engine>,
    server: Rc<server::ServerController>,
    client: Rc<client::ClientController>,
    http: Rc<http::HttpController>,
    log: Rc<log::LogController>,
    timer: Timer,
}

/// Starts the engine and wires every page of `window` to it.
pub fn setup(window: &AppWindow) -> std::io::Result<Gui> {
    let engine = Rc::new(Engine::start(|| {
        let _ = slint::invoke_from_event_loop(|| {
            if let Some(dispatcher) = DISPATCHER.with(|d| d.borrow().upgrade()) {
                dispatcher.start_draining();
            }
        });
    })?);
    let dispatcher = Rc::new(Dispatcher {
        server: server::ServerController::setup(window, engine.clone()),
        client: client::ClientController::setup(window, engine.clone()),
        http: http::HttpController::setup(window, engine.clone()),
        log: log::LogController::setup(window),
        engine,
        timer: Timer::default(),
    });
    DISPATCHER.with(|d| *d.borrow_mut() = Rc::downgrade(&dispatcher));
    Ok(Gui {
        _dispatcher: dispatcher,
    })
}

/// Opens the window and runs until it is closed.
pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    let window = AppWindow::new()?;
    let _gui = setup(&window)?;
    window.run()?;
    Ok(())
}

impl Dispatcher {
    fn start_draining(self: &Rc<Self>) {
        if self.timer.running() {
            return;
        }
        let weak = Rc::downgrade(self);
        self.timer
            .start(TimerMode::Repeated, DRAIN_INTERVAL, move || {
                if let Some(dispatcher) = weak.upgrade() {
                    dispatcher.drain();
                }
            });
    }

    fn drain(&self) {
        let events = self.engine.drain(DRAIN_BATCH);
        let more_waiting = events.len() == DRAIN_BATCH;
        for event in coalesce(events) {
            self.log.on_event(&event);
            self.server.on_event(&event);
            self.client.on_event(&event);
            self.http.on_event(&event);
        }
        self.log.refresh();
        self.server.refresh();
        self.client.refresh();
        if !more_waiting {
            self.timer.stop();
        }
    }
}

/// Joins runs of received data from the same source into one event, so a flood becomes a
/// few lines.
fn coalesce(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    for event in events {
        let joined = match (out.last_mut(), &event) {
            (
                Some(Event::Server(ServerEvent::Received {
                    id: last,
                    bytes: joined,
                    ..
                })),
                Event::Server(ServerEvent::Received { id, bytes, .. }),
            ) if last == id => Some((joined, bytes)),
            (
                Some(Event::Client(ClientEvent::Received(joined))),
                Event::Client(ClientEvent::Received(bytes)),
            ) => Some((joined, bytes)),
            _ => None,
        };
        match joined {
            Some((joined, bytes)) => joined.extend_from_slice(bytes),
            None => out.push(event),
        }
    }
    out
}

/// What a page's send box holds, as bytes: text with escapes or hex, plus the line ending
/// (0 none, 1 LF, 2 CRLF).
fn encode_payload(text: &str, hex: bool, line_ending: i32) -> Result<Vec<u8>, NetError> {
    let encoding = if hex { Encoding::Hex } else { Encoding::Text };
    let line_ending = match line_ending {
        1 => LineEnding::Lf,
        2 => LineEnding::CrLf,
        _ => LineEnding::None,
    };
    match payload::encode(text, encoding, line_ending) {
        Ok(bytes) if bytes.is_empty() => Err(NetError::invalid(
            "payload",
            "nothing to send: type a message",
        )),
        Ok(bytes) => Ok(bytes),
        Err(source) => Err(NetError::Payload {
            field: "payload",
            source,
        }),
    }
}

/// Local wall-clock time as `HH:MM:SS`.
fn clock(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as libc::time_t)
        .unwrap_or(0);
    // SAFETY: localtime_r only writes the `tm` we hand it.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&seconds, &mut tm);
        tm
    };
    format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)
}
