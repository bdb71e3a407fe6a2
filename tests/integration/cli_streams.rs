//! Raw data in and out of `serve` and `connect`, their timing options and what they print,
//! against ncat, socat and Python peers.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Peer, ServeProcess, TempDir, Watchdog, connect, netdeck, read_line, send};

/// Bytes that repeat only every 251: a shifted or dropped byte shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|n| (n % 251) as u8).collect()
}

/// `netdeck serve --port 0 <args>` with its data on stdout and its lines on stderr; the
/// address from the listening line.
fn serve_raw(
    args: &[&str],
) -> (
    std::process::Child,
    SocketAddr,
    BufReader<std::process::ChildStderr>,
) {
    let mut full = vec!["serve", "--port", "0"];
    full.extend_from_slice(args);
    let mut child = netdeck(&full).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap());
    let first = read_line(&mut lines);
    let addr = first
        .strip_prefix("listening on ")
        .and_then(|rest| rest.parse().ok())
        .unwrap_or_else(|| panic!("expected the listening line on stderr, got {first:?}"));
    (child, addr, lines)
}

#[test]
fn serve_raw_receives_100_mb_byte_exact_from_ncat() {
    let dir = TempDir::new("raw");
    let data = pattern(100 * 1024 * 1024);
    std::fs::write(dir.join("data"), &data).unwrap();
    let (mut serve, addr, lines) = serve_raw(&["--raw", "--once"]);
    let _serve_watchdog = Watchdog::new(serve.id());
    let lines = std::thread::spawn(move || lines.lines().map(Result::unwrap).collect::<Vec<_>>());
    let mut ncat = Command::new("ncat")
        .args(["--send-only", "127.0.0.1", &addr.port().to_string()])
        .stdin(std::fs::File::open(dir.join("data")).unwrap())
        .stdout(Stdio::null())
        .spawn()
        .expect("ncat runs");
    let _ncat_watchdog = Watchdog::new(ncat.id());
    let mut received = Vec::with_capacity(data.len());
    serve
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut received)
        .unwrap();
    assert!(ncat.wait().unwrap().success());
    assert_eq!(serve.wait().unwrap().code(), Some(0));
    assert_eq!(received.len(), data.len());
    assert!(received == data, "the bytes differ");
    let lines = lines.join().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(" disconnected (104857600 bytes in, 0 out)")),
        "{lines:?}"
    );
}

#[test]
fn serve_output_file_holds_every_clients_bytes_in_arrival_order() {
    let dir = TempDir::new("output");
    let file = dir.join("received");
    let mut serve = ServeProcess::start(&["-o", file.to_str().unwrap()]);
    for part in ["first client\n", "second client\n"] {
        let socat = Command::new("socat")
            .args(["-u", "-", &format!("TCP:{}", serve.addr)])
            .stdin(Stdio::piped())
            .spawn()
            .expect("socat runs");
        let _watchdog = Watchdog::new(socat.id());
        let mut socat = socat;
        socat
            .stdin
            .take()
            .unwrap()
            .write_all(part.as_bytes())
            .unwrap();
        assert!(socat.wait().unwrap().success());
        // The data itself is not printed, only the connection's lines.
        let line = serve.line_where(|line| line.contains("disconnected"));
        assert!(
            line.ends_with(&format!("({} bytes in, 0 out)", part.len())),
            "{line}"
        );
    }
    serve.signal(libc::SIGINT);
    let (rest, code) = serve.finish();
    assert_eq!(code, 0, "{rest:?}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"first client\nsecond client\n"
    );
}

#[test]
fn serve_stdin_delivers_a_file_to_ncat_even_after_ncat_closes_its_side() {
    let dir = TempDir::new("stdin");
    let data = pattern(5 * 1024 * 1024 + 17);
    std::fs::write(dir.join("data"), &data).unwrap();
    let mut command = netdeck(&["serve", "--port", "0", "--stdin", "--once"]);
    command.stdin(std::fs::File::open(dir.join("data")).unwrap());
    let mut serve = ServeProcess::spawn(command);
    // ncat's standard input is empty: it closes its sending side at once, as `ncat host port
    // < /dev/null > file` does.
    let ncat = Command::new("ncat")
        .args(["127.0.0.1", &serve.addr.port().to_string()])
        .stdin(Stdio::null())
        .output();
    let ncat = ncat.expect("ncat runs");
    assert!(ncat.status.success());
    assert_eq!(ncat.stdout.len(), data.len());
    assert!(ncat.stdout == data, "the bytes differ");
    let (rest, code) = serve.finish();
    assert_eq!(code, 0, "{rest:?}");
    // What came from standard input is not printed back.
    assert!(!rest.iter().any(|line| line.contains(" < ")), "{rest:?}");
}

#[test]
fn serve_hex_prints_a_dump_with_offsets_that_run_on_across_chunks() {
    let mut serve = ServeProcess::start(&["--hex"]);
    let mut client = connect(serve.addr);
    let peer = client.local_addr().unwrap();
    serve.line_where(|line| line.ends_with("connected"));
    send(&mut client, b"0123456789abcdefHELLO");
    assert_eq!(serve.line(), format!("{peer} > 21 bytes"));
    assert_eq!(
        serve.line(),
        "  00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|"
    );
    assert_eq!(
        serve.line(),
        "  00000010  48 45 4c 4c 4f                                    |HELLO|"
    );
    send(&mut client, b"\x00\xff");
    assert_eq!(serve.line(), format!("{peer} > 2 bytes"));
    assert_eq!(
        serve.line(),
        "  00000015  00 ff                                             |..|"
    );
}

/// `HH:MM:SS.mmm ` at the start of `line`.
fn stamped(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() > 13
        && [0, 1, 3, 4, 6, 7, 9, 10, 11]
            .iter()
            .all(|&i| bytes[i].is_ascii_digit())
        && bytes[2] == b':'
        && bytes[5] == b':'
        && bytes[8] == b'.'
        && bytes[12] == b' '
}

#[test]
fn timestamps_begin_every_line_of_serve_and_connect() {
    let mut command = netdeck(&["serve", "--port", "0", "--echo", "-t"]);
    command.stdout(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let _watchdog = Watchdog::new(child.id());
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let listening = read_line(&mut lines);
    assert!(stamped(&listening), "{listening}");
    let addr = &listening[13..]["listening on ".len()..];

    let (host, port) = addr.rsplit_once(':').unwrap();
    let output = netdeck(&[
        "connect",
        host,
        port,
        "-t",
        "--send",
        r"one\ntwo\n",
        "--wait",
        "20000",
    ])
    .spawn()
    .unwrap();
    let _client_watchdog = Watchdog::new(output.id());
    let mut output = output;
    let mut echoed = BufReader::new(output.stdout.take().unwrap());
    for text in ["one", "two"] {
        let line = read_line(&mut echoed);
        assert!(
            stamped(&line) && line.ends_with(&format!(" {text}")),
            "{line}"
        );
    }
    let mut note = String::new();
    BufReader::new(output.stderr.take().unwrap())
        .read_line(&mut note)
        .unwrap();
    assert!(
        stamped(&note) && note.contains(" netdeck: connected to "),
        "{note}"
    );
    let _ = output.kill();
    let _ = output.wait();

    for _ in 0..3 {
        let line = read_line(&mut lines);
        assert!(stamped(&line), "{line}");
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn connect_timeout_limits_connecting_only_and_a_pause_in_stdin_goes_on() {
    let peer = Peer::start(&["echo"]);
    let mut child = netdeck(&[
        "connect",
        "127.0.0.1",
        &peer.addr.port().to_string(),
        "--stdin",
        "--timeout",
        "0.5",
    ])
    .stdin(Stdio::piped())
    .spawn()
    .unwrap();
    let _watchdog = Watchdog::new(child.id());
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    input.write_all(b"before the pause\n").unwrap();
    assert_eq!(read_line(&mut output), "before the pause");
    // The input itself pauses for longer than --timeout.
    std::thread::sleep(Duration::from_millis(1500));
    input.write_all(b"after the pause\n").unwrap();
    drop(input);
    assert_eq!(read_line(&mut output), "after the pause");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn connect_wait_is_honoured_whatever_the_timeout() {
    let peer = Peer::start(&["echo"]);
    let (code, stdout, stderr) = common::run_netdeck(&[
        "connect",
        &format!("127.0.0.1:{}", peer.addr.port()),
        "--send",
        "hi",
        "--wait",
        "1000",
        "--timeout",
        "0.5",
    ]);
    assert_eq!((code, stdout.as_slice()), (0, b"hi".as_slice()), "{stderr}");
}

#[test]
fn connect_idle_ends_a_silent_session_but_not_a_moving_one() {
    let silent = Peer::start(&["silent"]);
    let (code, _, stderr) = common::run_netdeck(&[
        "connect",
        "127.0.0.1",
        &silent.addr.port().to_string(),
        "--send",
        "anyone?",
        "--idle",
        "0.5",
    ]);
    assert_eq!(code, 28, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "nothing moved between here and {} for 500 ms",
            silent.addr
        )),
        "{stderr}"
    );

    // Lines going out every half second keep a session with --idle 2 alive for longer.
    let echo = Peer::start(&["echo"]);
    let mut child = netdeck(&[
        "connect",
        "127.0.0.1",
        &echo.addr.port().to_string(),
        "--stdin",
        "--idle",
        "2",
    ])
    .stdin(Stdio::piped())
    .spawn()
    .unwrap();
    let _watchdog = Watchdog::new(child.id());
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    for n in 0..7 {
        input.write_all(format!("line {n}\n").as_bytes()).unwrap();
        assert_eq!(read_line(&mut output), format!("line {n}"));
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(input);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn crlf_ends_every_stdin_line_with_crlf() {
    let echo = Peer::start(&["echo"]);
    let mut child = netdeck(&[
        "connect",
        &echo.addr.to_string(),
        "--stdin",
        "--crlf",
        "--hexdump",
    ])
    .stdin(Stdio::piped())
    .spawn()
    .unwrap();
    let _watchdog = Watchdog::new(child.id());
    child.stdin.take().unwrap().write_all(b"a\nb\r\nc").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "00000000  61 0d 0a 62 0d 0a 63                              |a..b..c|\n"
    );
}

#[test]
fn connect_shows_what_arrives_raw_or_as_a_dump_whatever_the_payload() {
    let echo = Peer::start(&["echo"]);
    let port = echo.addr.port().to_string();
    let base = ["connect", "127.0.0.1", &port, "--wait", "20000"];
    let run = |extra: &[&str], wanted: &[u8]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let mut child = netdeck(&args).spawn().unwrap();
        let _watchdog = Watchdog::new(child.id());
        let mut output = child.stdout.take().unwrap();
        let mut received = vec![0; wanted.len()];
        output.read_exact(&mut received).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(
            String::from_utf8_lossy(&received),
            String::from_utf8_lossy(wanted)
        );
    };
    run(
        &["--send", "Hi", "--hexdump"],
        b"00000000  48 69                                             |Hi|\n",
    );
    run(&["--hex", "48 69", "--raw"], b"Hi");
    run(
        &["--hex", "48 69"],
        b"00000000  48 69                                             |Hi|\n",
    );
}

#[test]
fn a_full_server_says_one_client_in_the_singular() {
    let mut serve = ServeProcess::start(&["--max-clients", "1"]);
    let _first = connect(serve.addr);
    serve.line_where(|line| line.ends_with(" connected"));
    let second = connect(serve.addr);
    let peer = second.local_addr().unwrap();
    assert_eq!(
        serve.line(),
        format!("! {peer} refused: 1 client already connected (max-clients 1)")
    );
}
