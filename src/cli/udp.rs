//! `netdeck udp listen` and `netdeck udp send`: UDP on the command line, one line per datagram.

use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgMatches, Subcommand};
use futures_lite::{AsyncBufReadExt, FutureExt, StreamExt};
use smol::{Executor, Timer, Unblock};

use crate::forms::parse::{parse_bind_ip, parse_duration_ms, parse_host, parse_port};
use crate::forms::{UdpForm, UdpMode};
use crate::net::client::{self, DEFAULT_CONNECT_TIMEOUT};
use crate::net::error::LocalUse;
use crate::net::udp::{self, Interface, UdpConfig, UdpEvent, UdpReply, UdpSession};
use crate::net::{EventSink, NetError};
use crate::payload::{self, Encoding, LineEnding};
use crate::report::{self, Count, DataStyle};

#[derive(Debug, Subcommand)]
pub enum UdpCommand {
    /// Bind a UDP port and print every datagram with its source.
    Listen(ListenArgs),
    /// Send datagrams and print the replies with their source.
    Send(SendArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListenArgs {
    /// Local address: 127.0.0.1 (the default; with --join, 0.0.0.0 or ::), 0.0.0.0 or ::
    /// (every interface), or one of this machine's addresses.
    #[arg(long, value_name = "IP")]
    pub bind: Option<String>,
    /// Port to bind (default 1234); 0 picks a free one and prints it.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub port: Option<String>,
    /// Send every datagram back to its source.
    #[arg(long, conflicts_with = "reply")]
    pub echo: bool,
    /// Answer every datagram with TEXT (escapes: \r \n \t \0 \\ \xNN).
    #[arg(long, value_name = "TEXT")]
    pub reply: Option<String>,
    /// Join this multicast group (IPv4 or IPv6); repeatable. Left when netdeck exits.
    #[arg(long, value_name = "GROUP")]
    pub join: Vec<String>,
    /// The interface groups are joined on: a name (eth0, lo), a number, or an IPv4 address
    /// of it. Without it the system picks one.
    #[arg(long, value_name = "IF")]
    pub interface: Option<String>,
    /// Print each datagram as a hex dump (offsets, hex bytes, printable characters).
    #[arg(long, conflicts_with = "raw")]
    pub hex: bool,
    /// Write exactly the bytes of each datagram to standard output; lines go to standard error.
    #[arg(long)]
    pub raw: bool,
    /// Exit after the first datagram (and its answer).
    #[arg(long)]
    pub once: bool,
    /// Begin each line with the local time, to the millisecond.
    #[arg(short = 't', long)]
    pub timestamps: bool,
}

#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// Host name, IPv4 or IPv6 address (a broadcast or multicast address too); or HOST:PORT.
    pub host: String,
    /// Port to send to.
    pub port: Option<String>,
    /// Send TEXT as one datagram (escapes: \r \n \t \0 \\ \xNN). Repeatable, in order.
    #[arg(long, value_name = "TEXT")]
    pub send: Vec<String>,
    /// Send HEX bytes as one datagram (48 65 6c, 0x48,0x65 or 48656c). Repeatable.
    #[arg(long, value_name = "HEX")]
    pub hex: Vec<String>,
    /// After the payloads, send each line of standard input as a datagram.
    #[arg(long)]
    pub stdin: bool,
    /// End each text datagram (and each --stdin line) with LF.
    #[arg(long, conflicts_with = "crlf")]
    pub lf: bool,
    /// End each text datagram (and each --stdin line) with CRLF.
    #[arg(long)]
    pub crlf: bool,
    /// Allow sending to a broadcast address (255.255.255.255 or a subnet's).
    #[arg(long)]
    pub broadcast: bool,
    /// Send from this local address: IP or IP:PORT ([IPv6]:PORT).
    #[arg(long, value_name = "IP[:PORT]")]
    pub bind: Option<String>,
    /// Hops the datagrams may take (1 to 255), multicast included.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub ttl: Option<String>,
    /// Send multicast out of this interface: a name (eth0, lo), a number, or an IPv4 address.
    #[arg(long, value_name = "IF")]
    pub interface: Option<String>,
    /// After the last datagram, wait MS milliseconds for replies (default 1000).
    #[arg(long, value_name = "MS", allow_hyphen_values = true)]
    pub wait: Option<String>,
    /// Send the payloads N times (default 1).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub repeat: Option<String>,
    /// With --repeat: MS milliseconds between rounds (default 1000).
    #[arg(
        long,
        value_name = "MS",
        requires = "repeat",
        allow_hyphen_values = true
    )]
    pub interval: Option<String>,
    /// Print replies as hex dumps.
    #[arg(long)]
    pub hexdump: bool,
    /// Begin each line with the local time, to the millisecond.
    #[arg(short = 't', long)]
    pub timestamps: bool,
}

const DEFAULT_PORT: &str = "1234";
/// Data as text with escapes, whole.
const FULL: DataStyle = DataStyle {
    encoding: Encoding::Text,
    max_chars: None,
};
const DEFAULT_WAIT: Duration = Duration::from_millis(1000);
const DEFAULT_INTERVAL: Duration = Duration::from_millis(1000);

pub fn run(command: UdpCommand, matches: Option<&ArgMatches>) -> Result<(), NetError> {
    match command {
        UdpCommand::Listen(args) => listen(args),
        UdpCommand::Send(args) => send(args, matches),
    }
}

/// How datagrams are printed.
struct Printer {
    out: Box<dyn Write>,
    hex: bool,
    timestamps: bool,
}

impl Printer {
    /// `127.0.0.1:50412 > hello (5 bytes)`, or its hex dump.
    fn datagram(&mut self, peer: SocketAddr, arrow: char, bytes: &[u8]) -> io::Result<()> {
        let stamp = report::line_stamp(self.timestamps);
        if self.hex {
            writeln!(
                self.out,
                "{stamp}{peer} {arrow} {}",
                Count(bytes.len(), "byte")
            )?;
            for row in payload::hex_dump(bytes, 0).lines() {
                writeln!(self.out, "{stamp}  {row}")?;
            }
        } else {
            let event = if arrow == '>' {
                UdpEvent::Received {
                    from: peer,
                    bytes: bytes.to_vec(),
                }
            } else {
                UdpEvent::Sent {
                    to: peer,
                    bytes: bytes.to_vec(),
                }
            };
            writeln!(
                self.out,
                "{stamp}{}",
                report::udp_line(&event, FULL, &super::Flags)
            )?;
        }
        self.out.flush()
    }

    fn line(&mut self, text: &str) -> io::Result<()> {
        writeln!(self.out, "{}{text}", report::line_stamp(self.timestamps))?;
        self.out.flush()
    }
}

fn listen(args: ListenArgs) -> Result<(), NetError> {
    // A group's datagrams reach a socket bound to every interface, not to loopback.
    let default_bind = match args.join.first() {
        Some(group) if group.contains(':') => "::",
        Some(_) => "0.0.0.0",
        None => "127.0.0.1",
    };
    let form = UdpForm {
        bind: args.bind.clone().unwrap_or_else(|| default_bind.into()),
        port: args.port.clone().unwrap_or_else(|| DEFAULT_PORT.into()),
        mode: if args.reply.is_some() {
            UdpMode::Reply
        } else if args.echo {
            UdpMode::Echo
        } else {
            UdpMode::Nothing
        },
        reply: args.reply.clone().unwrap_or_default(),
        join: args.join.join(","),
        interface: args.interface.clone().unwrap_or_default(),
        ..UdpForm::default()
    };
    let config = form.check()?;
    let answers = config.reply != UdpReply::Nothing;
    let mut lines = Printer {
        out: if args.raw {
            Box::new(io::stderr())
        } else {
            Box::new(BufWriter::new(io::stdout()))
        },
        hex: args.hex,
        timestamps: args.timestamps,
    };
    let executor = Arc::new(Executor::new());
    smol::block_on(executor.run(async {
        let mut signals = super::watch_signals()?;
        let (sender, events) = async_channel::bounded(crate::engine::EVENT_QUEUE);
        let session = UdpSession::open(config, &executor, EventSink::new(sender)).await?;
        let mut session = Some(session);
        let mut raw_out = io::stdout().lock();
        loop {
            let next = async { events.recv().await.ok() }
                .or(async {
                    signals.next().await;
                    None
                })
                .await;
            let event = match next {
                Some(event) => event,
                None => match session.take() {
                    // The events that follow end with `Closed`.
                    Some(open) => {
                        executor.spawn(open.close()).detach();
                        continue;
                    }
                    None => break,
                },
            };
            let printed = match &event {
                UdpEvent::Bound { .. } => {
                    lines.line(&report::udp_line(&event, FULL, &super::Flags))
                }
                UdpEvent::Received { from, bytes } if args.raw => lines
                    .line(&format!("{from} > {}", Count(bytes.len(), "byte")))
                    .and_then(|()| raw_out.write_all(bytes))
                    .and_then(|()| raw_out.flush()),
                UdpEvent::Received { from, bytes } => lines.datagram(*from, '>', bytes),
                UdpEvent::Sent { to, bytes } => lines.datagram(*to, '<', bytes),
                UdpEvent::Failed(error) => lines.line(&report::error_line(error, &super::Flags)),
                UdpEvent::Closed { .. } => {
                    let _ = lines.line(&report::udp_line(&event, FULL, &super::Flags));
                    break;
                }
            };
            if printed.is_err() {
                // Nobody reads our output any more.
                break;
            }
            let done_once = args.once
                && match &event {
                    UdpEvent::Received { .. } => !answers,
                    UdpEvent::Sent { .. } | UdpEvent::Failed(_) => true,
                    _ => false,
                };
            if done_once && let Some(open) = session.take() {
                executor.spawn(open.close()).detach();
            }
        }
        Ok(())
    }))
}

/// Everything checked before the first datagram.
struct SendPlan {
    target: SocketAddr,
    config: UdpConfig,
    payloads: Vec<Vec<u8>>,
    line_ending: LineEnding,
    stdin: bool,
    rounds: u64,
    interval: Duration,
    wait: Duration,
}

impl SendArgs {
    async fn plan(&self, matches: Option<&ArgMatches>) -> Result<SendPlan, NetError> {
        let (host, port) = match &self.port {
            Some(_) if super::has_port(&self.host) => {
                return Err(NetError::invalid(
                    "port",
                    format!("given twice: `{}` has one already", self.host),
                ));
            }
            Some(port) => (self.host.clone(), port.clone()),
            None => super::split_host_port(&self.host).ok_or_else(|| {
                NetError::invalid(
                    "port",
                    format!(
                        "missing: give it after the host (netdeck udp send {} PORT), or as {}:PORT",
                        self.host, self.host
                    ),
                )
            })?,
        };
        let host = parse_host("host", &host)?;
        let port = parse_port("port", &port)?;
        if port == 0 {
            return Err(NetError::invalid(
                "port",
                "0 is not a port datagrams can be sent to",
            ));
        }
        let line_ending = if self.crlf {
            LineEnding::CrLf
        } else if self.lf {
            LineEnding::Lf
        } else {
            LineEnding::None
        };
        let payloads = super::ordered_payloads(&self.send, &self.hex, matches, line_ending)?;
        if payloads.is_empty() && !self.stdin {
            return Err(NetError::invalid(
                "send",
                "nothing to send: give --send TEXT, --hex HEX or --stdin",
            ));
        }
        let whole = |field: &'static str, given: &Option<String>, low: u64, high: u64| {
            given
                .as_deref()
                .map(|text| match text.trim().parse::<u64>() {
                    Ok(n) if (low..=high).contains(&n) => Ok(n),
                    _ => Err(NetError::invalid(
                        field,
                        format!("`{text}` is not a whole number from {low} to {high}"),
                    )),
                })
                .transpose()
        };
        let ttl = whole("ttl", &self.ttl, 1, 255)?.map(|ttl| ttl as u32);
        let rounds = whole("repeat", &self.repeat, 1, 1_000_000)?.unwrap_or(1);
        let millis = |field: &'static str, given: &Option<String>, default: Duration| {
            given
                .as_deref()
                .map(|text| parse_duration_ms(field, text))
                .transpose()
                .map(|given| given.unwrap_or(default))
        };
        let interval = millis("interval", &self.interval, DEFAULT_INTERVAL)?;
        let wait = millis("wait", &self.wait, DEFAULT_WAIT)?;
        let bind = self.bind.as_deref().map(parse_local).transpose()?;
        let interface: Option<Interface> = self.interface.as_deref().map(str::parse).transpose()?;
        let target = *client::resolve(&host, port, DEFAULT_CONNECT_TIMEOUT)
            .await?
            .iter()
            .find(|addr| bind.is_none_or(|bind: SocketAddr| bind.is_ipv4() == addr.is_ipv4()))
            .ok_or_else(|| {
                NetError::invalid(
                    "bind",
                    format!("{host} has no address of the same family as the --bind address"),
                )
            })?;
        if target.ip() == IpAddr::V4(std::net::Ipv4Addr::BROADCAST) && !self.broadcast {
            return Err(udp::send_error(
                target,
                io::Error::from_raw_os_error(libc::EACCES),
            ));
        }
        let field = if self.hex.is_empty() {
            "send"
        } else {
            "send/hex"
        };
        for datagram in &payloads {
            udp::check_size(field, target, datagram.len())?;
        }
        // A unicast peer is connected to, so that its "port unreachable" is heard; replies to
        // a broadcast or multicast come from other addresses.
        let unicast = !target.ip().is_multicast()
            && target.ip() != IpAddr::V4(std::net::Ipv4Addr::BROADCAST)
            && !self.broadcast;
        // The socket's family is the destination's.
        let bind = bind.unwrap_or_else(|| {
            let any = match target {
                SocketAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                SocketAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
            };
            SocketAddr::new(any, 0)
        });
        Ok(SendPlan {
            target,
            config: UdpConfig {
                bind: Some(bind),
                broadcast: self.broadcast,
                ttl,
                interface,
                peer: unicast.then_some(target),
                ..UdpConfig::default()
            },
            payloads,
            line_ending,
            stdin: self.stdin,
            rounds,
            interval,
            wait,
        })
    }
}

/// `IP` or `IP:PORT` (`[IPv6]:PORT`) for `--bind`.
fn parse_local(text: &str) -> Result<SocketAddr, NetError> {
    if let Ok(addr) = text.trim().parse::<SocketAddr>() {
        return Ok(addr);
    }
    Ok(SocketAddr::new(parse_bind_ip("bind", text)?, 0))
}

fn send(args: SendArgs, matches: Option<&ArgMatches>) -> Result<(), NetError> {
    let mut replies = Printer {
        out: Box::new(BufWriter::new(io::stdout())),
        hex: args.hexdump,
        timestamps: args.timestamps,
    };
    let note = |text: &str| eprintln!("{}netdeck: {text}", report::line_stamp(args.timestamps));
    let executor = Arc::new(Executor::new());
    smol::block_on(executor.run(async {
        let plan = args.plan(matches).await?;
        let mut signals = super::watch_signals()?;
        let (sender, events) = async_channel::bounded(crate::engine::EVENT_QUEUE);
        let session = UdpSession::open(plan.config.clone(), &executor, EventSink::new(sender))
            .await
            .map_err(|error| error.for_use(LocalUse::SendFrom))?;
        let outcome = {
            let sending = async {
                for round in 0..plan.rounds {
                    if round > 0 {
                        Timer::after(plan.interval).await;
                    }
                    for datagram in &plan.payloads {
                        session.send_to_waiting(plan.target, datagram.clone()).await;
                    }
                }
                if plan.stdin {
                    let mut input = Unblock::new(io::stdin());
                    let mut reader = futures_lite::io::BufReader::new(&mut input);
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        let n = reader
                            .read_until(b'\n', &mut line)
                            .await
                            .map_err(|source| NetError::Io {
                                action: "cannot read standard input".into(),
                                source,
                            })?;
                        if n == 0 {
                            break;
                        }
                        let text = line.strip_suffix(b"\n").unwrap_or(&line);
                        let text = text.strip_suffix(b"\r").unwrap_or(text);
                        let mut datagram = text.to_vec();
                        datagram.extend_from_slice(plan.line_ending.bytes());
                        udp::check_size("stdin", plan.target, datagram.len())?;
                        session.send_to_waiting(plan.target, datagram).await;
                    }
                }
                Ok(())
            };
            // Events until sending is done and `wait` has passed; the first failure ends it.
            let printing = async {
                while let Ok(event) = events.recv().await {
                    match event {
                        UdpEvent::Bound { addr } => {
                            note(&format!("sending to udp {} from {addr}", plan.target))
                        }
                        UdpEvent::Received { from, bytes } => {
                            if replies.datagram(from, '>', &bytes).is_err() {
                                return Ok(());
                            }
                        }
                        UdpEvent::Sent { to, bytes } => {
                            note(&format!("sent {} to {to}", Count(bytes.len(), "byte")))
                        }
                        UdpEvent::Failed(error) => return Err(error),
                        UdpEvent::Closed { .. } => return Ok(()),
                    }
                }
                Ok(())
            };
            let mut printing = std::pin::pin!(printing);
            let mut sending = std::pin::pin!(sending);
            // Sending and printing side by side; a failure on either side ends it.
            let first = async { sending.as_mut().await.map(|()| true) }
                .or(async { printing.as_mut().await.map(|()| false) })
                .or(async {
                    signals.next().await;
                    Ok(false)
                })
                .await;
            match first {
                // Everything went: replies are printed for `wait` more.
                Ok(true) => {
                    printing
                        .as_mut()
                        .or(async {
                            Timer::after(plan.wait).await;
                            Ok(())
                        })
                        .await
                }
                Ok(false) => Ok(()),
                Err(error) => Err(error),
            }
        };
        // Nobody reads the events any more: closing must not wait for room for them.
        events.close();
        session.close().await;
        outcome
    }))
}
