//! Presence members, stored in a byte buffer the caller provides.
//!
//! Records are packed back to back: `[channel slot][id length][info length: u16 LE][id][info]`.
//! A slot byte with the top bit set marks the record of this client's own user id (`me`).
//! Inserting an id that exists replaces it, so a repeated `member_added` never double counts.

use crate::buf::Bytes as _;

/// Longest user id stored (the documented presence limit).
pub const MAX_ID: usize = 128;
const ME: u8 = 0x80;
const HEAD: usize = 4;

/// The member store is full: the member was not recorded (the event still reaches the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StoreFull;

#[derive(Debug)]
pub(crate) struct Store<'a> {
    buf: &'a mut [u8],
    len: usize,
}

/// One record's place and fields.
#[derive(Clone, Copy)]
struct Rec {
    at: usize,
    tag: u8,
    id_len: usize,
    info_len: usize,
}

impl Rec {
    fn size(&self) -> usize {
        HEAD + self.id_len + self.info_len
    }
}

impl<'a> Store<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Store { buf, len: 0 }
    }

    fn records(&self) -> impl Iterator<Item = Rec> + '_ {
        let mut at = 0;
        core::iter::from_fn(move || {
            if at >= self.len {
                return None;
            }
            let head = self.buf.get(at..at + HEAD)?;
            let rec = Rec {
                at,
                tag: *head.first()?,
                id_len: usize::from(*head.get(1)?),
                info_len: usize::from(u16::from_le_bytes([*head.get(2)?, *head.get(3)?])),
            };
            at += rec.size();
            Some(rec)
        })
    }

    fn id(&self, r: Rec) -> &[u8] {
        self.buf
            .get(r.at + HEAD..r.at + HEAD + r.id_len)
            .unwrap_or(&[])
    }

    fn info(&self, r: Rec) -> &[u8] {
        let start = r.at + HEAD + r.id_len;
        self.buf.get(start..start + r.info_len).unwrap_or(&[])
    }

    fn remove_rec(&mut self, r: Rec) {
        let end = r.at + r.size();
        self.buf.move_within(end..self.len, r.at);
        self.len -= r.size();
    }

    fn find(&self, tag: u8, id: &[u8]) -> Option<Rec> {
        self.records().find(|r| r.tag == tag && self.id(*r) == id)
    }

    fn push(&mut self, tag: u8, id: &[u8], info: &[u8]) -> Result<(), StoreFull> {
        let id_len = u8::try_from(id.len())
            .ok()
            .filter(|l| usize::from(*l) <= MAX_ID)
            .ok_or(StoreFull)?;
        let info_len = u16::try_from(info.len()).map_err(|_| StoreFull)?;
        let size = HEAD + id.len() + info.len();
        let dst = self
            .buf
            .get_mut(self.len..self.len + size)
            .ok_or(StoreFull)?;
        let (head, rest) = dst.split_at_mut_checked(HEAD).ok_or(StoreFull)?;
        head.copy_from(&[
            tag,
            id_len,
            info_len.to_le_bytes()[0],
            info_len.to_le_bytes()[1],
        ]);
        let (id_dst, info_dst) = rest.split_at_mut_checked(id.len()).ok_or(StoreFull)?;
        id_dst.copy_from(id);
        info_dst.copy_from(info);
        self.len += size;
        Ok(())
    }

    /// Adds or replaces a member; `Ok(true)` when it is new.
    pub(crate) fn insert(&mut self, slot: u8, id: &str, info: &str) -> Result<bool, StoreFull> {
        let existed = match self.find(slot, id.as_bytes()) {
            Some(r) => {
                self.remove_rec(r);
                true
            }
            None => false,
        };
        self.push(slot, id.as_bytes(), info.as_bytes())?;
        Ok(!existed)
    }

    /// Removes a member; true if it was there.
    pub(crate) fn remove(&mut self, slot: u8, id: &str) -> bool {
        match self.find(slot, id.as_bytes()) {
            Some(r) => {
                self.remove_rec(r);
                true
            }
            None => false,
        }
    }

    /// Keeps the records whose tag `keep` accepts, in one pass (linear in the store).
    fn retain(&mut self, keep: impl Fn(u8) -> bool) {
        let (mut read, mut write) = (0, 0);
        while read < self.len {
            let Some(head) = self.buf.get(read..read + HEAD) else {
                break;
            };
            let (tag, id_len, info_len) = match *head {
                [tag, id_len, lo, hi] => (
                    tag,
                    usize::from(id_len),
                    usize::from(u16::from_le_bytes([lo, hi])),
                ),
                _ => break,
            };
            let size = HEAD + id_len + info_len;
            if keep(tag) {
                if write != read {
                    self.buf.move_within(read..read + size, write);
                }
                write += size;
            }
            read += size;
        }
        self.len = write;
    }

    /// Forgets the members of a channel (keeps `me`).
    pub(crate) fn clear_members(&mut self, slot: u8) {
        self.retain(|tag| tag != slot);
    }

    /// Forgets everything about a channel.
    pub(crate) fn clear_channel(&mut self, slot: u8) {
        self.retain(|tag| tag != slot && tag != slot | ME);
    }

    pub(crate) fn set_me(&mut self, slot: u8, id: &str) -> Result<(), StoreFull> {
        self.retain(|tag| tag != slot | ME);
        self.push(slot | ME, id.as_bytes(), &[])
    }

    /// Appends a member without looking for it first: for loading a channel's member list
    /// (the keys of one JSON object) into a cleared channel in linear time.
    pub(crate) fn append(&mut self, slot: u8, id: &str, info: &str) -> Result<(), StoreFull> {
        self.push(slot, id.as_bytes(), info.as_bytes())
    }

    pub(crate) fn me(&self, slot: u8) -> Option<&str> {
        let r = self.records().find(|r| r.tag == slot | ME)?;
        core::str::from_utf8(self.id(r)).ok()
    }

    pub(crate) fn count(&self, slot: u8) -> usize {
        self.records().filter(|r| r.tag == slot).count()
    }

    /// Members of a channel: `(id, user_info JSON)`.
    pub(crate) fn members(&self, slot: u8) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.records().filter(move |r| r.tag == slot).map(|r| {
            let id = core::str::from_utf8(self.id(r)).unwrap_or("");
            let info = core::str::from_utf8(self.info(r)).unwrap_or("null");
            (id, info)
        })
    }

    pub(crate) fn get(&self, slot: u8, id: &str) -> Option<&str> {
        let r = self.find(slot, id.as_bytes())?;
        core::str::from_utf8(self.info(r)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_replace_remove() {
        let mut buf = [0u8; 64];
        let mut s = Store::new(&mut buf);
        assert_eq!(s.insert(0, "1", "{}"), Ok(true));
        assert_eq!(s.insert(0, "1", r#"{"a":1}"#), Ok(false));
        assert_eq!(s.insert(1, "1", "null"), Ok(true));
        s.set_me(0, "1").unwrap();
        assert_eq!(s.count(0), 1);
        assert_eq!(s.get(0, "1"), Some(r#"{"a":1}"#));
        assert_eq!(s.me(0), Some("1"));
        assert!(s.remove(0, "1"));
        assert!(!s.remove(0, "1"));
        assert_eq!(s.count(0), 0);
        assert_eq!(s.count(1), 1);
        s.clear_channel(0);
        assert_eq!(s.me(0), None);
        assert_eq!(s.insert(2, "x", &"y".repeat(100)), Err(StoreFull));
        assert_eq!(s.members(1).collect::<std::vec::Vec<_>>(), [("1", "null")]);
    }

    fn ids(s: &Store<'_>, slot: u8) -> std::vec::Vec<std::string::String> {
        s.members(slot).map(|(i, _)| i.into()).collect()
    }

    #[test]
    fn clearing_keeps_the_other_channels_records_in_order() {
        let mut buf = [0u8; 256];
        let mut s = Store::new(&mut buf);
        for (slot, id) in [(0, "a"), (1, "b"), (0, "c"), (2, "d"), (1, "e")] {
            s.append(slot, id, "{}").unwrap();
        }
        s.set_me(1, "me").unwrap();
        s.set_me(1, "me2").unwrap();
        s.clear_members(0);

        assert!(ids(&s, 0).is_empty());
        assert_eq!(ids(&s, 1), ["b", "e"]);
        assert_eq!(ids(&s, 2), ["d"]);
        assert_eq!(s.me(1), Some("me2"));
        s.clear_channel(1);
        assert_eq!((s.count(1), s.me(1)), (0, None));
        assert_eq!(ids(&s, 2), ["d"]);
    }
}
