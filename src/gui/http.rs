//! The HTTP tab's controller: checks the request (URL, headers, JSON body) before anything is
//! sent, and shows the response: status, summary, timing waterfall, headers and body.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};
use surf::http::url::Host;

use super::conversation::flow_mark;
use super::fonts::{self, Script, Shown};
use super::server::ServerController;
use super::ui::{AppWindow, FlowKind, FlowMark, HeaderRow, HttpAdapter, Phase, SettingsAdapter};
use super::{Count, Millis, Page, Since};
use crate::engine::{
    Command, Engine, Event, EventKind, HttpSettings, HttpSpec, SessionId, SessionSpec,
};
use crate::forms::parse::{parse_proxy, parse_seconds};
use crate::forms::{Header, HttpForm};
use crate::net::NetError;
use crate::net::http::proxy::{ProxyChoice, ProxyRoutes, ProxySettings};
use crate::net::http::{BodyPart, HttpEvent, HttpRequest, HttpResponse};
use crate::payload::{self, ByteCount, Lines};

/// What to do about a request to one of the Server tab's listeners that does not speak HTTP.
const SWITCH_TO_HTTP: &str =
    "Switch it to HTTP mode on the Server tab, or send the request elsewhere.";

/// Body text shown at most; a bigger body is cut in the view (it was counted in full).
const SHOWN_BODY: usize = 64 * 1024;

/// Answers kept to be shown again, newest first.
const HISTORY: usize = 10;

/// Marks the flow view keeps: the last few exchanges.
const FLOW_MARKS: usize = 60;

/// A response as the tab shows it, kept to be shown again.
struct Answer {
    /// Its exchange's number, which the exchange's marks in the flow carry.
    exchange: u64,
    /// How the history lists it: "GET http://… → 200 OK · 12:00:01".
    title: String,
    answered: String,
    status: String,
    status_class: i32,
    summary: String,
    phases: Vec<Phase>,
    timing: String,
    headers: Shown,
    /// At most `SHOWN_BODY` of the body, as the view shows it.
    body: Shown,
}

/// The request under way, as its answer will name it.
struct Sent {
    /// `GET http://host/path`
    request: String,
    at: SystemTime,
    /// As the flow's request arrow says it: `GET /path · 34 B`.
    arrow: String,
}

/// Every exchange of the tab as a sequence diagram: the connect (unless a kept-alive
/// connection was reused), the request and the answer, the newest last. Each mark carries its
/// exchange's number, which its answer in the history carries too.
#[derive(Default)]
struct ExchangeFlow {
    marks: Rc<VecModel<FlowMark>>,
    forgotten: u64,
    began: Option<SystemTime>,
    /// A script in the labels that no installed font can draw.
    missing: Option<Script>,
    /// The session of each exchange with marks in the flow, oldest first.
    sessions: VecDeque<(u64, SessionId)>,
}

impl ExchangeFlow {
    fn push(
        &mut self,
        kind: FlowKind,
        from_server: bool,
        label: String,
        exchange: u64,
        at: SystemTime,
    ) {
        let began = *self.began.get_or_insert(at);
        let since = at.duration_since(began).unwrap_or_default();
        let at = Since(since).to_string();
        let (mark, missing) = flow_mark(exchange as i32, kind, from_server, label, at);
        self.missing = self.missing.or(missing);
        self.marks.push(mark);
        if self.marks.row_count() > FLOW_MARKS {
            self.marks.remove(0);
            self.forgotten += 1;
            let first = self.marks.row_data(0).map_or(0, |mark| mark.number as u64);
            while (self.sessions.front()).is_some_and(|(number, _)| *number < first) {
                self.sessions.pop_front();
            }
        }
    }

    /// Takes the marks of the exchanges that were the sessions `ids` out of the flow; tells
    /// those exchanges' numbers.
    fn forget(&mut self, ids: &[SessionId]) -> Vec<u64> {
        let numbers: Vec<u64> = (self.sessions.iter())
            .filter(|(_, id)| ids.contains(id))
            .map(|(number, _)| *number)
            .collect();
        if numbers.is_empty() {
            return numbers;
        }
        self.sessions.retain(|(_, id)| !ids.contains(id));
        let kept: Vec<FlowMark> = (self.marks.iter())
            .filter(|mark| !numbers.contains(&(mark.number as u64)))
            .collect();
        if kept.is_empty() {
            // The next exchange starts the timeline again, with nothing to name.
            self.began = None;
            self.missing = None;
        }
        self.marks.set_vec(kept);
        numbers
    }

    /// One exchange, numbered `exchange`: its connection if new and the request, when they
    /// were sent, then what came of it.
    fn exchange(
        &mut self,
        sent: &Sent,
        result: Result<&HttpResponse, String>,
        (exchange, session): (u64, SessionId),
    ) {
        self.sessions.push_back((exchange, session));
        // An answer is placed by its own measured time, not by when the window got to it.
        let now = match result {
            Ok(response) => sent.at + response.timings.total,
            Err(_) => SystemTime::now(),
        };
        if let Ok(response) = result
            && !response.reused_connection
        {
            let t = &response.timings;
            let connect = format!("connect (SYN → established) {}", Millis(t.connect));
            let (kind, label) = match t.tls {
                Some(tls) => (
                    FlowKind::Tls,
                    format!("{connect} · TLS handshake {}", Millis(tls)),
                ),
                None => (FlowKind::Connect, connect),
            };
            self.push(kind, false, label, exchange, sent.at);
        }
        self.push(
            FlowKind::Request,
            false,
            sent.arrow.clone(),
            exchange,
            sent.at,
        );
        match result {
            Ok(response) => {
                if !response.redirects.is_empty() {
                    let redirects = Count(response.redirects.len(), "redirect");
                    self.push(
                        FlowKind::Note,
                        false,
                        format!("after {redirects}"),
                        exchange,
                        now,
                    );
                }
                let label = format!(
                    "{} {} · {} · {}",
                    response.status,
                    response.reason,
                    ByteCount(response.body_bytes),
                    Millis(response.timings.total)
                );
                self.push(FlowKind::Response, true, label, exchange, now);
            }
            Err(error) => self.push(FlowKind::Failure, false, error, exchange, now),
        }
    }
}

/// A request as its flow arrow says it: method, path and body size.
fn arrow(request: &HttpRequest) -> String {
    let mut target = request.url.path().to_string();
    if let Some(query) = request.url.query() {
        target.push('?');
        target.push_str(query);
    }
    let bytes: usize = (request.body.0.iter())
        .map(|part| match part {
            BodyPart::Bytes(bytes) => bytes.len(),
            BodyPart::File(_) => 0,
        })
        .sum();
    let file = (request.body.0.iter()).any(|part| matches!(part, BodyPart::File(_)));
    match (bytes, file) {
        (0, false) => format!("{} {target}", request.method),
        (_, false) => format!("{} {target} · {}", request.method, ByteCount(bytes as u64)),
        (_, true) => format!("{} {target} · a file", request.method),
    }
}

pub struct HttpController {
    window: slint::Weak<AppWindow>,
    engine: Rc<Engine>,
    /// The Server tab's listeners, which a request may reach.
    server: Rc<ServerController>,
    /// Why the request under way will not be answered, said as it started: the Server tab's
    /// listener it goes to does not speak HTTP.
    unanswered: RefCell<Option<String>>,
    headers: Rc<VecModel<HeaderRow>>,
    phases: Rc<VecModel<Phase>>,
    sent: RefCell<Option<Sent>>,
    /// The exchange whose answer the tab shows (or waits for).
    exchange: Cell<Option<SessionId>>,
    history: RefCell<VecDeque<Answer>>,
    history_titles: Rc<VecModel<SharedString>>,
    /// Exchanges ended so far, answered or not: each is numbered by it.
    exchanges: Cell<u64>,
    flow: RefCell<ExchangeFlow>,
    /// A script in the answer shown that no installed font can draw.
    answer_missing: Cell<Option<Script>>,
}

impl super::Controller for HttpController {
    fn window(&self) -> &slint::Weak<AppWindow> {
        &self.window
    }
}

impl HttpController {
    pub fn setup(window: &AppWindow, engine: Rc<Engine>, server: Rc<ServerController>) -> Rc<Self> {
        let adapter = window.global::<HttpAdapter>();
        let headers = Rc::new(VecModel::from(vec![HeaderRow::default()]));
        let phases = Rc::new(VecModel::default());
        adapter.set_headers(ModelRc::from(headers.clone()));
        adapter.set_phases(ModelRc::from(phases.clone()));
        let history_titles = Rc::new(VecModel::default());
        adapter.set_history(ModelRc::from(history_titles.clone()));
        let flow = ExchangeFlow::default();
        adapter.set_flow(ModelRc::from(flow.marks.clone()));
        let controller = Rc::new(HttpController {
            window: window.as_weak(),
            engine,
            server,
            unanswered: RefCell::default(),
            headers,
            phases,
            sent: RefCell::default(),
            exchange: Cell::default(),
            history: RefCell::default(),
            history_titles,
            exchanges: Cell::new(0),
            flow: RefCell::new(flow),
            answer_missing: Cell::default(),
        });
        adapter.on_open_mark(super::on_value(
            &controller,
            |c: &Self, w, exchange: i32| {
                let history = c.history.borrow();
                if let Some(answer) =
                    (history.iter()).find(|answer| answer.exchange as i32 == exchange)
                {
                    c.display(&w.global::<HttpAdapter>(), answer);
                }
            },
        ));
        adapter.on_show_answer(super::on_value(&controller, |c: &Self, w, index: i32| {
            if let Some(answer) = c.history.borrow().get(index as usize) {
                c.display(&w.global::<HttpAdapter>(), answer);
            }
        }));
        adapter.on_send(super::on(&controller, |c, window| {
            if c.send().is_some() {
                super::typing_ended(window);
            }
        }));
        adapter.on_cancel(super::on(&controller, |c, _| {
            if let Some(exchange) = c.exchange.get() {
                c.engine.close(exchange);
            }
        }));
        adapter.on_add_header(super::on(&controller, |c, _| {
            c.headers.push(HeaderRow::default())
        }));
        adapter.on_remove_header(super::on_value(&controller, |c: &Self, _, index: i32| {
            if (index as usize) < c.headers.row_count() {
                c.headers.remove(index as usize);
            }
        }));
        adapter.on_clear_cookies(super::on(&controller, |c, w| {
            c.engine.send(Command::ClearCookies);
            (w.global::<HttpAdapter>()).set_cookies_note("Cookies cleared.".into());
        }));
        let weak = Rc::downgrade(&controller);
        adapter.on_header_edited(move |index, name, value| {
            if let Some(controller) = weak.upgrade()
                && (index as usize) < controller.headers.row_count()
            {
                controller
                    .headers
                    .set_row_data(index as usize, HeaderRow { name, value });
            }
        });
        controller
    }

    /// Sends the tab's request, unless a field is wrong (the error then shows under it);
    /// tells the exchange's id.
    pub fn send(&self) -> Option<SessionId> {
        let window = self.window.upgrade()?;
        let adapter = window.global::<HttpAdapter>();
        for set in [
            HttpAdapter::set_url_error,
            HttpAdapter::set_header_error,
            HttpAdapter::set_body_error,
            HttpAdapter::set_options_error,
            HttpAdapter::set_error,
            HttpAdapter::set_error_hint,
            HttpAdapter::set_cookies_note,
        ] {
            set(&adapter, SharedString::new());
        }
        let checked = fields(&window)
            .check()
            .and_then(|request| Ok((request, settings(&window)?)));
        match checked {
            Ok((request, settings)) => {
                adapter.set_busy(true);
                adapter.set_progress(format!("Sending {} {}…", request.method, request.url).into());
                *self.sent.borrow_mut() = Some(Sent {
                    request: format!("{} {}", request.method, request.url),
                    at: SystemTime::now(),
                    arrow: arrow(&request),
                });
                let path = |text: SharedString| {
                    let text = text.trim().to_string();
                    (!text.is_empty()).then(|| std::path::PathBuf::from(text))
                };
                // The tab shows one answer: a request still under way gives way to this one.
                if let Some(previous) = self.exchange.take() {
                    self.engine.close(previous);
                }
                let unanswered = self.own_listener_unanswering(&request.url, &settings.proxy);
                if let Some(why) = &unanswered {
                    adapter.set_error(why.as_str().into());
                    adapter.set_error_hint(SWITCH_TO_HTTP.into());
                }
                *self.unanswered.borrow_mut() = unanswered;
                let id = self.engine.open(SessionSpec::Http(Box::new(HttpSpec {
                    request,
                    settings,
                    body_file: path(adapter.get_body_file()),
                    save_to: path(adapter.get_save_path()),
                })));
                self.exchange.set(Some(id));
                Some(id)
            }
            Err(error) => {
                let message = SharedString::from(error.to_string());
                match error.field() {
                    Some("url") => adapter.set_url_error(message),
                    Some("header") => adapter.set_header_error(message),
                    Some("json") => adapter.set_body_error(message),
                    Some("timeout" | "max-redirects" | "proxy") => {
                        adapter.set_options_error(message);
                        adapter.set_view(2);
                    }
                    _ => {
                        adapter.set_error(message);
                        adapter.set_error_hint(error.hint(&Page::Http).into());
                    }
                }
                None
            }
        }
    }

    /// Why a request to `url` will get no answer from this window's own Server tab, when it
    /// goes there directly and the listener on its port does not speak HTTP.
    fn own_listener_unanswering(&self, url: &surf::Url, proxy: &ProxySettings) -> Option<String> {
        let through_proxy =
            ProxyRoutes::new(proxy).is_ok_and(|routes| routes.for_url(url).is_some());
        if through_proxy {
            return None;
        }
        let addresses: Vec<IpAddr> = match url.host()? {
            Host::Ipv4(ip) => vec![ip.into()],
            Host::Ipv6(ip) => vec![ip.into()],
            // What localhost names without asking a resolver.
            Host::Domain(name) if name.eq_ignore_ascii_case("localhost") => {
                vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()]
            }
            Host::Domain(_) => return None,
        };
        self.server
            .not_answering_http(&addresses, url.port_or_known_default()?)
    }

    pub fn on_event(&self, event: &Event) {
        let EventKind::Http(http_event) = &event.kind else {
            return;
        };
        if self.exchange.get() != Some(event.session) {
            return;
        }
        let event_session = event.session;
        let event = http_event;
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<HttpAdapter>();
        match event {
            HttpEvent::Progress(bytes) => {
                adapter.set_progress(format!("Receiving… {}", ByteCount(*bytes)).into());
            }
            HttpEvent::Cancelled => {
                self.flow_exchange(&adapter, event_session, Err("cancelled".into()));
                adapter.set_busy(false);
                adapter.set_error("Cancelled".into());
                adapter.set_error_hint(
                    "The request was stopped before its answer was complete.".into(),
                );
            }
            HttpEvent::Done(result) => {
                let outcome = result.as_ref().as_ref().map_err(|error| error.to_string());
                self.flow_exchange(&adapter, event_session, outcome);
                adapter.set_busy(false);
                let unanswered = self.unanswered.borrow_mut().take();
                match result.as_ref() {
                    Ok(response) => {
                        // It did answer after all: what was said of it no longer holds.
                        adapter.set_error(SharedString::new());
                        adapter.set_error_hint(SharedString::new());
                        self.show(&adapter, response);
                    }
                    Err(error) => {
                        // The previous response does not answer this request: it goes.
                        self.clear_response(&adapter);
                        // It may quote the server (a redirect's Location, a reason).
                        let said = fonts::shown(error.to_string());
                        adapter.set_error(said.drawn);
                        self.answer_missing.set(said.missing);
                        self.show_font_note(&adapter);
                        // The cause known from the start says more than a timeout's hint.
                        let hint = match unanswered {
                            Some(why) => format!("{why}. {SWITCH_TO_HTTP}"),
                            None => error.hint(&Page::Http),
                        };
                        adapter.set_error_hint(hint.into());
                    }
                }
            }
        }
    }

    /// Adds the exchange under way, now answered or failed, to the flow.
    fn flow_exchange(
        &self,
        adapter: &HttpAdapter,
        session: SessionId,
        result: Result<&HttpResponse, String>,
    ) {
        let Some(sent) = &*self.sent.borrow() else {
            return;
        };
        self.exchanges.set(self.exchanges.get() + 1);
        let mut flow = self.flow.borrow_mut();
        flow.exchange(sent, result, (self.exchanges.get(), session));
        adapter.set_flow_forgotten(flow.forgotten as i32);
        adapter.set_flow_revision(adapter.get_flow_revision().wrapping_add(1));
        drop(flow);
        self.show_font_note(adapter);
    }

    /// Names what the answer shown or the flow holds that no installed font can draw.
    fn show_font_note(&self, adapter: &HttpAdapter) {
        let missing = self.answer_missing.get().or(self.flow.borrow().missing);
        adapter.set_font_note(fonts::font_note(missing));
    }

    /// Takes the exchanges that were the sessions `ids` off the tab: their marks in the
    /// flow, their answers in the history, and the answer shown if it is theirs (closing
    /// them is the caller's).
    pub fn forget(&self, ids: &[SessionId]) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<HttpAdapter>();
        if self.exchange.get().is_some_and(|id| ids.contains(&id)) {
            self.exchange.set(None);
            self.sent.take();
            adapter.set_busy(false);
            self.clear_response(&adapter);
        }
        let numbers = self.flow.borrow_mut().forget(ids);
        if numbers.is_empty() {
            return;
        }
        let mut history = self.history.borrow_mut();
        history.retain(|answer| !numbers.contains(&answer.exchange));
        let titles: Vec<SharedString> = history.iter().map(|a| a.title.as_str().into()).collect();
        self.history_titles.set_vec(titles);
        adapter.set_flow_revision(adapter.get_flow_revision().wrapping_add(1));
        drop(history);
        self.show_font_note(&adapter);
    }

    fn clear_response(&self, adapter: &HttpAdapter) {
        adapter.set_has_response(false);
        adapter.set_answered(SharedString::new());
        adapter.set_status(SharedString::new());
        adapter.set_status_class(0);
        adapter.set_summary(SharedString::new());
        for set in [
            HttpAdapter::set_response_headers,
            HttpAdapter::set_response_headers_spoken,
            HttpAdapter::set_response_body,
            HttpAdapter::set_response_body_spoken,
        ] {
            set(adapter, SharedString::new());
        }
        self.phases.set_vec(Vec::new());
        adapter.set_timing(SharedString::new());
        self.answer_missing.set(None);
        self.show_font_note(adapter);
    }

    /// Shows a new answer and puts it first in the history.
    fn show(&self, adapter: &HttpAdapter, response: &HttpResponse) {
        let answer = self.answer(adapter, response);
        self.display(adapter, &answer);
        let mut history = self.history.borrow_mut();
        history.push_front(answer);
        history.truncate(HISTORY);
        let titles: Vec<SharedString> = history.iter().map(|a| a.title.as_str().into()).collect();
        self.history_titles.set_vec(titles);
    }

    fn display(&self, adapter: &HttpAdapter, answer: &Answer) {
        adapter.set_has_response(true);
        adapter.set_view(1);
        adapter.set_answered(answer.answered.as_str().into());
        adapter.set_status(answer.status.as_str().into());
        adapter.set_status_class(answer.status_class);
        adapter.set_summary(answer.summary.as_str().into());
        self.phases.set_vec(answer.phases.clone());
        adapter.set_timing(answer.timing.as_str().into());
        adapter.set_response_headers(answer.headers.drawn.clone());
        adapter.set_response_headers_spoken(answer.headers.spoken.clone());
        adapter.set_response_body(answer.body.drawn.clone());
        adapter.set_response_body_spoken(answer.body.spoken.clone());
        self.answer_missing
            .set(answer.headers.missing.or(answer.body.missing));
        self.show_font_note(adapter);
    }

    fn answer(&self, adapter: &HttpAdapter, response: &HttpResponse) -> Answer {
        let status = format!("{} {}", response.status, response.reason);
        let (request, at) = match &*self.sent.borrow() {
            Some(sent) => (sent.request.clone(), super::clock(sent.at)),
            None => (String::new(), String::new()),
        };
        let mut summary = format!(
            "{} · {} · {}",
            response.version,
            ByteCount(response.body_bytes),
            Millis(response.timings.total)
        );
        if let Some(encoded) = response.encoded_bytes {
            summary.push_str(&format!(" ({} compressed)", ByteCount(encoded)));
        }
        if response.truncated {
            summary.push_str(&format!(
                " · kept {}",
                ByteCount(response.body.len() as u64)
            ));
        }
        if !response.redirects.is_empty() {
            let redirects = Count(response.redirects.len(), "redirect");
            summary.push_str(&format!(" · {redirects}"));
        }
        if response.reused_connection {
            summary.push_str(" · connection reused");
        }
        if response.url.scheme() == "https" && adapter.get_accept_invalid() {
            summary.push_str(" · certificate NOT checked");
        }
        let phases = phases(response);
        Answer {
            // Numbered as its exchange was, when it ended.
            exchange: self.exchanges.get(),
            title: format!("{request} → {status} · {at}"),
            answered: format!("Answers {request} · sent at {at}"),
            status,
            status_class: (response.status / 100) as i32,
            summary,
            timing: format!(
                "{} = {}",
                (phases.iter())
                    .map(|phase| phase.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                Millis(response.timings.total)
            ),
            phases,
            headers: fonts::shown(
                (response.headers.iter())
                    .map(|(name, value)| format!("{name}: {value}\n"))
                    .collect::<String>(),
            ),
            body: fonts::shown(body_view(response)),
        }
    }
}

/// The timing phases as fractions of the total, for the waterfall. They add up to the total:
/// what no phase measured (redirects, and the moments between phases) is a phase of its own.
fn phases(response: &HttpResponse) -> Vec<Phase> {
    let t = &response.timings;
    let measured = [
        t.dns,
        t.connect,
        t.tls.unwrap_or_default(),
        t.send,
        t.wait,
        t.receive,
    ];
    let rest = t.total.saturating_sub(measured.iter().sum());
    let rest_name = if response.redirects.is_empty() {
        "other"
    } else {
        "redirects"
    };
    let total = t.total.as_secs_f64().max(f64::EPSILON);
    let mut start = 0.0;
    [
        ("DNS", Some(t.dns)),
        ("connect", Some(t.connect)),
        ("TLS", t.tls),
        ("send", Some(t.send)),
        ("wait", Some(t.wait)),
        ("receive", Some(t.receive)),
        (rest_name, Some(rest).filter(|rest| !rest.is_zero())),
    ]
    .into_iter()
    .enumerate()
    .filter_map(|(kind, (name, duration))| duration.map(|d| (kind, name, d)))
    .map(|(kind, name, duration): (usize, &str, Duration)| {
        let length = duration.as_secs_f64() / total;
        let phase = Phase {
            kind: kind as i32,
            name: name.into(),
            start: start as f32,
            length: length as f32,
            label: format!("{name} {}", Millis(duration)).into(),
        };
        start += length;
        phase
    })
    .collect()
}

/// JSON pretty-printed, text as text, anything else as a hex dump; cut for display.
fn body_view(response: &HttpResponse) -> String {
    let body = &response.body[..response.body.len().min(SHOWN_BODY)];
    let cut = if response.body_bytes > body.len() as u64 {
        format!(
            "\n… showing {} of {}",
            ByteCount(body.len() as u64),
            ByteCount(response.body_bytes)
        )
    } else {
        String::new()
    };
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        return serde_json::to_string_pretty(&json).unwrap_or_default() + &cut;
    }
    let printable = body
        .utf8_chunks()
        .map(|chunk| chunk.invalid().len())
        .sum::<usize>()
        * 10
        <= body.len().max(1);
    let text = if printable {
        payload::display_text(body, Lines::Keep)
    } else {
        payload::hex_dump(body, 0)
    };
    text + &cut
}

/// The Options view's choices and the proxy from the Settings tab, checked.
fn settings(window: &AppWindow) -> Result<HttpSettings, NetError> {
    let adapter = window.global::<HttpAdapter>();
    let timeout = match adapter.get_timeout().trim() {
        "0" => Duration::MAX,
        text => parse_seconds("timeout", text)?,
    };
    let max_redirects = adapter.get_max_redirects().trim().parse().map_err(|_| {
        NetError::invalid(
            "max-redirects",
            format!(
                "`{}` is not a number of redirects (0 or more)",
                adapter.get_max_redirects()
            ),
        )
    })?;
    let proxy = window.global::<SettingsAdapter>();
    let choice = match proxy.get_proxy_mode() {
        1 => ProxyChoice::Environment,
        2 => {
            let url = proxy.get_proxy_url().trim().to_string();
            parse_proxy("proxy", &url)?;
            ProxyChoice::Given(url)
        }
        _ => ProxyChoice::Direct,
    };
    Ok(HttpSettings {
        insecure: adapter.get_accept_invalid(),
        timeout,
        max_redirects,
        compressed: adapter.get_compressed(),
        proxy: ProxySettings {
            choice,
            no_proxy: None,
        },
    })
}

/// The tab's fields as the settings file keeps them; empty header rows are left out.
pub fn fields(window: &AppWindow) -> HttpForm {
    let adapter = window.global::<HttpAdapter>();
    HttpForm {
        method: adapter.get_method().into(),
        url: adapter.get_url().into(),
        headers: adapter
            .get_headers()
            .iter()
            .filter(|row| !row.name.trim().is_empty() || !row.value.trim().is_empty())
            .map(|row| Header {
                name: row.name.into(),
                value: row.value.into(),
            })
            .collect(),
        body: adapter.get_body().into(),
        json: adapter.get_body_json(),
        insecure: adapter.get_accept_invalid(),
    }
}

/// Fills the tab's fields, with one empty header row to type into when there are none.
pub fn restore(window: &AppWindow, request: &HttpForm) {
    let adapter = window.global::<HttpAdapter>();
    adapter.set_method(request.method.as_str().into());
    adapter.set_url(request.url.as_str().into());
    let mut rows: Vec<HeaderRow> = request
        .headers
        .iter()
        .map(|header| HeaderRow {
            name: header.name.as_str().into(),
            value: header.value.as_str().into(),
        })
        .collect();
    if rows.is_empty() {
        rows.push(HeaderRow::default());
    }
    let headers = adapter.get_headers();
    if let Some(model) = headers.as_any().downcast_ref::<VecModel<HeaderRow>>() {
        model.set_vec(rows);
    }
    adapter.set_body(request.body.as_str().into());
    adapter.set_body_json(request.json);
    adapter.set_accept_invalid(request.insecure);
    adapter.set_url_error(SharedString::new());
    adapter.set_header_error(SharedString::new());
    adapter.set_body_error(SharedString::new());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::http::Timings;

    fn answered_after(timings: Timings, redirects: usize) -> HttpResponse {
        let url: surf::Url = "http://127.0.0.1:8080/".parse().unwrap();
        HttpResponse {
            status: 200,
            reason: "OK".into(),
            version: "HTTP/1.1".into(),
            headers: Vec::new(),
            body: Vec::new(),
            body_bytes: 0,
            encoded_bytes: None,
            truncated: false,
            timings,
            url: url.clone(),
            redirects: vec![url; redirects],
            peer: "127.0.0.1:8080".parse().unwrap(),
            reused_connection: false,
        }
    }

    #[test]
    fn the_waterfall_adds_up_to_the_total() {
        let ms = Duration::from_millis;
        let timings = Timings {
            dns: ms(0),
            connect: ms(2),
            tls: None,
            send: ms(1),
            wait: ms(10),
            receive: ms(3),
            total: ms(20),
        };
        for (redirects, rest) in [(0, "other 4.0 ms"), (1, "redirects 4.0 ms")] {
            let phases = phases(&answered_after(timings, redirects));
            let labels: Vec<&str> = phases.iter().map(|p| p.label.as_str()).collect();
            assert_eq!(
                labels,
                [
                    "DNS 0.0 ms",
                    "connect 2.0 ms",
                    "send 1.0 ms",
                    "wait 10.0 ms",
                    "receive 3.0 ms",
                    rest
                ]
            );
            let last = phases.last().unwrap();
            assert!((last.start + last.length - 1.0).abs() < 1e-6, "{phases:?}");
        }
        // Nothing left over: no extra phase.
        let exact = Timings {
            total: ms(16),
            ..timings
        };
        assert_eq!(phases(&answered_after(exact, 0)).len(), 5);
    }
}
