//! One line of text per engine event: what `netdeck serve` prints and what the Log tab shows.

use std::time::SystemTime;

use crate::net::client::{ClientEvent, CloseReason, TlsInfo};
use crate::net::error::Vocabulary;
use crate::net::http::HttpEvent;
use crate::net::server::{DisconnectReason, ServerEvent};
use crate::net::tls_server::{ClientTls, ServerIdentity};
use crate::net::udp::UdpEvent;
use crate::payload::{self, Encoding, Lines};

/// How received and sent bytes appear in a line.
#[derive(Clone, Copy, Debug)]
pub struct DataStyle {
    pub encoding: Encoding,
    /// Longer data is cut here and its full size given.
    pub max_chars: Option<usize>,
}

pub fn server_line(event: &ServerEvent, style: DataStyle) -> String {
    match event {
        ServerEvent::Listening { addr, tls: None } => format!("listening on {addr}"),
        ServerEvent::Listening {
            addr,
            tls: Some(identity),
        } => format!("listening on {addr} ({})", server_tls_summary(identity)),
        ServerEvent::Secured { peer, tls, .. } => format!("* {peer} {}", client_tls_summary(tls)),
        ServerEvent::TlsOnPlainPort { peer, .. } => format!(
            "! {peer} began a TLS handshake, but this server speaks plain TCP: turn TLS on to serve it"
        ),
        ServerEvent::Connected { peer, .. } => format!("+ {peer} connected"),
        ServerEvent::Received { peer, bytes, .. } => format!("{peer} > {}", data(bytes, style)),
        ServerEvent::Sent { peer, bytes, .. } => format!("{peer} < {}", data(bytes, style)),
        ServerEvent::Disconnected {
            peer,
            reason,
            bytes_in,
            bytes_out,
            ..
        } => {
            let why = match reason {
                DisconnectReason::ClosedByPeer => String::new(),
                other => format!(", {other}"),
            };
            format!("- {peer} disconnected{why} ({bytes_in} bytes in, {bytes_out} out)")
        }
        ServerEvent::Refused { peer, max_clients } => {
            format!(
                "! {peer} refused: {} already connected (max-clients {max_clients})",
                Count(*max_clients, "client")
            )
        }
        ServerEvent::AcceptFailed { error } => format!("! cannot accept a connection: {error}"),
        ServerEvent::Stopped => "stopped".into(),
    }
}

/// "TLS, certificate SHA-256 AB:CD:…, self-signed for localhost, 127.0.0.1": what a client
/// needs to pin or trust it.
pub fn server_tls_summary(identity: &ServerIdentity) -> String {
    let mut summary = format!("TLS, certificate SHA-256 {}", identity.fingerprint);
    if !identity.generated_for.is_empty() {
        summary.push_str(", self-signed for ");
        summary.push_str(&identity.generated_for.join(", "));
    }
    if identity.requires_client_certificate {
        summary.push_str(", client certificate required");
    }
    summary
}

/// "TLS 1.3, TLS13_AES_256_GCM_SHA384, 1.2 ms, client CN=sensor-12".
pub fn client_tls_summary(tls: &ClientTls) -> String {
    let mut summary = format!(
        "TLS {}, {}, {:.1} ms",
        tls.version.replace("TLSv", "").replace('_', "."),
        tls.cipher,
        tls.handshake.as_secs_f64() * 1000.0
    );
    if let Some(alpn) = &tls.alpn {
        summary.push_str(&format!(", ALPN {alpn}"));
    }
    if let Some(subject) = &tls.client_subject {
        summary.push_str(&format!(", client {subject}"));
    }
    summary
}

/// One line for a UDP socket's event: `127.0.0.1:50412 > hello (5 bytes)`.
pub fn udp_line(event: &UdpEvent, style: DataStyle, words: &dyn Vocabulary) -> String {
    match event {
        UdpEvent::Bound { addr } => format!("listening on udp {addr}"),
        UdpEvent::Received { from, bytes } => format!(
            "{from} > {} ({})",
            data(bytes, style),
            Count(bytes.len(), "byte")
        ),
        UdpEvent::Sent { to, bytes } => format!(
            "{to} < {} ({})",
            data(bytes, style),
            Count(bytes.len(), "byte")
        ),
        UdpEvent::Failed(error) => error_line(error, words),
        UdpEvent::Closed {
            datagrams_in,
            datagrams_out,
            ..
        } => format!(
            "closed ({} in, {datagrams_out} out)",
            Count(*datagrams_in as usize, "datagram")
        ),
    }
}

/// A failure as the log shows it: the message and what to do.
pub fn error_line(error: &crate::net::NetError, words: &dyn Vocabulary) -> String {
    format!("! {error} — {}", error.hint(words))
}

pub fn client_line(event: &ClientEvent, style: DataStyle, words: &dyn Vocabulary) -> String {
    match event {
        ClientEvent::Connected {
            peer, tls: None, ..
        } => format!("connected to {peer}"),
        ClientEvent::Connected {
            peer,
            tls: Some(tls),
            ..
        } => format!("connected to {peer} ({})", tls_summary(tls)),
        ClientEvent::Received(bytes) => format!("received: {}", data(bytes, style)),
        ClientEvent::Sent(bytes) => format!("sent: {}", data(bytes, style)),
        ClientEvent::Failed(error) => error_line(error, words),
        ClientEvent::Closed {
            reason,
            bytes_in,
            bytes_out,
        } => {
            let why = match reason {
                CloseReason::ClosedByPeer => "closed by peer".to_string(),
                CloseReason::Local => "disconnected".to_string(),
                CloseReason::Failed(error) => error.to_string(),
            };
            format!("- {why} ({bytes_in} bytes in, {bytes_out} out)")
        }
    }
}

/// A line for a finished HTTP request; progress has none.
pub fn http_line(event: &HttpEvent, words: &dyn Vocabulary) -> Option<String> {
    match event {
        HttpEvent::Progress(_) => None,
        HttpEvent::Cancelled => Some("HTTP request cancelled".into()),
        HttpEvent::Done(result) => Some(match result.as_ref() {
            Ok(response) => format!(
                "HTTP {} {} from {} ({}, {:.1} ms)",
                response.status,
                response.reason,
                response.url,
                crate::payload::ByteCount(response.body_bytes),
                response.timings.total.as_secs_f64() * 1000.0
            ),
            Err(error) => error_line(error, words),
        }),
    }
}

/// "TLSv1_3, TLS13_AES_256_GCM_SHA384", with a warning when the certificate was not checked.
pub fn tls_summary(tls: &TlsInfo) -> String {
    let mut summary = format!("{}, {}", tls.version, tls.cipher);
    if let Some(alpn) = &tls.alpn {
        summary.push_str(&format!(", ALPN {alpn}"));
    }
    if tls.unverified {
        summary.push_str(", certificate NOT checked");
    }
    summary
}

fn data(bytes: &[u8], style: DataStyle) -> String {
    // Render only what can be shown: one byte is at least a quarter of a character, so this
    // many bytes always fill `max` characters.
    let shown = match style.max_chars {
        Some(max) => &bytes[..bytes.len().min(max.saturating_mul(4).saturating_add(4))],
        None => bytes,
    };
    let text = match style.encoding {
        Encoding::Text => payload::display_text(shown, Lines::Escape),
        Encoding::Hex => payload::hex_line(shown),
    };
    match style.max_chars {
        Some(max) if text.chars().count() > max => {
            let cut: String = text.chars().take(max).collect();
            format!("{cut}… ({} bytes)", bytes.len())
        }
        _ => text,
    }
}

/// Header names whose values are secrets: shown as `***` in the log.
const SECRET_HEADERS: [&str; 2] = ["authorization:", "cookie:"];

/// Masks the values of `Authorization`, `Proxy-Authorization` and `Cookie` headers in a log
/// line (data shown with escapes, so a value ends at `\r`, `\n` or the end of the line).
pub fn mask_credentials(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let mut out = String::with_capacity(line.len());
    let mut copied = 0;
    let mut at = 0;
    while let Some((start, name)) = SECRET_HEADERS
        .iter()
        .filter_map(|name| lower[at..].find(name).map(|i| (at + i, name)))
        .min_by_key(|(i, _)| *i)
    {
        let value_start = start + name.len();
        let value_end = [r"\r", r"\n"]
            .iter()
            .filter_map(|end| line[value_start..].find(end).map(|i| value_start + i))
            .min()
            .unwrap_or(line.len());
        if line[value_start..value_end].trim().is_empty() {
            at = value_end;
            continue;
        }
        out.push_str(&line[copied..value_start]);
        out.push_str(" ***");
        copied = value_end;
        at = value_end;
    }
    out.push_str(&line[copied..]);
    out
}

/// Local wall-clock time as `HH:MM:SS`.
pub fn clock(time: SystemTime) -> String {
    let tm = local_time(time);
    format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)
}

/// A count and its noun, singular for one: "1 line", "2 lines".
pub struct Count(pub usize, pub &'static str);

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = if self.0 == 1 { "" } else { "s" };
        write!(f, "{} {}{plural}", self.0, self.1)
    }
}

/// Local wall-clock time as `HH:MM:SS.mmm`.
pub fn clock_ms(time: SystemTime) -> String {
    let millis = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_millis());
    format!("{}.{millis:03}", clock(time))
}

pub fn local_time(time: SystemTime) -> libc::tm {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as libc::time_t)
        .unwrap_or(0);
    // SAFETY: localtime_r only writes the `tm` we hand it.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&seconds, &mut tm);
        tm
    }
}

/// What begins a line with `-t`: the local time to the millisecond and a space; nothing
/// without it.
pub fn line_stamp(wanted: bool) -> String {
    if wanted {
        format!("{} ", clock_ms(SystemTime::now()))
    } else {
        String::new()
    }
}
