//! HTTP requests: surf is the request API, on a backend of our own (async-net, futures-rustls,
//! the framing in `h1`). The backend gives what surf's bundled ones do not: one deadline over
//! the whole exchange, bodies streamed to the caller as they arrive, timing phases, forward
//! proxies, and HTTP/1.0 responses.

mod backend;
pub mod cookies;
mod encoding;
mod pool;
pub mod proxy;
mod redirect;
mod transfer;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smol::Executor;
use surf::Url;

use self::backend::{Backend, ExchangeInfo};
use self::cookies::CookieJar;
pub use self::pool::{KEEP_IDLE, MAX_IDLE};
use self::proxy::{ProxyRoutes, ProxySettings};
use self::redirect::{FollowRedirects, RedirectChain};
use super::client::{self, DEFAULT_CONNECT_TIMEOUT, TlsInfo};
use super::error::NetError;
use super::h1::ResponseHead;
use super::tls::TlsOptions;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// What the window keeps of a body to show; the command line keeps none and writes it all.
pub const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;
pub const DEFAULT_MAX_REDIRECTS: usize = 10;
pub const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Over the whole exchange: connecting, redirects, and the body. `Duration::MAX` for none.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Body bytes kept in the response; the rest still reaches the watcher and is counted.
    pub max_body: usize,
    /// Redirects followed; 0 returns the redirect itself.
    pub max_redirects: usize,
    /// Follow a redirect from https to plain http (off: it would expose the request).
    pub allow_insecure_redirects: bool,
    pub tls: TlsOptions,
    pub proxy: ProxySettings,
    /// Ask for a compressed body (gzip, deflate, br) and decode it.
    pub compressed: bool,
    /// How long a kept-alive connection may stay idle before it is closed.
    pub keep_idle: Duration,
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
            proxy: ProxySettings::default(),
            compressed: false,
            keep_idle: KEEP_IDLE,
        }
    }
}

#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: String,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    /// Headers netdeck adds by itself (`Host`, `User-Agent`, `Accept`) not to send, as
    /// curl's `-H 'Name:'`.
    pub omitted: Vec<String>,
    pub body: RequestBody,
}

/// A request body: bytes, and files read as they are sent, in turn (a multipart form with
/// an upload is both), so a body of any size takes no memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestBody(pub Vec<BodyPart>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyPart {
    Bytes(Vec<u8>),
    File(std::path::PathBuf),
}

impl From<Vec<u8>> for RequestBody {
    fn from(bytes: Vec<u8>) -> Self {
        if bytes.is_empty() {
            RequestBody::default()
        } else {
            RequestBody(vec![BodyPart::Bytes(bytes)])
        }
    }
}

impl RequestBody {
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|part| match part {
            BodyPart::Bytes(bytes) => bytes.is_empty(),
            // Its size is known only when it is sent.
            BodyPart::File(_) => false,
        })
    }

    /// The bytes, when the body holds no file.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        let mut all = Vec::new();
        for part in &self.0 {
            match part {
                BodyPart::Bytes(bytes) => all.extend_from_slice(bytes),
                BodyPart::File(_) => return None,
            }
        }
        Some(all)
    }
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
    /// As the server sent them: any code from 100 to 999, and its own reason phrase.
    pub status: u16,
    pub reason: String,
    /// "HTTP/1.0" or "HTTP/1.1".
    pub version: String,
    pub headers: Vec<(String, String)>,
    /// At most `max_body` bytes.
    pub body: Vec<u8>,
    /// Every body byte received (decoded), kept or not.
    pub body_bytes: u64,
    /// The body's size as it came, when it came compressed and was decoded.
    pub encoded_bytes: Option<u64>,
    pub truncated: bool,
    pub timings: Timings,
    /// The URL that answered, after redirects.
    pub url: Url,
    pub redirects: Vec<Url>,
    pub peer: SocketAddr,
    pub reused_connection: bool,
}

/// What an HTTP exchange running in the background reports.
#[derive(Debug)]
pub enum HttpEvent {
    /// Body bytes received so far.
    Progress(u64),
    Done(Box<Result<HttpResponse, NetError>>),
    /// Stopped before its answer was complete.
    Cancelled,
}

/// For a consumer of one exchange's events, which needs no stamp.
impl From<(super::SessionId, HttpEvent)> for HttpEvent {
    fn from((_, event): (super::SessionId, HttpEvent)) -> Self {
        event
    }
}

/// Follows an exchange as it happens: every request head sent, every answer's head, and the
/// last answer's body as it arrives. The command line prints and writes through it; the
/// window counts progress.
pub trait Watcher: Send + Sync {
    /// A new connection is open (to the server, or to the proxy for plain http).
    fn connected(&self, _peer: SocketAddr, _tls: Option<&TlsInfo>) {}
    /// A request head, as written.
    fn request_sent(&self, _head: &[u8]) {}
    /// An answer's head; `last` is false for a redirect that will be followed. An error
    /// stops the exchange.
    fn answer_head(&self, _head: &ResponseHead, _last: bool) -> Result<(), NetError> {
        Ok(())
    }
    /// The next bytes of the last answer's body; `total` counts all of them so far. An
    /// error stops the exchange.
    fn body(&self, _bytes: &[u8], _total: u64) -> Result<(), NetError> {
        Ok(())
    }
}

/// A watcher as it travels with a request through surf.
#[derive(Clone)]
struct Watch(Arc<dyn Watcher>);

/// `HttpRequest::omitted`, as it travels with a request through surf.
#[derive(Clone)]
struct Omitted(Vec<String>);

/// `HttpRequest::body`, as it travels with a request through surf: beside surf's own body,
/// which would hold it all in memory.
#[derive(Clone)]
struct Upload(RequestBody);

/// A surf client on netdeck's backend; keeps connections alive between requests.
pub struct HttpAgent {
    client: surf::Client,
    options: HttpOptions,
    cookies: Arc<Mutex<CookieJar>>,
}

impl HttpAgent {
    /// For a short-lived process: an idle connection is checked for its age only when it
    /// would be used again, and one its server closed is found closed then (and replaced).
    /// Fails only on proxy settings that cannot be used.
    pub fn new(options: HttpOptions) -> Result<Self, NetError> {
        Self::build(options, Arc::default(), None)
    }

    /// For a long-lived process: every idle connection is watched on `executor` and closed
    /// as soon as its server closes it or it has been idle for `keep_idle`. Cookies are kept
    /// in `cookies`, which may outlive the agent (the window keeps its cookies when a setting
    /// makes it start a new agent).
    pub fn with_cookies(
        options: HttpOptions,
        cookies: Arc<Mutex<CookieJar>>,
        executor: &Arc<Executor<'static>>,
    ) -> Result<Self, NetError> {
        Self::build(options, cookies, Some(executor.clone()))
    }

    fn build(
        options: HttpOptions,
        cookies: Arc<Mutex<CookieJar>>,
        watchers: Option<Arc<Executor<'static>>>,
    ) -> Result<Self, NetError> {
        let backend = Backend::new(
            options.clone(),
            ProxyRoutes::new(&options.proxy)?,
            cookies.clone(),
            watchers,
        );
        let client = surf::Client::with_http_client(backend).with(FollowRedirects {
            max: options.max_redirects,
            allow_insecure: options.allow_insecure_redirects,
        });
        Ok(HttpAgent {
            client,
            options,
            cookies,
        })
    }

    /// The cookies this session keeps: set by answers, sent with later requests and hops.
    pub fn cookies(&self) -> &Arc<Mutex<CookieJar>> {
        &self.cookies
    }

    /// Sends the request and reads the answer, all within the deadline.
    pub async fn send(
        &self,
        request: &HttpRequest,
        watcher: Option<Arc<dyn Watcher>>,
    ) -> Result<HttpResponse, NetError> {
        let started = Instant::now();
        let method: surf::http::Method = request.method.parse().map_err(|_| {
            NetError::invalid(
                "method",
                format!("`{}` is not an HTTP method", request.method),
            )
        })?;
        let (url, credentials) = without_credentials(&request.url);
        let mut surf_request = surf::Request::new(method, url.clone());
        for (name, value) in &request.headers {
            surf_request.append_header(name.as_str(), value.as_str());
        }
        // `user:pass@` in the URL, as curl: Basic, unless an Authorization header is given.
        if let Some(credentials) = credentials
            && surf_request.header("authorization").is_none()
        {
            surf_request.insert_header("authorization", credentials);
        }
        surf_request.set_ext(Upload(request.body.clone()));
        if let Some(watcher) = watcher {
            surf_request.set_ext(Watch(watcher));
        }
        surf_request.set_ext(Omitted(request.omitted.clone()));
        let what = || format!("{} {}", request.method, url);
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
        Ok(HttpResponse {
            status: info.head.status,
            reason: info.head.reason.clone(),
            version: format!("HTTP/1.{}", info.head.minor_version),
            headers: info
                .head
                .headers
                .iter()
                .map(|h| (h.name.clone(), h.value_text()))
                .collect(),
            body,
            body_bytes: info.body_bytes,
            encoded_bytes: info.encoded_bytes,
            truncated: info.truncated,
            timings: Timings {
                total: started.elapsed(),
                ..info.timings
            },
            url: redirects.last().cloned().unwrap_or(url),
            redirects,
            peer: info.peer,
            reused_connection: info.reused,
        })
    }
}

/// The URL without `user:pass@`, and those credentials as a Basic authorization.
fn without_credentials(url: &Url) -> (Url, Option<String>) {
    if url.username().is_empty() && url.password().is_none() {
        return (url.clone(), None);
    }
    let credentials = proxy::basic_authorization(
        &proxy::percent_decode(url.username()),
        &proxy::percent_decode(url.password().unwrap_or("")),
    );
    let mut bare = url.clone();
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    (bare, Some(credentials))
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
    surf::Error::new(surf::StatusCode::BadGateway, error)
}
