//! Presets that cannot be used, from the command line: an unknown name, a missing or broken
//! settings file, fields that are wrong. Each is refused with its exact message, hint and exit
//! code, naming the field, before anything starts.

use crate::common::ConfigHome;

/// The settings file the preset rows run with: a preset of each kind that works, and presets
/// whose fields are wrong (they load, and fail where they are used).
const PRESETS_FILE: &str = r#"
[presets.server.bad-bind]
bind = "localhost"

[presets.server.bad-reply]
mode = "auto-reply"
reply = 'a\q'

[presets.client.plain]
port = "9"

[presets.client.bad-port]
port = "70000"

[presets.client.bad-hex]
port = "9"
payload = "4"
hex = true

[presets.http.api]
url = "http://127.0.0.1:9/"

[presets.http.local]
url = "http://127.0.0.1:9/"

[presets.http.no-scheme]
url = "example.com"

[presets.http.bad-method]
method = "FETCH"

[presets.http.bad-header]
url = "http://127.0.0.1:9/"
headers = [{ name = "Bad Name", value = "v" }]

[presets.http.bad-json]
url = "http://127.0.0.1:9/"
body = "{"
json = true
"#;

/// (with the settings file, arguments, exit code, the error line, the hint line); `{file}`
/// stands for the settings file's path.
const PRESETS: &[(bool, &[&str], i32, &str, &str)] = &[
    (
        true,
        &["http", "--preset", ""],
        2,
        "preset: a preset name is needed (1 to 64 characters)",
        "Correct the value and try again.",
    ),
    (
        true,
        &["connect", "--preset", "a\x01b"],
        2,
        r"preset: `a\x01b` contains the control character `\x01`; a name is one line of text",
        "Correct the value and try again.",
    ),
    (
        true,
        &["serve", "--preset", "   "],
        2,
        "preset: `   ` is only white space; a name needs a visible character",
        "Correct the value and try again.",
    ),
    (
        true,
        &[
            "http",
            "--preset",
            "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm",
        ],
        2,
        "preset: a preset name has at most 64 characters; this one has 65",
        "Correct the value and try again.",
    ),
    (
        true,
        &["http", "--preset", "API"],
        2,
        "preset: no http preset `API` in {file}; the saved http presets are `api`, `bad-header`, `bad-json`, `bad-method`, `local`, `no-scheme`",
        "Use one of the saved names (they are case-sensitive).",
    ),
    (
        true,
        &["connect", "--preset", "nope"],
        2,
        "preset: no client preset `nope` in {file}; the saved client presets are `bad-hex`, `bad-port`, `plain`",
        "Use one of the saved names (they are case-sensitive).",
    ),
    (
        false,
        &["connect", "--preset", "nope"],
        2,
        "preset: no client preset `nope` in {file}; no client presets are saved there",
        "In the window, fill in the Client tab, name the preset in the Settings tab and press Save Client.",
    ),
    (
        false,
        &["serve", "--preset", "nope"],
        2,
        "preset: no server preset `nope` in {file}; no server presets are saved there",
        "In the window, fill in the Server tab, name the preset in the Settings tab and press Save Server.",
    ),
    (
        true,
        &["serve", "--preset", "bad-bind"],
        2,
        "bind: `localhost` is not an IP address (like 127.0.0.1, 0.0.0.0, ::1 or ::)",
        "Correct the value and try again.",
    ),
    (
        true,
        &["serve", "--preset", "bad-reply"],
        2,
        r"reply: unknown escape `\q` (use \r \n \t \0 \\ or \xNN; `\\` for a backslash) at column 2",
        "Correct the value and try again.",
    ),
    (
        true,
        &["connect", "--preset", "bad-port"],
        2,
        "port: 70000 is not a port number (0 to 65535)",
        "Correct the value and try again.",
    ),
    (
        true,
        &["connect", "--preset", "bad-hex"],
        2,
        "hex: odd number of hex digits in `4` (each byte is two digits, like `0a`) at column 1",
        "Correct the value and try again.",
    ),
    (
        true,
        &["connect", "--preset", "plain", "--insecure"],
        2,
        "tls: --insecure, --cacert, --cert, --alpn, --sni, --ciphers and --tlsv1.x need TLS, which is off; add --tls",
        "Correct the value and try again.",
    ),
    (
        true,
        &["http", "--preset", "no-scheme"],
        3,
        "URL example.com: no scheme; did you mean http://example.com ?",
        "Write the whole URL, like http://192.168.1.10:8080/status or https://example.com/.",
    ),
    (
        true,
        &["http", "--preset", "bad-method"],
        2,
        "method: `FETCH` is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
        "Correct the value and try again.",
    ),
    (
        true,
        &["http", "--preset", "bad-header"],
        2,
        "header: `Bad Name` is not a header name (letters, digits and - only)",
        "Correct the value and try again.",
    ),
    (
        true,
        &["http", "--preset", "bad-json"],
        2,
        "json: invalid JSON at line 1 column 1: EOF while parsing an object",
        "Correct the value and try again.",
    ),
];

#[test]
fn every_bad_preset_names_its_field_and_starts_nothing() {
    for (with_file, args, code, message, hint) in PRESETS {
        let home = if *with_file {
            ConfigHome::with_file(PRESETS_FILE)
        } else {
            ConfigHome::empty()
        };
        let (exit, stdout, stderr) = home.run(args);
        let message = message.replace("{file}", &home.file().display().to_string());
        assert_eq!(
            stderr,
            format!("netdeck: {message}\nhint: {hint}\n"),
            "{args:?}"
        );
        assert_eq!(exit, *code, "{args:?}: {stderr}");
        assert!(
            stdout.is_empty(),
            "{args:?} started something: {}",
            String::from_utf8_lossy(&stdout)
        );
    }
}
