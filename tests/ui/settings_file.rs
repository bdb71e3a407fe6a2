//! The settings file `--config` names, as a device node, a FIFO or a link into another folder:
//! starting a server in the window saves the fields that started it, and each stays what it
//! was; the link's target holds the settings. One test: the testing backend's event loop can
//! be set up once per process.

use crate::common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use common::TempDir;
use common::ui::{open_tab, start_an_echo_server};
use netdeck::gui::GuiOptions;
use netdeck::gui::ui::{AppWindow, SettingsAdapter};
use slint::ComponentHandle;

/// Opens a window on the settings file `file`, starts an echo server in it and closes it
/// again (which saves the fields too); tells what the Settings tab warned of.
fn start_a_server_with_settings_in(file: &Path, logs: &Path) -> String {
    let window = AppWindow::new().unwrap();
    let gui = netdeck::gui::setup(
        &window,
        &GuiOptions {
            config: Some(file.to_path_buf()),
            logs: Some(logs.to_path_buf()),
            ..GuiOptions::default()
        },
    )
    .unwrap();
    window.show().unwrap();
    let warning = window.global::<SettingsAdapter>().get_warning().to_string();
    open_tab(&window, "Server");
    start_an_echo_server(&window);
    gui.remember();
    window.hide().unwrap();
    warning
}

pub fn a_config_that_is_a_device_a_fifo_or_a_link_stays_what_it_was() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = TempDir::new("window-config-kinds");
    let logs = dir.join("logs");
    // A null device of the test's own (1:3, as /dev/null), so no mistake can harm the real one.
    let null = dir.join("null");
    common::make_special_file(
        "mknod",
        &["-m", "666", null.to_str().unwrap(), "c", "1", "3"],
    );
    let fifo = dir.join("fifo");
    common::make_special_file("mkfifo", &[fifo.to_str().unwrap()]);
    // A dotfiles setup: the settings file is a relative link into another folder, whose
    // target does not exist until the first save.
    fs::create_dir_all(dir.join("home/netdeck")).unwrap();
    fs::create_dir_all(dir.join("dotfiles")).unwrap();
    let link = dir.join("home/netdeck/config.toml");
    std::os::unix::fs::symlink("../../dotfiles/netdeck.toml", &link).unwrap();
    let target = dir.join("dotfiles/netdeck.toml");

    // `--config /dev/null` says "no settings": nothing read, nothing written, nothing said.
    assert_eq!(start_a_server_with_settings_in(&null, &logs), "");
    let warning = start_a_server_with_settings_in(&fifo, &logs);
    assert_eq!(
        warning,
        format!(
            "{} is a FIFO, not a file: settings are not read from it or saved to it",
            fifo.display()
        )
    );
    assert_eq!(start_a_server_with_settings_in(&link, &logs), "");

    let null = fs::symlink_metadata(&null).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), libc::makedev(1, 3));
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(fs::symlink_metadata(&target).unwrap().is_file());
    let saved = fs::read_to_string(&target).unwrap();
    assert!(saved.contains("mode = \"echo\""), "{saved}");
    // Nothing was left beside any of them.
    let names = |folder: &str| -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir.join(folder))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("."), ["dotfiles", "fifo", "home", "null"]);
    assert_eq!(names("home/netdeck"), ["config.toml"]);
    assert_eq!(names("dotfiles"), ["netdeck.toml"]);
}
