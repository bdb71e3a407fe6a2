//! The Client tab driven by accessible labels against a Python echo server. One test: the
//! testing backend's event loop can be set up once per process.

mod common;

use common::Peer;
use common::ui::{element, run_until};
use netdeck::gui::ui::{AppWindow, ClientAdapter};
use slint::{ComponentHandle, Model};

#[test]
fn the_client_tab_connects_sends_hello_and_shows_the_echo() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(&window, &netdeck::gui::GuiOptions::default()).unwrap();
    window.set_current_tab(1);
    let adapter = window.global::<ClientAdapter>();
    let peer = Peer::start(&["echo"]);

    // A URL in the host field is refused under the field; nothing connects.
    element(&window, "Host").set_accessible_value("http://127.0.0.1");
    element(&window, "Connect").invoke_accessible_default_action();
    assert!(
        adapter.get_host_error().contains("is a URL"),
        "{}",
        adapter.get_host_error()
    );
    assert_eq!(adapter.get_state(), 0);

    element(&window, "Host").set_accessible_value("127.0.0.1");
    element(&window, "Port").set_accessible_value(peer.addr.port().to_string());
    element(&window, "Connect").invoke_accessible_default_action();
    run_until("the connection", || adapter.get_state() == 2);
    assert_eq!(adapter.get_host_error(), "");
    assert_eq!(adapter.get_status(), format!("Connected to {}", peer.addr));

    element(&window, "Message").set_accessible_value("hello");
    element(&window, "Send message").invoke_accessible_default_action();
    let conversation = adapter.get_conversation();
    run_until("the echo in the conversation", || {
        conversation
            .iter()
            .any(|line| line.direction == "received" && line.text == "hello")
    });
    let lines: Vec<_> = conversation
        .iter()
        .map(|line| (line.direction.to_string(), line.text.to_string()))
        .collect();
    let sent = lines
        .iter()
        .position(|l| l == &("sent".to_string(), "hello".to_string()));
    let received = lines
        .iter()
        .position(|l| l == &("received".to_string(), "hello".to_string()));
    assert!(sent < received, "sent before received: {lines:?}");
    run_until("the counters", || {
        adapter.get_counters() == "5 B in · 5 B out"
    });

    element(&window, "Disconnect").invoke_accessible_default_action();
    run_until("the disconnected state", || adapter.get_state() == 0);
    assert_eq!(adapter.get_status(), "Disconnected");
}
