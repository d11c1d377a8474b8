//! Escape sequences (`\n`, `\u00e9`, surrogate pairs) and the scan for the bytes that end a plain
//! run.

use super::error::JsonError;
use crate::wire::scan::{load8, specials};

/// Scan strings a word or a 64-byte block at a time. On 32-bit MCUs, which have no 64-bit
/// registers, the byte loops are both smaller (about 1.5 KB less flash) and no slower, so
/// they are used there. Both forms are compiled everywhere and tested against each other.
pub(super) const WORDWISE: bool = cfg!(target_pointer_width = "64");

/// Offset of the first `"`, `\` or control byte at or after `from`, or `s.len()`.
#[inline(always)]
pub(super) fn next_special(s: &[u8], mut i: usize) -> usize {
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

/// Decodes the escape starting at the backslash `s[at]`: the character and the bytes used.
#[inline]
pub(super) fn decode_escape(s: &[u8], at: usize) -> Result<(char, usize), JsonError> {
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
pub(super) fn decode_u(s: &[u8], at: usize) -> Result<(char, usize), JsonError> {
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
pub(super) const HEX: [u8; 256] = {
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
pub(super) fn hex4(s: &[u8], at: usize) -> Option<u32> {
    let d: [u8; 4] = s.get(at..at.wrapping_add(4))?.try_into().ok()?;
    let [a, b, c, e] = d.map(|x| HEX[usize::from(x)]);
    if (a | b | c | e) & 0xf0 != 0 {
        return None;
    }
    Some(u32::from(a) << 12 | u32::from(b) << 8 | u32::from(c) << 4 | u32::from(e))
}

/// What a one-letter escape decodes to: 0 for an invalid escape, 1 for `\u`.
pub(super) const ESCAPES: [u8; 256] = {
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

/// Checks every escape of raw string contents.
pub(super) fn check_escapes(raw: &[u8]) -> Result<(), JsonError> {
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
