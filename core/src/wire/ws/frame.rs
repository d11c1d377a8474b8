//! Frame headers (parse and emit, 7/16/64-bit lengths), opcodes, roles and masking.

use super::error::WsError;
use crate::buf::Bytes as _;
use crate::buf::{BufferTooSmall, Status};

/// Longest frame header: 2 bytes, 8 bytes of extended length, 4 bytes of mask.
pub const MAX_HEADER_LEN: usize = 14;
/// Largest payload of a control frame.
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// Frame opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Opcode {
    /// Continues a fragmented message.
    Continuation,
    /// UTF-8 text (what Pusher uses).
    Text,
    /// Binary data.
    Binary,
    /// Connection close.
    Close,
    /// Ping; the peer answers with a pong carrying the same payload.
    Ping,
    /// Pong.
    Pong,
}

impl Opcode {
    /// Decodes the low nibble of the first header byte.
    pub fn from_u8(v: u8) -> Option<Opcode> {
        Some(match v {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// True for close, ping and pong.
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// Which end of the connection this endpoint is; decides which frames must be masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Role {
    /// Sends masked frames, receives unmasked ones.
    Client,
    /// Sends unmasked frames, receives masked ones.
    Server,
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header {
    /// Last frame of its message.
    pub fin: bool,
    /// Frame type.
    pub opcode: Opcode,
    /// Masking key, present on client-to-server frames.
    pub mask: Option<[u8; 4]>,
    /// Payload length.
    pub payload_len: u64,
}

impl Header {
    /// Encoded size of this header.
    pub fn len(&self) -> usize {
        header_len(self.payload_len, self.mask.is_some())
    }

    /// Never true: a header takes at least two bytes.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Size of a header for a payload of `payload_len` bytes.
pub fn header_len(payload_len: u64, masked: bool) -> usize {
    let base = match payload_len {
        0..=125 => 2,
        126..=0xFFFF => 4,
        _ => 10,
    };
    if masked { base + 4 } else { base }
}

/// Parses one frame header from the start of `buf`, checking it against `role` (the role of the
/// receiving endpoint). Returns the header and its encoded length.
pub fn parse_header(buf: &[u8], role: Role) -> Result<Status<Header>, WsError> {
    let (b0, b1) = match buf {
        [b0, b1, ..] => (*b0, *b1),
        _ => return Ok(Status::Partial),
    };
    if b0 & 0x70 != 0 {
        return Err(WsError::ReservedBits);
    }
    let fin = b0 & 0x80 != 0;
    let opcode = Opcode::from_u8(b0 & 0x0F).ok_or(WsError::UnknownOpcode(b0 & 0x0F))?;
    let masked = b1 & 0x80 != 0;
    match (role, masked) {
        (Role::Client, true) => return Err(WsError::MaskedFrame),
        (Role::Server, false) => return Err(WsError::UnmaskedFrame),
        _ => {}
    }
    let short = b1 & 0x7F;
    let (payload_len, mut at) = match short {
        126 => match buf.get(2..4) {
            Some(&[a, b]) => (u64::from(u16::from_be_bytes([a, b])), 4),
            _ => return Ok(Status::Partial),
        },
        127 => match buf.get(2..10).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
            Some(bytes) => {
                let len = u64::from_be_bytes(bytes);
                if len >> 63 != 0 {
                    return Err(WsError::InvalidLength);
                }
                (len, 10)
            }
            None => return Ok(Status::Partial),
        },
        n => (u64::from(n), 2),
    };
    if opcode.is_control() {
        if !fin {
            return Err(WsError::FragmentedControl);
        }
        if payload_len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(WsError::ControlTooLong);
        }
    }
    let mask = if masked {
        match buf
            .get(at..at + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
        {
            Some(key) => {
                at += 4;
                Some(key)
            }
            None => return Ok(Status::Partial),
        }
    } else {
        None
    };
    Ok(Status::Complete(
        Header {
            fin,
            opcode,
            mask,
            payload_len,
        },
        at,
    ))
}

/// XORs `data` with the masking key, `offset` bytes into the masked stream.
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let mut k = key;
    k.rotate_left(offset % 4);
    let wide = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from(chunk);
        chunk.copy_from(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (b, m) in chunks.into_remainder().iter_mut().zip(k.iter().cycle()) {
        *b ^= m;
    }
}

/// Writes a frame header for `payload_len` bytes. Returns its length.
pub fn emit_header(
    out: &mut [u8],
    fin: bool,
    opcode: Opcode,
    payload_len: u64,
    mask: Option<[u8; 4]>,
) -> Result<usize, BufferTooSmall> {
    let len = header_len(payload_len, mask.is_some());
    let out = out.get_mut(..len).ok_or(BufferTooSmall { needed: len })?;
    let mut head = [0u8; MAX_HEADER_LEN];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let (second, at) = if payload_len <= 125 {
        (mask_bit | payload_len as u8, 2)
    } else if let Ok(short) = u16::try_from(payload_len) {
        head.get_mut(2..)
            .unwrap_or(&mut [])
            .copy_from(&short.to_be_bytes());
        (mask_bit | 126, 4)
    } else {
        head.get_mut(2..)
            .unwrap_or(&mut [])
            .copy_from(&payload_len.to_be_bytes());
        (mask_bit | 127, 10)
    };
    head.get_mut(..2)
        .unwrap_or(&mut [])
        .copy_from(&[u8::from(fin) << 7 | opcode.as_u8(), second]);
    if let Some(key) = mask {
        head.get_mut(at..).unwrap_or(&mut []).copy_from(&key);
    }
    out.copy_from(head.get(..len).unwrap_or(&[]));
    Ok(len)
}

/// Writes a whole frame (header and payload, masked when `mask` is given). Returns its length.
pub fn emit_frame(
    out: &mut [u8],
    fin: bool,
    opcode: Opcode,
    payload: &[u8],
    mask: Option<[u8; 4]>,
) -> Result<usize, BufferTooSmall> {
    let hl = header_len(payload.len() as u64, mask.is_some());
    let total = hl.saturating_add(payload.len());
    if out.len() < total {
        return Err(BufferTooSmall { needed: total });
    }
    emit_header(out, fin, opcode, payload.len() as u64, mask)?;
    let body = out
        .get_mut(hl..total)
        .ok_or(BufferTooSmall { needed: total })?;
    body.copy_from(payload);
    if let Some(key) = mask {
        apply_mask(body, key, 0);
    }
    Ok(total)
}
