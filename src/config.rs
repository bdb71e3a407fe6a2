//! Saved settings, the last-used fields of each tab, and named presets, in one TOML file.
//!
//! # Where
//!
//! `$XDG_CONFIG_HOME/netdeck/config.toml`, else `$HOME/.config/netdeck/config.toml`
//! ([`config_path`]).
//!
//! # What is kept, and where it is checked
//!
//! Fields are kept as the user typed them (ports and client limits are text) and checked
//! where they are used, by the same functions as the window's fields and the command line: a
//! preset with a bad port loads, then fails with the usual error naming the field (`port`)
//! and the value. Every table and field has a default, so an old or partial file loads; keys
//! netdeck does not know are ignored (and dropped by the next save).
//!
//! Settings with a range (`scale` 0.5 to 3, `log_lines` 100 to 100000) are clamped to the
//! nearest bound, with a warning; a `scale` that is not a number becomes 1. Loading never
//! writes: the next save stores the clamped value.
//!
//! # A file that cannot be used
//!
//! A file that is not UTF-8, not TOML, or TOML of another shape (a wrong type, an unknown
//! theme) is not used: [`load`] returns the defaults and a warning naming the file, the line
//! and column, and the problem. Its bytes are first copied, unchanged, to `config.toml.bak`;
//! when that name holds other bytes, to the first of `config.toml.bak.1`, `.bak.2`, ... up to
//! `.bak.99` that is free or holds the same bytes. An earlier backup is never overwritten, and
//! the same broken file loaded twice is backed up once. When no backup can be made, or the
//! file cannot be read at all (permissions, a folder in its place), [`Loaded::can_save`] is
//! false: saving would destroy the only copy, so the caller must not save.
//!
//! # Saving
//!
//! [`save`] never leaves a half-written file: it creates the folder (mode 0700) if needed,
//! writes a temporary file `.config.toml.<pid>.<n>.tmp` beside the target with mode 0600
//! (presets may hold credentials), syncs it, renames it over the target and syncs the folder.
//! [`stage`] and [`StagedWrite::commit`] are the two halves. An interrupted write leaves the
//! old file as it was, plus at most a temporary file that [`load`] never reads. A settings
//! file that is a symbolic link stays one: the file it points to is replaced.
//!
//! # Presets
//!
//! Server, client and HTTP presets are separate tables, `[presets.server.NAME]`,
//! `[presets.client.NAME]` and `[presets.http.NAME]`, with the fields of `[server]`,
//! `[client]` and `[http]`. Names are 1 to 64 characters, not only white space, with no
//! control characters, surrounding white space dropped ([`preset_name`]); they are
//! case-sensitive.
//!
//! On the command line, `--preset NAME` supplies the values and what is given explicitly
//! wins:
//! - `netdeck http`: a URL replaces the preset's, and so does a METHOD before it (a METHOD
//!   alone would be read as the URL); `-H` replaces the preset's header of the same name (the
//!   others are kept); `-d` or `--json` replaces the body, which otherwise goes as `--json` when
//!   the preset's JSON switch is on, else as `-d`.
//! - `netdeck connect`: HOST and PORT replace the preset's (HOST alone keeps its port);
//!   `--send` and `--hex` replace its payload, which otherwise goes out as `--send` would send
//!   it (as `--hex` when the preset's hex switch is on, and then the answer is a hex dump);
//!   `--lf` and `--crlf` replace its line ending, which also ends `--send` payloads.
//! - `netdeck serve`: `--bind`, `--port`, `--max-clients`, and `--echo`, `--http` or `--reply`
//!   (for the mode) replace the preset's.
//!
//! Switches (`--tls`, `--insecure`) can only turn on what the preset leaves off; `--insecure`
//! and `--cacert` with a client preset that leaves TLS off are refused (add `--tls`). A
//! settings file that cannot be used is reported on stderr (`netdeck: warning: ...`) and then
//! holds no presets, so the preset is reported unknown.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::ops::RangeInclusive;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::net::NetError;
use crate::net::http::parse_header;
use crate::net::server::ReplyMode;
use crate::payload::{self, Encoding, LineEnding, Lines};

/// The interface scale a settings file may ask for.
pub const SCALE_RANGE: RangeInclusive<f32> = 0.5..=3.0;
/// How many lines the Log tab may be asked to keep.
pub const LOG_LINES_RANGE: RangeInclusive<usize> = 100..=100_000;
/// The longest preset name, in characters.
pub const PRESET_NAME_MAX: usize = 64;
/// Backups of unusable files kept side by side: `.bak`, then `.bak.1` to `.bak.99`.
const MAX_BACKUPS: usize = 100;

/// Everything netdeck remembers between runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub settings: Settings,
    /// The Server tab's fields as last used.
    pub server: ServerSetup,
    /// The Client tab's fields as last used.
    pub client: Connection,
    /// The HTTP tab's fields as last used.
    pub http: HttpRequest,
    pub presets: Presets,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub theme: Theme,
    /// The interface scale, within [`SCALE_RANGE`].
    pub scale: f32,
    /// A physical keyboard is at hand; when false, fields bring up the on-screen keyboard.
    pub keyboard: bool,
    /// Lines the Log tab keeps, within [`LOG_LINES_RANGE`].
    pub log_lines: usize,
    /// The HTTP tab's proxy: "off", "system" (the environment's variables, as curl reads
    /// them) or a proxy URL.
    pub proxy: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            theme: Theme::Dark,
            scale: 1.0,
            keyboard: false,
            log_lines: 1000,
            proxy: "off".into(),
        }
    }
}

impl Settings {
    /// Brings values outside their range to the nearest allowed one; says what was changed.
    fn clamp_to_ranges(&mut self) -> Vec<String> {
        let mut changes = Vec::new();
        let (low, high) = (*SCALE_RANGE.start(), *SCALE_RANGE.end());
        if self.scale.is_nan() {
            self.scale = Settings::default().scale;
            changes.push(format!(
                "settings.scale is not a number; using {}",
                self.scale
            ));
        } else if !SCALE_RANGE.contains(&self.scale) {
            let clamped = self.scale.clamp(low, high);
            changes.push(format!(
                "settings.scale {} is outside {low} to {high}; using {clamped}",
                self.scale
            ));
            self.scale = clamped;
        }
        if !LOG_LINES_RANGE.contains(&self.log_lines) {
            let (low, high) = (*LOG_LINES_RANGE.start(), *LOG_LINES_RANGE.end());
            let clamped = self.log_lines.clamp(low, high);
            changes.push(format!(
                "settings.log_lines {} is outside {low} to {high}; using {clamped}",
                self.log_lines
            ));
            self.log_lines = clamped;
        }
        changes
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Dark,
    Light,
}

/// The Server tab's mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerMode {
    #[default]
    Manual,
    Echo,
    AutoReply,
    Http,
}

/// What ends each payload, as the settings file spells it: `none`, `lf`, `crlf`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEndingChoice {
    #[default]
    None,
    Lf,
    CrLf,
}

impl From<LineEndingChoice> for LineEnding {
    fn from(choice: LineEndingChoice) -> Self {
        match choice {
            LineEndingChoice::None => LineEnding::None,
            LineEndingChoice::Lf => LineEnding::Lf,
            LineEndingChoice::CrLf => LineEnding::CrLf,
        }
    }
}

/// A server as the Server tab sets it up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerSetup {
    pub bind: String,
    pub port: String,
    /// Empty for no limit.
    pub max_clients: String,
    pub mode: ServerMode,
    /// The auto-reply text, with escapes.
    pub reply: String,
    /// What is typed in the send box.
    pub payload: String,
    /// The send box holds hex rather than text.
    pub hex: bool,
    pub line_ending: LineEndingChoice,
}

impl Default for ServerSetup {
    fn default() -> Self {
        ServerSetup {
            bind: "127.0.0.1".into(),
            port: "1234".into(),
            max_clients: String::new(),
            mode: ServerMode::Manual,
            reply: String::new(),
            payload: String::new(),
            hex: false,
            line_ending: LineEndingChoice::None,
        }
    }
}

impl ServerSetup {
    /// One line for a list of presets: `127.0.0.1:1234 · echo`.
    pub fn summary(&self) -> String {
        let mode = match self.mode {
            ServerMode::Manual => "manual",
            ServerMode::Echo => "echo",
            ServerMode::AutoReply => "auto-reply",
            ServerMode::Http => "HTTP",
        };
        let limit = match self.max_clients.trim() {
            "" => String::new(),
            limit => format!(" · at most {limit} clients"),
        };
        format!("{}:{} · {mode}{limit}", self.bind.trim(), self.port.trim())
    }

    /// The mode, with the auto-reply text checked as the Reply field's.
    pub fn reply_mode(&self) -> Result<ReplyMode, NetError> {
        Ok(match self.mode {
            ServerMode::Manual => ReplyMode::Manual,
            ServerMode::Echo => ReplyMode::Echo,
            ServerMode::Http => ReplyMode::Http,
            ServerMode::AutoReply => {
                ReplyMode::AutoReply(payload::parse_text(&self.reply).map_err(|source| {
                    NetError::Payload {
                        field: "reply",
                        source,
                    }
                })?)
            }
        })
    }
}

/// A TCP connection as the Client tab sets it up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Connection {
    pub host: String,
    pub port: String,
    pub tls: bool,
    /// With TLS: accept any certificate.
    pub insecure: bool,
    pub payload: String,
    /// The payload is hex rather than text.
    pub hex: bool,
    pub line_ending: LineEndingChoice,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            host: "127.0.0.1".into(),
            port: "1234".into(),
            tls: false,
            insecure: false,
            payload: String::new(),
            hex: false,
            line_ending: LineEndingChoice::None,
        }
    }
}

impl Connection {
    /// One line for a list of presets: `example.com:443 · TLS`.
    pub fn summary(&self) -> String {
        let tls = match (self.tls, self.insecure) {
            (false, _) => "",
            (true, false) => " · TLS",
            (true, true) => " · TLS, any certificate",
        };
        format!("{}:{}{tls}", self.host.trim(), self.port.trim())
    }

    /// How the payload is to be read.
    pub fn encoding(&self) -> Encoding {
        if self.hex {
            Encoding::Hex
        } else {
            Encoding::Text
        }
    }
}

/// A request as the HTTP tab sets it up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<Header>,
    pub body: String,
    /// The body is JSON: checked before sending, Content-Type set unless given.
    pub json: bool,
    /// Accept any certificate.
    pub insecure: bool,
}

impl Default for HttpRequest {
    fn default() -> Self {
        HttpRequest {
            method: "GET".into(),
            url: "http://127.0.0.1:1234/".into(),
            headers: Vec::new(),
            body: String::new(),
            json: false,
            insecure: false,
        }
    }
}

impl HttpRequest {
    /// One line for a list of presets: `POST http://127.0.0.1:1234/`.
    pub fn summary(&self) -> String {
        format!("{} {}", self.method.trim(), self.url.trim())
    }

    /// The headers, each checked as `Name: value` is on the command line; rows left empty are
    /// skipped, as the HTTP tab skips them.
    pub fn checked_headers(&self) -> Result<Vec<(String, String)>, NetError> {
        self.headers
            .iter()
            .filter(|header| !(header.name.trim().is_empty() && header.value.trim().is_empty()))
            .map(|header| parse_header(&format!("{}: {}", header.name, header.value)))
            .collect()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// Named setups of each tab, in name order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Presets {
    pub server: BTreeMap<String, ServerSetup>,
    pub client: BTreeMap<String, Connection>,
    pub http: BTreeMap<String, HttpRequest>,
}

impl Presets {
    /// The server preset `name`; `file` is where the presets came from, for the error.
    pub fn server(&self, name: &str, file: &Path) -> Result<&ServerSetup, NetError> {
        find(&self.server, PresetKind::Server, name, file)
    }

    /// The client preset `name`; `file` is where the presets came from, for the error.
    pub fn client(&self, name: &str, file: &Path) -> Result<&Connection, NetError> {
        find(&self.client, PresetKind::Client, name, file)
    }

    /// The HTTP preset `name`; `file` is where the presets came from, for the error.
    pub fn http(&self, name: &str, file: &Path) -> Result<&HttpRequest, NetError> {
        find(&self.http, PresetKind::Http, name, file)
    }

    /// Every preset as its kind, name and one-line summary: the server ones, then client,
    /// then HTTP, each kind by name.
    pub fn summaries(&self) -> impl Iterator<Item = (PresetKind, &String, String)> {
        let server = (self.server.iter()).map(|(name, p)| (PresetKind::Server, name, p.summary()));
        let client = (self.client.iter()).map(|(name, p)| (PresetKind::Client, name, p.summary()));
        let http = (self.http.iter()).map(|(name, p)| (PresetKind::Http, name, p.summary()));
        server.chain(client).chain(http)
    }

    /// Removes the preset `name` of `kind`, if there is one.
    pub fn remove(&mut self, kind: PresetKind, name: &str) {
        match kind {
            PresetKind::Server => {
                self.server.remove(name);
            }
            PresetKind::Client => {
                self.client.remove(name);
            }
            PresetKind::Http => {
                self.http.remove(name);
            }
        }
    }
}

fn find<'a, T>(
    saved: &'a BTreeMap<String, T>,
    kind: PresetKind,
    name: &str,
    file: &Path,
) -> Result<&'a T, NetError> {
    let name = preset_name(name)?;
    saved.get(&name).ok_or_else(|| NetError::UnknownPreset {
        kind,
        name,
        file: file.into(),
        saved: saved.keys().cloned().collect(),
    })
}

/// Which tab a preset belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresetKind {
    Server,
    Client,
    Http,
}

impl PresetKind {
    /// The tab's name in the window: `Server`, `Client`, `HTTP`.
    pub fn tab(self) -> &'static str {
        match self {
            PresetKind::Server => "Server",
            PresetKind::Client => "Client",
            PresetKind::Http => "HTTP",
        }
    }
}

/// As the settings file names the kind: `server`, `client`, `http`.
impl std::fmt::Display for PresetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PresetKind::Server => "server",
            PresetKind::Client => "client",
            PresetKind::Http => "http",
        })
    }
}

/// A preset name from what the user typed, without surrounding white space: 1 to
/// [`PRESET_NAME_MAX`] characters, no control characters. The error names the field `preset`.
pub fn preset_name(text: &str) -> Result<String, NetError> {
    let name = text.trim();
    let problem = if text.is_empty() {
        format!("a preset name is needed (1 to {PRESET_NAME_MAX} characters)")
    } else if let Some(control) = text.chars().find(|c| c.is_control()) {
        let shown = |text: &str| payload::display_text(text.as_bytes(), Lines::Escape);
        format!(
            "`{}` contains the control character `{}`; a name is one line of text",
            shown(text),
            shown(control.encode_utf8(&mut [0; 4]))
        )
    } else if name.is_empty() {
        format!("`{text}` is only white space; a name needs a visible character")
    } else if name.chars().count() > PRESET_NAME_MAX {
        format!(
            "a preset name has at most {PRESET_NAME_MAX} characters; this one has {}",
            name.chars().count()
        )
    } else {
        return Ok(name.to_string());
    };
    Err(NetError::invalid("preset", problem))
}

/// An interface scale from what the user typed, within [`SCALE_RANGE`].
pub fn parse_scale(field: &'static str, text: &str) -> Result<f32, NetError> {
    let text = text.trim();
    text.parse::<f32>()
        .ok()
        .filter(|scale| SCALE_RANGE.contains(scale))
        .ok_or_else(|| {
            NetError::invalid(
                field,
                format!(
                    "`{text}` is not a scale ({} to {})",
                    SCALE_RANGE.start(),
                    SCALE_RANGE.end()
                ),
            )
        })
}

/// How many lines the Log tab keeps, from what the user typed, within [`LOG_LINES_RANGE`]. The
/// error names the field `log-lines`.
pub fn parse_log_lines(text: &str) -> Result<usize, NetError> {
    let text = text.trim();
    text.parse::<usize>()
        .ok()
        .filter(|lines| LOG_LINES_RANGE.contains(lines))
        .ok_or_else(|| {
            NetError::invalid(
                "log-lines",
                format!(
                    "`{text}` is not a number of lines ({} to {})",
                    LOG_LINES_RANGE.start(),
                    LOG_LINES_RANGE.end()
                ),
            )
        })
}

/// Where the settings are kept: `$XDG_CONFIG_HOME/netdeck/config.toml`, else
/// `$HOME/.config/netdeck/config.toml`.
pub fn config_path() -> PathBuf {
    xdg_base("XDG_CONFIG_HOME", ".config")
        .join("netdeck")
        .join("config.toml")
}

/// Where files netdeck writes for the user (exported logs) go: `$XDG_DATA_HOME/netdeck`, else
/// `$HOME/.local/share/netdeck`.
pub fn data_dir() -> PathBuf {
    xdg_base("XDG_DATA_HOME", ".local/share").join("netdeck")
}

/// An XDG base folder: the variable when it holds an absolute path (the specification says to
/// ignore a relative one), else its usual place in the home folder (from the user database when
/// `HOME` is not set).
fn xdg_base(variable: &str, in_home: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| {
            std::env::home_dir()
                .filter(|home| home.is_absolute())
                .map(|home| home.join(in_home))
        })
        // No home at all: the working folder is the only place left.
        .unwrap_or_else(|| PathBuf::from(in_home))
}

/// What [`load`] found.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// What was wrong with the file, and what was done about it, in one line to show.
    pub warning: Option<String>,
    /// False when saving would overwrite a file that could not be read or backed up.
    pub can_save: bool,
}

/// The defaults, with nothing to warn about.
impl Default for Loaded {
    fn default() -> Self {
        Loaded {
            config: Config::default(),
            warning: None,
            can_save: true,
        }
    }
}

/// Reads the settings. Never fails: a missing file gives the defaults; an unusable one gives
/// the defaults, a warning, and a backup of its bytes (see the module notes).
pub fn load(path: &Path) -> Loaded {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Loaded::default(),
        Err(error) => {
            return Loaded {
                config: Config::default(),
                warning: Some(format!(
                    "cannot read {}: {error}; using the default settings, which will not be saved over it",
                    path.display()
                )),
                can_save: false,
            };
        }
    };
    let parsed = match std::str::from_utf8(&bytes) {
        Ok(text) => toml::from_str::<Config>(text).map_err(|error| toml_problem(text, &error)),
        Err(error) => Err(format!(
            "byte {} is not UTF-8 text",
            error.valid_up_to() + 1
        )),
    };
    match parsed {
        Ok(mut config) => {
            let changes = config.settings.clamp_to_ranges();
            Loaded {
                config,
                warning: (!changes.is_empty())
                    .then(|| format!("{}: {}", path.display(), changes.join("; "))),
                can_save: true,
            }
        }
        Err(problem) => {
            let (kept, can_save) = match back_up(path, &bytes) {
                Ok(backup) => (format!("the file is kept as {}", backup.display()), true),
                Err(error) => (
                    format!(
                        "it could not be backed up ({error}), so the settings will not be saved over it"
                    ),
                    false,
                ),
            };
            Loaded {
                config: Config::default(),
                warning: Some(format!(
                    "cannot use {}: {problem}; using the default settings; {kept}",
                    path.display()
                )),
                can_save,
            }
        }
    }
}

/// A TOML error in one line: where (line and column, counted from 1) and what.
fn toml_problem(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().replace('\n', "; ");
    let Some(before) = error.span().and_then(|span| text.get(..span.start)) else {
        return message;
    };
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("line {line}, column {column}: {message}")
}

/// Copies the bytes of an unusable file beside it, under the first backup name that is free
/// or already holds the same bytes.
fn back_up(path: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    for n in 0..MAX_BACKUPS {
        let mut name = path.as_os_str().to_os_string();
        name.push(".bak");
        if n > 0 {
            name.push(format!(".{n}"));
        }
        let backup = PathBuf::from(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&backup)
        {
            Ok(mut file) => {
                return file
                    .write_all(bytes)
                    .and_then(|()| file.sync_all())
                    .and_then(|()| sync_folder(folder_of(&backup)))
                    .map(|()| backup.clone())
                    .inspect_err(|_| {
                        // A partial copy would pass for a backup.
                        let _ = fs::remove_file(&backup);
                    });
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                if fs::read(&backup).is_ok_and(|kept| kept == bytes) {
                    return Ok(backup);
                }
            }
            Err(error) => return Err(error),
        }
    }
    Err(io::Error::other(format!(
        "{MAX_BACKUPS} backups with other contents exist already"
    )))
}

/// Saving failed; the message names the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done: `create the folder`, `write`, `replace`, `sync the folder`.
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("cannot write the settings to {}: {source}", path.display())]
    Encode {
        path: PathBuf,
        #[source]
        source: toml::ser::Error,
    },
}

/// Writes the settings in place of the old ones, all or nothing.
pub fn save(path: &Path, config: &Config) -> Result<(), ConfigError> {
    stage(path, config)?.commit()
}

/// New settings written and synced beside the file they will replace; nothing changes until
/// [`StagedWrite::commit`]. Dropped uncommitted, the temporary file is removed.
#[must_use = "nothing is saved until the write is committed"]
#[derive(Debug)]
pub struct StagedWrite {
    temporary: PathBuf,
    target: PathBuf,
    committed: bool,
}

/// The first half of [`save`]: creates the folder if needed and writes the temporary file.
pub fn stage(path: &Path, config: &Config) -> Result<StagedWrite, ConfigError> {
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let folder = folder_of(&target);
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)
        .map_err(|source| ConfigError::Io {
            action: "create the folder",
            path: folder.to_path_buf(),
            source,
        })?;
    let text = toml::to_string(config).map_err(|source| ConfigError::Encode {
        path: target.clone(),
        source,
    })?;
    let temporary = temporary_path(&target);
    let failed = |source| ConfigError::Io {
        action: "write",
        path: temporary.clone(),
        source,
    };
    // The name is unique among running processes: one left behind is from a process that died.
    let _ = fs::remove_file(&temporary);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(failed)?;
    let staged = StagedWrite {
        temporary: temporary.clone(),
        target,
        committed: false,
    };
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(failed)?;
    Ok(staged)
}

impl StagedWrite {
    /// The second half of [`save`]: the new file takes the old one's place, durably.
    pub fn commit(mut self) -> Result<(), ConfigError> {
        fs::rename(&self.temporary, &self.target).map_err(|source| ConfigError::Io {
            action: "replace",
            path: self.target.clone(),
            source,
        })?;
        self.committed = true;
        let folder = folder_of(&self.target);
        sync_folder(folder).map_err(|source| ConfigError::Io {
            action: "sync the folder",
            path: folder.to_path_buf(),
            source,
        })
    }
}

impl Drop for StagedWrite {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

/// `.config.toml.<pid>.<n>.tmp` beside `target`.
fn temporary_path(target: &Path) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let mut name = std::ffi::OsString::from(".");
    name.push(target.file_name().unwrap_or("config.toml".as_ref()));
    name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    target.with_file_name(name)
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Makes a rename or a new entry in `folder` survive a power cut.
fn sync_folder(folder: &Path) -> io::Result<()> {
    File::open(folder)?.sync_all()
}
