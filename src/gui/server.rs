//! The Server tab's controller: validates the fields, sends server commands, and keeps the
//! client list and the selected client's received data up to date.

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::{Instant, SystemTime};

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use super::conversation::{self, ConversationModel, End, Limits, Mark, Transcript};
use super::fonts;
use super::log::LogController;
use super::throughput::Throughput;
use super::ui::{
    AppWindow, ClientRow, ConversationDirection as Direction, ListenerRow, ServerAdapter,
};
use super::{Controller, Count, ErrorPlaces, Page, Span, clock};
use crate::engine::{Action, Engine, Event, EventKind, SessionId, SessionSpec};
use crate::forms::{ServerForm, ServerMode};
use crate::net::NetError;
use crate::net::server::{ClientId, DisconnectReason, ServerEvent};
use crate::net::tls_server::ServerIdentity;
use crate::payload::{ByteCount, Encoding};
use crate::report;

/// What is kept of each connection's conversation for display; the counters still count
/// everything.
pub const CONNECTION_LIMITS: Limits = Limits {
    entries: 64,
    entry_bytes: 1024,
    total_bytes: 16 * 1024,
};

/// Ended connections kept per listener, until the user clears them; older ones go first.
pub const ENDED_KEPT: usize = 50;

/// How a connection ended.
pub struct Ending {
    pub at: SystemTime,
    pub reason: DisconnectReason,
}

/// What the Server tab knows about one connection, live or ended.
pub struct ClientView {
    pub id: ClientId,
    pub peer: SocketAddr,
    pub since: SystemTime,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// What the client sent and what the server sent it, in order.
    pub transcript: Transcript,
    pub ended: Option<Ending>,
    /// The other end is a connection of this window's Client tab.
    pub linked: bool,
    pub throughput: Throughput,
    /// The subject of the certificate a TLS client showed.
    pub tls_subject: Option<String>,
}

impl ClientView {
    fn row(&self) -> ClientRow {
        let counters = format!(
            "{} in · {} out",
            ByteCount(self.bytes_in),
            ByteCount(self.bytes_out)
        );
        let detail = match &self.ended {
            None if self.linked => {
                format!(
                    "↔ the Client tab · since {} · {counters}",
                    clock(self.since)
                )
            }
            None => match &self.tls_subject {
                Some(subject) => format!("{subject} · since {} · {counters}", clock(self.since)),
                None => format!("since {} · {counters}", clock(self.since)),
            },
            Some(ending) => format!(
                "ended: {} · {counters} · {}",
                ending.reason,
                Span(ending.at.duration_since(self.since).unwrap_or_default())
            ),
        };
        ClientRow {
            id: self.id as i32,
            peer: SharedString::from(self.peer.to_string()),
            detail: detail.into(),
            ended: self.ended.is_some(),
        }
    }
}

/// How one event changed the client list.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Nothing,
    Added,
    /// The row changed, and its conversation as said.
    Updated(usize, conversation::Change),
    /// A connection ended (the row at `ended`, as the list is now), and to keep the list
    /// bounded the earliest ended one was dropped from it (`removed`, as the list was).
    EndedAndDropped {
        removed: usize,
        ended: usize,
        said: conversation::Change,
    },
    /// The list changed in more than one place: show it again.
    Rebuilt,
}

/// The Server tab's state without any view: connections in the order they came, each with
/// its counters and a bounded conversation; ended ones stay until cleared.
#[derive(Default)]
pub struct ServerView {
    pub listening: Option<SocketAddr>,
    /// A TLS server's certificate.
    pub identity: Option<ServerIdentity>,
    clients: Vec<ClientView>,
    /// All connections' rates together.
    pub throughput: Throughput,
}

impl ServerView {
    pub fn clients(&self) -> &[ClientView] {
        &self.clients
    }

    pub fn client(&self, id: ClientId) -> Option<&ClientView> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// Connections still open.
    /// Marks the live connection from `peer` as the Client tab's, and tells which it is.
    pub fn link(&mut self, peer: SocketAddr) -> Option<ClientId> {
        let client = (self.clients.iter_mut()).find(|c| c.peer == peer && c.ended.is_none())?;
        client.linked = true;
        Some(client.id)
    }

    pub fn live(&self) -> usize {
        self.clients.iter().filter(|c| c.ended.is_none()).count()
    }

    fn index_of(&self, id: ClientId) -> Option<usize> {
        self.clients.iter().position(|c| c.id == id)
    }

    /// Forgets the ended connections.
    pub fn clear_ended(&mut self) {
        self.clients.retain(|c| c.ended.is_none());
    }

    pub fn apply(&mut self, event: &ServerEvent) -> Change {
        match event {
            ServerEvent::Listening { addr, tls } => {
                self.listening = Some(*addr);
                self.identity.clone_from(tls);
                Change::Nothing
            }
            ServerEvent::Secured { id, peer, tls } => {
                let Some(index) = self.index_of(*id) else {
                    return Change::Nothing;
                };
                let client = &mut self.clients[index];
                client.tls_subject.clone_from(&tls.client_subject);
                let secured = Mark::Connected {
                    tcp: None,
                    tls: Some((tls.version.clone(), tls.handshake)),
                };
                let said = client.transcript.mark(
                    format!("connected from {peer}, {}", report::client_tls_summary(tls)),
                    secured,
                );
                Change::Updated(index, said)
            }
            ServerEvent::TlsOnPlainPort { id, .. } => {
                let Some(index) = self.index_of(*id) else {
                    return Change::Nothing;
                };
                let said = self.clients[index].transcript.mark(
                    "began a TLS handshake, but this server speaks plain TCP: turn TLS on to serve it".into(),
                    Mark::Said,
                );
                Change::Updated(index, said)
            }
            ServerEvent::Connected { id, peer, since } => {
                let mut transcript = Transcript::new(CONNECTION_LIMITS);
                // A TLS client is marked connected once its handshake is done.
                if self.identity.is_none() {
                    let accepted = Mark::Connected {
                        tcp: None,
                        tls: None,
                    };
                    transcript.mark(format!("connected from {peer}"), accepted);
                }
                self.clients.push(ClientView {
                    id: *id,
                    peer: *peer,
                    since: *since,
                    bytes_in: 0,
                    bytes_out: 0,
                    transcript,
                    ended: None,
                    linked: false,
                    throughput: Throughput::default(),
                    tls_subject: None,
                });
                Change::Added
            }
            ServerEvent::Received { id, bytes, .. } => self.said(*id, Direction::Received, bytes),
            ServerEvent::Sent { id, bytes, .. } => self.said(*id, Direction::Sent, bytes),
            ServerEvent::Disconnected { id, reason, .. } => {
                let Some(index) = self.index_of(*id) else {
                    return Change::Nothing;
                };
                let client = &mut self.clients[index];
                client.ended = Some(Ending {
                    at: SystemTime::now(),
                    reason: reason.clone(),
                });
                let mark = match reason {
                    DisconnectReason::ClosedByPeer => Mark::Closed { by_server: false },
                    DisconnectReason::ResetByPeer => Mark::Reset,
                    DisconnectReason::Failed(_) | DisconnectReason::TlsFailed(_) => Mark::Failed,
                    _ => Mark::Closed { by_server: true },
                };
                let said = client.transcript.mark(format!("ended: {reason}"), mark);
                // The connection that ended first goes when too many ended ones are kept.
                let ended = self.clients.iter().filter(|c| c.ended.is_some()).count();
                let earliest = (self.clients.iter().enumerate())
                    .filter_map(|(at, c)| Some((at, c.ended.as_ref()?.at)))
                    .min_by_key(|(_, ended_at)| *ended_at)
                    .map(|(at, _)| at);
                match earliest {
                    Some(removed) if ended > ENDED_KEPT && removed != index => {
                        self.clients.remove(removed);
                        let ended = if removed < index { index - 1 } else { index };
                        Change::EndedAndDropped {
                            removed,
                            ended,
                            said,
                        }
                    }
                    _ => Change::Updated(index, said),
                }
            }
            ServerEvent::Stopped => {
                self.listening = None;
                self.clients.clear();
                Change::Rebuilt
            }
            ServerEvent::Refused { .. } | ServerEvent::AcceptFailed { .. } => Change::Nothing,
        }
    }

    fn said(&mut self, id: ClientId, direction: Direction, bytes: &[u8]) -> Change {
        let Some(index) = self.index_of(id) else {
            return Change::Nothing;
        };
        let client = &mut self.clients[index];
        match direction {
            Direction::Received => {
                client.bytes_in += bytes.len() as u64;
                client.throughput.received(bytes.len());
                self.throughput.received(bytes.len());
            }
            _ => {
                client.bytes_out += bytes.len() as u64;
                client.throughput.sent(bytes.len());
                self.throughput.sent(bytes.len());
            }
        }
        Change::Updated(index, client.transcript.data(direction, bytes))
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
        let clients = self.view.live();
        let address = match self.view.listening {
            Some(addr) => addr.to_string(),
            None => format!("{}:{}", self.form.bind.trim(), self.form.port.trim()),
        };
        ListenerRow {
            id: self.id.to_slint(),
            address: address.into(),
            detail: format!(
                "{} · {}",
                self.form.summary().rsplit(" · ").next().unwrap_or_default(),
                Count(clients, "client")
            )
            .into(),
        }
    }
}

pub struct ServerController {
    window: slint::Weak<AppWindow>,
    engine: Rc<Engine>,
    log: Rc<LogController>,
    /// In the order they were started.
    listeners: RefCell<Vec<Listener>>,
    listener_rows: Rc<VecModel<ListenerRow>>,
    /// The selected listener's clients.
    rows: Rc<VecModel<ClientRow>>,
    /// Rows to publish at the end of the batch.
    dirty_rows: RefCell<Vec<usize>>,
    /// The selected connection's conversation.
    shown: RefCell<ConversationModel>,
}

impl Controller for ServerController {
    fn window(&self) -> &slint::Weak<AppWindow> {
        &self.window
    }
}

impl ServerController {
    pub fn setup(window: &AppWindow, engine: Rc<Engine>, log: Rc<LogController>) -> Rc<Self> {
        let rows = Rc::new(VecModel::default());
        let listener_rows = Rc::new(VecModel::default());
        let adapter = window.global::<ServerAdapter>();
        adapter.set_clients(ModelRc::from(rows.clone()));
        adapter.set_listeners(ModelRc::from(listener_rows.clone()));
        let shown = ConversationModel::new(End::Server);
        adapter.set_conversation(shown.model());
        adapter.set_flow(shown.flow());
        let controller = Rc::new(ServerController {
            window: window.as_weak(),
            engine,
            log,
            listeners: RefCell::default(),
            listener_rows,
            rows,
            dirty_rows: RefCell::default(),
            shown: RefCell::new(shown),
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
        adapter.on_start(super::on(&controller, |controller, window| {
            if controller.start(&window.global()).is_some() {
                super::typing_ended(window);
            }
        }));
        adapter.on_stop(on(|controller, adapter| {
            controller.stop_listener(adapter, adapter.get_selected_listener())
        }));
        adapter.on_stop_listener(on_id(Self::stop_listener));
        adapter.on_select_listener(on_id(|controller, adapter, id| {
            controller.select_listener(adapter, SessionId::from_slint(id))
        }));
        adapter.on_mode_changed(on(Self::mode_changed));
        adapter.on_view_changed(on(Self::show_selected));
        let sending = |send: fn(&Self, &ServerAdapter) -> bool| {
            super::on(&controller, move |controller, window| {
                if send(controller, &window.global()) {
                    super::typing_ended(window);
                }
            })
        };
        adapter.on_send(sending(Self::send));
        adapter.on_broadcast(sending(Self::broadcast));
        adapter.on_select_client(on_id(|controller, adapter, id| {
            adapter.set_selected_client(id);
            // Another conversation opens at its newest entry.
            adapter.set_conversation_following(true);
            adapter.set_flow_following(true);
            adapter.set_chosen_entry(-1);
            controller.show_selected(adapter);
            controller.refresh_graphs(Instant::now());
        }));
        adapter.on_clear_ended(on(Self::clear_ended));
        adapter.on_kick(on_id(|controller, adapter, id| {
            if let Some(listener) = SessionId::from_slint(adapter.get_selected_listener()) {
                controller
                    .engine
                    .act(listener, Action::Kick(id as ClientId));
            }
        }));
        controller
    }

    /// Starts another listener with the form's fields; the others keep running. Tells its
    /// id, unless a field is wrong (the error then shows under it).
    pub fn start(&self, adapter: &ServerAdapter) -> Option<SessionId> {
        clear_errors(adapter);
        let form = fields_of(adapter);
        match form.check() {
            Ok(config) => {
                adapter.set_busy(true);
                adapter.set_status("Starting…".into());
                let id = self.engine.open(SessionSpec::Server(config));
                let listener = Listener {
                    id,
                    form,
                    view: ServerView::default(),
                };
                // Listed at once, so the rows stay in step with the listeners.
                self.listener_rows.push(listener.row());
                self.listeners.borrow_mut().push(listener);
                self.select_listener(adapter, Some(id));
                Some(id)
            }
            Err(error) => {
                show_error(adapter, &error);
                None
            }
        }
    }

    /// What to say of a request to `port` at one of `addresses` (what a URL's host names):
    /// that a listener of this tab there will not answer HTTP, unless it is in HTTP mode.
    pub fn not_answering_http(&self, addresses: &[IpAddr], port: u16) -> Option<String> {
        let listeners = self.listeners.borrow();
        let reached = listeners.iter().find(|listener| {
            listener.view.listening.is_some_and(|at| {
                at.port() == port && addresses.iter().any(|address| accepts(at.ip(), *address))
            })
        })?;
        let mode = match reached.form.mode {
            ServerMode::Http => return None,
            ServerMode::Manual => "Manual",
            ServerMode::Echo => "Echo",
            ServerMode::AutoReply => "Auto-reply",
        };
        Some(format!(
            "The Server tab's listener on :{port} is in {mode} mode: it will not answer HTTP"
        ))
    }

    fn stop_listener(&self, adapter: &ServerAdapter, id: i32) {
        if let Some(id) = SessionId::from_slint(id) {
            adapter.set_busy(true);
            adapter.set_status("Stopping…".into());
            self.engine.close(id);
        }
    }

    /// Shows `id`'s clients (or none) and makes it the listener the tab acts on.
    pub fn select_listener(&self, adapter: &ServerAdapter, id: Option<SessionId>) {
        let listeners = self.listeners.borrow();
        let selected = id.and_then(|id| listeners.iter().find(|l| l.id == id));
        adapter.set_selected_listener(selected.map_or(0, |l| l.id.to_slint()));
        adapter.set_listening(selected.is_some_and(|l| l.view.listening.is_some()));
        adapter.set_all_interfaces(
            selected
                .and_then(|l| l.view.listening)
                .is_some_and(|addr| addr.ip().is_unspecified()),
        );
        adapter.set_selected_client(-1);
        drop(listeners);
        self.show_clients(adapter);
        self.refresh_graphs(Instant::now());
    }

    /// Forgets the selected listener's ended connections.
    fn clear_ended(&self, adapter: &ServerAdapter) {
        let selected = SessionId::from_slint(adapter.get_selected_listener());
        if let Some(listener) =
            (self.listeners.borrow_mut().iter_mut()).find(|l| Some(l.id) == selected)
        {
            listener.view.clear_ended();
        }
        self.show_clients(adapter);
    }

    /// Shows the selected listener's connections again, keeping the selected one if it is
    /// still listed.
    fn show_clients(&self, adapter: &ServerAdapter) {
        let listeners = self.listeners.borrow();
        let view = selected_listener(&listeners, adapter).map(|l| &l.view);
        let rows: Vec<_> = view
            .map(|v| v.clients().iter().map(ClientView::row).collect())
            .unwrap_or_default();
        self.rows.set_vec(rows);
        self.dirty_rows.borrow_mut().clear();
        let client = u64::try_from(adapter.get_selected_client()).ok();
        if view.and_then(|v| v.client(client?)).is_none() {
            adapter.set_selected_client(-1);
            adapter.set_conversation_following(true);
        }
        drop(listeners);
        self.show_selected(adapter);
        self.show_status(adapter);
    }

    pub fn mode_changed(&self, adapter: &ServerAdapter) {
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
                    let row = listener.row();
                    if let Some(index) = (self.listener_rows.iter()).position(|r| r.id == row.id) {
                        self.listener_rows.set_row_data(index, row);
                    }
                }
            }
            Err(error) => show_error(adapter, &error),
        }
    }

    /// Sends the send box to the selected client; tells whether it went.
    fn send(&self, adapter: &ServerAdapter) -> bool {
        adapter.set_send_error(SharedString::new());
        let id = adapter.get_selected_client();
        let listener = SessionId::from_slint(adapter.get_selected_listener());
        let (Some(listener), true) = (listener, id >= 0) else {
            adapter.set_send_error("Select a client first, or use Broadcast.".into());
            return false;
        };
        if adapter.get_selected_ended() {
            adapter.set_send_error("This client has gone: select a connected one.".into());
            return false;
        }
        let Some(bytes) = self.payload_for(adapter, listener) else {
            return false;
        };
        let client = id as ClientId;
        self.engine.act(listener, Action::SendTo { client, bytes });
        true
    }

    /// The send box's bytes, about to be sent by `listener` (the log shows hex as hex); an
    /// error shows under the box.
    fn payload_for(&self, adapter: &ServerAdapter, listener: SessionId) -> Option<Vec<u8>> {
        let form = fields_of(adapter);
        match form.payload() {
            Ok(bytes) => {
                self.log
                    .sending(listener, &bytes, Encoding::hex_if(form.hex));
                Some(bytes)
            }
            Err(error) => {
                adapter.set_send_error(error.to_string().into());
                None
            }
        }
    }

    /// Sends the send box to every client; tells whether it went.
    fn broadcast(&self, adapter: &ServerAdapter) -> bool {
        adapter.set_send_error(SharedString::new());
        let Some(listener) = SessionId::from_slint(adapter.get_selected_listener()) else {
            return false;
        };
        let Some(bytes) = self.payload_for(adapter, listener) else {
            return false;
        };
        self.engine.act(listener, Action::Broadcast(bytes));
        true
    }

    /// Shows the selected connection's conversation, or none.
    fn show_selected(&self, adapter: &ServerAdapter) {
        let listeners = self.listeners.borrow();
        let view = selected_listener(&listeners, adapter).map(|l| &l.view);
        self.show_connection(adapter, view);
    }

    fn show_connection(&self, adapter: &ServerAdapter, view: Option<&ServerView>) {
        let id = u64::try_from(adapter.get_selected_client()).ok();
        let selected = view.zip(id).and_then(|(view, id)| view.client(id));
        let mut shown = self.shown.borrow_mut();
        match selected {
            Some(client) => shown.show(&client.transcript, adapter.get_show_hex()),
            None => shown.clear(),
        }
        let peer = selected.map(|c| c.peer.to_string()).unwrap_or_default();
        adapter.set_client_lane(format!("Client {peer}").into());
        let address = view.and_then(|view| view.listening);
        adapter.set_server_lane(match address {
            Some(address) => format!("Server {address}").into(),
            None => "Server".into(),
        });
        adapter.set_flow_forgotten(shown.forgotten as i32);
        adapter.set_selected_peer(peer.into());
        adapter.set_selected_ended(selected.is_some_and(|c| c.ended.is_some()));
        adapter.set_font_note(fonts::font_note(shown.missing_script));
        adapter.set_revision(adapter.get_revision().wrapping_add(1));
    }

    /// A row of the shown list changed, and its conversation as `said`.
    fn row_changed(
        &self,
        adapter: &ServerAdapter,
        view: &ServerView,
        row: usize,
        said: conversation::Change,
    ) {
        let mut dirty = self.dirty_rows.borrow_mut();
        if !dirty.contains(&row) {
            dirty.push(row);
        }
        let client = &view.clients()[row];
        if client.id as i32 == adapter.get_selected_client() {
            let mut shown = self.shown.borrow_mut();
            shown.follow(&client.transcript, said, adapter.get_show_hex());
            adapter.set_flow_forgotten(shown.forgotten as i32);
            adapter.set_font_note(fonts::font_note(shown.missing_script));
            adapter.set_selected_ended(client.ended.is_some());
            adapter.set_revision(adapter.get_revision().wrapping_add(1));
        }
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
            EventKind::Client(_)
            | EventKind::Http(_)
            | EventKind::Udp(_)
            | EventKind::UdpFailed(_) => return,
        };
        let mut listeners = self.listeners.borrow_mut();
        let Some(index) = listeners.iter().position(|l| l.id == event_listener) else {
            return;
        };
        let change = listeners[index].view.apply(event);
        match event {
            ServerEvent::Listening { addr, .. } => {
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
        if index < self.listener_rows.row_count() {
            self.listener_rows
                .set_row_data(index, listeners[index].row());
        }
        if !is_selected {
            return;
        }
        let view = &listeners[index].view;
        match change {
            Change::Nothing => {}
            Change::Added => self
                .rows
                .push(view.clients()[view.clients().len() - 1].row()),
            Change::Updated(row, said) => self.row_changed(&adapter, view, row, said),
            Change::EndedAndDropped {
                removed,
                ended,
                said,
            } => {
                self.rows.remove(removed);
                let mut dirty = self.dirty_rows.borrow_mut();
                dirty.retain(|&i| i != removed);
                dirty
                    .iter_mut()
                    .filter(|i| **i > removed)
                    .for_each(|i| *i -= 1);
                drop(dirty);
                let selected = adapter.get_selected_client();
                if selected >= 0 && view.client(selected as ClientId).is_none() {
                    adapter.set_selected_client(-1);
                    self.show_connection(&adapter, Some(view));
                }
                self.row_changed(&adapter, view, ended, said);
            }
            Change::Rebuilt => {
                drop(listeners);
                self.show_clients(&adapter);
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

    /// The selected listener's address and client count, unless a start or stop is under way,
    /// and whether it has ended connections to clear.
    fn show_status(&self, adapter: &ServerAdapter) {
        let listeners = self.listeners.borrow();
        let selected = selected_listener(&listeners, adapter);
        adapter.set_has_ended(
            selected.is_some_and(|l| l.view.clients().iter().any(|c| c.ended.is_some())),
        );
        adapter.set_live_clients(selected.map_or(0, |l| l.view.live()) as i32);
        let certificate = selected
            .and_then(|l| l.view.identity.as_ref())
            .map(report::server_tls_summary)
            .unwrap_or_default();
        adapter.set_certificate(certificate.into());
        if adapter.get_busy() {
            return;
        }
        let status = match selected.and_then(|l| l.view.listening.map(|a| (a, l))) {
            Some((addr, listener)) => {
                let clients = listener.view.live();
                format!("Listening on {addr} · {}", Count(clients, "client"))
            }
            None => "Stopped".into(),
        };
        adapter.set_status(status.into());
    }

    /// Finds the live connection that comes from `peer` (the Client tab's end of it) and
    /// marks it; `show` makes it the shown listener and connection, so both ends of the
    /// conversation are on screen. Tells the listener's address.
    pub fn link(&self, peer: SocketAddr, show: bool) -> Option<String> {
        let mut listeners = self.listeners.borrow_mut();
        let (listener, client, address) = listeners.iter_mut().find_map(|listener| {
            let client = listener.view.link(peer)?;
            let address = listener.row().address.to_string();
            Some((listener.id, client, address))
        })?;
        drop(listeners);
        if let Some(window) = self.window.upgrade() {
            let adapter = window.global::<ServerAdapter>();
            if show {
                self.select_listener(&adapter, Some(listener));
                adapter.set_selected_client(client as i32);
                adapter.set_conversation_following(true);
                adapter.set_flow_following(true);
                self.show_selected(&adapter);
                self.refresh_graphs(Instant::now());
            }
            if SessionId::from_slint(adapter.get_selected_listener()) == Some(listener) {
                self.show_clients(&adapter);
            }
        }
        Some(address)
    }

    /// Draws the shown listener's rates and its shown connection's as they are `now`; tells
    /// whether any graph still moves with time.
    pub fn refresh_graphs(&self, now: Instant) -> bool {
        let Some(window) = self.window.upgrade() else {
            return false;
        };
        let adapter = window.global::<ServerAdapter>();
        let listeners = self.listeners.borrow();
        let mut graphs = Vec::new();
        if let Some(listener) = selected_listener(&listeners, &adapter) {
            let address = listener.row().address;
            graphs.push(
                (listener.view.throughput).rates(format!("All connections of {address}"), now),
            );
            let client = u64::try_from(adapter.get_selected_client()).ok();
            if let Some(client) = client.and_then(|id| listener.view.client(id)) {
                let title = format!("Connection from {}", client.peer);
                graphs.push(client.throughput.rates(title, now));
            }
        }
        adapter.set_graphs(ModelRc::new(VecModel::from(graphs)));
        (listeners.iter()).any(|listener| listener.view.throughput.moving(now))
    }

    /// Publishes what the batch changed: counters of updated rows and the status line.
    pub fn refresh(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<ServerAdapter>();
        let listeners = self.listeners.borrow();
        if let Some(listener) = selected_listener(&listeners, &adapter) {
            for index in self.dirty_rows.borrow_mut().drain(..) {
                if index < self.rows.row_count() {
                    self.rows
                        .set_row_data(index, listener.view.clients()[index].row());
                }
            }
        }
        drop(listeners);
        self.show_status(&adapter);
    }
}

/// The listener the tab shows and acts on.
fn selected_listener<'a>(
    listeners: &'a [Listener],
    adapter: &ServerAdapter,
) -> Option<&'a Listener> {
    let selected = SessionId::from_slint(adapter.get_selected_listener())?;
    listeners.iter().find(|l| l.id == selected)
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
            ("tls", Box::new(|m| adapter.set_tls_error(m))),
            ("cert", Box::new(|m| adapter.set_cert_error(m))),
            ("key", Box::new(|m| adapter.set_key_error(m))),
            ("client-ca", Box::new(|m| adapter.set_client_ca_error(m))),
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

/// Whether a listener bound to `bound` takes connections to `address`: its own address, or
/// any of its family's when it listens on all of them.
fn accepts(bound: IpAddr, address: IpAddr) -> bool {
    bound == address || (bound.is_unspecified() && bound.is_ipv4() == address.is_ipv4())
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
        tls: adapter.get_tls(),
        cert: adapter.get_cert().into(),
        key: adapter.get_key().into(),
        client_ca: adapter.get_client_ca().into(),
        ciphers: adapter.get_ciphers().into(),
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
    adapter.set_tls(form.tls);
    adapter.set_cert(form.cert.as_str().into());
    adapter.set_key(form.key.as_str().into());
    adapter.set_client_ca(form.client_ca.as_str().into());
    adapter.set_ciphers(form.ciphers.as_str().into());
    clear_errors(&adapter);
}
