//! Every tab drawn by the software renderer, headless, at a 7-inch panel's 800x480, a
//! tablet's 1280x800 and a desktop's 1920x1080, into `target/screenshots/TAB-WxH.png`. Each picture must show a real
//! page: many colours, not one flat fill. README's pictures in `docs/` are copies of these.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Duration;

use crate::common::ui::{drawing_backend, element, screenshots_dir, shown, tap};
use netdeck::gui::GuiOptions;
use netdeck::gui::ui::{AppWindow, HttpAdapter, KeyboardKind, KeyboardState, Tab};
use slint::{ComponentHandle, PhysicalSize, Rgba8Pixel, SharedPixelBuffer};

const TABS: [(Tab, &str); 7] = [
    (Tab::Server, "server"),
    (Tab::Client, "client"),
    (Tab::Both, "both"),
    (Tab::Udp, "udp"),
    (Tab::Http, "http"),
    (Tab::Log, "log"),
    (Tab::Settings, "settings"),
];
const SIZES: [(u32, u32); 3] = [(800, 480), (1280, 800), (1920, 1080)];

pub fn write_png(path: &Path, image: &SharedPixelBuffer<Rgba8Pixel>) {
    let file = BufWriter::new(File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, image.width(), image.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(image.as_bytes()).unwrap();
}

/// How many different colours the picture has; a blank or flat window has one or two.
pub fn colours(image: &SharedPixelBuffer<Rgba8Pixel>) -> usize {
    let mut seen: Vec<[u8; 4]> = image
        .as_slice()
        .iter()
        .map(|p| [p.r, p.g, p.b, p.a])
        .collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

pub fn every_tab_renders_at_800x480_1280x800_and_1920x1080() {
    // Mock time lets each picture wait for the buttons' colour animations exactly.
    drawing_backend(true);
    let dir = screenshots_dir();

    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(&window, &GuiOptions::default()).unwrap();
    window.show().unwrap();
    for (width, height) in SIZES {
        window.window().set_size(PhysicalSize::new(width, height));
        // The tabs, then the HTTP tab's options view.
        let pages = TABS.iter().map(|(tab, name)| (*tab, 0, *name));
        for (tab, view, name) in pages.chain([(Tab::Http, 2, "http-options")]) {
            window.set_current_tab(tab);
            window.global::<HttpAdapter>().set_view(view);
            i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
            let image = window.window().take_snapshot().unwrap();
            assert_eq!((image.width(), image.height()), (width, height));
            let path = dir.join(format!("{name}-{width}x{height}.png"));
            write_png(&path, &image);
            let found = colours(&image);
            assert!(
                found > 50,
                "{} looks blank: {found} colours",
                path.display()
            );
        }

        // The keyboard's second symbol page, typing into the HTTP body.
        window.global::<KeyboardState>().set_enabled(true);
        window.set_current_tab(Tab::Http);
        window.global::<HttpAdapter>().set_view(0);
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
        tap(&window, &element(&window, "Body"));
        window
            .global::<KeyboardState>()
            .set_kind(KeyboardKind::Brackets);
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
        assert!(shown(&window, "Key {"), "the symbol page is up");
        let image = window.window().take_snapshot().unwrap();
        write_png(
            &dir.join(format!("keyboard-symbols-{width}x{height}.png")),
            &image,
        );
        window.global::<KeyboardState>().set_enabled(false);
    }
}
