//! Output buffers owned by the caller, and the `Partial`/`Complete` parse status.

use core::fmt;

/// The caller's buffer cannot hold the output; `needed` is the total size that would.
///
/// Encoders keep counting after they run out of room, so `needed` is exact and the caller can
/// retry once with a buffer of that size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BufferTooSmall {
    /// Bytes the complete output takes.
    pub needed: usize,
}

impl fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "buffer too small: {} bytes needed", self.needed)
    }
}

impl core::error::Error for BufferTooSmall {}

/// Result of an incremental parser: more bytes needed, or a value and how many bytes it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status<T> {
    /// The input ends before the item does; call again with more bytes.
    Partial,
    /// The item, and the number of input bytes it occupies.
    Complete(T, usize),
}

impl<T> Status<T> {
    /// The parsed value, if complete.
    pub fn complete(self) -> Option<(T, usize)> {
        match self {
            Status::Partial => None,
            Status::Complete(v, n) => Some((v, n)),
        }
    }
}

/// Appends bytes to a caller-owned slice, counting what does not fit.
///
/// Writing never fails midway: once full, the writer only counts, and [`Writer::finish`]
/// reports the exact size needed. This keeps every encoder a straight line of `push` calls.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Writer<'a> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    /// Bytes written (or that would have been written) so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when everything written so far fits.
    pub fn fits(&self) -> bool {
        self.len <= self.buf.len()
    }

    /// Appends bytes.
    #[inline]
    pub fn push(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            dst.copy_from(bytes);
        }
        self.len = end;
    }

    /// Appends a string.
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        self.push(s.as_bytes());
    }

    /// Appends one byte.
    #[inline]
    pub fn push_byte(&mut self, b: u8) {
        if let Some(dst) = self.buf.get_mut(self.len) {
            *dst = b;
        }
        self.len = self.len.saturating_add(1);
    }

    /// Appends an unsigned integer in decimal. Subtracts powers of ten instead of dividing:
    /// 32-bit MCUs then need no 64-bit division routine.
    pub fn push_u64(&mut self, mut v: u64) {
        let mut started = false;
        for (k, &power) in POWERS_OF_TEN.iter().enumerate() {
            let mut digit = b'0';
            while v >= power {
                v -= power;
                digit += 1;
            }
            if digit != b'0' || started || k + 1 == POWERS_OF_TEN.len() {
                started = true;
                self.push_byte(digit);
            }
        }
    }

    /// Appends bytes as lower-case hex.
    pub fn push_hex(&mut self, bytes: &[u8]) {
        for b in bytes {
            let [hi, lo] = hex_pair(*b);
            self.push_byte(hi);
            self.push_byte(lo);
        }
    }

    /// The written bytes if they all fit, else the size needed.
    pub fn finish(self) -> Result<&'a mut [u8], BufferTooSmall> {
        let len = self.len;
        match self.buf.get_mut(..len) {
            Some(out) => Ok(out),
            None => Err(BufferTooSmall { needed: len }),
        }
    }

    /// Like [`Writer::finish`], returning only the length.
    pub fn finish_len(self) -> Result<usize, BufferTooSmall> {
        self.finish().map(|b| b.len())
    }
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths (for comparing
/// signatures a client sent).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

/// Two lower-case hex digits of a byte.
#[inline]
pub(crate) fn hex_pair(b: u8) -> [u8; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]
}

/// Lower-case hex of four bytes at once: nibbles spread to one per byte, then turned into
/// digits with carry-free arithmetic (each byte stays below 16 until the final add).
#[inline(always)]
pub(crate) fn hex4_swar(bytes: [u8; 4]) -> [u8; 8] {
    let mut y = u64::from(u32::from_le_bytes(bytes));
    y = (y | (y << 16)) & 0x0000_FFFF_0000_FFFF;
    y = (y | (y << 8)) & 0x00FF_00FF_00FF_00FF;
    let nibbles = ((y >> 4) & 0x000F_000F_000F_000F) | ((y & 0x000F_000F_000F_000F) << 8);
    let letters = ((nibbles + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    (nibbles + 0x3030_3030_3030_3030 + letters * 39).to_le_bytes()
}

/// Value of one hex digit (either case).
#[inline]
pub(crate) fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Panic-free slice copies: the core's only ways to move bytes, so no length check can reach
/// a panic (the `panic-check` crate proves it at link time).
/// Copies exactly `N` bytes when both slices are `N` long (callers slice them so): a
/// fixed-size move the compiler keeps inline, where a length-generic copy becomes a
/// `memcpy` call.
#[inline(always)]
pub(crate) fn copy_fixed<const N: usize>(dst: &mut [u8], src: &[u8]) {
    if let (Ok(d), Ok(s)) = (<&mut [u8; N]>::try_from(dst), <&[u8; N]>::try_from(src)) {
        *d = *s;
    }
}

pub(crate) trait Bytes {
    /// Copies `src` into the start of `self`, as much as fits (call sites pass equal lengths).
    fn copy_from(&mut self, src: &[u8]);
    /// `copy_within`, doing nothing when a range is out of bounds (callers check first).
    fn move_within(&mut self, src: core::ops::Range<usize>, dest: usize);
}

// Inlined on hosts, where speed counts; one shared copy on bare metal, where flash does
// (about 0.5 KB of the complete client on thumbv7em).
impl Bytes for [u8] {
    #[cfg_attr(not(target_os = "none"), inline(always))]
    fn copy_from(&mut self, src: &[u8]) {
        let n = self.len().min(src.len());
        if let (Some(d), Some(s)) = (self.get_mut(..n), src.get(..n)) {
            for (d, s) in d.iter_mut().zip(s) {
                *d = *s;
            }
        }
    }

    #[cfg_attr(not(target_os = "none"), inline(always))]
    fn move_within(&mut self, src: core::ops::Range<usize>, dest: usize) {
        let len = self.len();
        if src.start > src.end || src.end > len || dest > len - (src.end - src.start) {
            return;
        }
        // On hosts, memmove (the bounds were checked above); on bare metal a byte loop,
        // which is smaller in flash.
        #[cfg(not(target_os = "none"))]
        {
            self.copy_within(src, dest);
        }
        #[cfg(target_os = "none")]
        self.move_bytes(src, dest);
    }
}

/// The byte loop behind [`Bytes::move_within`] on bare metal.
#[cfg(target_os = "none")]
trait MoveBytes {
    fn move_bytes(&mut self, src: core::ops::Range<usize>, dest: usize);
}

#[cfg(target_os = "none")]
impl MoveBytes for [u8] {
    fn move_bytes(&mut self, src: core::ops::Range<usize>, dest: usize) {
        let n = src.end - src.start;
        if dest <= src.start {
            // Moving down: copy front to back.
            for k in 0..n {
                if let Some(b) = self.get(src.start + k).copied()
                    && let Some(d) = self.get_mut(dest + k)
                {
                    *d = b;
                }
            }
        } else {
            for k in (0..n).rev() {
                if let Some(b) = self.get(src.start + k).copied()
                    && let Some(d) = self.get_mut(dest + k)
                {
                    *d = b;
                }
            }
        }
    }
}

/// Checks UTF-8 (SIMD where the target has it: at run time with the `std` feature, NEON on
/// aarch64); the validation every text frame and every unescaped string goes through.
#[inline]
pub fn utf8(bytes: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(bytes).ok()
}

/// 10^19 down to 10^0, for [`Writer::push_u64`].
const POWERS_OF_TEN: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 19;
    while i > 0 {
        table[i - 1] = table[i] * 10;
        i -= 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_counts_past_the_end() {
        let mut buf = [0u8; 4];
        let mut w = Writer::new(&mut buf);
        w.push_str("abc");
        w.push_u64(12345);
        assert!(!w.fits());
        assert_eq!(w.finish(), Err(BufferTooSmall { needed: 8 }));
    }

    #[test]
    fn swar_hex_matches_the_table() {
        for b in 0..=255u8 {
            let bytes = [b, b.wrapping_mul(7), 0, 255];
            let mut want = [0u8; 8];
            for (pair, v) in want.chunks_exact_mut(2).zip(bytes) {
                pair.copy_from_slice(&hex_pair(v));
            }
            assert_eq!(hex4_swar(bytes), want);
        }
    }

    #[test]
    fn writer_numbers_and_hex() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        w.push_u64(0);
        w.push_byte(b' ');
        w.push_u64(u64::MAX);
        w.push_byte(b' ');
        w.push_hex(&[0x00, 0xab, 0xff]);
        let out = w.finish().unwrap();
        assert_eq!(out, b"0 18446744073709551615 00abff");
    }

    #[test]
    fn decimal_matches_core_fmt_around_every_power_of_ten() {
        let mut values = std::vec![1u64, 7, u64::MAX - 1];
        for &p in &POWERS_OF_TEN {
            values.extend([p - 1, p, p + 1, p.saturating_mul(9)]);
        }
        for v in values {
            let mut buf = [0u8; 20];
            let mut w = Writer::new(&mut buf);
            w.push_u64(v);
            assert_eq!(w.finish().unwrap(), std::format!("{v}").as_bytes());
        }
    }
}
