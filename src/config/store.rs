//! Reading and writing the settings file: where it is, loading with backups of files that
//! cannot be used, and atomic saves (see the notes of [`crate::config`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Config;

/// Backups of unusable files kept side by side: `.bak`, then `.bak.1` to `.bak.99`.
const MAX_BACKUPS: usize = 100;

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

/// Whether this process may write the settings file: the file when it exists, else the
/// nearest folder that does (the missing ones are made on saving).
pub fn is_writable(path: &Path) -> bool {
    let existing = path.ancestors().find(|p| p.exists()).unwrap_or(path);
    let Ok(name) = std::ffi::CString::new(existing.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: access only reads the NUL-terminated path we give it.
    unsafe { libc::access(name.as_ptr(), libc::W_OK) == 0 }
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
    match parse(&bytes) {
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

fn parse(bytes: &[u8]) -> Result<Config, String> {
    match std::str::from_utf8(bytes) {
        Ok(text) => toml::from_str::<Config>(text).map_err(|error| toml_problem(text, &error)),
        Err(error) => Err(format!(
            "byte {} is not UTF-8 text",
            error.valid_up_to() + 1
        )),
    }
}

/// Where presets for every user come from: `$NETDECK_SYSTEM_CONFIG`, else
/// `/etc/netdeck/config.toml`.
pub fn system_config_path() -> PathBuf {
    std::env::var_os("NETDECK_SYSTEM_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/netdeck/config.toml"))
}

/// The presets of the system's settings file, which netdeck only reads: none when there is no
/// such file, and a warning (nothing else) when it cannot be used.
pub fn load_system_presets(path: &Path) -> (super::Presets, Option<String>) {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Default::default(),
        Err(error) => {
            let warning = format!(
                "cannot read the system presets in {}: {error}",
                path.display()
            );
            return (Default::default(), Some(warning));
        }
    };
    match parse(&bytes) {
        Ok(config) => (config.presets, None),
        Err(problem) => {
            let warning = format!(
                "cannot use the system presets in {}: {problem}",
                path.display()
            );
            (Default::default(), Some(warning))
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
