//! The client's configuration: app key, host, timeouts, backoff and limits.

use super::time::Duration;

/// Connection settings. [`Config::new`] gives pusher-js's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config<'a> {
    /// The app key.
    pub app_key: &'a str,
    /// `Host` header: `ws-{cluster}.pusher.com`, or `host:port` for other servers.
    pub host: &'a str,
    /// Path before `/app/{key}` (usually empty).
    pub path_prefix: &'a str,
    /// `client=` query value.
    pub client_name: &'a str,
    /// `version=` query value.
    pub version: &'a str,
    /// Start with TLS (`wss://`). A 4000 close code switches it on.
    pub use_tls: bool,
    /// Ping after this much silence (capped by the server's `activity_timeout`).
    pub activity_timeout: Duration,
    /// How long to wait for anything after a ping.
    pub pong_timeout: Duration,
    /// `Connecting` becomes `Unavailable` after this long.
    pub unavailable_timeout: Duration,
    /// Longest time from opening a transport to `connection_established`.
    pub connect_timeout: Duration,
    /// First backoff ceiling.
    pub backoff_base: Duration,
    /// Largest backoff.
    pub backoff_cap: Duration,
    /// A connection that lasts this long resets the backoff.
    pub stable_after: Duration,
    /// Give up (state `Failed`) after this many failed attempts in a row; `None`: never.
    pub max_attempts: Option<u32>,
    /// Largest message accepted.
    pub max_message: usize,
    /// Client events allowed per second (Pusher's limit is 10).
    pub client_events_per_sec: u32,
}

impl<'a> Config<'a> {
    /// Defaults for an app key and host.
    pub fn new(app_key: &'a str, host: &'a str) -> Self {
        Config {
            app_key,
            host,
            path_prefix: "",
            client_name: "rust-pusher",
            version: env!("CARGO_PKG_VERSION"),
            use_tls: true,
            activity_timeout: Duration::from_secs(120),
            pong_timeout: Duration::from_secs(30),
            unavailable_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(15),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(30),
            stable_after: Duration::from_secs(30),
            max_attempts: None,
            max_message: 16 * 1024,
            client_events_per_sec: 10,
        }
    }
}
