//! Watchlist payloads: who of the user's watchlist came online or went offline.

use super::error::EventError;
use crate::wire::json::{RawStr, Value};

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
    /// The user ids.
    pub fn ids(&self) -> impl Iterator<Item = Result<RawStr<'b>, EventError>> + 'b {
        self.user_ids.array().into_iter().flatten().map(|v| {
            v.map_err(EventError::from)?
                .as_raw_str()
                .ok_or(EventError::Field("user_ids"))
        })
    }
}
