//! The guided demo: netdeck's flows on loopback, one step at a time, offline. The steps are
//! data: the window's Demo mode and `netdeck demo` walk this same list, each in its own way
//! (the window fills its tabs' forms and presses their buttons; the command line calls the
//! engine's parts directly).

use crate::forms::{ClientForm, HttpForm, LineEndingChoice, ServerForm, ServerMode};
use crate::net::NetError;

/// One thing a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A server starts on a free loopback port in this mode.
    StartServer(ServerMode),
    /// The client connects to the server.
    Connect,
    /// The client sends this text, `times` times over (one message).
    Send { text: &'static str, times: usize },
    /// Waits until the server's answer to what was sent last has arrived.
    AwaitAnswer,
    /// The server answers every message with `reply` from now on.
    AutoReply(&'static str),
    /// The server speaks HTTP from now on.
    HttpMode,
    /// netdeck's HTTP client asks the server; `json` is a body sent as JSON.
    Request {
        method: &'static str,
        path: &'static str,
        json: Option<&'static str>,
    },
    /// The client tries a loopback port where nothing listens: refused, on purpose.
    ConnectToAClosedPort,
    /// The client disconnects and the server stops.
    StopAll,
}

/// Where the window shows a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    Server,
    /// The Both sides tab, as two conversations (the Client tab's where the window is too
    /// narrow for both under the demo's bar).
    BothConversations,
    /// The Both sides tab, as one flow.
    BothFlow,
    /// The Client tab's rate graph.
    ClientGraph,
    /// The Client tab's conversation, with its error line.
    Client,
    /// The HTTP tab's answer, with its waterfall.
    HttpAnswer,
    HttpFlow,
}

pub struct Step {
    /// What is happening and why, in one line.
    pub caption: &'static str,
    pub actions: &'static [Action],
    pub show: Show,
}

/// The seed's greeting: Korean takes three bytes a letter in UTF-8.
pub const GREETING: &str = "hello 안녕하세요";

/// The auto-reply the server gives in the demo.
pub const REPLY: &str = "OK from netdeck\\n";

pub const STEPS: &[Step] = &[
    Step {
        caption: "A TCP server starts on a free port of this machine (127.0.0.1) in Echo mode: \
                  it sends back whatever it gets.",
        actions: &[Action::StartServer(ServerMode::Echo)],
        show: Show::Server,
    },
    Step {
        caption: "A client connects to it: the flow shows the TCP handshake (SYN … established) \
                  and how long it took.",
        actions: &[Action::Connect],
        show: Show::BothFlow,
    },
    Step {
        caption: "The client sends \"hello 안녕하세요\": 21 bytes, as each of the five Korean \
                  letters takes 3 bytes in UTF-8.",
        actions: &[
            Action::Send {
                text: GREETING,
                times: 1,
            },
            Action::AwaitAnswer,
        ],
        show: Show::BothConversations,
    },
    Step {
        caption: "The server echoed the same 21 bytes: each arrow of the flow is one chunk, \
                  with its size and first bytes.",
        actions: &[],
        show: Show::BothFlow,
    },
    Step {
        caption: "Auto-reply: the server now answers every message with its own text instead \
                  of an echo.",
        actions: &[
            Action::AutoReply(REPLY),
            Action::Send {
                text: "status?",
                times: 1,
            },
            Action::AwaitAnswer,
        ],
        show: Show::BothConversations,
    },
    Step {
        caption: "A burst of 16 KiB: the graph draws the bytes per second each way over the last \
                  minute.",
        actions: &[
            Action::Send {
                text: "netdeck ",
                times: 2048,
            },
            Action::AwaitAnswer,
        ],
        show: Show::ClientGraph,
    },
    Step {
        caption: "The same server now speaks HTTP: a GET /hello, with the time each phase took.",
        actions: &[
            Action::HttpMode,
            Action::Request {
                method: "GET",
                path: "/hello?from=demo",
                json: None,
            },
        ],
        show: Show::HttpAnswer,
    },
    Step {
        caption: "A JSON POST on the kept-alive connection: the answer says what the server read.",
        actions: &[Action::Request {
            method: "POST",
            path: "/submit",
            json: Some(r#"{"sensor": "demo", "value": 21.5}"#),
        }],
        show: Show::HttpFlow,
    },
    Step {
        caption: "An error on purpose: nothing listens on this port, so the connection is \
                  refused, and netdeck says what to do.",
        actions: &[Action::ConnectToAClosedPort],
        show: Show::Client,
    },
    Step {
        caption: "The end: the client disconnects and the server stops; nothing is left running.",
        actions: &[Action::StopAll],
        show: Show::Server,
    },
];

/// The server as the demo starts it.
pub fn server_form(mode: ServerMode) -> ServerForm {
    ServerForm {
        bind: "127.0.0.1".into(),
        port: "0".into(),
        max_clients: String::new(),
        mode,
        reply: REPLY.into(),
        ..ServerForm::default()
    }
}

/// The client connecting to `port` on loopback, sending `text` as it is.
pub fn client_form(port: u16, text: &str) -> ClientForm {
    ClientForm {
        host: "127.0.0.1".into(),
        port: port.to_string(),
        tls: false,
        insecure: false,
        payload: text.into(),
        hex: false,
        line_ending: LineEndingChoice::None,
        ..ClientForm::default()
    }
}

/// A request of the demo to the server at `address`.
pub fn http_form(
    address: std::net::SocketAddr,
    method: &str,
    path: &str,
    json: Option<&str>,
) -> HttpForm {
    HttpForm {
        method: method.into(),
        url: format!("http://{address}{path}"),
        body: json.unwrap_or_default().into(),
        json: json.is_some(),
        ..HttpForm::default()
    }
}

/// A loopback port where nothing listens: one the system just gave out and took back.
pub fn closed_port() -> Result<u16, NetError> {
    let any = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let listener =
        std::net::TcpListener::bind(any).map_err(|error| NetError::from_bind(any, error))?;
    let port = (listener.local_addr()).map_err(|error| NetError::from_bind(any, error))?;
    Ok(port.port())
}
