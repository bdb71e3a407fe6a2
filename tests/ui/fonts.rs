//! Text in a script no installed font has: the window names the script and the package to
//! install, and shows the characters as escapes instead of drawing nothing.

use crate::common::ui::{connect_to_an_echo_server, element, run_until};
use crate::common::{TempDir, dejavu_only_fonts};
use netdeck::gui::ui::{AppWindow, ClientAdapter, ConversationDirection};
use slint::{ComponentHandle, Model};

pub fn a_script_without_a_font_is_named_and_shown_as_escapes() {
    let home = TempDir::new("fonts");
    let config = dejavu_only_fonts(&home);
    // SAFETY: this test's process has no other thread yet.
    unsafe { std::env::set_var("FONTCONFIG_FILE", &config) };
    i_slint_backend_testing::init_integration_test_with_system_time();
    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(&window, &netdeck::gui::GuiOptions::default()).unwrap();
    let _peer = connect_to_an_echo_server(&window);
    let adapter = window.global::<ClientAdapter>();
    // Latin letters beyond ASCII are in DejaVu: shown as they are, with no note.
    element(&window, "Message").set_accessible_value("café");
    element(&window, "Send message").invoke_accessible_default_action();
    run_until("the echo of café", || {
        (adapter.get_conversation().iter())
            .any(|line| line.direction == ConversationDirection::Received && line.text == "café")
    });
    assert_eq!(adapter.get_font_note(), "", "Latin text needs no note");

    // The seed's greeting.
    element(&window, "Message").set_accessible_value("hello 안녕하세요");
    element(&window, "Send message").invoke_accessible_default_action();
    let escaped = r"hello \u{c548}\u{b155}\u{d558}\u{c138}\u{c694}";
    run_until("the echo, as escapes", || {
        adapter
            .get_conversation()
            .iter()
            .any(|line| line.text == escaped)
    });
    let note = adapter.get_font_note();
    assert!(
        note.starts_with("Text in Korean (Hangul) cannot be drawn")
            && note.contains("fonts-nanum or fonts-noto-cjk"),
        "{note}"
    );
    // Read out as it is shown.
    let exposed = element(&window, &note);
    assert_eq!(
        exposed.accessible_description().as_deref(),
        Some("Font note")
    );
}
