//! The Log tab and its export against a Python echo server: times to the millisecond, a hex
//! message shown as the hex it was typed as, two connections to one endpoint told apart by
//! their own ports, and a long line whole in the file while the view shortens it. One test:
//! the testing backend's event loop can be set up once per process.

use crate::common;

use common::ui::{element, open_tab, run_until};
use common::{Peer, TempDir};
use netdeck::gui::GuiOptions;
use netdeck::gui::ui::{AppWindow, ClientAdapter, ConnectionState, LogAdapter};
use slint::{ComponentHandle, Model};

/// Whether `text` starts with a time to the millisecond and a space: `12:34:56.789 `.
fn starts_with_a_time_in_milliseconds(text: &str) -> bool {
    let stamp = text.as_bytes();
    stamp.len() > 13
        && stamp[..12].iter().enumerate().all(|(at, byte)| match at {
            2 | 5 => *byte == b':',
            8 => *byte == b'.',
            _ => byte.is_ascii_digit(),
        })
        && stamp[12] == b' '
}

pub fn the_export_has_milliseconds_hex_whole_lines_and_connections_apart() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = TempDir::new("log-export");
    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(
        &window,
        &GuiOptions {
            logs: Some(dir.path.clone()),
            ..GuiOptions::default()
        },
    )
    .unwrap();
    let peer = Peer::start(&["echo"]);
    let client = window.global::<ClientAdapter>();
    let log = window.global::<LogAdapter>();
    let view = || -> Vec<String> { log.get_lines().iter().map(|l| l.text.into()).collect() };

    // Two connections to one endpoint; their chips name them by their own ports.
    open_tab(&window, "Client");
    element(&window, "Host").set_accessible_value("127.0.0.1");
    element(&window, "Port").set_accessible_value(peer.addr.port().to_string());
    for opened in 1..=2 {
        element(&window, "Connect").invoke_accessible_default_action();
        run_until("the connection", || {
            client.get_connections().row_count() == opened
                && client.get_state() == ConnectionState::Connected
        });
    }
    let labels: Vec<String> = (client.get_connections().iter())
        .map(|row| row.label.into())
        .collect();
    let own_ports: Vec<u16> = (labels.iter())
        .map(|label| {
            label
                .strip_prefix(&format!("{} :", peer.addr))
                .and_then(|port| port.parse().ok())
                .unwrap_or_else(|| panic!("a chip named by its own port: {labels:?}"))
        })
        .collect();
    assert_ne!(own_ports[0], own_ports[1]);
    let source = |at: usize| format!("[client :{} → {}]", own_ports[at], peer.addr);

    // The second connection, shown, sends hex, then a line longer than the view shows.
    element(&window, "Message format: Hex").invoke_accessible_default_action();
    element(&window, "Message").set_accessible_value("48 65 6c 6c 6f");
    element(&window, "Send message").invoke_accessible_default_action();
    run_until("the echo of the hex message", || {
        view().iter().any(|line| line == "received: Hello")
    });
    assert!(view().iter().any(|line| line == "sent: 48 65 6c 6c 6f"));
    let long: String = (0..100).map(|n| format!("{n:03}")).collect();
    element(&window, "Message format: Text").invoke_accessible_default_action();
    element(&window, "Message").set_accessible_value(long.as_str());
    element(&window, "Send message").invoke_accessible_default_action();
    run_until("the long line, shortened in the view", || {
        view()
            .iter()
            .any(|line| line.starts_with("sent: 000001") && line.ends_with("… (300 bytes)"))
    });

    // The first one sends text.
    element(&window, &format!("Connection {}", labels[0])).invoke_accessible_default_action();
    element(&window, "Message").set_accessible_value("first");
    element(&window, "Send message").invoke_accessible_default_action();
    run_until("the first connection's echo", || {
        view().iter().any(|line| line == "received: first")
    });

    open_tab(&window, "Log");
    element(&window, "Export log").invoke_accessible_default_action();
    assert!(!log.get_export_failed(), "{}", log.get_export_status());
    let exported = log
        .get_export_status()
        .strip_prefix("Saved to ")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| panic!("{}", log.get_export_status()));
    let text = std::fs::read_to_string(&exported).unwrap();
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert!(!lines.is_empty(), "{text}");
    for line in &lines {
        assert!(starts_with_a_time_in_milliseconds(line), "{line:?}");
        assert!(!line.contains('…'), "a line cut short: {line:?}");
    }
    let has = |wanted: String| {
        assert!(
            lines.iter().any(|line| line[13..] == wanted),
            "{wanted:?} in:\n{text}"
        );
    };
    has(format!("{} connected to {}", source(0), peer.addr));
    has(format!("{} connected to {}", source(1), peer.addr));
    has(format!("{} sent: 48 65 6c 6c 6f", source(1)));
    has(format!("{} received: Hello", source(1)));
    has(format!("{} sent: {long}", source(1)));
    has(format!("{} sent: first", source(0)));
    // The view shows the same times.
    let times: Vec<String> = log.get_lines().iter().map(|l| l.time.into()).collect();
    assert!(
        times
            .iter()
            .all(|time| starts_with_a_time_in_milliseconds(&format!("{time} x"))),
        "{times:?}"
    );
}
