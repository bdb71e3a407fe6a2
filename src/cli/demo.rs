//! `netdeck demo`: the guided demo's steps (the same list the window's Demo mode plays),
//! printed one by one as they run on loopback, with no network needed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::AsyncReadExt;
use smol::Executor;

use crate::demo::{Action, STEPS};
use crate::forms::ServerMode;
use crate::net::client::{self, Connection};
use crate::net::http::{HttpAgent, HttpOptions, HttpResponse};
use crate::net::server::{ReplyMode, Server, ServerEvent};
use crate::net::{EventSink, NetError};
use crate::payload::{self, ByteCount, Lines};

use super::Flags;

/// How long any one step may take.
const STEP_LIMIT: Duration = Duration::from_secs(10);
/// After the first bytes of an answer, how long to wait for more of it.
const ANSWER_PAUSE: Duration = Duration::from_millis(100);

/// What the steps so far have set up.
#[derive(Default)]
struct Stage {
    server: Option<Server<ServerEvent>>,
    client: Option<Connection>,
    /// Bytes the client sent last, to know its answer in full when it is an echo.
    sent: usize,
    http: Option<HttpAgent>,
}

pub fn run() -> Result<(), NetError> {
    let executor = Arc::new(Executor::new());
    smol::block_on(executor.run(async {
        let started = Instant::now();
        // The server's events are not needed here; a small queue that nobody reads would
        // stall it, so they go to a receiver that is kept and dropped at the end.
        let (sender, events) = async_channel::unbounded::<ServerEvent>();
        let sink = EventSink::new(sender);
        let mut stage = Stage::default();
        for (number, step) in STEPS.iter().enumerate() {
            println!("{}. {}", number + 1, step.caption);
            for action in step.actions {
                act(*action, &mut stage, &executor, &sink).await?;
            }
        }
        drop(events);
        println!("done in {}: every step worked", ms(started.elapsed()));
        Ok(())
    }))
}

async fn act(
    action: Action,
    stage: &mut Stage,
    executor: &Arc<Executor<'static>>,
    sink: &EventSink<ServerEvent>,
) -> Result<(), NetError> {
    let step = Instant::now();
    match action {
        Action::StartServer(mode) => {
            let config = crate::demo::server_form(mode).check()?;
            let server = Server::start(config, executor, sink.clone()).await?;
            println!(
                "   listening on {} ({})",
                server.local_addr(),
                ms(step.elapsed())
            );
            stage.server = Some(server);
        }
        Action::Connect => {
            let config = crate::demo::client_form(server_addr(stage)?.port(), "").check()?;
            let connection = client::connect(&config).await?;
            let local = connection.local.map(|a| a.to_string()).unwrap_or_default();
            println!(
                "   connected from {local}: TCP handshake {}",
                ms(connection.timings.connect)
            );
            stage.client = Some(connection);
        }
        Action::Send { text, times } => {
            let bytes = crate::demo::client_form(0, &text.repeat(times)).payload()?;
            let connection = connected(stage)?;
            let peer = connection.peer;
            client::write_all_and_flush(&mut connection.stream, &bytes)
                .await
                .map_err(|error| client::transfer_error(peer, error))?;
            println!("   → {}: {}", ByteCount(bytes.len() as u64), shown(&bytes));
            stage.sent = bytes.len();
        }
        Action::AwaitAnswer => {
            let expected = stage.sent;
            let answer = read_answer(connected(stage)?, expected).await?;
            println!(
                "   ← {}: {} ({})",
                ByteCount(answer.len() as u64),
                shown(&answer),
                ms(step.elapsed())
            );
        }
        Action::AutoReply(reply) => {
            let mut form = crate::demo::server_form(ServerMode::AutoReply);
            form.reply = reply.into();
            server(stage)?.set_mode(form.reply_mode()?);
            println!("   the server answers every message with \"{reply}\"");
        }
        Action::HttpMode => {
            server(stage)?.set_mode(ReplyMode::Http);
            println!("   the server answers HTTP requests");
        }
        Action::Request { method, path, json } => {
            let address = server_addr(stage)?;
            let request = crate::demo::http_form(address, method, path, json).check()?;
            let agent = match stage.http.take() {
                Some(agent) => agent,
                None => HttpAgent::new(HttpOptions {
                    timeout: STEP_LIMIT,
                    ..HttpOptions::default()
                })?,
            };
            let response = agent.send(&request, None).await;
            stage.http = Some(agent);
            show(&response?);
        }
        Action::ConnectToAClosedPort => {
            let port = crate::demo::closed_port()?;
            let config = crate::demo::client_form(port, "").check()?;
            match client::connect(&config).await {
                Ok(_) => {
                    return Err(NetError::invalid(
                        "port",
                        format!("127.0.0.1:{port} answered: the refusal could not be shown"),
                    ));
                }
                Err(error) => {
                    println!("   ✗ {error}");
                    println!("   hint: {}", error.hint(&Flags));
                }
            }
        }
        Action::StopAll => {
            stage.client = None;
            stage.http = None;
            if let Some(server) = stage.server.take() {
                server.stop().await;
            }
            println!("   all stopped ({})", ms(step.elapsed()));
        }
    }
    Ok(())
}

fn server(stage: &Stage) -> Result<&Server<ServerEvent>, NetError> {
    (stage.server.as_ref()).ok_or_else(|| NetError::invalid("demo", "no server is running"))
}

fn server_addr(stage: &Stage) -> Result<SocketAddr, NetError> {
    server(stage).map(Server::local_addr)
}

fn connected(stage: &mut Stage) -> Result<&mut Connection, NetError> {
    (stage.client.as_mut()).ok_or_else(|| NetError::invalid("demo", "the client is not connected"))
}

/// Reads the answer: `expected` bytes, or whatever came before a short pause after the
/// first bytes (an auto-reply is not as long as what it answers).
async fn read_answer(connection: &mut Connection, expected: usize) -> Result<Vec<u8>, NetError> {
    let peer = connection.peer;
    let mut answer = Vec::new();
    let mut buffer = vec![0; 64 * 1024];
    let deadline = Instant::now() + STEP_LIMIT;
    while answer.len() < expected {
        let wait = if answer.is_empty() {
            deadline.saturating_duration_since(Instant::now())
        } else {
            ANSWER_PAUSE
        };
        let read = client::with_timeout(connection.stream.read(&mut buffer), wait, || {
            format!("the answer from {peer}")
        })
        .await;
        match read {
            Ok(Ok(0)) => break,
            Ok(Ok(count)) => answer.extend_from_slice(&buffer[..count]),
            Ok(Err(error)) => return Err(client::transfer_error(peer, error)),
            Err(_) if !answer.is_empty() => break,
            Err(timeout) => return Err(timeout),
        }
    }
    Ok(answer)
}

/// Data as one line, cut after 60 characters.
fn shown(bytes: &[u8]) -> String {
    let text = payload::display_text(bytes, Lines::Escape);
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
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
