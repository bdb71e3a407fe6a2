//! The `http_client::HttpClient` surf sends through: a pool of kept-alive connections, direct
//! or through a proxy, one exchange at a time on each, the body handed to the watcher as it
//! arrives.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use http_client::{Config, HttpClient};

use super::cookies::CookieJar;
use super::encoding::{self, Decoder};
use super::proxy::{Proxy, ProxyRoutes};
use super::redirect::follows;
use super::{
    BodyPart, HttpOptions, Omitted, RequestBody, Timings, Upload as UploadExt, Watch, to_surf,
};
use crate::net::client::{self, ClientConfig, Connection};
use crate::net::error::{NetError, ProxyProblem};
use crate::net::h1::{self, ChunkedDecoder, Framing, ResponseHead};

const READ_BUFFER: usize = 64 * 1024;
/// Idle kept-alive connections kept per destination.
const IDLE_PER_HOST: usize = 4;

/// What the backend learned about one exchange, carried on the response.
#[derive(Clone, Debug)]
pub(super) struct ExchangeInfo {
    /// As the server sent it: status, reason, version and headers (surf's own copy is
    /// lower-cased and knows only the statuses it lists).
    pub head: ResponseHead,
    pub timings: Timings,
    pub body_bytes: u64,
    /// The body's size as it came, when it came compressed and was decoded.
    pub encoded_bytes: Option<u64>,
    pub truncated: bool,
    pub peer: SocketAddr,
    pub reused: bool,
}

/// Scheme, host and port, and the proxy in between.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Destination {
    https: bool,
    host: String,
    port: u16,
    proxy: Option<Proxy>,
}

pub(super) struct Backend {
    options: HttpOptions,
    proxies: ProxyRoutes,
    cookies: Arc<Mutex<CookieJar>>,
    pool: Mutex<HashMap<Destination, Vec<Connection>>>,
    config: Config,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("options", &self.options)
            .finish()
    }
}

impl Backend {
    pub fn new(options: HttpOptions, proxies: ProxyRoutes, cookies: Arc<Mutex<CookieJar>>) -> Self {
        Backend {
            options,
            proxies,
            cookies,
            pool: Mutex::default(),
            config: Config::new(),
        }
    }
}

#[async_trait::async_trait]
impl HttpClient for Backend {
    async fn send(
        &self,
        request: http_client::Request,
    ) -> Result<http_client::Response, http_client::Error> {
        let body = request
            .ext()
            .get::<UploadExt>()
            .map(|upload| upload.0.clone())
            .unwrap_or_default();
        let watch = request.ext().get::<Watch>().cloned();
        let omitted = request.ext().get::<Omitted>().cloned();
        let (info, kept) = self
            .exchange(&request, &body, watch.as_ref(), omitted.as_ref())
            .await
            .map_err(to_surf)?;
        let mut response = http_client::Response::new(surf_status(info.head.status));
        response.set_version(Some(if info.head.minor_version == 0 {
            surf::http::Version::Http1_0
        } else {
            surf::http::Version::Http1_1
        }));
        // http-types only holds ASCII values (it panics on others); `ExchangeInfo` keeps
        // every header as sent.
        for header in &info.head.headers {
            if let (Ok(name), Ok(value)) = (
                surf::http::headers::HeaderName::from_string(header.name.clone()),
                surf::http::headers::HeaderValue::from_bytes(header.value.clone()),
            ) {
                response.append_header(name, value);
            }
        }
        response.set_body(kept);
        response.ext_mut().insert(info);
        Ok(response)
    }

    fn set_config(&mut self, config: Config) -> http_types::Result<()> {
        self.config = config;
        Ok(())
    }

    fn config(&self) -> &Config {
        &self.config
    }
}

/// The status surf is told: http-types panics on codes it does not list (nginx's 444, 599,
/// 999...), so those travel as their class's first code. The real one is in `ExchangeInfo`.
fn surf_status(status: u16) -> surf::StatusCode {
    use surf::StatusCode;
    StatusCode::try_from(status).unwrap_or(match status / 100 {
        1 => StatusCode::Continue,
        2 => StatusCode::Ok,
        3 => StatusCode::MultipleChoice,
        4 => StatusCode::BadRequest,
        _ => StatusCode::InternalServerError,
    })
}

impl Backend {
    fn take_pooled(&self, destination: &Destination) -> Option<Connection> {
        self.pool
            .lock()
            .ok()?
            .get_mut(destination)
            .and_then(|idle| idle.pop())
    }

    fn put_back(&self, destination: Destination, connection: Connection) {
        if let Ok(mut pool) = self.pool.lock() {
            let idle = pool.entry(destination).or_default();
            if idle.len() < IDLE_PER_HOST {
                idle.push(connection);
            }
        }
    }

    /// One request and its answer. A kept-alive connection the server has closed meanwhile
    /// is replaced by a fresh one once.
    async fn exchange(
        &self,
        request: &http_client::Request,
        body: &RequestBody,
        watch: Option<&Watch>,
        omitted: Option<&Omitted>,
    ) -> Result<(ExchangeInfo, Vec<u8>), NetError> {
        let url = request.url();
        let destination = Destination {
            https: url.scheme() == "https",
            host: url.host_str().unwrap_or("").to_string(),
            port: url.port_or_known_default().unwrap_or(80),
            proxy: self.proxies.for_url(url).cloned(),
        };
        if let Some(connection) = self.take_pooled(&destination) {
            match self
                .exchange_on(
                    connection,
                    &destination,
                    true,
                    request,
                    body,
                    (watch, omitted),
                )
                .await
            {
                Err(Stale) => {}
                Ok(result) => return self.finish(destination, result),
            }
        }
        let connection = self.connect(&destination).await?;
        if let Some(watch) = watch {
            watch.0.connected(connection.peer, connection.tls.as_ref());
        }
        match self
            .exchange_on(
                connection,
                &destination,
                false,
                request,
                body,
                (watch, omitted),
            )
            .await
        {
            Ok(result) => self.finish(destination, result),
            Err(Stale) => Err(NetError::BadResponse {
                host: destination.host,
                detail: "the server closed the connection without answering".into(),
            }),
        }
    }

    /// A fresh connection: straight to the server, to the proxy (plain http), or through a
    /// tunnel the proxy opens (https).
    async fn connect(&self, destination: &Destination) -> Result<Connection, NetError> {
        let config = ClientConfig {
            connect_timeout: self.options.connect_timeout,
            tls: destination.https.then(|| self.options.tls.clone()),
            ..ClientConfig::new(destination.host.clone(), destination.port)
        };
        let Some(proxy) = &destination.proxy else {
            return client::connect(&config).await;
        };
        let tls = client::prepare_tls(&config)?;
        let (mut stream, peer, timings) =
            client::open_tcp(&proxy.host, proxy.port, config.connect_timeout)
                .await
                .map_err(|error| proxy_error(proxy, error))?;
        if destination.https {
            let authority = match destination.host.contains(':') {
                true => format!("[{}]:{}", destination.host, destination.port),
                false => format!("{}:{}", destination.host, destination.port),
            };
            client::with_timeout(
                open_tunnel(&mut stream, proxy, &authority),
                config.connect_timeout,
                String::new,
            )
            .await
            .map_err(|_| proxy.failed(ProxyProblem::TimedOut(config.connect_timeout)))??;
        }
        client::finish_connecting(stream, peer, timings, tls, &config).await
    }

    fn finish(
        &self,
        destination: Destination,
        result: Result<Answer, NetError>,
    ) -> Result<(ExchangeInfo, Vec<u8>), NetError> {
        let answer = result?;
        if let Some(connection) = answer.reusable {
            self.put_back(destination, connection);
        }
        Ok((answer.info, answer.body))
    }

    async fn exchange_on(
        &self,
        mut connection: Connection,
        destination: &Destination,
        reused: bool,
        request: &http_client::Request,
        body: &RequestBody,
        (watch, omitted): (Option<&Watch>, Option<&Omitted>),
    ) -> Result<Result<Answer, NetError>, Stale> {
        let url = request.url();
        let host = destination.host.clone();
        let peer = connection.peer;
        let method = request.method().to_string();
        // Through a proxy, plain http names the whole URL (absolute form).
        let plain_proxy = destination.proxy.as_ref().filter(|_| !destination.https);
        let host_header = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
            None => url.host_str().unwrap_or("").to_string(),
        };
        let mut target = match plain_proxy {
            Some(_) => format!("{}://{host_header}{}", url.scheme(), url.path()),
            None => url.path().to_string(),
        };
        if let Some(query) = url.query() {
            target.push('?');
            target.push_str(query);
        }
        let mut headers: Vec<(String, String)> = request
            .iter()
            .flat_map(|(name, values)| {
                values
                    .iter()
                    .map(move |value| (canonical_case(name.as_str()), value.to_string()))
            })
            // surf labels every request, even one without a body, as octet-stream.
            .filter(|(name, value)| {
                !(body.is_empty() && name == "Content-Type" && value == "application/octet-stream")
            })
            .collect();
        if let Some(stored) = self.cookies.lock().ok().and_then(|jar| jar.header_for(url)) {
            match headers.iter_mut().find(|(name, _)| name == "Cookie") {
                Some((_, given)) => *given = format!("{given}; {stored}"),
                None => headers.push(("Cookie".into(), stored)),
            }
        }
        if self.options.compressed && !headers.iter().any(|(name, _)| name == "Accept-Encoding") {
            headers.push(("Accept-Encoding".into(), encoding::ACCEPTED.into()));
        }
        if let Some(authorization) = plain_proxy.and_then(|proxy| proxy.authorization.clone())
            && !headers
                .iter()
                .any(|(name, _)| name == "Proxy-Authorization")
        {
            headers.push(("Proxy-Authorization".into(), authorization));
        }
        let expects_body = matches!(method.as_str(), "POST" | "PUT" | "PATCH");
        let sizes = match part_sizes(body) {
            Ok(sizes) => sizes,
            Err(error) => return Ok(Err(error)),
        };
        let length: u64 = sizes.iter().sum();
        let body_len = (length > 0 || expects_body).then_some(length);
        let mut message = h1::encode_request_head(
            &method,
            &target,
            &host_header,
            &headers,
            omitted.map_or(&[][..], |omitted| &omitted.0),
            body_len,
        );
        if let Some(watch) = watch {
            watch.0.request_sent(&message);
        }
        // Bytes go out with the head in one write; files are read as they are sent.
        let in_memory = body.bytes();
        if let Some(bytes) = &in_memory {
            message.extend_from_slice(bytes);
        }

        let mut timings = if reused {
            Timings::default()
        } else {
            Timings {
                dns: connection.timings.dns,
                connect: connection.timings.connect,
                tls: connection.timings.tls,
                ..Timings::default()
            }
        };
        let failed = |error| Ok(Err(client::transfer_error(peer, error)));
        let sending = Instant::now();
        if let Err(error) = client::write_all_and_flush(&mut connection.stream, &message).await {
            return if reused { Err(Stale) } else { failed(error) };
        }
        if in_memory.is_none() {
            match send_parts(&mut connection, body, &sizes).await {
                Ok(()) => {}
                Err(Upload::Connection(error)) => return failed(error),
                Err(Upload::File(error)) => return Ok(Err(error)),
            }
        }
        timings.send = sending.elapsed();

        let waiting = Instant::now();
        let mut buffer = vec![0; READ_BUFFER];
        let mut received = Vec::new();
        let mut answered = false;
        let (head, head_len) = 'head: loop {
            // What is already here first: an interim answer (100 Continue, 103 Early Hints)
            // and the real one can arrive in one read.
            loop {
                match h1::parse_response_head(&received) {
                    Ok(Some((head, len)))
                        if (100..200).contains(&head.status) && head.status != 101 =>
                    {
                        received.drain(..len);
                    }
                    Ok(Some(found)) => break 'head found,
                    Ok(None) => break,
                    Err(error) => {
                        return Ok(Err(NetError::BadResponse {
                            host,
                            detail: error.to_string(),
                        }));
                    }
                }
            }
            let n = match connection.stream.read(&mut buffer).await {
                Ok(0) if !answered && reused => return Err(Stale),
                Ok(0) => {
                    return Ok(Err(NetError::BadResponse {
                        host,
                        detail: "the server closed the connection before a complete answer".into(),
                    }));
                }
                Ok(n) => n,
                Err(_) if !answered && reused => return Err(Stale),
                Err(error) => return failed(error),
            };
            if !answered {
                timings.wait = waiting.elapsed();
                answered = true;
            }
            received.extend_from_slice(&buffer[..n]);
        };
        if let Some(proxy) = plain_proxy
            && head.status == 407
        {
            return Ok(Err(proxy.failed(ProxyProblem::NeedsCredentials {
                given: proxy.authorization.is_some(),
            })));
        }
        if let Ok(mut jar) = self.cookies.lock() {
            for header in head
                .headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("set-cookie"))
            {
                jar.store(url, &header.value_text());
            }
        }
        let receiving = Instant::now();
        let framing = match h1::response_framing(&method, &head) {
            Ok(framing) => framing,
            Err(error) => {
                return Ok(Err(NetError::BadResponse {
                    host,
                    detail: error.to_string(),
                }));
            }
        };
        let has_location = h1::header(&head.headers, "location").is_some();
        let last = !follows(self.options.max_redirects, head.status, has_location);
        if let Some(watch) = watch
            && let Err(error) = watch.0.answer_head(&head, last)
        {
            return Ok(Err(error));
        }
        let decoder = h1::header(&head.headers, "content-encoding")
            .filter(|_| self.options.compressed)
            .and_then(|value| Decoder::for_encoding(&value.value_text()));
        let mut sink = BodySink {
            kept: Vec::new(),
            total: 0,
            encoded: 0,
            decoder,
            max: self.options.max_body,
            watch: watch.filter(|_| last),
        };
        let leftover = received.split_off(head_len);
        let read = read_body(&mut connection, framing, &leftover, &mut buffer, &mut sink).await;
        let in_step = match read.and_then(|in_step| sink.finish().map(|()| in_step)) {
            Ok(in_step) => in_step,
            Err(BodyError::Io(error)) => return failed(error),
            Err(BodyError::Partial(detail)) => {
                return Ok(Err(NetError::PartialBody { host, detail }));
            }
            Err(BodyError::Watcher(error)) => return Ok(Err(error)),
            Err(BodyError::Corrupt(detail)) => {
                return Ok(Err(NetError::BadResponse { host, detail }));
            }
        };
        timings.receive = receiving.elapsed();
        // After 101 the connection speaks another protocol.
        let keeps_alive =
            in_step && head.status != 101 && h1::keeps_alive(head.minor_version, &head.headers);
        let encoded_bytes = sink.decoder.is_some().then_some(sink.encoded);
        let BodySink { kept, total, .. } = sink;
        Ok(Ok(Answer {
            info: ExchangeInfo {
                head,
                timings,
                body_bytes: total,
                encoded_bytes,
                truncated: total > kept.len() as u64,
                peer,
                reused,
            },
            body: kept,
            reusable: keeps_alive.then_some(connection),
        }))
    }
}

/// The size of each part of a body; a file's is asked for now, as it is about to be sent.
fn part_sizes(body: &RequestBody) -> Result<Vec<u64>, NetError> {
    body.0
        .iter()
        .map(|part| match part {
            BodyPart::Bytes(bytes) => Ok(bytes.len() as u64),
            BodyPart::File(path) => std::fs::metadata(path)
                .map(|metadata| metadata.len())
                .map_err(|error| unreadable(path, error)),
        })
        .collect()
}

fn unreadable(path: &std::path::Path, error: std::io::Error) -> NetError {
    NetError::Io {
        action: format!("cannot read {} to send it", path.display()),
        source: error,
    }
}

/// Why sending a body's parts stopped.
enum Upload {
    Connection(std::io::Error),
    File(NetError),
}

/// Writes each part in turn, files in blocks as they are read (off the executor thread), each
/// exactly the size announced.
async fn send_parts(
    connection: &mut Connection,
    body: &RequestBody,
    sizes: &[u64],
) -> Result<(), Upload> {
    for (part, &size) in body.0.iter().zip(sizes) {
        match part {
            BodyPart::Bytes(bytes) => connection
                .stream
                .write_all(bytes)
                .await
                .map_err(Upload::Connection)?,
            BodyPart::File(path) => {
                let file =
                    std::fs::File::open(path).map_err(|e| Upload::File(unreadable(path, e)))?;
                let mut file = blocking::Unblock::new(file).take(size);
                let mut block = vec![0; READ_BUFFER];
                let mut sent = 0;
                while sent < size {
                    let n = file
                        .read(&mut block)
                        .await
                        .map_err(|e| Upload::File(unreadable(path, e)))?;
                    if n == 0 {
                        return Err(Upload::File(NetError::Io {
                            action: format!("cannot send {}", path.display()),
                            source: std::io::Error::other(
                                "the file became shorter while it was sent",
                            ),
                        }));
                    }
                    connection
                        .stream
                        .write_all(&block[..n])
                        .await
                        .map_err(Upload::Connection)?;
                    sent += n as u64;
                }
            }
        }
    }
    connection.stream.flush().await.map_err(Upload::Connection)
}

/// A connecting failure, told as the proxy's.
fn proxy_error(proxy: &Proxy, error: NetError) -> NetError {
    let problem = match error {
        NetError::ResolveFailed { detail, .. } => ProxyProblem::Unresolved(detail),
        NetError::Refused { .. } => ProxyProblem::Refused,
        NetError::Unreachable { detail, .. } => ProxyProblem::Unreachable(detail),
        NetError::Timeout { after, .. } => ProxyProblem::TimedOut(after),
        other => ProxyProblem::Broken(other.to_string()),
    };
    proxy.failed(problem)
}

/// Asks the proxy for a tunnel to `authority` (`CONNECT host:port`) and reads its answer.
async fn open_tunnel(
    stream: &mut async_net::TcpStream,
    proxy: &Proxy,
    authority: &str,
) -> Result<(), NetError> {
    let mut head = format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: netdeck/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(authorization) = &proxy.authorization {
        head.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
    }
    head.push_str("\r\n");
    let broken = |detail: String| proxy.failed(ProxyProblem::Broken(detail));
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|error| broken(format!("closed the connection: {error}")))?;
    // Byte by byte: nothing after the proxy's answer may be taken from the tunnel.
    let mut answer = Vec::new();
    let mut byte = [0u8];
    while !answer.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => answer.push(byte[0]),
            Ok(_) => {
                return Err(broken(
                    "closed the connection instead of opening a tunnel".into(),
                ));
            }
            Err(error) => return Err(broken(format!("closed the connection: {error}"))),
        }
        if answer.len() > h1::MAX_HEAD {
            return Err(broken("answered CONNECT with an endless head".into()));
        }
    }
    let head = match h1::parse_response_head(&answer) {
        Ok(Some((head, _))) => head,
        _ => return Err(broken("did not answer CONNECT in HTTP".into())),
    };
    match head.status {
        200..=299 => Ok(()),
        407 => Err(proxy.failed(ProxyProblem::NeedsCredentials {
            given: proxy.authorization.is_some(),
        })),
        status => Err(proxy.failed(ProxyProblem::Status {
            status,
            reason: head.reason,
        })),
    }
}

/// `content-type` as `Content-Type`: surf lower-cases names, and some devices only
/// understand the usual spelling.
fn canonical_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A kept-alive connection that turned out closed before any answer.
struct Stale;

struct Answer {
    info: ExchangeInfo,
    body: Vec<u8>,
    reusable: Option<Connection>,
}

/// Where body bytes go: decoded if they came compressed, then up to `max` kept, all of them
/// counted and given to the watcher.
struct BodySink<'a> {
    kept: Vec<u8>,
    /// Body bytes, decoded.
    total: u64,
    /// Body bytes as they came, before decoding.
    encoded: u64,
    decoder: Option<Decoder>,
    max: usize,
    watch: Option<&'a Watch>,
}

impl BodySink<'_> {
    fn take(&mut self, bytes: &[u8]) -> Result<(), BodyError> {
        self.encoded += bytes.len() as u64;
        match &mut self.decoder {
            Some(decoder) => {
                let decoded = decoder.feed(bytes).map_err(BodyError::Corrupt)?;
                self.deliver(&decoded)
            }
            None => self.deliver(bytes),
        }
    }

    /// The end of the body: what the decoder still held.
    fn finish(&mut self) -> Result<(), BodyError> {
        match &mut self.decoder {
            Some(decoder) => {
                let rest = decoder.finish().map_err(BodyError::Corrupt)?;
                self.deliver(&rest)
            }
            None => Ok(()),
        }
    }

    fn deliver(&mut self, bytes: &[u8]) -> Result<(), BodyError> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.total += bytes.len() as u64;
        let room = self.max.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        match self.watch {
            Some(watch) => watch.0.body(bytes, self.total).map_err(BodyError::Watcher),
            None => Ok(()),
        }
    }
}

enum BodyError {
    Io(std::io::Error),
    Partial(String),
    /// The watcher stopped the exchange (it could not write the body, say).
    Watcher(NetError),
    /// A compressed body that does not decode.
    Corrupt(String),
}

/// Reads the body as framed. `Ok(true)` when nothing followed it, so the connection is in
/// step for another request; bytes after the body (a server that lies about the length)
/// mean it is not.
async fn read_body(
    connection: &mut Connection,
    framing: Framing,
    leftover: &[u8],
    buffer: &mut [u8],
    sink: &mut BodySink<'_>,
) -> Result<bool, BodyError> {
    match framing {
        Framing::Empty => Ok(leftover.is_empty()),
        Framing::Length(length) => {
            let mut in_step = leftover.len() as u64 <= length;
            let first = &leftover[..leftover.len().min(length.min(usize::MAX as u64) as usize)];
            sink.take(first)?;
            while sink.encoded < length {
                let received = sink.encoded;
                let n = read_more(connection, buffer, || {
                    format!("the body ended after {received} of {length} bytes")
                })
                .await?;
                let want = (length - sink.encoded).min(n as u64) as usize;
                in_step &= want == n;
                sink.take(&buffer[..want])?;
            }
            Ok(in_step)
        }
        Framing::Chunked => {
            let mut decoder = ChunkedDecoder::default();
            let mut feed = |decoder: &mut ChunkedDecoder, bytes: &[u8]| {
                let mut stopped = None;
                let used = decoder
                    .feed(bytes, &mut |data| {
                        if stopped.is_none()
                            && let Err(error) = sink.take(data)
                        {
                            stopped = Some(error);
                        }
                    })
                    .map_err(|error| BodyError::Partial(error.to_string()))?;
                match stopped {
                    Some(error) => Err(error),
                    None => Ok(used == bytes.len()),
                }
            };
            let mut in_step = feed(&mut decoder, leftover)?;
            while !decoder.is_done() {
                let n = read_more(connection, buffer, || {
                    "the connection closed in the middle of a chunked body".into()
                })
                .await?;
                in_step = feed(&mut decoder, &buffer[..n])?;
            }
            Ok(in_step)
        }
        Framing::UntilClose => {
            sink.take(leftover)?;
            loop {
                match connection.stream.read(buffer).await {
                    Ok(0) => return Ok(false),
                    Ok(n) => sink.take(&buffer[..n])?,
                    // Servers that end a close-delimited body often do it abruptly.
                    Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
                        return Ok(false);
                    }
                    Err(error) => return Err(BodyError::Io(error)),
                }
            }
        }
    }
}

/// Reads more of a delimited body; the connection closing here cuts the body short.
async fn read_more(
    connection: &mut Connection,
    buffer: &mut [u8],
    cut_short: impl FnOnce() -> String,
) -> Result<usize, BodyError> {
    match connection
        .stream
        .read(buffer)
        .await
        .map_err(BodyError::Io)?
    {
        0 => Err(BodyError::Partial(cut_short())),
        n => Ok(n),
    }
}
