//! Ending a connection and scheduling the next attempt by the close code's policy.

use super::event::State;
use super::machine::{Inner, Phase};
use super::notices::Notice;
use super::retry::{Problem, Retry};
use super::time::Duration;
use super::timers::Timer;

impl<'a, const CHANNELS: usize, const NAME: usize> Inner<'a, CHANNELS, NAME> {
    /// Starts a connection attempt: an `Open` action is owed.
    pub(super) fn begin_attempt(&mut self) {
        self.timers.stop(Timer::Retry);
        self.phase = Phase::OpenWanted;
        self.timers
            .set(Timer::Attempt, self.now.after(self.config.connect_timeout));
        if self.timers.get(Timer::Unavailable).is_none() && self.state != State::Unavailable {
            self.timers.set(
                Timer::Unavailable,
                self.now.after(self.config.unavailable_timeout),
            );
        }
        if self.state != State::Unavailable {
            self.set_state(State::Connecting);
        }
    }

    /// Starts the scheduled retry once its time has come and the old transport is gone.
    pub(super) fn maybe_start_retry(&mut self) {
        if self.timers.get(Timer::Retry).is_some_and(|t| t <= self.now)
            && !self.transport_up
            && self.phase == Phase::Idle
        {
            self.begin_attempt();
        }
    }

    /// Ends the current connection or attempt and applies the reconnect policy.
    pub(super) fn end(&mut self, problem: Problem, retry: Retry) {
        if matches!(self.phase, Phase::Idle | Phase::Closing) && self.state == State::Disconnected {
            return;
        }
        let was_connected = self.phase == Phase::Established;
        self.timers.stop(Timer::Activity);
        self.timers.stop(Timer::Pong);
        self.timers.stop(Timer::Attempt);
        self.timers.stop(Timer::Stable);
        self.handshake = None;
        self.ping_due = false;
        self.pongs_due = 0;
        if self.transport_up || self.phase == Phase::Opening {
            self.close_wanted = true;
            self.phase = Phase::Closing;
        } else {
            self.phase = Phase::Idle;
        }
        if was_connected {
            self.reset_channels();
        } else {
            self.socket_id.clear();
        }
        let mut retry = retry;
        let (base, cap) = (self.config.backoff_base, self.config.backoff_cap);
        let delay = match retry {
            Retry::Never => None,
            Retry::Now => Some(self.backoff.immediate(base, cap, &mut self.rng)),
            Retry::Tls => {
                self.use_tls = true;
                Some(self.backoff.immediate(base, cap, &mut self.rng))
            }
            Retry::Backoff => {
                let d = self.backoff.next_delay(base, cap, &mut self.rng);
                Some(if matches!(problem, Problem::Closed(4100..=4199)) {
                    d.max(Duration::from_secs(1))
                } else {
                    d
                })
            }
        };
        if retry != Retry::Never
            && self
                .config
                .max_attempts
                .is_some_and(|max| self.backoff.attempts() >= max && !was_connected)
        {
            retry = Retry::Never;
            self.notices
                .push(Notice::Disconnected(problem, retry, u32::MAX));
            self.notices.push(Notice::GaveUp);
            self.timers.stop(Timer::Retry);
            self.timers.stop(Timer::Unavailable);
            self.set_state(State::Failed);
            return;
        }
        let ms = delay.map_or(u32::MAX, |d| {
            u32::try_from(d.as_millis()).unwrap_or(u32::MAX - 1)
        });
        self.notices.push(Notice::Disconnected(problem, retry, ms));
        match delay {
            None => {
                self.timers.stop(Timer::Retry);
                self.timers.stop(Timer::Unavailable);
                self.set_state(State::Disconnected);
            }
            Some(d) => {
                self.timers.set(Timer::Retry, self.now.after(d));
                if self.state == State::Connected {
                    self.timers.set(
                        Timer::Unavailable,
                        self.now.after(self.config.unavailable_timeout),
                    );
                    self.set_state(State::Connecting);
                }
            }
        }
    }
}
