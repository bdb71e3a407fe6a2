//! The HTTP tab driven by accessible labels against a Python HTTP server. One test: the
//! testing backend's event loop can be set up once per process.

mod common;

use common::Peer;
use common::ui::{element, run_until};
use netdeck::gui::ui::{AppWindow, HttpAdapter};
use slint::{ComponentHandle, Model};

#[test]
fn the_http_tab_sends_a_request_and_shows_status_and_body() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(&window, &netdeck::gui::GuiOptions::default()).unwrap();
    window.set_current_tab(2);
    let adapter = window.global::<HttpAdapter>();
    let peer = Peer::http(&[]);

    // A URL without a scheme is refused under the field; nothing is sent.
    element(&window, "URL").set_accessible_value("127.0.0.1/json");
    element(&window, "Send request").invoke_accessible_default_action();
    assert!(
        adapter.get_url_error().contains("no scheme"),
        "{}",
        adapter.get_url_error()
    );
    assert!(!adapter.get_busy());

    element(&window, "URL").set_accessible_value(format!("http://{}/json", peer.addr));
    element(&window, "Header name 1").set_accessible_value("X-Probe");
    element(&window, "Header value 1").set_accessible_value("1");
    assert_eq!(adapter.get_headers().row_data(0).unwrap().name, "X-Probe");
    element(&window, "Send request").invoke_accessible_default_action();
    assert_eq!(adapter.get_url_error(), "");
    run_until("the response", || {
        adapter.get_has_response() && !adapter.get_busy()
    });
    assert_eq!(adapter.get_error(), "");
    assert_eq!(adapter.get_status(), "200 OK");
    assert_eq!(adapter.get_status_class(), 2);
    assert!(
        adapter
            .get_response_body()
            .contains("\"name\": \"netdeck\""),
        "{}",
        adapter.get_response_body()
    );
    assert!(
        adapter
            .get_response_headers()
            .contains("Content-Type: application/json")
    );
    let phases: Vec<String> = adapter
        .get_phases()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    assert_eq!(phases, ["DNS", "connect", "send", "wait", "receive"]);
}
