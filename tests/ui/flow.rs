//! The pictures of a connection: its flow as a sequence diagram and its rates as graphs,
//! against Python peers.

use std::time::{Duration, Instant};

use crate::common;

use common::Peer;
use common::ui::{connect_to_an_echo_server, element, open_tab, run_until, shown, tap};
use netdeck::gui::ui::{
    AppWindow, ClientAdapter, ConnectionState, FlowKind, HttpAdapter, SessionShow,
};
use slint::{ComponentHandle, Model};

/// Sends `text` from the Client tab and waits for its echo: `echoed` bytes in all.
fn send_and_wait_for_the_echo(window: &AppWindow, text: &str, echoed: usize) {
    let adapter = window.global::<ClientAdapter>();
    element(window, "Message").set_accessible_value(text);
    element(window, "Send message").invoke_accessible_default_action();
    let counters = format!("{echoed} B in · {echoed} B out");
    run_until(&format!("the echo of {text:?}"), || {
        adapter.get_counters() == counters
    });
}

/// The flow as (kind, drawn from the server's lane, label).
fn flow_of(marks: &slint::ModelRc<netdeck::gui::ui::FlowMark>) -> Vec<(FlowKind, bool, String)> {
    (marks.iter())
        .map(|mark| (mark.kind, mark.from_server, mark.label.to_string()))
        .collect()
}

pub fn a_client_sessions_flow_holds_connect_each_chunk_and_close_in_order() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let (window, _gui) = common::ui::open_window(800.0, 480.0);
    let adapter = window.global::<ClientAdapter>();
    let _peer = connect_to_an_echo_server(&window);

    // More than the view holds, so that the first entries are out of sight at the end.
    let messages = ["one", "three", "four", "five", "six"];
    let mut echoed = 0;
    for message in messages {
        echoed += message.len();
        send_and_wait_for_the_echo(&window, message, echoed);
    }
    element(&window, "Disconnect").invoke_accessible_default_action();
    run_until("the close", || adapter.get_state() == ConnectionState::Idle);

    element(&window, "Show: Flow").invoke_accessible_default_action();
    assert_eq!(adapter.get_show(), SessionShow::Flow);
    let flow = flow_of(&adapter.get_flow());
    // The connect's label goes on with its time.
    let kinds: Vec<_> = (flow.iter())
        .map(|(kind, from_server, label)| {
            let label = label.split(" (SYN").next().unwrap().to_string();
            (*kind, *from_server, label)
        })
        .collect();
    let mut expected = vec![(FlowKind::Connect, false, "connect".to_string())];
    for message in messages {
        let label = format!("{} B · {message}", message.len());
        expected.push((FlowKind::Data, false, label.clone()));
        expected.push((FlowKind::Data, true, label));
    }
    expected.push((
        FlowKind::Close,
        false,
        "close (FIN) by the client".to_string(),
    ));
    assert_eq!(kinds, expected, "{flow:?}");
    assert!(
        flow[0].2.ends_with(" ms"),
        "the connect's time: {}",
        flow[0].2
    );

    // On screen, in that order down the diagram, as a screen reader reads them: the newest
    // first, as the view follows them, then the oldest once scrolled up.
    let in_order = |labels: &[&str]| {
        let ys: Vec<f32> = (labels.iter())
            .map(|label| element(&window, label).absolute_position().y)
            .collect();
        assert!(
            ys.windows(2).all(|pair| pair[0] < pair[1]),
            "{labels:?} at {ys:?}"
        );
    };
    run_until("the flow's newest mark", || {
        shown(&window, "close (FIN) by the client")
    });
    in_order(&["Server to client: 3 B · six", "close (FIN) by the client"]);
    element(&window, "close (FIN) by the client").scroll(0.0, 1000.0);
    run_until("the flow's first marks", || {
        shown(&window, "Client to server: 3 B · one")
    });
    in_order(&["Client to server: 3 B · one", "Server to client: 3 B · one"]);
    assert!(
        shown(&window, "Jump to newest"),
        "scrolled up, the flow stops following"
    );

    // Tapping an arrow shows its bytes in the conversation, picked out.
    let first = element(&window, "Client to server: 3 B · one");
    let row = |view_rows: &[(FlowKind, bool, String)]| {
        view_rows
            .iter()
            .position(|(kind, _, label)| *kind == FlowKind::Data && label == "3 B · one")
            .unwrap() as i32
    };
    tap(&window, &first);
    run_until("the conversation", || {
        adapter.get_show() == SessionShow::Conversation
    });
    assert_eq!(adapter.get_chosen_entry(), row(&flow));
    assert!(!adapter.get_conversation_following());
    let line = element(&window, "Sent: one");
    let status = common::ui::element_where(&window, "the client's status", |e| {
        e.accessible_description().as_deref() == Some("Client status")
    });
    let top = status.absolute_position().y + status.size().height;
    let bottom = element(&window, "Message").absolute_position().y;
    let y = line.absolute_position().y;
    assert!(
        y >= top && y + line.size().height <= bottom,
        "the tapped entry is in view: y {y}, view from {top} to {bottom}"
    );
}

pub fn an_http_request_shows_as_one_request_answer_pair() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let (window, _gui) = common::ui::open_window(800.0, 480.0);
    open_tab(&window, "HTTP");
    let adapter = window.global::<HttpAdapter>();
    let peer = Peer::http(&[]);

    element(&window, "URL").set_accessible_value(format!("http://{}/status/418", peer.addr));
    element(&window, "Header name 1").set_accessible_value("X-Reason");
    element(&window, "Header value 1").set_accessible_value("I'm a teapot");
    element(&window, "Send request").invoke_accessible_default_action();
    run_until("the answer", || {
        adapter.get_has_response() && !adapter.get_busy()
    });
    element(&window, "Show: Flow").invoke_accessible_default_action();
    let flow = flow_of(&adapter.get_flow());
    assert_eq!(flow.len(), 3, "{flow:?}");
    assert_eq!(flow[0].0, FlowKind::Connect);
    assert_eq!(
        flow[1],
        (FlowKind::Request, false, "GET /status/418".to_string())
    );
    assert_eq!(flow[2].0, FlowKind::Response);
    assert!(flow[2].1, "the answer comes from the server's lane");
    assert!(
        flow[2].2.starts_with("418 I'm a teapot · 3 B · "),
        "{}",
        flow[2].2
    );
    let request = element(&window, "Request: GET /status/418");
    let answer = common::ui::element_starting(&window, "Answer: 418 I'm a teapot");
    assert!(request.absolute_position().y < answer.absolute_position().y);

    // Tapping the answer shows it.
    tap(&window, &answer);
    run_until("the response view", || adapter.get_view() == 1);
    assert_eq!(adapter.get_status(), "418 I'm a teapot");
}

pub fn the_graph_counts_the_bytes_of_each_second() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let (window, _gui) = common::ui::open_window(800.0, 480.0);
    let adapter = window.global::<ClientAdapter>();
    let _peer = connect_to_an_echo_server(&window);
    element(&window, "Show: Graph").invoke_accessible_default_action();

    // 1000 bytes every 250 ms for about 2.5 s: the bytes spread over three or four seconds.
    let chunk = "x".repeat(1000);
    let started = Instant::now();
    let mut sent = 0;
    for _ in 0..10 {
        element(&window, "Message").set_accessible_value(chunk.as_str());
        element(&window, "Send message").invoke_accessible_default_action();
        sent += chunk.len() as i64;
        let next = Instant::now() + Duration::from_millis(250);
        run_until("the next chunk's moment", || Instant::now() >= next);
    }
    let interval = started.elapsed();
    let total = |pick: fn(&netdeck::gui::ui::Rates) -> slint::ModelRc<i32>| {
        let graphs = adapter.get_graphs();
        graphs
            .row_data(0)
            .map_or(0, |rates| pick(&rates).iter().map(i64::from).sum::<i64>())
    };
    run_until("every byte to be in the graph's whole seconds", || {
        total(|r| r.sent.clone()) == sent && total(|r| r.received.clone()) == sent
    });
    let rates = adapter.get_graphs().row_data(0).unwrap();
    assert!(
        rates.title.starts_with("Connection to 127.0.0.1:"),
        "{}",
        rates.title
    );
    let seconds: Vec<i32> = rates.sent.iter().filter(|&bytes| bytes > 0).collect();
    let spread = interval.as_secs_f64();
    assert!(
        seconds.len() as f64 <= spread.ceil() + 1.0 && seconds.len() as f64 >= spread.floor(),
        "{sent} B over {spread:.2} s fell in {seconds:?}"
    );
    let peak = (rates.sent.iter().chain(rates.received.iter()))
        .max()
        .unwrap();
    assert!(
        rates.peak == format!("peak {}/s", netdeck::payload::ByteCount(peak as u64)),
        "{}",
        rates.peak
    );
    // The line has a point for each second.
    assert_eq!(rates.sent_line.matches(['M', 'L']).count(), 60);
}

/// A TLS connection's first mark is its handshake, with the version and both times.
pub fn a_tls_connections_flow_shows_its_handshake() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let (window, _gui) = common::ui::open_window(800.0, 480.0);
    let adapter = window.global::<ClientAdapter>();
    let pki = common::Pki::new(&["localhost"], false);
    let peer = Peer::start(&["tls-echo", &pki.cert_path, &pki.key_path]);
    open_tab(&window, "Client");
    element(&window, "Host").set_accessible_value("localhost");
    element(&window, "Port").set_accessible_value(peer.addr.port().to_string());
    element(&window, "TLS").invoke_accessible_default_action();
    element(&window, "Accept invalid certificates").invoke_accessible_default_action();
    element(&window, "Connect").invoke_accessible_default_action();
    run_until("the TLS connection", || {
        adapter.get_state() == ConnectionState::Connected
    });
    send_and_wait_for_the_echo(&window, "sealed", 6);
    let flow = flow_of(&adapter.get_flow());
    assert_eq!(flow[0].0, FlowKind::Tls, "{flow:?}");
    let handshake = &flow[0].2;
    assert!(
        handshake.starts_with("connect (SYN → established) ")
            && handshake.contains(" ms · TLS handshake ")
            && handshake.ends_with(" ms (TLSv1_3)"),
        "{handshake}"
    );
    assert_eq!(flow[1], (FlowKind::Data, false, "6 B · sealed".to_string()));
}

/// A connection of a server: the peer's lane on the left, netdeck's server on the right.
pub fn a_server_connections_flow_has_its_client_on_the_left() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let (window, _gui) = common::ui::open_window(800.0, 480.0);
    let server = window.global::<netdeck::gui::ui::ServerAdapter>();
    let port = common::ui::start_an_echo_server(&window);
    // The seed's client, in Python: it connects, sends, reads the echo and closes.
    let seed = std::process::Command::new("python3")
        .args([
            "-c",
            "import socket,sys; s=socket.create_connection(('127.0.0.1', int(sys.argv[1]))); \
             s.sendall(b'ping'); s.recv(4); s.close()",
            &port.to_string(),
        ])
        .status()
        .unwrap();
    assert!(seed.success());
    run_until("the client's end", || {
        (server.get_clients().iter()).any(|row| row.ended)
    });
    let ended = (server.get_clients().iter()).find(|row| row.ended).unwrap();
    server.invoke_select_client(ended.id);
    element(&window, "Show: Flow").invoke_accessible_default_action();
    let flow = flow_of(&server.get_flow());
    assert_eq!(
        flow,
        [
            (FlowKind::Connect, false, "connection accepted".to_string()),
            (FlowKind::Data, false, "4 B · ping".to_string()),
            (FlowKind::Data, true, "4 B · ping".to_string()),
            (
                FlowKind::Close,
                false,
                "close (FIN) by the client".to_string()
            ),
        ]
    );
    assert_eq!(server.get_client_lane(), format!("Client {}", ended.peer));
    assert_eq!(server.get_server_lane(), format!("Server 127.0.0.1:{port}"));
}
