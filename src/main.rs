use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use netdeck::cli::{self, Cli};

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let args = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    raise_open_file_limit();
    match args.command {
        None => match netdeck::gui::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("netdeck: cannot open the window: {error}");
                eprintln!(
                    "hint: on a machine without a screen, use the headless commands (netdeck --help)."
                );
                ExitCode::FAILURE
            }
        },
        Some(command) => match cli::run(command, matches.subcommand().map(|(_, m)| m)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("netdeck: {error}");
                eprintln!("hint: {}", error.hint());
                ExitCode::from(error.exit_code())
            }
        },
    }
}

/// Thousands of clients need thousands of descriptors: take all the system allows.
fn raise_open_file_limit() {
    // SAFETY: plain system calls on a struct we own.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
