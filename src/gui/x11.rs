//! What the window needs to know from the X server before it opens. libX11 and libXrandr are
//! loaded at run time, as winit loads them: nothing to link, and nothing asked of a Wayland or
//! KMS session.

use std::ffi::{c_char, c_int, c_long, c_uchar, c_ulong, c_void};

use super::library::Library;

/// What the X server of `$DISPLAY` says; all unknown without one.
#[derive(Debug, Default)]
pub struct XServer {
    /// Where a kiosk window goes: the primary monitor (or the first one, or the whole screen
    /// where RandR lists none), in pixels of the screen.
    pub monitor: Option<Monitor>,
    /// Whether an EWMH window manager runs (`_NET_SUPPORTING_WM_CHECK` on the root window).
    /// Without one a fullscreen request goes unheard, so a kiosk takes its monitor directly.
    pub window_manager: bool,
    /// Whether an accessibility (AT-SPI) bus is announced on the root window, as
    /// `at-spi-bus-launcher` does when a desktop or a screen reader starts it.
    pub accessibility_bus: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Monitor {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

/// `XRRMonitorInfo` of `<X11/extensions/Xrandr.h>`.
#[repr(C)]
struct MonitorInfo {
    name: c_ulong,
    primary: c_int,
    automatic: c_int,
    outputs: c_int,
    x: c_int,
    y: c_int,
    width: c_int,
    height: c_int,
    mwidth: c_int,
    mheight: c_int,
    output_ids: *mut c_ulong,
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
type GetMonitors =
    unsafe extern "C" fn(*mut c_void, c_ulong, c_int, *mut c_int) -> *mut MonitorInfo;
type FreeMonitors = unsafe extern "C" fn(*mut MonitorInfo);

impl XServer {
    /// Asks the X server of `$DISPLAY`, once. Skipped when the window will be a native Wayland
    /// one: its compositor places it (and asking could start Xwayland just for this). A build
    /// without Wayland draws through Xwayland, an X server like any other.
    pub fn ask() -> XServer {
        let native_wayland =
            cfg!(feature = "wayland") && std::env::var_os("WAYLAND_DISPLAY").is_some();
        if std::env::var_os("DISPLAY").is_none() || native_wayland {
            return XServer::default();
        }
        // SAFETY: the symbols are looked up by their documented names and called with the
        // documented signatures; what they return is freed and the display closed once.
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
            let root = root_window(display);
            let whole_screen = u32::try_from(width(display, screen))
                .ok()
                .zip(u32::try_from(height(display, screen)).ok())
                .map(|(width, height)| Monitor {
                    x: 0,
                    y: 0,
                    width,
                    height,
                });
            let has_root_property = |name: &std::ffi::CStr| {
                const ONLY_IF_EXISTS: c_int = 1;
                const ANY_PROPERTY_TYPE: c_ulong = 0;
                const SUCCESS: c_int = 0;
                let atom = intern_atom(display, name.as_ptr(), ONLY_IF_EXISTS);
                if atom == 0 {
                    return false;
                }
                let (mut kind, mut format, mut items, mut after) = (0, 0, 0, 0);
                let mut value: *mut c_uchar = std::ptr::null_mut();
                let status = get_property(
                    display,
                    root,
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
                if !value.is_null() {
                    free(value.cast());
                }
                status == SUCCESS && kind != 0
            };
            let server = XServer {
                monitor: primary_monitor(display, root).or(whole_screen),
                window_manager: has_root_property(c"_NET_SUPPORTING_WM_CHECK"),
                accessibility_bus: has_root_property(c"AT_SPI_BUS"),
            };
            close(display);
            Some(server)
        }
    }
}

/// The primary RandR monitor, or the first active one; none without libXrandr or monitors.
unsafe fn primary_monitor(display: *mut c_void, root: c_ulong) -> Option<Monitor> {
    let xrandr = Library::open(c"libXrandr.so.2")?;
    unsafe {
        let get_monitors: GetMonitors = xrandr.function(c"XRRGetMonitors")?;
        let free_monitors: FreeMonitors = xrandr.function(c"XRRFreeMonitors")?;
        const ACTIVE_ONLY: c_int = 1;
        let mut count = 0;
        let monitors = get_monitors(display, root, ACTIVE_ONLY, &mut count);
        if monitors.is_null() {
            return None;
        }
        let listed = std::slice::from_raw_parts(monitors, usize::try_from(count).unwrap_or(0));
        let chosen = listed
            .iter()
            .find(|monitor| monitor.primary != 0)
            .or(listed.first())
            .and_then(|monitor| {
                Some(Monitor {
                    x: monitor.x,
                    y: monitor.y,
                    width: u32::try_from(monitor.width).ok().filter(|&w| w > 0)?,
                    height: u32::try_from(monitor.height).ok().filter(|&h| h > 0)?,
                })
            });
        free_monitors(monitors);
        chosen
    }
}

/// `XWindowAttributes` of `<X11/Xlib.h>`, up to the field read here, with room for the rest.
#[repr(C)]
struct WindowAttributes {
    x: c_int,
    y: c_int,
    width: c_int,
    height: c_int,
    border_width: c_int,
    depth: c_int,
    visual: *mut c_void,
    root: c_ulong,
    class: c_int,
    bit_gravity: c_int,
    win_gravity: c_int,
    backing_store: c_int,
    backing_planes: c_ulong,
    backing_pixel: c_ulong,
    save_under: c_int,
    colormap: c_ulong,
    map_installed: c_int,
    map_state: c_int,
    rest: [u64; 8],
}

type QueryTree = unsafe extern "C" fn(
    *mut c_void,
    c_ulong,
    *mut c_ulong,
    *mut c_ulong,
    *mut *mut c_ulong,
    *mut u32,
) -> c_int;
type GetWindowAttributes =
    unsafe extern "C" fn(*mut c_void, c_ulong, *mut WindowAttributes) -> c_int;
type SetInputFocus = unsafe extern "C" fn(*mut c_void, c_ulong, c_int, c_ulong) -> c_int;
type Sync = unsafe extern "C" fn(*mut c_void, c_int) -> c_int;

/// Gives this process's top-level window the keyboard focus, once the X server shows it.
/// With no window manager nothing else does (winit does it only with a fullscreen request,
/// which would also move the window). Returns false while the window is not shown yet.
pub fn focus_own_window() -> bool {
    // SAFETY: documented names and signatures; the focus is set only on a window the server
    // reports viewable (else it would be an error), and the display is closed once.
    unsafe { focus_viewable_window() }.unwrap_or(true)
}

unsafe fn focus_viewable_window() -> Option<bool> {
    let x11 = Library::open(c"libX11.so.6")?;
    unsafe {
        let open: OpenDisplay = x11.function(c"XOpenDisplay")?;
        let root_window: DefaultRootWindow = x11.function(c"XDefaultRootWindow")?;
        let query_tree: QueryTree = x11.function(c"XQueryTree")?;
        let attributes_of: GetWindowAttributes = x11.function(c"XGetWindowAttributes")?;
        let intern_atom: InternAtom = x11.function(c"XInternAtom")?;
        let get_property: GetWindowProperty = x11.function(c"XGetWindowProperty")?;
        let set_focus: SetInputFocus = x11.function(c"XSetInputFocus")?;
        let sync: Sync = x11.function(c"XSync")?;
        let free: Free = x11.function(c"XFree")?;
        let close: CloseDisplay = x11.function(c"XCloseDisplay")?;

        let display = open(std::ptr::null());
        if display.is_null() {
            return None;
        }
        let pid_atom = intern_atom(display, c"_NET_WM_PID".as_ptr(), 1);
        let (mut root, mut parent, mut children, mut count) = (0, 0, std::ptr::null_mut(), 0);
        query_tree(
            display,
            root_window(display),
            &mut root,
            &mut parent,
            &mut children,
            &mut count,
        );
        let listed: &[c_ulong] = if children.is_null() {
            &[]
        } else {
            std::slice::from_raw_parts(children, count as usize)
        };
        let own = listed.iter().copied().find(|&window| {
            const CARDINAL: c_ulong = 6;
            let (mut kind, mut format, mut items, mut after) = (0, 0, 0, 0);
            let mut value: *mut c_uchar = std::ptr::null_mut();
            let status = get_property(
                display,
                window,
                pid_atom,
                0,
                1,
                0,
                CARDINAL,
                &mut kind,
                &mut format,
                &mut items,
                &mut after,
                &mut value,
            );
            let pid = (status == 0 && !value.is_null() && format == 32 && items == 1)
                .then(|| *(value as *const std::ffi::c_long));
            if !value.is_null() {
                free(value.cast());
            }
            pid == Some(std::ffi::c_long::from(std::process::id() as i32))
        });
        if !children.is_null() {
            free(children.cast());
        }
        let mut shown = false;
        if let Some(window) = own {
            const IS_VIEWABLE: c_int = 2;
            const REVERT_TO_PARENT: c_int = 2;
            const CURRENT_TIME: c_ulong = 0;
            let mut attributes: WindowAttributes = std::mem::zeroed();
            if attributes_of(display, window, &mut attributes) != 0
                && attributes.map_state == IS_VIEWABLE
            {
                set_focus(display, window, REVERT_TO_PARENT, CURRENT_TIME);
                sync(display, 0);
                shown = true;
            }
        }
        close(display);
        Some(shown)
    }
}
