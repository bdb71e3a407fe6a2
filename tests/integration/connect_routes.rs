//! `netdeck connect` beside ncat: from a chosen source address and port, to one address
//! family of a name, and through proxies (tinyproxy's CONNECT, microsocks' SOCKS5), each seen
//! from the server's side by a Python listener.

use crate::common::servers::{Microsocks, Tinyproxy};
use crate::common::{ConfigHome, Peer, TempDir, netdeck, run_netdeck};

/// `netdeck connect` sending `hi` to `port` and closing; its exit code and standard error.
fn connect_and_say_hi(extra: &[&str], host: &str, port: u16) -> (i32, String) {
    let port = port.to_string();
    let mut args = vec!["connect"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[host, &port, "--send", "hi", "--wait", "0"]);
    let (code, _, stderr) = run_netdeck(&args);
    (code, stderr)
}

/// A hosts file naming `dual.test` (127.0.0.1 and ::1) and `proxy-only.test` (127.0.0.1).
fn hosts_file(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.join("hosts");
    std::fs::write(
        &path,
        "127.0.0.1 dual.test\n::1 dual.test\n127.0.0.1 proxy-only.test\n",
    )
    .unwrap();
    path
}

#[test]
fn the_server_sees_the_source_address_and_port_chosen() {
    let mut who = Peer::start(&["who"]);
    // A port free on 127.0.0.5, for the source port.
    let source_port = std::net::TcpListener::bind("127.0.0.5:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let (code, stderr) = connect_and_say_hi(
        &["-s", "127.0.0.5", "-p", &source_port],
        "127.0.0.1",
        who.addr.port(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        who.line(),
        format!("from ::ffff:127.0.0.5 {source_port}: hi")
    );
    // The long options, and the address alone.
    let (code, stderr) =
        connect_and_say_hi(&["--source", "127.0.0.6"], "127.0.0.1", who.addr.port());
    assert_eq!(code, 0, "{stderr}");
    let line = who.line();
    assert!(line.starts_with("from ::ffff:127.0.0.6 "), "{line}");
}

#[test]
fn dash_4_and_dash_6_choose_the_family_of_a_name_with_both() {
    let dir = TempDir::new("families");
    let hosts = hosts_file(&dir);
    let mut who = Peer::start(&["who"]);
    let port = who.addr.port().to_string();
    let through_hosts = |family: &str| {
        let output = netdeck(&[
            "connect",
            family,
            "dual.test",
            &port,
            "--send",
            "hi",
            "--wait",
            "0",
        ])
        .env("LD_PRELOAD", "libnss_wrapper.so")
        .env("NSS_WRAPPER_HOSTS", &hosts)
        .output()
        .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    through_hosts("-6");
    assert!(who.line().starts_with("from ::1 "));
    through_hosts("-4");
    assert!(who.line().starts_with("from ::ffff:127.0.0.1 "));
    // A name without an address of the family asked for, and an address of the other one.
    let (code, stderr) = connect_and_say_hi(&["-6"], "127.0.0.1", who.addr.port());
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("netdeck: family: 127.0.0.1 is not an IPv6 address"),
        "{stderr}"
    );
}

#[test]
fn data_arrives_through_tinyproxy_and_a_refusal_is_told_with_its_status() {
    let mut who = Peer::start(&["who"]);
    // tinyproxy makes its connections from 127.0.0.3: the server sees the proxy.
    let proxy = Tinyproxy::start_with(None, "Bind 127.0.0.3\n");
    let (code, stderr) =
        connect_and_say_hi(&["--proxy", &proxy.url()], "localhost", who.addr.port());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("through the proxy {}", proxy.addr)),
        "{stderr}"
    );
    let line = who.line();
    assert!(
        line.starts_with("from ::ffff:127.0.0.3 ") && line.ends_with(": hi"),
        "{line}"
    );

    let only_443 = Tinyproxy::start_with(None, "ConnectPort 443\n");
    let (code, stderr) =
        connect_and_say_hi(&["--proxy", &only_443.url()], "127.0.0.1", who.addr.port());
    assert_eq!(code, 56, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "netdeck: the proxy {} refused the tunnel: 403 ",
            only_443.addr
        )),
        "{stderr}"
    );
}

#[test]
fn data_arrives_through_a_socks5_server_which_resolves_names_with_socks5h() {
    let dir = TempDir::new("socks");
    let hosts = hosts_file(&dir);
    let mut who = Peer::start(&["who"]);
    // microsocks connects from 127.0.0.2, and only it knows `proxy-only.test`.
    let socks = Microsocks::start("127.0.0.2", Some(&hosts));
    let socks5 = format!("socks5://{}", socks.addr);
    let socks5h = format!("socks5h://{}", socks.addr);
    let (code, stderr) = connect_and_say_hi(&["--proxy", &socks5], "127.0.0.1", who.addr.port());
    assert_eq!(code, 0, "{stderr}");
    let line = who.line();
    assert!(
        line.starts_with("from ::ffff:127.0.0.2 ") && line.ends_with(": hi"),
        "{line}"
    );

    let (code, stderr) =
        connect_and_say_hi(&["--proxy", &socks5h], "proxy-only.test", who.addr.port());
    assert_eq!(code, 0, "{stderr}");
    assert!(who.line().starts_with("from ::ffff:127.0.0.2 "));
    // socks5:// resolves here, where the name is unknown.
    let (code, stderr) =
        connect_and_say_hi(&["--proxy", &socks5], "proxy-only.test", who.addr.port());
    assert_eq!(code, 6, "{stderr}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, stderr) = connect_and_say_hi(&["--proxy", &socks5], "127.0.0.1", closed);
    assert_eq!(code, 56, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "netdeck: the proxy {} refused the tunnel: connection refused by the destination (SOCKS5 reply 5)",
            socks.addr
        )),
        "{stderr}"
    );
}

#[test]
fn bad_sources_and_proxies_are_refused_naming_the_field() {
    let who = Peer::start(&["who"]);
    let port = who.addr.port();
    for (args, code, start) in [
        (
            &["-s", "10.9.9.9"][..],
            45,
            "netdeck: cannot connect from 10.9.9.9: 10.9.9.9 is not an address of this machine",
        ),
        (
            &["-s", "nowhere"][..],
            2,
            "netdeck: source: `nowhere` is not an IP address",
        ),
        (
            &["-p", "70000"][..],
            2,
            "netdeck: source-port: 70000 is not a port number",
        ),
        (
            &["--proxy", "ftp://127.0.0.1:21"][..],
            2,
            "netdeck: proxy: `ftp://127.0.0.1:21`: ftp:// proxies are not supported",
        ),
        (
            &["-s", "127.0.0.1", "-6"][..],
            2,
            "netdeck: source: 127.0.0.1 is not an IPv6 address",
        ),
    ] {
        let (exit, stderr) = connect_and_say_hi(args, "127.0.0.1", port);
        assert_eq!(exit, code, "{args:?}: {stderr}");
        assert!(stderr.starts_with(start), "{args:?}: {stderr}");
    }
}

#[test]
fn a_client_preset_carries_its_source_and_proxy() {
    let mut who = Peer::start(&["who"]);
    let socks = Microsocks::start("127.0.0.2", None);
    let home = ConfigHome::with_file(&format!(
        r#"
[presets.client.tunnelled]
host = "127.0.0.1"
port = "{}"
payload = "from the preset"
proxy = "socks5://{}"
source = "127.0.0.1"
"#,
        who.addr.port(),
        socks.addr
    ));
    let output = home
        .netdeck(&["connect", "--preset", "tunnelled", "--wait", "0"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(who.line().starts_with("from ::ffff:127.0.0.2 "));
}
