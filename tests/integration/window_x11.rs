//! The real window on a real X server (Xvfb, no window manager), as a kiosk starts it.

use crate::common;

use std::ffi::OsString;
use std::process::{Child, Command, Stdio};

use common::display::Xvfb;
use common::{TempDir, netdeck};

/// What the window on `xvfb` runs with: X11, and its own settings and cache folders.
pub fn window_environment(xvfb: &Xvfb, home: &TempDir) -> [(&'static str, OsString); 4] {
    [
        ("DISPLAY", xvfb.display.clone().into()),
        ("SLINT_BACKEND", "winit-software".into()),
        ("XDG_CONFIG_HOME", home.join("config").into()),
        ("XDG_CACHE_HOME", home.join("cache").into()),
    ]
}

/// The window on `xvfb`.
fn window(xvfb: &Xvfb, home: &TempDir, args: &[&str]) -> Command {
    let mut command = netdeck(args);
    command
        .envs(window_environment(xvfb, home))
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null());
    command
}

pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The tab bar's labels have been drawn: anti-aliased text gives many shades there.
fn tab_labels_drawn(screen: &common::display::Screen) -> bool {
    screen.colours_in(4, 4, 500, 48) >= 12
}

#[test]
fn the_window_draws_its_text_on_a_machine_with_no_fonts() {
    let xvfb = Xvfb::start(800, 480);
    let home = TempDir::new("no-fonts");
    let no_fonts = home.join("fonts.conf");
    std::fs::write(
        &no_fonts,
        "<?xml version=\"1.0\"?>\n<fontconfig></fontconfig>\n",
    )
    .unwrap();
    let _running = drawn(
        &xvfb,
        window(&xvfb, &home, &[]).env("FONTCONFIG_FILE", &no_fonts),
    );
    assert!(
        home.join("cache/netdeck/fonts/DejaVuSans-netdeck.ttf")
            .exists(),
        "the built-in font was put where fontconfig was pointed"
    );
}

/// A rectangle of the screen, in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Area {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
}

/// The window covers `area`: its text is drawn at the area's top left, and the area's far
/// corner shows the window's own background (the colour of its top-left corner, in the tab
/// bar's margin), not the bare X server's root.
pub fn fills(screen: &common::display::Screen, area: Area) -> bool {
    let (right, bottom) = (area.x + area.width - 1, area.y + area.height - 1);
    screen.colours_in(area.x + 4, area.y + 4, 500, 48) >= 12
        && screen.colours_in(right - 3, bottom - 3, 4, 4) == 1
        && screen.pixel(right, bottom) == screen.pixel(area.x + 1, area.y + 1)
}

/// Where the first top-level window on `xvfb` that `wanted` picks is, by its line of
/// `xwininfo -root -children`, as the X server has it.
pub fn top_level_area(xvfb: &Xvfb, wanted: impl Fn(&str) -> bool) -> Option<Area> {
    let output = Command::new("xwininfo")
        .args(["-root", "-children"])
        .env("DISPLAY", &xvfb.display)
        .output()
        .expect("xwininfo runs (apt-get install x11-utils)");
    let listing = String::from_utf8_lossy(&output.stdout);
    // "     0x200004 (has no name): ()  1024x768+0+0  +0+0"
    let geometry = listing
        .lines()
        .filter(|line| line.trim_start().starts_with("0x") && wanted(line))
        .find_map(|line| line.split_whitespace().rev().nth(1))?;
    let (size, place) = geometry.split_once('+')?;
    let (width, height) = size.split_once('x')?;
    let (x, y) = place.split_once('+')?;
    Some(Area {
        x: x.parse().ok()?,
        y: y.parse().ok()?,
        width: width.parse().ok()?,
        height: height.parse().ok()?,
    })
}

/// netdeck's window, by its title.
fn netdeck_window(xvfb: &Xvfb) -> Area {
    top_level_area(xvfb, |line| line.contains("\"netdeck\"")).expect("netdeck's window")
}

/// `command`'s window on `xvfb`, once it has drawn its tab labels.
fn drawn(xvfb: &Xvfb, command: &mut Command) -> Running {
    let mut running = Running(command.spawn().expect("netdeck starts"));
    xvfb.wait_for_screen(
        &mut running.0,
        "the tab labels were drawn",
        tab_labels_drawn,
    );
    running
}

/// The window covers the whole screen.
fn fills_the_screen(screen: &common::display::Screen) -> bool {
    let whole = Area {
        x: 0,
        y: 0,
        width: screen.width,
        height: screen.height,
    };
    fills(screen, whole)
}

#[test]
fn a_kiosk_fills_the_screen_with_no_window_manager() {
    for (width, height) in [(800, 480), (1920, 1080)] {
        let xvfb = Xvfb::start(width, height);
        let home = TempDir::new("kiosk");
        let mut running = Running(
            window(&xvfb, &home, &["--kiosk"])
                .spawn()
                .expect("netdeck starts"),
        );
        xvfb.wait_for_screen(
            &mut running.0,
            &format!("the kiosk window fills the {width}x{height} screen"),
            fills_the_screen,
        );
        // Kept beside the other pictures (README's come from these).
        let pictures = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("screenshots");
        std::fs::create_dir_all(&pictures).unwrap();
        xvfb.screen()
            .save_png(&pictures.join(format!("kiosk-{width}x{height}.png")));
    }
}

#[test]
fn a_scaled_kiosk_is_the_size_of_its_screen_with_no_window_manager() {
    for (width, height) in [(800, 480), (1920, 1080)] {
        for scale in ["1.25", "1.5"] {
            let xvfb = Xvfb::start(width, height);
            let home = TempDir::new("kiosk-scaled");
            let mut running = Running(
                window(&xvfb, &home, &["--kiosk", "--scale", scale])
                    .spawn()
                    .expect("netdeck starts"),
            );
            xvfb.wait_for_screen(
                &mut running.0,
                &format!("the kiosk window at {scale} fills the {width}x{height} screen"),
                fills_the_screen,
            );
            let screen = Area {
                x: 0,
                y: 0,
                width: width as usize,
                height: height as usize,
            };
            assert_eq!(
                netdeck_window(&xvfb),
                screen,
                "the kiosk window at {scale} on the {width}x{height} screen"
            );
        }
    }
}

#[test]
fn a_scaled_window_is_no_larger_than_a_small_screen() {
    let xvfb = Xvfb::start(800, 480);
    let home = TempDir::new("scaled");
    let _running = drawn(&xvfb, &mut window(&xvfb, &home, &["--scale", "1.5"]));
    let placed = netdeck_window(&xvfb);
    assert!(
        placed.x + placed.width <= 800 && placed.y + placed.height <= 480,
        "the window at 1.5 fits the 800x480 screen: {placed:?}"
    );
}

/// Where `xwininfo` places the named window on `xvfb`, frame left out: absolute x, y, width
/// and height.
fn client_area(xvfb: &Xvfb, name: &str) -> Option<Area> {
    let output = Command::new("xwininfo")
        .args(["-name", name])
        .env("DISPLAY", &xvfb.display)
        .output()
        .expect("xwininfo runs (apt-get install x11-utils)");
    let info = String::from_utf8_lossy(&output.stdout);
    let value = |key: &str| -> Option<usize> {
        let line = info
            .lines()
            .find(|line| line.trim_start().starts_with(key))?;
        line.rsplit(':').next()?.trim().parse().ok()
    };
    Some(Area {
        x: value("Absolute upper-left X")?,
        y: value("Absolute upper-left Y")?,
        width: value("Width")?,
        height: value("Height")?,
    })
}

/// openbox running on `xvfb`, once it has announced itself on the root window.
fn openbox(xvfb: &Xvfb) -> Running {
    let running = Running(
        Command::new("openbox")
            .arg("--sm-disable")
            .env("DISPLAY", &xvfb.display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openbox runs (apt-get install openbox)"),
    );
    common::wait_until("openbox to manage the screen", || {
        Command::new("xprop")
            .args(["-root", "_NET_SUPPORTING_WM_CHECK"])
            .env("DISPLAY", &xvfb.display)
            .output()
            .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).contains("window id"))
    });
    running
}

#[test]
fn a_scaled_window_and_its_frame_fit_a_small_screen_under_a_window_manager() {
    let xvfb = Xvfb::start(800, 480);
    let _openbox = openbox(&xvfb);
    let home = TempDir::new("scaled-openbox");
    let running = drawn(&xvfb, &mut window(&xvfb, &home, &["--scale", "1.5"]));
    // The frame's title bar is above the window's own area: both must be on the screen.
    common::wait_until("the framed window to fit the 800x480 screen", || {
        client_area(&xvfb, "netdeck").is_some_and(|area| {
            area.y > 0 && area.x + area.width <= 800 && area.y + area.height <= 480
        })
    });

    let home = TempDir::new("kiosk-openbox");
    drop(running);
    let mut running = Running(
        window(&xvfb, &home, &["--kiosk", "--scale", "1.5"])
            .spawn()
            .expect("netdeck starts"),
    );
    xvfb.wait_for_screen(
        &mut running.0,
        "the kiosk window at 1.5 fills the screen under openbox",
        fills_the_screen,
    );
    let whole = Area {
        x: 0,
        y: 0,
        width: 800,
        height: 480,
    };
    common::wait_until("the kiosk window to be the screen", || {
        client_area(&xvfb, "netdeck") == Some(whole)
    });
}

#[test]
fn a_kiosk_takes_the_primary_monitor_of_two() {
    // One X screen shown on two monitors, as RandR describes them: a small one on the left,
    // and the primary one beside it.
    let xvfb = Xvfb::start(2720, 1080);
    let xrandr = |args: &[&str]| {
        let output = Command::new("xrandr")
            .args(args)
            .env("DISPLAY", &xvfb.display)
            .output()
            .expect("xrandr runs (apt-get install x11-xserver-utils)");
        assert!(output.status.success(), "xrandr {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    xrandr(&["--setmonitor", "side", "800/170x480/100+0+0", "none"]);
    xrandr(&["--setmonitor", "*main", "1920/500x1080/300+800+0", "screen"]);
    let monitors = xrandr(&["--listmonitors"]);
    assert!(monitors.contains("Monitors: 2"), "{monitors}");

    let home = TempDir::new("kiosk-monitors");
    let mut running = Running(
        window(&xvfb, &home, &["--kiosk"])
            .spawn()
            .expect("netdeck starts"),
    );
    let main = Area {
        x: 800,
        y: 0,
        width: 1920,
        height: 1080,
    };
    xvfb.wait_for_screen(
        &mut running.0,
        "the kiosk window fills the primary monitor",
        |screen| fills(screen, main),
    );
    let screen = xvfb.screen();
    let window_background = screen.pixel(main.x + 1, main.y + 1);
    assert_ne!(
        screen.pixel(799, 479),
        window_background,
        "the side monitor is left alone"
    );
    assert_ne!(screen.pixel(10, 10), window_background);
}

/// A display number no X server uses here now (no lock file for it).
fn free_display() -> u32 {
    (200..300)
        .find(|n| !std::path::Path::new(&format!("/tmp/.X{n}-lock")).exists())
        .expect("a free display number")
}

/// A process started in a process group of its own (`process_group(0)`), ended with everything
/// it started when dropped.
pub struct ProcessGroup(pub Child);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // SAFETY: a signal to the process group this test started.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

#[test]
fn the_bare_x_kiosk_recipe_fills_the_screen() {
    use std::os::unix::process::CommandExt;
    for (width, height) in [(800, 480), (1920, 1080)] {
        let home = TempDir::new("xinit");
        let screen = home.join("fb");
        std::fs::create_dir_all(&screen).unwrap();
        let mut recipe = Command::new("sh");
        recipe
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/kiosk-x11.sh"))
            .args(["-nolisten", "tcp", "-screen", "0"])
            .arg(format!("{width}x{height}x24"))
            .arg("-fbdir")
            .arg(&screen)
            .env("NETDECK", env!("CARGO_BIN_EXE_netdeck"))
            .env("XSERVER", "/usr/bin/Xvfb")
            .env("XDISPLAY", format!(":{}", free_display()))
            .env("SLINT_BACKEND", "winit-software")
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        // `deploy/kiosk-x11.sh`, the bare-X recipe its systemd unit starts, with Xvfb in place
        // of the X server; xinit's process group holds them and netdeck.
        let mut running = ProcessGroup(recipe.spawn().expect("sh runs the recipe"));
        common::display::wait_for_screen_file(
            &screen.join("Xvfb_screen0"),
            &mut running.0,
            &format!("the recipe's kiosk fills the {width}x{height} screen"),
            fills_the_screen,
        );
    }
}
