//! The main crate's HTTP/1.x framing and the server's HTTP mode, from their own files.

#[path = "../../src/net/h1.rs"]
pub mod h1;
#[path = "../../src/net/http_echo.rs"]
pub mod http_echo;
