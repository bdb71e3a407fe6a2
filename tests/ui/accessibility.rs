//! Every tab as a screen reader and a finger find it: every element with a role has a name,
//! every control is at least 48x48 logical px, every list is named, placeholders are exposed,
//! and each text field's clear button is found by its name, finger-sized, and clears.

use std::collections::BTreeSet;
use std::io::BufReader;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot};
use netdeck::gui::ui::{AppWindow, ClientAdapter, HttpAdapter, LogAdapter, Tab, UdpAdapter};
use slint::{ComponentHandle, Model};

use crate::common::ui::{
    EVERY_TAB, bind_an_echoing_udp_socket, connect_the_client_tab_to_its_server, element,
    is_control_role, open_tab, open_window, run_until, start_an_echo_server, tap,
};
use crate::common::{Peer, Watchdog, read_line, udp_peer};

/// A finger's width, in logical px.
const TOUCH: f32 = 48.0;

/// What a person taps, types into or moves, list rows included.
fn is_control(role: AccessibleRole) -> bool {
    is_control_role(role) || role == AccessibleRole::ListItem
}

/// Rows of lists that are read, not tapped: each is as tall as its text, so a long
/// conversation or log shows many at once. Named by their list's label.
const READ_ONLY_LISTS: &[&str] = &[
    "Conversation",
    "Server conversation",
    "Client conversation",
    "Log lines",
    "Demo steps",
];

/// Text fields and the placeholder each shows (and a screen reader reads) while empty.
const PLACEHOLDERS: &[(Tab, &str, &str)] = &[
    (Tab::Server, "Max clients", "no limit"),
    (Tab::Client, "Message", r"what to send, e.g. hello\n"),
    (Tab::Udp, "To", "IP:port"),
    (Tab::Udp, "Join groups", "none, or 239.1.2.3"),
    (Tab::Http, "Header name 1", "Name"),
    (
        Tab::Settings,
        "Proxy URL",
        "http://user:pass@proxy.lan:3128",
    ),
];

fn describe(element: &ElementHandle) -> String {
    let size = element.size();
    format!(
        "{:?} {:?} ({:?}, {}x{} at {:?})",
        element.accessible_role(),
        element.accessible_label().unwrap_or_default(),
        element.accessible_description().unwrap_or_default(),
        size.width,
        size.height,
        element.absolute_position(),
    )
}

fn shown_on_screen(element: &ElementHandle) -> bool {
    element.size().width > 0.0 && element.size().height > 0.0
}

/// The rows of the lists whose rows are read, not tapped, on the page now shown.
fn read_only_rows(window: &AppWindow) -> BTreeSet<(i64, i64, String)> {
    let key = |e: &ElementHandle| {
        let position = e.absolute_position();
        (
            position.x as i64,
            position.y as i64,
            e.accessible_label().unwrap_or_default().to_string(),
        )
    };
    (window.root_element().query_descendants())
        .match_accessible_role(AccessibleRole::List)
        .find_all()
        .iter()
        .filter(|list| {
            let label = list.accessible_label().unwrap_or_default();
            READ_ONLY_LISTS.contains(&label.as_str())
        })
        .flat_map(|list| {
            (list.query_descendants())
                .match_accessible_role(AccessibleRole::ListItem)
                .find_all()
        })
        .map(|row| key(&row))
        .collect()
}

/// Every element with a role on the page now shown: named, and a control finger-sized.
fn check_names_and_sizes(window: &AppWindow, what: &str, problems: &mut Vec<String>) {
    let read_only = read_only_rows(window);
    let elements = (window.root_element().query_descendants())
        .match_predicate(|e| {
            e.accessible_role()
                .is_some_and(|r| r != AccessibleRole::None)
        })
        .find_all();
    for element in elements.iter().filter(|e| shown_on_screen(e)) {
        let role = element.accessible_role().unwrap();
        let label = element.accessible_label().unwrap_or_default();
        if label.trim().is_empty() {
            problems.push(format!("{what}: no name: {}", describe(element)));
        }
        if !is_control(role) {
            continue;
        }
        let position = element.absolute_position();
        let row = (position.x as i64, position.y as i64, label.to_string());
        if role == AccessibleRole::ListItem && read_only.contains(&row) {
            continue;
        }
        let size = element.size();
        if size.width < TOUCH - 0.5 || size.height < TOUCH - 0.5 {
            problems.push(format!(
                "{what}: smaller than a finger: {}",
                describe(element)
            ));
        }
    }
}

/// Each text field of the page now shown, focused by a tap: its clear button is named after
/// it, finger-sized, and empties it.
fn check_clear_buttons(window: &AppWindow, what: &str, problems: &mut Vec<String>) -> usize {
    let fields: Vec<ElementHandle> = (window.root_element().query_descendants())
        .match_accessible_role(AccessibleRole::TextInput)
        .find_all()
        .into_iter()
        .filter(|field| {
            shown_on_screen(field)
                && field.accessible_enabled() != Some(false)
                && field.accessible_read_only() != Some(true)
                // A one-line field: a text area has no clear button.
                && field.size().height <= TOUCH + 0.5
        })
        .collect();
    for field in &fields {
        let label = field.accessible_label().unwrap_or_default().to_string();
        let held = field.accessible_value().unwrap_or_default();
        if held.is_empty() {
            field.set_accessible_value("typed");
        }
        tap(window, field);
        let name = format!("Clear {label}");
        run_until(&format!("{what}: the button {name:?}"), || {
            ElementHandle::find_by_accessible_label(window, &name)
                .next()
                .is_some()
        });
        let clear = element(window, &name);
        assert_eq!(
            clear.accessible_role(),
            Some(AccessibleRole::Button),
            "{name}"
        );
        let size = clear.size();
        if size.width < TOUCH - 0.5 || size.height < TOUCH - 0.5 {
            problems.push(format!(
                "{what}: smaller than a finger: {}",
                describe(&clear)
            ));
        }
        clear.invoke_accessible_default_action();
        assert_eq!(
            field.accessible_value().unwrap_or_default(),
            "",
            "{what}: {name} empties the field"
        );
        field.set_accessible_value(held);
    }
    fields.len()
}

/// The placeholders of the fields of `tab`, as a screen reader gets them.
fn check_placeholders(window: &AppWindow, tab: Tab, problems: &mut Vec<String>) {
    for (_, label, placeholder) in PLACEHOLDERS.iter().filter(|(t, ..)| *t == tab) {
        let field = element(window, label);
        let exposed = field.accessible_placeholder_text().unwrap_or_default();
        if exposed != *placeholder {
            problems.push(format!(
                "{tab:?}: {label} exposes the placeholder {exposed:?}, not {placeholder:?}"
            ));
        }
    }
}

pub fn every_control_is_named_finger_sized_and_every_field_can_be_cleared() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let (window, _gui) = open_window(1920.0, 1080.0);

    // Something in every list: a listener with a client, the Client tab connected to it and
    // its conversation, a UDP source, an HTTP answer, and the log of it all.
    let port = start_an_echo_server(&window);
    connect_the_client_tab_to_its_server(&window, port);
    let client = window.global::<ClientAdapter>();
    element(&window, "Message").set_accessible_value("hello");
    element(&window, "Send message").invoke_accessible_default_action();
    run_until("the echo", || client.get_conversation().row_count() >= 2);

    let udp_port = bind_an_echoing_udp_socket(&window).to_string();
    let udp = window.global::<UdpAdapter>();
    let mut python = udp_peer(&["send", "127.0.0.1", &udp_port, "ping"]);
    let _watchdog = Watchdog::new(python.id());
    let mut replies = BufReader::new(python.stdout.take().unwrap());
    read_line(&mut replies);
    run_until("the UDP source", || udp.get_sources().row_count() == 1);

    open_tab(&window, "HTTP");
    let http = window.global::<HttpAdapter>();
    let peer = Peer::http(&[]);
    element(&window, "URL").set_accessible_value(format!("http://{}/json", peer.addr));
    element(&window, "Send request").invoke_accessible_default_action();
    run_until("the answer", || http.get_has_response() && !http.get_busy());
    run_until("lines in the log", || {
        window.global::<LogAdapter>().get_lines().row_count() > 0
    });

    let mut problems = Vec::new();
    let mut fields = 0;
    for tab in EVERY_TAB {
        window.set_current_tab(tab);
        let views: &[i32] = if tab == Tab::Http {
            &[0, 1, 2, 3, 4]
        } else {
            &[0]
        };
        for view in views {
            http.set_view(*view);
            run_until("the page to be laid out", || true);
            let what = format!("{tab:?} (view {view})");
            check_names_and_sizes(&window, &what, &mut problems);
            fields += check_clear_buttons(&window, &what, &mut problems);
            let lists = (window.root_element().query_descendants())
                .match_accessible_role(AccessibleRole::List)
                .find_all();
            for list in lists.iter().filter(|list| shown_on_screen(list)) {
                if list.accessible_label().unwrap_or_default().is_empty() {
                    problems.push(format!("{what}: a list with no name: {}", describe(list)));
                }
            }
            // And every row is in a list.
            let in_lists = (lists.iter())
                .map(|list| {
                    (list.query_descendants())
                        .match_accessible_role(AccessibleRole::ListItem)
                        .find_all()
                        .len()
                })
                .sum::<usize>();
            let rows = (window.root_element().query_descendants())
                .match_accessible_role(AccessibleRole::ListItem)
                .find_all();
            if rows.len() != in_lists {
                problems.push(format!(
                    "{what}: {} of {} list rows are in no list",
                    rows.len() - in_lists,
                    rows.len()
                ));
            }
        }
        http.set_view(0);
        run_until("the page to be laid out", || true);
        check_placeholders(&window, tab, &mut problems);
    }
    let _ = python.kill();
    let _ = python.wait();
    assert!(fields > 20, "only {fields} text fields were found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
