//! Reaching a TCP server through a proxy, as ncat's `--proxy` does: an HTTP proxy's
//! `CONNECT`, or SOCKS5 (RFC 1928) with the server's name resolved here (`socks5://`) or by
//! the proxy (`socks5h://`, as curl spells it).

use std::io;
use std::net::{IpAddr, SocketAddr};

use async_net::TcpStream;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use surf::Url;

use super::client::{self, ClientConfig, ConnectTimings, Origin};
use super::error::{NetError, ProxyProblem};
use super::http::proxy::{self, Proxy};

/// How the proxy is asked for a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    /// An HTTP proxy's `CONNECT host:port`.
    HttpConnect,
    /// SOCKS5; the server's name goes to the proxy to resolve when `proxy_resolves`.
    Socks5 { proxy_resolves: bool },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpProxy {
    pub kind: ProxyKind,
    pub server: Proxy,
}

/// `http://host:port` (or just `host:port`), `socks5://host:port` or `socks5h://host:port`;
/// without a port, 1080.
pub fn parse_tcp_proxy(field: &'static str, text: &str) -> Result<TcpProxy, NetError> {
    let text = text.trim();
    let scheme = text
        .split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    let kind = match scheme.as_deref() {
        None | Some("http") => {
            return Ok(TcpProxy {
                kind: ProxyKind::HttpConnect,
                server: proxy::parse_proxy(field, text)?,
            });
        }
        Some("socks5") => ProxyKind::Socks5 {
            proxy_resolves: false,
        },
        Some("socks5h") => ProxyKind::Socks5 {
            proxy_resolves: true,
        },
        Some(other) => {
            return Err(NetError::invalid(
                field,
                format!(
                    "`{text}`: {other}:// proxies are not supported; use http://, socks5:// or socks5h://"
                ),
            ));
        }
    };
    let bad = |problem: &str| NetError::invalid(field, format!("`{text}`: {problem}"));
    let url = Url::parse(text).map_err(|error| bad(&format!("not a proxy URL ({error})")))?;
    if !url.username().is_empty() {
        return Err(bad(
            "a SOCKS5 user and password are not supported; use a proxy that asks for none",
        ));
    }
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| bad("no proxy host; write it like socks5://proxy.lan:1080"))?;
    Ok(TcpProxy {
        kind,
        server: Proxy {
            host: host.trim_matches(['[', ']']).to_string(),
            port: url.port().unwrap_or(1080),
            authorization: None,
        },
    })
}

/// What the proxy is asked to connect to.
enum Target {
    Address(SocketAddr),
    /// A name the proxy resolves.
    Name(String, u16),
}

/// A connection to the proxy, from `config.origin`'s source address and port, that the proxy
/// has joined to `config.host:config.port`.
pub async fn open(
    tcp_proxy: &TcpProxy,
    config: &ClientConfig,
) -> Result<(TcpStream, SocketAddr, ConnectTimings), NetError> {
    let timeout = config.connect_timeout;
    let server = &tcp_proxy.server;
    let host = config.host.trim().trim_matches(['[', ']']);
    let literal = host.parse::<IpAddr>().ok();
    let target = match (tcp_proxy.kind, literal) {
        (_, Some(ip)) if config.origin.family.is_none() => {
            Target::Address(SocketAddr::new(ip, config.port))
        }
        (
            ProxyKind::Socks5 {
                proxy_resolves: false,
            },
            _,
        ) => {
            // The family chooses among the server's addresses; the source address is for
            // the connection to the proxy.
            let only_family = Origin {
                family: config.origin.family,
                ..Origin::default()
            };
            let addrs = client::resolve_family(host, config.port, timeout, only_family).await?;
            Target::Address(addrs[0])
        }
        _ if config.origin.family.is_some() => {
            return Err(NetError::invalid(
                "family",
                format!(
                    "the proxy {} resolves {host} itself, so no address family can be chosen here (it can with socks5://, which resolves here)",
                    server.address()
                ),
            ));
        }
        _ => Target::Name(host.to_string(), config.port),
    };
    let to_proxy = Origin {
        family: None,
        ..config.origin
    };
    let (mut stream, peer, timings) =
        match client::open_tcp(&server.host, server.port, timeout, to_proxy).await {
            Ok(connected) => connected,
            // This end's address is at fault, not the proxy.
            Err(
                error @ (NetError::InvalidInput { .. }
                | NetError::AddressNotLocal { .. }
                | NetError::BindPermission { .. }
                | NetError::PortInUse { .. }
                | NetError::PortInTimeWait { .. }),
            ) => return Err(error),
            Err(error) => return Err(proxy::proxy_error(server, error)),
        };
    let handshake = async {
        match (tcp_proxy.kind, &target) {
            (ProxyKind::HttpConnect, _) => {
                proxy::open_tunnel(&mut stream, server, &authority(&target)).await
            }
            (ProxyKind::Socks5 { .. }, target) => socks5(&mut stream, server, target).await,
        }
    };
    client::with_timeout(handshake, timeout, String::new)
        .await
        .map_err(|_| server.failed(ProxyProblem::TimedOut(timeout)))??;
    Ok((stream, peer, timings))
}

/// `host:port` for `CONNECT`, an IPv6 address in brackets.
fn authority(target: &Target) -> String {
    match target {
        Target::Address(addr) => addr.to_string(),
        Target::Name(name, port) => format!("{name}:{port}"),
    }
}

/// SOCKS5 without authentication, then `CONNECT` to the target.
async fn socks5(stream: &mut TcpStream, server: &Proxy, target: &Target) -> Result<(), NetError> {
    let broken = |detail: &str| server.failed(ProxyProblem::Broken(detail.to_string()));
    let cut = |error: io::Error| match error.kind() {
        io::ErrorKind::UnexpectedEof => broken("closed the connection before answering in SOCKS5"),
        _ => server.failed(ProxyProblem::Broken(format!(
            "closed the connection: {error}"
        ))),
    };
    // Version 5, one method offered: no authentication.
    stream.write_all(&[5, 1, 0]).await.map_err(cut)?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).await.map_err(cut)?;
    match choice {
        [5, 0] => {}
        [5, 0xff] => {
            return Err(broken(
                "wants a user and password (SOCKS5), which are not supported here",
            ));
        }
        [5, _] => return Err(broken("chose a SOCKS5 authentication that was not offered")),
        _ => return Err(broken("did not answer in SOCKS5")),
    }
    let mut request = vec![5, 1, 0];
    let port = match target {
        Target::Address(addr) => {
            match addr.ip() {
                IpAddr::V4(ip) => {
                    request.push(1);
                    request.extend_from_slice(&ip.octets());
                }
                IpAddr::V6(ip) => {
                    request.push(4);
                    request.extend_from_slice(&ip.octets());
                }
            }
            addr.port()
        }
        Target::Name(name, port) => {
            let length = u8::try_from(name.len()).map_err(|_| {
                NetError::invalid(
                    "host",
                    "a name sent to a SOCKS5 proxy has at most 255 bytes",
                )
            })?;
            request.push(3);
            request.push(length);
            request.extend_from_slice(name.as_bytes());
            *port
        }
    };
    request.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&request).await.map_err(cut)?;
    let mut reply = [0u8; 4];
    stream.read_exact(&mut reply).await.map_err(cut)?;
    match reply {
        [5, 0, _, _] => {}
        [5, code, _, _] => return Err(server.failed(ProxyProblem::Socks(code))),
        _ => return Err(broken("did not answer in SOCKS5")),
    }
    // The address the proxy connected from, which nothing here needs.
    let bound_length = match reply[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut length = [0u8];
            stream.read_exact(&mut length).await.map_err(cut)?;
            usize::from(length[0]) + 2
        }
        _ => return Err(broken("answered with an unknown SOCKS5 address type")),
    };
    let mut bound = vec![0; bound_length];
    stream.read_exact(&mut bound).await.map_err(cut)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_name_their_kind_and_refuse_the_rest() {
        let socks = parse_tcp_proxy("proxy", "socks5h://[::1]:9050").unwrap();
        assert_eq!(
            socks.kind,
            ProxyKind::Socks5 {
                proxy_resolves: true
            }
        );
        assert_eq!(socks.server.address(), "[::1]:9050");
        let http = parse_tcp_proxy("proxy", "127.0.0.1:3128").unwrap();
        assert_eq!(http.kind, ProxyKind::HttpConnect);
        assert_eq!(
            parse_tcp_proxy("proxy", "socks5://10.0.0.1")
                .unwrap()
                .server
                .port,
            1080
        );
        for bad in [
            "socks4://10.0.0.1:1080",
            "socks5://u:p@10.0.0.1",
            "socks5://10.0.0.1:70000",
        ] {
            let error = parse_tcp_proxy("proxy", bad).unwrap_err();
            assert_eq!(error.field(), Some("proxy"), "{bad}: {error}");
        }
    }
}
