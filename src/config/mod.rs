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
//! old file as it was, plus at most a temporary file that [`load`] never reads.
//!
//! # A path that is not a plain file
//!
//! The path given is the user's, and saving never replaces what it names. A symbolic link
//! stays one: its links are followed (a chain, relative links, a dangling one) and the file at
//! the end is written as above, its temporary file beside it. A FIFO, a device or a socket is
//! neither read (a FIFO would block, a device may never end) nor written: [`load`] gives the
//! defaults, a warning ("... is a FIFO, not a file: settings are not read from it or saved to
//! it") and [`Loaded::can_save`] false, and [`save`] refuses. The null device
//! (`--config /dev/null`, a common way to say "no settings") is the same without the warning.
//!
//! # Presets for every user
//!
//! A kiosk or a lab can provision presets for every user in a system file,
//! `/etc/netdeck/config.toml` (`$NETDECK_SYSTEM_CONFIG` instead, where set), with the same
//! `[presets.*]` tables. netdeck only reads it: its presets come first, in the window (locked:
//! they run and load, and cannot be saved over or deleted) and for `--preset` (a user's preset
//! of the same name does not stand in for one). A system file that cannot be used is reported
//! and counts as empty.
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

mod store;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use self::store::{
    ConfigError, Loaded, StagedWrite, config_path, data_dir, is_writable, load,
    load_system_presets, save, stage, system_config_path,
};
use crate::forms::parse::{LOG_LINES_RANGE, SCALE_RANGE, preset_name};
use crate::forms::{ClientForm, HttpForm, ServerForm};
use crate::net::NetError;

/// Everything netdeck remembers between runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub settings: Settings,
    /// The Server tab's fields as last used.
    pub server: ServerForm,
    /// The Client tab's fields as last used.
    pub client: ClientForm,
    /// The HTTP tab's fields as last used.
    pub http: HttpForm,
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
    /// What an audience reads (conversations, flows, status lines, demo captions) at twice
    /// its size, for a room.
    pub stage_text: bool,
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
            stage_text: false,
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

/// Named setups of each tab, in name order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Presets {
    pub server: BTreeMap<String, ServerForm>,
    pub client: BTreeMap<String, ClientForm>,
    pub http: BTreeMap<String, HttpForm>,
}

impl Presets {
    /// The server preset `name`; `file` is where the presets came from, for the error.
    pub fn server(&self, name: &str, file: &Path) -> Result<&ServerForm, NetError> {
        find(&self.server, PresetKind::Server, name, file)
    }

    /// The client preset `name`; `file` is where the presets came from, for the error.
    pub fn client(&self, name: &str, file: &Path) -> Result<&ClientForm, NetError> {
        find(&self.client, PresetKind::Client, name, file)
    }

    /// The HTTP preset `name`; `file` is where the presets came from, for the error.
    pub fn http(&self, name: &str, file: &Path) -> Result<&HttpForm, NetError> {
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

    /// Whether a preset `name` of `kind` is saved.
    pub fn contains(&self, kind: PresetKind, name: &str) -> bool {
        match kind {
            PresetKind::Server => self.server.contains_key(name),
            PresetKind::Client => self.client.contains_key(name),
            PresetKind::Http => self.http.contains_key(name),
        }
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
        kind: kind.name(),
        tab: kind.tab(),
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
    /// As the settings file names it: `server`, `client`, `http`.
    pub fn name(self) -> &'static str {
        match self {
            PresetKind::Server => "server",
            PresetKind::Client => "client",
            PresetKind::Http => "http",
        }
    }

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
        f.write_str(self.name())
    }
}
