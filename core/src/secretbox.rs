//! NaCl secretbox (XSalsa20-Poly1305, 24-byte nonce, 16-byte tag in front of the ciphertext,
//! as libsodium's `crypto_secretbox_easy` and tweetnacl lay it out) through the RustCrypto
//! `crypto_secretbox` crate, in place in the caller's buffer. The `encryption` feature.
//!
//! Measured with `panic-check --features encryption`: the crate keeps two panic paths the
//! optimizer does not remove, an `unwrap` in `StreamCipher::apply_keystream` (keystream
//! exhausted, past 256 GiB) and a bounds check in `SecretBox::init_cipher_and_mac`; so the
//! link-time panic proof covers the core without this feature, not with it (yet).

use crypto_secretbox::aead::AeadInPlace as _;
use crypto_secretbox::{KeyInit as _, XSalsa20Poly1305};

use crate::buf::Bytes as _;

/// Bytes of the Poly1305 tag in front of the ciphertext.
pub(crate) const TAG: usize = 16;
/// Bytes of the nonce.
pub(crate) const NONCE: usize = 24;

/// Opens `boxed` (tag ‖ ciphertext) in place: the plaintext is then `boxed[TAG..]`. `false`
/// when the tag does not match (a wrong key or a tampered message) or `boxed` is too short.
pub(crate) fn open(key: &[u8; 32], nonce: &[u8; NONCE], boxed: &mut [u8]) -> bool {
    let Some((tag, text)) = boxed.split_at_mut_checked(TAG) else {
        return false;
    };
    let cipher = XSalsa20Poly1305::new(key.into());
    let tag: &[u8; TAG] = match (&*tag).try_into() {
        Ok(t) => t,
        Err(_) => return false,
    };
    cipher
        .decrypt_in_place_detached(nonce.into(), b"", text, tag.into())
        .is_ok()
}

/// Seals `buf[TAG..]` in place, writing the tag into `buf[..TAG]`; `false` when `buf` is
/// shorter than the tag.
pub(crate) fn seal(key: &[u8; 32], nonce: &[u8; NONCE], buf: &mut [u8]) -> bool {
    let Some((tag, text)) = buf.split_at_mut_checked(TAG) else {
        return false;
    };
    let cipher = XSalsa20Poly1305::new(key.into());
    match cipher.encrypt_in_place_detached(nonce.into(), b"", text) {
        Ok(t) => {
            tag.copy_from(t.as_slice());
            true
        }
        Err(_) => false,
    }
}
