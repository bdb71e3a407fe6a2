//! The Log tab's controller: every engine event as a line stamped to the millisecond, newest
//! last, capped. The view shortens long data; the exported file has every line whole.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::SystemTime;

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use super::ui::{AppWindow, LogAdapter, LogLine};
use super::{Count, Page, clock_ms};
use crate::engine::{Event, EventKind, SessionId};
use crate::net::client::{ClientEvent, CloseReason};
use crate::net::http::HttpEvent;
use crate::net::server::ServerEvent;
use crate::net::udp::UdpEvent;
use crate::payload::Encoding;
use crate::report::{self, DataStyle};

/// Data is cut to this many characters per line in the view; the line still gives the full size.
const DATA_CHARS: usize = 200;

/// In the exported file, data is whole up to this many characters a line: far beyond anything
/// typed or read as text, while a flood's chunk of several MiB is still given by its size.
const EXPORTED_DATA_CHARS: usize = 64 * 1024;

/// The whole text of lines the view shortens, kept for the export: at most this many bytes in
/// all, so a log of many long lines stays bounded. The oldest lines give theirs up first (and
/// are exported as the view shows them).
const WHOLE_TEXT_BUDGET: usize = 8 * 1024 * 1024;

pub struct LogController {
    window: slint::Weak<AppWindow>,
    lines: Rc<VecModel<LogLine>>,
    dropped: Cell<usize>,
    changed: Cell<bool>,
    /// Lines kept; older ones are dropped and counted.
    cap: Cell<usize>,
    /// Where exported logs go.
    export_dir: PathBuf,
    /// Each live session's name on its lines, once it is known ("server :1234").
    sources: RefCell<HashMap<SessionId, String>>,
    /// The last payload each live session was given to send as hex: when it is sent, its line
    /// shows it as hex, as it was typed.
    hex_payloads: RefCell<HashMap<SessionId, Vec<u8>>>,
    /// Lines pushed so far, cleared or not: the newest line's number is this less one.
    pushed: Cell<u64>,
    /// The whole text of the lines the view shortens, by line number, oldest first.
    whole: RefCell<VecDeque<(u64, String)>>,
    whole_bytes: Cell<usize>,
    /// A script in the lines that no installed font can draw, until the log is cleared.
    missing: Cell<Option<super::fonts::Script>>,
}

impl super::Controller for LogController {
    fn window(&self) -> &slint::Weak<AppWindow> {
        &self.window
    }
}

impl LogController {
    pub fn setup(window: &AppWindow, export_dir: PathBuf) -> Rc<Self> {
        let lines = Rc::new(VecModel::default());
        let adapter = window.global::<LogAdapter>();
        adapter.set_lines(ModelRc::from(lines.clone()));
        let controller = Rc::new(LogController {
            window: window.as_weak(),
            lines,
            dropped: Cell::new(0),
            changed: Cell::new(false),
            cap: Cell::new(crate::config::Settings::default().log_lines),
            export_dir,
            sources: RefCell::default(),
            hex_payloads: RefCell::default(),
            pushed: Cell::new(0),
            whole: RefCell::default(),
            whole_bytes: Cell::new(0),
            missing: Cell::default(),
        });
        adapter.on_clear(super::on(&controller, |c, _| {
            c.lines.clear();
            c.whole.borrow_mut().clear();
            c.whole_bytes.set(0);
            c.dropped.set(0);
            c.missing.set(None);
            c.changed.set(true);
            c.refresh();
        }));
        adapter.on_export(super::on(&controller, |c, w| {
            let (status, failed) = match c.export() {
                Ok(path) => (format!("Saved to {}", path.display()), false),
                Err(error) => (
                    format!("Log not saved in {}: {error}", c.export_dir.display()),
                    true,
                ),
            };
            let adapter = w.global::<LogAdapter>();
            adapter.set_export_status(status.into());
            adapter.set_export_failed(failed);
        }));
        controller
    }

    /// Keeps at most `cap` lines from now on, dropping the oldest at once if there are more.
    pub fn set_cap(&self, cap: usize) {
        self.cap.set(cap);
        self.trim();
        self.refresh();
    }

    /// Writes every line, whole where the view shortens it (credentials masked), to a new
    /// file readable only by its owner; returns its path.
    fn export(&self) -> std::io::Result<PathBuf> {
        let now = SystemTime::now();
        let mut text = format!(
            "# netdeck log, saved {} · {}",
            super::date_time(now),
            Count(self.lines.row_count(), "line")
        );
        if self.dropped.get() > 0 {
            text.push_str(&format!(
                " ({} dropped)",
                Count(self.dropped.get(), "older line")
            ));
        }
        text.push('\n');
        let whole = self.whole.borrow();
        let mut whole = whole.iter().peekable();
        for (number, line) in (self.first_line()..).zip(self.lines.iter()) {
            while whole.next_if(|(kept, _)| *kept < number).is_some() {}
            let said = match whole.next_if(|(kept, _)| *kept == number) {
                Some((_, all)) => all.as_str(),
                None => line.spoken.as_str(),
            };
            text.push_str(&format!("{} [{}] {said}\n", line.time, line.source));
        }
        std::fs::create_dir_all(&self.export_dir)?;
        let stem = format!("netdeck-log-{}", super::file_stamp(now));
        for attempt in 1.. {
            let name = match attempt {
                1 => format!("{stem}.txt"),
                n => format!("{stem}-{n}.txt"),
            };
            let path = self.export_dir.join(name);
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(mut file) => {
                    file.write_all(text.as_bytes())?;
                    file.sync_all()?;
                    return Ok(path);
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(error),
            }
        }
        unreachable!("the attempts never end")
    }

    /// `bytes` are about to be sent by `session`, typed as `encoding`: a hex payload is logged
    /// as hex.
    pub fn sending(&self, session: SessionId, bytes: &[u8], encoding: Encoding) {
        let mut hex_payloads = self.hex_payloads.borrow_mut();
        match encoding {
            Encoding::Hex => hex_payloads.insert(session, bytes.to_vec()),
            Encoding::Text => hex_payloads.remove(&session),
        };
    }

    pub fn on_event(&self, event: &Event) {
        let encoding = self.encoding_of(event);
        let shortened = DataStyle {
            encoding,
            max_chars: Some(DATA_CHARS),
        };
        let Some((text, is_error)) = line(event, shortened) else {
            return;
        };
        let text = report::mask_credentials(&text);
        // Data the view shortens is kept whole for the export.
        let whole = super::carries_data(event)
            .then(|| {
                let style = DataStyle {
                    encoding,
                    max_chars: Some(EXPORTED_DATA_CHARS),
                };
                line(event, style).map(|(whole, _)| report::mask_credentials(&whole))
            })
            .flatten()
            .filter(|whole| *whole != text);
        let source = self.source(event);
        self.push(source, text, whole, is_error);
    }

    /// How the data of `event` is shown: as hex when it is a payload typed as hex.
    fn encoding_of(&self, event: &Event) -> Encoding {
        let sent = match &event.kind {
            EventKind::Client(ClientEvent::Sent(bytes))
            | EventKind::Server(ServerEvent::Sent { bytes, .. })
            | EventKind::Udp(UdpEvent::Sent { bytes, .. }) => bytes,
            _ => return Encoding::Text,
        };
        match self.hex_payloads.borrow().get(&event.session) {
            Some(hex) if hex == sent => Encoding::Hex,
            _ => Encoding::Text,
        }
    }

    /// The name of the session `event` comes from, as its lines say it; forgotten when the
    /// session ends.
    fn source(&self, event: &Event) -> String {
        let mut sources = self.sources.borrow_mut();
        match &event.kind {
            EventKind::Server(ServerEvent::Listening { addr, .. }) => {
                sources.insert(event.session, format!("server :{}", addr.port()));
            }
            EventKind::Udp(UdpEvent::Bound { addr }) => {
                sources.insert(event.session, format!("udp :{}", addr.port()));
            }
            // Named by its own port first, as the flow's lane names it: two connections to
            // one endpoint are told apart even where the column is cut short.
            EventKind::Client(ClientEvent::Connected { peer, local, .. }) => {
                let name = match local {
                    Some(local) => format!("client :{} → {peer}", local.port()),
                    None => format!("client → {peer}"),
                };
                sources.insert(event.session, name);
            }
            _ => {}
        }
        let known = sources.get(&event.session).cloned();
        let ended = matches!(
            &event.kind,
            EventKind::Server(ServerEvent::Stopped)
                | EventKind::ServerFailed(_)
                | EventKind::UdpFailed(_)
                | EventKind::Udp(UdpEvent::Closed { .. })
                | EventKind::Client(ClientEvent::Closed { .. } | ClientEvent::Failed(_))
        );
        if ended {
            sources.remove(&event.session);
            self.hex_payloads.borrow_mut().remove(&event.session);
        }
        known.unwrap_or_else(|| {
            match &event.kind {
                EventKind::Server(_) | EventKind::ServerFailed(_) => "server",
                EventKind::Client(_) => "client",
                EventKind::Http(_) => "HTTP",
                EventKind::Udp(_) | EventKind::UdpFailed(_) => "udp",
            }
            .into()
        })
    }

    fn push(&self, source: String, text: String, whole: Option<String>, is_error: bool) {
        // Characters no installed font has show as escapes, as in the conversations.
        let shown = super::fonts::shown(text);
        self.missing.set(self.missing.get().or(shown.missing));
        self.lines.push(LogLine {
            time: SharedString::from(clock_ms(SystemTime::now())),
            source: source.into(),
            text: shown.drawn,
            spoken: shown.spoken,
            is_error,
        });
        let number = self.pushed.get();
        self.pushed.set(number + 1);
        if let Some(whole) = whole {
            self.whole_bytes.set(self.whole_bytes.get() + whole.len());
            self.whole.borrow_mut().push_back((number, whole));
        }
        self.trim();
        self.changed.set(true);
    }

    /// The number of the oldest line kept.
    fn first_line(&self) -> u64 {
        self.pushed.get() - self.lines.row_count() as u64
    }

    fn trim(&self) {
        let excess = self.lines.row_count().saturating_sub(self.cap.get());
        if excess > 0 {
            let kept: Vec<LogLine> = self.lines.iter().skip(excess).collect();
            self.lines.set_vec(kept);
            self.dropped.set(self.dropped.get() + excess);
            self.changed.set(true);
        }
        let first = self.first_line();
        let mut whole = self.whole.borrow_mut();
        while let Some((number, text)) = whole.front()
            && (*number < first || self.whole_bytes.get() > WHOLE_TEXT_BUDGET)
        {
            self.whole_bytes.set(self.whole_bytes.get() - text.len());
            whole.pop_front();
        }
    }

    /// Publishes the counters once per batch.
    pub fn refresh(&self) {
        if !self.changed.replace(false) {
            return;
        }
        if let Some(window) = self.window.upgrade() {
            let adapter = window.global::<LogAdapter>();
            adapter.set_dropped(self.dropped.get() as i32);
            adapter.set_font_note(super::fonts::font_note(self.missing.get()));
            adapter.set_revision(adapter.get_revision().wrapping_add(1));
        }
    }
}

/// The text of `event`'s line, data shown in `style`, and whether it tells of an error; none
/// for an event the log does not show.
fn line(event: &Event, style: DataStyle) -> Option<(String, bool)> {
    Some(match &event.kind {
        EventKind::Server(event) => (
            report::server_line(event, style),
            matches!(
                event,
                ServerEvent::Refused { .. }
                    | ServerEvent::AcceptFailed { .. }
                    | ServerEvent::TlsOnPlainPort { .. }
            ),
        ),
        EventKind::ServerFailed(error) => (report::error_line(error, &Page::Server), true),
        EventKind::Udp(event) => (
            report::udp_line(event, style, &Page::Udp),
            matches!(event, UdpEvent::Failed(_)),
        ),
        EventKind::UdpFailed(error) => (report::error_line(error, &Page::Udp), true),
        EventKind::Client(event) => (
            report::client_line(event, style, &Page::Client),
            matches!(
                event,
                ClientEvent::Failed(_)
                    | ClientEvent::Closed {
                        reason: CloseReason::Failed(_),
                        ..
                    }
            ),
        ),
        EventKind::Http(event) => match report::http_line(event, &Page::Http) {
            Some(line) => (
                line,
                matches!(event, HttpEvent::Done(result) if result.is_err()),
            ),
            None => return None,
        },
    })
}
