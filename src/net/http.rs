//! HTTP requests: surf is the request API, on a backend of our own (async-net, futures-rustls,
//! the framing in `h1`). The backend gives what surf's bundled ones do not: one deadline over
//! the whole exchange, a cap on the body kept, timing phases, and HTTP/1.0 responses.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::AsyncReadExt;
use http_client::{Config, HttpClient};
use surf::http::Method;
use surf::middleware::{Middleware, Next};
use surf::{StatusCode, Url};

use super::client::{self, ClientConfig, Connection, DEFAULT_CONNECT_TIMEOUT};
use super::error::NetError;
use super::h1::{self, ChunkedDecoder, Framing};
use super::tls::TlsOptions;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;
pub const DEFAULT_MAX_REDIRECTS: usize = 10;
pub const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

const READ_BUFFER: usize = 64 * 1024;
/// Idle kept-alive connections kept per scheme, host and port.
const IDLE_PER_HOST: usize = 4;

#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Over the whole exchange: connecting, redirects, and the body.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Body bytes kept; the rest is counted, not kept.
    pub max_body: usize,
    /// Redirects followed; 0 returns the redirect itself.
    pub max_redirects: usize,
    /// Follow a redirect from https to plain http (off: it would expose the request).
    pub allow_insecure_redirects: bool,
    pub tls: TlsOptions,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            allow_insecure_redirects: false,
            tls: TlsOptions::default(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: String,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// How long each phase of the last exchange took. A reused connection has no DNS, connect
/// or TLS time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    pub dns: Duration,
    pub connect: Duration,
    pub tls: Option<Duration>,
    /// Writing the request.
    pub send: Duration,
    /// From the request sent to the first byte of the answer.
    pub wait: Duration,
    /// Reading the rest of the answer.
    pub receive: Duration,
    /// Everything, redirects included.
    pub total: Duration,
}

#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub reason: String,
    /// "HTTP/1.0" or "HTTP/1.1".
    pub version: String,
    pub headers: Vec<(String, String)>,
    /// At most `max_body` bytes.
    pub body: Vec<u8>,
    /// Every body byte received, kept or not.
    pub body_bytes: u64,
    pub truncated: bool,
    pub timings: Timings,
    /// The URL that answered, after redirects.
    pub url: Url,
    pub redirects: Vec<Url>,
    pub peer: SocketAddr,
    pub reused_connection: bool,
}

/// Told the number of body bytes received so far, as they arrive.
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(u64) + Send + Sync>);

/// What the backend learned about one exchange, carried on the response.
#[derive(Clone, Debug)]
struct ExchangeInfo {
    /// As the server wrote them (surf's own copy is lower-cased).
    headers: Vec<(String, String)>,
    timings: Timings,
    body_bytes: u64,
    truncated: bool,
    peer: SocketAddr,
    reused: bool,
}

/// The URLs redirected to, carried on the final response.
#[derive(Clone, Debug, Default)]
struct RedirectChain(Vec<Url>);

/// A surf client on netdeck's backend; keeps connections alive between requests.
pub struct HttpSession {
    client: surf::Client,
    options: HttpOptions,
}

impl HttpSession {
    pub fn new(options: HttpOptions) -> Self {
        let backend = Backend {
            options: options.clone(),
            pool: Mutex::default(),
            config: Config::new(),
        };
        let client = surf::Client::with_http_client(backend).with(FollowRedirects {
            max: options.max_redirects,
            allow_insecure: options.allow_insecure_redirects,
        });
        HttpSession { client, options }
    }

    /// Sends the request and reads the answer, all within the deadline.
    pub async fn send(
        &self,
        request: &HttpRequest,
        progress: Option<Progress>,
    ) -> Result<HttpResponse, NetError> {
        let started = Instant::now();
        let method: surf::http::Method = request.method.parse().map_err(|_| {
            NetError::invalid(
                "method",
                format!("`{}` is not an HTTP method", request.method),
            )
        })?;
        let mut surf_request = surf::Request::new(method, request.url.clone());
        for (name, value) in &request.headers {
            surf_request.append_header(name.as_str(), value.as_str());
        }
        if !request.body.is_empty() {
            surf_request.set_body(request.body.clone());
        }
        if let Some(progress) = progress {
            surf_request.set_ext(progress);
        }
        let what = || format!("{} {}", request.method, request.url);
        let mut response =
            client::with_timeout(self.client.send(surf_request), self.options.timeout, what)
                .await?
                .map_err(from_surf)?;
        let body = response.body_bytes().await.map_err(from_surf)?;
        let info = response
            .ext::<ExchangeInfo>()
            .cloned()
            .expect("the backend describes every response");
        let redirects = response
            .ext::<RedirectChain>()
            .cloned()
            .unwrap_or_default()
            .0;
        let http: &surf::http::Response = response.as_ref();
        Ok(HttpResponse {
            status: response.status() as u16,
            reason: http.status().canonical_reason().to_string(),
            version: match http.version() {
                Some(surf::http::Version::Http1_0) => "HTTP/1.0".into(),
                _ => "HTTP/1.1".into(),
            },
            headers: info.headers,
            body,
            body_bytes: info.body_bytes,
            truncated: info.truncated,
            timings: Timings {
                total: started.elapsed(),
                ..info.timings
            },
            url: redirects
                .last()
                .cloned()
                .unwrap_or_else(|| request.url.clone()),
            redirects,
            peer: info.peer,
            reused_connection: info.reused,
        })
    }
}

/// Our errors travel through surf inside its error type; take them out again.
fn from_surf(error: surf::Error) -> NetError {
    match error.into_inner().downcast::<NetError>() {
        Ok(error) => error,
        Err(other) => NetError::BadResponse {
            host: String::new(),
            detail: other.to_string(),
        },
    }
}

fn to_surf(error: NetError) -> surf::Error {
    surf::Error::new(StatusCode::BadGateway, error)
}

/// Follows redirects: relative `Location`s resolved, 303 (and 301/302 after a POST) turned
/// into GET, 307/308 resent as they were; a loop or too many redirects is an error.
#[derive(Debug)]
struct FollowRedirects {
    max: usize,
    allow_insecure: bool,
}

#[async_trait::async_trait]
impl Middleware for FollowRedirects {
    async fn handle(
        &self,
        mut request: surf::Request,
        client: surf::Client,
        next: Next<'_>,
    ) -> surf::Result<surf::Response> {
        let mut body = request.take_body().into_bytes().await?;
        let mut visited = vec![(request.method(), request.url().clone())];
        loop {
            // Cloning a request drops its extensions; progress must reach the backend.
            let mut attempt = request.clone();
            if let Some(progress) = request.ext::<Progress>().cloned() {
                attempt.set_ext(progress);
            }
            if !body.is_empty() {
                attempt.set_body(body.clone());
            }
            let mut response = next.run(attempt, client.clone()).await?;
            let location = response
                .header("location")
                .map(|values| values.last().as_str().to_string());
            let status = response.status() as u16;
            let Some(location) = location.filter(|_| self.max > 0 && is_redirect(status)) else {
                let chain = visited[1..].iter().map(|(_, url)| url.clone()).collect();
                let http: &mut surf::http::Response = response.as_mut();
                http.ext_mut().insert(RedirectChain(chain));
                return Ok(response);
            };
            let from = request.url().clone();
            let bad_location = |detail: String| {
                to_surf(NetError::BadResponse {
                    host: from.host_str().unwrap_or("").to_string(),
                    detail,
                })
            };
            let target = from.join(&location).map_err(|error| {
                bad_location(format!(
                    "redirect to an invalid Location `{location}`: {error}"
                ))
            })?;
            if !matches!(target.scheme(), "http" | "https") {
                return Err(bad_location(format!(
                    "redirect to `{target}`: only http and https are followed"
                )));
            }
            if from.scheme() == "https" && target.scheme() == "http" && !self.allow_insecure {
                return Err(to_surf(NetError::InsecureRedirect {
                    from: from.to_string(),
                    to: target.to_string(),
                }));
            }
            let becomes_get = request.method() != Method::Head
                && (status == 303
                    || (matches!(status, 301 | 302) && request.method() == Method::Post));
            let method = if becomes_get {
                Method::Get
            } else {
                request.method()
            };
            // Post/Redirect/Get may come back to the same URL with another method.
            if visited.contains(&(method, target.clone())) {
                return Err(to_surf(NetError::RedirectLoop {
                    url: target.to_string(),
                }));
            }
            if visited.len() > self.max {
                return Err(to_surf(NetError::TooManyRedirects { limit: self.max }));
            }
            // Credentials are for the origin they were given to, as curl does.
            let same_origin = target.origin() == from.origin();
            let mut following = surf::Request::new(method, target.clone());
            for (name, values) in request.iter() {
                let dropped = match name.as_str() {
                    "content-type" | "content-length" => becomes_get,
                    "authorization" | "proxy-authorization" | "cookie" | "host" => !same_origin,
                    _ => false,
                };
                if !dropped {
                    following.append_header(name, values);
                }
            }
            if let Some(progress) = request.ext::<Progress>().cloned() {
                following.set_ext(progress);
            }
            if becomes_get {
                body.clear();
            }
            request = following;
            visited.push((method, target));
        }
    }
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

type PoolKey = (bool, String, u16);

/// The `http_client::HttpClient` surf sends through.
#[derive(Debug)]
struct Backend {
    options: HttpOptions,
    /// Idle keep-alive connections by scheme, host and port.
    pool: Mutex<HashMap<PoolKey, Vec<PooledConnection>>>,
    config: Config,
}

struct PooledConnection(Connection);

impl std::fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connection to {}", self.0.peer)
    }
}

#[async_trait::async_trait]
impl HttpClient for Backend {
    async fn send(
        &self,
        mut request: http_client::Request,
    ) -> Result<http_client::Response, http_client::Error> {
        let body = request.take_body().into_bytes().await?;
        let progress = request.ext().get::<Progress>().cloned();
        let (head, kept, info) = self
            .exchange(&request, &body, progress.as_ref())
            .await
            .map_err(to_surf)?;
        let mut response = http_client::Response::new(head.status);
        response.set_version(Some(if head.minor_version == 0 {
            surf::http::Version::Http1_0
        } else {
            surf::http::Version::Http1_1
        }));
        // http-types only holds ASCII values (it panics on others); the display copy in
        // `ExchangeInfo` keeps every header as sent.
        for header in &head.headers {
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

impl Backend {
    fn take_pooled(&self, key: &PoolKey) -> Option<Connection> {
        self.pool
            .lock()
            .ok()?
            .get_mut(key)
            .and_then(|idle| idle.pop())
            .map(|pooled| pooled.0)
    }

    fn put_back(&self, key: PoolKey, connection: Connection) {
        if let Ok(mut pool) = self.pool.lock() {
            let idle = pool.entry(key).or_default();
            if idle.len() < IDLE_PER_HOST {
                idle.push(PooledConnection(connection));
            }
        }
    }

    /// One request and its answer. A kept-alive connection the server has closed meanwhile
    /// is replaced by a fresh one once.
    async fn exchange(
        &self,
        request: &http_client::Request,
        body: &[u8],
        progress: Option<&Progress>,
    ) -> Result<(h1::ResponseHead, Vec<u8>, ExchangeInfo), NetError> {
        let url = request.url();
        let https = url.scheme() == "https";
        let host = url.host_str().unwrap_or("").to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let key = (https, host.clone(), port);
        if let Some(connection) = self.take_pooled(&key) {
            match self
                .exchange_on(connection, true, request, body, progress)
                .await
            {
                Err(Stale) => {}
                Ok(result) => return self.finish(key, result),
            }
        }
        let config = ClientConfig {
            connect_timeout: self.options.connect_timeout,
            tls: https.then(|| self.options.tls.clone()),
            ..ClientConfig::new(host.clone(), port)
        };
        let connection = client::connect(&config).await?;
        match self
            .exchange_on(connection, false, request, body, progress)
            .await
        {
            Ok(result) => self.finish(key, result),
            Err(Stale) => Err(NetError::BadResponse {
                host,
                detail: "the server closed the connection without answering".into(),
            }),
        }
    }

    fn finish(
        &self,
        key: PoolKey,
        result: Result<Answer, NetError>,
    ) -> Result<(h1::ResponseHead, Vec<u8>, ExchangeInfo), NetError> {
        let answer = result?;
        if let Some(connection) = answer.reusable {
            self.put_back(key, connection);
        }
        Ok((answer.head, answer.body, answer.info))
    }

    async fn exchange_on(
        &self,
        mut connection: Connection,
        reused: bool,
        request: &http_client::Request,
        body: &[u8],
        progress: Option<&Progress>,
    ) -> Result<Result<Answer, NetError>, Stale> {
        let url = request.url();
        let host = url.host_str().unwrap_or("").to_string();
        let peer = connection.peer;
        let method = request.method().to_string();
        let mut target = url.path().to_string();
        if let Some(query) = url.query() {
            target.push('?');
            target.push_str(query);
        }
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        let headers: Vec<(String, String)> = request
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
        let expects_body = matches!(method.as_str(), "POST" | "PUT" | "PATCH");
        let body_len = (!body.is_empty() || expects_body).then_some(body.len() as u64);
        let mut message =
            h1::encode_request_head(&method, &target, &host_header, &headers, body_len);
        message.extend_from_slice(body);

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
        let mut body = BodySink {
            kept: Vec::new(),
            total: 0,
            max: self.options.max_body,
            progress,
        };
        let leftover = received.split_off(head_len);
        let in_step =
            match read_body(&mut connection, framing, &leftover, &mut buffer, &mut body).await {
                Ok(in_step) => in_step,
                Err(BodyError::Io(error)) => return failed(error),
                Err(BodyError::Partial(detail)) => {
                    return Ok(Err(NetError::PartialBody { host, detail }));
                }
            };
        timings.receive = receiving.elapsed();
        // After 101 the connection speaks another protocol.
        let keeps_alive =
            in_step && head.status != 101 && h1::keeps_alive(head.minor_version, &head.headers);
        let BodySink { kept, total, .. } = body;
        Ok(Ok(Answer {
            info: ExchangeInfo {
                headers: head
                    .headers
                    .iter()
                    .map(|h| (h.name.clone(), h.value_text()))
                    .collect(),
                timings,
                body_bytes: total,
                truncated: total > kept.len() as u64,
                peer,
                reused,
            },
            head,
            body: kept,
            reusable: keeps_alive.then_some(connection),
        }))
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
    head: h1::ResponseHead,
    body: Vec<u8>,
    info: ExchangeInfo,
    reusable: Option<Connection>,
}

struct BodySink<'a> {
    kept: Vec<u8>,
    total: u64,
    max: usize,
    progress: Option<&'a Progress>,
}

impl BodySink<'_> {
    fn take(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = self.max.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if let Some(progress) = self.progress {
            (progress.0)(self.total);
        }
    }
}

enum BodyError {
    Io(std::io::Error),
    Partial(String),
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
            sink.take(first);
            while sink.total < length {
                let total = sink.total;
                let n = read_more(connection, buffer, || {
                    format!("the body ended after {total} of {length} bytes")
                })
                .await?;
                let want = (length - sink.total).min(n as u64) as usize;
                in_step &= want == n;
                sink.take(&buffer[..want]);
            }
            Ok(in_step)
        }
        Framing::Chunked => {
            let mut decoder = ChunkedDecoder::default();
            let mut feed = |decoder: &mut ChunkedDecoder, bytes: &[u8]| {
                decoder
                    .feed(bytes, &mut |data| sink.take(data))
                    .map(|used| used == bytes.len())
                    .map_err(|error| BodyError::Partial(error.to_string()))
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
            sink.take(leftover);
            loop {
                match connection.stream.read(buffer).await {
                    Ok(0) => return Ok(false),
                    Ok(n) => sink.take(&buffer[..n]),
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

/// A URL to request: http or https, with a host.
pub fn parse_url(text: &str) -> Result<Url, NetError> {
    let text = text.trim();
    let bad = |problem: String| NetError::BadUrl {
        url: text.to_string(),
        problem,
    };
    if text.is_empty() {
        return Err(NetError::BadUrl {
            url: "\"\"".into(),
            problem: "a URL is needed, like http://127.0.0.1:8080/".into(),
        });
    }
    if !text.contains("://") {
        return Err(bad(format!("no scheme; did you mean http://{text} ?")));
    }
    let url = Url::parse(text).map_err(|error| bad(format!("not a valid URL ({error})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!(
            "the scheme `{}` is not supported; use http:// or https://",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    Ok(url)
}

/// An HTTP method, upper-cased: one of [`METHODS`].
pub fn parse_method(text: &str) -> Result<String, NetError> {
    let method = text.trim().to_ascii_uppercase();
    if METHODS.contains(&method.as_str()) {
        Ok(method)
    } else {
        Err(NetError::invalid(
            "method",
            format!("`{}` is not one of {}", text.trim(), METHODS.join(", ")),
        ))
    }
}

/// A header as `Name: value`.
pub fn parse_header(text: &str) -> Result<(String, String), NetError> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(NetError::invalid(
            "header",
            format!("`{text}` has no colon; write it as Name: value"),
        ));
    };
    let name = name.trim_matches([' ', '\t']);
    if name.is_empty() {
        return Err(NetError::invalid(
            "header",
            format!("`{text}` has no name before the colon"),
        ));
    }
    let is_token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(is_token) {
        return Err(NetError::invalid(
            "header",
            format!("`{name}` is not a header name (letters, digits and - only)"),
        ));
    }
    let value = value.trim();
    if !value.is_ascii() {
        return Err(NetError::invalid(
            "header",
            format!(
                "the value of {name} has characters outside ASCII, which HTTP headers cannot carry"
            ),
        ));
    }
    if value.chars().any(|c| c == '\r' || c == '\n') {
        return Err(NetError::invalid(
            "header",
            format!("the value of {name} contains a line break"),
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

/// Checks a JSON body before it is sent; the error says where it goes wrong.
pub fn check_json(text: &str) -> Result<(), NetError> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|_| ())
        .map_err(|error| {
            NetError::invalid(
                "json",
                format!(
                    "invalid JSON at line {} column {}: {}",
                    error.line(),
                    error.column(),
                    json_problem(&error)
                ),
            )
        })
}

fn json_problem(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
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
