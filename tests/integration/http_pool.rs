//! The pool of kept-alive HTTP connections against servers netdeck did not write: nginx
//! closing idle connections after a second (plain and TLS), Python's servers keeping them
//! forever. An idle connection leaves this process as soon as its server closes it or its time
//! is up, and the pool holds at most `MAX_IDLE` in all.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::servers::Nginx;
use common::{Peer, Pki, TcpState, TempDir, own_sockets_to, wait_until};
use netdeck::net::http::{HttpAgent, HttpOptions, HttpResponse, MAX_IDLE};
use netdeck::net::tls::TlsOptions;
use smol::Executor;

use crate::http::get;

/// An executor run on a thread of its own, as the engine runs one, for an agent's watchers.
struct Watchers {
    executor: Arc<Executor<'static>>,
    stop: Option<smol::channel::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchers {
    fn start() -> Self {
        let executor = Arc::new(Executor::new());
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let running = executor.clone();
        let thread = std::thread::spawn(move || {
            let _ = smol::block_on(running.run(stopped.recv()));
        });
        Watchers {
            executor,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn agent(&self, options: HttpOptions) -> HttpAgent {
        HttpAgent::with_cookies(options, Arc::default(), &self.executor).unwrap()
    }
}

impl Drop for Watchers {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn fetch(agent: &HttpAgent, url: &str) -> HttpResponse {
    smol::block_on(agent.send(&get(url), None)).expect("the request succeeds")
}

/// One request leaves one idle connection; once the server closes it, this process holds no
/// socket to the server (none half-closed), and the next request opens a new connection.
fn closed_by_the_server_and_gone(agent: &HttpAgent, url: &str, port: u16) {
    let first = fetch(agent, url);
    assert_eq!(first.status, 200);
    let kept = own_sockets_to(port);
    assert_eq!(
        kept.iter().map(|s| s.state).collect::<Vec<_>>(),
        [TcpState::Established],
        "the connection is kept alive"
    );
    wait_until("the idle connection the server closed to be gone", || {
        own_sockets_to(port).is_empty()
    });
    let again = fetch(agent, url);
    assert_eq!(
        (again.status, again.reused_connection),
        (200, false),
        "a new connection"
    );
}

#[test]
fn an_idle_connection_nginx_closes_leaves_no_socket_behind() {
    let nginx = Nginx::start(&[("a.txt", b"hello")], false, "keepalive_timeout 1s;");
    let watchers = Watchers::start();
    let agent = watchers.agent(HttpOptions::default());
    closed_by_the_server_and_gone(&agent, &nginx.url("/a.txt"), nginx.addr.port());
}

#[test]
fn an_idle_tls_connection_nginx_closes_leaves_no_socket_behind() {
    let pki = Pki::new(&["127.0.0.1"], true);
    let nginx = Nginx::start(
        &[("a.txt", b"hello")],
        true,
        &format!(
            "ssl_certificate {}; ssl_certificate_key {}; keepalive_timeout 1s;",
            pki.cert_path, pki.key_path
        ),
    );
    let watchers = Watchers::start();
    let agent = watchers.agent(HttpOptions {
        tls: TlsOptions {
            extra_roots: vec![pki.ca_der.clone()],
            ..TlsOptions::default()
        },
        ..HttpOptions::default()
    });
    let url = format!("https://{}/a.txt", nginx.addr);
    closed_by_the_server_and_gone(&agent, &url, nginx.addr.port());
}

#[test]
fn an_idle_connection_is_closed_when_its_time_is_up() {
    // Python's HTTP/1.1 server keeps an idle connection for as long as the client does.
    let peer = Peer::http(&[]);
    let port = peer.addr.port();
    let url = format!("http://{}/target", peer.addr);
    let watchers = Watchers::start();
    let agent = watchers.agent(HttpOptions {
        keep_idle: Duration::from_millis(300),
        ..HttpOptions::default()
    });
    assert_eq!(fetch(&agent, &url).status, 200);
    assert_eq!(
        own_sockets_to(port).len(),
        1,
        "the connection is kept alive"
    );
    wait_until("the expired connection to be closed", || {
        own_sockets_to(port).is_empty()
    });
    let again = fetch(&agent, &url);
    assert_eq!((again.status, again.reused_connection), (200, false));
}

/// `python3 -m http.server` over HTTP/1.1 on every address of the machine, so each of
/// 127.0.0.1, 127.0.0.2, ... is a destination of its own.
struct EveryAddressServer {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl EveryAddressServer {
    fn start() -> Self {
        let dir = TempDir::new("http-server");
        std::fs::write(dir.join("a.txt"), "hello").unwrap();
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "--protocol", "HTTP/1.1"])
            .args(["--bind", "0.0.0.0", "--directory"])
            .arg(&dir.path)
            .arg("0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        // "Serving HTTP on 0.0.0.0 port 40123 (http://0.0.0.0:40123/) ..."
        let port = (line.split(" port ").nth(1))
            .and_then(|rest| rest.split(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("http.server said {line:?}"));
        EveryAddressServer {
            child,
            port,
            _dir: dir,
        }
    }

    fn url(&self, host: u8) -> String {
        format!("http://127.0.0.{host}:{}/a.txt", self.port)
    }
}

impl Drop for EveryAddressServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_pool_keeps_at_most_max_idle_connections_in_all() {
    let server = EveryAddressServer::start();
    let watchers = Watchers::start();
    let agent = watchers.agent(HttpOptions::default());
    let hosts = 1..=(MAX_IDLE as u8 + 8);
    for host in hosts.clone() {
        let response = fetch(&agent, &server.url(host));
        assert_eq!((response.status, response.reused_connection), (200, false));
    }
    // The connections idle the longest were closed to make room.
    wait_until("the pool to hold its bound", || {
        own_sockets_to(server.port).len() == MAX_IDLE
    });
    assert!((own_sockets_to(server.port).iter()).all(|s| s.state == TcpState::Established));
    let newest = fetch(&agent, &server.url(*hosts.end()));
    assert!(newest.reused_connection, "the newest is kept");
    let oldest = fetch(&agent, &server.url(1));
    assert!(!oldest.reused_connection, "the oldest was closed");
}
