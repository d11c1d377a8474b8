//! What a dev server is started with: the app's credentials, where it listens, which real
//! server it imitates, and Pusher's limits (each one a field, so tests can tighten them).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Which server's observable behaviour to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compat {
    /// Pusher Channels itself: activity_timeout 120, errors as objects, pings as
    /// `pusher:ping` with `"data":{}`.
    #[default]
    Pusher,
    /// soketi 1.6: activity_timeout 30, pong with `"data":{}`, presence hashes leave out
    /// members without `user_info`.
    Soketi,
    /// Laravel Reverb 1.10: activity_timeout 30, `pusher:error` data as a JSON string, no
    /// `data` on ping/pong, no user sign-in (answered with 4200, socket kept), WebSocket
    /// control-frame pings once the client sent a control frame, 10,000-byte messages.
    Reverb,
}

impl Compat {
    /// Parses `pusher`, `soketi` or `reverb`.
    pub fn parse(name: &str) -> Option<Compat> {
        match name {
            "pusher" => Some(Compat::Pusher),
            "soketi" => Some(Compat::Soketi),
            "reverb" => Some(Compat::Reverb),
            _ => None,
        }
    }

    /// The name `parse` reads.
    pub fn name(self) -> &'static str {
        match self {
            Compat::Pusher => "pusher",
            Compat::Soketi => "soketi",
            Compat::Reverb => "reverb",
        }
    }

    /// The `activity_timeout` this server announces by default.
    pub fn activity_timeout(self) -> Duration {
        match self {
            Compat::Pusher => Duration::from_secs(120),
            Compat::Soketi | Compat::Reverb => Duration::from_secs(30),
        }
    }

    /// The largest WebSocket message this server accepts from a client.
    pub fn max_message(self) -> usize {
        match self {
            // Pusher's documented limit is 10 KB of event data; the envelope comes on top.
            Compat::Pusher | Compat::Soketi => 10 * 1024 + 2048,
            Compat::Reverb => 10_000,
        }
    }
}

/// How a dev server is set up. [`Config::default`] is a Pusher-like app on a free loopback port.
///
/// ```
/// use pusher_dev_server::{Compat, Config};
/// let config = Config::default().compat(Compat::Reverb).credentials("1", "key", "secret");
/// assert_eq!(config.activity_timeout.as_secs(), 30);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Where to listen; port 0 picks a free one. Loopback unless you change it.
    pub listen: SocketAddr,
    /// The app id REST paths carry (`/apps/{app_id}/...`).
    pub app_id: String,
    /// The app key clients connect with and REST requests sign with.
    pub key: String,
    /// The app secret every signature is checked against.
    pub secret: String,
    /// Which server to imitate.
    pub compat: Compat,
    /// Announced in `pusher:connection_established`; the server pings a client that stays
    /// silent this long.
    pub activity_timeout: Duration,
    /// How long a pinged client has to answer before it is closed with 4201.
    pub pong_timeout: Duration,
    /// Whether clients may send `client-` events (Pusher's app setting).
    pub client_events: bool,
    /// Whether subscribers get `pusher_internal:subscription_count` (Pusher's app setting).
    pub subscription_count: bool,
    /// Most connections at once; one more is closed with 4100 (4004 for Reverb).
    pub max_connections: usize,
    /// Most channels one connection may be subscribed to (a flood of subscribes is refused).
    pub max_channels_per_connection: usize,
    /// Client events a connection may send per second (Pusher: 10; over it, 4301).
    pub client_event_rate: u32,
    /// Bytes queued for a client that does not read before it is closed (4100).
    pub max_queued_bytes: usize,
    /// Most bytes of a REST request body.
    pub max_body: usize,
    /// Where webhooks are posted (`http://host:port/path`), if anywhere.
    pub webhook_url: Option<String>,
    /// How long webhook events are gathered into one request.
    pub webhook_batch: Duration,
    /// How long an upgrade or REST request may take to send its head (against slow-loris).
    pub header_timeout: Duration,
    /// Worker threads of the server's runtime (for [`crate::DevServer::start`]).
    pub worker_threads: usize,
}

impl Default for Config {
    fn default() -> Self {
        let compat = Compat::Pusher;
        Config {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            app_id: "123456".into(),
            key: "app-key".into(),
            secret: "app-secret".into(),
            compat,
            activity_timeout: compat.activity_timeout(),
            pong_timeout: Duration::from_secs(30),
            client_events: true,
            subscription_count: false,
            max_connections: 100_000,
            max_channels_per_connection: 1000,
            client_event_rate: 10,
            max_queued_bytes: 4 << 20,
            max_body: 256 * 1024,
            webhook_url: None,
            webhook_batch: Duration::from_millis(250),
            header_timeout: Duration::from_secs(10),
            worker_threads: 2,
        }
    }
}

impl Config {
    /// Imitates `compat`, with its default activity timeout.
    pub fn compat(mut self, compat: Compat) -> Self {
        self.compat = compat;
        self.activity_timeout = compat.activity_timeout();
        self
    }

    /// Sets the app id, key and secret.
    pub fn credentials(mut self, app_id: &str, key: &str, secret: &str) -> Self {
        self.app_id = app_id.into();
        self.key = key.into();
        self.secret = secret.into();
        self
    }

    /// Listens on `port` of 127.0.0.1 (0 picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.listen.set_port(port);
        self
    }

    /// Posts webhooks to `url`.
    pub fn webhook(mut self, url: &str) -> Self {
        self.webhook_url = Some(url.into());
        self
    }
}
