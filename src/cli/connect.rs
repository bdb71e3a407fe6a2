//! `netdeck connect`: the TCP client on the command line. What arrives goes to stdout as raw
//! bytes (or a hex dump); notes and errors go to stderr.

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use async_signal::{Signal, Signals};
use clap::ArgMatches;
use futures_lite::{AsyncReadExt, AsyncWriteExt, FutureExt, StreamExt};
use smol::{Timer, Unblock};

use crate::config::Presets;
use crate::forms::parse::{parse_duration_ms, parse_seconds};
use crate::forms::{ClientForm, LineEndingChoice};
use crate::net::NetError;
use crate::net::client::{self, ClientConfig, DEFAULT_CONNECT_TIMEOUT, Stream};
use crate::net::tls;
use crate::payload::{self, Encoding, LineEnding};
use crate::report;

/// How long closing (TLS close_notify, FIN) may take before we just go.
const CLOSE_LIMIT: Duration = Duration::from_secs(2);

/// Bytes moved per read, from the socket or from standard input.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("tls-source").args(["tls", "preset"]).multiple(true))]
pub struct ConnectArgs {
    /// Host name, IPv4 address or IPv6 address.
    #[arg(required_unless_present = "preset")]
    pub host: Option<String>,
    /// Port to connect to.
    #[arg(required_unless_present = "preset")]
    pub port: Option<String>,
    /// Send TEXT (escapes: \r \n \t \0 \\ \xNN). Repeatable; payloads go out in the order given.
    #[arg(long, value_name = "TEXT")]
    pub send: Vec<String>,
    /// Send HEX bytes (48 65 6c, 0x48,0x65 or 48656c). Repeatable. What arrives is then shown
    /// as a hex dump.
    #[arg(long, value_name = "HEX")]
    pub hex: Vec<String>,
    /// After the payloads, stream standard input until it ends, then half-close.
    #[arg(long)]
    pub stdin: bool,
    /// End each text payload with LF.
    #[arg(long, conflicts_with = "crlf")]
    pub lf: bool,
    /// End each text payload with CRLF.
    #[arg(long)]
    pub crlf: bool,
    /// After the last send, wait MS milliseconds for replies, then close. Without it, stay
    /// until the server closes.
    #[arg(long, value_name = "MS", allow_hyphen_values = true)]
    pub wait: Option<String>,
    /// Give up connecting after S seconds (default 5), and fail when nothing arrives for S
    /// seconds.
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    pub timeout: Option<String>,
    /// Speak TLS; the certificate is checked against the system's web roots.
    #[arg(long)]
    pub tls: bool,
    /// With --tls: accept any certificate (self-signed, expired, other host). Testing only.
    #[arg(long, requires = "tls-source")]
    pub insecure: bool,
    /// With --tls: also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "FILE", requires = "tls-source")]
    pub cacert: Option<String>,
    #[command(flatten)]
    pub tls_choices: super::TlsChoices,
    /// Start from the client preset NAME saved in the window: its host, port, TLS choice,
    /// payload and line ending. What is given here replaces the preset's value; --send and
    /// --hex replace its payload.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
}

/// Everything checked and ready before the first packet.
struct Plan {
    config: ClientConfig,
    payloads: Vec<Vec<u8>>,
    stdin: bool,
    wait: Option<Duration>,
    hex_output: bool,
}

impl ConnectArgs {
    fn plan(&self, matches: Option<&ArgMatches>, settings: &Path) -> Result<Plan, NetError> {
        let mut form = match &self.preset {
            Some(name) => super::saved_preset(name, Presets::client, settings)?,
            None => ClientForm::default(),
        };
        let from_preset = self.preset.is_some();
        if let Some(host) = &self.host {
            form.host.clone_from(host);
        } else if !from_preset {
            form.host.clear();
        }
        if let Some(port) = &self.port {
            form.port.clone_from(port);
        } else if !from_preset {
            form.port.clear();
        }
        form.tls |= self.tls;
        form.insecure |= self.insecure;
        if self.crlf {
            form.line_ending = LineEndingChoice::CrLf;
        } else if self.lf {
            form.line_ending = LineEndingChoice::Lf;
        }
        let checked = form.check()?;
        let saved = self.preset.as_ref().map(|_| &form);
        let line_ending: LineEnding = form.line_ending.into();
        // Payloads go out in command-line order, --send and --hex interleaved.
        let positions = |id: &str| -> Vec<usize> {
            matches
                .and_then(|m| m.indices_of(id))
                .map(|indices| indices.collect())
                .unwrap_or_default()
        };
        let (send_at, hex_at) = (positions("send"), positions("hex"));
        let mut ordered = Vec::new();
        for (n, text) in self.send.iter().enumerate() {
            let bytes = payload::encode(text, Encoding::Text, line_ending).map_err(|source| {
                NetError::Payload {
                    field: "send",
                    source,
                }
            })?;
            ordered.push((send_at.get(n).copied().unwrap_or(n), bytes));
        }
        for (n, hex) in self.hex.iter().enumerate() {
            let bytes = payload::parse_hex(hex).map_err(|source| NetError::Payload {
                field: "hex",
                source,
            })?;
            ordered.push((hex_at.get(n).copied().unwrap_or(usize::MAX), bytes));
        }
        ordered.sort_by_key(|(position, _)| *position);
        // --send and --hex replace the preset's payload.
        let saved_payload = saved.filter(|s| ordered.is_empty() && !s.payload.is_empty());
        if let Some(saved) = saved_payload {
            // The preset's payload goes out as --send or --hex would send it.
            let field = if saved.hex { "hex" } else { "send" };
            ordered.push((0, saved.payload().map_err(|error| error.in_field(field))?));
        }
        let payloads = ordered.into_iter().map(|(_, bytes)| bytes).collect();
        let timeout = self
            .timeout
            .as_deref()
            .map(|text| parse_seconds("timeout", text))
            .transpose()?;
        if !form.tls && (self.insecure || self.cacert.is_some() || self.tls_choices.any()) {
            return Err(NetError::invalid(
                "tls",
                "--insecure, --cacert, --cert and --tlsv1.x need TLS, which is off; add --tls",
            ));
        }
        let tls = match checked.tls {
            Some(mut options) => {
                if let Some(path) = &self.cacert {
                    options.extra_roots = tls::load_pem_certificates(path)?;
                }
                Some(self.tls_choices.apply(options)?)
            }
            None => None,
        };
        Ok(Plan {
            config: ClientConfig {
                connect_timeout: timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
                idle_timeout: timeout,
                tls,
                ..checked
            },
            payloads,
            stdin: self.stdin,
            wait: self
                .wait
                .as_deref()
                .map(|text| parse_duration_ms("wait", text))
                .transpose()?,
            hex_output: !self.hex.is_empty() || saved_payload.is_some_and(|s| s.hex),
        })
    }
}

pub fn run(
    args: ConnectArgs,
    matches: Option<&ArgMatches>,
    settings: &Path,
) -> Result<(), NetError> {
    let plan = args.plan(matches, settings)?;
    smol::block_on(async {
        let mut signals =
            Signals::new([Signal::Int, Signal::Term]).map_err(|source| NetError::Io {
                action: "cannot watch for Ctrl-C".into(),
                source,
            })?;
        let connection = client::connect(&plan.config).await?;
        let peer = connection.peer;
        match &connection.tls {
            Some(tls) => eprintln!(
                "netdeck: connected to {peer} ({})",
                report::tls_summary(tls)
            ),
            None => eprintln!("netdeck: connected to {peer}"),
        }
        let (mut reader, mut writer) = futures_lite::io::split(connection.stream);
        let last_activity = std::cell::Cell::new(Instant::now());
        let exchange = talk(
            receive(&mut reader, &plan, peer, &last_activity),
            send(&mut writer, &plan, peer),
            plan.wait,
        );
        let interrupted = async {
            signals.next().await;
            Ok(())
        };
        let result = exchange.or(interrupted).await;
        // A peer that stopped reading must not keep us here: closing gets a short while.
        let _ = client::with_timeout(writer.close(), CLOSE_LIMIT, String::new).await;
        result
    })
}

/// Runs sending and receiving side by side. The conversation ends when either fails, when
/// the server has closed and everything is sent, or `wait` after the last send (without
/// `wait`, when the server closes).
async fn talk(
    receiving: impl Future<Output = Result<(), NetError>>,
    sending: impl Future<Output = Result<(), NetError>>,
    wait: Option<Duration>,
) -> Result<(), NetError> {
    enum First {
        Received(Result<(), NetError>),
        Sent(Result<(), NetError>),
    }
    let mut receiving = std::pin::pin!(receiving);
    let mut sending = std::pin::pin!(sending);
    let first = async { First::Received(receiving.as_mut().await) }
        .or(async { First::Sent(sending.as_mut().await) })
        .await;
    match first {
        // The server closed its side; what is left to send still goes (as ncat does).
        First::Received(Ok(())) => sending.await,
        First::Received(Err(error)) | First::Sent(Err(error)) => Err(error),
        First::Sent(Ok(())) => match wait {
            Some(wait) => {
                receiving
                    .or(async {
                        Timer::after(wait).await;
                        Ok(())
                    })
                    .await
            }
            None => receiving.await,
        },
    }
}

/// Sends the payloads in order, then standard input if asked.
async fn send(
    writer: &mut futures_lite::io::WriteHalf<Stream>,
    plan: &Plan,
    peer: std::net::SocketAddr,
) -> Result<(), NetError> {
    let failed = |error| client::transfer_error(peer, error);
    for payload in &plan.payloads {
        writer.write_all(payload).await.map_err(failed)?;
        writer.flush().await.map_err(failed)?;
    }
    if plan.stdin {
        let mut input = Unblock::with_capacity(CHUNK, io::stdin());
        let mut buffer = vec![0; CHUNK];
        loop {
            let n = input
                .read(&mut buffer)
                .await
                .map_err(|source| NetError::Io {
                    action: "cannot read standard input".into(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            writer.write_all(&buffer[..n]).await.map_err(failed)?;
            writer.flush().await.map_err(failed)?;
        }
        // Tell the server we are done, as ncat does; replies can still arrive.
        writer.close().await.map_err(failed)?;
    }
    Ok(())
}

/// Copies what arrives to stdout until the server closes. With a timeout, silence for that
/// long is an error.
async fn receive(
    reader: &mut futures_lite::io::ReadHalf<Stream>,
    plan: &Plan,
    peer: std::net::SocketAddr,
    last_activity: &std::cell::Cell<Instant>,
) -> Result<(), NetError> {
    let mut out = io::stdout().lock();
    let mut buffer = vec![0; CHUNK];
    let mut offset = 0u64;
    loop {
        let read = async { Some(reader.read(&mut buffer).await) };
        let idle = async {
            match plan.config.idle_timeout {
                Some(limit) => {
                    Timer::at(last_activity.get() + limit).await;
                    None
                }
                None => std::future::pending().await,
            }
        };
        let n = match read.or(idle).await {
            Some(Ok(0)) => return Ok(()),
            Some(Ok(n)) => n,
            Some(Err(error)) => return Err(client::transfer_error(peer, error)),
            None => {
                return Err(NetError::Timeout {
                    action: format!("waiting for data from {peer}"),
                    after: plan.config.idle_timeout.unwrap_or_default(),
                });
            }
        };
        last_activity.set(Instant::now());
        let written = if plan.hex_output {
            out.write_all(payload::hex_dump(&buffer[..n], offset).as_bytes())
        } else {
            out.write_all(&buffer[..n])
        };
        offset += n as u64;
        if written.and_then(|()| out.flush()).is_err() {
            // Nobody reads our output any more.
            return Ok(());
        }
    }
}
