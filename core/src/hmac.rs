//! HMAC-SHA256 (RFC 2104) on `sha2`'s compression function, written out so a keyed state is
//! small and cheap to clone and the client's step stays shallow. Verified against `sha2` at
//! every length, the RFC 4231 vectors and the official libraries' signatures.
//!
//! Measured against the RustCrypto `hmac` crate 0.13 (feature `measure-rustcrypto-hmac`,
//! `rustcrypto-hmac` in `panic-check/` and `firmware/footprint/`): it now links in the
//! panic-freedom check (older versions kept a bounds check there), but the complete client
//! is 56 B larger (28,976 vs 28,920 B) and its step takes 196 B more stack (1,008 vs 812 B);
//! only the codecs image is smaller (18,884 vs 19,016 B). So the own one stays.
#![cfg_attr(feature = "measure-rustcrypto-hmac", allow(dead_code))]

use sha2::block_api::compress256;

use crate::buf::Bytes as _;

const BLOCK: usize = 64;
const H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Streaming SHA-256 over `sha2`'s compression function: a small state that clones cheaply
/// (the hot path of signing) and has no panic path.
#[derive(Clone)]
struct Sha {
    state: [u32; 8],
    buf: [u8; BLOCK],
    buffered: usize,
    total: u64,
}

impl Sha {
    fn new() -> Self {
        Sha {
            state: H0,
            buf: [0; BLOCK],
            buffered: 0,
            total: 0,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.buffered > 0 {
            let room = BLOCK - self.buffered.min(BLOCK);
            let take = room.min(data.len());
            self.buf
                .get_mut(self.buffered..)
                .unwrap_or(&mut [])
                .copy_from(data.get(..take).unwrap_or(&[]));
            self.buffered += take;
            data = data.get(take..).unwrap_or(&[]);
            if self.buffered < BLOCK {
                return;
            }
            compress256(&mut self.state, core::slice::from_ref(&self.buf));
            self.buffered = 0;
        }
        while let Some(block) = data
            .get(..BLOCK)
            .and_then(|b| <&[u8; BLOCK]>::try_from(b).ok())
        {
            compress256(&mut self.state, core::slice::from_ref(block));
            data = data.get(BLOCK..).unwrap_or(&[]);
        }
        self.buf.copy_from(data);
        self.buffered = data.len();
    }

    /// Pads in the block buffer itself (no second block on the stack) and returns the digest.
    fn finalize(&mut self) -> [u8; 32] {
        let bits = self.total.wrapping_mul(8);
        let at = self.buffered.min(BLOCK);
        self.buf.get_mut(at..).unwrap_or(&mut []).fill(0);
        if let Some(b) = self.buf.get_mut(at) {
            *b = 0x80;
        }
        if at >= BLOCK - 8 {
            compress256(&mut self.state, core::slice::from_ref(&self.buf));
            self.buf = [0; BLOCK];
        }
        self.buf
            .get_mut(BLOCK - 8..)
            .unwrap_or(&mut [])
            .copy_from(&bits.to_be_bytes());
        compress256(&mut self.state, core::slice::from_ref(&self.buf));
        digest_bytes(&self.state)
    }
}

fn digest_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (k, word) in state.iter().enumerate() {
        out.get_mut(4 * k..4 * k + 4)
            .unwrap_or(&mut [])
            .copy_from(&word.to_be_bytes());
    }
    out
}

/// The RustCrypto `hmac` crate behind the same interface, built only to measure it.
#[cfg(feature = "measure-rustcrypto-hmac")]
#[derive(Clone)]
pub(crate) struct HmacSha256(hmac::Hmac<sha2::Sha256>);

#[cfg(feature = "measure-rustcrypto-hmac")]
impl HmacSha256 {
    pub(crate) fn new(key: &[u8]) -> Self {
        use hmac::KeyInit;
        match hmac::Hmac::<sha2::Sha256>::new_from_slice(key) {
            Ok(m) => HmacSha256(m),
            // HMAC takes keys of any length.
            Err(_) => HmacSha256(hmac::Hmac::<sha2::Sha256>::new(&Default::default())),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        hmac::Mac::update(&mut self.0, data);
    }

    pub(crate) fn finalize(self) -> [u8; 32] {
        hmac::Mac::finalize(self.0).into_bytes().into()
    }

    pub(crate) fn verify(self, expected: &[u8; 32]) -> bool {
        hmac::Mac::verify_slice(self.0, expected).is_ok()
    }
}

/// An HMAC-SHA256 state keyed once and cloned per message: the inner hash after the `ipad`
/// block, and the outer state after the `opad` block.
#[cfg(not(feature = "measure-rustcrypto-hmac"))]
#[derive(Clone)]
pub(crate) struct HmacSha256 {
    inner: Sha,
    outer: [u32; 8],
}

#[cfg(not(feature = "measure-rustcrypto-hmac"))]
impl HmacSha256 {
    /// Keys the inner and outer hashes (keys longer than a block are hashed first).
    // Not inlined: keying happens once, and its blocks stay out of the caller's frame.
    #[inline(never)]
    pub(crate) fn new(key: &[u8]) -> Self {
        // One key block, XORed in place with ipad and then opad (no copies on the stack).
        let mut inner = Sha::new();
        if key.len() > BLOCK {
            inner.update(key);
            let digest = inner.finalize();
            inner = Sha::new();
            inner.buf.copy_from(&digest);
        } else {
            inner.buf.copy_from(key);
        }
        inner.buf.iter_mut().for_each(|k| *k ^= 0x36);
        compress256(&mut inner.state, core::slice::from_ref(&inner.buf));
        inner.buf.iter_mut().for_each(|k| *k ^= 0x36 ^ 0x5c);
        let mut outer = H0;
        compress256(&mut outer, core::slice::from_ref(&inner.buf));
        inner.buf = [0; BLOCK];
        inner.total = BLOCK as u64;
        HmacSha256 { inner, outer }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// The MAC. The inner hash's block buffer holds the outer block, so no other block
    /// is placed on the stack.
    pub(crate) fn finalize(mut self) -> [u8; 32] {
        let inner = self.inner.finalize();
        let block = &mut self.inner.buf;
        *block = [0; BLOCK];
        block.copy_from(&inner);
        if let Some(b) = block.get_mut(32) {
            *b = 0x80;
        }
        block
            .get_mut(BLOCK - 8..)
            .unwrap_or(&mut [])
            .copy_from(&(((BLOCK + 32) * 8) as u64).to_be_bytes());
        compress256(&mut self.outer, core::slice::from_ref(block));
        digest_bytes(&self.outer)
    }

    pub(crate) fn verify(self, expected: &[u8; 32]) -> bool {
        let mac = self.finalize();
        let diff = mac
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        core::hint::black_box(diff) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn hex(b: &[u8]) -> std::string::String {
        b.iter().map(|x| std::format!("{x:02x}")).collect()
    }

    #[test]
    fn sha256_matches_sha2_at_every_length_and_split() {
        let data: std::vec::Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..data.len() {
            for split in [0, 1, 55, 56, 63, 64, 65, 128] {
                let split = split.min(len);
                let mut s = Sha::new();
                s.update(&data[..split]);
                s.update(&data[split..len]);
                let want: [u8; 32] = Sha256::digest(&data[..len]).into();
                assert_eq!(s.finalize(), want, "len {len} split {split}");
            }
        }
    }

    #[test]
    fn rfc4231_vectors() {
        let cases: [(&[u8], &[u8], &str); 4] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                &[0xaa; 20],
                &[0xdd; 50],
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
            ),
        ];
        for (key, msg, want) in cases {
            let mut m = HmacSha256::new(key);
            m.update(msg);
            assert_eq!(hex(&m.clone().finalize()), want);
            let mut expected = [0u8; 32];
            for (i, e) in expected.iter_mut().enumerate() {
                *e = u8::from_str_radix(&want[2 * i..2 * i + 2], 16).unwrap();
            }
            assert!(m.clone().verify(&expected));
            expected[31] ^= 1;
            assert!(!m.verify(&expected));
        }
    }
}
