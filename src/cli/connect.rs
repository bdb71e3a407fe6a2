//! `netdeck connect`: the TCP client on the command line. What arrives goes to stdout as raw
//! bytes (or a hex dump); notes and errors go to stderr.

use std::cell::Cell;
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use clap::ArgMatches;
use futures_lite::{AsyncReadExt, AsyncWriteExt, FutureExt, StreamExt};
use smol::{Timer, Unblock};

use crate::config::Presets;
use crate::forms::parse::{parse_duration_ms, parse_seconds};
use crate::forms::{ClientForm, LineEndingChoice};
use crate::net::NetError;
use crate::net::client::{self, ClientConfig, DEFAULT_CONNECT_TIMEOUT, Family, Stream};
use crate::net::tls;
use crate::payload::{self, LineEnding};
use crate::report;

/// How long closing (TLS close_notify, FIN) may take before we just go.
const CLOSE_LIMIT: Duration = Duration::from_secs(2);

/// Bytes written between two marks of progress (see `--idle`).
const PROGRESS_PIECE: usize = 16 * 1024;

/// Bytes moved per read, from the socket or from standard input.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("tls-source").args(["tls", "preset"]).multiple(true))]
pub struct ConnectArgs {
    /// Host name, IPv4 address or IPv6 address; or HOST:PORT ([IPv6]:PORT) in one.
    #[arg(required_unless_present = "preset")]
    pub host: Option<String>,
    /// Port to connect to.
    pub port: Option<String>,
    /// Send TEXT (escapes: \r \n \t \0 \\ \xNN). Repeatable; payloads go out in the order given.
    #[arg(long, value_name = "TEXT")]
    pub send: Vec<String>,
    /// Send HEX bytes (48 65 6c, 0x48,0x65 or 48656c). Repeatable. What arrives is then shown
    /// as a hex dump, unless --raw.
    #[arg(long, value_name = "HEX")]
    pub hex: Vec<String>,
    /// After the payloads, stream standard input until it ends, then half-close.
    #[arg(long)]
    pub stdin: bool,
    /// End each text payload with LF.
    #[arg(long, conflicts_with = "crlf")]
    pub lf: bool,
    /// End each text payload with CRLF, and each line of --stdin too (as `ncat -C`).
    #[arg(long)]
    pub crlf: bool,
    /// After the last send, wait MS milliseconds for replies, then close. Without it, stay
    /// until the server closes.
    #[arg(long, value_name = "MS", allow_hyphen_values = true)]
    pub wait: Option<String>,
    /// Give up connecting (each address, and the TLS handshake) after S seconds (default 5).
    /// It does not limit the session once connected.
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    pub timeout: Option<String>,
    /// End the session, with an error, when nothing moves either way for S seconds (default:
    /// no limit).
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    pub idle: Option<String>,
    /// Show what arrives as a hex dump, however the payload was given.
    #[arg(long, conflicts_with = "raw")]
    pub hexdump: bool,
    /// Write what arrives exactly as it comes (the default, unless a --hex payload is given).
    #[arg(long)]
    pub raw: bool,
    /// Begin each line of what arrives, and each note, with the local time to the millisecond.
    #[arg(short = 't', long)]
    pub timestamps: bool,
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
    /// Connect from this local address (as ncat -s).
    #[arg(short = 's', long, value_name = "ADDR")]
    pub source: Option<String>,
    /// Connect from this local port (as ncat -p).
    #[arg(short = 'p', long, value_name = "PORT")]
    pub source_port: Option<String>,
    /// Use only the host's IPv4 addresses.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use only the host's IPv6 addresses.
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Go through a proxy: http://HOST:PORT (CONNECT), socks5://HOST:PORT, or
    /// socks5h://HOST:PORT (the proxy resolves the host's name).
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Start from the client preset NAME saved in the window: its host, port, TLS choice,
    /// payload and line ending, and the source, address family and proxy a settings file can
    /// give it. What is given here replaces the preset's value; --send and --hex replace its
    /// payload.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
}

/// Everything checked and ready before the first packet.
struct Plan {
    config: ClientConfig,
    payloads: Vec<Vec<u8>>,
    stdin: bool,
    /// Lines of standard input end in CRLF.
    stdin_crlf: bool,
    wait: Option<Duration>,
    /// Nothing moving either way this long ends the session.
    idle: Option<Duration>,
    hex_output: bool,
    timestamps: bool,
}

impl ConnectArgs {
    fn plan(&self, matches: Option<&ArgMatches>, settings: &Path) -> Result<Plan, NetError> {
        let mut form = match &self.preset {
            Some(name) => super::saved_preset(name, Presets::client, settings)?,
            None => ClientForm::default(),
        };
        let from_preset = self.preset.is_some();
        let (host, port) = match (&self.host, &self.port) {
            (Some(host), None) => match super::split_host_port(host) {
                Some((host, port)) => (Some(host), Some(port)),
                None if from_preset => (Some(host.clone()), None),
                None => {
                    return Err(NetError::invalid(
                        "port",
                        format!(
                            "missing: give it after the host (netdeck connect {host} PORT), or as {host}:PORT"
                        ),
                    ));
                }
            },
            (Some(host), Some(_)) if super::has_port(host) => {
                return Err(NetError::invalid(
                    "port",
                    format!("given twice: `{host}` has one already"),
                ));
            }
            (host, port) => (host.clone(), port.clone()),
        };
        if let Some(host) = host {
            form.host = host;
        } else if !from_preset {
            form.host.clear();
        }
        if let Some(port) = port {
            form.port = port;
        } else if !from_preset {
            form.port.clear();
        }
        form.tls |= self.tls;
        form.insecure |= self.insecure;
        if let Some(source) = &self.source {
            form.source = source.clone();
        }
        if let Some(source_port) = &self.source_port {
            form.source_port = source_port.clone();
        }
        if self.ipv4 {
            form.family = Some(Family::Ipv4);
        } else if self.ipv6 {
            form.family = Some(Family::Ipv6);
        }
        if let Some(proxy) = &self.proxy {
            form.proxy = proxy.clone();
        }
        if self.crlf {
            form.line_ending = LineEndingChoice::CrLf;
        } else if self.lf {
            form.line_ending = LineEndingChoice::Lf;
        }
        let checked = form.check()?;
        let saved = self.preset.as_ref().map(|_| &form);
        let line_ending: LineEnding = form.line_ending.into();
        let mut payloads = super::ordered_payloads(&self.send, &self.hex, matches, line_ending)?;
        // --send and --hex replace the preset's payload.
        let saved_payload = saved.filter(|s| payloads.is_empty() && !s.payload.is_empty());
        if let Some(saved) = saved_payload {
            // The preset's payload goes out as --send or --hex would send it.
            let field = if saved.hex { "hex" } else { "send" };
            payloads.push(saved.payload().map_err(|error| error.in_field(field))?);
        }
        let seconds = |field: &'static str, given: &Option<String>| {
            given
                .as_deref()
                .map(|text| parse_seconds(field, text))
                .transpose()
        };
        let timeout = seconds("timeout", &self.timeout)?;
        let idle = seconds("idle", &self.idle)?;
        if !form.tls && (self.insecure || self.cacert.is_some() || self.tls_choices.any()) {
            return Err(NetError::invalid(
                "tls",
                "--insecure, --cacert, --cert, --alpn, --sni, --ciphers and --tlsv1.x need TLS, which is off; add --tls",
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
                tls,
                ..checked
            },
            payloads,
            stdin: self.stdin,
            stdin_crlf: form.line_ending == LineEndingChoice::CrLf,
            idle,
            timestamps: self.timestamps,
            wait: self
                .wait
                .as_deref()
                .map(|text| parse_duration_ms("wait", text))
                .transpose()?,
            hex_output: self.hexdump
                || (!self.raw && (!self.hex.is_empty() || saved_payload.is_some_and(|s| s.hex))),
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
        let mut signals = super::watch_signals()?;
        let connection = client::connect(&plan.config).await?;
        let peer = connection.peer;
        let reached = match &connection.proxy {
            Some(proxy) => format!(
                "{}:{} through the proxy {proxy}",
                plan.config.host, plan.config.port
            ),
            None => peer.to_string(),
        };
        match &connection.tls {
            Some(tls) => plan.note(&format!(
                "connected to {reached} ({})",
                report::tls_summary(tls)
            )),
            None => plan.note(&format!("connected to {reached}")),
        }
        let plain = connection.tls.is_none();
        let (mut reader, mut writer) = futures_lite::io::split(connection.stream);
        let last_activity = Cell::new(Instant::now());
        let exchange = talk(
            receive(&mut reader, &plan, peer, plain, &last_activity),
            send(&mut writer, &plan, peer, &last_activity),
            plan.wait,
        );
        let idle = async {
            let Some(limit) = plan.idle else {
                return std::future::pending().await;
            };
            // Sleeps until the latest activity is `limit` old.
            while last_activity.get().elapsed() < limit {
                Timer::at(last_activity.get() + limit).await;
            }
            Err(NetError::Idle { peer, after: limit })
        };
        let interrupted = async {
            signals.next().await;
            Ok(())
        };
        let result = exchange.or(idle).or(interrupted).await;
        // A peer that stopped reading must not keep us here: closing gets a short while.
        let _ = client::with_timeout(writer.close(), CLOSE_LIMIT, String::new).await;
        result
    })
}

impl Plan {
    /// A note on standard error, with the time if asked.
    fn note(&self, text: &str) {
        eprintln!("{}netdeck: {text}", self.stamp());
    }

    fn stamp(&self) -> String {
        report::line_stamp(self.timestamps)
    }
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
    last_activity: &Cell<Instant>,
) -> Result<(), NetError> {
    let failed = |error| client::transfer_error(peer, error);
    for payload in &plan.payloads {
        writer.write_all(payload).await.map_err(failed)?;
        writer.flush().await.map_err(failed)?;
        last_activity.set(Instant::now());
    }
    if plan.stdin {
        let mut input = Unblock::with_capacity(CHUNK, io::stdin());
        let mut buffer = vec![0; CHUNK];
        let mut crlf = plan.stdin_crlf.then(CrLf::default);
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
            let chunk = match &mut crlf {
                Some(crlf) => crlf.convert(&buffer[..n]),
                None => std::borrow::Cow::Borrowed(&buffer[..n]),
            };
            // In pieces, so that a slow link counts as moving for --idle.
            for piece in chunk.chunks(PROGRESS_PIECE) {
                writer.write_all(piece).await.map_err(failed)?;
                last_activity.set(Instant::now());
            }
            writer.flush().await.map_err(failed)?;
        }
        // Tell the server we are done, as ncat does; replies can still arrive.
        writer.close().await.map_err(failed)?;
    }
    Ok(())
}

/// Ends each line with CRLF: a lone LF becomes CRLF, an existing CRLF stays, across chunks.
#[derive(Default)]
struct CrLf {
    after_cr: bool,
}

impl CrLf {
    fn convert<'a>(&mut self, chunk: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        let mut out = Vec::with_capacity(chunk.len() + chunk.len() / 16);
        for &byte in chunk {
            if byte == b'\n' && !self.after_cr {
                out.push(b'\r');
            }
            out.push(byte);
            self.after_cr = byte == b'\r';
        }
        std::borrow::Cow::Owned(out)
    }
}

/// Copies what arrives to stdout until the server closes. A plain connection whose first
/// bytes are the server's TLS record ends there: they are TLS, not the server's data.
async fn receive(
    reader: &mut futures_lite::io::ReadHalf<Stream>,
    plan: &Plan,
    peer: std::net::SocketAddr,
    plain: bool,
    last_activity: &Cell<Instant>,
) -> Result<(), NetError> {
    let mut out = io::stdout().lock();
    let mut buffer = vec![0; CHUNK];
    let mut offset = 0u64;
    // With timestamps: the next byte written begins a line.
    let mut at_line_start = true;
    loop {
        let n = match reader.read(&mut buffer).await {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(error) => return Err(client::transfer_error(peer, error)),
        };
        last_activity.set(Instant::now());
        let received = &buffer[..n];
        if plain && offset == 0 && tls::answers_in_tls(received) {
            return Err(NetError::TlsOnPlainConnection { peer });
        }
        let written = match (plan.hex_output, plan.timestamps) {
            (true, false) => out.write_all(payload::hex_dump(received, offset).as_bytes()),
            (true, true) => {
                let stamp = plan.stamp();
                let dump = payload::hex_dump(received, offset);
                dump.lines()
                    .try_for_each(|row| writeln!(out, "{stamp}{row}"))
            }
            (false, false) => out.write_all(received),
            (false, true) => {
                let stamp = plan.stamp();
                received
                    .split_inclusive(|&b| b == b'\n')
                    .try_for_each(|line| {
                        if at_line_start {
                            out.write_all(stamp.as_bytes())?;
                        }
                        at_line_start = line.ends_with(b"\n");
                        out.write_all(line)
                    })
            }
        };
        offset += n as u64;
        if written.and_then(|()| out.flush()).is_err() {
            // Nobody reads our output any more.
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_in_one_argument() {
        let split = |text| super::super::split_host_port(text);
        assert_eq!(
            split("example.com:80"),
            Some(("example.com".into(), "80".into()))
        );
        assert_eq!(split("[::1]:8080"), Some(("::1".into(), "8080".into())));
        assert_eq!(split("::1"), None, "a bare IPv6 address");
        assert_eq!(split("example.com"), None);
        assert_eq!(split(":80"), None);
        assert_eq!(split("[::1]"), None);
    }

    #[test]
    fn crlf_ends_lines_across_chunks_without_doubling() {
        let mut crlf = CrLf::default();
        assert_eq!(&*crlf.convert(b"a\nb\r"), b"a\r\nb\r");
        assert_eq!(&*crlf.convert(b"\nc\n"), b"\nc\r\n");
    }
}
