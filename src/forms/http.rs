//! The HTTP tab's form.

use serde::{Deserialize, Serialize};

use super::parse::{check_json, parse_header, parse_method, parse_url};
use crate::net::NetError;
use crate::net::http::HttpRequest;

/// A request as the HTTP tab sets it up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpForm {
    pub method: String,
    pub url: String,
    pub headers: Vec<Header>,
    pub body: String,
    /// The body is JSON: checked before sending, and sent as curl's `--json` sends it.
    pub json: bool,
    /// Accept any certificate.
    pub insecure: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Header {
    pub name: String,
    pub value: String,
}

impl Default for HttpForm {
    fn default() -> Self {
        HttpForm {
            method: "GET".into(),
            // No address answers HTTP everywhere: the window's own listener on 1234 does only
            // in HTTP mode. Empty, the field asks for one.
            url: String::new(),
            headers: Vec::new(),
            body: String::new(),
            json: false,
            insecure: false,
        }
    }
}

impl HttpForm {
    /// Every field checked, before anything is sent. A JSON body gets `Content-Type` and
    /// `Accept: application/json` unless the headers give them, as curl's `--json` does.
    pub fn check(&self) -> Result<HttpRequest, NetError> {
        let method = parse_method(&self.method)?;
        let url = parse_url(&self.url)?;
        let mut headers = self.checked_headers()?;
        if self.json && !self.body.trim().is_empty() {
            check_json(&self.body)?;
            for (name, value) in [
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ] {
                if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    headers.push((name.into(), value.into()));
                }
            }
        }
        Ok(HttpRequest {
            method,
            url,
            headers,
            omitted: Vec::new(),
            body: self.body.clone().into_bytes().into(),
        })
    }

    /// The headers, each checked as `Name: value` is on the command line; rows left empty are
    /// skipped.
    fn checked_headers(&self) -> Result<Vec<(String, String)>, NetError> {
        self.headers
            .iter()
            .filter(|header| !(header.name.trim().is_empty() && header.value.trim().is_empty()))
            .map(|header| parse_header(&format!("{}: {}", header.name, header.value)))
            .collect()
    }

    /// One line for a list of presets: `POST http://127.0.0.1:1234/`.
    pub fn summary(&self) -> String {
        format!("{} {}", self.method.trim(), self.url.trim())
    }
}
