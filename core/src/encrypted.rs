//! Encrypted channels' event data (`private-encrypted-`): `{"nonce":B64,"ciphertext":B64}`
//! opened with the channel's shared secret into the caller's buffer, and sealed the same way
//! for triggers. The `encryption` feature; the shared secret comes with the channel's auth
//! ([`crate::auth::shared_secret`] on a server).

use core::fmt;

use crate::buf::{BufferTooSmall, Writer};
use crate::secretbox::{self, NONCE, TAG};
use crate::wire::json::{Kind, Value};

/// Why encrypted data did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DecryptError {
    /// `data` is not a JSON object with string `nonce` and `ciphertext`.
    NotEncrypted,
    /// `nonce` or `ciphertext` is not valid base64.
    Base64(&'static str),
    /// The nonce is not 24 bytes.
    BadNonce,
    /// The ciphertext is shorter than its 16-byte tag.
    TooShort,
    /// The output buffer cannot hold the decoded ciphertext (`needed` bytes).
    BufferTooSmall(BufferTooSmall),
    /// The tag does not match: a wrong key (rotated?) or a tampered message.
    Forged,
    /// The plaintext is not UTF-8.
    NotUtf8,
    /// The channel's auth brought no shared secret (a client answered an encrypted
    /// channel's auth request without one).
    NoSharedSecret,
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecryptError::NotEncrypted => {
                f.write_str("data is not {\"nonce\":..,\"ciphertext\":..}")
            }
            DecryptError::Base64(field) => write!(f, "`{field}` is not base64"),
            DecryptError::BadNonce => f.write_str("the nonce is not 24 bytes"),
            DecryptError::TooShort => f.write_str("the ciphertext is shorter than its tag"),
            DecryptError::BufferTooSmall(e) => e.fmt(f),
            DecryptError::Forged => {
                f.write_str("the message does not open with this key (wrong key or tampered)")
            }
            DecryptError::NotUtf8 => f.write_str("the plaintext is not UTF-8"),
            DecryptError::NoSharedSecret => {
                f.write_str("no shared secret for this channel (the auth answer had none)")
            }
        }
    }
}

impl core::error::Error for DecryptError {}

/// Opens an encrypted event's `data` with the channel's shared secret; the plaintext (the
/// JSON the publisher encrypted) borrows `out`, which needs the data's length.
///
/// ```
/// # use pusher_core::encrypted::decrypt;
/// // protocol.md §7.4, S2 (the Go library's vector).
/// let key: [u8; 32] = [
///     0x00, 0x48, 0x31, 0xf9, 0x9d, 0x2a, 0x4e, 0x86, 0x72, 0x3e, 0x89, 0x3c, 0xad, 0xed,
///     0x3a, 0x28, 0x97, 0xde, 0xed, 0xdb, 0xed, 0x95, 0x14, 0xfe, 0x94, 0x97, 0xdc, 0xdd,
///     0xc5, 0x2b, 0xd5, 0x0b,
/// ];
/// let data = r#"{"nonce":"sjklahvpWWQgAjTx5FfYHCCxd2AmaL9T","ciphertext":"zoDEe8dA3nDXKsybAWce/hXGW4szJw=="}"#;
/// let mut out = [0u8; 256];
/// assert_eq!(decrypt(&key, data, &mut out)?, "Hello!");
/// # Ok::<(), pusher_core::encrypted::DecryptError>(())
/// ```
pub fn decrypt<'o>(
    shared_secret: &[u8; 32],
    data: &str,
    out: &'o mut [u8],
) -> Result<&'o str, DecryptError> {
    let buf = out
        .get_mut(..data.len())
        .ok_or(DecryptError::BufferTooSmall(BufferTooSmall {
            needed: data.len(),
        }))?;
    crate::buf::Bytes::copy_from(buf, data.as_bytes());
    let range = decrypt_in_place(shared_secret, buf)?;
    let plain = out.get(range).ok_or(DecryptError::TooShort)?;
    core::str::from_utf8(plain).map_err(|_| DecryptError::NotUtf8)
}

/// Drops the backslash of every `\/` in place (the only escape base64 text can carry);
/// the new length, or `None` for any other escape.
fn unescape_slashes_in_place(buf: &mut [u8]) -> Option<usize> {
    let (mut r, mut w) = (0, 0);
    while let Some(&c) = buf.get(r) {
        let c = if c == b'\\' {
            r += 1;
            match buf.get(r) {
                Some(b'/') => b'/',
                _ => return None,
            }
        } else {
            c
        };
        *buf.get_mut(w)? = c;
        w += 1;
        r += 1;
    }
    Some(w)
}

/// The 24-byte nonce from its (raw, possibly `\/`-escaped) base64.
fn decode_nonce(raw: &str) -> Result<[u8; NONCE], DecryptError> {
    let mut text = [0u8; 64];
    let t = text.get_mut(..raw.len()).ok_or(DecryptError::BadNonce)?;
    crate::buf::Bytes::copy_from(t, raw.as_bytes());
    let n = unescape_slashes_in_place(t).ok_or(DecryptError::Base64("nonce"))?;
    let t = t.get_mut(..n).ok_or(DecryptError::Base64("nonce"))?;
    let got = crate::base64::decode_in_place(t).ok_or(DecryptError::Base64("nonce"))?;
    if got != NONCE {
        return Err(DecryptError::BadNonce);
    }
    let mut nonce = [0u8; NONCE];
    crate::buf::Bytes::copy_from(&mut nonce[..], t.get(..NONCE).unwrap_or(&[]));
    Ok(nonce)
}

/// Opens an encrypted event's `data` where it lies: `buf` holds the data's JSON text, the
/// ciphertext is base64-decoded and opened in place, and the plaintext's range in `buf` is
/// returned (the client decrypts events inside its receive buffer this way, with no second
/// buffer).
pub fn decrypt_in_place(
    shared_secret: &[u8; 32],
    buf: &mut [u8],
) -> Result<core::ops::Range<usize>, DecryptError> {
    let (nonce, boxed) = unpack_in_place(buf)?;
    let sealed = buf.get_mut(boxed.clone()).ok_or(DecryptError::TooShort)?;
    open_in_place(shared_secret, &nonce, sealed)?;
    Ok(boxed.start + TAG..boxed.end)
}

/// Opens a box (tag then ciphertext) decoded by [`unpack_in_place`]; on success the
/// plaintext follows the tag and is UTF-8. On failure the box is left as it was, so it can
/// be opened again with another key.
pub(crate) fn open_in_place(
    shared_secret: &[u8; 32],
    nonce: &[u8; NONCE],
    sealed: &mut [u8],
) -> Result<(), DecryptError> {
    if sealed.len() < TAG {
        return Err(DecryptError::TooShort);
    }
    if !secretbox::open(shared_secret, nonce, sealed) {
        return Err(DecryptError::Forged);
    }
    core::str::from_utf8(sealed.get(TAG..).unwrap_or(&[])).map_err(|_| DecryptError::NotUtf8)?;
    Ok(())
}

/// Decodes an encrypted `data`'s JSON text in place: its nonce, and the range of `buf` that
/// now holds the box (tag then ciphertext), not yet opened.
pub(crate) fn unpack_in_place(
    buf: &mut [u8],
) -> Result<([u8; NONCE], core::ops::Range<usize>), DecryptError> {
    let (nonce, ct) = {
        let text = core::str::from_utf8(buf).map_err(|_| DecryptError::NotEncrypted)?;
        let v = Value::parse(text).map_err(|_| DecryptError::NotEncrypted)?;
        // Raw: publishers such as PHP's json_encode write `/` as `\/`.
        let field = |name: &str| {
            v.get(name)
                .filter(|f| f.kind() == Kind::String)
                .and_then(|f| f.as_raw_str())
                .map(|r| r.raw())
                .ok_or(DecryptError::NotEncrypted)
        };
        let (nonce_b64, ct_b64) = (field("nonce")?, field("ciphertext")?);
        let nonce = decode_nonce(nonce_b64)?;
        let start = (ct_b64.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
        (nonce, start..start + ct_b64.len())
    };
    let region = buf.get_mut(ct.clone()).ok_or(DecryptError::NotEncrypted)?;
    let unescaped = unescape_slashes_in_place(region).ok_or(DecryptError::Base64("ciphertext"))?;
    let region = region
        .get_mut(..unescaped)
        .ok_or(DecryptError::Base64("ciphertext"))?;
    let boxed_len =
        crate::base64::decode_in_place(region).ok_or(DecryptError::Base64("ciphertext"))?;
    if boxed_len < TAG {
        return Err(DecryptError::TooShort);
    }
    Ok((nonce, ct.start..ct.start + boxed_len))
}

/// Seals `plaintext` with the channel's shared secret and a fresh 24-byte `nonce` (random,
/// never reused with the same key) as the `data` of a trigger: writes
/// `{"nonce":B64,"ciphertext":B64}` into `out` and returns it. `scratch` holds the sealed
/// bytes (16 more than the plaintext).
pub fn encrypt<'o>(
    shared_secret: &[u8; 32],
    nonce: &[u8; NONCE],
    plaintext: &str,
    scratch: &mut [u8],
    out: &'o mut [u8],
) -> Result<&'o str, BufferTooSmall> {
    let sealed_len = plaintext.len() + TAG;
    let sealed = scratch
        .get_mut(..sealed_len)
        .ok_or(BufferTooSmall { needed: sealed_len })?;
    use crate::buf::Bytes as _;
    if let Some(text) = sealed.get_mut(TAG..) {
        text.copy_from(plaintext.as_bytes());
    }
    if !secretbox::seal(shared_secret, nonce, sealed) {
        return Err(BufferTooSmall { needed: sealed_len });
    }
    let mut w = Writer::new(out);
    w.push_str(r#"{"nonce":""#);
    crate::base64::encode_into(nonce, &mut w);
    w.push_str(r#"","ciphertext":""#);
    crate::base64::encode_into(sealed, &mut w);
    w.push_str(r#""}"#);
    let n = w.finish_len()?;
    core::str::from_utf8(out.get(..n).unwrap_or(&[])).map_err(|_| BufferTooSmall { needed: n })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(h: &str) -> [u8; 32] {
        let mut k = [0u8; 32];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap();
        }
        k
    }

    #[test]
    fn the_go_librarys_decrypt_vector_opens_and_tampering_is_caught() {
        let key = hex32("004831f99d2a4e86723e893caded3a2897deeddbed9514fe9497dcddc52bd50b");
        let data = r#"{"nonce":"sjklahvpWWQgAjTx5FfYHCCxd2AmaL9T","ciphertext":"zoDEe8dA3nDXKsybAWce/hXGW4szJw=="}"#;
        let mut out = [0u8; 256];
        assert_eq!(decrypt(&key, data, &mut out), Ok("Hello!"));
        // PHP's json_encode writes `/` as `\/`.
        let php = data.replace('/', "\\/");
        assert_eq!(decrypt(&key, &php, &mut out), Ok("Hello!"));
        let tampered = data.replace("zoDE", "zoDF");
        assert_eq!(
            decrypt(&key, &tampered, &mut out),
            Err(DecryptError::Forged)
        );
        let mut other = key;
        other[0] ^= 1;
        assert_eq!(decrypt(&other, data, &mut out), Err(DecryptError::Forged));
        assert_eq!(
            decrypt(
                &key,
                r#"{"nonce":"c2hvcnQ=","ciphertext":"zoDEe8dA3nDXKsybAWce/hXGW4szJw=="}"#,
                &mut out
            ),
            Err(DecryptError::BadNonce)
        );
        assert_eq!(
            decrypt(&key, r#"{"text":"plain"}"#, &mut out),
            Err(DecryptError::NotEncrypted)
        );
        assert_eq!(
            decrypt(&key, "not json", &mut out),
            Err(DecryptError::NotEncrypted)
        );
        assert_eq!(
            decrypt(
                &key,
                r#"{"nonce":"sjklahvpWWQgAjTx5FfYHCCxd2AmaL9T","ciphertext":"!!!!"}"#,
                &mut out
            ),
            Err(DecryptError::Base64("ciphertext"))
        );
        assert_eq!(
            decrypt(
                &key,
                r#"{"nonce":"sjklahvpWWQgAjTx5FfYHCCxd2AmaL9T","ciphertext":"AAAA"}"#,
                &mut out
            ),
            Err(DecryptError::TooShort)
        );
        let mut small = [0u8; 8];
        assert!(matches!(
            decrypt(&key, data, &mut small),
            Err(DecryptError::BufferTooSmall(_))
        ));
    }

    #[test]
    fn the_python_librarys_encrypt_vector_seals_byte_for_byte() {
        // S1: the shared secret of E3, an ASCII nonce, and the expected ciphertext.
        let key = hex32("709ef3090a24bfa98382cb5d025ca3622c82d31fa27f10b005c0dca27bae6516");
        let nonce: [u8; 24] = *b"XAJI0Y6DPBHSAHXTHV3A3ZMF";
        let (mut scratch, mut out) = ([0u8; 64], [0u8; 160]);
        let data = encrypt(
            &key,
            &nonce,
            "kkkT5OOkOkO5kT5TOO5TkOT5TTk5O55T",
            &mut scratch,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            data,
            r#"{"nonce":"WEFKSTBZNkRQQkhTQUhYVEhWM0EzWk1G","ciphertext":"tsYJa2JgGDOpVIYFe4aNVWAvZlpB7z7CjN9mpIdbATE0Yc4izN8aM8D6VigBxnIQ"}"#
        );
        let data = std::string::String::from(data);
        let mut plain = [0u8; 256];
        assert_eq!(
            decrypt(&key, &data, &mut plain),
            Ok("kkkT5OOkOkO5kT5TOO5TkOT5TTk5O55T")
        );
    }
}

#[cfg(test)]
mod in_place_tests {
    use super::*;

    #[test]
    fn decrypting_in_place_gives_the_plaintexts_range() {
        let key = [3u8; 32];
        let (mut scratch, mut out) = ([0u8; 128], [0u8; 256]);
        let data = encrypt(
            &key,
            &[8; 24],
            r#"{"cmd":"open","ü":1}"#,
            &mut scratch,
            &mut out,
        )
        .unwrap();
        let mut buf = std::vec::Vec::from(data.as_bytes());
        let range = decrypt_in_place(&key, &mut buf).unwrap();
        assert_eq!(
            core::str::from_utf8(&buf[range]).unwrap(),
            r#"{"cmd":"open","ü":1}"#
        );
        let mut buf = std::vec::Vec::from(data.as_bytes());
        assert_eq!(
            decrypt_in_place(&[4u8; 32], &mut buf),
            Err(DecryptError::Forged)
        );
        let mut plain = *b"{\"t\":1}";
        assert_eq!(
            decrypt_in_place(&key, &mut plain),
            Err(DecryptError::NotEncrypted)
        );
    }
}

#[cfg(test)]
mod trigger_tests {
    use crate::name::{ChannelName, EventName};
    use crate::rest::{RestError, write_encrypted_trigger_body};

    #[test]
    fn an_encrypted_trigger_opens_with_the_channels_shared_secret() {
        let mk = [0x61u8; 32]; // E4: ASCII `a` * 32
        let channel = ChannelName::new("private-encrypted-channel-a").unwrap();
        let (mut out, mut scratch) = ([0u8; 512], [0u8; 256]);
        let n = write_encrypted_trigger_body(
            &mut out,
            &mut scratch,
            channel,
            EventName::new("order").unwrap(),
            r#"{"id":7}"#,
            &mk,
            &[5; 24],
            None,
            None,
        )
        .unwrap();
        let body = core::str::from_utf8(&out[..n]).unwrap();
        let v = crate::wire::json::Value::parse(body).unwrap();
        let data_raw = v.get("data").unwrap().as_raw_str().unwrap();
        let mut data = [0u8; 256];
        let data = data_raw.unescape_into(&mut data).unwrap();
        let secret = crate::auth::shared_secret(channel, &mk);
        let mut plain = [0u8; 256];
        assert_eq!(super::decrypt(&secret, data, &mut plain), Ok(r#"{"id":7}"#));
        assert!(
            body.ends_with(r#""channels":["private-encrypted-channel-a"]}"#),
            "{body}"
        );
        let public = ChannelName::new("orders").unwrap();
        assert_eq!(
            write_encrypted_trigger_body(
                &mut out,
                &mut scratch,
                public,
                EventName::new("e").unwrap(),
                "{}",
                &mk,
                &[5; 24],
                None,
                None
            ),
            Err(RestError::EncryptedChannel)
        );
    }
}
