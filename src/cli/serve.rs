//! `netdeck serve`: the TCP server on the command line.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use futures_lite::{AsyncReadExt, FutureExt, StreamExt};
use smol::{Executor, Unblock};

use crate::config::Presets;
use crate::engine::EVENT_QUEUE;
use crate::forms::{ServerForm, ServerMode};
use crate::net::server::{Broadcaster, ClientId, Server, ServerConfig, ServerEvent};
use crate::net::{EventSink, NetError};
use crate::payload::{self, Encoding};
use crate::report::{self, Count, DataStyle};

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
    /// Print data as a hex dump (offsets, hex bytes, printable characters) instead of text.
    #[arg(long, conflicts_with_all = ["raw", "output"])]
    pub hex: bool,
    /// Leave out the data lines (for bulk transfers); connections are still printed.
    #[arg(long)]
    pub quiet: bool,
    /// Write exactly the bytes received to standard output (several clients: in the order
    /// they arrive); the event lines go to standard error.
    #[arg(long, conflicts_with = "output")]
    pub raw: bool,
    /// Write exactly the bytes received to FILE (several clients: in the order they arrive);
    /// the event lines stay on standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Once the first client connects, send it standard input, to every client connected
    /// (as `ncat -l < file`); at its end, close the sending side and keep reading.
    #[arg(long, conflicts_with = "http")]
    pub stdin: bool,
    /// Begin each line with the local time, to the millisecond.
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Serve exactly one client, and exit when it disconnects.
    #[arg(long)]
    pub once: bool,
    /// Speak TLS (every mode, so `--tls --http` is an HTTPS server). Without --cert, a
    /// self-signed certificate is made at start for the bind address and localhost; its
    /// SHA-256 fingerprint is in the listening line.
    #[arg(long)]
    pub tls: bool,
    /// With --tls: the certificate chain to show (PEM); its key comes from --key, or from
    /// the same file.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<String>,
    /// With --tls: the certificate's private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub key: Option<String>,
    /// With --tls: require a client certificate signed by a CA in this PEM file; each
    /// client's certificate subject is printed.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<String>,
    /// With --tls: speak only these cipher suites, separated by commas, in rustls's, IANA's
    /// or OpenSSL's names (TLS13_AES_128_GCM_SHA256, ECDHE-ECDSA-AES128-GCM-SHA256).
    #[arg(long, value_name = "LIST")]
    pub ciphers: Option<String>,
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
            (&self.cert, &mut form.cert),
            (&self.key, &mut form.key),
            (&self.client_ca, &mut form.client_ca),
            (&self.ciphers, &mut form.ciphers),
        ];
        for (given, field) in given {
            if let Some(text) = given {
                field.clone_from(text);
            }
        }
        form.tls |= self.tls;
        let tls_only = [&self.cert, &self.key, &self.client_ca, &self.ciphers];
        if !form.tls && tls_only.iter().any(|given| given.is_some()) {
            return Err(NetError::invalid(
                "tls",
                "--cert, --key, --client-ca and --ciphers need TLS, which is off; add --tls",
            ));
        }
        if self.reply.as_deref() == Some("") {
            return Err(NetError::invalid(
                "reply",
                "is empty; give the text to answer with, such as --reply 'OK\\r\\n', or use --echo",
            ));
        }
        if self.once
            && let Some(limit) = &self.max_clients
            && limit.trim() != "1"
        {
            return Err(NetError::invalid(
                "max-clients",
                format!(
                    "--once serves exactly one client, so --max-clients {limit} contradicts it; leave one out"
                ),
            ));
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
            report_data: !self.quiet || self.raw || self.output.is_some(),
            streams_to_clients: self.stdin,
            ..config
        })
    }
}

pub fn run(args: ServeArgs, settings: &Path) -> Result<(), NetError> {
    let config = args.config(settings)?;
    let tls = config.tls.is_some();
    let mut data_out: Option<(Box<dyn Write>, String)> = match (&args.output, args.raw) {
        (Some(path), _) => {
            let target = path.display().to_string();
            let file = File::create(path).map_err(|source| NetError::WriteFailed {
                target: target.clone(),
                source,
            })?;
            Some((Box::new(BufWriter::with_capacity(CHUNK, file)), target))
        }
        (None, true) => Some((
            Box::new(BufWriter::with_capacity(CHUNK, io::stdout().lock())),
            "standard output".into(),
        )),
        (None, false) => None,
    };
    let mut printer = Printer {
        out: if args.raw {
            Box::new(BufWriter::new(io::stderr().lock()))
        } else {
            Box::new(BufWriter::new(io::stdout().lock()))
        },
        hex: args.hex,
        timestamps: args.timestamps,
        data_lines: !args.quiet && data_out.is_none(),
        sent_lines: !args.stdin,
        offsets: HashMap::new(),
    };
    let executor = Arc::new(Executor::new());
    smol::block_on(executor.run(async {
        let mut signals = super::watch_signals()?;
        let (sender, events) = async_channel::bounded(EVENT_QUEUE);
        let mut server = Some(Server::start(config, &executor, EventSink::new(sender)).await?);
        let mut stopping = None;
        let mut stdin_feed = None;
        let mut stop = |server: &mut Option<Server<ServerEvent>>| {
            // The events that follow report every client's end, then `Stopped`.
            if let Some(server) = server.take() {
                stopping = Some(executor.spawn(server.stop()));
            }
        };
        let mut outcome = Ok(());
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
            // The first client that can take data starts the stream: under TLS, once its
            // handshake is done.
            let ready = match &event {
                ServerEvent::Connected { .. } => !tls,
                ServerEvent::Secured { .. } => true,
                _ => false,
            };
            if args.stdin
                && stdin_feed.is_none()
                && ready
                && let Some(server) = &server
            {
                stdin_feed = Some(executor.spawn(feed_stdin(server.broadcaster())));
            }
            let ended_only_client = args.once && matches!(event, ServerEvent::Disconnected { .. });
            if let (ServerEvent::Received { bytes, .. }, Some((out, target))) =
                (&event, &mut data_out)
                && let Err(source) = out.write_all(bytes)
            {
                if source.kind() == io::ErrorKind::BrokenPipe {
                    // Nobody reads our output any more: nothing left to do.
                    break;
                }
                outcome = Err(NetError::WriteFailed {
                    target: target.clone(),
                    source,
                });
                stop(&mut server);
                data_out = None;
            }
            if printer.print(&event).is_err() {
                break;
            }
            if events.is_empty() {
                printer.flush();
                if let Some((out, _)) = &mut data_out {
                    let _ = out.flush();
                }
            }
            if event == ServerEvent::Stopped {
                break;
            }
            if ended_only_client {
                stop(&mut server);
            }
        }
        printer.flush();
        if let Some((mut out, target)) = data_out
            && let Err(source) = out.flush()
            && outcome.is_ok()
        {
            outcome = Err(NetError::WriteFailed { target, source });
        }
        outcome
    }))
}

/// Bytes read from standard input at a time.
const CHUNK: usize = 64 * 1024;

/// Sends standard input to every connected client, at the slowest one's pace, then closes the
/// sending side.
async fn feed_stdin(clients: Broadcaster<ServerEvent>) {
    let mut input = Unblock::with_capacity(CHUNK, io::stdin());
    let mut buffer = vec![0; CHUNK];
    loop {
        match input.read(&mut buffer).await {
            Ok(0) => break,
            Ok(n) => {
                clients.broadcast_waiting(&buffer[..n]).await;
            }
            Err(error) => {
                eprintln!("netdeck: cannot read standard input: {error}");
                break;
            }
        }
    }
    clients.finish_sending().await;
}

/// The event lines, as chosen on the command line.
struct Printer {
    out: Box<dyn Write>,
    /// Data as a hex dump.
    hex: bool,
    timestamps: bool,
    /// Whether received data is printed (not with --quiet, --raw or -o).
    data_lines: bool,
    /// Whether sent data is printed (not what comes from standard input).
    sent_lines: bool,
    /// Where each client's next dump row starts, received and sent.
    offsets: HashMap<(ClientId, bool), u64>,
}

impl Printer {
    fn print(&mut self, event: &ServerEvent) -> io::Result<()> {
        let data = match event {
            ServerEvent::Received { id, peer, bytes } => Some((*id, *peer, bytes, true)),
            ServerEvent::Sent { id, peer, bytes } => Some((*id, *peer, bytes, false)),
            ServerEvent::Disconnected { id, .. } => {
                self.offsets.remove(&(*id, true));
                self.offsets.remove(&(*id, false));
                None
            }
            _ => None,
        };
        let stamp = report::line_stamp(self.timestamps);
        match data {
            Some((_, _, _, true)) if !self.data_lines => Ok(()),
            Some((_, _, _, false)) if !self.sent_lines => Ok(()),
            Some((id, peer, bytes, received)) if self.hex => {
                let arrow = if received { '>' } else { '<' };
                writeln!(
                    self.out,
                    "{stamp}{peer} {arrow} {}",
                    Count(bytes.len(), "byte")
                )?;
                let offset = self.offsets.entry((id, received)).or_default();
                for row in payload::hex_dump(bytes, *offset).lines() {
                    writeln!(self.out, "{stamp}  {row}")?;
                }
                *offset += bytes.len() as u64;
                Ok(())
            }
            _ => {
                let style = DataStyle {
                    encoding: Encoding::Text,
                    max_chars: None,
                };
                writeln!(self.out, "{stamp}{}", report::server_line(event, style))
            }
        }
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
    }
}
