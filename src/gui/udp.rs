//! The UDP tab: one socket at a time, its datagrams grouped by the address they came from
//! or went to; each source keeps its datagrams until the next Bind.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Instant, SystemTime};

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use super::conversation::{ConversationModel, End, Limits, Transcript};
use super::log::LogController;
use super::throughput::Throughput;
use super::ui::{AppWindow, ConversationDirection as Direction, SourceRow, UdpAdapter};
use super::{Controller, Count, ErrorPlaces, Page, clock};
use crate::engine::{Action, Engine, Event, EventKind, SessionId, SessionSpec};
use crate::forms::UdpForm;
use crate::net::udp::UdpEvent;
use crate::payload::{ByteCount, Encoding};

/// Datagrams kept per source for display: the last 200, each whole (up to 64 KiB).
const SOURCE_LIMITS: Limits = Limits {
    entries: 200,
    entry_bytes: 65_536,
    total_bytes: 256 * 1024,
};

/// Sources kept; the one heard from least recently goes first.
const SOURCES_KEPT: usize = 100;

/// One address the socket heard from or sent to.
struct Source {
    addr: SocketAddr,
    transcript: Transcript,
    datagrams_in: u64,
    datagrams_out: u64,
    last: SystemTime,
    last_size: usize,
    throughput: Throughput,
}

impl Source {
    fn row(&self, id: usize) -> SourceRow {
        SourceRow {
            id: id as i32,
            address: self.addr.to_string().into(),
            detail: format!(
                "{} in, {} out · last {} at {}",
                Count(self.datagrams_in as usize, "datagram"),
                self.datagrams_out,
                ByteCount(self.last_size as u64),
                clock(self.last)
            )
            .into(),
        }
    }
}

pub struct UdpController {
    window: slint::Weak<AppWindow>,
    engine: Rc<Engine>,
    log: Rc<LogController>,
    socket: Cell<Option<SessionId>>,
    bound: Cell<Option<SocketAddr>>,
    /// In the order first seen; a row's id is its place here.
    sources: RefCell<Vec<Source>>,
    rows: Rc<VecModel<SourceRow>>,
    dirty_rows: RefCell<Vec<usize>>,
    shown: RefCell<ConversationModel>,
    throughput: RefCell<Throughput>,
    totals: Cell<(u64, u64)>,
}

impl Controller for UdpController {
    fn window(&self) -> &slint::Weak<AppWindow> {
        &self.window
    }
}

impl UdpController {
    pub fn setup(window: &AppWindow, engine: Rc<Engine>, log: Rc<LogController>) -> Rc<Self> {
        let adapter = window.global::<UdpAdapter>();
        let rows = Rc::new(VecModel::default());
        adapter.set_sources(ModelRc::from(rows.clone()));
        let shown = ConversationModel::new(End::Server);
        adapter.set_conversation(shown.model());
        adapter.set_flow(shown.flow());
        let controller = Rc::new(UdpController {
            window: window.as_weak(),
            engine,
            log,
            socket: Cell::default(),
            bound: Cell::default(),
            sources: RefCell::default(),
            rows,
            dirty_rows: RefCell::default(),
            shown: RefCell::new(shown),
            throughput: RefCell::default(),
            totals: Cell::default(),
        });
        let on = |action: fn(&Self, &UdpAdapter)| {
            super::on(&controller, move |c, w| {
                action(c, &w.global::<UdpAdapter>())
            })
        };
        adapter.on_open(super::on(&controller, |controller, window| {
            if controller.open(&window.global()) {
                super::typing_ended(window);
            }
        }));
        adapter.on_close(on(|controller, adapter| {
            if let Some(socket) = controller.socket.get() {
                adapter.set_busy(true);
                controller.engine.close(socket);
            }
        }));
        adapter.on_send(super::on(&controller, |controller, window| {
            if controller.send(&window.global(), None) {
                super::typing_ended(window);
            }
        }));
        adapter.on_reply_to_selected(super::on(&controller, |controller, window| {
            let adapter = window.global::<UdpAdapter>();
            let selected = usize::try_from(adapter.get_selected_source()).ok();
            let to = selected.and_then(|at| controller.sources.borrow().get(at).map(|s| s.addr));
            if controller.send(&adapter, to) {
                super::typing_ended(window);
            }
        }));
        adapter.on_view_changed(on(Self::show_selected));
        adapter.on_select_source(super::on_value(&controller, |controller, window, id| {
            let adapter = window.global::<UdpAdapter>();
            adapter.set_selected_source(id);
            adapter.set_conversation_following(true);
            adapter.set_flow_following(true);
            adapter.set_chosen_entry(-1);
            controller.show_selected(&adapter);
            controller.refresh_graphs(Instant::now());
        }));
        controller
    }

    /// Binds a socket with the tab's fields; what the last one heard is cleared. Tells whether
    /// it began.
    fn open(&self, adapter: &UdpAdapter) -> bool {
        if self.socket.get().is_some() {
            // One socket at a time: Close first.
            return false;
        }
        error_places(adapter).clear();
        match fields_of(adapter).check() {
            Ok(config) => {
                self.sources.borrow_mut().clear();
                self.rows.set_vec(Vec::new());
                self.dirty_rows.borrow_mut().clear();
                *self.throughput.borrow_mut() = Throughput::default();
                self.totals.set((0, 0));
                adapter.set_selected_source(-1);
                self.show_selected(adapter);
                adapter.set_busy(true);
                adapter.set_status("Binding…".into());
                self.socket
                    .set(Some(self.engine.open(SessionSpec::Udp(config))));
                true
            }
            Err(error) => {
                error_places(adapter).show(&error);
                false
            }
        }
    }

    /// Sends the payload to `to`, or to the address in To; tells whether it went.
    fn send(&self, adapter: &UdpAdapter, to: Option<SocketAddr>) -> bool {
        adapter.set_send_error(SharedString::new());
        adapter.set_to_error(SharedString::new());
        let Some(socket) = self.socket.get() else {
            return false;
        };
        let mut form = fields_of(adapter);
        if let Some(to) = to {
            form.to = to.to_string();
        }
        match form.datagram() {
            Ok((to, bytes)) => {
                self.log.sending(socket, &bytes, Encoding::hex_if(form.hex));
                self.engine.act(socket, Action::SendDatagram { to, bytes });
                true
            }
            Err(error) => {
                error_places(adapter).show(&error);
                false
            }
        }
    }

    pub fn on_event(&self, event: &Event) {
        if Some(event.session) != self.socket.get() {
            return;
        }
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<UdpAdapter>();
        match &event.kind {
            EventKind::UdpFailed(error) => {
                self.socket.set(None);
                adapter.set_busy(false);
                adapter.set_status("Not bound".into());
                error_places(&adapter).show(error);
            }
            EventKind::Udp(UdpEvent::Bound { addr }) => {
                self.bound.set(Some(*addr));
                adapter.set_busy(false);
                adapter.set_bound(true);
                adapter.set_all_interfaces(addr.ip().is_unspecified());
                adapter.set_server_lane(format!("This socket {addr}").into());
            }
            EventKind::Udp(UdpEvent::Received { from, bytes }) => {
                self.datagram(&adapter, *from, Direction::Received, bytes);
            }
            EventKind::Udp(UdpEvent::Sent { to, bytes }) => {
                self.datagram(&adapter, *to, Direction::Sent, bytes);
            }
            EventKind::Udp(UdpEvent::Failed(error)) => error_places(&adapter).show(error),
            EventKind::Udp(UdpEvent::Closed { .. }) => {
                self.socket.set(None);
                self.bound.set(None);
                adapter.set_busy(false);
                adapter.set_bound(false);
            }
            _ => {}
        }
    }

    fn datagram(&self, adapter: &UdpAdapter, peer: SocketAddr, direction: Direction, bytes: &[u8]) {
        let mut sources = self.sources.borrow_mut();
        let at = match sources.iter().position(|s| s.addr == peer) {
            Some(at) => at,
            None => {
                if sources.len() >= SOURCES_KEPT {
                    // The least recently heard goes; the selection stays on its source.
                    let oldest = (sources.iter().enumerate())
                        .min_by_key(|(_, s)| s.last)
                        .map(|(at, _)| at)
                        .unwrap_or(0);
                    sources.remove(oldest);
                    self.dirty_rows.borrow_mut().clear();
                    let selected = adapter.get_selected_source();
                    if selected == oldest as i32 {
                        adapter.set_selected_source(-1);
                        self.shown.borrow_mut().clear();
                        adapter.set_selected_address(SharedString::new());
                        adapter.set_revision(adapter.get_revision().wrapping_add(1));
                    } else if selected > oldest as i32 {
                        adapter.set_selected_source(selected - 1);
                    }
                }
                sources.push(Source {
                    addr: peer,
                    transcript: Transcript::new(SOURCE_LIMITS),
                    datagrams_in: 0,
                    datagrams_out: 0,
                    last: SystemTime::now(),
                    last_size: 0,
                    throughput: Throughput::default(),
                });
                let rows: Vec<_> = sources
                    .iter()
                    .enumerate()
                    .map(|(id, s)| s.row(id))
                    .collect();
                self.rows.set_vec(rows);
                sources.len() - 1
            }
        };
        let source = &mut sources[at];
        let said = source.transcript.datagram(direction, bytes);
        source.last = SystemTime::now();
        source.last_size = bytes.len();
        let (mut datagrams_in, mut datagrams_out) = self.totals.get();
        if direction == Direction::Sent {
            source.datagrams_out += 1;
            source.throughput.sent(bytes.len());
            self.throughput.borrow_mut().sent(bytes.len());
            datagrams_out += 1;
        } else {
            source.datagrams_in += 1;
            source.throughput.received(bytes.len());
            self.throughput.borrow_mut().received(bytes.len());
            datagrams_in += 1;
        }
        self.totals.set((datagrams_in, datagrams_out));
        let mut dirty = self.dirty_rows.borrow_mut();
        if !dirty.contains(&at) {
            dirty.push(at);
        }
        if at as i32 == adapter.get_selected_source() {
            let mut shown = self.shown.borrow_mut();
            shown.follow(&source.transcript, said, adapter.get_show_hex());
            adapter.set_flow_forgotten(shown.forgotten as i32);
            adapter.set_font_note(super::fonts::font_note(shown.missing_script));
            adapter.set_revision(adapter.get_revision().wrapping_add(1));
        }
    }

    fn show_selected(&self, adapter: &UdpAdapter) {
        let sources = self.sources.borrow();
        let selected = usize::try_from(adapter.get_selected_source())
            .ok()
            .and_then(|at| sources.get(at));
        let mut shown = self.shown.borrow_mut();
        match selected {
            Some(source) => {
                shown.show(&source.transcript, adapter.get_show_hex());
                adapter.set_to(source.addr.to_string().into());
            }
            None => shown.clear(),
        }
        let address = selected.map(|s| s.addr.to_string()).unwrap_or_default();
        adapter.set_client_lane(format!("Source {address}").into());
        adapter.set_selected_address(address.into());
        adapter.set_flow_forgotten(shown.forgotten as i32);
        adapter.set_font_note(super::fonts::font_note(shown.missing_script));
        adapter.set_revision(adapter.get_revision().wrapping_add(1));
    }

    /// The socket's graph and the selected source's; true while either still moves.
    pub fn refresh_graphs(&self, now: Instant) -> bool {
        let Some(window) = self.window.upgrade() else {
            return false;
        };
        let adapter = window.global::<UdpAdapter>();
        let throughput = self.throughput.borrow();
        let title = match self.bound.get() {
            Some(addr) => format!("All datagrams of {addr}"),
            None => "All datagrams".into(),
        };
        let mut graphs = vec![throughput.rates(title, now)];
        let sources = self.sources.borrow();
        if let Some(source) = usize::try_from(adapter.get_selected_source())
            .ok()
            .and_then(|at| sources.get(at))
        {
            graphs.push(
                source
                    .throughput
                    .rates(format!("With {}", source.addr), now),
            );
        }
        adapter.set_graphs(ModelRc::new(VecModel::from(graphs)));
        throughput.moving(now)
    }

    /// Publishes what the batch changed: the rows of sources heard from and the status line.
    pub fn refresh(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<UdpAdapter>();
        let sources = self.sources.borrow();
        for at in self.dirty_rows.borrow_mut().drain(..) {
            if at < self.rows.row_count()
                && let Some(source) = sources.get(at)
            {
                self.rows.set_row_data(at, source.row(at));
            }
        }
        if adapter.get_busy() {
            return;
        }
        let (datagrams_in, datagrams_out) = self.totals.get();
        let status = match self.bound.get() {
            Some(addr) => format!(
                "Bound to udp {addr} · {} in, {datagrams_out} out",
                Count(datagrams_in as usize, "datagram")
            ),
            None => "Not bound".into(),
        };
        adapter.set_status(status.into());
    }
}

fn error_places<'a>(adapter: &'a UdpAdapter<'a>) -> ErrorPlaces<'a> {
    ErrorPlaces {
        page: Page::Udp,
        fields: vec![
            ("bind", Box::new(|m| adapter.set_bind_error(m))),
            ("port", Box::new(|m| adapter.set_port_error(m))),
            ("reply", Box::new(|m| adapter.set_reply_error(m))),
            ("join", Box::new(|m| adapter.set_join_error(m))),
            ("interface", Box::new(|m| adapter.set_interface_error(m))),
            ("to", Box::new(|m| adapter.set_to_error(m))),
            ("payload", Box::new(|m| adapter.set_send_error(m))),
            ("broadcast", Box::new(|m| adapter.set_send_error(m))),
            ("send", Box::new(|m| adapter.set_send_error(m))),
        ],
        line: Box::new(|message, hint| {
            adapter.set_error(message);
            adapter.set_error_hint(hint);
        }),
    }
}

/// The tab's fields as a form.
fn fields_of(adapter: &UdpAdapter) -> UdpForm {
    UdpForm {
        bind: adapter.get_bind_address().into(),
        port: adapter.get_port().into(),
        mode: adapter.get_mode().into(),
        reply: adapter.get_reply().into(),
        join: adapter.get_join().into(),
        interface: adapter.get_interface().into(),
        broadcast: adapter.get_broadcast(),
        to: adapter.get_to().into(),
        payload: adapter.get_payload().into(),
        hex: adapter.get_payload_hex(),
        line_ending: adapter.get_line_ending().into(),
    }
}
