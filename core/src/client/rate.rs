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
            .and_then(|s| s.channel())
            .ok_or(TriggerError::UnknownChannel)?;
        inner
            .tx
            .push_frame(Opcode::Text, mask, CONTROL_RESERVE, |out| {
                message::client_event(out, name, ev, data)
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
