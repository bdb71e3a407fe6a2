use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use netdeck::cli::{self, Cli};
use netdeck::forms::parse::parse_scale;
use netdeck::gui::GuiOptions;
use netdeck::net::NetError;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let args = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    raise_open_file_limit();
    let settings = args.settings_file();
    match args.command {
        None => match gui_options(&args).and_then(|options| {
            netdeck::gui::run(&options).map_err(|error| GuiError::Window(error.to_string()))
        }) {
            Ok(()) => ExitCode::SUCCESS,
            Err(GuiError::Window(error)) => {
                eprintln!("netdeck: cannot open the window: {error}");
                eprintln!(
                    "hint: on a machine without a screen, use the headless commands (netdeck --help); \
                     under Wayland with no XWayland, build with --features wayland."
                );
                ExitCode::FAILURE
            }
            Err(GuiError::Options(error)) => {
                eprintln!("netdeck: {error}");
                eprintln!("hint: {}", error.hint(&cli::Flags));
                ExitCode::from(error.exit_code())
            }
        },
        Some(command) => match cli::run(command, matches.subcommand().map(|(_, m)| m), &settings) {
            Ok(()) => ExitCode::SUCCESS,
            Err(NetError::Silent { code }) => ExitCode::from(code),
            Err(error) => {
                eprintln!("netdeck: {error}");
                eprintln!("hint: {}", error.hint(&cli::Flags));
                ExitCode::from(error.exit_code())
            }
        },
    }
}

enum GuiError {
    Options(NetError),
    Window(String),
}

/// The window's options from the command line and `NETDECK_KIOSK`.
fn gui_options(args: &Cli) -> Result<GuiOptions, GuiError> {
    let kiosk_env = std::env::var("NETDECK_KIOSK")
        .is_ok_and(|value| matches!(value.trim(), "1" | "true" | "yes" | "on"));
    let scale = args
        .scale
        .as_deref()
        .map(|scale| parse_scale("scale", scale))
        .transpose()
        .map_err(GuiError::Options)?;
    Ok(GuiOptions::new(
        args.kiosk || kiosk_env,
        args.allow_quit,
        scale,
        args.config.clone(),
        args.read_only,
    )
    .playing(args.demo, args.stage))
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
