//! Watchlist payloads: who of the user's watchlist came online or went offline.

use super::error::EventError;
use crate::wire::json::{RawStr, Value};

/// What happened to the users of a [`WatchlistEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WatchlistStatus {
    /// They came online (their first connection).
    Online,
    /// They went offline (their last connection closed).
    Offline,
}

/// One entry of `pusher_internal:watchlist_events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WatchlistEvent<'b> {
    /// `online` or `offline`.
    pub name: RawStr<'b>,
    /// The user ids, a JSON array of strings.
    pub user_ids: Value<'b>,
}

impl<'b> WatchlistEvent<'b> {
    /// `online` or `offline`, typed; any other name is an [`EventError::Field`] of `name`.
    pub fn status(&self) -> Result<WatchlistStatus, EventError> {
        if self.name.eq_str("online") {
            Ok(WatchlistStatus::Online)
        } else if self.name.eq_str("offline") {
            Ok(WatchlistStatus::Offline)
        } else {
            Err(EventError::Field("name"))
        }
    }

    /// The user ids decoded into `T` (the `serde` feature; see
    /// [`crate::wire::json::from_json`]), a `heapless::Vec<&str, 16>` for example.
    ///
    /// ```
    /// use pusher_core::wire::event::{ServerMessage, WatchlistStatus};
    /// use pusher_core::wire::json::Value;
    ///
    /// let events = Value::parse(r#"[{"name":"online","user_ids":["ada","b\u00e9a"]}]"#)?;
    /// let entry = ServerMessage::watchlist_entries(events).next().unwrap()?;
    /// let mut scratch = [0u8; 32];
    /// let ids: heapless::Vec<&str, 16> = entry.ids_as(&mut scratch)?;
    /// assert_eq!((entry.status()?, ids.as_slice()), (WatchlistStatus::Online, &["ada", "béa"][..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "serde")]
    pub fn ids_as<'s, T: serde::Deserialize<'s>>(
        &self,
        scratch: &'s mut [u8],
    ) -> Result<T, crate::wire::json::DataError>
    where
        'b: 's,
    {
        crate::wire::json::from_json(self.user_ids.raw(), scratch)
    }

    /// The user ids.
    pub fn ids(&self) -> impl Iterator<Item = Result<RawStr<'b>, EventError>> + 'b {
        self.user_ids.array().into_iter().flatten().map(|v| {
            v.map_err(EventError::from)?
                .as_raw_str()
                .ok_or(EventError::Field("user_ids"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::event::ServerMessage;

    fn entries(text: &str) -> std::vec::Vec<Result<WatchlistEvent<'_>, EventError>> {
        ServerMessage::watchlist_entries(Value::parse(text).unwrap()).collect()
    }

    #[test]
    fn statuses_are_typed_and_unknown_names_refused() {
        let all = entries(
            r#"[{"name":"online","user_ids":["1"]},{"name":"offline","user_ids":[]},{"name":"away","user_ids":[]}]"#,
        );
        let statuses: std::vec::Vec<_> = all.iter().map(|e| e.unwrap().status()).collect();
        assert_eq!(
            statuses,
            [
                Ok(WatchlistStatus::Online),
                Ok(WatchlistStatus::Offline),
                Err(EventError::Field("name"))
            ]
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn ids_decode_typed_with_escapes_and_refuse_non_strings() {
        let all = entries(r#"[{"name":"online","user_ids":["a\"b","\ud83c\udf55",""]}]"#);
        let entry = all[0].unwrap();
        let mut scratch = [0u8; 64];
        let ids: heapless::Vec<heapless::String<8>, 4> = entry.ids_as(&mut scratch).unwrap();
        let ids: std::vec::Vec<&str> = ids.iter().map(|s| s.as_str()).collect();
        assert_eq!(ids, ["a\"b", "\u{1f355}", ""]);
        let mut scratch = [0u8; 64];
        let too_few: Result<heapless::Vec<&str, 2>, _> = entry.ids_as(&mut scratch);
        assert!(too_few.is_err(), "three ids do not fit two slots");
        let bad = entries(r#"[{"name":"online","user_ids":[1,2]}]"#);
        let mut scratch = [0u8; 64];
        let r: Result<heapless::Vec<&str, 4>, _> = bad[0].unwrap().ids_as(&mut scratch);
        assert!(r.is_err());
    }
}
