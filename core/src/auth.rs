//! Channel, presence and user signatures, and encrypted-channel shared secrets.
//!
//! Every signature is lower-case hex HMAC-SHA256 keyed with the app secret, over:
//!
//! | what | string to sign |
//! |---|---|
//! | private channel | `socket_id:channel` |
//! | presence channel | `socket_id:channel:channel_data` |
//! | user (sign-in) | `socket_id::user::user_data` |
//!
//! and the token is `key:hex`. The strings are fed to the MAC piece by piece, never built.

use crate::buf::Bytes as _;
use core::fmt;

use sha2::{Digest, Sha256};

use crate::buf::{BufferTooSmall, Writer};
use crate::name::{ChannelName, SocketId};
use crate::wire::json::{Kind, Value, write_string};

pub(crate) use crate::hmac::HmacSha256;

/// Length of a hex signature.
pub const SIGNATURE_HEX_LEN: usize = 64;

/// Why an auth response was not produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AuthError {
    /// The output buffer is too small.
    BufferTooSmall(BufferTooSmall),
    /// Presence channels need `channel_data`.
    MissingChannelData,
    /// Only presence channels take `channel_data`.
    UnexpectedChannelData,
    /// `channel_data` must be a JSON object with a `user_id`.
    InvalidChannelData,
    /// `user_data` must be a JSON object with a non-empty string `id`.
    InvalidUserData,
    /// Encrypted channels need the encryption master key.
    MissingMasterKey,
    /// Public channels are not signed.
    NotProtected,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::BufferTooSmall(e) => e.fmt(f),
            AuthError::MissingChannelData => f.write_str("presence channels need channel_data"),
            AuthError::UnexpectedChannelData => {
                f.write_str("only presence channels take channel_data")
            }
            AuthError::InvalidChannelData => {
                f.write_str("channel_data must be a JSON object with user_id")
            }
            AuthError::InvalidUserData => {
                f.write_str("user_data must be a JSON object with a non-empty string id")
            }
            AuthError::MissingMasterKey => {
                f.write_str("encrypted channels need the encryption master key")
            }
            AuthError::NotProtected => f.write_str("public channels need no auth"),
        }
    }
}

impl core::error::Error for AuthError {}

impl From<BufferTooSmall> for AuthError {
    fn from(e: BufferTooSmall) -> Self {
        AuthError::BufferTooSmall(e)
    }
}

/// A raw HMAC-SHA256 signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Signature(pub [u8; 32]);

impl Signature {
    /// The lower-case hex form.
    pub fn to_hex(&self) -> [u8; SIGNATURE_HEX_LEN] {
        let mut out = [0u8; SIGNATURE_HEX_LEN];
        for k in 0..8 {
            let word = self
                .0
                .get(4 * k..4 * k + 4)
                .and_then(|w| <[u8; 4]>::try_from(w).ok());
            if let (Some(word), Some(dst)) = (word, out.get_mut(8 * k..8 * k + 8)) {
                dst.copy_from(&crate::buf::hex4_swar(word));
            }
        }
        out
    }
}

/// Decodes 64 hex digits (either case); `None` for anything else.
fn parse_hex_signature(hex: &[u8]) -> Option<[u8; 32]> {
    if hex.len() != SIGNATURE_HEX_LEN {
        return None;
    }
    let mut out = [0u8; 32];
    for (k, o) in out.iter_mut().enumerate() {
        let hi = crate::buf::hex_value(*hex.get(2 * k)?)?;
        let lo = crate::buf::hex_value(*hex.get(2 * k + 1)?)?;
        *o = hi << 4 | lo;
    }
    Some(out)
}

/// `SHA-256(channel ++ master_key)`: the per-channel key of an encrypted channel.
pub fn shared_secret(channel: ChannelName<'_>, master_key: &[u8; 32]) -> [u8; 32] {
    let mut sha = Sha256::new();
    sha.update(channel.as_str().as_bytes());
    sha.update(master_key);
    sha.finalize().into()
}

/// Why an encryption master key was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MasterKeyError {
    /// Not base64.
    NotBase64,
    /// Decodes to something other than 32 bytes.
    WrongLength,
}

impl fmt::Display for MasterKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MasterKeyError::NotBase64 => f.write_str("encryption master key is not base64"),
            MasterKeyError::WrongLength => {
                f.write_str("encryption master key must decode to 32 bytes")
            }
        }
    }
}

impl core::error::Error for MasterKeyError {}

/// Decodes a base64 encryption master key; it must be exactly 32 bytes.
pub fn decode_master_key(b64: &str) -> Result<[u8; 32], MasterKeyError> {
    let text = b64.trim_ascii().as_bytes();
    if let Some(key) = crate::base64::decode::<32>(text) {
        return Ok(key);
    }
    // Tell a wrong length apart from bad characters.
    let chars_ok = text
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='));
    if chars_ok && !text.is_empty() && text.len().is_multiple_of(4) {
        Err(MasterKeyError::WrongLength)
    } else {
        Err(MasterKeyError::NotBase64)
    }
}

/// An app's key, and its secret held as a keyed HMAC-SHA256 state: everything needed to sign
/// for the app.
///
/// The secret is digested into the HMAC inner and outer states once, at construction, so each
/// signature costs two SHA-256 blocks instead of four, and the plain secret is not kept.
#[derive(Clone)]
pub struct Credentials<'a> {
    key: &'a str,
    mac: HmacSha256,
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Credentials<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Credentials {{ key: {=str}, secret: <redacted> }}",
            self.key
        )
    }
}

impl<'a> Credentials<'a> {
    /// Credentials from a key and a secret.
    pub fn new(key: &'a str, secret: &str) -> Self {
        Self::from_bytes(key, secret.as_bytes())
    }

    /// Credentials from a key and a secret given as bytes.
    pub fn from_bytes(key: &'a str, secret: &[u8]) -> Self {
        Credentials {
            key,
            mac: HmacSha256::new(secret),
        }
    }

    /// The app key.
    pub fn key(&self) -> &'a str {
        self.key
    }

    /// A fresh MAC keyed with the app secret, for messages fed piece by piece.
    pub(crate) fn keyed_mac(&self) -> HmacSha256 {
        self.mac.clone()
    }

    /// HMAC-SHA256 with the app secret over the concatenation of `parts`.
    pub fn sign(&self, parts: &[&[u8]]) -> Signature {
        let mut mac = self.mac.clone();
        for p in parts {
            mac.update(p);
        }
        Signature(mac.finalize())
    }

    /// Checks a hex signature of `parts` in constant time. Malformed hex (wrong length,
    /// non-hex characters; either case is accepted) is `false`, never a panic.
    pub fn verify_hex(&self, parts: &[&[u8]], hex: &[u8]) -> bool {
        let Some(expected) = parse_hex_signature(hex) else {
            return false;
        };
        let mut mac = self.mac.clone();
        for p in parts {
            mac.update(p);
        }
        mac.verify(&expected)
    }

    /// The signature that authorizes `socket_id` on `channel` (with `channel_data` for
    /// presence): HMAC of `socket_id:channel[:channel_data]`.
    pub fn channel_signature(
        &self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
        channel_data: Option<&str>,
    ) -> Signature {
        let head = [
            socket_id.as_str().as_bytes(),
            b":",
            channel.as_str().as_bytes(),
        ];
        match channel_data {
            Some(data) => self.sign(&[head[0], head[1], head[2], b":", data.as_bytes()]),
            None => self.sign(&head),
        }
    }

    /// The signature that signs in `socket_id` as `user_data`: HMAC of
    /// `socket_id::user::user_data`.
    pub fn user_signature(&self, socket_id: SocketId<'_>, user_data: &str) -> Signature {
        self.sign(&[
            socket_id.as_str().as_bytes(),
            b"::user::",
            user_data.as_bytes(),
        ])
    }

    fn token<'o>(&self, out: &'o mut [u8], sig: Signature) -> Result<&'o str, BufferTooSmall> {
        let key = self.key.as_bytes();
        let needed = key.len() + 1 + SIGNATURE_HEX_LEN;
        let out = out.get_mut(..needed).ok_or(BufferTooSmall { needed })?;
        let Some((head, hex)) = out.split_at_mut_checked(key.len()) else {
            return Err(BufferTooSmall { needed });
        };
        head.copy_from(key);
        if let Some((colon, digits)) = hex.split_first_mut() {
            *colon = b':';
            digits.copy_from(&sig.to_hex());
        }
        // The key is UTF-8 and the rest ASCII, so this check cannot fail.
        match core::str::from_utf8(out) {
            Ok(s) => Ok(s),
            Err(_) => Err(BufferTooSmall { needed }),
        }
    }

    /// The `auth` token `key:hex` for a channel subscription.
    pub fn channel_auth<'o>(
        &self,
        out: &'o mut [u8],
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
        channel_data: Option<&str>,
    ) -> Result<&'o str, BufferTooSmall> {
        self.token(
            out,
            self.channel_signature(socket_id, channel, channel_data),
        )
    }

    /// The `auth` token `key:hex` for `pusher:signin`.
    pub fn user_auth<'o>(
        &self,
        out: &'o mut [u8],
        socket_id: SocketId<'_>,
        user_data: &str,
    ) -> Result<&'o str, BufferTooSmall> {
        self.token(out, self.user_signature(socket_id, user_data))
    }

    /// The JSON an auth endpoint returns for a channel: `{"auth":..}`, plus `channel_data` for
    /// presence and `shared_secret` for encrypted channels. Checks that the inputs fit the kind.
    pub fn channel_auth_response<'o>(
        &self,
        out: &'o mut [u8],
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
        channel_data: Option<&str>,
        master_key: Option<&[u8; 32]>,
    ) -> Result<&'o str, AuthError> {
        let kind = channel.kind();
        if !kind.needs_auth() {
            return Err(AuthError::NotProtected);
        }
        match (kind.is_presence(), channel_data) {
            (true, None) => return Err(AuthError::MissingChannelData),
            (false, Some(_)) => return Err(AuthError::UnexpectedChannelData),
            (true, Some(data)) => {
                let v = Value::parse(data).map_err(|_| AuthError::InvalidChannelData)?;
                if v.kind() != Kind::Object || v.get("user_id").is_none() {
                    return Err(AuthError::InvalidChannelData);
                }
            }
            (false, None) => {}
        }
        let secret = match (kind.is_encrypted(), master_key) {
            (true, None) => return Err(AuthError::MissingMasterKey),
            (true, Some(mk)) => Some(shared_secret(channel, mk)),
            (false, _) => None,
        };
        let sig = self.channel_signature(socket_id, channel, channel_data);
        let mut w = Writer::new(out);
        w.push_str(r#"{"auth":""#);
        w.push_str(self.key);
        w.push_byte(b':');
        w.push(&sig.to_hex());
        w.push_byte(b'"');
        if let Some(data) = channel_data {
            w.push_str(r#","channel_data":"#);
            write_string(&mut w, data);
        }
        if let Some(s) = secret {
            let b64: [u8; 44] = crate::base64::encode(&s);
            w.push_str(r#","shared_secret":""#);
            w.push(&b64);
            w.push_byte(b'"');
        }
        w.push_byte(b'}');
        let out = w.finish()?;
        Ok(core::str::from_utf8(out).unwrap_or_default())
    }

    /// The JSON a user-auth endpoint returns: `{"auth":..,"user_data":..}`.
    pub fn user_auth_response<'o>(
        &self,
        out: &'o mut [u8],
        socket_id: SocketId<'_>,
        user_data: &str,
    ) -> Result<&'o str, AuthError> {
        check_user_data(user_data)?;
        let sig = self.user_signature(socket_id, user_data);
        let mut w = Writer::new(out);
        w.push_str(r#"{"auth":""#);
        w.push_str(self.key);
        w.push_byte(b':');
        w.push(&sig.to_hex());
        w.push_str(r#"","user_data":"#);
        write_string(&mut w, user_data);
        w.push_byte(b'}');
        let out = w.finish()?;
        Ok(core::str::from_utf8(out).unwrap_or_default())
    }
}

/// Checks that `user_data` is a JSON object with a non-empty string `id`.
pub fn check_user_data(user_data: &str) -> Result<(), AuthError> {
    let v = Value::parse(user_data).map_err(|_| AuthError::InvalidUserData)?;
    match v.get("id").and_then(|id| id.as_raw_str()) {
        Some(id) if !id.raw().is_empty() => Ok(()),
        _ => Err(AuthError::InvalidUserData),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_and_verify() {
        let c = Credentials::new("278d425bdf160c739803", "7ad3773142a6692b25b8");
        let mut out = [0u8; 128];
        let sid = SocketId::new("1234.1234").unwrap();
        let ch = ChannelName::new("private-foobar").unwrap();
        let tok = c.channel_auth(&mut out, sid, ch, None).unwrap();
        assert_eq!(
            tok,
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
        );
        let hex = "58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4";
        let parts: &[&[u8]] = &[b"1234.1234", b":", b"private-foobar"];
        assert!(c.verify_hex(parts, hex.as_bytes()));
        assert!(c.verify_hex(parts, hex.to_uppercase().as_bytes()));
        assert!(!c.verify_hex(parts, &hex.as_bytes()[..63]));
        assert!(!c.verify_hex(parts, "zz".repeat(32).as_bytes()));
        assert!(!c.verify_hex(parts, "é".repeat(32).as_bytes()));
        assert!(!c.verify_hex(parts, "0".repeat(64).as_bytes()));
        assert!(matches!(
            c.channel_auth(&mut out[..10], sid, ch, None),
            Err(BufferTooSmall { needed: 85 })
        ));
    }

    #[test]
    fn response_rules() {
        let c = Credentials::new("key", "secret");
        let mut out = [0u8; 512];
        let sid = SocketId::new("1.1").unwrap();
        let public = ChannelName::new("public").unwrap();
        let presence = ChannelName::new("presence-c1").unwrap();
        let private = ChannelName::new("private-c1").unwrap();
        let encrypted = ChannelName::new("private-encrypted-c1").unwrap();
        assert_eq!(
            c.channel_auth_response(&mut out, sid, public, None, None),
            Err(AuthError::NotProtected)
        );
        assert_eq!(
            c.channel_auth_response(&mut out, sid, presence, None, None),
            Err(AuthError::MissingChannelData)
        );
        assert_eq!(
            c.channel_auth_response(&mut out, sid, private, Some("{}"), None),
            Err(AuthError::UnexpectedChannelData)
        );
        assert_eq!(
            c.channel_auth_response(&mut out, sid, presence, Some("{}"), None),
            Err(AuthError::InvalidChannelData)
        );
        assert_eq!(
            c.channel_auth_response(&mut out, sid, encrypted, None, None),
            Err(AuthError::MissingMasterKey)
        );
        assert_eq!(
            c.user_auth_response(&mut out, sid, r#"{"id":""}"#),
            Err(AuthError::InvalidUserData)
        );
        assert_eq!(
            c.user_auth_response(&mut out, sid, r#"{"id":1}"#),
            Err(AuthError::InvalidUserData)
        );
        assert_eq!(
            c.user_auth_response(&mut out, sid, "nope"),
            Err(AuthError::InvalidUserData)
        );
    }

    #[test]
    fn master_keys() {
        assert!(decode_master_key("zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=").is_ok());
        assert_eq!(
            decode_master_key("c2hvcnQ="),
            Err(MasterKeyError::WrongLength)
        );
        assert_eq!(
            decode_master_key(&"QUFB".repeat(12)),
            Err(MasterKeyError::WrongLength)
        );
        assert_eq!(decode_master_key("!!!"), Err(MasterKeyError::NotBase64));
    }
}
