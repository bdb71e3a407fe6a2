//! Helpers shared by the integration tests: the engine with a blocking event reader, plain
//! blocking clients, and the `netdeck` binary as a child process.
#![allow(dead_code)] // each test file uses its own part of this module

pub mod display;
pub mod servers;
pub mod ui;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use netdeck::engine::{Action, Engine, Event, EventKind, SessionId, SessionSpec};
use netdeck::net::client::ClientConfig;
use netdeck::net::server::{ClientId, ServerConfig, ServerEvent};

/// How long any awaited event may take before the test fails. Generous: the machine is shared.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The engine thread, as the GUI uses it, with a blocking way to wait for events. It acts on
/// the server and the client connection opened last, unless told a session.
pub struct Harness {
    pub engine: Engine,
    woken: mpsc::Receiver<()>,
    /// Events not yet taken by a wait, in arrival order.
    backlog: VecDeque<Event>,
    /// The event the last wait took.
    taken: Option<Event>,
    server: Option<SessionId>,
    client: Option<SessionId>,
}

impl Harness {
    pub fn new() -> Self {
        let (wake, woken) = mpsc::channel();
        let engine = Engine::start(move || {
            let _ = wake.send(());
        })
        .expect("engine thread starts");
        Harness {
            engine,
            woken,
            backlog: VecDeque::new(),
            taken: None,
            server: None,
            client: None,
        }
    }

    /// Acts on the server started last.
    pub fn server(&self, action: Action) {
        self.engine
            .act(self.server.expect("a server was started"), action);
    }

    /// Acts on the connection opened last.
    pub fn client(&self, action: Action) {
        self.engine
            .act(self.client.expect("a connection was opened"), action);
    }

    /// Starts a server without waiting for it.
    pub fn open_server(&mut self, config: ServerConfig) -> SessionId {
        let id = self.engine.open(SessionSpec::Server(config));
        self.server = Some(id);
        id
    }

    /// Opens a connection without waiting for it.
    pub fn connect(&mut self, config: ClientConfig) -> SessionId {
        let id = self.engine.open(SessionSpec::Client(config));
        self.client = Some(id);
        id
    }

    pub fn server_id(&self) -> SessionId {
        self.server.expect("a server was started")
    }

    pub fn disconnect(&self) {
        self.engine
            .close(self.client.expect("a connection was opened"));
    }

    /// The next event, waiting for it.
    pub fn next(&mut self) -> EventKind {
        self.wait_for(|_| Some(()));
        self.take_last().expect("wait_for kept the event")
    }

    /// The first event, in arrival order, that `pick` accepts, waiting for it. Events it
    /// passes over stay for later waits, so waiting for one client never loses another's
    /// events.
    pub fn wait_for<T>(&mut self, mut pick: impl FnMut(&EventKind) -> Option<T>) -> T {
        self.wait_for_event(|event| pick(&event.kind))
    }

    /// As [`Harness::wait_for`], seeing which session each event comes from.
    pub fn wait_for_event<T>(&mut self, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        let mut checked = 0;
        loop {
            while checked < self.backlog.len() {
                if let Some(found) = pick(&self.backlog[checked]) {
                    self.taken = self.backlog.remove(checked);
                    return found;
                }
                checked += 1;
            }
            let fresh = self.engine.drain(64);
            if fresh.is_empty() {
                let left = deadline
                    .checked_duration_since(Instant::now())
                    .expect("timed out waiting for an engine event");
                let _ = self.woken.recv_timeout(left);
            }
            self.backlog.extend(fresh);
        }
    }

    /// The event the last wait took.
    pub fn take_last(&mut self) -> Option<EventKind> {
        self.taken.take().map(|event| event.kind)
    }

    /// Starts a server and returns where it listens.
    pub fn start(&mut self, config: ServerConfig) -> SocketAddr {
        let id = self.open_server(config);
        self.wait_for_event(|event| match &event.kind {
            EventKind::Server(ServerEvent::Listening { addr, .. }) if event.session == id => {
                Some(*addr)
            }
            EventKind::ServerFailed(error) => panic!("server did not start: {error}"),
            _ => None,
        })
    }

    /// Waits for a client from `peer` to be connected and returns its id.
    pub fn connected(&mut self, peer: SocketAddr) -> ClientId {
        self.wait_for(|event| match event {
            EventKind::Server(ServerEvent::Connected { id, peer: p, .. }) if *p == peer => {
                Some(*id)
            }
            _ => None,
        })
    }

    /// Collects what client `id` sends until it amounts to `len` bytes.
    pub fn received(&mut self, id: ClientId, len: usize) -> Vec<u8> {
        let mut got = Vec::new();
        while got.len() < len {
            self.wait_for(|event| match event {
                EventKind::Server(ServerEvent::Received {
                    id: from, bytes, ..
                }) if *from == id => {
                    got.extend_from_slice(bytes);
                    Some(())
                }
                _ => None,
            });
        }
        got
    }

    /// Stops the server started last and waits until it has.
    pub fn stop(&mut self) {
        let id = self.server.expect("a server was started");
        self.engine.close(id);
        self.wait_for_event(|event| {
            (event.session == id && matches!(event.kind, EventKind::Server(ServerEvent::Stopped)))
                .then_some(())
        });
    }
}

/// A blocking client that fails the test instead of hanging.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the server");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Reads exactly `len` bytes.
pub fn read_exact(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    stream
        .read_exact(&mut buf)
        .expect("read the expected bytes");
    buf
}

/// True once the server has closed this connection (EOF or reset).
pub fn is_closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0; 1];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(error) => matches!(
            error.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
        ),
    }
}

/// Closes with a reset (RST) instead of a clean FIN.
pub fn reset(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket we own, with a correctly sized option.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_LINGER");
    drop(stream);
}

/// `netdeck` with these arguments, stdout piped, as a child process.
pub fn netdeck(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netdeck"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Kills a process still running after [`PATIENCE`], so a peer that never answers fails the
/// test instead of hanging it; dropping the watchdog calls it off.
pub struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    pub fn new(pid: u32) -> Self {
        let (done, finished) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if finished.recv_timeout(PATIENCE) == Err(mpsc::RecvTimeoutError::Timeout) {
                // SAFETY: a signal to a child the test still holds.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
        });
        Watchdog {
            done: Some(done),
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A running `netdeck serve`, read line by line.
pub struct ServeProcess {
    pub child: Child,
    pub lines: BufReader<ChildStdout>,
    pub addr: SocketAddr,
    /// The listening line, whole (a TLS server's names its certificate).
    pub listening: String,
}

impl ServeProcess {
    /// Starts `netdeck serve --port 0 <args>` and waits for its listening line.
    pub fn start(args: &[&str]) -> Self {
        let mut full = vec!["serve", "--port", "0"];
        full.extend_from_slice(args);
        Self::spawn(netdeck(&full))
    }

    /// Starts `command`, a `netdeck serve` with stdout piped, and waits for its listening line.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command.spawn().expect("netdeck starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let first = read_line(&mut lines);
        let addr = first
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("expected the listening line, got {first:?}"))
            .parse()
            .expect("listening line has an address");
        ServeProcess {
            child,
            lines,
            addr,
            listening: first,
        }
    }

    pub fn line(&mut self) -> String {
        read_line(&mut self.lines)
    }

    /// Skips lines until one satisfies `pick`.
    pub fn line_where(&mut self, mut pick: impl FnMut(&str) -> bool) -> String {
        loop {
            let line = self.line();
            if pick(&line) {
                return line;
            }
        }
    }

    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: sending a signal to our own child.
        assert_eq!(
            unsafe { libc::kill(self.child.id() as libc::pid_t, signal) },
            0
        );
    }

    /// Waits for the process to end; returns the rest of its output and its exit code.
    /// A process still running after [`PATIENCE`] is killed and fails the test.
    pub fn finish(&mut self) -> (Vec<String>, i32) {
        let pid = self.child.id() as libc::pid_t;
        let (done, finished) = mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            if finished.recv_timeout(PATIENCE).is_err() {
                // SAFETY: the child is not reaped before this thread is joined, so the pid is ours.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        });
        let rest: Vec<String> = (&mut self.lines)
            .lines()
            .map(|line| line.expect("read netdeck's output"))
            .collect();
        let _ = done.send(());
        let status = self.child.wait().unwrap();
        watchdog.join().unwrap();
        let code = status
            .code()
            .unwrap_or_else(|| panic!("netdeck did not exit by itself; output: {rest:?}"));
        (rest, code)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line of output, without its newline; fails the test at end of output.
pub fn read_line(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    let n = reader.read_line(&mut line).expect("read netdeck's output");
    assert!(n > 0, "netdeck's output ended early");
    line.truncate(line.trim_end_matches('\n').len());
    line
}

/// Writes all of `bytes` and flushes.
pub fn send(stream: &mut TcpStream, bytes: &[u8]) {
    stream.write_all(bytes).expect("send to the server");
    stream.flush().unwrap();
}

/// A TCP peer netdeck did not write: `tests/peers/tcp_peer.py` in one of its modes.
pub struct Peer {
    child: Child,
    lines: BufReader<ChildStdout>,
    pub addr: SocketAddr,
}

impl Peer {
    /// `tests/peers/tcp_peer.py` in a mode.
    pub fn start(args: &[&str]) -> Self {
        Self::script("tcp_peer.py", args)
    }

    /// `tests/peers/http_peer.py`: HTTP/1.1, or HTTPS with a certificate and key.
    pub fn http(args: &[&str]) -> Self {
        Self::script("http_peer.py", args)
    }

    fn script(name: &str, args: &[&str]) -> Self {
        let mut child = Command::new("python3")
            .arg(format!("{}/tests/peers/{name}", env!("CARGO_MANIFEST_DIR")))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let first = read_line(&mut lines);
        let port: u16 = first
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("peer said {first:?}"));
        Peer {
            child,
            lines,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    pub fn line(&mut self) -> String {
        read_line(&mut self.lines)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tests/peers/udp_peer.py` in a mode, its output piped.
pub fn udp_peer(args: &[&str]) -> Child {
    Command::new("python3")
        .arg(format!(
            "{}/tests/peers/udp_peer.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs")
}

/// A test CA and a leaf certificate it signed, as PEM files in a temporary directory.
pub struct Pki {
    pub dir: std::path::PathBuf,
    pub ca_der: futures_rustls::rustls::pki_types::CertificateDer<'static>,
    pub ca_pem_path: String,
    pub cert_path: String,
    pub key_path: String,
    /// A client certificate signed by the same CA (a leaf of the CA's, even without it).
    pub client_cert_path: String,
    pub client_key_path: String,
}

impl Pki {
    /// With a CA: a leaf for `names`, signed by a fresh CA. Without: a self-signed leaf.
    pub fn new(names: &[&str], signed_by_ca: bool) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "netdeck-pki-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();

        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "netdeck test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();

        let leaf_key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let leaf_params = CertificateParams::new(names).unwrap();
        let issuer = Issuer::new(ca_params, &ca_key);
        let leaf = if signed_by_ca {
            leaf_params.signed_by(&leaf_key, &issuer).unwrap()
        } else {
            leaf_params.self_signed(&leaf_key).unwrap()
        };
        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        client_params
            .distinguished_name
            .push(DnType::CommonName, "netdeck test client");
        let client = client_params.signed_by(&client_key, &issuer).unwrap();

        let write = |name: &str, text: String| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path.to_string_lossy().into_owned()
        };
        Pki {
            ca_der: ca_cert.der().clone(),
            ca_pem_path: write("ca.pem", ca_cert.pem()),
            cert_path: write("cert.pem", leaf.pem()),
            key_path: write("key.pem", leaf_key.serialize_pem()),
            client_cert_path: write("client.pem", client.pem()),
            client_key_path: write("client-key.pem", client_key.serialize_pem()),
            dir,
        }
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `netdeck` to its end: (exit code, stdout, stderr).
pub fn run_netdeck(args: &[&str]) -> (i32, Vec<u8>, String) {
    let output = netdeck(args).output().expect("netdeck runs");
    (
        output.status.code().expect("exited, not killed"),
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The certificate was refused because no trusted authority signed it.
pub fn assert_self_signed_or_unknown_authority(error: &netdeck::net::NetError) {
    assert!(
        matches!(
            error,
            netdeck::net::NetError::CertificateUntrusted {
                problem: netdeck::net::error::CertificateProblem::UnknownIssuer,
                ..
            }
        ),
        "{error:?}"
    );
}

/// A folder of its own under the system's temporary directory, removed when dropped.
pub struct TempDir {
    pub path: std::path::PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "netdeck-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }

    pub fn join(&self, name: &str) -> std::path::PathBuf {
        self.path.join(name)
    }
}

/// A fontconfig configuration in `home` whose fonts are DejaVu's alone (fonts-dejavu-core),
/// which has no Hangul: what a window can draw does not depend on the machine.
pub fn dejavu_only_fonts(home: &TempDir) -> std::path::PathBuf {
    let config = home.join("fonts.conf");
    std::fs::write(
        &config,
        format!(
            "<?xml version=\"1.0\"?>\n<fontconfig>\n  <dir>/usr/share/fonts/truetype/dejavu</dir>\n  <cachedir>{}</cachedir>\n</fontconfig>\n",
            home.join("font-cache").display()
        ),
    )
    .unwrap();
    config
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A folder for `XDG_CONFIG_HOME`, given to netdeck child processes only: the test process's
/// own environment is shared by tests running in parallel.
pub struct ConfigHome {
    pub dir: TempDir,
}

impl ConfigHome {
    /// With no settings file.
    pub fn empty() -> Self {
        ConfigHome {
            dir: TempDir::new("config-home"),
        }
    }

    /// With `text` as the settings file.
    pub fn with_file(text: &str) -> Self {
        let home = Self::empty();
        std::fs::create_dir_all(home.file().parent().unwrap()).unwrap();
        std::fs::write(home.file(), text).unwrap();
        home
    }

    /// Where netdeck looks for its settings under this folder.
    pub fn file(&self) -> std::path::PathBuf {
        self.dir.join("netdeck").join("config.toml")
    }

    /// `netdeck` with these arguments and this settings folder, stdout piped. The system's
    /// presets are read from `system.toml` in the folder (none until a test writes it).
    pub fn netdeck(&self, args: &[&str]) -> Command {
        let mut command = netdeck(args);
        command
            .env("XDG_CONFIG_HOME", &self.dir.path)
            .env("NETDECK_SYSTEM_CONFIG", self.system_file());
        command
    }

    /// Where this home's system presets are read from.
    pub fn system_file(&self) -> std::path::PathBuf {
        self.dir.join("system.toml")
    }

    /// Runs `netdeck` to its end with this settings folder: (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, Vec<u8>, String) {
        let output = self.netdeck(args).output().expect("netdeck runs");
        (
            output.status.code().expect("exited, not killed"),
            output.stdout,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

/// A TCP socket this process holds open, as `/proc/self/net/tcp` and `tcp6` list it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnSocket {
    pub local_port: u16,
    pub remote_port: u16,
    pub state: TcpState,
}

/// The states a test tells apart (the kernel's numbers in `/proc/net/tcp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpState {
    Established,
    Listening,
    /// The peer closed and this process has not: a socket nobody reads any more.
    CloseWait,
    Other(u8),
}

/// The TCP sockets this process has a descriptor for, with their state.
pub fn own_tcp_sockets() -> Vec<OwnSocket> {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_string(),
            )
        })
        .collect();
    let port =
        |address: &str| u16::from_str_radix(address.rsplit(':').next().unwrap(), 16).unwrap();
    ["/proc/self/net/tcp", "/proc/self/net/tcp6"]
        .iter()
        .flat_map(|table| {
            std::fs::read_to_string(table)
                .unwrap_or_default()
                .lines()
                .skip(1)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if !inodes.contains(*fields.get(9)?) {
                return None;
            }
            let state = match u8::from_str_radix(fields[3], 16).ok()? {
                0x01 => TcpState::Established,
                0x0A => TcpState::Listening,
                0x08 => TcpState::CloseWait,
                other => TcpState::Other(other),
            };
            Some(OwnSocket {
                local_port: port(fields[1]),
                remote_port: port(fields[2]),
                state,
            })
        })
        .collect()
}

/// This process's sockets connected to `port`.
pub fn own_sockets_to(port: u16) -> Vec<OwnSocket> {
    own_tcp_sockets()
        .into_iter()
        .filter(|socket| socket.remote_port == port && socket.state != TcpState::Listening)
        .collect()
}

/// How many descriptors this process has open.
pub fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Polls `done` until it holds, failing the test after `PATIENCE`.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Makes a special file with one of coreutils' commands (`mkfifo`, `mknod`).
pub fn make_special_file(command: &str, args: &[&str]) {
    let status = std::process::Command::new(command)
        .args(args)
        .status()
        .unwrap_or_else(|error| panic!("{command} runs: {error}"));
    assert!(status.success(), "{command} {args:?}");
}
