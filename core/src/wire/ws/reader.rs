//! The reader: one receive buffer turned into whole messages, fragments joined in place.

use super::close::{CloseFrame, parse_close};
use super::error::WsError;
use super::frame::{MAX_HEADER_LEN, Opcode, Role, apply_mask, parse_header};
use crate::buf::Bytes as _;
use crate::buf::Status;

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

    /// The buffer itself, for a reader that grows it: a frame larger than the buffer is
    /// refused with [`WsError::MessageTooLarge`] (its `limit` then under `max_message`)
    /// *before* anything is consumed, so making the buffer longer and reading again goes on
    /// where it stopped, fragments in progress included. A server holding many idle
    /// connections can start each one small this way. Making it shorter than what is
    /// buffered loses those bytes.
    pub fn buffer_mut(&mut self) -> &mut B {
        &mut self.buf
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

    /// [`Reader::next_message`] without the UTF-8 check of text: for a caller that validates
    /// the text anyway as it decodes it (the client does, once per frame instead of twice) and
    /// fails the connection with 1007 itself when it is not UTF-8.
    pub fn next_message_unchecked_text(&mut self) -> Result<Option<Ready>, WsError> {
        let Some((opcode, start, end)) = self.next_ready()? else {
            return Ok(None);
        };
        if opcode == Opcode::Close {
            parse_close(self.buf.as_ref().get(start..end).unwrap_or(&[]))?;
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

    /// The payload, writable, and the buffer's free end (past every received byte) as scratch
    /// for decoding it; the next [`Reader::spare`] hands that space out again.
    pub fn payload_and_free_mut(&mut self, r: Ready) -> (&mut [u8], &mut [u8]) {
        match self.buf.as_mut().split_at_mut_checked(self.filled) {
            Some((head, free)) => (head.get_mut(r.start..r.end).unwrap_or(&mut []), free),
            None => (&mut [], &mut []),
        }
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
