//! One conversation, for every session that has one (a client connection, a server's
//! connection): what was sent and received in order, with notes, bounded, and shown through a
//! model that a `ConversationView` draws.

use std::collections::VecDeque;
use std::rc::Rc;
use std::time::SystemTime;

use slint::{Model, ModelRc, VecModel};

use super::fonts::{self, Script};
use super::ui::{ConversationDirection as Direction, ConversationLine, FlowKind, FlowMark};
use super::{Millis, Since, Span, clock_ms};
use crate::payload::{self, ByteCount, Lines};

/// How much of a conversation is kept for display; the counters still count everything.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries kept; older ones are dropped.
    pub entries: usize,
    /// Bytes kept per entry; a longer run of data keeps its end.
    pub entry_bytes: usize,
    /// Bytes kept in all; the oldest entries go first.
    pub total_bytes: usize,
}

/// Data joins the entry before it only while it keeps coming this quickly: a pause makes a
/// new entry, as a message of its own.
const RUN_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// A client connection's conversation: up to 500 entries of up to 4 KiB.
pub const CLIENT_LIMITS: Limits = Limits {
    entries: 500,
    entry_bytes: 4096,
    total_bytes: 500 * 4096,
};

/// What a note stands for in the flow of the connection; data is always `Said`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// Only words: data, or a note with no place of its own in the flow.
    Said,
    /// The connection is up: `tcp` is how long this end's connect took (SYN to established),
    /// `None` for a connection accepted by a server; `tls` the handshake after it.
    Connected {
        tcp: Option<std::time::Duration>,
        tls: Option<(String, std::time::Duration)>,
    },
    /// An orderly close, by the client's end (`by_server` false) or the server's.
    Closed { by_server: bool },
    /// The connection was reset.
    Reset,
    /// Connecting, or the connection, failed.
    Failed,
}

pub struct Entry {
    pub time: SystemTime,
    /// When its last bytes came.
    latest: SystemTime,
    pub direction: Direction,
    /// Data (bounded to its last `entry_bytes`), or a note's text.
    pub bytes: Vec<u8>,
    /// Bytes of this run that are no longer kept.
    pub dropped: u64,
    /// Where the first byte kept sits in its direction's stream, for hex dumps' offsets.
    pub offset: u64,
    pub mark: Mark,
}

impl Entry {
    /// The entry as the view shows it, after an entry at `previous`, and the script of any
    /// character no installed font can draw (such characters are shown as escapes).
    fn line(
        &self,
        number: i32,
        hex: bool,
        previous: Option<SystemTime>,
    ) -> (ConversationLine, Option<Script>) {
        let text = match self.direction {
            Direction::Note => String::from_utf8_lossy(&self.bytes).into_owned(),
            _ if hex => {
                let dump = payload::hex_dump(&self.bytes, self.offset);
                dump.trim_end().to_string()
            }
            _ => payload::display_text(&self.bytes, Lines::Keep),
        };
        let text = if self.dropped > 0 {
            format!("… ({} earlier) {text}", ByteCount(self.dropped))
        } else {
            text
        };
        let shown = fonts::shown(text);
        let gap = previous
            .and_then(|previous| self.time.duration_since(previous).ok())
            .map(|gap| format!("+{}", Span(gap)))
            .unwrap_or_default();
        let line = ConversationLine {
            number,
            time: clock_ms(self.time).into(),
            gap: gap.into(),
            direction: self.direction,
            text: shown.drawn,
            spoken: shown.spoken,
        };
        (line, shown.missing)
    }
}

/// What an addition did to the entries, for the view to do the same to its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Entries dropped from the front to stay within the limits.
    pub dropped: usize,
    /// Whether the last entry grew instead of a new one being added.
    pub grew: bool,
}

/// The entries of one conversation, without any view.
pub struct Transcript {
    limits: Limits,
    entries: VecDeque<Entry>,
    /// Bytes the entries hold.
    kept: usize,
    /// Bytes so far in each direction, sent and received.
    sent: u64,
    received: u64,
    /// Entries no longer kept, for the flow view to count.
    pub forgotten: u64,
    /// When the first entry came: the flow's times count from it.
    pub began: Option<SystemTime>,
}

impl Transcript {
    pub fn new(limits: Limits) -> Self {
        Transcript {
            limits,
            entries: VecDeque::new(),
            kept: 0,
            sent: 0,
            received: 0,
            forgotten: 0,
            began: None,
        }
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Forgets the entries; offsets go on counting from where the stream is.
    pub fn clear(&mut self) {
        self.forgotten += self.entries.len() as u64;
        self.entries.clear();
        self.kept = 0;
    }

    /// The number of the entry at `row`, counted from the conversation's first entry: it
    /// names the entry while older ones are dropped.
    fn number_of(&self, row: usize) -> i32 {
        (self.forgotten + row as u64) as i32
    }

    /// A note that only says something.
    pub fn note(&mut self, text: String) -> Change {
        self.mark(text, Mark::Said)
    }

    /// A note that is also a mark in the flow.
    pub fn mark(&mut self, text: String, mark: Mark) -> Change {
        self.push(Entry {
            time: SystemTime::now(),
            direction: Direction::Note,
            latest: SystemTime::now(),
            bytes: text.into_bytes(),
            dropped: 0,
            offset: 0,
            mark,
        })
    }

    /// Data joins the last entry while the direction stays the same and it keeps coming.
    pub fn data(&mut self, direction: Direction, bytes: &[u8]) -> Change {
        self.add(direction, bytes, true)
    }

    /// A datagram: an entry of its own, however soon it follows the last.
    pub fn datagram(&mut self, direction: Direction, bytes: &[u8]) -> Change {
        self.add(direction, bytes, false)
    }

    fn add(&mut self, direction: Direction, bytes: &[u8], joins: bool) -> Change {
        let now = SystemTime::now();
        let limit = self.limits.entry_bytes;
        let total = match direction {
            Direction::Sent => &mut self.sent,
            _ => &mut self.received,
        };
        let start = *total;
        *total += bytes.len() as u64;
        if joins
            && let Some(last) = self.entries.back_mut()
            && last.direction == direction
            && now.duration_since(last.latest).unwrap_or_default() < RUN_PAUSE
        {
            last.latest = now;
            let before = last.bytes.len();
            last.bytes.extend_from_slice(bytes);
            let excess = last.bytes.len().saturating_sub(limit);
            last.bytes.drain(..excess);
            last.dropped += excess as u64;
            last.offset += excess as u64;
            self.kept = self.kept + last.bytes.len() - before;
            return Change {
                dropped: self.trim(),
                grew: true,
            };
        }
        let keep_from = bytes.len().saturating_sub(limit);
        self.push(Entry {
            time: now,
            latest: now,
            direction,
            bytes: bytes[keep_from..].to_vec(),
            dropped: keep_from as u64,
            // A datagram's dump counts from its own first byte; a stream's from the stream's.
            offset: if joins { start } else { 0 } + keep_from as u64,
            mark: Mark::Said,
        })
    }

    fn push(&mut self, entry: Entry) -> Change {
        self.began.get_or_insert(entry.time);
        self.kept += entry.bytes.len();
        self.entries.push_back(entry);
        Change {
            dropped: self.trim(),
            grew: false,
        }
    }

    /// Drops the oldest entries (never the newest) until the limits hold; says how many.
    fn trim(&mut self) -> usize {
        let mut dropped = 0;
        while self.entries.len() > 1
            && (self.entries.len() > self.limits.entries || self.kept > self.limits.total_bytes)
        {
            let oldest = self.entries.pop_front().expect("more than one entry");
            self.kept -= oldest.bytes.len();
            dropped += 1;
        }
        self.forgotten += dropped as u64;
        dropped
    }
}

/// Which end of the connection this window is: its flow draws the client on the left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Client,
    Server,
}

/// Bytes of data a flow arrow's label shows at most.
const PREVIEW_BYTES: usize = 24;

impl Entry {
    /// The entry as a mark of the flow view, on `end`'s side of the connection, timed from
    /// `began`.
    fn flow_mark(
        &self,
        number: i32,
        end: End,
        hex: bool,
        began: Option<SystemTime>,
    ) -> (FlowMark, Option<Script>) {
        let at = began
            .and_then(|began| self.time.duration_since(began).ok())
            .map(|since| Since(since).to_string())
            .unwrap_or_default();
        let text = || String::from_utf8_lossy(&self.bytes).into_owned();
        let (kind, from_server, label) = match (&self.mark, self.direction) {
            (Mark::Said, Direction::Note) => (FlowKind::Note, false, text()),
            (Mark::Said, direction) => {
                let from_server = (direction == Direction::Sent) == (end == End::Server);
                let size = ByteCount(self.bytes.len() as u64 + self.dropped);
                let label = format!("{size} · {}", preview(&self.bytes, hex));
                (FlowKind::Data, from_server, label)
            }
            (Mark::Connected { tcp, tls }, _) => {
                let tcp = match tcp {
                    Some(took) => format!("connect (SYN → established) {}", Millis(*took)),
                    None => "connection accepted".to_string(),
                };
                match tls {
                    Some((version, took)) => (
                        FlowKind::Tls,
                        false,
                        format!("{tcp} · TLS handshake {} ({version})", Millis(*took)),
                    ),
                    None => (FlowKind::Connect, false, tcp),
                }
            }
            (Mark::Closed { by_server }, _) => {
                let by = if *by_server { "server" } else { "client" };
                (
                    FlowKind::Close,
                    *by_server,
                    format!("close (FIN) by the {by}"),
                )
            }
            (Mark::Reset, _) => (FlowKind::Reset, false, format!("reset (RST): {}", text())),
            (Mark::Failed, _) => (FlowKind::Failure, false, text()),
        };
        flow_mark(number, kind, from_server, label, at)
    }
}

/// A mark of a flow view (a connection's or the HTTP tab's): its label drawn by the font rule,
/// and read out with what its arrow says. Tells the script of what cannot be drawn, for the
/// view's font note.
pub fn flow_mark(
    number: i32,
    kind: FlowKind,
    from_server: bool,
    label: String,
    at: String,
) -> (FlowMark, Option<Script>) {
    let shown = fonts::shown(label);
    let said = shown.spoken.as_str();
    let spoken = match kind {
        FlowKind::Data if from_server => format!("Server to client: {said}"),
        FlowKind::Data => format!("Client to server: {said}"),
        FlowKind::Request => format!("Request: {said}"),
        FlowKind::Response => format!("Answer: {said}"),
        _ => said.to_string(),
    };
    let mark = FlowMark {
        number,
        kind,
        from_server,
        label: shown.drawn,
        at: at.into(),
        spoken: spoken.into(),
    };
    (mark, shown.missing)
}

/// The first bytes of some data, as text or hex, for an arrow's label.
fn preview(bytes: &[u8], hex: bool) -> String {
    // Cut after a whole character: a UTF-8 character goes on through its continuation bytes.
    let mut end = bytes.len().min(PREVIEW_BYTES);
    while end < bytes.len() && bytes[end] & 0xC0 == 0x80 {
        end += 1;
    }
    let more = if bytes.len() > end { "…" } else { "" };
    let head = &bytes[..end];
    if hex {
        let pairs: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let more = if bytes.len() > 8 { " …" } else { "" };
        return format!("{}{more}", pairs.join(" "));
    }
    format!("{}{more}", payload::display_text(head, Lines::Escape))
}

/// What a `ConversationView` and a `FlowView` show for one transcript at a time: a line and
/// a mark per entry, so the mark at a row stands for the line at the same row.
pub struct ConversationModel {
    end: End,
    lines: Rc<VecModel<ConversationLine>>,
    flow: Rc<VecModel<FlowMark>>,
    /// Entries of the transcript shown that are no longer kept.
    pub forgotten: u64,
    /// A script in the conversation that no installed font can draw.
    pub missing_script: Option<Script>,
}

impl ConversationModel {
    pub fn new(end: End) -> Self {
        ConversationModel {
            end,
            lines: Rc::new(VecModel::default()),
            flow: Rc::new(VecModel::default()),
            forgotten: 0,
            missing_script: None,
        }
    }

    pub fn model(&self) -> ModelRc<ConversationLine> {
        ModelRc::from(self.lines.clone())
    }

    pub fn flow(&self) -> ModelRc<FlowMark> {
        ModelRc::from(self.flow.clone())
    }

    /// Shows every entry of `transcript` (another one, or after a change of text or hex).
    pub fn show(&mut self, transcript: &Transcript, hex: bool) {
        let mut missing = None;
        let mut previous = None;
        let (lines, marks): (Vec<_>, Vec<_>) = (transcript.entries().enumerate())
            .map(|(row, entry)| {
                let number = transcript.number_of(row);
                let (line, in_line) = entry.line(number, hex, previous);
                let (mark, in_mark) = entry.flow_mark(number, self.end, hex, transcript.began);
                missing = missing.or(in_line).or(in_mark);
                previous = Some(entry.time);
                (line, mark)
            })
            .unzip();
        self.lines.set_vec(lines);
        self.flow.set_vec(marks);
        self.missing_script = missing;
        self.forgotten = transcript.forgotten;
    }

    /// Shows nothing.
    pub fn clear(&mut self) {
        self.lines.set_vec(Vec::new());
        self.flow.set_vec(Vec::new());
        self.missing_script = None;
        self.forgotten = 0;
    }

    /// Follows `change`, just made to the transcript shown.
    pub fn follow(&mut self, transcript: &Transcript, change: Change, hex: bool) {
        for _ in 0..change.dropped.min(self.lines.row_count()) {
            self.lines.remove(0);
            self.flow.remove(0);
        }
        self.forgotten = transcript.forgotten;
        let mut newest = transcript.entries.iter().rev();
        let Some(last) = newest.next() else {
            return;
        };
        let number = transcript.number_of(transcript.entries.len() - 1);
        let (line, in_line) = last.line(number, hex, newest.next().map(|entry| entry.time));
        let (mark, in_mark) = last.flow_mark(number, self.end, hex, transcript.began);
        self.missing_script = self.missing_script.or(in_line).or(in_mark);
        match self.lines.row_count() {
            rows if change.grew && rows > 0 => {
                self.lines.set_row_data(rows - 1, line);
                self.flow.set_row_data(rows - 1, mark);
            }
            _ => {
                self.lines.push(line);
                self.flow.push(mark);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_cuts_after_a_whole_character() {
        let text = "abcdefghijklmnopqrstuvw안녕";
        assert_eq!(
            preview(text.as_bytes(), false),
            "abcdefghijklmnopqrstuvw안…"
        );
    }

    #[test]
    fn a_hex_view_counts_offsets_from_the_start_of_each_direction() {
        let mut transcript = Transcript::new(Limits {
            entries: 10,
            entry_bytes: 16,
            total_bytes: 64,
        });
        transcript.data(Direction::Received, &[b'a'; 20]);
        transcript.data(Direction::Sent, b"ok");
        transcript.data(Direction::Received, b"bc");
        let mut shown = ConversationModel::new(End::Client);
        shown.show(&transcript, true);
        let lines: Vec<_> = (shown.model().iter())
            .map(|line| line.text.to_string())
            .collect();
        // The first run kept its last 16 bytes, which start 4 bytes into the stream.
        assert!(
            lines[0].starts_with("… (4 B earlier) 00000004  61 61"),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("00000000  6f 6b"), "{}", lines[1]);
        assert!(lines[2].starts_with("00000014  62 63"), "{}", lines[2]);
    }

    #[test]
    fn datagrams_stay_apart_and_each_dump_starts_at_its_own_first_byte() {
        let mut transcript = Transcript::new(Limits {
            entries: 10,
            entry_bytes: 64,
            total_bytes: 256,
        });
        transcript.datagram(Direction::Received, b"first");
        transcript.datagram(Direction::Received, b"second");
        let mut shown = ConversationModel::new(End::Server);
        shown.show(&transcript, true);
        let lines: Vec<_> = (shown.model().iter())
            .map(|line| line.text.to_string())
            .collect();
        assert_eq!(lines.len(), 2, "two datagrams, two entries: {lines:?}");
        assert!(lines[0].starts_with("00000000  66 69"), "{}", lines[0]);
        assert!(lines[1].starts_with("00000000  73 65"), "{}", lines[1]);
    }

    #[test]
    fn the_flow_keeps_a_mark_per_kept_entry_and_counts_the_ones_dropped() {
        let mut transcript = Transcript::new(Limits {
            entries: 3,
            entry_bytes: 16,
            total_bytes: 64,
        });
        let mut shown = ConversationModel::new(End::Server);
        shown.show(&transcript, false);
        let connected = Mark::Connected {
            tcp: None,
            tls: None,
        };
        let change = transcript.mark("connected".into(), connected);
        shown.follow(&transcript, change, false);
        for (direction, text) in [
            (Direction::Received, "one"),
            (Direction::Sent, "two"),
            (Direction::Received, "three"),
            (Direction::Sent, "four"),
        ] {
            let change = transcript.data(direction, text.as_bytes());
            shown.follow(&transcript, change, false);
        }
        let marks: Vec<_> = (shown.flow().iter())
            .map(|mark| (mark.kind, mark.from_server, mark.label.to_string()))
            .collect();
        assert_eq!(
            marks,
            [
                (FlowKind::Data, true, "3 B · two".to_string()),
                (FlowKind::Data, false, "5 B · three".to_string()),
                (FlowKind::Data, true, "4 B · four".to_string()),
            ]
        );
        assert_eq!(shown.model().row_count(), 3);
        assert_eq!(shown.forgotten, 2);
        // Each keeps the number of its entry, dropped ones counted, in both models.
        let numbers = |numbers: Vec<i32>| assert_eq!(numbers, [2, 3, 4]);
        numbers(shown.flow().iter().map(|mark| mark.number).collect());
        numbers(shown.model().iter().map(|line| line.number).collect());
    }

    #[test]
    fn a_conversation_keeps_within_its_byte_budget_dropping_the_oldest_entries() {
        let mut transcript = Transcript::new(Limits {
            entries: 100,
            entry_bytes: 16,
            total_bytes: 40,
        });
        for _ in 0..10 {
            transcript.data(Direction::Received, &[b'r'; 16]);
            transcript.data(Direction::Sent, &[b's'; 16]);
        }
        let kept: usize = transcript.entries().map(|e| e.bytes.len()).sum();
        assert!(kept <= 40, "{kept} bytes kept");
        assert_eq!(transcript.entries().count(), 2);
        assert_eq!(
            transcript.entries().last().unwrap().direction,
            Direction::Sent
        );
    }
}
