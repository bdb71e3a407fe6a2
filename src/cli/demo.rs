//! `netdeck demo`: the server, the TCP client and HTTP requests talking to each other on
//! loopback, step by step, with no network needed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::AsyncReadExt;
use smol::Executor;

use crate::forms::parse::parse_url;
use crate::net::client::{self, ClientConfig};
use crate::net::http::{HttpAgent, HttpOptions, HttpRequest, HttpResponse};
use crate::net::server::{ReplyMode, Server, ServerConfig, ServerEvent};
use crate::net::{EventSink, NetError};
use crate::payload::{self, Lines};

/// How long any one step may take.
const STEP_LIMIT: Duration = Duration::from_secs(10);

pub fn run() -> Result<(), NetError> {
    let executor = Arc::new(Executor::new());
    smol::block_on(executor.run(async {
        let started = Instant::now();
        // The server's events are not needed here; a small queue that nobody reads would
        // stall it, so they go to a receiver that is kept and drained at the end.
        let (sender, events) = async_channel::unbounded::<ServerEvent>();

        println!("1. Server in HTTP mode on a free loopback port");
        let step = Instant::now();
        let config = ServerConfig {
            port: 0,
            mode: ReplyMode::Http,
            report_data: false,
            ..ServerConfig::default()
        };
        let server = Server::start(config, &executor, EventSink::new(sender)).await?;
        let addr = server.local_addr();
        println!("   listening on {addr} ({})", ms(step.elapsed()));

        println!("2. TCP client, raw: an HTTP request typed by hand");
        let step = Instant::now();
        let raw =
            format!("GET /typed-by-hand HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        println!(
            "   → {}",
            payload::display_text(raw.as_bytes(), Lines::Escape)
        );
        let answer = client::with_timeout(raw_exchange(addr, raw.as_bytes()), STEP_LIMIT, || {
            format!("the raw exchange with {addr}")
        })
        .await??;
        let status_line = answer
            .split(|&b| b == b'\n')
            .next()
            .map(|line| String::from_utf8_lossy(line).trim_end().to_string())
            .unwrap_or_default();
        println!(
            "   ← {status_line} … ({} bytes, connection closed by the server, {})",
            answer.len(),
            ms(step.elapsed())
        );

        let session = HttpAgent::new(HttpOptions {
            timeout: STEP_LIMIT,
            ..HttpOptions::default()
        })?;
        println!("3. HTTP GET /hello");
        let get = HttpRequest {
            method: "GET".into(),
            url: parse_url(&format!("http://{addr}/hello?from=demo"))?,
            headers: Vec::new(),
            omitted: Vec::new(),
            body: Vec::new().into(),
        };
        show(&session.send(&get, None).await?);

        println!("4. HTTP POST /submit with a JSON body, on the kept-alive connection");
        let post = HttpRequest {
            method: "POST".into(),
            url: parse_url(&format!("http://{addr}/submit"))?,
            headers: vec![("Content-Type".into(), "application/json".into())],
            omitted: Vec::new(),
            body: br#"{"sensor": "demo", "value": 21.5}"#.to_vec().into(),
        };
        show(&session.send(&post, None).await?);

        server.stop().await;
        drop(events);
        println!(
            "done in {}: server, raw TCP client and HTTP all work",
            ms(started.elapsed())
        );
        Ok(())
    }))
}

/// Sends `request` and reads until the server closes.
async fn raw_exchange(addr: std::net::SocketAddr, request: &[u8]) -> Result<Vec<u8>, NetError> {
    let mut connection =
        client::connect(&ClientConfig::new(addr.ip().to_string(), addr.port())).await?;
    let peer = connection.peer;
    client::write_all_and_flush(&mut connection.stream, request)
        .await
        .map_err(|error| client::transfer_error(peer, error))?;
    let mut answer = Vec::new();
    connection
        .stream
        .read_to_end(&mut answer)
        .await
        .map_err(|error| client::transfer_error(peer, error))?;
    Ok(answer)
}

fn show(response: &HttpResponse) {
    let t = &response.timings;
    println!(
        "   {} {} {}, {} body bytes{} — connect {}, send {}, wait {}, receive {}, total {}",
        response.version,
        response.status,
        response.reason,
        response.body_bytes,
        if response.reused_connection {
            " (connection reused)"
        } else {
            ""
        },
        ms(t.connect),
        ms(t.send),
        ms(t.wait),
        ms(t.receive),
        ms(t.total)
    );
    for line in String::from_utf8_lossy(&response.body).lines() {
        println!("   | {line}");
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}
