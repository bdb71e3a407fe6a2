//! Response framing as the HTTP backend drives it: heads parsed from a growing buffer (interim
//! 1xx answers skipped), then the body by its framing. The same bytes arriving in different
//! reads must give the same answer, and a body never holds more bytes than arrived. Also: any
//! data, chunk-encoded, decodes back to itself whatever the pieces.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netdeck_fuzz::Plan;
use netdeck_fuzz::net::h1::{
    ChunkedDecoder, Framing, FramingError, MAX_HEAD, MAX_HEADERS, ResponseHead,
    parse_response_head, response_framing,
};

fuzz_target!(|data: &[u8]| {
    let plan = Plan::new(data);
    let method = if plan.flags & 1 == 1 { "HEAD" } else { "GET" };
    let reads = plan.reads();
    let in_pieces = exchange(method, &reads);
    let at_once = exchange(method, &[&plan.stream]);
    assert_eq!(in_pieces, at_once, "reads {:?}", lengths(&reads));
    if let Exchange::Answer {
        interim_bytes,
        head_len,
        framing,
        body,
        used,
        error,
        ..
    } = &at_once
    {
        let after_head = &plan.stream[interim_bytes + head_len..];
        assert!(*used <= after_head.len());
        assert!(body.len() <= after_head.len());
        if error.is_none() {
            assert!(body.len() <= *used);
        }
        match framing {
            Framing::Empty => assert!(body.is_empty()),
            Framing::Length(length) => {
                assert_eq!(
                    body[..],
                    after_head[..after_head.len().min(*length as usize)]
                );
            }
            Framing::UntilClose => assert_eq!(body, after_head),
            Framing::Chunked => {}
        }
    }
    check_chunked_round_trip(&plan);
});

fn lengths(reads: &[&[u8]]) -> Vec<usize> {
    reads.iter().map(|read| read.len()).collect()
}

#[derive(Debug, PartialEq)]
enum Exchange {
    /// The stream ended before a complete head.
    NoHead,
    BadHead(FramingError),
    BadFraming(FramingError),
    Answer {
        head: ResponseHead,
        /// Bytes of 1xx heads before the final one.
        interim_bytes: usize,
        head_len: usize,
        framing: Framing,
        body: Vec<u8>,
        /// Bytes after the head that the body took (0 after a chunk error).
        used: usize,
        complete: bool,
        error: Option<FramingError>,
    },
}

fn check_head(head: &ResponseHead, len: usize, buffer: &[u8]) {
    assert!(len > 0 && len <= buffer.len() && len <= MAX_HEAD);
    assert!(head.headers.len() <= MAX_HEADERS);
    assert!(head.minor_version <= 1);
    assert!(head.status <= 999);
}

/// One answer read the way `net::http`'s backend reads it.
fn exchange(method: &str, reads: &[&[u8]]) -> Exchange {
    let mut reads = reads.iter();
    let mut received = Vec::new();
    let mut interim_bytes = 0;
    let (head, head_len) = 'head: loop {
        loop {
            match parse_response_head(&received) {
                Ok(Some((head, len)))
                    if (100..200).contains(&head.status) && head.status != 101 =>
                {
                    check_head(&head, len, &received);
                    received.drain(..len);
                    interim_bytes += len;
                }
                Ok(Some((head, len))) => {
                    check_head(&head, len, &received);
                    break 'head (head, len);
                }
                Ok(None) => break,
                Err(error) => return Exchange::BadHead(error),
            }
        }
        match reads.next() {
            Some(read) => received.extend_from_slice(read),
            None => return Exchange::NoHead,
        }
    };
    let framing = match response_framing(method, &head) {
        Ok(framing) => framing,
        Err(error) => return Exchange::BadFraming(error),
    };
    let leftover = received.split_off(head_len);
    let mut body = Vec::new();
    let mut used = 0;
    let mut complete = true;
    let mut error = None;
    let rest = std::iter::once(&leftover[..]).chain(reads.copied());
    match framing {
        Framing::Empty => {}
        Framing::Length(length) => {
            for read in rest {
                let left = length - used as u64;
                let take = left.min(read.len() as u64) as usize;
                body.extend_from_slice(&read[..take]);
                used += take;
            }
            complete = used as u64 == length;
        }
        Framing::Chunked => {
            let mut decoder = ChunkedDecoder::default();
            for read in rest {
                if decoder.is_done() {
                    break;
                }
                let mut data = Vec::new();
                let fed = decoder.feed(read, &mut |bytes| data.extend_from_slice(bytes));
                // Data is handed over as it is decoded, even from a read that then fails.
                assert!(data.len() <= read.len());
                body.extend_from_slice(&data);
                match fed {
                    Ok(n) => {
                        assert!(n <= read.len());
                        assert!(n == read.len() || decoder.is_done());
                        used += n;
                    }
                    Err(failure) => {
                        error = Some(failure);
                        used = 0;
                        break;
                    }
                }
            }
            complete = decoder.is_done();
        }
        Framing::UntilClose => {
            for read in rest {
                body.extend_from_slice(read);
                used += read.len();
            }
        }
    }
    Exchange::Answer {
        head,
        interim_bytes,
        head_len,
        framing,
        body,
        used,
        complete,
        error,
    }
}

/// The stream's data, chunk-encoded in the plan's pieces (with the spellings the flags pick),
/// decodes to itself in any pieces, and the decoder stops exactly at the body's end.
fn check_chunked_round_trip(plan: &Plan) {
    let mut encoded = Vec::new();
    let end = if plan.flags & 2 == 2 { "\n" } else { "\r\n" };
    for chunk in plan.split(&plan.stream) {
        let size = if plan.flags & 4 == 4 {
            format!("{:X}", chunk.len())
        } else {
            format!("{:x}", chunk.len())
        };
        let extension = if plan.flags & 8 == 8 {
            ";name=value"
        } else {
            ""
        };
        encoded.extend_from_slice(format!("{size}{extension}{end}").as_bytes());
        encoded.extend_from_slice(chunk);
        encoded.extend_from_slice(end.as_bytes());
    }
    encoded.extend_from_slice(format!("0{end}").as_bytes());
    if plan.flags & 16 == 16 {
        encoded.extend_from_slice(format!("Trailer: value{end}").as_bytes());
    }
    encoded.extend_from_slice(end.as_bytes());
    let body_len = encoded.len();
    // The next answer on the connection must be left alone.
    encoded.extend_from_slice(b"HTTP/1.1 200 OK\r\n");

    let mut decoder = ChunkedDecoder::default();
    let mut decoded = Vec::new();
    let mut used = 0;
    for piece in plan.split(&encoded) {
        used += decoder
            .feed(piece, &mut |bytes| decoded.extend_from_slice(bytes))
            .expect("a well-formed chunked body");
    }
    assert!(decoder.is_done());
    assert_eq!(used, body_len);
    assert_eq!(decoded, plan.stream);
}
