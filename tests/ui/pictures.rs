//! Pictures of the window at work, for README: a server with a live and an ended connection,
//! both sides of a loopback demo, a client conversation in hex, an HTTP response and the Log,
//! at 800x480, at the 150% layout of that panel and at 1920x1080. Real sockets and peers make
//! the content; each picture must show a real page (many colours).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::Peer;
use crate::common::ui::{
    connect_the_client_tab_to_its_server, drawing_backend, element, open_tab, run_until,
    screenshots_dir, start_an_echo_server,
};
use crate::screenshots::{colours, write_png};
use netdeck::gui::GuiOptions;
use netdeck::gui::ui::{AppWindow, ClientAdapter, HttpAdapter, ServerAdapter, Tab};
use slint::{ComponentHandle, LogicalSize, Model};

/// Runs the event loop long enough for the buttons' colour animations to end.
fn settle() {
    let until = Instant::now() + Duration::from_millis(400);
    run_until("the animations to end", || Instant::now() >= until);
}

pub fn the_window_at_work_at_800x480_150_percent_and_1920x1080() {
    drawing_backend(false);
    let dir = screenshots_dir();
    let window = AppWindow::new().unwrap();
    let _gui = netdeck::gui::setup(&window, &GuiOptions::default()).unwrap();
    window.window().set_size(LogicalSize::new(800.0, 480.0));
    window.show().unwrap();
    let server = window.global::<ServerAdapter>();
    let client = window.global::<ClientAdapter>();
    let http = window.global::<HttpAdapter>();

    // An echo server, and the seed's one-shot client: it sends, reads the echo, and goes.
    let port = start_an_echo_server(&window);
    let mut seed = TcpStream::connect(("127.0.0.1", port)).unwrap();
    seed.write_all("hello 안녕하세요".as_bytes()).unwrap();
    seed.shutdown(std::net::Shutdown::Write).unwrap();
    let mut echo = Vec::new();
    seed.read_to_end(&mut echo).unwrap();
    drop(seed);
    run_until("the seed's client to end", || {
        (server.get_clients().iter()).any(|row| row.ended)
    });

    // The Client tab connects to the same server, and talks.
    connect_the_client_tab_to_its_server(&window, port);
    for message in ["hello\\n", "GET / HTTP/1.0\\r\\n\\r\\n"] {
        element(&window, "Message").set_accessible_value(message);
        element(&window, "Send message").invoke_accessible_default_action();
    }
    run_until("the echoes", || {
        client.get_counters() == "24 B in · 24 B out"
    });

    // An HTTP request to a server of Python's.
    let peer = Peer::http(&[]);
    open_tab(&window, "HTTP");
    element(&window, "URL").set_accessible_value(format!("http://{}/json", peer.addr));
    element(&window, "Send request").invoke_accessible_default_action();
    run_until("the response", || {
        http.get_has_response() && !http.get_busy()
    });

    let sizes = [
        (800.0, 480.0, "800x480"),
        (800.0 / 1.5, 480.0 / 1.5, "800x480-150"),
        (1920.0, 1080.0, "1920x1080"),
    ];
    for (width, height, size) in sizes {
        window.window().set_size(LogicalSize::new(width, height));
        let picture = |name: &str| {
            settle();
            let image = window.window().take_snapshot().unwrap();
            let path = dir.join(format!("at-work-{name}-{size}.png"));
            write_png(&path, &image);
            assert!(colours(&image) > 50, "{} looks blank", path.display());
        };

        // The server: the ended one-shot client selected, its conversation shown.
        window.set_current_tab(Tab::Server);
        let ended = (server.get_clients().iter())
            .find(|row| row.ended)
            .expect("the ended client is listed");
        server.invoke_select_client(ended.id);
        picture("server");

        // Both ends of the Client tab's connection.
        let linked = (server.get_clients().iter())
            .find(|row| !row.ended)
            .expect("the Client tab's connection is listed");
        server.invoke_select_client(linked.id);
        window.set_current_tab(Tab::Both);
        picture("both-sides");

        window.set_current_tab(Tab::Client);
        element(&window, "Show: Hex").invoke_accessible_default_action();
        picture("client-hex");
        element(&window, "Show: Text").invoke_accessible_default_action();

        window.set_current_tab(Tab::Http);
        http.set_view(1);
        picture("http-response");

        window.set_current_tab(Tab::Log);
        picture("log");
    }
}
