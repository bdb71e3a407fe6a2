//! The Server tab's controller: validates the fields, sends server commands, and keeps the
//! client list and the selected client's received data up to date.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::SystemTime;

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use super::fonts;
use super::ui::{AppWindow, ClientRow, ListenerRow, ServerAdapter};
use super::{Controller, ErrorPlaces, Page, clock};
use crate::engine::{Action, Engine, Event, EventKind, SessionId, SessionSpec};
use crate::forms::ServerForm;
use crate::net::NetError;
use crate::net::server::{ClientId, ServerEvent};
use crate::payload::{self, ByteCount, Lines};

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

/// One listening server and what the tab knows of it.
struct Listener {
    id: SessionId,
    form: ServerForm,
    view: ServerView,
}

impl Listener {
    fn row(&self) -> ListenerRow {
        let clients = self.view.clients().len();
        let address = match self.view.listening {
            Some(addr) => addr.to_string(),
            None => format!("{}:{}", self.form.bind.trim(), self.form.port.trim()),
        };
        ListenerRow {
            id: self.id.to_slint(),
            address: address.into(),
            detail: format!(
                "{} · {clients} client{}",
                self.form.summary().rsplit(" · ").next().unwrap_or_default(),
                if clients == 1 { "" } else { "s" }
            )
            .into(),
        }
    }
}

pub struct ServerController {
    window: slint::Weak<AppWindow>,
    engine: Rc<Engine>,
    /// In the order they were started.
    listeners: RefCell<Vec<Listener>>,
    listener_rows: Rc<VecModel<ListenerRow>>,
    /// The selected listener's clients.
    rows: Rc<VecModel<ClientRow>>,
    /// Rows and received text to publish at the end of the batch.
    dirty_rows: RefCell<Vec<usize>>,
    received_changed: std::cell::Cell<bool>,
}

impl Controller for ServerController {
    fn window(&self) -> &slint::Weak<AppWindow> {
        &self.window
    }
}

impl ServerController {
    pub fn setup(window: &AppWindow, engine: Rc<Engine>) -> Rc<Self> {
        let rows = Rc::new(VecModel::default());
        let listener_rows = Rc::new(VecModel::default());
        let adapter = window.global::<ServerAdapter>();
        adapter.set_clients(ModelRc::from(rows.clone()));
        adapter.set_listeners(ModelRc::from(listener_rows.clone()));
        let controller = Rc::new(ServerController {
            window: window.as_weak(),
            engine,
            listeners: RefCell::default(),
            listener_rows,
            rows,
            dirty_rows: RefCell::default(),
            received_changed: Default::default(),
        });

        let on = |action: fn(&Self, &ServerAdapter)| {
            super::on(&controller, move |c, w| {
                action(c, &w.global::<ServerAdapter>())
            })
        };
        let on_id = |action: fn(&Self, &ServerAdapter, i32)| {
            super::on_value(&controller, move |c, w, id| {
                action(c, &w.global::<ServerAdapter>(), id)
            })
        };
        adapter.on_start(on(Self::start));
        adapter.on_stop(on(|controller, adapter| {
            controller.stop_listener(adapter, adapter.get_selected_listener())
        }));
        adapter.on_stop_listener(on_id(Self::stop_listener));
        adapter.on_select_listener(on_id(|controller, adapter, id| {
            controller.select_listener(adapter, SessionId::from_slint(id))
        }));
        adapter.on_mode_changed(on(Self::mode_changed));
        adapter.on_view_changed(on(Self::show_selected));
        adapter.on_send(on(Self::send));
        adapter.on_broadcast(on(Self::broadcast));
        adapter.on_select_client(on_id(|controller, adapter, id| {
            adapter.set_selected_client(id);
            controller.show_selected(adapter);
        }));
        adapter.on_kick(on_id(|controller, adapter, id| {
            if let Some(listener) = SessionId::from_slint(adapter.get_selected_listener()) {
                controller
                    .engine
                    .act(listener, Action::Kick(id as ClientId));
            }
        }));
        controller
    }

    /// Starts another listener with the form's fields; the others keep running.
    fn start(&self, adapter: &ServerAdapter) {
        clear_errors(adapter);
        let form = fields_of(adapter);
        match form.check() {
            Ok(config) => {
                adapter.set_busy(true);
                adapter.set_status("Starting…".into());
                let id = self.engine.open(SessionSpec::Server(config));
                self.listeners.borrow_mut().push(Listener {
                    id,
                    form,
                    view: ServerView::default(),
                });
                self.select_listener(adapter, Some(id));
            }
            Err(error) => show_error(adapter, &error),
        }
    }

    fn stop_listener(&self, adapter: &ServerAdapter, id: i32) {
        if let Some(id) = SessionId::from_slint(id) {
            adapter.set_busy(true);
            adapter.set_status("Stopping…".into());
            self.engine.close(id);
        }
    }

    /// Shows `id`'s clients (or none) and makes it the listener the tab acts on.
    fn select_listener(&self, adapter: &ServerAdapter, id: Option<SessionId>) {
        let listeners = self.listeners.borrow();
        let selected = id.and_then(|id| listeners.iter().find(|l| l.id == id));
        adapter.set_selected_listener(selected.map_or(0, |l| l.id.to_slint()));
        adapter.set_listening(selected.is_some_and(|l| l.view.listening.is_some()));
        adapter.set_all_interfaces(
            selected
                .and_then(|l| l.view.listening)
                .is_some_and(|addr| addr.ip().is_unspecified()),
        );
        let rows: Vec<_> = selected
            .map(|l| l.view.clients().iter().map(ClientView::row).collect())
            .unwrap_or_default();
        self.rows.set_vec(rows);
        self.dirty_rows.borrow_mut().clear();
        adapter.set_selected_client(-1);
        drop(listeners);
        self.show_selected(adapter);
        self.show_status(adapter);
    }

    fn mode_changed(&self, adapter: &ServerAdapter) {
        adapter.set_reply_error(SharedString::new());
        let form = fields_of(adapter);
        match form.reply_mode() {
            Ok(mode) => {
                let selected = SessionId::from_slint(adapter.get_selected_listener());
                if let Some(listener) =
                    (self.listeners.borrow_mut().iter_mut()).find(|l| Some(l.id) == selected)
                {
                    listener.form.mode = form.mode;
                    self.engine.act(listener.id, Action::SetMode(mode));
                }
            }
            Err(error) => show_error(adapter, &error),
        }
    }

    fn send(&self, adapter: &ServerAdapter) {
        adapter.set_send_error(SharedString::new());
        let id = adapter.get_selected_client();
        let listener = SessionId::from_slint(adapter.get_selected_listener());
        let (Some(listener), true) = (listener, id >= 0) else {
            adapter.set_send_error("Select a client first, or use Broadcast.".into());
            return;
        };
        if let Some(bytes) = payload_from(adapter) {
            let client = id as ClientId;
            self.engine.act(listener, Action::SendTo { client, bytes });
        }
    }

    fn broadcast(&self, adapter: &ServerAdapter) {
        adapter.set_send_error(SharedString::new());
        if let (Some(listener), Some(bytes)) = (
            SessionId::from_slint(adapter.get_selected_listener()),
            payload_from(adapter),
        ) {
            self.engine.act(listener, Action::Broadcast(bytes));
        }
    }

    fn show_selected(&self, adapter: &ServerAdapter) {
        let listeners = self.listeners.borrow();
        let selected_listener = SessionId::from_slint(adapter.get_selected_listener());
        let selected = listeners
            .iter()
            .find(|l| Some(l.id) == selected_listener)
            .and_then(|l| {
                let id = u64::try_from(adapter.get_selected_client()).ok()?;
                l.view.client(id)
            });
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
        let shown = fonts::shown(text);
        adapter.set_selected_peer(peer.into());
        adapter.set_received(shown.drawn);
        adapter.set_received_spoken(shown.spoken);
        adapter.set_font_note(fonts::font_note(shown.missing).into());
    }

    pub fn on_event(&self, event: &Event) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<ServerAdapter>();
        let event_listener = event.session;
        let is_selected =
            SessionId::from_slint(adapter.get_selected_listener()) == Some(event.session);
        let event = match &event.kind {
            EventKind::Server(event) => event,
            EventKind::ServerFailed(error) => {
                adapter.set_busy(false);
                self.forget(&adapter, event_listener);
                show_error(&adapter, error);
                return;
            }
            EventKind::Client(_) | EventKind::Http(_) => return,
        };
        let mut listeners = self.listeners.borrow_mut();
        let Some(index) = listeners.iter().position(|l| l.id == event_listener) else {
            return;
        };
        let change = listeners[index].view.apply(event);
        match event {
            ServerEvent::Listening { addr } => {
                adapter.set_busy(false);
                if is_selected {
                    adapter.set_listening(true);
                    adapter.set_all_interfaces(addr.ip().is_unspecified());
                }
            }
            ServerEvent::Stopped => {
                adapter.set_busy(false);
                drop(listeners);
                self.forget(&adapter, event_listener);
                return;
            }
            _ => {}
        }
        let row = listeners[index].row();
        if index < self.listener_rows.row_count() {
            self.listener_rows.set_row_data(index, row);
        } else {
            self.listener_rows.push(row);
        }
        if !is_selected {
            return;
        }
        let view = &listeners[index].view;
        let selected = adapter.get_selected_client();
        match change {
            Change::Nothing | Change::Cleared => {}
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
        }
    }

    /// Drops a listener that stopped or never started; the newest other one is shown.
    fn forget(&self, adapter: &ServerAdapter, id: SessionId) {
        let mut listeners = self.listeners.borrow_mut();
        if let Some(index) = listeners.iter().position(|l| l.id == id) {
            listeners.remove(index);
            if index < self.listener_rows.row_count() {
                self.listener_rows.remove(index);
            }
        }
        let was_selected = SessionId::from_slint(adapter.get_selected_listener()) == Some(id);
        let newest = listeners.last().map(|l| l.id);
        drop(listeners);
        if was_selected {
            self.select_listener(adapter, newest);
        }
    }

    /// The selected listener's address and client count, unless a start or stop is under way.
    fn show_status(&self, adapter: &ServerAdapter) {
        if adapter.get_busy() {
            return;
        }
        let listeners = self.listeners.borrow();
        let selected = SessionId::from_slint(adapter.get_selected_listener());
        let selected = listeners.iter().find(|l| Some(l.id) == selected);
        let status = match selected.and_then(|l| l.view.listening.map(|a| (a, l))) {
            Some((addr, listener)) => {
                let clients = listener.view.clients().len();
                format!(
                    "Listening on {addr} · {clients} client{}",
                    if clients == 1 { "" } else { "s" }
                )
            }
            None => "Stopped".into(),
        };
        adapter.set_status(status.into());
    }

    /// Publishes what the batch changed: counters of updated rows, the selected client's
    /// data, the status line.
    pub fn refresh(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<ServerAdapter>();
        let listeners = self.listeners.borrow();
        let selected = SessionId::from_slint(adapter.get_selected_listener());
        let selected = listeners.iter().find(|l| Some(l.id) == selected);
        if let Some(listener) = selected {
            for index in self.dirty_rows.borrow_mut().drain(..) {
                if index < self.rows.row_count() {
                    self.rows
                        .set_row_data(index, listener.view.clients()[index].row());
                }
            }
        }
        drop(listeners);
        self.show_status(&adapter);
        if self.received_changed.replace(false) {
            self.show_selected(&adapter);
        }
    }
}

fn error_places<'a>(adapter: &'a ServerAdapter<'a>) -> ErrorPlaces<'a> {
    ErrorPlaces {
        page: Page::Server,
        fields: vec![
            ("bind", Box::new(|m| adapter.set_bind_error(m))),
            ("port", Box::new(|m| adapter.set_port_error(m))),
            (
                "max-clients",
                Box::new(|m| adapter.set_max_clients_error(m)),
            ),
            ("reply", Box::new(|m| adapter.set_reply_error(m))),
            ("payload", Box::new(|m| adapter.set_send_error(m))),
        ],
        line: Box::new(|message, hint| {
            adapter.set_error(message);
            adapter.set_error_hint(hint);
        }),
    }
}

fn clear_errors(adapter: &ServerAdapter) {
    error_places(adapter).clear();
}

/// Puts the error under the field that caused it, or in the page's error line.
fn show_error(adapter: &ServerAdapter, error: &NetError) {
    error_places(adapter).show(error);
}

fn payload_from(adapter: &ServerAdapter) -> Option<Vec<u8>> {
    fields_of(adapter)
        .payload()
        .map_err(|error| adapter.set_send_error(error.to_string().into()))
        .ok()
}

/// The tab's fields as a form.
pub fn fields(window: &AppWindow) -> ServerForm {
    fields_of(&window.global::<ServerAdapter>())
}

fn fields_of(adapter: &ServerAdapter) -> ServerForm {
    ServerForm {
        bind: adapter.get_bind_address().into(),
        port: adapter.get_port().into(),
        max_clients: adapter.get_max_clients().into(),
        mode: adapter.get_mode().into(),
        reply: adapter.get_reply().into(),
        payload: adapter.get_payload().into(),
        hex: adapter.get_payload_hex(),
        line_ending: adapter.get_line_ending().into(),
    }
}

/// Fills the tab's fields; running listeners keep running as they are.
pub fn restore(window: &AppWindow, form: &ServerForm) {
    let adapter = window.global::<ServerAdapter>();
    adapter.set_bind_address(form.bind.as_str().into());
    adapter.set_port(form.port.as_str().into());
    adapter.set_max_clients(form.max_clients.as_str().into());
    adapter.set_mode(form.mode.into());
    adapter.set_reply(form.reply.as_str().into());
    adapter.set_payload(form.payload.as_str().into());
    adapter.set_payload_hex(form.hex);
    adapter.set_line_ending(form.line_ending.into());
    clear_errors(&adapter);
}
