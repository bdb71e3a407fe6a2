//! One line of text per engine event: what `netdeck serve` prints and what the Log tab shows.

use crate::net::client::{ClientEvent, CloseReason, TlsInfo};
use crate::net::error::Vocabulary;
use crate::net::http::HttpEvent;
use crate::net::server::{DisconnectReason, ServerEvent};
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
        ServerEvent::Listening { addr } => format!("listening on {addr}"),
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
                "! {peer} refused: {max_clients} clients already connected (max-clients {max_clients})"
            )
        }
        ServerEvent::AcceptFailed { error } => format!("! cannot accept a connection: {error}"),
        ServerEvent::Stopped => "stopped".into(),
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
