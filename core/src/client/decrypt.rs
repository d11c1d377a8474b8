//! Events of encrypted channels, opened where they lie in the receive buffer with the
//! channel's shared secret (the `encryption` feature). The decoded event's fields are kept
//! as byte ranges of the frame, so the data can be opened in place and the event handed out
//! from the same bytes afterwards: no second buffer, nothing copied.

use core::ops::Range;

use super::event::Event;
use crate::encrypted::{DecryptError, decrypt_in_place};
use crate::wire::event::Event as Decoded;
use crate::wire::ws::{Reader, Ready};

/// Where an event's fields sit in its frame.
pub(super) struct Spans {
    event: Range<usize>,
    channel: Range<usize>,
    data: Option<Range<usize>>,
    user_id: Option<Range<usize>>,
}

impl Spans {
    /// No fields: the frame was not the event its envelope looked like.
    pub(super) fn none() -> Spans {
        Spans {
            event: 0..0,
            channel: 0..0,
            data: None,
            user_id: None,
        }
    }

    /// The ranges of `e`'s fields in the frame starting at address `base`.
    pub(super) fn of(e: &Decoded<'_>, base: usize) -> Spans {
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

/// Opens the event's data in place and hands the event out with its plaintext; a failure is
/// [`Event::DecryptionFailed`], and the ciphertext is never passed on as data.
pub(super) fn event<'r, B: AsRef<[u8]> + AsMut<[u8]>>(
    reader: &'r mut Reader<B>,
    ready: Ready,
    spans: &Spans,
    secret: Option<[u8; 32]>,
) -> Event<'r> {
    let opened = match (secret, spans.data.clone()) {
        (None, _) => Err(DecryptError::NoSharedSecret),
        (Some(_), None) => Err(DecryptError::NotEncrypted),
        (Some(key), Some(data)) => match reader.payload_mut(ready).get_mut(data.clone()) {
            Some(region) => {
                decrypt_in_place(&key, region).map(|r| data.start + r.start..data.start + r.end)
            }
            None => Err(DecryptError::NotEncrypted),
        },
    };
    let frame = reader.payload(ready);
    let text = |r: Range<usize>| core::str::from_utf8(frame.get(r).unwrap_or(&[])).unwrap_or("");
    let channel = text(spans.channel.clone());
    match opened {
        Ok(plain) => Event::Message {
            event: text(spans.event.clone()),
            channel: Some(channel),
            data: Some(text(plain)),
            user_id: spans.user_id.clone().map(text),
        },
        Err(error) => Event::DecryptionFailed { channel, error },
    }
}
