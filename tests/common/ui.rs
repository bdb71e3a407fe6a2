//! Driving the window headless: find elements by accessible label, run the event loop until
//! something holds.

use std::time::{Duration, Instant};

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot};
use netdeck::gui::ui::{AppWindow, ClientAdapter, ConnectionState, ServerAdapter, Tab, UdpAdapter};
use slint::platform::{PointerEventButton, WindowEvent};
use slint::{ComponentHandle, LogicalPosition, Timer};

/// The window with netdeck's default options, shown at `width` x `height`, and what keeps
/// its engine alive.
pub fn open_window(width: f32, height: f32) -> (AppWindow, netdeck::gui::Gui) {
    let window = AppWindow::new().unwrap();
    let gui = netdeck::gui::setup(&window, &netdeck::gui::GuiOptions::default()).unwrap();
    window
        .window()
        .set_size(slint::LogicalSize::new(width, height));
    window.show().unwrap();
    (window, gui)
}

/// Runs the event loop in short slices until `done` holds, failing the test after a generous
/// deadline. Checking between slices (not from a timer inside the loop) keeps a quit request
/// from one wait from ending the next one early.
pub fn run_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        Timer::single_shot(Duration::from_millis(5), || {
            let _ = slint::quit_event_loop();
        });
        slint::run_event_loop_until_quit().unwrap();
    }
}

pub fn element(window: &AppWindow, label: &str) -> ElementHandle {
    let mut found: Vec<_> = ElementHandle::find_by_accessible_label(window, label).collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one element labelled {label:?}: {:?}",
        found
            .iter()
            .map(|e| (e.type_name(), e.accessible_role(), e.id()))
            .collect::<Vec<_>>()
    );
    found.pop().unwrap()
}

/// The one element `matches` picks, for what its whole label does not name: a list row whose
/// label goes on with its state, a note whose label is its text.
pub fn element_where(
    window: &AppWindow,
    what: &str,
    matches: impl Fn(&ElementHandle) -> bool + 'static,
) -> ElementHandle {
    let mut found = (window.root_element().query_descendants())
        .match_predicate(matches)
        .find_all();
    assert_eq!(found.len(), 1, "exactly one element: {what}");
    found.pop().unwrap()
}

/// The one element whose accessible label starts with `start`.
pub fn element_starting(window: &AppWindow, start: &str) -> ElementHandle {
    let wanted = start.to_string();
    element_where(window, &format!("labelled {start:?}…"), move |e| {
        e.accessible_label().is_some_and(|l| l.starts_with(&wanted))
    })
}

/// The Client tab, connected to an echo server of Python's (kept running while the peer is).
pub fn connect_to_an_echo_server(window: &AppWindow) -> super::Peer {
    open_tab(window, "Client");
    let adapter = window.global::<ClientAdapter>();
    let peer = super::Peer::start(&["echo"]);
    element(window, "Port").set_accessible_value(peer.addr.port().to_string());
    element(window, "Connect").invoke_accessible_default_action();
    run_until("the connection", || {
        adapter.get_state() == ConnectionState::Connected
    });
    peer
}

/// A touch tap at the middle of `element`, as the window would get it from a finger.
pub fn tap(window: &AppWindow, element: &ElementHandle) {
    let position = element.absolute_position();
    let size = element.size();
    let position = LogicalPosition::new(
        position.x + size.width / 2.0,
        position.y + size.height / 2.0,
    );
    let button = PointerEventButton::Left;
    let window = window.window();
    window.dispatch_event(WindowEvent::PointerMoved { position });
    window.dispatch_event(WindowEvent::PointerPressed { position, button });
    window.dispatch_event(WindowEvent::PointerReleased { position, button });
}

/// Whether an element with this accessible label is on screen now.
pub fn shown(window: &AppWindow, label: &str) -> bool {
    ElementHandle::find_by_accessible_label(window, label)
        .next()
        .is_some()
}

/// Opens a tab as a person does: by its button, found by its label.
pub fn open_tab(window: &AppWindow, name: &str) {
    element(window, &format!("{name} tab")).invoke_accessible_default_action();
}

/// Slint's testing backend with the software renderer, so the window can be drawn into a
/// picture; `mock_time` makes animations wait for `mock_elapsed_time` instead of the clock.
pub fn drawing_backend(mock_time: bool) {
    use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time,
        threading: true,
        renderer_name: Some("software".into()),
    })))
    .unwrap();
}

/// `target/screenshots/`, where the pictures go (README's are copies of some).
pub fn screenshots_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts an echo server on the Server tab, on a port the system picks; tells the port.
pub fn start_an_echo_server(window: &AppWindow) -> u16 {
    let server = window.global::<ServerAdapter>();
    element(window, "Port").set_accessible_value("0");
    element(window, "Mode: Echo").invoke_accessible_default_action();
    element(window, "Start").invoke_accessible_default_action();
    run_until("the server to listen", || server.get_listening());
    let status = server.get_status();
    (status.strip_prefix("Listening on 127.0.0.1:"))
        .and_then(|rest| rest.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("a port in {status:?}"))
}

/// Connects the Client tab to this window's own server on `port`, and waits until the two
/// ends of the connection are paired ("↔" in the client's status).
pub fn connect_the_client_tab_to_its_server(window: &AppWindow, port: u16) {
    let client = window.global::<ClientAdapter>();
    open_tab(window, "Client");
    element(window, "Host").set_accessible_value("127.0.0.1");
    element(window, "Port").set_accessible_value(port.to_string());
    element(window, "Connect").invoke_accessible_default_action();
    run_until("the client to connect and be paired", || {
        client.get_state() == ConnectionState::Connected && client.get_status().contains("↔")
    });
}

/// Every tab, in the order of the tab bar.
pub const EVERY_TAB: [Tab; 8] = [
    Tab::Server,
    Tab::Client,
    Tab::Both,
    Tab::Udp,
    Tab::Http,
    Tab::Log,
    Tab::Settings,
    Tab::Demo,
];

/// What a person taps, types into or moves (list rows aside).
pub fn is_control_role(role: AccessibleRole) -> bool {
    matches!(
        role,
        AccessibleRole::Button
            | AccessibleRole::TextInput
            | AccessibleRole::Checkbox
            | AccessibleRole::Combobox
            | AccessibleRole::Switch
            | AccessibleRole::Slider
            | AccessibleRole::Spinbox
            | AccessibleRole::Tab
    )
}

/// The UDP tab bound to a free port of 127.0.0.1, echoing; the port it took.
pub fn bind_an_echoing_udp_socket(window: &AppWindow) -> u16 {
    open_tab(window, "UDP");
    let udp = window.global::<UdpAdapter>();
    element(window, "Port").set_accessible_value("0");
    element(window, "Answer: Echo").invoke_accessible_default_action();
    element(window, "Bind").invoke_accessible_default_action();
    run_until("the bound socket", || udp.get_bound() && !udp.get_busy());
    let status = udp.get_status().to_string();
    (status.strip_prefix("Bound to udp 127.0.0.1:"))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("{status}"))
}
