//! A loopback demo watched on one screen: the Client tab connected to the Server tab's own
//! server. The server's end of the connection is found from the client's own address (the
//! peer the server sees) and shown beside the client's end on the "Both sides" tab.

use common::ui::{
    connect_the_client_tab_to_its_server, element, element_starting, element_where, open_tab,
    run_until, start_an_echo_server,
};
use netdeck::gui::ui::{AppWindow, ClientAdapter, ServerAdapter};
use slint::{ComponentHandle, LogicalSize, Model};

use crate::common;

/// How many entries on screen are labelled `label`.
fn entries(window: &AppWindow, label: &str) -> usize {
    i_slint_backend_testing::ElementHandle::find_by_accessible_label(window, label).count()
}

pub fn both_ends_of_a_loopback_connection_show_together() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let (window, _gui) = common::ui::open_window(1920.0, 1080.0);
    let server = window.global::<ServerAdapter>();
    let client = window.global::<ClientAdapter>();

    let port = start_an_echo_server(&window);

    // The Client tab connects to it and says from which port.
    connect_the_client_tab_to_its_server(&window, port);
    let said = client.get_status().to_string();
    let local_port = said
        .split(" from port ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("a local port in {said:?}"))
        .to_string();
    assert_eq!(
        said,
        format!(
            "Connected to 127.0.0.1:{port} from port {local_port} · ↔ 127.0.0.1:{port} of the Server tab"
        )
    );

    // The server's end: the connection from that port, picked and marked.
    let selected = server.get_selected_client();
    assert!(selected >= 0, "a connection is shown");
    assert_eq!(
        server.get_selected_peer(),
        format!("127.0.0.1:{local_port}")
    );
    let row = (server.get_clients().iter())
        .find(|row| row.id == selected)
        .expect("the shown connection is listed");
    assert!(row.detail.starts_with("↔ the Client tab"), "{}", row.detail);

    // Both conversations on one screen, side by side.
    open_tab(&window, "Both sides");
    element(&window, "Message").set_accessible_value("hello");
    element(&window, "Send message").invoke_accessible_default_action();
    run_until("both ends to show the exchange", || {
        entries(&window, "Sent: hello") == 2 && entries(&window, "Received: hello") == 2
    });
    // Each side's status line, as a screen reader finds them.
    let sides = |window: &AppWindow| {
        let client_side = element_where(window, "the client's status", |e| {
            e.accessible_description().as_deref() == Some("Client status")
                && e.accessible_label()
                    .is_some_and(|l| l.starts_with("Connected"))
        });
        (
            element_starting(window, "Connection from 127.0.0.1:"),
            client_side,
        )
    };
    let (server_side, client_side) = sides(&window);
    assert_eq!(
        server_side.absolute_position().y,
        client_side.absolute_position().y,
        "side by side on a wide window"
    );
    assert!(server_side.absolute_position().x < client_side.absolute_position().x);

    // On a 7-inch panel, one above the other.
    window.window().set_size(LogicalSize::new(800.0, 480.0));
    run_until("the page to be laid out again", || true);
    let (server_side, client_side) = sides(&window);
    assert!(server_side.absolute_position().y < client_side.absolute_position().y);
    assert_eq!(
        server_side.absolute_position().x,
        client_side.absolute_position().x
    );
}
