//! HTTP/1.x framing on httparse: request heads out, response heads and bodies in (length,
//! chunked, or until close; HTTP/1.0 and 1.1), and request parsing for the server's HTTP mode.
//! Everything here is incremental over byte buffers, so it works on any stream and can be fed
//! arbitrary input.

use std::fmt::Write as _;

/// The most a head (request or status line plus headers) may take.
pub const MAX_HEAD: usize = 64 * 1024;
/// The most headers one head may have.
pub const MAX_HEADERS: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("the head is larger than {} KiB", MAX_HEAD / 1024)]
    HeadTooLarge,
    #[error("more than {MAX_HEADERS} headers")]
    TooManyHeaders,
    #[error("malformed head: {0}")]
    Malformed(String),
    #[error("bad Content-Length `{0}`")]
    BadContentLength(String),
    #[error("bad chunk: {0}")]
    BadChunk(String),
    #[error("the transfer coding `{0}` is not supported: only chunked is")]
    UnsupportedCoding(String),
    #[error("bad Transfer-Encoding `{0}`: chunked must come once, and last")]
    BadTransferEncoding(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: Vec<u8>,
}

impl Header {
    pub fn value_text(&self) -> String {
        String::from_utf8_lossy(&self.value).into_owned()
    }
}

fn find<'a>(headers: &'a [Header], name: &str) -> impl Iterator<Item = &'a Header> {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
}

/// The first header of this name, in any case.
pub fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a Header> {
    find(headers, name).next()
}

fn has_token(headers: &[Header], name: &str, token: &str) -> bool {
    find(headers, name).any(|h| {
        h.value_text()
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<Header>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    pub minor_version: u8,
    pub headers: Vec<Header>,
}

/// How the body after a head is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Empty,
    Length(u64),
    Chunked,
    /// Everything until the connection closes (responses only).
    UntilClose,
}

fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<Header> {
    headers
        .iter()
        .map(|h| Header {
            name: h.name.to_string(),
            value: h.value.to_vec(),
        })
        .collect()
}

fn head_error(error: httparse::Error) -> FramingError {
    match error {
        httparse::Error::TooManyHeaders => FramingError::TooManyHeaders,
        other => FramingError::Malformed(other.to_string()),
    }
}

/// The part of `buf` a head may occupy. Nothing past `MAX_HEAD` is parsed, so a head that
/// does not end within it is too large whether the bytes came in one read or many; parsing
/// further could find a malformed byte there on one read and not on the other.
fn head_window(buf: &[u8]) -> &[u8] {
    &buf[..buf.len().min(MAX_HEAD)]
}

/// A complete response head at the start of `buf` and its length, `None` if more bytes are
/// needed.
pub fn parse_response_head(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, FramingError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(head_window(buf)).map_err(head_error)? {
        // Three digits, but not a status: 1xx to 9xx are, whatever the server means by them.
        httparse::Status::Complete(_) if response.code.is_some_and(|code| code < 100) => {
            Err(FramingError::Malformed(format!(
                "status {:03} is not a status code (100 to 999)",
                response.code.unwrap_or(0)
            )))
        }
        httparse::Status::Complete(len) => Ok(Some((
            ResponseHead {
                minor_version: response.version.unwrap_or(1),
                status: response.code.unwrap_or(0),
                reason: response.reason.unwrap_or("").to_string(),
                headers: owned_headers(response.headers),
            },
            len,
        ))),
        httparse::Status::Partial if buf.len() > MAX_HEAD => Err(FramingError::HeadTooLarge),
        httparse::Status::Partial => Ok(None),
    }
}

/// A complete request head at the start of `buf` and its length, `None` if more bytes are
/// needed.
pub fn parse_request_head(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, FramingError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(head_window(buf)).map_err(head_error)? {
        httparse::Status::Complete(len) => Ok(Some((
            RequestHead {
                method: request.method.unwrap_or("").to_string(),
                target: request.path.unwrap_or("").to_string(),
                minor_version: request.version.unwrap_or(1),
                headers: owned_headers(request.headers),
            },
            len,
        ))),
        httparse::Status::Partial if buf.len() > MAX_HEAD => Err(FramingError::HeadTooLarge),
        httparse::Status::Partial => Ok(None),
    }
}

fn content_length(headers: &[Header]) -> Result<Option<u64>, FramingError> {
    let mut found = None;
    for header in find(headers, "content-length") {
        let text = header.value_text();
        let digits = text.trim();
        // Only digits (RFC 9112): integer parsing alone would also take a sign.
        let value = digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| FramingError::BadContentLength(text.clone()))?;
        // Repeated values must agree, or the message is ambiguous.
        if found.is_some_and(|previous| previous != value) {
            return Err(FramingError::BadContentLength(text));
        }
        found = Some(value);
    }
    Ok(found)
}

/// How a response body is delimited (RFC 9112, 6.3).
pub fn response_framing(
    request_method: &str,
    head: &ResponseHead,
) -> Result<Framing, FramingError> {
    if request_method.eq_ignore_ascii_case("HEAD")
        || (100..200).contains(&head.status)
        || head.status == 204
        || head.status == 304
    {
        return Ok(Framing::Empty);
    }
    if has_token(&head.headers, "transfer-encoding", "chunked") {
        return Ok(Framing::Chunked);
    }
    Ok(match content_length(&head.headers)? {
        Some(0) => Framing::Empty,
        Some(length) => Framing::Length(length),
        None => Framing::UntilClose,
    })
}

/// The transfer codings of a message, in the order applied, lower case and without
/// parameters.
fn transfer_codings(headers: &[Header]) -> Vec<String> {
    find(headers, "transfer-encoding")
        .flat_map(|h| {
            h.value_text()
                .split(',')
                .map(|coding| {
                    let name = coding.split(';').next().unwrap_or("");
                    name.trim().to_ascii_lowercase()
                })
                .collect::<Vec<_>>()
        })
        .filter(|coding| !coding.is_empty())
        .collect()
}

/// How a request body is delimited (RFC 9112, 6.3): only `Transfer-Encoding: chunked` is
/// read, and it overrides any Content-Length; a request without length has none.
pub fn request_framing(head: &RequestHead) -> Result<Framing, FramingError> {
    let codings = transfer_codings(&head.headers);
    if !codings.is_empty() {
        if let Some(unknown) = codings.iter().find(|coding| *coding != "chunked") {
            return Err(FramingError::UnsupportedCoding(unknown.clone()));
        }
        if codings.len() > 1 {
            return Err(FramingError::BadTransferEncoding(codings.join(", ")));
        }
        return Ok(Framing::Chunked);
    }
    Ok(match content_length(&head.headers)? {
        Some(0) | None => Framing::Empty,
        Some(length) => Framing::Length(length),
    })
}

/// Whether a request's framing is suspect, so the connection must close once it is answered
/// (RFC 9112, 6.1): Transfer-Encoding beside Content-Length, where another server on the way
/// may have read the other length (request smuggling), or in an HTTP/1.0 request.
pub fn framing_needs_close(head: &RequestHead) -> bool {
    header(&head.headers, "transfer-encoding").is_some()
        && (header(&head.headers, "content-length").is_some() || head.minor_version == 0)
}

/// Whether the connection stays open after this message (HTTP/1.1 unless `close`; HTTP/1.0
/// only with `keep-alive`).
pub fn keeps_alive(minor_version: u8, headers: &[Header]) -> bool {
    if minor_version == 0 {
        has_token(headers, "connection", "keep-alive")
    } else {
        !has_token(headers, "connection", "close")
    }
}

/// A request head: request line, `Host`, the given headers, and `Content-Length` when there
/// is a body (or the method expects one). `Host`, `User-Agent` and `Accept` are added unless
/// given or `omitted`.
pub fn encode_request_head(
    method: &str,
    target: &str,
    host: &str,
    headers: &[(String, String)],
    omitted: &[String],
    body_len: Option<u64>,
) -> Vec<u8> {
    let mut head = String::with_capacity(256);
    let _ = write!(head, "{method} {target} HTTP/1.1\r\n");
    let given = |name: &str| {
        headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
            || omitted.iter().any(|n| n.eq_ignore_ascii_case(name))
    };
    if !given("host") {
        let _ = write!(head, "Host: {host}\r\n");
    }
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        let _ = write!(head, "{name}: {value}\r\n");
    }
    if !given("user-agent") {
        let _ = write!(
            head,
            "User-Agent: netdeck/{}\r\n",
            env!("CARGO_PKG_VERSION")
        );
    }
    if !given("accept") {
        head.push_str("Accept: */*\r\n");
    }
    if let Some(length) = body_len {
        let _ = write!(head, "Content-Length: {length}\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// A response head for the server's HTTP mode.
pub fn encode_response_head(status: u16, reason: &str, headers: &[(&str, String)]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Turns a chunked body back into its data, fed in pieces of any size.
#[derive(Debug, Default)]
pub struct ChunkedDecoder {
    state: ChunkState,
    /// The size line or trailer line read so far.
    line: Vec<u8>,
}

#[derive(Debug, Default, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    Data(u64),
    DataEnd,
    Trailers,
    Done,
}

/// The longest chunk-size or trailer line accepted.
const MAX_CHUNK_LINE: usize = 4096;

impl ChunkedDecoder {
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decodes from `input`, handing data to `out`. Returns how many bytes of `input` were
    /// used: fewer than all only once the body is complete.
    pub fn feed(
        &mut self,
        input: &[u8],
        out: &mut impl FnMut(&[u8]),
    ) -> Result<usize, FramingError> {
        let mut at = 0;
        while at < input.len() && self.state != ChunkState::Done {
            match self.state {
                ChunkState::Data(left) => {
                    let take = (left.min((input.len() - at) as u64)) as usize;
                    out(&input[at..at + take]);
                    at += take;
                    self.state = match left - take as u64 {
                        0 => ChunkState::DataEnd,
                        rest => ChunkState::Data(rest),
                    };
                }
                _ => {
                    let byte = input[at];
                    at += 1;
                    if byte != b'\n' {
                        if self.line.len() >= MAX_CHUNK_LINE {
                            return Err(FramingError::BadChunk("line too long".into()));
                        }
                        self.line.push(byte);
                        continue;
                    }
                    let mut line = std::mem::take(&mut self.line);
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    self.end_line(&line)?;
                }
            }
        }
        Ok(at)
    }

    fn end_line(&mut self, line: &[u8]) -> Result<(), FramingError> {
        self.state = match self.state {
            ChunkState::Size => {
                let text = String::from_utf8_lossy(line);
                let size_text = text.split(';').next().unwrap_or("").trim();
                // Only hex digits: integer parsing alone would also take a sign.
                let size = size_text
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit())
                    .then(|| u64::from_str_radix(size_text, 16).ok())
                    .flatten()
                    .ok_or_else(|| FramingError::BadChunk(format!("size `{size_text}`")))?;
                if size == 0 {
                    ChunkState::Trailers
                } else {
                    ChunkState::Data(size)
                }
            }
            ChunkState::DataEnd if line.is_empty() => ChunkState::Size,
            ChunkState::DataEnd => {
                return Err(FramingError::BadChunk("data longer than its size".into()));
            }
            ChunkState::Trailers if line.is_empty() => ChunkState::Done,
            ChunkState::Trailers => ChunkState::Trailers,
            ChunkState::Data(_) | ChunkState::Done => unreachable!("lines end only between data"),
        };
        Ok(())
    }
}
