//! HTTP/1.x framing: heads, body delimiting, and chunked bodies fed in pieces of any size.

use netdeck::net::h1::{
    ChunkedDecoder, Framing, FramingError, MAX_HEAD, keeps_alive, parse_request_head,
    parse_response_head, request_framing, response_framing,
};

fn response(text: &str) -> netdeck::net::h1::ResponseHead {
    parse_response_head(text.as_bytes()).unwrap().unwrap().0
}

#[test]
fn a_head_is_complete_only_at_its_blank_line() {
    let text = b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    for cut in 0..text.len() - 3 {
        assert_eq!(
            parse_response_head(&text[..cut]).unwrap(),
            None,
            "cut at {cut}"
        );
    }
    let (head, len) = parse_response_head(text).unwrap().unwrap();
    assert_eq!(
        (head.minor_version, head.status, head.reason.as_str(), len),
        (0, 200, "OK", text.len() - 3)
    );
}

#[test]
fn the_body_is_delimited_as_rfc_9112_says() {
    let plain = response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
    assert_eq!(
        response_framing("GET", &plain).unwrap(),
        Framing::Length(10)
    );
    assert_eq!(response_framing("HEAD", &plain).unwrap(), Framing::Empty);
    let chunked = response(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 5\r\n\r\n",
    );
    assert_eq!(response_framing("GET", &chunked).unwrap(), Framing::Chunked);
    for status in ["204 No Content", "304 Not Modified", "100 Continue"] {
        let head = response(&format!("HTTP/1.1 {status}\r\nContent-Length: 9\r\n\r\n"));
        assert_eq!(
            response_framing("GET", &head).unwrap(),
            Framing::Empty,
            "{status}"
        );
    }
    let until_close = response("HTTP/1.0 200 OK\r\n\r\n");
    assert_eq!(
        response_framing("GET", &until_close).unwrap(),
        Framing::UntilClose
    );
    let conflicting = response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
    assert!(matches!(
        response_framing("GET", &conflicting),
        Err(FramingError::BadContentLength(_))
    ));
    for bad in ["-1", "+5", "5 5", "0x5", ""] {
        let lying = response(&format!("HTTP/1.1 200 OK\r\nContent-Length: {bad}\r\n\r\n"));
        assert!(
            matches!(
                response_framing("GET", &lying),
                Err(FramingError::BadContentLength(_))
            ),
            "Content-Length: {bad}"
        );
    }
}

#[test]
fn keep_alive_follows_the_version_and_connection_header() {
    assert!(keeps_alive(1, &response("HTTP/1.1 200 OK\r\n\r\n").headers));
    assert!(!keeps_alive(
        1,
        &response("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").headers
    ));
    assert!(!keeps_alive(
        0,
        &response("HTTP/1.0 200 OK\r\n\r\n").headers
    ));
    assert!(keeps_alive(
        0,
        &response("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n").headers
    ));
}

#[test]
fn oversized_heads_and_too_many_headers_are_refused() {
    let mut huge = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', MAX_HEAD + 1));
    assert_eq!(parse_response_head(&huge), Err(FramingError::HeadTooLarge));
    let many: String = (0..101).map(|i| format!("H{i}: v\r\n")).collect();
    let text = format!("GET / HTTP/1.1\r\n{many}\r\n");
    assert_eq!(
        parse_request_head(text.as_bytes()),
        Err(FramingError::TooManyHeaders)
    );
}

#[test]
fn a_chunked_body_decodes_whatever_the_pieces() {
    let wire =
        b"5;name=value\r\nhello\r\n1\r\n \r\nD\r\nchunked world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    for piece in 1..wire.len() {
        let mut decoder = ChunkedDecoder::default();
        let mut data = Vec::new();
        let mut used = 0;
        for part in wire.chunks(piece) {
            if decoder.is_done() {
                break;
            }
            used += decoder
                .feed(part, &mut |d| data.extend_from_slice(d))
                .unwrap();
        }
        assert!(decoder.is_done(), "piece {piece}");
        assert_eq!(data, b"hello chunked world", "piece {piece}");
        assert_eq!(
            &wire[used..],
            b"NEXT",
            "piece {piece}: stops at the end of the body"
        );
    }
}

#[test]
fn bad_chunks_are_errors() {
    for wire in [
        &b"zz\r\n"[..],
        b"3\r\nabcdef\r\n",
        b"99999999999999999999\r\n",
        b"+5\r\nabcde\r\n",
        b"-0\r\n\r\n",
    ] {
        let mut decoder = ChunkedDecoder::default();
        assert!(
            decoder.feed(wire, &mut |_| {}).is_err(),
            "{:?}",
            String::from_utf8_lossy(wire)
        );
    }
}

#[test]
fn a_request_without_length_has_no_body() {
    let (head, _) = parse_request_head(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(request_framing(&head).unwrap(), Framing::Empty);
    let (head, _) = parse_request_head(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(request_framing(&head).unwrap(), Framing::Length(4));
}
