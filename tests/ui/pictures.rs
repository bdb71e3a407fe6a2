//! Pictures of the window at work, for README: a server with a live and an ended connection,
//! both sides of a loopback demo, a client conversation in hex, an HTTP response and the Log,
//! at 800x480, at the 150% layout of that panel, with stage text and at 1920x1080. Real sockets
//! and peers make the content; each picture must show a real page (many colours).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::Peer;
use crate::common::ui::{
    bind_an_echoing_udp_socket, connect_the_client_tab_to_its_server, drawing_backend, element,
    open_tab, run_until, screenshots_dir, start_an_echo_server,
};
use crate::screenshots::{colours, write_png};
use netdeck::gui::ui::{
    AppWindow, ClientAdapter, HttpAdapter, ServerAdapter, Tab, Theme, UdpAdapter,
};
use slint::{ComponentHandle, LogicalSize, Model};

/// Runs the event loop long enough for the buttons' colour animations to end.
fn settle() {
    let until = Instant::now() + Duration::from_millis(400);
    run_until("the animations to end", || Instant::now() >= until);
}

pub fn the_window_at_work_at_800x480_150_percent_and_1920x1080() {
    drawing_backend(false);
    let dir = screenshots_dir();
    let (window, _gui) = crate::common::ui::open_window(800.0, 480.0);
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
        (800.0, 480.0, "800x480-stage"),
        (1920.0, 1080.0, "1920x1080"),
    ];
    for (width, height, size) in sizes {
        window.window().set_size(LogicalSize::new(width, height));
        window.global::<Theme>().set_stage(size.ends_with("stage"));
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

/// Draws the window at 800x480 and 1920x1080 as `name-<size>.png`.
fn pictures_at_both_sizes(window: &AppWindow, name: &str) {
    for (width, height, size) in [(800.0, 480.0, "800x480"), (1920.0, 1080.0, "1920x1080")] {
        window.window().set_size(LogicalSize::new(width, height));
        settle();
        let image = window.window().take_snapshot().unwrap();
        let path = screenshots_dir().join(format!("{name}-{size}.png"));
        write_png(&path, &image);
        assert!(colours(&image) > 50, "{} looks blank", path.display());
    }
}

pub fn flows_graphs_and_demo_steps_at_800x480_and_1920x1080() {
    drawing_backend(false);
    let (window, _gui) = crate::common::ui::open_window(800.0, 480.0);
    let server = window.global::<ServerAdapter>();
    let client = window.global::<ClientAdapter>();

    // A conversation of the Client tab with the window's own echo server, as a flow.
    let port = start_an_echo_server(&window);
    connect_the_client_tab_to_its_server(&window, port);
    let mut echoed = 0;
    for (message, bytes) in [
        ("hello", 5),
        ("안녕하세요", 15),
        ("GET / HTTP/1.0\\r\\n\\r\\n", 18),
    ] {
        element(&window, "Message").set_accessible_value(message);
        element(&window, "Send message").invoke_accessible_default_action();
        echoed += bytes;
        let counters = format!("{echoed} B in · {echoed} B out");
        run_until("the echo", || client.get_counters() == counters);
    }
    element(&window, "Show: Flow").invoke_accessible_default_action();
    pictures_at_both_sizes(&window, "flow-client");

    // The server under load: a client of its own floods it for three seconds.
    let flood = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut reader = stream.try_clone().unwrap();
        let drain = std::thread::spawn(move || {
            let mut buffer = vec![0; 64 * 1024];
            while reader.read(&mut buffer).is_ok_and(|n| n > 0) {}
        });
        let started = Instant::now();
        let block = vec![b'x'; 16 * 1024];
        let mut second = 0;
        while started.elapsed() < Duration::from_secs(3) {
            // Each second a little more than the one before, so the line climbs.
            second = started.elapsed().as_secs() + 1;
            for _ in 0..second * 8 {
                stream.write_all(&block).unwrap();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        drain.join().unwrap();
        second
    });
    run_until("the flood to end", || flood.is_finished());
    flood.join().unwrap();
    window.set_current_tab(Tab::Server);
    let busiest = (server.get_clients().iter())
        .find(|row| row.detail.contains("MiB in"))
        .expect("the flood's connection is listed");
    server.invoke_select_client(busiest.id);
    element(&window, "Show: Graph").invoke_accessible_default_action();
    run_until("the graph to count the flood", || {
        (server.get_graphs().iter()).any(|rates| rates.received.iter().any(|b| b > 1_000_000))
    });
    pictures_at_both_sizes(&window, "graph-server");

    // Two steps of the guided demo.
    let demo = window.global::<netdeck::gui::ui::DemoAdapter>();
    demo.invoke_start();
    for step in 0..7 {
        run_until("the step to be done", || {
            demo.get_current() == step && !demo.get_busy()
        });
        // The handshake in the flow, and the HTTP answer with its waterfall; at 800x480 with
        // stage text too.
        if step == 1 || step == 6 {
            let name = format!("demo-step-{}", step + 1);
            pictures_at_both_sizes(&window, &name);
            window.window().set_size(LogicalSize::new(800.0, 480.0));
            window.global::<Theme>().set_stage(true);
            settle();
            let image = window.window().take_snapshot().unwrap();
            write_png(
                &screenshots_dir().join(format!("{name}-800x480-stage.png")),
                &image,
            );
            window.global::<Theme>().set_stage(false);
        }
        demo.invoke_next();
    }
    demo.invoke_stop();

    // The UDP tab echoing a sensor's readings, as a flow.
    window.window().set_size(LogicalSize::new(800.0, 480.0));
    let port = bind_an_echoing_udp_socket(&window);
    let udp = window.global::<UdpAdapter>();
    let sensor = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sensor
        .set_read_timeout(Some(crate::common::PATIENCE))
        .unwrap();
    for reading in ["temp=21.5C", "temp=21.6C", "temp=21.8C"] {
        sensor
            .send_to(reading.as_bytes(), ("127.0.0.1", port))
            .unwrap();
        sensor.recv_from(&mut [0; 64]).unwrap();
    }
    run_until("the sensor's three readings and their echoes", || {
        (udp.get_sources().iter()).any(|row| row.detail.starts_with("3 datagrams in, 3 out"))
    });
    udp.invoke_select_source(0);
    element(&window, "Show: Flow").invoke_accessible_default_action();
    pictures_at_both_sizes(&window, "udp-flow");
    element(&window, "Close").invoke_accessible_default_action();
    run_until("the closed socket", || !udp.get_bound());
}
