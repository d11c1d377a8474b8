//! Validated names: channels, events, socket ids and user ids.
//!
//! Each type wraps a borrowed `&str` that passed the rules the Pusher docs and the official
//! libraries apply. Holding one is proof of validity, so signers and encoders take these types
//! instead of bare strings: a `:` in a socket id or channel can never reach a string to sign.

use core::fmt;

/// Default maximum channel name length: 164, as the Pusher docs and the Ruby library say.
pub const CHANNEL_NAME_MAX: usize = 164;
/// Largest channel name limit that may be configured (the other official libraries allow 200).
pub const CHANNEL_NAME_MAX_LIMIT: usize = 200;
/// Maximum event name length.
pub const EVENT_NAME_MAX: usize = 200;
/// Maximum user id length (presence channels document 128 characters).
pub const USER_ID_MAX: usize = 128;
/// Prefix of the internal per-user channel a signed-in connection subscribes to.
pub const SERVER_TO_USER_PREFIX: &str = "#server-to-user-";

/// Why a name was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name is longer than `max` bytes.
    TooLong {
        /// The limit that applied.
        max: usize,
    },
    /// The byte at offset `at` is not allowed in this kind of name.
    InvalidByte {
        /// Offset of the first offending byte.
        at: usize,
    },
    /// The name starts with `#`, which only the server-to-user channel may use.
    ReservedPrefix,
    /// A socket id is not `digits.digits`.
    NotSocketId,
    /// A client event name does not start with `client-`.
    NotClientEvent,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("name is empty"),
            NameError::TooLong { max } => write!(f, "name is longer than {max} bytes"),
            NameError::InvalidByte { at } => write!(f, "character at byte {at} is not allowed"),
            NameError::ReservedPrefix => {
                f.write_str("names starting with '#' are reserved for #server-to-user- channels")
            }
            NameError::NotSocketId => f.write_str("socket id must be digits '.' digits"),
            NameError::NotClientEvent => {
                f.write_str("client event names must start with 'client-'")
            }
        }
    }
}

impl core::error::Error for NameError {}

/// True for the characters allowed in channel names and user ids: `A-Za-z0-9_-=@,.;`.
#[inline]
pub const fn is_channel_byte(b: u8) -> bool {
    matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'=' | b'@' | b',' | b'.' | b';')
}

/// [`is_channel_byte`] as a bit mask over ASCII: one shift per byte instead of a chain of range
/// compares (name checks ran on every frame the client wrote; the mask costs 16 bytes of flash
/// where a table would cost 256).
const CHANNEL_BYTES: u128 = {
    let mut mask = 0u128;
    let mut b = 0u8;
    while b < 128 {
        if is_channel_byte(b) {
            mask |= 1 << b;
        }
        b += 1;
    }
    mask
};

fn check_charset(s: &[u8], offset: usize) -> Result<(), NameError> {
    match s
        .iter()
        .position(|&b| b >= 128 || CHANNEL_BYTES >> b & 1 == 0)
    {
        Some(i) => Err(NameError::InvalidByte {
            at: i.saturating_add(offset),
        }),
        None => Ok(()),
    }
}

/// What a channel is, from its prefix. Decides whether it needs auth and what it supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ChannelKind {
    /// No prefix: anyone may subscribe.
    Public,
    /// `cache-`: public, and the server replays the last event on subscribe.
    PublicCache,
    /// `private-`: needs a signature.
    Private,
    /// `private-cache-`.
    PrivateCache,
    /// `private-encrypted-`: end-to-end encrypted, signature plus shared secret.
    PrivateEncrypted,
    /// `private-encrypted-cache-`.
    PrivateEncryptedCache,
    /// `presence-`: signature over `channel_data`, member list.
    Presence,
    /// `presence-cache-`.
    PresenceCache,
    /// `#server-to-user-{id}`: the per-user channel subscribed after sign-in.
    ServerToUser,
}

impl ChannelKind {
    /// Classifies a name by prefix, longest prefix first (`private-encrypted-` before `private-`).
    pub fn of(name: &str) -> ChannelKind {
        if let Some(rest) = name.strip_prefix("private-encrypted-") {
            if rest.starts_with("cache-") {
                ChannelKind::PrivateEncryptedCache
            } else {
                ChannelKind::PrivateEncrypted
            }
        } else if let Some(rest) = name.strip_prefix("private-") {
            if rest.starts_with("cache-") {
                ChannelKind::PrivateCache
            } else {
                ChannelKind::Private
            }
        } else if let Some(rest) = name.strip_prefix("presence-") {
            if rest.starts_with("cache-") {
                ChannelKind::PresenceCache
            } else {
                ChannelKind::Presence
            }
        } else if name.starts_with(SERVER_TO_USER_PREFIX) {
            ChannelKind::ServerToUser
        } else if name.starts_with("cache-") {
            ChannelKind::PublicCache
        } else {
            ChannelKind::Public
        }
    }

    /// True when subscribing needs an auth signature.
    pub fn needs_auth(self) -> bool {
        !matches!(
            self,
            ChannelKind::Public | ChannelKind::PublicCache | ChannelKind::ServerToUser
        )
    }

    /// True for presence channels (auth includes `channel_data`, the server sends members).
    pub fn is_presence(self) -> bool {
        matches!(self, ChannelKind::Presence | ChannelKind::PresenceCache)
    }

    /// True for end-to-end encrypted channels.
    pub fn is_encrypted(self) -> bool {
        matches!(
            self,
            ChannelKind::PrivateEncrypted | ChannelKind::PrivateEncryptedCache
        )
    }

    /// True for cache channels.
    pub fn is_cache(self) -> bool {
        matches!(
            self,
            ChannelKind::PublicCache
                | ChannelKind::PrivateCache
                | ChannelKind::PrivateEncryptedCache
                | ChannelKind::PresenceCache
        )
    }

    /// True when clients may trigger `client-` events on it (private and presence, not encrypted).
    pub fn allows_client_events(self) -> bool {
        matches!(
            self,
            ChannelKind::Private
                | ChannelKind::PrivateCache
                | ChannelKind::Presence
                | ChannelKind::PresenceCache
        )
    }
}

/// A valid channel name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChannelName<'a>(&'a str);

impl<'a> ChannelName<'a> {
    /// Validates a name with the default 164-byte limit.
    pub fn new(name: &'a str) -> Result<Self, NameError> {
        Self::with_max_len(name, CHANNEL_NAME_MAX)
    }

    /// Validates a name with a custom length limit, clamped to [`CHANNEL_NAME_MAX_LIMIT`].
    ///
    /// `#` is allowed only as the start of `#server-to-user-{user id}`.
    pub fn with_max_len(name: &'a str, max_len: usize) -> Result<Self, NameError> {
        let max = max_len.min(CHANNEL_NAME_MAX_LIMIT);
        let bytes = name.as_bytes();
        if bytes.is_empty() {
            return Err(NameError::Empty);
        }
        if bytes.len() > max {
            return Err(NameError::TooLong { max });
        }
        if let Some(user) = name.strip_prefix(SERVER_TO_USER_PREFIX) {
            if user.is_empty() {
                return Err(NameError::Empty);
            }
            check_charset(user.as_bytes(), SERVER_TO_USER_PREFIX.len())?;
        } else if bytes.first() == Some(&b'#') {
            return Err(NameError::ReservedPrefix);
        } else {
            check_charset(bytes, 0)?;
        }
        Ok(ChannelName(name))
    }

    /// A name validated before it was stored (the client's channel table holds only names
    /// that came through [`ChannelName::with_max_len`]), so it is not checked again on every
    /// frame the client writes for it.
    pub(crate) fn already_valid(name: &'a str) -> Self {
        debug_assert!(Self::with_max_len(name, CHANNEL_NAME_MAX_LIMIT).is_ok());
        ChannelName(name)
    }

    /// The name.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// The channel's kind.
    pub fn kind(&self) -> ChannelKind {
        ChannelKind::of(self.0)
    }
}

impl fmt::Display for ChannelName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A valid event name: 1 to 200 bytes, no control characters.
///
/// Server-side event names are free text (Laravel sends `App\Events\OrderShipped`), so only the
/// length and control characters are checked; [`EventName::client`] adds the `client-` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EventName<'a>(&'a str);

impl<'a> EventName<'a> {
    /// Validates any event name.
    pub fn new(name: &'a str) -> Result<Self, NameError> {
        let bytes = name.as_bytes();
        if bytes.is_empty() {
            return Err(NameError::Empty);
        }
        if bytes.len() > EVENT_NAME_MAX {
            return Err(NameError::TooLong {
                max: EVENT_NAME_MAX,
            });
        }
        if let Some(at) = bytes.iter().position(|b| *b < 0x20 || *b == 0x7f) {
            return Err(NameError::InvalidByte { at });
        }
        Ok(EventName(name))
    }

    /// Validates a client event name (must start with `client-`).
    pub fn client(name: &'a str) -> Result<Self, NameError> {
        let ev = Self::new(name)?;
        if ev.is_client() {
            Ok(ev)
        } else {
            Err(NameError::NotClientEvent)
        }
    }

    /// True for `client-` events.
    pub fn is_client(&self) -> bool {
        self.0.starts_with("client-")
    }

    /// True for protocol events (`pusher:` and `pusher_internal:`), which apps must not trigger.
    pub fn is_protocol(&self) -> bool {
        self.0.starts_with("pusher:") || self.0.starts_with("pusher_internal:")
    }

    /// The name.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

impl fmt::Display for EventName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A socket id: `digits.digits`, matched against the whole string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SocketId<'a>(&'a str);

impl<'a> SocketId<'a> {
    /// Validates a socket id.
    pub fn new(id: &'a str) -> Result<Self, NameError> {
        if id.is_empty() {
            return Err(NameError::Empty);
        }
        // Digits, one dot, digits: checked byte by byte (no slicing).
        let bytes = id.as_bytes();
        let dots = bytes.iter().filter(|b| **b == b'.').count();
        let digits_or_dot = bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.');
        let ends_ok = bytes.first().is_some_and(u8::is_ascii_digit)
            && bytes.last().is_some_and(u8::is_ascii_digit);
        if dots == 1 && digits_or_dot && ends_ok {
            Ok(SocketId(id))
        } else {
            Err(NameError::NotSocketId)
        }
    }

    /// The id.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

impl fmt::Display for SocketId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A user id for sign-in and server-to-user channels: channel characters, 1 to 128 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UserId<'a>(&'a str);

impl<'a> UserId<'a> {
    /// Validates a user id.
    pub fn new(id: &'a str) -> Result<Self, NameError> {
        if id.is_empty() {
            return Err(NameError::Empty);
        }
        if id.len() > USER_ID_MAX {
            return Err(NameError::TooLong { max: USER_ID_MAX });
        }
        check_charset(id.as_bytes(), 0)?;
        Ok(UserId(id))
    }

    /// The id.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

impl fmt::Display for UserId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_charset_mask_agrees_with_the_charset_for_every_byte() {
        for b in 0..=255u8 {
            assert_eq!(
                check_charset(&[b], 0).is_ok(),
                is_channel_byte(b),
                "byte {b}"
            );
        }
    }

    #[test]
    fn channel_charset_and_length() {
        assert!(ChannelName::new("my-channel_=@,.;AZaz09").is_ok());
        assert_eq!(ChannelName::new(""), Err(NameError::Empty));
        assert_eq!(
            ChannelName::new("a b"),
            Err(NameError::InvalidByte { at: 1 })
        );
        assert_eq!(
            ChannelName::new("test_channel:"),
            Err(NameError::InvalidByte { at: 12 })
        );
        assert_eq!(
            ChannelName::new(":test_channel"),
            Err(NameError::InvalidByte { at: 0 })
        );
        assert_eq!(ChannelName::new("é"), Err(NameError::InvalidByte { at: 0 }));
        let long = "a".repeat(165);
        assert_eq!(
            ChannelName::new(&long[..164]).map(|c| c.as_str().len()),
            Ok(164)
        );
        assert_eq!(
            ChannelName::new(&long),
            Err(NameError::TooLong { max: 164 })
        );
        assert!(ChannelName::with_max_len(&long, 200).is_ok());
        let longer = "a".repeat(201);
        assert_eq!(
            ChannelName::with_max_len(&longer, 500),
            Err(NameError::TooLong { max: 200 })
        );
    }

    #[test]
    fn hash_is_reserved_for_server_to_user() {
        assert_eq!(ChannelName::new("#foo"), Err(NameError::ReservedPrefix));
        let c = ChannelName::new("#server-to-user-42").unwrap();
        assert_eq!(c.kind(), ChannelKind::ServerToUser);
        assert_eq!(ChannelName::new("#server-to-user-"), Err(NameError::Empty));
        assert_eq!(
            ChannelName::new("#server-to-user-a#"),
            Err(NameError::InvalidByte { at: 17 })
        );
    }

    #[test]
    fn classification_order() {
        use ChannelKind::*;
        let cases = [
            ("my-channel", Public),
            ("cache-x", PublicCache),
            ("private-x", Private),
            ("private-cache-x", PrivateCache),
            ("private-encrypted-x", PrivateEncrypted),
            ("private-encrypted-cache-x", PrivateEncryptedCache),
            ("private--encrypted--x", Private),
            ("presence-x", Presence),
            ("presence-cache-x", PresenceCache),
            ("#server-to-user-1", ServerToUser),
            ("privatex", Public),
        ];
        for (name, kind) in cases {
            assert_eq!(ChannelKind::of(name), kind, "{name}");
        }
        assert!(Private.allows_client_events() && Presence.allows_client_events());
        assert!(!PrivateEncrypted.allows_client_events() && !Public.allows_client_events());
        assert!(PrivateEncrypted.needs_auth() && !PublicCache.needs_auth());
        assert!(PresenceCache.is_presence() && PresenceCache.is_cache());
    }

    #[test]
    fn socket_ids_match_the_whole_string() {
        assert!(SocketId::new("123.456").is_ok());
        assert!(SocketId::new("2991148437.7070406786").is_ok());
        for bad in [
            "", "1.1:", ":1.1", ":\n1.1", "1.1\n:", "1.1\n", "1", "1.", ".1", "1.2.3", "a.1",
            "1.1 ",
        ] {
            assert!(SocketId::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn event_names() {
        assert!(EventName::new("App\\Events\\OrderShipped").is_ok());
        assert_eq!(EventName::new(""), Err(NameError::Empty));
        assert_eq!(
            EventName::new("a\nb"),
            Err(NameError::InvalidByte { at: 1 })
        );
        assert_eq!(
            EventName::new(&"e".repeat(201)),
            Err(NameError::TooLong { max: 200 })
        );
        assert!(EventName::client("client-typing").is_ok());
        assert_eq!(EventName::client("typing"), Err(NameError::NotClientEvent));
        assert!(EventName::new("pusher:ping").unwrap().is_protocol());
    }

    #[test]
    fn user_ids() {
        assert!(UserId::new("user@example.com").is_ok());
        assert_eq!(UserId::new("a b"), Err(NameError::InvalidByte { at: 1 }));
        assert_eq!(
            UserId::new(&"u".repeat(129)),
            Err(NameError::TooLong { max: 128 })
        );
    }
}
