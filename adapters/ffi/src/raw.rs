//! Every raw-pointer access of the ABI, in one place.
//!
//! # Safety argument
//!
//! C hands us pointers; Rust cannot check where they point. What it can check, it does here
//! before anything else runs: null pointers, a length without a pointer, UTF-8, sizes and
//! alignment of the client memory, and the handle's magic word (so a never-initialized or
//! overwritten handle is refused instead of being used). What it cannot check is the contract
//! written in `include/pusher.h` (its preamble), which the caller keeps:
//!
//! * a non-null pointer with a length points to that many readable (for outputs, writable)
//!   bytes, and the bytes do not change during the call;
//! * the client memory, the buffers given to `pusher_client_init` and the config strings stay
//!   valid and unmoved until the client is no longer used (the client keeps borrowing them:
//!   that is why they get the `'static` lifetime here);
//! * one thread at a time calls into one client.
//!
//! Under that contract every slice made here is in bounds and not aliased by a Rust reference
//! that outlives the call, because the ABI hands out only raw pointers, which are valid until
//! the next call on the same client (the header says so).

use core::ffi::{c_char, c_void};

use crate::result::PusherResult;

/// A string: `len` bytes at `ptr`, UTF-8, not NUL-terminated. `{NULL, 0}` is "none" where an
/// argument is optional and the empty string where it is not.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PusherStr {
    /// The first byte; may be null only when `len` is 0.
    pub ptr: *const c_char,
    /// Length in bytes.
    pub len: usize,
}

impl PusherStr {
    /// No string.
    pub(crate) const NONE: PusherStr = PusherStr {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// A string borrowed from Rust memory (valid as long as that memory is).
    pub(crate) fn of(s: &str) -> PusherStr {
        PusherStr {
            ptr: s.as_ptr().cast(),
            len: s.len(),
        }
    }

    /// `Some` as a string, `None` as `{NULL, 0}`.
    pub(crate) fn of_opt(s: Option<&str>) -> PusherStr {
        s.map_or(PusherStr::NONE, PusherStr::of)
    }
}

/// A required string argument (`{NULL, 0}` is the empty string).
///
/// # Safety
/// `s.ptr` points to `s.len` readable bytes that outlive `'s`.
pub(crate) unsafe fn text<'s>(s: PusherStr) -> Result<&'s str, PusherResult> {
    // SAFETY: the caller's contract (see the module docs).
    let bytes = unsafe { bytes(s.ptr.cast(), s.len)? };
    core::str::from_utf8(bytes).map_err(|_| PusherResult::InvalidUtf8)
}

/// An optional string argument: `{NULL, 0}` is `None`.
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn optional_text<'s>(s: PusherStr) -> Result<Option<&'s str>, PusherResult> {
    if s.ptr.is_null() && s.len == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded.
    unsafe { text(s).map(Some) }
}

/// `len` readable bytes at `ptr` (null is allowed for 0 bytes).
///
/// # Safety
/// `ptr` points to `len` readable bytes that outlive `'s`.
pub(crate) unsafe fn bytes<'s>(ptr: *const u8, len: usize) -> Result<&'s [u8], PusherResult> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(PusherResult::NullPointer);
    }
    if len > isize::MAX as usize {
        return Err(PusherResult::OutOfRange);
    }
    // SAFETY: non-null, and the caller promises `len` readable bytes.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// `len` writable bytes at `ptr` (null is allowed for 0 bytes).
///
/// # Safety
/// `ptr` points to `len` writable bytes that outlive `'s` and nothing else refers to them.
pub(crate) unsafe fn bytes_mut<'s>(ptr: *mut u8, len: usize) -> Result<&'s mut [u8], PusherResult> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(PusherResult::NullPointer);
    }
    if len > isize::MAX as usize {
        return Err(PusherResult::OutOfRange);
    }
    // SAFETY: non-null, and the caller promises `len` writable, unaliased bytes.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
}

/// A NUL-terminated C string's length (without the NUL), for `pusher_str`.
///
/// # Safety
/// `s` is null or points to a NUL-terminated string.
pub(crate) unsafe fn c_string(s: *const c_char) -> PusherStr {
    if s.is_null() {
        return PusherStr::NONE;
    }
    // SAFETY: the caller promises a NUL-terminated string.
    let len = unsafe { core::ffi::CStr::from_ptr(s) }.count_bytes();
    PusherStr { ptr: s, len }
}

/// An output argument: written without reading (or referencing) what C left there, which
/// may not be a valid `T` (an enum tag of 0, a `bool` of 2).
pub(crate) struct Out<'o, T> {
    p: core::ptr::NonNull<T>,
    _life: core::marker::PhantomData<&'o mut T>,
}

impl<T> Out<'_, T> {
    /// Stores `value`.
    pub(crate) fn put(&self, value: T) {
        // SAFETY: non-null and aligned (checked by `out`), writable by the caller's contract.
        unsafe { self.p.as_ptr().write(value) }
    }
}

/// An output argument.
///
/// # Safety
/// `p` is null or points to writable memory for a `T` for `'o`.
pub(crate) unsafe fn out<'o, T>(p: *mut T) -> Result<Out<'o, T>, PusherResult> {
    let p = core::ptr::NonNull::new(p).ok_or(PusherResult::NullPointer)?;
    if !p.is_aligned() {
        return Err(PusherResult::Misaligned);
    }
    Ok(Out {
        p,
        _life: core::marker::PhantomData,
    })
}

/// An input struct argument.
///
/// # Safety
/// `p` is null or points to a readable, aligned, initialized `T`.
pub(crate) unsafe fn input<'i, T>(p: *const T) -> Result<&'i T, PusherResult> {
    if !p.is_aligned() {
        return Err(PusherResult::Misaligned);
    }
    // SAFETY: non-null (checked by `as_ref`) and aligned; the caller promises the rest.
    unsafe { p.as_ref() }.ok_or(PusherResult::NullPointer)
}

/// Memory that can take a `T`: non-null, aligned, at least `size_of::<T>()` bytes.
pub(crate) fn room_for<T>(mem: *mut c_void, len: usize) -> Result<*mut T, PusherResult> {
    if mem.is_null() {
        return Err(PusherResult::NullPointer);
    }
    if len < core::mem::size_of::<T>() {
        return Err(PusherResult::BufferTooSmall);
    }
    let p = mem.cast::<T>();
    if !p.is_aligned() {
        return Err(PusherResult::Misaligned);
    }
    Ok(p)
}

/// Moves `value` into memory checked by [`room_for`].
///
/// # Safety
/// `p` came from [`room_for`] and the memory is the caller's to overwrite (whatever was there
/// is not dropped: a client owns nothing that needs dropping).
pub(crate) unsafe fn write<T>(p: *mut T, value: T) {
    // SAFETY: aligned and large enough (room_for); the caller gives the memory up.
    unsafe { p.write(value) }
}

/// The first word of a handle, read before the handle is trusted.
///
/// # Safety
/// `p` is non-null, aligned, and points to at least 8 readable bytes.
pub(crate) unsafe fn magic(p: *const u64) -> u64 {
    // SAFETY: the caller's contract; volatile because C may have written anything there.
    unsafe { p.read_volatile() }
}
