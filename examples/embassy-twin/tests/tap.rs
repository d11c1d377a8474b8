//! The firmware's host twin against a real soketi: pusher-embassy over embassy-net on a TAP
//! device inside a network namespace made here, soketi bound inside the same namespace, events
//! triggered by the official npm `pusher` library. Needs root (namespaces, /dev/net/tun) and
//! the peers `scripts/peers` installs; without them it fails, it never skips.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

mod netns;

use netns::{Netns, SERVER_IP, run};

const APP_ID: &str = "123456";
const KEY: &str = "app-key";
const SECRET: &str = "app-secret";
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

/// soketi listening on the TAP's kernel side, over TLS with `tls`'s certificate and key.
fn start_soketi(ns: &Netns, tls: Option<&Certs>) -> Child {
    let dir = peers_dir();
    let mut cmd = ns.exec(dir.join("node_modules/.bin/soketi"));
    if let Some(certs) = tls {
        cmd.env("SOKETI_SSL_CERT", certs.dir.join("server.pem"))
            .env("SOKETI_SSL_KEY", certs.dir.join("server.key"));
    }
    let child = cmd
        .arg("start")
        .current_dir(&dir)
        .env("SOKETI_HOST", SERVER_IP)
        .env("SOKETI_PORT", PORT)
        .env("SOKETI_METRICS_HOST", "127.0.0.1")
        .env("SOKETI_DEFAULT_APP_ID", APP_ID)
        .env("SOKETI_DEFAULT_APP_KEY", KEY)
        .env("SOKETI_DEFAULT_APP_SECRET", SECRET)
        .env("SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES", "true")
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
    /// The twin, over TLS trusting `ca` (DER) when given.
    fn start(ns: &Netns, ca: Option<&Path>) -> Twin {
        Twin::start_with(ns, ca, &CHANNELS, None)
    }

    /// The twin on `channels`, signing encrypted ones with `master_key` (base64).
    fn start_with(
        ns: &Netns,
        ca: Option<&Path>,
        channels: &[&str],
        master_key: Option<&str>,
    ) -> Twin {
        let mut env = Vec::new();
        if let Some(master) = master_key {
            env.push(("TWIN_MASTER_KEY", master));
        }
        Twin::start_env(ns, ca, channels, &env)
    }

    /// The twin on `channels` with more of its settings in `env`.
    fn start_env(ns: &Netns, ca: Option<&Path>, channels: &[&str], env: &[(&str, &str)]) -> Twin {
        let mut cmd = ns.exec(env!("CARGO_BIN_EXE_embassy-twin"));
        if let Some(ca) = ca {
            cmd.env("TWIN_CA", ca);
        }
        cmd.envs(env.iter().copied())
            .args(["tap0", DEVICE_IP, SERVER_IP, PORT, KEY, SECRET, "2"])
            .args(channels)
            .env("RUST_LOG", "warn");
        Twin::spawn(cmd)
    }

    /// Any process whose stdout the test follows line by line.
    fn spawn(mut cmd: Command) -> Twin {
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
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

    /// Waits for a line equal to `want`, unless one was seen already (for lines whose order
    /// against the others is not fixed).
    fn expect_once(&mut self, want: &str, within: Duration) {
        if !self.seen.iter().any(|l| l == want) {
            self.expect(want, within);
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

/// The official library triggers `event` with `data` on every test channel (over HTTPS
/// trusting `certs`' CA when given).
fn trigger(ns: &Netns, tls: Option<&Certs>, event: &str, data: &str) {
    trigger_on(ns, tls, &CHANNELS, None, event, data);
}

/// The official library triggers `event` on `channels`, sealed with `master_key`'s shared
/// secrets when given.
fn trigger_on(
    ns: &Netns,
    tls: Option<&Certs>,
    channels: &[&str],
    master_key: Option<&str>,
    event: &str,
    data: &str,
) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/trigger.js");
    let mut cmd = ns.exec("node");
    if let Some(certs) = tls {
        cmd.env("TRIGGER_TLS", "1")
            .env("NODE_EXTRA_CA_CERTS", certs.dir.join("ca.pem"));
    }
    if let Some(master) = master_key {
        cmd.env("TRIGGER_MASTER_KEY", master);
    }
    let out = cmd
        .arg(script)
        .args([APP_ID, KEY, SECRET, SERVER_IP, PORT, event, data])
        .args(channels)
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

/// Throwaway certificates for the server's address, made with openssl: a CA, a server
/// certificate it signed (through an intermediate for RSA) and a foreign CA.
struct Certs {
    dir: PathBuf,
}

/// The key type of a [`Certs`] set.
#[derive(Clone, Copy)]
enum KeyKind {
    /// ECDSA P-256, CA signing the server's certificate directly.
    P256,
    /// RSA-2048 throughout, root -> intermediate -> server, the intermediate sent with the
    /// server's certificate: the shape of the chains public services present (Amazon, ISRG).
    Rsa,
}

impl Certs {
    fn new(kind: KeyKind) -> Certs {
        let tag = match kind {
            KeyKind::P256 => "p256",
            KeyKind::Rsa => "rsa",
        };
        let dir =
            std::env::temp_dir().join(format!("pusher-twin-tls-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let ssl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(&dir));
        for key in ["ca.key", "inter.key", "server.key", "other.key"] {
            match kind {
                KeyKind::P256 => ssl(&[
                    "ecparam",
                    "-name",
                    "prime256v1",
                    "-genkey",
                    "-noout",
                    "-out",
                    key,
                ]),
                KeyKind::Rsa => ssl(&[
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                    "-out",
                    key,
                ]),
            }
        }
        let ca = ["req", "-x509", "-new", "-sha256", "-days", "2", "-key"];
        ssl(&[
            &ca[..],
            &[
                "ca.key",
                "-subj",
                &format!("/CN=twin {tag} CA"),
                "-out",
                "ca.pem",
            ],
        ]
        .concat());
        ssl(&[
            &ca[..],
            &["other.key", "-subj", "/CN=other CA", "-out", "other.pem"],
        ]
        .concat());
        // Signs `name`.csr with `issuer` under the extensions in `ext`.
        let sign = |name: &str, subject: &str, issuer: &str, ext: &str| {
            ssl(&[
                "req",
                "-new",
                "-key",
                &format!("{name}.key"),
                "-subj",
                subject,
                "-out",
                &format!("{name}.csr"),
            ]);
            std::fs::write(dir.join(format!("{name}.cnf")), ext).expect("extensions");
            ssl(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-CAcreateserial",
                "-days",
                "2",
                "-sha256",
                "-extfile",
                &format!("{name}.cnf"),
                "-out",
                &format!("{name}.pem"),
            ]);
        };
        let leaf_ext =
            format!("subjectAltName=DNS:{SERVER_IP},IP:{SERVER_IP}\nbasicConstraints=CA:FALSE\n");
        match kind {
            KeyKind::P256 => sign("server", &format!("/CN={SERVER_IP}"), "ca", &leaf_ext),
            KeyKind::Rsa => {
                sign(
                    "inter",
                    "/CN=twin rsa intermediate",
                    "ca",
                    "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n",
                );
                sign("server", &format!("/CN={SERVER_IP}"), "inter", &leaf_ext);
                // What soketi serves: the server's certificate, then the intermediate.
                let chain = [
                    std::fs::read(dir.join("server.pem")).expect("server certificate"),
                    std::fs::read(dir.join("inter.pem")).expect("intermediate"),
                ]
                .concat();
                std::fs::write(dir.join("server.pem"), chain).expect("chain");
            }
        }
        for name in ["ca", "other"] {
            ssl(&[
                "x509",
                "-in",
                &format!("{name}.pem"),
                "-outform",
                "der",
                "-out",
                &format!("{name}.der"),
            ]);
        }
        Certs { dir }
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn embassy_net_twin_over_tls_verifies_the_server() {
    verifies_the_server(KeyKind::P256, "twin-tls");
}

/// RSA roots, as the real service's chain needs (the `tls-rsa` feature).
#[test]
fn embassy_net_twin_over_tls_verifies_an_rsa_chain_through_an_intermediate() {
    verifies_the_server(KeyKind::Rsa, "twin-rsa");
}

/// A foreign CA is refused every time, and so is the right one on a device whose clock is
/// past the certificates' validity; the right one connects, subscribes and receives an
/// HTTPS trigger.
fn verifies_the_server(kind: KeyKind, ns_name: &str) {
    let certs = Certs::new(kind);
    let ns = Netns::new(ns_name);
    let soketi = start_soketi(&ns, Some(&certs));

    // A CA that did not sign the server's certificate: the handshake fails every time.
    let mut stranger = Twin::start(&ns, Some(&certs.dir.join("other.der")));
    for _ in 0..2 {
        stranger.expect_where(
            |l| l.starts_with("disconnected "),
            "disconnected",
            Duration::from_secs(20),
        );
    }
    assert!(
        !stranger
            .seen
            .iter()
            .any(|l| l.contains("Connected") || l.starts_with("subscribed")),
        "connected through an unverified server:\n{}",
        stranger.seen.join("\n")
    );
    // And the app was told why.
    assert!(
        stranger.seen.iter().any(|l| l.starts_with(
            "connect_failed TLS handshake failed: the server's certificate does not verify"
        )),
        "the certificate failure did not reach the app:\n{}",
        stranger.seen.join("\n")
    );
    drop(stranger);

    // The right CA on a device whose clock says it is ten days later: the certificates
    // (valid for two days) have expired, and are refused.
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 10 * 86_400;
    let mut late = Twin::start_env(
        &ns,
        Some(&certs.dir.join("ca.der")),
        &CHANNELS,
        &[("TWIN_CLOCK", &later.to_string())],
    );
    for _ in 0..2 {
        late.expect_where(
            |l| l.starts_with("disconnected "),
            "disconnected",
            Duration::from_secs(20),
        );
    }
    assert!(
        !late
            .seen
            .iter()
            .any(|l| l.contains("Connected") || l.starts_with("subscribed")),
        "connected with expired certificates:\n{}",
        late.seen.join("\n")
    );
    assert!(
        late.seen
            .iter()
            .any(|l| l.contains("outside its validity period")),
        "the expiry did not reach the app:\n{}",
        late.seen.join("\n")
    );
    drop(late);

    // The right CA: wss:// up, channels subscribed, an HTTPS trigger arrives.
    let mut twin = Twin::start(&ns, Some(&certs.dir.join("ca.der")));
    twin.expect("state Connecting Connected", Duration::from_secs(30));
    twin.expect_subscribed(Duration::from_secs(20));
    let data = r#"{"secure":true}"#;
    trigger(&ns, Some(&certs), "tls-event", data);
    for channel in CHANNELS {
        twin.expect(
            &format!("message {channel} tls-event {data}"),
            Duration::from_secs(10),
        );
    }
    twin.expect("pong", Duration::from_secs(10));
    drop(twin);
    stop(soketi);
}

#[test]
fn embassy_net_twin_against_soketi_over_tap() {
    let ns = Netns::new("twin");
    let soketi = start_soketi(&ns, None);
    let mut twin = Twin::start(&ns, None);
    twin.expect("net up", Duration::from_secs(10));
    twin.expect("state Connecting Connected", Duration::from_secs(20));
    // Public, private (signed locally) and presence (with channel data) all confirmed.
    twin.expect_subscribed(Duration::from_secs(20));

    // Unicode and quotes survive the official library's double encoding.
    let data = r#"{"n":1,"s":"café \"q\" ✓"}"#;
    trigger(&ns, None, "twin-event", data);
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
    let soketi = start_soketi(&ns, None);
    twin.expect("state Connecting Connected", Duration::from_secs(60));
    twin.expect_subscribed(Duration::from_secs(20));
    let data = r#"{"n":2}"#;
    trigger(&ns, None, "after-restart", data);
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

/// The twin decrypts what the official npm library seals for an encrypted channel with the
/// same master key (the twin signs with it locally), and reports an event sealed with another
/// key as a decryption error after asking for the channel's key once more, never as data.
#[test]
fn embassy_net_twin_decrypts_the_official_librarys_encrypted_events() {
    const MASTER: &str = "zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=";
    const OTHER: &str = "OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk=";
    const CHANNEL: [&str; 1] = ["private-encrypted-twin"];
    let ns = Netns::new("twin-enc");
    let soketi = start_soketi(&ns, None);
    let mut twin = Twin::start_with(&ns, None, &CHANNEL, Some(MASTER));
    twin.expect("state Connecting Connected", Duration::from_secs(30));
    twin.expect("subscribed private-encrypted-twin", Duration::from_secs(20));
    let data = r#"{"cmd":"open","door":2,"note":"café ✓"}"#;
    trigger_on(&ns, None, &CHANNEL, Some(MASTER), "command", data);
    twin.expect(
        &format!("message private-encrypted-twin command {data}"),
        Duration::from_secs(10),
    );
    trigger_on(&ns, None, &CHANNEL, Some(OTHER), "forged", "{}");
    twin.expect(
        "undecryptable private-encrypted-twin Forged",
        Duration::from_secs(10),
    );
    assert!(
        !twin.seen.iter().any(|l| l.contains(" forged ")),
        "ciphertext handed out:\n{}",
        twin.seen.join("\n")
    );
    drop(twin);
    stop(soketi);
}

/// Production firmware holds no app secret: the twin's `HttpAuthorizer` asks an app backend
/// (Node's http server with the official npm library signing, as apps write it) over a second
/// socket, once per protected channel, and a 403 reaches the app as a subscription error with
/// its status. Another task (the twin's sensor loop) drives the client through the task
/// bridge: it hears the subscriptions and the official library's events, and the client event
/// it sends reaches a pusher-js subscriber.
#[test]
fn embassy_net_twin_signs_through_the_backend_and_bridges_other_tasks() {
    let ns = Netns::new("twin-backend");
    let soketi = start_soketi(&ns, None);
    let peers = peers_dir();
    let node = |script: &str| {
        let mut cmd = ns.exec("node");
        cmd.arg(script).env("NODE_PATH", peers.join("node_modules"));
        cmd
    };
    let mut backend = node(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/peers/backend.js"
    ));
    backend.args([APP_ID, KEY, SECRET, SERVER_IP, "3000"]);
    let mut backend = Twin::spawn(backend);
    backend.expect("LISTENING", Duration::from_secs(10));
    let mut observer = node(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../adapters/std/tests/peers/pusher_js_client_event.js"
    ));
    observer.args([APP_ID, KEY, SECRET, SERVER_IP, PORT, "private-twin"]);
    let mut observer = Twin::spawn(observer);
    observer.expect("READY", Duration::from_secs(20));

    let channels = [&CHANNELS[..], &["private-denied"]].concat();
    let env = [("TWIN_AUTH", "3000/pusher/auth"), ("TWIN_BRIDGE", "1")];
    let mut twin = Twin::start_env(&ns, None, &channels, &env);
    twin.expect_subscribed(Duration::from_secs(30));
    twin.expect_once(
        "subscription_error private-denied Some(403)",
        Duration::from_secs(10),
    );
    twin.expect_once("task sent client-reading", Duration::from_secs(10));
    observer.expect(r#"{"from":"sensor-task"}"#, Duration::from_secs(10));

    let data = r#"{"n":1,"s":"café"}"#;
    trigger(&ns, None, "poke", data);
    for channel in CHANNELS {
        twin.expect(
            &format!("message {channel} poke {data}"),
            Duration::from_secs(10),
        );
    }
    // One request per protected channel, answered as the backend decided.
    let mut asked: Vec<String> = backend.lines.try_iter().collect();
    asked.extend(
        backend
            .seen
            .iter()
            .filter(|l| l.starts_with("AUTH"))
            .cloned(),
    );
    asked.sort();
    assert_eq!(
        asked,
        [
            "AUTH presence-twin 200",
            "AUTH private-denied 403",
            "AUTH private-twin 200"
        ],
        "the twin said:\n{}",
        twin.seen.join("\n")
    );
    drop((twin, observer, backend));
    stop(soketi);
}
