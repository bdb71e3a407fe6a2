//! Presets and saved fields across a restart: the window saves an HTTP preset and runs it,
//! exports its log, then a new process of this test opens a new window on the same settings
//! file, finds the preset and the last-used fields, and runs the preset again; `netdeck http
//! --preset` runs it from the command line too.
//!
//! The second process is this test run again (see `tests/ui/main.rs`), with the settings file
//! and the peer in its environment.

use crate::common;

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::ui::{element, open_tab, run_until, shown};
use common::{ConfigHome, Peer};
use netdeck::gui::GuiOptions;
use netdeck::gui::ui::{
    AppWindow, ClientAdapter, ConnectionState, ConversationDirection, HttpAdapter, LogAdapter,
    ServerAdapter, SettingsAdapter, Tab,
};
use slint::{ComponentHandle, Model};

/// Set in the environment of the second process: the settings file to open.
const SETTINGS_FILE: &str = "NETDECK_TEST_SETTINGS_FILE";
/// Set in the environment of the second process: the HTTP peer's address.
const PEER: &str = "NETDECK_TEST_PEER";

/// The first process runs `before_restart`, which starts this test again as the second.
pub fn presets_survive_a_restart() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    match (std::env::var(SETTINGS_FILE), std::env::var(PEER)) {
        (Ok(file), Ok(peer)) => after_restart(Path::new(&file), &peer),
        _ => before_restart(),
    }
}

/// A window on the settings file `file`, with the system's presets from `system`.
fn open(file: &Path, logs: PathBuf, system: Option<PathBuf>) -> (AppWindow, netdeck::gui::Gui) {
    let window = AppWindow::new().unwrap();
    let gui = netdeck::gui::setup(
        &window,
        &GuiOptions {
            config: Some(file.to_path_buf()),
            logs: Some(logs),
            system_presets: system,
            ..GuiOptions::default()
        },
    )
    .unwrap();
    (window, gui)
}

/// Runs the preset named `name` from the Settings tab and waits for the HTTP answer.
fn run_http_preset(window: &AppWindow, name: &str) -> String {
    open_tab(window, "Settings");
    run_until("the Settings tab", || shown(window, "Preset name"));
    element(window, &format!("Run preset {name}")).invoke_accessible_default_action();
    assert_eq!(
        window.get_current_tab(),
        Tab::Http,
        "running an HTTP preset shows its tab"
    );
    let http = window.global::<HttpAdapter>();
    run_until("the answer", || http.get_has_response() && !http.get_busy());
    assert_eq!(http.get_error(), "");
    assert_eq!(http.get_status(), "200 OK");
    http.get_response_body().into()
}

fn before_restart() {
    let home = ConfigHome::empty();
    let file = home.file();
    let peer = Peer::http(&[]);
    let (window, gui) = open(&file, home.dir.join("logs"), None);

    // An HTTP request, built in its tab and saved as a preset from the Settings tab.
    open_tab(&window, "HTTP");
    run_until("the HTTP tab", || shown(&window, "URL"));
    let http = window.global::<HttpAdapter>();
    http.set_method("POST".into());
    element(&window, "URL").set_accessible_value(format!("http://{}/method", peer.addr));
    element(&window, "Header name 1").set_accessible_value("X-Probe");
    element(&window, "Header value 1").set_accessible_value("1");
    element(&window, "Body").set_accessible_value("from a preset");

    open_tab(&window, "Settings");
    run_until("the Settings tab", || shown(&window, "Preset name"));
    element(&window, "Preset name").set_accessible_value("probe");
    element(&window, "Save HTTP preset").invoke_accessible_default_action();
    let settings = window.global::<SettingsAdapter>();
    assert_eq!(settings.get_preset_error(), "");
    assert_eq!(settings.get_warning(), "");
    assert_eq!(preset_rows(&settings), ["HTTP probe"]);
    let saved = std::fs::read_to_string(&file).expect("the settings file was written");
    assert!(saved.contains("[presets.http.probe]"), "{saved}");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "only its owner may read the settings file");

    // A bad name is refused under the field.
    element(&window, "Preset name").set_accessible_value("   ");
    element(&window, "Save HTTP preset").invoke_accessible_default_action();
    assert!(!settings.get_preset_error().is_empty());
    assert_eq!(settings.get_presets().row_count(), 1);

    // Run from the window.
    assert_eq!(run_http_preset(&window, "probe"), "POST from a preset");

    // A preset with a JSON body makes the same request from the window as from the command
    // line (below): the peer's /headers answer lists the headers it was sent.
    open_tab(&window, "HTTP");
    run_until("the HTTP tab", || shown(&window, "URL"));
    element(&window, "URL").set_accessible_value(format!("http://{}/headers", peer.addr));
    // Compression is the tab's option, not the preset's; the command line's default is off.
    element(&window, "Show: Options").invoke_accessible_default_action();
    element(&window, "Ask for compressed answers").invoke_accessible_default_action();
    assert!(!window.global::<HttpAdapter>().get_compressed());
    element(&window, "Show: Request").invoke_accessible_default_action();
    element(&window, "Body format: JSON").invoke_accessible_default_action();
    element(&window, "Body").set_accessible_value(r#"{"a": 1}"#);
    open_tab(&window, "Settings");
    run_until("the Settings tab", || shown(&window, "Preset name"));
    element(&window, "Preset name").set_accessible_value("json");
    element(&window, "Save HTTP preset").invoke_accessible_default_action();
    let sent_by_window = run_http_preset(&window, "json");
    assert!(
        sent_by_window.contains("Content-Type: application/json")
            && sent_by_window.contains("Accept: application/json"),
        "{sent_by_window}"
    );

    // The log, exported, masks credentials as the Log tab does.
    open_tab(&window, "Server");
    run_until("the Server tab", || shown(&window, "Port"));
    let server = window.global::<ServerAdapter>();
    element(&window, "Port").set_accessible_value("0");
    element(&window, "Start").invoke_accessible_default_action();
    run_until("the server", || server.get_listening());
    run_until("the address in the status", || {
        server.get_status().starts_with("Listening on ")
    });
    let status = server.get_status();
    let addr: std::net::SocketAddr = status
        .strip_prefix("Listening on ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("an address in {status:?}"));
    let mut client = TcpStream::connect(addr).unwrap();
    client
        .write_all(b"Authorization: Bearer s3cret\r\n")
        .unwrap();
    let log = window.global::<LogAdapter>();
    run_until("the data in the log", || {
        log.get_lines()
            .iter()
            .any(|line| line.text.contains("Authorization"))
    });
    open_tab(&window, "Log");
    run_until("the Log tab", || shown(&window, "Export log"));
    element(&window, "Export log").invoke_accessible_default_action();
    assert!(!log.get_export_failed(), "{}", log.get_export_status());
    let exported = log
        .get_export_status()
        .strip_prefix("Saved to ")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{}", log.get_export_status()));
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.contains("Authorization: ***"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    assert!(
        text.lines()
            .any(|line| line.contains("[HTTP]") && line.contains("200 OK")),
        "the HTTP answer is in the log, marked as HTTP's: {text}"
    );
    drop(client);

    // Closing the window keeps the fields for next time.
    gui.remember();
    drop(gui);
    drop(window);

    // A new process finds all of it.
    let output = Command::new(std::env::current_exe().unwrap())
        .env(SETTINGS_FILE, &file)
        .env(PEER, peer.addr.to_string())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the restarted window failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    // And the command line runs the same presets.
    let (code, stdout, stderr) = home.run(&["http", "--preset", "probe"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(stdout, b"POST from a preset");
    let (code, stdout, stderr) = home.run(&["http", "--preset", "json"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    // Presets for every user, from the system's file: listed first, locked, and they run.
    let system_file = home.dir.join("system.toml");
    std::fs::write(
        &system_file,
        format!(
            "[presets.http.provisioned]\nmethod = \"POST\"\nurl = \"http://{}/method\"\nbody = \"from the system\"\n",
            peer.addr
        ),
    )
    .unwrap();
    let (window, gui) = open(&file, home.dir.join("logs"), Some(system_file));
    let settings = window.global::<SettingsAdapter>();
    assert_eq!(
        preset_rows(&settings),
        ["HTTP provisioned", "HTTP json", "HTTP probe"]
    );
    assert_eq!(
        run_http_preset(&window, "provisioned"),
        "POST from the system"
    );
    open_tab(&window, "Settings");
    run_until("the Settings tab", || shown(&window, "Preset name"));
    assert!(!shown(&window, "Delete preset provisioned"));
    assert!(shown(&window, "Delete preset probe"));
    element(&window, "Preset name").set_accessible_value("provisioned");
    element(&window, "Save HTTP preset").invoke_accessible_default_action();
    assert!(
        settings.get_preset_error().contains("system preset"),
        "{}",
        settings.get_preset_error()
    );
    drop((gui, window));

    // The same headers with the same values; their order is the HTTP library's.
    let sorted = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines.sort();
        lines
    };
    assert_eq!(
        sorted(&String::from_utf8_lossy(&stdout)),
        sorted(&sent_by_window)
    );
}

fn after_restart(file: &Path, peer: &str) {
    let logs = file.parent().unwrap().join("logs");
    let (window, _gui) = open(file, logs, None);
    let settings = window.global::<SettingsAdapter>();
    assert_eq!(settings.get_warning(), "");
    let names: Vec<String> = settings
        .get_presets()
        .iter()
        .map(|row| row.name.to_string())
        .collect();
    assert_eq!(names, ["json", "probe"]);

    // The last-used fields are back.
    let http = window.global::<HttpAdapter>();
    assert_eq!(http.get_method(), "POST");
    assert_eq!(http.get_url(), format!("http://{peer}/headers"));
    assert_eq!(http.get_body(), r#"{"a": 1}"#);
    assert!(http.get_body_json());
    let header = http.get_headers().row_data(0).unwrap();
    assert_eq!(
        (header.name.as_str(), header.value.as_str()),
        ("X-Probe", "1")
    );
    assert_eq!(window.global::<ServerAdapter>().get_port(), "0");

    // A changed field does not change the preset: running it sends what was saved.
    http.set_body("edited since".into());
    assert_eq!(run_http_preset(&window, "probe"), "POST from a preset");

    // A second preset is listed with the first, and deleting it takes it out of the list and
    // the file; the first stays.
    open_tab(&window, "Settings");
    run_until("the Settings tab", || shown(&window, "Preset name"));
    element(&window, "Preset name").set_accessible_value("scratch");
    element(&window, "Save Server preset").invoke_accessible_default_action();
    assert_eq!(
        preset_rows(&settings),
        ["Server scratch", "HTTP json", "HTTP probe"]
    );
    element(&window, "Delete preset scratch").invoke_accessible_default_action();
    assert_eq!(preset_rows(&settings), ["HTTP json", "HTTP probe"]);
    let saved = std::fs::read_to_string(file).unwrap();
    assert!(!saved.contains("scratch"), "{saved}");
    assert!(saved.contains("[presets.http.probe]"), "{saved}");

    // A delete can be undone, in the list and in the file.
    element(&window, "Undo delete").invoke_accessible_default_action();
    assert_eq!(
        preset_rows(&settings),
        ["Server scratch", "HTTP json", "HTTP probe"]
    );
    let saved = std::fs::read_to_string(file).unwrap();
    assert!(saved.contains("[presets.server.scratch]"), "{saved}");
    assert!(!shown(&window, "Undo delete"), "one undo per delete");
    element(&window, "Delete preset scratch").invoke_accessible_default_action();
    assert_eq!(preset_rows(&settings), ["HTTP json", "HTTP probe"]);
}

/// The Settings tab's preset list, each row as its kind and name.
fn preset_rows(settings: &SettingsAdapter) -> Vec<String> {
    (settings.get_presets().iter())
        .map(|row| format!("{} {}", row.kind, row.name))
        .collect()
}

/// A client preset's Run does what Connect and Send do, and a second Run sends on the
/// connection the first opened: a device that takes one client gets both messages on it.
pub fn a_client_presets_run_sends_on_one_connection() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let home = ConfigHome::empty();
    let mut device = Peer::start(&["one-client"]);
    let (window, _gui) = open(&home.file(), home.dir.join("logs"), None);
    let client = window.global::<ClientAdapter>();

    open_tab(&window, "Client");
    element(&window, "Host").set_accessible_value("127.0.0.1");
    element(&window, "Port").set_accessible_value(device.addr.port().to_string());
    element(&window, "Message").set_accessible_value("MEAS?");
    open_tab(&window, "Settings");
    run_until("the Settings tab", || shown(&window, "Preset name"));
    element(&window, "Preset name").set_accessible_value("device");
    element(&window, "Save Client preset").invoke_accessible_default_action();
    assert_eq!(window.global::<SettingsAdapter>().get_preset_error(), "");

    let exchanged = |client: &ClientAdapter| -> Vec<String> {
        (client.get_conversation().iter())
            .filter(|line| line.direction != ConversationDirection::Note)
            .map(|line| format!("{:?} {}", line.direction, line.text))
            .collect()
    };
    for round in 1..=2 {
        open_tab(&window, "Settings");
        run_until("the Settings tab", || shown(&window, "Run preset device"));
        element(&window, "Run preset device").invoke_accessible_default_action();
        assert_eq!(window.get_current_tab(), Tab::Client);
        run_until("the device's echo", || {
            exchanged(&client).len() == 2 * round
        });
        assert_eq!(client.get_connections().row_count(), 1, "round {round}");
        assert_eq!(client.get_state(), ConnectionState::Connected);
    }
    assert_eq!(
        exchanged(&client),
        [
            "Sent MEAS?",
            "Received MEAS?",
            "Sent MEAS?",
            "Received MEAS?"
        ]
    );

    // The device saw one client, the one the chip names, and both messages from it.
    let chip = client.get_connections().row_data(0).unwrap().label;
    let own_port = chip
        .strip_prefix(&format!("{} :", device.addr))
        .unwrap_or_else(|| panic!("a chip named by its own port: {chip}"));
    assert_eq!(device.line(), format!("client {own_port}"));
    let measure = netdeck::payload::hex_line(b"MEAS?").replace(' ', "");
    assert_eq!(device.line(), format!("received {measure}"));
    assert_eq!(device.line(), format!("received {measure}"));
}
