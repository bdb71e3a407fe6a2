//! The server's HTTP mode (`net::http_echo`, on `net::h1`'s request parsing) fed arbitrary
//! bytes, pipelined requests included: the answers must not depend on how the bytes were cut
//! into reads, and they must be a well-formed sequence of responses, each a JSON document,
//! where only the last may close the connection or refuse the request.

#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use netdeck_fuzz::Plan;
use netdeck_fuzz::net::h1::{MAX_HEADERS, parse_request_head, parse_response_head};
use netdeck_fuzz::net::http_echo::HttpEcho;
use serde_json::Value;

const CLIENT: &str = "192.0.2.7:40000";

fuzz_target!(|data: &[u8]| {
    let plan = Plan::new(data);
    let client: SocketAddr = CLIENT.parse().expect("an address");
    let reads = plan.reads();
    let in_pieces = serve(&reads, client);
    let at_once = serve(&[&plan.stream], client);
    assert_eq!(in_pieces, at_once, "reads {:?}", lengths(&reads));
    check_answers(&at_once, plan.stream.len());
    // Any complete request head the parser accepts is one the server answers or refuses.
    if let Ok(Some((head, len))) = parse_request_head(&plan.stream) {
        assert!(len <= plan.stream.len());
        assert!(head.headers.len() <= MAX_HEADERS);
        assert!(!at_once.bytes.is_empty() || at_once.awaiting_body);
    }
});

fn lengths(reads: &[&[u8]]) -> Vec<usize> {
    reads.iter().map(|read| read.len()).collect()
}

#[derive(Debug, PartialEq)]
struct Served {
    bytes: Vec<u8>,
    closed: bool,
    /// A head arrived, and its body is still coming.
    awaiting_body: bool,
}

/// One connection's reads, stopping where the server closes it.
fn serve(reads: &[&[u8]], client: SocketAddr) -> Served {
    let mut echo = HttpEcho::default();
    let mut bytes = Vec::new();
    for read in reads {
        let answer = echo.feed(read, client);
        bytes.extend_from_slice(&answer.bytes);
        if answer.close {
            return Served {
                bytes,
                closed: true,
                awaiting_body: false,
            };
        }
    }
    Served {
        bytes,
        closed: false,
        awaiting_body: !echo.awaiting_head(),
    }
}

fn check_answers(served: &Served, received: usize) {
    let mut rest = &served.bytes[..];
    let mut connections = Vec::new();
    while !rest.is_empty() {
        let (head, len) = parse_response_head(rest)
            .expect("answers parse")
            .expect("answers are complete");
        rest = &rest[len..];
        assert_eq!(head.minor_version, 1);
        let header = |name: &str| {
            let mut values = head.headers.iter().filter(|h| h.name == name);
            let value = values.next().expect("the header is there").value_text();
            assert!(values.next().is_none(), "one {name}");
            value
        };
        let length: usize = header("Content-Length").parse().expect("a length");
        let connection = header("Connection");
        assert!(connection == "keep-alive" || connection == "close");
        assert_eq!(header("Content-Type"), "application/json");
        // Answers to HEAD have no body; every body is a JSON document, so starts with `{`.
        let has_body = rest.first() == Some(&b'{');
        if !has_body {
            assert_eq!(head.status, 200);
            assert!(rest.is_empty() || rest.starts_with(b"HTTP/1.1 "));
            connections.push(connection);
            continue;
        }
        let document: Value = serde_json::from_slice(&rest[..length]).expect("JSON");
        rest = &rest[length..];
        match head.status {
            200 => {
                assert_eq!(head.reason, "OK");
                let method = document["method"].as_str().expect("method");
                assert!(!method.eq_ignore_ascii_case("HEAD"));
                assert!(document["path"].is_string());
                let version = document["version"].as_str().expect("version");
                assert!(version == "HTTP/1.0" || version == "HTTP/1.1");
                let headers = document["headers"].as_object().expect("headers");
                assert!(headers.len() <= MAX_HEADERS);
                let body_bytes = document["body_bytes"].as_u64().expect("body_bytes");
                assert!(body_bytes <= received as u64);
                assert_eq!(document["client"], CLIENT);
            }
            400 | 431 => {
                assert_eq!(connection, "close");
                assert!(document["error"].is_string());
            }
            status => panic!("unexpected status {status}"),
        }
        connections.push(connection);
    }
    // Every answer but the last keeps the connection; the last closes it exactly when the
    // server closed.
    if let Some((last, earlier)) = connections.split_last() {
        assert!(earlier.iter().all(|c| c == "keep-alive"));
        assert_eq!(*last == "close", served.closed);
    } else {
        assert!(!served.closed);
    }
}
