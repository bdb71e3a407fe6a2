//! The engine's sessions: many servers, connections and HTTP exchanges at once in one engine,
//! every event attributed to its own session, and each ending on its own.

use std::io::Write;
use std::net::SocketAddr;

use netdeck::engine::{Action, EventKind, HttpSettings, HttpSpec, SessionId, SessionSpec};
use netdeck::forms::HttpForm;
use netdeck::net::client::{ClientConfig, ClientEvent, CloseReason};
use netdeck::net::http::HttpEvent;
use netdeck::net::http::proxy::ProxySettings;
use netdeck::net::server::{ReplyMode, ServerConfig, ServerEvent};

use crate::common::{Harness, Peer, connect, read_exact};

fn echo_server() -> ServerConfig {
    ServerConfig {
        port: 0,
        mode: ReplyMode::Echo,
        ..ServerConfig::default()
    }
}

/// What session `id` receives, as a client connection, until it amounts to `len` bytes.
fn received_by(harness: &mut Harness, id: SessionId, len: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < len {
        harness.wait_for_event(|event| match &event.kind {
            EventKind::Client(ClientEvent::Received(bytes)) if event.session == id => {
                got.extend_from_slice(bytes);
                Some(())
            }
            _ => None,
        });
    }
    got
}

fn connected(harness: &mut Harness, id: SessionId) -> SocketAddr {
    harness.wait_for_event(|event| match &event.kind {
        EventKind::Client(ClientEvent::Connected { peer, .. }) if event.session == id => {
            Some(*peer)
        }
        EventKind::Client(ClientEvent::Failed(error)) if event.session == id => {
            panic!("{} did not connect: {error}", event.session)
        }
        _ => None,
    })
}

#[test]
fn two_servers_and_two_connections_run_side_by_side_and_end_on_their_own() {
    let mut harness = Harness::new();
    let first_addr = harness.start(echo_server());
    let first = harness.server_id();
    let second_addr = harness.start(echo_server());
    let second = harness.server_id();
    assert_ne!(first, second);
    assert_ne!(first_addr, second_addr, "each listens on its own port");

    let to_first = harness.connect(ClientConfig::new("127.0.0.1", first_addr.port()));
    let to_second = harness.connect(ClientConfig::new("127.0.0.1", second_addr.port()));
    assert_eq!(connected(&mut harness, to_first), first_addr);
    assert_eq!(connected(&mut harness, to_second), second_addr);

    harness.engine.act(to_first, Action::Send(b"one".to_vec()));
    harness
        .engine
        .act(to_second, Action::Send(b"two!".to_vec()));
    assert_eq!(received_by(&mut harness, to_first, 3), b"one");
    assert_eq!(received_by(&mut harness, to_second, 4), b"two!");

    // Each server saw only its own client's bytes.
    for (server, expected) in [(first, &b"one"[..]), (second, &b"two!"[..])] {
        let bytes = harness.wait_for_event(|event| match &event.kind {
            EventKind::Server(ServerEvent::Received { bytes, .. }) if event.session == server => {
                Some(bytes.clone())
            }
            _ => None,
        });
        assert_eq!(bytes, expected, "server {server}");
    }

    // Closing one connection leaves the other talking.
    harness.engine.close(to_first);
    let closed_locally = harness.wait_for_event(|event| match &event.kind {
        EventKind::Client(ClientEvent::Closed { reason, .. }) => {
            assert_eq!(event.session, to_first, "only the closed one ends");
            Some(matches!(reason, CloseReason::Local))
        }
        _ => None,
    });
    assert!(closed_locally);
    harness
        .engine
        .act(to_second, Action::Send(b"still".to_vec()));
    assert_eq!(received_by(&mut harness, to_second, 5), b"still");

    // Stopping one server leaves the other listening.
    harness.engine.close(first);
    harness.wait_for_event(|event| {
        (event.session == first && matches!(event.kind, EventKind::Server(ServerEvent::Stopped)))
            .then_some(())
    });
    let mut late = connect(second_addr);
    late.write_all(b"late").unwrap();
    assert_eq!(read_exact(&mut late, 4), b"late");
    assert!(
        std::net::TcpStream::connect(first_addr).is_err(),
        "the stopped server's port is closed"
    );
}

fn exchange(url: &str) -> SessionSpec {
    let form = HttpForm {
        url: url.into(),
        ..HttpForm::default()
    };
    SessionSpec::Http(Box::new(HttpSpec {
        request: form.check().unwrap(),
        settings: HttpSettings {
            insecure: false,
            timeout: std::time::Duration::from_secs(20),
            max_redirects: 5,
            compressed: false,
            proxy: ProxySettings::default(),
        },
        body_file: None,
        save_to: None,
    }))
}

#[test]
fn http_exchanges_run_at_once_and_one_can_be_cancelled() {
    let peer = Peer::http(&[]);
    let base = format!("http://{}", peer.addr);
    let mut harness = Harness::new();
    let stalled = harness.engine.open(exchange(&format!("{base}/stall")));
    let created = harness.engine.open(exchange(&format!("{base}/status/201")));
    let teapot = harness.engine.open(exchange(&format!("{base}/status/418")));

    // The stalled one does not hold up the others, and each answer comes to its own session.
    for (id, status) in [(created, 201), (teapot, 418)] {
        let got = harness.wait_for_event(|event| match &event.kind {
            EventKind::Http(HttpEvent::Done(result)) if event.session == id => Some(
                result
                    .as_ref()
                    .as_ref()
                    .map(|r| r.status)
                    .map_err(|e| e.to_string()),
            ),
            EventKind::Http(HttpEvent::Done(_)) if event.session == stalled => {
                panic!("the stalled exchange answered")
            }
            _ => None,
        });
        assert_eq!(got, Ok(status));
    }

    harness.engine.close(stalled);
    harness.wait_for_event(|event| match &event.kind {
        EventKind::Http(HttpEvent::Cancelled) if event.session == stalled => Some(()),
        EventKind::Http(HttpEvent::Done(_)) if event.session == stalled => {
            panic!("a cancelled exchange reports Cancelled, not an answer")
        }
        _ => None,
    });
}
