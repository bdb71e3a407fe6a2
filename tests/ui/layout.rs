//! At 800x480 with every offered scale, at 1920x1080 with the scales a room needs, and with
//! stage text, every control of every tab is inside the window: nothing reaches past its right
//! edge, nothing overlaps another control, and what lies below the bottom edge is brought into
//! the window by scrolling the page, as a finger would. An error under a field moves and covers
//! nothing.

use std::collections::BTreeMap;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot};
use netdeck::gui::GuiOptions;
use netdeck::gui::ui::{
    AppWindow, BothState, ClientAdapter, DemoAdapter, HttpAdapter, ServerAdapter, SettingsAdapter,
    Tab, Theme, UdpAdapter,
};
use slint::platform::WindowEvent;
use slint::{ComponentHandle, LogicalPosition, LogicalSize};

use crate::common::ui::{
    EVERY_TAB, connect_to_an_echo_server, drawing_backend, element, element_where, is_control_role,
    open_tab, run_until, screenshots_dir, shown,
};
use crate::screenshots::write_png;

/// The scales the Settings tab offers.
const OFFERED_SCALES: [f32; 5] = [0.75, 1.0, 1.25, 1.5, 2.0];

/// What a person taps or types into, drawn.
fn is_control(element: &ElementHandle) -> bool {
    element.accessible_role().is_some_and(is_control_role)
        && element.size().width > 0.0
        && element.size().height > 0.0
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Rect {
    x: f32,
    y: f32,
    width: f32,
    height: f32,
}

impl Rect {
    fn of(element: &ElementHandle) -> Rect {
        let (position, size) = (element.absolute_position(), element.size());
        Rect {
            x: position.x,
            y: position.y,
            width: size.width,
            height: size.height,
        }
    }

    fn overlaps(&self, other: &Rect) -> bool {
        const SLACK: f32 = 0.5;
        self.x + SLACK < other.x + other.width
            && other.x + SLACK < self.x + self.width
            && self.y + SLACK < other.y + other.height
            && other.y + SLACK < self.y + self.height
    }

    fn contains(&self, other: &Rect) -> bool {
        // A pixel of slack: window sizes are whole pixels, layouts are not.
        self.x <= other.x + 1.0
            && self.y <= other.y + 1.0
            && other.x + other.width <= self.x + self.width + 1.0
            && other.y + other.height <= self.y + self.height + 1.0
    }
}

fn name(element: &ElementHandle) -> String {
    format!(
        "{:?} {:?}",
        element.accessible_role(),
        element.accessible_label().unwrap_or_default()
    )
}

/// The page now shown: the one scrolling area of the tab.
fn page(window: &AppWindow) -> ElementHandle {
    let mut pages: Vec<ElementHandle> = (window.root_element().query_descendants())
        .match_inherits("Page")
        .find_all()
        .into_iter()
        .filter(|page| page.size().height > 0.0)
        .collect();
    assert_eq!(pages.len(), 1, "one page is shown");
    pages.pop().unwrap()
}

/// Checks the window as the page is scrolled now, and notes the controls seen whole: the tab
/// bar's within the window, the page's within what the page shows of itself.
fn check_view(window: &AppWindow, what: &str, seen: &mut BTreeMap<String, Rect>) {
    let size = window.window().size();
    let scale = window.window().scale_factor();
    let (width, height) = (size.width as f32 / scale, size.height as f32 / scale);
    let whole_window = Rect {
        x: 0.0,
        y: 0.0,
        width,
        height,
    };
    let page = page(window);
    let shown_of_page = Rect::of(&page);
    assert!(
        whole_window.contains(&shown_of_page),
        "{what}: the page {shown_of_page:?} is inside the window {whole_window:?}"
    );
    let of_page: Vec<(String, Rect)> = (page.query_descendants())
        .match_predicate(is_control)
        .find_all()
        .iter()
        .map(|control| (name(control), Rect::of(control)))
        .collect();
    let controls = (window.root_element().query_descendants())
        .match_predicate(is_control)
        .find_all();
    let mut inside = Vec::new();
    for control in &controls {
        let rect = Rect::of(control);
        let label = name(control);
        assert!(
            rect.x >= -1.0 && rect.x + rect.width <= width + 1.0,
            "{what}: {label} reaches past the window's sides ({rect:?}, window {width}x{height})"
        );
        let in_page = of_page
            .iter()
            .any(|(l, r)| *l == label && r.x == rect.x && r.y == rect.y);
        let visible_area = if in_page { shown_of_page } else { whole_window };
        if visible_area.contains(&rect) {
            inside.push((label, rect));
        }
    }
    for (i, (a, rect_a)) in inside.iter().enumerate() {
        for (b, rect_b) in &inside[i + 1..] {
            if rect_a.overlaps(rect_b) && !rect_a.contains(rect_b) && !rect_b.contains(rect_a) {
                panic!("{what}: {a} {rect_a:?} overlaps {b} {rect_b:?}");
            }
        }
    }
    for (label, rect) in inside {
        seen.insert(label, rect);
    }
}

/// Every control of the page now shown, whole in the window at some scroll position.
fn check_page(window: &AppWindow, what: &str) {
    let all: Vec<String> = (window.root_element().query_descendants())
        .match_predicate(is_control)
        .find_all()
        .iter()
        .map(name)
        .collect();
    let mut seen = BTreeMap::new();
    check_view(window, what, &mut seen);
    // Scrolled by the wheel over the page's margin (not over a list, which scrolls itself),
    // a little at a time, to its end.
    let page = page(window);
    let (position, size) = (page.absolute_position(), page.size());
    let margin = LogicalPosition::new(position.x + 2.0, position.y + size.height / 2.0);
    let wheel = |delta_y| {
        window
            .window()
            .dispatch_event(WindowEvent::PointerScrolled {
                position: margin,
                delta_x: 0.0,
                delta_y,
            });
        run_until("the page to scroll", || true);
    };
    // Steps shorter than the smallest page is tall, less a control's height, so each control
    // is whole at one of them; the end is where the controls stop moving.
    let mut last = places(window);
    loop {
        wheel(-20.0);
        check_view(window, what, &mut seen);
        let now = places(window);
        if now == last {
            break;
        }
        last = now;
    }
    wheel(10_000.0);
    let missing: Vec<&String> = all
        .iter()
        .filter(|label| !seen.contains_key(*label))
        .collect();
    assert!(
        missing.is_empty(),
        "{what}: never whole in the window, even scrolled: {missing:?}"
    );
}

/// Every view of every tab, and the busiest tabs under the demo's bar with its longest caption,
/// on a screen of `width` x `height` pixels at `scale`: each control whole in the window at
/// some scroll position. Pictures of each go to `pictures` as `layout-…-NAME.png`.
fn check_every_tab(window: &AppWindow, (width, height): (f32, f32), scale: f32, name: &str) {
    // What a scale does to the layout: 800x480 pixels at 1.5 are 533x320 logical pixels.
    // (The testing backend draws at a scale of 1, so the pictures are at the logical size.)
    window
        .window()
        .set_size(LogicalSize::new(width / scale, height / scale));
    let pictures = screenshots_dir();
    for tab in EVERY_TAB {
        window.set_current_tab(tab);
        // The HTTP tab's five views; Both sides' conversations and flow.
        let views = match tab {
            Tab::Http => 0..5,
            Tab::Both => 0..2,
            _ => 0..1,
        };
        for view in views {
            window.global::<HttpAdapter>().set_view(view);
            window
                .global::<BothState>()
                .set_flow(tab == Tab::Both && view == 1);
            drawn_and_checked(
                window,
                &pictures.join(format!("layout-{tab:?}-{view}-{name}.png")),
                &format!("{tab:?} (view {view}), {name}"),
            );
        }
    }
    window.global::<HttpAdapter>().set_view(0);
    window.global::<BothState>().set_flow(false);
    let demo = window.global::<DemoAdapter>();
    let longest = (netdeck::demo::STEPS.iter().enumerate())
        .max_by_key(|(_, step)| step.caption.len())
        .map(|(index, _)| index as i32)
        .unwrap();
    demo.set_current(longest);
    for tab in [Tab::Server, Tab::Client, Tab::Both] {
        window.set_current_tab(tab);
        drawn_and_checked(
            window,
            &pictures.join(format!("layout-{tab:?}-demo-{name}.png")),
            &format!("{tab:?} under the demo's bar, {name}"),
        );
    }
    demo.set_current(-1);
}

/// The page as laid out now: its picture in `picture`, and every control checked.
fn drawn_and_checked(window: &AppWindow, picture: &std::path::Path, what: &str) {
    run_until("the page to be laid out", || true);
    let image = window.window().take_snapshot().unwrap();
    write_png(picture, &image);
    check_page(window, what);
}

fn open_netdeck(options: &GuiOptions) -> (AppWindow, netdeck::gui::Gui) {
    let window = AppWindow::new().unwrap();
    let gui = netdeck::gui::setup(&window, options).unwrap();
    window.show().unwrap();
    (window, gui)
}

pub fn every_control_fits_800x480_at_every_offered_scale() {
    drawing_backend(false);
    let (window, _gui) = open_netdeck(&GuiOptions::default());
    for scale in OFFERED_SCALES {
        check_every_tab(
            &window,
            (800.0, 480.0),
            scale,
            &format!("800x480-at-{scale}"),
        );
    }
}

pub fn every_control_fits_1920x1080_at_125_and_150_percent() {
    drawing_backend(false);
    let (window, _gui) = open_netdeck(&GuiOptions::default());
    for scale in [1.25, 1.5] {
        check_every_tab(
            &window,
            (1920.0, 1080.0),
            scale,
            &format!("1920x1080-at-{scale}"),
        );
    }
}

/// The width and height of the element `id` names (its component's name, `::`, its id) in the
/// element `within`.
fn size_of(within: &ElementHandle, id: &str) -> (f32, f32) {
    let found = (within.query_descendants()).match_id(id).find_all();
    assert_eq!(found.len(), 1, "one {id}");
    let size = found[0].size();
    (size.width, size.height)
}

/// The demo's caption as drawn.
fn caption(window: &AppWindow) -> ElementHandle {
    element_where(window, "the demo's caption", |e| {
        e.accessible_description().as_deref() == Some("Demo caption")
    })
}

pub fn stage_text_doubles_what_an_audience_reads_and_every_control_fits() {
    drawing_backend(false);
    let (window, _gui) = open_netdeck(&GuiOptions::default());
    window.window().set_size(LogicalSize::new(800.0, 480.0));

    // A line of a conversation with an echo server of Python's, and a demo caption.
    let _peer = connect_to_an_echo_server(&window);
    element(&window, "Message").set_accessible_value("hello");
    element(&window, "Send message").invoke_accessible_default_action();
    run_until("the echo", || shown(&window, "Received: hello"));
    let line = || element(&window, "Received: hello");
    let demo = window.global::<DemoAdapter>();
    demo.set_current(0);
    run_until("the page to be laid out", || true);
    let (text_before, caption_before) = (
        size_of(&line(), "ConversationView::words"),
        caption(&window).size(),
    );

    // Stage text, as a person turns it on.
    open_tab(&window, "Settings");
    element(&window, "Stage text").invoke_accessible_default_action();
    assert!(window.global::<SettingsAdapter>().get_stage());
    open_tab(&window, "Client");
    run_until("the page to be laid out", || true);
    let (text_after, caption_after) = (
        size_of(&line(), "ConversationView::words"),
        caption(&window).size(),
    );
    // Text's width follows its size exactly; a pixel of slack for rounding.
    assert!(
        text_after.0 + 1.0 >= 2.0 * text_before.0,
        "the conversation's text is twice as wide: {text_before:?} then {text_after:?}"
    );
    assert!(
        caption_after.height + 1.0 >= 2.0 * caption_before.height,
        "the caption is twice as tall: {caption_before:?} then {caption_after:?}"
    );
    let image = window.window().take_snapshot().unwrap();
    write_png(
        &screenshots_dir().join("stage-client-demo-800x480.png"),
        &image,
    );
    demo.set_current(-1);
    check_every_tab(&window, (800.0, 480.0), 1.0, "800x480-stage");
}

/// Where every control of the page shown is, by name.
fn places(window: &AppWindow) -> Vec<(String, Rect)> {
    let page = page(window);
    let mut controls: Vec<(String, Rect)> = (page.query_descendants())
        .match_predicate(is_control)
        .find_all()
        .iter()
        .map(|control| (name(control), Rect::of(control)))
        .collect();
    controls.sort_by(|a, b| a.0.cmp(&b.0));
    controls
}

/// The field error now shown, whose text is `error`.
fn error_text(window: &AppWindow, error: &str) -> Rect {
    let wanted = error.to_string();
    Rect::of(&element_where(
        window,
        "the error under the field",
        move |e| {
            e.accessible_label().as_deref() == Some(wanted.as_str())
                && e.accessible_role() == Some(AccessibleRole::Text)
        },
    ))
}

/// The error a field shows moves no control of the page and covers none.
fn moves_and_covers_nothing(
    window: &AppWindow,
    what: &str,
    before: &[(String, Rect)],
    error: &str,
) {
    let after = places(window);
    let moved: Vec<_> = (before.iter().zip(&after))
        .filter(|((a, ra), (b, rb))| a != b || ra.x != rb.x || ra.y != rb.y)
        .collect();
    assert!(
        moved.is_empty() && before.len() == after.len(),
        "{what}: the error moved {moved:?}"
    );
    let shown = error_text(window, error);
    for (label, rect) in &after {
        assert!(
            !shown.overlaps(rect),
            "{what}: the error {shown:?} covers {label} {rect:?}"
        );
    }
}

pub fn an_error_under_a_field_moves_and_covers_nothing() {
    drawing_backend(false);
    let (window, _gui) = open_netdeck(&GuiOptions::default());
    for scale in OFFERED_SCALES {
        window
            .window()
            .set_size(LogicalSize::new(800.0 / scale, 480.0 / scale));
        let at = format!("at {scale} on 800x480");

        // The UDP tab's Port, on a port a socket of this test holds.
        let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        window.set_current_tab(Tab::Udp);
        run_until("the page to be laid out", || true);
        element(&window, "Port").set_accessible_value(port.to_string());
        run_until("the page to be laid out", || true);
        let before = places(&window);
        // As Bind does: at 200% the button is below the fold.
        let udp = window.global::<UdpAdapter>();
        udp.invoke_open();
        run_until("the port's error", || !udp.get_port_error().is_empty());
        let error = udp.get_port_error().to_string();
        assert!(error.contains("another program is using port"), "{error}");
        run_until("the page to be laid out", || true);
        let image = window.window().take_snapshot().unwrap();
        write_png(
            &screenshots_dir().join(format!("error-udp-port-800x480-at-{scale}.png")),
            &image,
        );
        moves_and_covers_nothing(&window, &format!("UDP {at}"), &before, &error);
        udp.set_port_error("".into());

        // The Client tab's Port, out of range; and the Server tab's.
        // Connect and Start run what these do.
        type PortError = fn(&AppWindow, Option<&str>) -> slint::SharedString;
        let client: PortError = |window, set| {
            let adapter = window.global::<ClientAdapter>();
            set.inspect(|error| adapter.set_port_error((*error).into()));
            adapter.get_port_error()
        };
        let server: PortError = |window, set| {
            let adapter = window.global::<ServerAdapter>();
            set.inspect(|error| adapter.set_port_error((*error).into()));
            adapter.get_port_error()
        };
        let connect: fn(&AppWindow) = |window| window.global::<ClientAdapter>().invoke_connect();
        let start: fn(&AppWindow) = |window| window.global::<ServerAdapter>().invoke_start();
        for (tab, press, port_error) in
            [(Tab::Client, connect, client), (Tab::Server, start, server)]
        {
            window.set_current_tab(tab);
            run_until("the page to be laid out", || true);
            element(&window, "Port").set_accessible_value("70000");
            port_error(&window, Some(""));
            run_until("the page to be laid out", || true);
            let before = places(&window);
            press(&window);
            run_until("the port's error", || !port_error(&window, None).is_empty());
            let error = port_error(&window, None).to_string();
            run_until("the page to be laid out", || true);
            moves_and_covers_nothing(&window, &format!("{tab:?} {at}"), &before, &error);
            element(&window, "Port").set_accessible_value("1234");
            port_error(&window, Some(""));
        }
    }
}

/// Both sides at 800x480, conversations and flow, under the demo's bar or not, with stage
/// text or not: the Message field and Send are on screen without scrolling (a drag there lands
/// on a conversation or the flow, which scroll themselves, not the page), so a screen reader
/// finds them.
pub fn both_sides_keeps_its_message_row_on_an_800x480_screen() {
    drawing_backend(false);
    let (window, _gui) = open_netdeck(&GuiOptions::default());
    window.window().set_size(LogicalSize::new(800.0, 480.0));
    window.set_current_tab(Tab::Both);
    let screen = Rect {
        x: 0.0,
        y: 0.0,
        width: 800.0,
        height: 480.0,
    };
    for stage in [false, true] {
        window.global::<Theme>().set_stage(stage);
        for demo_step in [-1, 1] {
            window.global::<DemoAdapter>().set_current(demo_step);
            for flow in [false, true] {
                window.global::<BothState>().set_flow(flow);
                run_until("the page to be laid out", || true);
                let image = window.window().take_snapshot().unwrap();
                write_png(
                    &screenshots_dir().join(format!(
                        "layout-both-sides-800x480-stage-{stage}-demo-{demo_step}-flow-{flow}.png"
                    )),
                    &image,
                );
                for label in ["Message", "Send message"] {
                    let shown = Rect::of(&element(&window, label));
                    assert!(
                        screen.contains(&shown),
                        "{label} at {shown:?} (stage text {stage}, demo step {demo_step}, flow {flow})"
                    );
                }
            }
        }
    }
}

/// `--scale 1.5 --stage`: the Settings tab shows 150% chosen, says where it comes from, and
/// shows stage text on.
pub fn settings_show_the_scale_in_effect() {
    drawing_backend(false);
    let (window, _gui) = open_netdeck(&GuiOptions {
        scale: Some(1.5),
        stage: true,
        ..Default::default()
    });
    window.set_current_tab(Tab::Settings);
    run_until("the page to be laid out", || true);
    for (option, chosen) in [("Scale: 100%", false), ("Scale: 150%", true)] {
        assert_eq!(
            element(&window, option).accessible_checked(),
            Some(chosen),
            "{option}"
        );
    }
    let note = element_where(&window, "the settings note", |e| {
        e.accessible_description().as_deref() == Some("Settings note")
    });
    assert_eq!(
        note.accessible_label().unwrap_or_default(),
        "Scale 150% is in effect, from the command line (--scale)."
    );
    assert_eq!(
        element(&window, "Stage text").accessible_checked(),
        Some(true)
    );
    assert!(window.global::<Theme>().get_stage());
}
