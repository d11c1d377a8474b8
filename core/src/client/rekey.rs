//! Re-keying an encrypted channel: an event that does not open with the channel's shared
//! secret may have been sealed with a rotated key, so the channel is authorized once more
//! (like pusher-js) and the event opened again with the new secret. While the answer is
//! awaited, such events wait in the caller's hold buffer ([`Client::hold_for_rekey`]); an
//! event that does not fit is reported at once as [`Event::DecryptionFailed`], as is one
//! that does not open with the new secret either. Nothing is dropped silently.
//!
//! [`Client::hold_for_rekey`]: super::Client::hold_for_rekey
//! [`Event::DecryptionFailed`]: super::Event::DecryptionFailed

use crate::buf::Bytes as _;
use crate::encrypted::{DecryptError, open_in_place};
use crate::secretbox::{NONCE, TAG};

/// Where a channel stands with its shared secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rekey {
    /// The secret is trusted: a failure asks for a new one.
    Trusted,
    /// Re-authorizing: events that fail wait for the answer.
    Asked,
    /// Re-authorized and no event opened since: a failure is reported, not asked about
    /// again (a publisher sending garbage cannot make the fleet hammer its auth endpoint).
    Spent,
}

/// Bytes before a held record's strings: the lengths of the channel name, the event name
/// and the box.
const HEADER: usize = 4;

/// One held event, as its place in the hold buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Held {
    at: u32,
    sealed: u16,
    channel: u8,
    event: u8,
}

impl Held {
    fn at(&self) -> usize {
        self.at as usize
    }

    fn len(&self) -> usize {
        HEADER
            + usize::from(self.channel)
            + usize::from(self.event)
            + NONCE
            + usize::from(self.sealed)
    }
}

/// Events waiting for their channel's new secret, in arrival order, packed into the
/// caller's buffer.
#[derive(Debug)]
pub(crate) struct Hold<'a> {
    /// At most 4 GiB are used.
    buf: &'a mut [u8],
    len: u32,
    /// The record handed out by the last [`Hold::open`], removed on the next call.
    handed_out: Option<Held>,
}

impl<'a> Hold<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Hold {
            buf,
            len: 0,
            handed_out: None,
        }
    }

    /// Whether any event is held.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0 && self.handed_out.is_none()
    }

    /// Keeps an event; `false` when it does not fit (names over 255 bytes never do).
    pub(crate) fn push(
        &mut self,
        channel: &str,
        event: &str,
        nonce: &[u8; NONCE],
        sealed: &[u8],
    ) -> bool {
        self.release();
        let (Ok(c), Ok(e), Ok(s)) = (
            u8::try_from(channel.len()),
            u8::try_from(event.len()),
            u16::try_from(sealed.len()),
        ) else {
            return false;
        };
        let held = Held {
            at: self.len,
            sealed: s,
            channel: c,
            event: e,
        };
        let Ok(end) = u32::try_from(held.at() + held.len()) else {
            return false;
        };
        let Some(out) = self.buf.get_mut(held.at()..end as usize) else {
            return false;
        };
        let [lo, hi] = s.to_le_bytes();
        let mut w = 0;
        for part in [
            &[c, e, lo, hi][..],
            channel.as_bytes(),
            event.as_bytes(),
            nonce,
            sealed,
        ] {
            if let Some(dst) = out.get_mut(w..w + part.len()) {
                dst.copy_from(part);
            }
            w += part.len();
        }
        self.len = end;
        true
    }

    /// The record at byte `at`, if one starts there.
    fn record(&self, at: usize) -> Option<Held> {
        let h = self.buf.get(at..at + HEADER)?;
        let (&channel, &event, &lo, &hi) = (h.first()?, h.get(1)?, h.get(2)?, h.get(3)?);
        let held = Held {
            at: u32::try_from(at).ok()?,
            sealed: u16::from_le_bytes([lo, hi]),
            channel,
            event,
        };
        (at + held.len() <= self.len as usize).then_some(held)
    }

    /// The held records' channel names, in arrival order.
    pub(crate) fn records(&self) -> impl Iterator<Item = (Held, &str)> + '_ {
        let mut at = 0;
        core::iter::from_fn(move || {
            let held = self.record(at)?;
            at += held.len();
            let name = self
                .buf
                .get(held.at() + HEADER..held.at() + HEADER + usize::from(held.channel))?;
            Some((held, core::str::from_utf8(name).unwrap_or("")))
        })
    }

    /// Forgets a record (its channel was unsubscribed).
    pub(crate) fn drop_record(&mut self, held: Held) {
        let (end, len) = (held.at() + held.len(), self.len as usize);
        if end <= len {
            self.buf.copy_within(end..len, held.at());
            self.len = held.at + (len - end) as u32;
        }
    }

    /// Removes the record handed out last; call before touching the hold again.
    pub(crate) fn release(&mut self) {
        if let Some(held) = self.handed_out.take() {
            self.drop_record(held);
        }
    }

    /// Opens a record with its channel's secret (now, after re-authorizing): the channel,
    /// the event name and the plaintext or why not. The record is removed on the next call.
    pub(crate) fn open(
        &mut self,
        held: Held,
        secret: Option<&[u8; 32]>,
    ) -> (&str, &str, Result<&str, DecryptError>) {
        self.handed_out = Some(held);
        let start = held.at() + HEADER;
        let Some(rec) = self.buf.get_mut(start..start + held.len() - HEADER) else {
            return ("", "", Err(DecryptError::TooShort));
        };
        let (names, rest) = rec.split_at_mut(usize::from(held.channel) + usize::from(held.event));
        let (nonce, sealed) = rest.split_at_mut(NONCE.min(rest.len()));
        let mut n = [0u8; NONCE];
        n.copy_from(nonce);
        let opened = match secret {
            None => Err(DecryptError::NoSharedSecret),
            Some(key) => open_in_place(key, &n, sealed)
                .map(|()| core::str::from_utf8(sealed.get(TAG..).unwrap_or(&[])).unwrap_or("")),
        };
        let (channel, event) = names.split_at(usize::from(held.channel));
        (utf8(channel), utf8(event), opened)
    }
}

/// Held names were `&str`s when kept.
fn utf8(b: &[u8]) -> &str {
    core::str::from_utf8(b).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encrypted::unpack_in_place;

    /// protocol.md §7.4, S2 (the Go library's vector).
    const KEY: [u8; 32] = [
        0x00, 0x48, 0x31, 0xf9, 0x9d, 0x2a, 0x4e, 0x86, 0x72, 0x3e, 0x89, 0x3c, 0xad, 0xed, 0x3a,
        0x28, 0x97, 0xde, 0xed, 0xdb, 0xed, 0x95, 0x14, 0xfe, 0x94, 0x97, 0xdc, 0xdd, 0xc5, 0x2b,
        0xd5, 0x0b,
    ];
    const DATA: &str = r#"{"nonce":"sjklahvpWWQgAjTx5FfYHCCxd2AmaL9T","ciphertext":"zoDEe8dA3nDXKsybAWce/hXGW4szJw=="}"#;

    fn sealed() -> ([u8; NONCE], [u8; 128], core::ops::Range<usize>) {
        let mut buf = [0u8; 128];
        buf[..DATA.len()].copy_from_slice(DATA.as_bytes());
        let (nonce, range) = unpack_in_place(&mut buf[..DATA.len()]).unwrap();
        (nonce, buf, range)
    }

    #[test]
    fn held_events_open_with_the_new_key_in_order_and_leave_room() {
        let (nonce, buf, range) = sealed();
        let mut space = [0u8; 150];
        let mut hold = Hold::new(&mut space);
        assert!(hold.push("private-encrypted-a", "one", &nonce, &buf[range.clone()]));
        assert!(hold.push("private-encrypted-b", "two", &nonce, &buf[range.clone()]));
        assert!(
            !hold.push("private-encrypted-a", "three", &nonce, &buf[range.clone()]),
            "a third does not fit"
        );
        let names: heapless::Vec<heapless::String<32>, 4> = hold
            .records()
            .map(|(_, n)| heapless::String::try_from(n).unwrap())
            .collect();
        assert_eq!(names, ["private-encrypted-a", "private-encrypted-b"]);

        let first = hold.records().next().unwrap().0;
        let wrong = [7u8; 32];
        let (c, e, got) = hold.open(first, Some(&wrong));
        assert_eq!(
            (c, e, got),
            ("private-encrypted-a", "one", Err(DecryptError::Forged))
        );
        hold.release();
        let next = hold.records().next().unwrap().0;
        let (c, e, got) = hold.open(next, Some(&KEY));
        assert_eq!((c, e, got), ("private-encrypted-b", "two", Ok("Hello!")));
        hold.release();
        assert!(hold.is_empty());
        assert!(hold.push("private-encrypted-a", "three", &nonce, &buf[range]));
    }

    #[test]
    fn an_empty_hold_keeps_nothing_and_long_names_never_fit() {
        let (nonce, buf, range) = sealed();
        let mut none = Hold::new(&mut []);
        assert!(!none.push("private-encrypted-a", "e", &nonce, &buf[range.clone()]));
        let mut space = [0u8; 1024];
        let mut hold = Hold::new(&mut space);
        let long = core::str::from_utf8(&[b'e'; 256]).unwrap();
        assert!(!hold.push("private-encrypted-a", long, &nonce, &buf[range]));
        assert!(hold.is_empty());
    }
}
