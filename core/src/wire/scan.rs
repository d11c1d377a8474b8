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
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        {
            // SAFETY: `classify_sse2` needs SSE2, which this cfg guarantees (it is part of the
            // x86_64 baseline; soft-float targets such as x86_64-unknown-none lack it and
            // take the portable path). The function itself only calls value intrinsics.
            // Measured on the decode benchmark: envelope-only decode goes from 1.96 GiB/s
            // (portable SWAR) to the figure in the README.
            #[allow(unsafe_code)]
            unsafe {
                sse2::classify(block)
            }
        }
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

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_max_epu8, _mm_movemask_epi8, _mm_set_epi64x, _mm_set1_epi8,
    };

    use super::{BLOCK, Masks};

    /// Sixteen bytes per compare; `movemask` packs the result to one bit per byte.
    #[target_feature(enable = "sse2")]
    #[inline]
    pub(super) fn classify(block: &[u8; BLOCK]) -> Masks {
        let (mut quote, mut backslash, mut control, mut slash, mut letter_u) =
            (0u64, 0u64, 0u64, 0u64, 0u64);
        let slashes = _mm_set1_epi8(b'/' as i8);
        let us = _mm_set1_epi8(b'u' as i8);
        let quotes = _mm_set1_epi8(b'"' as i8);
        let backslashes = _mm_set1_epi8(b'\\' as i8);
        let below = _mm_set1_epi8(0x1f);
        for (k, lane) in block.chunks_exact(16).enumerate() {
            let half = |r: core::ops::Range<usize>| -> [u8; 8] {
                lane.get(r)
                    .and_then(|h| h.try_into().ok())
                    .unwrap_or([0; 8])
            };
            let (lo, hi) = (half(0..8), half(8..16));
            // Compiles to one unaligned load.
            let v: __m128i = _mm_set_epi64x(i64::from_le_bytes(hi), i64::from_le_bytes(lo));
            let bits = |m: __m128i| u64::from(_mm_movemask_epi8(m) as u16);
            let shift = k * 16;
            quote |= bits(_mm_cmpeq_epi8(v, quotes)) << shift;
            backslash |= bits(_mm_cmpeq_epi8(v, backslashes)) << shift;
            // Unsigned v < 0x20 exactly when max(v, 0x1f) == 0x1f.
            control |= bits(_mm_cmpeq_epi8(_mm_max_epu8(v, below), below)) << shift;
            slash |= bits(_mm_cmpeq_epi8(v, slashes)) << shift;
            letter_u |= bits(_mm_cmpeq_epi8(v, us)) << shift;
        }
        Masks {
            quote,
            backslash,
            control,
            slash,
            letter_u,
        }
    }
}

/// Whether the CPU has every listed feature: known at compile time (`-C target-feature`), or
/// asked at run time under `std` (the answer is cached by std); `false` otherwise.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
macro_rules! cpu_has {
    ($($feature:tt),+) => {{
        #[cfg(all($(target_feature = $feature),+))]
        let has = true;
        #[cfg(all(not(all($(target_feature = $feature),+)), feature = "std"))]
        let has = $(std::is_x86_feature_detected!($feature))&&+;
        #[cfg(all(not(all($(target_feature = $feature),+)), not(feature = "std")))]
        let has = false;
        has
    }};
}
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use cpu_has;

/// Byte compaction for the unescaper: drops the escaping backslashes of sixteen bytes at a
/// time with one SSSE3 shuffle, where the portable loop pays a branch and a store per escape.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[allow(unsafe_code)]
pub(crate) mod compact {
    /// For each 8-bit mask of bytes to drop, the indices of the bytes kept packed to the
    /// front, one per byte of a little-endian `u64` (the rest point at byte 0 and are
    /// overwritten or ignored).
    static PATTERNS: [u64; 256] = {
        let mut table = [0u64; 256];
        let mut mask = 0;
        while mask < 256 {
            let (mut kept, mut bit, mut pattern) = (0, 0, 0u64);
            while bit < 8 {
                if mask & (1 << bit) == 0 {
                    pattern |= (bit as u64) << (8 * kept);
                    kept += 1;
                }
                bit += 1;
            }
            table[mask] = pattern;
            mask += 1;
        }
        table
    };

    /// Whether this CPU has SSSE3 and POPCNT.
    #[inline]
    pub(crate) fn available() -> bool {
        super::cpu_has!("ssse3", "popcnt")
    }

    /// Writes the bytes of `src` whose bit in `drop` is clear to the front of `dst`, in order,
    /// and returns how many there are. All 16 bytes of `dst` may be written.
    ///
    /// # Safety
    /// The CPU must support SSSE3 and POPCNT ([`available`]).
    #[target_feature(enable = "ssse3,popcnt")]
    #[inline]
    pub(crate) unsafe fn sixteen(src: &[u8; 16], drop: u16, dst: &mut [u8; 16]) -> usize {
        use core::arch::x86_64::{
            __m128i, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_set_epi64x, _mm_shuffle_epi8,
            _mm_unpackhi_epi64,
        };
        let [lo, hi] = drop.to_le_bytes();
        let pattern_lo = PATTERNS[usize::from(lo)];
        // The high half's indices point into bytes 8..16.
        let pattern_hi = PATTERNS[usize::from(hi)] | 0x0808_0808_0808_0808;
        // SAFETY: an unaligned load of exactly the 16 bytes of `src`.
        let v = unsafe { _mm_loadu_si128(src.as_ptr().cast::<__m128i>()) };
        let packed = _mm_shuffle_epi8(v, _mm_set_epi64x(pattern_hi as i64, pattern_lo as i64));
        let low = _mm_cvtsi128_si64(packed) as u64;
        let high = _mm_cvtsi128_si64(_mm_unpackhi_epi64(packed, packed)) as u64;
        let kept_lo = 8 - lo.count_ones() as usize;
        // Low half packed at 0, high half packed right after the low half's kept bytes.
        dst[..8].copy_from_slice(&low.to_le_bytes());
        if let Some(d) = dst.get_mut(kept_lo..kept_lo + 8) {
            d.copy_from_slice(&high.to_le_bytes());
        }
        kept_lo + 8 - hi.count_ones() as usize
    }

    #[cfg(all(test, feature = "std"))]
    mod tests {
        #[test]
        fn sixteen_drops_exactly_the_masked_bytes() {
            if !super::available() {
                return;
            }
            let src: [u8; 16] = core::array::from_fn(|k| b'a' + k as u8);
            for drop in (0..=u16::MAX)
                .step_by(7)
                .chain([0, u16::MAX, 0x8001, 0x00ff, 0xff00])
            {
                let mut dst = [0u8; 16];
                // SAFETY: SSSE3 checked above.
                let n = unsafe { super::sixteen(&src, drop, &mut dst) };
                let want: std::vec::Vec<u8> = (0..16)
                    .filter(|k| drop & (1 << k) == 0)
                    .map(|k| src[k])
                    .collect();
                assert_eq!(&dst[..n], &want[..], "drop {drop:#06x}");
            }
        }
    }
}

/// The 64-byte classifier with AVX2 compares (32 bytes each), for the unescaper's AVX2 build.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[allow(unsafe_code)]
pub(crate) mod avx2 {
    use core::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_max_epu8, _mm256_movemask_epi8,
        _mm256_set1_epi8,
    };

    use super::Masks;

    /// Whether this CPU has AVX2 and POPCNT.
    #[inline]
    pub(crate) fn available() -> bool {
        super::cpu_has!("avx2", "popcnt")
    }

    /// Classifies the 64 bytes at `at` (padded like [`Masks::at`]).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(crate) unsafe fn at(s: &[u8], at: usize) -> Masks {
        // The closure inherits this function's AVX2.
        super::with_block(s, at, |block| {
            let quotes = _mm256_set1_epi8(b'"' as i8);
            let backslashes = _mm256_set1_epi8(b'\\' as i8);
            let slashes = _mm256_set1_epi8(b'/' as i8);
            let us = _mm256_set1_epi8(b'u' as i8);
            let below = _mm256_set1_epi8(0x1f);
            let mut m = Masks {
                quote: 0,
                backslash: 0,
                control: 0,
                slash: 0,
                letter_u: 0,
            };
            for half in 0..2 {
                // SAFETY: an unaligned load of 32 of the block's 64 bytes.
                let v =
                    unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * half).cast::<__m256i>()) };
                let bits = |x: __m256i| u64::from(_mm256_movemask_epi8(x) as u32) << (32 * half);
                m.quote |= bits(_mm256_cmpeq_epi8(v, quotes));
                m.backslash |= bits(_mm256_cmpeq_epi8(v, backslashes));
                m.control |= bits(_mm256_cmpeq_epi8(_mm256_max_epu8(v, below), below));
                m.slash |= bits(_mm256_cmpeq_epi8(v, slashes));
                m.letter_u |= bits(_mm256_cmpeq_epi8(v, us));
            }
            m
        })
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
