//! A font for machines that have none. Slint finds fonts through fontconfig (fontique), which
//! aborts at start when fontconfig knows no font at all (fontique 0.11, `fontconfig.rs`:
//! `font_sort(..).unwrap()` on `NoMatch`), as on a minimal kiosk image. So before the window
//! opens, netdeck asks fontconfig itself; when it has nothing, netdeck writes its embedded font
//! to a folder of its own and points fontconfig there. System fonts stay first whenever there
//! are any.

use std::ffi::{CStr, c_int, c_void};
use std::path::{Path, PathBuf};

/// DejaVu Sans cut down to Latin, punctuation, arrows and the symbols the window uses
/// (assets/fonts/LICENSE-DejaVu.txt).
const FALLBACK_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-netdeck.ttf");
const FALLBACK_FILE: &str = "DejaVuSans-netdeck.ttf";

/// Makes sure fontconfig will find a font: the system's, else the embedded one.
pub fn ensure_a_font() {
    if system_has_fonts() {
        return;
    }
    let Some(folder) = fallback_folder() else {
        eprintln!("netdeck: no font found, and no folder to put the built-in font in");
        return;
    };
    match write_fallback(&folder) {
        // SAFETY: called before the window and the engine start any thread.
        Ok(config) => unsafe { std::env::set_var("FONTCONFIG_FILE", config) },
        Err(error) => eprintln!("netdeck: cannot write the built-in font: {error}"),
    }
}

/// Whether fontconfig, configured as it will be for the window, finds any font. No
/// fontconfig library at all is fine too: fontique then goes without system fonts.
fn system_has_fonts() -> bool {
    type LoadConfigAndFonts = unsafe extern "C" fn() -> *mut c_void;
    type GetFonts = unsafe extern "C" fn(*mut c_void, c_int) -> *const FontSet;
    type DestroyConfig = unsafe extern "C" fn(*mut c_void);
    #[repr(C)]
    struct FontSet {
        nfont: c_int,
        sfont: c_int,
        fonts: *mut *mut c_void,
    }
    const SYSTEM_SET: c_int = 0;

    // SAFETY: the symbols are looked up by their documented names and called with the
    // documented signatures; the config is destroyed once, after its font set was read.
    unsafe {
        let library = libc::dlopen(c"libfontconfig.so.1".as_ptr(), libc::RTLD_LAZY);
        if library.is_null() {
            return true;
        }
        let symbol = |name: &CStr| libc::dlsym(library, name.as_ptr());
        let (load, get, destroy) = (
            symbol(c"FcInitLoadConfigAndFonts"),
            symbol(c"FcConfigGetFonts"),
            symbol(c"FcConfigDestroy"),
        );
        if load.is_null() || get.is_null() || destroy.is_null() {
            return true;
        }
        let load: LoadConfigAndFonts = std::mem::transmute(load);
        let get: GetFonts = std::mem::transmute(get);
        let destroy: DestroyConfig = std::mem::transmute(destroy);
        let config = load();
        if config.is_null() {
            return false;
        }
        let set = get(config, SYSTEM_SET);
        let any = !set.is_null() && (*set).nfont > 0;
        destroy(config);
        any
    }
}

/// `$XDG_CACHE_HOME/netdeck/fonts` (else `~/.cache/...`), or a folder of this user's in the
/// temporary directory when there is no home to write to.
fn fallback_folder() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")));
    let own = cache.map(|dir| dir.join("netdeck").join("fonts"));
    if let Some(dir) = own.filter(|dir| std::fs::create_dir_all(dir).is_ok()) {
        return Some(dir);
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("netdeck-fonts-{uid}"));
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    // Another user could have made the folder first: use it only if it is ours.
    let ours = std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir() && m.uid() == uid);
    ours.then_some(dir)
}

/// Writes the font and a fontconfig configuration that knows only it; returns the
/// configuration's path. Files already there with the same content are left alone.
fn write_fallback(folder: &Path) -> std::io::Result<PathBuf> {
    let font = folder.join(FALLBACK_FILE);
    if std::fs::read(&font).ok().as_deref() != Some(FALLBACK_FONT) {
        std::fs::write(&font, FALLBACK_FONT)?;
    }
    let config = folder.join("fonts.conf");
    let text = fontconfig_file(folder);
    if std::fs::read_to_string(&config).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&config, text)?;
    }
    Ok(config)
}

fn fontconfig_file(folder: &Path) -> String {
    let escaped = folder
        .display()
        .to_string()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"urn:fontconfig:fonts.dtd\">\n\
         <fontconfig>\n  <dir>{escaped}</dir>\n  <cachedir>{escaped}/cache</cachedir>\n</fontconfig>\n"
    )
}
