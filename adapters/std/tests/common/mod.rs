//! Test rig: a server on loopback (soketi, or our dev server in any compat mode) and client
//! threads reporting events. The scenarios in `scenarios` run against either.

#![allow(dead_code)]

pub mod faulty;
pub mod matrix;
pub mod proxy;
pub mod scenarios;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pusher_std::auth::LocalSigner;
use pusher_std::pusher::{Buffers, Options, Pusher};
use pusher_std::rest::{Config, Rest};

pub const APP_ID: &str = "123456";
pub const KEY: &str = "app-key";
pub const SECRET: &str = "app-secret";
/// The test app's encryption master key (base64 of 32 bytes).
pub const MASTER_KEY: &str = "zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=";

/// Where `scripts/peers` installed the peers. A missing peer fails the test, never skips it.
pub fn peers_dir() -> PathBuf {
    let dir = std::env::var_os("PUSHER_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME");
            PathBuf::from(home).join(".cache/pusher-rs-peers")
        });
    assert!(
        dir.join("node_modules/.bin/soketi").exists(),
        "soketi is not installed in {}: run scripts/peers (the test script does)",
        dir.display()
    );
    dir
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A soketi process on loopback.
pub struct Soketi {
    child: Child,
    pub port: u16,
    metrics: u16,
}

impl Soketi {
    pub fn start() -> Soketi {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Soketi {
        Self::launch(port, false)
    }

    /// With user authentication on: connections must sign in (or are closed with 4009).
    pub fn start_with_user_auth() -> Soketi {
        Self::launch(free_port(), true)
    }

    /// Over TLS with the given certificate and key files.
    pub fn start_tls(cert: &std::path::Path, key: &std::path::Path) -> Soketi {
        Self::launch_with(free_port(), false, Some((cert, key)))
    }

    fn launch(port: u16, user_auth: bool) -> Soketi {
        Self::launch_with(port, user_auth, None)
    }

    fn launch_with(
        port: u16,
        user_auth: bool,
        tls: Option<(&std::path::Path, &std::path::Path)>,
    ) -> Soketi {
        let dir = peers_dir();
        let metrics = free_port();
        let mut cmd = Command::new(dir.join("node_modules/.bin/soketi"));
        if let Some((cert, key)) = tls {
            cmd.env("SOKETI_SSL_CERT", cert).env("SOKETI_SSL_KEY", key);
        }
        let child = cmd
            .arg("start")
            .current_dir(&dir)
            .env("SOKETI_HOST", "127.0.0.1")
            .env("SOKETI_PORT", port.to_string())
            .env("SOKETI_METRICS_HOST", "127.0.0.1")
            .env("SOKETI_METRICS_SERVER_PORT", metrics.to_string())
            .env("SOKETI_DEFAULT_APP_ID", APP_ID)
            .env("SOKETI_DEFAULT_APP_KEY", KEY)
            .env("SOKETI_DEFAULT_APP_SECRET", SECRET)
            .env("SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES", "true")
            .env(
                "SOKETI_DEFAULT_APP_USER_AUTHENTICATION",
                if user_auth { "true" } else { "false" },
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start soketi");
        let s = Soketi {
            child,
            port,
            metrics,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        if tls.is_some() {
            // The HTTP probe below speaks plain HTTP; for TLS wait for the port to accept.
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    std::thread::sleep(Duration::from_millis(300));
                    return s;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            panic!("soketi (TLS) did not start on port {port}");
        }
        while Instant::now() < deadline {
            if let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut r = String::new();
                let _ = c.read_to_string(&mut r);
                if r.contains("200") {
                    return s;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("soketi did not start on port {port}");
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.metrics;
    }
}

/// What a scenario needs of a server: where it listens and what it does differently.
pub trait Server {
    fn port(&self) -> u16;

    /// Whether `pusher:signin` is answered with `pusher:signin_success` (Reverb has none).
    fn signs_in(&self) -> bool {
        true
    }

    /// Whether `GET /channels?filter_by_prefix=presence-&info=user_count` gives each channel's
    /// `user_count` (soketi 1.6 leaves it out and sends `occupied`/`subscription_count`).
    fn lists_user_count(&self) -> bool {
        true
    }

    /// Whether a trigger with `info` answers with the channels' attributes (soketi 1.6
    /// answers `{"ok":true}` without them).
    fn answers_trigger_info(&self) -> bool {
        true
    }

    fn rest(&self) -> Rest {
        let mut config = Config::new(APP_ID, KEY, SECRET).host("127.0.0.1", self.port(), false);
        // Loopback, whatever proxy the machine's environment names.
        config.proxy = pusher_std::http::ProxyConfig::Off;
        Rest::new(config).unwrap()
    }

    fn options(&self) -> Options {
        let mut o = Options::host(KEY, "127.0.0.1", self.port(), self.port(), false);
        o.seed = u64::from(self.port());
        o
    }
}

impl Server for Soketi {
    fn port(&self) -> u16 {
        self.port
    }

    fn lists_user_count(&self) -> bool {
        false
    }

    fn answers_trigger_info(&self) -> bool {
        false
    }
}

/// Our dev server, with the test credentials.
pub struct Dev(pub pusher_dev_server::DevServer);

impl Dev {
    pub fn start(compat: pusher_dev_server::Compat) -> Dev {
        Self::start_with(pusher_dev_server::Config::default().compat(compat))
    }

    pub fn start_with(config: pusher_dev_server::Config) -> Dev {
        Dev(pusher_dev_server::DevServer::start(config.credentials(APP_ID, KEY, SECRET)).unwrap())
    }

    pub fn start_on(compat: pusher_dev_server::Compat, port: u16) -> Dev {
        Self::start_with(
            pusher_dev_server::Config::default()
                .compat(compat)
                .port(port),
        )
    }
}

impl Server for Dev {
    fn port(&self) -> u16 {
        self.0.port()
    }

    fn signs_in(&self) -> bool {
        self.0.config().compat != pusher_dev_server::Compat::Reverb
    }
}

/// Every compat mode of the dev server.
pub const COMPATS: [pusher_dev_server::Compat; 3] = [
    pusher_dev_server::Compat::Pusher,
    pusher_dev_server::Compat::Soketi,
    pusher_dev_server::Compat::Reverb,
];

impl Drop for Soketi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a client thread saw, one line per event.
pub type Log = Arc<Mutex<Vec<String>>>;

/// Something done with the client on its own thread.
pub type Call = Box<dyn for<'a> FnOnce(&mut Pusher<'a>) -> Result<(), String> + Send>;

pub enum Cmd {
    Trigger(String, String, String),
    Call(Call),
    Subscribe(String),
    Signin,
}

/// A client running on its own thread.
pub struct ClientThread {
    pub log: Log,
    pub socket_id: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
    cmds: Sender<Cmd>,
    handle: Option<JoinHandle<()>>,
}

impl ClientThread {
    pub fn spawn(options: Options, channels: &[&str], user: Option<&str>) -> ClientThread {
        let log: Log = Arc::default();
        let socket_id = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let (cmds, rx): (Sender<Cmd>, Receiver<Cmd>) = channel();
        let channels: Vec<String> = channels.iter().map(|s| s.to_string()).collect();
        let user = user.map(str::to_owned);
        let (log2, sid2, stop2) = (log.clone(), socket_id.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            let mut buffers = Buffers::default();
            let mut p = Pusher::new(&options, &mut buffers).unwrap();
            let mut signer = LocalSigner::new(KEY, SECRET);
            // Encrypted channels get their shared secret from this master key.
            signer.encryption_master_key =
                Some(pusher_core::auth::decode_master_key(MASTER_KEY).unwrap());
            if let Some(u) = &user {
                signer.channel_data = Some(format!(
                    r#"{{"user_id":"{u}","user_info":{{"name":"{u}"}}}}"#
                ));
                signer.user_data = Some(format!(r#"{{"id":"{u}"}}"#));
            }
            p.set_authorizer(signer);
            let l = log2.clone();
            p.bind_global(move |e| {
                l.lock().unwrap().push(format!(
                    "{} {} {} {}",
                    e.event,
                    e.channel.unwrap_or("-"),
                    e.data.unwrap_or("-"),
                    e.user_id.unwrap_or("-")
                ));
            });
            let l = log2.clone();
            p.on_state_change(move |_, cur| l.lock().unwrap().push(format!("state {cur:?}")));
            let l = log2.clone();
            p.on_error(move |e| l.lock().unwrap().push(format!("error {e}")));
            for c in &channels {
                p.subscribe(c).unwrap();
            }
            p.connect();
            while !stop2.load(Ordering::Relaxed) {
                p.run_for(Duration::from_millis(20));
                *sid2.lock().unwrap() = p.socket_id();
                while let Ok(cmd) = rx.try_recv() {
                    let r = match cmd {
                        Cmd::Trigger(c, e, d) => p.trigger(&c, &e, &d).map_err(|e| e.to_string()),
                        Cmd::Subscribe(c) => p.subscribe(&c).map_err(|e| e.to_string()),
                        Cmd::Call(f) => f(&mut p),
                        Cmd::Signin => {
                            p.signin();
                            Ok(())
                        }
                    };
                    if let Err(e) = r {
                        log2.lock().unwrap().push(format!("command failed {e}"));
                    }
                }
            }
            p.disconnect();
        });
        ClientThread {
            log,
            socket_id,
            stop,
            cmds,
            handle: Some(handle),
        }
    }

    pub fn send(&self, cmd: Cmd) {
        self.cmds.send(cmd).unwrap();
    }

    /// Waits until a log line contains `needle`.
    pub fn wait_for(&self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(l) = self.log.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in {:#?}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn count(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    pub fn socket(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = self.socket_id.lock().unwrap().clone() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "never connected: {:#?}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            h.join().unwrap();
        }
    }
}

impl Drop for ClientThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

pub fn peer_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}
