//! Kiosk mode and the on-screen keyboard, driven by taps and accessible labels. Each test in a
//! process of its own: the testing backend's event loop can be set up once per process.

use crate::common;

use std::collections::BTreeSet;

use common::TempDir;
use common::ui::{element, element_where, open_tab, run_until, shown, tap};
use i_slint_backend_testing::ElementQuery;
use netdeck::gui::GuiOptions;
use netdeck::gui::ui::{
    AppWindow, ClientAdapter, ConnectionState, HttpAdapter, KeyboardState, ServerAdapter,
    SettingsAdapter,
};
use slint::{ComponentHandle, LogicalSize, Model};

/// The labels of every key on the keyboard now, without the "Key " prefix.
fn keys(window: &AppWindow) -> BTreeSet<String> {
    ElementQuery::from_root(window)
        .match_descendants()
        .find_all()
        .into_iter()
        .filter_map(|e| e.accessible_label())
        .filter_map(|label| label.strip_prefix("Key ").map(str::to_string))
        .collect()
}

fn press(window: &AppWindow, key: &str) {
    element(window, &format!("Key {key}")).invoke_accessible_default_action();
}

fn open(options: &GuiOptions) -> (AppWindow, netdeck::gui::Gui) {
    let window = AppWindow::new().unwrap();
    window.window().set_size(LogicalSize::new(800.0, 480.0));
    let gui = netdeck::gui::setup(&window, options).unwrap();
    window.show().unwrap();
    (window, gui)
}

/// Opens a window with `options` and closes it again: whether its keyboard is on, and whether
/// the Settings tab offers Quit.
fn settings_with(options: &GuiOptions) -> (bool, bool) {
    let (window, gui) = open(options);
    let keyboard_on = window.global::<KeyboardState>().get_enabled();
    open_tab(&window, "Settings");
    run_until("the Settings tab", || shown(&window, "Log lines"));
    let quit = shown(&window, "Quit");
    window.hide().unwrap();
    drop((gui, window));
    (keyboard_on, quit)
}

pub fn kiosk_mode_types_with_the_on_screen_keyboard_and_hides_quit() {
    i_slint_backend_testing::init_integration_test_with_system_time();

    // Outside kiosk mode the keyboard is off and Quit is offered; --allow-quit keeps it in
    // kiosk mode.
    let (keyboard_on, quit) = settings_with(&GuiOptions::default());
    assert!(!keyboard_on && quit);
    let (_, quit) = settings_with(&GuiOptions {
        kiosk: true,
        allow_quit: true,
        ..GuiOptions::default()
    });
    assert!(quit);

    // What kiosk mode implies is not the user's setting: a kiosk run on the desktop's
    // settings file leaves the keyboard off there.
    let home = TempDir::new("kiosk-settings");
    let file = home.join("config.toml");
    let (window, gui) = open(&GuiOptions {
        kiosk: true,
        config: Some(file.clone()),
        ..GuiOptions::default()
    });
    assert!(window.global::<KeyboardState>().get_enabled());
    gui.remember();
    let saved = std::fs::read_to_string(&file).expect("the settings were saved");
    assert!(saved.contains("keyboard = false"), "{saved}");
    drop((gui, window));

    // Read-only settings: the window says they are locked, presets cannot be saved, and
    // nothing is written.
    let before = std::fs::read(&file).unwrap();
    let (window, gui) = open(&GuiOptions {
        config: Some(file.clone()),
        read_only: true,
        ..GuiOptions::default()
    });
    let settings = window.global::<SettingsAdapter>();
    assert!(
        settings.get_note().starts_with("Settings are locked"),
        "{}",
        settings.get_note()
    );
    open_tab(&window, "Settings");
    run_until("the Settings tab", || shown(&window, "Preset name"));
    element_where(&window, "described as the settings note", |e| {
        e.accessible_description().as_deref() == Some("Settings note")
    });
    element(&window, "Preset name").set_accessible_value("kiosk");
    element(&window, "Save Server preset").invoke_accessible_default_action();
    assert!(settings.get_preset_error().contains("locked"));
    assert_eq!(settings.get_presets().row_count(), 0);
    gui.remember();
    assert_eq!(std::fs::read(&file).unwrap(), before, "nothing was written");
    drop((gui, window));

    // Kiosk mode: no Quit anywhere, the keyboard on.
    let (window, _gui) = open(&GuiOptions {
        kiosk: true,
        ..GuiOptions::default()
    });
    assert!(window.get_kiosk());
    assert!(window.global::<KeyboardState>().get_enabled());
    for tab in ["Server", "Client", "HTTP", "Log", "Settings"] {
        open_tab(&window, tab);
        run_until("the tab to show", || shown(&window, "Server tab"));
        assert!(
            !shown(&window, "Quit"),
            "tab {tab} offers Quit in kiosk mode"
        );
    }

    // No field has focus: no keyboard.
    open_tab(&window, "Server");
    run_until("the Server tab", || shown(&window, "Payload"));
    assert!(!shown(&window, "Key q"));

    // Focusing the payload field, at the bottom of the page, shows the letters; the page
    // moves up so the field stays above the keyboard.
    tap(&window, &element(&window, "Payload"));
    run_until("the keyboard", || shown(&window, "Key q"));
    run_until("the field above the keyboard", || {
        let field = element(&window, "Payload");
        let top_key = element(&window, "Key q");
        let field_bottom = field.absolute_position().y + field.size().height;
        field.absolute_position().y >= 0.0 && field_bottom <= top_key.absolute_position().y
    });

    // Typing on it edits the field.
    let server = window.global::<ServerAdapter>();
    for key in ["h", "i", "Space", "t", "o"] {
        press(&window, key);
    }
    assert_eq!(server.get_payload(), "hi to");
    press(&window, "Backspace");
    press(&window, "Shift");
    press(&window, "M");
    assert_eq!(server.get_payload(), "hi tM");
    press(&window, "123");
    run_until("digits and symbols", || shown(&window, "Key 7"));
    press(&window, "7");
    press(&window, "\\");
    assert_eq!(server.get_payload(), "hi tM7\\");

    // A hex field gets only the hex pad, and every key on it types hex.
    press(&window, "Hide keyboard");
    run_until("the tab bar back in view", || shown(&window, "Client tab"));
    open_tab(&window, "Client");
    run_until("the Client tab", || shown(&window, "Message"));
    element(&window, "Message format: Hex").invoke_accessible_default_action();
    let client = window.global::<ClientAdapter>();
    assert!(client.get_payload_hex());
    tap(&window, &element(&window, "Message"));
    run_until("the hex pad", || shown(&window, "Key F"));
    let hex_pad = keys(&window);
    let typing: Vec<&String> = hex_pad
        .iter()
        .filter(|key| !matches!(key.as_str(), "Backspace" | "Enter" | "Hide keyboard"))
        .collect();
    assert_eq!(typing.len(), 17, "16 hex digits and Space: {hex_pad:?}");
    for key in &typing {
        press(&window, key);
    }
    let typed = client.get_payload();
    assert_eq!(typed.len(), 17, "{typed:?}");
    assert!(
        typed.chars().all(|c| c.is_ascii_hexdigit() || c == ' '),
        "only hex was typed: {typed:?}"
    );
    assert!(!shown(&window, "Key q") && !shown(&window, "Key 123"));

    // The hide key puts it away; the field keeps its text.
    press(&window, "Hide keyboard");
    run_until("the keyboard to go", || !shown(&window, "Key F"));
    assert_eq!(client.get_payload(), typed);

    // A whole JSON document, typed into the HTTP body on the keyboard's pages: every ASCII
    // sign a document, a URL or a shell line needs has a key.
    open_tab(&window, "HTTP");
    element(&window, "Show: Request").invoke_accessible_default_action();
    tap(&window, &element(&window, "Body"));
    run_until("the keyboard", || shown(&window, "Key q"));
    let document =
        r##"{"a": [1, 2.5], "b": "<x|y> ~^$ `'", "c": {"d": "e_f-g/h\\i", "j": "#%&=@!?*+();:"}}"##;
    for character in document.chars() {
        type_character(&window, character);
    }
    let http = window.global::<HttpAdapter>();
    assert_eq!(http.get_body(), document);

    // A field that is disabled while the keyboard types into it sends the keyboard away.
    press(&window, "Hide keyboard");
    run_until("the tab bar back in view", || {
        shown(&window, "Settings tab")
    });
    open_tab(&window, "Settings");
    element(&window, "HTTP proxy: This one").invoke_accessible_default_action();
    tap(&window, &element(&window, "Proxy URL"));
    run_until("the keyboard", || shown(&window, "Key q"));
    element(&window, "HTTP proxy: None").invoke_accessible_default_action();
    run_until("the keyboard to go", || !shown(&window, "Key q"));
}

/// Types one character as a person would: on the page that has its key, turning pages
/// (letters, digits and symbols, more symbols) until it shows.
fn type_character(window: &AppWindow, character: char) {
    let label = match character {
        ' ' => "Space".to_string(),
        other => other.to_string(),
    };
    for _ in 0..3 {
        if shown(window, &format!("Key {label}")) {
            press(window, &label);
            return;
        }
        let next_page = if shown(window, "Key More symbols") {
            "More symbols"
        } else if shown(window, "Key 123") {
            "123"
        } else {
            "ABC"
        };
        press(window, next_page);
    }
    panic!("no key types {character:?}");
}

/// Whether the on-screen keyboard is up: any of its keys is there.
fn keyboard_up(window: &AppWindow) -> bool {
    !keys(window).is_empty()
}

/// In kiosk mode, taps `field` (the keyboard comes up), gives it `value`, then presses
/// `action`: the keyboard goes, so it does not cover what the action shows.
fn type_then(window: &AppWindow, field: &str, value: &str, action: &str) {
    tap(window, &element(window, field));
    run_until(&format!("the keyboard for {field}"), || keyboard_up(window));
    element(window, field).set_accessible_value(value);
    element(window, action).invoke_accessible_default_action();
    run_until(&format!("the keyboard to go after {action}"), || {
        !keyboard_up(window)
    });
    run_until("the tab bar back in view", || shown(window, "Settings tab"));
}

pub fn the_keyboard_goes_after_connect_send_start_and_bind() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let (window, _gui) = open(&GuiOptions {
        kiosk: true,
        ..GuiOptions::default()
    });
    let peer = common::Peer::start(&["echo"]);
    let client = window.global::<ClientAdapter>();

    // A Connect that cannot begin leaves the keyboard up to fix the field.
    open_tab(&window, "Client");
    run_until("the Client tab", || shown(&window, "Port"));
    tap(&window, &element(&window, "Port"));
    run_until("the keyboard", || keyboard_up(&window));
    element(&window, "Port").set_accessible_value("http");
    element(&window, "Connect").invoke_accessible_default_action();
    assert!(!client.get_port_error().is_empty());
    assert!(keyboard_up(&window), "the field still needs typing");

    type_then(&window, "Port", &peer.addr.port().to_string(), "Connect");
    run_until("the connection", || {
        client.get_state() == ConnectionState::Connected
    });
    type_then(&window, "Message", "hi", "Send message");
    run_until("the echo", || client.get_counters() == "2 B in · 2 B out");
    // A tap on the field brings the keyboard back.
    tap(&window, &element(&window, "Message"));
    run_until("the keyboard again", || keyboard_up(&window));
    press(&window, "Hide keyboard");
    run_until("the tab bar back in view", || shown(&window, "Server tab"));

    open_tab(&window, "Server");
    run_until("the Server tab", || shown(&window, "Port"));
    type_then(&window, "Port", "0", "Start");
    let server = window.global::<ServerAdapter>();
    run_until("the server", || server.get_listening());

    open_tab(&window, "UDP");
    run_until("the UDP tab", || shown(&window, "Port"));
    type_then(&window, "Port", "0", "Bind");

    open_tab(&window, "HTTP");
    run_until("the HTTP tab", || shown(&window, "URL"));
    let http = window.global::<HttpAdapter>();
    let url = format!("http://{}/", peer.addr);
    type_then(&window, "URL", &url, "Send request");
    // An echo server is no HTTP server: the exchange ends with an error.
    run_until("the exchange to end", || !http.get_busy());
}
