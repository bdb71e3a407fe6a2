//! The parsers under test, compiled straight from the main crate's sources, and the input
//! layout the targets share.
//!
//! The netdeck crate pulls in Slint; building a GUI toolkit with sanitizer instrumentation
//! would take far longer than the fuzzing. These files need only std, httparse, thiserror and
//! serde_json, so they are included by path and fuzzed exactly as they are shipped.

#[path = "../../src/payload.rs"]
pub mod payload;

/// `http_echo` reaches `h1` as `super::h1`, so both sit in a `net` module, as in the main crate.
pub mod net;

/// Bytes at the front of every input that steer the target rather than being parsed.
pub const CONTROL_LEN: usize = 9;

/// A fuzz input taken apart: option bits, the bytes that arrive on the wire, and the sizes of
/// the reads they arrive in.
#[derive(Debug)]
pub struct Plan {
    pub flags: u8,
    pub stream: Vec<u8>,
    read_sizes: [u8; 4],
}

impl Plan {
    /// Layout: `flags`, four read sizes, a run (position u16, count u16, both little-endian),
    /// then the stream. The run repeats the stream byte at `position` `2 * count` more times,
    /// so a few bytes of input can describe a head past the 64 KiB limit.
    pub fn new(data: &[u8]) -> Plan {
        let mut control = [0u8; CONTROL_LEN];
        let taken = data.len().min(CONTROL_LEN);
        control[..taken].copy_from_slice(&data[..taken]);
        let mut stream = data[taken..].to_vec();
        let position = u16::from_le_bytes([control[5], control[6]]) as usize;
        let count = u16::from_le_bytes([control[7], control[8]]) as usize * 2;
        if count > 0 && !stream.is_empty() {
            let at = position % stream.len();
            let run = vec![stream[at]; count];
            stream.splice(at..at, run);
        }
        Plan {
            flags: control[0],
            stream,
            read_sizes: [control[1], control[2], control[3], control[4]],
        }
    }

    /// The stream cut into reads; see [`Plan::split`].
    pub fn reads(&self) -> Vec<&[u8]> {
        self.split(&self.stream)
    }

    /// `bytes` cut into pieces whose sizes cycle through the four control bytes, each `b`
    /// giving `1 + b * b` bytes (1 to 65,026), so both byte-at-a-time and large reads occur.
    /// After [`MAX_READS`] pieces the rest comes whole, which keeps every run fast.
    pub fn split<'a>(&self, bytes: &'a [u8]) -> Vec<&'a [u8]> {
        let mut pieces = Vec::new();
        let mut rest = bytes;
        for &size in self.read_sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let size = if pieces.len() + 1 == MAX_READS {
                rest.len()
            } else {
                (1 + size as usize * size as usize).min(rest.len())
            };
            let (piece, after) = rest.split_at(size);
            pieces.push(piece);
            rest = after;
        }
        pieces
    }
}

/// The most pieces [`Plan::split`] makes.
pub const MAX_READS: usize = 128;
