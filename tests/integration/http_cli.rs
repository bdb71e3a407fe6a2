//! `netdeck http` as a curl user drives it, against servers netdeck did not write: nginx for
//! files of any size, Python for what they cannot do (odd
//! statuses, a server that stalls, a request echoed back).

use crate::common;

use std::io::{Read, Write};
use std::process::Stdio;

use common::servers::Nginx;
use common::{Peer, TempDir, netdeck};
use netdeck::forms::parse::parse_url;
use netdeck::net::http::{HttpAgent, HttpOptions, HttpRequest};

/// Bytes that differ everywhere, so a shifted or repeated block shows.
pub fn pattern(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `netdeck http ARGS` with a closed port as the only proxy in the environment, so nothing
/// here can reach a proxy by accident; returns (exit code, stdout, stderr).
pub fn http(args: &[&str]) -> (i32, Vec<u8>, String) {
    let mut full = vec!["http"];
    full.extend_from_slice(args);
    let output = netdeck(&full)
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .expect("netdeck runs");
    (
        output.status.code().expect("exited"),
        output.stdout,
        text(&output.stderr),
    )
}

#[test]
fn any_status_from_100_to_999_arrives_with_the_servers_reason() {
    let peer = Peer::http(&[]);
    for code in ["444", "499", "520", "599", "299", "999", "418"] {
        let url = format!("http://{}/status/{code}", peer.addr);
        let (exit, out, err) = http(&["-i", "-H", "X-Reason: Odd Reason Here", &url]);
        assert_eq!(exit, 0, "{code}: {err}");
        let out = text(&out);
        assert!(
            out.starts_with(&format!("HTTP/1.1 {code} Odd Reason Here\r\n")),
            "{code}: {out}"
        );
        assert!(out.ends_with("\r\n\r\nodd"), "{code}: {out}");
    }
    // The library, as the window uses it, keeps the code and the reason too.
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    let request = HttpRequest {
        method: "GET".into(),
        url: parse_url(&format!("http://{}/status/599", peer.addr)).unwrap(),
        headers: vec![("X-Reason".into(), "Network Connect Timeout Error".into())],
        omitted: Vec::new(),
        body: Default::default(),
    };
    let response = smol::block_on(session.send(&request, None)).unwrap();
    assert_eq!(response.status, 599);
    assert_eq!(response.reason, "Network Connect Timeout Error");
    assert_eq!(response.body, b"odd");
}

#[test]
fn a_status_that_is_not_three_digits_from_100_is_a_bad_answer() {
    let peer = Peer::http(&[]);
    let (exit, _, err) = http(&[&format!("http://{}/status/099", peer.addr)]);
    assert_eq!(exit, 8, "{err}");
    assert!(err.contains("status 099 is not a status code"), "{err}");
}

#[test]
fn files_from_nginx_arrive_whole_however_large() {
    let small = pattern(1024);
    let medium = pattern(5 * 1024 * 1024);
    let large = pattern(200 * 1024 * 1024);
    let nginx = Nginx::start(
        &[
            ("1k.bin", &small),
            ("5m.bin", &medium),
            ("200m.bin", &large),
        ],
        false,
        "",
    );
    let (exit, out, err) = http(&[&nginx.url("/1k.bin")]);
    assert_eq!((exit, out.len()), (0, small.len()), "{err}");
    assert!(out == small);
    let (exit, out, err) = http(&[&nginx.url("/5m.bin")]);
    assert_eq!((exit, out.len()), (0, medium.len()), "{err}");
    assert!(out == medium);
    // Far over what the window keeps (10 MiB): written whole, nothing cut.
    let dir = TempDir::new("download");
    let file = dir.join("200m.bin");
    let (exit, out, err) = http(&["-o", file.to_str().unwrap(), &nginx.url("/200m.bin")]);
    assert_eq!(exit, 0, "{err}");
    assert!(out.is_empty());
    assert!(err.is_empty(), "{err}");
    let written = std::fs::read(&file).unwrap();
    assert_eq!(written.len(), large.len());
    assert!(written == large);
}

#[test]
fn dash_o_upper_names_the_file_after_the_url() {
    let body = pattern(3000);
    let nginx = Nginx::start(&[("report.bin", &body)], false, "");
    let dir = TempDir::new("remote-name");
    let status = netdeck(&["http", "-O", &nginx.url("/report.bin")])
        .current_dir(&dir.path)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::read(dir.join("report.bin")).unwrap() == body);
}

#[test]
fn a_full_disk_is_error_23_naming_where_the_body_went() {
    let nginx = Nginx::start(&[("5m.bin", &pattern(5 * 1024 * 1024))], false, "");
    let full = std::fs::File::create("/dev/full").unwrap();
    let output = netdeck(&["http", &nginx.url("/5m.bin")])
        .stdout(full)
        .output()
        .unwrap();
    let err = text(&output.stderr);
    assert_eq!(output.status.code(), Some(23), "{err}");
    assert!(
        err.starts_with(
            "netdeck: cannot write the body to standard output: No space left on device"
        ),
        "{err}"
    );
    let (exit, _, err) = http(&["-o", "/dev/full", &nginx.url("/5m.bin")]);
    assert_eq!(exit, 23, "{err}");
    assert!(
        err.starts_with("netdeck: cannot write the body to /dev/full"),
        "{err}"
    );
}

#[test]
fn a_body_cut_short_keeps_what_arrived_and_says_how_much() {
    let peer = Peer::http(&[]);
    let (exit, out, err) = http(&["--timeout", "1", &format!("http://{}/stall", peer.addr)]);
    assert_eq!(exit, 28, "{err}");
    assert_eq!(out, b"only ten b");
    assert!(
        err.lines().next().unwrap().ends_with(
            "timed out after 1 s; 10 bytes of the body had arrived and were written to standard output"
        ),
        "{err}"
    );
    let (exit, out, err) = http(&[&format!("http://{}/short", peer.addr)]);
    assert_eq!(exit, 18, "{err}");
    assert_eq!(out, b"only ten b");
    assert!(err.contains("10 bytes of the body had arrived"), "{err}");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let nginx = Nginx::start(&[("5m.bin", &pattern(5 * 1024 * 1024))], false, "");
    let mut child = netdeck(&["http", &nginx.url("/5m.bin")]).spawn().unwrap();
    let mut first = [0u8; 10];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn bodies_are_sent_as_curl_sends_them() {
    let peer = Peer::http(&[]);
    let echo = format!("http://{}/echo", peer.addr);
    let dir = TempDir::new("bodies");
    let file = dir.join("body.txt");
    std::fs::write(&file, "line one\r\nline two\n").unwrap();
    let at_file = format!("@{}", file.display());

    let (_, out, _) = http(&["-d", "a=1", "-d", "b=2", &echo]);
    assert_eq!(
        text(&out),
        "POST\napplication/x-www-form-urlencoded\n\na=1&b=2"
    );
    let (_, out, _) = http(&["-d", &at_file, &echo]);
    assert_eq!(
        text(&out),
        "POST\napplication/x-www-form-urlencoded\n\nline oneline two"
    );
    let (_, out, _) = http(&[
        "--data-binary",
        &at_file,
        "-H",
        "Content-Type: text/plain",
        &echo,
    ]);
    assert_eq!(text(&out), "POST\ntext/plain\n\nline one\r\nline two\n");
    let (_, out, _) = http(&["--data-urlencode", "q=a b&c/é", &echo]);
    assert_eq!(
        text(&out),
        "POST\napplication/x-www-form-urlencoded\n\nq=a%20b%26c%2F%C3%A9"
    );
    let (_, out, _) = http(&["-X", "PUT", "--json", r#"{"on": true}"#, &echo]);
    assert_eq!(text(&out), "PUT\napplication/json\n\n{\"on\": true}");

    // Standard input, however large: past the 128 KiB an argument can hold.
    let big = "x".repeat(300_000);
    let mut child = netdeck(&["http", "--data-binary", "@-", &echo])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(big.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(text(&output.stdout).ends_with(&format!("\n\n{big}")));
}

#[test]
fn form_fields_and_files_go_as_multipart() {
    let peer = Peer::http(&[]);
    let dir = TempDir::new("multipart");
    let file = dir.join("reading.csv");
    std::fs::write(&file, "t,21.5\n").unwrap();
    let (exit, out, err) = http(&[
        "-F",
        "sensor=hall",
        "-F",
        &format!("data=@{};type=text/csv", file.display()),
        &format!("http://{}/echo", peer.addr),
    ]);
    assert_eq!(exit, 0, "{err}");
    let out = text(&out);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("POST"));
    let content_type = lines.next().unwrap();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    let body = out.split_once("\n\n").unwrap().1;
    assert_eq!(
        body,
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"sensor\"\r\n\r\nhall\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"data\"; filename=\"reading.csv\"\r\n\
             Content-Type: text/csv\r\n\r\nt,21.5\n\r\n--{boundary}--\r\n"
        )
    );
}

#[test]
fn credentials_from_dash_u_or_the_url_are_sent_as_basic() {
    let peer = Peer::http(&[]);
    let (_, out, _) = http(&[
        "-u",
        "user:pass",
        &format!("http://{}/authorization", peer.addr),
    ]);
    assert_eq!(text(&out), "Basic dXNlcjpwYXNz");
    let (_, out, _) = http(&[&format!("http://user:pass@{}/authorization", peer.addr)]);
    assert_eq!(text(&out), "Basic dXNlcjpwYXNz");
    // Not to another origin on a redirect.
    let (_, out, _) = http(&[&format!(
        "http://user:pass@{}/redirect/other-origin",
        peer.addr
    )]);
    assert_eq!(text(&out), "none");
}

#[test]
fn curls_header_spellings_add_remove_and_empty_headers() {
    let peer = Peer::http(&[]);
    let url = format!("http://{}/headers", peer.addr);
    let (_, out, _) = http(&[
        "-A",
        "bench-agent/2",
        "-e",
        "http://referrer.example/",
        "-H",
        "Accept:",
        "-H",
        "X-Empty;",
        &url,
    ]);
    let out = text(&out);
    assert!(out.contains("User-Agent: bench-agent/2\n"), "{out}");
    assert!(out.contains("Referer: http://referrer.example/\n"), "{out}");
    assert!(!out.contains("Accept:"), "{out}");
    assert!(
        out.contains("X-Empty: \n") || out.contains("X-Empty:\n"),
        "{out}"
    );
}

#[test]
fn head_include_write_out_and_silent_work_as_in_curl() {
    let nginx = Nginx::start(&[("a.txt", b"hello")], false, "");
    let (exit, out, _) = http(&["-I", &nginx.url("/a.txt")]);
    assert_eq!(exit, 0);
    let out = text(&out);
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.contains("Content-Length: 5\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\n"), "{out}");
    let (_, out, _) = http(&[
        "-w",
        "%{http_code} %{size_download} %{content_type} %{num_redirects}\\n",
        "-o",
        "/dev/null",
        &nginx.url("/a.txt"),
    ]);
    assert_eq!(text(&out), "200 5 text/plain 0\n");
    let (exit, out, err) = http(&["-s", "-f", &nginx.url("/missing")]);
    assert_eq!((exit, out.as_slice(), err.as_str()), (22, &b""[..], ""));
    let (exit, _, err) = http(&["-s", "-S", "-f", &nginx.url("/missing")]);
    assert_eq!(exit, 22);
    assert!(err.starts_with("netdeck: HTTP 404 Not Found"), "{err}");
    let (exit, _, _) = http(&["--timeout", "0", &nginx.url("/a.txt")]);
    assert_eq!(exit, 0);
}

#[test]
fn verbose_shows_every_hops_heads() {
    let peer = Peer::http(&[]);
    let (exit, out, err) = http(&["-v", &format!("http://{}/redirect/absolute", peer.addr)]);
    assert_eq!(exit, 0, "{err}");
    assert_eq!(text(&out), "arrived");
    assert!(err.contains("> GET /redirect/absolute HTTP/1.1\n"), "{err}");
    assert!(
        err.contains("< HTTP/1.0 302 Found\n") || err.contains("< HTTP/1.1 302 Found\n"),
        "{err}"
    );
    assert!(err.contains("> GET /target HTTP/1.1\n"), "{err}");
}

#[test]
fn retry_tries_again_after_a_transient_answer() {
    let peer = Peer::http(&[]);
    let (exit, out, err) = http(&["--retry", "2", &format!("http://{}/flaky?key=a", peer.addr)]);
    assert_eq!(exit, 0, "{err}");
    assert_eq!(text(&out), "ready");
    assert!(
        err.contains("the server answered 503; trying again in 1 s"),
        "{err}"
    );
    // Without --retry the 503 is the answer.
    let (exit, out, _) = http(&[&format!("http://{}/flaky?key=b", peer.addr)]);
    assert_eq!((exit, text(&out).as_str()), (0, "busy"));
}

#[test]
fn repeat_with_fail_exits_22_when_an_answer_is_an_error() {
    let nginx = Nginx::start(&[("a.txt", b"hello")], false, "");
    let (exit, out, _) = http(&["--repeat", "3", "--fail", &nginx.url("/missing")]);
    assert_eq!(exit, 22);
    assert!(text(&out).contains("status: 404 × 3"));
    let (exit, _, _) = http(&["--repeat", "3", "--fail", &nginx.url("/a.txt")]);
    assert_eq!(exit, 0);
}

#[test]
fn a_binary_body_is_not_written_to_a_terminal_unless_asked() {
    let peer = Peer::http(&[]);
    let url = format!("http://{}/binary", peer.addr);
    // A pseudo-terminal as standard output, as in an interactive shell.
    let script = "import os, pty, subprocess, sys\n\
         main, side = pty.openpty()\n\
         code = subprocess.call([sys.argv[1], 'http'] + sys.argv[2:], stdout=side, stderr=subprocess.PIPE)\n\
         os.close(side)\n\
         shown = b''\n\
         while True:\n\
         \x20   try: chunk = os.read(main, 4096)\n\
         \x20   except OSError: break\n\
         \x20   if not chunk: break\n\
         \x20   shown += chunk\n\
         print(code, len(shown))\n";
    let run = |args: &[&str]| {
        let output = std::process::Command::new("python3")
            .args(["-c", script, env!("CARGO_BIN_EXE_netdeck")])
            .args(args)
            .output()
            .unwrap();
        text(&output.stdout).trim().to_string()
    };
    assert_eq!(run(&[&url]), "23 0");
    let forced = run(&["-o", "-", &url]);
    assert!(forced.starts_with("0 "), "{forced}");
    assert_ne!(forced, "0 0");
}

#[test]
fn compressed_answers_are_asked_for_and_decoded_with_dash_dash_compressed() {
    let page = "A line of text that compresses well.\n".repeat(4000);
    let dir = TempDir::new("encodings");
    let plain = dir.join("page.txt");
    std::fs::write(&plain, &page).unwrap();
    let made = std::process::Command::new("brotli")
        .arg("-o")
        .arg(dir.join("page.br"))
        .arg(&plain)
        .status()
        .expect("brotli runs (apt-get install brotli)");
    assert!(made.success());
    let deflated = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))",
        ])
        .stdin(std::fs::File::open(&plain).unwrap())
        .output()
        .unwrap()
        .stdout;
    let brotli = std::fs::read(dir.join("page.br")).unwrap();
    let nginx = Nginx::start(
        &[
            ("page.txt", page.as_bytes()),
            ("page.br", &brotli),
            ("page.zz", &deflated),
        ],
        false,
        "location ~ \\.br$ { default_type text/plain; add_header Content-Encoding br; gzip off; }\n\
         location ~ \\.zz$ { default_type text/plain; add_header Content-Encoding deflate; gzip off; }",
    );
    // gzip, from nginx's own gzip module, only when asked for.
    let (exit, out, err) = http(&["-i", "--compressed", &nginx.url("/page.txt")]);
    assert_eq!(exit, 0, "{err}");
    let out = text(&out);
    assert!(
        out.contains("Content-Encoding: gzip\r\n"),
        "{}",
        &out[..300]
    );
    assert!(out.ends_with(&page));
    let (_, out, _) = http(&["-i", &nginx.url("/page.txt")]);
    assert!(!text(&out).contains("Content-Encoding"));
    for name in ["/page.br", "/page.zz"] {
        let (exit, out, err) = http(&["--compressed", &nginx.url(name)]);
        assert_eq!(exit, 0, "{name}: {err}");
        assert!(text(&out) == page, "{name}");
    }
    // The library reports both sizes, as the window shows them.
    let session = HttpAgent::new(HttpOptions {
        compressed: true,
        ..HttpOptions::default()
    })
    .unwrap();
    let request = HttpRequest {
        method: "GET".into(),
        url: parse_url(&nginx.url("/page.br")).unwrap(),
        headers: Vec::new(),
        omitted: Vec::new(),
        body: Default::default(),
    };
    let response = smol::block_on(session.send(&request, None)).unwrap();
    assert_eq!(response.body_bytes, page.len() as u64);
    assert_eq!(response.encoded_bytes, Some(brotli.len() as u64));
}

#[test]
fn a_compressed_body_that_does_not_decode_is_a_bad_answer() {
    let nginx = Nginx::start(
        &[("broken.gz", b"this is not gzip at all")],
        false,
        "location ~ \\.gz$ { default_type text/plain; add_header Content-Encoding gzip; gzip off; }",
    );
    let (exit, _, err) = http(&["--compressed", &nginx.url("/broken.gz")]);
    assert_eq!(exit, 8, "{err}");
    assert!(
        err.contains("the gzip-compressed body does not decode"),
        "{err}"
    );
}

#[test]
fn a_cookie_set_on_a_redirect_goes_with_the_next_hop_and_into_the_jar() {
    let peer = Peer::http(&[]);
    let dir = TempDir::new("cookies");
    let jar = dir.join("jar.txt");
    let jar_arg = jar.to_str().unwrap();
    let (exit, out, err) = http(&[
        "-b",
        jar_arg,
        "-c",
        jar_arg,
        &format!("http://{}/cookie/set-and-redirect", peer.addr),
    ]);
    assert_eq!(exit, 0, "{err}");
    assert_eq!(text(&out), "theme=dark; token=xyz");
    let saved = std::fs::read_to_string(&jar).unwrap();
    assert!(saved.starts_with("# Netscape HTTP Cookie File"), "{saved}");
    assert!(
        saved.contains("#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\ttoken\txyz\n"),
        "{saved}"
    );
    // The next run starts from the jar; `-b` with `=` sends cookies as given.
    let show = format!("http://{}/cookie/show", peer.addr);
    let (_, out, _) = http(&["-b", jar_arg, &show]);
    assert_eq!(text(&out), "theme=dark; token=xyz");
    let (_, out, _) = http(&["-b", "a=1; b=2", &show]);
    assert_eq!(text(&out), "a=1; b=2");
    let (exit, _, err) = http(&["-c", "/nonexistent/jar.txt", &show]);
    assert_eq!(exit, 2);
    assert!(err.starts_with("netdeck: cookie-jar: the folder /nonexistent does not exist"));
}

/// Runs netdeck to its end under GNU time; (exit code, stdout, its peak resident memory in
/// KiB). A child's peak counts what it held before exec, so netdeck is started by GNU time, a
/// small process, not forked from this large one.
fn run_measured(args: &[&str]) -> (i32, String, u64) {
    let dir = TempDir::new("measured");
    let report = dir.join("peak");
    let output = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&report)
        .arg(env!("CARGO_BIN_EXE_netdeck"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("GNU time runs (apt-get install time)");
    let peak = std::fs::read_to_string(&report).unwrap();
    (
        output.status.code().unwrap(),
        text(&output.stdout),
        peak.trim().lines().last().unwrap().parse().unwrap(),
    )
}

#[test]
fn a_large_upload_is_read_from_its_file_as_it_is_sent() {
    let peer = Peer::http(&[]);
    let dir = TempDir::new("upload");
    let file = dir.join("big.bin");
    let body = pattern(150 * 1024 * 1024);
    std::fs::write(&file, &body).unwrap();
    let expected = {
        let digest = std::process::Command::new("sha256sum")
            .arg(&file)
            .output()
            .unwrap();
        text(&digest.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    drop(body);
    let url = format!("http://{}/digest", peer.addr);
    let at_file = format!("@{}", file.display());
    let (exit, out, peak_kib) = run_measured(&["http", "--data-binary", &at_file, &url]);
    assert_eq!(exit, 0);
    assert_eq!(out, format!("{} {expected}", 150 * 1024 * 1024));
    // Held in memory it would be 150 MiB at least.
    assert!(peak_kib < 64 * 1024, "peak resident memory {peak_kib} KiB");
    let form = format!("upload=@{}", file.display());
    let (exit, _, peak_kib) = run_measured(&["http", "-F", &form, &url]);
    assert_eq!(exit, 0);
    assert!(peak_kib < 64 * 1024, "peak resident memory {peak_kib} KiB");
}

#[test]
fn a_redirect_to_a_location_outside_ascii_is_followed() {
    // Found by fuzzing: the answer was taken for a redirect to follow and its body dropped.
    let peer = Peer::http(&[]);
    let (exit, out, err) = http(&[&format!("http://{}/redirect/non-ascii", peer.addr)]);
    assert_eq!(exit, 0, "{err}");
    assert_eq!(text(&out), "café reached");
}
