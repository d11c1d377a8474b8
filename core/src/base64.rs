//! Standard base64 (RFC 4648, padded) for the few fixed sizes the protocol needs: WebSocket
//! keys (16 bytes), accept values (20), shared secrets and master keys (32). Written out,
//! without the `base64` crate, so no panic path is linked (see `panic-check/`); decoding is
//! constant-time in the characters' values (see `value`). The `base64ct` crate, measured in
//! its place (feature `measure-base64ct`), also links panic-free but costs 216 B more flash in
//! the complete client (README, "The design card's packages").
#![cfg_attr(feature = "measure-base64ct", allow(dead_code))]

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes `N` bytes into `M = 4 * ceil(N / 3)` characters.
#[cfg(not(feature = "measure-base64ct"))]
pub(crate) fn encode<const N: usize, const M: usize>(input: &[u8; N]) -> [u8; M] {
    let mut out = [b'='; M];
    let mut o = 0;
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        let chars = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for (k, c) in chars.iter().enumerate().take(chunk.len() + 1) {
            if let (Some(slot), Some(ch)) = (out.get_mut(o + k), ALPHABET.get(*c as usize)) {
                *slot = *ch;
            }
        }
        o += 4;
    }
    out
}

/// The 6-bit value of a base64 character, computed without branching on the character (as
/// base64ct does): master keys and shared secrets are decoded here, and a lookup or `match`
/// would let timing tell which characters a secret holds. Each range adds its offset only
/// where `lo < c < hi`, tested by the sign of `(lo - c) & (c - hi)`.
fn value(c: u8) -> Option<u32> {
    let c = i32::from(c);
    let within = |lo: i32, hi: i32| ((lo - c) & (c - hi)) >> 8;
    let mut v: i32 = -1;
    v += within(0x40, 0x5b) & (c - 64); // 'A'..='Z' -> 0..=25
    v += within(0x60, 0x7b) & (c - 70); // 'a'..='z' -> 26..=51
    v += within(0x2f, 0x3a) & (c + 5); // '0'..='9' -> 52..=61
    v += within(0x2a, 0x2c) & 63; // '+' -> 62
    v += within(0x2e, 0x30) & 64; // '/' -> 63
    u32::try_from(v).ok()
}

/// Decodes padded base64 of exactly `N` bytes; `None` for anything else.
#[cfg(not(feature = "measure-base64ct"))]
pub(crate) fn decode<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != N.div_ceil(3) * 4 {
        return None;
    }
    let pad = N.div_ceil(3) * 3 - N;
    let mut out = [0u8; N];
    let mut o = 0;
    for (q, quad) in text.chunks(4).enumerate() {
        let last = (q + 1) * 4 == text.len();
        let mut n = 0u32;
        for (k, c) in quad.iter().enumerate() {
            let v = if last && k >= 4 - pad {
                if *c != b'=' {
                    return None;
                }
                0
            } else {
                value(*c)?
            };
            n = n << 6 | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let take = if last { 3 - pad } else { 3 };
        // Bits beyond the data must be zero (canonical encoding).
        if bytes.iter().skip(take).any(|b| *b != 0) {
            return None;
        }
        for b in bytes.iter().take(take) {
            *out.get_mut(o)? = *b;
            o += 1;
        }
    }
    (o == N).then_some(out)
}

/// Decodes padded base64 in place: the bytes land at the start of `buf` (each quad of
/// characters is read before its three bytes are written, never ahead of the reading).
/// The decoded length; `None` for anything malformed.
#[cfg(feature = "encryption")]
pub(crate) fn decode_in_place(buf: &mut [u8]) -> Option<usize> {
    let len = buf.len();
    if !len.is_multiple_of(4) {
        return None;
    }
    let pad = buf.iter().rev().take_while(|c| **c == b'=').count();
    if pad > 2 {
        return None;
    }
    let quads = len / 4;
    let mut o = 0;
    for q in 0..quads {
        let last = q + 1 == quads;
        let quad: [u8; 4] = buf.get(q * 4..q * 4 + 4)?.try_into().ok()?;
        let mut n = 0u32;
        for (k, c) in quad.iter().enumerate() {
            let v = if last && k >= 4 - pad { 0 } else { value(*c)? };
            n = n << 6 | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let take = if last { 3 - pad } else { 3 };
        if bytes.iter().skip(take).any(|b| *b != 0) {
            return None;
        }
        for b in bytes.iter().take(take) {
            *buf.get_mut(o)? = *b;
            o += 1;
        }
    }
    Some(o)
}

/// Encodes `input` as padded base64 into `w`.
#[cfg(feature = "encryption")]
pub(crate) fn encode_into(input: &[u8], w: &mut crate::buf::Writer<'_>) {
    for chunk in input.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = b(0) << 16 | b(1) << 8 | b(2);
        for k in 0..4 {
            if k <= chunk.len() {
                let i = ((n >> (18 - 6 * k)) & 63) as usize;
                w.push_byte(ALPHABET.get(i).copied().unwrap_or(b'='));
            } else {
                w.push_byte(b'=');
            }
        }
    }
}

/// The `base64ct` crate behind the same interface, built only to measure it.
#[cfg(feature = "measure-base64ct")]
pub(crate) fn encode<const N: usize, const M: usize>(input: &[u8; N]) -> [u8; M] {
    use base64ct::Encoding as _;
    let mut out = [b'='; M];
    let _ = base64ct::Base64::encode(input, &mut out);
    out
}

/// The `base64ct` crate behind the same interface, built only to measure it.
#[cfg(feature = "measure-base64ct")]
pub(crate) fn decode<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    use base64ct::Encoding as _;
    let mut out = [0u8; N];
    let decoded = base64ct::Base64::decode(text, &mut out).ok()?;
    (decoded.len() == N).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn every_byte_decodes_to_the_alphabets_value_or_none() {
        for c in 0..=255u8 {
            let want = ALPHABET.iter().position(|a| *a == c).map(|i| i as u32);
            assert_eq!(value(c), want, "byte {c:#04x}");
        }
    }

    #[test]
    fn matches_the_base64_crate() {
        let mut seed = 7u32;
        for _ in 0..500 {
            let mut b16 = [0u8; 16];
            let mut b20 = [0u8; 20];
            let mut b32 = [0u8; 32];
            for b in b16.iter_mut().chain(b20.iter_mut()).chain(b32.iter_mut()) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *b = (seed >> 16) as u8;
            }
            let e16: [u8; 24] = encode(&b16);
            let e20: [u8; 28] = encode(&b20);
            let e32: [u8; 44] = encode(&b32);
            assert_eq!(e16.as_slice(), STANDARD.encode(b16).as_bytes());
            assert_eq!(e20.as_slice(), STANDARD.encode(b20).as_bytes());
            assert_eq!(e32.as_slice(), STANDARD.encode(b32).as_bytes());
            assert_eq!(decode::<16>(&e16), Some(b16));
            assert_eq!(decode::<32>(&e32), Some(b32));
            assert_eq!(decode::<20>(&e20), Some(b20));
        }
        assert_eq!(
            decode::<16>(b"dGhlIHNhbXBsZSBub25jZQ=="),
            Some(*b"the sample nonce")
        );
        assert_eq!(decode::<16>(b"dGhlIHNhbXBsZSBub25jZQ="), None);
        assert_eq!(
            decode::<16>(b"dGhlIHNhbXBsZSBub25jZR=="),
            None,
            "non-canonical"
        );
        assert_eq!(decode::<16>(b"dGhlIHNhbXBsZSBub25j!Q=="), None);
        assert_eq!(decode::<32>(b"c2hvcnQ="), None);
    }
}
