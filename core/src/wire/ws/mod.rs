//! RFC 6455 WebSocket frames, both roles.
//!
//! [`parse_header`] is the stateless frame-header parser; [`Reader`] owns one receive buffer and
//! turns the byte stream into whole messages (fragments reassembled in place, control frames
//! delivered between them, masks removed, UTF-8 checked). The emit functions write frames into
//! caller buffers; masking keys come from the caller's randomness.

mod close;
mod error;
mod frame;
mod reader;

#[cfg(test)]
mod tests;

pub use close::{CloseFrame, emit_close, is_valid_close_code, parse_close};
pub use error::WsError;
pub use frame::{
    Header, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Opcode, Role, apply_mask, emit_frame, emit_header,
    header_len, parse_header,
};
pub use reader::{Message, MessageMut, Reader, Ready};
