//! The UDP tab driven as a person (or a screen reader) does, against Python's sockets.

use crate::common;

use std::io::BufReader;

use common::ui::{bind_an_echoing_udp_socket, element, element_starting, run_until};
use common::{Watchdog, read_line, udp_peer};
use netdeck::gui::ui::{AppWindow, UdpAdapter};
use slint::{ComponentHandle, Model};

pub fn the_udp_tab_binds_lists_sources_answers_and_sends() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(&window, &netdeck::gui::GuiOptions::default()).unwrap();
    window.show().unwrap();
    let adapter = window.global::<UdpAdapter>();
    // Echo on a free port.
    let port = bind_an_echoing_udp_socket(&window).to_string();

    // Python sends a datagram and gets its echo; the window lists where it came from.
    let mut python = udp_peer(&["send", "127.0.0.1", &port, "ping"]);
    let _watchdog = Watchdog::new(python.id());
    let mut replies = BufReader::new(python.stdout.take().unwrap());
    assert_eq!(
        read_line(&mut replies),
        format!("from 127.0.0.1 {port}: ping")
    );
    run_until("the source with its datagram and the echo", || {
        (adapter.get_sources().iter()).any(|row| {
            row.detail
                .starts_with("1 datagram in, 1 out · last 4 B at ")
        })
    });
    assert!(adapter.get_status().ends_with("· 1 datagram in, 1 out"));
    let source = adapter
        .get_sources()
        .row_data(0)
        .unwrap()
        .address
        .to_string();
    element_starting(&window, &format!("Source {source}, ")).invoke_accessible_default_action();
    element(&window, "Received: ping");
    element(&window, "Sent: ping");
    assert_eq!(adapter.get_to(), source, "To is the selected source");
    let _ = python.kill();
    let _ = python.wait();

    // Bound again without answers (an echo would answer the echo peer's echo, and so on),
    // the window sends to a Python echo peer and lists its answer as a source.
    element(&window, "Close").invoke_accessible_default_action();
    run_until("the closed socket", || {
        !adapter.get_bound() && !adapter.get_busy()
    });
    element(&window, "Answer: Nothing").invoke_accessible_default_action();
    element(&window, "Bind").invoke_accessible_default_action();
    run_until("the bound socket", || {
        adapter.get_bound() && !adapter.get_busy()
    });
    assert_eq!(
        adapter.get_sources().row_count(),
        0,
        "a new socket starts afresh"
    );
    let mut echo = udp_peer(&["echo"]);
    let _echo_watchdog = Watchdog::new(echo.id());
    let mut said = BufReader::new(echo.stdout.take().unwrap());
    let echo_port = read_line(&mut said)
        .strip_prefix("port ")
        .unwrap()
        .to_string();
    element(&window, "To").set_accessible_value(format!("127.0.0.1:{echo_port}"));
    element(&window, "Payload").set_accessible_value("hello");
    element(&window, "Send to the address in To").invoke_accessible_default_action();
    run_until("the echo peer's answer", || {
        (adapter.get_sources().iter()).any(|row| {
            row.address == format!("127.0.0.1:{echo_port}")
                && row.detail.starts_with("1 datagram in, 1 out")
        })
    });
    element_starting(&window, &format!("Source 127.0.0.1:{echo_port}, "))
        .invoke_accessible_default_action();
    element(&window, "Sent: hello");
    element(&window, "Received: hello");

    // An address that is not one is refused under To.
    element(&window, "To").set_accessible_value("nowhere");
    element(&window, "Send to the address in To").invoke_accessible_default_action();
    assert_eq!(
        adapter.get_to_error(),
        "to: `nowhere` is not an address and port, like 192.168.1.20:5000 or [::1]:5000"
    );

    // Close: the sources stay to be read.
    element(&window, "Close").invoke_accessible_default_action();
    run_until("the closed socket", || {
        !adapter.get_bound() && !adapter.get_busy()
    });
    assert_eq!(adapter.get_sources().row_count(), 1);
    element(&window, "Received: hello");
    let _ = echo.kill();
    let _ = echo.wait();
}
