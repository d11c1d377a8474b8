//! RFC 6455 WebSocket frames, both roles.
//!
//! [`parse_header`] is the stateless frame-header parser; [`Reader`] owns one receive buffer and
//! turns the byte stream into whole messages (fragments reassembled in place, control frames
//! delivered between them, masks removed, UTF-8 checked). The emit functions write frames into
//! caller buffers; masking keys come from the caller's randomness.

use crate::buf::Bytes as _;
use core::fmt;

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

/// A complete message or control frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Message<'a> {
    /// A text message (all fragments joined, UTF-8 checked).
    Text(&'a str),
    /// A binary message (all fragments joined).
    Binary(&'a [u8]),
    /// A ping; answer with a pong carrying the same bytes.
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// A close frame, with its code when it had one.
    Close(Option<CloseFrame<'a>>),
}

/// Where a complete message lies in a [`Reader`]'s buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Ready {
    /// Text, binary (fragments joined), ping, pong or close.
    pub opcode: Opcode,
    start: usize,
    end: usize,
}

/// A message from [`Reader::read_mut`]: text as mutable bytes, anything else as usual.
#[derive(Debug, PartialEq, Eq)]
pub enum MessageMut<'a> {
    /// A text message (UTF-8 checked), writable for in-place decoding.
    Text(&'a mut [u8]),
    /// Any other message.
    Other(Message<'a>),
}

/// Reads whole messages from a byte stream into one caller buffer.
///
/// Fill it through [`Reader::spare`] and [`Reader::commit`], then call [`Reader::read`] until it
/// returns `Ok(None)`. Fragments are joined in place at the front of the buffer, so a message
/// needs no second buffer; control frames that arrive between fragments are returned at once.
/// The buffer size bounds the largest frame; `max_message` bounds the joined message.
#[derive(Debug)]
pub struct Reader<B> {
    buf: B,
    role: Role,
    max_message: usize,
    /// `buf[..joined]` holds the payload of the fragmented message in progress.
    joined: usize,
    /// First byte not yet parsed.
    pos: usize,
    /// End of the received bytes.
    filled: usize,
    /// Opcode of the fragmented message in progress.
    fragmented: Option<Opcode>,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Reader<B> {
    /// A reader for the endpoint `role` that accepts messages up to `max_message` bytes.
    pub fn new(buf: B, role: Role, max_message: usize) -> Self {
        Reader {
            buf,
            role,
            max_message,
            joined: 0,
            pos: 0,
            filled: 0,
            fragmented: None,
        }
    }

    /// Forgets all buffered bytes and any message in progress (for a new connection).
    pub fn reset(&mut self) {
        self.joined = 0;
        self.pos = 0;
        self.filled = 0;
        self.fragmented = None;
    }

    /// Bytes received but not yet returned as messages.
    pub fn buffered(&self) -> usize {
        self.filled.saturating_sub(self.pos)
    }

    /// The unread bytes (for handing the leftover of a handshake to another parser).
    pub fn unread(&self) -> &[u8] {
        self.buf.as_ref().get(self.pos..self.filled).unwrap_or(&[])
    }

    /// Marks `n` unread bytes as consumed by someone else (a handshake parser).
    pub fn skip(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.filled);
    }

    /// Free space to receive into; compacts the buffer first. Empty only when the buffer is
    /// full with a frame that cannot fit, which [`Reader::read`] reports as an error.
    pub fn spare(&mut self) -> &mut [u8] {
        let buf = self.buf.as_mut();
        if self.pos > self.joined {
            buf.move_within(self.pos..self.filled, self.joined);
            self.filled -= self.pos - self.joined;
            self.pos = self.joined;
        }
        buf.get_mut(self.filled..).unwrap_or(&mut [])
    }

    /// Records that `n` bytes were written into [`Reader::spare`].
    pub fn commit(&mut self, n: usize) {
        self.filled = self.filled.saturating_add(n).min(self.buf.as_ref().len());
    }

    /// Copies bytes into the buffer; returns how many fit (call [`Reader::read`] to make room).
    pub fn feed(&mut self, bytes: &[u8]) -> usize {
        let spare = self.spare();
        let n = spare.len().min(bytes.len());
        spare[..n].copy_from(&bytes[..n]);
        self.commit(n);
        n
    }

    /// The next message, `Ok(None)` when more bytes are needed.
    pub fn read(&mut self) -> Result<Option<Message<'_>>, WsError> {
        let Some((opcode, start, end)) = self.next_ready()? else {
            return Ok(None);
        };
        let payload = self.buf.as_ref().get(start..end).unwrap_or(&[]);
        Ok(Some(match opcode {
            Opcode::Ping => Message::Ping(payload),
            Opcode::Pong => Message::Pong(payload),
            Opcode::Close => Message::Close(parse_close(payload)?),
            Opcode::Text => Message::Text(crate::utf8(payload).ok_or(WsError::InvalidUtf8)?),
            Opcode::Binary | Opcode::Continuation => Message::Binary(payload),
        }))
    }

    /// Like [`Reader::read`], but a text message comes as mutable (UTF-8 checked) bytes, so it
    /// can be decoded in place ([`crate::wire::event::Event::decode_in_place`]).
    pub fn read_mut(&mut self) -> Result<Option<MessageMut<'_>>, WsError> {
        let Some(ready) = self.next_message()? else {
            return Ok(None);
        };
        let payload = self.payload_mut(ready);
        Ok(Some(match ready.opcode {
            Opcode::Text => MessageMut::Text(payload),
            Opcode::Ping => MessageMut::Other(Message::Ping(payload)),
            Opcode::Pong => MessageMut::Other(Message::Pong(payload)),
            Opcode::Close => MessageMut::Other(Message::Close(parse_close(payload)?)),
            Opcode::Binary | Opcode::Continuation => MessageMut::Other(Message::Binary(payload)),
        }))
    }

    /// The next message as a location in the buffer, without borrowing it: lets a caller
    /// decide what to do before taking the bytes ([`Reader::payload`],
    /// [`Reader::payload_mut`]). Text is UTF-8 checked and close payloads validated here.
    pub fn next_message(&mut self) -> Result<Option<Ready>, WsError> {
        let Some((opcode, start, end)) = self.next_ready()? else {
            return Ok(None);
        };
        let payload = self.buf.as_ref().get(start..end).unwrap_or(&[]);
        match opcode {
            Opcode::Text if crate::utf8(payload).is_none() => return Err(WsError::InvalidUtf8),
            Opcode::Close => {
                parse_close(payload)?;
            }
            _ => {}
        }
        Ok(Some(Ready { opcode, start, end }))
    }

    /// The payload of a message from [`Reader::next_message`] (valid until the next read or
    /// fill; a stale `Ready` yields stale bytes, never a panic).
    pub fn payload(&self, r: Ready) -> &[u8] {
        self.buf.as_ref().get(r.start..r.end).unwrap_or(&[])
    }

    /// The payload, writable (for in-place decoding).
    pub fn payload_mut(&mut self, r: Ready) -> &mut [u8] {
        self.buf.as_mut().get_mut(r.start..r.end).unwrap_or(&mut [])
    }

    /// Parses frames until a message is complete; returns its opcode and payload range.
    fn next_ready(&mut self) -> Result<Option<(Opcode, usize, usize)>, WsError> {
        loop {
            let cap = self.buf.as_ref().len();
            let avail = self.buf.as_ref().get(self.pos..self.filled).unwrap_or(&[]);
            let (head, head_len) = match parse_header(avail, self.role)? {
                Status::Partial => {
                    // Full even after compaction: the header can never complete.
                    if self.joined.saturating_add(avail.len()) >= cap {
                        return Err(WsError::MessageTooLarge {
                            limit: self.limit(cap),
                        });
                    }
                    return Ok(None);
                }
                Status::Complete(h, n) => (h, n),
            };
            let limit = self.limit(cap);
            let payload_len = usize::try_from(head.payload_len)
                .ok()
                .filter(|len| self.joined.saturating_add(*len) <= self.max_message)
                .ok_or(WsError::MessageTooLarge { limit })?;
            let frame_len = head_len.saturating_add(payload_len);
            if self.joined.saturating_add(frame_len) > cap {
                return Err(WsError::MessageTooLarge { limit });
            }
            if avail.len() < frame_len {
                return Ok(None);
            }
            let start = self.pos + head_len;
            let end = start + payload_len;
            self.pos = end;
            let buf = self.buf.as_mut();
            if let Some(key) = head.mask {
                apply_mask(buf.get_mut(start..end).unwrap_or(&mut []), key, 0);
            }
            match head.opcode {
                op if op.is_control() => return Ok(Some((op, start, end))),
                Opcode::Continuation => {
                    let opcode = self.fragmented.ok_or(WsError::UnexpectedContinuation)?;
                    buf.move_within(start..end, self.joined);
                    self.joined += payload_len;
                    if head.fin {
                        let len = core::mem::take(&mut self.joined);
                        self.fragmented = None;
                        return Ok(Some((opcode, 0, len)));
                    }
                }
                op => {
                    if self.fragmented.is_some() {
                        return Err(WsError::ExpectedContinuation);
                    }
                    if head.fin {
                        return Ok(Some((op, start, end)));
                    }
                    self.fragmented = Some(op);
                    buf.move_within(start..end, self.joined);
                    self.joined += payload_len;
                }
            }
        }
    }

    fn limit(&self, cap: usize) -> usize {
        self.max_message.min(cap.saturating_sub(MAX_HEADER_LEN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    fn frame(fin: bool, op: Opcode, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
        let mut out = std::vec![0u8; payload.len() + MAX_HEADER_LEN];
        let n = emit_frame(&mut out, fin, op, payload, mask).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn rfc_examples() {
        // RFC 6455 5.7: unmasked and masked "Hello".
        let unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        assert_eq!(frame(true, Opcode::Text, b"Hello", None), unmasked);
        let masked = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        assert_eq!(frame(true, Opcode::Text, b"Hello", Some(KEY)), masked);
        let mut r = Reader::new([0u8; 64], Role::Server, 64);
        r.feed(&masked);
        assert_eq!(r.read(), Ok(Some(Message::Text("Hello"))));
        let mut r = Reader::new([0u8; 64], Role::Client, 64);
        // Fragmented "Hel" + "lo".
        r.feed(&[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);
        assert_eq!(r.read(), Ok(Some(Message::Text("Hello"))));
        // Unmasked ping "Hello".
        r.feed(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert_eq!(r.read(), Ok(Some(Message::Ping(b"Hello"))));
        assert_eq!(r.read(), Ok(None));
    }

    #[test]
    fn lengths_16_and_64_bit() {
        for len in [0usize, 125, 126, 127, 65535, 65536, 70000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            for mask in [None, Some(KEY)] {
                let bytes = frame(true, Opcode::Binary, &payload, mask);
                assert_eq!(bytes.len(), header_len(len as u64, mask.is_some()) + len);
                let role = if mask.is_some() {
                    Role::Server
                } else {
                    Role::Client
                };
                let (h, n) = parse_header(&bytes, role).unwrap().complete().unwrap();
                assert_eq!(
                    (h.payload_len, n, h.mask),
                    (len as u64, bytes.len() - len, mask)
                );
                let mut r = Reader::new(std::vec![0u8; 80_000], role, 80_000);
                assert_eq!(r.feed(&bytes), bytes.len());
                assert_eq!(r.read(), Ok(Some(Message::Binary(&payload))));
            }
        }
    }

    #[test]
    fn header_partial_at_every_prefix() {
        let bytes = frame(true, Opcode::Text, &[b'x'; 300], Some(KEY));
        for cut in 0..8 {
            assert_eq!(
                parse_header(&bytes[..cut], Role::Server),
                Ok(Status::Partial),
                "{cut}"
            );
        }
        assert!(matches!(
            parse_header(&bytes[..8], Role::Server),
            Ok(Status::Complete(_, 8))
        ));
    }

    #[test]
    fn protocol_violations() {
        let r = |b: &[u8], role| parse_header(b, role);
        assert_eq!(r(&[0xC1, 0x00], Role::Client), Err(WsError::ReservedBits));
        assert_eq!(
            r(&[0x83, 0x00], Role::Client),
            Err(WsError::UnknownOpcode(3))
        );
        assert_eq!(
            r(&[0x09, 0x00], Role::Client),
            Err(WsError::FragmentedControl)
        );
        assert_eq!(
            r(&[0x89, 0x7E, 0x00, 0x7E], Role::Client),
            Err(WsError::ControlTooLong)
        );
        assert_eq!(
            r(&[0x81, 0x80, 1, 2, 3, 4], Role::Client),
            Err(WsError::MaskedFrame)
        );
        assert_eq!(r(&[0x81, 0x00], Role::Server), Err(WsError::UnmaskedFrame));
        let huge = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(r(&huge, Role::Client), Err(WsError::InvalidLength));
    }

    #[test]
    fn message_sequence_errors() {
        let mut r = Reader::new([0u8; 64], Role::Client, 64);
        r.feed(&frame(true, Opcode::Continuation, b"x", None));
        assert_eq!(r.read(), Err(WsError::UnexpectedContinuation));
        let mut r = Reader::new([0u8; 64], Role::Client, 64);
        r.feed(&frame(false, Opcode::Text, b"x", None));
        r.feed(&frame(true, Opcode::Text, b"y", None));
        assert_eq!(r.read(), Err(WsError::ExpectedContinuation));
        let mut r = Reader::new([0u8; 64], Role::Client, 64);
        r.feed(&frame(true, Opcode::Text, &[0xff, 0xfe], None));
        assert_eq!(r.read(), Err(WsError::InvalidUtf8));
    }

    #[test]
    fn size_limits() {
        let mut r = Reader::new([0u8; 256], Role::Client, 16);
        r.feed(&frame(true, Opcode::Text, &[b'a'; 17], None));
        assert_eq!(r.read(), Err(WsError::MessageTooLarge { limit: 16 }));
        // Fragments that together pass the limit.
        let mut r = Reader::new([0u8; 256], Role::Client, 16);
        r.feed(&frame(false, Opcode::Text, &[b'a'; 10], None));
        r.feed(&frame(true, Opcode::Continuation, &[b'a'; 10], None));
        assert_eq!(r.read(), Err(WsError::MessageTooLarge { limit: 16 }));
        // A frame larger than the buffer itself.
        let mut r = Reader::new([0u8; 32], Role::Client, 1000);
        r.feed(&frame(true, Opcode::Text, &[b'a'; 40], None)[..32]);
        assert_eq!(r.read(), Err(WsError::MessageTooLarge { limit: 18 }));
    }

    #[test]
    fn fragments_with_control_frames_between_byte_by_byte() {
        let mut stream = Vec::new();
        stream.extend(frame(false, Opcode::Text, "héllo ".as_bytes(), Some(KEY)));
        stream.extend(frame(true, Opcode::Ping, b"p1", Some(KEY)));
        stream.extend(frame(
            false,
            Opcode::Continuation,
            "wörld".as_bytes(),
            Some([9, 8, 7, 6]),
        ));
        stream.extend(frame(true, Opcode::Pong, b"", Some(KEY)));
        stream.extend(frame(
            true,
            Opcode::Continuation,
            " 🎉".as_bytes(),
            Some(KEY),
        ));
        stream.extend(frame(true, Opcode::Binary, &[0, 1, 2], Some(KEY)));
        let mut close = [0u8; 64];
        let n = emit_close(
            &mut close,
            Some(CloseFrame {
                code: 4201,
                reason: "pong",
            }),
            Some(KEY),
        )
        .unwrap();
        stream.extend(&close[..n]);
        let n = emit_close(&mut close, None, Some(KEY)).unwrap();
        stream.extend(&close[..n]);

        let expected = [
            "Ping(p1)",
            "Pong()",
            "Text(héllo wörld 🎉)",
            "Binary([0, 1, 2])",
            "Close(4201 pong)",
            "Close(-)",
        ];
        for chunk in [1usize, 2, 3, 7, 64] {
            let mut r = Reader::new([0u8; 48], Role::Server, 48);
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                let mut rest = piece;
                while !rest.is_empty() {
                    let n = r.feed(rest);
                    rest = &rest[n..];
                    while let Some(m) = r.read().unwrap() {
                        got.push(match m {
                            Message::Text(t) => std::format!("Text({t})"),
                            Message::Binary(b) => std::format!("Binary({b:?})"),
                            Message::Ping(p) => {
                                std::format!("Ping({})", std::str::from_utf8(p).unwrap())
                            }
                            Message::Pong(p) => {
                                std::format!("Pong({})", std::str::from_utf8(p).unwrap())
                            }
                            Message::Close(Some(c)) => {
                                std::format!("Close({} {})", c.code, c.reason)
                            }
                            Message::Close(None) => "Close(-)".into(),
                        });
                    }
                }
            }
            assert_eq!(got, expected, "chunk {chunk}");
            assert_eq!(r.buffered(), 0);
        }
    }

    #[test]
    fn close_payloads() {
        assert_eq!(parse_close(&[]), Ok(None));
        assert_eq!(parse_close(&[3]), Err(WsError::InvalidClosePayload));
        assert_eq!(
            parse_close(&[0x03, 0xE8]),
            Ok(Some(CloseFrame {
                code: 1000,
                reason: ""
            }))
        );
        assert_eq!(
            parse_close(&[0x03, 0xED]),
            Err(WsError::InvalidCloseCode(1005))
        );
        assert_eq!(parse_close(&[0x03, 0xE8, 0xff]), Err(WsError::InvalidUtf8));
        let long = "é".repeat(100);
        let mut out = [0u8; 200];
        let n = emit_close(
            &mut out,
            Some(CloseFrame {
                code: 1000,
                reason: &long,
            }),
            None,
        )
        .unwrap();
        let (h, hl) = parse_header(&out[..n], Role::Client)
            .unwrap()
            .complete()
            .unwrap();
        assert!(h.payload_len <= 125);
        let c = parse_close(&out[hl..n]).unwrap().unwrap();
        assert_eq!(c.reason.len(), 122);
    }

    #[test]
    fn mask_offsets_compose() {
        let mut a: Vec<u8> = (0..37).collect();
        let orig = a.clone();
        apply_mask(&mut a, KEY, 0);
        let (x, y) = a.split_at_mut(13);
        apply_mask(x, KEY, 0);
        apply_mask(y, KEY, 13);
        assert_eq!(a, orig);
    }

    #[test]
    fn emit_reports_needed_size() {
        let mut out = [0u8; 4];
        assert_eq!(
            emit_frame(&mut out, true, Opcode::Text, b"hello", Some(KEY)),
            Err(BufferTooSmall { needed: 11 })
        );
    }
}
