//! The headless commands: the same engine as the GUI, printing one line per event.

mod connect;
mod demo;
mod http;
mod serve;

use clap::{ArgMatches, Parser, Subcommand};

pub use connect::ConnectArgs;
pub use http::HttpArgs;
pub use serve::ServeArgs;

use crate::config;
use crate::net::NetError;

#[derive(Debug, Parser)]
#[command(
    name = "netdeck",
    version,
    about = "A touch-friendly network workbench: TCP server, TCP client and HTTP requests.",
    long_about = "A touch-friendly network workbench: TCP server, TCP client and HTTP requests.\n\
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
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Listen for TCP clients and print what they send.
    Serve(ServeArgs),
    /// Connect to a TCP server, send payloads, print what comes back.
    Connect(ConnectArgs),
    /// Send an HTTP request and print the answer.
    Http(Box<HttpArgs>),
    /// Show server, TCP client and HTTP working together on loopback (no network needed).
    Demo,
}

/// Runs a headless command to its end. `matches` are the command's own, for the order of
/// repeated options.
pub fn run(command: CliCommand, matches: Option<&ArgMatches>) -> Result<(), NetError> {
    match command {
        CliCommand::Serve(args) => serve::run(args),
        CliCommand::Connect(args) => connect::run(args, matches),
        CliCommand::Http(args) => http::run(*args),
        CliCommand::Demo => demo::run(),
    }
}

/// The preset `name` from the settings file, picked by `find` (`Presets::http`, ...). A file
/// that cannot be used is reported on stderr and counts as having no presets.
fn saved_preset<T: Clone>(
    name: &str,
    find: for<'a> fn(&'a config::Presets, &str, &std::path::Path) -> Result<&'a T, NetError>,
) -> Result<T, NetError> {
    // A bad name is refused before the file is touched.
    config::preset_name(name)?;
    let path = config::config_path();
    let loaded = config::load(&path);
    if let Some(warning) = &loaded.warning {
        eprintln!("netdeck: warning: {warning}");
    }
    find(&loaded.config.presets, name, &path).cloned()
}
