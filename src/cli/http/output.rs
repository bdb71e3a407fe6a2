//! Where `netdeck http` puts an answer: the body written as it arrives (stdout or a file), the
//! heads for `-i` and `-v`, and `-w`'s line at the end.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use surf::Url;

use crate::net::NetError;
use crate::net::client::TlsInfo;
use crate::net::h1::ResponseHead;
use crate::net::http::{HttpResponse, Watcher};

/// Where the body goes.
#[derive(Clone, Debug)]
pub enum Destination {
    /// `forced`: `-o -`, written even when it is binary and stdout is a terminal.
    Stdout {
        forced: bool,
    },
    File(PathBuf),
}

impl Destination {
    /// From `-o FILE` or `-O`; a file's folder must exist before anything is sent.
    pub fn new(output: Option<&str>, remote_name: bool, url: &Url) -> Result<Self, NetError> {
        let path = match (output, remote_name) {
            (Some("-"), _) => return Ok(Destination::Stdout { forced: true }),
            (Some(path), _) => PathBuf::from(path),
            (None, true) => {
                let name = url
                    .path_segments()
                    .and_then(|mut segments| segments.next_back())
                    .filter(|name| !name.is_empty())
                    .ok_or_else(|| {
                        NetError::invalid(
                            "remote-name",
                            format!("{url} has no file name to save as; give one with -o FILE"),
                        )
                    })?;
                PathBuf::from(crate::net::http::proxy::percent_decode(name).replace('/', "_"))
            }
            (None, false) => return Ok(Destination::Stdout { forced: false }),
        };
        check_folder(if remote_name { "remote-name" } else { "output" }, &path)?;
        Ok(Destination::File(path))
    }
}

/// A file to write must have an existing folder, checked before anything is sent.
pub fn check_folder(field: &'static str, path: &std::path::Path) -> Result<(), NetError> {
    let folder = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty());
    match folder {
        Some(folder) if !folder.is_dir() => Err(NetError::invalid(
            field,
            format!("the folder {} does not exist", folder.display()),
        )),
        _ => Ok(()),
    }
}

/// The statuses `--retry` tries again after (curl's "transient" answers).
const TRANSIENT: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// Follows the exchange for the command line: prints heads, writes the body as it arrives.
pub struct Output {
    destination: Destination,
    include: bool,
    verbose: bool,
    fail: bool,
    stdout_is_terminal: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    file: Option<File>,
    written: u64,
    /// Another try is allowed: a transient status ends this one before its body.
    retry_allowed: bool,
    retrying_status: Option<u16>,
}

impl Output {
    pub fn new(
        destination: Destination,
        include: bool,
        verbose: bool,
        fail: bool,
        stdout_is_terminal: bool,
    ) -> Self {
        Output {
            destination,
            include,
            verbose,
            fail,
            stdout_is_terminal,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn retry_allowed(&self, allowed: bool) {
        let mut state = self.state();
        state.retry_allowed = allowed;
        state.retrying_status = None;
    }

    /// The transient status that ended the last try, if one did.
    pub fn retrying_status(&self) -> Option<u16> {
        self.state().retrying_status
    }

    /// Body bytes written so far.
    pub fn written(&self) -> u64 {
        self.state().written
    }

    pub fn to_stdout(&self) -> bool {
        matches!(self.destination, Destination::Stdout { .. })
    }

    /// The destination as messages name it.
    pub fn target(&self) -> String {
        match &self.destination {
            Destination::Stdout { .. } => "standard output".into(),
            Destination::File(path) => path.display().to_string(),
        }
    }

    fn write_failed(&self, source: io::Error) -> NetError {
        NetError::WriteFailed {
            target: self.target(),
            source,
        }
    }

    fn write(&self, state: &mut State, bytes: &[u8]) -> Result<(), NetError> {
        let result = match &mut state.file {
            Some(file) => file.write_all(bytes),
            None => io::stdout().lock().write_all(bytes),
        };
        result.map_err(|error| self.write_failed(error))
    }

    /// Everything written has reached its destination.
    pub fn finish(&self) -> Result<(), NetError> {
        let mut state = self.state();
        let result = match &mut state.file {
            Some(file) => file.flush(),
            None => io::stdout().lock().flush(),
        };
        result.map_err(|error| self.write_failed(error))
    }
}

impl Watcher for Output {
    fn connected(&self, peer: std::net::SocketAddr, tls: Option<&TlsInfo>) {
        if !self.verbose {
            return;
        }
        eprintln!("* connected to {peer}");
        if let Some(tls) = tls {
            eprintln!("* {}", crate::report::tls_summary(tls));
            if let Some(certificate) = &tls.certificate {
                eprintln!("* certificate: {}", certificate.subject);
                eprintln!("*   issued by: {}", certificate.issuer);
                eprintln!("*   expires:   {}", certificate.expires);
            }
        }
    }

    fn request_sent(&self, head: &[u8]) {
        if self.verbose {
            let text = String::from_utf8_lossy(head);
            let mut stderr = io::stderr().lock();
            for line in text.split("\r\n").take_while(|line| !line.is_empty()) {
                let _ = writeln!(stderr, "> {line}");
            }
            let _ = writeln!(stderr, ">");
        }
    }

    fn answer_head(&self, head: &ResponseHead, last: bool) -> Result<(), NetError> {
        let text = head_text(head);
        if self.verbose {
            let mut stderr = io::stderr().lock();
            for line in text.split("\r\n").take_while(|line| !line.is_empty()) {
                let _ = writeln!(stderr, "< {line}");
            }
            let _ = writeln!(stderr, "<");
        }
        if !last {
            return Ok(());
        }
        let mut state = self.state();
        if state.retry_allowed && TRANSIENT.contains(&head.status) {
            state.retrying_status = Some(head.status);
            return Err(NetError::HttpStatus {
                status: head.status,
                reason: head.reason.clone(),
            });
        }
        if self.fail && head.status >= 400 {
            return Err(NetError::HttpStatus {
                status: head.status,
                reason: head.reason.clone(),
            });
        }
        // Created (or emptied) only once an answer is here to fill it.
        if let Destination::File(path) = &self.destination {
            state.file = Some(File::create(path).map_err(|error| self.write_failed(error))?);
        }
        state.written = 0;
        if self.include {
            self.write(&mut state, text.as_bytes())?;
        }
        Ok(())
    }

    fn body(&self, bytes: &[u8], _total: u64) -> Result<(), NetError> {
        let mut state = self.state();
        if state.written == 0
            && matches!(self.destination, Destination::Stdout { forced: false })
            && self.stdout_is_terminal
            && bytes.contains(&0)
        {
            return Err(NetError::BinaryToTerminal);
        }
        self.write(&mut state, bytes)?;
        state.written += bytes.len() as u64;
        Ok(())
    }
}

/// The status line and headers as the server sent them, ending with the blank line.
fn head_text(head: &ResponseHead) -> String {
    let mut text = format!(
        "HTTP/1.{} {} {}\r\n",
        head.minor_version, head.status, head.reason
    );
    for header in &head.headers {
        text.push_str(&format!("{}: {}\r\n", header.name, header.value_text()));
    }
    text.push_str("\r\n");
    text
}

/// `-w`'s format: text with `\n`, `\t`, `\r`, `\\`, `%%` and `%{variable}`.
pub struct WriteOut(Vec<Piece>);

enum Piece {
    Text(String),
    Variable(Variable),
}

#[derive(Clone, Copy)]
enum Variable {
    HttpCode,
    HttpVersion,
    TimeNamelookup,
    TimeConnect,
    TimeAppconnect,
    TimePretransfer,
    TimeStarttransfer,
    TimeTotal,
    SizeDownload,
    SpeedDownload,
    UrlEffective,
    NumRedirects,
    ContentType,
    RemoteIp,
    RemotePort,
}

const VARIABLES: [(&str, Variable); 16] = [
    ("http_code", Variable::HttpCode),
    ("response_code", Variable::HttpCode),
    ("http_version", Variable::HttpVersion),
    ("time_namelookup", Variable::TimeNamelookup),
    ("time_connect", Variable::TimeConnect),
    ("time_appconnect", Variable::TimeAppconnect),
    ("time_pretransfer", Variable::TimePretransfer),
    ("time_starttransfer", Variable::TimeStarttransfer),
    ("time_total", Variable::TimeTotal),
    ("size_download", Variable::SizeDownload),
    ("speed_download", Variable::SpeedDownload),
    ("url_effective", Variable::UrlEffective),
    ("num_redirects", Variable::NumRedirects),
    ("content_type", Variable::ContentType),
    ("remote_ip", Variable::RemoteIp),
    ("remote_port", Variable::RemotePort),
];

impl WriteOut {
    pub fn parse(format: &str) -> Result<Self, NetError> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = format;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("%{") {
                let end = after.find('}').ok_or_else(|| {
                    NetError::invalid("write-out", format!("`%{{` without its `}}` in `{format}`"))
                })?;
                let name = &after[..end];
                let variable = VARIABLES
                    .iter()
                    .find(|(known, _)| *known == name)
                    .map(|(_, variable)| *variable)
                    .ok_or_else(|| {
                        let known: Vec<&str> = VARIABLES.iter().map(|(name, _)| *name).collect();
                        NetError::invalid(
                            "write-out",
                            format!("unknown variable %{{{name}}}; known: {}", known.join(", ")),
                        )
                    })?;
                pieces.push(Piece::Text(std::mem::take(&mut text)));
                pieces.push(Piece::Variable(variable));
                rest = &after[end + 1..];
                continue;
            }
            let (out, used) = match (c, rest[c.len_utf8()..].chars().next()) {
                ('%', Some('%')) => ('%', 2),
                ('\\', Some('n')) => ('\n', 2),
                ('\\', Some('t')) => ('\t', 2),
                ('\\', Some('r')) => ('\r', 2),
                ('\\', Some('\\')) => ('\\', 2),
                (c, _) => (c, c.len_utf8()),
            };
            text.push(out);
            rest = &rest[used..];
        }
        pieces.push(Piece::Text(text));
        Ok(WriteOut(pieces))
    }

    pub fn render(&self, response: &HttpResponse, written: u64) -> String {
        let t = &response.timings;
        let seconds = |d: std::time::Duration| format!("{:.6}", d.as_secs_f64());
        let connect = t.dns + t.connect;
        let appconnect = connect + t.tls.unwrap_or_default();
        let starttransfer = appconnect + t.send + t.wait;
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Variable(variable) => out.push_str(&match variable {
                    Variable::HttpCode => format!("{:03}", response.status),
                    Variable::HttpVersion => response.version.trim_start_matches("HTTP/").into(),
                    Variable::TimeNamelookup => seconds(t.dns),
                    Variable::TimeConnect => seconds(connect),
                    Variable::TimeAppconnect => match t.tls {
                        Some(_) => seconds(appconnect),
                        None => seconds(Default::default()),
                    },
                    Variable::TimePretransfer => seconds(appconnect),
                    Variable::TimeStarttransfer => seconds(starttransfer),
                    Variable::TimeTotal => seconds(t.total),
                    Variable::SizeDownload => response.body_bytes.max(written).to_string(),
                    Variable::SpeedDownload => format!(
                        "{:.0}",
                        response.body_bytes as f64 / t.total.as_secs_f64().max(1e-9)
                    ),
                    Variable::UrlEffective => response.url.to_string(),
                    Variable::NumRedirects => response.redirects.len().to_string(),
                    Variable::ContentType => response
                        .headers
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
                        .map(|(_, value)| value.clone())
                        .unwrap_or_default(),
                    Variable::RemoteIp => response.peer.ip().to_string(),
                    Variable::RemotePort => response.peer.port().to_string(),
                }),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_out_formats_take_any_text_around_the_variables() {
        let parsed = WriteOut::parse("é→ %{http_code}\\t100%%\\n").unwrap();
        let texts: Vec<&str> = parsed
            .0
            .iter()
            .filter_map(|piece| match piece {
                Piece::Text(text) => Some(text.as_str()),
                Piece::Variable(_) => None,
            })
            .collect();
        assert_eq!(texts, ["é→ ", "\t100%\n"]);
        assert!(WriteOut::parse("%{http_code").is_err());
    }
}
