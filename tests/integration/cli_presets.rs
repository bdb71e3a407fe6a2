//! `--preset NAME` as a user runs it: a settings file on disk, netdeck as a new process, and
//! real peers that see what it sends. Options given on the command line replace the preset's.

use crate::common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::thread::{self, JoinHandle};

use common::{ConfigHome, PATIENCE, Peer, ServeProcess, TempDir, connect, read_exact};

/// Accepts one connection, answers `answer` at once and half-closes, then returns everything
/// the client sent until it closed.
fn one_connection(listener: TcpListener, answer: &'static [u8]) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.write_all(answer).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut received = Vec::new();
        stream.read_to_end(&mut received).unwrap();
        received
    })
}

/// Accepts one HTTP request, answers it with 200 and `arrived`, and returns its head (as
/// lines) and body, exactly as they came.
fn one_request(listener: TcpListener) -> JoinHandle<(Vec<String>, Vec<u8>)> {
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut received = Vec::new();
        let mut buffer = [0; 4096];
        let head_end = loop {
            if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let n = stream.read(&mut buffer).unwrap();
            assert!(n > 0, "the request ended inside its head");
            received.extend_from_slice(&buffer[..n]);
        };
        let head: Vec<String> = String::from_utf8(received[..head_end].to_vec())
            .unwrap()
            .lines()
            .take_while(|line| !line.is_empty())
            .map(String::from)
            .collect();
        let length: usize = head
            .iter()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().unwrap())
            })
            .unwrap_or(0);
        while received.len() < head_end + length {
            let n = stream.read(&mut buffer).unwrap();
            assert!(n > 0, "the request ended inside its body");
            received.extend_from_slice(&buffer[..n]);
        }
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\narrived")
            .unwrap();
        (head, received[head_end..].to_vec())
    })
}

fn loopback_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

#[test]
fn an_http_preset_sends_its_method_headers_and_body() {
    let (listener, addr) = loopback_listener();
    let home = ConfigHome::with_file(&format!(
        r#"
[presets.http.submit]
method = "put"
url = "http://{addr}/submit?x=1"
body = '{{"name": "netdeck"}}'
json = true
headers = [
    {{ name = "X-Token", value = "abc 123" }},
    {{ name = "", value = "" }},
    {{ name = "Accept", value = "text/plain" }},
]
"#
    ));
    let server = one_request(listener);
    let (code, stdout, stderr) = home.run(&["http", "--preset", "submit"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(stdout, b"arrived");
    let (head, body) = server.join().unwrap();
    assert_eq!(head[0], "PUT /submit?x=1 HTTP/1.1");
    let has = |line: &str| head.iter().any(|l| l == line);
    for line in [
        "X-Token: abc 123",
        "Accept: text/plain",
        "Content-Type: application/json",
        "Content-Length: 19",
    ] {
        assert!(has(line), "{line} in {head:?}");
    }
    // The preset's Accept stands: --json adds only what is not given.
    assert_eq!(head.iter().filter(|l| l.starts_with("Accept:")).count(), 1);
    assert_eq!(body, br#"{"name": "netdeck"}"#);
}

#[test]
fn options_on_the_command_line_replace_the_http_presets_values() {
    let peer = Peer::http(&[]);
    let home = ConfigHome::with_file(&format!(
        r#"
[presets.http.method]
method = "POST"
url = "http://{0}/method"
body = "from the preset"

[presets.http.auth]
url = "http://{0}/authorization"
headers = [{{ name = "Authorization", value = "Bearer preset" }}]
"#,
        peer.addr
    ));
    let url = format!("http://{}/method", peer.addr);
    for (args, answer) in [
        (vec!["--preset", "method"], "POST from the preset"),
        (
            vec!["--preset", "method", "-d", "from the command line"],
            "POST from the command line",
        ),
        (
            vec!["--preset", "method", "PUT", &url],
            "PUT from the preset",
        ),
        (vec!["--preset", "auth"], "Bearer preset"),
        (
            vec!["--preset", "auth", "-H", "authorization: Bearer cli"],
            "Bearer cli",
        ),
    ] {
        let mut full = vec!["http"];
        full.extend(&args);
        let (code, stdout, stderr) = home.run(&full);
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}");
        assert_eq!(String::from_utf8(stdout).unwrap(), answer, "{args:?}");
    }
}

/// Client presets that all connect to `port`.
fn client_presets(port: u16) -> String {
    format!(
        r#"
[presets.client.hello]
host = "127.0.0.1"
port = "{port}"
payload = 'hello\x00'
line_ending = "crlf"

[presets.client.bytes]
port = "{port}"
payload = "48 69"
hex = true
line_ending = "lf"

[presets.client.elsewhere]
host = "no-such-host.invalid"
port = "{port}"
payload = "moved"
"#
    )
}

/// Runs `netdeck connect <args>` with [`client_presets`] against a peer that answers
/// `answer`: (what netdeck printed, what the peer received).
fn connect_with_presets(args: &[&str], answer: &'static [u8]) -> (Vec<u8>, Vec<u8>) {
    let (listener, addr) = loopback_listener();
    let home = ConfigHome::with_file(&client_presets(addr.port()));
    let server = one_connection(listener, answer);
    let mut full = vec!["connect"];
    full.extend(args);
    let (code, stdout, stderr) = home.run(&full);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    (stdout, server.join().unwrap())
}

#[test]
fn a_connection_preset_sends_its_payload_with_its_line_ending() {
    let (stdout, sent) = connect_with_presets(&["--preset", "hello"], b"pong");
    assert_eq!(stdout, b"pong");
    assert_eq!(sent, b"hello\x00\r\n");

    // Hex in, so a hex dump out.
    let (stdout, sent) = connect_with_presets(&["--preset", "bytes"], b"pong");
    assert_eq!(
        String::from_utf8(stdout).unwrap(),
        netdeck::payload::hex_dump(b"pong", 0)
    );
    assert_eq!(sent, b"Hi\n");
}

#[test]
fn options_on_the_command_line_replace_the_connection_presets_values() {
    for (args, expected) in [
        // --send replaces the payload; the preset's line ending still ends it.
        (
            &["--preset", "hello", "--send", "other"][..],
            &b"other\r\n"[..],
        ),
        (
            &["--preset", "hello", "--send", "other", "--lf"],
            b"other\n",
        ),
        (&["--preset", "hello", "--hex", "00 ff"], b"\x00\xff"),
        // HOST alone replaces the preset's host and keeps its port.
        (&["--preset", "elsewhere", "127.0.0.1"], b"moved"),
    ] {
        let (_, sent) = connect_with_presets(args, b"");
        assert_eq!(sent, expected, "{args:?}");
    }
}

#[test]
fn a_server_preset_starts_the_server_it_describes() {
    let home = ConfigHome::with_file(
        r#"
[presets.server.pong]
port = "0"
mode = "auto-reply"
reply = 'pong\n'
"#,
    );
    let start = |more: &[&str]| {
        let mut args = vec!["serve", "--preset", "pong", "--once"];
        args.extend(more);
        ServeProcess::spawn(home.netdeck(&args))
    };

    let mut serve = start(&[]);
    assert_eq!(serve.addr.ip().to_string(), "127.0.0.1");
    let mut client = connect(serve.addr);
    client.write_all(b"ping").unwrap();
    assert_eq!(read_exact(&mut client, 5), b"pong\n");
    drop(client);
    assert_eq!(serve.finish().1, 0);

    // --echo replaces the preset's mode.
    let mut serve = start(&["--echo"]);
    let mut client = connect(serve.addr);
    client.write_all(b"ping").unwrap();
    assert_eq!(read_exact(&mut client, 4), b"ping");
    drop(client);
    assert_eq!(serve.finish().1, 0);
}

#[test]
fn the_settings_file_is_found_through_xdg_config_home_then_home() {
    let home_dir = TempDir::new("home");
    let expected = |file: &std::path::Path| {
        format!(
            "netdeck: preset: no http preset `x` in {}; no http presets are saved there\n\
             hint: In the window, fill in the HTTP tab, name the preset in the Settings tab and press Save HTTP.\n",
            file.display()
        )
    };
    let config_home = ConfigHome::empty();
    let (code, _, stderr) = config_home.run(&["http", "--preset", "x"]);
    assert_eq!((code, stderr), (2, expected(&config_home.file())));

    let in_home = home_dir.join(".config/netdeck/config.toml");
    for xdg in [None, Some("relative/folder"), Some("")] {
        let mut command = config_home.netdeck(&["http", "--preset", "x"]);
        command.env("HOME", &home_dir.path);
        match xdg {
            Some(value) => command.env("XDG_CONFIG_HOME", value),
            None => command.env_remove("XDG_CONFIG_HOME"),
        };
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            expected(&in_home),
            "{xdg:?}"
        );
    }
}

#[test]
fn dash_dash_config_names_another_settings_file_before_or_after_the_command() {
    let (listener, addr) = loopback_listener();
    let elsewhere = TempDir::new("kiosk-config");
    let file = elsewhere.join("kiosk.toml");
    std::fs::write(
        &file,
        format!("[presets.http.status]\nurl = \"http://{addr}/status\"\n"),
    )
    .unwrap();
    // The usual file has no such preset.
    let home = ConfigHome::empty();
    let file = file.to_str().unwrap();
    for args in [
        ["--config", file, "http", "--preset", "status"],
        ["http", "--preset", "status", "--config", file],
    ] {
        let listener = listener.try_clone().unwrap();
        let server = one_request(listener);
        let (code, stdout, stderr) = home.run(&args);
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}");
        assert_eq!(stdout, b"arrived");
        assert_eq!(server.join().unwrap().0[0], "GET /status HTTP/1.1");
    }
}

#[test]
fn system_presets_run_from_the_command_line_before_the_users_own() {
    let (listener, addr) = loopback_listener();
    let home = ConfigHome::with_file(&format!(
        "[presets.http.status]\nurl = \"http://{addr}/user\"\n[presets.http.mine]\nurl = \"http://{addr}/mine\"\n"
    ));
    std::fs::write(
        home.system_file(),
        format!("[presets.http.status]\nurl = \"http://{addr}/system\"\n"),
    )
    .unwrap();
    for (preset, path) in [("status", "/system"), ("mine", "/mine")] {
        let server = one_request(listener.try_clone().unwrap());
        let (code, stdout, stderr) = home.run(&["http", "--preset", preset]);
        assert_eq!((code, stderr.as_str()), (0, ""), "{preset}");
        assert_eq!(stdout, b"arrived");
        assert_eq!(server.join().unwrap().0[0], format!("GET {path} HTTP/1.1"));
    }

    // A system file that cannot be used is said, and the user's presets still work.
    std::fs::write(home.system_file(), "[presets.http.status\n").unwrap();
    let server = one_request(listener);
    let (code, _, stderr) = home.run(&["http", "--preset", "status"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.starts_with("netdeck: warning: cannot use the system presets in "),
        "{stderr}"
    );
    assert_eq!(server.join().unwrap().0[0], "GET /user HTTP/1.1");
}

#[test]
fn an_unusable_settings_file_is_reported_backed_up_and_left_alone() {
    let original = "[presets.http.api]\nurl = 'http://127.0.0.1/'\nmethod = GET\n";
    let home = ConfigHome::with_file(original);
    let file = home.file();
    let (code, stdout, stderr) = home.run(&["http", "--preset", "api"]);
    assert_eq!(
        stderr,
        format!(
            "netdeck: warning: cannot use {0}: line 3, column 10: string values must be quoted, expected literal string; using the default settings; the file is kept as {0}.bak\n\
             netdeck: preset: no http preset `api` in {0}; no http presets are saved there\n\
             hint: In the window, fill in the HTTP tab, name the preset in the Settings tab and press Save HTTP.\n",
            file.display()
        )
    );
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    assert_eq!(
        std::fs::read_to_string(file.with_extension("toml.bak")).unwrap(),
        original
    );
}

#[test]
fn a_settings_file_that_is_a_fifo_is_reported_not_waited_for() {
    let home = ConfigHome::empty();
    let fifo = home.dir.join("fifo.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let fifo = fifo.to_str().unwrap();
    for command in ["connect", "serve", "http"] {
        let child = (home.netdeck(&[command, "--config", fifo, "--preset", "lab"]))
            .spawn()
            .unwrap();
        // Reading a FIFO with no writer would wait for one forever.
        let _watchdog = common::Watchdog::new(child.id());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "warning: {fifo} is a FIFO, not a file: settings are not read from it or saved to it"
            )),
            "{command}: {stderr}"
        );
        assert!(stderr.contains("preset `lab`"), "{command}: {stderr}");
    }
    let kind = std::fs::symlink_metadata(fifo).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind));
}
