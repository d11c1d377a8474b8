//! Presence payloads: the member list of `subscription_succeeded` and the members of
//! `member_added`.

use super::error::EventError;
use crate::wire::json::{Elements, Kind, Members, RawStr, Value};

/// One member of a presence channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Member<'b> {
    /// User id (a string as written; numbers keep their digits).
    pub id: RawStr<'b>,
    /// `user_info` as raw JSON (`null` when absent).
    pub info: Value<'b>,
}

/// The `presence` object of a presence channel's `subscription_succeeded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Presence<'b> {
    /// Member count as announced by the server.
    pub count: Option<u32>,
    pub(super) ids: Option<Value<'b>>,
    pub(super) hash: Option<Value<'b>>,
}

/// The members of a presence channel (see [`Presence::members`]). A plain struct rather than
/// an adapter chain: it keeps one scanner per list, which matters on a 1 KiB stack.
#[derive(Debug, Clone)]
pub struct PresenceMembers<'b> {
    pub(super) ids: Option<Elements<'b>>,
    pub(super) hash: Option<Value<'b>>,
    pub(super) only_hash: Option<Members<'b>>,
}

impl<'b> Presence<'b> {
    /// The members: every id of `ids` with its `hash` entry (`null` when the server left it
    /// out, as soketi does for members without `user_info`), or the `hash` alone when there
    /// is no `ids` array.
    pub fn members(&self) -> PresenceMembers<'b> {
        let hash = self.hash;
        match self.ids.and_then(|v| v.array()) {
            Some(ids) => PresenceMembers {
                ids: Some(ids),
                hash,
                only_hash: None,
            },
            None => PresenceMembers {
                ids: None,
                hash: None,
                only_hash: hash.and_then(|h| h.object()),
            },
        }
    }
}

impl<'b> PresenceMembers<'b> {
    /// `user_info` of `id` in the hash (`null` when absent).
    fn info_of(&self, id: RawStr<'b>) -> Result<Value<'b>, EventError> {
        if let Some(members) = self.hash.and_then(|h| h.object()) {
            for member in members {
                let (k, v) = member?;
                if k.raw() == id.raw() {
                    return Ok(v);
                }
            }
        }
        Value::parse("null").map_err(EventError::from)
    }
}

impl<'b> Iterator for PresenceMembers<'b> {
    type Item = Result<Member<'b>, EventError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(ids) = self.ids.as_mut() {
            let id = match ids.next()? {
                Ok(id) => id,
                Err(e) => return Some(Err(e.into())),
            };
            let id = match id.kind() {
                Kind::String => id.as_raw_str(),
                Kind::Number => Some(RawStr::new(id.raw())),
                _ => None,
            };
            let Some(id) = id else {
                return Some(Err(EventError::Field("ids")));
            };
            return Some(self.info_of(id).map(|info| Member { id, info }));
        }
        let m = self.only_hash.as_mut()?.next()?;
        Some(
            m.map(|(id, info)| Member { id, info })
                .map_err(EventError::from),
        )
    }
}

#[cfg(feature = "presence")]
pub(super) fn member_id<'b>(d: &Value<'b>) -> Result<RawStr<'b>, EventError> {
    let v = d.get("user_id").ok_or(EventError::Field("user_id"))?;
    match v.kind() {
        Kind::String => v.as_raw_str().ok_or(EventError::Field("user_id")),
        Kind::Number => Ok(RawStr::new(v.raw())),
        _ => Err(EventError::Field("user_id")),
    }
}
