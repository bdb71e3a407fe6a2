//! The window as a screen reader finds it: the real window, on a real X server with a session
//! bus and the accessibility bus of at-spi2-core, read and driven through the AT-SPI tree by
//! `screen_reader.py` with pyatspi, as Orca does.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use crate::common::display::Xvfb;
use crate::common::{TempDir, dejavu_only_fonts};
use crate::window_x11::{ProcessGroup, Running, window_environment};

/// A session bus of its own (`dbus-daemon --session`), ended when dropped.
struct SessionBus {
    _daemon: Running,
    address: String,
}

impl SessionBus {
    fn start() -> Self {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs (apt-get install dbus-daemon)");
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut address)
            .expect("dbus-daemon tells its address");
        let address = address.trim().to_string();
        assert!(!address.is_empty(), "dbus-daemon did not start");
        SessionBus {
            _daemon: Running(daemon),
            address,
        }
    }
}

/// at-spi2-core's bus launcher: it starts the accessibility bus when asked for it, and
/// announces it on the X root window. Ended, with that bus, before the session bus it serves.
fn accessibility_bus_launcher(xvfb: &Xvfb, bus: &SessionBus, home: &TempDir) -> ProcessGroup {
    let launcher = Command::new("/usr/libexec/at-spi-bus-launcher")
        .env("DISPLAY", &xvfb.display)
        // It announces the bus on the root window only outside Wayland.
        .env_remove("WAYLAND_DISPLAY")
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("XDG_RUNTIME_DIR", home.join("runtime"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("at-spi-bus-launcher runs (apt-get install at-spi2-core)");
    ProcessGroup(launcher)
}

#[test]
fn a_screen_reader_follows_the_seed_flow() {
    let xvfb = Xvfb::start(800, 480);
    let home = TempDir::new("screen-reader");
    std::fs::create_dir_all(home.join("runtime")).unwrap();
    let bus = SessionBus::start();
    let launcher = accessibility_bus_launcher(&xvfb, &bus, &home);

    // The driver starts the kiosk, with this environment, once a screen reader is announced.
    // What it and the window print goes to files: a pipe would wait for every process that
    // holds it.
    let said = home.join("said");
    let complained = home.join("complained");
    let driver = Command::new("/usr/bin/python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/integration/screen_reader.py"
        ))
        .args([env!("CARGO_BIN_EXE_netdeck"), "--kiosk"])
        .envs(window_environment(&xvfb, &home))
        .env_remove("WAYLAND_DISPLAY")
        .env("FONTCONFIG_FILE", dejavu_only_fonts(&home))
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("XDG_RUNTIME_DIR", home.join("runtime"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&said).unwrap())
        .stderr(std::fs::File::create(&complained).unwrap())
        .process_group(0)
        .spawn()
        .expect("python3 runs (apt-get install python3-pyatspi)");
    // The driver gives up on each step by itself; this bounds a driver stuck in a bus call.
    let mut driver = ProcessGroup(driver);
    let deadline = std::time::Instant::now() + 8 * crate::common::PATIENCE;
    let status = loop {
        if let Some(status) = driver.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the screen reader's walk did not end: {}",
            std::fs::read_to_string(&complained).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    drop(driver);
    drop(launcher);
    drop(bus);
    let said = std::fs::read_to_string(said).unwrap();
    let complained = std::fs::read_to_string(complained).unwrap();
    assert!(
        status.success(),
        "the screen reader's walk failed ({status}):\n{said}\n{complained}"
    );
    assert!(
        said.contains("the seed's flow was read and driven"),
        "{said}"
    );
}
