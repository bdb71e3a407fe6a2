//! The Client tab's controller: validates host and port, connects through the engine, and
//! keeps a bounded conversation of what was sent and received.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use super::conversation::{CLIENT_LIMITS, ConversationModel, End, Mark, Transcript};
use super::fonts::font_note;
use super::log::LogController;
use super::throughput::Throughput;
use super::ui::{
    AppWindow, ClientAdapter, ConnectionRow, ConnectionState, ConversationDirection as Direction,
};
use super::{Controller, ErrorPlaces, Page};
use crate::engine::{Action, Engine, Event, EventKind, SessionId, SessionSpec};
use crate::forms::ClientForm;
use crate::net::NetError;
use crate::net::client::{ClientConfig, ClientEvent, CloseReason};
use crate::payload::{self, ByteCount, Encoding};
use crate::report;
use std::time::Instant;

/// One connection of the tab: what it was opened with, its state and its conversation.
struct Link {
    id: SessionId,
    config: ClientConfig,
    label: String,
    state: ConnectionState,
    status: String,
    unverified: bool,
    transcript: Transcript,
    shown: ConversationModel,
    bytes_in: u64,
    bytes_out: u64,
    /// This end's address while connected: on loopback, the peer a server of this window sees.
    local: Option<SocketAddr>,
    /// Found as a connection of one of this window's servers.
    linked: bool,
    /// The flow's name for this end: "Client :40876" once connected.
    lane: String,
    /// This end's port once connected, kept after the end: it tells connections to one
    /// endpoint apart.
    own_port: Option<u16>,
    throughput: Throughput,
}

impl Link {
    fn row(&self) -> ConnectionRow {
        let label = match self.own_port {
            Some(port) => format!("{} :{port}", self.label),
            None => self.label.clone(),
        };
        ConnectionRow {
            id: self.id.to_slint(),
            label: label.into(),
            state: self.state,
        }
    }

    /// Open or opening to the endpoint `config` names.
    fn reaches(&self, config: &ClientConfig) -> bool {
        self.state != ConnectionState::Idle
            && self.config.host == config.host
            && self.config.port == config.port
            && self.config.tls.is_some() == config.tls.is_some()
    }

    fn note(&mut self, text: String, mark: Mark, hex: bool) {
        let change = self.transcript.mark(text, mark);
        self.shown.follow(&self.transcript, change, hex);
    }

    fn data(&mut self, direction: Direction, bytes: &[u8], hex: bool) {
        let change = self.transcript.data(direction, bytes);
        self.shown.follow(&self.transcript, change, hex);
    }
}

pub struct ClientController {
    window: slint::Weak<AppWindow>,
    engine: Rc<Engine>,
    log: Rc<LogController>,
    /// In the order they were opened; ended ones stay until replaced or cleared.
    links: RefCell<Vec<Link>>,
    rows: Rc<VecModel<ConnectionRow>>,
    changed: Cell<bool>,
}

impl Controller for ClientController {
    fn window(&self) -> &slint::Weak<AppWindow> {
        &self.window
    }
}

impl ClientController {
    pub fn setup(window: &AppWindow, engine: Rc<Engine>, log: Rc<LogController>) -> Rc<Self> {
        let rows = Rc::new(VecModel::default());
        let adapter = window.global::<ClientAdapter>();
        adapter.set_connections(ModelRc::from(rows.clone()));
        let controller = Rc::new(ClientController {
            window: window.as_weak(),
            engine,
            log,
            links: RefCell::default(),
            rows,
            changed: Cell::new(false),
        });
        let on = |action: fn(&Self, &ClientAdapter)| {
            super::on(&controller, move |c, w| {
                action(c, &w.global::<ClientAdapter>())
            })
        };
        adapter.on_connect(super::on(&controller, |controller, window| {
            if controller.connect(&window.global()).is_some() {
                super::typing_ended(window);
            }
        }));
        adapter.on_disconnect(on(|controller, adapter| {
            if let Some(id) = SessionId::from_slint(adapter.get_selected_connection()) {
                controller.engine.close(id);
            }
        }));
        adapter.on_reconnect(on(Self::reconnect));
        adapter.on_send(super::on(&controller, |controller, window| {
            if controller.send(&window.global()) {
                super::typing_ended(window);
            }
        }));
        adapter.on_view_changed(on(Self::rerender));
        adapter.on_clear(on(|controller, adapter| {
            let selected = SessionId::from_slint(adapter.get_selected_connection());
            if let Some(link) =
                (controller.links.borrow_mut().iter_mut()).find(|link| Some(link.id) == selected)
            {
                link.transcript.clear();
                link.shown.show(&link.transcript, adapter.get_show_hex());
            }
            controller.changed.set(true);
            controller.refresh_adapter(adapter);
        }));
        adapter.on_select_connection(super::on_value(&controller, |c, w, id| {
            c.select(&w.global::<ClientAdapter>(), SessionId::from_slint(id))
        }));
        controller
    }

    /// Opens another connection with the form's fields; the open ones stay open. Tells its
    /// id, unless a field is wrong (the error then shows under it).
    pub fn connect(&self, adapter: &ClientAdapter) -> Option<SessionId> {
        clear_errors(adapter);
        match fields_of(adapter).check() {
            Ok(config) => Some(self.open(adapter, config, None)),
            Err(error) => {
                show_error(adapter, &error);
                None
            }
        }
    }

    /// Opens the selected connection again, as it was first opened, in its place.
    fn reconnect(&self, adapter: &ClientAdapter) {
        clear_errors(adapter);
        let selected = SessionId::from_slint(adapter.get_selected_connection());
        let config = (self.links.borrow().iter())
            .find(|link| Some(link.id) == selected)
            .map(|link| (link.id, link.config.clone()));
        match config {
            Some((old, config)) => {
                self.engine.close(old);
                self.open(adapter, config, Some(old));
            }
            None => show_error(
                adapter,
                &NetError::invalid("host", "nothing to reconnect to: connect first"),
            ),
        }
    }

    fn open(
        &self,
        adapter: &ClientAdapter,
        config: ClientConfig,
        replacing: Option<SessionId>,
    ) -> SessionId {
        let label = format!("{}:{}", config.host, config.port);
        let status = format!("Connecting to {label}…");
        let id = self.engine.open(SessionSpec::Client(config.clone()));
        let link = Link {
            id,
            config,
            label,
            state: ConnectionState::Connecting,
            status,
            unverified: false,
            transcript: Transcript::new(CLIENT_LIMITS),
            shown: ConversationModel::new(End::Client),
            bytes_in: 0,
            bytes_out: 0,
            local: None,
            linked: false,
            lane: "Client".into(),
            own_port: None,
            throughput: Throughput::default(),
        };
        let mut links = self.links.borrow_mut();
        match replacing.and_then(|old| links.iter().position(|link| link.id == old)) {
            Some(index) => {
                // The conversation goes on where it was.
                let old = std::mem::replace(&mut links[index], link);
                let link = &mut links[index];
                (link.transcript, link.shown) = (old.transcript, old.shown);
                link.note(link.status.clone(), Mark::Said, adapter.get_show_hex());
                self.rows.set_row_data(index, link.row());
            }
            None => {
                self.rows.push(link.row());
                links.push(link);
            }
        }
        drop(links);
        self.select(adapter, Some(id));
        id
    }

    /// Takes the connections `ids` off the tab, chips and conversations, whatever their state
    /// (closing them is the caller's). The tab shows the newest one left if it showed one of
    /// them.
    pub fn forget(&self, ids: &[SessionId]) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<ClientAdapter>();
        let mut links = self.links.borrow_mut();
        let before = links.len();
        links.retain(|link| !ids.contains(&link.id));
        if links.len() == before {
            return;
        }
        self.rows
            .set_vec(links.iter().map(Link::row).collect::<Vec<_>>());
        let selected = SessionId::from_slint(adapter.get_selected_connection());
        let newest = links.last().map(|link| link.id);
        drop(links);
        if selected.is_some_and(|id| ids.contains(&id)) {
            self.select(&adapter, newest);
        }
    }

    /// Shows `id`'s conversation and state; Send, Disconnect and Reconnect act on it.
    pub fn select(&self, adapter: &ClientAdapter, id: Option<SessionId>) {
        let links = self.links.borrow();
        let link = id.and_then(|id| links.iter().find(|link| link.id == id));
        adapter.set_selected_connection(link.map_or(0, |link| link.id.to_slint()));
        // Another conversation opens at its newest entry.
        adapter.set_conversation_following(true);
        adapter.set_flow_following(true);
        adapter.set_chosen_entry(-1);
        match link {
            Some(link) => {
                adapter.set_conversation(link.shown.model());
                adapter.set_flow(link.shown.flow());
            }
            None => {
                adapter.set_conversation(ModelRc::default());
                adapter.set_flow(ModelRc::default());
            }
        }
        drop(links);
        self.changed.set(true);
        self.refresh_adapter(adapter);
        self.refresh_graphs(Instant::now());
    }

    /// Sends the message on the connection shown; tells whether it went.
    pub fn send(&self, adapter: &ClientAdapter) -> bool {
        adapter.set_send_error(SharedString::new());
        let form = fields_of(adapter);
        let selected = SessionId::from_slint(adapter.get_selected_connection());
        match (form.payload(), selected) {
            (Ok(bytes), Some(id)) => {
                self.send_on(id, bytes, form.hex);
                true
            }
            (Ok(_), None) => false,
            (Err(error), _) => {
                adapter.set_send_error(error.to_string().into());
                false
            }
        }
    }

    /// What Connect then Send do, in one (a client preset's Run): the message goes on the
    /// connection already open to the same endpoint, else on a new one (sent once it is
    /// connected). Many devices take one client at a time. An empty message only connects.
    pub fn connect_and_send(&self, adapter: &ClientAdapter) {
        clear_errors(adapter);
        let form = fields_of(adapter);
        let config = match form.check() {
            Ok(config) => config,
            Err(error) => return show_error(adapter, &error),
        };
        let bytes = match form.payload() {
            Ok(bytes) => Some(bytes),
            Err(_) if form.payload.is_empty() => None,
            Err(error) => return show_error(adapter, &error),
        };
        let selected = SessionId::from_slint(adapter.get_selected_connection());
        let open = {
            let links = self.links.borrow();
            let reaching = || links.iter().filter(|link| link.reaches(&config));
            // The one shown first, else the newest.
            (reaching().find(|link| Some(link.id) == selected))
                .or_else(|| reaching().next_back())
                .map(|link| link.id)
        };
        let id = match open {
            Some(id) => {
                self.select(adapter, Some(id));
                id
            }
            None => self.open(adapter, config, None),
        };
        if let Some(bytes) = bytes {
            self.send_on(id, bytes, form.hex);
        }
    }

    fn send_on(&self, id: SessionId, bytes: Vec<u8>, hex: bool) {
        self.log.sending(id, &bytes, Encoding::hex_if(hex));
        self.engine.act(id, Action::Send(bytes));
    }

    fn rerender(&self, adapter: &ClientAdapter) {
        let hex = adapter.get_show_hex();
        for link in self.links.borrow_mut().iter_mut() {
            link.shown.show(&link.transcript, hex);
        }
    }

    pub fn on_event(&self, event: &Event) {
        let EventKind::Client(client_event) = &event.kind else {
            return;
        };
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<ClientAdapter>();
        let hex = adapter.get_show_hex();
        let selected =
            SessionId::from_slint(adapter.get_selected_connection()) == Some(event.session);
        let mut links = self.links.borrow_mut();
        let Some(index) = links.iter().position(|link| link.id == event.session) else {
            return;
        };
        let link = &mut links[index];
        match client_event {
            ClientEvent::Connected {
                peer,
                local,
                tls,
                timings,
            } => {
                link.state = ConnectionState::Connected;
                link.unverified = tls.as_ref().is_some_and(|tls| tls.unverified);
                link.local = *local;
                link.linked = false;
                if let Some(local) = local {
                    link.lane = format!("Client :{}", local.port());
                    link.own_port = Some(local.port());
                }
                let from = local.map_or(String::new(), |local| {
                    format!(" from port {}", local.port())
                });
                link.status = match tls {
                    Some(tls) => format!(
                        "Connected to {peer}{from} ({}, {})",
                        tls.version, tls.cipher
                    ),
                    None => format!("Connected to {peer}{from}"),
                };
                let mark = Mark::Connected {
                    tcp: Some(timings.connect),
                    tls: tls
                        .as_ref()
                        .zip(timings.tls)
                        .map(|(tls, took)| (tls.version.clone(), took)),
                };
                link.note(link.status.clone(), mark, hex);
            }
            ClientEvent::Sent(bytes) => {
                link.bytes_out += bytes.len() as u64;
                link.throughput.sent(bytes.len());
                link.data(Direction::Sent, bytes, hex);
            }
            ClientEvent::Received(bytes) => {
                link.bytes_in += bytes.len() as u64;
                link.throughput.received(bytes.len());
                link.data(Direction::Received, bytes, hex);
            }
            ClientEvent::Failed(error) => {
                link.state = ConnectionState::Idle;
                link.local = None;
                link.unverified = false;
                link.status = "Not connected".into();
                if selected {
                    show_error(&adapter, error);
                }
                link.note(format!("{error}"), Mark::Failed, hex);
            }
            ClientEvent::Closed { reason, .. } => {
                link.state = ConnectionState::Idle;
                link.local = None;
                link.unverified = false;
                link.status = match reason {
                    CloseReason::ClosedByPeer => "Closed by the server",
                    CloseReason::Local => "Disconnected",
                    CloseReason::Failed(_) => "Connection failed",
                }
                .into();
                if let (CloseReason::Failed(error), true) = (reason, selected) {
                    show_error(&adapter, error);
                }
                let style = report::DataStyle {
                    encoding: payload::Encoding::Text,
                    max_chars: None,
                };
                let mark = match reason {
                    CloseReason::ClosedByPeer => Mark::Closed { by_server: true },
                    CloseReason::Local => Mark::Closed { by_server: false },
                    CloseReason::Failed(NetError::Reset { .. }) => Mark::Reset,
                    CloseReason::Failed(_) => Mark::Failed,
                };
                let said = report::client_line(client_event, style, &Page::Client);
                link.note(said, mark, hex);
            }
        }
        self.rows.set_row_data(index, link.row());
        self.changed.set(true);
    }

    /// Connected links not yet found among this window's servers: (id, local address,
    /// whether the tab shows it).
    pub fn unlinked(&self) -> Vec<(SessionId, SocketAddr, bool)> {
        let selected = (self.window.upgrade()).and_then(|w| {
            SessionId::from_slint(w.global::<ClientAdapter>().get_selected_connection())
        });
        (self.links.borrow().iter())
            .filter(|link| !link.linked)
            .filter_map(|link| Some((link.id, link.local?, Some(link.id) == selected)))
            .collect()
    }

    /// `id` is `server`'s connection: both ends of it are this window's.
    pub fn linked(&self, id: SessionId, server: &str) {
        if let Some(link) = (self.links.borrow_mut().iter_mut()).find(|link| link.id == id) {
            link.linked = true;
            link.status
                .push_str(&format!(" · ↔ {server} of the Server tab"));
            self.changed.set(true);
        }
        self.refresh();
    }

    /// Draws the shown connection's rates as they are `now`; tells whether any connection's
    /// graph still moves with time.
    pub fn refresh_graphs(&self, now: Instant) -> bool {
        let Some(window) = self.window.upgrade() else {
            return false;
        };
        let adapter = window.global::<ClientAdapter>();
        let selected = SessionId::from_slint(adapter.get_selected_connection());
        let links = self.links.borrow();
        let graphs: Vec<_> = (links.iter())
            .filter(|link| Some(link.id) == selected)
            .map(|link| {
                link.throughput
                    .rates(format!("Connection to {}", link.label), now)
            })
            .collect();
        adapter.set_graphs(ModelRc::new(VecModel::from(graphs)));
        links.iter().any(|link| link.throughput.moving(now))
    }

    /// Publishes the selected connection's state and counters once per batch.
    pub fn refresh(&self) {
        if let Some(window) = self.window.upgrade() {
            self.refresh_adapter(&window.global::<ClientAdapter>());
        }
    }

    fn refresh_adapter(&self, adapter: &ClientAdapter) {
        if !self.changed.replace(false) {
            return;
        }
        let links = self.links.borrow();
        let selected = SessionId::from_slint(adapter.get_selected_connection());
        match links.iter().find(|link| Some(link.id) == selected) {
            Some(link) => {
                adapter.set_font_note(font_note(link.shown.missing_script));
                adapter.set_state(link.state);
                adapter.set_status(link.status.as_str().into());
                adapter.set_unverified(link.unverified);
                adapter.set_flow_forgotten(link.shown.forgotten as i32);
                adapter.set_client_lane(link.lane.as_str().into());
                adapter.set_server_lane(format!("Server {}", link.label).into());
                adapter.set_counters(
                    format!(
                        "{} in · {} out",
                        ByteCount(link.bytes_in),
                        ByteCount(link.bytes_out)
                    )
                    .into(),
                );
            }
            None => {
                adapter.set_font_note(SharedString::new());
                adapter.set_state(ConnectionState::Idle);
                adapter.set_status("Not connected".into());
                adapter.set_unverified(false);
                adapter.set_flow_forgotten(0);
                adapter.set_counters(SharedString::new());
            }
        }
        adapter.set_revision(adapter.get_revision().wrapping_add(1));
    }
}

fn error_places<'a>(adapter: &'a ClientAdapter<'a>) -> ErrorPlaces<'a> {
    ErrorPlaces {
        page: Page::Client,
        fields: vec![
            ("host", Box::new(|m| adapter.set_host_error(m))),
            ("port", Box::new(|m| adapter.set_port_error(m))),
            ("payload", Box::new(|m| adapter.set_send_error(m))),
        ],
        line: Box::new(|message, hint| {
            adapter.set_error(message);
            adapter.set_error_hint(hint);
        }),
    }
}

fn clear_errors(adapter: &ClientAdapter) {
    error_places(adapter).clear();
}

fn show_error(adapter: &ClientAdapter, error: &NetError) {
    error_places(adapter).show(error);
}

/// The tab's fields as a form.
pub fn fields(window: &AppWindow) -> ClientForm {
    fields_of(&window.global::<ClientAdapter>())
}

fn fields_of(adapter: &ClientAdapter) -> ClientForm {
    ClientForm {
        host: adapter.get_host().into(),
        port: adapter.get_port().into(),
        tls: adapter.get_tls(),
        insecure: adapter.get_accept_invalid(),
        payload: adapter.get_payload().into(),
        hex: adapter.get_payload_hex(),
        line_ending: adapter.get_line_ending().into(),
        // The tab has no fields for the source address, family or proxy: direct, from any.
        ..ClientForm::default()
    }
}

/// Fills the tab's fields; open connections stay as they are.
pub fn restore(window: &AppWindow, form: &ClientForm) {
    let adapter = window.global::<ClientAdapter>();
    adapter.set_host(form.host.as_str().into());
    adapter.set_port(form.port.as_str().into());
    adapter.set_tls(form.tls);
    adapter.set_accept_invalid(form.insecure);
    adapter.set_payload(form.payload.as_str().into());
    adapter.set_payload_hex(form.hex);
    adapter.set_line_ending(form.line_ending.into());
    clear_errors(&adapter);
}
