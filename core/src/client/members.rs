//! Presence members as the app reads them.

use super::machine::{Client, Inner};

impl<'a, const CHANNELS: usize, const NAME: usize> Client<'a, CHANNELS, NAME> {
    /// Members of a presence channel: `(user id, user_info JSON)`.
    pub fn members(&self, channel: &str) -> impl Iterator<Item = (&str, &str)> + '_ {
        let slot = self
            .inner
            .channels
            .find(channel)
            .and_then(|i| u8::try_from(i).ok());
        slot.into_iter().flat_map(|s| self.inner.members.members(s))
    }

    /// Number of members of a presence channel.
    pub fn member_count(&self, channel: &str) -> usize {
        self.inner
            .slot_u8(channel)
            .map_or(0, |s| self.inner.members.count(s))
    }

    /// A member's `user_info`.
    pub fn member(&self, channel: &str, id: &str) -> Option<&str> {
        self.inner.members.get(self.inner.slot_u8(channel)?, id)
    }

    /// A member's `user_info` decoded into `T` (the `serde` feature; see
    /// [`crate::wire::json::from_json`]). `None` when there is no such member.
    #[cfg(feature = "serde")]
    pub fn member_info<'s, T: serde::Deserialize<'s>>(
        &'s self,
        channel: &str,
        id: &str,
        scratch: &'s mut [u8],
    ) -> Option<Result<T, crate::wire::json::DataError>> {
        let info = self.member(channel, id)?;
        Some(crate::wire::json::from_json(info, scratch))
    }

    /// This client's own user id on a presence channel (from its `channel_data`).
    pub fn me(&self, channel: &str) -> Option<&str> {
        self.inner.members.me(self.inner.slot_u8(channel)?)
    }
}

impl<'a, const CHANNELS: usize, const NAME: usize> Inner<'a, CHANNELS, NAME> {
    pub(super) fn slot_u8(&self, channel: &str) -> Option<u8> {
        u8::try_from(self.channels.find(channel)?).ok()
    }
}
