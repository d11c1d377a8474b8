//! The transmit buffer: masked WebSocket frames queued for the transport.

use crate::buf::BufferTooSmall;
use crate::buf::Bytes as _;
use crate::wire::ws::{self, Opcode};

/// Room kept free for control traffic (pongs, pings, close) so that app-queued messages can
/// never starve them: the largest control frame a client sends.
pub(crate) const CONTROL_RESERVE: usize = 2 + 4 + ws::MAX_CONTROL_PAYLOAD;

/// Longest header of a frame this client sends (16-bit length, masked).
const HEAD: usize = 8;

#[derive(Debug)]
pub(crate) struct Tx<'a> {
    buf: &'a mut [u8],
    sent: usize,
    len: usize,
}

impl<'a> Tx<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Tx {
            buf,
            sent: 0,
            len: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.sent = 0;
        self.len = 0;
    }

    pub(crate) fn pending(&self) -> &[u8] {
        self.buf.get(self.sent..self.len).unwrap_or(&[])
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.sent >= self.len
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.sent = self.sent.saturating_add(n).min(self.len);
        if self.sent == self.len {
            self.clear();
        }
    }

    /// Moves unsent bytes to the front.
    fn compact(&mut self) {
        if self.sent > 0 {
            self.buf.move_within(self.sent..self.len, 0);
            self.len -= self.sent;
            self.sent = 0;
        }
    }

    /// Appends raw bytes (the HTTP upgrade request).
    pub(crate) fn push_raw(
        &mut self,
        write: impl FnOnce(&mut [u8]) -> Result<usize, BufferTooSmall>,
    ) -> Result<(), BufferTooSmall> {
        self.compact();
        let start = self.len;
        let n =
            write(self.buf.get_mut(start..).unwrap_or(&mut [])).map_err(|e| BufferTooSmall {
                needed: e.needed.saturating_add(start),
            })?;
        self.len = start + n;
        Ok(())
    }

    /// Appends one masked frame whose payload `write` produces, leaving `reserve` bytes free.
    /// Payloads are capped at 64 KiB - 1 (the 16-bit length form).
    pub(crate) fn push_frame<E: From<BufferTooSmall>>(
        &mut self,
        opcode: Opcode,
        mask: [u8; 4],
        reserve: usize,
        write: impl FnOnce(&mut [u8]) -> Result<usize, E>,
    ) -> Result<(), E> {
        // Only the call to `write` is generic; the framing around it exists once.
        let (body_at, limit) = self.begin_frame(reserve);
        let n = write(self.buf.get_mut(body_at..limit).unwrap_or(&mut []))?;
        self.finish_frame(opcode, mask, reserve, n)?;
        Ok(())
    }

    /// Makes room: returns where the payload goes (after room for the longest header) and
    /// where it must end.
    #[inline(never)]
    fn begin_frame(&mut self, reserve: usize) -> (usize, usize) {
        self.compact();
        let start = self.len;
        let usable = self.buf.len().saturating_sub(reserve);
        let limit = usable.min(start + HEAD + 0xFFFF);
        (start + HEAD, limit.max(start + HEAD))
    }

    /// Puts the header in front of the `n` payload bytes written after `begin_frame`, and
    /// masks them.
    #[inline(never)]
    fn finish_frame(
        &mut self,
        opcode: Opcode,
        mask: [u8; 4],
        reserve: usize,
        n: usize,
    ) -> Result<(), BufferTooSmall> {
        let start = self.len;
        let body_at = start + HEAD;
        let limit = self.buf.len().saturating_sub(reserve).min(body_at + 0xFFFF);
        let hl = ws::header_len(n as u64, true);
        let needed = start + hl + n + reserve;
        if body_at + n > limit {
            return Err(BufferTooSmall { needed });
        }
        // Slide the payload down to sit right after its real header, then write the header.
        self.buf.move_within(body_at..body_at + n, start + hl);
        let head = self.buf.get_mut(start..start + hl).unwrap_or(&mut []);
        ws::emit_header(head, true, opcode, n as u64, Some(mask))?;
        #[cfg(any(feature = "log", feature = "defmt"))]
        if opcode == Opcode::Text {
            let text = self
                .buf
                .get(start + hl..start + hl + n)
                .and_then(|t| core::str::from_utf8(t).ok());
            crate::fmt::trace_text!(">>", text.unwrap_or("<binary>"));
        }
        if let Some(payload) = self.buf.get_mut(start + hl..start + hl + n) {
            ws::apply_mask(payload, mask, 0);
        }
        self.len = start + hl + n;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ws::{Message, Reader, Role};

    #[test]
    fn frames_decode_on_the_server_side() {
        let mut buf = [0u8; 400];
        let mut tx = Tx::new(&mut buf);
        for (i, text) in ["a", &"b".repeat(200), "c"].iter().enumerate() {
            tx.push_frame::<BufferTooSmall>(Opcode::Text, [i as u8, 2, 3, 4], 0, |out| {
                out.get_mut(..text.len())
                    .ok_or(BufferTooSmall { needed: text.len() })?
                    .copy_from_slice(text.as_bytes());
                Ok(text.len())
            })
            .unwrap();
        }
        let mut r = Reader::new([0u8; 512], Role::Server, 512);
        let bytes = tx.pending().to_vec();
        // Partial consumption keeps the rest.
        tx.consume(5);
        assert_eq!(tx.pending(), &bytes[5..]);
        r.feed(&bytes);
        assert_eq!(r.read(), Ok(Some(Message::Text("a"))));
        assert_eq!(r.read().unwrap(), Some(Message::Text(&"b".repeat(200))));
        assert_eq!(r.read(), Ok(Some(Message::Text("c"))));
    }

    #[test]
    fn reserve_and_full_buffer() {
        let mut buf = [0u8; 64];
        let mut tx = Tx::new(&mut buf);
        let r = tx.push_frame::<BufferTooSmall>(Opcode::Text, [0; 4], 40, |out| {
            let need = 30;
            if out.len() < need {
                return Err(BufferTooSmall { needed: need });
            }
            Ok(need)
        });
        assert!(r.is_err());
        assert!(tx.is_empty());
    }
}
