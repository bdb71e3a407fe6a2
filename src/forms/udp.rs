//! The UDP tab's form.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::LineEndingChoice;
use super::parse::{parse_bind_ip, parse_port};
use crate::net::NetError;
use crate::net::udp::{self, UdpConfig, UdpReply};
use crate::payload;

/// What the socket does with each datagram, as the settings file spells it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UdpMode {
    #[default]
    Nothing,
    Echo,
    Reply,
}

/// A UDP socket as the UDP tab sets it up, and where its sends go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UdpForm {
    pub bind: String,
    pub port: String,
    pub mode: UdpMode,
    /// The reply text, with escapes.
    pub reply: String,
    /// Multicast groups to join, separated by commas or spaces.
    pub join: String,
    /// The interface groups are joined on (and multicast sent from); empty for the system's
    /// choice.
    pub interface: String,
    /// May send to broadcast addresses.
    pub broadcast: bool,
    /// Where Send sends: `IP:PORT` (`[IPv6]:PORT`).
    pub to: String,
    pub payload: String,
    pub hex: bool,
    pub line_ending: LineEndingChoice,
}

impl Default for UdpForm {
    fn default() -> Self {
        UdpForm {
            bind: "127.0.0.1".into(),
            port: "1234".into(),
            mode: UdpMode::Nothing,
            reply: String::new(),
            join: String::new(),
            interface: String::new(),
            broadcast: false,
            to: String::new(),
            payload: String::new(),
            hex: false,
            line_ending: LineEndingChoice::None,
        }
    }
}

impl UdpForm {
    /// Every field the socket needs, checked before anything is bound.
    pub fn check(&self) -> Result<UdpConfig, NetError> {
        let bind = parse_bind_ip("bind", &self.bind)?;
        let port = parse_port("port", &self.port)?;
        let reply = match self.mode {
            UdpMode::Nothing => UdpReply::Nothing,
            UdpMode::Echo => UdpReply::Echo,
            UdpMode::Reply if self.reply.is_empty() => {
                return Err(NetError::invalid(
                    "reply",
                    "is empty; give the text to answer with, such as --reply 'OK\\n', or use --echo",
                ));
            }
            UdpMode::Reply => {
                UdpReply::Text(payload::parse_text(&self.reply).map_err(|source| {
                    NetError::Payload {
                        field: "reply",
                        source,
                    }
                })?)
            }
        };
        let mut join = Vec::new();
        for group in self
            .join
            .split([',', ' '])
            .filter(|group| !group.is_empty())
        {
            let group = group.parse::<IpAddr>().map_err(|_| {
                NetError::invalid(
                    "join",
                    format!("`{group}` is not a multicast group address"),
                )
            })?;
            if !join.contains(&group) {
                join.push(group);
            }
        }
        if !join.is_empty() && bind.is_loopback() {
            return Err(NetError::invalid(
                "bind",
                format!(
                    "a socket bound to {bind} never sees a group's datagrams: bind 0.0.0.0 (or :: for IPv6 groups)"
                ),
            ));
        }
        let interface = match self.interface.trim() {
            "" => None,
            text => Some(text.parse()?),
        };
        Ok(UdpConfig {
            bind: Some(SocketAddr::new(bind, port)),
            reply,
            join,
            interface,
            broadcast: self.broadcast,
            ..UdpConfig::default()
        })
    }

    /// Where Send goes, and what: checked, and within a datagram's size.
    pub fn datagram(&self) -> Result<(SocketAddr, Vec<u8>), NetError> {
        let to = parse_destination(&self.to)?;
        let bytes = super::send_box(&self.payload, self.hex, self.line_ending)?;
        udp::check_size("payload", to, bytes.len())?;
        Ok((to, bytes))
    }
}

/// `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT`: the window never waits for a name lookup.
fn parse_destination(text: &str) -> Result<SocketAddr, NetError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(NetError::invalid(
            "to",
            "give the address to send to, like 192.168.1.20:5000, or select a source",
        ));
    }
    let text = match text.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => text.to_string(),
    };
    text.parse().map_err(|_| {
        NetError::invalid(
            "to",
            format!("`{text}` is not an address and port, like 192.168.1.20:5000 or [::1]:5000"),
        )
    })
}
