//! At 800x480 with every offered scale, every control of every tab is inside the window:
//! nothing reaches past its right edge, nothing overlaps another control, and what lies below
//! the bottom edge is brought into the window by scrolling the page, as a finger would.

use std::collections::BTreeMap;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot};
use netdeck::gui::GuiOptions;
use netdeck::gui::ui::{AppWindow, DemoAdapter, HttpAdapter, ServerAdapter, Tab};
use slint::platform::WindowEvent;
use slint::{ComponentHandle, LogicalPosition, LogicalSize};

use crate::common::ui::{
    drawing_backend, element, element_where, run_until, screenshots_dir, shown,
};
use crate::screenshots::write_png;

const SCALES: [f32; 4] = [0.75, 1.0, 1.25, 1.5];

/// What a person taps or types into.
fn is_control(element: &ElementHandle) -> bool {
    matches!(
        element.accessible_role(),
        Some(
            AccessibleRole::Button
                | AccessibleRole::TextInput
                | AccessibleRole::Checkbox
                | AccessibleRole::Combobox
                | AccessibleRole::Switch
                | AccessibleRole::Slider
                | AccessibleRole::Spinbox
                | AccessibleRole::Tab
        )
    ) && element.size().width > 0.0
        && element.size().height > 0.0
}

#[derive(Clone, Copy, Debug)]
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
    for _ in 0..12 {
        wheel(-60.0);
        check_view(window, what, &mut seen);
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

pub fn every_control_fits_800x480_at_every_offered_scale() {
    drawing_backend(false);
    let pictures = screenshots_dir();
    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(&window, &GuiOptions::default()).unwrap();
    window.show().unwrap();
    for scale in SCALES {
        // What a scale does to the layout: 800x480 pixels at 1.5 are 533x320 logical pixels.
        // (The testing backend draws at a scale of 1, so the pictures are at the logical size.)
        window
            .window()
            .set_size(LogicalSize::new(800.0 / scale, 480.0 / scale));
        for tab in [
            Tab::Server,
            Tab::Client,
            Tab::Both,
            Tab::Udp,
            Tab::Http,
            Tab::Log,
            Tab::Settings,
            Tab::Demo,
        ] {
            window.set_current_tab(tab);
            let views = if tab == Tab::Http { 0..5 } else { 0..1 };
            for view in views {
                window.global::<HttpAdapter>().set_view(view);
                run_until("the page to be laid out", || true);
                let image = window.window().take_snapshot().unwrap();
                write_png(
                    &pictures.join(format!("layout-{tab:?}-{view}-800x480-at-{scale}.png")),
                    &image,
                );
                check_page(&window, &format!("{tab:?} (view {view}) at scale {scale}"));
            }
        }
        // The demo's bar over the busiest tabs, with its longest caption.
        let demo = window.global::<DemoAdapter>();
        let longest = (netdeck::demo::STEPS.iter().enumerate())
            .max_by_key(|(_, step)| step.caption.len())
            .map(|(index, _)| index as i32)
            .unwrap();
        demo.set_current(longest);
        for tab in [Tab::Server, Tab::Client, Tab::Both] {
            window.set_current_tab(tab);
            run_until("the page to be laid out", || true);
            check_page(
                &window,
                &format!("{tab:?} under the demo's bar at scale {scale}"),
            );
        }
        demo.set_current(-1);
    }

    // An error under one field leaves the fields beside it and the buttons where they were.
    window.window().set_size(LogicalSize::new(800.0, 480.0));
    window.set_current_tab(Tab::Server);
    run_until("the page to be laid out", || true);
    let places = |window: &AppWindow| {
        [
            "Bind address",
            "Port",
            "Max clients",
            "Mode: Manual",
            "Start",
        ]
        .map(|label| {
            let position = element(window, label).absolute_position();
            (position.x, position.y)
        })
    };
    let before = places(&window);
    element(&window, "Port").set_accessible_value("70000");
    element(&window, "Start").invoke_accessible_default_action();
    run_until("the port's error", || {
        !window.global::<ServerAdapter>().get_port_error().is_empty()
    });
    assert_eq!(places(&window), before, "nothing moved for the error");
    element(&window, "Port").set_accessible_value("1234");

    // 200% leaves 400x240 pixels of an 800x480 screen: the choice says so.
    window.window().set_size(LogicalSize::new(800.0, 480.0));
    window.set_current_tab(Tab::Settings);
    let note = |window: &AppWindow| {
        element_where(window, "the settings note", |e| {
            e.accessible_description().as_deref() == Some("Settings note")
        })
        .accessible_label()
        .unwrap_or_default()
        .to_string()
    };
    element(&window, "Scale: 200%").invoke_accessible_default_action();
    run_until("the note on 200%", || shown(&window, "Scale: 200%"));
    let said = note(&window);
    assert!(
        said.contains("It does not fit this 800x480 screen: at 200% the pages need 1066x640."),
        "{said}"
    );
    element(&window, "Scale: 150%").invoke_accessible_default_action();
    let said = note(&window);
    assert!(
        said.contains("150%") && !said.contains("does not fit"),
        "{said}"
    );
}
