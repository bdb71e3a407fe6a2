//! The GUI: one controller per page, each wiring its adapter's callbacks to engine commands
//! and engine events to its models. Events are drained on a Slint `Timer` that runs only while
//! the engine has something to say, so an idle window never wakes up.

mod client;
mod conversation;
mod demo;
mod fonts;
mod http;
mod library;
mod log;
mod server;
mod settings;
mod throughput;
mod udp;
mod x11;

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::{Rc, Weak};
use std::time::{Duration, SystemTime};

use slint::platform::WindowEvent;
use slint::{ComponentHandle, SharedString, Timer, TimerMode};

use crate::config::{self, Loaded};
use crate::engine::{EVENT_QUEUE, Engine, Event, EventKind, SessionId};
use crate::forms::LineEndingChoice;
use crate::net::NetError;
use crate::net::client::ClientEvent;
use crate::net::error::{Setting, Vocabulary};
use crate::net::http::HttpEvent;
use crate::net::server::{ClientId, ServerEvent};
use crate::net::udp::UdpEvent;

pub use conversation::{Entry, Transcript};
pub use server::{CONNECTION_LIMITS, ClientView, ENDED_KEPT, ServerView};

/// The code generated from `ui/*.slint`.
pub mod ui {
    slint::include_modules!();
}

use ui::{AppWindow, KeyboardState, Theme};

/// How often, and how many times, the window tries what needs it shown by the X server (the
/// keyboard for a kiosk with no window manager, maximizing under one): the server shows it
/// within a frame or two of the map request.
const SHOWN_RETRY: Duration = Duration::from_millis(20);
const SHOWN_TRIES: u32 = 250;

/// How often a busy engine's events reach the window: fast enough to look live, slow enough
/// to batch a flood into a few model updates.
const DRAIN_INTERVAL: Duration = Duration::from_millis(33);
/// How long after a whole second the graphs move on, so that the second is surely over.
const GRAPH_TICK_LATE: Duration = Duration::from_millis(5);
/// Events handled per tick; the rest wait for the next one. One queue's worth, so a tick holds
/// at most the queue's few MiB of data (twice: the events and their joined copy), even while
/// the engine refills the queue during the drain.
const DRAIN_BATCH: usize = EVENT_QUEUE;

thread_local! {
    /// The dispatcher the engine's wake-ups reach; it lives on the GUI thread.
    static DISPATCHER: RefCell<Weak<Dispatcher>> = const { RefCell::new(Weak::new()) };
}

/// How the window runs: from the command line, or set by a test.
#[derive(Debug, Clone, Default)]
pub struct GuiOptions {
    /// Fullscreen, no frame, the on-screen keyboard on, and no way to quit from the UI
    /// unless `allow_quit`.
    pub kiosk: bool,
    pub allow_quit: bool,
    /// Overrides the saved scale.
    pub scale: Option<f32>,
    /// The settings file; `None` keeps settings and presets in memory only.
    pub config: Option<PathBuf>,
    /// Never write the settings file (a kiosk's presets that must not change).
    pub read_only: bool,
    /// Presets for every user, listed locked before the user's own; `None` for none.
    pub system_presets: Option<PathBuf>,
    /// Where the Log tab exports to; `None` means the system's temporary directory.
    pub logs: Option<PathBuf>,
    /// Plays the guided demo on its own from the start (`--demo`, for a kiosk).
    pub demo: bool,
    /// How long the demo's Auto stays on a finished step; `None`, as on the command line:
    /// long enough to read its caption.
    pub demo_pause: Option<std::time::Duration>,
    /// Stage text from the start, whatever the saved setting says (`--stage`).
    pub stage: bool,
}

impl GuiOptions {
    /// What the command line asked for, with settings in the usual file unless `config`
    /// names another.
    pub fn new(
        kiosk: bool,
        allow_quit: bool,
        scale: Option<f32>,
        config: Option<PathBuf>,
        read_only: bool,
    ) -> Self {
        GuiOptions {
            kiosk,
            allow_quit,
            scale,
            config: Some(config.unwrap_or_else(config::config_path)),
            read_only,
            system_presets: Some(config::system_config_path()),
            logs: Some(config::data_dir()),
            demo: false,
            demo_pause: None,
            stage: false,
        }
    }

    /// With the guided demo playing (`--demo`) and stage text (`--stage`). A kiosk playing the
    /// demo is read from across a room: it starts with stage text.
    pub fn playing(self, demo: bool, stage: bool) -> Self {
        GuiOptions {
            demo,
            stage: stage || (demo && self.kiosk),
            ..self
        }
    }

    fn log_dir(&self) -> PathBuf {
        self.logs.clone().unwrap_or_else(std::env::temp_dir)
    }

    fn can_quit(&self) -> bool {
        !self.kiosk || self.allow_quit
    }

    fn load(&self) -> Loaded {
        match &self.config {
            Some(path) => config::load(path),
            None => Loaded::default(),
        }
    }
}

/// Keeps the engine and the page controllers alive as long as it is held.
pub struct Gui {
    dispatcher: Rc<Dispatcher>,
}

impl Gui {
    /// Saves every tab's fields as the ones to start with next time.
    pub fn remember(&self) {
        self.dispatcher.settings.remember();
    }
}

struct Dispatcher {
    engine: Rc<Engine>,
    server: Rc<server::ServerController>,
    client: Rc<client::ClientController>,
    http: Rc<http::HttpController>,
    udp: Rc<udp::UdpController>,
    log: Rc<log::LogController>,
    settings: Rc<settings::SettingsController>,
    demo: Rc<demo::DemoController>,
    timer: Timer,
    /// Moves the graphs on; runs only while some graph shows traffic.
    graph_clock: Timer,
}

/// Starts the engine and wires every page of `window` to it, with the saved settings and
/// fields.
pub fn setup(window: &AppWindow, options: &GuiOptions) -> std::io::Result<Gui> {
    setup_loaded(window, options, options.load())
}

fn setup_loaded(window: &AppWindow, options: &GuiOptions, loaded: Loaded) -> std::io::Result<Gui> {
    keep_large_buffers_out_of_the_heap();
    let engine = Rc::new(Engine::start(|| {
        let _ = slint::invoke_from_event_loop(|| {
            if let Some(dispatcher) = DISPATCHER.with(|d| d.borrow().upgrade()) {
                dispatcher.start_draining();
            }
        });
    })?);
    let log = log::LogController::setup(window, options.log_dir());
    let server = server::ServerController::setup(window, engine.clone(), log.clone());
    let client = client::ClientController::setup(window, engine.clone(), log.clone());
    let http = http::HttpController::setup(window, engine.clone(), server.clone());
    let udp = udp::UdpController::setup(window, engine.clone(), log.clone());
    let demo = demo::DemoController::setup(
        window,
        engine.clone(),
        server.clone(),
        client.clone(),
        http.clone(),
        options.demo_pause,
    );
    let settings =
        settings::SettingsController::setup(window, log.clone(), client.clone(), options, loaded);
    let dispatcher = Rc::new(Dispatcher {
        server,
        client,
        http,
        udp,
        demo,
        settings,
        log,
        engine,
        timer: Timer::default(),
        graph_clock: Timer::default(),
    });
    DISPATCHER.with(|d| *d.borrow_mut() = Rc::downgrade(&dispatcher));
    if let Some(family) = fonts::monospace_family() {
        window.global::<Theme>().set_monospace(family.into());
    }
    wire_keyboard(window);
    window.set_kiosk(options.kiosk);
    if options.demo {
        dispatcher.demo.play_forever();
    }
    if !options.can_quit() {
        window
            .window()
            .on_close_requested(|| slint::CloseRequestResponse::KeepWindowShown);
    }
    Ok(Gui { dispatcher })
}

/// A flood joins up to a queue's worth of data into one buffer per batch. glibc raises its
/// threshold for giving such a buffer its own mapping each time one is freed, after which the
/// next ones grow inside the heap, between the engine's small chunks, and the heap keeps their
/// high-water mark. A fixed threshold gives every large buffer its own mapping, returned whole
/// when freed.
fn keep_large_buffers_out_of_the_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes how later allocations are placed.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// An accessibility bus is announced by `AT_SPI_BUS_ADDRESS` or, on X11, on the root window.
/// A Wayland session announces nothing (`at-spi-bus-launcher` leaves the root window alone
/// there), so there the bus is kept whenever a session has one.
fn accessibility_bus_announced(x_server: &x11::XServer) -> bool {
    let set = |name| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    set("AT_SPI_BUS_ADDRESS") || set("WAYLAND_DISPLAY") || x_server.accessibility_bus
}

/// Opens the window and runs until it is closed.
pub fn run(options: &GuiOptions) -> Result<(), Box<dyn std::error::Error>> {
    let loaded = options.load();
    let scale = options.scale.unwrap_or(loaded.config.settings.scale);
    fonts::ensure_a_font();
    let x_server = x11::XServer::ask();
    // SAFETY: nothing else runs yet: the engine thread starts in `setup`, after this.
    unsafe {
        if scale != 1.0 {
            std::env::set_var("SLINT_SCALE_FACTOR", scale.to_string());
        }
        // The theme is netdeck's own setting, so the desktop's colour scheme is not needed:
        // without a session bus the window does not start a thread to watch it (a thread,
        // half a MiB and wake-ups on a kiosk that has no desktop). A screen reader reaches the
        // window through that bus, so it is kept wherever an accessibility bus is announced.
        if !accessibility_bus_announced(&x_server) {
            std::env::set_var("DBUS_SESSION_BUS_ADDRESS", "disabled:");
        }
    }
    let window = AppWindow::new()?;
    let gui = setup_loaded(&window, options, loaded)?;
    if let Some(monitor) = x_server.monitor {
        // Whole logical pixels, rounded down: scaled back they never round up past the screen.
        window.set_screen_width((monitor.width as f32 / scale).floor());
        window.set_screen_height((monitor.height as f32 / scale).floor());
    }
    if options.kiosk {
        // Created on its monitor at its size: a window manager then makes it fullscreen
        // there, and without one it is already where it belongs.
        if let Some(monitor) = x_server.monitor {
            window
                .window()
                .set_position(slint::PhysicalPosition::new(monitor.x, monitor.y));
            window
                .window()
                .set_size(slint::PhysicalSize::new(monitor.width, monitor.height));
        }
    }
    window.show()?;
    // With no window manager on X11 nothing grants a fullscreen request, and winit would move
    // the window to its idea of the monitor: the geometry set above is the kiosk's.
    let placed_directly = x_server.monitor.is_some() && !x_server.window_manager;
    if options.kiosk && !placed_directly {
        window.window().set_fullscreen(true);
    }
    // A framed window the size of the screen would reach past it by its frame: the window
    // manager fits one maximized into what its frame and panels leave.
    let maximizing = Rc::new(Timer::default());
    if !options.kiosk && x_server.window_manager && window.get_fills_screen() {
        let weak = window.as_weak();
        until_shown(&maximizing, move || {
            weak.upgrade().is_none_or(|window| {
                window.window().set_maximized(true);
                window.window().is_maximized()
            })
        });
    }
    // Nor does anything give it the keyboard: it takes it once the server shows it.
    let focusing = Rc::new(Timer::default());
    if options.kiosk && placed_directly {
        until_shown(&focusing, x11::focus_own_window);
    }
    slint::run_event_loop()?;
    gui.remember();
    window.hide()?;
    Ok(())
}

/// Runs `attempt` on `timer` until it succeeds, or until the window has surely been shown.
fn until_shown(timer: &Rc<Timer>, attempt: impl Fn() -> bool + 'static) {
    let (weak, tries) = (Rc::downgrade(timer), Cell::new(0));
    timer.start(TimerMode::Repeated, SHOWN_RETRY, move || {
        tries.set(tries.get() + 1);
        if attempt() || tries.get() >= SHOWN_TRIES {
            weak.upgrade().inspect(|timer| timer.stop());
        }
    });
}

/// The on-screen keyboard's keys reach the focused field as key events, as a physical key would.
fn wire_keyboard(window: &AppWindow) {
    let weak = window.as_weak();
    window.global::<KeyboardState>().on_key(move |text| {
        if let Some(window) = weak.upgrade() {
            let window = window.window();
            window.dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
            window.dispatch_event(WindowEvent::KeyReleased { text });
        }
    });
}

impl Dispatcher {
    /// Pairs the Client tab's connections with this window's servers' (the client's own
    /// address is the peer the server sees), so a loopback demo shows both ends together.
    fn link_loopback(&self) {
        for (id, local, shown) in self.client.unlinked() {
            if let Some(server) = self.server.link(local, shown) {
                self.client.linked(id, &server);
            }
        }
    }

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

    /// Moves the graphs on at the next whole second, unless that is planned already. Graphs
    /// show whole seconds: a tick just after each one shows it as soon as it is complete.
    fn start_graph_clock(self: &Rc<Self>) {
        if self.graph_clock.running() {
            return;
        }
        let weak = Rc::downgrade(self);
        let wait = throughput::until_next_second(std::time::Instant::now()) + GRAPH_TICK_LATE;
        self.graph_clock
            .start(TimerMode::SingleShot, wait, move || {
                if let Some(dispatcher) = weak.upgrade() {
                    dispatcher.move_graphs();
                }
            });
    }

    /// Draws the graphs as they are now, and plans the next tick while any still moves.
    fn move_graphs(self: &Rc<Self>) {
        let now = std::time::Instant::now();
        // Both are drawn: neither may be skipped because the other moves.
        let server = self.server.refresh_graphs(now);
        let client = self.client.refresh_graphs(now);
        let udp = self.udp.refresh_graphs(now);
        self.graph_clock.stop();
        if server || client || udp {
            self.start_graph_clock();
        }
    }

    fn drain(self: &Rc<Self>) {
        let events = self.engine.drain(DRAIN_BATCH);
        let more_waiting = events.len() == DRAIN_BATCH;
        if events.iter().any(carries_data) {
            self.start_graph_clock();
        }
        for event in coalesce(events) {
            // The fields that started something are kept for next time, unless the demo
            // filled them.
            if started_something(&event) && !self.demo.running() {
                self.settings.remember();
            }
            self.log.on_event(&event);
            self.server.on_event(&event);
            self.client.on_event(&event);
            self.http.on_event(&event);
            self.udp.on_event(&event);
            // Last: a step goes on once the tabs have shown what it waited for.
            self.demo.on_event(&event);
        }
        self.link_loopback();
        self.log.refresh();
        self.server.refresh();
        self.client.refresh();
        self.udp.refresh();
        if !more_waiting {
            self.timer.stop();
        }
    }
}

/// The action that ends the typing has begun (Connect, Send, Start, Bind): the on-screen
/// keyboard goes, so that it does not cover what the action shows.
fn typing_ended(window: &AppWindow) {
    window.invoke_end_typing();
}

/// A page controller, as its callbacks reach it.
trait Controller: 'static {
    fn window(&self) -> &slint::Weak<AppWindow>;
}

/// A callback that runs `action` with the controller and its window while both live. It holds
/// the controller weakly: the window holds the callback, and must not keep the controller.
fn on<C, F>(controller: &Rc<C>, action: F) -> impl Fn() + use<C, F>
where
    C: Controller,
    F: Fn(&C, &AppWindow) + 'static,
{
    let action = on_value(controller, move |controller, window, ()| {
        action(controller, window)
    });
    move || action(())
}

/// As [`on`], for a callback that passes a value.
fn on_value<C, T, F>(controller: &Rc<C>, action: F) -> impl Fn(T) + use<C, T, F>
where
    C: Controller,
    F: Fn(&C, &AppWindow, T) + 'static,
{
    let weak = Rc::downgrade(controller);
    move |value| {
        if let Some(controller) = weak.upgrade()
            && let Some(window) = controller.window().upgrade()
        {
            action(&controller, &window, value);
        }
    }
}

/// Shows a message (or clears it, given an empty one).
type Show<'a> = Box<dyn Fn(SharedString) + 'a>;

/// Where a page shows errors: under the field an error names, else in the page's error line
/// with its hint in the page's words.
struct ErrorPlaces<'a> {
    page: Page,
    fields: Vec<(&'static str, Show<'a>)>,
    line: Box<dyn Fn(SharedString, SharedString) + 'a>,
}

impl ErrorPlaces<'_> {
    fn show(&self, error: &NetError) {
        let message = SharedString::from(error.to_string());
        match self
            .fields
            .iter()
            .find(|(name, _)| error.field() == Some(name))
        {
            Some((_, show)) => show(message),
            None => (self.line)(message, error.hint(&self.page).into()),
        }
    }

    fn clear(&self) {
        for (_, show) in &self.fields {
            show(SharedString::new());
        }
        (self.line)(SharedString::new(), SharedString::new());
    }
}

/// A server listening, a connection made or an answer received: the fields that did it are
/// worth keeping for next time.
fn started_something(event: &Event) -> bool {
    match &event.kind {
        EventKind::Server(ServerEvent::Listening { .. })
        | EventKind::Client(ClientEvent::Connected { .. }) => true,
        EventKind::Http(HttpEvent::Done(result)) => result.is_ok(),
        _ => false,
    }
}

/// Data counted by a graph.
fn carries_data(event: &Event) -> bool {
    matches!(
        event.kind,
        EventKind::Server(ServerEvent::Received { .. } | ServerEvent::Sent { .. })
            | EventKind::Client(ClientEvent::Received(_) | ClientEvent::Sent(_))
            | EventKind::Udp(UdpEvent::Received { .. } | UdpEvent::Sent { .. })
    )
}

/// Where received data comes from: a session and, for a server, its client.
type Source = (SessionId, Option<ClientId>);

/// What received data an event carries, and where from.
fn received(event: &Event) -> Option<(Source, &[u8])> {
    match &event.kind {
        EventKind::Server(ServerEvent::Received { id, bytes, .. }) => {
            Some(((event.session, Some(*id)), bytes))
        }
        EventKind::Client(ClientEvent::Received(bytes)) => Some(((event.session, None), bytes)),
        _ => None,
    }
}

/// Joins runs of received data from the same session (and the same client of a server) into
/// one event, so a flood becomes a few lines.
fn coalesce(events: Vec<Event>) -> Vec<Event> {
    let mut out = Vec::with_capacity(events.len());
    let mut events = events.into_iter().peekable();
    while let Some(mut event) = events.next() {
        let Some((run, first)) = received(&event) else {
            out.push(event);
            continue;
        };
        let mut rest = Vec::new();
        while let Some(next) =
            events.next_if(|next| received(next).is_some_and(|(of, _)| of == run))
        {
            rest.push(next);
        }
        if !rest.is_empty() {
            // Sized once: growing by doubling would copy a flood's batch over and over.
            let sizes = rest
                .iter()
                .filter_map(received)
                .map(|(_, bytes)| bytes.len());
            let mut joined = Vec::with_capacity(first.len() + sizes.sum::<usize>());
            joined.extend_from_slice(first);
            for (_, bytes) in rest.iter().filter_map(received) {
                joined.extend_from_slice(bytes);
            }
            match &mut event.kind {
                EventKind::Server(ServerEvent::Received { bytes, .. })
                | EventKind::Client(ClientEvent::Received(bytes)) => *bytes = joined,
                _ => unreachable!("an event with received data"),
            }
        }
        out.push(event);
    }
    out
}

/// The window's words for the settings hints point at, on each page.
#[derive(Clone, Copy)]
enum Page {
    Server,
    Client,
    Http,
    Udp,
}

impl Vocabulary for Page {
    fn name(&self, setting: Setting) -> Option<&'static str> {
        match (self, setting) {
            (_, Setting::StartServer) => Some("the Server tab"),
            (Page::Http, Setting::Timeout) => Some("Options › Timeout"),
            (Page::Http | Page::Client, Setting::AnyCertificate) => Some("Any certificate"),
            (Page::Client, Setting::Tls) => Some("TLS"),
            (Page::Http, Setting::MaxRedirects) => Some("Options › Max redirects"),
            (Page::Http, Setting::Proxy) => Some("Settings › HTTP proxy"),
            (Page::Http, Setting::NoProxy) => Some("Settings › HTTP proxy: None"),
            (Page::Http, Setting::SaveToFile) => Some("Options › Save body to file"),
            _ => None,
        }
    }
}

/// The window's choices and the forms' and settings' words for them, one to one.
macro_rules! same_choices {
    ($window:ty, $kept:ty, $($variant:ident),+) => {
        impl From<$window> for $kept {
            fn from(choice: $window) -> Self {
                match choice {
                    $(<$window>::$variant => <$kept>::$variant,)+
                }
            }
        }

        impl From<$kept> for $window {
            fn from(choice: $kept) -> Self {
                match choice {
                    $(<$kept>::$variant => <$window>::$variant,)+
                }
            }
        }
    };
}

same_choices!(ui::LineEnding, LineEndingChoice, None, Lf, CrLf);
same_choices!(
    ui::ServerMode,
    crate::forms::ServerMode,
    Manual,
    Echo,
    AutoReply,
    Http
);
same_choices!(ui::ThemeChoice, crate::config::Theme, Dark, Light);
same_choices!(ui::UdpMode, crate::forms::UdpMode, Nothing, Echo, Reply);

use crate::report::{Count, clock, clock_ms, local_time};

/// A short span of time as people read it: "120 ms", "4.2 s", "3 min 5 s".
struct Span(std::time::Duration);

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_millis() {
            0..1000 => write!(f, "{} ms", self.0.as_millis()),
            1000..60_000 => write!(f, "{:.1} s", self.0.as_secs_f64()),
            _ => write!(
                f,
                "{} min {} s",
                self.0.as_secs() / 60,
                self.0.as_secs() % 60
            ),
        }
    }
}

/// Time since a start, short enough for a narrow column: "+132 ms", "+4.2 s", "+2:05".
struct Since(Duration);

impl std::fmt::Display for Since {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_secs() {
            0..60 => write!(f, "+{}", Span(self.0)),
            seconds => write!(f, "+{}:{:02}", seconds / 60, seconds % 60),
        }
    }
}

/// A measured time to a tenth of a millisecond: "0.4 ms".
struct Millis(Duration);

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1} ms", self.0.as_secs_f64() * 1000.0)
    }
}

/// Local date and time as `YYYY-MM-DD HH:MM:SS`.
fn date_time(time: SystemTime) -> String {
    let tm = local_time(time);
    format!(
        "{}-{:02}-{:02} {}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        clock(time)
    )
}

/// Local date and time for a file name: `YYYYMMDD-HHMMSS`.
fn file_stamp(time: SystemTime) -> String {
    date_time(time).replace(['-', ':'], "").replace(' ', "-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Flags;
    use crate::engine::SessionId;

    fn received(session: SessionId, bytes: &[u8]) -> Event {
        Event {
            session,
            kind: EventKind::Client(ClientEvent::Received(bytes.to_vec())),
        }
    }

    #[test]
    fn data_is_joined_within_a_session_and_never_across_two() {
        let first = SessionId::default().next();
        let second = first.next();
        let joined = coalesce(vec![
            received(first, b"a"),
            received(first, b"b"),
            received(second, b"c"),
            received(first, b"d"),
        ]);
        let runs: Vec<(SessionId, Vec<u8>)> = joined
            .into_iter()
            .map(|event| match event.kind {
                EventKind::Client(ClientEvent::Received(bytes)) => (event.session, bytes),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            runs,
            [
                (first, b"ab".to_vec()),
                (second, b"c".to_vec()),
                (first, b"d".to_vec())
            ]
        );
    }

    #[test]
    fn a_kiosk_playing_the_demo_starts_with_stage_text() {
        let options = |kiosk| GuiOptions::new(kiosk, false, None, None, false);
        assert!(options(true).playing(true, false).stage);
        assert!(!options(false).playing(true, false).stage);
        assert!(!options(true).playing(false, false).stage);
        assert!(options(false).playing(false, true).stage);
    }

    #[test]
    fn hints_name_the_windows_settings_not_flags() {
        let timeout = NetError::Timeout {
            action: "connecting to 10.0.0.1:80".into(),
            after: Duration::from_secs(5),
        };
        assert!(timeout.hint(&Flags).contains("(--timeout)"));
        assert!(timeout.hint(&Page::Http).contains("(Options › Timeout)"));
        assert!(
            !timeout.hint(&Page::Client).contains('('),
            "the Client tab has no timeout to point at: {}",
            timeout.hint(&Page::Client)
        );
    }
}
