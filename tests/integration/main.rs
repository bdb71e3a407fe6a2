//! The integration tests that need no window: one binary (one link of the library), with
//! the helpers they share.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod cli_presets;
mod cli_serve;
mod client;
mod config;
mod fuzz_regressions;
mod h1;
mod http;
mod http_cli;
mod log;
mod payload;
mod server;
mod sessions;
mod soak;
