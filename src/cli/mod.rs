//! The headless commands: the same engine as the GUI, printing one line per event.

mod serve;

use clap::{Parser, Subcommand};

pub use serve::ServeArgs;

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
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Listen for TCP clients and print what they send.
    Serve(ServeArgs),
}

/// Runs a headless command to its end.
pub fn run(command: CliCommand) -> Result<(), NetError> {
    match command {
        CliCommand::Serve(args) => serve::run(args),
    }
}
