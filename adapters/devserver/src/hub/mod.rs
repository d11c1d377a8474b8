//! The server's state: connections, channels with their subscribers and presence members,
//! signed-in users and their watchers, cached events. Every change happens under one lock and
//! sends its frames while holding it, so every subscriber sees the same order of events.
//!
//! The hub does no I/O: it queues frames on [`Outbox`]es and webhook events on a channel.

mod channels;
mod events;
mod query;
mod users;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::activity::{Activity, Observer};
use crate::config::{Compat, Config};
use crate::frames;
use crate::outbox::Outbox;
use crate::webhooks::HookEvent;

pub use channels::MAX_CHANNEL_NAME;
pub use events::MAX_EVENT_DATA;

/// A connection's number inside the hub (socket ids are for the wire).
pub type ConnId = u64;

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverCapacity;

/// The shared state. See the module docs.
pub struct Hub {
    cfg: Arc<Config>,
    observer: Option<Observer>,
    hooks: Option<mpsc::UnboundedSender<HookEvent>>,
    conns: HashMap<ConnId, Conn>,
    channels: HashMap<String, Channel>,
    /// Signed-in user id (as in JSON, escaped) -> its connections.
    users: HashMap<String, Vec<ConnId>>,
    /// User id -> the connections watching it.
    watchers: HashMap<String, HashSet<ConnId>>,
    cache: HashMap<String, Cached>,
    next: ConnId,
    /// The first half of every socket id, different per server start.
    prefix: u32,
}

struct Conn {
    socket_id: String,
    out: Outbox,
    /// Signed-in user id.
    user: Option<String>,
    watchlist: Vec<String>,
    /// Subscribed channel -> its presence member id.
    channels: HashMap<String, Option<String>>,
    /// Start of the current one-second window and the client events sent in it.
    rate: (Instant, u32),
}

#[derive(Default)]
struct Channel {
    subscribers: HashSet<ConnId>,
    /// Presence members by id (as in JSON), in a stable order.
    members: BTreeMap<String, Member>,
}

struct Member {
    info: Option<String>,
    /// How many of the user's connections are subscribed.
    sockets: u32,
}

struct Cached {
    event: String,
    data: String,
    at: Instant,
}

/// How long a cache channel keeps its last event (Pusher: 30 minutes).
const CACHE_TTL_SECS: u64 = 30 * 60;

impl Hub {
    /// A hub for `cfg`, reporting to `observer` and queueing webhook events on `hooks`.
    pub fn new(
        cfg: Arc<Config>,
        observer: Option<Observer>,
        hooks: Option<mpsc::UnboundedSender<HookEvent>>,
    ) -> Hub {
        let prefix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos() % 1_000_000 + 1);
        Hub {
            cfg,
            observer,
            hooks,
            conns: HashMap::new(),
            channels: HashMap::new(),
            users: HashMap::new(),
            watchers: HashMap::new(),
            cache: HashMap::new(),
            next: 0,
            prefix,
        }
    }

    /// Admits a connection; returns its number and socket id.
    pub fn connect(&mut self, out: Outbox) -> Result<(ConnId, String), OverCapacity> {
        if self.conns.len() >= self.cfg.max_connections {
            return Err(OverCapacity);
        }
        self.next += 1;
        let id = self.next;
        let socket_id = format!("{}.{}", self.prefix, id);
        self.conns.insert(
            id,
            Conn {
                socket_id: socket_id.clone(),
                out,
                user: None,
                watchlist: Vec::new(),
                channels: HashMap::new(),
                rate: (Instant::now(), 0),
            },
        );
        Ok((id, socket_id))
    }

    /// Forgets a connection: leaves its channels (members removed, channels vacated) and
    /// takes its user offline when it was the user's last connection.
    pub fn disconnect(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let channels: Vec<String> = conn.channels.keys().cloned().collect();
        for channel in channels {
            self.unsubscribe(id, &channel);
        }
        self.sign_out(id);
        self.conns.remove(&id);
    }

    /// How many connections are open.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// The compat mode.
    fn compat(&self) -> Compat {
        self.cfg.compat
    }

    fn observe(&self, activity: Activity) {
        if let Some(o) = &self.observer {
            o(&activity);
        }
    }

    fn hook(&self, event: HookEvent) {
        if let Some(h) = &self.hooks {
            let _ = h.send(event);
        }
    }

    fn send(&self, id: ConnId, frame: Bytes) {
        if let Some(c) = self.conns.get(&id) {
            c.out.send(frame);
        }
    }

    /// Sends `pusher:error` to one connection (and says so).
    pub fn error(&self, id: ConnId, code: Option<u16>, message: &str) {
        let Some(c) = self.conns.get(&id) else {
            return;
        };
        c.out.send(frames::error(self.compat(), code, message));
        self.observe(Activity::ClientError {
            socket_id: c.socket_id.clone(),
            code,
            message: message.into(),
        });
    }

    /// Answers a client's `pusher:ping`.
    pub fn pong(&self, id: ConnId) {
        self.send(id, frames::heartbeat(self.compat(), true));
    }

    fn socket_id(&self, id: ConnId) -> String {
        self.conns
            .get(&id)
            .map(|c| c.socket_id.clone())
            .unwrap_or_default()
    }
}

/// A JSON string's raw contents, unescaped by the core (user ids are rarely escaped at all).
pub fn plain(raw: &str) -> String {
    let raw = pusher_core::wire::json::RawStr::new(raw);
    if let Some(s) = raw.as_str() {
        return s.to_owned();
    }
    let mut out = vec![0u8; raw.raw().len()];
    raw.unescape_into(&mut out)
        .map_or_else(|_| raw.raw().to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests;
