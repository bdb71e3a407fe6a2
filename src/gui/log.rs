//! The Log tab's controller: every engine event as a timestamped line, newest last, capped.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::SystemTime;

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use super::ui::{AppWindow, LogAdapter, LogLine};
use super::{Count, Page, clock};
use crate::engine::{Event, EventKind, SessionId};
use crate::net::client::{ClientEvent, CloseReason};
use crate::net::http::HttpEvent;
use crate::net::server::ServerEvent;
use crate::net::udp::UdpEvent;
use crate::payload::Encoding;
use crate::report::{self, DataStyle};

/// Data is cut to this many characters per line; the line still gives the full size.
const DATA_CHARS: usize = 200;

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
            missing: Cell::default(),
        });
        adapter.on_clear(super::on(&controller, |c, _| {
            c.lines.clear();
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

    /// Writes every line, as shown (credentials masked), to a new file readable only by
    /// its owner; returns its path.
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
        for line in self.lines.iter() {
            text.push_str(&format!(
                "{} [{}] {}\n",
                line.time, line.source, line.spoken
            ));
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

    pub fn on_event(&self, event: &Event) {
        let style = DataStyle {
            encoding: Encoding::Text,
            max_chars: Some(DATA_CHARS),
        };
        let (text, is_error) = match &event.kind {
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
                None => return,
            },
        };
        let source = self.source(event);
        self.push(source, report::mask_credentials(&text), is_error);
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
            EventKind::Client(ClientEvent::Connected { peer, .. }) => {
                sources.insert(event.session, format!("client → {peer}"));
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

    fn push(&self, source: String, text: String, is_error: bool) {
        // Characters no installed font has show as escapes, as in the conversations.
        let shown = super::fonts::shown(text);
        self.missing.set(self.missing.get().or(shown.missing));
        self.lines.push(LogLine {
            time: SharedString::from(clock(SystemTime::now())),
            source: source.into(),
            text: shown.drawn,
            spoken: shown.spoken,
            is_error,
        });
        self.trim();
        self.changed.set(true);
    }

    fn trim(&self) {
        let excess = self.lines.row_count().saturating_sub(self.cap.get());
        if excess > 0 {
            let kept: Vec<LogLine> = self.lines.iter().skip(excess).collect();
            self.lines.set_vec(kept);
            self.dropped.set(self.dropped.get() + excess);
            self.changed.set(true);
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
