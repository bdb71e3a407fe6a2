//! The TCP client over real loopback sockets, against a Python peer and netdeck's own server:
//! the session the GUI uses (through the engine thread) and `netdeck connect`.

use crate::common;

use std::io::{Read, Write};
use std::process::Stdio;

use common::{
    Harness, Peer, Pki, ServeProcess, assert_self_signed_or_unknown_authority, netdeck, run_netdeck,
};
use netdeck::engine::{Action, EventKind};
use netdeck::net::NetError;
use netdeck::net::client::{ClientConfig, ClientEvent, CloseReason};
use netdeck::net::error::CertificateProblem;
use netdeck::net::tls::TlsOptions;

/// `netdeck connect 127.0.0.1 PORT <more>`, run to its end.
fn connect_cli(port: &str, more: &[&str]) -> (i32, Vec<u8>, String) {
    let mut args = vec!["connect", "127.0.0.1", port];
    args.extend_from_slice(more);
    run_netdeck(&args)
}

fn config_for(addr: std::net::SocketAddr) -> ClientConfig {
    ClientConfig::new(addr.ip().to_string(), addr.port())
}

/// Connects through the engine and waits until connected.
fn connect(harness: &mut Harness, config: ClientConfig) -> Option<netdeck::net::client::TlsInfo> {
    harness.connect(config);
    harness.wait_for(|event| match event {
        EventKind::Client(ClientEvent::Connected { tls, .. }) => Some(tls.clone()),
        EventKind::Client(ClientEvent::Failed(error)) => panic!("did not connect: {error}"),
        _ => None,
    })
}

/// Collects received bytes until there are `len`.
fn receive(harness: &mut Harness, len: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < len {
        harness.wait_for(|event| match event {
            EventKind::Client(ClientEvent::Received(bytes)) => {
                got.extend_from_slice(bytes);
                Some(())
            }
            _ => None,
        });
    }
    got
}

fn connect_failure(config: ClientConfig) -> NetError {
    let mut harness = Harness::new();
    harness.connect(config);
    loop {
        match harness.next() {
            EventKind::Client(ClientEvent::Failed(error)) => return error,
            EventKind::Client(ClientEvent::Connected { peer, .. }) => {
                panic!("unexpectedly connected to {peer}")
            }
            _ => {}
        }
    }
}

fn closed(harness: &mut Harness) -> CloseReason {
    let mut reason = None;
    harness.wait_for(|event| match event {
        EventKind::Client(ClientEvent::Closed { .. }) => Some(()),
        _ => None,
    });
    if let Some(EventKind::Client(ClientEvent::Closed { reason: r, .. })) = harness.take_last() {
        reason = Some(r);
    }
    reason.expect("a Closed event")
}

#[test]
fn text_and_hex_payloads_come_back_from_a_python_echo_server() {
    let peer = Peer::start(&["echo"]);
    let mut harness = Harness::new();
    assert_eq!(connect(&mut harness, config_for(peer.addr)), None);
    let text = netdeck::payload::encode(
        r"hello\tworld",
        netdeck::payload::Encoding::Text,
        netdeck::payload::LineEnding::CrLf,
    )
    .unwrap();
    harness.client(Action::Send(text));
    assert_eq!(receive(&mut harness, 13), b"hello\tworld\r\n");
    let hex = netdeck::payload::parse_hex("00 ff 0x41").unwrap();
    harness.client(Action::Send(hex));
    assert_eq!(receive(&mut harness, 3), b"\x00\xffA");
}

#[test]
fn the_cli_sends_text_with_crlf_and_prints_raw_replies() {
    let peer = Peer::start(&["echo"]);
    let port = peer.addr.port().to_string();
    let (code, stdout, stderr) = connect_cli(
        &port,
        &[
            "--send", r"one\x00", "--send", "two", "--crlf", "--wait", "500",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, b"one\x00\r\ntwo\r\n");
    assert!(
        stderr.contains(&format!("connected to {}", peer.addr)),
        "{stderr}"
    );
}

#[test]
fn the_cli_sends_text_and_hex_in_command_line_order() {
    let peer = Peer::start(&["echo"]);
    let port = peer.addr.port().to_string();
    let (code, stdout, stderr) = connect_cli(
        &port,
        &[
            "--send", "one", "--hex", "00 01", "--send", "two", "--lf", "--wait", "500",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    // Replies may come in several chunks, each dumped from its own offset on.
    let dumped: Vec<u8> = String::from_utf8(stdout)
        .unwrap()
        .lines()
        .flat_map(|line| {
            let hex = line[10..58].to_string();
            netdeck::payload::parse_hex(&hex).unwrap()
        })
        .collect();
    assert_eq!(dumped, b"one\n\x00\x01two\n");
}

#[test]
fn the_cli_prints_a_hex_dump_when_speaking_hex() {
    let peer = Peer::start(&["echo"]);
    let port = peer.addr.port().to_string();
    let (code, stdout, _) = connect_cli(&port, &["--hex", "48 69", "--wait", "500"]);
    assert_eq!(code, 0);
    assert_eq!(
        String::from_utf8(stdout).unwrap(),
        "00000000  48 69                                             |Hi|\n"
    );
}

#[test]
fn fifty_megabytes_through_stdin_come_back_byte_exact() {
    let peer = Peer::start(&["echo"]);
    let port = peer.addr.port().to_string();
    let data: Vec<u8> = (0..50_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let mut child = netdeck(&["connect", "127.0.0.1", &port, "--stdin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let sent = data.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&sent).unwrap());
    let mut echoed = Vec::with_capacity(data.len());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut echoed)
        .unwrap();
    writer.join().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert_eq!(echoed.len(), data.len());
    assert_eq!(checksum(&echoed), checksum(&data));
    assert!(echoed == data);
}

#[test]
fn stdin_into_netdecks_own_server_is_counted_exactly() {
    let mut serve = ServeProcess::start(&["--quiet", "--once"]);
    let port = serve.addr.port().to_string();
    let mut child = netdeck(&["connect", "127.0.0.1", &port, "--stdin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&vec![7u8; 5_000_000])
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let (rest, code) = serve.finish();
    assert_eq!(code, 0);
    assert!(
        rest.iter()
            .any(|l| l.ends_with("disconnected (5000000 bytes in, 0 out)")),
        "{rest:?}"
    );
}

fn checksum(bytes: &[u8]) -> u64 {
    // FNV-1a: enough to tell two 50 MB streams apart.
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn a_remote_close_is_reported_after_its_last_data() {
    let peer = Peer::start(&["bye"]);
    let mut harness = Harness::new();
    connect(&mut harness, config_for(peer.addr));
    assert_eq!(receive(&mut harness, 3), b"bye");
    assert!(matches!(closed(&mut harness), CloseReason::ClosedByPeer));
}

#[test]
fn disconnect_then_connect_again_talks_again() {
    let peer = Peer::start(&["echo"]);
    let mut harness = Harness::new();
    connect(&mut harness, config_for(peer.addr));
    harness.client(Action::Send(b"first".to_vec()));
    assert_eq!(receive(&mut harness, 5), b"first");
    harness.disconnect();
    assert!(matches!(closed(&mut harness), CloseReason::Local));

    harness.connect(config_for(peer.addr));
    harness.wait_for(|event| {
        matches!(event, EventKind::Client(ClientEvent::Connected { .. })).then_some(())
    });
    harness.client(Action::Send(b"second".to_vec()));
    assert_eq!(receive(&mut harness, 6), b"second");
}

#[test]
fn the_client_talks_to_netdecks_own_server() {
    let serve = ServeProcess::start(&["--echo", "--quiet"]);
    let mut harness = Harness::new();
    connect(&mut harness, config_for(serve.addr));
    harness.client(Action::Send(b"to myself".to_vec()));
    assert_eq!(receive(&mut harness, 9), b"to myself");
}

#[test]
fn a_refused_port_is_error_7() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let error = connect_failure(config_for(addr));
    assert!(
        matches!(error, NetError::Refused { addr: a } if a == addr),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("connection refused by {addr}: nothing is listening there")
    );
    let (code, _, stderr) = run_netdeck(&["connect", "127.0.0.1", &addr.port().to_string()]);
    assert_eq!(code, 7, "{stderr}");
    assert!(stderr.contains("hint: Start the server"), "{stderr}");
}

#[test]
fn a_host_that_does_not_resolve_is_error_6() {
    let error = connect_failure(ClientConfig::new("no-such-host.invalid", 80));
    assert!(
        matches!(&error, NetError::ResolveFailed { host, .. } if host == "no-such-host.invalid"),
        "{error:?}"
    );
    assert_eq!(error.field(), Some("host"));
    let (code, _, stderr) = run_netdeck(&["connect", "no-such-host.invalid", "80"]);
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains("could not resolve no-such-host.invalid"),
        "{stderr}"
    );
}

#[test]
fn tls_to_a_plain_tcp_server_is_a_handshake_failure_35() {
    let peer = Peer::start(&["echo"]);
    let error = connect_failure(ClientConfig {
        tls: Some(TlsOptions::default()),
        ..config_for(peer.addr)
    });
    assert!(matches!(error, NetError::TlsHandshake { .. }), "{error:?}");
    assert!(
        error.to_string().contains("does not answer in TLS"),
        "{error}"
    );
    let port = peer.addr.port().to_string();
    let (code, _, stderr) = connect_cli(&port, &["--tls"]);
    assert_eq!(code, 35, "{stderr}");
}

#[test]
fn a_self_signed_certificate_is_untrusted_60_until_insecure_is_chosen() {
    let pki = Pki::new(&["localhost"], false);
    let peer = Peer::start(&["tls-echo", &pki.cert_path, &pki.key_path]);
    let error = connect_failure(ClientConfig {
        tls: Some(TlsOptions::default()),
        ..ClientConfig::new("localhost", peer.addr.port())
    });
    assert_self_signed_or_unknown_authority(&error);
    assert_eq!(error.exit_code(), 60);
    assert!(
        error
            .to_string()
            .contains("self-signed or signed by an unknown authority")
    );

    let port = peer.addr.port().to_string();
    let (code, _, stderr) = run_netdeck(&["connect", "localhost", &port, "--tls", "--send", "x"]);
    assert_eq!(code, 60, "{stderr}");

    let (code, stdout, stderr) = run_netdeck(&[
        "connect",
        "localhost",
        &port,
        "--tls",
        "--insecure",
        "--send",
        "secret",
        "--wait",
        "500",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, b"secret");
    assert!(stderr.contains("certificate NOT checked"), "{stderr}");
}

#[test]
fn a_valid_chain_is_trusted_through_the_config_and_sni_names_the_host() {
    let pki = Pki::new(&["localhost"], true);
    let mut peer = Peer::start(&["tls-echo", &pki.cert_path, &pki.key_path]);
    let mut harness = Harness::new();
    let tls = connect(
        &mut harness,
        ClientConfig {
            tls: Some(TlsOptions {
                accept_invalid_certificates: false,
                extra_roots: vec![pki.ca_der.clone()],
                ..TlsOptions::default()
            }),
            ..ClientConfig::new("localhost", peer.addr.port())
        },
    )
    .expect("a TLS connection");
    assert!(!tls.unverified);
    assert_eq!(peer.line(), "sni localhost");
    harness.client(Action::Send(b"over tls".to_vec()));
    assert_eq!(receive(&mut harness, 8), b"over tls");

    let port = peer.addr.port().to_string();
    let (code, stdout, stderr) = run_netdeck(&[
        "connect",
        "localhost",
        &port,
        "--tls",
        "--cacert",
        &pki.ca_pem_path,
        "--send",
        "cli",
        "--wait",
        "500",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, b"cli");
}

#[test]
fn a_certificate_for_another_name_is_untrusted_and_says_which_host() {
    let pki = Pki::new(&["localhost"], true);
    let peer = Peer::start(&["tls-echo", &pki.cert_path, &pki.key_path]);
    let error = connect_failure(ClientConfig {
        tls: Some(TlsOptions {
            accept_invalid_certificates: false,
            extra_roots: vec![pki.ca_der.clone()],
            ..TlsOptions::default()
        }),
        ..config_for(peer.addr)
    });
    assert!(
        matches!(&error, NetError::CertificateUntrusted { problem: CertificateProblem::WrongHost { host }, .. } if host == "127.0.0.1"),
        "{error:?}"
    );
    assert!(
        error.to_string().ends_with("it is not valid for 127.0.0.1"),
        "{error}"
    );
}

#[test]
fn bad_connect_options_name_the_field_and_connect_nothing() {
    for (args, message) in [
        (
            vec!["connect", "127.0.0.1", "70000"],
            "port: 70000 is not a port number",
        ),
        (
            vec!["connect", "http://example.com", "80"],
            "host: `http://example.com` is a URL",
        ),
        (
            vec!["connect", "127.0.0.1", "80", "--hex", "zz"],
            "hex: `z` is not a hex digit",
        ),
        (
            vec!["connect", "127.0.0.1", "80", "--hex", "123"],
            "hex: odd number of hex digits",
        ),
        (
            vec!["connect", "127.0.0.1", "80", "--send", r"\x4"],
            "send: `\\x` needs exactly two hex digits",
        ),
        (
            vec!["connect", "127.0.0.1", "80", "--timeout", "-1"],
            "timeout: `-1` is not a number of seconds",
        ),
        (
            vec!["connect", "127.0.0.1", "80", "--wait", "soon"],
            "wait: `soon` is not a number of milliseconds",
        ),
        (
            vec![
                "connect",
                "127.0.0.1",
                "80",
                "--tls",
                "--cacert",
                "/no/such.pem",
            ],
            "cacert: cannot read /no/such.pem",
        ),
    ] {
        let (code, stdout, stderr) = run_netdeck(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty());
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("connected"), "{args:?}: {stderr}");
    }
}

#[test]
fn ipv6_literals_connect_with_or_without_brackets() {
    let serve = ServeProcess::start(&["--bind", "::1", "--echo", "--quiet"]);
    let port = serve.addr.port().to_string();
    for host in ["::1", "[::1]"] {
        let (code, stdout, stderr) =
            run_netdeck(&["connect", host, &port, "--send", "v6", "--wait", "300"]);
        assert_eq!(code, 0, "{host}: {stderr}");
        assert_eq!(stdout, b"v6", "{host}");
        assert!(
            stderr.contains(&format!("connected to [::1]:{port}")),
            "{stderr}"
        );
    }
}

#[test]
fn an_openssl_self_signed_certificate_is_reported_as_self_signed() {
    let dir = std::env::temp_dir().join(format!("netdeck-openssl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let peer = Peer::start(&["tls-echo", cert.to_str().unwrap(), key.to_str().unwrap()]);
    let error = connect_failure(ClientConfig {
        tls: Some(TlsOptions::default()),
        ..ClientConfig::new("localhost", peer.addr.port())
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert_self_signed_or_unknown_authority(&error);
}

#[test]
fn stdin_still_goes_out_after_the_server_half_closes() {
    let mut peer = Peer::start(&["half-close"]);
    let port = peer.addr.port().to_string();
    let mut child = netdeck(&["connect", "127.0.0.1", &port, "--stdin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&vec![1u8; 1 << 20]).unwrap();
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert_eq!(peer.line(), "received 1048576");
}
