//! The Client tab's controller: validates host and port, connects through the engine, and
//! keeps a bounded conversation of what was sent and received.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::SystemTime;

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use super::clock;
use super::ui::{AppWindow, ClientAdapter, ConversationLine};
use crate::config::Connection;
use crate::net::NetError;
use crate::net::client::{ClientConfig, ClientEvent, CloseReason};
use crate::net::error::{parse_host, parse_port};
use crate::net::tls::TlsOptions;
use crate::payload::{self, ByteCount, Lines};
use crate::report;
use crate::runtime::{ClientCommand, Command, Engine, Event};

/// Conversation entries kept; older ones are dropped.
const CONVERSATION_CAP: usize = 500;
/// Bytes kept per entry; a longer run of data keeps its end.
const ENTRY_BYTES: usize = 4096;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Sent,
    Received,
    Note,
}

struct Entry {
    time: SystemTime,
    direction: Direction,
    /// Data (bounded to its last `ENTRY_BYTES`), or a note's text.
    bytes: Vec<u8>,
    /// Bytes of this run that are no longer kept.
    dropped: u64,
}

impl Entry {
    fn line(&self, hex: bool) -> ConversationLine {
        let text = match self.direction {
            Direction::Note => String::from_utf8_lossy(&self.bytes).into_owned(),
            _ if hex => payload::hex_line(&self.bytes),
            _ => payload::display_text(&self.bytes, Lines::Keep),
        };
        let text = if self.dropped > 0 {
            format!("… ({} earlier) {text}", ByteCount(self.dropped))
        } else {
            text
        };
        ConversationLine {
            time: clock(self.time).into(),
            direction: match self.direction {
                Direction::Sent => "sent",
                Direction::Received => "received",
                Direction::Note => "note",
            }
            .into(),
            text: text.into(),
        }
    }
}

pub struct ClientController {
    window: slint::Weak<AppWindow>,
    engine: Rc<Engine>,
    entries: RefCell<VecDeque<Entry>>,
    lines: Rc<VecModel<ConversationLine>>,
    bytes_in: Cell<u64>,
    bytes_out: Cell<u64>,
    changed: Cell<bool>,
}

impl ClientController {
    pub fn setup(window: &AppWindow, engine: Rc<Engine>) -> Rc<Self> {
        let lines = Rc::new(VecModel::default());
        let adapter = window.global::<ClientAdapter>();
        adapter.set_conversation(ModelRc::from(lines.clone()));
        let controller = Rc::new(ClientController {
            window: window.as_weak(),
            engine,
            entries: RefCell::default(),
            lines,
            bytes_in: Cell::new(0),
            bytes_out: Cell::new(0),
            changed: Cell::new(false),
        });
        let on = |action: fn(&ClientController, &ClientAdapter)| {
            let weak = Rc::downgrade(&controller);
            move || {
                if let Some(controller) = weak.upgrade()
                    && let Some(window) = controller.window.upgrade()
                {
                    action(&controller, &window.global::<ClientAdapter>());
                }
            }
        };
        adapter.on_connect(on(Self::connect));
        adapter.on_disconnect(on(|controller, _| {
            controller
                .engine
                .send(Command::Client(ClientCommand::Disconnect));
        }));
        adapter.on_reconnect(on(|controller, adapter| {
            clear_errors(adapter);
            adapter.set_state(1);
            adapter.set_status("Reconnecting…".into());
            controller
                .engine
                .send(Command::Client(ClientCommand::Reconnect));
        }));
        adapter.on_send(on(Self::send));
        adapter.on_view_changed(on(Self::rerender));
        adapter.on_clear(on(|controller, adapter| {
            controller.entries.borrow_mut().clear();
            controller.lines.clear();
            controller.changed.set(true);
            controller.refresh_adapter(adapter);
        }));
        controller
    }

    fn connect(&self, adapter: &ClientAdapter) {
        clear_errors(adapter);
        match config_from(adapter) {
            Ok(config) => {
                adapter.set_state(1);
                adapter
                    .set_status(format!("Connecting to {}:{}…", config.host, config.port).into());
                self.engine
                    .send(Command::Client(ClientCommand::Connect(config)));
            }
            Err(error) => show_error(adapter, &error),
        }
    }

    fn send(&self, adapter: &ClientAdapter) {
        adapter.set_send_error(SharedString::new());
        match super::encode_payload(
            &adapter.get_payload(),
            adapter.get_payload_hex(),
            adapter.get_line_ending(),
        ) {
            Ok(bytes) => self
                .engine
                .send(Command::Client(ClientCommand::Send(bytes))),
            Err(error) => adapter.set_send_error(error.to_string().into()),
        }
    }

    fn rerender(&self, adapter: &ClientAdapter) {
        let hex = adapter.get_show_hex();
        let lines: Vec<_> = self.entries.borrow().iter().map(|e| e.line(hex)).collect();
        self.lines.set_vec(lines);
    }

    pub fn on_event(&self, event: &Event) {
        let Event::Client(event) = event else {
            return;
        };
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<ClientAdapter>();
        match event {
            ClientEvent::Connected { peer, tls } => {
                self.bytes_in.set(0);
                self.bytes_out.set(0);
                adapter.set_state(2);
                adapter.set_unverified(tls.as_ref().is_some_and(|tls| tls.unverified));
                let status = match tls {
                    Some(tls) => format!("Connected to {peer} ({}, {})", tls.version, tls.cipher),
                    None => format!("Connected to {peer}"),
                };
                adapter.set_status(status.clone().into());
                self.note(status);
            }
            ClientEvent::Sent(bytes) => {
                self.bytes_out
                    .set(self.bytes_out.get() + bytes.len() as u64);
                self.data(Direction::Sent, bytes, &adapter);
            }
            ClientEvent::Received(bytes) => {
                self.bytes_in.set(self.bytes_in.get() + bytes.len() as u64);
                self.data(Direction::Received, bytes, &adapter);
            }
            ClientEvent::Failed(error) => {
                self.ended(&adapter, "Not connected");
                show_error(&adapter, error);
                self.note(format!("{error}"));
            }
            ClientEvent::Closed { reason, .. } => {
                let status = match reason {
                    CloseReason::ClosedByPeer => "Closed by the server",
                    CloseReason::Local => "Disconnected",
                    CloseReason::Failed(_) => "Connection failed",
                };
                self.ended(&adapter, status);
                if let CloseReason::Failed(error) = reason {
                    show_error(&adapter, error);
                }
                self.note(report::client_line(
                    event,
                    report::DataStyle {
                        encoding: payload::Encoding::Text,
                        max_chars: None,
                    },
                ));
            }
        }
        self.changed.set(true);
    }

    fn ended(&self, adapter: &ClientAdapter, status: &str) {
        adapter.set_state(0);
        adapter.set_unverified(false);
        adapter.set_status(status.into());
    }

    fn note(&self, text: String) {
        self.push(Entry {
            time: SystemTime::now(),
            direction: Direction::Note,
            bytes: text.into_bytes(),
            dropped: 0,
        });
    }

    /// Data joins the last entry while the direction stays the same.
    fn data(&self, direction: Direction, bytes: &[u8], adapter: &ClientAdapter) {
        let mut entries = self.entries.borrow_mut();
        if let Some(last) = entries.back_mut()
            && last.direction == direction
        {
            last.bytes.extend_from_slice(bytes);
            let excess = last.bytes.len().saturating_sub(ENTRY_BYTES);
            last.bytes.drain(..excess);
            last.dropped += excess as u64;
            let row = self.lines.row_count() - 1;
            self.lines
                .set_row_data(row, last.line(adapter.get_show_hex()));
            return;
        }
        drop(entries);
        let keep_from = bytes.len().saturating_sub(ENTRY_BYTES);
        self.push(Entry {
            time: SystemTime::now(),
            direction,
            bytes: bytes[keep_from..].to_vec(),
            dropped: keep_from as u64,
        });
    }

    fn push(&self, entry: Entry) {
        let hex = self
            .window
            .upgrade()
            .is_some_and(|w| w.global::<ClientAdapter>().get_show_hex());
        self.lines.push(entry.line(hex));
        let mut entries = self.entries.borrow_mut();
        entries.push_back(entry);
        while entries.len() > CONVERSATION_CAP {
            entries.pop_front();
            self.lines.remove(0);
        }
    }

    /// Publishes the counters once per batch.
    pub fn refresh(&self) {
        if let Some(window) = self.window.upgrade() {
            self.refresh_adapter(&window.global::<ClientAdapter>());
        }
    }

    fn refresh_adapter(&self, adapter: &ClientAdapter) {
        if !self.changed.replace(false) {
            return;
        }
        adapter.set_counters(
            format!(
                "{} in · {} out",
                ByteCount(self.bytes_in.get()),
                ByteCount(self.bytes_out.get())
            )
            .into(),
        );
        adapter.set_revision(adapter.get_revision().wrapping_add(1));
    }
}

fn clear_errors(adapter: &ClientAdapter) {
    for set in [
        ClientAdapter::set_host_error,
        ClientAdapter::set_port_error,
        ClientAdapter::set_send_error,
        ClientAdapter::set_error,
        ClientAdapter::set_error_hint,
    ] {
        set(adapter, SharedString::new());
    }
}

fn show_error(adapter: &ClientAdapter, error: &NetError) {
    let message = SharedString::from(error.to_string());
    match error.field() {
        Some("host") => adapter.set_host_error(message),
        Some("port") => adapter.set_port_error(message),
        _ => {
            adapter.set_error(message);
            adapter.set_error_hint(error.hint().into());
        }
    }
}

fn config_from(adapter: &ClientAdapter) -> Result<ClientConfig, NetError> {
    let host = parse_host("host", &adapter.get_host())?;
    let port = parse_port("port", &adapter.get_port())?;
    Ok(ClientConfig {
        tls: adapter.get_tls().then(|| TlsOptions {
            accept_invalid_certificates: adapter.get_accept_invalid(),
            ..TlsOptions::default()
        }),
        ..ClientConfig::new(host, port)
    })
}

/// The tab's fields as the settings file keeps them.
pub fn fields(window: &AppWindow) -> Connection {
    let adapter = window.global::<ClientAdapter>();
    Connection {
        host: adapter.get_host().into(),
        port: adapter.get_port().into(),
        tls: adapter.get_tls(),
        insecure: adapter.get_accept_invalid(),
        payload: adapter.get_payload().into(),
        hex: adapter.get_payload_hex(),
        line_ending: super::line_ending_choice(adapter.get_line_ending()),
    }
}

/// Fills the tab's fields; an open connection stays as it is.
pub fn restore(window: &AppWindow, connection: &Connection) {
    let adapter = window.global::<ClientAdapter>();
    if adapter.get_state() != 0 {
        return;
    }
    adapter.set_host(connection.host.as_str().into());
    adapter.set_port(connection.port.as_str().into());
    adapter.set_tls(connection.tls);
    adapter.set_accept_invalid(connection.insecure);
    adapter.set_payload(connection.payload.as_str().into());
    adapter.set_payload_hex(connection.hex);
    adapter.set_line_ending(super::line_ending_index(connection.line_ending));
    clear_errors(&adapter);
}
