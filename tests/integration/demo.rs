//! `netdeck demo`: the guided demo's step list, walked on loopback with no network, as the
//! window's Demo mode walks it.

use crate::common::run_netdeck;

#[test]
fn the_demo_walks_every_step_of_the_list_in_order_and_exits_0() {
    let (code, stdout, stderr) = run_netdeck(&["demo"]);
    assert_eq!(code, 0, "{stderr}");
    let text = String::from_utf8(stdout).unwrap();
    // Every step of the list, numbered, in order.
    let mut from = 0;
    for (number, step) in netdeck::demo::STEPS.iter().enumerate() {
        let line = format!("{}. {}\n", number + 1, step.caption);
        let at = text[from..]
            .find(&line)
            .unwrap_or_else(|| panic!("{line:?} after byte {from} of\n{text}"));
        from += at + line.len();
    }
    for outcome in [
        // The echo, then the auto-reply to a client that was connected before the change.
        "← 21 B: hello 안녕하세요",
        "← 16 B: OK from netdeck\\n",
        "\"path\": \"/hello?from=demo\"",
        "(connection reused)",
        "\"body\": \"{\\\"sensor\\\": \\\"demo\\\", \\\"value\\\": 21.5}\"",
        "✗ connection refused by 127.0.0.1:",
        "hint: Start the server",
        "every step worked",
    ] {
        assert!(text.contains(outcome), "{outcome:?} in\n{text}");
    }
}
