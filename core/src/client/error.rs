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
    /// Presence channels need the `presence` feature of this crate.
    PresenceDisabled,
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
            ClientError::PresenceDisabled => {
                f.write_str("presence channels need the `presence` feature")
            }
            ClientError::BufferFull(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for ClientError {}

impl From<BufferTooSmall> for ClientError {
    fn from(e: BufferTooSmall) -> Self {
        ClientError::BufferFull(e)
    }
}

impl From<EncodeError> for ClientError {
    fn from(e: EncodeError) -> Self {
        match e {
            EncodeError::BufferTooSmall(b) => ClientError::BufferFull(b),
            EncodeError::InvalidJson(_) => ClientError::InvalidJson,
            EncodeError::NotClientEvent => ClientError::Name(NameError::NotClientEvent),
            EncodeError::ClientEventsNotAllowed => ClientError::ClientEventsNotAllowed,
        }
    }
}

impl From<NameError> for ClientError {
    fn from(e: NameError) -> Self {
        ClientError::Name(e)
    }
}
