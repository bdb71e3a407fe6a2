//! A conversation follows its newest entry while it is scrolled to the end; scrolled up, it
//! stays where the user put it, offers "Jump to newest", and is found there again after a tab
//! switch. Driven as a person does: the mouse wheel, the tabs and the button.

use crate::common;

use common::ui::{connect_to_an_echo_server, element, open_tab, run_until, shown};
use netdeck::gui::ui::{AppWindow, ClientAdapter, ConversationDirection};
use slint::platform::WindowEvent;
use slint::{ComponentHandle, LogicalPosition, Model};

fn send(window: &AppWindow, text: &str) {
    let adapter = window.global::<ClientAdapter>();
    element(window, "Message").set_accessible_value(text);
    element(window, "Send message").invoke_accessible_default_action();
    run_until(&format!("the echo of {text}"), || {
        (adapter.get_conversation().iter())
            .any(|line| line.direction == ConversationDirection::Received && line.text == text)
    });
}

/// Runs the event loop for a while, so that the view's change handlers have run: what must
/// not happen has had its chance to.
fn let_the_view_settle() {
    let slices = std::cell::Cell::new(0);
    run_until("a few turns of the event loop", || {
        slices.set(slices.get() + 1);
        slices.get() > 20
    });
}

pub fn a_conversation_follows_its_newest_entry_until_scrolled_up() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let (window, _gui) = common::ui::open_window(800.0, 480.0);
    let _peer = connect_to_an_echo_server(&window);

    // Many more entries than the view holds: it keeps the newest in view.
    for i in 0..30 {
        send(&window, &format!("line {i}"));
    }
    run_until("the newest entry in view", || {
        shown(&window, "Received: line 29")
    });
    assert!(
        !shown(&window, "Sent: line 0"),
        "the oldest are out of view"
    );
    assert!(!shown(&window, "Jump to newest"));

    // The user turns the mouse wheel up over the conversation, to its first entry.
    let newest = element(&window, "Received: line 29");
    let position = LogicalPosition::new(
        newest.absolute_position().x + 50.0,
        newest.absolute_position().y,
    );
    run_until("the first entry, scrolled back to", || {
        window
            .window()
            .dispatch_event(WindowEvent::PointerScrolled {
                position,
                delta_x: 0.0,
                delta_y: 400.0,
            });
        shown(&window, "Sent: line 0")
    });
    run_until("the offer to jump to the newest", || {
        shown(&window, "Jump to newest")
    });

    // A new entry does not pull the view away from what the user reads.
    send(&window, "line 30");
    let_the_view_settle();
    assert!(shown(&window, "Sent: line 0"));
    assert!(!shown(&window, "Received: line 30"));

    // Another tab and back: the conversation is where it was left.
    open_tab(&window, "Log");
    open_tab(&window, "Client");
    run_until("the conversation as it was left", || {
        shown(&window, "Sent: line 0") && shown(&window, "Jump to newest")
    });

    // Jump to newest: the newest entry is in view, and the view follows again.
    element(&window, "Jump to newest").invoke_accessible_default_action();
    run_until("the newest entry in view", || {
        shown(&window, "Received: line 30")
    });
    assert!(!shown(&window, "Jump to newest"));
    send(&window, "line 31");
    run_until("the newest entry followed", || {
        shown(&window, "Received: line 31")
    });
}
