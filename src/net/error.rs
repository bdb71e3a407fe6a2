//! The one error type: every failure a user can meet, with a message that names the address,
//! port or field, a hint saying what to do, and the command line's exit code.

use std::io;
use std::net::SocketAddr;

use crate::payload::PayloadError;

/// Exit codes. Where curl has a code for the same failure, it is curl's.
pub mod exit {
    /// Bad command-line input or a bad field.
    pub const BAD_INPUT: u8 = 2;
    /// A local address or port could not be used (curl: "interface failed").
    pub const LOCAL_ADDRESS: u8 = 45;
    /// Anything else the system refused.
    pub const OTHER: u8 = 1;
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("{field}: {problem}")]
    InvalidInput {
        /// The field or option the value came from: `port`, `bind`, `max-clients`...
        field: &'static str,
        problem: String,
    },

    #[error("{field}: {source}")]
    Payload {
        field: &'static str,
        #[source]
        source: PayloadError,
    },

    #[error("cannot listen on {addr}: another program is using port {port}", port = addr.port())]
    PortInUse { addr: SocketAddr },

    #[error("cannot listen on {addr}: permission denied")]
    BindPermission { addr: SocketAddr },

    #[error("cannot listen on {addr}: {ip} is not an address of this machine", ip = addr.ip())]
    AddressNotLocal { addr: SocketAddr },

    #[error("{action}: {source}")]
    Io {
        /// What was being done, e.g. "cannot listen on 127.0.0.1:1234".
        action: String,
        #[source]
        source: io::Error,
    },
}

impl NetError {
    pub fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        NetError::InvalidInput {
            field,
            problem: problem.into(),
        }
    }

    /// What went wrong when binding a listening socket, by class.
    pub fn from_bind(addr: SocketAddr, error: io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::AddrInUse => NetError::PortInUse { addr },
            io::ErrorKind::PermissionDenied => NetError::BindPermission { addr },
            io::ErrorKind::AddrNotAvailable => NetError::AddressNotLocal { addr },
            _ if error.raw_os_error() == Some(libc::EAFNOSUPPORT) => {
                NetError::AddressNotLocal { addr }
            }
            _ => NetError::Io {
                action: format!("cannot listen on {addr}"),
                source: error,
            },
        }
    }

    /// What to do about it, in a sentence.
    pub fn hint(&self) -> String {
        match self {
            NetError::InvalidInput { .. } | NetError::Payload { .. } => {
                "Correct the value and try again.".into()
            }
            NetError::PortInUse { .. } => {
                "Stop the other program, or choose another port (0 picks a free one).".into()
            }
            NetError::BindPermission { addr } if addr.port() < 1024 && addr.port() != 0 => {
                "Ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port of 1024 or more."
                    .into()
            }
            NetError::BindPermission { .. } => {
                "The system does not allow this program to listen there; check firewall or sandbox rules."
                    .into()
            }
            NetError::AddressNotLocal { .. } => {
                "Use 127.0.0.1 for this machine only, 0.0.0.0 or :: for every interface, or one of this machine's addresses."
                    .into()
            }
            NetError::Io { .. } => "Check the address and the system's limits, then try again.".into(),
        }
    }

    /// The command line's exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            NetError::InvalidInput { .. } | NetError::Payload { .. } => exit::BAD_INPUT,
            NetError::PortInUse { .. }
            | NetError::BindPermission { .. }
            | NetError::AddressNotLocal { .. } => exit::LOCAL_ADDRESS,
            NetError::Io { .. } => exit::OTHER,
        }
    }

    /// The input field the GUI shows this error under, if one caused it.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            NetError::InvalidInput { field, .. } | NetError::Payload { field, .. } => Some(field),
            NetError::PortInUse { .. } | NetError::BindPermission { .. } => Some("port"),
            NetError::AddressNotLocal { .. } => Some("bind"),
            NetError::Io { .. } => None,
        }
    }
}

/// A port number from what the user typed, with an error that names the field.
pub fn parse_port(field: &'static str, text: &str) -> Result<u16, NetError> {
    let text = text.trim();
    match text.parse::<u64>() {
        Ok(port) if port <= u16::MAX as u64 => Ok(port as u16),
        Ok(_) => Err(NetError::invalid(
            field,
            format!("{text} is not a port number (0 to 65535)"),
        )),
        Err(_) if text.is_empty() => Err(NetError::invalid(field, "a port number is needed")),
        Err(_) => Err(NetError::invalid(
            field,
            format!("`{text}` is not a port number (0 to 65535)"),
        )),
    }
}

/// A local IP address to listen on, with an error that names the field.
pub fn parse_bind_ip(field: &'static str, text: &str) -> Result<std::net::IpAddr, NetError> {
    let text = text.trim();
    let unbracketed = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    unbracketed.parse().map_err(|_| {
        NetError::invalid(
            field,
            format!("`{text}` is not an IP address (like 127.0.0.1, 0.0.0.0, ::1 or ::)"),
        )
    })
}

/// A client limit: empty for none, otherwise a whole number of at least 1.
pub fn parse_max_clients(field: &'static str, text: &str) -> Result<Option<usize>, NetError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<usize>() {
        Ok(limit) if limit >= 1 => Ok(Some(limit)),
        _ => Err(NetError::invalid(
            field,
            format!(
                "`{text}` is not a client count (a whole number, 1 or more; empty for no limit)"
            ),
        )),
    }
}
