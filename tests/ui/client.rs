//! The Client tab driven by accessible labels against a Python echo server. One test: the
//! testing backend's event loop can be set up once per process.

use crate::common;

use common::Peer;
use common::ui::{element, element_starting, run_until};
use netdeck::gui::ui::{AppWindow, ClientAdapter, ConnectionState, ConversationDirection};
use slint::{ComponentHandle, Model};

pub fn the_client_tab_connects_sends_hello_and_shows_the_echo() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(&window, &netdeck::gui::GuiOptions::default()).unwrap();
    element(&window, "Client tab").invoke_accessible_default_action();
    let adapter = window.global::<ClientAdapter>();
    let peer = Peer::start(&["echo"]);

    // Reconnect before any connection says so, under the Host field, instead of waiting.
    element(&window, "Reconnect").invoke_accessible_default_action();
    assert_eq!(
        adapter.get_host_error(),
        "host: nothing to reconnect to: connect first"
    );

    // A URL in the host field is refused under the field; nothing connects.
    element(&window, "Host").set_accessible_value("http://127.0.0.1");
    element(&window, "Connect").invoke_accessible_default_action();
    assert!(
        adapter.get_host_error().contains("is a URL"),
        "{}",
        adapter.get_host_error()
    );
    assert_eq!(adapter.get_state(), ConnectionState::Idle);

    element(&window, "Host").set_accessible_value("127.0.0.1");
    element(&window, "Port").set_accessible_value(peer.addr.port().to_string());
    element(&window, "Connect").invoke_accessible_default_action();
    run_until("the connection", || {
        adapter.get_state() == ConnectionState::Connected
    });
    assert_eq!(adapter.get_host_error(), "");
    let status = adapter.get_status().to_string();
    let local_port = status
        .strip_prefix(&format!("Connected to {} from port ", peer.addr))
        .and_then(|port| port.parse::<u16>().ok());
    assert!(local_port.is_some_and(|port| port > 0), "{status}");

    element(&window, "Message").set_accessible_value("hello");
    element(&window, "Send message").invoke_accessible_default_action();
    let conversation = adapter.get_conversation();
    run_until("the echo in the conversation", || {
        conversation
            .iter()
            .any(|line| line.direction == ConversationDirection::Received && line.text == "hello")
    });
    let lines: Vec<_> = conversation
        .iter()
        .map(|line| (line.direction, line.text.to_string()))
        .collect();
    let sent = lines
        .iter()
        .position(|l| l == &(ConversationDirection::Sent, "hello".to_string()));
    let received = lines
        .iter()
        .position(|l| l == &(ConversationDirection::Received, "hello".to_string()));
    assert!(sent < received, "sent before received: {lines:?}");
    // On screen too: the echo is drawn below what was sent, not over it.
    let sent = element(&window, "Sent: hello");
    let received = element(&window, "Received: hello");
    assert!(
        sent.absolute_position().y + sent.size().height <= received.absolute_position().y,
        "the received line is drawn below the sent one"
    );
    run_until("the counters", || {
        adapter.get_counters() == "5 B in · 5 B out"
    });

    // A second connection, to another peer, while the first stays open: each has its own
    // conversation.
    let other = Peer::start(&["echo"]);
    element(&window, "Port").set_accessible_value(other.addr.port().to_string());
    element(&window, "Connect").invoke_accessible_default_action();
    run_until("the second connection", || {
        (adapter.get_status()).starts_with(&format!("Connected to {} from port", other.addr))
    });
    assert_eq!(adapter.get_connections().row_count(), 2);
    element(&window, "Message").set_accessible_value("second");
    element(&window, "Send message").invoke_accessible_default_action();
    let texts = |adapter: &ClientAdapter| -> Vec<String> {
        (adapter.get_conversation().iter())
            .filter(|line| line.direction != ConversationDirection::Note)
            .map(|line| format!("{:?} {}", line.direction, line.text))
            .collect()
    };
    run_until("the second echo", || {
        texts(&adapter) == ["Sent second", "Received second"]
    });
    // Each chip goes on with its own port.
    let first = format!("Connection 127.0.0.1:{} :", peer.addr.port());
    element_starting(&window, &first).invoke_accessible_default_action();
    assert_eq!(
        texts(&adapter),
        ["Sent hello", "Received hello"],
        "the first connection's conversation, without the second's"
    );
    let status = adapter.get_status().to_string();
    let local_port = status
        .strip_prefix(&format!("Connected to {} from port ", peer.addr))
        .and_then(|port| port.parse::<u16>().ok());
    assert!(local_port.is_some_and(|port| port > 0), "{status}");

    // Disconnect ends the one shown; the other stays open.
    element(&window, "Disconnect").invoke_accessible_default_action();
    run_until("the disconnected state", || {
        adapter.get_state() == ConnectionState::Idle
    });
    assert_eq!(adapter.get_status(), "Disconnected");
    let second = format!("Connection 127.0.0.1:{} :", other.addr.port());
    element_starting(&window, &second).invoke_accessible_default_action();
    assert_eq!(adapter.get_state(), ConnectionState::Connected);

    // Reconnect opens the ended one again, and its conversation goes on.
    element_starting(&window, &first).invoke_accessible_default_action();
    element(&window, "Reconnect").invoke_accessible_default_action();
    run_until("the reconnection", || {
        adapter.get_state() == ConnectionState::Connected
    });
    assert_eq!(adapter.get_connections().row_count(), 2);
    assert_eq!(texts(&adapter), ["Sent hello", "Received hello"]);
}
