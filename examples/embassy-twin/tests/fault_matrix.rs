//! The fault matrix (`adapters/std/tests/common/matrix.rs`) for the embassy driver: the
//! firmware's host twin (pusher-embassy over embassy-net on a TAP device) through the same
//! fault proxy, dev server and checks as the std and tokio drivers. Each test runs in a
//! network namespace of its own: the test's thread enters it before the server and proxy
//! start, so they and the twin share it (the proxy listens on the TAP's kernel side). Needs
//! root and /dev/net/tun; without them it fails, it never skips.

#[path = "../../../adapters/std/tests/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use common::matrix::{self, Driver};
use common::{KEY, Log, SECRET};

mod netns;

use netns::Netns;

const DEVICE_IP: &str = "192.168.69.2";

/// The twin as a matrix driver: its stdout lines rewritten into the matrix's log format.
struct Twin {
    child: Child,
    log: Log,
}

/// A failed scenario unwinds past `stop`: the twin must not outlive it.
impl Drop for Twin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One twin line in the matrix's format (`None` for lines the matrix does not read).
fn translate(line: &str) -> Option<String> {
    let (kind, rest) = line.split_once(' ')?;
    Some(match kind {
        "subscribed" => format!("pusher:subscription_succeeded {rest} - -"),
        // `message CHANNEL EVENT DATA`
        "message" => {
            let mut parts = rest.splitn(3, ' ');
            let (channel, event, data) = (parts.next()?, parts.next()?, parts.next()?);
            format!("{event} {channel} {data} -")
        }
        // `state PREVIOUS CURRENT`
        "state" => format!("state {}", rest.split(' ').nth(1)?),
        "disconnected" | "subscription_error" => format!("error {line}"),
        "error" => line.to_string(),
        _ => return None,
    })
}

impl Driver for Twin {
    fn spawn(options: pusher_std::pusher::Options, channels: &[&str], _user: &str) -> Self {
        let c = &options.client;
        let timeouts = [
            c.activity_timeout,
            c.pong_timeout,
            c.connect_timeout,
            c.backoff_base,
            c.backoff_cap,
            c.stable_after,
        ]
        .map(|d| d.as_millis().to_string())
        .join(",");
        let mut child = Command::new(env!("CARGO_BIN_EXE_embassy-twin"))
            .args(["tap0", DEVICE_IP, &options.host])
            .arg(options.ws_port.to_string())
            .args([KEY, SECRET, "120"])
            .args(channels)
            .env("TWIN_TIMEOUTS", timeouts)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the twin");
        let log: Log = Arc::default();
        let (out, l) = (child.stdout.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(entry) = translate(&line) {
                    l.lock().unwrap().push(entry);
                }
            }
        });
        Twin { child, log }
    }

    fn log(&self) -> &Log {
        &self.log
    }

    fn stop(self) {
        // Dropping stops it.
    }

    fn proxy_ip() -> IpAddr {
        netns::SERVER_IP.parse().expect("an address")
    }
}

#[test]
fn reset_mid_frame() {
    let _ns = Netns::enter("reset");
    matrix::reset_mid_frame::<Twin>();
}

#[test]
fn stall_both_ways() {
    let _ns = Netns::enter("stall");
    matrix::stall_both_ways::<Twin>();
}

#[test]
fn swallowed_pongs() {
    let _ns = Netns::enter("pongs");
    matrix::swallowed_pongs::<Twin>();
}

#[test]
fn close_4100_backs_off() {
    let _ns = Netns::enter("4100");
    matrix::close_4100_backs_off::<Twin>();
}

#[test]
fn close_4201_reconnects_at_once() {
    let _ns = Netns::enter("4201");
    matrix::close_4201_reconnects_at_once::<Twin>();
}

#[test]
fn refused_connections_for_three_seconds() {
    let _ns = Netns::enter("refused");
    matrix::refused_connections_for_three_seconds::<Twin>();
}

#[test]
fn server_restart() {
    let _ns = Netns::enter("restart");
    matrix::server_restart::<Twin>();
}

#[test]
fn twenty_rapid_faults() {
    let _ns = Netns::enter("rapid");
    matrix::twenty_rapid_faults::<Twin>();
}

#[test]
fn trickled_bytes_lose_nothing() {
    let _ns = Netns::enter("trickle");
    matrix::trickled_bytes_lose_nothing::<Twin>();
}
