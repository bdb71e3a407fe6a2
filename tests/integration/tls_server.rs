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

impl SServer {
    fn start(pki: &Pki, args: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
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
fn a_plain_connect_to_a_tls_port_says_to_add_tls() {
    let pki = Pki::new(&["localhost"], true);
    // OpenSSL closes without a word on plain bytes: netdeck asks the port in TLS.
    let s_server = SServer::start(&pki, &[]);
    let (code, stdout, stderr) = run_netdeck(&[
        "connect",
        "127.0.0.1",
        &s_server.port.to_string(),
        "--send",
        r"GET / HTTP/1.1\r\n\r\n",
    ]);
    assert_eq!((code, stdout.len()), (0, 0), "{stderr}");
    assert!(
        stderr.contains("netdeck: this port speaks TLS — add --tls"),
        "{stderr}"
    );

    // netdeck's own TLS server answers plain bytes with an alert, as rustls does.
    let serve = ServeProcess::start(&["--tls", "--echo"]);
    let (code, stdout, stderr) = run_netdeck(&[
        "connect",
        "127.0.0.1",
        &serve.addr.port().to_string(),
        "--send",
        "hi",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a]);
    assert!(
        stderr.contains("netdeck: this port speaks TLS — add --tls"),
        "{stderr}"
    );

    // A plain server that closes without a word says nothing of TLS.
    let closing = Peer::start(&["half-close"]);
    let (_, _, stderr) = run_netdeck(&[
        "connect",
        "127.0.0.1",
        &closing.addr.port().to_string(),
        "--stdin",
    ]);
    assert!(!stderr.contains("TLS"), "{stderr}");
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
