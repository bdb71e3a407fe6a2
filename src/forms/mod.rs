//! One form per tab: the fields as typed, saved as they are (presets are saved forms), and
//! one `check()` each that turns them into what the engine runs, or an error naming the field.
//! The window's pages, the command line and presets all go through these.

mod client;
mod http;
pub mod parse;
mod server;

use serde::{Deserialize, Serialize};

pub use self::client::ClientForm;
pub use self::http::{Header, HttpForm};
pub use self::server::{ServerForm, ServerMode};
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
    let encoding = if hex { Encoding::Hex } else { Encoding::Text };
    match payload::encode(text, encoding, line_ending.into()) {
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
