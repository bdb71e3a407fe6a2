//! What the window needs to know from the X server before it opens. libX11 is loaded at run
//! time, as winit loads it: nothing to link, and nothing asked of a Wayland or KMS session.

use std::ffi::{c_char, c_int, c_long, c_uchar, c_ulong, c_void};

use super::library::Library;

/// What the X server of `$DISPLAY` says; all unknown without one.
#[derive(Debug, Default)]
pub struct XServer {
    /// The default screen's size in pixels. A kiosk on a bare X server has no window manager
    /// to honour a fullscreen request, so netdeck sizes its window to the screen itself.
    pub screen_size: Option<(u32, u32)>,
    /// Whether an accessibility (AT-SPI) bus is announced on the root window, as
    /// `at-spi-bus-launcher` does when a desktop or a screen reader starts it.
    pub accessibility_bus: bool,
}

type OpenDisplay = unsafe extern "C" fn(*const c_char) -> *mut c_void;
type DefaultScreen = unsafe extern "C" fn(*mut c_void) -> c_int;
type DisplayDimension = unsafe extern "C" fn(*mut c_void, c_int) -> c_int;
type DefaultRootWindow = unsafe extern "C" fn(*mut c_void) -> c_ulong;
type InternAtom = unsafe extern "C" fn(*mut c_void, *const c_char, c_int) -> c_ulong;
type GetWindowProperty = unsafe extern "C" fn(
    *mut c_void,
    c_ulong,
    c_ulong,
    c_long,
    c_long,
    c_int,
    c_ulong,
    *mut c_ulong,
    *mut c_int,
    *mut c_ulong,
    *mut c_ulong,
    *mut *mut c_uchar,
) -> c_int;
type Free = unsafe extern "C" fn(*mut c_void) -> c_int;
type CloseDisplay = unsafe extern "C" fn(*mut c_void) -> c_int;

impl XServer {
    /// Asks the X server of `$DISPLAY`, once; nothing under Wayland, whose compositor
    /// places the window (asking could start Xwayland just for this).
    pub fn ask() -> XServer {
        if std::env::var_os("DISPLAY").is_none() || std::env::var_os("WAYLAND_DISPLAY").is_some() {
            return XServer::default();
        }
        // SAFETY: the symbols are looked up by their documented names and called with the
        // documented signatures; the property is freed and the display closed once, after use.
        unsafe { Self::ask_libx11() }.unwrap_or_default()
    }

    unsafe fn ask_libx11() -> Option<XServer> {
        let x11 = Library::open(c"libX11.so.6")?;
        unsafe {
            let open: OpenDisplay = x11.function(c"XOpenDisplay")?;
            let default_screen: DefaultScreen = x11.function(c"XDefaultScreen")?;
            let width: DisplayDimension = x11.function(c"XDisplayWidth")?;
            let height: DisplayDimension = x11.function(c"XDisplayHeight")?;
            let root_window: DefaultRootWindow = x11.function(c"XDefaultRootWindow")?;
            let intern_atom: InternAtom = x11.function(c"XInternAtom")?;
            let get_property: GetWindowProperty = x11.function(c"XGetWindowProperty")?;
            let free: Free = x11.function(c"XFree")?;
            let close: CloseDisplay = x11.function(c"XCloseDisplay")?;

            let display = open(std::ptr::null());
            if display.is_null() {
                return None;
            }
            let screen = default_screen(display);
            let screen_size = u32::try_from(width(display, screen))
                .ok()
                .zip(u32::try_from(height(display, screen)).ok());

            const ONLY_IF_EXISTS: c_int = 1;
            const ANY_PROPERTY_TYPE: c_ulong = 0;
            const SUCCESS: c_int = 0;
            let atom = intern_atom(display, c"AT_SPI_BUS".as_ptr(), ONLY_IF_EXISTS);
            let mut accessibility_bus = false;
            if atom != 0 {
                let (mut kind, mut format, mut items, mut after) = (0, 0, 0, 0);
                let mut value: *mut c_uchar = std::ptr::null_mut();
                let status = get_property(
                    display,
                    root_window(display),
                    atom,
                    0,
                    1,
                    0,
                    ANY_PROPERTY_TYPE,
                    &mut kind,
                    &mut format,
                    &mut items,
                    &mut after,
                    &mut value,
                );
                accessibility_bus = status == SUCCESS && kind != 0;
                if !value.is_null() {
                    free(value.cast());
                }
            }
            close(display);
            Some(XServer {
                screen_size,
                accessibility_bus,
            })
        }
    }
}
