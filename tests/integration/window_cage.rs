//! The kiosk under cage, the Wayland compositor that shows one application fullscreen, as the
//! `netdeck-kiosk-cage.service` recipe starts it. cage runs on wlroots' X11 backend inside
//! Xvfb, so its output is a window whose pixels can be read.

use crate::common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use common::TempDir;
use common::display::Xvfb;

use super::window_x11::{ProcessGroup, fills, top_level_area};

/// The user cage runs as: it refuses to run as root.
const NOBODY: u32 = 65534;

#[test]
fn a_kiosk_under_cage_fills_its_output() {
    let xvfb = Xvfb::start(1280, 800);
    let dir = TempDir::new("cage");
    let runtime = dir.join("runtime");
    let home = dir.join("home");
    let netdeck = dir.join("netdeck");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    // Where the unprivileged user can reach it, whatever the folders above the build are.
    std::fs::hard_link(env!("CARGO_BIN_EXE_netdeck"), &netdeck)
        .or_else(|_| std::fs::copy(env!("CARGO_BIN_EXE_netdeck"), &netdeck).map(drop))
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();

    // SAFETY: geteuid has no preconditions.
    let as_root = unsafe { libc::geteuid() } == 0;
    let mut cage = if as_root {
        for owned in [&runtime, &home] {
            std::os::unix::fs::chown(owned, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        let mut setpriv = Command::new("setpriv");
        setpriv.args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            "cage",
        ]);
        setpriv
    } else {
        Command::new("cage")
    };
    cage.arg("--")
        .arg(&netdeck)
        .arg("--kiosk")
        .env("DISPLAY", &xvfb.display)
        .env_remove("WAYLAND_DISPLAY")
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        // wlroots draws its output into an X window, in software.
        .env("WLR_BACKENDS", "x11")
        .env("WLR_RENDERER", "pixman")
        .env("SLINT_BACKEND", "winit-software")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let mut running = ProcessGroup(cage.spawn().expect("cage runs (apt-get install cage)"));

    xvfb.wait_for_screen(&mut running.0, "the window shows in cage", |screen| {
        screen.colours_in(4, 4, 500, 48) >= 12
    });
    // The one top-level window: cage's output.
    let output = top_level_area(&xvfb, |_| true).expect("cage's output window");
    assert!(
        output.width < 1280 || output.height < 800,
        "the output is smaller than the X screen, so filling it says something"
    );
    xvfb.wait_for_screen(
        &mut running.0,
        &format!(
            "the kiosk window fills cage's {}x{} output",
            output.width, output.height
        ),
        |screen| fills(screen, output),
    );
    let screen = xvfb.screen();
    let window_background = screen.pixel(output.x + 1, output.y + 1);
    assert_ne!(screen.pixel(1279, 799), window_background);
}
