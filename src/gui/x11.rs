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

/// A connection to the X server of `$DISPLAY` through libX11, with the calls both questions
/// use; closed when dropped.
struct Connection {
    display: *mut c_void,
    root: c_ulong,
    intern_atom: InternAtom,
    get_property: GetWindowProperty,
    free: Free,
    close: CloseDisplay,
    x11: Library,
}

impl Connection {
    /// # Safety
    /// The symbols are looked up by their documented names and called with the documented
    /// signatures.
    unsafe fn open() -> Option<Connection> {
        let x11 = Library::open(c"libX11.so.6")?;
        unsafe {
            let open: OpenDisplay = x11.function(c"XOpenDisplay")?;
            let root_window: DefaultRootWindow = x11.function(c"XDefaultRootWindow")?;
            let (intern_atom, get_property, free, close) = (
                x11.function(c"XInternAtom")?,
                x11.function(c"XGetWindowProperty")?,
                x11.function(c"XFree")?,
                x11.function(c"XCloseDisplay")?,
            );
            let display = open(std::ptr::null());
            if display.is_null() {
                return None;
            }
            Some(Connection {
                display,
                root: root_window(display),
                intern_atom,
                get_property,
                free,
                close,
                x11,
            })
        }
    }

    /// The first item of `window`'s property `name` of type `kind` (0 for any), if it has one.
    fn property(&self, window: c_ulong, name: &std::ffi::CStr, kind: c_ulong) -> Option<c_long> {
        const ONLY_IF_EXISTS: c_int = 1;
        const SUCCESS: c_int = 0;
        // SAFETY: a display of this connection; the value is freed once, after it was read.
        unsafe {
            let atom = (self.intern_atom)(self.display, name.as_ptr(), ONLY_IF_EXISTS);
            if atom == 0 {
                return None;
            }
            let (mut found, mut format, mut items, mut after) = (0, 0, 0, 0);
            let mut value: *mut c_uchar = std::ptr::null_mut();
            let status = (self.get_property)(
                self.display,
                window,
                atom,
                0,
                1,
                0,
                kind,
                &mut found,
                &mut format,
                &mut items,
                &mut after,
                &mut value,
            );
            // Xlib hands 32-bit items over as longs.
            let first = (status == SUCCESS && found != 0 && !value.is_null()).then(|| {
                match (format, items) {
                    (32, 1..) => *(value as *const c_long),
                    _ => 0,
                }
            });
            if !value.is_null() {
                (self.free)(value.cast());
            }
            first
        }
    }

    /// A function of libX11 beyond the common ones.
    ///
    /// # Safety
    /// As `Library::function`.
    unsafe fn function<F: Copy>(&self, name: &std::ffi::CStr) -> Option<F> {
        unsafe { self.x11.function(name) }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if !self.display.is_null() {
            // SAFETY: the display this connection opened, closed once.
            unsafe { (self.close)(self.display) };
        }
    }
}

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
        unsafe {
            let x = Connection::open()?;
            let default_screen: DefaultScreen = x.function(c"XDefaultScreen")?;
            let width: DisplayDimension = x.function(c"XDisplayWidth")?;
            let height: DisplayDimension = x.function(c"XDisplayHeight")?;
            let screen = default_screen(x.display);
            let whole_screen = u32::try_from(width(x.display, screen))
                .ok()
                .zip(u32::try_from(height(x.display, screen)).ok())
                .map(|(width, height)| Monitor {
                    x: 0,
                    y: 0,
                    width,
                    height,
                });
            const ANY_TYPE: c_ulong = 0;
            Some(XServer {
                monitor: primary_monitor(x.display, x.root).or(whole_screen),
                window_manager: x
                    .property(x.root, c"_NET_SUPPORTING_WM_CHECK", ANY_TYPE)
                    .is_some(),
                accessibility_bus: x.property(x.root, c"AT_SPI_BUS", ANY_TYPE).is_some(),
            })
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
    unsafe {
        let x = Connection::open()?;
        let query_tree: QueryTree = x.function(c"XQueryTree")?;
        let attributes_of: GetWindowAttributes = x.function(c"XGetWindowAttributes")?;
        let set_focus: SetInputFocus = x.function(c"XSetInputFocus")?;
        let sync: Sync = x.function(c"XSync")?;

        let (mut root, mut parent, mut children, mut count) = (0, 0, std::ptr::null_mut(), 0);
        query_tree(
            x.display,
            x.root,
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
        const CARDINAL: c_ulong = 6;
        let pid = c_long::from(std::process::id() as i32);
        let own = (listed.iter().copied())
            .find(|&window| x.property(window, c"_NET_WM_PID", CARDINAL) == Some(pid));
        if !children.is_null() {
            (x.free)(children.cast());
        }
        let Some(window) = own else {
            return Some(false);
        };
        const IS_VIEWABLE: c_int = 2;
        const REVERT_TO_PARENT: c_int = 2;
        const CURRENT_TIME: c_ulong = 0;
        let mut attributes: WindowAttributes = std::mem::zeroed();
        if attributes_of(x.display, window, &mut attributes) == 0
            || attributes.map_state != IS_VIEWABLE
        {
            return Some(false);
        }
        set_focus(x.display, window, REVERT_TO_PARENT, CURRENT_TIME);
        sync(x.display, 0);
        Some(true)
    }
}
