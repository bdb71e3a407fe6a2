//! `netdeck udp listen` and `netdeck udp send` against socat and Python's sockets: unicast
//! both ways, echo, broadcast and multicast on this machine, and the errors UDP has.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Child, ChildStdout, Command, Stdio};

use common::{Watchdog, netdeck, read_line, run_netdeck, udp_peer};

/// A running `netdeck udp listen`, read line by line.
struct Listener {
    child: Child,
    lines: BufReader<ChildStdout>,
    /// From the listening line.
    port: u16,
    _watchdog: Watchdog,
}

impl Listener {
    fn start(args: &[&str]) -> Self {
        let mut full = vec!["udp", "listen", "--port", "0"];
        full.extend_from_slice(args);
        let mut child = netdeck(&full).spawn().unwrap();
        let watchdog = Watchdog::new(child.id());
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let first = read_line(&mut lines);
        // After the time, with -t.
        let port = first
            .split("listening on udp ")
            .nth(1)
            .and_then(|addr| addr.rsplit(':').next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("expected the listening line, got {first:?}"));
        Listener {
            child,
            lines,
            port,
            _watchdog: watchdog,
        }
    }

    fn line(&mut self) -> String {
        read_line(&mut self.lines)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn listen_prints_each_datagram_from_socat_with_its_source() {
    let mut listener = Listener::start(&["--once"]);
    let socat = Command::new("socat")
        .args(["-u", "-", &format!("UDP:127.0.0.1:{}", listener.port)])
        .stdin(Stdio::piped())
        .spawn()
        .expect("socat runs");
    let _watchdog = Watchdog::new(socat.id());
    let mut socat = socat;
    socat.stdin.take().unwrap().write_all(b"hello").unwrap();
    assert!(socat.wait().unwrap().success());
    let line = listener.line();
    assert!(
        line.starts_with("127.0.0.1:") && line.ends_with(" > hello (5 bytes)"),
        "{line}"
    );
    // --once: the listener is done.
    assert_eq!(listener.line(), "closed (1 datagram in, 0 out)");
    assert_eq!(listener.child.wait().unwrap().code(), Some(0));
}

#[test]
fn echo_answers_python_and_send_prints_the_reply_with_its_source() {
    let mut listener = Listener::start(&["--echo"]);
    let port = listener.port.to_string();
    let mut python = udp_peer(&["send", "127.0.0.1", &port, "ping"]);
    let _watchdog = Watchdog::new(python.id());
    let mut replies = BufReader::new(python.stdout.take().unwrap());
    assert_eq!(
        read_line(&mut replies),
        format!("from 127.0.0.1 {port}: ping")
    );
    assert!(listener.line().ends_with(" > ping (4 bytes)"));
    assert!(listener.line().ends_with(" < ping (4 bytes)"));
    let _ = python.kill();
    let _ = python.wait();

    // `udp send` to a Python echo peer.
    let mut echo = udp_peer(&["echo"]);
    let _echo_watchdog = Watchdog::new(echo.id());
    let mut said = BufReader::new(echo.stdout.take().unwrap());
    let echo_port = read_line(&mut said)
        .strip_prefix("port ")
        .unwrap()
        .to_string();
    let (code, stdout, stderr) = run_netdeck(&[
        "udp",
        "send",
        &format!("127.0.0.1:{echo_port}"),
        "--send",
        "one",
        "--hex",
        "74 77 6f",
        "--wait",
        "20000",
        "--repeat",
        "1",
    ]);
    let _ = echo.kill();
    let _ = echo.wait();
    // Ends when --wait is over: both replies are in, in order.
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&stdout),
        format!("127.0.0.1:{echo_port} > one (3 bytes)\n127.0.0.1:{echo_port} > two (3 bytes)\n")
    );
    assert!(
        stderr.contains("netdeck: sent 3 bytes to 127.0.0.1:"),
        "{stderr}"
    );
}

#[test]
fn stdin_lines_go_as_datagrams_and_repeats_keep_their_count() {
    let mut listener = Listener::start(&["-t"]);
    let port = listener.port.to_string();
    let mut child = netdeck(&[
        "udp",
        "send",
        "127.0.0.1",
        &port,
        "--stdin",
        "--crlf",
        "--wait",
        "0",
    ])
    .stdin(Stdio::piped())
    .spawn()
    .unwrap();
    let _watchdog = Watchdog::new(child.id());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"first\nsecond\r\nthird")
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    for text in [
        r"first\r\n (7 bytes)",
        r"second\r\n (8 bytes)",
        r"third\r\n (7 bytes)",
    ] {
        let line = listener.line();
        // -t: the time first.
        assert_eq!(line.as_bytes()[2], b':', "{line}");
        assert!(line.ends_with(&format!(" > {text}")), "{line}");
    }

    let (code, _, stderr) = run_netdeck(&[
        "udp",
        "send",
        "127.0.0.1",
        &port,
        "--send",
        "tick",
        "--repeat",
        "3",
        "--interval",
        "1",
        "--wait",
        "0",
    ]);
    assert_eq!(code, 0, "{stderr}");
    for _ in 0..3 {
        assert!(listener.line().ends_with(" > tick (4 bytes)"));
    }
}

#[test]
fn a_datagram_to_a_closed_port_is_answered_port_unreachable() {
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let (code, _, stderr) = run_netdeck(&["udp", "send", "127.0.0.1", &port, "--send", "anyone?"]);
    assert_eq!(code, 7, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "netdeck: nothing is listening on UDP 127.0.0.1:{port}"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: Its system answered \"port unreachable\""),
        "{stderr}"
    );
}

#[test]
fn broadcast_reaches_a_listener_on_every_interface_only_when_asked() {
    let mut listener = Listener::start(&["--bind", "0.0.0.0"]);
    let port = listener.port.to_string();
    let (code, _, stderr) = run_netdeck(&[
        "udp",
        "send",
        "127.255.255.255",
        &port,
        "--send",
        "who is there?",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "netdeck: broadcast: 127.255.255.255 is a broadcast address; add --broadcast to send to it"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = run_netdeck(&[
        "udp",
        "send",
        "127.255.255.255",
        &port,
        "--broadcast",
        "--send",
        "who is there?",
        "--wait",
        "0",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(listener.line().ends_with(" > who is there? (13 bytes)"));
}

#[test]
fn a_joined_ipv4_group_hears_python_on_loopback_and_netdeck_sends_to_it() {
    let mut listener = Listener::start(&["--join", "239.255.0.77", "--interface", "127.0.0.1"]);
    let port = listener.port.to_string();
    let mut python = udp_peer(&["send", "239.255.0.77", &port, "to the group", "127.0.0.1"]);
    let _watchdog = Watchdog::new(python.id());
    assert!(listener.line().ends_with(" > to the group (12 bytes)"));
    let _ = python.kill();
    let _ = python.wait();

    let (code, _, stderr) = run_netdeck(&[
        "udp",
        "send",
        "239.255.0.77",
        &port,
        "--interface",
        "lo",
        "--ttl",
        "1",
        "--send",
        "from netdeck",
        "--wait",
        "0",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(listener.line().ends_with(" > from netdeck (12 bytes)"));
}

#[test]
fn multicast_sent_on_lo_by_name_comes_from_127_0_0_1_to_python() {
    let mut python = udp_peer(&["receive", "239.255.0.78", "127.0.0.1"]);
    let _watchdog = Watchdog::new(python.id());
    let mut lines = BufReader::new(python.stdout.take().unwrap());
    let first = read_line(&mut lines);
    let port = first
        .strip_prefix("port ")
        .unwrap_or_else(|| panic!("expected the port, got {first:?}"));
    let (code, _, stderr) = run_netdeck(&[
        "udp",
        "send",
        "239.255.0.78",
        port,
        "--interface",
        "lo",
        "--send",
        "from lo",
        "--wait",
        "0",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let received = read_line(&mut lines);
    assert!(
        received.starts_with("from 127.0.0.1 ") && received.ends_with(": from lo"),
        "{received}"
    );
    let _ = python.wait();
}

/// The first interface that is up, does multicast and has an IPv6 address: loopback does not
/// do IPv6 multicast on Linux.
fn ipv6_multicast_interface() -> String {
    const UP: u32 = 0x1;
    const MULTICAST: u32 = 0x1000;
    let ipv6 = std::fs::read_to_string("/proc/net/if_inet6").unwrap_or_default();
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .find(|name| {
            let flags = std::fs::read_to_string(format!("/sys/class/net/{name}/flags"))
                .ok()
                .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok())
                .unwrap_or(0);
            flags & UP != 0
                && flags & MULTICAST != 0
                && ipv6.lines().any(|line| line.split_whitespace().last() == Some(name))
        })
        .expect("an interface that is up, does multicast and has an IPv6 address (IPv6 multicast cannot use loopback)")
}

#[test]
fn a_joined_ipv6_group_hears_python_on_the_interface_chosen() {
    let interface = ipv6_multicast_interface();
    let mut listener = Listener::start(&["--join", "ff02::1:77", "--interface", &interface]);
    let port = listener.port.to_string();
    let mut python = udp_peer(&["send", "ff02::1:77", &port, "six", &interface]);
    let _watchdog = Watchdog::new(python.id());
    let line = listener.line();
    assert!(
        line.starts_with("[fe80::") && line.ends_with(" > six (3 bytes)"),
        "{line}"
    );
    let _ = python.kill();
    let _ = python.wait();
}

#[test]
fn raw_listen_writes_exactly_the_datagrams_bytes() {
    let mut child = netdeck(&["udp", "listen", "--port", "0", "--raw", "--once"])
        .spawn()
        .unwrap();
    let _watchdog = Watchdog::new(child.id());
    let mut lines = BufReader::new(child.stderr.take().unwrap());
    let first = read_line(&mut lines);
    let port: u16 = first.rsplit(':').next().unwrap().parse().unwrap();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let datagram: Vec<u8> = (0..=255u8).cycle().take(65_507).collect();
    sender.send_to(&datagram, ("127.0.0.1", port)).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout == datagram, "the bytes differ");
    let mut rest = String::new();
    lines.read_line(&mut rest).unwrap();
    assert!(rest.ends_with(" > 65507 bytes\n"), "{rest}");
}

#[test]
fn a_stdin_line_too_big_for_a_datagram_is_refused_by_name() {
    let listener = Listener::start(&[]);
    let mut child = netdeck(&[
        "udp",
        "send",
        "127.0.0.1",
        &listener.port.to_string(),
        "--stdin",
    ])
    .stdin(Stdio::piped())
    .spawn()
    .unwrap();
    let _watchdog = Watchdog::new(child.id());
    let mut input = child.stdin.take().unwrap();
    input.write_all(&vec![b'a'; 70_000]).unwrap();
    input.write_all(b"\n").unwrap();
    drop(input);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "netdeck: stdin: a datagram of 70000 bytes is too large: UDP carries at most 65507"
        ),
        "{stderr}"
    );
}

#[test]
fn a_bind_address_that_cannot_be_sent_from_is_told_with_its_own_port() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let send_from = |bind: &str| {
        run_netdeck(&[
            "udp",
            "send",
            "127.0.0.1",
            "9",
            "--bind",
            bind,
            "--send",
            "x",
            "--wait",
            "0",
        ])
    };
    let (code, _, stderr) = send_from(&format!("127.0.0.1:{port}"));
    assert_eq!(code, 45, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "netdeck: cannot send from 127.0.0.1:{port}: another program is using port {port}"
        )),
        "{stderr}"
    );
    // No port given: the system was to pick one, so none is named.
    let (code, _, stderr) = send_from("203.0.113.1");
    assert_eq!(code, 45, "{stderr}");
    assert!(
        stderr.starts_with(
            "netdeck: cannot send from 203.0.113.1: 203.0.113.1 is not an address of this machine"
        ),
        "{stderr}"
    );
}
