//! `netdeck http` over TLS against nginx and openssl: client certificates, CA files, the
//! system's trust store, minimum versions, and what `-v` says of the handshake.

use crate::common::servers::Nginx;
use crate::common::{self, Pki, TempDir, netdeck};
use crate::http_cli::{http, text};

/// nginx over TLS with the certificate and key given, and more server lines.
fn nginx_tls(cert: &str, key: &str, more: &str) -> Nginx {
    Nginx::start(
        &[("a.txt", b"secret")],
        true,
        &format!("ssl_certificate {cert}; ssl_certificate_key {key}; {more}"),
    )
}

#[test]
fn a_client_certificate_opens_a_server_that_asks_for_one() {
    let pki = Pki::new(&["127.0.0.1"], true);
    let nginx = nginx_tls(
        &pki.cert_path,
        &pki.key_path,
        &format!(
            "ssl_verify_client on; ssl_client_certificate {};",
            pki.ca_pem_path
        ),
    );
    let url = format!("https://{}/a.txt", nginx.addr);
    let (exit, out, err) = http(&["--cacert", &pki.ca_pem_path, &url]);
    assert_eq!(exit, 0, "{err}");
    assert!(text(&out).contains("No required SSL certificate was sent"));
    let (exit, out, err) = http(&[
        "--cacert",
        &pki.ca_pem_path,
        "--cert",
        &pki.client_cert_path,
        "--key",
        &pki.client_key_path,
        &url,
    ]);
    assert_eq!((exit, text(&out).as_str()), (0, "secret"), "{err}");
    // The key may be in the certificate's file, as curl allows.
    let both = pki.dir.join("client-both.pem");
    let joined = std::fs::read_to_string(&pki.client_cert_path).unwrap()
        + &std::fs::read_to_string(&pki.client_key_path).unwrap();
    std::fs::write(&both, joined).unwrap();
    let (exit, out, err) = http(&[
        "--cacert",
        &pki.ca_pem_path,
        "--cert",
        both.to_str().unwrap(),
        &url,
    ]);
    assert_eq!((exit, text(&out).as_str()), (0, "secret"), "{err}");
    // `connect` shows the same certificate.
    let (exit, out, err) = common::run_netdeck(&[
        "connect",
        "127.0.0.1",
        &nginx.addr.port().to_string(),
        "--tls",
        "--cacert",
        &pki.ca_pem_path,
        "--cert",
        &pki.client_cert_path,
        "--key",
        &pki.client_key_path,
        "--send",
        "GET /a.txt HTTP/1.0\\r\\n\\r\\n",
    ]);
    assert_eq!(exit, 0, "{err}");
    assert!(text(&out).starts_with("HTTP/1.1 200 OK"), "{}", text(&out));
    assert!(text(&out).ends_with("secret"));
}

#[test]
fn a_client_key_that_is_missing_or_not_the_certificates_is_refused_before_sending() {
    let pki = Pki::new(&["127.0.0.1"], true);
    let (exit, _, err) = http(&["--cert", &pki.client_cert_path, "http://127.0.0.1:9/"]);
    assert_eq!(exit, 2);
    assert_eq!(
        err.lines().next().unwrap(),
        format!(
            "netdeck: cert: {} holds no private key; give it with --key FILE",
            pki.client_cert_path
        )
    );
    let (exit, _, err) = http(&[
        "--cert",
        &pki.client_cert_path,
        "--key",
        &pki.key_path,
        "http://127.0.0.1:9/",
    ]);
    assert_eq!(exit, 2);
    assert_eq!(
        err.lines().next().unwrap(),
        format!(
            "netdeck: key: the key in {} does not belong to the certificate in {}",
            pki.key_path, pki.client_cert_path
        )
    );
}

#[test]
fn a_plain_openssl_self_signed_certificate_given_as_cacert_is_trusted() {
    let dir = TempDir::new("openssl-x509");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made.stderr));
    let nginx = nginx_tls(cert.to_str().unwrap(), key.to_str().unwrap(), "");
    let url = format!("https://{}/a.txt", nginx.addr);
    let (exit, out, err) = http(&["--cacert", cert.to_str().unwrap(), &url]);
    assert_eq!((exit, text(&out).as_str()), (0, "secret"), "{err}");
    // Not trusted without it, and not for another name.
    let (exit, _, _) = http(&[&url]);
    assert_eq!(exit, 60);
    let (exit, _, err) = http(&[
        "--cacert",
        cert.to_str().unwrap(),
        &format!("https://localhost:{}/a.txt", nginx.addr.port()),
    ]);
    assert_eq!(exit, 60, "{err}");
}

#[test]
fn the_systems_trust_store_is_read_alongside_the_built_in_roots() {
    let pki = Pki::new(&["127.0.0.1"], true);
    let nginx = nginx_tls(&pki.cert_path, &pki.key_path, "");
    let url = format!("https://{}/a.txt", nginx.addr);
    let with_env = |name: &str, value: &std::path::Path| {
        let output = netdeck(&["http", &url]).env(name, value).output().unwrap();
        (output.status.code().unwrap(), text(&output.stdout))
    };
    assert_eq!(
        with_env("SSL_CERT_FILE", std::path::Path::new(&pki.ca_pem_path)),
        (0, "secret".into())
    );
    let store = TempDir::new("cert-dir");
    std::fs::copy(&pki.ca_pem_path, store.join("lab-ca.pem")).unwrap();
    assert_eq!(with_env("SSL_CERT_DIR", &store.path), (0, "secret".into()));
    assert_eq!(with_env("SSL_CERT_DIR", &TempDir::new("empty").path).0, 60);
}

#[test]
fn a_minimum_tls_version_refuses_older_servers() {
    let pki = Pki::new(&["127.0.0.1"], true);
    let nginx = nginx_tls(&pki.cert_path, &pki.key_path, "ssl_protocols TLSv1.2;");
    let url = format!("https://{}/a.txt", nginx.addr);
    let (exit, out, err) = http(&["--cacert", &pki.ca_pem_path, "--tlsv1.2", &url]);
    assert_eq!((exit, text(&out).as_str()), (0, "secret"), "{err}");
    let (exit, _, err) = http(&["--cacert", &pki.ca_pem_path, "--tlsv1.3", &url]);
    assert_eq!(exit, 35, "{err}");
}

#[test]
fn verbose_names_the_tls_version_cipher_and_certificate() {
    let pki = Pki::new(&["127.0.0.1"], true);
    let nginx = nginx_tls(&pki.cert_path, &pki.key_path, "");
    let (exit, _, err) = http(&[
        "-v",
        "--cacert",
        &pki.ca_pem_path,
        &format!("https://{}/a.txt", nginx.addr),
    ]);
    assert_eq!(exit, 0, "{err}");
    // nginx 1.22 offers up to TLS 1.2 unless told otherwise.
    assert!(err.contains("* TLSv1_2, TLS_ECDHE_"), "{err}");
    assert!(err.contains("* certificate: CN="), "{err}");
    assert!(err.contains("*   issued by: CN=netdeck test CA\n"), "{err}");
    let expires = err
        .lines()
        .find_map(|line| line.strip_prefix("*   expires:   "))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        expires.ends_with(" UTC") && expires.len() == "2027-01-01 00:00:00 UTC".len(),
        "{expires}"
    );
}
