//! The window driven as a person or a screen reader drives it: elements found by their
//! accessible labels, real sockets and real peers behind them. Slint's testing backend can be
//! set up once per process, so this binary (no libtest harness) runs each test in a process of
//! its own: itself again, told which test to run. One binary, one link of the library.

#[path = "../common/mod.rs"]
mod common;

mod accessibility;
mod both_sides;
mod client;
mod demo;
mod flow;
mod following;
mod fonts;
mod http;
mod keyboard;
mod layout;
mod log;
mod pictures;
mod presets;
mod screenshots;
mod server;
mod settings_file;
mod udp;

use std::process::{Command, ExitCode};

/// Set in a test's own process: the test to run.
const ONE_TEST: &str = "NETDECK_UI_TEST";

const TESTS: &[(&str, fn())] = &[
    (
        "accessibility::every_control_is_named_finger_sized_and_every_field_can_be_cleared",
        accessibility::every_control_is_named_finger_sized_and_every_field_can_be_cleared,
    ),
    (
        "both_sides::both_ends_of_a_loopback_connection_show_together",
        both_sides::both_ends_of_a_loopback_connection_show_together,
    ),
    (
        "client::the_client_tab_connects_sends_hello_and_shows_the_echo",
        client::the_client_tab_connects_sends_hello_and_shows_the_echo,
    ),
    (
        "demo::demo_mode_plays_every_step_with_auto_and_leaves_nothing_open",
        demo::demo_mode_plays_every_step_with_auto_and_leaves_nothing_open,
    ),
    (
        "demo::stopping_the_demo_in_the_middle_leaves_nothing_open",
        demo::stopping_the_demo_in_the_middle_leaves_nothing_open,
    ),
    (
        "demo::the_demo_option_opens_the_window_playing_it",
        demo::the_demo_option_opens_the_window_playing_it,
    ),
    (
        "demo::the_looping_demo_leaves_the_window_as_it_found_it",
        demo::the_looping_demo_leaves_the_window_as_it_found_it,
    ),
    (
        "flow::a_client_sessions_flow_holds_connect_each_chunk_and_close_in_order",
        flow::a_client_sessions_flow_holds_connect_each_chunk_and_close_in_order,
    ),
    (
        "flow::an_http_request_shows_as_one_request_answer_pair",
        flow::an_http_request_shows_as_one_request_answer_pair,
    ),
    (
        "flow::the_graph_counts_the_bytes_of_each_second",
        flow::the_graph_counts_the_bytes_of_each_second,
    ),
    (
        "flow::a_tls_connections_flow_shows_its_handshake",
        flow::a_tls_connections_flow_shows_its_handshake,
    ),
    (
        "flow::a_server_connections_flow_has_its_client_on_the_left",
        flow::a_server_connections_flow_has_its_client_on_the_left,
    ),
    (
        "fonts::a_script_without_a_font_is_named_and_shown_as_escapes",
        fonts::a_script_without_a_font_is_named_and_shown_as_escapes,
    ),
    (
        "fonts::an_http_answer_in_korean_shows_escapes_and_the_font_note",
        fonts::an_http_answer_in_korean_shows_escapes_and_the_font_note,
    ),
    (
        "fonts::the_demos_message_field_shows_escapes_and_sends_the_korean",
        fonts::the_demos_message_field_shows_escapes_and_sends_the_korean,
    ),
    (
        "following::a_conversation_follows_its_newest_entry_until_scrolled_up",
        following::a_conversation_follows_its_newest_entry_until_scrolled_up,
    ),
    (
        "http::the_http_tab_sends_a_request_and_shows_status_and_body",
        http::the_http_tab_sends_a_request_and_shows_status_and_body,
    ),
    (
        "http::a_request_to_the_windows_own_manual_listener_is_explained_at_once",
        http::a_request_to_the_windows_own_manual_listener_is_explained_at_once,
    ),
    (
        "keyboard::kiosk_mode_types_with_the_on_screen_keyboard_and_hides_quit",
        keyboard::kiosk_mode_types_with_the_on_screen_keyboard_and_hides_quit,
    ),
    (
        "keyboard::the_keyboard_goes_after_connect_send_start_and_bind",
        keyboard::the_keyboard_goes_after_connect_send_start_and_bind,
    ),
    (
        "log::the_export_has_milliseconds_hex_whole_lines_and_connections_apart",
        log::the_export_has_milliseconds_hex_whole_lines_and_connections_apart,
    ),
    (
        "layout::every_control_fits_800x480_at_every_offered_scale",
        layout::every_control_fits_800x480_at_every_offered_scale,
    ),
    (
        "layout::every_control_fits_1920x1080_at_125_and_150_percent",
        layout::every_control_fits_1920x1080_at_125_and_150_percent,
    ),
    (
        "layout::stage_text_doubles_what_an_audience_reads_and_every_control_fits",
        layout::stage_text_doubles_what_an_audience_reads_and_every_control_fits,
    ),
    (
        "layout::an_error_under_a_field_moves_and_covers_nothing",
        layout::an_error_under_a_field_moves_and_covers_nothing,
    ),
    (
        "layout::both_sides_keeps_its_message_row_on_an_800x480_screen",
        layout::both_sides_keeps_its_message_row_on_an_800x480_screen,
    ),
    (
        "layout::settings_show_the_scale_in_effect",
        layout::settings_show_the_scale_in_effect,
    ),
    (
        "pictures::the_window_at_work_at_800x480_150_percent_and_1920x1080",
        pictures::the_window_at_work_at_800x480_150_percent_and_1920x1080,
    ),
    (
        "pictures::flows_graphs_and_demo_steps_at_800x480_and_1920x1080",
        pictures::flows_graphs_and_demo_steps_at_800x480_and_1920x1080,
    ),
    (
        "presets::presets_survive_a_restart",
        presets::presets_survive_a_restart,
    ),
    (
        "presets::a_client_presets_run_sends_on_one_connection",
        presets::a_client_presets_run_sends_on_one_connection,
    ),
    (
        "screenshots::every_tab_renders_at_800x480_1280x800_and_1920x1080",
        screenshots::every_tab_renders_at_800x480_1280x800_and_1920x1080,
    ),
    (
        "server::the_server_tab_starts_lists_clients_and_stops",
        server::the_server_tab_starts_lists_clients_and_stops,
    ),
    (
        "server::a_tls_server_shows_its_certificate_and_each_clients_subject",
        server::a_tls_server_shows_its_certificate_and_each_clients_subject,
    ),
    (
        "settings_file::a_config_that_is_a_device_a_fifo_or_a_link_stays_what_it_was",
        settings_file::a_config_that_is_a_device_a_fifo_or_a_link_stays_what_it_was,
    ),
    (
        "udp::the_udp_tab_binds_lists_sources_answers_and_sends",
        udp::the_udp_tab_binds_lists_sources_answers_and_sends,
    ),
];

fn main() -> ExitCode {
    if let Ok(name) = std::env::var(ONE_TEST) {
        let (_, test) = TESTS
            .iter()
            .find(|(known, _)| *known == name)
            .unwrap_or_else(|| panic!("no UI test named {name}"));
        test();
        return ExitCode::SUCCESS;
    }
    // As libtest takes them: `--list`, and names (or parts of them) to run only those.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&String> = args.iter().filter(|arg| !arg.starts_with('-')).collect();
    let chosen = TESTS.iter().filter(|(name, _)| {
        filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
    });
    if args.iter().any(|arg| arg == "--list") {
        for (name, _) in chosen {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let this = std::env::current_exe().expect("the test binary's path");
    let mut failed = Vec::new();
    let mut passed = 0;
    for (name, _) in chosen {
        let status = Command::new(&this)
            .env(ONE_TEST, name)
            .status()
            .expect("the test binary starts again");
        if status.success() {
            println!("test {name} ... ok");
            passed += 1;
        } else {
            println!("test {name} ... FAILED ({status})");
            failed.push(*name);
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
