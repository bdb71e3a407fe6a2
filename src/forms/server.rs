//! The Server tab's form.

use serde::{Deserialize, Serialize};

use super::LineEndingChoice;
use super::parse::{parse_bind_ip, parse_max_clients, parse_port};
use crate::net::NetError;
use crate::net::server::{ReplyMode, ServerConfig};
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
        }
    }
}

impl ServerForm {
    /// Every field checked, before anything starts.
    pub fn check(&self) -> Result<ServerConfig, NetError> {
        Ok(ServerConfig {
            bind: parse_bind_ip("bind", &self.bind)?,
            port: parse_port("port", &self.port)?,
            mode: self.reply_mode()?,
            max_clients: parse_max_clients("max-clients", &self.max_clients)?,
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
        format!("{}:{} · {mode}{limit}", self.bind.trim(), self.port.trim())
    }
}
