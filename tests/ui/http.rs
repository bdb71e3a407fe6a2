//! The HTTP tab driven by accessible labels against a Python HTTP server. One test: the
//! testing backend's event loop can be set up once per process.

use crate::common;

use common::servers::Tinyproxy;
use common::ui::{element, element_starting, open_tab, run_until};
use common::{Peer, TempDir};
use netdeck::gui::ui::{AppWindow, HttpAdapter, ServerAdapter, SettingsAdapter};
use slint::{ComponentHandle, Model};

pub fn the_http_tab_sends_a_request_and_shows_status_and_body() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(&window, &netdeck::gui::GuiOptions::default()).unwrap();
    open_tab(&window, "HTTP");
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
    // What no phase measured is a phase of its own, so the waterfall adds up to the total.
    assert_eq!(phases[..5], ["DNS", "connect", "send", "wait", "receive"]);
    assert!(phases.len() == 5 || phases[5] == "other", "{phases:?}");
    let last = adapter.get_phases().iter().last().unwrap();
    assert!(
        (last.start + last.length - 1.0).abs() < 1e-4,
        "ends at the total"
    );
    let total = adapter
        .get_summary()
        .split(" · ")
        .nth(2)
        .unwrap()
        .to_string();
    assert!(
        adapter.get_timing().ends_with(&format!(" = {total}")),
        "{} reads its total, {total}",
        adapter.get_timing()
    );
    element_starting(&window, "Timing: DNS ");
    assert!(
        adapter
            .get_answered()
            .starts_with(&format!("Answers GET http://{}/json · sent at ", peer.addr)),
        "{}",
        adapter.get_answered()
    );

    let send = |url: String| {
        element(&window, "URL").set_accessible_value(url);
        element(&window, "Send request").invoke_accessible_default_action();
        run_until("the answer or an error", || !adapter.get_busy());
    };

    // An unfamiliar status is shown as the server sent it, classed by its first digit.
    send(format!("http://{}/status/599", peer.addr));
    assert_eq!(adapter.get_status(), "599 Whatever It Says");
    assert_eq!(adapter.get_status_class(), 5);

    // The history lists both answers, newest first; the first one can be shown again.
    adapter.set_view(3);
    let first = format!("Show answer: GET http://{}/json → 200 OK · ", peer.addr);
    element_starting(&window, &first).invoke_accessible_default_action();
    assert_eq!(
        adapter.get_view(),
        1,
        "the answer is shown in the Response view"
    );
    assert_eq!(adapter.get_status(), "200 OK");
    assert!(
        adapter
            .get_response_body()
            .contains("\"name\": \"netdeck\"")
    );
    assert_eq!(adapter.get_history().row_count(), 2);
    assert!(adapter.get_history().row_data(0).unwrap().contains("599"));

    // A failure replaces the previous response instead of leaving it under the error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    send(format!("http://{closed}/"));
    assert!(
        adapter.get_error().contains("refused"),
        "{}",
        adapter.get_error()
    );
    assert!(!adapter.get_has_response());
    assert_eq!(adapter.get_status(), "");
    assert_eq!(adapter.get_response_body(), "");
    assert_eq!(adapter.get_phases().row_count(), 0);

    // Options: a bad timeout is named; the whole body can be saved to a file.
    adapter.set_view(2);
    element(&window, "Timeout (s, 0: none)").set_accessible_value("soon");
    element(&window, "Send request").invoke_accessible_default_action();
    assert!(adapter.get_options_error().starts_with("timeout: `soon`"));
    assert!(!adapter.get_busy());
    element(&window, "Timeout (s, 0: none)").set_accessible_value("0");
    let dir = TempDir::new("ui-save");
    let saved = dir.join("body.bin");
    element(&window, "Save body to file").set_accessible_value(saved.to_str().unwrap());
    send(format!("http://{}/big?n=12000000", peer.addr));
    assert_eq!(adapter.get_error(), "");
    assert_eq!(std::fs::metadata(&saved).unwrap().len(), 12_000_000);
    assert!(
        adapter.get_summary().contains("kept 10.0 MiB"),
        "{}",
        adapter.get_summary()
    );
    adapter.set_view(2);
    element(&window, "Save body to file").set_accessible_value("");

    // Cookies set on a redirect go with the next hop, and stay until cleared.
    send(format!("http://{}/cookie/set-and-redirect", peer.addr));
    assert_eq!(adapter.get_response_body(), "theme=dark; token=xyz");
    send(format!("http://{}/cookie/show", peer.addr));
    assert_eq!(adapter.get_response_body(), "theme=dark; token=xyz");
    adapter.set_view(2);
    element(&window, "Clear cookies").invoke_accessible_default_action();
    send(format!("http://{}/cookie/show", peer.addr));
    assert_eq!(adapter.get_response_body(), "none");

    // The proxy set in the Settings tab carries the tab's requests.
    let proxy = Tinyproxy::start(None);
    let settings = window.global::<SettingsAdapter>();
    settings.set_proxy_mode(2);
    settings.set_proxy_url(proxy.url().into());
    settings.invoke_proxy_changed();
    assert_eq!(settings.get_proxy_error(), "");
    send(format!("http://{}/json", peer.addr));
    assert!(
        adapter.get_response_headers().contains("tinyproxy"),
        "{}",
        adapter.get_response_headers()
    );
}

/// The HTTP tab starts with no URL; a request to the window's own listener in Manual mode is
/// explained as it starts, while it is still under way, and goes once that listener speaks
/// HTTP.
pub fn a_request_to_the_windows_own_manual_listener_is_explained_at_once() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(&window, &netdeck::gui::GuiOptions::default()).unwrap();
    let adapter = window.global::<HttpAdapter>();
    assert_eq!(adapter.get_url(), "", "no address to wait on by default");

    // The Server tab's listener, in Manual mode (its default).
    open_tab(&window, "Server");
    let server = window.global::<ServerAdapter>();
    element(&window, "Port").set_accessible_value("0");
    element(&window, "Start").invoke_accessible_default_action();
    run_until("the server to listen", || server.get_listening());
    let status = server.get_status();
    let port: u16 = (status.strip_prefix("Listening on 127.0.0.1:"))
        .and_then(|rest| rest.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("a port in {status:?}"));

    open_tab(&window, "HTTP");
    for host in ["127.0.0.1", "localhost"] {
        element(&window, "URL").set_accessible_value(format!("http://{host}:{port}/"));
        element(&window, "Send request").invoke_accessible_default_action();
        let explained = format!(
            "The Server tab's listener on :{port} is in Manual mode: it will not answer HTTP"
        );
        run_until("the explanation", || adapter.get_error() == explained);
        assert!(
            adapter.get_busy(),
            "explained while the request is under way"
        );
        assert!(
            adapter.get_error_hint().contains("HTTP mode"),
            "{}",
            adapter.get_error_hint()
        );
        element(&window, "Cancel").invoke_accessible_default_action();
        run_until("the request to end", || !adapter.get_busy());
    }

    // In HTTP mode the same listener answers, and nothing is said against it.
    open_tab(&window, "Server");
    element(&window, "Mode: HTTP").invoke_accessible_default_action();
    open_tab(&window, "HTTP");
    element(&window, "Send request").invoke_accessible_default_action();
    assert_eq!(adapter.get_error(), "");
    run_until("the answer", || {
        adapter.get_has_response() && !adapter.get_busy()
    });
    assert_eq!(adapter.get_error(), "");
    assert_eq!(adapter.get_status_class(), 2, "{}", adapter.get_status());
}
