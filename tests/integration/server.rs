//! The TCP server engine over real loopback sockets, driven through the engine thread the GUI
//! uses.

use crate::common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};

use common::{Harness, connect, is_closed_by_server, read_exact, reset, send};
use netdeck::engine::{Action, EventKind};
use netdeck::net::NetError;
use netdeck::net::server::{DisconnectReason, ReplyMode, ServerConfig, ServerEvent};

fn loopback(mode: ReplyMode) -> ServerConfig {
    ServerConfig {
        port: 0,
        mode,
        ..ServerConfig::default()
    }
}

#[test]
fn three_clients_at_once_are_each_seen_with_their_own_data() {
    let mut harness = Harness::new();
    let addr = harness.start(loopback(ReplyMode::Manual));
    let mut clients: Vec<_> = (0..3).map(|_| connect(addr)).collect();
    let ids: Vec<_> = clients
        .iter()
        .map(|c| harness.connected(c.local_addr().unwrap()))
        .collect();
    for (n, client) in clients.iter_mut().enumerate() {
        send(client, format!("client {n} says hi").as_bytes());
    }
    for (n, id) in ids.iter().enumerate() {
        let expected = format!("client {n} says hi");
        assert_eq!(harness.received(*id, expected.len()), expected.as_bytes());
    }
}

#[test]
fn broadcast_reaches_every_client() {
    let mut harness = Harness::new();
    let addr = harness.start(loopback(ReplyMode::Manual));
    let mut clients: Vec<_> = (0..3).map(|_| connect(addr)).collect();
    for client in &clients {
        harness.connected(client.local_addr().unwrap());
    }
    harness.server(Action::Broadcast(b"to all\r\n".to_vec()));
    for client in &mut clients {
        assert_eq!(read_exact(client, 8), b"to all\r\n");
    }
}

#[test]
fn send_reaches_only_the_chosen_client() {
    let mut harness = Harness::new();
    let addr = harness.start(loopback(ReplyMode::Manual));
    let mut first = connect(addr);
    let mut second = connect(addr);
    let first_id = harness.connected(first.local_addr().unwrap());
    let second_id = harness.connected(second.local_addr().unwrap());
    harness.server(Action::SendTo {
        client: second_id,
        bytes: b"only you".to_vec(),
    });
    assert_eq!(read_exact(&mut second, 8), b"only you");
    harness.server(Action::SendTo {
        client: first_id,
        bytes: b"and you".to_vec(),
    });
    assert_eq!(read_exact(&mut first, 7), b"and you");
}

#[test]
fn echo_mode_sends_back_what_arrives() {
    let mut harness = Harness::new();
    let addr = harness.start(loopback(ReplyMode::Echo));
    let mut client = connect(addr);
    send(&mut client, b"ping \x00\xff");
    assert_eq!(read_exact(&mut client, 7), b"ping \x00\xff");
    send(&mut client, b"again");
    assert_eq!(read_exact(&mut client, 5), b"again");
}

#[test]
fn auto_reply_answers_every_chunk_and_the_mode_can_change_while_running() {
    let mut harness = Harness::new();
    let addr = harness.start(loopback(ReplyMode::AutoReply(b"OK\r\n".to_vec())));
    let mut client = connect(addr);
    let id = harness.connected(client.local_addr().unwrap());
    send(&mut client, b"first");
    assert_eq!(read_exact(&mut client, 4), b"OK\r\n");
    harness.received(id, 5);
    send(&mut client, b"second");
    assert_eq!(read_exact(&mut client, 4), b"OK\r\n");
    harness.received(id, 6);

    harness.server(Action::SetMode(ReplyMode::Echo));
    // Commands are handled in order, so a broadcast queued after the mode change marks it done.
    harness.server(Action::Broadcast(b"!".to_vec()));
    assert_eq!(read_exact(&mut client, 1), b"!");
    send(&mut client, b"echoed");
    assert_eq!(read_exact(&mut client, 6), b"echoed");
}

#[test]
fn kicking_one_client_leaves_the_others_connected() {
    let mut harness = Harness::new();
    let addr = harness.start(loopback(ReplyMode::Echo));
    let mut kept = connect(addr);
    let mut kicked = connect(addr);
    harness.connected(kept.local_addr().unwrap());
    let kicked_id = harness.connected(kicked.local_addr().unwrap());

    harness.server(Action::Kick(kicked_id));
    let reason = harness.wait_for(|event| match event {
        EventKind::Server(ServerEvent::Disconnected { id, reason, .. }) if *id == kicked_id => {
            Some(reason.clone())
        }
        _ => None,
    });
    assert_eq!(reason, DisconnectReason::Kicked);
    assert!(is_closed_by_server(&mut kicked));

    send(&mut kept, b"still here");
    assert_eq!(read_exact(&mut kept, 10), b"still here");
}

#[test]
fn a_client_over_max_clients_is_refused_and_the_others_keep_working() {
    let mut harness = Harness::new();
    let addr = harness.start(ServerConfig {
        max_clients: Some(2),
        ..loopback(ReplyMode::Echo)
    });
    let mut first = connect(addr);
    let second = connect(addr);
    harness.connected(first.local_addr().unwrap());
    harness.connected(second.local_addr().unwrap());

    let mut third = connect(addr);
    let third_peer = third.local_addr().unwrap();
    let (peer, limit) = harness.wait_for(|event| match event {
        EventKind::Server(ServerEvent::Refused { peer, max_clients }) => {
            Some((*peer, *max_clients))
        }
        _ => None,
    });
    assert_eq!((peer, limit), (third_peer, 2));
    assert!(is_closed_by_server(&mut third));

    send(&mut first, b"fine");
    assert_eq!(read_exact(&mut first, 4), b"fine");

    // A freed place can be taken again.
    drop(second);
    harness.wait_for(|event| {
        matches!(event, EventKind::Server(ServerEvent::Disconnected { .. })).then_some(())
    });
    let fourth = connect(addr);
    harness.connected(fourth.local_addr().unwrap());
}

#[test]
fn stop_closes_every_client_and_frees_the_port_at_once() {
    let mut harness = Harness::new();
    let addr = harness.start(loopback(ReplyMode::Manual));
    let mut client = connect(addr);
    let id = harness.connected(client.local_addr().unwrap());
    send(&mut client, b"12345");
    harness.received(id, 5);

    harness.engine.close(harness.server_id());
    let (reason, bytes_in) = harness.wait_for(|event| match event {
        EventKind::Server(ServerEvent::Disconnected {
            reason, bytes_in, ..
        }) => Some((reason.clone(), *bytes_in)),
        _ => None,
    });
    assert_eq!(reason, DisconnectReason::ServerStopped);
    assert_eq!(bytes_in, 5);
    harness
        .wait_for(|event| matches!(event, EventKind::Server(ServerEvent::Stopped)).then_some(()));
    assert!(is_closed_by_server(&mut client));

    // Another program can take the port, then netdeck can start on it again.
    drop(TcpListener::bind(addr).expect("the port is free after Stop"));
    let again = harness.start(ServerConfig {
        port: addr.port(),
        ..ServerConfig::default()
    });
    assert_eq!(again, addr);
}

#[test]
fn ipv6_loopback_works() {
    let mut harness = Harness::new();
    let addr = harness.start(ServerConfig {
        bind: IpAddr::V6(Ipv6Addr::LOCALHOST),
        ..loopback(ReplyMode::Echo)
    });
    assert_eq!(addr.ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
    let mut client = connect(addr);
    send(&mut client, b"over v6");
    assert_eq!(read_exact(&mut client, 7), b"over v6");
}

fn failed_start(config: ServerConfig) -> NetError {
    let mut harness = Harness::new();
    harness.open_server(config);
    loop {
        match harness.next() {
            EventKind::ServerFailed(error) => return error,
            EventKind::Server(ServerEvent::Listening { addr, .. }) => {
                panic!("unexpectedly listening on {addr}")
            }
            _ => {}
        }
    }
}

#[test]
fn a_port_in_use_is_reported_as_such() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let error = failed_start(ServerConfig {
        port,
        ..ServerConfig::default()
    });
    assert!(matches!(error, NetError::PortInUse { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("cannot listen on 127.0.0.1:{port}: another program is using port {port}")
    );
    assert_eq!(error.field(), Some("port"));
    assert_eq!(error.exit_code(), 45);
}

#[test]
fn an_address_of_another_machine_is_reported_as_not_local() {
    let error = failed_start(ServerConfig {
        bind: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        port: 0,
        ..ServerConfig::default()
    });
    assert!(
        matches!(error, NetError::AddressNotLocal { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("192.0.2.1 is not an address of this machine")
    );
    assert_eq!(error.field(), Some("bind"));
}

#[test]
fn a_client_that_resets_mid_send_does_not_stop_the_server() {
    let mut harness = Harness::new();
    let addr = harness.start(loopback(ReplyMode::Echo));
    let mut rude = connect(addr);
    let rude_id = harness.connected(rude.local_addr().unwrap());
    // Echoed bytes the client never reads are still in its buffer when it resets.
    send(&mut rude, &vec![b'x'; 256 * 1024]);
    reset(rude);
    let reason = harness.wait_for(|event| match event {
        EventKind::Server(ServerEvent::Disconnected { id, reason, .. }) if *id == rude_id => {
            Some(reason.clone())
        }
        _ => None,
    });
    assert_eq!(reason, DisconnectReason::ResetByPeer);

    let mut polite = connect(addr);
    send(&mut polite, b"after the reset");
    assert_eq!(read_exact(&mut polite, 15), b"after the reset");
}

#[test]
fn received_data_is_counted_exactly_and_the_display_keeps_a_bounded_tail() {
    use netdeck::gui::ServerView;
    use netdeck::net::server::ClientId;

    let mut view = ServerView::default();
    let id: ClientId = 7;
    let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    view.apply(&ServerEvent::Connected {
        id,
        peer,
        since: std::time::SystemTime::now(),
    });
    let chunk = vec![b'a'; 64 * 1024];
    for _ in 0..1600 {
        view.apply(&ServerEvent::Received {
            id,
            peer,
            bytes: chunk.clone(),
        });
    }
    view.apply(&ServerEvent::Received {
        id,
        peer,
        bytes: b"END".to_vec(),
    });
    let client = view.client(id).unwrap();
    assert_eq!(client.bytes_in, 1600 * 64 * 1024 + 3);
    // After the connection's mark, one run of data is one entry, which keeps its end and
    // counts what it dropped.
    let entries: Vec<_> = client.transcript.entries().collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0].bytes,
        format!("connected from {peer}").as_bytes()
    );
    let kept = &entries[1].bytes;
    assert_eq!(kept.len(), netdeck::gui::CONNECTION_LIMITS.entry_bytes);
    assert!(kept.ends_with(b"aaEND"));
    assert_eq!(entries[1].dropped + kept.len() as u64, client.bytes_in);
}

#[test]
fn an_ended_connection_stays_with_its_conversation_and_the_oldest_ended_go_first() {
    use netdeck::gui::{ENDED_KEPT, ServerView};
    use netdeck::net::server::DisconnectReason;

    let mut view = ServerView::default();
    let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    for id in 0..ENDED_KEPT as u64 + 3 {
        view.apply(&ServerEvent::Connected {
            id,
            peer,
            since: std::time::SystemTime::now(),
        });
        view.apply(&ServerEvent::Received {
            id,
            peer,
            bytes: format!("hello {id}").into_bytes(),
        });
        view.apply(&ServerEvent::Sent {
            id,
            peer,
            bytes: b"ok".to_vec(),
        });
        view.apply(&ServerEvent::Disconnected {
            id,
            peer,
            reason: DisconnectReason::ClosedByPeer,
            bytes_in: 7,
            bytes_out: 2,
        });
    }
    // Memory stays bounded under many short connections: the oldest ended ones went.
    assert_eq!(view.clients().len(), ENDED_KEPT);
    assert_eq!(view.live(), 0);
    let last = view.client(ENDED_KEPT as u64 + 2).unwrap();
    assert!(last.ended.is_some());
    let said: Vec<_> = (last.transcript.entries())
        .map(|e| String::from_utf8_lossy(&e.bytes).into_owned())
        .collect();
    assert_eq!(
        said,
        [
            format!("connected from {}", last.peer),
            format!("hello {}", ENDED_KEPT + 2),
            "ok".into(),
            "ended: closed by peer".into()
        ]
    );
    assert!(view.client(0).is_none());
    view.clear_ended();
    assert!(view.clients().is_empty());
}

#[test]
fn http_mode_closes_a_client_that_never_completes_its_request_head() {
    use std::io::Read;
    let limit = std::time::Duration::from_millis(300);
    let mut harness = Harness::new();
    let addr = harness.start(ServerConfig {
        http_head_timeout: limit,
        ..loopback(ReplyMode::Http)
    });
    let mut slow = connect(addr);
    let slow_id = harness.connected(slow.local_addr().unwrap());
    send(&mut slow, b"GET / HTTP/1.1\r\nHost: x\r\n");
    let reason = harness.wait_for(|event| match event {
        EventKind::Server(ServerEvent::Disconnected { id, reason, .. }) if *id == slow_id => {
            Some(reason.clone())
        }
        _ => None,
    });
    assert_eq!(reason, DisconnectReason::HeadTimeout(limit));
    assert!(is_closed_by_server(&mut slow));

    // A prompt client is answered; kept alive and asking nothing more, it is closed as the
    // normal end of keep-alive, not as a failure.
    let mut prompt = connect(addr);
    let prompt_id = harness.connected(prompt.local_addr().unwrap());
    send(&mut prompt, b"GET /quick HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut answer = [0; 15];
    prompt.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200 OK");
    let reason = harness.wait_for(|event| match event {
        EventKind::Server(ServerEvent::Disconnected { id, reason, .. }) if *id == prompt_id => {
            Some(reason.clone())
        }
        _ => None,
    });
    assert_eq!(reason, DisconnectReason::IdleAfterAnswers(limit));
    assert_eq!(
        reason.to_string(),
        "kept alive 0.3 s after its answers, then closed"
    );
}
