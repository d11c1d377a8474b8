//! Owned notices (state changes, disconnections) queued for `poll_event`.

use super::event::{Event, State};
use super::retry::{Problem, Retry};
use super::time::Duration;

/// Owned notices queued for [`Client::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Notice {
    State(State, State),
    /// The delay in milliseconds, `u32::MAX` for none (keeps the queue small).
    Disconnected(Problem, Retry, u32),
    GaveUp,
}

impl Notice {
    /// The event the app sees (owns nothing, so it can be returned from anywhere).
    pub(super) fn event(self) -> Event<'static> {
        match self {
            Notice::State(previous, current) => Event::StateChanged { previous, current },
            Notice::Disconnected(problem, retry, ms) => Event::Disconnected {
                problem,
                retry,
                retry_in: retry_in(ms),
            },
            Notice::GaveUp => Event::GaveUp,
        }
    }
}

/// A small FIFO; when full, the oldest state change absorbs the next (so the chain of states
/// the app sees stays consistent) and other notices drop the oldest.
#[derive(Debug, Clone)]
pub(super) struct Notices {
    pub(super) items: [Option<Notice>; 3],
    pub(super) head: u8,
    pub(super) len: u8,
}

impl Notices {
    pub(super) fn new() -> Self {
        Notices {
            items: [None; 3],
            head: 0,
            len: 0,
        }
    }

    pub(super) fn push(&mut self, n: Notice) {
        let cap = self.items.len() as u8;
        if self.len == cap {
            // Merge the two oldest if both are state changes, else drop the oldest.
            let first = self.items.get(usize::from(self.head)).copied().flatten();
            let second_at = usize::from((self.head + 1) % cap);
            let second = self.items.get(second_at).copied().flatten();
            if let (Some(Notice::State(a, _)), Some(Notice::State(_, d)), Some(slot)) =
                (first, second, self.items.get_mut(second_at))
            {
                *slot = Some(Notice::State(a, d));
            }
            self.head = (self.head + 1) % cap;
            self.len -= 1;
        }
        let at = usize::from((self.head + self.len) % cap);
        if let Some(slot) = self.items.get_mut(at) {
            *slot = Some(n);
        }
        self.len += 1;
    }

    pub(super) fn pop(&mut self) -> Option<Notice> {
        if self.len == 0 {
            return None;
        }
        let n = self
            .items
            .get_mut(usize::from(self.head))
            .and_then(Option::take);
        self.head = (self.head + 1) % self.items.len() as u8;
        self.len -= 1;
        n
    }
}

pub(super) fn retry_in(ms: u32) -> Option<Duration> {
    (ms != u32::MAX).then(|| Duration::from_millis(u64::from(ms)))
}
