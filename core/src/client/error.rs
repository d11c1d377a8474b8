//! Misuse of the API, or no room to queue a message: the errors of the client's operations.

use super::time::Instant;
use crate::buf::BufferTooSmall;
use crate::name::NameError;
use crate::wire::message::EncodeError;
use core::fmt;

/// Misuse of the API, or no room to queue a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ClientError {
    /// An invalid channel, event or user name.
    Name(NameError),
    /// Channel names starting with `#` are the client's own.
    ReservedChannel,
    /// The channel table is full, or the name is longer than its slots.
    NoChannelSlot,
    /// The channel is not in the table.
    UnknownChannel,
    /// Not connected (no socket id yet).
    NotConnected,
    /// The answer was computed for another socket id (the connection changed meanwhile).
    StaleSocketId,
    /// The channel is not waiting for auth.
    NotAwaitingAuth,
    /// Presence channels need `channel_data` with a `user_id`.
    BadChannelData,
    /// An encrypted channel's shared secret is not base64 of 32 bytes.
    BadSharedSecret,
    /// `user_data` must be JSON with a valid string `id`.
    BadUserData,
    /// Client events need a subscribed private or presence channel (not encrypted).
    ClientEventsNotAllowed,
    /// The channel is not subscribed yet.
    NotSubscribed,
    /// More client events than the per-second limit; retry at `retry_at`.
    RateLimited {
        /// When one more event is allowed.
        retry_at: Instant,
    },
    /// The payload declared as JSON is not valid JSON.
    InvalidJson,
    /// A typed payload cannot be written as JSON (the `serde` feature).
    Unserializable,
    /// Presence channels need the `presence` feature of this crate.
    PresenceDisabled,
    /// Encrypted channels need the `encryption` feature of this crate (without it their
    /// events could not be opened).
    EncryptionDisabled,
    /// The transmit buffer is full; `needed` bytes would hold this message.
    BufferFull(BufferTooSmall),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Name(e) => e.fmt(f),
            ClientError::ReservedChannel => {
                f.write_str("channel names starting with '#' are reserved")
            }
            ClientError::NoChannelSlot => {
                f.write_str("no free channel slot (or the name is too long for one)")
            }
            ClientError::UnknownChannel => f.write_str("channel not subscribed"),
            ClientError::NotConnected => f.write_str("not connected"),
            ClientError::StaleSocketId => {
                f.write_str("auth was computed for an earlier connection")
            }
            ClientError::NotAwaitingAuth => f.write_str("channel is not waiting for auth"),
            ClientError::BadChannelData => {
                f.write_str("presence channel_data must be JSON with user_id")
            }
            ClientError::BadSharedSecret => f.write_str("shared_secret must be base64 of 32 bytes"),
            ClientError::BadUserData => {
                f.write_str("user_data must be JSON with a valid string id")
            }
            ClientError::ClientEventsNotAllowed => f.write_str(
                "client events need a private or presence channel that is not encrypted",
            ),
            ClientError::NotSubscribed => f.write_str("channel not subscribed yet"),
            ClientError::RateLimited { retry_at } => write!(
                f,
                "client event rate limit, retry at {} ms",
                retry_at.as_millis()
            ),
            ClientError::InvalidJson => f.write_str("payload is not valid JSON"),
            ClientError::Unserializable => f.write_str("the payload cannot be written as JSON"),
            ClientError::PresenceDisabled => {
                f.write_str("presence channels need the `presence` feature")
            }
            ClientError::EncryptionDisabled => {
                f.write_str("private-encrypted- channels need the `encryption` feature")
            }
            ClientError::BufferFull(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for ClientError {}

impl From<EncodeError> for ClientError {
    fn from(e: EncodeError) -> Self {
        match e {
            EncodeError::BufferTooSmall(b) => ClientError::BufferFull(b),
            EncodeError::InvalidJson(_) => ClientError::InvalidJson,
            EncodeError::NotClientEvent => ClientError::Name(NameError::NotClientEvent),
            EncodeError::ClientEventsNotAllowed => ClientError::ClientEventsNotAllowed,
            EncodeError::Serialize => ClientError::Unserializable,
        }
    }
}

/// Declares an operation's error: a subset of [`ClientError`]'s variants (same meanings and
/// messages), convertible into it, so `?` works in code that handles every operation alike.
macro_rules! operation_error {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident $( ( $inner:ty ) )? ),* $(,)?
        }
        $( with RateLimited $rate:tt )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant $( ( $inner ) )?, )*
            $(
                /// More client events than the per-second limit; retry at `retry_at`.
                RateLimited $rate,
            )?
        }

        impl From<$name> for ClientError {
            fn from(e: $name) -> Self {
                #[allow(non_snake_case)]
                match e {
                    $( $name::$variant $( (operation_error!(@bind x $inner)) )? =>
                        ClientError::$variant $( (operation_error!(@use x $inner)) )?, )*
                    $( $name::RateLimited { retry_at } => {
                        let _ = stringify!($rate);
                        ClientError::RateLimited { retry_at }
                    } )?
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                ClientError::from(*self).fmt(f)
            }
        }

        impl core::error::Error for $name {}
    };
    (@bind $x:ident $t:ty) => { $x };
    (@use $x:ident $t:ty) => { $x };
}

operation_error! {
    /// Why [`Client::subscribe`](crate::Client::subscribe) refused.
    SubscribeError {
        /// An invalid channel name.
        Name(NameError),
        /// Channel names starting with `#` are the client's own.
        ReservedChannel,
        /// The channel table is full, or the name is longer than its slots.
        NoChannelSlot,
        /// Presence channels need the `presence` feature of this crate.
        PresenceDisabled,
        /// Encrypted channels need the `encryption` feature of this crate.
        EncryptionDisabled,
    }
}

operation_error! {
    /// Why [`Client::unsubscribe`](crate::Client::unsubscribe) refused.
    UnsubscribeError {
        /// The channel is not in the table.
        UnknownChannel,
    }
}

operation_error! {
    /// Why an answer to an auth request ([`Client::provide_auth`](crate::Client::provide_auth),
    /// [`Client::authorize_locally`](crate::Client::authorize_locally),
    /// [`Client::auth_failed`](crate::Client::auth_failed)) was not taken.
    AnswerError {
        /// An invalid channel name or socket id.
        Name(NameError),
        /// Not connected (no socket id yet).
        NotConnected,
        /// The answer was computed for another socket id (the connection changed meanwhile).
        StaleSocketId,
        /// The channel is not in the table.
        UnknownChannel,
        /// The channel is not waiting for auth.
        NotAwaitingAuth,
        /// Presence channels need `channel_data` with a `user_id`.
        BadChannelData,
        /// An encrypted channel's shared secret is not base64 of 32 bytes.
        BadSharedSecret,
        /// The transmit buffer is full; `needed` bytes would hold the subscription.
        BufferFull(BufferTooSmall),
    }
}

operation_error! {
    /// Why [`Client::trigger`](crate::Client::trigger) did not queue a client event.
    TriggerError {
        /// An invalid event name (client events start with `client-`).
        Name(NameError),
        /// The channel is not in the table.
        UnknownChannel,
        /// Client events need a subscribed private or presence channel (not encrypted).
        ClientEventsNotAllowed,
        /// Not connected.
        NotConnected,
        /// The channel is not subscribed yet.
        NotSubscribed,
        /// The payload declared as JSON is not valid JSON.
        InvalidJson,
        /// A typed payload cannot be written as JSON (the `serde` feature).
        Unserializable,
        /// The transmit buffer is full; `needed` bytes would hold this event.
        BufferFull(BufferTooSmall),
    }
    with RateLimited {
        /// When one more event is allowed.
        retry_at: Instant,
    }
}

operation_error! {
    /// Why an answer to a sign-in request
    /// ([`Client::provide_user_auth`](crate::Client::provide_user_auth),
    /// [`Client::signin_locally`](crate::Client::signin_locally)) was not taken.
    SigninError {
        /// An invalid socket id.
        Name(NameError),
        /// Not connected (no socket id yet).
        NotConnected,
        /// The answer was computed for another socket id (the connection changed meanwhile).
        StaleSocketId,
        /// `user_data` must be JSON with a valid string `id`.
        BadUserData,
        /// No channel slot is free for the `#server-to-user-` channel.
        NoChannelSlot,
        /// The transmit buffer is full; `needed` bytes would hold the sign-in.
        BufferFull(BufferTooSmall),
    }
}

/// `From<$inner>` for each listed error, wrapping it in its `$variant`.
macro_rules! wraps {
    ($inner:ty => $variant:ident: $($error:ident),+) => {
        $(impl From<$inner> for $error {
            fn from(e: $inner) -> Self {
                $error::$variant(e)
            }
        })+
    };
}

wraps!(NameError => Name: ClientError, SubscribeError, AnswerError, TriggerError, SigninError);
wraps!(BufferTooSmall => BufferFull: ClientError, AnswerError, SigninError);

impl From<EncodeError> for TriggerError {
    fn from(e: EncodeError) -> Self {
        match e {
            EncodeError::InvalidJson(_) => TriggerError::InvalidJson,
            EncodeError::NotClientEvent => TriggerError::Name(NameError::NotClientEvent),
            EncodeError::ClientEventsNotAllowed => TriggerError::ClientEventsNotAllowed,
            EncodeError::BufferTooSmall(b) => TriggerError::BufferFull(b),
            EncodeError::Serialize => TriggerError::Unserializable,
        }
    }
}
