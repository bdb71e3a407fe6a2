//! Inputs found by fuzzing (see fuzz/README.md), kept so the bugs they showed stay fixed.

use std::net::SocketAddr;

use netdeck::net::h1::{FramingError, MAX_HEAD, parse_request_head, parse_response_head};
use netdeck::net::http_echo::HttpEcho;

/// `bytes` cut into reads whose sizes cycle through `sizes`, as the fuzz target cuts them.
fn reads<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (read, after) = rest.split_at(size.min(rest.len()));
        out.push(read);
        rest = after;
    }
    out
}

fn serve(reads: &[&[u8]]) -> (Vec<u8>, bool) {
    let client: SocketAddr = "192.0.2.7:40000".parse().unwrap();
    let mut echo = HttpEcho::default();
    let mut bytes = Vec::new();
    for read in reads {
        let answer = echo.feed(read, client);
        bytes.extend_from_slice(&answer.bytes);
        if answer.close {
            return (bytes, true);
        }
    }
    (bytes, false)
}

/// A 127,489-byte method followed by a byte no token may hold. Read in pieces, the first
/// 64 KiB were refused with 431; read at once, the parser went on past the limit, found the
/// bad byte and answered 400. The limit now decides first either way.
#[test]
fn a_head_past_the_limit_gets_431_however_it_arrives() {
    let mut stream = vec![b'G'; 127_489];
    stream.push(0xff);
    assert_eq!(parse_request_head(&stream), Err(FramingError::HeadTooLarge));

    let (at_once, closed) = serve(&[&stream]);
    assert!(closed);
    let answer = String::from_utf8(at_once.clone()).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{answer}"
    );
    assert!(
        answer.ends_with("{\"error\":\"the head is larger than 64 KiB\"}\n"),
        "{answer}"
    );

    let (in_pieces, closed) = serve(&reads(&stream, &[1, 16_642, 10, 5]));
    assert!(closed);
    assert_eq!(in_pieces, at_once);
}

/// The same rule for response heads: a bad header name past the limit is not looked at.
#[test]
fn a_response_head_past_the_limit_is_too_large_however_it_arrives() {
    let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
    head.extend(std::iter::repeat_n(b'a', 70_000));
    head.extend_from_slice(b"\xff: v\r\n\r\n");
    assert_eq!(parse_response_head(&head), Err(FramingError::HeadTooLarge));
    assert_eq!(
        parse_response_head(&head[..MAX_HEAD + 1]),
        Err(FramingError::HeadTooLarge)
    );
}

/// A malformed head within the limit is still called malformed, however long the buffer.
#[test]
fn a_bad_byte_within_the_limit_is_still_reported_as_malformed() {
    let mut stream = vec![b'G'; 100];
    stream.push(0xff);
    stream.extend(std::iter::repeat_n(b'a', MAX_HEAD));
    assert_eq!(
        parse_request_head(&stream),
        Err(FramingError::Malformed("invalid token".into()))
    );
    let (answer, closed) = serve(&[&stream]);
    assert!(closed);
    assert!(answer.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
}
