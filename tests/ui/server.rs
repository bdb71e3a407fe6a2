//! The Server tab driven the way a person (or a screen reader) does: elements found by their
//! accessible labels, real sockets behind them. One test: the testing backend's event loop can
//! be set up once per process.

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use common::ui::{element, element_starting, open_tab, run_until};
use i_slint_backend_testing::ElementHandle;
use netdeck::gui::ui::{AppWindow, ServerAdapter};
use slint::{ComponentHandle, Model};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn the_server_tab_starts_lists_clients_and_stops() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(&window, &netdeck::gui::GuiOptions::default()).unwrap();
    window.show().unwrap();
    let adapter = window.global::<ServerAdapter>();

    // A port that is not a port is refused under its field, and nothing starts.
    element(&window, "Port").set_accessible_value("70000");
    element(&window, "Start").invoke_accessible_default_action();
    assert_eq!(
        adapter.get_port_error(),
        "port: 70000 is not a port number (0 to 65535)"
    );
    assert!(!adapter.get_busy() && !adapter.get_listening());

    // The error goes as soon as the field changes.
    let port = free_port();
    element(&window, "Port").set_accessible_value(port.to_string());
    assert_eq!(adapter.get_port(), port.to_string());
    assert_eq!(adapter.get_port_error(), "", "the old error is cleared");
    element(&window, "Start").invoke_accessible_default_action();
    run_until("the listening state", || {
        adapter.get_status().starts_with("Listening")
    });
    assert!(adapter.get_listening());
    assert_eq!(
        adapter.get_status(),
        format!("Listening on 127.0.0.1:{port} · 0 clients")
    );

    // A real client shows up in the list.
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let client = TcpStream::connect(addr).unwrap();
    run_until("the client in the list", || {
        adapter.get_clients().row_count() == 1
    });
    let row = adapter.get_clients().row_data(0).unwrap();
    assert_eq!(row.peer, client.local_addr().unwrap().to_string());
    assert!(adapter.get_status().ends_with("· 1 client"));

    // The seed's client connects, sends and closes: it stays listed, ended, with its text.
    let seed = {
        let mut seed = TcpStream::connect(addr).unwrap();
        seed.write_all("hello 안녕하세요".as_bytes()).unwrap();
        seed.local_addr().unwrap()
    };
    run_until("the seed's client listed as ended", || {
        (adapter.get_clients().iter()).any(|row| row.ended && row.peer == seed.to_string())
    });
    assert!(
        adapter.get_status().ends_with("· 1 client"),
        "an ended connection is not counted as connected"
    );
    element_starting(&window, &format!("Client {seed}, ended: closed by peer"))
        .invoke_accessible_default_action();
    assert_eq!(adapter.get_selected_peer(), seed.to_string());
    element(&window, "Received: hello 안녕하세요");
    element(&window, "ended: closed by peer");

    // What the server sends shows in the conversation of the connection it went to.
    let live = client.local_addr().unwrap();
    element_starting(&window, &format!("Client {live}, since")).invoke_accessible_default_action();
    element(&window, "Payload").set_accessible_value("hi there");
    element(&window, "Send to the selected client").invoke_accessible_default_action();
    run_until("what the server sent, in the conversation", || {
        ElementHandle::find_by_accessible_label(&window, "Sent: hi there")
            .next()
            .is_some()
    });
    let mut got = [0; 8];
    (&client).read_exact(&mut got).unwrap();
    assert_eq!(&got, b"hi there");

    // Clear ended forgets the seed's client and keeps the live one.
    element(&window, "Clear ended").invoke_accessible_default_action();
    assert_eq!(adapter.get_clients().row_count(), 1);
    assert_eq!(adapter.get_selected_peer(), live.to_string());

    // The Log tab lists both, one under the other, each saying which server it is from.
    open_tab(&window, "Log");
    let listening = element(
        &window,
        &format!("server :{port}: listening on 127.0.0.1:{port}"),
    );
    let connected = element(
        &window,
        &format!(
            "server :{port}: + {} connected",
            client.local_addr().unwrap()
        ),
    );
    assert!(
        listening.absolute_position().y + listening.size().height
            <= connected.absolute_position().y,
        "log lines are drawn one under the other"
    );
    open_tab(&window, "Server");

    // A second listener on another port; the first keeps listening and keeps its client.
    let other = free_port();
    element(&window, "Port").set_accessible_value(other.to_string());
    element(&window, "Start").invoke_accessible_default_action();
    run_until("the second listener", || {
        adapter.get_status() == format!("Listening on 127.0.0.1:{other} · 0 clients")
    });
    assert_eq!(adapter.get_listeners().row_count(), 2);
    let visitor = TcpStream::connect(("127.0.0.1", other)).unwrap();
    run_until("the second listener's client", || {
        adapter.get_clients().row_count() == 1
    });
    let row = adapter.get_clients().row_data(0).unwrap();
    assert_eq!(row.peer, visitor.local_addr().unwrap().to_string());
    let visitor_addr = visitor.local_addr().unwrap();
    element_starting(&window, &format!("Client {visitor_addr}, "))
        .invoke_accessible_default_action();
    assert_eq!(adapter.get_selected_peer(), visitor_addr.to_string());
    element_starting(&window, &format!("Listener 127.0.0.1:{port}, "))
        .invoke_accessible_default_action();
    assert_eq!(
        adapter.get_selected_peer(),
        "",
        "another listener's client is not shown as selected"
    );
    assert_eq!(
        adapter.get_status(),
        format!("Listening on 127.0.0.1:{port} · 1 client")
    );
    let row = adapter.get_clients().row_data(0).unwrap();
    assert_eq!(row.peer, client.local_addr().unwrap().to_string());
    element(&window, &format!("Stop listener 127.0.0.1:{other}"))
        .invoke_accessible_default_action();
    run_until("one listener left", || {
        adapter.get_listeners().row_count() == 1 && !adapter.get_busy()
    });
    assert!(TcpStream::connect(("127.0.0.1", other)).is_err());
    assert_eq!(
        adapter.get_status(),
        format!("Listening on 127.0.0.1:{port} · 1 client"),
        "the first listener and its client are as they were"
    );

    element(&window, "Stop").invoke_accessible_default_action();
    run_until("the stopped state", || {
        !adapter.get_listening() && !adapter.get_busy()
    });
    assert_eq!(adapter.get_status(), "Stopped");
    assert_eq!(adapter.get_clients().row_count(), 0);
    assert!(
        TcpListener::bind(addr).is_ok(),
        "Stop frees the port at once"
    );
    assert!(
        !adapter.get_all_interfaces(),
        "loopback is not every interface"
    );

    // Listening on every interface is shown as a warning.
    element(&window, "Bind address").set_accessible_value("0.0.0.0");
    element(&window, "Port").set_accessible_value("0");
    element(&window, "Start").invoke_accessible_default_action();
    run_until("listening on all interfaces", || adapter.get_listening());
    assert!(adapter.get_all_interfaces());
    element(&window, "Warning: listening on all interfaces");
    element(&window, "Stop").invoke_accessible_default_action();
    run_until("the stopped state", || {
        !adapter.get_listening() && !adapter.get_busy()
    });
}

pub fn a_tls_server_shows_its_certificate_and_each_clients_subject() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(&window, &netdeck::gui::GuiOptions::default()).unwrap();
    window.show().unwrap();
    let adapter = window.global::<ServerAdapter>();
    let pki = common::Pki::new(&["localhost"], true);

    // A client CA without TLS is refused in words.
    let port = free_port();
    element(&window, "Port").set_accessible_value(port.to_string());
    element(&window, "TLS").invoke_accessible_default_action();
    run_until("the certificate fields", || {
        ElementHandle::find_by_accessible_label(&window, "Client CA")
            .next()
            .is_some()
    });
    element(&window, "Client CA").set_accessible_value(pki.ca_pem_path.as_str());
    element(&window, "TLS").invoke_accessible_default_action();
    element(&window, "Start").invoke_accessible_default_action();
    assert_eq!(
        adapter.get_tls_error(),
        "tls: a certificate, key or client CA is only used with TLS, which is off; turn it on"
    );
    assert!(!adapter.get_listening());

    // With TLS on, the generated certificate's fingerprint is shown for clients to pin.
    element(&window, "TLS").invoke_accessible_default_action();
    element(&window, "Start").invoke_accessible_default_action();
    run_until("the listening state", || adapter.get_listening());
    let certificate = adapter.get_certificate();
    assert!(
        certificate.starts_with("TLS, certificate SHA-256 ")
            && certificate
                .ends_with(", self-signed for localhost, 127.0.0.1, client certificate required"),
        "{certificate}"
    );
    element(&window, certificate.as_str());

    // A client with a certificate is listed with its subject.
    let mut s_client = std::process::Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-connect",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["-cert", &pki.client_cert_path, "-key", &pki.client_key_path])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl runs");
    let _watchdog = common::Watchdog::new(s_client.id());
    s_client.stdin.as_mut().unwrap().write_all(b"hi\n").unwrap();
    run_until("the client and its certificate's subject", || {
        (adapter.get_clients().iter())
            .any(|row| row.detail.starts_with("CN=netdeck test client · since"))
    });

    // A plain client is listed as ended, saying why.
    let mut plain = TcpStream::connect(("127.0.0.1", port)).unwrap();
    plain.write_all(b"hello?\n").unwrap();
    run_until("the plain client, ended", || {
        (adapter.get_clients().iter()).any(|row| {
            row.ended
                && row.detail.starts_with(
                    r#"ended: TLS handshake failed: the client speaks plain TCP, not TLS (it sent "hello?\n")"#,
                )
        })
    });
    let _ = s_client.kill();
    let _ = s_client.wait();
    element(&window, "Stop").invoke_accessible_default_action();
    run_until("the stopped state", || {
        !adapter.get_listening() && !adapter.get_busy()
    });
}
