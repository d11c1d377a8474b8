//! Zero-copy JSON scanning and string unescaping.
//!
//! Pusher frames are small JSON objects whose `data` string usually holds more JSON, escaped.
//! Backslashes are dense there (about one byte in nine), so the scanner looks at eight bytes per
//! step with exact SWAR byte tests (no `unsafe`, no lookup tables) and the unescaper copies each
//! run between escapes with one 8-byte store. Both reject what JSON rejects: control characters
//! in strings, unknown escapes, bad `\u` hex, and lone UTF-16 surrogates (surrogate pairs are
//! joined into one scalar, so emoji sent as `\ud83c\udf89` decode).
//!
//! Nothing allocates: values borrow from the input ([`Value`], [`RawStr`]), and unescaping
//! writes into a caller buffer.

use crate::buf::Bytes as _;
use core::fmt;

/// Deepest nesting of objects and arrays accepted.
pub const MAX_DEPTH: u32 = 64;

/// Why JSON was rejected. Offsets count bytes from the start of the text being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum JsonError {
    /// The text ends inside a value.
    UnexpectedEnd,
    /// A byte that cannot appear here.
    UnexpectedByte {
        /// Offset of the byte.
        at: usize,
    },
    /// A backslash followed by something that is not a JSON escape, or bad `\u` hex.
    InvalidEscape {
        /// Offset of the backslash.
        at: usize,
    },
    /// A `\u` escape for half of a surrogate pair without its other half.
    LoneSurrogate {
        /// Offset of the backslash.
        at: usize,
    },
    /// A raw control character (below U+0020) inside a string.
    ControlCharacter {
        /// Offset of the character.
        at: usize,
    },
    /// A malformed number.
    InvalidNumber {
        /// Offset where the number starts.
        at: usize,
    },
    /// Objects and arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Text after the end of the top-level value.
    TrailingData {
        /// Offset of the first extra byte.
        at: usize,
    },
    /// A field has the wrong type or is missing.
    Schema,
    /// The output buffer is too small; `needed` bytes always suffice.
    BufferTooSmall {
        /// Upper bound of the output size.
        needed: usize,
    },
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::UnexpectedEnd => f.write_str("JSON ends too early"),
            JsonError::UnexpectedByte { at } => write!(f, "unexpected byte at {at}"),
            JsonError::InvalidEscape { at } => write!(f, "invalid escape at {at}"),
            JsonError::LoneSurrogate { at } => write!(f, "lone UTF-16 surrogate at {at}"),
            JsonError::ControlCharacter { at } => write!(f, "control character in string at {at}"),
            JsonError::InvalidNumber { at } => write!(f, "invalid number at {at}"),
            JsonError::TooDeep => write!(f, "nesting deeper than {MAX_DEPTH}"),
            JsonError::TrailingData { at } => write!(f, "trailing data at {at}"),
            JsonError::Schema => f.write_str("field missing or of the wrong type"),
            JsonError::BufferTooSmall { needed } => {
                write!(f, "buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for JsonError {}

use super::scan::{BLOCK, Escapes, Masks, load8, specials};
use crate::buf::copy_fixed;

/// Scan strings a word or a 64-byte block at a time. On 32-bit MCUs, which have no 64-bit
/// registers, the byte loops are both smaller (about 1.5 KB less flash) and no slower, so
/// they are used there. Both forms are compiled everywhere and tested against each other.
const WORDWISE: bool = cfg!(target_pointer_width = "64");

/// Offset of the first `"`, `\` or control byte at or after `from`, or `s.len()`.
#[inline(always)]
fn next_special(s: &[u8], mut i: usize) -> usize {
    while let Some(w) = load8(s, i).filter(|_| WORDWISE) {
        let m = specials(w);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = s.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    s.len()
}

// ---------------------------------------------------------------------------------------------
// Strings

/// A JSON string as it appears in the text: the bytes between the quotes, still escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RawStr<'a> {
    raw: &'a str,
    escaped: bool,
}

impl<'a> RawStr<'a> {
    /// A raw string from already-scanned contents. `escaped` must say whether it holds a `\`.
    pub fn new(raw: &'a str) -> Self {
        RawStr {
            raw,
            escaped: raw.as_bytes().contains(&b'\\'),
        }
    }

    /// The text between the quotes, with escapes as written.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// True when the string holds at least one escape.
    pub fn is_escaped(&self) -> bool {
        self.escaped
    }

    /// The value without copying, when it holds no escapes.
    pub fn as_str(&self) -> Option<&'a str> {
        if self.escaped { None } else { Some(self.raw) }
    }

    /// Decodes the value into `out`; returns it. `out` of `raw().len()` bytes always suffices.
    pub fn unescape_into<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, JsonError>
    where
        'a: 'b,
    {
        let (_, n, closed) = unescape(self.raw.as_bytes(), 0, out)?;
        if closed {
            // A raw string never holds an unescaped quote.
            return Err(JsonError::UnexpectedByte { at: 0 });
        }
        let out = out.get(..n).ok_or(JsonError::BufferTooSmall {
            needed: self.raw.len(),
        })?;
        crate::utf8(out).ok_or(JsonError::InvalidEscape { at: 0 })
    }

    /// The value: borrowed when it has no escapes, else decoded into `out`.
    pub fn to_str<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, JsonError>
    where
        'a: 'b,
    {
        match self.as_str() {
            Some(s) => Ok(s),
            None => self.unescape_into(out),
        }
    }

    /// Compares the decoded value with `s`, without a buffer.
    pub fn eq_str(&self, s: &str) -> bool {
        if !self.escaped {
            return self.raw == s;
        }
        let (raw, want) = (self.raw.as_bytes(), s.as_bytes());
        let (mut i, mut j) = (0, 0);
        while i < raw.len() {
            let Some(&b) = raw.get(i) else { return false };
            if b == b'\\' {
                let Ok((c, used)) = decode_escape(raw, i) else {
                    return false;
                };
                let mut tmp = [0u8; 4];
                let enc = c.encode_utf8(&mut tmp).as_bytes();
                if want.get(j..j + enc.len()) != Some(enc) {
                    return false;
                }
                i += used;
                j += enc.len();
            } else {
                if want.get(j) != Some(&b) {
                    return false;
                }
                i += 1;
                j += 1;
            }
        }
        j == want.len()
    }
}

/// Decodes the escape starting at the backslash `s[at]`: the character and the bytes used.
#[inline]
fn decode_escape(s: &[u8], at: usize) -> Result<(char, usize), JsonError> {
    let err = JsonError::InvalidEscape { at };
    let c = match s.get(at + 1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => return decode_u(s, at),
        Some(_) => return Err(err),
        None => return Err(JsonError::UnexpectedEnd),
    };
    Ok((c, 2))
}

/// Decodes the `\uXXXX` escape (or surrogate pair) at the backslash `s[at]`.
#[inline(always)]
fn decode_u(s: &[u8], at: usize) -> Result<(char, usize), JsonError> {
    let err = JsonError::InvalidEscape { at };
    let hi = hex4(s, at + 2).ok_or(err)?;
    if (0xDC00..0xE000).contains(&hi) {
        return Err(JsonError::LoneSurrogate { at });
    }
    if !(0xD800..0xDC00).contains(&hi) {
        return char::from_u32(hi).map(|c| (c, 6)).ok_or(err);
    }
    if s.get(at + 6) != Some(&b'\\') || s.get(at + 7) != Some(&b'u') {
        return Err(JsonError::LoneSurrogate { at });
    }
    let lo = hex4(s, at + 8).ok_or(JsonError::InvalidEscape { at: at + 6 })?;
    if !(0xDC00..0xE000).contains(&lo) {
        return Err(JsonError::LoneSurrogate { at });
    }
    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    char::from_u32(c).map(|c| (c, 12)).ok_or(err)
}

/// Hex digit values; 0xff marks a non-digit.
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

#[inline(always)]
fn hex4(s: &[u8], at: usize) -> Option<u32> {
    let d: [u8; 4] = s.get(at..at.wrapping_add(4))?.try_into().ok()?;
    let [a, b, c, e] = d.map(|x| HEX[usize::from(x)]);
    if (a | b | c | e) & 0xf0 != 0 {
        return None;
    }
    Some(u32::from(a) << 12 | u32::from(b) << 8 | u32::from(c) << 4 | u32::from(e))
}

/// The unescaper's output for a string of a scanner's text, as text.
///
/// On x86_64 it is not validated a second time (measured: full decode 3.7x -> 4.2x serde_json
/// on the benchmark corpus). SAFETY argument: a scanner's text is a `&str`; the unescaper copies
/// it verbatim between escapes, and every escape begins and ends at ASCII bytes (a backslash,
/// then a letter or four hex digits), so each copied run is whole characters; what it writes
/// for an escape is `char::encode_utf8` of a checked scalar value (lone surrogates are
/// rejected). Whole characters in order are valid UTF-8. Debug builds, the fuzzers and the
/// tests check it anyway; other targets validate.
#[inline]
fn unescaped_text(bytes: &[u8]) -> Option<&str> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        debug_assert!(core::str::from_utf8(bytes).is_ok());
        // SAFETY: see above: the bytes are valid UTF-8 by construction.
        #[allow(unsafe_code)]
        Some(unsafe { core::str::from_utf8_unchecked(bytes) })
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    crate::utf8(bytes)
}

/// The bytes an escape may stand for by itself (`\"`, `\\`, `\/`).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn identity_of(m: &Masks) -> u64 {
    m.quote | m.backslash | m.slash
}

/// One block of [`unescape`] by compaction (see the fastest path there): `starts` are the
/// escaping backslashes before `limit` (the closing quote when `closed`, else the block's
/// end), `simple` the escaped bytes that stand for themselves. Writes at `out[o..]` (at least
/// 80 bytes of room) and returns the new `o` and how many input bytes were consumed; an
/// escape cut by the block's end is left for the next block. `None` (with nothing written)
/// when the block needs the general path: an invalid escape, which that path reports.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn compact_block(
    s: &[u8],
    i: usize,
    mut limit: usize,
    closed: bool,
    starts: u64,
    simple: u64,
    out: &mut [u8],
    mut o: usize,
) -> Option<(usize, usize)> {
    // A copy of the block to rewrite escapes in (padded near the end of the text).
    let mut block = super::scan::with_block(s, i, |b| *b);
    // A backslash in the last byte escapes the next block's first: start there next time.
    if starts >> 63 != 0 {
        limit = limit.min(BLOCK - 1);
    }
    // Backslashes of `\"`, `\\`, `\/` just go.
    let mut drop = starts & (simple >> 1);
    let mut others = starts & !(simple >> 1) & !(1 << 63);
    while others != 0 {
        let k = others.trailing_zeros() as usize;
        if k >= limit {
            break;
        }
        let letter = *block.get(k + 1)?;
        if letter == b'u' {
            let decoded = decode_u(&block, k)
                .ok()
                .filter(|&(_, used)| k + used <= limit);
            let Some((c, used)) = decoded else {
                // Invalid, or cut by the block's end: the general path decides.
                if closed || k + 12 <= limit || k == 0 {
                    return None;
                }
                limit = k;
                break;
            };
            let mut utf8 = [0u8; 4];
            let enc = c.encode_utf8(&mut utf8).as_bytes();
            let enc_len = enc.len();
            // All four bytes (a fixed-size store); those past the character are dropped.
            copy_fixed::<4>(block.get_mut(k..k + 4)?, &utf8);
            let consumed = ((1u64 << used) - 1) << k;
            drop |= consumed & !(((1u64 << enc_len) - 1) << k);
            // A surrogate pair's second backslash is part of this escape.
            others &= !consumed;
        } else {
            let c = ESCAPES[usize::from(letter)];
            if c <= 1 {
                return None;
            }
            *block.get_mut(k)? = c;
            drop |= 1 << (k + 1);
            others &= others - 1;
        }
    }
    drop |= u64::MAX.checked_shl(limit as u32).unwrap_or(0);
    // Lanes past the limit hold nothing to keep; lanes without escapes are copied whole.
    for (k, lane) in block.chunks_exact(16).enumerate().take(limit.div_ceil(16)) {
        let lane = <&[u8; 16]>::try_from(lane).ok()?;
        let dst = out
            .get_mut(o..o + 16)
            .and_then(|d| <&mut [u8; 16]>::try_from(d).ok())?;
        let lane_drop = (drop >> (16 * k)) as u16;
        if lane_drop == 0 {
            *dst = *lane;
            o += 16;
            continue;
        }
        // SAFETY: only reached from `unescape_ssse3`, called once SSSE3 is known.
        #[allow(unsafe_code)]
        let kept = unsafe { super::scan::compact::sixteen(lane, lane_drop, dst) };
        o += kept;
    }
    Some((o, limit))
}

/// Unescapes raw string contents where they lie; returns the decoded length. Output never
/// overtakes input (every escape shrinks), and runs move with exact `copy_within`, so no
/// unread byte is overwritten.
pub(crate) fn unescape_in_place(buf: &mut [u8]) -> Result<usize, JsonError> {
    if !WORDWISE {
        return unescape_in_place_bytes(buf);
    }
    let (mut i, mut o) = (0usize, 0usize);
    while i < buf.len() {
        let m = Masks::at(buf, i);
        if m.backslash == 0 {
            let end = i.saturating_add(BLOCK).min(buf.len());
            buf.move_within(i..end, o);
            o += end - i;
            i = end;
            continue;
        }
        let at = i + m.backslash.trailing_zeros() as usize;
        buf.move_within(i..at, o);
        o += at - i;
        let (used, written) = unescape_one(buf, at, o)?;
        o += written;
        i = at + used;
    }
    Ok(o)
}

/// [`unescape_in_place`] a byte at a time (32-bit targets).
fn unescape_in_place_bytes(buf: &mut [u8]) -> Result<usize, JsonError> {
    let (mut i, mut o) = (0usize, 0usize);
    while let Some(at) = buf
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\\'))
    {
        let at = i + at;
        buf.move_within(i..at, o);
        o += at - i;
        let (used, written) = unescape_one(buf, at, o)?;
        o += written;
        i = at + used;
    }
    let end = buf.len();
    buf.move_within(i..end, o);
    Ok(o + end.saturating_sub(i))
}

/// Decodes the escape at `buf[at]` and writes its UTF-8 at `buf[o]` (never past `at`):
/// returns the escape's length and the bytes written.
fn unescape_one(buf: &mut [u8], at: usize, o: usize) -> Result<(usize, usize), JsonError> {
    let (c, used) = decode_escape(buf, at)?;
    let mut tmp = [0u8; 4];
    let enc = c.encode_utf8(&mut tmp).as_bytes();
    buf.get_mut(o..o + enc.len())
        .ok_or(JsonError::UnexpectedEnd)?
        .copy_from(enc);
    Ok((used, enc.len()))
}

/// What a one-letter escape decodes to: 0 for an invalid escape, 1 for `\u`.
const ESCAPES: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'/' as usize] = b'/';
    t[b'b' as usize] = 0x08;
    t[b'f' as usize] = 0x0c;
    t[b'n' as usize] = b'\n';
    t[b'r' as usize] = b'\r';
    t[b't' as usize] = b'\t';
    t[b'u' as usize] = 1;
    t
};

/// Unescapes the string starting at `s[from]` (just after an opening quote) into `out`,
/// stopping at the closing quote or the end of `s`. Returns the offset just past the closing
/// quote (or `s.len()`), the bytes written, and whether a closing quote ended it.
///
/// The hot loop: classify 64 bytes at once, find the closing quote and the escapes of the
/// whole block with bit tricks, then copy each run between escapes with one 16-byte store.
/// Blocks always start at an unescaped byte, so no state crosses them.
pub(crate) fn unescape(
    s: &[u8],
    from: usize,
    out: &mut [u8],
) -> Result<(usize, usize, bool), JsonError> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        if super::scan::avx2::available() {
            // SAFETY: the CPU has AVX2 (hence SSSE3) and POPCNT, checked just above.
            #[allow(unsafe_code)]
            return unsafe { unescape_avx2(s, from, out) };
        }
        if super::scan::compact::available() {
            // SAFETY: the CPU has SSSE3 and POPCNT, checked just above.
            #[allow(unsafe_code)]
            return unsafe { unescape_ssse3(s, from, out) };
        }
    }
    unescape_with::<false, false>(s, from, out)
}

/// [`unescape`] compiled for AVX2: 32-byte compares classify each block.
///
/// # Safety
/// The CPU must support AVX2 and POPCNT.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[allow(unsafe_code)]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn unescape_avx2(
    s: &[u8],
    from: usize,
    out: &mut [u8],
) -> Result<(usize, usize, bool), JsonError> {
    unescape_with::<true, true>(s, from, out)
}

/// [`unescape`] compiled for SSSE3, so the shuffles inline into the loop.
///
/// # Safety
/// The CPU must support SSSE3 and POPCNT.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[allow(unsafe_code)]
#[target_feature(enable = "ssse3,popcnt")]
unsafe fn unescape_ssse3(
    s: &[u8],
    from: usize,
    out: &mut [u8],
) -> Result<(usize, usize, bool), JsonError> {
    unescape_with::<true, false>(s, from, out)
}

/// The unescaper; with `COMPACT` (only ever true inside [`unescape_ssse3`]) blocks of simple
/// escapes are compacted with shuffles.
#[inline(always)]
fn unescape_with<const COMPACT: bool, const AVX2: bool>(
    s: &[u8],
    from: usize,
    out: &mut [u8],
) -> Result<(usize, usize, bool), JsonError> {
    let (mut i, mut o) = (from, 0usize);
    while i < s.len() {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        let m = if AVX2 {
            // SAFETY: `AVX2` is true only in `unescape_avx2`, called once AVX2 is known.
            #[allow(unsafe_code)]
            unsafe {
                super::scan::avx2::at(s, i)
            }
        } else {
            Masks::at(s, i)
        };
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        let m = Masks::at(s, i);
        let escaped = Escapes::default().escaped(m.backslash);
        let quotes = m.quote & !escaped;
        let end = quotes.trailing_zeros() as usize; // 64 when the block has no end quote
        let before_end = if end >= BLOCK {
            u64::MAX
        } else {
            (1u64 << end) - 1
        };
        if m.control & before_end != 0 {
            return Err(JsonError::ControlCharacter {
                at: i + m.control.trailing_zeros() as usize,
            });
        }
        let mut starts = m.backslash & !escaped & before_end;
        // Fast path for double-encoded data: every escape in the block is `\"`, `\\` or `\/`,
        // none straddles the block's end, and both buffers have a block of slack. Dropping
        // each escaping backslash is then all there is to do: the escaped byte starts the
        // next run.
        // Fastest path (SSSE3): rewrite every escape of the block inside a local copy (the
        // decoded bytes go where the escape began, the rest of it is marked to drop), then
        // drop the marked bytes sixteen at a time with shuffles. Blocks where an escape is
        // cut by the block's end, or is invalid, take the paths below instead.
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        if COMPACT && o + SLACK <= out.len() {
            let closed = end < BLOCK;
            let limit = if closed { end } else { BLOCK.min(s.len() - i) };
            let simple = escaped & identity_of(&m);
            if let Some((o2, used)) = compact_block(s, i, limit, closed, starts, simple, out, o) {
                o = o2;
                if closed && used == end {
                    return Ok((i + end + 1, o, true));
                }
                i += used;
                continue;
            }
        }
        let identity = m.quote | m.backslash | m.slash;
        if escaped & before_end & !(identity | m.letter_u) == 0
            && starts >> 63 == 0
            && o + SLACK <= out.len()
        {
            // Near the end of the text, work on a padded copy so every store is 16 bytes.
            let tail;
            let (src, base) = match s.get(i..i + SLACK) {
                Some(_) => (s, i),
                None => {
                    let rest = s.get(i..).unwrap_or(&[]);
                    tail = super::scan::padded::<SLACK>(rest, b'z');
                    (&tail[..], 0)
                }
            };
            let mut local = 0usize;
            while starts != 0 {
                let k = starts.trailing_zeros() as usize;
                o = copy_short(src, base + local, base + k, out, o);
                if src.get(base + k + 1) == Some(&b'u') {
                    let (c, used) = decode_u(src, base + k).map_err(|e| shift(e, i - base))?;
                    let mut utf8 = [0u8; 4];
                    let len = c.encode_utf8(&mut utf8).len();
                    if let Some(dst) = out.get_mut(o..o + 4) {
                        copy_fixed::<4>(dst, &utf8);
                    }
                    o += len;
                    local = k + used;
                    starts = if local >= BLOCK {
                        0
                    } else {
                        starts & (u64::MAX << local)
                    };
                } else {
                    // `\"`, `\\` or `\/`: drop the backslash, the next run starts at the letter.
                    local = k + 1;
                    starts &= starts - 1;
                }
            }
            if local >= BLOCK {
                i += local;
                continue;
            }
            if end < BLOCK {
                o = copy_short(src, base + local, base + end, out, o);
                return Ok((i + end + 1, o, true));
            }
            let stop = BLOCK.min(s.len() - i);
            o = copy_short(src, base + local, base + stop, out, o);
            i += stop;
            continue;
        }
        let mut local = 0usize;
        while starts != 0 {
            let k = starts.trailing_zeros() as usize;
            let at = i + k;
            o = copy_run(s, i + local, at, out, o, from)?;
            let letter = s.get(at + 1).copied().ok_or(JsonError::UnexpectedEnd)?;
            if matches!(letter, b'"' | b'\\' | b'/') {
                // The common case in double-encoded data: the letter is the character.
                *out.get_mut(o).ok_or(too_small(s, from))? = letter;
                o += 1;
                local = k + 2;
            } else if letter == b'u' {
                let (c, used) = decode_u(s, at)?;
                let mut tmp = [0u8; 4];
                let enc = c.encode_utf8(&mut tmp).as_bytes();
                out.get_mut(o..o + enc.len())
                    .ok_or(too_small(s, from))?
                    .copy_from(enc);
                o += enc.len();
                local = k + used;
                // A surrogate pair's second backslash was consumed too.
                starts = if local >= BLOCK {
                    0
                } else {
                    starts & (u64::MAX << local)
                };
                continue;
            } else {
                let c = ESCAPES[usize::from(letter)];
                if c <= 1 {
                    return Err(JsonError::InvalidEscape { at });
                }
                *out.get_mut(o).ok_or(too_small(s, from))? = c;
                o += 1;
                local = k + 2;
            }
            starts &= starts - 1;
        }
        if end < BLOCK && local <= end {
            o = copy_run(s, i + local, i + end, out, o, from)?;
            return Ok((i + end + 1, o, true));
        }
        let block_end = i.saturating_add(BLOCK).min(s.len());
        if local < BLOCK {
            o = copy_run(s, i + local, block_end, out, o, from)?;
            i = block_end;
        } else {
            i += local;
        }
    }
    Ok((s.len(), o, false))
}

/// Room the fast unescape path needs past a block start: a block, a surrogate pair that
/// straddles its end, and one 16-byte store.
const SLACK: usize = BLOCK + 48;

/// Copies a run of at most one block with 32-byte stores (one store for most runs, so the
/// loop rarely branches back); the caller guarantees [`SLACK`] bytes after the run's start in
/// `s` and after `o` in `out`.
#[inline(always)]
fn copy_short(s: &[u8], mut from: usize, to: usize, out: &mut [u8], mut o: usize) -> usize {
    loop {
        if let (Some(src), Some(dst)) = (s.get(from..from + 32), out.get_mut(o..o + 32)) {
            copy_fixed::<32>(dst, src);
        }
        let step = to.saturating_sub(from).min(32);
        from += step;
        o += step;
        if from >= to {
            return o;
        }
    }
}

/// Copies `s[from..to]` to `out[o..]`; returns the new output offset. Runs (at most a block
/// long) are copied with 16-byte stores that may write past the run but never past `out`;
/// later writes cover the excess.
#[inline(always)]
fn copy_run(
    s: &[u8],
    mut from: usize,
    to: usize,
    out: &mut [u8],
    mut o: usize,
    start: usize,
) -> Result<usize, JsonError> {
    while from < to {
        match (
            s.get(from..from.wrapping_add(16)),
            out.get_mut(o..o.wrapping_add(16)),
        ) {
            (Some(src), Some(dst)) => {
                copy_fixed::<16>(dst, src);
                let step = (to - from).min(16);
                from += step;
                o += step;
            }
            _ => {
                let src = s.get(from..to).unwrap_or(&[]);
                out.get_mut(o..o + src.len())
                    .ok_or(too_small(s, start))?
                    .copy_from(src);
                return Ok(o + src.len());
            }
        }
    }
    Ok(o)
}

fn too_small(s: &[u8], from: usize) -> JsonError {
    JsonError::BufferTooSmall {
        needed: s.len().saturating_sub(from),
    }
}

/// Checks every escape of raw string contents.
fn check_escapes(raw: &[u8]) -> Result<(), JsonError> {
    let mut i = 0;
    while let Some(off) = raw
        .get(i..)
        .and_then(|r| r.iter().position(|b| *b == b'\\'))
    {
        let at = i + off;
        let (_, used) = decode_escape(raw, at)?;
        i = at + used;
    }
    Ok(())
}

/// Moves an error offset from string-relative to text-relative.
pub(crate) fn shift(e: JsonError, by: usize) -> JsonError {
    match e {
        JsonError::InvalidEscape { at } => JsonError::InvalidEscape { at: at + by },
        JsonError::LoneSurrogate { at } => JsonError::LoneSurrogate { at: at + by },
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Values

/// The type of a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// `"..."`
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
    /// `{...}`
    Object,
    /// `[...]`
    Array,
}

/// A validated JSON value, borrowed from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Value<'a> {
    kind: Kind,
    raw: &'a str,
    escaped: bool,
}

impl<'a> Value<'a> {
    /// Parses a whole text as one value (surrounding white space allowed).
    pub fn parse(text: &'a str) -> Result<Value<'a>, JsonError> {
        let mut sc = Scanner::new(text);
        let v = sc.value()?;
        sc.end()?;
        Ok(v)
    }

    /// Its type.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The exact JSON text of the value (strings with their quotes).
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The string, if it is one.
    pub fn as_raw_str(&self) -> Option<RawStr<'a>> {
        if self.kind != Kind::String {
            return None;
        }
        let inner = self.raw.get(1..self.raw.len().saturating_sub(1))?;
        Some(RawStr {
            raw: inner,
            escaped: self.escaped,
        })
    }

    /// A non-negative integer, if it is one that fits.
    pub fn as_u64(&self) -> Option<u64> {
        if self.kind != Kind::Number {
            return None;
        }
        self.raw.parse().ok()
    }

    /// The boolean, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match (self.kind, self.raw) {
            (Kind::Bool, "true") => Some(true),
            (Kind::Bool, _) => Some(false),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        self.kind == Kind::Null
    }

    /// The members, if it is an object.
    pub fn object(&self) -> Option<Members<'a>> {
        (self.kind == Kind::Object).then(|| Members::new(self.raw))
    }

    /// The elements, if it is an array.
    pub fn array(&self) -> Option<Elements<'a>> {
        (self.kind == Kind::Array).then(|| Elements::new(self.raw))
    }

    /// Looks up a member of an object by key.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.object()?
            .flatten()
            .find(|(k, _)| k.eq_str(key))
            .map(|(_, v)| v)
    }
}

/// A cursor over JSON text. Everything it returns borrows the text.
#[derive(Debug, Clone)]
pub struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Scanner { text, pos: 0 }
    }

    /// Current offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn slice(&self, from: usize, to: usize) -> Result<&'a str, JsonError> {
        self.text.get(from..to).ok_or(JsonError::UnexpectedEnd)
    }

    /// Skips white space; returns the next byte.
    #[inline]
    pub fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes().get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Steps over `b` (after white space); anything else is a typed error, never a panic.
    #[inline]
    pub fn consume(&mut self, b: u8) -> Result<(), JsonError> {
        match self.peek() {
            Some(c) if c == b => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(JsonError::UnexpectedByte { at: self.pos }),
            None => Err(JsonError::UnexpectedEnd),
        }
    }

    /// Checks that only white space remains.
    pub fn end(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(JsonError::TrailingData { at: self.pos }),
        }
    }

    /// Scans a string (the scanner is at its opening quote), checking every escape.
    #[inline]
    pub fn string(&mut self) -> Result<RawStr<'a>, JsonError> {
        let raw = self.string_lazy()?;
        if raw.escaped {
            check_escapes(raw.raw.as_bytes())
                .map_err(|e| shift(e, self.pos - 1 - raw.raw.len()))?;
        }
        Ok(raw)
    }

    /// Scans a string, finding its end without checking what follows each backslash (that is
    /// checked when it is unescaped). Control characters are still rejected.
    #[inline]
    pub fn string_lazy(&mut self) -> Result<RawStr<'a>, JsonError> {
        self.consume(b'"')?;
        if !WORDWISE {
            return self.string_lazy_bytes();
        }
        let s = self.bytes();
        let start = self.pos;
        // Keys and names: one word, no escapes.
        if let Some(w) = load8(s, start) {
            let m = specials(w);
            if m != 0 {
                let end = start + (m.trailing_zeros() / 8) as usize;
                if s.get(end) == Some(&b'"') {
                    self.pos = end + 1;
                    return Ok(RawStr {
                        raw: self.slice(start, end)?,
                        escaped: false,
                    });
                }
            }
        }
        let mut escapes = Escapes::default();
        let mut any_backslash = false;
        let mut i = start;
        while i < s.len() {
            let m = Masks::at(s, i);
            let quotes = m.quote & !escapes.escaped(m.backslash);
            let before = match quotes {
                0 => u64::MAX,
                q => (1u64 << q.trailing_zeros()) - 1,
            };
            if m.control & before != 0 {
                return Err(JsonError::ControlCharacter {
                    at: i + (m.control.trailing_zeros() as usize),
                });
            }
            any_backslash |= m.backslash & before != 0;
            if quotes != 0 {
                let end = i + quotes.trailing_zeros() as usize;
                self.pos = end + 1;
                return Ok(RawStr {
                    raw: self.slice(start, end)?,
                    escaped: any_backslash,
                });
            }
            i += BLOCK;
        }
        Err(JsonError::UnexpectedEnd)
    }

    /// [`Scanner::string_lazy`] a byte at a time (32-bit targets), after the opening quote.
    fn string_lazy_bytes(&mut self) -> Result<RawStr<'a>, JsonError> {
        let s = self.bytes();
        let start = self.pos;
        let mut escaped = false;
        let mut i = start;
        while let Some(&b) = s.get(i) {
            match b {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(RawStr {
                        raw: self.slice(start, i)?,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    // The escaped byte is skipped, but it must not be a control byte either.
                    if s.get(i + 1).is_some_and(|&n| n < 0x20) {
                        return Err(JsonError::ControlCharacter { at: i + 1 });
                    }
                    i += 2;
                }
                0..0x20 => return Err(JsonError::ControlCharacter { at: i }),
                _ => i += 1,
            }
        }
        Err(JsonError::UnexpectedEnd)
    }

    /// Scans a string and unescapes it straight into `out` in the same pass.
    pub fn string_into<'b>(&mut self, out: &'b mut [u8]) -> Result<&'b str, JsonError> {
        self.string_into_split(out).map(|(text, _)| text)
    }

    /// Unescapes the string at the scanner into the front of `out`; returns the text and the
    /// rest of `out`.
    pub(crate) fn string_into_split<'b>(
        &mut self,
        out: &'b mut [u8],
    ) -> Result<(&'b str, &'b mut [u8]), JsonError> {
        let n = self.string_unescape(out)?;
        let at = self.pos;
        let (text, rest) = out
            .split_at_mut_checked(n)
            .ok_or(JsonError::UnexpectedEnd)?;
        Ok((
            unescaped_text(text).ok_or(JsonError::InvalidEscape { at })?,
            rest,
        ))
    }

    /// Like [`Scanner::string_into`], returning the number of bytes written to `out`.
    pub fn string_unescape(&mut self, out: &mut [u8]) -> Result<usize, JsonError> {
        self.consume(b'"')?;
        let (end, n, closed) = unescape(self.bytes(), self.pos, out)?;
        if !closed {
            return Err(JsonError::UnexpectedEnd);
        }
        self.pos = end;
        Ok(n)
    }

    /// Scans any value, validating it completely.
    pub fn value(&mut self) -> Result<Value<'a>, JsonError> {
        let start = match self.peek() {
            Some(_) => self.pos,
            None => return Err(JsonError::UnexpectedEnd),
        };
        let (kind, escaped) = match self.bytes().get(start) {
            Some(b'"') => {
                let s = self.string()?;
                (Kind::String, s.escaped)
            }
            Some(b'{') => {
                self.container()?;
                (Kind::Object, false)
            }
            Some(b'[') => {
                self.container()?;
                (Kind::Array, false)
            }
            Some(b't') => {
                self.literal("true")?;
                (Kind::Bool, false)
            }
            Some(b'f') => {
                self.literal("false")?;
                (Kind::Bool, false)
            }
            Some(b'n') => {
                self.literal("null")?;
                (Kind::Null, false)
            }
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                (Kind::Number, false)
            }
            _ => return Err(JsonError::UnexpectedByte { at: start }),
        };
        Ok(Value {
            kind,
            raw: self.slice(start, self.pos)?,
            escaped,
        })
    }

    fn literal(&mut self, word: &str) -> Result<(), JsonError> {
        let end = self.pos + word.len();
        match self.bytes().get(self.pos..end) {
            Some(b) if b == word.as_bytes() => {
                self.pos = end;
                Ok(())
            }
            Some(_) => Err(JsonError::UnexpectedByte { at: self.pos }),
            None => Err(JsonError::UnexpectedEnd),
        }
    }

    fn number(&mut self) -> Result<(), JsonError> {
        let s = self.bytes();
        let start = self.pos;
        let bad = JsonError::InvalidNumber { at: start };
        let mut i = start;
        let digits = |i: &mut usize| {
            let from = *i;
            while s.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        if s.get(i) == Some(&b'0') {
            i += 1;
        } else if !digits(&mut i) {
            return Err(bad);
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return Err(bad);
            }
        }
        if matches!(s.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(s.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                return Err(bad);
            }
        }
        if s.get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
        {
            return Err(bad);
        }
        self.pos = i;
        Ok(())
    }

    /// Skips a whole object or array, checking its grammar, without recursion.
    fn container(&mut self) -> Result<(), JsonError> {
        // Bit n of `stack` is 1 when nesting level n is an object.
        let mut stack: u64 = 0;
        let mut depth: u32 = 0;
        'open: loop {
            let is_object = match self.peek() {
                Some(b'{') => true,
                Some(b'[') => false,
                _ => return Err(JsonError::UnexpectedByte { at: self.pos }),
            };
            if depth >= MAX_DEPTH {
                return Err(JsonError::TooDeep);
            }
            self.pos += 1;
            stack = stack << 1 | u64::from(is_object);
            depth += 1;
            let close = if is_object { b'}' } else { b']' };
            if self.peek() == Some(close) {
                self.pos += 1;
                stack >>= 1;
                depth -= 1;
            } else {
                // First member or element.
                if is_object {
                    self.string()?;
                    self.consume(b':')?;
                }
                if matches!(self.peek(), Some(b'{' | b'[')) {
                    continue 'open;
                }
                self.value()?;
            }
            // After a value (or an empty container): commas, or close levels.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let in_object = stack & 1 == 1;
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if in_object {
                            self.string()?;
                            self.consume(b':')?;
                        }
                        if matches!(self.peek(), Some(b'{' | b'[')) {
                            continue 'open;
                        }
                        self.value()?;
                    }
                    Some(b'}') if in_object => {
                        self.pos += 1;
                        stack >>= 1;
                        depth -= 1;
                    }
                    Some(b']') if !in_object => {
                        self.pos += 1;
                        stack >>= 1;
                        depth -= 1;
                    }
                    Some(_) => return Err(JsonError::UnexpectedByte { at: self.pos }),
                    None => return Err(JsonError::UnexpectedEnd),
                }
            }
        }
    }
}

/// Iterates the members of an already validated object.
#[derive(Debug, Clone)]
pub struct Members<'a> {
    sc: Scanner<'a>,
    first: bool,
    done: bool,
}

impl<'a> Members<'a> {
    fn new(raw: &'a str) -> Self {
        let mut sc = Scanner::new(raw);
        let done = sc.consume(b'{').is_err();
        Members {
            sc,
            first: true,
            done,
        }
    }

    fn step(&mut self) -> Result<Option<(RawStr<'a>, Value<'a>)>, JsonError> {
        match self.sc.peek() {
            Some(b'}') => return Ok(None),
            Some(b',') if !self.first => self.sc.pos += 1,
            _ if self.first => {}
            _ => return Err(JsonError::UnexpectedByte { at: self.sc.pos }),
        }
        self.first = false;
        let key = self.sc.string()?;
        self.sc.consume(b':')?;
        Ok(Some((key, self.sc.value()?)))
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<(RawStr<'a>, Value<'a>), JsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.step().transpose();
        if !matches!(r, Some(Ok(_))) {
            self.done = true;
        }
        r
    }
}

/// Iterates the elements of an already validated array.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    sc: Scanner<'a>,
    first: bool,
    done: bool,
}

impl<'a> Elements<'a> {
    fn new(raw: &'a str) -> Self {
        let mut sc = Scanner::new(raw);
        let done = sc.consume(b'[').is_err();
        Elements {
            sc,
            first: true,
            done,
        }
    }

    fn step(&mut self) -> Result<Option<Value<'a>>, JsonError> {
        match self.sc.peek() {
            Some(b']') => return Ok(None),
            Some(b',') if !self.first => self.sc.pos += 1,
            _ if self.first => {}
            _ => return Err(JsonError::UnexpectedByte { at: self.sc.pos }),
        }
        self.first = false;
        Ok(Some(self.sc.value()?))
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Value<'a>, JsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.step().transpose();
        if !matches!(r, Some(Ok(_))) {
            self.done = true;
        }
        r
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Writes `s` as the contents of a JSON string (without quotes), escaping `"`, `\` and control
/// characters. Other characters pass through as UTF-8, so signed bytes survive unchanged.
pub fn write_escaped(w: &mut crate::Writer<'_>, s: &str) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let end = next_special(bytes, i);
        w.push(bytes.get(i..end).unwrap_or(&[]));
        let Some(&b) = bytes.get(end) else { break };
        match b {
            b'"' => w.push(b"\\\""),
            b'\\' => w.push(b"\\\\"),
            b'\n' => w.push(b"\\n"),
            b'\r' => w.push(b"\\r"),
            b'\t' => w.push(b"\\t"),
            0x08 => w.push(b"\\b"),
            0x0c => w.push(b"\\f"),
            _ => {
                w.push(b"\\u00");
                w.push(&crate::buf::hex_pair(b));
            }
        }
        i = end + 1;
    }
}

/// Writes `s` as a quoted JSON string.
pub fn write_string(w: &mut crate::Writer<'_>, s: &str) {
    w.push_byte(b'"');
    write_escaped(w, s);
    w.push_byte(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    /// Strings of quotes, backslashes, escapes, control bytes and UTF-8 from a seed.
    fn tricky(seed: u64, len: usize) -> std::vec::Vec<u8> {
        let pieces: [&[u8]; 14] = [
            b"\\ud83d",
            b"\\u12",
            b"\\q",
            b"\\t\\b\\f\\r",
            b"a",
            b"\"",
            b"\\",
            b"\\\"",
            b"\\u00e9",
            b"\\n",
            b"\x01",
            "é".as_bytes(),
            b"\\ud83d\\ude00",
            b"bcdefgh",
        ];
        let mut x = seed | 1;
        let mut out = std::vec::Vec::new();
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.extend_from_slice(pieces[(x % pieces.len() as u64) as usize]);
        }
        out
    }

    #[test]
    fn shuffle_unescaper_agrees_with_the_portable_one() {
        // Both on every prefix length of tricky texts (escapes cut at every block edge,
        // invalid escapes, lone surrogates, control bytes, a closing quote or none).
        for seed in 0..400u64 {
            let mut body = tricky(seed, 40 + (seed % 200) as usize);
            if seed % 3 == 0 {
                body.extend_from_slice(b"\"tail");
            }
            for cut in 0..body.len() {
                let text = &body[..cut];
                let mut a = [0u8; 512];
                let mut b = [0u8; 512];
                let portable = unescape_with::<false, false>(text, 0, &mut a);
                let fast = unescape(text, 0, &mut b);
                assert_eq!(portable, fast, "{:?}", String::from_utf8_lossy(text));
                if let Ok((_, n, _)) = portable {
                    assert_eq!(a[..n], b[..n], "{:?}", String::from_utf8_lossy(text));
                    // What `unescaped_text` relies on.
                    if core::str::from_utf8(text).is_ok() {
                        assert!(core::str::from_utf8(&a[..n]).is_ok());
                    }
                }
                #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
                if super::super::scan::compact::available() {
                    let mut c = [0u8; 512];
                    // SAFETY: SSSE3 and POPCNT checked just above.
                    #[allow(unsafe_code)]
                    let ssse3 = unsafe { unescape_ssse3(text, 0, &mut c) };
                    assert_eq!(portable, ssse3, "{:?}", String::from_utf8_lossy(text));
                    if let Ok((_, n, _)) = portable {
                        assert_eq!(a[..n], c[..n]);
                    }
                }
            }
        }
    }

    #[test]
    fn byte_and_word_scanners_agree() {
        for seed in 0..3000u64 {
            let body = tricky(seed, (seed % 150) as usize);
            let mut text = std::vec![b'"'];
            text.extend_from_slice(&body);
            text.extend_from_slice(b"\" , 1]");
            let Ok(text) = core::str::from_utf8(&text) else {
                continue;
            };
            let mut words = Scanner::new(text);
            let mut bytes = Scanner::new(text);
            let w = words.string_lazy();
            bytes.consume(b'"').unwrap();
            let b = bytes.string_lazy_bytes();
            assert_eq!(w, b, "{text:?}");
            if w.is_ok() {
                assert_eq!(words.pos, bytes.pos, "{text:?}");
            }
            let mut a = body.clone();
            let mut c = body.clone();
            let wa = unescape_in_place(&mut a).map(|n| a[..n].to_vec());
            let wc = unescape_in_place_bytes(&mut c).map(|n| c[..n].to_vec());
            assert_eq!(wa, wc, "{:?}", String::from_utf8_lossy(&body));
            assert_eq!(
                next_special(&body, 0),
                body.iter()
                    .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                    .unwrap_or(body.len())
            );
        }
    }

    fn unesc(raw: &str) -> Result<String, JsonError> {
        let mut out = [0u8; 256];
        RawStr::new(raw).unescape_into(&mut out).map(String::from)
    }

    #[test]
    fn swar_classification_is_exact() {
        for b in 0..=255u8 {
            for lane in 0..8 {
                let mut bytes = [b'a'; 8];
                bytes[lane] = b;
                let m = specials(u64::from_le_bytes(bytes));
                let want = b == b'"' || b == b'\\' || b < 0x20;
                assert_eq!(m != 0, want, "byte {b:#x} lane {lane}");
                if want {
                    assert_eq!(m.trailing_zeros() / 8, lane as u32);
                    assert_eq!(m.count_ones(), 1);
                }
            }
        }
    }

    #[test]
    fn unescapes_every_escape() {
        assert_eq!(
            unesc(r#"a\"b\\c\/d\be\ff\ng\rh\ti"#).unwrap(),
            "a\"b\\c/d\u{8}e\u{c}f\ng\rh\ti"
        );
        assert_eq!(unesc(r"\u00e9\u20AC").unwrap(), "é€");
        assert_eq!(unesc(r"party \ud83c\udf89!").unwrap(), "party 🎉!");
        assert_eq!(
            unesc("plain ünïcode 🎉 stays").unwrap(),
            "plain ünïcode 🎉 stays"
        );
        assert_eq!(
            unesc(r"App\\Events\\OrderShipped").unwrap(),
            r"App\Events\OrderShipped"
        );
    }

    #[test]
    fn rejects_bad_escapes() {
        assert_eq!(unesc(r"\ud83c"), Err(JsonError::LoneSurrogate { at: 0 }));
        assert_eq!(unesc(r"x\udf89"), Err(JsonError::LoneSurrogate { at: 1 }));
        assert_eq!(
            unesc(r"\ud83c\u0041"),
            Err(JsonError::LoneSurrogate { at: 0 })
        );
        assert_eq!(unesc(r"\ud83cx"), Err(JsonError::LoneSurrogate { at: 0 }));
        assert_eq!(unesc(r"\u12"), Err(JsonError::InvalidEscape { at: 0 }));
        assert_eq!(unesc(r"\u12g4"), Err(JsonError::InvalidEscape { at: 0 }));
        assert_eq!(unesc(r"\x"), Err(JsonError::InvalidEscape { at: 0 }));
        assert_eq!(unesc("\\"), Err(JsonError::UnexpectedEnd));
        assert_eq!(unesc("a\u{1}"), Err(JsonError::ControlCharacter { at: 1 }));
    }

    #[test]
    fn unescape_reports_small_buffers() {
        let raw = RawStr::new(r#"0123456789\"abcdef"#);
        for n in 0..17 {
            let mut out = std::vec![0u8; n];
            assert!(
                matches!(
                    raw.unescape_into(&mut out),
                    Err(JsonError::BufferTooSmall { .. })
                ),
                "{n}"
            );
        }
        let mut out = [0u8; 17];
        assert_eq!(raw.unescape_into(&mut out), Ok("0123456789\"abcdef"));
    }

    #[test]
    fn in_place_matches_copying_unescape() {
        for raw in [
            r#"a\"b\\c\/d\be\ff\ng\rh\ti"#,
            r"\u00e9\u20AC party \ud83c\udf89!",
            "plain ünïcode 🎉 stays",
            r"\\\\\\\\",
        ] {
            let mut buf = raw.as_bytes().to_vec();
            let n = unescape_in_place(&mut buf).unwrap();
            assert_eq!(
                core::str::from_utf8(&buf[..n]).unwrap(),
                unesc(raw).unwrap()
            );
        }
        let mut buf = r#"\"x"#.repeat(100).into_bytes();
        let n = unescape_in_place(&mut buf).unwrap();
        assert_eq!(&buf[..n], "\"x".repeat(100).as_bytes());
        let mut bad = br"ab\ud83c".to_vec();
        assert_eq!(
            unescape_in_place(&mut bad),
            Err(JsonError::LoneSurrogate { at: 2 })
        );
    }

    #[test]
    fn eq_str_decodes_escapes() {
        assert!(RawStr::new(r"App\\Events\\X").eq_str(r"App\Events\X"));
        assert!(RawStr::new(r"\ud83c\udf89").eq_str("🎉"));
        assert!(!RawStr::new(r"\ud83c\udf89").eq_str("🎉x"));
        assert!(!RawStr::new(r"ab\n").eq_str("ab"));
        assert!(RawStr::new("plain").eq_str("plain"));
    }

    #[test]
    fn string_scan_matches_unescape_at_all_offsets() {
        // Escapes at every position relative to the 8-byte words.
        for pad in 0..17 {
            let body = std::format!("{}\\\"x\\\\\\u00e9\\ud83c\\udf89y\\n", "p".repeat(pad));
            let text = std::format!("\"{body}\" ");
            let mut sc = Scanner::new(&text);
            let s = sc.string().unwrap();
            assert_eq!(s.raw(), body);
            assert_eq!(sc.pos(), text.len() - 1);
            let mut out = [0u8; 64];
            let mut sc = Scanner::new(&text);
            let direct = sc.string_into(&mut out).unwrap();
            assert_eq!(direct, std::format!("{}\"x\\é🎉y\n", "p".repeat(pad)));
        }
    }

    #[test]
    fn values_and_containers() {
        for ok in [
            "0",
            "-0.5e+10",
            "12",
            "true",
            "false",
            "null",
            r#""s""#,
            "[]",
            "{}",
            r#" { "a" : [1, {"b": null}, "c\"}"], "d": {} } "#,
            "[[[[]]]]",
        ] {
            assert!(Value::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "01",
            "1.",
            "-",
            "1e",
            "tru",
            "nul",
            "[1,]",
            "{\"a\"}",
            "{\"a\":}",
            "{,}",
            "[1 2]",
            "{\"a\":1,}",
            "[}",
            "{]",
            "\"abc",
            "1 2",
            "{\"a\":1",
            "[",
            "{1:2}",
            "+1",
            ".5",
        ] {
            assert!(Value::parse(bad).is_err(), "{bad:?}");
        }
        let deep = std::format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(Value::parse(&deep).is_ok());
        let deeper = std::format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert_eq!(Value::parse(&deeper), Err(JsonError::TooDeep));
    }

    #[test]
    fn object_access() {
        let v = Value::parse(r#"{"a":1,"b\u0063":"x","n":null,"arr":[1,"2",{}]}"#).unwrap();
        assert_eq!(v.get("a").and_then(|v| v.as_u64()), Some(1));
        assert_eq!(
            v.get("bc").and_then(|v| v.as_raw_str()).map(|s| s.raw()),
            Some("x")
        );
        assert!(v.get("n").unwrap().is_null());
        let arr: std::vec::Vec<_> = v
            .get("arr")
            .unwrap()
            .array()
            .unwrap()
            .map(|e| e.unwrap().raw())
            .collect();
        assert_eq!(arr, ["1", "\"2\"", "{}"]);
        assert!(v.get("zz").is_none());
    }

    #[test]
    fn escaping_round_trips() {
        let nasty = "q\"b\\n\nt\tc\u{1}\u{1f}é🎉/";
        let mut buf = [0u8; 128];
        let mut w = crate::Writer::new(&mut buf);
        write_string(&mut w, nasty);
        let out = w.finish().unwrap();
        let text = core::str::from_utf8(out).unwrap();
        assert_eq!(text, r#""q\"b\\n\nt\tc\u0001\u001fé🎉/""#);
        let v = Value::parse(text).unwrap();
        let mut dec = [0u8; 128];
        assert_eq!(
            v.as_raw_str().unwrap().unescape_into(&mut dec).unwrap(),
            nasty
        );
    }
}
