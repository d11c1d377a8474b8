//! Time as the caller tells it: milliseconds on any monotonic clock.

use core::fmt;
use core::num::NonZeroU64;

/// A point in time, in milliseconds since an epoch of the caller's choosing (boot, say).
///
/// Stored off by one in a `NonZeroU64`, so an `Option<Instant>` (every timer of the client)
/// takes eight bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant(NonZeroU64);

impl Default for Instant {
    fn default() -> Self {
        Instant::from_millis(0)
    }
}

impl Instant {
    /// The instant `ms` milliseconds after the epoch (`u64::MAX` saturates one below).
    pub const fn from_millis(ms: u64) -> Self {
        match NonZeroU64::new(ms.saturating_add(1)) {
            Some(v) => Instant(v),
            None => Instant(NonZeroU64::MAX),
        }
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0.get() - 1
    }

    /// `self + d`, saturating.
    // One out-of-line copy on bare metal: a 64-bit saturating add is long on 32-bit cores.
    #[cfg_attr(target_os = "none", inline(never))]
    pub const fn after(self, d: Duration) -> Instant {
        Instant::from_millis(self.as_millis().saturating_add(d.0))
    }

    /// `self - earlier`, or zero if `earlier` is later.
    pub const fn since(self, earlier: Instant) -> Duration {
        Duration(self.as_millis().saturating_sub(earlier.as_millis()))
    }
}

/// A span of time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Duration(u64);

impl Duration {
    /// Zero.
    pub const ZERO: Duration = Duration(0);

    /// `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Duration(ms)
    }

    /// `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        Duration(s.saturating_mul(1000))
    }

    /// Milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0)
    }
}
