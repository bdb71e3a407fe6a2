//! `netdeck serve`: the TCP server on the command line.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_lite::{AsyncReadExt, FutureExt, StreamExt};
use smol::{Executor, Unblock};

use crate::config::Presets;
use crate::engine::EVENT_QUEUE;
use crate::forms::{ServerForm, ServerMode};
use crate::net::server::{
    Broadcaster, ClientId, DisconnectReason, ReceivedSink, Server, ServerConfig, ServerEvent,
};
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
            report_data: !self.quiet,
            streams_to_clients: self.stdin,
            ..config
        })
    }
}

pub fn run(args: ServeArgs, settings: &Path) -> Result<(), NetError> {
    let mut config = args.config(settings)?;
    let tls = config.tls.is_some();
    let data_out = match (&args.output, args.raw) {
        (Some(path), _) => Some(DataOut::file(path)?),
        (None, true) => Some(DataOut::stdout()?),
        (None, false) => None,
    };
    config.sink = data_out.clone().map(|out| out as Arc<dyn ReceivedSink>);
    let mut printer = Printer {
        out: if args.raw {
            Box::new(BufWriter::new(io::stderr().lock()))
        } else {
            Box::new(BufWriter::new(io::stdout().lock()))
        },
        target: if args.raw {
            "standard error"
        } else {
            "standard output"
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
            if let ServerEvent::Disconnected {
                reason: DisconnectReason::NotWritten(_),
                ..
            } = event
            {
                // Whatever comes next would be lost too: stop at once (dropping the server
                // closes every client).
                break;
            }
            printer.print(&event)?;
            if events.is_empty() {
                printer.flush()?;
            }
            if event == ServerEvent::Stopped {
                break;
            }
            if ended_only_client {
                stop(&mut server);
            }
        }
        printer.flush()
    }))
    .and(data_out.map_or(Ok(()), |out| out.outcome()))
}

/// Where `--raw` and `-o FILE` write the bytes received: the file itself, written from the
/// server's read buffer with no buffer of its own, so nothing waits here to be flushed.
#[derive(Debug)]
struct DataOut {
    file: Mutex<File>,
    /// The path as given, or "standard output".
    target: String,
    /// The first write that failed; nothing is written after it.
    failure: Mutex<Option<io::Error>>,
}

impl DataOut {
    /// Opens (or creates) the file given with `-o`; a device or FIFO is written as it is.
    fn file(path: &Path) -> Result<Arc<Self>, NetError> {
        let target = path.display().to_string();
        match File::create(path) {
            Ok(file) => Ok(Self::new(file, target)),
            Err(source) => Err(NetError::OutputFailed { target, source }),
        }
    }

    /// Standard output's own descriptor, bypassing the standard library's line buffer, which
    /// would copy binary data looking for line ends.
    fn stdout() -> Result<Arc<Self>, NetError> {
        let target = "standard output".to_string();
        match io::stdout().as_fd().try_clone_to_owned() {
            Ok(fd) => Ok(Self::new(File::from(fd), target)),
            Err(source) => Err(NetError::OutputFailed { target, source }),
        }
    }

    fn new(file: File, target: String) -> Arc<Self> {
        Arc::new(DataOut {
            file: Mutex::new(file),
            target,
            failure: Mutex::new(None),
        })
    }

    fn failure(&self) -> MutexGuard<'_, Option<io::Error>> {
        self.failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The first failed write, as the command's error.
    fn outcome(&self) -> Result<(), NetError> {
        match self.failure().take() {
            Some(source) => Err(NetError::OutputFailed {
                target: self.target.clone(),
                source,
            }),
            None => Ok(()),
        }
    }
}

impl ReceivedSink for DataOut {
    fn write(&self, bytes: &[u8]) -> io::Result<()> {
        let mut failure = self.failure();
        if let Some(first) = &*failure {
            // Bytes after a gap would pass for a whole stream.
            return Err(same_error(first));
        }
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(bytes).inspect_err(|error| {
            *failure = Some(same_error(error));
        })
    }
}

/// A copy of an I/O error (they are not `Clone`) with the same kind and words.
fn same_error(error: &io::Error) -> io::Error {
    match error.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(error.kind(), error.to_string()),
    }
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
    /// Where `out` goes, for the error when it cannot be written.
    target: &'static str,
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
    fn print(&mut self, event: &ServerEvent) -> Result<(), NetError> {
        self.write(event).map_err(|error| self.failed(error))
    }

    fn flush(&mut self) -> Result<(), NetError> {
        self.out.flush().map_err(|error| self.failed(error))
    }

    fn failed(&self, source: io::Error) -> NetError {
        NetError::OutputFailed {
            target: self.target.into(),
            source,
        }
    }

    fn write(&mut self, event: &ServerEvent) -> io::Result<()> {
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
}
