//! Why a REST request was not signed or built.

use core::fmt;

use super::limits::{MAX_BATCH_EVENTS, MAX_DATA_LEN, MAX_TRIGGER_CHANNELS};
use crate::buf::BufferTooSmall;

/// Why a REST request was not signed or built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RestError {
    /// The output buffer is too small.
    BufferTooSmall(BufferTooSmall),
    /// Method not upper-case letters, or path not starting with `/` or holding `?`, space or `#`.
    InvalidRequestLine,
    /// A parameter key that is empty or holds characters other than `A-Za-z0-9_-.[]`.
    InvalidParamKey,
    /// Two parameters with the same (lower-cased) key.
    DuplicateParam,
    /// A caller parameter named like one the signature sets (`auth_*`, `body_md5`).
    ReservedParam,
    /// A trigger names no channel.
    NoChannels,
    /// A trigger names more than 100 channels.
    TooManyChannels,
    /// A batch holds no events or more than 10.
    BatchSize,
    /// Event data over 10 KB.
    DataTooLarge,
    /// Encrypted channels need end-to-end encryption of `data`, which this call does not do,
    /// and may not share a trigger with other channels.
    EncryptedChannel,
}

impl fmt::Display for RestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestError::BufferTooSmall(e) => e.fmt(f),
            RestError::InvalidRequestLine => f.write_str("invalid method or path"),
            RestError::InvalidParamKey => f.write_str("invalid query parameter name"),
            RestError::DuplicateParam => f.write_str("duplicate query parameter"),
            RestError::ReservedParam => {
                f.write_str("auth_* and body_md5 parameters are set by the signer")
            }
            RestError::NoChannels => f.write_str("trigger needs at least one channel"),
            RestError::TooManyChannels => {
                write!(f, "at most {MAX_TRIGGER_CHANNELS} channels per trigger")
            }
            RestError::BatchSize => write!(f, "a batch holds 1 to {MAX_BATCH_EVENTS} events"),
            RestError::DataTooLarge => write!(f, "event data over {MAX_DATA_LEN} bytes"),
            RestError::EncryptedChannel => {
                f.write_str("encrypted channels need encrypted data and a trigger of their own")
            }
        }
    }
}

impl core::error::Error for RestError {}

impl From<BufferTooSmall> for RestError {
    fn from(e: BufferTooSmall) -> Self {
        RestError::BufferTooSmall(e)
    }
}
