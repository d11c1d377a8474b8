//! The crate's only `unsafe` code: x86_64 vector instructions for the JSON string hot loop, and
//! one UTF-8 validation skipped where the text is valid by construction. Compiled only for
//! x86_64 with SSE2 (every other target forbids `unsafe` outright, see the crate root).
//!
//! Each exception was measured on the decode benchmark (figures in the README) and is kept
//! here, with its safety argument written once, so the rest of the crate stays safe code:
//!
//! - **Vector loads.** The classifiers and the shuffles read 16, 32 or 64 bytes through a
//!   pointer cast (`_mm_loadu_si128`, `_mm256_loadu_si256`, `_mm512_loadu_si512`). SAFETY: each
//!   load reads exactly the bytes of a `&[u8; 16]`, of one half of a `&[u8; 64]` or of the
//!   whole `&[u8; 64]` it is given, unaligned loads need no alignment, and nothing is written
//!   through the pointer.
//! - **A vector as bytes.** The AVX-512 compaction turns its `__m512i` result into `[u8; 64]`
//!   with `transmute`. SAFETY: both are 64 bytes and every bit pattern is a valid `[u8; 64]`.
//! - **SSE2.** Part of the x86_64 baseline, and this module is compiled only where the build
//!   enables it (`target_feature = "sse2"`; soft-float targets such as `x86_64-unknown-none`
//!   lack it and take the portable path). Rust still asks for `unsafe` to call an SSE2
//!   function from code not marked with the feature. SAFETY: the feature is always there.
//! - **Run-time CPU features.** SSSE3, AVX2 and POPCNT are not part of the x86_64 baseline. The
//!   only way to reach code compiled for them is a capability token ([`Ssse3`], [`Avx2`],
//!   [`Avx512`] for AVX-512 F, BW and VBMI2), and
//!   the only way to get one is `detect`, which asks the CPU (under `std`; without it only a
//!   feature enabled at compile time counts). SAFETY: calling a `#[target_feature]` function is
//!   sound when the CPU has the feature; holding the token proves it does, so the token's safe
//!   methods and [`best`] call such functions only with that proof in hand.
//! - **Unchecked UTF-8** ([`text_by_construction`]). SAFETY: the unescaper's input is a
//!   scanner's text, a `&str`; it copies that text verbatim between escapes, every escape begins
//!   and ends at ASCII bytes (a backslash, then a letter or four hex digits), so each copied run
//!   is whole characters, and what it writes for an escape is `char::encode_utf8` of a checked
//!   scalar value (lone surrogates are rejected). Whole characters in order are valid UTF-8.
//!   The same holds for a frame unescaped in place (`Event::decode_in_place`): the frame was
//!   validated first, each escaped string is rewritten the same way where it lies, and the
//!   bytes it frees are filled with ASCII spaces. Debug builds, the fuzzers and the tests check
//!   it anyway.
#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m128i, __m256i, __m512i, _mm_cmpeq_epi8, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_max_epu8,
    _mm_movemask_epi8, _mm_set_epi64x, _mm_set1_epi8, _mm_shuffle_epi8, _mm_unpackhi_epi64,
    _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_max_epu8, _mm256_movemask_epi8, _mm256_set1_epi8,
    _mm512_cmpeq_epi8_mask, _mm512_cmplt_epu8_mask, _mm512_loadu_si512, _mm512_maskz_compress_epi8,
    _mm512_set1_epi8,
};

/// One block's byte classes, one bit per byte: quote, backslash, control (< 0x20), slash, `u`.
pub(crate) type Classes = [u64; 5];

/// Whether the CPU has every listed feature: known at compile time (`-C target-feature`), or
/// asked at run time under `std` (the answer is cached by std); `false` otherwise.
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

/// Classifies 64 bytes with SSE2 compares: sixteen bytes per compare, `movemask` packs each
/// result to one bit per byte.
#[inline(always)]
pub(crate) fn classify_sse2(block: &[u8; 64]) -> Classes {
    // SAFETY: this module is compiled only where the build enables SSE2 (module docs).
    unsafe { sse2(block) }
}

#[target_feature(enable = "sse2")]
#[inline]
fn sse2(block: &[u8; 64]) -> Classes {
    let mut classes = [0u64; 5];
    let wanted = [
        _mm_set1_epi8(b'"' as i8),
        _mm_set1_epi8(b'\\' as i8),
        _mm_set1_epi8(0x1f),
        _mm_set1_epi8(b'/' as i8),
        _mm_set1_epi8(b'u' as i8),
    ];
    for (k, lane) in block.chunks_exact(16).enumerate() {
        let half = |r: core::ops::Range<usize>| -> [u8; 8] {
            lane.get(r)
                .and_then(|h| h.try_into().ok())
                .unwrap_or([0; 8])
        };
        let (lo, hi) = (half(0..8), half(8..16));
        // Compiles to one unaligned load, without a pointer.
        let v: __m128i = _mm_set_epi64x(i64::from_le_bytes(hi), i64::from_le_bytes(lo));
        let bits = |m: __m128i| u64::from(_mm_movemask_epi8(m) as u16) << (16 * k);
        classes[0] |= bits(_mm_cmpeq_epi8(v, wanted[0]));
        classes[1] |= bits(_mm_cmpeq_epi8(v, wanted[1]));
        // Unsigned v < 0x20 exactly when max(v, 0x1f) == 0x1f.
        classes[2] |= bits(_mm_cmpeq_epi8(_mm_max_epu8(v, wanted[2]), wanted[2]));
        classes[3] |= bits(_mm_cmpeq_epi8(v, wanted[3]));
        classes[4] |= bits(_mm_cmpeq_epi8(v, wanted[4]));
    }
    classes
}

/// Proof that this CPU has SSSE3 and POPCNT: the shuffle that drops escape bytes.
#[derive(Clone, Copy)]
pub(crate) struct Ssse3(());

/// Proof that this CPU has AVX2 (hence SSSE3) and POPCNT: 32-byte compares.
#[derive(Clone, Copy)]
pub(crate) struct Avx2(());

/// Proof that this CPU has AVX-512 F, BW and VBMI2 (and AVX2, POPCNT): 64-byte compares into
/// masks, and `vpcompressb`, which drops a block's escape bytes in one instruction.
#[derive(Clone, Copy)]
pub(crate) struct Avx512(());

impl Ssse3 {
    /// The token, when the CPU has the features.
    #[inline]
    pub(crate) fn detect() -> Option<Ssse3> {
        cpu_has!("ssse3", "popcnt").then_some(Ssse3(()))
    }

    /// Writes the bytes of `src` whose bit in `drop` is clear to the front of `dst`, in order,
    /// and returns how many there are. All 16 bytes of `dst` may be written.
    #[inline(always)]
    pub(crate) fn compact16(self, src: &[u8; 16], drop: u16, dst: &mut [u8; 16]) -> usize {
        // SAFETY: `self` proves SSSE3 and POPCNT (module docs).
        unsafe { compact16(src, drop, dst) }
    }
}

impl Avx2 {
    /// The token, when the CPU has the features.
    #[inline]
    pub(crate) fn detect() -> Option<Avx2> {
        cpu_has!("avx2", "popcnt").then_some(Avx2(()))
    }

    /// Classifies 64 bytes with two 32-byte compares per class.
    #[inline(always)]
    pub(crate) fn classify(self, block: &[u8; 64]) -> Classes {
        // SAFETY: `self` proves AVX2 (module docs).
        unsafe { classify_avx2(block) }
    }

    /// The SSSE3 token this one implies.
    #[inline(always)]
    pub(crate) fn ssse3(self) -> Ssse3 {
        Ssse3(())
    }
}

impl Avx512 {
    /// The token, when the CPU has the features.
    #[inline]
    pub(crate) fn detect() -> Option<Avx512> {
        cpu_has!("avx512f", "avx512bw", "avx512vbmi2", "avx2", "popcnt").then_some(Avx512(()))
    }

    /// Classifies 64 bytes with one compare per class.
    #[inline(always)]
    pub(crate) fn classify(self, block: &[u8; 64]) -> Classes {
        // SAFETY: `self` proves AVX-512 F and BW (module docs).
        unsafe { classify_avx512(block) }
    }

    /// Writes the bytes of `src` whose bit in `drop` is clear to the front of `dst`, in order,
    /// and returns how many there are. All 64 bytes of `dst` may be written.
    #[inline(always)]
    pub(crate) fn compact64(self, src: &[u8; 64], drop: u64, dst: &mut [u8; 64]) -> usize {
        // SAFETY: `self` proves AVX-512 F and VBMI2 (module docs).
        unsafe { compact64(src, drop, dst) }
    }

    /// The AVX2 token this one implies.
    #[inline(always)]
    pub(crate) fn avx2(self) -> Avx2 {
        Avx2(())
    }
}

/// Work compiled four times, for the baseline and under each token's features, so the vector
/// helpers inline into its loop (a `#[target_feature]` function inlines only into code with the
/// same features). Implementations mark `run` `#[inline(always)]`.
pub(crate) trait Kernel {
    /// What the work returns.
    type Output;
    /// The work, with the best features the CPU has (`None` where it lacks them).
    fn run(self, ssse3: Option<Ssse3>, avx2: Option<Avx2>, avx512: Option<Avx512>) -> Self::Output;
}

/// Runs `kernel` compiled for the best features this CPU has.
#[inline]
pub(crate) fn best<K: Kernel>(kernel: K) -> K::Output {
    if let Some(avx512) = Avx512::detect() {
        // SAFETY: the token proves AVX-512 F, BW, VBMI2, AVX2 and POPCNT.
        return unsafe { run_avx512(kernel, avx512) };
    }
    if let Some(avx2) = Avx2::detect() {
        // SAFETY: the token proves AVX2 and POPCNT.
        return unsafe { run_avx2(kernel, avx2) };
    }
    if let Some(ssse3) = Ssse3::detect() {
        // SAFETY: the token proves SSSE3 and POPCNT.
        return unsafe { run_ssse3(kernel, ssse3) };
    }
    kernel.run(None, None, None)
}

/// Runs `kernel` with SSSE3 only (the tests compare it with the other builds); `None` on a CPU
/// without it.
#[cfg(test)]
pub(crate) fn with_ssse3_only<K: Kernel>(kernel: K) -> Option<K::Output> {
    let ssse3 = Ssse3::detect()?;
    // SAFETY: the token proves SSSE3 and POPCNT.
    Some(unsafe { run_ssse3(kernel, ssse3) })
}

/// Runs `kernel` with AVX2 at most (the tests compare it with the other builds); `None` on a
/// CPU without it.
#[cfg(test)]
pub(crate) fn with_avx2_only<K: Kernel>(kernel: K) -> Option<K::Output> {
    let avx2 = Avx2::detect()?;
    // SAFETY: the token proves AVX2 and POPCNT.
    Some(unsafe { run_avx2(kernel, avx2) })
}

#[target_feature(enable = "avx512f,avx512bw,avx512vbmi2,avx2,popcnt")]
fn run_avx512<K: Kernel>(kernel: K, avx512: Avx512) -> K::Output {
    let avx2 = avx512.avx2();
    kernel.run(Some(avx2.ssse3()), Some(avx2), Some(avx512))
}

#[target_feature(enable = "avx2,popcnt")]
fn run_avx2<K: Kernel>(kernel: K, avx2: Avx2) -> K::Output {
    kernel.run(Some(avx2.ssse3()), Some(avx2), None)
}

#[target_feature(enable = "ssse3,popcnt")]
fn run_ssse3<K: Kernel>(kernel: K, ssse3: Ssse3) -> K::Output {
    kernel.run(Some(ssse3), None, None)
}

/// The unescaper's output as text, not validated a second time (see the module docs for why
/// it is valid; measured: full decode 3.7x -> 4.2x serde_json on the benchmark corpus).
#[inline]
pub(crate) fn text_by_construction(bytes: &[u8]) -> &str {
    debug_assert!(core::str::from_utf8(bytes).is_ok());
    // SAFETY: valid UTF-8 by construction (module docs).
    unsafe { core::str::from_utf8_unchecked(bytes) }
}

/// For each 8-bit mask of bytes to drop, the indices of the bytes kept packed to the front, one
/// per byte of a little-endian `u64` (the rest point at byte 0 and are overwritten or ignored).
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

#[target_feature(enable = "ssse3,popcnt")]
#[inline]
fn compact16(src: &[u8; 16], drop: u16, dst: &mut [u8; 16]) -> usize {
    let [lo, hi] = drop.to_le_bytes();
    let pattern_lo = PATTERNS[usize::from(lo)];
    // The high half's indices point into bytes 8..16.
    let pattern_hi = PATTERNS[usize::from(hi)] | 0x0808_0808_0808_0808;
    // SAFETY: an unaligned load of exactly the 16 bytes of `src` (module docs).
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

#[target_feature(enable = "avx2")]
#[inline]
fn classify_avx2(block: &[u8; 64]) -> Classes {
    let wanted = [
        _mm256_set1_epi8(b'"' as i8),
        _mm256_set1_epi8(b'\\' as i8),
        _mm256_set1_epi8(0x1f),
        _mm256_set1_epi8(b'/' as i8),
        _mm256_set1_epi8(b'u' as i8),
    ];
    let mut classes = [0u64; 5];
    for half in 0..2 {
        // SAFETY: an unaligned load of 32 of the block's 64 bytes (module docs).
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * half).cast::<__m256i>()) };
        let bits = |x: __m256i| u64::from(_mm256_movemask_epi8(x) as u32) << (32 * half);
        classes[0] |= bits(_mm256_cmpeq_epi8(v, wanted[0]));
        classes[1] |= bits(_mm256_cmpeq_epi8(v, wanted[1]));
        classes[2] |= bits(_mm256_cmpeq_epi8(_mm256_max_epu8(v, wanted[2]), wanted[2]));
        classes[3] |= bits(_mm256_cmpeq_epi8(v, wanted[3]));
        classes[4] |= bits(_mm256_cmpeq_epi8(v, wanted[4]));
    }
    classes
}

#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn classify_avx512(block: &[u8; 64]) -> Classes {
    // SAFETY: an unaligned load of the block's 64 bytes (module docs).
    let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast::<__m512i>()) };
    [
        _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'"' as i8)),
        _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'\\' as i8)),
        _mm512_cmplt_epu8_mask(v, _mm512_set1_epi8(0x20)),
        _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'/' as i8)),
        _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'u' as i8)),
    ]
}

#[target_feature(enable = "avx512f,avx512vbmi2,popcnt")]
#[inline]
fn compact64(src: &[u8; 64], drop: u64, dst: &mut [u8; 64]) -> usize {
    // SAFETY: an unaligned load of exactly the 64 bytes of `src` (module docs).
    let v = unsafe { _mm512_loadu_si512(src.as_ptr().cast::<__m512i>()) };
    let packed = _mm512_maskz_compress_epi8(!drop, v);
    // SAFETY: 64 bytes either way, every bit pattern a valid `[u8; 64]` (module docs).
    *dst = unsafe { core::mem::transmute::<__m512i, [u8; 64]>(packed) };
    64 - drop.count_ones() as usize
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn compact16_drops_exactly_the_masked_bytes() {
        let Some(ssse3) = Ssse3::detect() else {
            return;
        };
        let src: [u8; 16] = core::array::from_fn(|k| b'a' + k as u8);
        for drop in (0..=u16::MAX)
            .step_by(7)
            .chain([0, u16::MAX, 0x8001, 0x00ff, 0xff00])
        {
            let mut dst = [0u8; 16];
            let n = ssse3.compact16(&src, drop, &mut dst);
            let want: std::vec::Vec<u8> = (0..16)
                .filter(|k| drop & (1 << k) == 0)
                .map(|k| src[k])
                .collect();
            assert_eq!(&dst[..n], &want[..], "drop {drop:#06x}");
        }
    }

    #[test]
    fn compact64_drops_exactly_the_masked_bytes() {
        let Some(avx512) = Avx512::detect() else {
            return;
        };
        let src: [u8; 64] = core::array::from_fn(|k| k as u8 ^ 0xa5);
        for round in 0..5000u64 {
            let drop = round
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(round as u32)
                & if round % 3 == 0 {
                    u64::MAX
                } else {
                    round.wrapping_mul(31)
                };
            let mut dst = [0u8; 64];
            let n = avx512.compact64(&src, drop, &mut dst);
            let want: std::vec::Vec<u8> = (0..64)
                .filter(|k| drop & (1 << k) == 0)
                .map(|k| src[k])
                .collect();
            assert_eq!(&dst[..n], &want[..], "drop {drop:#018x}");
        }
    }

    #[test]
    fn avx512_and_sse2_classify_alike() {
        let Some(avx512) = Avx512::detect() else {
            return;
        };
        let mut block = [0u8; 64];
        for round in 0..2000u32 {
            for (k, b) in block.iter_mut().enumerate() {
                *b = (round.wrapping_mul(2654435761).rotate_left(k as u32) >> 24) as u8 ^ (k as u8);
            }
            block[(round % 64) as usize] =
                [b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80][(round % 6) as usize];
            assert_eq!(avx512.classify(&block), classify_sse2(&block));
        }
    }

    #[test]
    fn avx2_and_sse2_classify_alike() {
        let Some(avx2) = Avx2::detect() else {
            return;
        };
        let mut block = [0u8; 64];
        for round in 0..2000u32 {
            for (k, b) in block.iter_mut().enumerate() {
                *b = (round.wrapping_mul(2654435761).rotate_left(k as u32) >> 24) as u8 ^ (k as u8);
            }
            block[(round % 64) as usize] =
                [b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80][(round % 6) as usize];
            assert_eq!(avx2.classify(&block), classify_sse2(&block));
        }
    }
}
