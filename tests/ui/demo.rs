//! Demo mode: the guided demo's steps (the list `netdeck demo` walks) played in the window's
//! own tabs, on loopback, with Auto or step by step, and stopped at any step.

use crate::common;

use std::cell::Cell;
use std::time::Duration;

use common::ui::{connect_to_an_echo_server, element, open_tab, run_until};
use common::{TcpState, open_descriptors, own_tcp_sockets};
use netdeck::demo::{STEPS, Show};
use netdeck::gui::ui::{
    AppWindow, BothState, ClientAdapter, ConnectionState, DemoAdapter, HttpAdapter, ServerAdapter,
    Tab,
};
use slint::{ComponentHandle, Model};

fn window() -> (AppWindow, netdeck::gui::Gui) {
    i_slint_backend_testing::init_integration_test_with_system_time();
    common::ui::open_window(800.0, 480.0)
}

/// No listener, no connection, no request left running.
fn nothing_open(window: &AppWindow) -> bool {
    let server = window.global::<ServerAdapter>();
    let client = window.global::<ClientAdapter>();
    server.get_listeners().row_count() == 0
        && (client.get_connections().iter()).all(|row| row.state == ConnectionState::Idle)
        && !window.global::<HttpAdapter>().get_busy()
}

/// The tab a step is shown on at 800x480: too narrow for both conversations side by side
/// under the demo's bar, the Client tab shows its own.
fn tab_of(show: Show) -> Tab {
    match show {
        Show::Server => Tab::Server,
        Show::BothFlow => Tab::Both,
        Show::BothConversations | Show::ClientGraph | Show::Client => Tab::Client,
        Show::HttpAnswer | Show::HttpFlow => Tab::Http,
    }
}

pub fn demo_mode_plays_every_step_with_auto_and_leaves_nothing_open() {
    let (window, _gui) = window();
    let demo = window.global::<DemoAdapter>();
    open_tab(&window, "Demo");
    element(&window, "Play the demo by itself").invoke_accessible_default_action();
    assert!(demo.get_auto());
    element(&window, "Start demo").invoke_accessible_default_action();

    // Each step in turn, captioned as the list says, on its tab, done before the next.
    let mut walked = Vec::new();
    for (index, step) in STEPS.iter().enumerate() {
        run_until(&format!("step {} to be done", index + 1), || {
            demo.get_current() == index as i32 && !demo.get_busy()
        });
        assert_eq!(demo.get_problem(), "", "step {}", index + 1);
        let caption = common::ui::element_where(&window, "the demo's caption", |e| {
            e.accessible_description().as_deref() == Some("Demo caption")
        });
        walked.push(caption.accessible_label().unwrap().to_string());
        assert_eq!(
            window.get_current_tab(),
            tab_of(step.show),
            "step {}",
            index + 1
        );
        match step.show {
            Show::BothFlow => assert!(window.global::<BothState>().get_flow()),
            // The refusal made on purpose, explained.
            Show::Client => {
                let client = window.global::<ClientAdapter>();
                assert!(
                    client.get_error().contains("connection refused"),
                    "{}",
                    client.get_error()
                );
                assert!(client.get_error_hint().contains("Start the server"));
            }
            Show::HttpAnswer => {
                let http = window.global::<HttpAdapter>();
                assert_eq!(http.get_status(), "200 OK");
                assert!(http.get_phases().row_count() > 0, "the waterfall");
            }
            _ => {}
        }
    }
    let captions: Vec<_> = STEPS.iter().map(|step| step.caption.to_string()).collect();
    assert_eq!(walked, captions);

    run_until("the demo to end", || demo.get_finished());
    assert_eq!(demo.get_current(), -1);
    run_until("every session to be closed", || nothing_open(&window));
}

pub fn stopping_the_demo_in_the_middle_leaves_nothing_open() {
    let (window, _gui) = window();
    let demo = window.global::<DemoAdapter>();
    let client = window.global::<ClientAdapter>();
    // The user's own fields, which the demo fills with its own while it plays.
    open_tab(&window, "Client");
    element(&window, "Host").set_accessible_value("192.0.2.7");
    element(&window, "Port").set_accessible_value("4321");
    open_tab(&window, "Demo");
    element(&window, "Start demo").invoke_accessible_default_action();
    // Step by step with Next, to the greeting sent on a live connection.
    for index in 1..3 {
        run_until("the step to be done", || !demo.get_busy());
        element(&window, "Demo: next step").invoke_accessible_default_action();
        run_until("the next step", || demo.get_current() == index);
    }
    run_until("the echo", || {
        !demo.get_busy() && client.get_counters() == "21 B in · 21 B out"
    });
    assert_eq!(client.get_state(), ConnectionState::Connected);
    assert_eq!(
        window.global::<ServerAdapter>().get_listeners().row_count(),
        1
    );

    assert_eq!(client.get_host(), "127.0.0.1");
    element(&window, "Demo: stop").invoke_accessible_default_action();
    assert_eq!(demo.get_current(), -1, "the demo's bar goes");
    run_until("every session to be closed", || nothing_open(&window));
    // The fields are the user's again, to be kept as they were.
    assert_eq!(
        (client.get_host().as_str(), client.get_port().as_str()),
        ("192.0.2.7", "4321")
    );
}

/// `netdeck --demo`: the window opens playing the demo by itself.
pub fn the_demo_option_opens_the_window_playing_it() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let window = AppWindow::new().unwrap();
    let options = netdeck::gui::GuiOptions {
        demo: true,
        ..Default::default()
    };
    let _gui = netdeck::gui::setup(&window, &options).unwrap();
    window.show().unwrap();
    let demo = window.global::<DemoAdapter>();
    assert!(demo.get_auto());
    assert_eq!(demo.get_current(), 0);
    // With nothing pressed, it goes on to the next step.
    run_until("the second step", || demo.get_current() == 1);
    element(&window, "Demo: stop").invoke_accessible_default_action();
    run_until("every session to be closed", || nothing_open(&window));
}

/// What a round of the demo could leave behind, counted once a round has ended and its
/// sessions have closed.
#[derive(Debug, PartialEq, Eq)]
struct Footprint {
    descriptors: usize,
    tcp_sockets: usize,
    chips: usize,
    listeners: usize,
    flow_marks: usize,
    forgotten_marks: i32,
    answers: usize,
}

fn footprint(window: &AppWindow) -> Footprint {
    let http = window.global::<HttpAdapter>();
    Footprint {
        descriptors: open_descriptors(),
        tcp_sockets: own_tcp_sockets().len(),
        chips: window
            .global::<ClientAdapter>()
            .get_connections()
            .row_count(),
        listeners: window.global::<ServerAdapter>().get_listeners().row_count(),
        flow_marks: http.get_flow().row_count(),
        forgotten_marks: http.get_flow_forgotten(),
        answers: http.get_history().row_count(),
    }
}

/// Presses Next until the round's last step is done.
fn step_to_the_end_of_the_round(window: &AppWindow) {
    let demo = window.global::<DemoAdapter>();
    loop {
        run_until("the step to be done", || !demo.get_busy());
        assert_eq!(demo.get_problem(), "", "step {}", demo.get_current() + 1);
        if demo.get_current() as usize == STEPS.len() - 1 {
            return;
        }
        element(window, "Demo: next step").invoke_accessible_default_action();
    }
}

/// Waits until every connection the round opened has ended: none half-closed in this process,
/// every chip but the user's idle.
fn settle(window: &AppWindow, users: i32) {
    let client = window.global::<ClientAdapter>();
    run_until("the round's connections to close", || {
        (own_tcp_sockets().iter()).all(|socket| socket.state != TcpState::CloseWait)
            && (client.get_connections().iter())
                .all(|row| row.id == users || row.state == ConnectionState::Idle)
    });
}

/// `netdeck --kiosk --demo` plays the demo over and over: a round leaves nothing of itself
/// for the next (sessions, sockets, descriptors, chips, listeners, flow marks), and the
/// user's own connection stays through it all.
pub fn the_looping_demo_leaves_the_window_as_it_found_it() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let window = AppWindow::new().unwrap();
    let options = netdeck::gui::GuiOptions {
        demo: true,
        demo_pause: Some(Duration::ZERO),
        ..Default::default()
    };
    let _gui = netdeck::gui::setup(&window, &options).unwrap();
    window
        .window()
        .set_size(slint::LogicalSize::new(800.0, 480.0));
    window.show().unwrap();
    let demo = window.global::<DemoAdapter>();
    let client = window.global::<ClientAdapter>();
    // The test says when a round ends: step by step at first.
    element(&window, "Demo: play by itself").invoke_accessible_default_action();
    assert!(!demo.get_auto());

    // A connection of the user's own, not the demo's.
    let _peer = connect_to_an_echo_server(&window);
    let users = client.get_selected_connection();

    step_to_the_end_of_the_round(&window);
    settle(&window, users);
    let after_one = footprint(&window);
    assert_eq!(
        after_one.chips, 3,
        "the user's, the round's ended one and its refused one"
    );

    // Rounds 2 and 3 by themselves, at the test's pace; round 4 step by step again.
    element(&window, "Demo: play by itself").invoke_accessible_default_action();
    let rounds = Cell::new(1);
    let last_step = Cell::new(demo.get_current());
    run_until("round 4", || {
        let current = demo.get_current();
        if current < last_step.get() {
            rounds.set(rounds.get() + 1);
        }
        last_step.set(current);
        assert_eq!(demo.get_problem(), "");
        rounds.get() == 4
    });
    element(&window, "Demo: play by itself").invoke_accessible_default_action();
    step_to_the_end_of_the_round(&window);
    settle(&window, users);
    assert_eq!(footprint(&window), after_one);

    element(&window, "Demo: stop").invoke_accessible_default_action();
    let chips: Vec<_> = client.get_connections().iter().collect();
    assert_eq!(
        chips
            .iter()
            .map(|row| (row.id, row.state))
            .collect::<Vec<_>>(),
        [(users, ConnectionState::Connected)],
        "only the user's own connection is left, still open"
    );
    assert_eq!(client.get_selected_connection(), users);
    let http = window.global::<HttpAdapter>();
    assert_eq!(
        (http.get_flow().row_count(), http.get_history().row_count()),
        (0, 0),
        "no mark or answer of the demo's"
    );
}
