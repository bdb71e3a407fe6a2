//! Driving the window headless: find elements by accessible label, run the event loop until
//! something holds.

use std::time::{Duration, Instant};

use i_slint_backend_testing::ElementHandle;
use netdeck::gui::ui::AppWindow;
use slint::Timer;

/// Runs the event loop in short slices until `done` holds, failing the test after a generous
/// deadline. Checking between slices (not from a timer inside the loop) keeps a quit request
/// from one wait from ending the next one early.
pub fn run_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        Timer::single_shot(Duration::from_millis(5), || {
            let _ = slint::quit_event_loop();
        });
        slint::run_event_loop_until_quit().unwrap();
    }
}

pub fn element(window: &AppWindow, label: &str) -> ElementHandle {
    let mut found: Vec<_> = ElementHandle::find_by_accessible_label(window, label).collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one element labelled {label:?}: {:?}",
        found
            .iter()
            .map(|e| (e.type_name(), e.accessible_role(), e.id()))
            .collect::<Vec<_>>()
    );
    found.pop().unwrap()
}
