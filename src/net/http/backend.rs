//! The `http_client::HttpClient` surf sends through: a pool of kept-alive connections, direct
//! or through a proxy, one exchange at a time on each, the body handed to the watcher as it
//! arrives.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_lite::AsyncReadExt;
use http_client::{Config, HttpClient};
use smol::Executor;

use super::cookies::CookieJar;
use super::encoding::{self, Decoder};
use super::pool::Pool;
use super::proxy::{self, Proxy, ProxyRoutes};
use super::redirect::follows;
use super::transfer::{
    BodyError, BodySink, READ_BUFFER, Upload, part_sizes, read_body, send_parts,
};
use super::{HttpOptions, Omitted, RequestBody, Timings, Upload as UploadExt, Watch, to_surf};
use crate::net::client::{self, ClientConfig, Connection};
use crate::net::error::{NetError, ProxyProblem};
use crate::net::h1::{self, ResponseHead};

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
    pool: Pool<Destination>,
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
    /// Idle connections are watched on `watchers`, when given.
    pub fn new(
        options: HttpOptions,
        proxies: ProxyRoutes,
        cookies: Arc<Mutex<CookieJar>>,
        watchers: Option<Arc<Executor<'static>>>,
    ) -> Self {
        Backend {
            pool: Pool::new(options.keep_idle, watchers),
            options,
            proxies,
            cookies,
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
        if let Some(connection) = self.pool.take(&destination).await {
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
                Ok(result) => return self.finish(destination, result).await,
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
            Ok(result) => self.finish(destination, result).await,
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
        let (mut stream, peer, timings) = client::open_tcp(
            &proxy.host,
            proxy.port,
            config.connect_timeout,
            config.origin,
        )
        .await
        .map_err(|error| proxy::proxy_error(proxy, error))?;
        if destination.https {
            let authority = match destination.host.contains(':') {
                true => format!("[{}]:{}", destination.host, destination.port),
                false => format!("{}:{}", destination.host, destination.port),
            };
            client::with_timeout(
                proxy::open_tunnel(&mut stream, proxy, &authority),
                config.connect_timeout,
                String::new,
            )
            .await
            .map_err(|_| proxy.failed(ProxyProblem::TimedOut(config.connect_timeout)))??;
        }
        client::finish_connecting(stream, peer, timings, tls, &config).await
    }

    async fn finish(
        &self,
        destination: Destination,
        result: Result<FetchedResponse, NetError>,
    ) -> Result<(ExchangeInfo, Vec<u8>), NetError> {
        let answer = result?;
        if let Some(connection) = answer.reusable {
            self.pool.put(destination, connection).await;
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
    ) -> Result<Result<FetchedResponse, NetError>, Stale> {
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
        Ok(Ok(FetchedResponse {
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

struct FetchedResponse {
    info: ExchangeInfo,
    body: Vec<u8>,
    reusable: Option<Connection>,
}
