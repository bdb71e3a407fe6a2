//! Reading and writing the settings file: where it is, loading with backups of files that
//! cannot be used, and atomic saves (see the notes of [`crate::config`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Config;

/// Backups of unusable files kept side by side: `.bak`, then `.bak.1` to `.bak.99`.
const MAX_BACKUPS: usize = 100;

/// Symbolic links followed from a settings path before giving up, as the kernel does (ELOOP).
const MAX_LINKS: usize = 40;

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
    let target = follow_links(path).map_or_else(|_| path.to_path_buf(), |(target, _)| target);
    let existing = target.ancestors().find(|p| p.exists()).unwrap_or(&target);
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
    let bytes = match read(path) {
        Ok(bytes) => bytes,
        Err(Unread::Missing) => return Loaded::default(),
        // The null device says "no settings": nothing to read, nothing to save, nothing to say.
        Err(Unread::Null) => {
            return Loaded {
                can_save: false,
                ..Loaded::default()
            };
        }
        Err(Unread::NotAFile(not_a_file)) => {
            return Loaded {
                config: Config::default(),
                warning: Some(format!(
                    "{not_a_file}: settings are not read from it or saved to it"
                )),
                can_save: false,
            };
        }
        Err(Unread::Failed(error)) => {
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

/// Why a settings file gave no bytes.
enum Unread {
    /// Nothing there (a dangling link included): the defaults, saved there on the next save.
    Missing,
    /// The null device (`--config /dev/null`): no settings, and none kept.
    Null,
    /// A FIFO, a device or a socket: reading could block or never end.
    NotAFile(NotAFile),
    Failed(io::Error),
}

/// The bytes of the regular file `path` names, its links followed. Anything else is not
/// opened, and what it is is checked again once open, in case it changed in between.
fn read(path: &Path) -> Result<Vec<u8>, Unread> {
    let (target, metadata) = follow_links(path).map_err(Unread::Failed)?;
    let Some(metadata) = metadata else {
        return Err(Unread::Missing);
    };
    NotAFile::check(path, &target, &metadata).map_err(Unread::from)?;
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&target)
        .map_err(Unread::Failed)?;
    let metadata = file.metadata().map_err(Unread::Failed)?;
    NotAFile::check(path, &target, &metadata).map_err(Unread::from)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(Unread::Failed)?;
    Ok(bytes)
}

impl From<NotAFile> for Unread {
    fn from(not_a_file: NotAFile) -> Self {
        if not_a_file.what == NULL_DEVICE {
            Unread::Null
        } else {
            Unread::NotAFile(not_a_file)
        }
    }
}

/// What the null device (character device 1:3, `/dev/null` or a copy) is called.
const NULL_DEVICE: &str = "the null device";

/// A settings path that names something other than a file or a folder, which netdeck never
/// reads nor replaces. Said as "PATH is a FIFO, not a file", naming where a link led.
#[derive(Debug)]
pub struct NotAFile {
    path: PathBuf,
    target: PathBuf,
    what: &'static str,
}

impl NotAFile {
    /// Whether `metadata` (of `target`, where `path` leads) is something settings may be kept
    /// in: a regular file, or a folder, which reading and renaming refuse with their own errors.
    fn check(path: &Path, target: &Path, metadata: &fs::Metadata) -> Result<(), NotAFile> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let kind = metadata.file_type();
        let what = if kind.is_file() || kind.is_dir() {
            return Ok(());
        } else if kind.is_char_device() && metadata.rdev() == libc::makedev(1, 3) {
            NULL_DEVICE
        } else if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_symlink() {
            // Only where links are not followed: a file about to be replaced became one.
            "a symbolic link"
        } else {
            "an entry of an unknown kind"
        };
        Err(NotAFile {
            path: path.to_path_buf(),
            target: target.to_path_buf(),
            what,
        })
    }
}

impl std::fmt::Display for NotAFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.target != self.path {
            write!(f, " (a link to {})", self.target.display())?;
        }
        write!(f, " is {}, not a file", self.what)
    }
}

/// Where `path` leads once its symbolic links are followed (chains and relative links
/// included), and what is there: `None` when nothing is, as at the end of a dangling link.
fn follow_links(path: &Path) -> io::Result<(PathBuf, Option<fs::Metadata>)> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                // A relative link is relative to the folder holding it; an absolute one
                // replaces the whole path in `join`.
                current = folder_of(&current).join(fs::read_link(&current)?);
            }
            Ok(metadata) => return Ok((current, Some(metadata))),
            // A file where a folder should be: the save names it when making the folder.
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok((current, None));
            }
            Err(error) => return Err(error),
        }
    }
    Err(io::Error::from_raw_os_error(libc::ELOOP))
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
    let bytes = match read(path) {
        Ok(bytes) => bytes,
        Err(Unread::Missing | Unread::Null) => return Default::default(),
        Err(Unread::NotAFile(not_a_file)) => {
            let warning = format!("{not_a_file}: system presets are not read from it");
            return (Default::default(), Some(warning));
        }
        Err(Unread::Failed(error)) => {
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

    #[error("{0}: settings are not saved to it")]
    NotAFile(NotAFile),

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
    let target = writable_target(path)?;
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
        // What was a file (or nothing) when staged may be something else now.
        if let Ok(metadata) = fs::symlink_metadata(&self.target) {
            NotAFile::check(&self.target, &self.target, &metadata)
                .map_err(ConfigError::NotAFile)?;
        }
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

/// The file `path` leads to, which a save replaces: never a FIFO, a device or a socket, and
/// never a link (the file at its end is replaced).
fn writable_target(path: &Path) -> Result<PathBuf, ConfigError> {
    let failed = |source| ConfigError::Io {
        action: "follow the link",
        path: path.to_path_buf(),
        source,
    };
    let (target, metadata) = follow_links(path).map_err(failed)?;
    if let Some(metadata) = metadata {
        NotAFile::check(path, &target, &metadata).map_err(ConfigError::NotAFile)?;
    }
    Ok(target)
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
