//! `netdeck serve` as a user runs it: output lines, signals, exit codes, bad input.

use crate::common;

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;

use common::{ServeProcess, connect, netdeck, read_exact, send};

/// Runs `netdeck` to its end: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let output = netdeck(args).output().expect("netdeck runs");
    (
        output.status.code().expect("exited, not killed"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn prints_one_line_per_event_and_stops_cleanly_on_sigint() {
    let mut serve = ServeProcess::start(&["--echo"]);
    let mut client = connect(serve.addr);
    let peer = client.local_addr().unwrap();
    assert_eq!(serve.line(), format!("+ {peer} connected"));
    send(&mut client, b"hello\x00\r\n");
    assert_eq!(read_exact(&mut client, 8), b"hello\x00\r\n");
    assert_eq!(serve.line(), format!(r"{peer} > hello\x00\r\n"));
    assert_eq!(serve.line(), format!(r"{peer} < hello\x00\r\n"));
    drop(client);
    assert_eq!(
        serve.line(),
        format!("- {peer} disconnected (8 bytes in, 8 out)")
    );

    let _still_connected = connect(serve.addr);
    serve.line_where(|line| line.ends_with("connected"));
    serve.signal(libc::SIGINT);
    let (rest, code) = serve.finish();
    assert_eq!(code, 0);
    assert!(
        rest[0].contains("disconnected, server stopped (0 bytes in, 0 out)"),
        "{rest:?}"
    );
    assert_eq!(rest.last().unwrap(), "stopped");
}

#[test]
fn sigterm_stops_cleanly_too() {
    let mut serve = ServeProcess::start(&[]);
    serve.signal(libc::SIGTERM);
    let (rest, code) = serve.finish();
    assert_eq!((rest, code), (vec!["stopped".to_string()], 0));
}

#[test]
fn once_serves_one_client_and_exits_when_it_leaves() {
    let mut serve = ServeProcess::start(&["--once"]);
    let mut client = connect(serve.addr);
    serve.line_where(|line| line.ends_with("connected"));
    send(&mut client, b"the seed's flow");
    serve.line_where(|line| line.ends_with("> the seed's flow"));
    drop(client);
    let (rest, code) = serve.finish();
    assert_eq!(code, 0);
    assert!(
        rest[0].ends_with("disconnected (15 bytes in, 0 out)"),
        "{rest:?}"
    );
    assert_eq!(rest.last().unwrap(), "stopped");
}

#[test]
fn hex_prints_data_as_hex_bytes() {
    let mut serve = ServeProcess::start(&["--hex"]);
    let mut client = connect(serve.addr);
    let peer = client.local_addr().unwrap();
    send(&mut client, b"Hi\n");
    serve.line_where(|line| line.ends_with("connected"));
    assert_eq!(serve.line(), format!("{peer} > 3 bytes"));
    assert_eq!(
        serve.line(),
        "  00000000  48 69 0a                                          |Hi.|"
    );
}

#[test]
fn reply_answers_with_its_escapes_decoded() {
    let serve = ServeProcess::start(&["--reply", r"OK\r\n", "--quiet"]);
    let mut client = connect(serve.addr);
    send(&mut client, b"anything");
    assert_eq!(read_exact(&mut client, 4), b"OK\r\n");
}

#[test]
fn quiet_leaves_out_data_but_counts_every_byte() {
    let mut serve = ServeProcess::start(&["--quiet", "--once"]);
    let mut client = connect(serve.addr);
    send(&mut client, &vec![b'q'; 3_000_000]);
    drop(client);
    let (rest, code) = serve.finish();
    assert_eq!(code, 0);
    assert_eq!(rest.len(), 3, "{rest:?}");
    assert!(rest[0].ends_with("connected"));
    assert!(
        rest[1].ends_with("disconnected (3000000 bytes in, 0 out)"),
        "{rest:?}"
    );
}

#[test]
fn a_100_mb_line_without_newline_keeps_memory_bounded_and_loses_nothing() {
    let mut serve = ServeProcess::start(&[]);
    let mut client = connect(serve.addr);
    let peer = client.local_addr().unwrap();
    let chunk = vec![b'z'; 1 << 20];
    let sender = std::thread::spawn(move || {
        for _ in 0..100 {
            send(&mut client, &chunk);
        }
    });
    let prefix = format!("{peer} > ");
    let mut shown = 0usize;
    let last = serve.line_where(|line| {
        if let Some(data) = line.strip_prefix(&prefix) {
            assert!(data.bytes().all(|b| b == b'z'));
            shown += data.len();
        }
        line.starts_with("- ")
    });
    sender.join().unwrap();
    assert_eq!(
        last,
        format!("- {peer} disconnected (104857600 bytes in, 0 out)")
    );
    assert_eq!(shown, 100 << 20, "every received byte was printed");

    let status = std::fs::read_to_string(format!("/proc/{}/status", serve.child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc status");
    assert!(
        peak_kib < 32 * 1024,
        "peak resident memory {peak_kib} KiB for a 100 MiB line"
    );
    serve.signal(libc::SIGTERM);
    assert_eq!(serve.finish().1, 0);
}

#[test]
fn bad_options_name_the_field_and_start_nothing() {
    for (args, field_message) in [
        (
            vec!["serve", "--port", "70000"],
            "port: 70000 is not a port number (0 to 65535)",
        ),
        (
            vec!["serve", "--port", "http"],
            "port: `http` is not a port number (0 to 65535)",
        ),
        (
            vec!["serve", "--bind", "localhost:80"],
            "bind: `localhost:80` is not an IP address",
        ),
        (
            vec!["serve", "--bind", "300.1.1.1"],
            "bind: `300.1.1.1` is not an IP address",
        ),
        (
            vec!["serve", "--max-clients", "0"],
            "max-clients: `0` is not a client count",
        ),
        (
            vec!["serve", "--reply", r"ok\x4"],
            r"reply: `\x` needs exactly two hex digits, like `\x0a` at column 3",
        ),
    ] {
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?} started something: {stdout}");
        assert!(stderr.contains(field_message), "{args:?}: {stderr}");
        assert!(stderr.contains("hint: "), "{args:?}: {stderr}");
    }
}

#[test]
fn conflicting_modes_are_refused_by_the_parser() {
    let (code, stdout, stderr) = run(&["serve", "--echo", "--reply", "x"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

#[test]
fn bind_errors_exit_45_with_their_own_message() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, _, stderr) = run(&["serve", "--port", &port]);
    assert_eq!(code, 45);
    assert!(
        stderr.contains(&format!("another program is using port {port}")),
        "{stderr}"
    );

    let (code, _, stderr) = run(&["serve", "--bind", "192.0.2.1", "--port", "0"]);
    assert_eq!(code, 45);
    assert!(
        stderr.contains("192.0.2.1 is not an address of this machine"),
        "{stderr}"
    );
}

#[test]
fn a_privileged_port_without_privilege_is_permission_denied() {
    let unprivileged_start: u16 =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
            .map(|s| s.trim().parse().unwrap())
            .unwrap_or(1024);
    assert!(
        unprivileged_start > 1,
        "this system lets anyone bind port 1 (net.ipv4.ip_unprivileged_port_start = {unprivileged_start})"
    );
    let mut command = netdeck(&["serve", "--port", "1"]);
    // SAFETY: getuid has no preconditions.
    let _copy = if unsafe { libc::getuid() } == 0 {
        // Root may bind anything: run as `nobody`, from a copy it may execute wherever the
        // build directory lives.
        let dir = std::env::temp_dir().join(format!("netdeck-unprivileged-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("netdeck");
        std::fs::copy(env!("CARGO_BIN_EXE_netdeck"), &binary).unwrap();
        for path in [&dir, &binary] {
            std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        command = std::process::Command::new(&binary);
        command
            .args(["serve", "--port", "1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .uid(65534)
            .gid(65534);
        Some(RemoveOnDrop(dir))
    } else {
        None
    };
    let mut child = command.spawn().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(45), "{stderr}");
    assert!(
        stderr.contains("cannot listen on 127.0.0.1:1: permission denied"),
        "{stderr}"
    );
    assert!(stderr.contains("Ports below 1024"), "{stderr}");
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn random_bytes_print_as_escapes_without_stray_glyphs_and_text_as_itself() {
    let mut serve = ServeProcess::start(&[]);
    let mut client = connect(serve.addr);
    let peer = client.local_addr().unwrap();
    serve.line_where(|line| line.ends_with("connected"));
    send(&mut client, b"\x8a\xd6\x8cye\xcd\x93\x1b[2J\xff");
    assert_eq!(
        serve.line(),
        format!(r"{peer} > \x8a\xd6\x8cye\xcd\x93\x1b[2J\xff")
    );
    send(&mut client, "grüße ✓\n".as_bytes());
    assert_eq!(serve.line(), format!(r"{peer} > grüße ✓\n"));
}

#[test]
fn a_port_held_only_in_time_wait_is_told_as_such() {
    // A client socket without SO_REUSEADDR that closes first leaves its port in TIME-WAIT,
    // which keeps even a listener with SO_REUSEADDR off it.
    let script = "import socket\n\
                  server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen()\n\
                  client = socket.socket(); client.bind(('127.0.0.1', 0))\n\
                  client.connect(server.getsockname())\n\
                  accepted, _ = server.accept()\n\
                  print(client.getsockname()[1], flush=True)\n\
                  client.close(); accepted.recv(1); accepted.close()\n";
    let output = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 runs");
    let port = String::from_utf8(output.stdout).unwrap().trim().to_string();
    let (code, _, stderr) = run(&["serve", "--port", &port]);
    assert_eq!(code, 45, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "netdeck: cannot listen on 127.0.0.1:{port}: port {port} is still held by connections that closed moments ago (TIME-WAIT)"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("hint: Wait a minute"), "{stderr}");
}

#[test]
fn the_servers_own_closed_connections_do_not_keep_it_off_its_port() {
    let serve = ServeProcess::start(&["--http", "--quiet"]);
    let port = serve.addr.port();
    // The server closes first after answering: its side of the connection stays in
    // TIME-WAIT.
    let mut client = connect(serve.addr);
    send(
        &mut client,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    let mut answer = Vec::new();
    client.read_to_end(&mut answer).unwrap();
    drop(client);
    drop(serve);
    assert!(netdeck::net::error::held_only_in_time_wait(port));
    let again = ServeProcess::spawn(netdeck(&["serve", "--port", &port.to_string()]));
    assert_eq!(again.addr.port(), port);
}
