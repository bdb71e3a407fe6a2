//! Request bodies as curl builds them: `-d` forms, `--data-binary`, `--data-urlencode`,
//! `--json` and `-F` multipart, from the argument, a file (`@FILE`) or standard input (`@-`).

use std::io::Read;

use crate::net::NetError;
use crate::net::http::{BodyPart, RequestBody};

pub struct Body {
    pub parts: RequestBody,
    /// Sent unless a Content-Type header is given.
    pub content_type: Option<String>,
    /// A JSON body also asks for JSON back.
    pub json: bool,
}

impl Body {
    pub fn json(bytes: Vec<u8>) -> Self {
        Body {
            parts: bytes.into(),
            content_type: Some("application/json".into()),
            json: true,
        }
    }
}

/// The argument itself, or with `@FILE` the file's bytes (`@-`: standard input). curl's `-d`
/// leaves out a file's line breaks (`strip_line_breaks`); `--data-binary` keeps them.
pub fn read_argument(
    field: &'static str,
    text: &str,
    strip_line_breaks: bool,
) -> Result<Vec<u8>, NetError> {
    let Some(path) = text.strip_prefix('@') else {
        return Ok(text.as_bytes().to_vec());
    };
    let mut bytes = read_file(field, path)?;
    if strip_line_breaks {
        bytes.retain(|b| *b != b'\r' && *b != b'\n');
    }
    Ok(bytes)
}

fn read_file(field: &'static str, path: &str) -> Result<Vec<u8>, NetError> {
    let mut bytes = Vec::new();
    let result = if path == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|read| bytes = read)
    };
    result.map_err(|error| {
        let what = if path == "-" {
            "standard input".to_string()
        } else {
            path.to_string()
        };
        NetError::invalid(field, format!("cannot read {what}: {}", io_problem(&error)))
    })?;
    Ok(bytes)
}

/// A file to send later must be readable now, so a typo fails before anything is sent.
fn check_readable(field: &'static str, path: &str) -> Result<(), NetError> {
    std::fs::File::open(path).map(drop).map_err(|error| {
        NetError::invalid(field, format!("cannot read {path}: {}", io_problem(&error)))
    })
}

fn io_problem(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => error.to_string(),
    }
}

/// `-d`, `--data-binary` and `--data-urlencode` parts joined with `&`, sent as a form.
pub fn form_data(
    data: &[String],
    binary: &[String],
    urlencode: &[String],
) -> Result<Option<Body>, NetError> {
    // One file sent as it is: streamed, whatever its size.
    if let ([], [only], []) = (data, binary, urlencode)
        && let Some(path) = only.strip_prefix('@').filter(|path| *path != "-")
    {
        check_readable("data-binary", path)?;
        return Ok(Some(Body {
            parts: RequestBody(vec![BodyPart::File(path.into())]),
            content_type: Some("application/x-www-form-urlencoded".into()),
            json: false,
        }));
    }
    let mut parts = Vec::new();
    for text in data {
        parts.push(read_argument("data", text, true)?);
    }
    for text in binary {
        parts.push(read_argument("data-binary", text, false)?);
    }
    for text in urlencode {
        parts.push(url_encoded_part(text)?);
    }
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(Body {
        parts: parts.join(&b'&').into(),
        content_type: Some("application/x-www-form-urlencoded".into()),
        json: false,
    }))
}

/// `CONTENT`, `=CONTENT`, `NAME=CONTENT`, `@FILE` or `NAME@FILE`, as curl reads them.
fn url_encoded_part(text: &str) -> Result<Vec<u8>, NetError> {
    let (name, content) = match text.find(['=', '@']) {
        Some(at) if text.as_bytes()[at] == b'=' => {
            (&text[..at], text.as_bytes()[at + 1..].to_vec())
        }
        Some(at) => (&text[..at], read_file("data-urlencode", &text[at + 1..])?),
        None => ("", text.as_bytes().to_vec()),
    };
    let mut part = String::new();
    if !name.is_empty() {
        part.push_str(name);
        part.push('=');
    }
    part.push_str(&percent_encode(&content));
    Ok(part.into_bytes())
}

/// Everything but letters, digits and `-._~` as `%XX`.
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `-F` fields as `multipart/form-data`: `NAME=VALUE`, `NAME=@FILE[;type=MIME]` uploads a
/// file, `NAME=<FILE` sends a file's text as the value.
pub fn multipart(fields: &[String]) -> Result<Body, NetError> {
    let boundary = format!(
        "------------------------netdeck{:016x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    );
    let mut parts = Vec::new();
    let mut bytes = Vec::new();
    for field in fields {
        let Some((name, value)) = field.split_once('=').filter(|(name, _)| !name.is_empty()) else {
            return Err(NetError::invalid(
                "form",
                format!("`{field}` is not a form field; write it as name=value or name=@file"),
            ));
        };
        bytes.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        if let Some(upload) = value.strip_prefix('@') {
            let mut pieces = upload.split(';');
            let path = pieces.next().unwrap_or("");
            let mut content_type = None;
            for piece in pieces {
                match piece.split_once('=') {
                    Some(("type", mime)) => content_type = Some(mime.to_string()),
                    _ => {
                        return Err(NetError::invalid(
                            "form",
                            format!("`{piece}` in `{field}`: only ;type=MIME is understood"),
                        ));
                    }
                }
            }
            check_readable("form", path)?;
            let file_name = std::path::Path::new(path)
                .file_name()
                .map(|n| n.to_string_lossy().replace('"', "%22"))
                .unwrap_or_default();
            let content_type = content_type.unwrap_or_else(|| guess_type(path).into());
            bytes.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                     Content-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            // The file is read as it is sent.
            parts.push(BodyPart::Bytes(std::mem::take(&mut bytes)));
            parts.push(BodyPart::File(path.into()));
        } else {
            let content = match value.strip_prefix('<') {
                Some(path) => read_file("form", path)?,
                None => value.as_bytes().to_vec(),
            };
            bytes.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            );
            bytes.extend_from_slice(&content);
        }
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    parts.push(BodyPart::Bytes(bytes));
    Ok(Body {
        parts: RequestBody(parts),
        content_type: Some(format!("multipart/form-data; boundary={boundary}")),
        json: false,
    })
}

/// A file's media type by its ending, as curl guesses it.
fn guess_type(path: &str) -> &'static str {
    let ending = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ending.as_str() {
        "txt" => "text/plain",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}
