//! The subscription table: fixed slots, names stored inline (`heapless::String`).

use crate::name::{ChannelKind, ChannelName};

/// Where a channel subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ChannelState {
    /// Waiting for the connection (queued while disconnected).
    Pending,
    /// Waiting for the app to answer an auth request.
    AwaitingAuth,
    /// `pusher:subscribe` sent, no answer yet.
    Subscribing,
    /// The server confirmed the subscription.
    Subscribed,
    /// Auth failed or the server refused; retried after the next reconnect.
    Failed,
}

/// A frame the table still owes the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    Nothing,
    /// A public subscribe (no auth needed), written when the transmit buffer has room.
    Subscribe,
    /// An unsubscribe; the slot is freed once it is written.
    Unsubscribe,
}

#[derive(Debug, Clone)]
pub(crate) struct Slot<const NAME: usize> {
    name: heapless::String<NAME, u8>,
    pub(crate) used: bool,
    pub(crate) state: ChannelState,
    pub(crate) due: Due,
    /// An `AuthRequired` event is owed to the app.
    pub(crate) auth_due: bool,
    /// A `SubscriptionError` event for an auth failure is owed to the app.
    pub(crate) error_due: bool,
    /// The auth endpoint's HTTP status for that event (0: none).
    pub(crate) error_status: u16,
    /// A `PresenceOverflow` event is owed: the member list did not fit the store.
    pub(crate) overflow_due: bool,
    /// The client subscribed it itself (the `#server-to-user-` channel).
    pub(crate) internal: bool,
    /// An encrypted channel's shared secret, from its auth answer.
    #[cfg(feature = "encryption")]
    pub(crate) secret: Option<[u8; 32]>,
    /// Whether a failed decryption may ask for a new secret.
    #[cfg(feature = "encryption")]
    pub(crate) rekey: super::rekey::Rekey,
}

impl<const NAME: usize> Slot<NAME> {
    const EMPTY: Slot<NAME> = Slot {
        name: heapless::String::new(),
        used: false,
        state: ChannelState::Pending,
        due: Due::Nothing,
        auth_due: false,
        error_due: false,
        error_status: 0,
        overflow_due: false,
        internal: false,
        #[cfg(feature = "encryption")]
        secret: None,
        #[cfg(feature = "encryption")]
        rekey: super::rekey::Rekey::Trusted,
    };

    pub(crate) fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The stored name (only valid names are stored: [`Channels::insert`] takes a
    /// [`ChannelName`]).
    pub(crate) fn channel(&self) -> ChannelName<'_> {
        ChannelName::already_valid(self.name())
    }

    pub(crate) fn kind(&self) -> ChannelKind {
        ChannelKind::of(self.name())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Table<const N: usize, const NAME: usize> {
    pub(crate) slots: [Slot<NAME>; N],
}

impl<const N: usize, const NAME: usize> Table<N, NAME> {
    pub(crate) fn new() -> Self {
        Table {
            slots: [const { Slot::EMPTY }; N],
        }
    }

    /// Whether any subscription is to an encrypted channel (then frames are looked at for
    /// their events; otherwise that costs nothing).
    #[cfg(feature = "encryption")]
    pub(crate) fn has_encrypted(&self) -> bool {
        self.slots.iter().any(|s| s.used && s.kind().is_encrypted())
    }

    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.used && s.due != Due::Unsubscribe && s.name() == name)
    }

    /// Adds a name; `None` when the table is full or the name does not fit.
    pub(crate) fn insert(&mut self, name: ChannelName<'_>) -> Option<usize> {
        let name = heapless::String::try_from(name.as_str()).ok()?;
        let i = self.slots.iter().position(|s| !s.used)?;
        let slot = self.slots.get_mut(i)?;
        *slot = Slot::EMPTY;
        slot.name = name;
        slot.used = true;
        Some(i)
    }

    /// Clears the first set flag among used slots; returns that slot.
    pub(crate) fn take_flag(
        &mut self,
        flag: impl Fn(&mut Slot<NAME>) -> &mut bool,
    ) -> Option<usize> {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot.used && *flag(slot) {
                *flag(slot) = false;
                return Some(i);
            }
        }
        None
    }

    pub(crate) fn free(&mut self, i: usize) {
        if let Some(s) = self.slots.get_mut(i) {
            *s = Slot::EMPTY;
        }
    }

    pub(crate) fn get(&self, i: usize) -> Option<&Slot<NAME>> {
        self.slots.get(i).filter(|s| s.used)
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut Slot<NAME>> {
        self.slots.get_mut(i).filter(|s| s.used)
    }
}
