//! Forward proxies as curl uses them: `http_proxy`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY` (or
//! one given proxy), plain http sent to the proxy in absolute form, https through `CONNECT`.

use std::net::IpAddr;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use surf::Url;

use crate::net::error::{NetError, ProxyProblem};
use crate::net::h1;

/// Where the proxy settings come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProxyChoice {
    /// Straight to every server.
    #[default]
    Direct,
    /// The variables curl reads: `http_proxy`, `HTTPS_PROXY`/`https_proxy`,
    /// `ALL_PROXY`/`all_proxy`, `NO_PROXY`/`no_proxy`.
    Environment,
    /// This proxy for every scheme (`-x`).
    Given(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxySettings {
    pub choice: ProxyChoice,
    /// Hosts reached directly, replacing `NO_PROXY` (`--noproxy`).
    pub no_proxy: Option<String>,
}

/// A forward proxy: an http:// URL's host and port, and its credentials.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    /// `Basic ...`, from `http://user:pass@proxy:3128`.
    pub authorization: Option<String>,
}

impl Proxy {
    /// `host:port`, as messages name it.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    pub fn failed(&self, problem: ProxyProblem) -> NetError {
        NetError::ProxyFailed {
            proxy: self.address(),
            problem,
        }
    }
}

/// Which proxy each request goes through, decided once per session.
#[derive(Clone, Debug, Default)]
pub struct ProxyRoutes {
    http: Option<Proxy>,
    https: Option<Proxy>,
    bypass: Vec<String>,
}

impl ProxyRoutes {
    /// Reads the settings (and the environment, when chosen); a proxy URL that cannot be
    /// used is an error naming where it came from.
    pub fn new(settings: &ProxySettings) -> Result<Self, NetError> {
        let variable = |names: &[&'static str]| {
            names.iter().find_map(|name| {
                std::env::var(name)
                    .ok()
                    .filter(|value| !value.trim().is_empty())
                    .map(|value| (*name, value))
            })
        };
        let parsed = |found: Option<(&'static str, String)>| {
            found
                .map(|(field, text)| parse_proxy(field, &text))
                .transpose()
        };
        let (http, https, bypass) = match &settings.choice {
            ProxyChoice::Direct => (None, None, None),
            ProxyChoice::Given(text) => {
                let proxy = parse_proxy("proxy", text)?;
                (Some(proxy.clone()), Some(proxy), None)
            }
            ProxyChoice::Environment => {
                let all = parsed(variable(&["ALL_PROXY", "all_proxy"]))?;
                // Only the lower-case http_proxy, as curl: in CGI programs HTTP_PROXY can
                // be set by a request's `Proxy:` header.
                let http = parsed(variable(&["http_proxy"]))?.or(all.clone());
                let https = parsed(variable(&["HTTPS_PROXY", "https_proxy"]))?.or(all);
                let bypass = variable(&["NO_PROXY", "no_proxy"]).map(|(_, list)| list);
                (http, https, bypass)
            }
        };
        let bypass = settings.no_proxy.clone().or(bypass).unwrap_or_default();
        Ok(ProxyRoutes {
            http,
            https,
            bypass: bypass
                .split(',')
                .map(|entry| entry.trim().trim_start_matches('.').to_ascii_lowercase())
                .filter(|entry| !entry.is_empty())
                .collect(),
        })
    }

    /// The proxy for this URL, or none when it goes direct.
    pub fn for_url(&self, url: &Url) -> Option<&Proxy> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            _ => self.http.as_ref(),
        }?;
        let host = url.host_str().unwrap_or("");
        (!self.bypass.iter().any(|entry| bypasses(entry, host))).then_some(proxy)
    }
}

/// A `NO_PROXY` entry: `*`, a host name (which covers its subdomains), an IP address, or an
/// address range like `10.0.0.0/8`.
fn bypasses(entry: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if entry == "*" || entry == host {
        return true;
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        let entry = entry.trim_start_matches('[').trim_end_matches(']');
        let (network, bits) = match entry.split_once('/') {
            Some((network, bits)) => (network, bits.parse::<u32>().ok()),
            None => (entry, None),
        };
        return match (ip, network.parse::<IpAddr>()) {
            (IpAddr::V4(ip), Ok(IpAddr::V4(network))) => {
                same_prefix(ip.to_bits().into(), network.to_bits().into(), bits, 32)
            }
            (IpAddr::V6(ip), Ok(IpAddr::V6(network))) => {
                same_prefix(ip.to_bits(), network.to_bits(), bits, 128)
            }
            _ => false,
        };
    }
    host.ends_with(entry) && host[..host.len() - entry.len()].ends_with('.')
}

fn same_prefix(ip: u128, network: u128, bits: Option<u32>, width: u32) -> bool {
    let bits = bits.unwrap_or(width).min(width);
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (ip >> shift) == (network >> shift)
}

/// A connecting failure, told as the proxy's.
pub(crate) fn proxy_error(proxy: &Proxy, error: NetError) -> NetError {
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
pub(crate) async fn open_tunnel(
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

/// A proxy URL: `http://[user:pass@]host[:port]`, or just `host:port` (http, as curl).
pub fn parse_proxy(field: &'static str, text: &str) -> Result<Proxy, NetError> {
    let text = text.trim();
    let bad = |problem: String| NetError::invalid(field, format!("`{text}`: {problem}"));
    let with_scheme = if text.contains("://") {
        text.to_string()
    } else {
        format!("http://{text}")
    };
    let url =
        Url::parse(&with_scheme).map_err(|error| bad(format!("not a proxy URL ({error})")))?;
    if url.scheme() != "http" {
        return Err(bad(format!(
            "{}:// proxies are not supported; use an http:// proxy",
            url.scheme()
        )));
    }
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| bad("no proxy host; write it like http://proxy.lan:3128".into()))?;
    let authorization = (!url.username().is_empty()).then(|| {
        basic_authorization(
            &percent_decode(url.username()),
            &percent_decode(url.password().unwrap_or("")),
        )
    });
    Ok(Proxy {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        // curl's default proxy port.
        port: url.port().unwrap_or(1080),
        authorization,
    })
}

/// A proxy URL as it may be shown: its password as `***`.
pub fn masked(text: &str) -> String {
    match Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => text.to_string(),
    }
}

/// `Basic base64(user:password)`.
pub fn basic_authorization(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `%41` as `A`; anything that does not decode stays as written.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&high), Some(&low)) if hex(high).is_some() && hex(low).is_some() => {
                out.push((hex(high).unwrap() * 16 + hex(low).unwrap()) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_like_the_standard() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }

    #[test]
    fn no_proxy_entries_cover_hosts_domains_and_ranges() {
        assert!(bypasses("*", "example.com"));
        assert!(bypasses("example.com", "example.com"));
        assert!(bypasses("example.com", "www.example.com"));
        assert!(!bypasses("example.com", "badexample.com"));
        assert!(bypasses("127.0.0.1", "127.0.0.1"));
        assert!(bypasses("10.0.0.0/8", "10.1.2.3"));
        assert!(!bypasses("10.0.0.0/8", "11.1.2.3"));
        assert!(bypasses("::1", "[::1]"));
    }

    #[test]
    fn proxy_urls_take_credentials_and_default_to_http() {
        let proxy = parse_proxy("proxy", "http://us%40er:p%3Ass@proxy.lan:3128").unwrap();
        assert_eq!(proxy.address(), "proxy.lan:3128");
        assert_eq!(
            proxy.authorization.as_deref(),
            Some(basic_authorization("us@er", "p:ss").as_str())
        );
        assert_eq!(parse_proxy("proxy", "10.0.0.5").unwrap().port, 1080);
        assert!(parse_proxy("proxy", "http://:3128").is_err());
        assert!(parse_proxy("proxy", "socks5://10.0.0.5:1080").is_err());
    }
}
