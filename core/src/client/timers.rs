//! The client's timers as one table (quinn-proto's style): each deadline has a name, and
//! arming, stopping, expiring and finding the next one work the same way for all of them.

use super::time::Instant;

/// A deadline the client keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// Start the next connection attempt.
    Retry,
    /// Give up on an attempt that has not reached `connection_established`.
    Attempt,
    /// `Connecting` becomes `Unavailable`.
    Unavailable,
    /// Silence long enough to ping.
    Activity,
    /// No answer to the ping.
    Pong,
    /// Connected long enough to reset the backoff.
    Stable,
}

impl Timer {
    /// Every timer, in the order `handle_timeout` expires them.
    pub(super) const ALL: [Timer; 6] = [
        Timer::Stable,
        Timer::Unavailable,
        Timer::Attempt,
        Timer::Pong,
        Timer::Activity,
        Timer::Retry,
    ];
}

/// When each timer fires; `None` when it is not armed. Eight bytes a timer.
#[derive(Debug, Clone, Default)]
pub(super) struct Timers([Option<Instant>; 6]);

impl Timers {
    fn slot(&mut self, t: Timer) -> Option<&mut Option<Instant>> {
        self.0.get_mut(t as usize)
    }

    /// When `t` fires, if armed.
    pub(super) fn get(&self, t: Timer) -> Option<Instant> {
        self.0.get(t as usize).copied().flatten()
    }

    /// Arms (or re-arms) `t` for `at`.
    pub(super) fn set(&mut self, t: Timer, at: Instant) {
        if let Some(s) = self.slot(t) {
            *s = Some(at);
        }
    }

    /// Disarms `t`.
    pub(super) fn stop(&mut self, t: Timer) {
        if let Some(s) = self.slot(t) {
            *s = None;
        }
    }

    /// Disarms every timer.
    pub(super) fn stop_all(&mut self) {
        self.0 = [None; 6];
    }

    /// Disarms `t` and says so if it was due at `now`.
    pub(super) fn expire(&mut self, t: Timer, now: Instant) -> bool {
        let due = self.get(t).is_some_and(|at| at <= now);
        if due {
            self.stop(t);
        }
        due
    }

    /// The earliest armed deadline among those `counts` accepts.
    pub(super) fn next(&self, counts: impl Fn(Timer) -> bool) -> Option<Instant> {
        Timer::ALL
            .into_iter()
            .filter(|t| counts(*t))
            .filter_map(|t| self.get(t))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_expire_and_find_the_next() {
        let ms = Instant::from_millis;
        let mut t = Timers::default();
        assert_eq!(t.next(|_| true), None);
        t.set(Timer::Pong, ms(30));
        t.set(Timer::Retry, ms(10));
        t.set(Timer::Stable, ms(20));
        assert_eq!(t.next(|_| true), Some(ms(10)));
        assert_eq!(t.next(|x| x != Timer::Retry), Some(ms(20)));
        assert!(!t.expire(Timer::Stable, ms(19)));
        assert!(t.expire(Timer::Stable, ms(20)));
        assert_eq!(t.get(Timer::Stable), None);
        t.stop(Timer::Retry);
        assert_eq!(t.next(|_| true), Some(ms(30)));
        t.stop_all();
        assert_eq!(t.next(|_| true), None);
    }
}
