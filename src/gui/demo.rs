//! Demo mode: walks the guided demo's steps (`crate::demo::STEPS`, the list `netdeck demo`
//! walks too) in the window's own tabs. For each action it fills a tab's form and presses its
//! button as a person would, waits for the event the action leads to, and shows the step
//! where it happens. Stop, at any moment, closes every session the demo opened and takes it
//! off the tabs, and so does each new round of a demo that plays over and over: the user's
//! own sessions stay as they were.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use slint::{ComponentHandle, ModelRc, SharedString, Timer, TimerMode, VecModel};

use super::Controller;
use super::client::{self, ClientController};
use super::fonts::{self, Script};
use super::http::{self, HttpController};
use super::server::{self, ServerController};
use super::ui::{
    AppWindow, BothState, ClientAdapter, DemoAdapter, HttpAdapter, ServerAdapter, SessionShow, Tab,
};
use crate::demo::{self, Action, STEPS, Show};
use crate::engine::{Engine, Event, EventKind, SessionId};
use crate::forms::{ClientForm, HttpForm, ServerForm};
use crate::net::client::ClientEvent;
use crate::net::http::HttpEvent;
use crate::net::server::ServerEvent;

/// With Auto on, a finished step stays on screen this long, and as long again as it takes to
/// read its caption aloud at about 15 characters a second.
const AUTO_PAUSE: Duration = Duration::from_millis(2000);
const READING_PACE: Duration = Duration::from_millis(65);
/// Narrower than this, the Both sides tab stacks its two conversations, too tall to show both
/// under the demo's bar: a step about them shows the Client tab's instead.
const BOTH_SIDES_WIDTH: f32 = 820.0;
/// How long a step may wait for what its action leads to, as `netdeck demo` allows.
const STEP_LIMIT: Duration = Duration::from_secs(10);

/// The event an action waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Listening(SessionId),
    Connected(SessionId),
    /// Data back on the demo's connection.
    Data(SessionId),
    HttpDone(SessionId),
    Refused(SessionId),
    Stopped(SessionId),
}

/// Where a demo is, and what it has opened.
#[derive(Default)]
struct Run {
    step: Option<usize>,
    /// The step's next action.
    action: usize,
    waiting: Option<Wait>,
    server: Option<SessionId>,
    address: Option<SocketAddr>,
    /// The client connection that talks to the server.
    client: Option<SessionId>,
    /// Every other session opened: the refused connection, HTTP exchanges.
    others: Vec<SessionId>,
    /// The tabs' fields as the user left them, put back when the demo ends.
    fields: Option<(ServerForm, ClientForm, HttpForm)>,
}

pub struct DemoController {
    window: slint::Weak<AppWindow>,
    engine: Rc<Engine>,
    server: Rc<ServerController>,
    client: Rc<ClientController>,
    http: Rc<HttpController>,
    run: RefCell<Run>,
    /// Starts again from the first step after the last (a kiosk's `--demo`).
    looping: std::cell::Cell<bool>,
    /// With Auto on, how long a finished step stays; `None`: long enough to read it.
    pause: Option<Duration>,
    auto: Timer,
    /// Ends a wait that takes too long.
    patience: Timer,
}

impl Controller for DemoController {
    fn window(&self) -> &slint::Weak<AppWindow> {
        &self.window
    }
}

impl DemoController {
    pub fn setup(
        window: &AppWindow,
        engine: Rc<Engine>,
        server: Rc<ServerController>,
        client: Rc<ClientController>,
        http: Rc<HttpController>,
        pause: Option<Duration>,
    ) -> Rc<Self> {
        let adapter = window.global::<DemoAdapter>();
        let captions: Vec<_> = STEPS
            .iter()
            .map(|step| fonts::shown(step.caption))
            .collect();
        let drawn = captions.iter().map(|caption| caption.drawn.clone());
        let spoken = captions.iter().map(|caption| caption.spoken.clone());
        adapter.set_steps(ModelRc::new(VecModel::from_iter(drawn)));
        adapter.set_spoken_steps(ModelRc::new(VecModel::from_iter(spoken)));
        let controller = Rc::new(DemoController {
            window: window.as_weak(),
            engine,
            server,
            client,
            http,
            run: RefCell::default(),
            looping: std::cell::Cell::new(false),
            pause,
            auto: Timer::default(),
            patience: Timer::default(),
        });
        adapter.on_start(super::on(&controller, |c, _| c.start()));
        adapter.on_next(super::on(&controller, |c, _| c.next()));
        adapter.on_stop(super::on(&controller, |c, _| c.stop()));
        adapter.on_auto_changed(super::on(&controller, |c, w| {
            let adapter = w.global::<DemoAdapter>();
            if !adapter.get_auto() {
                c.auto.stop();
            } else if adapter.get_current() >= 0
                && !adapter.get_busy()
                && adapter.get_problem().is_empty()
            {
                c.play_on();
            }
        }));
        controller
    }

    /// Starts from the first step, after stopping whatever an earlier demo left.
    pub fn start(&self) {
        self.stop();
        if let Some(window) = self.window.upgrade() {
            window.global::<DemoAdapter>().set_finished(false);
            let fields = (
                server::fields(&window),
                client::fields(&window),
                http::fields(&window),
            );
            self.run.borrow_mut().fields = Some(fields);
        }
        self.go(0);
    }

    /// Plays the demo by itself, over and over, as a kiosk on boot would.
    pub fn play_forever(&self) {
        self.looping.set(true);
        if let Some(window) = self.window.upgrade() {
            window.global::<DemoAdapter>().set_auto(true);
        }
        self.start();
    }

    /// Whether a demo is under way: what it fills in is not the user's to keep.
    pub fn running(&self) -> bool {
        self.run.borrow().step.is_some()
    }

    fn next(&self) {
        let step = self.run.borrow().step;
        match step {
            Some(step) if step + 1 < STEPS.len() => self.go(step + 1),
            Some(_) if self.looping.get() => self.start(),
            Some(_) => {
                self.stop();
                if let Some(window) = self.window.upgrade() {
                    window.global::<DemoAdapter>().set_finished(true);
                    window.set_current_tab(Tab::Demo);
                }
            }
            None => {}
        }
    }

    /// Ends the demo where it is: every session it opened is closed and taken off the tabs
    /// (chips, conversations, flow marks, answers), and the tabs' fields are the user's again.
    pub fn stop(&self) {
        self.auto.stop();
        self.patience.stop();
        let run = std::mem::take(&mut *self.run.borrow_mut());
        let opened: Vec<SessionId> = (run.client.into_iter())
            .chain(run.others)
            .chain(run.server)
            .collect();
        for id in &opened {
            self.engine.close(*id);
        }
        // A listener leaves its tab when it reports that it stopped.
        self.client.forget(&opened);
        self.http.forget(&opened);
        if let Some(window) = self.window.upgrade() {
            let adapter = window.global::<DemoAdapter>();
            adapter.set_current(-1);
            adapter.set_font_note(SharedString::new());
            adapter.set_busy(false);
            if let Some((server_form, client_form, http_form)) = run.fields {
                server::restore(&window, &server_form);
                client::restore(&window, &client_form);
                http::restore(&window, &http_form);
            }
        }
    }

    fn go(&self, step: usize) {
        self.auto.stop();
        self.patience.stop();
        {
            let mut run = self.run.borrow_mut();
            run.step = Some(step);
            run.action = 0;
            run.waiting = None;
        }
        if let Some(window) = self.window.upgrade() {
            let adapter = window.global::<DemoAdapter>();
            adapter.set_current(step as i32);
            adapter.set_font_note(fonts::font_note(undrawable(&STEPS[step])));
            adapter.set_busy(true);
            adapter.set_problem(SharedString::new());
            show(&window, STEPS[step].show);
        }
        self.advance();
    }

    /// Does the step's actions in turn until one has to wait for an event, or all are done.
    fn advance(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<DemoAdapter>();
        loop {
            let (step, action) = {
                let run = self.run.borrow();
                let Some(step) = run.step else {
                    return;
                };
                (step, STEPS[step].actions.get(run.action).copied())
            };
            let Some(action) = action else {
                // Done: shown again, as an answer may have changed the view.
                show(&window, STEPS[step].show);
                adapter.set_busy(false);
                if adapter.get_auto() {
                    self.play_on();
                }
                return;
            };
            match self.act(&window, action) {
                Ok(Some(wait)) => {
                    self.run.borrow_mut().waiting = Some(wait);
                    self.wait_at_most(STEP_LIMIT);
                    return;
                }
                Ok(None) => self.run.borrow_mut().action += 1,
                Err(problem) => {
                    adapter.set_problem(problem.into());
                    adapter.set_busy(false);
                    return;
                }
            }
        }
    }

    /// Says so if the wait under way is not over within `limit`.
    fn wait_at_most(&self, limit: Duration) {
        let window = self.window.clone();
        self.patience.start(TimerMode::SingleShot, limit, move || {
            if let Some(window) = window.upgrade() {
                let adapter = window.global::<DemoAdapter>();
                adapter.set_problem(
                    format!(
                        "This step waited {} s for the network and gave up: press Stop.",
                        limit.as_secs()
                    )
                    .into(),
                );
            }
        });
    }

    /// Plays the next step after a pause long enough to read this one's caption.
    fn play_on(&self) {
        let Some(step) = self.run.borrow().step else {
            return;
        };
        let reading = READING_PACE * STEPS[step].caption.chars().count() as u32;
        let pause = self.pause.unwrap_or(AUTO_PAUSE + reading);
        let window = self.window.clone();
        self.auto.start(TimerMode::SingleShot, pause, move || {
            if let Some(window) = window.upgrade() {
                window.global::<DemoAdapter>().invoke_next();
            }
        });
    }

    /// Does one action through the tabs; tells what it now waits for.
    fn act(&self, window: &AppWindow, action: Action) -> Result<Option<Wait>, String> {
        let port = self.run.borrow().address.map_or(0, |a| a.port());
        let refused = |what: &str| format!("The demo could not {what}: see the tab's error.");
        Ok(match action {
            Action::StartServer(mode) => {
                server::restore(window, &demo::server_form(mode));
                let adapter = window.global::<ServerAdapter>();
                let id = (self.server.start(&adapter)).ok_or_else(|| refused("start a server"))?;
                self.run.borrow_mut().server = Some(id);
                Some(Wait::Listening(id))
            }
            Action::Connect => {
                client::restore(window, &demo::client_form(port, ""));
                let adapter = window.global::<ClientAdapter>();
                let id = (self.client.connect(&adapter)).ok_or_else(|| refused("connect"))?;
                self.run.borrow_mut().client = Some(id);
                Some(Wait::Connected(id))
            }
            Action::Send { text, times } => {
                let connection = self.run.borrow().client;
                // Typed as the window shows text: what no font can draw as `\u{…}`, which the
                // field sends as the character itself.
                let typed = fonts::shown(text.repeat(times)).drawn;
                client::restore(window, &demo::client_form(port, &typed));
                // Its own connection, whichever the tab shows.
                let adapter = window.global::<ClientAdapter>();
                self.client.select(&adapter, connection);
                self.client.send(&adapter);
                None
            }
            Action::AwaitAnswer => {
                let client = self.run.borrow().client;
                Some(Wait::Data(
                    client.ok_or("The demo has no connection to wait on.")?,
                ))
            }
            Action::AutoReply(reply) => {
                let adapter = window.global::<ServerAdapter>();
                self.select_its_server(&adapter);
                adapter.set_reply(fonts::shown(reply).drawn);
                adapter.set_mode(crate::forms::ServerMode::AutoReply.into());
                self.server.mode_changed(&adapter);
                None
            }
            Action::HttpMode => {
                let adapter = window.global::<ServerAdapter>();
                self.select_its_server(&adapter);
                adapter.set_mode(crate::forms::ServerMode::Http.into());
                self.server.mode_changed(&adapter);
                None
            }
            Action::Request { method, path, json } => {
                let address = self.run.borrow().address.ok_or("No server is running.")?;
                http::restore(window, &demo::http_form(address, method, path, json));
                let id = self
                    .http
                    .send()
                    .ok_or_else(|| refused("send the request"))?;
                self.run.borrow_mut().others.push(id);
                Some(Wait::HttpDone(id))
            }
            Action::ConnectToAClosedPort => {
                let closed = demo::closed_port().map_err(|error| error.to_string())?;
                client::restore(window, &demo::client_form(closed, ""));
                let adapter = window.global::<ClientAdapter>();
                let id = (self.client.connect(&adapter)).ok_or_else(|| refused("connect"))?;
                self.run.borrow_mut().others.push(id);
                Some(Wait::Refused(id))
            }
            Action::StopAll => {
                let run = self.run.borrow();
                for id in run.client.iter().chain(&run.others) {
                    self.engine.close(*id);
                }
                let server = run.server.ok_or("No server is running.")?;
                self.engine.close(server);
                Some(Wait::Stopped(server))
            }
        })
    }

    /// Makes the demo's listener the one the Server tab shows and acts on.
    fn select_its_server(&self, adapter: &ServerAdapter) {
        let server = self.run.borrow().server;
        if SessionId::from_slint(adapter.get_selected_listener()) != server {
            self.server.select_listener(adapter, server);
        }
    }

    /// Goes on with the step once the event it waits for has come.
    pub fn on_event(&self, event: &Event) {
        let Some(waiting) = self.run.borrow().waiting else {
            return;
        };
        let problem = |text: String| Some(Err(text));
        let outcome = match (waiting, &event.kind) {
            (Wait::Listening(id), EventKind::Server(ServerEvent::Listening { addr, .. }))
                if id == event.session =>
            {
                self.run.borrow_mut().address = Some(*addr);
                Some(Ok(()))
            }
            (Wait::Listening(id), EventKind::ServerFailed(error)) if id == event.session => {
                problem(error.to_string())
            }
            (Wait::Connected(id), EventKind::Client(ClientEvent::Connected { .. }))
            | (Wait::Data(id), EventKind::Client(ClientEvent::Received(_)))
            | (Wait::Refused(id), EventKind::Client(ClientEvent::Failed(_)))
            | (Wait::Stopped(id), EventKind::Server(ServerEvent::Stopped))
                if id == event.session =>
            {
                Some(Ok(()))
            }
            (Wait::HttpDone(id), EventKind::Http(HttpEvent::Done(result)))
                if id == event.session =>
            {
                match result.as_ref() {
                    Ok(_) => Some(Ok(())),
                    Err(error) => problem(error.to_string()),
                }
            }
            (
                Wait::Connected(id) | Wait::Data(id),
                EventKind::Client(ClientEvent::Failed(error)),
            ) if id == event.session => problem(error.to_string()),
            (Wait::Refused(id), EventKind::Client(ClientEvent::Connected { peer, .. }))
                if id == event.session =>
            {
                problem(format!("{peer} answered: the refusal could not be shown."))
            }
            _ => None,
        };
        if outcome.is_some() {
            self.patience.stop();
        }
        match outcome {
            Some(Ok(())) => {
                {
                    let mut run = self.run.borrow_mut();
                    run.waiting = None;
                    run.action += 1;
                }
                self.advance();
            }
            Some(Err(problem)) => {
                self.run.borrow_mut().waiting = None;
                if let Some(window) = self.window.upgrade() {
                    let adapter = window.global::<DemoAdapter>();
                    adapter.set_problem(problem.into());
                    adapter.set_busy(false);
                }
            }
            None => {}
        }
    }
}

/// The script of what no installed font can draw in a step's caption or in the text it types.
fn undrawable(step: &demo::Step) -> Option<Script> {
    let typed = step.actions.iter().filter_map(|action| match action {
        Action::Send { text, .. } | Action::AutoReply(text) => Some(*text),
        _ => None,
    });
    (std::iter::once(step.caption).chain(typed)).find_map(|text| fonts::shown(text).missing)
}

/// Opens the tab, and the view of it, where a step happens.
fn show(window: &AppWindow, show: Show) {
    let width = window.window().size().width as f32 / window.window().scale_factor();
    let show = match show {
        Show::BothConversations if width < BOTH_SIDES_WIDTH => Show::Client,
        show => show,
    };
    let tab = match show {
        Show::Server => Tab::Server,
        Show::BothConversations | Show::BothFlow => Tab::Both,
        Show::ClientGraph | Show::Client => Tab::Client,
        Show::HttpAnswer | Show::HttpFlow => Tab::Http,
    };
    window.set_current_tab(tab);
    match show {
        Show::BothConversations => window.global::<BothState>().set_flow(false),
        Show::BothFlow => window.global::<BothState>().set_flow(true),
        Show::ClientGraph => window
            .global::<ClientAdapter>()
            .set_show(SessionShow::Graph),
        Show::Client => window
            .global::<ClientAdapter>()
            .set_show(SessionShow::Conversation),
        Show::HttpAnswer => window.global::<HttpAdapter>().set_view(1),
        Show::HttpFlow => window.global::<HttpAdapter>().set_view(4),
        Show::Server => {}
    }
}
