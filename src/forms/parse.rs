//! Every field a user types, read into what it means, with an error that names the field and
//! says what a good value looks like. The window, the command line and presets read fields
//! only through these.

use std::ops::RangeInclusive;

use surf::Url;

use crate::net::NetError;
pub use crate::net::http::METHODS;
pub use crate::net::http::proxy::parse_proxy;
use crate::payload::{self, Lines};

/// The interface scale a settings file may ask for.
pub const SCALE_RANGE: RangeInclusive<f32> = 0.5..=3.0;

/// How many lines the Log tab may be asked to keep.
pub const LOG_LINES_RANGE: RangeInclusive<usize> = 100..=100_000;

/// The longest preset name, in characters.
pub const PRESET_NAME_MAX: usize = 64;

/// A preset name from what the user typed, without surrounding white space: 1 to
/// [`PRESET_NAME_MAX`] characters, no control characters. The error names the field `preset`.
pub fn preset_name(text: &str) -> Result<String, NetError> {
    let name = text.trim();
    let problem = if text.is_empty() {
        format!("a preset name is needed (1 to {PRESET_NAME_MAX} characters)")
    } else if let Some(control) = text.chars().find(|c| c.is_control()) {
        let shown = |text: &str| payload::display_text(text.as_bytes(), Lines::Escape);
        format!(
            "`{}` contains the control character `{}`; a name is one line of text",
            shown(text),
            shown(control.encode_utf8(&mut [0; 4]))
        )
    } else if name.is_empty() {
        format!("`{text}` is only white space; a name needs a visible character")
    } else if name.chars().count() > PRESET_NAME_MAX {
        format!(
            "a preset name has at most {PRESET_NAME_MAX} characters; this one has {}",
            name.chars().count()
        )
    } else {
        return Ok(name.to_string());
    };
    Err(NetError::invalid("preset", problem))
}

/// An interface scale from what the user typed, within [`SCALE_RANGE`].
pub fn parse_scale(field: &'static str, text: &str) -> Result<f32, NetError> {
    let text = text.trim();
    text.parse::<f32>()
        .ok()
        .filter(|scale| SCALE_RANGE.contains(scale))
        .ok_or_else(|| {
            NetError::invalid(
                field,
                format!(
                    "`{text}` is not a scale ({} to {})",
                    SCALE_RANGE.start(),
                    SCALE_RANGE.end()
                ),
            )
        })
}

/// How many lines the Log tab keeps, from what the user typed, within [`LOG_LINES_RANGE`]. The
/// error names the field `log-lines`.
pub fn parse_log_lines(text: &str) -> Result<usize, NetError> {
    let text = text.trim();
    text.parse::<usize>()
        .ok()
        .filter(|lines| LOG_LINES_RANGE.contains(lines))
        .ok_or_else(|| {
            NetError::invalid(
                "log-lines",
                format!(
                    "`{text}` is not a number of lines ({} to {})",
                    LOG_LINES_RANGE.start(),
                    LOG_LINES_RANGE.end()
                ),
            )
        })
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

/// A host to connect to: a name or an address, not a URL.
pub fn parse_host(field: &'static str, text: &str) -> Result<String, NetError> {
    let host = text.trim();
    if host.is_empty() {
        return Err(NetError::invalid(field, "a host name or address is needed"));
    }
    if host.contains("://") {
        return Err(NetError::invalid(
            field,
            format!("`{host}` is a URL; give only the host, like example.com or 192.168.1.10"),
        ));
    }
    if host.starts_with('[') || host.ends_with(']') {
        let inner = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
        if inner.is_none_or(|inner| inner.parse::<std::net::Ipv6Addr>().is_err()) {
            return Err(NetError::invalid(
                field,
                format!("`{host}` is not an IPv6 address in brackets, like [::1]"),
            ));
        }
    }
    if let Some(bad) = host
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '/')
    {
        return Err(NetError::invalid(
            field,
            format!("`{host}` is not a host name (it contains {bad:?})"),
        ));
    }
    Ok(host.to_string())
}

/// A positive number of seconds, fractions allowed: `5`, `0.5`.
pub fn parse_seconds(field: &'static str, text: &str) -> Result<std::time::Duration, NetError> {
    let text = text.trim();
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 86_400.0 => {
            Ok(std::time::Duration::from_secs_f64(seconds))
        }
        _ => Err(NetError::invalid(
            field,
            format!("`{text}` is not a number of seconds (more than 0, at most 86400)"),
        )),
    }
}

/// A whole number of milliseconds, 0 allowed.
pub fn parse_duration_ms(field: &'static str, text: &str) -> Result<std::time::Duration, NetError> {
    let text = text.trim();
    text.parse::<u64>()
        .ok()
        .filter(|ms| *ms <= 86_400_000)
        .map(std::time::Duration::from_millis)
        .ok_or_else(|| {
            NetError::invalid(
                field,
                format!("`{text}` is not a number of milliseconds (0 to 86400000)"),
            )
        })
}

/// A URL to request: http or https, with a host.
pub fn parse_url(text: &str) -> Result<Url, NetError> {
    let text = text.trim();
    let bad = |problem: String| NetError::BadUrl {
        url: text.to_string(),
        problem,
    };
    if text.is_empty() {
        return Err(NetError::BadUrl {
            url: "\"\"".into(),
            problem: "a URL is needed, like http://127.0.0.1:8080/".into(),
        });
    }
    if !text.contains("://") {
        return Err(bad(format!("no scheme; did you mean http://{text} ?")));
    }
    let url = Url::parse(text).map_err(|error| bad(format!("not a valid URL ({error})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!(
            "the scheme `{}` is not supported; use http:// or https://",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    Ok(url)
}

/// An HTTP method, upper-cased: one of [`METHODS`].
pub fn parse_method(text: &str) -> Result<String, NetError> {
    let method = text.trim().to_ascii_uppercase();
    if METHODS.contains(&method.as_str()) {
        Ok(method)
    } else {
        Err(NetError::invalid(
            "method",
            format!("`{}` is not one of {}", text.trim(), METHODS.join(", ")),
        ))
    }
}

/// A header as `Name: value`.
pub fn parse_header(text: &str) -> Result<(String, String), NetError> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(NetError::invalid(
            "header",
            format!("`{text}` has no colon; write it as Name: value"),
        ));
    };
    let name = name.trim_matches([' ', '\t']);
    if name.is_empty() {
        return Err(NetError::invalid(
            "header",
            format!("`{text}` has no name before the colon"),
        ));
    }
    let is_token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(is_token) {
        return Err(NetError::invalid(
            "header",
            format!("`{name}` is not a header name (letters, digits and - only)"),
        ));
    }
    let value = value.trim();
    if !value.is_ascii() {
        return Err(NetError::invalid(
            "header",
            format!(
                "the value of {name} has characters outside ASCII, which HTTP headers cannot carry"
            ),
        ));
    }
    if value.chars().any(|c| c == '\r' || c == '\n') {
        return Err(NetError::invalid(
            "header",
            format!("the value of {name} contains a line break"),
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

/// Checks a JSON body before it is sent; the error says where it goes wrong.
pub fn check_json(text: &str) -> Result<(), NetError> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|_| ())
        .map_err(|error| {
            NetError::invalid(
                "json",
                format!(
                    "invalid JSON at line {} column {}: {}",
                    error.line(),
                    error.column(),
                    json_problem(&error)
                ),
            )
        })
}

fn json_problem(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
