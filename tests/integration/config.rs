//! The settings file on a real file system: round trips, defaults for what is missing, backups
//! of files that cannot be used, atomic and private saves, and preset names.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::TempDir;
use netdeck::config::{self, Config, Presets, Settings, Theme};
use netdeck::forms::parse::{parse_log_lines, parse_scale, preset_name};
use netdeck::forms::{ClientForm, Header, HttpForm, LineEndingChoice, ServerForm, ServerMode};
use netdeck::net::NetError;
use netdeck::net::client::Family;

/// A config with every field away from its default, and a preset of each kind.
fn full_config() -> Config {
    let server = ServerForm {
        bind: "0.0.0.0".into(),
        port: "8080".into(),
        max_clients: "5".into(),
        mode: ServerMode::AutoReply,
        reply: r"pong\r\n".into(),
        payload: "48 69".into(),
        hex: true,
        line_ending: LineEndingChoice::CrLf,
        tls: true,
        cert: "/etc/netdeck/cert.pem".into(),
        key: "/etc/netdeck/key.pem".into(),
        client_ca: "/etc/netdeck/clients.pem".into(),
        ciphers: "TLS13_AES_128_GCM_SHA256".into(),
    };
    let client = ClientForm {
        host: "example.com".into(),
        port: "443".into(),
        tls: true,
        insecure: true,
        payload: r"HEAD / HTTP/1.0\r\n\r\n".into(),
        hex: false,
        line_ending: LineEndingChoice::Lf,
        source: "192.0.2.7".into(),
        source_port: "40000".into(),
        family: Some(Family::Ipv4),
        proxy: "socks5h://proxy.lan:1080".into(),
    };
    let http = HttpForm {
        method: "POST".into(),
        url: "https://example.com/api?x=1".into(),
        headers: vec![
            Header {
                name: "Authorization".into(),
                value: "Bearer t0ken".into(),
            },
            Header {
                name: "X-Quote".into(),
                value: "say \"hi\" ".into(),
            },
        ],
        body: "{\n  \"a\": [1, 2]\n}".into(),
        json: true,
        insecure: true,
    };
    Config {
        settings: Settings {
            theme: Theme::Light,
            scale: 1.1,
            keyboard: true,
            stage_text: true,
            log_lines: 5000,
            proxy: "http://lab:secret@proxy.lan:3128".into(),
        },
        server: server.clone(),
        client: client.clone(),
        http: http.clone(),
        presets: Presets {
            server: BTreeMap::from([("echo on 8080".to_string(), server)]),
            client: BTreeMap::from([
                ("web \"quoted\" ü".to_string(), client.clone()),
                ("x".to_string(), ClientForm::default()),
            ]),
            http: BTreeMap::from([("api.example".to_string(), http)]),
        },
    }
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The names in a folder, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_full_config_with_presets_round_trips() {
    let dir = TempDir::new("config-round-trip");
    let path = dir.join("config.toml");
    let config = full_config();
    config::save(&path, &config).unwrap();
    let loaded = config::load(&path);
    assert_eq!(loaded.warning, None);
    assert!(loaded.can_save);
    assert_eq!(loaded.config, config);

    let text = fs::read_to_string(&path).unwrap();
    for line in [
        "theme = \"light\"",
        "scale = 1.1",
        "mode = \"auto-reply\"",
        "line_ending = \"crlf\"",
        "[presets.server.\"echo on 8080\"]",
        "[presets.http.\"api.example\"]",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
    // Saving what was loaded gives the same bytes.
    config::save(&path, &loaded.config).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn a_missing_file_gives_the_defaults_and_writes_nothing() {
    let dir = TempDir::new("config-missing");
    let loaded = config::load(&dir.join("netdeck/config.toml"));
    assert_eq!(loaded.warning, None);
    assert!(loaded.can_save);
    assert_eq!(loaded.config, Config::default());
    assert_eq!(loaded.config.settings.theme, Theme::Dark);
    assert_eq!(loaded.config.settings.scale, 1.0);
    assert!(!loaded.config.settings.keyboard);
    assert_eq!(loaded.config.settings.log_lines, 1000);
    assert_eq!(loaded.config.server.bind, "127.0.0.1");
    assert_eq!(loaded.config.server.port, "1234");
    assert_eq!(loaded.config.client.host, "127.0.0.1");
    assert_eq!(loaded.config.http.method, "GET");
    assert_eq!(loaded.config.http.url, "");
    assert!(listing(&dir.path).is_empty());
}

#[test]
fn a_partial_file_fills_the_rest_with_defaults_and_ignores_unknown_keys() {
    let dir = TempDir::new("config-partial");
    let path = dir.join("config.toml");
    fs::write(
        &path,
        "[settings]\ntheme = \"light\"\ncolour = \"teal\"\n\n[presets.http.only-url]\nurl = \"http://10.0.0.2/\"\n\n[later]\nx = 1\n",
    )
    .unwrap();
    let loaded = config::load(&path);
    assert_eq!(loaded.warning, None);
    let expected = Config {
        settings: Settings {
            theme: Theme::Light,
            ..Settings::default()
        },
        presets: Presets {
            http: BTreeMap::from([(
                "only-url".to_string(),
                HttpForm {
                    url: "http://10.0.0.2/".into(),
                    ..HttpForm::default()
                },
            )]),
            ..Presets::default()
        },
        ..Config::default()
    };
    assert_eq!(loaded.config, expected);
}

#[test]
fn out_of_range_settings_are_clamped_with_a_warning() {
    let dir = TempDir::new("config-clamp");
    let path = dir.join("config.toml");
    let original = "[settings]\nscale = 9.0\nlog_lines = 5\ntheme = \"light\"\n";
    fs::write(&path, original).unwrap();
    let loaded = config::load(&path);
    assert_eq!(
        loaded.warning.as_deref(),
        Some(
            format!(
                "{}: settings.scale 9 is outside 0.5 to 3; using 3; settings.log_lines 5 is outside 100 to 100000; using 100",
                path.display()
            )
            .as_str()
        )
    );
    assert!(loaded.can_save);
    assert_eq!(loaded.config.settings.scale, 3.0);
    assert_eq!(loaded.config.settings.log_lines, 100);
    assert_eq!(loaded.config.settings.theme, Theme::Light);
    assert_eq!(fs::read_to_string(&path).unwrap(), original);

    fs::write(&path, "[settings]\nscale = nan\nlog_lines = 1000000\n").unwrap();
    let loaded = config::load(&path);
    assert_eq!(
        loaded.warning.as_deref(),
        Some(
            format!(
                "{}: settings.scale is not a number; using 1; settings.log_lines 1000000 is outside 100 to 100000; using 100000",
                path.display()
            )
            .as_str()
        )
    );
    assert_eq!(loaded.config.settings.scale, 1.0);
    assert_eq!(loaded.config.settings.log_lines, 100_000);
}

/// (file contents, where and what the problem is)
const UNUSABLE: &[(&[u8], &str)] = &[
    (
        b"[settings]\ntheme = \"light\"\nscale = \n",
        "line 3, column 9: string values must be quoted, expected literal string",
    ),
    (
        b"[settings]\ntheme = \"blue\"\n",
        "line 2, column 9: unknown variant `blue`, expected `dark` or `light`",
    ),
    (
        b"[client]\nport = 1234\n",
        "line 2, column 8: invalid type: integer `1234`, expected a string",
    ),
    (
        b"[settings]\nlog_lines = -1\n",
        "line 2, column 13: invalid value: integer `-1`, expected usize",
    ),
    (b"theme = \"dark\xff\"\n", "byte 14 is not UTF-8 text"),
];

#[test]
fn an_unusable_file_gives_the_defaults_a_warning_and_an_exact_backup() {
    for (n, (bytes, problem)) in UNUSABLE.iter().enumerate() {
        let dir = TempDir::new(&format!("config-unusable-{n}"));
        let path = dir.join("config.toml");
        fs::write(&path, bytes).unwrap();
        let before = fs::metadata(&path).unwrap();

        let loaded = config::load(&path);
        let backup = dir.join("config.toml.bak");
        assert_eq!(
            loaded.warning.as_deref(),
            Some(
                format!(
                    "cannot use {}: {problem}; using the default settings; the file is kept as {}",
                    path.display(),
                    backup.display()
                )
                .as_str()
            )
        );
        assert!(loaded.can_save);
        assert_eq!(loaded.config, Config::default());
        assert_eq!(fs::read(&backup).unwrap(), *bytes);
        assert_eq!(mode_of(&backup), 0o600);
        // The original is left exactly as it was: same bytes, same file, not written.
        let after = fs::metadata(&path).unwrap();
        assert_eq!(fs::read(&path).unwrap(), *bytes);
        assert_eq!(
            (after.ino(), after.mtime(), after.mtime_nsec()),
            (before.ino(), before.mtime(), before.mtime_nsec())
        );
        // Loaded again, the same file is not backed up twice.
        let again = config::load(&path);
        assert_eq!(again.warning, loaded.warning);
        assert_eq!(listing(&dir.path), ["config.toml", "config.toml.bak"]);
    }
}

#[test]
fn an_earlier_backup_with_other_bytes_is_never_overwritten() {
    let dir = TempDir::new("config-backups");
    let path = dir.join("config.toml");
    fs::write(&path, "first = [").unwrap();
    config::load(&path);
    fs::write(&path, "second = [").unwrap();
    let loaded = config::load(&path);
    let second = dir.join("config.toml.bak.1");
    assert!(
        loaded
            .warning
            .unwrap()
            .ends_with(&format!("the file is kept as {}", second.display()))
    );
    assert_eq!(fs::read(dir.join("config.toml.bak")).unwrap(), b"first = [");
    assert_eq!(fs::read(&second).unwrap(), b"second = [");
    assert_eq!(
        listing(&dir.path),
        ["config.toml", "config.toml.bak", "config.toml.bak.1"]
    );
}

#[test]
fn a_file_that_cannot_be_read_is_never_saved_over() {
    let dir = TempDir::new("config-unreadable");
    // A folder where the file should be: unreadable as a file, whoever runs the test.
    let path = dir.join("config.toml");
    fs::create_dir(&path).unwrap();
    let loaded = config::load(&path);
    assert!(!loaded.can_save);
    assert_eq!(loaded.config, Config::default());
    assert_eq!(
        loaded.warning.as_deref(),
        Some(
            format!(
                "cannot read {}: Is a directory (os error 21); using the default settings, which will not be saved over it",
                path.display()
            )
            .as_str()
        )
    );
}

#[test]
fn when_no_backup_can_be_made_saving_is_refused() {
    let dir = TempDir::new("config-no-backup");
    // The longest name a file may have leaves no room for `.bak`.
    let path = dir.join(&"c".repeat(253));
    fs::write(&path, "broken = [").unwrap();
    let loaded = config::load(&path);
    assert!(!loaded.can_save);
    assert_eq!(loaded.config, Config::default());
    assert_eq!(
        loaded.warning.as_deref(),
        Some(
            format!(
                "cannot use {}: line 1, column 11: {}; using the default settings; it could not be backed up (File name too long (os error 36)), so the settings will not be saved over it",
                path.display(),
                "unclosed array, expected `]`"
            )
            .as_str()
        )
    );
    assert_eq!(fs::read(&path).unwrap(), b"broken = [");
}

#[test]
fn a_write_interrupted_before_its_commit_leaves_the_old_file_intact() {
    let dir = TempDir::new("config-staged");
    let path = dir.join("config.toml");
    let old = full_config();
    config::save(&path, &old).unwrap();
    let old_bytes = fs::read(&path).unwrap();

    let staged = config::stage(&path, &Config::default()).unwrap();
    let names = listing(&dir.path);
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(names[1], "config.toml");
    let temporary = dir.join(&names[0]);
    assert!(
        names[0].starts_with(".config.toml.") && names[0].ends_with(".tmp"),
        "{names:?}"
    );
    assert_eq!(mode_of(&temporary), 0o600);
    assert_eq!(
        fs::read_to_string(&temporary).unwrap(),
        toml::to_string(&Config::default()).unwrap()
    );
    // The process dies here: nothing runs after the temporary file was written.
    std::mem::forget(staged);

    assert_eq!(fs::read(&path).unwrap(), old_bytes);
    let loaded = config::load(&path);
    assert_eq!(loaded.warning, None);
    assert_eq!(loaded.config, old);
    // The leftover does not get in the way of the next save either.
    let mut new = old.clone();
    new.settings.theme = Theme::Dark;
    config::save(&path, &new).unwrap();
    assert_eq!(config::load(&path).config, new);
}

#[test]
fn a_staged_write_is_all_or_nothing() {
    let dir = TempDir::new("config-commit");
    let path = dir.join("config.toml");
    config::save(&path, &Config::default()).unwrap();

    let abandoned = config::stage(&path, &full_config()).unwrap();
    drop(abandoned);
    assert_eq!(listing(&dir.path), ["config.toml"]);
    assert_eq!(config::load(&path).config, Config::default());

    let staged = config::stage(&path, &full_config()).unwrap();
    assert_eq!(config::load(&path).config, Config::default());
    staged.commit().unwrap();
    assert_eq!(config::load(&path).config, full_config());
    assert_eq!(listing(&dir.path), ["config.toml"]);
}

#[test]
fn saved_settings_are_private() {
    let dir = TempDir::new("config-private");
    let folder = dir.join("config-home/netdeck");
    let path = folder.join("config.toml");
    config::save(&path, &full_config()).unwrap();
    assert_eq!(mode_of(&folder), 0o700);
    assert_eq!(mode_of(&path), 0o600);

    // A file someone made readable by all is private again once saved.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    config::save(&path, &Config::default()).unwrap();
    assert_eq!(mode_of(&path), 0o600);
}

#[test]
fn a_settings_file_that_is_a_link_stays_a_link() {
    let dir = TempDir::new("config-link");
    let real = dir.join("dotfiles/netdeck.toml");
    fs::create_dir(dir.join("dotfiles")).unwrap();
    fs::write(&real, "").unwrap();
    let link = dir.join("config.toml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    config::save(&link, &full_config()).unwrap();
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(config::load(&real).config, full_config());
}

#[test]
fn a_chain_of_relative_links_ending_nowhere_is_followed_and_stays_links() {
    let dir = TempDir::new("config-link-chain");
    fs::create_dir_all(dir.join("home/.config/netdeck")).unwrap();
    fs::create_dir_all(dir.join("dotfiles/netdeck")).unwrap();
    // config.toml → ../../../dotfiles/netdeck.toml → netdeck/settings.toml, which does not
    // exist yet: the first save makes it.
    let path = dir.join("home/.config/netdeck/config.toml");
    std::os::unix::fs::symlink("../../../dotfiles/netdeck.toml", &path).unwrap();
    let middle = dir.join("dotfiles/netdeck.toml");
    std::os::unix::fs::symlink("netdeck/settings.toml", &middle).unwrap();
    let real = dir.join("dotfiles/netdeck/settings.toml");

    let loaded = config::load(&path);
    assert_eq!((loaded.warning, loaded.can_save), (None, true));
    assert!(config::is_writable(&path));
    for config in [full_config(), Config::default()] {
        config::save(&path, &config).unwrap();
        for link in [&path, &middle] {
            assert!(fs::symlink_metadata(link).unwrap().is_symlink(), "{link:?}");
        }
        assert!(fs::symlink_metadata(&real).unwrap().is_file());
        assert_eq!(mode_of(&real), 0o600);
        assert_eq!(config::load(&path).config, config);
        assert_eq!(config::load(&real).config, config);
        // The temporary file was beside the target, and is gone.
        assert_eq!(listing(&dir.join("dotfiles/netdeck")), ["settings.toml"]);
        assert_eq!(listing(&dir.join("home/.config/netdeck")), ["config.toml"]);
    }
}

#[test]
fn a_link_to_itself_is_an_error_that_replaces_nothing() {
    let dir = TempDir::new("config-link-loop");
    let path = dir.join("config.toml");
    std::os::unix::fs::symlink("config.toml", &path).unwrap();
    let loaded = config::load(&path);
    assert!(!loaded.can_save);
    assert!(
        loaded
            .warning
            .as_deref()
            .is_some_and(|w| w.contains("symbolic links")),
        "{:?}",
        loaded.warning
    );
    let error = config::save(&path, &full_config()).unwrap_err();
    assert!(error.to_string().contains("symbolic links"), "{error}");
    assert!(fs::symlink_metadata(&path).unwrap().is_symlink());
}

/// Loads the settings on another thread, so that a load that blocks fails the test instead
/// of hanging it.
fn load_without_blocking(path: &Path) -> config::Loaded {
    let (sender, receiver) = std::sync::mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = sender.send(config::load(&path));
    });
    receiver
        .recv_timeout(common::PATIENCE)
        .expect("loading the settings returned instead of blocking")
}

#[test]
fn a_fifo_a_device_or_a_socket_is_never_read_nor_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = TempDir::new("config-special");
    let fifo = dir.join("fifo");
    common::make_special_file("mkfifo", &[fifo.to_str().unwrap()]);
    let device = dir.join("zero");
    common::make_special_file("mknod", &[device.to_str().unwrap(), "c", "1", "5"]);
    let socket = dir.join("socket");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    // A link to one is the same.
    let link = dir.join("link");
    std::os::unix::fs::symlink("fifo", &link).unwrap();

    for (path, what) in [
        (&fifo, "a FIFO"),
        (&device, "a character device"),
        (&socket, "a socket"),
    ] {
        let loaded = load_without_blocking(path);
        assert_eq!(loaded.config, Config::default());
        assert!(!loaded.can_save, "{path:?}");
        assert_eq!(
            loaded.warning.as_deref(),
            Some(
                format!(
                    "{} is {what}, not a file: settings are not read from it or saved to it",
                    path.display()
                )
                .as_str()
            )
        );
        let error = config::save(path, &full_config()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} is {what}, not a file: settings are not saved to it",
                path.display()
            )
        );
    }
    let loaded = load_without_blocking(&link);
    assert_eq!(
        loaded.warning.as_deref(),
        Some(
            format!(
                "{} (a link to {}) is a FIFO, not a file: settings are not read from it or saved to it",
                link.display(),
                dir.join("fifo").display()
            )
            .as_str()
        )
    );
    assert!(config::save(&link, &full_config()).is_err());

    let kind = |name: &str| fs::symlink_metadata(dir.join(name)).unwrap().file_type();
    assert!(kind("fifo").is_fifo());
    assert!(kind("zero").is_char_device());
    assert!(kind("socket").is_socket());
    assert!(kind("link").is_symlink());
    assert_eq!(listing(&dir.path), ["fifo", "link", "socket", "zero"]);
}

#[test]
fn the_null_device_reads_nothing_and_writes_nothing_silently() {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let dir = TempDir::new("config-null");
    // A null device of its own (1:3, as /dev/null), so the test cannot harm the real one.
    let null = dir.join("null");
    common::make_special_file(
        "mknod",
        &["-m", "666", null.to_str().unwrap(), "c", "1", "3"],
    );
    let loaded = config::load(&null);
    assert_eq!(loaded.config, Config::default());
    assert_eq!((loaded.warning, loaded.can_save), (None, false));
    assert!(config::save(&null, &full_config()).is_err());
    let metadata = fs::symlink_metadata(&null).unwrap();
    assert!(metadata.file_type().is_char_device());
    assert_eq!(metadata.rdev(), libc::makedev(1, 3));
    assert_eq!(listing(&dir.path), ["null"]);
}

#[test]
fn a_save_that_cannot_happen_names_the_folder() {
    let dir = TempDir::new("config-save-error");
    fs::write(dir.join("file"), "").unwrap();
    let path = dir.join("file/netdeck/config.toml");
    let error = config::save(&path, &Config::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot create the folder {}: Not a directory (os error 20)",
            dir.join("file/netdeck").display()
        )
    );
}

#[test]
fn preset_names_are_checked() {
    let long = "é".repeat(65);
    let refused: &[(&str, &str)] = &[
        ("", "preset: a preset name is needed (1 to 64 characters)"),
        (
            "a\tb",
            r"preset: `a\tb` contains the control character `\t`; a name is one line of text",
        ),
        (
            "bell\u{7}",
            r"preset: `bell\x07` contains the control character `\x07`; a name is one line of text",
        ),
        (
            "line\n",
            r"preset: `line\n` contains the control character `\n`; a name is one line of text",
        ),
        (
            "\u{85}next line",
            r"preset: `\xc2\x85next line` contains the control character `\xc2\x85`; a name is one line of text",
        ),
        (
            "   ",
            "preset: `   ` is only white space; a name needs a visible character",
        ),
        (
            &long,
            "preset: a preset name has at most 64 characters; this one has 65",
        ),
    ];
    for (name, message) in refused {
        let error = preset_name(name).unwrap_err();
        assert_eq!(error.to_string(), *message);
        assert!(matches!(
            error,
            NetError::InvalidInput {
                field: "preset",
                ..
            }
        ));
        assert_eq!((error.field(), error.exit_code()), (Some("preset"), 2));
    }
    let longest = "é".repeat(64);
    for (typed, name) in [
        ("a", "a"),
        ("  web api ", "web api"),
        ("ü 日本", "ü 日本"),
        (longest.as_str(), longest.as_str()),
    ] {
        assert_eq!(preset_name(typed).unwrap(), name);
    }
}

#[test]
fn an_unknown_preset_names_the_file_and_the_saved_ones() {
    let file = Path::new("/home/someone/.config/netdeck/config.toml");
    let presets = full_config().presets;
    let error = presets.client("web", file).unwrap_err();
    assert_eq!(
        error.to_string(),
        "preset: no client preset `web` in /home/someone/.config/netdeck/config.toml; the saved client presets are `web \"quoted\" ü`, `x`"
    );
    assert_eq!(
        error.hint(&netdeck::cli::Flags),
        "Use one of the saved names (they are case-sensitive)."
    );
    assert_eq!((error.field(), error.exit_code()), (Some("preset"), 2));

    let error = Presets::default().server("echo", file).unwrap_err();
    assert_eq!(
        error.to_string(),
        "preset: no server preset `echo` in /home/someone/.config/netdeck/config.toml; no server presets are saved there"
    );
    assert_eq!(
        error.hint(&netdeck::cli::Flags),
        "In the window, fill in the Server tab, name the preset in the Settings tab and press Save Server."
    );

    assert_eq!(presets.http(" api.example ", file).unwrap().method, "POST");
    assert_eq!(
        presets.http("", file).unwrap_err().to_string(),
        "preset: a preset name is needed (1 to 64 characters)"
    );
}

/// A preset's fields are checked where they are used, with the field's own error.
#[test]
fn a_preset_with_bad_fields_loads_and_fails_where_used() {
    let dir = TempDir::new("config-bad-fields");
    let path = dir.join("config.toml");
    fs::write(
        &path,
        "[presets.server.bad]\nport = \"70000\"\nmode = \"auto-reply\"\nreply = 'a\\q'\n\n[presets.http.bad]\nurl = \"http://10.0.0.2/\"\nheaders = [{ name = \"Bad Name\", value = \"v\" }, { name = \"\", value = \" \" }]\n",
    )
    .unwrap();
    let loaded = config::load(&path);
    assert_eq!(loaded.warning, None);
    let server = loaded.config.presets.server("bad", &path).unwrap();
    assert_eq!(server.port, "70000");
    assert_eq!(
        server.reply_mode().unwrap_err().to_string(),
        r"reply: unknown escape `\q` (use \r \n \t \0 \\ or \xNN; `\\` for a backslash) at column 2"
    );
    let http = loaded.config.presets.http("bad", &path).unwrap();
    assert_eq!(
        http.check().unwrap_err().to_string(),
        "header: `Bad Name` is not a header name (letters, digits and - only)"
    );
}

#[test]
fn settings_typed_in_the_window_are_checked_against_their_ranges() {
    assert_eq!(parse_scale("scale", " 1.5 ").unwrap(), 1.5);
    assert_eq!(parse_scale("scale", "0.5").unwrap(), 0.5);
    for bad in ["0.4", "3.01", "NaN", "inf", "big"] {
        let error = parse_scale("scale", bad).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("scale: `{bad}` is not a scale (0.5 to 3)")
        );
        assert_eq!((error.field(), error.exit_code()), (Some("scale"), 2));
    }
    assert_eq!(parse_log_lines("100000").unwrap(), 100_000);
    for bad in ["99", "100001", "-1", ""] {
        assert_eq!(
            parse_log_lines(bad).unwrap_err().to_string(),
            format!("log-lines: `{bad}` is not a number of lines (100 to 100000)")
        );
    }
}

#[test]
fn each_preset_has_a_one_line_summary() {
    let config = full_config();
    assert_eq!(
        config.server.summary(),
        "0.0.0.0:8080 · auto-reply · TLS · at most 5 clients"
    );
    assert_eq!(
        config.client.summary(),
        "example.com:443 · TLS, any certificate · through socks5h://proxy.lan:1080"
    );
    assert_eq!(ClientForm::default().summary(), "127.0.0.1:1234");
    assert_eq!(config.http.summary(), "POST https://example.com/api?x=1");
}
