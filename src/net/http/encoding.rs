//! Compressed bodies (`Content-Encoding: gzip`, `deflate`, `br`), decoded as they arrive so
//! memory stays bounded whatever the body expands to.

use std::io::Write;

use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};

/// What `Accept-Encoding` asks for when compression is on.
#[cfg(feature = "brotli")]
pub const ACCEPTED: &str = "gzip, deflate, br";
#[cfg(not(feature = "brotli"))]
pub const ACCEPTED: &str = "gzip, deflate";

/// A streaming decoder for one body.
pub enum Decoder {
    Gzip(GzDecoder<Vec<u8>>),
    /// `deflate` is zlib-wrapped as the standard says, but some servers send it raw: the
    /// first bytes tell.
    DeflateUndecided(Vec<u8>),
    Zlib(ZlibDecoder<Vec<u8>>),
    RawDeflate(DeflateDecoder<Vec<u8>>),
    #[cfg(feature = "brotli")]
    Brotli(Box<brotli_decompressor::DecompressorWriter<Vec<u8>>>),
}

impl Decoder {
    /// The decoder for a `Content-Encoding` value, `None` for an identity or unknown one
    /// (the body is then passed on as it came).
    pub fn for_encoding(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Some(Decoder::Gzip(GzDecoder::new(Vec::new()))),
            "deflate" => Some(Decoder::DeflateUndecided(Vec::new())),
            #[cfg(feature = "brotli")]
            "br" => Some(Decoder::Brotli(Box::new(
                brotli_decompressor::DecompressorWriter::new(Vec::new(), 16 * 1024),
            ))),
            _ => None,
        }
    }

    /// Feeds compressed bytes; returns what they decode to so far.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<u8>, String> {
        if let Decoder::DeflateUndecided(start) = self {
            start.extend_from_slice(bytes);
            if start.len() < 2 {
                return Ok(Vec::new());
            }
            let start = std::mem::take(start);
            let zlib = start[0] & 0x0F == 8 && u16::from_be_bytes([start[0], start[1]]) % 31 == 0;
            *self = if zlib {
                Decoder::Zlib(ZlibDecoder::new(Vec::new()))
            } else {
                Decoder::RawDeflate(DeflateDecoder::new(Vec::new()))
            };
            return self.feed(&start);
        }
        let result = match self {
            Decoder::Gzip(decoder) => decoder.write_all(bytes),
            Decoder::Zlib(decoder) => decoder.write_all(bytes),
            Decoder::RawDeflate(decoder) => decoder.write_all(bytes),
            #[cfg(feature = "brotli")]
            Decoder::Brotli(decoder) => decoder.write_all(bytes),
            Decoder::DeflateUndecided(_) => unreachable!("decided above"),
        };
        result.map_err(|error| self.corrupt(error))?;
        Ok(std::mem::take(self.output()))
    }

    /// The end of the body: whatever the decoder still held. A stream that stops early is
    /// corrupt.
    pub fn finish(&mut self) -> Result<Vec<u8>, String> {
        let result = match self {
            Decoder::Gzip(decoder) => decoder.try_finish(),
            Decoder::Zlib(decoder) => decoder.try_finish(),
            Decoder::RawDeflate(decoder) => decoder.try_finish(),
            #[cfg(feature = "brotli")]
            Decoder::Brotli(decoder) => decoder.close(),
            Decoder::DeflateUndecided(start) if start.is_empty() => Ok(()),
            Decoder::DeflateUndecided(_) => Err(std::io::ErrorKind::UnexpectedEof.into()),
        };
        result.map_err(|error| self.corrupt(error))?;
        Ok(std::mem::take(self.output()))
    }

    fn output(&mut self) -> &mut Vec<u8> {
        match self {
            Decoder::Gzip(decoder) => decoder.get_mut(),
            Decoder::Zlib(decoder) => decoder.get_mut(),
            Decoder::RawDeflate(decoder) => decoder.get_mut(),
            #[cfg(feature = "brotli")]
            Decoder::Brotli(decoder) => decoder.get_mut(),
            Decoder::DeflateUndecided(start) => start,
        }
    }

    fn corrupt(&self, error: std::io::Error) -> String {
        let name = match self {
            Decoder::Gzip(_) => "gzip",
            #[cfg(feature = "brotli")]
            Decoder::Brotli(_) => "br",
            _ => "deflate",
        };
        format!("the {name}-compressed body does not decode ({error})")
    }
}
