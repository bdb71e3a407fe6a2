//! The headless commands: the same engine as the GUI, printing one line per event.

mod connect;
mod demo;
mod http;
mod serve;
mod udp;

use std::path::Path;

use clap::{ArgMatches, Parser, Subcommand};

pub use connect::ConnectArgs;
pub use http::HttpArgs;
pub use serve::ServeArgs;

use crate::config;
use crate::net::NetError;
use crate::net::error::{Setting, Vocabulary};
use crate::net::tls::{self, Sni, TlsOptions, TlsVersion};
use crate::payload::{self, Encoding, LineEnding};

#[derive(Debug, Parser)]
#[command(
    name = "netdeck",
    version,
    about = "A touch-friendly network workbench: TCP server, TCP client, UDP and HTTP requests.",
    long_about = "A touch-friendly network workbench: TCP server, TCP client, UDP and HTTP requests.\n\
                  Without a command it opens the window; with one it runs headless."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CliCommand>,

    /// Kiosk mode: fullscreen, no window frame, the on-screen keyboard on, and no way to
    /// quit from the window (also NETDECK_KIOSK=1).
    #[arg(long)]
    pub kiosk: bool,

    /// In kiosk mode, keep the Quit button in the Settings tab.
    #[arg(long)]
    pub allow_quit: bool,

    /// Make everything in the window bigger or smaller, e.g. 1.5 on a large panel (0.5 to 3).
    #[arg(long, value_name = "F")]
    pub scale: Option<String>,

    /// Use this settings file instead of the usual one (a kiosk's own); `--preset` reads its
    /// presets from it too.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<std::path::PathBuf>,

    /// Never write the settings file: the window uses it as it is and says the settings are
    /// locked (as it does when the file cannot be written).
    #[arg(long)]
    pub read_only: bool,

    /// Open the window playing the guided demo by itself, over and over (the steps of
    /// `netdeck demo`), as a kiosk might on boot.
    #[arg(long)]
    pub demo: bool,

    /// Stage text: what an audience reads (conversations, flows, status lines, demo
    /// captions) at twice its size, for a room; on by itself with --kiosk --demo.
    #[arg(long)]
    pub stage: bool,
}

impl Cli {
    /// The settings file: `--config`, or the usual one.
    pub fn settings_file(&self) -> std::path::PathBuf {
        self.config.clone().unwrap_or_else(config::config_path)
    }
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Listen for TCP clients and print what they send.
    Serve(ServeArgs),
    /// Connect to a TCP server, send payloads, print what comes back.
    Connect(ConnectArgs),
    /// Send an HTTP request and print the answer.
    Http(Box<HttpArgs>),
    /// UDP: bind a port and print datagrams, or send datagrams and print the replies.
    #[command(subcommand)]
    Udp(udp::UdpCommand),
    /// Show server, TCP client and HTTP working together on loopback (no network needed).
    Demo,
}

/// Runs a headless command to its end. `matches` are the command's own, for the order of
/// repeated options.
/// `settings` is the settings file presets come from.
pub fn run(
    command: CliCommand,
    matches: Option<&ArgMatches>,
    settings: &Path,
) -> Result<(), NetError> {
    match command {
        CliCommand::Serve(args) => serve::run(args, settings),
        CliCommand::Connect(args) => connect::run(args, matches, settings),
        CliCommand::Http(args) => http::run(*args, settings),
        CliCommand::Udp(command) => udp::run(
            command,
            matches.and_then(|m| m.subcommand()).map(|(_, m)| m),
        ),
        CliCommand::Demo => demo::run(),
    }
}

/// The command line's words for the settings that hints point at: its flags.
pub struct Flags;

impl Vocabulary for Flags {
    fn name(&self, setting: Setting) -> Option<&'static str> {
        Some(match setting {
            Setting::StartServer => "the Server tab or `netdeck serve`",
            Setting::Tls => "--tls",
            Setting::Timeout => "--timeout",
            Setting::TrustedCa => "--cacert",
            Setting::AnyCertificate => "--insecure",
            Setting::MaxRedirects => "--max-redirects",
            Setting::InsecureRedirects => "--allow-insecure-redirects",
            Setting::ErrorBody => "without --fail",
            Setting::Proxy => "-x, or http_proxy / https_proxy",
            Setting::NoProxy => "--noproxy '*'",
            Setting::SaveToFile => "-o FILE",
            Setting::WriteAnyway => "-o -",
            Setting::ClientCertificate => "--cert FILE --key FILE",
            Setting::OldestTls => "--tlsv1.2",
            Setting::Alpn => "--alpn",
            Setting::Idle => "--idle S",
        })
    }
}

/// TLS choices `connect` and `http` share.
#[derive(Debug, Clone, clap::Args)]
pub struct TlsChoices {
    /// Show this client certificate (PEM) to servers that ask for one; its key comes from
    /// --key, or from the same file.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<String>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<String>,
    /// Accept TLS 1.2 or newer (the default).
    #[arg(long = "tlsv1.2", conflicts_with = "tls13")]
    pub tls12: bool,
    /// Accept only TLS 1.3.
    #[arg(long = "tlsv1.3")]
    pub tls13: bool,
    /// Offer these application protocols by ALPN, most wanted first (e.g. h2,http/1.1); the
    /// one the server picks is shown.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub alpn: Vec<String>,
    /// Send NAME as the server name (SNI) and check the certificate against it, instead of
    /// the host connected to.
    #[arg(long, value_name = "NAME", conflicts_with = "no_sni")]
    pub sni: Option<String>,
    /// Send no server name (SNI) at all.
    #[arg(long)]
    pub no_sni: bool,
    /// Offer only these cipher suites, most wanted first, separated by commas, in rustls's,
    /// IANA's or OpenSSL's names (TLS13_AES_128_GCM_SHA256, ECDHE-RSA-AES128-GCM-SHA256).
    #[arg(long, value_name = "LIST")]
    pub ciphers: Option<String>,
}

impl TlsChoices {
    pub fn any(&self) -> bool {
        self.cert.is_some()
            || self.tls12
            || self.tls13
            || !self.alpn.is_empty()
            || self.sni.is_some()
            || self.no_sni
            || self.ciphers.is_some()
    }

    /// `options` with the client certificate, versions, protocols, name and ciphers chosen
    /// here.
    pub fn apply(&self, mut options: TlsOptions) -> Result<TlsOptions, NetError> {
        if let Some(cert) = &self.cert {
            options.identity = Some(std::sync::Arc::new(tls::load_identity(
                cert,
                self.key.as_deref(),
            )?));
        }
        if self.tls13 {
            options.min_version = TlsVersion::V1_3;
        }
        let alpn: Vec<String> = self.alpn.iter().map(|p| p.trim().to_string()).collect();
        if let Some(empty) = alpn.iter().find(|p| p.is_empty() || p.len() > 255) {
            return Err(NetError::invalid(
                "alpn",
                format!(
                    "`{empty}` cannot be a protocol name: give names of 1 to 255 bytes, separated by commas"
                ),
            ));
        }
        options.alpn = alpn;
        if let Some(name) = &self.sni {
            options.sni = Sni::Name(name.clone());
        } else if self.no_sni {
            options.sni = Sni::Off;
        }
        if let Some(list) = &self.ciphers {
            options.ciphers = tls::cipher_suites("ciphers", list)?;
        }
        Ok(options)
    }
}

/// `HOST:PORT` or `[IPv6]:PORT` given as one argument; `None` for anything else (a bare IPv6
/// address has several colons).
pub(crate) fn split_host_port(text: &str) -> Option<(String, String)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host.to_string(), port.to_string()));
    }
    let (host, port) = text.split_once(':')?;
    (!host.is_empty() && !port.contains(':')).then(|| (host.to_string(), port.to_string()))
}

/// Ctrl-C and SIGTERM, to end a command cleanly.
fn watch_signals() -> Result<async_signal::Signals, NetError> {
    use async_signal::{Signal, Signals};
    Signals::new([Signal::Int, Signal::Term]).map_err(|source| NetError::Io {
        action: "cannot watch for Ctrl-C".into(),
        source,
    })
}

/// Whether `text` already ends in `:PORT` (digits), so a separate port would be a second one.
fn has_port(text: &str) -> bool {
    split_host_port(text)
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

/// The `--send` texts and `--hex` payloads as bytes, in the order they were given on the
/// command line (`matches` tells it; without them, texts first). Empty ones are refused.
fn ordered_payloads(
    send: &[String],
    hex: &[String],
    matches: Option<&ArgMatches>,
    line_ending: LineEnding,
) -> Result<Vec<Vec<u8>>, NetError> {
    let empty = |field: &'static str, example: &str| {
        NetError::invalid(
            field,
            format!("is empty; give something to send, such as --{field} {example}"),
        )
    };
    if send.iter().any(String::is_empty) {
        return Err(empty("send", "'hello\\n'"));
    }
    if hex.iter().any(|hex| hex.trim().is_empty()) {
        return Err(empty("hex", "'48 69 0a'"));
    }
    let positions = |id: &str| -> Vec<usize> {
        matches
            .and_then(|m| m.indices_of(id))
            .map(|indices| indices.collect())
            .unwrap_or_default()
    };
    let (send_at, hex_at) = (positions("send"), positions("hex"));
    let mut ordered = Vec::new();
    for (n, text) in send.iter().enumerate() {
        let bytes = payload::encode(text, Encoding::Text, line_ending).map_err(|source| {
            NetError::Payload {
                field: "send",
                source,
            }
        })?;
        ordered.push((send_at.get(n).copied().unwrap_or(n), bytes));
    }
    for (n, text) in hex.iter().enumerate() {
        let bytes = payload::parse_hex(text).map_err(|source| NetError::Payload {
            field: "hex",
            source,
        })?;
        ordered.push((hex_at.get(n).copied().unwrap_or(usize::MAX), bytes));
    }
    ordered.sort_by_key(|(position, _)| *position);
    Ok(ordered.into_iter().map(|(_, bytes)| bytes).collect())
}

/// The preset `name` from the system's presets or the settings file `path`, picked by `find`
/// (`Presets::http`, ...). A file that cannot be used is reported on stderr and counts as having
/// no presets.
fn saved_preset<T: Clone>(
    name: &str,
    find: for<'a> fn(&'a config::Presets, &str, &Path) -> Result<&'a T, NetError>,
    path: &Path,
) -> Result<T, NetError> {
    // A bad name is refused before the file is touched.
    crate::forms::parse::preset_name(name)?;
    // Presets for every user come first: a user's own cannot stand in for one.
    let system_file = config::system_config_path();
    let (system, warning) = config::load_system_presets(&system_file);
    if let Some(warning) = &warning {
        eprintln!("netdeck: warning: {warning}");
    }
    if let Ok(found) = find(&system, name, &system_file) {
        return Ok(found.clone());
    }
    let loaded = config::load(path);
    if let Some(warning) = &loaded.warning {
        eprintln!("netdeck: warning: {warning}");
    }
    find(&loaded.config.presets, name, path).cloned()
}
