//! The X screen's size. A kiosk on a bare X server has no window manager to honour a
//! fullscreen request, so netdeck sizes its window to the screen itself. libX11 is loaded at
//! run time, as winit loads it: nothing to link, and nothing asked of a Wayland or KMS session.

use std::ffi::{CStr, c_char, c_int, c_void};

/// The size of the default screen of `$DISPLAY`, in pixels; `None` without an X server.
pub fn x11_screen_size() -> Option<(u32, u32)> {
    std::env::var_os("DISPLAY")?;
    type OpenDisplay = unsafe extern "C" fn(*const c_char) -> *mut c_void;
    type DefaultScreen = unsafe extern "C" fn(*mut c_void) -> c_int;
    type DisplayDimension = unsafe extern "C" fn(*mut c_void, c_int) -> c_int;
    type CloseDisplay = unsafe extern "C" fn(*mut c_void) -> c_int;

    // SAFETY: the symbols are looked up by their documented names and called with the
    // documented signatures; the display is closed once, after it was read.
    unsafe {
        let library = libc::dlopen(c"libX11.so.6".as_ptr(), libc::RTLD_LAZY);
        if library.is_null() {
            return None;
        }
        let symbol = |name: &CStr| libc::dlsym(library, name.as_ptr());
        let symbols = [
            symbol(c"XOpenDisplay"),
            symbol(c"XDefaultScreen"),
            symbol(c"XDisplayWidth"),
            symbol(c"XDisplayHeight"),
            symbol(c"XCloseDisplay"),
        ];
        if symbols.iter().any(|s| s.is_null()) {
            return None;
        }
        let open: OpenDisplay = std::mem::transmute(symbols[0]);
        let default_screen: DefaultScreen = std::mem::transmute(symbols[1]);
        let width: DisplayDimension = std::mem::transmute(symbols[2]);
        let height: DisplayDimension = std::mem::transmute(symbols[3]);
        let close: CloseDisplay = std::mem::transmute(symbols[4]);
        let display = open(std::ptr::null());
        if display.is_null() {
            return None;
        }
        let screen = default_screen(display);
        let size = (width(display, screen), height(display, screen));
        close(display);
        Some((u32::try_from(size.0).ok()?, u32::try_from(size.1).ok()?))
    }
}
