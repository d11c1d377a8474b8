//! Events of encrypted channels, opened where they lie in the receive buffer with the
//! channel's shared secret (the `encryption` feature). The decoded event's fields are kept
//! as byte ranges of the frame, so the data can be opened in place and the event handed out
//! from the same bytes afterwards: no second buffer, nothing copied. An event that does not
//! open asks for the channel's new secret once and waits for it in the hold buffer
//! (`rekey.rs`).

use core::ops::Range;

use super::channels::ChannelState;
use super::event::Event;
use super::machine::{Client, Phase};
use super::rekey::{Held, Rekey};
use crate::encrypted::{DecryptError, open_in_place, unpack_in_place};
use crate::secretbox::{NONCE, TAG};
use crate::wire::event::{Event as Decoded, ServerMessage};
use crate::wire::ws::Ready;

/// Where an event's fields sit in its frame.
pub(super) struct Spans {
    event: Range<usize>,
    channel: Range<usize>,
    data: Option<Range<usize>>,
    user_id: Option<Range<usize>>,
}

impl Spans {
    /// No fields: the frame was not the event its envelope looked like.
    fn none() -> Spans {
        Spans {
            event: 0..0,
            channel: 0..0,
            data: None,
            user_id: None,
        }
    }

    /// The ranges of `e`'s fields in the frame starting at address `base`.
    fn of(e: &Decoded<'_>, base: usize) -> Spans {
        let span = |s: &str| {
            let start = (s.as_ptr() as usize).wrapping_sub(base);
            start..start + s.len()
        };
        Spans {
            event: span(e.event),
            channel: e.channel.map_or(0..0, span),
            data: e.data.map(span),
            user_id: e.user_id.map(span),
        }
    }
}

/// What became of an encrypted event; ranges only, so the decision borrows nothing.
pub(super) enum Outcome {
    /// Opened: the event, its plaintext at this range of the frame.
    Opened(Spans, Range<usize>),
    /// Reported as [`Event::DecryptionFailed`].
    Failed(Range<usize>, DecryptError),
    /// The channel (this slot) is re-authorized; the event waits for the new secret.
    AskedAndHeld(usize),
    /// Waits, with others, for the channel's new secret: nothing to hand out yet.
    Held,
}

/// The text of a range of `frame` (empty if it is not one).
fn text(frame: &[u8], r: Range<usize>) -> &str {
    core::str::from_utf8(frame.get(r).unwrap_or(&[])).unwrap_or("")
}

impl<'a, const CHANNELS: usize, const NAME: usize> Client<'a, CHANNELS, NAME> {
    /// Opens a frame's event (for table slot `slot`, if subscribed) in place; a failure
    /// re-authorizes the channel once and holds the event, or is reported.
    pub(super) fn open_encrypted(&mut self, ready: Ready, slot: Option<usize>) -> Outcome {
        let base = self.reader.payload(ready).as_ptr() as usize;
        let spans = match ServerMessage::decode_in_place(self.reader.payload_mut(ready)) {
            Ok(ServerMessage::Event(e)) => Spans::of(&e, base),
            Ok(_) | Err(_) => Spans::none(),
        };
        let s = slot.and_then(|i| self.inner.channels.get(i));
        let (secret, rekey, subscribed) = s.map_or((None, Rekey::Trusted, false), |s| {
            (s.secret, s.rekey, s.state == ChannelState::Subscribed)
        });
        let frame = self.reader.payload_mut(ready);
        let opened = match (secret, spans.data.clone()) {
            (None, _) => Err((DecryptError::NoSharedSecret, None)),
            (Some(_), None) => Err((DecryptError::NotEncrypted, None)),
            (Some(key), Some(data)) => open_data(&key, frame, data),
        };
        let (error, sealed) = match opened {
            Ok(plain) => {
                if let Some(s) = slot.and_then(|i| self.inner.channels.get_mut(i))
                    && s.rekey == Rekey::Spent
                {
                    s.rekey = Rekey::Trusted;
                }
                return Outcome::Opened(spans, plain);
            }
            Err(e) => e,
        };
        let (Some(i), Some((nonce, boxed)), true, true) = (
            slot,
            sealed,
            subscribed && self.inner.phase == Phase::Established,
            rekey != Rekey::Spent,
        ) else {
            return Outcome::Failed(spans.channel, error);
        };
        let frame = self.reader.payload(ready);
        let held = self.inner.hold.push(
            text(frame, spans.channel.clone()),
            text(frame, spans.event.clone()),
            &nonce,
            frame.get(boxed).unwrap_or(&[]),
        );
        if rekey == Rekey::Trusted
            && let Some(s) = self.inner.channels.get_mut(i)
        {
            s.rekey = Rekey::Asked;
            if held {
                return Outcome::AskedAndHeld(i);
            }
            s.auth_due = true;
        }
        if held {
            Outcome::Held
        } else {
            Outcome::Failed(spans.channel, error)
        }
    }

    /// The event an [`Outcome`] hands out (`Held` hands out none).
    pub(super) fn encrypted_event(&mut self, ready: Ready, outcome: Outcome) -> Option<Event<'_>> {
        Some(match outcome {
            Outcome::Opened(spans, plain) => {
                let frame = self.reader.payload(ready);
                Event::Message {
                    event: text(frame, spans.event),
                    channel: Some(text(frame, spans.channel)),
                    data: Some(text(frame, plain)),
                    user_id: spans.user_id.map(|r| text(frame, r)),
                }
            }
            Outcome::Failed(channel, error) => Event::DecryptionFailed {
                channel: text(self.reader.payload(ready), channel),
                error,
            },
            Outcome::AskedAndHeld(i) => self.reauthorize(i),
            Outcome::Held => return None,
        })
    }

    /// The auth request of a channel being re-keyed.
    fn reauthorize(&mut self, i: usize) -> Event<'_> {
        if let Some(s) = self.inner.channels.get_mut(i) {
            s.auth_due = false;
        }
        Event::AuthRequired {
            channel: self.inner.channels.get(i).map_or("", |s| s.name()),
            socket_id: self.inner.socket_id().unwrap_or(""),
        }
    }

    /// The first held event whose channel is no longer waiting for its secret; held events
    /// of channels unsubscribed meanwhile are forgotten.
    pub(super) fn next_held(&mut self) -> Option<Held> {
        let inner = &mut self.inner;
        inner.hold.release();
        loop {
            let mut gone = None;
            for (held, name) in inner.hold.records() {
                match inner
                    .channels
                    .find(name)
                    .and_then(|i| inner.channels.get(i))
                {
                    None => {
                        gone = Some(held);
                        break;
                    }
                    Some(s) if s.rekey != Rekey::Asked => return Some(held),
                    Some(_) => {}
                }
            }
            inner.hold.drop_record(gone?);
        }
    }

    /// A held event opened with its channel's secret now.
    pub(super) fn open_held(&mut self, held: Held) -> Event<'_> {
        let inner = &mut self.inner;
        let name = inner
            .hold
            .records()
            .find(|(h, _)| *h == held)
            .map(|(_, n)| n);
        let slot = name.and_then(|n| inner.channels.find(n));
        let secret = slot
            .and_then(|i| inner.channels.get(i))
            .and_then(|s| s.secret);
        let (channel, event, opened) = inner.hold.open(held, secret.as_ref());
        if let Some(s) = slot.and_then(|i| inner.channels.get_mut(i)) {
            // Opened with the new secret, it is trusted; otherwise not asked about again.
            s.rekey = if opened.is_ok() {
                Rekey::Trusted
            } else {
                Rekey::Spent
            };
        }
        match opened {
            Ok(data) => Event::Message {
                event,
                channel: Some(channel),
                data: Some(data),
                user_id: None,
            },
            Err(error) => Event::DecryptionFailed { channel, error },
        }
    }
}

/// Opens the `data` at `range` of `frame`: the plaintext's range, or why not and (when the
/// box was intact but did not open) the nonce and the box's range, to hold it.
#[allow(clippy::type_complexity)]
fn open_data(
    key: &[u8; 32],
    frame: &mut [u8],
    range: Range<usize>,
) -> Result<Range<usize>, (DecryptError, Option<([u8; NONCE], Range<usize>)>)> {
    let region = frame
        .get_mut(range.clone())
        .ok_or((DecryptError::NotEncrypted, None))?;
    let (nonce, boxed) = unpack_in_place(region).map_err(|e| (e, None))?;
    let boxed = range.start + boxed.start..range.start + boxed.end;
    let sealed = frame
        .get_mut(boxed.clone())
        .ok_or((DecryptError::TooShort, None))?;
    match open_in_place(key, &nonce, sealed) {
        Ok(()) => Ok(boxed.start + TAG..boxed.end),
        Err(DecryptError::Forged) => Err((DecryptError::Forged, Some((nonce, boxed)))),
        Err(e) => Err((e, None)),
    }
}
