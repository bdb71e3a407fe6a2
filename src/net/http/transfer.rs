//! Bodies on the wire: a request's parts written out (files read as they are sent), and an
//! answer's body read as framed, decoded and handed on as it arrives.

use futures_lite::{AsyncReadExt, AsyncWriteExt};

use super::encoding::Decoder;
use super::{BodyPart, RequestBody, Watch};
use crate::net::client::Connection;
use crate::net::error::NetError;
use crate::net::h1::{ChunkedDecoder, Framing};

pub(super) const READ_BUFFER: usize = 64 * 1024;

/// The size of each part of a body; a file's is asked for now, as it is about to be sent.
pub(super) fn part_sizes(body: &RequestBody) -> Result<Vec<u64>, NetError> {
    body.0
        .iter()
        .map(|part| match part {
            BodyPart::Bytes(bytes) => Ok(bytes.len() as u64),
            BodyPart::File(path) => std::fs::metadata(path)
                .map(|metadata| metadata.len())
                .map_err(|error| unreadable(path, error)),
        })
        .collect()
}

fn unreadable(path: &std::path::Path, error: std::io::Error) -> NetError {
    NetError::Io {
        action: format!("cannot read {} to send it", path.display()),
        source: error,
    }
}

/// Why sending a body's parts stopped.
pub(super) enum Upload {
    Connection(std::io::Error),
    File(NetError),
}

/// Writes each part in turn, files in blocks as they are read (off the executor thread), each
/// exactly the size announced.
pub(super) async fn send_parts(
    connection: &mut Connection,
    body: &RequestBody,
    sizes: &[u64],
) -> Result<(), Upload> {
    for (part, &size) in body.0.iter().zip(sizes) {
        match part {
            BodyPart::Bytes(bytes) => connection
                .stream
                .write_all(bytes)
                .await
                .map_err(Upload::Connection)?,
            BodyPart::File(path) => {
                let file =
                    std::fs::File::open(path).map_err(|e| Upload::File(unreadable(path, e)))?;
                let mut file = blocking::Unblock::new(file).take(size);
                let mut block = vec![0; READ_BUFFER];
                let mut sent = 0;
                while sent < size {
                    let n = file
                        .read(&mut block)
                        .await
                        .map_err(|e| Upload::File(unreadable(path, e)))?;
                    if n == 0 {
                        return Err(Upload::File(NetError::Io {
                            action: format!("cannot send {}", path.display()),
                            source: std::io::Error::other(
                                "the file became shorter while it was sent",
                            ),
                        }));
                    }
                    connection
                        .stream
                        .write_all(&block[..n])
                        .await
                        .map_err(Upload::Connection)?;
                    sent += n as u64;
                }
            }
        }
    }
    connection.stream.flush().await.map_err(Upload::Connection)
}

/// Where body bytes go: decoded if they came compressed, then up to `max` kept, all of them
/// counted and given to the watcher.
pub(super) struct BodySink<'a> {
    pub kept: Vec<u8>,
    /// Body bytes, decoded.
    pub total: u64,
    /// Body bytes as they came, before decoding.
    pub encoded: u64,
    pub decoder: Option<Decoder>,
    pub max: usize,
    pub watch: Option<&'a Watch>,
}

impl BodySink<'_> {
    fn take(&mut self, bytes: &[u8]) -> Result<(), BodyError> {
        self.encoded += bytes.len() as u64;
        match &mut self.decoder {
            Some(decoder) => {
                let decoded = decoder.feed(bytes).map_err(BodyError::Corrupt)?;
                self.deliver(&decoded)
            }
            None => self.deliver(bytes),
        }
    }

    /// The end of the body: what the decoder still held.
    pub fn finish(&mut self) -> Result<(), BodyError> {
        match &mut self.decoder {
            Some(decoder) => {
                let rest = decoder.finish().map_err(BodyError::Corrupt)?;
                self.deliver(&rest)
            }
            None => Ok(()),
        }
    }

    fn deliver(&mut self, bytes: &[u8]) -> Result<(), BodyError> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.total += bytes.len() as u64;
        let room = self.max.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        match self.watch {
            Some(watch) => watch.0.body(bytes, self.total).map_err(BodyError::Watcher),
            None => Ok(()),
        }
    }
}

pub(super) enum BodyError {
    Io(std::io::Error),
    Partial(String),
    /// The watcher stopped the exchange (it could not write the body, say).
    Watcher(NetError),
    /// A compressed body that does not decode.
    Corrupt(String),
}

/// Reads the body as framed. `Ok(true)` when nothing followed it, so the connection is in
/// step for another request; bytes after the body (a server that lies about the length)
/// mean it is not.
pub(super) async fn read_body(
    connection: &mut Connection,
    framing: Framing,
    leftover: &[u8],
    buffer: &mut [u8],
    sink: &mut BodySink<'_>,
) -> Result<bool, BodyError> {
    match framing {
        Framing::Empty => Ok(leftover.is_empty()),
        Framing::Length(length) => {
            let mut in_step = leftover.len() as u64 <= length;
            let first = &leftover[..leftover.len().min(length.min(usize::MAX as u64) as usize)];
            sink.take(first)?;
            while sink.encoded < length {
                let received = sink.encoded;
                let n = read_more(connection, buffer, || {
                    format!("the body ended after {received} of {length} bytes")
                })
                .await?;
                let want = (length - sink.encoded).min(n as u64) as usize;
                in_step &= want == n;
                sink.take(&buffer[..want])?;
            }
            Ok(in_step)
        }
        Framing::Chunked => {
            let mut decoder = ChunkedDecoder::default();
            let mut feed = |decoder: &mut ChunkedDecoder, bytes: &[u8]| {
                let mut stopped = None;
                let used = decoder
                    .feed(bytes, &mut |data| {
                        if stopped.is_none()
                            && let Err(error) = sink.take(data)
                        {
                            stopped = Some(error);
                        }
                    })
                    .map_err(|error| BodyError::Partial(error.to_string()))?;
                match stopped {
                    Some(error) => Err(error),
                    None => Ok(used == bytes.len()),
                }
            };
            let mut in_step = feed(&mut decoder, leftover)?;
            while !decoder.is_done() {
                let n = read_more(connection, buffer, || {
                    "the connection closed in the middle of a chunked body".into()
                })
                .await?;
                in_step = feed(&mut decoder, &buffer[..n])?;
            }
            Ok(in_step)
        }
        Framing::UntilClose => {
            sink.take(leftover)?;
            loop {
                match connection.stream.read(buffer).await {
                    Ok(0) => return Ok(false),
                    Ok(n) => sink.take(&buffer[..n])?,
                    // Servers that end a close-delimited body often do it abruptly.
                    Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
                        return Ok(false);
                    }
                    Err(error) => return Err(BodyError::Io(error)),
                }
            }
        }
    }
}

/// Reads more of a delimited body; the connection closing here cuts the body short.
async fn read_more(
    connection: &mut Connection,
    buffer: &mut [u8],
    cut_short: impl FnOnce() -> String,
) -> Result<usize, BodyError> {
    match connection
        .stream
        .read(buffer)
        .await
        .map_err(BodyError::Io)?
    {
        0 => Err(BodyError::Partial(cut_short())),
        n => Ok(n),
    }
}
