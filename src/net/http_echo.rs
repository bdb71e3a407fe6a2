//! The server's HTTP mode: every request is answered with `200` and a JSON document that
//! describes it (method, path, headers, body, client), so HTTP flows can be shown offline.

use std::net::SocketAddr;

use serde_json::{Map, Value, json};

use super::h1::{self, ChunkedDecoder, Framing, FramingError, RequestHead};

/// Body bytes echoed back; longer bodies are counted, and cut in the reply.
const BODY_ECHOED: usize = 64 * 1024;

/// One connection's parsing state.
#[derive(Default)]
pub struct HttpEcho {
    buffer: Vec<u8>,
    request: Option<Pending>,
}

struct Pending {
    head: RequestHead,
    /// The framing was suspect: answer, then close.
    close_after: bool,
    framing: Framing,
    body: Vec<u8>,
    body_bytes: u64,
    chunked: ChunkedDecoder,
}

/// What to send back, and whether to close afterwards.
#[derive(Debug, Default)]
pub struct Reply {
    pub bytes: Vec<u8>,
    pub close: bool,
}

impl HttpEcho {
    /// True until a complete request head has arrived (and again after each reply).
    pub fn awaiting_head(&self) -> bool {
        self.request.is_none()
    }

    /// Between requests: nothing of the next one has arrived yet.
    pub fn idle(&self) -> bool {
        self.request.is_none() && self.buffer.is_empty()
    }

    /// Takes received bytes; answers every request they complete.
    pub fn feed(&mut self, input: &[u8], client: SocketAddr) -> Reply {
        self.buffer.extend_from_slice(input);
        let mut reply = Reply::default();
        loop {
            if self.request.is_none() {
                match h1::parse_request_head(&self.buffer) {
                    Err(FramingError::HeadTooLarge) => {
                        return refuse(
                            reply,
                            431,
                            "Request Header Fields Too Large",
                            &FramingError::HeadTooLarge.to_string(),
                        );
                    }
                    Ok(None) => return reply,
                    Ok(Some((head, len))) => {
                        self.buffer.drain(..len);
                        let framing = match h1::request_framing(&head) {
                            Ok(framing) => framing,
                            Err(error @ FramingError::UnsupportedCoding(_)) => {
                                return refuse(reply, 501, "Not Implemented", &error.to_string());
                            }
                            Err(error) => {
                                return refuse(reply, 400, "Bad Request", &error.to_string());
                            }
                        };
                        self.request = Some(Pending {
                            close_after: h1::framing_needs_close(&head),
                            head,
                            framing,
                            body: Vec::new(),
                            body_bytes: 0,
                            chunked: ChunkedDecoder::default(),
                        });
                    }
                    Err(error) => return refuse(reply, 400, "Bad Request", &error.to_string()),
                }
            }
            let pending = self.request.as_mut().expect("a request is under way");
            let complete = match pending.take_body(&mut self.buffer) {
                Ok(complete) => complete,
                Err(error) => return refuse(reply, 400, "Bad Request", &error),
            };
            if !complete {
                return reply;
            }
            let pending = self.request.take().expect("a request is under way");
            let keep_alive = !pending.close_after
                && h1::keeps_alive(pending.head.minor_version, &pending.head.headers);
            reply
                .bytes
                .extend_from_slice(&describe(&pending, client, keep_alive));
            if !keep_alive {
                reply.close = true;
                return reply;
            }
        }
    }
}

impl Pending {
    /// Moves body bytes out of `buffer`; true once the body is complete.
    fn take_body(&mut self, buffer: &mut Vec<u8>) -> Result<bool, String> {
        match self.framing {
            Framing::Empty | Framing::UntilClose => Ok(true),
            Framing::Length(length) => {
                let take = (length - self.body_bytes).min(buffer.len() as u64) as usize;
                self.keep(&buffer[..take]);
                buffer.drain(..take);
                Ok(self.body_bytes == length)
            }
            Framing::Chunked => {
                let mut data = Vec::new();
                let used = self
                    .chunked
                    .feed(buffer, &mut |bytes| data.extend_from_slice(bytes))
                    .map_err(|error| error.to_string())?;
                buffer.drain(..used);
                self.keep(&data);
                Ok(self.chunked.is_done())
            }
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        self.body_bytes += bytes.len() as u64;
        let room = BODY_ECHOED.saturating_sub(self.body.len());
        self.body.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

/// The `200` reply describing the request.
fn describe(request: &Pending, client: SocketAddr, keep_alive: bool) -> Vec<u8> {
    let mut headers = Map::new();
    for header in &request.head.headers {
        let value = header.value_text();
        match headers.get_mut(&header.name) {
            Some(Value::String(previous)) => {
                previous.push_str(", ");
                previous.push_str(&value);
            }
            _ => {
                headers.insert(header.name.clone(), Value::String(value));
            }
        }
    }
    let document = json!({
        "method": request.head.method,
        "path": request.head.target,
        "version": format!("HTTP/1.{}", request.head.minor_version),
        "headers": headers,
        "body": String::from_utf8_lossy(&request.body),
        "body_bytes": request.body_bytes,
        "client": client.to_string(),
    });
    let mut body = serde_json::to_vec_pretty(&document).expect("a JSON value serializes");
    body.push(b'\n');
    respond(
        200,
        "OK",
        &body,
        keep_alive,
        request.head.method.eq_ignore_ascii_case("HEAD"),
    )
}

fn respond(status: u16, reason: &str, body: &[u8], keep_alive: bool, head_only: bool) -> Vec<u8> {
    let mut bytes = h1::encode_response_head(
        status,
        reason,
        &[
            ("Content-Type", "application/json".into()),
            ("Content-Length", body.len().to_string()),
            (
                "Connection",
                if keep_alive { "keep-alive" } else { "close" }.into(),
            ),
            ("Server", format!("netdeck/{}", env!("CARGO_PKG_VERSION"))),
        ],
    );
    if !head_only {
        bytes.extend_from_slice(body);
    }
    bytes
}

/// Answers a request that cannot be read with an error, then closes.
fn refuse(mut reply: Reply, status: u16, reason: &str, problem: &str) -> Reply {
    let mut body = serde_json::to_vec(&json!({ "error": problem })).expect("serializes");
    body.push(b'\n');
    reply
        .bytes
        .extend_from_slice(&respond(status, reason, &body, false, false));
    reply.close = true;
    reply
}
