//! The integration tests that need no window: one binary (one link of the library), with
//! the helpers they share.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod bad_presets;
mod cli_presets;
mod cli_serve;
mod cli_streams;
mod client;
mod config;
mod connect_routes;
mod demo;
mod fuzz_regressions;
mod h1;
mod http;
mod http_cli;
mod http_cli_proxy;
mod http_cli_tls;
mod http_mode;
mod http_pool;
mod log;
mod payload;
mod screen_reader;
mod serve_output;
mod server;
mod sessions;
mod soak;
mod tls_server;
mod udp;
mod window_cage;
mod window_x11;
