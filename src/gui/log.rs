//! The Log tab's controller: every engine event as a timestamped line, newest last, capped.

use std::cell::Cell;
use std::rc::Rc;
use std::time::SystemTime;

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use super::clock;
use super::ui::{AppWindow, LogAdapter, LogLine};
use crate::net::client::{ClientEvent, CloseReason};
use crate::net::server::ServerEvent;
use crate::payload::Encoding;
use crate::report::{self, DataStyle};
use crate::runtime::{Event, HttpEvent};

/// Lines kept; older ones are dropped and counted.
const LOG_CAP: usize = 1000;
/// Data is cut to this many characters per line; the line still gives the full size.
const DATA_CHARS: usize = 200;

pub struct LogController {
    window: slint::Weak<AppWindow>,
    lines: Rc<VecModel<LogLine>>,
    dropped: Cell<usize>,
    changed: Cell<bool>,
}

impl LogController {
    pub fn setup(window: &AppWindow) -> Rc<Self> {
        let lines = Rc::new(VecModel::default());
        let adapter = window.global::<LogAdapter>();
        adapter.set_lines(ModelRc::from(lines.clone()));
        let controller = Rc::new(LogController {
            window: window.as_weak(),
            lines,
            dropped: Cell::new(0),
            changed: Cell::new(false),
        });
        let weak = Rc::downgrade(&controller);
        adapter.on_clear(move || {
            if let Some(controller) = weak.upgrade() {
                controller.lines.clear();
                controller.dropped.set(0);
                controller.changed.set(true);
                controller.refresh();
            }
        });
        controller
    }

    pub fn on_event(&self, event: &Event) {
        let style = DataStyle {
            encoding: Encoding::Text,
            max_chars: Some(DATA_CHARS),
        };
        let (text, is_error) = match event {
            Event::Server(event) => (
                report::server_line(event, style),
                matches!(
                    event,
                    ServerEvent::Refused { .. } | ServerEvent::AcceptFailed { .. }
                ),
            ),
            Event::ServerFailed(error) => (report::error_line(error), true),
            Event::Client(event) => (
                report::client_line(event, style),
                matches!(
                    event,
                    ClientEvent::Failed(_)
                        | ClientEvent::Closed {
                            reason: CloseReason::Failed(_),
                            ..
                        }
                ),
            ),
            Event::Http(event) => match report::http_line(event) {
                Some(line) => (
                    line,
                    matches!(event, HttpEvent::Done(result) if result.is_err()),
                ),
                None => return,
            },
        };
        self.push(report::mask_credentials(&text), is_error);
    }

    fn push(&self, text: String, is_error: bool) {
        self.lines.push(LogLine {
            time: SharedString::from(clock(SystemTime::now())),
            text: SharedString::from(text),
            is_error,
        });
        while self.lines.row_count() > LOG_CAP {
            self.lines.remove(0);
            self.dropped.set(self.dropped.get() + 1);
        }
        self.changed.set(true);
    }

    /// Publishes the counters once per batch.
    pub fn refresh(&self) {
        if !self.changed.replace(false) {
            return;
        }
        if let Some(window) = self.window.upgrade() {
            let adapter = window.global::<LogAdapter>();
            adapter.set_dropped(self.dropped.get() as i32);
            adapter.set_revision(adapter.get_revision().wrapping_add(1));
        }
    }
}
