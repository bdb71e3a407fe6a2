//! HTTP requests over loopback against Python's servers (HTTP/1.0 `http.server`, an HTTP/1.1
//! server of routes, HTTPS) and netdeck's own server in HTTP mode, with curl as a second
//! client of it.

use crate::common;

use std::time::Duration;

use common::{Peer, Pki, assert_self_signed_or_unknown_authority, run_netdeck};
use netdeck::forms::parse::parse_url;
use netdeck::net::NetError;
use netdeck::net::http::{HttpAgent, HttpOptions, HttpRequest, HttpResponse};
use netdeck::net::tls::TlsOptions;

pub fn get(url: &str) -> HttpRequest {
    request("GET", url, b"")
}

pub fn request(method: &str, url: &str, body: &[u8]) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        url: parse_url(url).unwrap(),
        headers: Vec::new(),
        omitted: Vec::new(),
        body: body.to_vec().into(),
    }
}

pub fn send(session: &HttpAgent, request: &HttpRequest) -> Result<HttpResponse, NetError> {
    smol::block_on(session.send(request, None))
}

fn fetch(peer: &Peer, path: &str) -> HttpResponse {
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    send(&session, &get(&format!("http://{}{path}", peer.addr))).expect("the request succeeds")
}

fn header<'a>(response: &'a HttpResponse, name: &str) -> Option<&'a str> {
    response
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Python's `http.server` serving a directory: HTTP/1.0 answers, closed after each.
struct FileServer {
    peer: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl FileServer {
    fn start(files: &[(&str, &[u8])]) -> Self {
        use std::io::BufRead;
        let dir = std::env::temp_dir().join(format!(
            "netdeck-www-{}-{}",
            std::process::id(),
            files.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        let mut peer = std::process::Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(&dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(peer.stdout.take().unwrap());
        let first = common::read_line(&mut lines);
        // "Serving HTTP on 127.0.0.1 port 43210 (http://127.0.0.1:43210/) ..."
        let port = first
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("http.server said {first:?}"));
        std::thread::spawn(move || for _ in lines.lines() {});
        FileServer { peer, port, dir }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.peer.kill();
        let _ = self.peer.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn files_from_pythons_http_server_arrive_over_http_1_0() {
    let binary: Vec<u8> = (0..=255).cycle().take(300_000).collect();
    let server = FileServer::start(&[("hello.txt", b"hello file\n"), ("data.bin", &binary)]);
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    let base = format!("http://127.0.0.1:{}", server.port);

    let text = send(&session, &get(&format!("{base}/hello.txt"))).unwrap();
    assert_eq!((text.status, text.version.as_str()), (200, "HTTP/1.0"));
    assert_eq!(text.body, b"hello file\n");
    assert_eq!(header(&text, "content-type"), Some("text/plain"));

    let data = send(&session, &get(&format!("{base}/data.bin"))).unwrap();
    assert_eq!(data.body_bytes, 300_000);
    assert!(data.body == binary);

    let missing = send(&session, &get(&format!("{base}/missing"))).unwrap();
    assert_eq!(missing.status, 404);

    let (code, stdout, stderr) = run_netdeck(&["http", &format!("{base}/hello.txt")]);
    assert_eq!(
        (code, stdout.as_slice()),
        (0, &b"hello file\n"[..]),
        "{stderr}"
    );
    let (code, stdout, _) = run_netdeck(&["http", &format!("{base}/missing"), "--fail"]);
    assert_eq!((code, stdout.is_empty()), (22, true));
}

#[test]
fn a_chunked_body_is_joined_and_its_trailers_skipped() {
    let peer = Peer::http(&[]);
    let response = fetch(&peer, "/chunked");
    assert_eq!(response.body, b"hello chunked world");
    assert_eq!(response.body_bytes, 19);
}

#[test]
fn keep_alive_reuses_one_connection() {
    let peer = Peer::http(&[]);
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    let url = format!("http://{}/client-port", peer.addr);
    let first = send(&session, &get(&url)).unwrap();
    let second = send(&session, &get(&url)).unwrap();
    assert_eq!(
        first.body, second.body,
        "the same client port: one connection"
    );
    assert!(!first.reused_connection && second.reused_connection);
    assert_eq!(second.timings.connect, Duration::ZERO);
}

#[test]
fn a_connection_with_bytes_after_the_body_is_not_reused() {
    let peer = Peer::http(&[]);
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    let lying = send(&session, &get(&format!("http://{}/too-long", peer.addr))).unwrap();
    assert_eq!(lying.body, b"hello");
    let next = send(&session, &get(&format!("http://{}/target", peer.addr))).unwrap();
    assert_eq!(next.body, b"arrived");
    assert!(!next.reused_connection);
}

#[test]
fn redirects_are_followed_absolute_and_relative() {
    let peer = Peer::http(&[]);
    for path in ["/redirect/absolute", "/redirect/relative"] {
        let response = fetch(&peer, path);
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"arrived"[..]),
            "{path}"
        );
        assert_eq!(response.url.path(), "/target");
        assert_eq!(response.redirects.len(), 1);
    }
}

#[test]
fn see_other_turns_a_post_into_a_get_and_307_keeps_it() {
    let peer = Peer::http(&[]);
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    let see_other = send(
        &session,
        &request(
            "POST",
            &format!("http://{}/redirect/see-other", peer.addr),
            b"data",
        ),
    )
    .unwrap();
    assert_eq!(see_other.body, b"GET ");
    let temporary = send(
        &session,
        &request(
            "POST",
            &format!("http://{}/redirect/temporary", peer.addr),
            b"data",
        ),
    )
    .unwrap();
    assert_eq!(temporary.body, b"POST data");
}

#[test]
fn a_redirect_loop_and_too_many_redirects_are_errors_47() {
    let peer = Peer::http(&[]);
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    let error = send(
        &session,
        &get(&format!("http://{}/redirect/loop-a", peer.addr)),
    )
    .unwrap_err();
    assert!(
        matches!(&error, NetError::RedirectLoop { url } if url.ends_with("/redirect/loop-a")),
        "{error:?}"
    );
    assert_eq!(error.exit_code(), 47);

    let limited = HttpAgent::new(HttpOptions {
        max_redirects: 3,
        ..HttpOptions::default()
    })
    .unwrap();
    let error = send(
        &limited,
        &get(&format!("http://{}/redirect/hops/5", peer.addr)),
    )
    .unwrap_err();
    assert!(
        matches!(error, NetError::TooManyRedirects { limit: 3 }),
        "{error:?}"
    );
    let fine = send(
        &limited,
        &get(&format!("http://{}/redirect/hops/3", peer.addr)),
    )
    .unwrap();
    assert_eq!(fine.body, b"arrived");

    let (code, _, stderr) =
        run_netdeck(&["http", &format!("http://{}/redirect/loop-a", peer.addr)]);
    assert_eq!(code, 47, "{stderr}");
    let (code, stdout, _) = run_netdeck(&[
        "http",
        "-i",
        "--max-redirects",
        "0",
        &format!("http://{}/redirect/absolute", peer.addr),
    ]);
    assert_eq!(code, 0);
    assert!(String::from_utf8_lossy(&stdout).starts_with("HTTP/1.1 302 Found"));
}

#[test]
fn no_content_and_head_have_no_body() {
    let peer = Peer::http(&[]);
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    let empty = send(&session, &get(&format!("http://{}/no-content", peer.addr))).unwrap();
    assert_eq!((empty.status, empty.body_bytes), (204, 0));
    let head = send(
        &session,
        &request("HEAD", &format!("http://{}/target", peer.addr), b""),
    )
    .unwrap();
    assert_eq!((head.status, head.body_bytes), (200, 0));
    assert_eq!(header(&head, "content-length"), Some("7"));
    // The connection is still in step: the next answer is the right one.
    let after = send(&session, &get(&format!("http://{}/target", peer.addr))).unwrap();
    assert_eq!(after.body, b"arrived");
}

#[test]
fn a_server_that_never_answers_hits_the_deadline_28() {
    let peer = Peer::http(&[]);
    let session = HttpAgent::new(HttpOptions {
        timeout: Duration::from_millis(500),
        ..HttpOptions::default()
    })
    .unwrap();
    let error = send(&session, &get(&format!("http://{}/hang", peer.addr))).unwrap_err();
    assert!(matches!(error, NetError::Timeout { .. }), "{error:?}");
    assert_eq!(error.exit_code(), 28);
    let (code, _, stderr) = run_netdeck(&[
        "http",
        "--timeout",
        "0.5",
        &format!("http://{}/hang", peer.addr),
    ]);
    assert_eq!(code, 28, "{stderr}");
    assert!(stderr.contains("timed out after 500 ms"), "{stderr}");
}

#[test]
fn a_body_over_the_cap_is_truncated_but_counted() {
    let peer = Peer::http(&[]);
    let session = HttpAgent::new(HttpOptions {
        max_body: 100_000,
        ..HttpOptions::default()
    })
    .unwrap();
    let response = send(
        &session,
        &get(&format!("http://{}/big?n=3000000", peer.addr)),
    )
    .unwrap();
    assert_eq!(response.body.len(), 100_000);
    assert_eq!(response.body_bytes, 3_000_000);
    assert!(response.truncated);
}

#[test]
fn binary_and_non_utf8_bodies_arrive_unchanged() {
    let peer = Peer::http(&[]);
    assert_eq!(fetch(&peer, "/binary").body, (0..=255).collect::<Vec<u8>>());
    assert_eq!(fetch(&peer, "/latin1").body, b"caf\xe9");
    let (code, stdout, _) = run_netdeck(&["http", &format!("http://{}/binary", peer.addr)]);
    assert_eq!(code, 0);
    assert_eq!(stdout, (0..=255).collect::<Vec<u8>>());
}

#[test]
fn a_body_cut_short_is_an_incomplete_answer_18() {
    let peer = Peer::http(&[]);
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    for path in ["/short", "/close-mid-chunk"] {
        let error = send(&session, &get(&format!("http://{}{path}", peer.addr))).unwrap_err();
        assert!(
            matches!(error, NetError::PartialBody { .. }),
            "{path}: {error:?}"
        );
        assert_eq!(error.exit_code(), 18);
    }
}

#[test]
fn https_with_an_untrusted_certificate_is_60_and_a_trusted_ca_gives_200() {
    let pki = Pki::new(&["localhost"], true);
    let peer = Peer::http(&[&pki.cert_path, &pki.key_path]);
    let url = format!("https://localhost:{}/target", peer.addr.port());
    let error = send(&HttpAgent::new(HttpOptions::default()).unwrap(), &get(&url)).unwrap_err();
    assert_self_signed_or_unknown_authority(&error);
    let (code, _, stderr) = run_netdeck(&["http", &url]);
    assert_eq!(code, 60, "{stderr}");

    let trusted = HttpAgent::new(HttpOptions {
        tls: TlsOptions {
            accept_invalid_certificates: false,
            extra_roots: vec![pki.ca_der.clone()],
            ..TlsOptions::default()
        },
        ..HttpOptions::default()
    })
    .unwrap();
    let response = send(&trusted, &get(&url)).unwrap();
    assert_eq!(
        (response.status, response.body.as_slice()),
        (200, &b"arrived"[..])
    );
    assert!(response.timings.tls.is_some());
    let (code, stdout, stderr) =
        run_netdeck(&["http", &url, "--cacert", &pki.ca_pem_path, "--timing"]);
    assert_eq!((code, stdout.as_slice()), (0, &b"arrived"[..]), "{stderr}");
    for phase in ["dns", "connect", "tls", "send", "wait", "receive", "total"] {
        assert!(
            stderr.lines().any(|l| l.starts_with(phase)),
            "{phase} in {stderr}"
        );
    }
}

#[test]
fn bad_http_input_is_refused_with_its_exit_code() {
    for (args, code, message) in [
        (
            vec!["http", "htp://x"],
            3,
            "the scheme `htp` is not supported",
        ),
        (vec!["http", "http://"], 3, "URL http://: not a valid URL"),
        (vec!["http", "http://a b/"], 3, "not a valid URL"),
        (
            vec!["http", "example.com"],
            3,
            "no scheme; did you mean http://example.com",
        ),
        (
            vec!["http", "http://127.0.0.1:9/", "-H", "NoColon"],
            2,
            "header: `NoColon` has no colon",
        ),
        (
            vec!["http", "http://127.0.0.1:9/", "--json", "{\"a\": 1,}"],
            2,
            "json: invalid JSON at line 1 column 9",
        ),
        (
            vec!["http", "http://127.0.0.1:9/", "--timeout", "-1"],
            2,
            "timeout: `-1` is not a number of seconds",
        ),
        (
            vec!["http", "FETCH", "http://127.0.0.1:9/"],
            2,
            "method: `FETCH` is not one of GET, POST",
        ),
        (
            vec!["http", "http://127.0.0.1:9/", "--repeat", "0"],
            2,
            "repeat: `0` is not a count",
        ),
    ] {
        let (exit, stdout, stderr) = run_netdeck(&args);
        assert_eq!(exit, code, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn an_interim_answer_and_the_real_one_in_one_read_are_both_understood() {
    let peer = Peer::http(&[]);
    let response = fetch(&peer, "/early-hints");
    assert_eq!(
        (response.status, response.body.as_slice()),
        (200, &b"hi"[..])
    );
}

#[test]
fn a_header_value_outside_ascii_is_shown_and_never_sent() {
    let peer = Peer::http(&[]);
    let response = fetch(&peer, "/latin1-header");
    assert_eq!(response.body, b"ok");
    assert!(header(&response, "x-name").is_some_and(|v| v.starts_with("caf")));
    let (code, _, stderr) = run_netdeck(&[
        "http",
        &format!("http://{}/target", peer.addr),
        "-H",
        "X-Name: café",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("outside ASCII"), "{stderr}");
}

#[test]
fn progress_reports_the_bytes_of_a_large_body() {
    let peer = Peer::http(&[]);
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    struct Progress(std::sync::Arc<std::sync::atomic::AtomicU64>);
    impl netdeck::net::http::Watcher for Progress {
        fn body(&self, _bytes: &[u8], total: u64) -> Result<(), NetError> {
            self.0.store(total, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        }
    }
    let progress: std::sync::Arc<dyn netdeck::net::http::Watcher> =
        std::sync::Arc::new(Progress(seen.clone()));
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    let big = get(&format!("http://{}/big?n=2000000", peer.addr));
    smol::block_on(session.send(&big, Some(progress))).unwrap();
    assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), 2_000_000);
}

#[test]
fn post_redirect_get_to_the_same_url_is_not_a_loop() {
    let peer = Peer::http(&[]);
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    let response = send(
        &session,
        &request("POST", &format!("http://{}/form", peer.addr), b"x=1"),
    )
    .unwrap();
    assert_eq!(response.body, b"form shown");
}

#[test]
fn redirects_go_only_to_http_and_keep_credentials_at_home() {
    let peer = Peer::http(&[]);
    let session = HttpAgent::new(HttpOptions::default()).unwrap();
    let error = send(
        &session,
        &get(&format!("http://{}/redirect/ftp", peer.addr)),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("only http and https are followed"),
        "{error}"
    );
    assert_eq!(error.exit_code(), 8);

    let with_token = |path: &str| {
        let mut request = get(&format!("http://{}{path}", peer.addr));
        request
            .headers
            .push(("Authorization".into(), "Bearer secret".into()));
        send(&session, &request).unwrap().body
    };
    assert_eq!(with_token("/redirect/same-origin"), b"Bearer secret");
    assert_eq!(with_token("/redirect/other-origin"), b"none");
}

#[test]
fn https_bodies_that_end_with_the_connection_arrive_whole() {
    let pki = Pki::new(&["localhost"], true);
    let peer = Peer::http(&[&pki.cert_path, &pki.key_path]);
    let url = format!("https://localhost:{}/close-delimited", peer.addr.port());
    let (code, stdout, stderr) = run_netdeck(&["http", &url, "--cacert", &pki.ca_pem_path]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, b"until close");
}

#[test]
fn a_redirect_from_https_to_http_is_refused_unless_allowed() {
    let pki = Pki::new(&["localhost"], true);
    let peer = Peer::http(&[&pki.cert_path, &pki.key_path]);
    let url = format!("https://localhost:{}/redirect/to-http", peer.addr.port());
    let (code, _, stderr) = run_netdeck(&["http", &url, "--cacert", &pki.ca_pem_path]);
    assert_eq!(code, 47, "{stderr}");
    assert!(
        stderr.contains("refused to follow a redirect from https://"),
        "{stderr}"
    );
    let (code, _, stderr) = run_netdeck(&[
        "http",
        &url,
        "--cacert",
        &pki.ca_pem_path,
        "--allow-insecure-redirects",
    ]);
    assert_eq!(code, 7, "followed to the plain http port: {stderr}");
}
