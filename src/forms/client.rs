//! The Client tab's form.

use serde::{Deserialize, Serialize};

use super::LineEndingChoice;
use super::parse::{parse_bind_ip, parse_host, parse_port};
use crate::net::NetError;
use crate::net::client::{ClientConfig, Family, Origin};
use crate::net::http::proxy::masked;
use crate::net::tls::TlsOptions;
use crate::net::tunnel::parse_tcp_proxy;

/// A TCP connection as the Client tab sets it up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientForm {
    pub host: String,
    pub port: String,
    pub tls: bool,
    /// With TLS: accept any certificate.
    pub insecure: bool,
    pub payload: String,
    /// The payload is hex rather than text.
    pub hex: bool,
    pub line_ending: LineEndingChoice,
    /// The local address to connect from; empty: the system chooses.
    pub source: String,
    /// The local port to connect from; empty: the system chooses.
    pub source_port: String,
    /// Only the host's addresses of this family; none: any.
    pub family: Option<Family>,
    /// `http://HOST:PORT`, `socks5://HOST:PORT` or `socks5h://HOST:PORT`; empty: straight
    /// to the host.
    pub proxy: String,
}

impl Default for ClientForm {
    fn default() -> Self {
        ClientForm {
            host: "127.0.0.1".into(),
            port: "1234".into(),
            tls: false,
            insecure: false,
            payload: String::new(),
            hex: false,
            line_ending: LineEndingChoice::None,
            source: String::new(),
            source_port: String::new(),
            family: None,
            proxy: String::new(),
        }
    }
}

impl ClientForm {
    /// Every field checked, before anything connects.
    pub fn check(&self) -> Result<ClientConfig, NetError> {
        let host = parse_host("host", &self.host)?;
        let port = parse_port("port", &self.port)?;
        let given = |text: &str| !text.trim().is_empty();
        let source = given(&self.source)
            .then(|| parse_bind_ip("source", &self.source))
            .transpose()?;
        let source_port = given(&self.source_port)
            .then(|| parse_port("source-port", &self.source_port))
            .transpose()?
            // Port 0 is the system's choice, as when none is given.
            .filter(|&port| port != 0);
        if let (Some(source), Some(family)) = (source, self.family)
            && Family::of(source) != family
        {
            let family = family.name();
            return Err(NetError::invalid(
                "source",
                format!("{source} is not an {family} address, but {family} was asked for"),
            ));
        }
        let proxy = given(&self.proxy)
            .then(|| parse_tcp_proxy("proxy", &self.proxy))
            .transpose()?;
        Ok(ClientConfig {
            tls: self.tls.then(|| TlsOptions {
                accept_invalid_certificates: self.insecure,
                ..TlsOptions::default()
            }),
            origin: Origin {
                address: source,
                port: source_port,
                family: self.family,
            },
            proxy,
            ..ClientConfig::new(host, port)
        })
    }

    /// The send box's bytes.
    pub fn payload(&self) -> Result<Vec<u8>, NetError> {
        super::send_box(&self.payload, self.hex, self.line_ending)
    }

    /// One line for a list of presets: `example.com:443 · TLS`.
    pub fn summary(&self) -> String {
        let tls = match (self.tls, self.insecure) {
            (false, _) => "",
            (true, false) => " · TLS",
            (true, true) => " · TLS, any certificate",
        };
        let proxy = match self.proxy.trim() {
            "" => String::new(),
            proxy => format!(" · through {}", masked(proxy)),
        };
        format!("{}:{}{tls}{proxy}", self.host.trim(), self.port.trim())
    }
}
