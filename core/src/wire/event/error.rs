//! Why a frame is not a Pusher message.

use crate::wire::json::JsonError;
use core::fmt;

/// Why a frame is not a valid Pusher message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EventError {
    /// The frame (or its `data`) is not valid JSON.
    Json(JsonError),
    /// The frame is not a JSON object.
    NotObject,
    /// The frame has no `event` string.
    MissingEvent,
    /// A required field is missing or has the wrong type.
    Field(&'static str),
    /// `connection_established` carries a socket id that is not `digits.digits`.
    InvalidSocketId,
    /// The frame names this field twice.
    DuplicateField(&'static str),
    /// The frame is not UTF-8 (in-place decoding checks it; a WebSocket text frame that is
    /// not UTF-8 fails the connection with 1007).
    InvalidUtf8,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::Json(e) => write!(f, "invalid JSON: {e}"),
            EventError::NotObject => f.write_str("frame is not a JSON object"),
            EventError::MissingEvent => f.write_str("frame has no event name"),
            EventError::Field(name) => write!(f, "field `{name}` missing or of the wrong type"),
            EventError::InvalidSocketId => f.write_str("invalid socket id"),
            EventError::DuplicateField(name) => write!(f, "field `{name}` appears twice"),
            EventError::InvalidUtf8 => f.write_str("frame is not valid UTF-8"),
        }
    }
}

impl core::error::Error for EventError {}

impl From<JsonError> for EventError {
    fn from(e: JsonError) -> Self {
        EventError::Json(e)
    }
}
