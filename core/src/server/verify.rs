//! The server's side of every signature: a subscription's `auth` (private, presence with
//! `channel_data`, encrypted) and a sign-in's `auth`, checked in constant time, with the refusal
//! Pusher sends back.

use core::fmt;

use crate::auth::Credentials;
use crate::name::{ChannelName, SocketId};
use crate::wire::json::{Kind, RawStr, Value};

/// Most bytes a presence `user_info` may hold (Pusher's limit).
pub const MAX_USER_INFO: usize = 1024;

/// Most bytes a presence user id may hold (Pusher's limit).
pub const MAX_USER_ID: usize = 128;

/// Why a subscription was refused. Its `Display` is the message Pusher sends in `pusher:error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SubscriptionRefusal<'a> {
    /// A protected channel came without `auth`.
    MissingAuth,
    /// `auth` is not `key:signature`.
    MalformedAuth,
    /// `auth` names another app's key.
    WrongKey {
        /// The key in `auth`.
        given: &'a str,
    },
    /// The signature does not match.
    BadSignature {
        /// The socket id signed.
        socket_id: &'a str,
        /// The channel signed.
        channel: &'a str,
        /// The `channel_data` signed (presence).
        channel_data: Option<&'a str>,
        /// The signature sent.
        given: &'a str,
    },
    /// A presence channel came without `channel_data`.
    MissingChannelData,
    /// `channel_data` is not an object with a string or number `user_id` of at most 128
    /// bytes, or its `user_info` is over 1 KB.
    InvalidChannelData,
}

impl fmt::Display for SubscriptionRefusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubscriptionRefusal::MissingAuth => {
                f.write_str("Auth value for subscription to a protected channel is missing")
            }
            SubscriptionRefusal::MalformedAuth => {
                f.write_str("Invalid auth value: expected key:signature")
            }
            SubscriptionRefusal::WrongKey { given } => {
                write!(f, "Invalid key in subscription auth data: '{given}'")
            }
            SubscriptionRefusal::BadSignature {
                socket_id,
                channel,
                channel_data,
                given,
            } => {
                write!(
                    f,
                    "Invalid signature: Expected HMAC SHA256 hex digest of {socket_id}:{channel}"
                )?;
                if let Some(data) = channel_data {
                    write!(f, ":{data}")?;
                }
                write!(f, ", but got {given}")
            }
            SubscriptionRefusal::MissingChannelData => {
                f.write_str("Presence channels need channel_data")
            }
            SubscriptionRefusal::InvalidChannelData => f.write_str(
                "Invalid channel_data: expected an object with a user_id of at most 128 bytes and a user_info of at most 1 KB",
            ),
        }
    }
}

impl core::error::Error for SubscriptionRefusal<'_> {}

/// A presence channel's new member, from its signed `channel_data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PresenceMember<'a> {
    /// `user_id`: a string's raw contents, or a number's digits.
    pub user_id: RawStr<'a>,
    /// `user_info` as JSON text, if any.
    pub user_info: Option<&'a str>,
}

/// Checks a subscription as Pusher does. Public channels need nothing (any `auth` is ignored);
/// private, encrypted and presence channels need `key:hex` over `socket_id:channel` (and
/// `:channel_data` for presence). Returns the member a presence subscription adds.
///
/// ```
/// use pusher_core::auth::Credentials;
/// use pusher_core::name::{ChannelName, SocketId};
/// use pusher_core::server::verify_subscription;
/// let creds = Credentials::new("278d425bdf160c739803", "7ad3773142a6692b25b8");
/// let (socket, channel) = (SocketId::new("1234.1234")?, ChannelName::new("private-foobar")?);
/// let auth = "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4";
/// assert_eq!(verify_subscription(&creds, socket, channel, Some(auth), None), Ok(None));
/// assert!(verify_subscription(&creds, socket, channel, Some("278d425bdf160c739803:00"), None).is_err());
/// # Ok::<(), pusher_core::name::NameError>(())
/// ```
pub fn verify_subscription<'a>(
    creds: &Credentials<'_>,
    socket_id: SocketId<'a>,
    channel: ChannelName<'a>,
    auth: Option<&'a str>,
    channel_data: Option<&'a str>,
) -> Result<Option<PresenceMember<'a>>, SubscriptionRefusal<'a>> {
    let kind = channel.kind();
    if !kind.needs_auth() {
        return Ok(None);
    }
    let auth = auth
        .filter(|a| !a.is_empty())
        .ok_or(SubscriptionRefusal::MissingAuth)?;
    let member = if kind.is_presence() {
        let data = channel_data.ok_or(SubscriptionRefusal::MissingChannelData)?;
        Some(presence_member(data).ok_or(SubscriptionRefusal::InvalidChannelData)?)
    } else {
        None
    };
    let signed = if kind.is_presence() {
        channel_data
    } else {
        None
    };
    let given = signature_of(creds, auth)?;
    let ok = match signed {
        Some(data) => creds.verify_hex(
            &[
                socket_id.as_str().as_bytes(),
                b":",
                channel.as_str().as_bytes(),
                b":",
                data.as_bytes(),
            ],
            given.as_bytes(),
        ),
        None => creds.verify_hex(
            &[
                socket_id.as_str().as_bytes(),
                b":",
                channel.as_str().as_bytes(),
            ],
            given.as_bytes(),
        ),
    };
    if !ok {
        return Err(SubscriptionRefusal::BadSignature {
            socket_id: socket_id.as_str(),
            channel: channel.as_str(),
            channel_data: signed,
            given,
        });
    }
    Ok(member)
}

/// The signature part of `key:signature`, once the key is checked.
fn signature_of<'a>(
    creds: &Credentials<'_>,
    auth: &'a str,
) -> Result<&'a str, SubscriptionRefusal<'a>> {
    let (key, given) = auth
        .split_once(':')
        .ok_or(SubscriptionRefusal::MalformedAuth)?;
    if key != creds.key() {
        return Err(SubscriptionRefusal::WrongKey { given: key });
    }
    Ok(given)
}

/// The member a presence `channel_data` describes, if it is well formed.
fn presence_member(data: &str) -> Option<PresenceMember<'_>> {
    let v = Value::parse(data).ok()?;
    if v.kind() != Kind::Object {
        return None;
    }
    let id = v.get("user_id")?;
    let user_id = match id.kind() {
        Kind::String => id.as_raw_str()?,
        Kind::Number => RawStr::new(id.raw()),
        _ => return None,
    };
    if user_id.raw().is_empty() || user_id.raw().len() > MAX_USER_ID {
        return None;
    }
    let user_info = v.get("user_info").filter(|i| !i.is_null()).map(|i| i.raw());
    if user_info.is_some_and(|i| i.len() > MAX_USER_INFO) {
        return None;
    }
    Some(PresenceMember { user_id, user_info })
}

/// Why a sign-in was refused. Its `Display` is the message for `pusher:error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SigninRefusal<'a> {
    /// `auth` is not `key:signature` of this app's key.
    MalformedAuth,
    /// The signature does not match `socket_id::user::user_data`.
    BadSignature {
        /// The signature sent.
        given: &'a str,
    },
    /// `user_data` is not an object with a non-empty string `id`.
    InvalidUserData,
}

impl fmt::Display for SigninRefusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigninRefusal::MalformedAuth => {
                f.write_str("Invalid auth value: expected key:signature with this app's key")
            }
            SigninRefusal::BadSignature { given } => write!(
                f,
                "Invalid signature: Expected HMAC SHA256 hex digest of socket_id::user::user_data, but got {given}"
            ),
            SigninRefusal::InvalidUserData => {
                f.write_str("Invalid user_data: expected an object with a non-empty string id")
            }
        }
    }
}

impl core::error::Error for SigninRefusal<'_> {}

/// A signed-in user, from its `user_data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SignedInUser<'a> {
    /// `id`, still escaped (user ids use the channel-name characters, so rarely are).
    pub id: RawStr<'a>,
    /// `watchlist`: an array of user ids, if any.
    pub watchlist: Option<Value<'a>>,
}

/// Checks a `pusher:signin`: `key:hex` over `socket_id::user::user_data`, and `user_data` an
/// object with a non-empty string `id`.
pub fn verify_signin<'a>(
    creds: &Credentials<'_>,
    socket_id: SocketId<'_>,
    auth: &'a str,
    user_data: &'a str,
) -> Result<SignedInUser<'a>, SigninRefusal<'a>> {
    let (key, given) = auth
        .split_once(':')
        .filter(|(key, _)| *key == creds.key())
        .ok_or(SigninRefusal::MalformedAuth)?;
    let _ = key;
    let v = Value::parse(user_data).map_err(|_| SigninRefusal::InvalidUserData)?;
    let id = v
        .get("id")
        .and_then(|id| id.as_raw_str())
        .filter(|id| !id.raw().is_empty())
        .ok_or(SigninRefusal::InvalidUserData)?;
    let parts: [&[u8]; 3] = [
        socket_id.as_str().as_bytes(),
        b"::user::",
        user_data.as_bytes(),
    ];
    if !creds.verify_hex(&parts, given.as_bytes()) {
        return Err(SigninRefusal::BadSignature { given });
    }
    let watchlist = v.get("watchlist").filter(|w| w.kind() == Kind::Array);
    Ok(SignedInUser { id, watchlist })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "278d425bdf160c739803";

    fn creds() -> Credentials<'static> {
        Credentials::new(KEY, "7ad3773142a6692b25b8")
    }

    #[test]
    fn presence_signature_from_the_official_vectors() {
        // protocol.md 7.2.
        let sid = SocketId::new("1234.1234").unwrap();
        let ch = ChannelName::new("presence-foobar").unwrap();
        let data = r#"{"user_id":10,"user_info":{"name":"Mr. Pusher"}}"#;
        let auth =
            "278d425bdf160c739803:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c";
        let member = verify_subscription(&creds(), sid, ch, Some(auth), Some(data))
            .unwrap()
            .unwrap();
        assert_eq!(member.user_id.raw(), "10");
        assert_eq!(member.user_info, Some(r#"{"name":"Mr. Pusher"}"#));
        // The same signature over other channel_data fails, naming the string to sign.
        let other = r#"{"user_id":11}"#;
        let err = verify_subscription(&creds(), sid, ch, Some(auth), Some(other)).unwrap_err();
        let text = std::format!("{err}");
        assert!(text.starts_with("Invalid signature: Expected HMAC SHA256 hex digest of 1234.1234:presence-foobar:{\"user_id\":11}, but got afaed"), "{text}");
    }

    #[test]
    fn refusals() {
        let sid = SocketId::new("1.2").unwrap();
        let private = ChannelName::new("private-x").unwrap();
        let presence = ChannelName::new("presence-x").unwrap();
        let public = ChannelName::new("news").unwrap();
        let c = creds();
        assert_eq!(verify_subscription(&c, sid, public, None, None), Ok(None));
        assert_eq!(
            verify_subscription(&c, sid, private, None, None),
            Err(SubscriptionRefusal::MissingAuth)
        );
        assert_eq!(
            verify_subscription(&c, sid, private, Some(""), None),
            Err(SubscriptionRefusal::MissingAuth)
        );
        assert_eq!(
            verify_subscription(&c, sid, private, Some("nocolon"), None),
            Err(SubscriptionRefusal::MalformedAuth)
        );
        assert_eq!(
            verify_subscription(&c, sid, private, Some("other:abc"), None),
            Err(SubscriptionRefusal::WrongKey { given: "other" })
        );
        assert!(matches!(
            verify_subscription(&c, sid, private, Some("278d425bdf160c739803:zz"), None),
            Err(SubscriptionRefusal::BadSignature { given: "zz", .. })
        ));
        let mut buf = [0u8; 128];
        let good = c.channel_auth(&mut buf, sid, private, None).unwrap();
        assert_eq!(
            verify_subscription(&c, sid, private, Some(good), None),
            Ok(None)
        );
        // A token for one socket does not open the channel for another.
        let other_sid = SocketId::new("1.3").unwrap();
        assert!(verify_subscription(&c, other_sid, private, Some(good), None).is_err());
        assert_eq!(
            verify_subscription(&c, sid, presence, Some(good), None),
            Err(SubscriptionRefusal::MissingChannelData)
        );
        for bad in [
            "[]",
            "{}",
            r#"{"user_id":""}"#,
            r#"{"user_id":true}"#,
            "not json",
        ] {
            assert_eq!(
                verify_subscription(&c, sid, presence, Some(good), Some(bad)),
                Err(SubscriptionRefusal::InvalidChannelData),
                "{bad}"
            );
        }
        let long_id = std::format!(r#"{{"user_id":"{}"}}"#, "a".repeat(129));
        assert_eq!(
            verify_subscription(&c, sid, presence, Some(good), Some(&long_id)),
            Err(SubscriptionRefusal::InvalidChannelData)
        );
    }

    #[test]
    fn signin_vector_and_refusals() {
        // protocol.md 7.3.
        let sid = SocketId::new("1234.1234").unwrap();
        let data = r#"{"id":"12345","user_info":{"name":"Mr. Pusher"},"watchlist":["a","b"]}"#;
        let mut buf = [0u8; 128];
        let auth = creds().user_auth(&mut buf, sid, data).unwrap();
        let user = verify_signin(&creds(), sid, auth, data).unwrap();
        assert_eq!(user.id.raw(), "12345");
        assert_eq!(user.watchlist.unwrap().raw(), r#"["a","b"]"#);
        assert!(matches!(
            verify_signin(&creds(), sid, auth, r#"{"id":"12346"}"#),
            Err(SigninRefusal::BadSignature { .. })
        ));
        assert_eq!(
            verify_signin(&creds(), sid, "x:y", data),
            Err(SigninRefusal::MalformedAuth)
        );
        assert_eq!(
            verify_signin(&creds(), sid, auth, r#"{"id":""}"#),
            Err(SigninRefusal::InvalidUserData)
        );
    }
}
