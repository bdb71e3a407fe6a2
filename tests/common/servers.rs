//! Servers netdeck did not write, from Debian: nginx, tinyproxy and microsocks, each started
//! for one test.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use super::{PATIENCE, TempDir};

/// nginx on a port the test bound itself: the listening socket is handed over (nginx's own
/// `NGINX` inheritance), so it is taken before nginx starts and nothing races for it.
pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    pub dir: TempDir,
}

impl Nginx {
    /// Serves `www` (files to put there) with `server` lines added to its server block
    /// (`ssl_certificate ...`); `tls` makes the port speak TLS.
    pub fn start(files: &[(&str, &[u8])], tls: bool, server: &str) -> Self {
        let dir = TempDir::new("nginx");
        let www = dir.join("www");
        std::fs::create_dir_all(&www).unwrap();
        for (name, bytes) in files {
            std::fs::write(www.join(name), bytes).unwrap();
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let fd = listener.as_raw_fd();
        // SAFETY: clears close-on-exec on our own socket so nginx inherits it.
        assert_eq!(unsafe { libc::fcntl(fd, libc::F_SETFD, 0) }, 0);
        let d = dir.path.display();
        let ssl = if tls { " ssl" } else { "" };
        let config = format!(
            "daemon off; master_process on; user root; worker_processes 1;\n\
             pid {d}/nginx.pid; error_log {d}/error.log;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n\
               access_log off; sendfile on;\n\
               client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;\n\
               uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;\n\
               types {{ text/plain txt; application/json json; application/octet-stream bin; }}\n\
               server {{\n\
                 listen {addr}{ssl}; root {d}/www;\n\
                 gzip on; gzip_min_length 1; gzip_types text/plain application/json;\n\
                 {server}\n\
               }}\n\
             }}\n"
        );
        std::fs::write(dir.join("nginx.conf"), config).unwrap();
        let child = Command::new("nginx")
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-p")
            .arg(&dir.path)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .env("NGINX", format!("{fd};"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx runs (apt-get install nginx-light)");
        // nginx has its own copy of the socket now; connections wait in its queue until it
        // accepts them.
        drop(listener);
        Nginx { child, addr, dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its worker before it exits.
        // SAFETY: our own child, not yet reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// tinyproxy, a forward proxy for http and CONNECT, optionally asking for credentials.
pub struct Tinyproxy {
    child: Child,
    pub addr: SocketAddr,
    _dir: TempDir,
}

impl Tinyproxy {
    pub fn start(credentials: Option<(&str, &str)>) -> Self {
        Self::start_with(credentials, "")
    }

    /// With more lines for its configuration (`Bind 127.0.0.3`, `ConnectPort 443`).
    pub fn start_with(credentials: Option<(&str, &str)>, more: &str) -> Self {
        let dir = TempDir::new("tinyproxy");
        // tinyproxy takes a port number only: a free one, given straight back.
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let mut config = format!(
            "Port {}\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nLogLevel Error\n",
            addr.port()
        );
        if let Some((user, password)) = credentials {
            config.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        config.push_str(more);
        let path = dir.join("tinyproxy.conf");
        std::fs::File::create(&path)
            .and_then(|mut file| file.write_all(config.as_bytes()))
            .unwrap();
        let mut child = Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyproxy runs (apt-get install tinyproxy)");
        wait_listening(&mut child, addr, "tinyproxy");
        Tinyproxy {
            child,
            addr,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `child`, which takes only a port number, listens on `addr`.
fn wait_listening(child: &mut Child, addr: SocketAddr, name: &str) {
    let deadline = Instant::now() + PATIENCE;
    while TcpStream::connect(addr).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{name} exited: {status}");
        }
        assert!(Instant::now() < deadline, "{name} did not listen");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// microsocks, a SOCKS5 server, making its own connections from `outgoing` (so a server
/// behind it sees that address), and resolving names with the hosts in `hosts` only when
/// given (through nss_wrapper).
pub struct Microsocks {
    child: Child,
    pub addr: SocketAddr,
}

impl Microsocks {
    pub fn start(outgoing: &str, hosts: Option<&std::path::Path>) -> Self {
        // microsocks takes a port number only: a free one, given straight back.
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let mut command = Command::new("microsocks");
        command
            .args([
                "-i",
                "127.0.0.1",
                "-p",
                &addr.port().to_string(),
                "-b",
                outgoing,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(hosts) = hosts {
            command
                .env("LD_PRELOAD", "libnss_wrapper.so")
                .env("NSS_WRAPPER_HOSTS", hosts);
        }
        let mut child = command
            .spawn()
            .expect("microsocks runs (apt-get install microsocks)");
        wait_listening(&mut child, addr, "microsocks");
        Microsocks { child, addr }
    }
}

impl Drop for Microsocks {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
