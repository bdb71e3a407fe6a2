//! A font for machines that have none. Slint finds fonts through fontconfig (fontique), which
//! aborts at start when fontconfig knows no font at all (fontique 0.11, `fontconfig.rs`:
//! `font_sort(..).unwrap()` on `NoMatch`), as on a minimal kiosk image. So before the window
//! opens, netdeck asks fontconfig itself; when it has nothing, netdeck writes its embedded font
//! to a folder of its own and points fontconfig there. System fonts stay first whenever there
//! are any.

use std::ffi::{c_char, c_int, c_void};
use std::path::{Path, PathBuf};

use super::library::Library;

/// DejaVu Sans cut down to Latin, punctuation, arrows and the symbols the window uses
/// (assets/fonts/LICENSE-DejaVu.txt).
const FALLBACK_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-netdeck.ttf");
const FALLBACK_FILE: &str = "DejaVuSans-netdeck.ttf";

/// Makes sure fontconfig will find a font: the system's, else the embedded one.
pub fn ensure_a_font() {
    if SYSTEM_FONTS.get_or_init(ask_fontconfig).any {
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

/// The family fontconfig gives for `monospace`, for hex dumps and bodies whose columns must
/// line up. Slint takes a family name literally, so the generic name would find nothing.
pub fn monospace_family() -> Option<String> {
    SYSTEM_FONTS.get_or_init(ask_fontconfig).monospace.clone()
}

/// What fontconfig says, asked once.
static SYSTEM_FONTS: std::sync::OnceLock<SystemFonts> = std::sync::OnceLock::new();

struct SystemFonts {
    /// Any font at all. No fontconfig library is fine too: fontique then goes without
    /// system fonts.
    any: bool,
    monospace: Option<String>,
}

/// fontconfig's `FcFontSet`.
#[repr(C)]
struct FontSet {
    nfont: c_int,
    sfont: c_int,
    fonts: *mut *mut c_void,
}

/// Asks fontconfig, configured as it will be for the window, for its fonts.
fn ask_fontconfig() -> SystemFonts {
    let unknown = SystemFonts {
        any: true,
        monospace: None,
    };
    let Some(fontconfig) = Library::open(c"libfontconfig.so.1") else {
        return unknown;
    };
    // SAFETY: the functions are looked up by their documented names and called with the
    // documented signatures; each pattern and the config are destroyed once, after use.
    unsafe { ask_library(&fontconfig) }.unwrap_or(unknown)
}

unsafe fn ask_library(fontconfig: &Library) -> Option<SystemFonts> {
    type LoadConfigAndFonts = unsafe extern "C" fn() -> *mut c_void;
    type GetFonts = unsafe extern "C" fn(*mut c_void, c_int) -> *const FontSet;
    type DestroyConfig = unsafe extern "C" fn(*mut c_void);
    type NameParse = unsafe extern "C" fn(*const c_char) -> *mut c_void;
    type ConfigSubstitute = unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int;
    type DefaultSubstitute = unsafe extern "C" fn(*mut c_void);
    type FontMatch = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_int) -> *mut c_void;
    type GetString =
        unsafe extern "C" fn(*mut c_void, *const c_char, c_int, *mut *const c_char) -> c_int;
    type DestroyPattern = unsafe extern "C" fn(*mut c_void);
    const SYSTEM_SET: c_int = 0;
    const MATCH_PATTERN: c_int = 0;
    const RESULT_MATCH: c_int = 0;
    unsafe {
        let load: LoadConfigAndFonts = fontconfig.function(c"FcInitLoadConfigAndFonts")?;
        let get: GetFonts = fontconfig.function(c"FcConfigGetFonts")?;
        let destroy: DestroyConfig = fontconfig.function(c"FcConfigDestroy")?;
        let parse: NameParse = fontconfig.function(c"FcNameParse")?;
        let substitute: ConfigSubstitute = fontconfig.function(c"FcConfigSubstitute")?;
        let defaults: DefaultSubstitute = fontconfig.function(c"FcDefaultSubstitute")?;
        let best: FontMatch = fontconfig.function(c"FcFontMatch")?;
        let get_string: GetString = fontconfig.function(c"FcPatternGetString")?;
        let destroy_pattern: DestroyPattern = fontconfig.function(c"FcPatternDestroy")?;

        let config = load();
        if config.is_null() {
            return Some(SystemFonts {
                any: false,
                monospace: None,
            });
        }
        let set = get(config, SYSTEM_SET);
        let any = !set.is_null() && (*set).nfont > 0;
        let mut monospace = None;
        let pattern = parse(c"monospace".as_ptr());
        if any && !pattern.is_null() {
            substitute(config, pattern, MATCH_PATTERN);
            defaults(pattern);
            let mut result = 0;
            let found = best(config, pattern, &mut result);
            if !found.is_null() {
                let mut family: *const c_char = std::ptr::null();
                if get_string(found, c"family".as_ptr(), 0, &mut family) == RESULT_MATCH
                    && !family.is_null()
                {
                    monospace = Some(std::ffi::CStr::from_ptr(family).to_string_lossy().into());
                }
                destroy_pattern(found);
            }
        }
        if !pattern.is_null() {
            destroy_pattern(pattern);
        }
        destroy(config);
        Some(SystemFonts { any, monospace })
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

/// A script some text is written in, and the Debian packages with a font for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Script {
    pub name: &'static str,
    pub packages: &'static str,
}

const SCRIPTS: &[(std::ops::RangeInclusive<u32>, Script)] = {
    const KOREAN: Script = Script {
        name: "Korean (Hangul)",
        packages: "fonts-nanum or fonts-noto-cjk",
    };
    const CJK: Script = Script {
        name: "Chinese or Japanese",
        packages: "fonts-noto-cjk",
    };
    &[
        (0x1100..=0x11ff, KOREAN),
        (0x3130..=0x318f, KOREAN),
        (0xac00..=0xd7af, KOREAN),
        (0x3040..=0x30ff, CJK),
        (0x3400..=0x9fff, CJK),
        (
            0x0590..=0x05ff,
            Script {
                name: "Hebrew",
                packages: "fonts-noto-core or culmus",
            },
        ),
        (
            0x0600..=0x06ff,
            Script {
                name: "Arabic",
                packages: "fonts-noto-core or fonts-kacst",
            },
        ),
        (
            0x0900..=0x097f,
            Script {
                name: "Devanagari",
                packages: "fonts-noto-core or fonts-deva",
            },
        ),
        (
            0x1f300..=0x1faff,
            Script {
                name: "emoji",
                packages: "fonts-noto-color-emoji",
            },
        ),
    ]
};

const OTHER_SCRIPT: Script = Script {
    name: "another script",
    packages: "fonts-noto-core",
};

fn script_of(c: char) -> Script {
    SCRIPTS
        .iter()
        .find(|(range, _)| range.contains(&(c as u32)))
        .map_or(OTHER_SCRIPT, |(_, script)| *script)
}

/// Text as the window draws it and as a screen reader says it.
#[derive(Clone)]
pub struct Shown {
    /// `text` with every character no installed font can draw written as `\u{XXXX}`, so what
    /// arrived stays visible (and, typed into a field, sends the same character).
    pub drawn: slint::SharedString,
    /// `text` itself: a screen reader needs no font. The same string when nothing was escaped.
    pub spoken: slint::SharedString,
    /// The script of the first character no installed font can draw.
    pub missing: Option<Script>,
}

/// The window's one rule for text a user reads: every view of received text, every flow
/// label, every field the demo fills goes through it, and shows `font_note` for what it
/// reports missing.
pub fn shown(text: impl Into<String>) -> Shown {
    let spoken = slint::SharedString::from(text.into());
    if spoken.is_ascii() {
        return Shown {
            drawn: spoken.clone(),
            spoken,
            missing: None,
        };
    }
    let mut missing = None;
    let mut drawn = String::with_capacity(spoken.len());
    for c in spoken.chars() {
        if c.is_ascii() || c.is_whitespace() || drawable(c) {
            drawn.push(c);
        } else {
            missing.get_or_insert(script_of(c));
            drawn.push_str(&format!("\\u{{{:04x}}}", c as u32));
        }
    }
    Shown {
        drawn: if missing.is_some() {
            drawn.into()
        } else {
            spoken.clone()
        },
        spoken,
        missing,
    }
}

/// What the window says when text in `script` cannot be drawn; empty when all of it can.
pub fn font_note(script: Option<Script>) -> slint::SharedString {
    match script {
        Some(script) => format!(
            "Text in {} cannot be drawn: no installed font has it, so it shows as \\u{{…}} escapes. Install {} and restart netdeck.",
            script.name, script.packages
        )
        .into(),
        None => slint::SharedString::new(),
    }
}

/// Every character some installed font has: the union of the fonts' character sets, read from
/// fontconfig once (fonts installed later are seen after a restart, as the window's own font
/// list is), then asked of per character without another font lookup.
struct Coverage {
    all: *mut c_void,
    has_char: unsafe extern "C" fn(*const c_void, u32) -> c_int,
}

thread_local! {
    static COVERAGE: Option<Coverage> = read_coverage();
}

/// Whether any installed font has a glyph for `c`. Without fontconfig, yes: there is nothing
/// better to say.
fn drawable(c: char) -> bool {
    COVERAGE.with(|coverage| match coverage {
        // SAFETY: `all` is a character set fontconfig made, kept for the process's life.
        Some(coverage) => unsafe { (coverage.has_char)(coverage.all, c as u32) != 0 },
        None => true,
    })
}

fn read_coverage() -> Option<Coverage> {
    type Create = unsafe extern "C" fn() -> *mut c_void;
    type Destroy = unsafe extern "C" fn(*mut c_void);
    type ObjectSetAdd = unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int;
    type FontList = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_void) -> *mut FontSet;
    type FontSetDestroy = unsafe extern "C" fn(*mut FontSet);
    type GetCharSet =
        unsafe extern "C" fn(*mut c_void, *const c_char, c_int, *mut *mut c_void) -> c_int;
    type Union = unsafe extern "C" fn(*const c_void, *const c_void) -> *mut c_void;
    type HasChar = unsafe extern "C" fn(*const c_void, u32) -> c_int;
    const MATCH: c_int = 0;

    let fontconfig = Library::open(c"libfontconfig.so.1")?;
    // SAFETY: the functions are looked up by their documented names and called with the
    // documented signatures; what is made here is destroyed here, once, except the union,
    // which is kept.
    unsafe {
        let charset_create: Create = fontconfig.function(c"FcCharSetCreate")?;
        let charset_destroy: Destroy = fontconfig.function(c"FcCharSetDestroy")?;
        let union: Union = fontconfig.function(c"FcCharSetUnion")?;
        let has_char: HasChar = fontconfig.function(c"FcCharSetHasChar")?;
        let pattern_create: Create = fontconfig.function(c"FcPatternCreate")?;
        let pattern_destroy: Destroy = fontconfig.function(c"FcPatternDestroy")?;
        let get_charset: GetCharSet = fontconfig.function(c"FcPatternGetCharSet")?;
        let objects_create: Create = fontconfig.function(c"FcObjectSetCreate")?;
        let objects_add: ObjectSetAdd = fontconfig.function(c"FcObjectSetAdd")?;
        let objects_destroy: Destroy = fontconfig.function(c"FcObjectSetDestroy")?;
        let font_list: FontList = fontconfig.function(c"FcFontList")?;
        let font_set_destroy: FontSetDestroy = fontconfig.function(c"FcFontSetDestroy")?;

        let pattern = pattern_create();
        let objects = objects_create();
        objects_add(objects, c"charset".as_ptr());
        // A null configuration is the current one, loaded on first use.
        let fonts = font_list(std::ptr::null_mut(), pattern, objects);
        let mut all = charset_create();
        if !fonts.is_null() {
            for index in 0..(*fonts).nfont.max(0) as usize {
                let font = *(*fonts).fonts.add(index);
                let mut charset = std::ptr::null_mut();
                if get_charset(font, c"charset".as_ptr(), 0, &mut charset) == MATCH {
                    let joined = union(all, charset);
                    if !joined.is_null() {
                        charset_destroy(all);
                        all = joined;
                    }
                }
            }
            font_set_destroy(fonts);
        }
        objects_destroy(objects);
        pattern_destroy(pattern);
        (!all.is_null()).then_some(Coverage { all, has_char })
    }
}
