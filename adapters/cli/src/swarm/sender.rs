//! The sender: stamped events over the REST API, one every interval, from its own thread.
//! Each stamp is the monotonic clock just before the request goes out, so any process on
//! this machine (the swarm, or pusher-js in Node, whose `process.hrtime` reads the same
//! clock) measures trigger-to-receive latency against it.

use std::time::{Duration, Instant};

use pusher_std::rest::Rest;

/// What sending did.
#[derive(Default, Clone)]
pub(crate) struct Sent {
    /// Events the server accepted (their indices).
    pub(crate) accepted: Vec<u32>,
    /// Requests that failed, with the first cause.
    pub(crate) failed: u32,
    pub(crate) first_error: Option<String>,
    /// REST round trips (ms), accepted requests only.
    pub(crate) rtt_ms: Vec<f64>,
}

/// The clock stamps are read from (`CLOCK_MONOTONIC`, nanoseconds).
pub(crate) fn monotonic_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    (t.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as u64)
}

/// Sends `count` events named `stamp` to `channel`, one every `interval`, on schedule (a
/// slow request delays only itself), `progress` told after each.
pub(crate) fn send(
    rest: &Rest,
    channel: &str,
    count: u32,
    interval: Duration,
    progress: &dyn Fn(u32),
) -> Sent {
    let mut sent = Sent::default();
    let start = Instant::now();
    for i in 0..count {
        let due = start + interval * i;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let began = Instant::now();
        let data = format!(r#"{{"i":{i},"t":{}}}"#, monotonic_ns());
        match rest.trigger(&[channel], "stamp", &data) {
            Ok(_) => {
                sent.accepted.push(i);
                sent.rtt_ms.push(began.elapsed().as_secs_f64() * 1e3);
            }
            Err(e) => {
                sent.failed += 1;
                sent.first_error.get_or_insert_with(|| e.to_string());
            }
        }
        progress(i + 1);
    }
    sent
}
