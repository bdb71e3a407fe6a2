//! Text in a script no installed font has: the window names the script and the package to
//! install, and shows the characters as escapes instead of drawing nothing.

use crate::common::ui::{connect_to_an_echo_server, element, open_tab, run_until, shown};
use crate::common::{Peer, TempDir, dejavu_only_fonts};
use netdeck::gui::ui::{
    AppWindow, ClientAdapter, ConversationDirection, DemoAdapter, FlowKind, HttpAdapter,
    SessionShow,
};
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

    // The flow's arrows: drawn with escapes, read as sent, under the same note.
    element(&window, "Show: Flow").invoke_accessible_default_action();
    assert_eq!(adapter.get_show(), SessionShow::Flow);
    let echo = (adapter.get_flow().iter())
        .filter(|mark| mark.kind == FlowKind::Data && mark.from_server)
        .last()
        .expect("the echo's arrow");
    assert_eq!(echo.label, format!("21 B · {escaped}"));
    assert_eq!(echo.spoken, "Server to client: 21 B · hello 안녕하세요");
    element(&window, &note);
}

/// Hangul as the window draws it without a font for it: `\u{c548}` for 안, and so on.
fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| match c as u32 {
            0xac00..=0xd7af => format!("\\u{{{:04x}}}", c as u32),
            _ => c.to_string(),
        })
        .collect()
}

/// As the first test, with DejaVu alone: it has no Hangul.
fn window_without_hangul(home: &TempDir) -> (AppWindow, netdeck::gui::Gui) {
    let config = dejavu_only_fonts(home);
    // SAFETY: this test's process has no other thread yet.
    unsafe { std::env::set_var("FONTCONFIG_FILE", &config) };
    i_slint_backend_testing::init_integration_test_with_system_time();
    crate::common::ui::open_window(800.0, 480.0)
}

fn korean_note(note: &str) -> bool {
    note.starts_with("Text in Korean (Hangul) cannot be drawn")
        && note.contains("fonts-nanum or fonts-noto-cjk")
}

pub fn an_http_answer_in_korean_shows_escapes_and_the_font_note() {
    let home = TempDir::new("fonts-http");
    let (window, _gui) = window_without_hangul(&home);
    let adapter = window.global::<HttpAdapter>();
    open_tab(&window, "HTTP");
    // Python's http.server, answering with Hangul in its reason, a header and the body.
    let peer = Peer::http(&[]);
    element(&window, "URL").set_accessible_value(format!("http://{}/korean", peer.addr));
    element(&window, "Send request").invoke_accessible_default_action();
    run_until("the answer", || {
        adapter.get_has_response() && !adapter.get_busy()
    });

    assert_eq!(adapter.get_response_body(), escaped("안녕하세요"));
    assert_eq!(adapter.get_response_body_spoken(), "안녕하세요");
    let headers = adapter.get_response_headers();
    assert!(
        headers.contains(&escaped("X-Greeting: 안녕\n")),
        "{headers}"
    );
    assert!(
        adapter
            .get_response_headers_spoken()
            .contains("X-Greeting: 안녕\n"),
        "{}",
        adapter.get_response_headers_spoken()
    );
    // On the Response view: the note, read out, and the body, read as it was sent.
    let note = adapter.get_font_note();
    assert!(korean_note(&note), "{note:?}");
    let exposed = element(&window, &note);
    assert_eq!(
        exposed.accessible_description().as_deref(),
        Some("Font note")
    );
    let body = element(&window, "안녕하세요");
    assert_eq!(
        body.accessible_description().as_deref(),
        Some("Response body")
    );

    // An answer a font can draw takes the note away.
    element(&window, "URL").set_accessible_value(format!("http://{}/target", peer.addr));
    element(&window, "Send request").invoke_accessible_default_action();
    run_until("the second answer", || {
        adapter.get_response_body() == "arrived" && !adapter.get_busy()
    });
    assert_eq!(adapter.get_font_note(), "");
    assert!(!shown(&window, &note));

    // A redirect to a Location with Hangul that is no URL: the flow's failure arrow quotes it,
    // drawn with escapes and read as sent, under the note.
    element(&window, "URL").set_accessible_value(format!("http://{}/redirect/korean", peer.addr));
    element(&window, "Send request").invoke_accessible_default_action();
    run_until("the failure", || {
        !adapter.get_error().is_empty() && !adapter.get_busy()
    });
    // The error line quotes it too, drawn with escapes.
    assert!(
        adapter
            .get_error()
            .contains(&escaped("`http://안녕:99999/`")),
        "{}",
        adapter.get_error()
    );
    assert!(korean_note(&adapter.get_font_note()));
    element(&window, "Show: Flow").invoke_accessible_default_action();
    let failure = (adapter.get_flow().iter())
        .find(|mark| mark.kind == FlowKind::Failure)
        .expect("the failure's mark");
    assert!(
        failure.label.contains(&escaped("`http://안녕:99999/`")),
        "{}",
        failure.label
    );
    assert!(
        failure.spoken.contains("`http://안녕:99999/`"),
        "{}",
        failure.spoken
    );
    assert!(korean_note(&adapter.get_font_note()));
    assert!(shown(&window, &adapter.get_font_note()));
}

pub fn the_demos_message_field_shows_escapes_and_sends_the_korean() {
    let home = TempDir::new("fonts-demo");
    let (window, _gui) = window_without_hangul(&home);
    let demo = window.global::<DemoAdapter>();
    let client = window.global::<ClientAdapter>();
    open_tab(&window, "Demo");
    element(&window, "Start demo").invoke_accessible_default_action();
    // The third step sends the greeting and waits for its echo.
    for step in 0..3 {
        run_until(&format!("step {} to be done", step + 1), || {
            demo.get_current() == step && !demo.get_busy()
        });
        assert_eq!(demo.get_problem(), "");
        if step < 2 {
            element(&window, "Demo: next step").invoke_accessible_default_action();
        }
    }
    // The field holds what the window can draw, and what it sent was the Korean itself: the
    // echo came back as the 21 bytes of the greeting.
    assert_eq!(client.get_payload(), escaped(netdeck::demo::GREETING));
    let echo = (client.get_conversation().iter())
        .find(|line| line.direction == ConversationDirection::Received)
        .expect("the echo");
    assert_eq!(echo.spoken, netdeck::demo::GREETING);
    assert_eq!(echo.text, escaped(netdeck::demo::GREETING));
    // The demo's bar says why, over whichever tab the step shows.
    let note = demo.get_font_note();
    assert!(korean_note(&note), "{note:?}");
    assert!(shown(&window, &note));
    element(&window, "Demo: stop").invoke_accessible_default_action();
    assert_eq!(demo.get_font_note(), "");
}
