//! The fault matrix (issue 19), for every driver: a fault-injecting proxy between the client
//! and the dev server resets connections mid-frame, stalls, swallows pongs, injects close
//! codes of each class, refuses connections, trickles bytes; the server also restarts, and
//! the connection faults twenty times in a row. Short client timeouts keep it fast.
//!
//! For every scenario: the client recovers within the bound with every channel (public,
//! private, presence) subscribed again; numbered events sent while it is connected all arrive,
//! once each, in order; its connection attempts stay within the backoff bound; and the user is
//! told (an error line with the cause). Each driver's `tests/fault_matrix.rs` runs these.

use std::time::{Duration, Instant};

use super::faulty::{FaultProxy, Mode};
use super::{Dev, KEY, Log, Server};

/// A driver under test: a client on its own thread (or runtime) that writes one log line
/// per event (`{event} {channel} {data} {user}`), state (`state {State:?}`) and error
/// (`error {error}`), as `ClientThread` does.
pub trait Driver: Sized {
    fn spawn(options: pusher_std::pusher::Options, channels: &[&str], user: &str) -> Self;
    fn log(&self) -> &Log;
    fn stop(self);
    /// Where the client reaches the proxy: loopback, unless the driver runs in a network of
    /// its own (the embassy twin's TAP device).
    fn proxy_ip() -> std::net::IpAddr {
        std::net::Ipv4Addr::LOCALHOST.into()
    }
}

impl Driver for super::ClientThread {
    fn spawn(options: pusher_std::pusher::Options, channels: &[&str], user: &str) -> Self {
        super::ClientThread::spawn(options, channels, Some(user))
    }
    fn log(&self) -> &Log {
        &self.log
    }
    fn stop(self) {
        super::ClientThread::stop(self)
    }
}

const CHANNELS: [&str; 3] = ["public-feed", "private-inbox", "presence-room"];
const RECOVERY: Duration = Duration::from_secs(20);

pub struct Rig<D: Driver> {
    server: Option<Dev>,
    port: u16,
    proxy: FaultProxy,
    client: D,
    next_id: u64,
    sent: Vec<(String, u64)>,
}

impl<D: Driver> Rig<D> {
    fn start() -> Rig<D> {
        let server = Dev::start(pusher_dev_server::Compat::Pusher);
        let port = server.port();
        let proxy = FaultProxy::start(D::proxy_ip(), port);
        let ip = D::proxy_ip().to_string();
        let mut options =
            pusher_std::pusher::Options::host(KEY, &ip, proxy.port, proxy.port, false);
        options.seed = 19;
        options.connect_timeout = Duration::from_secs(2);
        let c = &mut options.client;
        c.activity_timeout = pusher_core::client::Duration::from_millis(1500);
        c.pong_timeout = pusher_core::client::Duration::from_millis(1000);
        c.connect_timeout = pusher_core::client::Duration::from_millis(3000);
        c.backoff_base = pusher_core::client::Duration::from_millis(300);
        c.backoff_cap = pusher_core::client::Duration::from_millis(3000);
        c.stable_after = pusher_core::client::Duration::from_millis(4000);
        let client = D::spawn(options, &CHANNELS, "dev1");
        let rig = Rig {
            server: Some(server),
            port,
            proxy,
            client,
            next_id: 1,
            sent: Vec::new(),
        };
        rig.all_subscribed(1);
        rig
    }

    fn subscriptions(&self, ch: &str) -> usize {
        let needle = format!("pusher:subscription_succeeded {ch} ");
        self.client
            .log()
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with(&needle))
            .count()
    }

    fn wait_for(&self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self
            .client
            .log()
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(needle))
        {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in {:#?}",
                self.client.log().lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Connected again after a disconnect told at log line `since` or later, with every
    /// channel subscribed after the last disconnect. (Disconnects are told as errors; a
    /// driver may coalesce state changes, so the states alone are not enough.)
    fn back(&self, since: usize) -> bool {
        let log = self.client.log().lock().unwrap();
        let down = |l: &String| l.starts_with("error ") || l == "state Connecting";
        let Some(last_down) = log.iter().rposition(down) else {
            return false;
        };
        let last_state = log.iter().rposition(|l| l.starts_with("state "));
        last_down >= since
            && last_state.is_some_and(|i| log[i] == "state Connected")
            && CHANNELS.iter().all(|ch| {
                log[last_down..]
                    .iter()
                    .any(|l| l.starts_with(&format!("pusher:subscription_succeeded {ch} ")))
            })
    }

    /// Waits until [`Rig::back`]; returns how long that took.
    fn wait_back(&self, since: usize) -> Duration {
        let start = Instant::now();
        while !self.back(since) {
            assert!(
                start.elapsed() < RECOVERY,
                "channels not back within {RECOVERY:?}: {:#?}",
                self.client.log().lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        start.elapsed()
    }

    /// Waits until every channel has been subscribed `n` times.
    fn all_subscribed(&self, n: usize) {
        let start = Instant::now();
        while CHANNELS.iter().any(|ch| self.subscriptions(ch) < n) {
            assert!(
                start.elapsed() < RECOVERY,
                "{:#?}",
                self.client.log().lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one numbered event on each channel (over REST, straight to the server).
    fn send_round(&mut self) {
        let rest = self.server.as_ref().unwrap().rest();
        for ch in CHANNELS {
            let id = self.next_id;
            self.next_id += 1;
            rest.trigger(&[ch], "reading", &format!(r#"{{"n":{id}}}"#))
                .unwrap();
            self.sent.push((ch.to_string(), id));
        }
    }

    /// Every sent event arrived exactly once, in order per channel.
    fn check_events(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.client.log().lock().unwrap().clone();
            let mut missing = Vec::new();
            for ch in CHANNELS {
                let got: Vec<u64> = log
                    .iter()
                    .filter_map(|l| l.strip_prefix(&format!("reading {ch} {{\"n\":")))
                    .map(|rest| rest.split('}').next().unwrap().parse().unwrap())
                    .collect();
                let want: Vec<u64> = self
                    .sent
                    .iter()
                    .filter(|(c, _)| c == ch)
                    .map(|(_, id)| *id)
                    .collect();
                let mut dedup = got.clone();
                dedup.dedup();
                assert_eq!(dedup.len(), got.len(), "{ch}: duplicated events {got:?}");
                assert!(
                    got.windows(2).all(|w| w[0] < w[1]),
                    "{ch}: out of order {got:?}"
                );
                if got != want {
                    missing.push((ch, want, got));
                }
            }
            if missing.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "events lost: {missing:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn told(&self, needle: &str) {
        let log = self.client.log().lock().unwrap();
        assert!(
            log.iter()
                .any(|l| l.starts_with("error ") && l.contains(needle)),
            "the user was not told ({needle:?}): {log:#?}"
        );
    }
}

/// Runs one scenario: events before, the fault, recovery, events after.
pub fn scenario<D: Driver>(
    name: &str,
    fault: impl FnOnce(&mut Rig<D>),
    told: &str,
    max_attempts: usize,
) {
    let mut rig = Rig::<D>::start();
    rig.send_round();
    rig.check_events();
    let before = rig.proxy.attempts();
    let since = rig.client.log().lock().unwrap().len();
    let start = Instant::now();
    fault(&mut rig);
    rig.wait_back(since);
    let attempts = rig.proxy.attempts() - before;
    println!(
        "{name}: every channel back {} ms after the fault began, {attempts} connection attempts",
        start.elapsed().as_millis()
    );
    assert!(attempts <= max_attempts, "{name}: {attempts} attempts");
    rig.send_round();
    rig.send_round();
    rig.check_events();
    rig.told(told);
    rig.client.stop();
}

pub fn reset_mid_frame<D: Driver>() {
    scenario::<D>(
        "reset mid-frame",
        |r: &mut Rig<D>| {
            r.proxy.reset_mid_frame();
            r.send_round();
            // The cut event may be lost with the connection: not sent "while connected".
            r.sent.truncate(r.sent.len() - 3);
        },
        "transport lost",
        3,
    );
}

pub fn stall_both_ways<D: Driver>() {
    scenario::<D>(
        "stall",
        |r: &mut Rig<D>| {
            r.proxy.set(Mode::Stall);
            r.wait_for("no answer to ping", Duration::from_secs(10));
            r.proxy.set(Mode::Pass);
        },
        "no answer to ping",
        4,
    );
}

pub fn swallowed_pongs<D: Driver>() {
    scenario::<D>(
        "swallowed pongs",
        |r: &mut Rig<D>| {
            r.proxy.set(Mode::SwallowPongs);
            r.wait_for("no answer to ping", Duration::from_secs(10));
            r.proxy.set(Mode::Pass);
        },
        "no answer to ping",
        4,
    );
}

pub fn close_4100_backs_off<D: Driver>() {
    scenario::<D>(
        "close 4100",
        |r: &mut Rig<D>| r.proxy.close_with(4100),
        "4100",
        3,
    );
}

pub fn close_4201_reconnects_at_once<D: Driver>() {
    scenario::<D>(
        "close 4201",
        |r: &mut Rig<D>| r.proxy.close_with(4201),
        "4201",
        3,
    );
}

pub fn refused_connections_for_three_seconds<D: Driver>() {
    scenario::<D>(
        "refused for 3 s",
        |r: &mut Rig<D>| {
            r.proxy.set(Mode::Refuse);
            r.proxy.drop_all();
            std::thread::sleep(Duration::from_secs(3));
            r.proxy.set(Mode::Pass);
        },
        "transport lost",
        // Backoff from 300 ms capped at 3 s, full jitter: a handful in 3 s.
        12,
    );
}

pub fn server_restart<D: Driver>() {
    scenario::<D>(
        "server restart",
        |r: &mut Rig<D>| {
            drop(r.server.take());
            r.wait_for("state Connecting", Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(500));
            r.server = Some(Dev::start_on(pusher_dev_server::Compat::Pusher, r.port));
        },
        "transport lost",
        12,
    );
}

pub fn twenty_rapid_faults<D: Driver>() {
    scenario::<D>(
        "20 rapid faults",
        |r: &mut Rig<D>| {
            for _ in 0..20 {
                r.proxy.drop_all();
                std::thread::sleep(Duration::from_millis(150));
            }
        },
        "transport lost",
        // At most one attempt per fault, plus the backoff's own after the last.
        30,
    );
}

pub fn trickled_bytes_lose_nothing<D: Driver>() {
    let mut rig = Rig::<D>::start();
    rig.proxy.set(Mode::Trickle);
    let before = rig.proxy.attempts();
    for _ in 0..3 {
        rig.send_round();
    }
    rig.check_events();
    assert_eq!(
        rig.proxy.attempts(),
        before,
        "a 1-byte trickle must not reconnect"
    );
    rig.proxy.set(Mode::Pass);
    rig.client.stop();
}
