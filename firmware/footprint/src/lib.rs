//! Shared by the footprint binaries: opaque input, and stack painting for the QEMU runs.
#![no_std]

use core::hint::black_box;

#[cfg(not(feature = "stack"))]
static mut INPUT: [u8; 512] = [0; 512];

/// For stack runs: a real server frame (length byte first), so the deep paths run.
#[cfg(feature = "stack")]
static mut INPUT: [u8; 512] = {
    let frame: &[u8] = b"\x81\x51\x7b\x22\x65\x76\x65\x6e\x74\x22\x3a\x22\x6d\x79\x2d\x65\x76\x65\x6e\x74\x22\x2c\x22\x63\x68\x61\x6e\x6e\x65\x6c\x22\x3a\x22\x70\x72\x69\x76\x61\x74\x65\x2d\x63\x22\x2c\x22\x64\x61\x74\x61\x22\x3a\x22\x7b\x5c\x22\x6d\x5c\x22\x3a\x5c\x22\x5c\x5c\x75\x64\x38\x33\x63\x5c\x5c\x75\x64\x66\x38\x39\x20\x68\x69\x5c\x22\x7d\x22\x7d";
    let mut all = [0u8; 512];
    all[0] = frame.len() as u8;
    let mut i = 0;
    while i < frame.len() {
        all[i + 1] = frame[i];
        i += 1;
    }
    all
};

/// Bytes the optimizer cannot see through.
pub fn opaque() -> &'static mut [u8] {
    // SAFETY: single-threaded; each binary takes this reference once per call site and drops it.
    let all: &'static mut [u8; 512] = unsafe { &mut *core::ptr::addr_of_mut!(INPUT) };
    let all = black_box(all);
    // The first byte is the length of what follows.
    let len = usize::from(all.first().copied().unwrap_or(0)).min(all.len() - 1);
    all.get_mut(1..1 + len).unwrap_or(&mut [])
}

/// Text the optimizer cannot see through.
pub fn text() -> &'static str {
    core::str::from_utf8(opaque()).unwrap_or("")
}

#[cfg(feature = "stack")]
pub mod stack {
    //! Stack high-water marks by painting: fill the free stack with a pattern, run, and find
    //! the deepest word that changed.
    const PAINT: u32 = 0xDEAD_BEEF;
    /// Bytes below the current stack pointer that are painted (the measured region).
    const DEPTH: usize = 8 * 1024;

    /// Paints `DEPTH` bytes below the stack pointer.
    #[inline(never)]
    pub fn paint() {
        let sp = cortex_m::register::msp::read() as usize;
        let mut p = sp - DEPTH;
        while p < sp - 64 {
            // SAFETY: the region below SP is free stack (nothing lives there yet).
            unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
            p += 4;
        }
    }

    /// Bytes of stack used since `paint`, measured from `top` (the SP at paint time).
    #[inline(never)]
    pub fn used(top: usize) -> usize {
        let mut p = top - DEPTH;
        // SAFETY: reading the painted region.
        while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
            p += 4;
        }
        top - p
    }
}
