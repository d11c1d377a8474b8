//! Client events, within the per-second budget.

use super::channels::ChannelState;
use super::error::TriggerError;
use super::machine::{Client, Inner, Phase};
use super::time::Duration;
use super::tx::CONTROL_RESERVE;
use crate::name::EventName;
use crate::wire::message::{self, Payload};
use crate::wire::ws::Opcode;

impl<'a, const CHANNELS: usize, const NAME: usize> Client<'a, CHANNELS, NAME> {
    /// Triggers a client event on a subscribed private or presence channel, at most
    /// `client_events_per_sec` per second (the clock is the last `now` given to the client).
    pub fn trigger(
        &mut self,
        channel: &str,
        event: &str,
        data: Payload<'_>,
    ) -> Result<(), TriggerError> {
        self.trigger_with(channel, event, |out, name, ev| {
            message::client_event(out, name, ev, data)
        })
    }

    /// [`Client::trigger`] with any `T: Serialize` as the payload, written by serde-json-core
    /// straight into the transmit buffer (the `serde` feature).
    ///
    /// ```
    /// # use pusher_core::client::{Buffers, Client, Config};
    /// #[derive(serde::Serialize)]
    /// struct Typing<'a> { user: &'a str, active: bool }
    /// # let mut rx = [0u8; 1024]; let mut tx = [0u8; 1024]; let mut n = [0u8; 256];
    /// # let buffers = Buffers { rx: &mut rx, tx: &mut tx, presence: &mut n };
    /// # let mut client: Client<'_> = Client::new(Config::new("key", "ws.example"), buffers, 1);
    /// // Once `private-chat` is subscribed:
    /// let sent = client.trigger_json("private-chat", "client-typing", &Typing { user: "ada", active: true });
    /// # assert!(sent.is_err()); // (not connected in this example)
    /// ```
    #[cfg(feature = "serde")]
    pub fn trigger_json<T: serde::Serialize + ?Sized>(
        &mut self,
        channel: &str,
        event: &str,
        data: &T,
    ) -> Result<(), TriggerError> {
        self.trigger_with(channel, event, |out, name, ev| {
            message::client_event_with(out, name, ev, |rest| {
                crate::wire::json::to_json(data, rest).map_err(|e| match e {
                    crate::wire::json::ToJsonError::BufferTooSmall => {
                        message::EncodeError::BufferTooSmall(crate::buf::BufferTooSmall {
                            needed: rest.len() + 1,
                        })
                    }
                    _ => message::EncodeError::Serialize,
                })
            })
        })
    }

    fn trigger_with(
        &mut self,
        channel: &str,
        event: &str,
        encode: impl FnOnce(
            &mut [u8],
            crate::name::ChannelName<'_>,
            EventName<'_>,
        ) -> Result<usize, message::EncodeError>,
    ) -> Result<(), TriggerError> {
        let inner = &mut self.inner;
        let ev = EventName::client(event)?;
        let i = inner
            .channels
            .find(channel)
            .ok_or(TriggerError::UnknownChannel)?;
        let (kind, state) = inner
            .channels
            .get(i)
            .map(|s| (s.kind(), s.state))
            .ok_or(TriggerError::UnknownChannel)?;
        if !kind.allows_client_events() {
            return Err(TriggerError::ClientEventsNotAllowed);
        }
        if inner.phase != Phase::Established {
            return Err(TriggerError::NotConnected);
        }
        if state != ChannelState::Subscribed {
            return Err(TriggerError::NotSubscribed);
        }
        inner.refill_bucket();
        if inner.bucket.milli < 1000 {
            // 32-bit arithmetic: the deficit is below 1000.
            let deficit = u32::try_from(1000 - inner.bucket.milli).unwrap_or(1000);
            let wait = u64::from(deficit.div_ceil(inner.config.client_events_per_sec.max(1)));
            return Err(TriggerError::RateLimited {
                retry_at: inner.now.after(Duration::from_millis(wait)),
            });
        }
        let mask = inner.rng.bytes();
        let name = inner
            .channels
            .get(i)
            .map(|s| s.channel())
            .ok_or(TriggerError::UnknownChannel)?;
        inner
            .tx
            .push_frame(Opcode::Text, mask, CONTROL_RESERVE, |out| {
                encode(out, name, ev)
            })?;
        inner.bucket.milli -= 1000;
        Ok(())
    }
}

impl<'a, const CHANNELS: usize, const NAME: usize> Inner<'a, CHANNELS, NAME> {
    pub(super) fn refill_bucket(&mut self) {
        let rate = u64::from(self.config.client_events_per_sec);
        let cap = rate * 1000;
        let elapsed = self.now.since(self.bucket.at).as_millis();
        self.bucket.milli = self
            .bucket
            .milli
            .saturating_add(elapsed.saturating_mul(rate))
            .min(cap);
        self.bucket.at = self.now;
    }
}
