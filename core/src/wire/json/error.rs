//! Why JSON was rejected, and how deep it may nest.

use core::fmt;

/// Deepest nesting of objects and arrays accepted.
pub const MAX_DEPTH: u32 = 64;

/// Why JSON was rejected. Offsets count bytes from the start of the text being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum JsonError {
    /// The text ends inside a value.
    UnexpectedEnd,
    /// A byte that cannot appear here.
    UnexpectedByte {
        /// Offset of the byte.
        at: usize,
    },
    /// A backslash followed by something that is not a JSON escape, or bad `\u` hex.
    InvalidEscape {
        /// Offset of the backslash.
        at: usize,
    },
    /// A `\u` escape for half of a surrogate pair without its other half.
    LoneSurrogate {
        /// Offset of the backslash.
        at: usize,
    },
    /// A raw control character (below U+0020) inside a string.
    ControlCharacter {
        /// Offset of the character.
        at: usize,
    },
    /// A malformed number.
    InvalidNumber {
        /// Offset where the number starts.
        at: usize,
    },
    /// Objects and arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Text after the end of the top-level value.
    TrailingData {
        /// Offset of the first extra byte.
        at: usize,
    },
    /// A field has the wrong type or is missing.
    Schema,
    /// The output buffer is too small; `needed` bytes always suffice.
    BufferTooSmall {
        /// Upper bound of the output size.
        needed: usize,
    },
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::UnexpectedEnd => f.write_str("JSON ends too early"),
            JsonError::UnexpectedByte { at } => write!(f, "unexpected byte at {at}"),
            JsonError::InvalidEscape { at } => write!(f, "invalid escape at {at}"),
            JsonError::LoneSurrogate { at } => write!(f, "lone UTF-16 surrogate at {at}"),
            JsonError::ControlCharacter { at } => write!(f, "control character in string at {at}"),
            JsonError::InvalidNumber { at } => write!(f, "invalid number at {at}"),
            JsonError::TooDeep => write!(f, "nesting deeper than {MAX_DEPTH}"),
            JsonError::TrailingData { at } => write!(f, "trailing data at {at}"),
            JsonError::Schema => f.write_str("field missing or of the wrong type"),
            JsonError::BufferTooSmall { needed } => {
                write!(f, "buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for JsonError {}

/// Moves an error offset from string-relative to text-relative.
pub(crate) fn shift(e: JsonError, by: usize) -> JsonError {
    match e {
        JsonError::InvalidEscape { at } => JsonError::InvalidEscape { at: at + by },
        JsonError::LoneSurrogate { at } => JsonError::LoneSurrogate { at: at + by },
        other => other,
    }
}
