//! A short chaos soak. `tests/peers/chaos.py` runs 100 misbehaving clients for 2 s against
//! `netdeck serve` in each mode (connect, random bytes, floods, half-closes, resets,
//! disconnects; in HTTP mode also partial, malformed, pipelined and oversized requests), then
//! `netdeck http` against hostile servers. `bash bench/soak.sh` is the 60 s version with 500
//! clients and the release build.
//!
//! Each run prints its seed; `NETDECK_SOAK_SEED=N cargo test --locked --test integration soak` makes every
//! client make the same choices again.

use crate::common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const CLIENTS: &str = "100";
const SECONDS: &str = "2";
const WARMUP_SECONDS: &str = "1";
/// A loose bound: a debug build's absolute figures vary, but a leak or a buffer that follows
/// the traffic goes far past it.
const RSS_MAX_MIB: u64 = 64;
/// The driver bounds each of its own waits at 60 s; this only stops a driver that hangs.
const DRIVER_PATIENCE: Duration = Duration::from_secs(600);

fn seed() -> u64 {
    match std::env::var("NETDECK_SOAK_SEED") {
        Ok(text) => text.parse().expect("NETDECK_SOAK_SEED is a number"),
        Err(_) => {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            u64::from(nanos ^ std::process::id())
        }
    }
}

/// Runs `tests/peers/chaos.py` with these arguments and returns its report. Its own output is
/// printed, so a failing test shows it.
fn chaos(args: &[&str]) -> Value {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let report = std::env::temp_dir().join(format!(
        "netdeck-chaos-{}-{}.json",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let script: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "peers", "chaos.py"]
        .iter()
        .collect();
    let child = Command::new("python3")
        .arg(script)
        .args(args)
        .arg("--json")
        .arg(&report)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let pid = child.id() as libc::pid_t;
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(DRIVER_PATIENCE).is_err() {
            // SAFETY: the child is not reaped before this thread is joined, so the pid is ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let output = child.wait_with_output().expect("the chaos driver runs");
    let _ = done.send(());
    watchdog.join().unwrap();
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|error| panic!("the chaos driver wrote no report ({error}): {output:?}"));
    let _ = std::fs::remove_file(&report);
    let value: Value = serde_json::from_str(&text).expect("the report is JSON");
    assert!(
        output.status.success(),
        "the chaos driver found a failure (see its output above): {:?}",
        output.status
    );
    value
}

fn int(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{value} is a count"))
}

/// `netdeck serve` in `mode` under chaos: still accepts and answers, holds no client, counted
/// every byte it printed, and each client that ended without a reset sent exactly what the
/// server counted for it.
fn soak(mode: &str) {
    let seed = seed();
    let replay = format!(
        "seed {seed}: NETDECK_SOAK_SEED={seed} cargo test --locked --test integration soak"
    );
    println!("chaos {replay}");
    let report = chaos(&[
        "serve",
        env!("CARGO_BIN_EXE_netdeck"),
        "--modes",
        mode,
        "--clients",
        CLIENTS,
        "--duration",
        SECONDS,
        "--warmup",
        WARMUP_SECONDS,
        "--seed",
        &seed.to_string(),
        "--rss-max-mib",
        &RSS_MAX_MIB.to_string(),
    ]);
    let run = &report["modes"][0];
    let server = &run["server"];
    assert_eq!(run["mode"], mode);

    // The chaos happened: every kind of end, on many connections.
    assert!(int(&run["connections"]) >= 100, "{replay}");
    for end in ["half-close", "reset", "disconnect"] {
        assert!(int(&run["ends"][end]) > 0, "no {end} ({replay})");
    }

    assert_eq!(
        run["probe"]["ok"], true,
        "a new client after the chaos: {} ({replay})",
        run["probe"]["detail"]
    );
    assert_eq!(
        int(&server["open_at_end"]),
        0,
        "clients left open ({replay})"
    );
    assert_eq!(
        int(&server["connections"]),
        int(&server["disconnections"]),
        "every `connected` has its `disconnected` ({replay})"
    );
    assert_eq!(
        int(&server["bytes_in_totals"]),
        int(&server["bytes_in_data_lines"]),
        "bytes in: the totals against the data lines ({replay})"
    );
    assert_eq!(
        int(&server["bytes_out_totals"]),
        int(&server["bytes_out_data_lines"]),
        "bytes out: the totals against the data lines ({replay})"
    );
    assert_eq!(int(&server["instance_mismatches"]), 0, "{replay}");
    assert_eq!(server["output_problems"], Value::Array(vec![]), "{replay}");

    assert!(int(&run["graceful_checked"]) > 0, "{replay}");
    for list in [
        "graceful_mismatches",
        "reason_problems",
        "unknown_server_peers",
    ] {
        assert_eq!(run[list], Value::Array(vec![]), "{list} ({replay})");
    }
    assert_eq!(int(&run["server_counted_more_than_sent"]), 0, "{replay}");

    assert_eq!(int(&run["hung"]), 0, "clients waited in vain ({replay})");
    assert_eq!(run["exit_code"], 0, "exit status after SIGTERM ({replay})");
    assert_eq!(run["stderr"], "", "{replay}");
    for when in ["end", "idle"] {
        let kib = int(&run["rss_kib"][when]);
        assert!(
            kib < RSS_MAX_MIB * 1024,
            "resident memory ({when}): {kib} KiB ({replay})"
        );
    }
    assert_eq!(run["ok"], true, "{replay}");
}

#[test]
fn serve_in_manual_mode_survives_chaos() {
    soak("manual");
}

#[test]
fn serve_in_echo_mode_survives_chaos() {
    soak("echo");
}

#[test]
fn serve_in_auto_reply_mode_survives_chaos() {
    soak("reply");
}

#[test]
fn serve_in_http_mode_survives_chaos() {
    soak("http");
}

/// The hostile servers tests/http.rs does not already cover (there: a server that never
/// answers, Content-Length larger than the body then a close, Content-Length smaller than the
/// body, a close in the middle of a chunk). The process must end by itself: the driver kills
/// it after 60 s, which fails `ended`.
#[test]
fn http_ends_with_the_right_error_against_hostile_servers() {
    let cases = [
        // (case, exit code, error line: `{url}` is the URL requested)
        ("trickle-head", 28, "netdeck: GET {url} timed out after 2 s"),
        ("trickle-body", 28, "netdeck: GET {url} timed out after 2 s"),
        (
            "endless-header",
            8,
            "netdeck: bad answer from 127.0.0.1: the head is larger than 64 KiB",
        ),
        (
            "endless-header-lines",
            8,
            "netdeck: bad answer from 127.0.0.1: more than 100 headers",
        ),
        // Not an error: the declared 5 bytes are the body; the endless rest is not read.
        ("length-less", 0, ""),
    ];
    let names: Vec<&str> = cases.iter().map(|(name, _, _)| *name).collect();
    let report = chaos(&[
        "hostile",
        env!("CARGO_BIN_EXE_netdeck"),
        "--timeout",
        "2",
        "--cases",
        &names.join(","),
    ]);
    let results = report["cases"].as_array().expect("a list of cases");
    assert_eq!(results.len(), cases.len());
    for ((name, code, line), result) in cases.iter().zip(results) {
        assert_eq!(result["case"], *name);
        assert_eq!(result["checks"]["ended"], true, "{name}: did not end");
        assert_eq!(result["exit_code"], *code, "{name}: {result}");
        let url = result["url"].as_str().unwrap();
        let error_line = result["error_line"].as_str().unwrap();
        assert!(
            error_line.starts_with(&line.replace("{url}", url)),
            "{name}: {result}"
        );
        // What arrived before the failure was written out, and the error says how much.
        let stdout = result["stdout"].as_str().unwrap();
        match *name {
            "length-less" => assert_eq!(stdout, "hello"),
            "trickle-body" => assert!(
                stdout.bytes().all(|b| b == b'x')
                    && (stdout.is_empty()
                        || error_line.ends_with(&format!(
                            "{} bytes of the body had arrived and were written to standard output",
                            stdout.len()
                        ))
                        || (stdout.len() == 1
                            && error_line.ends_with(
                                "1 byte of the body had arrived and was written to standard output"
                            ))),
                "{name}: {result}"
            ),
            _ => assert_eq!(stdout, "", "{name}"),
        }
        // An upper bound of netdeck's peak (without GNU time it includes the driver's fork).
        let peak_kib = int(&result["peak_rss_kib"]);
        assert!(
            peak_kib < RSS_MAX_MIB * 1024,
            "{name}: peak resident memory {peak_kib} KiB"
        );
    }
}

/// Resident anonymous memory of a process (the heap and stacks, not the pages of its code),
/// from /proc.
fn rss_anon_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("RssAnon in /proc status")
}

/// In HTTP mode each request keeps up to 64 KiB of its body while it arrives. After a burst of
/// uploads, that memory is free, but the allocator kept it: the soak saw a server with no
/// client and 0.5 MiB in use hold 49 MiB. It goes back to the system once the last client
/// has left.
#[test]
fn memory_held_for_a_burst_of_uploads_goes_back_when_the_clients_leave() {
    use std::collections::HashMap;
    use std::io::Write;

    const UPLOADS: usize = 200;
    const BODY: usize = 64 * 1024;
    let mut serve = common::ServeProcess::start(&["--http", "--hex"]);
    let pid = serve.child.id();
    let idle_kib = rss_anon_kib(pid);
    // Each request is one byte short, so the server keeps its 64 KiB body and waits.
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: soak\r\nContent-Length: {}\r\n\r\n",
        BODY + 1
    );
    let request_len = head.len() + BODY;
    let addr = serve.addr;
    let uploads = std::thread::spawn(move || {
        let body = vec![b'u'; BODY];
        (0..UPLOADS)
            .map(|_| {
                let mut client = common::connect(addr);
                client.write_all(head.as_bytes()).unwrap();
                client.write_all(&body).unwrap();
                client
            })
            .collect::<Vec<_>>()
    });
    // Every byte of every upload printed means every body is held.
    let mut received: HashMap<String, usize> = HashMap::new();
    let mut complete = 0;
    while complete < UPLOADS {
        let line = serve.line();
        // "PEER > 1400 bytes", its dump on the lines under it.
        if let Some((peer, size)) = line.split_once(" > ") {
            let total = received.entry(peer.to_string()).or_default();
            *total += size
                .split(' ')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .expect("a byte count");
            if *total == request_len {
                complete += 1;
            }
        }
    }
    let clients = uploads.join().unwrap();
    let holding_kib = rss_anon_kib(pid);
    assert!(
        holding_kib > idle_kib + 10 * 1024,
        "{UPLOADS} bodies of 64 KiB held: {idle_kib} KiB idle, {holding_kib} KiB holding"
    );
    drop(clients);
    let mut ended = 0;
    while ended < UPLOADS {
        if serve.line().starts_with("- ") {
            ended += 1;
        }
    }
    let after_kib = rss_anon_kib(pid);
    println!(
        "resident anonymous memory: {idle_kib} KiB idle, {holding_kib} KiB holding, {after_kib} KiB after"
    );
    assert!(
        after_kib < idle_kib + 4 * 1024,
        "{after_kib} KiB after the clients left ({idle_kib} KiB before, {holding_kib} KiB holding)"
    );
}

/// While `netdeck serve` cannot accept (here: stopped; in the soak: waiting on its output),
/// the kernel completes handshakes and queues them, up to the listen backlog. With std's 128,
/// hundreds of reconnecting clients overflowed it; the kernel then dropped handshakes and
/// reset some connections whose clients had already sent their data and closed, so the
/// server never saw them.
#[test]
fn connections_made_while_serve_cannot_accept_wait_for_it() {
    let somaxconn: usize = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .expect("net.core.somaxconn")
        .trim()
        .parse()
        .unwrap();
    // The kernel caps every backlog at net.core.somaxconn (4096 since Linux 5.4).
    let count = 600.min(somaxconn);
    println!("{count} connections (net.core.somaxconn {somaxconn})");
    let mut serve = common::ServeProcess::start(&[]);
    serve.signal(libc::SIGSTOP);
    let clients: Vec<_> = (0..count)
        .map(|i| {
            let mut client = std::net::TcpStream::connect_timeout(&serve.addr, common::PATIENCE)
                .unwrap_or_else(|error| panic!("connection {i} of {count}: {error}"));
            common::send(&mut client, b"queued");
            client
        })
        .collect();
    serve.signal(libc::SIGCONT);
    drop(clients);
    let mut ended = 0;
    while ended < count {
        let line = serve.line();
        if line.starts_with("- ") {
            assert!(line.ends_with("disconnected (6 bytes in, 0 out)"), "{line}");
            ended += 1;
        }
    }
    serve.signal(libc::SIGTERM);
    let (rest, code) = serve.finish();
    assert_eq!((rest, code), (vec!["stopped".to_string()], 0));
}

/// When the output is slower than the clients (as `serve` is under the soak), every client
/// must still get its turn: in the soak one client's 16 KiB went unreported for a minute while
/// the others' events flowed. A task woken for a free place in the event queue found it taken
/// by a task that had not waited, every time. Here 32 clients flood `serve --hex`; a client
/// that then sends one byte must be heard within a few rounds of the others.
#[test]
fn a_client_is_heard_while_others_flood_serve() {
    use std::collections::HashSet;
    use std::io::Write;

    const FLOODERS: usize = 32;
    let mut serve = common::ServeProcess::start(&[]);
    let addr = serve.addr;
    let flooders: Vec<_> = (0..FLOODERS)
        .map(|_| {
            let mut flood = common::connect(addr);
            let me = flood.local_addr().unwrap().to_string();
            std::thread::spawn(move || {
                let chunk = [b'f'; 16 * 1024];
                while flood.write_all(&chunk).is_ok() {}
            });
            me
        })
        .collect();
    // The flood is on once every flooder's data has been printed.
    let mut heard = HashSet::new();
    while heard.len() < FLOODERS {
        let line = serve.line();
        if let Some((peer, _)) = line.split_once(" > ") {
            heard.insert(peer.to_string());
        }
    }
    assert!(flooders.iter().all(|peer| heard.contains(peer)));
    let mut client = common::connect(addr);
    let mine = format!("{} > x", client.local_addr().unwrap());
    common::send(&mut client, b"x");
    let limit = 50 * FLOODERS;
    let waited = (1..=limit).find(|_| serve.line() == mine);
    println!("heard after {waited:?} lines ({FLOODERS} flooding clients)");
    assert!(
        waited.is_some(),
        "the byte was not printed within {limit} lines"
    );
}
