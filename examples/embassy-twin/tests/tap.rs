//! The firmware's host twin against a real soketi: pusher-embassy over embassy-net on a TAP
//! device inside a network namespace made here, soketi bound inside the same namespace, events
//! triggered by the official npm `pusher` library. Needs root (namespaces, /dev/net/tun) and
//! the peers `scripts/peers` installs; without them it fails, it never skips.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

const APP_ID: &str = "123456";
const KEY: &str = "app-key";
const SECRET: &str = "app-secret";
const SERVER_IP: &str = "192.168.69.100";
const DEVICE_IP: &str = "192.168.69.2";
const PORT: &str = "6001";
const CHANNELS: [&str; 3] = ["public-twin", "private-twin", "presence-twin"];

fn peers_dir() -> PathBuf {
    let dir = std::env::var_os("PUSHER_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/pusher-rs-peers")
        });
    assert!(
        dir.join("node_modules/.bin/soketi").exists(),
        "soketi is not installed in {}: run scripts/peers (the test script does)",
        dir.display()
    );
    dir
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A network namespace with a TAP device whose kernel side is the server's address. Deleted
/// (with everything still running in it) on drop.
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        assert!(
            std::path::Path::new("/dev/net/tun").exists(),
            "/dev/net/tun is missing: the TAP test needs it (and root)"
        );
        let name = format!("pusher-twin-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "delete", &name]).output();
        run(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns(name);
        ns.ip(&["link", "set", "lo", "up"]);
        ns.ip(&["tuntap", "add", "name", "tap0", "mode", "tap"]);
        ns.ip(&["addr", "add", &format!("{SERVER_IP}/24"), "dev", "tap0"]);
        ns.ip(&["link", "set", "tap0", "up"]);
        ns
    }

    fn ip(&self, args: &[&str]) {
        run(Command::new("ip").args(["-n", &self.0]).args(args));
    }

    /// A command that runs inside the namespace.
    fn exec(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]).arg(program);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("ip").args(["netns", "pids", &self.0]).output() {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .status();
    }
}

/// soketi listening on the TAP's kernel side.
fn start_soketi(ns: &Netns) -> Child {
    let dir = peers_dir();
    let child = ns
        .exec(dir.join("node_modules/.bin/soketi"))
        .arg("start")
        .current_dir(&dir)
        .env("SOKETI_HOST", SERVER_IP)
        .env("SOKETI_PORT", PORT)
        .env("SOKETI_METRICS_HOST", "127.0.0.1")
        .env("SOKETI_DEFAULT_APP_ID", APP_ID)
        .env("SOKETI_DEFAULT_APP_KEY", KEY)
        .env("SOKETI_DEFAULT_APP_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start soketi");
    // Ready when a TCP connect from inside the namespace succeeds.
    let probe = format!(
        "require('net').connect({PORT},'{SERVER_IP}').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ns
            .exec("node")
            .args(["-e", &probe])
            .status()
            .is_ok_and(|s| s.success())
        {
            return child;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    stop(child);
    panic!("soketi did not start inside the namespace");
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The twin's stdout, line by line, with everything seen so far for failure messages.
struct Twin {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Twin {
    fn start(ns: &Netns) -> Twin {
        let mut child = ns
            .exec(env!("CARGO_BIN_EXE_embassy-twin"))
            .args(["tap0", DEVICE_IP, SERVER_IP, PORT, KEY, SECRET, "2"])
            .args(CHANNELS)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the twin");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Twin {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line equal to `want`.
    fn expect(&mut self, want: &str, within: Duration) {
        self.expect_where(|l| l == want, want, within);
    }

    fn expect_where(&mut self, ok: impl Fn(&str) -> bool, what: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let hit = ok(&line);
                    self.seen.push(line);
                    if hit {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no `{what}` within {within:?}; the twin said:\n{}",
                        self.seen.join("\n")
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "the twin exited before `{what}`; it said:\n{}",
                        self.seen.join("\n")
                    )
                }
            }
        }
    }

    fn expect_subscribed(&mut self, within: Duration) {
        let mut want: Vec<String> = CHANNELS.iter().map(|c| format!("subscribed {c}")).collect();
        let deadline = Instant::now() + within;
        while !want.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let pending = want.clone();
            self.expect_where(|l| pending.iter().any(|w| w == l), &want.join(", "), left);
            let last = self.seen.last().cloned().unwrap_or_default();
            want.retain(|w| *w != last);
        }
    }
}

impl Drop for Twin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The official library triggers `event` with `data` on every test channel.
fn trigger(ns: &Netns, event: &str, data: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/trigger.js");
    let out = ns
        .exec("node")
        .arg(script)
        .args([APP_ID, KEY, SECRET, SERVER_IP, PORT, event, data])
        .args(CHANNELS)
        .env("NODE_PATH", peers_dir().join("node_modules"))
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "trigger failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn embassy_net_twin_against_soketi_over_tap() {
    let ns = Netns::new();
    let soketi = start_soketi(&ns);
    let mut twin = Twin::start(&ns);
    twin.expect("net up", Duration::from_secs(10));
    twin.expect("state Connecting Connected", Duration::from_secs(20));
    // Public, private (signed locally) and presence (with channel data) all confirmed.
    twin.expect_subscribed(Duration::from_secs(20));

    // Unicode and quotes survive the official library's double encoding.
    let data = r#"{"n":1,"s":"café \"q\" ✓"}"#;
    trigger(&ns, "twin-event", data);
    for channel in CHANNELS {
        twin.expect(
            &format!("message {channel} twin-event {data}"),
            Duration::from_secs(10),
        );
    }

    // Activity timeout 2 s: the twin pings when idle and soketi answers, twice in a row, and
    // the connection stays up.
    twin.expect("pong", Duration::from_secs(10));
    twin.expect("pong", Duration::from_secs(10));

    // Server restart: the loss is seen, the twin reconnects and resubscribes every channel
    // (private and presence with fresh signatures for the new socket id).
    stop(soketi);
    twin.expect_where(
        |l| l.starts_with("disconnected "),
        "disconnected",
        Duration::from_secs(20),
    );
    let soketi = start_soketi(&ns);
    twin.expect("state Connecting Connected", Duration::from_secs(60));
    twin.expect_subscribed(Duration::from_secs(20));
    let data = r#"{"n":2}"#;
    trigger(&ns, "after-restart", data);
    for channel in CHANNELS {
        twin.expect(
            &format!("message {channel} after-restart {data}"),
            Duration::from_secs(10),
        );
    }
    assert!(
        !twin
            .seen
            .iter()
            .any(|l| l.starts_with("subscription_error") || l.starts_with("error")),
        "errors reported:\n{}",
        twin.seen.join("\n")
    );
    eprintln!("the twin said:\n{}", twin.seen.join("\n"));
    drop(twin);
    stop(soketi);
}
