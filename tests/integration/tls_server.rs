//! `netdeck serve --tls` and the client's TLS choices, against OpenSSL's `s_client` and
//! `s_server`, curl, ncat and Python's `ssl`.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use common::{Peer, Pki, ServeProcess, Watchdog, read_line, run_netdeck};

/// `openssl s_client` connected to `addr`, fed and read by the test.
struct SClient {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    _watchdog: Watchdog,
}

impl SClient {
    fn start(addr: SocketAddr, extra: &[&str]) -> Self {
        let mut child = Command::new("openssl")
            .args(["s_client", "-connect", &addr.to_string()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl runs");
        let watchdog = Watchdog::new(child.id());
        SClient {
            input: child.stdin.take().unwrap(),
            output: BufReader::new(child.stdout.take().unwrap()),
            child,
            _watchdog: watchdog,
        }
    }

    fn send(&mut self, text: &str) {
        self.input.write_all(text.as_bytes()).unwrap();
        self.input.flush().unwrap();
    }

    /// Every line up to and including the first that `pick` accepts.
    fn lines_until(&mut self, mut pick: impl FnMut(&str) -> bool) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = read_line(&mut self.output);
            let done = pick(&line);
            lines.push(line);
            if done {
                return lines;
            }
        }
    }
}

impl Drop for SClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The SHA-256 fingerprint OpenSSL computes for the first certificate in `pem`.
fn openssl_fingerprint(pem: &str) -> String {
    let mut child = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(pem.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    text.trim()
        .rsplit('=')
        .next()
        .expect("sha256 Fingerprint=…")
        .to_string()
}

/// The certificate `s_client` printed, as PEM.
fn certificate_in(lines: &[String]) -> String {
    let begin = lines
        .iter()
        .position(|l| l == "-----BEGIN CERTIFICATE-----")
        .expect("s_client shows the server's certificate");
    let end = begin
        + lines[begin..]
            .iter()
            .position(|l| l == "-----END CERTIFICATE-----")
            .unwrap();
    lines[begin..=end].join("\n") + "\n"
}

#[test]
fn a_generated_certificate_is_the_one_s_client_gets_and_its_fingerprint_is_printed() {
    let mut serve = ServeProcess::start(&["--tls", "--echo"]);
    assert!(
        serve
            .listening
            .ends_with(", self-signed for localhost, 127.0.0.1)"),
        "{}",
        serve.listening
    );
    let printed = serve
        .listening
        .split("certificate SHA-256 ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .expect("the listening line names the certificate")
        .to_string();
    let mut s_client = SClient::start(serve.addr, &["-servername", "localhost"]);
    s_client.send("hello over TLS\n");
    let lines = s_client.lines_until(|line| line == "hello over TLS");
    assert_eq!(openssl_fingerprint(&certificate_in(&lines)), printed);

    serve.line_where(|line| line.ends_with(" connected"));
    let secured = serve.line();
    assert!(
        secured.starts_with("* 127.0.0.1:") && secured.contains(" TLS 1.3, "),
        "{secured}"
    );
    assert!(
        serve.line().ends_with(r"> hello over TLS\n"),
        "the echo's line"
    );
}

#[test]
fn a_given_certificate_serves_https_to_curl_in_http_mode() {
    let pki = Pki::new(&["localhost"], true);
    let mut serve = ServeProcess::start(&[
        "--tls",
        "--http",
        "--cert",
        &pki.cert_path,
        "--key",
        &pki.key_path,
    ]);
    assert!(
        !serve.listening.contains("self-signed"),
        "{}",
        serve.listening
    );
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert", &pki.ca_pem_path])
        .arg(format!(
            "https://localhost:{}/over/tls?x=1",
            serve.addr.port()
        ))
        .output()
        .expect("curl runs");
    let body = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(body.contains(r#""path": "/over/tls?x=1""#), "{body}");
    serve.line_where(|line| line.contains(" TLS 1.3, "));

    // The same server, asked in plain HTTP, says what to do instead.
    let plain = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-o", "-", "-w", "%{http_code}"])
        .arg(format!("http://localhost:{}/", serve.addr.port()))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&plain.stdout),
        "This port speaks HTTPS: use an https:// URL.\n400"
    );
    let refused = serve.line_where(|line| line.contains("TLS handshake failed"));
    assert!(
        refused.contains(
            r#"the client speaks plain TCP, not TLS (it sent "GET / HTTP/1.1\r\nHost: lo")"#
        ),
        "{refused}"
    );
}

#[test]
fn auto_reply_works_over_tls_too() {
    let mut serve = ServeProcess::start(&["--tls", "--reply", r"OK\n"]);
    let mut s_client = SClient::start(serve.addr, &["-quiet"]);
    s_client.send("ping\n");
    assert_eq!(s_client.lines_until(|_| true), ["OK"]);
    serve.line_where(|line| line.ends_with(r"< OK\n"));
}

#[test]
fn a_client_ca_refuses_a_client_without_a_certificate_and_names_one_with() {
    let pki = Pki::new(&["localhost"], true);
    let mut serve = ServeProcess::start(&["--tls", "--echo", "--client-ca", &pki.ca_pem_path]);
    assert!(
        serve.listening.ends_with(", client certificate required)"),
        "{}",
        serve.listening
    );

    let mut without = SClient::start(serve.addr, &["-quiet"]);
    without.send("let me in\n");
    let refused = serve.line_where(|line| line.contains("disconnected"));
    assert!(
        refused.contains(
            "TLS handshake failed: the client showed no certificate, and this server requires one"
        ),
        "{refused}"
    );
    drop(without);

    let mut with = SClient::start(
        serve.addr,
        &[
            "-quiet",
            "-cert",
            &pki.client_cert_path,
            "-key",
            &pki.client_key_path,
        ],
    );
    with.send("it is me\n");
    assert_eq!(with.lines_until(|_| true), ["it is me"]);
    let secured = serve.line_where(|line| line.starts_with("* "));
    assert!(
        secured.ends_with(", client CN=netdeck test client"),
        "{secured}"
    );
}

#[test]
fn serve_stdin_over_tls_reaches_ncat() {
    let file = common::TempDir::new("tls-stdin");
    let data: Vec<u8> = (0..300_000u32).map(|n| (n * 7 % 251) as u8).collect();
    std::fs::write(file.join("data"), &data).unwrap();
    let mut command = common::netdeck(&["serve", "--port", "0", "--tls", "--stdin", "--once"]);
    command.stdin(std::fs::File::open(file.join("data")).unwrap());
    let mut serve = ServeProcess::spawn(command);
    let mut ncat = Command::new("ncat")
        .args(["--ssl", "127.0.0.1", &serve.addr.port().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ncat runs");
    let _watchdog = Watchdog::new(ncat.id());
    // ncat's own input stays open: the server's end of its data ends the session.
    let _ncat_input = ncat.stdin.take();
    let mut received = Vec::new();
    ncat.stdout
        .take()
        .unwrap()
        .read_to_end(&mut received)
        .unwrap();
    assert_eq!(received.len(), data.len());
    assert!(received == data, "the bytes differ");
    let _ = ncat.kill();
    let _ = ncat.wait();
    let (rest, code) = serve.finish();
    assert_eq!(code, 0, "{rest:?}");
}

#[test]
fn a_tls_client_on_a_plain_port_is_named_as_such() {
    let mut serve = ServeProcess::start(&[]);
    let mut s_client = SClient::start(serve.addr, &["-quiet"]);
    s_client.send("x");
    let line = serve.line_where(|line| line.starts_with("! "));
    assert!(
        line.ends_with(
            " began a TLS handshake, but this server speaks plain TCP: turn TLS on to serve it"
        ),
        "{line}"
    );
}

/// `openssl s_server` with `args`, on a free port; `-rev` sends each line back reversed.
struct SServer {
    child: Child,
    port: u16,
    /// Held open: without -quiet, s_server ends its connection when its input ends.
    _input: ChildStdin,
}

/// A port nothing listens on now, for a peer that cannot pick its own.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SServer {
    fn start(pki: &Pki, args: &[&str]) -> Self {
        let port = free_port();
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
            .args(["-cert", &pki.cert_path, "-key", &pki.key_path])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl runs");
        let input = child.stdin.take().unwrap();
        let mut output = BufReader::new(child.stdout.take().unwrap());
        // s_server says ACCEPT once it listens.
        loop {
            let mut line = String::new();
            assert!(output.read_line(&mut line).unwrap() > 0, "s_server ended");
            if line.trim() == "ACCEPT" {
                break;
            }
        }
        std::thread::spawn(move || std::io::copy(&mut output, &mut std::io::sink()));
        SServer {
            child,
            port,
            _input: input,
        }
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn connect_shows_a_client_certificate_to_s_server_that_requires_one() {
    let pki = Pki::new(&["localhost"], true);
    let s_server = SServer::start(&pki, &["-rev", "-Verify", "1", "-CAfile", &pki.ca_pem_path]);
    let port = s_server.port.to_string();
    let base = [
        "connect",
        "localhost",
        &port,
        "--tls",
        "--cacert",
        &pki.ca_pem_path,
        "--send",
        r"abc\n",
    ];

    let (code, _, stderr) = run_netdeck(&base);
    assert_eq!(code, 35, "{stderr}");
    assert!(
        stderr.contains("TLS with 127.0.0.1:")
            && stderr.contains(": the server requires a client certificate"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "hint: Show a client certificate the server trusts (--cert FILE --key FILE)."
        ),
        "{stderr}"
    );

    let mut with = base.to_vec();
    with.extend([
        "--cert",
        &pki.client_cert_path,
        "--key",
        &pki.client_key_path,
        "--wait",
        "20000",
    ]);
    let mut child = common::netdeck(&with).spawn().unwrap();
    let _watchdog = Watchdog::new(child.id());
    let mut output = BufReader::new(child.stdout.take().unwrap());
    assert_eq!(read_line(&mut output), "cba");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn connect_offers_alpn_and_shows_what_the_server_chose() {
    let pki = Pki::new(&["localhost"], true);
    let s_server = SServer::start(&pki, &["-alpn", "h2,http/1.1"]);
    let port = s_server.port.to_string();
    let (code, _, stderr) = run_netdeck(&[
        "connect",
        "localhost",
        &port,
        "--tls",
        "--cacert",
        &pki.ca_pem_path,
        "--alpn",
        "spdy/1,h2",
        "--send",
        r"x\n",
        "--wait",
        "1",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(", ALPN h2)"), "{stderr}");
}

#[test]
fn sni_is_the_host_or_the_name_given_or_none() {
    let pki = Pki::new(&["localhost", "device.test"], true);
    let mut peer = Peer::start(&["tls-echo", &pki.cert_path, &pki.key_path]);
    let port = peer.addr.port().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "connect",
            "localhost",
            &port,
            "--tls",
            "--cacert",
            &pki.ca_pem_path,
            "--send",
            "hi",
            // Then half-close: the peer closes in turn, after its echo.
            "--stdin",
        ];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = run_netdeck(&args);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout, b"hi");
    };
    run(&[]);
    assert_eq!(peer.line(), "sni localhost");
    run(&["--sni", "device.test"]);
    assert_eq!(peer.line(), "sni device.test");
    run(&["--no-sni"]);
    assert_eq!(
        peer.line(),
        "sni None",
        "Python's callback is told there was none"
    );

    // The certificate is checked against the name sent.
    let (code, _, stderr) = run_netdeck(&[
        "connect",
        "localhost",
        &port,
        "--tls",
        "--cacert",
        &pki.ca_pem_path,
        "--sni",
        "other.test",
        "--send",
        "hi",
    ]);
    assert_eq!(code, 60, "{stderr}");
    assert!(stderr.contains("it is not valid for"), "{stderr}");
}

#[test]
fn a_plain_connect_to_a_tls_port_exits_35_without_writing_the_alert() {
    let pki = Pki::new(&["localhost"], true);
    // OpenSSL answers bytes shaped as a TLS record with an alert (plain text it drops without
    // a word): the client names TLS from that alert.
    let s_server = SServer::start(&pki, &[]);
    let (code, stdout, stderr) = run_netdeck(&[
        "connect",
        "127.0.0.1",
        &s_server.port.to_string(),
        "--hex",
        "17 03 03 00 05 68 65 6c 6c 6f",
    ]);
    assert_eq!((code, stdout.len()), (35, 0), "{stderr}");
    assert!(
        stderr.contains("answered in TLS: this port speaks TLS, and the connection is plain TCP"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: Connect with TLS (--tls)."),
        "{stderr}"
    );

    // netdeck's own TLS server answers any plain bytes with an alert, as rustls does.
    let serve = ServeProcess::start(&["--tls", "--echo"]);
    let (code, stdout, stderr) = run_netdeck(&[
        "connect",
        "127.0.0.1",
        &serve.addr.port().to_string(),
        "--send",
        "hi",
    ]);
    assert_eq!((code, stdout.len()), (35, 0), "{stderr}");
    assert!(
        stderr.contains("hint: Connect with TLS (--tls)."),
        "{stderr}"
    );

    // A plain server that closes without a word says nothing of TLS.
    let closing = Peer::start(&["half-close"]);
    let (code, _, stderr) = run_netdeck(&[
        "connect",
        "127.0.0.1",
        &closing.addr.port().to_string(),
        "--stdin",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("TLS"), "{stderr}");
}

/// `ncat -l -k` on a free port, its input closed (so it half-closes every connection at
/// once), what it receives from every client read as it comes (ncat stops on a full pipe).
struct NcatListener {
    child: Child,
    received: std::sync::mpsc::Receiver<Vec<u8>>,
    /// Received and not yet asked for.
    pending: Vec<u8>,
    port: u16,
    _watchdog: Watchdog,
}

impl NcatListener {
    fn start() -> Self {
        let port = free_port();
        let mut child = Command::new("ncat")
            .args(["-l", "-k", "-v", "127.0.0.1", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ncat runs");
        let watchdog = Watchdog::new(child.id());
        let mut notes = BufReader::new(child.stderr.take().unwrap());
        while !read_line(&mut notes).starts_with("Ncat: Listening on ") {}
        std::thread::spawn(move || std::io::copy(&mut notes, &mut std::io::sink()));
        let (chunks, received) = std::sync::mpsc::channel();
        let mut output = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut buffer = vec![0; 1 << 20];
            while let Ok(n @ 1..) = output.read(&mut buffer) {
                if chunks.send(buffer[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        NcatListener {
            child,
            received,
            pending: Vec::new(),
            port,
            _watchdog: watchdog,
        }
    }

    /// The next `len` bytes ncat received, from whichever client.
    fn next_bytes(&mut self, len: usize) -> Vec<u8> {
        while self.pending.len() < len {
            let chunk = self.received.recv().expect("ncat's output ended early");
            self.pending.extend_from_slice(&chunk);
        }
        let rest = self.pending.split_off(len);
        std::mem::replace(&mut self.pending, rest)
    }

    /// Sends a marker from a connection of the test's own: everything received before it
    /// came from the clients before.
    fn expect_nothing_before_a_marker(&mut self) {
        let mut marker = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        marker.write_all(b"<marker>").unwrap();
        drop(marker);
        assert_eq!(
            String::from_utf8_lossy(&self.next_bytes(8)),
            "<marker>",
            "bytes nobody sent arrived"
        );
    }
}

impl Drop for NcatListener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_plain_connect_to_a_silent_receiver_sends_only_what_it_was_given() {
    let dir = common::TempDir::new("silent-receiver");
    let data: Vec<u8> = (0..10_000_000u32)
        .map(|n| (n.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("data"), &data).unwrap();

    // `ncat -l > file < /dev/null`: all of it, byte for byte, and ncat ends with the
    // connection.
    let port = free_port();
    let mut ncat = Command::new("ncat")
        .args(["-l", "-v", "127.0.0.1", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("received")).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ncat runs");
    let _watchdog = Watchdog::new(ncat.id());
    let mut notes = BufReader::new(ncat.stderr.take().unwrap());
    while !read_line(&mut notes).starts_with("Ncat: Listening on ") {}
    let mut connect = common::netdeck(&["connect", "127.0.0.1", &port.to_string(), "--stdin"]);
    connect.stdin(std::fs::File::open(dir.join("data")).unwrap());
    let output = connect.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(ncat.wait().unwrap().success());
    let received = std::fs::read(dir.join("received")).unwrap();
    assert_eq!(received.len(), data.len());
    assert!(received == data, "the bytes differ");

    // `ncat -l -k`, which would take a second connection too: nothing but the data arrives,
    // however it was given.
    let mut ncat = NcatListener::start();
    let mut connect = common::netdeck(&["connect", "127.0.0.1", &ncat.port.to_string(), "--stdin"]);
    connect.stdin(std::fs::File::open(dir.join("data")).unwrap());
    let netdeck = connect.spawn().unwrap();
    let _watchdog = Watchdog::new(netdeck.id());
    assert!(ncat.next_bytes(data.len()) == data, "the bytes differ");
    let output = netdeck.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    ncat.expect_nothing_before_a_marker();
    let payloads: [(&[&str], &[u8]); 2] = [
        (&["--send", "hello", "--wait", "200"], b"hello"),
        (&["--hex", "01 02 03"], &[1, 2, 3]),
    ];
    for (args, sent) in payloads {
        let mut ncat = NcatListener::start();
        let port = ncat.port.to_string();
        let mut full = vec!["connect", "127.0.0.1", &port];
        full.extend_from_slice(args);
        let (code, _, stderr) = run_netdeck(&full);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert_eq!(ncat.next_bytes(sent.len()), sent, "{args:?}");
        ncat.expect_nothing_before_a_marker();

        // A listener that counts its connections, and a last one of the test's own.
        let mut counting = Peer::start(&["half-close"]);
        let port = counting.addr.port().to_string();
        let mut full = vec!["connect", "127.0.0.1", &port];
        full.extend_from_slice(args);
        let (code, _, stderr) = run_netdeck(&full);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        drop(std::net::TcpStream::connect(counting.addr).unwrap());
        let counted = [counting.line(), counting.line()];
        assert_eq!(
            counted,
            [format!("received {}", sent.len()), "received 0".to_string()],
            "{args:?}"
        );
    }
}

#[test]
fn netdeck_serve_sees_one_client_from_a_plain_connect() {
    // Its standard input is empty: it half-closes each client at once, and says nothing.
    let mut serve = ServeProcess::start(&["--quiet", "--stdin"]);
    let (code, _, stderr) = run_netdeck(&[
        "connect",
        "127.0.0.1",
        &serve.addr.port().to_string(),
        "--send",
        "hello",
        "--wait",
        "200",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // A connection of the test's own, after netdeck's: it must be the second client.
    let marker = std::net::TcpStream::connect(serve.addr).unwrap();
    let marker_port = marker.local_addr().unwrap().port();
    let connected: Vec<String> = std::iter::from_fn(|| Some(serve.line()))
        .filter(|line| line.ends_with(" connected"))
        .take(2)
        .collect();
    assert!(
        connected[1].ends_with(&format!(":{marker_port} connected")),
        "{connected:?}"
    );
}

#[test]
fn a_server_with_only_older_versions_is_named_as_too_old() {
    let pki = Pki::new(&["localhost"], true);
    let cases: [(&[&str], &[&str]); 2] = [
        // TLS 1.2 only, while the client asks for 1.3 only.
        (&["-tls1_2"], &["--tlsv1.3"]),
        // TLS 1.1, which netdeck does not speak at all.
        (&["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], &[]),
    ];
    for (server, client) in cases {
        let s_server = SServer::start(&pki, server);
        let port = s_server.port.to_string();
        let mut args = vec![
            "connect",
            "localhost",
            &port,
            "--tls",
            "--cacert",
            &pki.ca_pem_path,
            "--send",
            "x",
        ];
        args.extend_from_slice(client);
        let (code, _, stderr) = run_netdeck(&args);
        assert_eq!(code, 35, "{server:?}: {stderr}");
        assert!(
            stderr.contains(
                "TLS with localhost: the server speaks only TLS versions older than those accepted here"
            ),
            "{server:?}: {stderr}"
        );
        assert!(
            stderr.contains("hint: Enable TLS 1.2 or 1.3 on the server"),
            "{stderr}"
        );
    }
}

/// `tests/peers/strict_tls_client.py` against `port` in `mode`, its output piped.
fn strict_tls_client(port: u16, mode: &str) -> Child {
    Command::new("python3")
        .arg(format!(
            "{}/tests/peers/strict_tls_client.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .args([&port.to_string(), mode])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs")
}

#[test]
fn the_tls_server_ends_every_connection_with_close_notify() {
    // The client closes first: the server's answer to its close_notify is its own.
    let modes: [(&[&str], &str, &str); 3] = [
        (&["--echo"], "talk", r"got b'hello\n'"),
        (&["--reply", r"ok\n"], "talk", r"got b'ok\n'"),
        (&["--http"], "http", "got b'HTTP/1.1 200 OK'"),
    ];
    for (args, mode, answer) in modes {
        let mut full = vec!["--tls"];
        full.extend_from_slice(args);
        let serve = ServeProcess::start(&full);
        let client = strict_tls_client(serve.addr.port(), mode);
        let _watchdog = Watchdog::new(client.id());
        let output = client.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert_eq!(text, format!("{answer}\nclean end\n"), "{args:?}");
    }

    // The server stops while the client waits.
    let mut serve = ServeProcess::start(&["--tls", "--echo"]);
    let mut client = strict_tls_client(serve.addr.port(), "wait");
    let _watchdog = Watchdog::new(client.id());
    let mut lines = BufReader::new(client.stdout.take().unwrap());
    assert_eq!(read_line(&mut lines), "secured");
    serve.line_where(|line| line.starts_with("* "));
    serve.signal(libc::SIGINT);
    assert_eq!(read_line(&mut lines), "clean end");
    assert!(client.wait().unwrap().success());
    let (_, code) = serve.finish();
    assert_eq!(code, 0);

    // ncat, which reports an end without close_notify as an input/output error.
    let serve = ServeProcess::start(&["--tls", "--echo"]);
    for _ in 0..20 {
        let mut ncat = Command::new("ncat")
            .args(["--ssl", "127.0.0.1", &serve.addr.port().to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ncat runs");
        let _watchdog = Watchdog::new(ncat.id());
        ncat.stdin.take().unwrap().write_all(b"hello\n").unwrap();
        let output = ncat.wait_with_output().unwrap();
        assert_eq!(
            (output.status.code(), output.stdout.as_slice()),
            (Some(0), &b"hello\n"[..]),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn sni_names_the_name_the_certificate_was_checked_against() {
    let pki = Pki::new(&["localhost"], true);
    let serve = ServeProcess::start(&[
        "--tls",
        "--echo",
        "--cert",
        &pki.cert_path,
        "--key",
        &pki.key_path,
    ]);
    let (code, _, stderr) = run_netdeck(&[
        "connect",
        "127.0.0.1",
        &serve.addr.port().to_string(),
        "--tls",
        "--cacert",
        &pki.ca_pem_path,
        "--sni",
        "wrong.example",
        "--send",
        "x",
    ]);
    assert_eq!(code, 60, "{stderr}");
    assert!(
        stderr.contains(
            "the certificate of 127.0.0.1 is not trusted: it is not valid for wrong.example"
        ),
        "{stderr}"
    );
}

#[test]
fn an_encrypted_key_is_named_as_such_with_how_to_decrypt_it() {
    let pki = Pki::new(&["localhost"], true);
    let encrypted = pki.dir.join("encrypted.pem");
    let encrypted = encrypted.to_str().unwrap();
    let status = Command::new("openssl")
        .args([
            "pkey",
            "-in",
            &pki.key_path,
            "-aes256",
            "-passout",
            "pass:secret",
        ])
        .args(["-out", encrypted])
        .status()
        .expect("openssl runs");
    assert!(status.success());
    let (code, _, stderr) = run_netdeck(&[
        "serve",
        "--tls",
        "--cert",
        &pki.cert_path,
        "--key",
        encrypted,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "key: the private key in {encrypted} is encrypted (it needs a passphrase)"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("`openssl pkey -in {encrypted} -out plain.pem`")),
        "{stderr}"
    );
    // What it says works: the decrypted key serves.
    let plain = pki.dir.join("plain.pem");
    let status = Command::new("openssl")
        .args(["pkey", "-in", encrypted, "-passin", "pass:secret", "-out"])
        .arg(&plain)
        .status()
        .expect("openssl runs");
    assert!(status.success());
    ServeProcess::start(&[
        "--tls",
        "--cert",
        &pki.cert_path,
        "--key",
        plain.to_str().unwrap(),
    ]);
}

/// The reason `serve --tls` gives for the end of the first client that connects after
/// `client` is called with the server's address.
fn tls_server_reason(client: impl FnOnce(SocketAddr)) -> String {
    let mut serve = ServeProcess::start(&["--tls", "--echo"]);
    client(serve.addr);
    serve.line_where(|line| line.starts_with("- "))
}

#[test]
fn the_tls_server_names_what_it_met_instead_of_a_handshake() {
    let raw = |bytes: &'static [u8]| {
        move |addr: SocketAddr| {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.write_all(bytes).unwrap();
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest);
        }
    };
    let alert = tls_server_reason(raw(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x2e]));
    assert!(
        alert.contains(
            "TLS handshake failed: the client sent a TLS alert (fatal, CertificateUnknown) instead of a handshake"
        ),
        "{alert}"
    );
    // SSL 2.0's record format: length 0x801c, CLIENT-HELLO, version 3.1, one cipher spec,
    // no session id, 16 bytes of challenge.
    let mut sslv2 = vec![
        0x80, 0x1c, 0x01, 0x03, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x10,
    ];
    sslv2.extend_from_slice(&[0x00, 0x00, 0x2f]);
    sslv2.extend_from_slice(&[0x5a; 16]);
    let sslv2: &'static [u8] = sslv2.leak();
    let hello = tls_server_reason(raw(sslv2));
    assert!(
        hello.contains("the client began with an SSLv2-format hello"),
        "{hello}"
    );
    assert!(!hello.contains("plain TCP"), "{hello}");
}

#[test]
fn the_tls_server_names_old_clients_and_refused_renegotiation() {
    let old = tls_server_reason(|addr| {
        let output = Command::new("openssl")
            .args(["s_client", "-connect", &addr.to_string()])
            .args(["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
            .stdin(Stdio::null())
            .output()
            .expect("openssl runs");
        assert!(!output.status.success());
    });
    assert!(
        old.ends_with(
            "TLS handshake failed: the client offers only TLS 1.1 and older; this server speaks TLS 1.2 and 1.3 (0 bytes in, 0 out)"
        ),
        "{old}"
    );

    // s_client's `R` asks to renegotiate; rustls refuses with a warning s_client waits past.
    let mut serve = ServeProcess::start(&["--tls", "--echo"]);
    let mut s_client = SClient::start(serve.addr, &["-tls1_2"]);
    s_client.send("first\n");
    s_client.lines_until(|line| line == "first");
    s_client.send("R\n");
    let ended = serve.line_where(|line| line.starts_with("- "));
    assert!(
        ended.contains(
            "disconnected, error: the client asked to renegotiate TLS, which this server refuses"
        ),
        "{ended}"
    );
}

#[test]
fn ciphers_are_chosen_by_their_names_on_either_end() {
    let pki = Pki::new(&["localhost"], true);
    let s_server = SServer::start(&pki, &[]);
    let port = s_server.port.to_string();
    // rustls's, IANA's and OpenSSL's names; the summary names what was agreed.
    let cases = [
        (
            "TLS13_AES_128_GCM_SHA256",
            "TLSv1_3, TLS13_AES_128_GCM_SHA256",
        ),
        (
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLSv1_3, TLS13_CHACHA20_POLY1305_SHA256",
        ),
        (
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "TLSv1_2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ),
        (
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLSv1_2, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        ),
    ];
    for (ciphers, agreed) in cases {
        let (code, _, stderr) = run_netdeck(&[
            "connect",
            "localhost",
            &port,
            "--tls",
            "--cacert",
            &pki.ca_pem_path,
            "--ciphers",
            ciphers,
            "--send",
            "x\n",
            "--wait",
            "100",
        ]);
        assert_eq!(code, 0, "{ciphers}: {stderr}");
        assert!(
            stderr.contains(&format!("connected to 127.0.0.1:{port} ({agreed}")),
            "{ciphers}: {stderr}"
        );
    }

    // `http` takes the same choice.
    let www = SServer::start(&pki, &["-www"]);
    let url = format!("https://localhost:{}/", www.port);
    let (code, _, stderr) = run_netdeck(&[
        "http",
        "-v",
        "--cacert",
        &pki.ca_pem_path,
        "--ciphers",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        &url,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("* TLSv1_2, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
        "{stderr}"
    );

    // The server speaks only the one chosen, and s_client agrees on it.
    for (ciphers, openssl_says) in [
        (
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256",
        ),
        (
            "TLS13_AES_128_GCM_SHA256",
            "Cipher is TLS_AES_128_GCM_SHA256",
        ),
    ] {
        let mut serve = ServeProcess::start(&["--tls", "--echo", "--ciphers", ciphers]);
        let mut s_client = SClient::start(serve.addr, &[]);
        let lines = s_client.lines_until(|line| line.contains("Cipher is"));
        assert!(lines.last().unwrap().ends_with(openssl_says), "{lines:?}");
        let secured = serve.line_where(|line| line.starts_with("* "));
        let rustls_name = if ciphers.starts_with("TLS13") {
            ciphers
        } else {
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
        };
        assert!(secured.contains(&format!(", {rustls_name}, ")), "{secured}");
    }

    // A name not spoken here is refused before anything starts, with the choices.
    let (code, _, stderr) = run_netdeck(&[
        "connect",
        "localhost",
        &port,
        "--tls",
        "--ciphers",
        "RC4-MD5",
        "--send",
        "x",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("ciphers: `RC4-MD5` is not a cipher suite spoken here; choose from TLS13_AES_256_GCM_SHA384,"),
        "{stderr}"
    );
    assert!(stderr.contains("(ECDHE-RSA-AES128-GCM-SHA256)"), "{stderr}");
    let (code, _, stderr) = run_netdeck(&[
        "connect",
        "localhost",
        &port,
        "--tls",
        "--tlsv1.3",
        "--ciphers",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "--send",
        "x",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "ciphers: none of the cipher suites chosen is for a TLS version accepted here"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = run_netdeck(&["serve", "--tls", "--ciphers", "RC4-MD5"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("ciphers: `RC4-MD5` is not a cipher suite"),
        "{stderr}"
    );
}
