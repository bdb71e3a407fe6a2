//! The Client tab's form.

use serde::{Deserialize, Serialize};

use super::LineEndingChoice;
use super::parse::{parse_host, parse_port};
use crate::net::NetError;
use crate::net::client::ClientConfig;
use crate::net::tls::TlsOptions;

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
        }
    }
}

impl ClientForm {
    /// Every field checked, before anything connects.
    pub fn check(&self) -> Result<ClientConfig, NetError> {
        let host = parse_host("host", &self.host)?;
        let port = parse_port("port", &self.port)?;
        Ok(ClientConfig {
            tls: self.tls.then(|| TlsOptions {
                accept_invalid_certificates: self.insecure,
                ..TlsOptions::default()
            }),
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
        format!("{}:{}{tls}", self.host.trim(), self.port.trim())
    }
}
