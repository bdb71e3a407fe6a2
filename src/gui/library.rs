//! C libraries the window loads at run time (libX11, libfontconfig), as winit and fontique load
//! theirs: nothing to link, and a machine without one goes without what it gives.

use std::ffi::{CStr, c_void};

pub struct Library(*mut c_void);

impl Library {
    /// The library `soname` (such as `libX11.so.6`), if this machine has it. It stays loaded
    /// for the process's life, as what was looked up in it may be kept.
    pub fn open(soname: &CStr) -> Option<Library> {
        // SAFETY: a NUL-terminated name; the handle is never closed.
        let handle = unsafe { libc::dlopen(soname.as_ptr(), libc::RTLD_LAZY) };
        (!handle.is_null()).then_some(Library(handle))
    }

    /// The function `name`, as the function pointer type `F`.
    ///
    /// # Safety
    /// `F` is an `unsafe extern "C" fn` type with the function's documented signature.
    pub unsafe fn function<F: Copy>(&self, name: &CStr) -> Option<F> {
        assert_eq!(
            size_of::<F>(),
            size_of::<*mut c_void>(),
            "F is a function pointer"
        );
        // SAFETY: a handle from dlopen and a NUL-terminated name; the caller vouches for `F`.
        unsafe {
            let found = libc::dlsym(self.0, name.as_ptr());
            (!found.is_null()).then(|| std::mem::transmute_copy::<*mut c_void, F>(&found))
        }
    }
}
