//! What REST reads: a channel's occupancy, member count and cached event; the occupied
//! channels; a presence channel's users.

use pusher_core::name::ChannelKind;

use super::{CACHE_TTL_SECS, Hub};

/// One channel as `GET /channels/{name}` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    /// Subscribed connections.
    pub subscription_count: usize,
    /// Distinct presence members (presence channels).
    pub user_count: Option<usize>,
    /// The cached event's data and seconds left to live (cache channels).
    pub cache: Option<(String, u64)>,
}

/// One occupied channel in `GET /channels`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSummary {
    /// Its name.
    pub name: String,
    /// Subscribed connections.
    pub subscription_count: usize,
    /// Distinct presence members (presence channels).
    pub user_count: Option<usize>,
}

impl Hub {
    /// A channel's state (an unoccupied channel has no subscribers and no users).
    pub fn channel_info(&self, name: &str) -> ChannelInfo {
        let ch = self.channels.get(name);
        let presence = ChannelKind::of(name).is_presence();
        ChannelInfo {
            subscription_count: ch.map_or(0, |c| c.subscribers.len()),
            user_count: presence.then(|| ch.map_or(0, |c| c.members.len())),
            cache: self.cache.get(name).and_then(|c| {
                let age = c.at.elapsed().as_secs();
                (age < CACHE_TTL_SECS).then(|| (c.data.clone(), CACHE_TTL_SECS - age))
            }),
        }
    }

    /// The occupied channels whose names start with `prefix` (the server's internal
    /// `#server-to-user-` channels are not listed), sorted by name.
    pub fn occupied(&self, prefix: &str) -> Vec<ChannelSummary> {
        let mut list: Vec<ChannelSummary> = self
            .channels
            .iter()
            .filter(|(name, ch)| {
                name.starts_with(prefix) && !name.starts_with('#') && !ch.subscribers.is_empty()
            })
            .map(|(name, ch)| ChannelSummary {
                name: name.clone(),
                subscription_count: ch.subscribers.len(),
                user_count: ChannelKind::of(name)
                    .is_presence()
                    .then_some(ch.members.len()),
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }

    /// A presence channel's member ids (as in JSON).
    pub fn members(&self, name: &str) -> Vec<String> {
        self.channels
            .get(name)
            .map(|c| c.members.keys().cloned().collect())
            .unwrap_or_default()
    }
}
