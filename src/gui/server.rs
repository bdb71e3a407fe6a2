//! The Server tab's controller: validates the fields, sends server commands, and keeps the
//! client list and the selected client's received data up to date.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::SystemTime;

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use super::clock;
use super::ui::{AppWindow, ClientRow, ServerAdapter};
use crate::config::{ServerMode, ServerSetup};
use crate::net::NetError;
use crate::net::error::{parse_bind_ip, parse_max_clients, parse_port};
use crate::net::server::{ClientId, ReplyMode, ServerConfig, ServerEvent};
use crate::payload::{self, ByteCount, Lines};
use crate::runtime::{Command, Engine, Event, ServerCommand};

/// Received bytes kept per client for display; the counters still count everything.
pub const TAIL_BYTES: usize = 16 * 1024;

/// What the Server tab knows about one client.
pub struct ClientView {
    pub id: ClientId,
    pub peer: SocketAddr,
    pub since: SystemTime,
    pub bytes_in: u64,
    pub bytes_out: u64,
    tail: VecDeque<u8>,
}

impl ClientView {
    /// The last [`TAIL_BYTES`] received.
    pub fn tail(&self) -> Vec<u8> {
        let (front, back) = self.tail.as_slices();
        [front, back].concat()
    }

    fn keep(&mut self, bytes: &[u8]) {
        let bytes = &bytes[bytes.len().saturating_sub(TAIL_BYTES)..];
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(TAIL_BYTES);
        self.tail.drain(..excess);
    }

    fn row(&self) -> ClientRow {
        ClientRow {
            id: self.id as i32,
            peer: SharedString::from(self.peer.to_string()),
            detail: SharedString::from(format!(
                "since {} · {} in · {} out",
                clock(self.since),
                ByteCount(self.bytes_in),
                ByteCount(self.bytes_out)
            )),
        }
    }
}

/// How one event changed the client list.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Nothing,
    Added,
    Updated(usize),
    Removed(usize),
    Cleared,
}

/// The Server tab's state without any UI types: clients in connection order, each with its
/// counters and a bounded tail of what it sent.
#[derive(Default)]
pub struct ServerView {
    pub listening: Option<SocketAddr>,
    clients: Vec<ClientView>,
}

impl ServerView {
    pub fn clients(&self) -> &[ClientView] {
        &self.clients
    }

    pub fn client(&self, id: ClientId) -> Option<&ClientView> {
        self.clients.iter().find(|c| c.id == id)
    }

    fn index_of(&self, id: ClientId) -> Option<usize> {
        self.clients.iter().position(|c| c.id == id)
    }

    pub fn apply(&mut self, event: &ServerEvent) -> Change {
        match event {
            ServerEvent::Listening { addr } => {
                self.listening = Some(*addr);
                Change::Nothing
            }
            ServerEvent::Connected { id, peer, since } => {
                self.clients.push(ClientView {
                    id: *id,
                    peer: *peer,
                    since: *since,
                    bytes_in: 0,
                    bytes_out: 0,
                    tail: VecDeque::new(),
                });
                Change::Added
            }
            ServerEvent::Received { id, bytes, .. } => match self.index_of(*id) {
                Some(index) => {
                    let client = &mut self.clients[index];
                    client.bytes_in += bytes.len() as u64;
                    client.keep(bytes);
                    Change::Updated(index)
                }
                None => Change::Nothing,
            },
            ServerEvent::Sent { id, bytes, .. } => match self.index_of(*id) {
                Some(index) => {
                    self.clients[index].bytes_out += bytes.len() as u64;
                    Change::Updated(index)
                }
                None => Change::Nothing,
            },
            ServerEvent::Disconnected { id, .. } => match self.index_of(*id) {
                Some(index) => {
                    self.clients.remove(index);
                    Change::Removed(index)
                }
                None => Change::Nothing,
            },
            ServerEvent::Stopped => {
                self.listening = None;
                self.clients.clear();
                Change::Cleared
            }
            ServerEvent::Refused { .. } | ServerEvent::AcceptFailed { .. } => Change::Nothing,
        }
    }
}

pub struct ServerController {
    window: slint::Weak<AppWindow>,
    engine: Rc<Engine>,
    view: RefCell<ServerView>,
    rows: Rc<VecModel<ClientRow>>,
    /// Rows and received text to publish at the end of the batch.
    dirty_rows: RefCell<Vec<usize>>,
    received_changed: std::cell::Cell<bool>,
}

impl ServerController {
    pub fn setup(window: &AppWindow, engine: Rc<Engine>) -> Rc<Self> {
        let rows = Rc::new(VecModel::default());
        let adapter = window.global::<ServerAdapter>();
        adapter.set_clients(ModelRc::from(rows.clone()));
        let controller = Rc::new(ServerController {
            window: window.as_weak(),
            engine,
            view: RefCell::default(),
            rows,
            dirty_rows: RefCell::default(),
            received_changed: Default::default(),
        });

        let on = |action: fn(&ServerController, &ServerAdapter)| {
            let weak = Rc::downgrade(&controller);
            move || {
                if let Some(controller) = weak.upgrade()
                    && let Some(window) = controller.window.upgrade()
                {
                    action(&controller, &window.global::<ServerAdapter>());
                }
            }
        };
        adapter.on_start(on(Self::start));
        adapter.on_stop(on(Self::stop));
        adapter.on_mode_changed(on(Self::mode_changed));
        adapter.on_view_changed(on(Self::show_selected));
        adapter.on_send(on(Self::send));
        adapter.on_broadcast(on(Self::broadcast));
        let weak = Rc::downgrade(&controller);
        adapter.on_select_client(move |id| {
            if let Some(controller) = weak.upgrade()
                && let Some(window) = controller.window.upgrade()
            {
                let adapter = window.global::<ServerAdapter>();
                adapter.set_selected_client(id);
                controller.show_selected(&adapter);
            }
        });
        let weak = Rc::downgrade(&controller);
        adapter.on_kick(move |id| {
            if let Some(controller) = weak.upgrade() {
                controller
                    .engine
                    .send(Command::Server(ServerCommand::Kick(id as ClientId)));
            }
        });
        controller
    }

    fn start(&self, adapter: &ServerAdapter) {
        clear_errors(adapter);
        match config_from(adapter) {
            Ok(config) => {
                adapter.set_busy(true);
                adapter.set_status("Starting…".into());
                self.engine
                    .send(Command::Server(ServerCommand::Start(config)));
            }
            Err(error) => show_error(adapter, &error),
        }
    }

    fn stop(&self, adapter: &ServerAdapter) {
        adapter.set_busy(true);
        adapter.set_status("Stopping…".into());
        self.engine.send(Command::Server(ServerCommand::Stop));
    }

    fn mode_changed(&self, adapter: &ServerAdapter) {
        adapter.set_reply_error(SharedString::new());
        match mode_from(adapter) {
            Ok(mode) if adapter.get_listening() => self
                .engine
                .send(Command::Server(ServerCommand::SetMode(mode))),
            Ok(_) => {}
            Err(error) => show_error(adapter, &error),
        }
    }

    fn send(&self, adapter: &ServerAdapter) {
        adapter.set_send_error(SharedString::new());
        let id = adapter.get_selected_client();
        if id < 0 {
            adapter.set_send_error("Select a client first, or use Broadcast.".into());
            return;
        }
        if let Some(bytes) = payload_from(adapter) {
            self.engine.send(Command::Server(ServerCommand::Send {
                id: id as ClientId,
                bytes,
            }));
        }
    }

    fn broadcast(&self, adapter: &ServerAdapter) {
        adapter.set_send_error(SharedString::new());
        if let Some(bytes) = payload_from(adapter) {
            self.engine
                .send(Command::Server(ServerCommand::Broadcast(bytes)));
        }
    }

    fn show_selected(&self, adapter: &ServerAdapter) {
        let view = self.view.borrow();
        let selected = u64::try_from(adapter.get_selected_client())
            .ok()
            .and_then(|id| view.client(id));
        let (peer, text) = match selected {
            Some(client) => {
                let tail = client.tail();
                let text = if adapter.get_show_hex() {
                    payload::hex_dump(&tail, 0)
                } else {
                    payload::display_text(&tail, Lines::Keep)
                };
                (client.peer.to_string(), text)
            }
            None => (String::new(), String::new()),
        };
        adapter.set_selected_peer(peer.into());
        adapter.set_received(text.into());
    }

    pub fn on_event(&self, event: &Event) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<ServerAdapter>();
        let event = match event {
            Event::Server(event) => event,
            Event::ServerFailed(error) => {
                adapter.set_busy(false);
                adapter.set_listening(false);
                adapter.set_status("Stopped".into());
                show_error(&adapter, error);
                return;
            }
            Event::Client(_) | Event::Http(_) => return,
        };
        match event {
            ServerEvent::Listening { addr } => {
                adapter.set_busy(false);
                adapter.set_listening(true);
                adapter.set_all_interfaces(addr.ip().is_unspecified());
            }
            ServerEvent::Stopped => {
                adapter.set_busy(false);
                adapter.set_listening(false);
                adapter.set_selected_client(-1);
                self.received_changed.set(true);
            }
            _ => {}
        }
        let selected = adapter.get_selected_client();
        let change = self.view.borrow_mut().apply(event);
        let view = self.view.borrow();
        match change {
            Change::Nothing => {}
            Change::Added => self
                .rows
                .push(view.clients()[view.clients().len() - 1].row()),
            Change::Updated(index) => {
                let mut dirty = self.dirty_rows.borrow_mut();
                if !dirty.contains(&index) {
                    dirty.push(index);
                }
                if view.clients()[index].id as i32 == selected {
                    self.received_changed.set(true);
                }
            }
            Change::Removed(index) => {
                self.rows.remove(index);
                let mut dirty = self.dirty_rows.borrow_mut();
                dirty.retain(|&i| i != index);
                dirty
                    .iter_mut()
                    .filter(|i| **i > index)
                    .for_each(|i| *i -= 1);
                if view.client(selected as ClientId).is_none() && selected >= 0 {
                    adapter.set_selected_client(-1);
                    self.received_changed.set(true);
                }
            }
            Change::Cleared => {
                self.rows.clear();
                self.dirty_rows.borrow_mut().clear();
            }
        }
    }

    /// Publishes what the batch changed: counters of updated rows, the selected client's
    /// data, the status line.
    pub fn refresh(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<ServerAdapter>();
        let view = self.view.borrow();
        for index in self.dirty_rows.borrow_mut().drain(..) {
            if index < self.rows.row_count() {
                self.rows.set_row_data(index, view.clients()[index].row());
            }
        }
        if !adapter.get_busy() {
            let status = match view.listening {
                Some(addr) => format!(
                    "Listening on {addr} · {} client{}",
                    view.clients().len(),
                    if view.clients().len() == 1 { "" } else { "s" }
                ),
                None => "Stopped".into(),
            };
            adapter.set_status(status.into());
        }
        drop(view);
        if self.received_changed.replace(false) {
            self.show_selected(&adapter);
        }
    }
}

fn clear_errors(adapter: &ServerAdapter) {
    for set in [
        ServerAdapter::set_bind_error,
        ServerAdapter::set_port_error,
        ServerAdapter::set_max_clients_error,
        ServerAdapter::set_reply_error,
        ServerAdapter::set_error,
        ServerAdapter::set_error_hint,
    ] {
        set(adapter, SharedString::new());
    }
}

/// Puts the error under the field that caused it, or in the page's error line.
fn show_error(adapter: &ServerAdapter, error: &NetError) {
    let message = SharedString::from(error.to_string());
    match error.field() {
        Some("bind") => adapter.set_bind_error(message),
        Some("port") => adapter.set_port_error(message),
        Some("max-clients") => adapter.set_max_clients_error(message),
        Some("reply") => adapter.set_reply_error(message),
        Some("payload") => adapter.set_send_error(message),
        _ => {
            adapter.set_error(message);
            adapter.set_error_hint(error.hint().into());
        }
    }
}

/// Every field checked before anything starts.
fn config_from(adapter: &ServerAdapter) -> Result<ServerConfig, NetError> {
    let max_clients = adapter.get_max_clients();
    Ok(ServerConfig {
        bind: parse_bind_ip("bind", &adapter.get_bind_address())?,
        port: parse_port("port", &adapter.get_port())?,
        mode: mode_from(adapter)?,
        max_clients: parse_max_clients("max-clients", &max_clients)?,
        ..ServerConfig::default()
    })
}

fn mode_from(adapter: &ServerAdapter) -> Result<ReplyMode, NetError> {
    Ok(match adapter.get_mode() {
        1 => ReplyMode::Echo,
        3 => ReplyMode::Http,
        2 => ReplyMode::AutoReply(payload::parse_text(&adapter.get_reply()).map_err(|source| {
            NetError::Payload {
                field: "reply",
                source,
            }
        })?),
        _ => ReplyMode::Manual,
    })
}

fn payload_from(adapter: &ServerAdapter) -> Option<Vec<u8>> {
    super::encode_payload(
        &adapter.get_payload(),
        adapter.get_payload_hex(),
        adapter.get_line_ending(),
    )
    .map_err(|error| adapter.set_send_error(error.to_string().into()))
    .ok()
}

/// The tab's fields as the settings file keeps them.
pub fn fields(window: &AppWindow) -> ServerSetup {
    let adapter = window.global::<ServerAdapter>();
    ServerSetup {
        bind: adapter.get_bind_address().into(),
        port: adapter.get_port().into(),
        max_clients: adapter.get_max_clients().into(),
        mode: match adapter.get_mode() {
            1 => ServerMode::Echo,
            2 => ServerMode::AutoReply,
            3 => ServerMode::Http,
            _ => ServerMode::Manual,
        },
        reply: adapter.get_reply().into(),
        payload: adapter.get_payload().into(),
        hex: adapter.get_payload_hex(),
        line_ending: super::line_ending_choice(adapter.get_line_ending()),
    }
}

/// Fills the tab's fields; a running server keeps running as it is.
pub fn restore(window: &AppWindow, setup: &ServerSetup) {
    let adapter = window.global::<ServerAdapter>();
    if adapter.get_listening() {
        return;
    }
    adapter.set_bind_address(setup.bind.as_str().into());
    adapter.set_port(setup.port.as_str().into());
    adapter.set_max_clients(setup.max_clients.as_str().into());
    adapter.set_mode(match setup.mode {
        ServerMode::Manual => 0,
        ServerMode::Echo => 1,
        ServerMode::AutoReply => 2,
        ServerMode::Http => 3,
    });
    adapter.set_reply(setup.reply.as_str().into());
    adapter.set_payload(setup.payload.as_str().into());
    adapter.set_payload_hex(setup.hex);
    adapter.set_line_ending(super::line_ending_index(setup.line_ending));
    clear_errors(&adapter);
}
