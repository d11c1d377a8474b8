//! A subscribed channel as pusher-js hands it out (`pusher.channel(name)`): its name and
//! state, presence members, client events, and handlers bound to it.

use pusher_core::client::{ChannelState, EventData, TriggerError};

use crate::bindings::BindId;
use crate::pusher::Pusher;

/// One channel of a [`Pusher`], borrowed from it ([`Pusher::channel`]).
pub struct Channel<'p, 'a> {
    pub(crate) pusher: &'p mut Pusher<'a>,
    pub(crate) name: String,
}

impl std::fmt::Debug for Channel<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel").field("name", &self.name).finish()
    }
}

impl<'a> Channel<'_, 'a> {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its subscription state (`None` once unsubscribed).
    pub fn state(&mut self) -> Option<ChannelState> {
        self.pusher.client().channel_state(&self.name)
    }

    /// Whether the server confirmed the subscription (pusher-js `channel.subscribed`).
    pub fn subscribed(&mut self) -> bool {
        self.state() == Some(ChannelState::Subscribed)
    }

    /// Presence members: `(user id, user_info JSON)` (pusher-js `channel.members.each`).
    pub fn members(&mut self) -> Vec<(String, String)> {
        self.pusher
            .client()
            .members(&self.name)
            .map(|(id, info)| (id.to_owned(), info.to_owned()))
            .collect()
    }

    /// Number of presence members (pusher-js `channel.members.count`).
    pub fn member_count(&mut self) -> usize {
        self.pusher.client().member_count(&self.name)
    }

    /// This client's own member id (pusher-js `channel.members.me.id`).
    pub fn me(&mut self) -> Option<String> {
        self.pusher.client().me(&self.name).map(str::to_owned)
    }

    /// Triggers a client event on this channel (pusher-js `channel.trigger`).
    pub fn trigger(&mut self, event: &str, json: &str) -> Result<(), TriggerError> {
        self.pusher.trigger(&self.name, event, json)
    }

    /// Triggers a client event whose data is any `T: Serialize`.
    pub fn trigger_json<T: serde::Serialize + ?Sized>(
        &mut self,
        event: &str,
        data: &T,
    ) -> Result<(), TriggerError> {
        self.pusher.trigger_json(&self.name, event, data)
    }

    /// Calls `f` for `event` on this channel (pusher-js `channel.bind`).
    pub fn bind(&mut self, event: &str, f: impl FnMut(&EventData<'_>) + 'a) -> BindId {
        self.pusher.bind(&self.name, event, f)
    }

    /// Calls `f` for every event on this channel (pusher-js `channel.bind_global`).
    pub fn bind_global(&mut self, f: impl FnMut(&EventData<'_>) + 'a) -> BindId {
        self.pusher.bind_channel(&self.name, f)
    }

    /// Removes the handlers [`Channel::bind`] bound to `event` here (pusher-js
    /// `channel.unbind(event)`); returns how many.
    pub fn unbind(&mut self, event: &str) -> usize {
        self.pusher.unbind_channel(&self.name, Some(event))
    }

    /// Removes every handler bound to this channel (pusher-js `channel.unbind_all()`).
    pub fn unbind_all(&mut self) -> usize {
        self.pusher.unbind_channel_all(&self.name)
    }
}
