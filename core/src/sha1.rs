//! SHA-1 for the WebSocket handshake's `Sec-WebSocket-Accept` (RFC 6455 §4.2.2), where it
//! proves only that the server speaks WebSocket, not anything secret.
//!
//! Hand-written rather than the `sha1` crate: that crate's portable backend is fully unrolled
//! (2.9 KB of Cortex-M flash, the largest single item of a client image) while this rolled
//! loop is a few hundred bytes, and it runs once per connection. It is checked against the
//! crate at every length around the block boundaries, and against RFC 6455's example.

use crate::buf::Bytes as _;

const BLOCK: usize = 64;

/// SHA-1 of the concatenation of `parts`.
pub(crate) fn digest(parts: &[&[u8]]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut block = [0u8; BLOCK];
    let mut filled = 0usize;
    let mut total = 0u64;
    for part in parts {
        total = total.wrapping_add(part.len() as u64);
        for &byte in *part {
            if let Some(b) = block.get_mut(filled) {
                *b = byte;
            }
            filled += 1;
            if filled == BLOCK {
                compress(&mut h, &block);
                filled = 0;
            }
        }
    }
    // Padding: 0x80, zeros, the bit length in the last 8 bytes (a second block if needed).
    block.get_mut(filled..).unwrap_or(&mut []).fill(0);
    if let Some(b) = block.get_mut(filled) {
        *b = 0x80;
    }
    if filled >= BLOCK - 8 {
        compress(&mut h, &block);
        block = [0; BLOCK];
    }
    block
        .get_mut(BLOCK - 8..)
        .unwrap_or(&mut [])
        .copy_from(&total.wrapping_mul(8).to_be_bytes());
    compress(&mut h, &block);
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from(&word.to_be_bytes());
    }
    out
}

/// One 64-byte block, 80 rounds over a 16-word rolling schedule.
fn compress(h: &mut [u32; 5], block: &[u8; BLOCK]) {
    let mut w = [0u32; 16];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([
            bytes.first().copied().unwrap_or(0),
            bytes.get(1).copied().unwrap_or(0),
            bytes.get(2).copied().unwrap_or(0),
            bytes.get(3).copied().unwrap_or(0),
        ]);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *h;
    for t in 0..80usize {
        let s = if t < 16 {
            w[t & 15]
        } else {
            let x =
                (w[(t + 13) & 15] ^ w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15]).rotate_left(1);
            w[t & 15] = x;
            x
        };
        let (f, k) = match t {
            0..20 => ((b & c) | (!b & d), 0x5A82_7999),
            20..40 => (b ^ c ^ d, 0x6ED9_EBA1),
            40..60 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
            _ => (b ^ c ^ d, 0xCA62_C1D6),
        };
        let temp = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(s);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = temp;
    }
    for (x, v) in h.iter_mut().zip([a, b, c, d, e]) {
        *x = x.wrapping_add(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha1::{Digest, Sha1};

    #[test]
    fn matches_the_sha1_crate_at_every_length_and_split() {
        let data: std::vec::Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in 0..data.len() {
            let want: [u8; 20] = Sha1::digest(&data[..len]).into();
            for split in [0, 1, 55, 56, 63, 64, 65] {
                let split = split.min(len);
                assert_eq!(
                    digest(&[&data[..split], &data[split..len]]),
                    want,
                    "len {len}"
                );
            }
        }
    }

    #[test]
    fn rfc_6455_example() {
        // §1.3: key "dGhlIHNhbXBsZSBub25jZQ==" gives accept "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
        let d = digest(&[
            b"dGhlIHNhbXBsZSBub25jZQ==",
            b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
        ]);
        assert_eq!(&crate::base64::encode(&d), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }
}
