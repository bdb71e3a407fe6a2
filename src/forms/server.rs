//! The Server tab's form.

use serde::{Deserialize, Serialize};

use super::LineEndingChoice;
use super::parse::{parse_bind_ip, parse_max_clients, parse_port};
use crate::net::NetError;
use crate::net::server::{ReplyMode, ServerConfig};
use crate::net::tls_server::TlsServerOptions;
use crate::payload;

/// What the server does with what it receives, as the settings file spells it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerMode {
    #[default]
    Manual,
    Echo,
    AutoReply,
    Http,
}

/// A server as the Server tab sets it up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerForm {
    pub bind: String,
    pub port: String,
    /// Empty for no limit.
    pub max_clients: String,
    pub mode: ServerMode,
    /// The auto-reply text, with escapes.
    pub reply: String,
    /// What is typed in the send box.
    pub payload: String,
    /// The send box holds hex rather than text.
    pub hex: bool,
    pub line_ending: LineEndingChoice,
    /// Speak TLS to clients.
    pub tls: bool,
    /// The certificate chain and its key (PEM files); empty for a self-signed certificate made
    /// at start.
    pub cert: String,
    pub key: String,
    /// Require client certificates signed by the CAs in this PEM file; empty for none.
    pub client_ca: String,
    /// The TLS cipher suites spoken, separated by commas; empty for every one.
    pub ciphers: String,
}

impl Default for ServerForm {
    fn default() -> Self {
        ServerForm {
            bind: "127.0.0.1".into(),
            port: "1234".into(),
            max_clients: String::new(),
            mode: ServerMode::Manual,
            reply: String::new(),
            payload: String::new(),
            hex: false,
            line_ending: LineEndingChoice::None,
            tls: false,
            cert: String::new(),
            key: String::new(),
            client_ca: String::new(),
            ciphers: String::new(),
        }
    }
}

impl ServerForm {
    /// Every field checked, before anything starts.
    pub fn check(&self) -> Result<ServerConfig, NetError> {
        let bind = parse_bind_ip("bind", &self.bind)?;
        let port = parse_port("port", &self.port)?;
        let mode = self.reply_mode()?;
        let max_clients = parse_max_clients("max-clients", &self.max_clients)?;
        let given = |path: &str| Some(path.trim().to_string()).filter(|p| !p.is_empty());
        let options = TlsServerOptions {
            cert: given(&self.cert),
            key: given(&self.key),
            client_ca: given(&self.client_ca),
            ciphers: given(&self.ciphers),
        };
        if !self.tls && options != TlsServerOptions::default() {
            // The window has no cipher field: it names the list only when a preset gave one.
            let given = if options.ciphers.is_some() {
                "a certificate, key, client CA or cipher list"
            } else {
                "a certificate, key or client CA"
            };
            return Err(NetError::invalid(
                "tls",
                format!("{given} is only used with TLS, which is off; turn it on"),
            ));
        }
        Ok(ServerConfig {
            bind,
            port,
            mode,
            max_clients,
            tls: self.tls.then(|| options.build(bind)).transpose()?,
            ..ServerConfig::default()
        })
    }

    /// The mode, with the auto-reply text checked as the Reply field's.
    pub fn reply_mode(&self) -> Result<ReplyMode, NetError> {
        Ok(match self.mode {
            ServerMode::Manual => ReplyMode::Manual,
            ServerMode::Echo => ReplyMode::Echo,
            ServerMode::Http => ReplyMode::Http,
            ServerMode::AutoReply => {
                ReplyMode::AutoReply(payload::parse_text(&self.reply).map_err(|source| {
                    NetError::Payload {
                        field: "reply",
                        source,
                    }
                })?)
            }
        })
    }

    /// The send box's bytes.
    pub fn payload(&self) -> Result<Vec<u8>, NetError> {
        super::send_box(&self.payload, self.hex, self.line_ending)
    }

    /// One line for a list of presets: `127.0.0.1:1234 · echo`.
    pub fn summary(&self) -> String {
        let mode = match self.mode {
            ServerMode::Manual => "manual",
            ServerMode::Echo => "echo",
            ServerMode::AutoReply => "auto-reply",
            ServerMode::Http => "HTTP",
        };
        let limit = match self.max_clients.trim() {
            "" => String::new(),
            limit => format!(" · at most {limit} clients"),
        };
        let tls = if self.tls { " · TLS" } else { "" };
        format!(
            "{}:{} · {mode}{tls}{limit}",
            self.bind.trim(),
            self.port.trim()
        )
    }
}
