//! One form per tab: the fields as typed, saved as they are (presets are saved forms), and
//! one `check()` each that turns them into what the engine runs, or an error naming the field.
//! The window's pages, the command line and presets all go through these.

mod client;
mod http;
pub mod parse;
mod server;
mod udp;

use serde::{Deserialize, Serialize};

pub use self::client::ClientForm;
pub use self::http::{Header, HttpForm};
pub use self::server::{ServerForm, ServerMode};
pub use self::udp::{UdpForm, UdpMode};
use crate::net::NetError;
use crate::payload::{self, Encoding, LineEnding};

/// What ends each payload, as the settings file spells it: `none`, `lf`, `crlf`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEndingChoice {
    #[default]
    None,
    Lf,
    CrLf,
}

impl From<LineEndingChoice> for LineEnding {
    fn from(choice: LineEndingChoice) -> Self {
        match choice {
            LineEndingChoice::None => LineEnding::None,
            LineEndingChoice::Lf => LineEnding::Lf,
            LineEndingChoice::CrLf => LineEnding::CrLf,
        }
    }
}

/// A send box's text as bytes: text with escapes or hex, then the line ending. An empty
/// result is an error: there is nothing to send.
fn send_box(text: &str, hex: bool, line_ending: LineEndingChoice) -> Result<Vec<u8>, NetError> {
    match payload::encode(text, Encoding::hex_if(hex), line_ending.into()) {
        Ok(bytes) if bytes.is_empty() => Err(NetError::invalid(
            "payload",
            "nothing to send: type a message",
        )),
        Ok(bytes) => Ok(bytes),
        Err(source) => Err(NetError::Payload {
            field: "payload",
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_body_asks_for_json_unless_the_headers_say_otherwise() {
        let mut form = HttpForm {
            method: "POST".into(),
            url: "http://127.0.0.1:1234/".into(),
            body: r#"{"a": 1}"#.into(),
            json: true,
            ..HttpForm::default()
        };
        let headers = form.check().unwrap().headers;
        assert_eq!(
            headers,
            [
                ("Content-Type".to_string(), "application/json".to_string()),
                ("Accept".to_string(), "application/json".to_string())
            ]
        );
        form.headers.push(Header {
            name: "accept".into(),
            value: "*/*".into(),
        });
        let headers = form.check().unwrap().headers;
        assert_eq!(
            headers.len(),
            2,
            "the given Accept stays alone: {headers:?}"
        );
        form.body = "{".into();
        assert_eq!(form.check().unwrap_err().field(), Some("json"));
    }

    #[test]
    fn each_form_names_the_field_that_is_wrong() {
        let server = ServerForm {
            max_clients: "0".into(),
            ..ServerForm::default()
        };
        assert_eq!(server.check().unwrap_err().field(), Some("max-clients"));
        let client = ClientForm {
            host: "http://example.com".into(),
            ..ClientForm::default()
        };
        assert_eq!(client.check().unwrap_err().field(), Some("host"));
        let empty = ClientForm::default();
        assert_eq!(empty.payload().unwrap_err().field(), Some("payload"));
    }

    #[test]
    fn a_send_box_adds_its_line_ending() {
        let form = ClientForm {
            payload: "hi".into(),
            line_ending: LineEndingChoice::CrLf,
            ..ClientForm::default()
        };
        assert_eq!(form.payload().unwrap(), b"hi\r\n");
        let hex = ServerForm {
            payload: "48 69".into(),
            hex: true,
            ..ServerForm::default()
        };
        assert_eq!(hex.payload().unwrap(), b"Hi");
    }
}
