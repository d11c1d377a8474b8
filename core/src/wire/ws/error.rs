//! Protocol violations by the peer, each mapped to the close code that answers it.

use core::fmt;

/// A protocol violation by the peer, or a message beyond the configured limits.
///
/// Every one of these is fatal for the connection: close it (1002, 1007 or 1009 as fits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WsError {
    /// RSV1-3 set without a negotiated extension.
    ReservedBits,
    /// Opcode 3-7 or B-F.
    UnknownOpcode(u8),
    /// A control frame without FIN.
    FragmentedControl,
    /// A control frame with more than 125 bytes of payload.
    ControlTooLong,
    /// A server sent a masked frame.
    MaskedFrame,
    /// A client sent an unmasked frame.
    UnmaskedFrame,
    /// A 64-bit length with the top bit set.
    InvalidLength,
    /// A message longer than the limit, or than the receive buffer can ever hold.
    MessageTooLarge {
        /// The limit that applied, in bytes.
        limit: usize,
    },
    /// A continuation frame with no fragmented message in progress.
    UnexpectedContinuation,
    /// A new data frame while a fragmented message was in progress.
    ExpectedContinuation,
    /// A text message or close reason that is not UTF-8.
    InvalidUtf8,
    /// A close frame with a one-byte payload.
    InvalidClosePayload,
    /// A close code that may not appear on the wire.
    InvalidCloseCode(u16),
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WsError::ReservedBits => f.write_str("reserved bits set"),
            WsError::UnknownOpcode(op) => write!(f, "unknown opcode {op:#x}"),
            WsError::FragmentedControl => f.write_str("fragmented control frame"),
            WsError::ControlTooLong => f.write_str("control frame payload over 125 bytes"),
            WsError::MaskedFrame => f.write_str("masked frame from server"),
            WsError::UnmaskedFrame => f.write_str("unmasked frame from client"),
            WsError::InvalidLength => f.write_str("invalid 64-bit payload length"),
            WsError::MessageTooLarge { limit } => write!(f, "message larger than {limit} bytes"),
            WsError::UnexpectedContinuation => f.write_str("continuation frame without a message"),
            WsError::ExpectedContinuation => f.write_str("data frame inside a fragmented message"),
            WsError::InvalidUtf8 => f.write_str("text is not valid UTF-8"),
            WsError::InvalidClosePayload => f.write_str("close payload of one byte"),
            WsError::InvalidCloseCode(c) => write!(f, "invalid close code {c}"),
        }
    }
}

impl core::error::Error for WsError {}

impl WsError {
    /// The close code to send back for this violation.
    pub fn close_code(self) -> u16 {
        match self {
            WsError::InvalidUtf8 => 1007,
            WsError::MessageTooLarge { .. } => 1009,
            _ => 1002,
        }
    }
}
