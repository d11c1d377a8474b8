//! Randomness from the caller's seed, and reconnect backoff with full jitter.

use super::time::Duration;
use crate::buf::Bytes as _;

/// xorshift64*: a small generator for WebSocket masks, handshake keys and jitter.
///
/// It is seeded (and can be reseeded) by the caller. Masks only need to be unpredictable to
/// scripts sharing a proxy with the client (RFC 6455 section 10.3), which does not apply to a
/// device; seed from a hardware RNG where one exists anyway.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        // Zero is the one fixed point of xorshift; any other seed works.
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    pub(crate) fn mix(&mut self, entropy: u64) {
        *self = Rng::new(self.0 ^ entropy.rotate_left(17));
        self.next_u64();
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from(v.get(..chunk.len()).unwrap_or(&[]));
        }
        out
    }

    /// Uniform in `0..=max` (`max` capped at `u32::MAX - 1` ms, 49 days). Multiply-shift
    /// rather than `%`: no 64-bit division routine on 32-bit MCUs.
    pub(crate) fn up_to(&mut self, max: u64) -> u64 {
        let n = u64::from(u32::try_from(max).unwrap_or(u32::MAX - 1).saturating_add(1));
        (self.next_u64() >> 32).wrapping_mul(n) >> 32
    }
}

/// Exponential backoff with full jitter: the n-th retry waits a uniform time in
/// `0..=min(cap, base * 2^n)`.
///
/// A close that asks for an immediate retry (4200-4299, 4000, a pong timeout) gets one: the
/// next immediate retry before [`Backoff::reset`] (a stable connection, or the app's
/// `connect`) waits like any other, so a server that refuses every connection is not hammered.
#[derive(Debug, Clone, Default)]
pub(crate) struct Backoff {
    attempt: u32,
    immediate_spent: bool,
}

impl Backoff {
    /// The delay for a retry the server asked to be immediate: zero the first time, then
    /// [`Backoff::next_delay`]. Counts as an attempt either way.
    pub(crate) fn immediate(&mut self, base: Duration, cap: Duration, rng: &mut Rng) -> Duration {
        if self.immediate_spent {
            return self.next_delay(base, cap, rng);
        }
        self.immediate_spent = true;
        self.attempt = self.attempt.saturating_add(1);
        Duration::ZERO
    }

    pub(crate) fn next_delay(&mut self, base: Duration, cap: Duration, rng: &mut Rng) -> Duration {
        let ceiling = base
            .as_millis()
            .checked_shl(self.attempt.min(63))
            .filter(|c| *c >> self.attempt.min(63) == base.as_millis())
            .unwrap_or(u64::MAX)
            .min(cap.as_millis());
        self.attempt = self.attempt.saturating_add(1);
        Duration::from_millis(rng.up_to(ceiling))
    }

    pub(crate) fn attempts(&self) -> u32 {
        self.attempt
    }

    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
        self.immediate_spent = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_within_the_exponential_ceiling() {
        let mut rng = Rng::new(42);
        let mut b = Backoff::default();
        let (base, cap) = (Duration::from_millis(1000), Duration::from_secs(30));
        let mut seen_max = [0u64; 12];
        for round in 0..2000 {
            b.reset();
            for (n, max) in seen_max.iter_mut().enumerate() {
                let d = b.next_delay(base, cap, &mut rng).as_millis();
                let ceiling = (1000u64 << n).min(30_000);
                assert!(d <= ceiling, "round {round} attempt {n}: {d} > {ceiling}");
                *max = (*max).max(d);
            }
        }
        // Full jitter reaches close to each ceiling.
        for (n, max) in seen_max.iter().enumerate() {
            let ceiling = (1000u64 << n).min(30_000);
            assert!(
                *max * 10 >= ceiling * 9,
                "attempt {n}: max {max} of {ceiling}"
            );
        }
        // Huge attempt counts do not overflow.
        for _ in 0..200 {
            assert!(b.next_delay(base, cap, &mut rng) <= cap);
        }
    }

    #[test]
    fn an_immediate_retry_is_immediate_once_until_reset() {
        let mut rng = Rng::new(9);
        let mut b = Backoff::default();
        let (base, cap) = (Duration::from_millis(1000), Duration::from_secs(30));
        assert_eq!(b.immediate(base, cap, &mut rng), Duration::ZERO);
        // The next ones back off, with the attempt counted by the first.
        let mut total = 0;
        for n in 1..12u32 {
            let d = b.immediate(base, cap, &mut rng).as_millis();
            assert!(d <= (1000u64 << n).min(30_000), "attempt {n}: {d}");
            total += d;
        }
        assert!(
            total >= 30_000,
            "eleven backed-off retries took only {total} ms"
        );
        b.reset();
        assert_eq!(b.immediate(base, cap, &mut rng), Duration::ZERO);
    }

    #[test]
    fn zero_seed_still_moves() {
        let mut r = Rng::new(0);
        assert_ne!(r.next_u64(), r.next_u64());
        let k: [u8; 16] = r.bytes();
        assert_ne!(k, [0; 16]);
    }
}
