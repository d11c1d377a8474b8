//! Close frames: codes and reasons, written and read.

use super::error::WsError;
use super::frame::{MAX_CONTROL_PAYLOAD, Opcode, emit_frame};
use crate::buf::BufferTooSmall;
use crate::buf::Bytes as _;

/// Writes a close frame, with an optional code and reason (the reason is cut to fit 125 bytes
/// on a character boundary).
pub fn emit_close(
    out: &mut [u8],
    close: Option<CloseFrame<'_>>,
    mask: Option<[u8; 4]>,
) -> Result<usize, BufferTooSmall> {
    let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
    let mut len = 0;
    if let Some(c) = close {
        payload[..2].copy_from(&c.code.to_be_bytes());
        let mut reason = c.reason;
        while reason.len() > MAX_CONTROL_PAYLOAD - 2 {
            let mut cut = MAX_CONTROL_PAYLOAD - 2;
            while !reason.is_char_boundary(cut) {
                cut -= 1;
            }
            reason = reason.get(..cut).unwrap_or("");
        }
        payload[2..2 + reason.len()].copy_from(reason.as_bytes());
        len = 2 + reason.len();
    }
    emit_frame(out, true, Opcode::Close, &payload[..len], mask)
}

/// Code and reason of a close frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CloseFrame<'a> {
    /// Status code (1000 normal, 4000-4999 Pusher application codes).
    pub code: u16,
    /// Reason text, possibly empty.
    pub reason: &'a str,
}

/// True for close codes that may be sent on the wire (RFC 6455 section 7.4).
pub fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Decodes a close payload: empty means no code.
pub fn parse_close(payload: &[u8]) -> Result<Option<CloseFrame<'_>>, WsError> {
    match payload {
        [] => Ok(None),
        [_] => Err(WsError::InvalidClosePayload),
        [a, b, reason @ ..] => {
            let code = u16::from_be_bytes([*a, *b]);
            if !is_valid_close_code(code) {
                return Err(WsError::InvalidCloseCode(code));
            }
            let reason = crate::utf8(reason).ok_or(WsError::InvalidUtf8)?;
            Ok(Some(CloseFrame { code, reason }))
        }
    }
}
