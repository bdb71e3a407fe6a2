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
