//! Byte classification for the JSON string hot loop, in portable safe code.
//!
//! Eight bytes are tested per `u64` with exact SWAR comparisons (no borrow between lanes), and
//! eight such words are packed into one 64-bit mask per byte class, one bit per byte, as
//! simdjson does with vector registers. Escaped quotes are then resolved for the whole block at
//! once with the odd-backslash-run trick, so the scanner takes no branch per escape: on
//! double-encoded `data` a backslash comes every few bytes, and per-escape branches were the
//! cost that mattered.

use crate::buf::Bytes as _;

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// Bytes per block.
pub(crate) const BLOCK: usize = 64;

/// High bit set in each byte of `x` that is zero.
#[inline(always)]
pub(crate) fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW7).wrapping_add(LOW7)) | x) & HIGH
}

/// High bit set in each byte equal to `b`.
#[inline(always)]
pub(crate) fn eq_bytes(x: u64, b: u8) -> u64 {
    zero_bytes(x ^ (ONES * u64::from(b)))
}

/// High bit set in each byte below 0x20.
#[inline(always)]
pub(crate) fn control_bytes(x: u64) -> u64 {
    !(((x & LOW7).wrapping_add(ONES * 0x60)) | x) & HIGH
}

/// High bit set in each byte that is `"`, `\` or below 0x20.
#[inline(always)]
pub(crate) fn specials(x: u64) -> u64 {
    eq_bytes(x, b'"') | eq_bytes(x, b'\\') | control_bytes(x)
}

/// Packs the high bit of each byte into the low 8 bits (byte `k` to bit `k`).
#[inline(always)]
fn pack(high: u64) -> u64 {
    ((high >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// Loads eight bytes at `at`, little-endian.
#[inline(always)]
pub(crate) fn load8(s: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = s.get(at..at.wrapping_add(8))?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// The first `N` bytes of `rest`, filled up with `fill`. Copies in 16-byte pieces (the last
/// one overlapping) instead of a byte loop, which would become a `memcpy` call: this runs
/// for the last block of nearly every frame.
#[inline(always)]
pub(crate) fn padded<const N: usize>(rest: &[u8], fill: u8) -> [u8; N] {
    let mut out = [fill; N];
    let n = rest.len().min(N);
    if n >= 16 {
        let mut k = 0;
        while k + 16 <= n {
            copy16(&mut out, rest, k);
            k += 16;
        }
        copy16(&mut out, rest, n - 16);
    } else {
        for (d, s) in out.iter_mut().zip(rest).take(15) {
            *d = *s;
        }
    }
    out
}

#[inline(always)]
fn copy16(out: &mut [u8], src: &[u8], at: usize) {
    if let (Some(d), Some(s)) = (out.get_mut(at..at + 16), src.get(at..at + 16)) {
        crate::buf::copy_fixed::<16>(d, s);
    }
}

/// Per-class bit masks of one 64-byte block (bit `k` is byte `k`).
#[derive(Clone, Copy)]
pub(crate) struct Masks {
    pub quote: u64,
    pub backslash: u64,
    pub control: u64,
    pub slash: u64,
    pub letter_u: u64,
}

impl Masks {
    /// Classifies 64 bytes.
    #[inline(always)]
    pub(crate) fn of(block: &[u8; BLOCK]) -> Masks {
        // SSE2 compares where the target has them (measured on the decode benchmark:
        // envelope-only decode goes from 1.96 GiB/s with the portable SWAR tests to the
        // figure in the README).
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        return Masks::from_classes(crate::wire::arch::classify_sse2(block));
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        Masks::of_swar(block)
    }

    /// The portable classifier: exact SWAR tests, eight bytes per step.
    #[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
    #[inline(always)]
    pub(crate) fn of_swar(block: &[u8; BLOCK]) -> Masks {
        let (mut quote, mut backslash, mut control, mut slash, mut letter_u) =
            (0u64, 0u64, 0u64, 0u64, 0u64);
        for (k, chunk) in block.chunks_exact(8).enumerate() {
            let mut word = [0u8; 8];
            word.copy_from(chunk);
            let x = u64::from_le_bytes(word);
            let shift = k * 8;
            quote |= pack(eq_bytes(x, b'"')) << shift;
            backslash |= pack(eq_bytes(x, b'\\')) << shift;
            control |= pack(control_bytes(x)) << shift;
            slash |= pack(eq_bytes(x, b'/')) << shift;
            letter_u |= pack(eq_bytes(x, b'u')) << shift;
        }
        Masks {
            quote,
            backslash,
            control,
            slash,
            letter_u,
        }
    }

    /// Masks from the architecture module's classes (same order as the fields).
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline(always)]
    pub(crate) fn from_classes([quote, backslash, control, slash, letter_u]: [u64; 5]) -> Masks {
        Masks {
            quote,
            backslash,
            control,
            slash,
            letter_u,
        }
    }

    /// Classifies the 64 bytes at `at`, padding past the end of `s` with a neutral byte.
    #[inline(always)]
    pub(crate) fn at(s: &[u8], at: usize) -> Masks {
        with_block(s, at, Masks::of)
    }
}

/// Calls `f` with the 64 bytes at `at`; near the end of `s`, with what is left padded with a
/// neutral byte (not a quote, backslash, slash, `u` or control byte).
#[inline(always)]
pub(crate) fn with_block<R>(s: &[u8], at: usize, f: impl FnOnce(&[u8; BLOCK]) -> R) -> R {
    match s
        .get(at..at.wrapping_add(BLOCK))
        .and_then(|b| <&[u8; BLOCK]>::try_from(b).ok())
    {
        Some(block) => f(block),
        None => f(&padded(s.get(at..).unwrap_or(&[]), b'a')),
    }
}

/// Tracks backslash runs across blocks to find which bytes are escaped.
#[derive(Default)]
pub(crate) struct Escapes {
    /// 1 when the first byte of the next block is escaped.
    carry: u64,
}

impl Escapes {
    /// Bits of the bytes that a preceding backslash escapes (simdjson's branchless method:
    /// a backslash escapes the next byte unless it is itself escaped).
    #[inline(always)]
    pub(crate) fn escaped(&mut self, backslash: u64) -> u64 {
        const ODD: u64 = 0xAAAA_AAAA_AAAA_AAAA;
        let potential = backslash & !self.carry;
        let maybe_escaped = potential << 1;
        let codes = ((maybe_escaped | ODD).wrapping_sub(potential)) ^ ODD;
        let escaped = codes ^ (backslash | self.carry);
        let escape = codes & backslash;
        self.carry = escape >> 63;
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: walk the bytes, a backslash escapes the next byte unless itself escaped.
    fn naive(bytes: &[u8]) -> (u64, u64) {
        let (mut escaped, mut quote) = (0u64, 0u64);
        let mut next_escaped = false;
        for (k, b) in bytes.iter().enumerate() {
            if next_escaped {
                escaped |= 1 << k;
                next_escaped = false;
            } else if *b == b'\\' {
                next_escaped = true;
            }
            if *b == b'"' {
                quote |= 1 << k;
            }
        }
        (escaped, quote)
    }

    #[test]
    fn pack_moves_each_high_bit() {
        for k in 0..8 {
            assert_eq!(pack(0x80u64 << (8 * k)), 1 << k);
        }
        assert_eq!(pack(HIGH), 0xff);
    }

    #[test]
    fn escapes_match_the_naive_walk_across_blocks() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        for _ in 0..3000 {
            let mut bytes = [0u8; 128];
            for b in bytes.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = match seed % 5 {
                    0 | 1 => b'\\',
                    2 => b'"',
                    _ => b'x',
                };
            }
            let mut esc = Escapes::default();
            let mut got = [0u64; 2];
            for (i, half) in bytes.chunks_exact(64).enumerate() {
                let m = Masks::of(half.try_into().unwrap());
                got[i] = esc.escaped(m.backslash);
                assert_eq!(m.quote, naive(half).1);
            }
            let mut want = [0u64; 2];
            let mut next = false;
            for (k, b) in bytes.iter().enumerate() {
                if next {
                    want[k / 64] |= 1 << (k % 64);
                    next = false;
                } else if *b == b'\\' {
                    next = true;
                }
            }
            assert_eq!(got, want, "{:?}", std::str::from_utf8(&bytes));
        }
    }

    #[test]
    fn simd_and_swar_agree() {
        let mut block = [0u8; 64];
        for round in 0..2000u32 {
            for (k, b) in block.iter_mut().enumerate() {
                *b = (round.wrapping_mul(2654435761).rotate_left(k as u32) >> 24) as u8 ^ (k as u8);
            }
            block[(round % 64) as usize] =
                [b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80][(round % 6) as usize];
            let a = Masks::of(&block);
            let b = Masks::of_swar(&block);
            assert_eq!(
                (a.quote, a.backslash, a.control),
                (b.quote, b.backslash, b.control)
            );
        }
    }

    #[test]
    fn control_and_padding() {
        let s = b"ab\x01\"";
        let m = Masks::at(s, 0);
        assert_eq!((m.control, m.quote, m.backslash), (0b100, 0b1000, 0));
    }
}
