//! `netdeck serve`: the TCP server on the command line.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use async_signal::{Signal, Signals};
use futures_lite::{FutureExt, StreamExt};
use smol::Executor;

use crate::config::Presets;
use crate::engine::EVENT_QUEUE;
use crate::forms::{ServerForm, ServerMode};
use crate::net::server::{Server, ServerConfig, ServerEvent};
use crate::net::{EventSink, NetError};
use crate::payload::Encoding;
use crate::report::{self, DataStyle};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Local address to listen on: 127.0.0.1 (this machine only, the default), 0.0.0.0 or ::
    /// (every interface), or one of this machine's addresses.
    #[arg(long, value_name = "IP")]
    pub bind: Option<String>,
    /// Port to listen on (default 1234); 0 picks a free one and prints it.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub port: Option<String>,
    /// Send every chunk received back to its sender.
    #[arg(long, conflicts_with_all = ["reply", "http"])]
    pub echo: bool,
    /// Answer every HTTP request with 200 and a JSON description of the request.
    #[arg(long, conflicts_with = "reply")]
    pub http: bool,
    /// Answer every chunk received with TEXT (escapes: \r \n \t \0 \\ \xNN).
    #[arg(long, value_name = "TEXT")]
    pub reply: Option<String>,
    /// Close clients over this many at once.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_clients: Option<String>,
    /// Print data as hex bytes instead of text.
    #[arg(long)]
    pub hex: bool,
    /// Leave out the data lines (for bulk transfers); connections are still printed.
    #[arg(long)]
    pub quiet: bool,
    /// Serve exactly one client, and exit when it disconnects.
    #[arg(long)]
    pub once: bool,
    /// Start from the server preset NAME saved in the window: its address, port, client limit
    /// and mode. What is given here replaces the preset's value.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
}

impl ServeArgs {
    /// The preset's form (or the default one) with what is given here in its place, checked
    /// before anything starts.
    fn config(&self, settings: &Path) -> Result<ServerConfig, NetError> {
        let mut form = match &self.preset {
            Some(name) => super::saved_preset(name, Presets::server, settings)?,
            None => ServerForm::default(),
        };
        let given = [
            (&self.bind, &mut form.bind),
            (&self.port, &mut form.port),
            (&self.max_clients, &mut form.max_clients),
        ];
        for (given, field) in given {
            if let Some(text) = given {
                field.clone_from(text);
            }
        }
        if let Some(reply) = &self.reply {
            form.mode = ServerMode::AutoReply;
            form.reply.clone_from(reply);
        } else if self.echo {
            form.mode = ServerMode::Echo;
        } else if self.http {
            form.mode = ServerMode::Http;
        }
        let config = form.check()?;
        Ok(ServerConfig {
            max_clients: if self.once {
                Some(1)
            } else {
                config.max_clients
            },
            report_data: !self.quiet,
            ..config
        })
    }
}

pub fn run(args: ServeArgs, settings: &Path) -> Result<(), NetError> {
    let config = args.config(settings)?;
    let style = DataStyle {
        encoding: if args.hex {
            Encoding::Hex
        } else {
            Encoding::Text
        },
        max_chars: None,
    };
    let executor = Arc::new(Executor::new());
    smol::block_on(executor.run(async {
        let mut signals =
            Signals::new([Signal::Int, Signal::Term]).map_err(|source| NetError::Io {
                action: "cannot watch for Ctrl-C".into(),
                source,
            })?;
        let (sender, events) = async_channel::bounded(EVENT_QUEUE);
        let mut server = Some(Server::start(config, &executor, EventSink::new(sender)).await?);
        let mut stopping = None;
        let mut stop = |server: &mut Option<Server<ServerEvent>>| {
            // The events that follow report every client's end, then `Stopped`.
            if let Some(server) = server.take() {
                stopping = Some(executor.spawn(server.stop()));
            }
        };
        let mut out = BufWriter::new(io::stdout().lock());
        loop {
            let next = async { events.recv().await.ok() }
                .or(async {
                    signals.next().await;
                    None
                })
                .await;
            let Some(event) = next else {
                stop(&mut server);
                continue;
            };
            let ended_only_client = args.once && matches!(event, ServerEvent::Disconnected { .. });
            if writeln!(out, "{}", report::server_line(&event, style)).is_err() {
                // Nobody reads our output any more: nothing left to do.
                break;
            }
            if events.is_empty() {
                let _ = out.flush();
            }
            if event == ServerEvent::Stopped {
                break;
            }
            if ended_only_client {
                stop(&mut server);
            }
        }
        let _ = out.flush();
        Ok(())
    }))
}
