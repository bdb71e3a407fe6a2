//! netdeck's own server in HTTP mode, seen by netdeck's client and by curl: each request is
//! described back as JSON, and what it sends is valid HTTP.

use crate::common::{self, ServeProcess, run_netdeck};
use crate::http::{get, request, send};
use netdeck::net::http::{HttpAgent, HttpOptions};

#[test]
fn netdecks_server_in_http_mode_describes_each_request_as_json() {
    let serve = ServeProcess::start(&["--http", "--quiet"]);
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    let mut post = request(
        "POST",
        &format!("http://{}/submit?x=1", serve.addr),
        b"{\"a\":1}",
    );
    post.headers.push(("X-Test".into(), "yes".into()));
    let response = send(&session, &post).unwrap();
    assert_eq!(response.status, 200);
    let document: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(document["method"], "POST");
    assert_eq!(document["path"], "/submit?x=1");
    assert_eq!(document["headers"]["X-Test"], "yes");
    assert_eq!(document["body"], "{\"a\":1}");
    assert_eq!(document["body_bytes"], 7);
    assert!(
        document["client"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );

    // Kept alive: a second request on the same connection.
    let again = send(&session, &get(&format!("http://{}/again", serve.addr))).unwrap();
    assert!(again.reused_connection);

    let (code, stdout, _) =
        run_netdeck(&["http", "--repeat", "20", &format!("http://{}/", serve.addr)]);
    assert_eq!(code, 0);
    let summary = String::from_utf8(stdout).unwrap();
    assert!(summary.contains("status: 200 × 20"), "{summary}");
}

#[test]
fn curl_sees_valid_http_from_netdecks_server() {
    let serve = ServeProcess::start(&["--http", "--quiet"]);
    let url = format!("http://{}/from-curl", serve.addr);
    let output = std::process::Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail",
            "--http1.1",
            "-d",
            "hi",
            &url,
            &url,
        ])
        .output()
        .expect("curl runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        text.matches("\"path\": \"/from-curl\"").count(),
        2,
        "{text}"
    );
    assert!(text.contains("\"User-Agent\": \"curl/"), "{text}");
    let head = std::process::Command::new("curl")
        .args(["--silent", "--head", &url])
        .output()
        .unwrap();
    let head = String::from_utf8(head.stdout).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
}

#[test]
fn an_oversized_request_head_gets_431_from_http_mode() {
    use std::io::{Read, Write};
    let serve = ServeProcess::start(&["--http", "--quiet"]);
    let mut stream = common::connect(serve.addr);
    let head = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(70_000));
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large"),
        "{answer}"
    );
}

/// Sends `request` from a Python socket on one connection, without closing its own side, and
/// returns all the server answered until it closed the connection.
fn python_raw_exchange(addr: std::net::SocketAddr, request: &str) -> String {
    let script = "import socket, sys\n\
                  s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n\
                  s.sendall(sys.argv[3].encode())\n\
                  answer = b''\n\
                  while True:\n\
                  \x20   chunk = s.recv(65536)\n\
                  \x20   if not chunk: break\n\
                  \x20   answer += chunk\n\
                  sys.stdout.buffer.write(answer)\n";
    let mut python = std::process::Command::new("python3")
        .args([
            "-c",
            script,
            &addr.ip().to_string(),
            &addr.port().to_string(),
        ])
        .arg(request)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    // A server that keeps the connection open never lets Python finish.
    let _watchdog = common::Watchdog::new(python.id());
    let mut answer = String::new();
    std::io::Read::read_to_string(python.stdout.as_mut().unwrap(), &mut answer).unwrap();
    assert!(python.wait().unwrap().success(), "{answer}");
    answer
}

#[test]
fn a_request_with_both_lengths_is_read_chunked_answered_and_the_connection_closed() {
    let serve = ServeProcess::start(&["--http", "--quiet"]);
    // A server that read Content-Length would take `0\r\n\r\n` and 3 bytes of the next
    // request as the body; read chunked, the body is `hi` and a second request follows.
    let smuggled = "POST /first HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\
                    Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n\
                    GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
    let answer = python_raw_exchange(serve.addr, smuggled);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("Connection: close\r\n"), "{answer}");
    assert!(answer.contains("\"body\": \"hi\""), "{answer}");
    assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
    assert!(!answer.contains("/smuggled"), "{answer}");
}

#[test]
fn an_unknown_transfer_coding_gets_501_and_a_close() {
    let serve = ServeProcess::start(&["--http", "--quiet"]);
    for coding in ["xchunked", "gzip, chunked"] {
        let request = format!(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {coding}\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
        );
        let answer = python_raw_exchange(serve.addr, &request);
        assert!(
            answer.starts_with("HTTP/1.1 501 Not Implemented\r\n"),
            "{coding}: {answer}"
        );
        assert!(answer.contains("Connection: close\r\n"), "{answer}");
        assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
    }
}
