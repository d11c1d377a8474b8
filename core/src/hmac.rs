//! HMAC-SHA256 (RFC 2104) over `sha2`, written out so it has no panic path: the `hmac`
//! crate's key padding indexes an array through a call the optimizer keeps at `opt-level =
//! "z"`, which the link-time panic check (`panic-check/`) rejects. Verified against the
//! RFC 4231 vectors and the official libraries' signatures.

use sha2::{Digest, Sha256};

const BLOCK: usize = 64;

/// An HMAC-SHA256 state keyed once and cloned per message.
#[derive(Clone)]
pub(crate) struct HmacSha256 {
    inner: Sha256,
    outer: Sha256,
}

impl HmacSha256 {
    /// Keys the inner and outer hashes (keys longer than a block are hashed first).
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            let digest: [u8; 32] = Sha256::digest(key).into();
            for (b, d) in block.iter_mut().zip(digest) {
                *b = d;
            }
        } else {
            for (b, k) in block.iter_mut().zip(key) {
                *b = *k;
            }
        }
        let mut ipad = [0x36u8; BLOCK];
        let mut opad = [0x5cu8; BLOCK];
        for ((i, o), k) in ipad.iter_mut().zip(opad.iter_mut()).zip(block) {
            *i ^= k;
            *o ^= k;
        }
        let mut inner = Sha256::new();
        inner.update(ipad);
        let mut outer = Sha256::new();
        outer.update(opad);
        HmacSha256 { inner, outer }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    pub(crate) fn finalize(self) -> [u8; 32] {
        let inner: [u8; 32] = self.inner.finalize().into();
        let mut outer = self.outer;
        outer.update(inner);
        outer.finalize().into()
    }

    /// Compares the MAC with `expected` in constant time.
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

    fn hex(b: &[u8]) -> std::string::String {
        b.iter().map(|x| std::format!("{x:02x}")).collect()
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
