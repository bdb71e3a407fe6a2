//! `netdeck http` through a forward proxy (tinyproxy), from `-x` or the environment as curl
//! reads it: plain http in absolute form, https through a CONNECT tunnel.

use crate::common::servers::{Nginx, Tinyproxy};
use crate::common::{Pki, netdeck};
use crate::http_cli::{http, text};

#[test]
fn plain_http_goes_through_the_proxy_given_or_in_the_environment() {
    let nginx = Nginx::start(&[("a.txt", b"through")], false, "");
    let proxy = Tinyproxy::start(None);
    let via_proxy = |out: &[u8]| text(out).contains("Via: 1.1 ") && text(out).contains("tinyproxy");
    let (exit, out, err) = http(&["-i", "-x", &proxy.url(), &nginx.url("/a.txt")]);
    assert_eq!(exit, 0, "{err}");
    assert!(via_proxy(&out), "{}", text(&out));
    assert!(text(&out).ends_with("through"));

    let from_environment = |extra: &[(&str, &str)], args: &[&str]| {
        let mut command = netdeck(&["http", "-i", &nginx.url("/a.txt")]);
        command.args(args).env("http_proxy", proxy.url());
        command.env_remove("NO_PROXY").env_remove("no_proxy");
        for (name, value) in extra {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{}", text(&output.stderr));
        output.stdout
    };
    assert!(via_proxy(&from_environment(&[], &[])));
    // NO_PROXY and --noproxy send it straight to the server.
    assert!(!via_proxy(&from_environment(
        &[("NO_PROXY", "localhost,127.0.0.1")],
        &[]
    )));
    assert!(!via_proxy(&from_environment(
        &[("no_proxy", "127.0.0.0/8")],
        &[]
    )));
    assert!(!via_proxy(&from_environment(&[], &["--noproxy", "*"])));
}

#[test]
fn https_goes_through_a_connect_tunnel_and_is_verified_as_usual() {
    let pki = Pki::new(&["127.0.0.1"], true);
    let nginx = Nginx::start(
        &[("a.txt", b"tunnelled")],
        true,
        &format!(
            "ssl_certificate {}; ssl_certificate_key {};",
            pki.cert_path, pki.key_path
        ),
    );
    let url = format!("https://{}/a.txt", nginx.addr);
    let proxy = Tinyproxy::start(Some(("lab", "s3cret")));
    let with_credentials = format!("http://lab:s3cret@{}", proxy.addr);
    let (exit, out, err) = http(&["--cacert", &pki.ca_pem_path, "-x", &with_credentials, &url]);
    assert_eq!(exit, 0, "{err}");
    assert_eq!(out, b"tunnelled");
    // The certificate is the server's, checked through the tunnel.
    let (exit, _, err) = http(&["-x", &with_credentials, &url]);
    assert_eq!(exit, 60, "{err}");
    // Without credentials the proxy answers 407, and the error says so.
    let (exit, _, err) = http(&["--cacert", &pki.ca_pem_path, "-x", &proxy.url(), &url]);
    assert_eq!(exit, 56, "{err}");
    assert!(
        err.starts_with(&format!(
            "netdeck: the proxy {} asks for credentials (407 Proxy Authentication Required)",
            proxy.addr
        )),
        "{err}"
    );
    // Plain http through the same proxy: its 407 is an error too.
    let (exit, _, err) = http(&["-x", &proxy.url(), &format!("http://{}/", nginx.addr)]);
    assert_eq!(exit, 56, "{err}");
    assert!(err.contains("407"), "{err}");
}

#[test]
fn a_proxy_that_is_not_there_is_named_in_the_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (exit, _, err) = http(&["-x", &format!("http://{closed}"), "http://127.0.0.1:9/"]);
    assert_eq!(exit, 7, "{err}");
    assert!(
        err.starts_with(&format!(
            "netdeck: the proxy {closed} refused the connection"
        )),
        "{err}"
    );
}
