//! Bytes to send: the receive and transmit buffers, and the frames the client owes the server.

use super::channels::Due;
use super::machine::{Client, Inner, Phase};
use super::time::Instant;
use super::timers::Timer;
use super::tx::CONTROL_RESERVE;
use crate::buf::BufferTooSmall;
use crate::buf::Bytes as _;
use crate::name::ChannelKind;
use crate::wire::message;
use crate::wire::ws::{CloseFrame, Opcode};

pub(super) fn copy(out: &mut [u8], text: &str) -> Result<usize, BufferTooSmall> {
    let dst = out
        .get_mut(..text.len())
        .ok_or(BufferTooSmall { needed: text.len() })?;
    dst.copy_from(text.as_bytes());
    Ok(text.len())
}

impl<'a, const CHANNELS: usize, const NAME: usize> Client<'a, CHANNELS, NAME> {
    /// Free space to receive into (empty only when a frame larger than the buffer arrives,
    /// which [`Client::poll_event`] reports).
    pub fn rx_buffer(&mut self) -> &mut [u8] {
        self.reader.spare()
    }

    /// `n` bytes were received into [`Client::rx_buffer`]. Any byte counts as activity.
    #[inline(never)]
    pub fn commit_rx(&mut self, n: usize, now: Instant) {
        self.inner.now = now;
        self.reader.commit(n);
        if n > 0 && self.inner.phase == Phase::Established {
            self.inner
                .timers
                .set(Timer::Activity, now.after(self.inner.activity));
            self.inner.timers.stop(Timer::Pong);
        }
    }

    /// Bytes to send; after writing some, call [`Client::consume_tx`]. Call again until
    /// `None` after every call into the client.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<&[u8]> {
        self.inner.fill_tx();
        let pending = self.inner.tx.pending();
        if pending.is_empty() {
            None
        } else {
            Some(pending)
        }
    }

    /// `n` bytes of [`Client::poll_transmit`] were sent.
    pub fn consume_tx(&mut self, n: usize) {
        self.inner.tx.consume(n);
    }
}

impl<'a, const CHANNELS: usize, const NAME: usize> Inner<'a, CHANNELS, NAME> {
    /// Queues a pong for a WebSocket ping (only the latest matters, RFC 6455 5.5.3).
    pub(super) fn send_control(&mut self, ping: Opcode, payload: &[u8]) {
        let opcode = if ping == Opcode::Ping {
            Opcode::Pong
        } else {
            ping
        };
        let mask = self.rng.bytes();
        let _ = self
            .tx
            .push_frame::<BufferTooSmall>(opcode, mask, 0, |out| {
                let dst = out.get_mut(..payload.len()).ok_or(BufferTooSmall {
                    needed: payload.len(),
                })?;
                dst.copy_from(payload);
                Ok(payload.len())
            });
    }

    /// Writes owed frames while they fit: close, pings and pongs, then subscriptions.
    pub(super) fn fill_tx(&mut self) {
        if let Some(code) = self.close_frame {
            let mask = self.rng.bytes();
            let frame = CloseFrame { code, reason: "" };
            let ok = self
                .tx
                .push_frame::<BufferTooSmall>(Opcode::Close, mask, 0, |out| {
                    let mut payload = [0u8; 2];
                    payload.copy_from(&frame.code.to_be_bytes());
                    out.get_mut(..2)
                        .ok_or(BufferTooSmall { needed: 2 })?
                        .copy_from(&payload);
                    Ok(2)
                });
            if ok.is_ok() {
                self.close_frame = None;
                self.close_wanted = true;
            }
            return;
        }
        if self.phase != Phase::Established {
            return;
        }
        while self.pongs_due > 0 {
            let mask = self.rng.bytes();
            if self
                .tx
                .push_frame::<BufferTooSmall>(Opcode::Text, mask, 0, |out| copy(out, message::PONG))
                .is_err()
            {
                break;
            }
            self.pongs_due -= 1;
        }
        if self.ping_due {
            let mask = self.rng.bytes();
            if self
                .tx
                .push_frame::<BufferTooSmall>(Opcode::Text, mask, 0, |out| copy(out, message::PING))
                .is_ok()
            {
                self.ping_due = false;
            }
        }
        for i in 0..CHANNELS {
            let Some(slot) = self.channels.get(i) else {
                continue;
            };
            let due = slot.due;
            if due == Due::Nothing {
                continue;
            }
            let name = slot.channel();
            let mask = self.rng.bytes();
            let written = match due {
                Due::Nothing => continue,
                Due::Subscribe => self
                    .tx
                    .push_frame(Opcode::Text, mask, CONTROL_RESERVE, |out| {
                        let auth = if name.kind() == ChannelKind::ServerToUser {
                            Some("")
                        } else {
                            None
                        };
                        message::subscribe(out, name, auth, None)
                    }),
                Due::Unsubscribe => {
                    self.tx
                        .push_frame(Opcode::Text, mask, CONTROL_RESERVE, |out| {
                            message::unsubscribe(out, name)
                        })
                }
            };
            if written.is_err() {
                break;
            }
            if due == Due::Unsubscribe {
                self.channels.free(i);
            } else if let Some(s) = self.channels.get_mut(i) {
                s.due = Due::Nothing;
            }
        }
    }
}
