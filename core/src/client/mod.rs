//! The sans-IO Pusher client: a deterministic state machine driven by bytes, time and
//! randomness, with no I/O of its own.
//!
//! ```text
//!   app/driver                      Client
//!   connect(now)            ──▶  wants a transport         ◀── poll_action(): Open{tls}
//!   (open TCP/TLS)
//!   handle_connected(now)   ──▶  upgrade request queued    ◀── poll_transmit()/consume_tx(n)
//!   rx_buffer()/commit_rx(n, now) ──▶ frames parsed lazily ◀── poll_event(): Event<'_>
//!   handle_timeout(now)     ──▶  pings, pong and connect timeouts, retries
//!   handle_closed(now)      ──▶  reconnect policy          ◀── poll_timeout(): next deadline
//! ```
//!
//! * Lifecycle as pusher-js: `Initialized`, `Connecting`, `Connected`, `Unavailable` (still
//!   trying after 10 s), `Disconnected` (by the app or a refusing close code), `Failed` (gave
//!   up after the configured number of attempts). Each transition is a
//!   [`Event::StateChanged`].
//! * Liveness: the activity timer is `min(config, server activity_timeout)`; any received
//!   byte resets it; on expiry a `pusher:ping` goes out and a pong (or anything) must come
//!   within the pong timeout, else the connection is dropped and redialed at once.
//! * Reconnects follow the close code ([`retry_for`]); backoff is exponential with full jitter
//!   from the caller's seed and is reset after a stable connection (or by `connect`).
//!   A retry the server asks to be immediate (4000, 4200-4299, and a pong timeout) is
//!   immediate once: until the backoff is reset, the next one backs off like a lost
//!   transport, whether the close came during the handshake or after it.
//! * Subscriptions are kept across reconnects; protected channels are re-authorized for every
//!   new socket id ([`Event::AuthRequired`] carries it, and stale answers are refused).
//!
//! Nothing here allocates: the receive, transmit and presence buffers belong to the caller,
//! and the client state itself fits in well under a kilobyte with the default capacities.

mod backoff;
mod channels;
mod presence;
mod time;
mod tx;

#[cfg(test)]
mod tests;

use core::fmt;

pub use channels::ChannelState;
pub use presence::{MAX_ID as MAX_MEMBER_ID, StoreFull};
pub use time::{Duration, Instant};

use crate::buf::Bytes as _;
use backoff::{Backoff, Rng};
use channels::{Due, Table};
use presence::Store;
use tx::{CONTROL_RESERVE, Tx};

use crate::auth::{Credentials, Signature};
use crate::buf::{BufferTooSmall, Status};
use crate::name::{
    ChannelKind, ChannelName, EventName, NameError, SERVER_TO_USER_PREFIX, SocketId, UserId,
};
use crate::wire::event::{EventError, ServerMessage};
use crate::wire::handshake::{ClientHandshake, HandshakeError, RequestParams};
use crate::wire::json::{Kind, RawStr, Value};
use crate::wire::message::{self, EncodeError, Payload, Token};
use crate::wire::ws::{self, CloseFrame, Opcode, Reader, Role, WsError};

/// Longest socket id kept (two 64-bit numbers and a dot fit).
pub const MAX_SOCKET_ID: usize = 48;

/// Whether the presence member store is built in (the `presence` feature). Checked as a
/// constant, so both configurations are type-checked and the unused one is compiled out.
const PRESENCE: bool = cfg!(feature = "presence");

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

/// Connection state, with pusher-js's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum State {
    /// Created, `connect` not called yet.
    Initialized,
    /// Trying to connect (also while waiting to retry).
    Connecting,
    /// `connection_established` received; the socket id is known.
    Connected,
    /// Still trying after the unavailable timeout.
    Unavailable,
    /// Closed on purpose (by the app or a refusing close code); no retries.
    Disconnected,
    /// Gave up after `max_attempts`.
    Failed,
}

/// What the driver must do with the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Open a connection (TLS when `tls`) and call [`Client::handle_connected`], or
    /// [`Client::handle_closed`] if it fails.
    Open {
        /// `wss://` rather than `ws://`.
        tls: bool,
    },
    /// Close the transport (after sending what [`Client::poll_transmit`] still holds), then
    /// call [`Client::handle_closed`].
    Close,
}

/// What a close code asks of the client (Pusher protocol, "Error Codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Retry {
    /// 4001-4099 and 4300 up: do not reconnect; the app must change something.
    Never,
    /// 4100-4199, standard codes and transport loss: reconnect after a backoff.
    Backoff,
    /// 4200-4299: reconnect at once (once; repeated, it backs off).
    Now,
    /// 4000: reconnect at once over TLS (once; repeated, it backs off).
    Tls,
}

/// The reconnect policy for a close code.
pub fn retry_for(code: u16) -> Retry {
    match code {
        4000 => Retry::Tls,
        4001..=4099 => Retry::Never,
        4100..=4199 => Retry::Backoff,
        4200..=4299 => Retry::Now,
        // pusher-js refuses every code from 4300 up.
        4300.. => Retry::Never,
        _ => Retry::Backoff,
    }
}

/// Why a connection (or an attempt) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Problem {
    /// The server closed with this code (or sent it in `pusher:error` during the handshake).
    Closed(u16),
    /// The server closed without a code.
    ClosedWithoutCode,
    /// The transport went away.
    TransportLost,
    /// The HTTP upgrade failed.
    Handshake(HandshakeError),
    /// The server broke the WebSocket protocol.
    Protocol(WsError),
    /// The first message was not `connection_established`.
    InvalidHandshake,
    /// Nothing came back after a ping.
    PongTimeout,
    /// No `connection_established` within the connect timeout.
    ConnectTimeout,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Closed(code) => write!(f, "closed by the server with code {code}"),
            Problem::ClosedWithoutCode => f.write_str("closed by the server"),
            Problem::TransportLost => f.write_str("transport lost"),
            Problem::Handshake(e) => write!(f, "upgrade failed: {e}"),
            Problem::Protocol(e) => write!(f, "protocol violation: {e}"),
            Problem::InvalidHandshake => {
                f.write_str("first message was not connection_established")
            }
            Problem::PongTimeout => f.write_str("no answer to ping"),
            Problem::ConnectTimeout => f.write_str("connect timed out"),
        }
    }
}

/// Something the app should know. Borrowed data lives in the client's buffers until the
/// next call that mutates the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event<'a> {
    /// The connection state changed.
    StateChanged {
        /// Before.
        previous: State,
        /// Now.
        current: State,
    },
    /// A connection or attempt ended; `retry_in` says when the next attempt starts.
    Disconnected {
        /// Why.
        problem: Problem,
        /// What the policy decided.
        retry: Retry,
        /// Delay before the next attempt, when there is one.
        retry_in: Option<Duration>,
    },
    /// Gave up after `max_attempts` (state `Failed`).
    GaveUp,
    /// A `pusher:error` (4301 rate limit, 4302 watchlist, auth rejections...).
    Error {
        /// Code, when the server gave one.
        code: Option<u16>,
        /// Message text, still JSON-escaped.
        message: RawStr<'a>,
    },
    /// A text frame that is not a valid Pusher message (the connection stays up).
    Malformed(EventError),
    /// A protected channel needs auth for this socket id: answer with
    /// [`Client::provide_auth`] (or [`Client::authorize_locally`]) or [`Client::auth_failed`].
    AuthRequired {
        /// The channel.
        channel: &'a str,
        /// The socket id to sign for.
        socket_id: &'a str,
    },
    /// Sign-in was requested: answer with [`Client::provide_user_auth`].
    SigninRequired {
        /// The socket id to sign for.
        socket_id: &'a str,
    },
    /// The server confirmed a subscription (presence members are loaded).
    Subscribed {
        /// The channel.
        channel: &'a str,
    },
    /// A subscription failed: the server refused it, or the app reported an auth failure
    /// (with the auth endpoint's HTTP status, if it answered).
    SubscriptionError {
        /// The channel.
        channel: &'a str,
        /// HTTP-like status, when known.
        status: Option<u16>,
    },
    /// A channel event (or client event, or an unknown protocol event).
    Message {
        /// Event name, decoded.
        event: &'a str,
        /// Channel, if any.
        channel: Option<&'a str>,
        /// Payload: decoded string contents, or raw JSON of a non-string `data`.
        data: Option<&'a str>,
        /// Sender's user id (client events on presence channels).
        user_id: Option<&'a str>,
    },
    /// A presence member joined (or, with `new: false`, was announced again: no double count).
    MemberAdded {
        /// The channel.
        channel: &'a str,
        /// User id (as written in JSON).
        id: &'a str,
        /// `user_info` JSON.
        info: &'a str,
        /// False when the id was already a member.
        new: bool,
    },
    /// A presence member left.
    MemberRemoved {
        /// The channel.
        channel: &'a str,
        /// User id.
        id: &'a str,
    },
    /// The presence store is full: a member was announced but not recorded.
    PresenceOverflow {
        /// The channel.
        channel: &'a str,
    },
    /// `pusher_internal:subscription_count`.
    SubscriptionCount {
        /// The channel.
        channel: &'a str,
        /// Subscribers.
        count: u64,
    },
    /// `pusher:cache_miss`: a cache channel had nothing cached.
    CacheMiss {
        /// The channel.
        channel: &'a str,
    },
    /// Sign-in succeeded; the `#server-to-user-` channel is being subscribed.
    SignedIn {
        /// The user data the server accepted, still JSON-escaped.
        user_data: RawStr<'a>,
    },
    /// `pusher_internal:watchlist_events`: the `events` array.
    Watchlist {
        /// `[{"name":"online","user_ids":[...]}, ...]`
        events: Value<'a>,
    },
    /// The server pinged (`pusher:ping`); the pong is queued.
    Ping,
    /// The server answered a ping.
    Pong,
}

/// The fields of a channel event ([`Event::Message`]), as handlers that bind to event names
/// see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EventData<'a> {
    /// Event name.
    pub event: &'a str,
    /// Channel, if any.
    pub channel: Option<&'a str>,
    /// Payload: decoded string contents, or raw JSON of a non-string `data`.
    pub data: Option<&'a str>,
    /// Sender's user id (client events on presence channels).
    pub user_id: Option<&'a str>,
}

impl<'a> Event<'a> {
    /// The fields of an [`Event::Message`]; `None` for every other event.
    pub fn message(&self) -> Option<EventData<'a>> {
        match *self {
            Event::Message {
                event,
                channel,
                data,
                user_id,
            } => Some(EventData {
                event,
                channel,
                data,
                user_id,
            }),
            _ => None,
        }
    }
}

/// Misuse of the API, or no room to queue a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClientError {
    /// An invalid channel, event or user name.
    Name(NameError),
    /// Channel names starting with `#` are the client's own.
    ReservedChannel,
    /// The channel table is full, or the name is longer than its slots.
    NoChannelSlot,
    /// The channel is not in the table.
    UnknownChannel,
    /// Not connected (no socket id yet).
    NotConnected,
    /// The answer was computed for another socket id (the connection changed meanwhile).
    StaleSocketId,
    /// The channel is not waiting for auth.
    NotAwaitingAuth,
    /// Presence channels need `channel_data` with a `user_id`.
    BadChannelData,
    /// `user_data` must be JSON with a valid string `id`.
    BadUserData,
    /// Client events need a subscribed private or presence channel (not encrypted).
    ClientEventsNotAllowed,
    /// The channel is not subscribed yet.
    NotSubscribed,
    /// More client events than the per-second limit; retry at `retry_at`.
    RateLimited {
        /// When one more event is allowed.
        retry_at: Instant,
    },
    /// The payload declared as JSON is not valid JSON.
    InvalidJson,
    /// Presence channels need the `presence` feature of this crate.
    PresenceDisabled,
    /// The transmit buffer is full; `needed` bytes would hold this message.
    BufferFull(BufferTooSmall),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Name(e) => e.fmt(f),
            ClientError::ReservedChannel => {
                f.write_str("channel names starting with '#' are reserved")
            }
            ClientError::NoChannelSlot => {
                f.write_str("no free channel slot (or the name is too long for one)")
            }
            ClientError::UnknownChannel => f.write_str("channel not subscribed"),
            ClientError::NotConnected => f.write_str("not connected"),
            ClientError::StaleSocketId => {
                f.write_str("auth was computed for an earlier connection")
            }
            ClientError::NotAwaitingAuth => f.write_str("channel is not waiting for auth"),
            ClientError::BadChannelData => {
                f.write_str("presence channel_data must be JSON with user_id")
            }
            ClientError::BadUserData => {
                f.write_str("user_data must be JSON with a valid string id")
            }
            ClientError::ClientEventsNotAllowed => f.write_str(
                "client events need a private or presence channel that is not encrypted",
            ),
            ClientError::NotSubscribed => f.write_str("channel not subscribed yet"),
            ClientError::RateLimited { retry_at } => write!(
                f,
                "client event rate limit, retry at {} ms",
                retry_at.as_millis()
            ),
            ClientError::InvalidJson => f.write_str("payload is not valid JSON"),
            ClientError::PresenceDisabled => {
                f.write_str("presence channels need the `presence` feature")
            }
            ClientError::BufferFull(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for ClientError {}

impl From<BufferTooSmall> for ClientError {
    fn from(e: BufferTooSmall) -> Self {
        ClientError::BufferFull(e)
    }
}

impl From<EncodeError> for ClientError {
    fn from(e: EncodeError) -> Self {
        match e {
            EncodeError::BufferTooSmall(b) => ClientError::BufferFull(b),
            EncodeError::InvalidJson(_) => ClientError::InvalidJson,
            EncodeError::NotClientEvent => ClientError::Name(NameError::NotClientEvent),
            EncodeError::ClientEventsNotAllowed => ClientError::ClientEventsNotAllowed,
        }
    }
}

impl From<NameError> for ClientError {
    fn from(e: NameError) -> Self {
        ClientError::Name(e)
    }
}

/// Where the transport stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No transport, none wanted.
    Idle,
    /// An `Open` action is owed.
    OpenWanted,
    /// `Open` delivered; waiting for `handle_connected`.
    Opening,
    /// Upgrade request sent; waiting for `101`.
    Upgrading,
    /// Upgraded; waiting for `connection_established`.
    AwaitingEstablished,
    /// Connected.
    Established,
    /// This connection is over; waiting for the transport to close.
    Closing,
}

/// Owned notices queued for [`Client::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notice {
    State(State, State),
    /// The delay in milliseconds, `u32::MAX` for none (keeps the queue small).
    Disconnected(Problem, Retry, u32),
    GaveUp,
}

impl Notice {
    /// The event the app sees (owns nothing, so it can be returned from anywhere).
    fn event(self) -> Event<'static> {
        match self {
            Notice::State(previous, current) => Event::StateChanged { previous, current },
            Notice::Disconnected(problem, retry, ms) => Event::Disconnected {
                problem,
                retry,
                retry_in: retry_in(ms),
            },
            Notice::GaveUp => Event::GaveUp,
        }
    }
}

/// A small FIFO; when full, the oldest state change absorbs the next (so the chain of states
/// the app sees stays consistent) and other notices drop the oldest.
#[derive(Debug, Clone)]
struct Notices {
    items: [Option<Notice>; 3],
    head: u8,
    len: u8,
}

impl Notices {
    fn new() -> Self {
        Notices {
            items: [None; 3],
            head: 0,
            len: 0,
        }
    }

    fn push(&mut self, n: Notice) {
        let cap = self.items.len() as u8;
        if self.len == cap {
            // Merge the two oldest if both are state changes, else drop the oldest.
            let first = self.items.get(usize::from(self.head)).copied().flatten();
            let second_at = usize::from((self.head + 1) % cap);
            let second = self.items.get(second_at).copied().flatten();
            if let (Some(Notice::State(a, _)), Some(Notice::State(_, d)), Some(slot)) =
                (first, second, self.items.get_mut(second_at))
            {
                *slot = Some(Notice::State(a, d));
            }
            self.head = (self.head + 1) % cap;
            self.len -= 1;
        }
        let at = usize::from((self.head + self.len) % cap);
        if let Some(slot) = self.items.get_mut(at) {
            *slot = Some(n);
        }
        self.len += 1;
    }

    fn pop(&mut self) -> Option<Notice> {
        if self.len == 0 {
            return None;
        }
        let n = self
            .items
            .get_mut(usize::from(self.head))
            .and_then(Option::take);
        self.head = (self.head + 1) % self.items.len() as u8;
        self.len -= 1;
        n
    }
}

/// Sign-in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signin {
    Off,
    /// Wanted; a `SigninRequired` event is owed once connected.
    Due,
    /// `SigninRequired` delivered; waiting for the app's answer.
    Waiting,
    /// `pusher:signin` sent.
    Sent,
    /// `signin_success` received.
    Done,
}

/// Client event budget: a token bucket in thousandths of an event.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    milli: u64,
    at: Instant,
}

/// The client. `CHANNELS` subscriptions of names up to `NAME` bytes are kept inline.
///
/// The entry points that decode, sign or check the handshake are `#[inline(never)]`, as are
/// their heavy helpers: their frames then sit side by side instead of adding up in the
/// caller's, which keeps one client step under 1 KiB of stack on Cortex-M (`scripts/footprint`
/// measures it under QEMU).
pub struct Client<'a, const CHANNELS: usize = 8, const NAME: usize = 48> {
    reader: Reader<&'a mut [u8]>,
    inner: Inner<'a, CHANNELS, NAME>,
}

struct Inner<'a, const CHANNELS: usize, const NAME: usize> {
    config: Config<'a>,
    rng: Rng,
    state: State,
    phase: Phase,
    tx: Tx<'a>,
    members: Store<'a>,
    channels: Table<CHANNELS, NAME>,
    notices: Notices,
    backoff: Backoff,
    use_tls: bool,
    handshake: Option<ClientHandshake>,
    socket_id: [u8; MAX_SOCKET_ID],
    socket_id_len: u8,
    now: Instant,
    retry_at: Option<Instant>,
    attempt_deadline: Option<Instant>,
    unavailable_at: Option<Instant>,
    activity_at: Option<Instant>,
    pong_by: Option<Instant>,
    stable_at: Option<Instant>,
    activity: Duration,
    transport_up: bool,
    close_wanted: bool,
    close_frame: Option<u16>,
    ping_due: bool,
    pongs_due: u8,
    signin: Signin,
    bucket: Bucket,
}

impl<'a, const CHANNELS: usize, const NAME: usize> Client<'a, CHANNELS, NAME> {
    /// A client with its buffers: `rx` bounds the largest frame, `tx` queues outgoing frames
    /// (a few hundred bytes suffice unless the app sends large client events), `presence`
    /// holds presence members (may be empty; unused without the `presence` feature). `seed`
    /// feeds masks, keys and jitter.
    pub fn new(
        config: Config<'a>,
        rx: &'a mut [u8],
        tx: &'a mut [u8],
        presence: &'a mut [u8],
        seed: u64,
    ) -> Self {
        let max = config.max_message;
        Client {
            reader: Reader::new(rx, Role::Client, max),
            inner: Inner {
                config,
                rng: Rng::new(seed),
                state: State::Initialized,
                phase: Phase::Idle,
                tx: Tx::new(tx),
                members: Store::new(presence),
                channels: Table::new(),
                notices: Notices::new(),
                backoff: Backoff::default(),
                use_tls: config.use_tls,
                handshake: None,
                socket_id: [0; MAX_SOCKET_ID],
                socket_id_len: 0,
                now: Instant::default(),
                retry_at: None,
                attempt_deadline: None,
                unavailable_at: None,
                activity_at: None,
                pong_by: None,
                stable_at: None,
                activity: config.activity_timeout,
                transport_up: false,
                close_wanted: false,
                close_frame: None,
                ping_due: false,
                pongs_due: 0,
                signin: Signin::Off,
                bucket: Bucket {
                    milli: u64::from(config.client_events_per_sec) * 1000,
                    at: Instant::default(),
                },
            },
        }
    }

    /// Mixes more entropy into the generator (call with fresh hardware randomness at will).
    pub fn reseed(&mut self, entropy: u64) {
        self.inner.rng.mix(entropy);
    }

    /// The connection state.
    pub fn state(&self) -> State {
        self.inner.state
    }

    /// The socket id of the current connection.
    pub fn socket_id(&self) -> Option<&str> {
        self.inner.socket_id()
    }

    /// A subscription's state.
    pub fn channel_state(&self, name: &str) -> Option<ChannelState> {
        let i = self.inner.channels.find(name)?;
        self.inner.channels.get(i).map(|s| s.state)
    }

    /// Members of a presence channel: `(user id, user_info JSON)`.
    pub fn members(&self, channel: &str) -> impl Iterator<Item = (&str, &str)> + '_ {
        let slot = self
            .inner
            .channels
            .find(channel)
            .and_then(|i| u8::try_from(i).ok());
        slot.into_iter().flat_map(|s| self.inner.members.members(s))
    }

    /// Number of members of a presence channel.
    pub fn member_count(&self, channel: &str) -> usize {
        self.inner
            .slot_u8(channel)
            .map_or(0, |s| self.inner.members.count(s))
    }

    /// A member's `user_info`.
    pub fn member(&self, channel: &str, id: &str) -> Option<&str> {
        self.inner.members.get(self.inner.slot_u8(channel)?, id)
    }

    /// This client's own user id on a presence channel (from its `channel_data`).
    pub fn me(&self, channel: &str) -> Option<&str> {
        self.inner.members.me(self.inner.slot_u8(channel)?)
    }

    /// Size of the client state in bytes, buffers excluded.
    pub const STATE_SIZE: usize = core::mem::size_of::<Self>();

    // ---- lifecycle -------------------------------------------------------------------

    /// Starts connecting (from any state; a no-op while connecting or connected).
    pub fn connect(&mut self, now: Instant) {
        self.inner.now = now;
        match self.inner.state {
            State::Connecting | State::Connected | State::Unavailable => {}
            State::Initialized | State::Disconnected | State::Failed => {
                self.inner.backoff.reset();
                self.inner.begin_attempt();
            }
        }
    }

    /// Closes the connection on purpose and cancels any pending reconnect. Subscriptions
    /// are kept for the next `connect`.
    pub fn disconnect(&mut self, now: Instant) {
        self.inner.now = now;
        self.inner.clear_timers();
        if self.inner.transport_up && self.inner.phase != Phase::Closing {
            if matches!(self.inner.phase, Phase::Upgrading) {
                self.inner.close_wanted = true;
            } else {
                self.inner.close_frame = Some(1000);
            }
        } else if self.inner.phase == Phase::Opening {
            self.inner.close_wanted = true;
        }
        self.inner.phase = if self.inner.transport_up || self.inner.phase == Phase::Opening {
            Phase::Closing
        } else {
            Phase::Idle
        };
        self.inner.reset_channels();
        self.inner.set_state(State::Disconnected);
    }

    /// The driver's transport is open: the upgrade request is queued.
    #[inline(never)]
    pub fn handle_connected(&mut self, now: Instant) {
        self.inner.now = now;
        self.inner.transport_up = true;
        if self.inner.phase != Phase::Opening {
            // Not asked for (disconnected meanwhile): close it again.
            self.inner.close_wanted = true;
            return;
        }
        self.reader.reset();
        self.inner.tx.clear();
        let hs = ClientHandshake::new(self.inner.rng.bytes());
        let params = RequestParams {
            host: self.inner.config.host,
            path_prefix: self.inner.config.path_prefix,
            app_key: self.inner.config.app_key,
            client: self.inner.config.client_name,
            version: self.inner.config.version,
        };
        let written = self
            .inner
            .tx
            .push_raw(|out| match hs.write_request(out, &params) {
                Ok(n) => Ok(n),
                Err(HandshakeError::BufferTooSmall(e)) => Err(e),
                Err(_) => Err(BufferTooSmall { needed: usize::MAX }),
            });
        match written {
            Ok(()) => {
                self.inner.handshake = Some(hs);
                self.inner.phase = Phase::Upgrading;
            }
            Err(e) => {
                let problem = match hs.write_request(&mut [], &params) {
                    Err(HandshakeError::InvalidParameter(p)) => HandshakeError::InvalidParameter(p),
                    _ => HandshakeError::BufferTooSmall(e),
                };
                // Bad configuration: retrying cannot help.
                self.inner.end(Problem::Handshake(problem), Retry::Never);
            }
        }
    }

    /// The transport closed (or failed to open).
    pub fn handle_closed(&mut self, now: Instant) {
        self.inner.now = now;
        self.inner.transport_up = false;
        self.inner.close_wanted = false;
        self.inner.close_frame = None;
        self.inner.tx.clear();
        self.reader.reset();
        match self.inner.phase {
            Phase::Idle | Phase::OpenWanted => {}
            Phase::Closing => self.inner.phase = Phase::Idle,
            Phase::Opening | Phase::Upgrading | Phase::AwaitingEstablished | Phase::Established => {
                self.inner.end(Problem::TransportLost, Retry::Backoff);
                self.inner.phase = Phase::Idle;
            }
        }
        self.inner.maybe_start_retry();
    }

    /// Deadlines passed: pings, pong and connect timeouts, retries, the unavailable state.
    pub fn handle_timeout(&mut self, now: Instant) {
        let inner = &mut self.inner;
        inner.now = now;
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if due(inner.stable_at) {
            inner.stable_at = None;
            inner.backoff.reset();
        }
        if due(inner.unavailable_at) {
            inner.unavailable_at = None;
            if inner.state == State::Connecting {
                inner.set_state(State::Unavailable);
            }
        }
        if due(inner.attempt_deadline) {
            inner.attempt_deadline = None;
            inner.end(Problem::ConnectTimeout, Retry::Backoff);
        }
        if due(inner.pong_by) {
            inner.pong_by = None;
            inner.end(Problem::PongTimeout, Retry::Now);
        }
        if due(inner.activity_at) {
            inner.activity_at = None;
            if inner.phase == Phase::Established {
                inner.ping_due = true;
                inner.pong_by = Some(now.after(inner.config.pong_timeout));
            }
        }
        inner.maybe_start_retry();
    }

    /// The next deadline; call [`Client::handle_timeout`] when it passes.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let i = &self.inner;
        // A retry waits for the old transport to close; until then it is not a deadline.
        let retry = i
            .retry_at
            .filter(|_| i.phase == Phase::Idle && !i.transport_up);
        [
            retry,
            i.attempt_deadline,
            i.unavailable_at,
            i.activity_at,
            i.pong_by,
            i.stable_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// What to do with the transport; call until `None` after every call into the client.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        let inner = &mut self.inner;
        if inner.close_wanted
            && inner.close_frame.is_none()
            && (inner.tx.is_empty() || inner.phase != Phase::Closing)
        {
            inner.close_wanted = false;
            if inner.transport_up || inner.phase == Phase::Opening || inner.phase == Phase::Closing
            {
                return Some(Action::Close);
            }
        }
        if inner.phase == Phase::OpenWanted && !inner.transport_up {
            inner.phase = Phase::Opening;
            return Some(Action::Open { tls: inner.use_tls });
        }
        None
    }

    // ---- bytes -----------------------------------------------------------------------

    /// Free space to receive into (empty only when a frame larger than the buffer arrives,
    /// which [`Client::poll_event`] reports).
    pub fn rx_buffer(&mut self) -> &mut [u8] {
        self.reader.spare()
    }

    /// `n` bytes were received into [`Client::rx_buffer`]. Any byte counts as activity.
    #[inline(never)]
    pub fn commit_rx(&mut self, n: usize, now: Instant) {
        self.inner.now = now;
        self.reader.commit(n);
        if n > 0 && self.inner.phase == Phase::Established {
            self.inner.activity_at = Some(now.after(self.inner.activity));
            self.inner.pong_by = None;
        }
    }

    /// Bytes to send; after writing some, call [`Client::consume_tx`]. Call again until
    /// `None` after every call into the client.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<&[u8]> {
        self.inner.fill_tx();
        let pending = self.inner.tx.pending();
        if pending.is_empty() {
            None
        } else {
            Some(pending)
        }
    }

    /// `n` bytes of [`Client::poll_transmit`] were sent.
    pub fn consume_tx(&mut self, n: usize) {
        self.inner.tx.consume(n);
    }

    /// The next event; call until `None` after receiving bytes or any other call. Received
    /// frames are parsed here, one at a time.
    #[inline(never)]
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        if let Some(n) = self.inner.notices.pop() {
            return Some(n.event());
        }
        if let Some(i) = self.inner.channels.take_flag(|s| &mut s.auth_due) {
            let channel = self.inner.channels.get(i).map_or("", |s| s.name());
            let socket_id = self.inner.socket_id().unwrap_or("");
            return Some(Event::AuthRequired { channel, socket_id });
        }
        if let Some(i) = self.inner.channels.take_flag(|s| &mut s.error_due) {
            let (channel, status) = self
                .inner
                .channels
                .get(i)
                .map_or(("", 0), |s| (s.name(), s.error_status));
            return Some(Event::SubscriptionError {
                channel,
                status: (status != 0).then_some(status),
            });
        }
        if self.inner.signin == Signin::Due && self.inner.phase == Phase::Established {
            self.inner.signin = Signin::Waiting;
            return Some(Event::SigninRequired {
                socket_id: self.inner.socket_id().unwrap_or(""),
            });
        }
        if !matches!(
            self.inner.phase,
            Phase::Upgrading | Phase::AwaitingEstablished | Phase::Established
        ) {
            return None;
        }
        if self.inner.phase == Phase::Upgrading {
            let hs = self.inner.handshake?;
            match hs.parse_response(self.reader.unread()) {
                Ok(Status::Partial) => return None,
                Ok(Status::Complete((), n)) => {
                    self.reader.skip(n);
                    self.inner.phase = Phase::AwaitingEstablished;
                }
                Err(e) => {
                    let retry = match e {
                        HandshakeError::Status(401 | 403 | 404) => Retry::Never,
                        _ => Retry::Backoff,
                    };
                    self.inner.end(Problem::Handshake(e), retry);
                    return self.poll_notice();
                }
            }
        }
        // Control frames are handled here; the first text message leaves the loop.
        let ready = loop {
            match self.reader.next_message() {
                Ok(None) => return None,
                Err(e) => {
                    self.inner.close_frame = Some(e.close_code());
                    self.inner.end(Problem::Protocol(e), Retry::Backoff);
                    return self.poll_notice();
                }
                Ok(Some(r)) => match r.opcode {
                    Opcode::Text => break r,
                    Opcode::Ping => {
                        let payload = self.reader.payload(r);
                        self.inner.send_control(Opcode::Ping, payload);
                    }
                    Opcode::Close => {
                        let code = ws::parse_close(self.reader.payload(r))
                            .ok()
                            .flatten()
                            .map(|c| c.code);
                        self.inner.on_close_frame(code);
                        return self.poll_notice();
                    }
                    Opcode::Pong | Opcode::Binary | Opcode::Continuation => {}
                },
            }
        };
        let msg = ServerMessage::decode_in_place(self.reader.payload_mut(ready));
        Some(self.inner.on_message(msg))
    }

    fn poll_notice(&mut self) -> Option<Event<'_>> {
        self.inner.notices.pop().map(Notice::event)
    }

    // ---- subscriptions ---------------------------------------------------------------

    /// Subscribes (queued while disconnected). Protected channels raise
    /// [`Event::AuthRequired`] once connected. Subscribing twice is a no-op.
    pub fn subscribe(&mut self, name: &str) -> Result<(), ClientError> {
        let channel = ChannelName::with_max_len(name, crate::name::CHANNEL_NAME_MAX_LIMIT)?;
        if channel.kind() == ChannelKind::ServerToUser {
            return Err(ClientError::ReservedChannel);
        }
        if !PRESENCE && channel.kind().is_presence() {
            return Err(ClientError::PresenceDisabled);
        }
        if self.inner.channels.find(name).is_some() {
            return Ok(());
        }
        let i = self
            .inner
            .channels
            .insert(name)
            .ok_or(ClientError::NoChannelSlot)?;
        if self.inner.phase == Phase::Established {
            self.inner.start_subscription(i);
        }
        Ok(())
    }

    /// Unsubscribes (the `pusher:unsubscribe` is sent when connected).
    pub fn unsubscribe(&mut self, name: &str) -> Result<(), ClientError> {
        let i = self
            .inner
            .channels
            .find(name)
            .ok_or(ClientError::UnknownChannel)?;
        if PRESENCE && let Ok(slot) = u8::try_from(i) {
            self.inner.members.clear_channel(slot);
        }
        let Some(s) = self.inner.channels.get_mut(i) else {
            return Err(ClientError::UnknownChannel);
        };
        let on_server = matches!(
            s.state,
            ChannelState::Subscribing | ChannelState::Subscribed
        );
        if on_server && self.inner.phase == Phase::Established {
            s.due = Due::Unsubscribe;
            s.auth_due = false;
        } else {
            self.inner.channels.free(i);
        }
        Ok(())
    }

    /// Answers [`Event::AuthRequired`]: `auth` is `key:signature`; presence channels also
    /// need the exact `channel_data` that was signed. Sends the subscription.
    pub fn provide_auth(
        &mut self,
        channel: &str,
        socket_id: &str,
        auth: &str,
        channel_data: Option<&str>,
    ) -> Result<(), ClientError> {
        self.send_subscription(channel, socket_id, Token::Text(auth), channel_data)
    }

    /// Queues the subscription for an answered auth request.
    fn send_subscription(
        &mut self,
        channel: &str,
        socket_id: &str,
        auth: Token<'_>,
        channel_data: Option<&str>,
    ) -> Result<(), ClientError> {
        let inner = &mut self.inner;
        let i = inner.check_auth_answer(channel, socket_id)?;
        let slot = inner.channels.get(i).ok_or(ClientError::UnknownChannel)?;
        let name = slot.channel().ok_or(ClientError::UnknownChannel)?;
        let me = if PRESENCE && slot.kind().is_presence() {
            let data = channel_data.ok_or(ClientError::BadChannelData)?;
            let v = Value::parse(data).map_err(|_| ClientError::BadChannelData)?;
            let id = v.get("user_id").ok_or(ClientError::BadChannelData)?;
            match id.kind() {
                Kind::String => id.as_raw_str().map(|s| s.raw()),
                Kind::Number => Some(id.raw()),
                _ => None,
            }
            .ok_or(ClientError::BadChannelData)?
        } else {
            if channel_data.is_some() {
                return Err(ClientError::BadChannelData);
            }
            ""
        };
        let mask = inner.rng.bytes();
        inner
            .tx
            .push_frame(Opcode::Text, mask, CONTROL_RESERVE, |out| {
                message::subscribe_with(out, name, Some(auth), channel_data)
            })?;
        if let (Ok(s), false) = (u8::try_from(i), me.is_empty()) {
            // Without room for `me` presence still works; only `me()` is unknown.
            let _ = inner.members.set_me(s, me);
        }
        if let Some(s) = inner.channels.get_mut(i) {
            s.state = ChannelState::Subscribing;
        }
        Ok(())
    }

    /// Signs the auth locally with the app secret (for trusted devices and tests) and sends
    /// the subscription. `channel_data` for presence channels.
    #[inline(never)]
    pub fn authorize_locally(
        &mut self,
        channel: &str,
        creds: &Credentials<'_>,
        channel_data: Option<&str>,
    ) -> Result<(), ClientError> {
        // A copy, so the client can be borrowed mutably while signing.
        let (socket, len) = self.inner.socket_id_copy()?;
        let sid = core::str::from_utf8(socket.get(..len).unwrap_or(&[]))
            .map_err(|_| ClientError::NotConnected)?;
        let name = ChannelName::with_max_len(channel, crate::name::CHANNEL_NAME_MAX_LIMIT)?;
        let signature = sign_channel(creds, SocketId::new(sid)?, name, channel_data);
        // Written into the frame as `key:hex`: no token buffer.
        let token = Token::Signed(creds.key(), &signature.0);
        self.send_subscription(channel, sid, token, channel_data)
    }

    /// Answers [`Event::AuthRequired`] with a failure (the auth endpoint refused, failed or
    /// timed out; `status` is its HTTP status, if it answered). The app gets an
    /// [`Event::SubscriptionError`] with that status; the channel is retried after the next
    /// reconnect.
    pub fn auth_failed(
        &mut self,
        channel: &str,
        socket_id: &str,
        status: Option<u16>,
    ) -> Result<(), ClientError> {
        let i = self.inner.check_auth_answer(channel, socket_id)?;
        if let Some(s) = self.inner.channels.get_mut(i) {
            s.state = ChannelState::Failed;
            s.error_due = true;
            s.error_status = status.unwrap_or(0);
        }
        Ok(())
    }

    /// Triggers a client event on a subscribed private or presence channel, at most
    /// `client_events_per_sec` per second (the clock is the last `now` given to the client).
    pub fn trigger(
        &mut self,
        channel: &str,
        event: &str,
        data: Payload<'_>,
    ) -> Result<(), ClientError> {
        let inner = &mut self.inner;
        let ev = EventName::client(event)?;
        let i = inner
            .channels
            .find(channel)
            .ok_or(ClientError::UnknownChannel)?;
        let (kind, state) = inner
            .channels
            .get(i)
            .map(|s| (s.kind(), s.state))
            .ok_or(ClientError::UnknownChannel)?;
        if !kind.allows_client_events() {
            return Err(ClientError::ClientEventsNotAllowed);
        }
        if inner.phase != Phase::Established {
            return Err(ClientError::NotConnected);
        }
        if state != ChannelState::Subscribed {
            return Err(ClientError::NotSubscribed);
        }
        inner.refill_bucket();
        if inner.bucket.milli < 1000 {
            // 32-bit arithmetic: the deficit is below 1000.
            let deficit = u32::try_from(1000 - inner.bucket.milli).unwrap_or(1000);
            let wait = u64::from(deficit.div_ceil(inner.config.client_events_per_sec.max(1)));
            return Err(ClientError::RateLimited {
                retry_at: inner.now.after(Duration::from_millis(wait)),
            });
        }
        let mask = inner.rng.bytes();
        let name = inner
            .channels
            .get(i)
            .and_then(|s| s.channel())
            .ok_or(ClientError::UnknownChannel)?;
        inner
            .tx
            .push_frame(Opcode::Text, mask, CONTROL_RESERVE, |out| {
                message::client_event(out, name, ev, data)
            })?;
        inner.bucket.milli -= 1000;
        Ok(())
    }

    // ---- sign-in ---------------------------------------------------------------------

    /// Asks to sign in: [`Event::SigninRequired`] follows once connected (and after every
    /// reconnect).
    pub fn signin(&mut self) {
        if self.inner.signin == Signin::Off || self.inner.signin == Signin::Waiting {
            self.inner.signin = Signin::Due;
        }
    }

    /// Answers [`Event::SigninRequired`] with `auth` (`key:signature` over
    /// `socket_id::user::user_data`) and the exact signed `user_data`.
    pub fn provide_user_auth(
        &mut self,
        socket_id: &str,
        auth: &str,
        user_data: &str,
    ) -> Result<(), ClientError> {
        self.send_signin(socket_id, Token::Text(auth), user_data)
    }

    /// Queues `pusher:signin` for an answered sign-in request.
    fn send_signin(
        &mut self,
        socket_id: &str,
        auth: Token<'_>,
        user_data: &str,
    ) -> Result<(), ClientError> {
        let inner = &mut self.inner;
        if inner.phase != Phase::Established {
            return Err(ClientError::NotConnected);
        }
        if inner.socket_id() != Some(socket_id) {
            return Err(ClientError::StaleSocketId);
        }
        let v = Value::parse(user_data).map_err(|_| ClientError::BadUserData)?;
        let id = v
            .get("id")
            .and_then(|v| v.as_raw_str())
            .map(|s| s.raw())
            .ok_or(ClientError::BadUserData)?;
        let user = UserId::new(id).map_err(|_| ClientError::BadUserData)?;
        // Reserve the server-to-user channel now, so success cannot find the table full.
        let mut name = [0u8; SERVER_TO_USER_PREFIX.len() + crate::name::USER_ID_MAX];
        let prefix = SERVER_TO_USER_PREFIX.len();
        name.get_mut(..prefix)
            .ok_or(ClientError::NoChannelSlot)?
            .copy_from(SERVER_TO_USER_PREFIX.as_bytes());
        name.get_mut(prefix..prefix + user.as_str().len())
            .ok_or(ClientError::NoChannelSlot)?
            .copy_from(user.as_str().as_bytes());
        let name = core::str::from_utf8(name.get(..prefix + user.as_str().len()).unwrap_or(&[]))
            .map_err(|_| ClientError::BadUserData)?;
        if let Some(old) = inner
            .channels
            .slots
            .iter()
            .position(|s| s.used && s.internal)
        {
            inner.channels.free(old);
        }
        let i = inner
            .channels
            .insert(name)
            .ok_or(ClientError::NoChannelSlot)?;
        if let Some(s) = inner.channels.get_mut(i) {
            s.internal = true;
        }
        let mask = inner.rng.bytes();
        if let Err(e) = inner
            .tx
            .push_frame(Opcode::Text, mask, CONTROL_RESERVE, |out| {
                message::signin_with(out, auth, user_data)
            })
        {
            inner.channels.free(i);
            return Err(e.into());
        }
        inner.signin = Signin::Sent;
        Ok(())
    }

    /// Signs in locally with the app secret.
    pub fn signin_locally(
        &mut self,
        creds: &Credentials<'_>,
        user_data: &str,
    ) -> Result<(), ClientError> {
        // A copy, so the client can be borrowed mutably while signing.
        let (socket, len) = self.inner.socket_id_copy()?;
        let sid = core::str::from_utf8(socket.get(..len).unwrap_or(&[]))
            .map_err(|_| ClientError::NotConnected)?;
        let signature = sign_user(creds, SocketId::new(sid)?, user_data);
        self.send_signin(sid, Token::Signed(creds.key(), &signature.0), user_data)
    }
}

/// Signing apart from the client's step, so HMAC's blocks never share a frame with the
/// decoder's (the deepest stack is the larger of the two, not their sum).
#[inline(never)]
fn sign_channel(
    creds: &Credentials<'_>,
    socket_id: SocketId<'_>,
    channel: ChannelName<'_>,
    channel_data: Option<&str>,
) -> Signature {
    creds.channel_signature(socket_id, channel, channel_data)
}

/// See [`sign_channel`].
#[inline(never)]
fn sign_user(creds: &Credentials<'_>, socket_id: SocketId<'_>, user_data: &str) -> Signature {
    creds.user_signature(socket_id, user_data)
}

impl<'a, const CHANNELS: usize, const NAME: usize> Inner<'a, CHANNELS, NAME> {
    fn socket_id(&self) -> Option<&str> {
        if self.socket_id_len == 0 {
            return None;
        }
        core::str::from_utf8(self.socket_id.get(..usize::from(self.socket_id_len))?).ok()
    }

    fn socket_id_copy(&self) -> Result<([u8; MAX_SOCKET_ID], usize), ClientError> {
        let sid = self.socket_id().ok_or(ClientError::NotConnected)?;
        let mut copy = [0u8; MAX_SOCKET_ID];
        copy.get_mut(..sid.len())
            .ok_or(ClientError::NotConnected)?
            .copy_from(sid.as_bytes());
        Ok((copy, sid.len()))
    }

    fn slot_u8(&self, channel: &str) -> Option<u8> {
        u8::try_from(self.channels.find(channel)?).ok()
    }

    fn set_state(&mut self, next: State) {
        if self.state != next {
            self.notices.push(Notice::State(self.state, next));
            self.state = next;
        }
    }

    fn clear_timers(&mut self) {
        self.retry_at = None;
        self.attempt_deadline = None;
        self.unavailable_at = None;
        self.activity_at = None;
        self.pong_by = None;
        self.stable_at = None;
    }

    /// Every channel back to `Pending`, members forgotten, the internal channel dropped.
    fn reset_channels(&mut self) {
        for i in 0..CHANNELS {
            let Some(s) = self.channels.get_mut(i) else {
                continue;
            };
            if s.internal || s.due == Due::Unsubscribe {
                self.channels.free(i);
            } else {
                s.state = ChannelState::Pending;
                s.due = Due::Nothing;
                s.auth_due = false;
            }
            if PRESENCE && let Ok(slot) = u8::try_from(i) {
                self.members.clear_channel(slot);
            }
        }
        if self.signin != Signin::Off {
            self.signin = Signin::Due;
        }
        self.socket_id_len = 0;
    }

    /// Starts a connection attempt: an `Open` action is owed.
    fn begin_attempt(&mut self) {
        self.retry_at = None;
        self.phase = Phase::OpenWanted;
        self.attempt_deadline = Some(self.now.after(self.config.connect_timeout));
        if self.unavailable_at.is_none() && self.state != State::Unavailable {
            self.unavailable_at = Some(self.now.after(self.config.unavailable_timeout));
        }
        if self.state != State::Unavailable {
            self.set_state(State::Connecting);
        }
    }

    /// Starts the scheduled retry once its time has come and the old transport is gone.
    fn maybe_start_retry(&mut self) {
        if self.retry_at.is_some_and(|t| t <= self.now)
            && !self.transport_up
            && self.phase == Phase::Idle
        {
            self.begin_attempt();
        }
    }

    /// Ends the current connection or attempt and applies the reconnect policy.
    fn end(&mut self, problem: Problem, retry: Retry) {
        if matches!(self.phase, Phase::Idle | Phase::Closing) && self.state == State::Disconnected {
            return;
        }
        let was_connected = self.phase == Phase::Established;
        self.activity_at = None;
        self.pong_by = None;
        self.attempt_deadline = None;
        self.stable_at = None;
        self.handshake = None;
        self.ping_due = false;
        self.pongs_due = 0;
        if self.transport_up || self.phase == Phase::Opening {
            self.close_wanted = true;
            self.phase = Phase::Closing;
        } else {
            self.phase = Phase::Idle;
        }
        if was_connected {
            self.reset_channels();
        } else {
            self.socket_id_len = 0;
        }
        let mut retry = retry;
        let (base, cap) = (self.config.backoff_base, self.config.backoff_cap);
        let delay = match retry {
            Retry::Never => None,
            Retry::Now => Some(self.backoff.immediate(base, cap, &mut self.rng)),
            Retry::Tls => {
                self.use_tls = true;
                Some(self.backoff.immediate(base, cap, &mut self.rng))
            }
            Retry::Backoff => {
                let d = self.backoff.next_delay(base, cap, &mut self.rng);
                Some(if matches!(problem, Problem::Closed(4100..=4199)) {
                    d.max(Duration::from_secs(1))
                } else {
                    d
                })
            }
        };
        if retry != Retry::Never
            && self
                .config
                .max_attempts
                .is_some_and(|max| self.backoff.attempts() >= max && !was_connected)
        {
            retry = Retry::Never;
            self.notices
                .push(Notice::Disconnected(problem, retry, u32::MAX));
            self.notices.push(Notice::GaveUp);
            self.retry_at = None;
            self.unavailable_at = None;
            self.set_state(State::Failed);
            return;
        }
        let ms = delay.map_or(u32::MAX, |d| {
            u32::try_from(d.as_millis()).unwrap_or(u32::MAX - 1)
        });
        self.notices.push(Notice::Disconnected(problem, retry, ms));
        match delay {
            None => {
                self.retry_at = None;
                self.unavailable_at = None;
                self.set_state(State::Disconnected);
            }
            Some(d) => {
                self.retry_at = Some(self.now.after(d));
                if self.state == State::Connected {
                    self.unavailable_at = Some(self.now.after(self.config.unavailable_timeout));
                    self.set_state(State::Connecting);
                }
            }
        }
    }

    /// A close frame from the server: echo it, then apply the code's policy.
    fn on_close_frame(&mut self, code: Option<u16>) {
        if self.phase == Phase::Closing {
            // Our own close was acknowledged.
            self.close_wanted = true;
            return;
        }
        self.close_frame = Some(code.unwrap_or(1000));
        match code {
            Some(c) => self.end(Problem::Closed(c), retry_for(c)),
            None => self.end(Problem::ClosedWithoutCode, Retry::Backoff),
        }
    }

    fn check_auth_answer(&self, channel: &str, socket_id: &str) -> Result<usize, ClientError> {
        if self.phase != Phase::Established {
            return Err(ClientError::NotConnected);
        }
        if self.socket_id() != Some(socket_id) {
            return Err(ClientError::StaleSocketId);
        }
        let i = self
            .channels
            .find(channel)
            .ok_or(ClientError::UnknownChannel)?;
        match self.channels.get(i).map(|s| s.state) {
            Some(ChannelState::AwaitingAuth | ChannelState::Failed) => Ok(i),
            _ => Err(ClientError::NotAwaitingAuth),
        }
    }

    /// Subscribes slot `i` on the current connection.
    fn start_subscription(&mut self, i: usize) {
        let Some(s) = self.channels.get_mut(i) else {
            return;
        };
        if s.internal {
            return;
        }
        if s.kind().needs_auth() {
            s.state = ChannelState::AwaitingAuth;
            s.auth_due = true;
        } else {
            s.state = ChannelState::Subscribing;
            s.due = Due::Subscribe;
        }
    }

    fn refill_bucket(&mut self) {
        let rate = u64::from(self.config.client_events_per_sec);
        let cap = rate * 1000;
        let elapsed = self.now.since(self.bucket.at).as_millis();
        self.bucket.milli = self
            .bucket
            .milli
            .saturating_add(elapsed.saturating_mul(rate))
            .min(cap);
        self.bucket.at = self.now;
    }

    /// Queues a pong for a WebSocket ping (only the latest matters, RFC 6455 5.5.3).
    fn send_control(&mut self, ping: Opcode, payload: &[u8]) {
        let opcode = if ping == Opcode::Ping {
            Opcode::Pong
        } else {
            ping
        };
        let mask = self.rng.bytes();
        let _ = self
            .tx
            .push_frame::<BufferTooSmall>(opcode, mask, 0, |out| {
                let dst = out.get_mut(..payload.len()).ok_or(BufferTooSmall {
                    needed: payload.len(),
                })?;
                dst.copy_from(payload);
                Ok(payload.len())
            });
    }

    /// Writes owed frames while they fit: close, pings and pongs, then subscriptions.
    fn fill_tx(&mut self) {
        if let Some(code) = self.close_frame {
            let mask = self.rng.bytes();
            let frame = CloseFrame { code, reason: "" };
            let ok = self
                .tx
                .push_frame::<BufferTooSmall>(Opcode::Close, mask, 0, |out| {
                    let mut payload = [0u8; 2];
                    payload.copy_from(&frame.code.to_be_bytes());
                    out.get_mut(..2)
                        .ok_or(BufferTooSmall { needed: 2 })?
                        .copy_from(&payload);
                    Ok(2)
                });
            if ok.is_ok() {
                self.close_frame = None;
                self.close_wanted = true;
            }
            return;
        }
        if self.phase != Phase::Established {
            return;
        }
        while self.pongs_due > 0 {
            let mask = self.rng.bytes();
            if self
                .tx
                .push_frame::<BufferTooSmall>(Opcode::Text, mask, 0, |out| copy(out, message::PONG))
                .is_err()
            {
                break;
            }
            self.pongs_due -= 1;
        }
        if self.ping_due {
            let mask = self.rng.bytes();
            if self
                .tx
                .push_frame::<BufferTooSmall>(Opcode::Text, mask, 0, |out| copy(out, message::PING))
                .is_ok()
            {
                self.ping_due = false;
            }
        }
        for i in 0..CHANNELS {
            let Some(slot) = self.channels.get(i) else {
                continue;
            };
            let due = slot.due;
            let Some(name) = slot.channel() else { continue };
            let mask = self.rng.bytes();
            let written = match due {
                Due::Nothing => continue,
                Due::Subscribe => self
                    .tx
                    .push_frame(Opcode::Text, mask, CONTROL_RESERVE, |out| {
                        let auth = if name.kind() == ChannelKind::ServerToUser {
                            Some("")
                        } else {
                            None
                        };
                        message::subscribe(out, name, auth, None)
                    }),
                Due::Unsubscribe => {
                    self.tx
                        .push_frame(Opcode::Text, mask, CONTROL_RESERVE, |out| {
                            message::unsubscribe(out, name)
                        })
                }
            };
            if written.is_err() {
                break;
            }
            if due == Due::Unsubscribe {
                self.channels.free(i);
            } else if let Some(s) = self.channels.get_mut(i) {
                s.due = Due::Nothing;
            }
        }
    }

    /// Handles one decoded text message; every text message yields an event.
    /// Replaces a presence channel's members with the server's list. Kept out of
    /// `on_message` so the member walk's frame is not part of every message's stack.
    #[inline(never)]
    fn load_members(&mut self, slot: u8, presence: crate::wire::event::Presence<'_>) {
        self.members.clear_members(slot);
        for m in presence.members().flatten() {
            if self.members.insert(slot, m.id.raw(), m.info.raw()).is_err() {
                break;
            }
        }
    }

    #[inline(never)]
    fn on_message<'r>(&mut self, msg: Result<ServerMessage<'r>, EventError>) -> Event<'r> {
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                if self.phase == Phase::AwaitingEstablished {
                    self.end(Problem::InvalidHandshake, Retry::Backoff);
                }
                return Event::Malformed(e);
            }
        };
        if self.phase == Phase::AwaitingEstablished {
            return match msg {
                ServerMessage::ConnectionEstablished {
                    socket_id,
                    activity_timeout,
                } => self.established(socket_id.as_str(), activity_timeout),
                ServerMessage::Error { code, message } => {
                    let problem = code.map_or(Problem::InvalidHandshake, Problem::Closed);
                    let retry = code.map_or(Retry::Backoff, retry_for);
                    self.end(problem, retry);
                    Event::Error { code, message }
                }
                _ => {
                    self.end(Problem::InvalidHandshake, Retry::Backoff);
                    Event::Malformed(EventError::Field("connection_established"))
                }
            };
        }
        match msg {
            ServerMessage::ConnectionEstablished { .. } => {
                Event::Malformed(EventError::Field("event"))
            }
            ServerMessage::Error { code, message } => Event::Error { code, message },
            ServerMessage::Ping => {
                self.pongs_due = self.pongs_due.saturating_add(1).min(4);
                Event::Ping
            }
            ServerMessage::Pong => Event::Pong,
            ServerMessage::SubscriptionSucceeded { channel, presence } => {
                if let Some(i) = self.channels.find(channel) {
                    if let Some(s) = self.channels.get_mut(i) {
                        s.state = ChannelState::Subscribed;
                    }
                    if PRESENCE && let (Ok(slot), Some(p)) = (u8::try_from(i), presence) {
                        self.load_members(slot, p);
                    }
                }
                Event::Subscribed { channel }
            }
            ServerMessage::SubscriptionError {
                channel, status, ..
            } => {
                if let Some(s) = self
                    .channels
                    .find(channel)
                    .and_then(|i| self.channels.get_mut(i))
                {
                    s.state = ChannelState::Failed;
                }
                Event::SubscriptionError { channel, status }
            }
            ServerMessage::MemberAdded { channel, member } => {
                match self
                    .slot_u8(channel)
                    .filter(|_| PRESENCE)
                    .map(|s| self.members.insert(s, member.id.raw(), member.info.raw()))
                {
                    Some(Err(StoreFull)) => Event::PresenceOverflow { channel },
                    Some(Ok(new)) => Event::MemberAdded {
                        channel,
                        id: member.id.raw(),
                        info: member.info.raw(),
                        new,
                    },
                    None => Event::MemberAdded {
                        channel,
                        id: member.id.raw(),
                        info: member.info.raw(),
                        new: true,
                    },
                }
            }
            ServerMessage::MemberRemoved { channel, id } => {
                if PRESENCE && let Some(s) = self.slot_u8(channel) {
                    self.members.remove(s, id.raw());
                }
                Event::MemberRemoved {
                    channel,
                    id: id.raw(),
                }
            }
            ServerMessage::SubscriptionCount { channel, count } => {
                Event::SubscriptionCount { channel, count }
            }
            ServerMessage::CacheMiss { channel } => Event::CacheMiss { channel },
            ServerMessage::SigninSuccess { user_data } => {
                self.signin = Signin::Done;
                if let Some(s) = self
                    .channels
                    .slots
                    .iter_mut()
                    .find(|s| s.used && s.internal)
                {
                    s.state = ChannelState::Subscribing;
                    s.due = Due::Subscribe;
                }
                Event::SignedIn { user_data }
            }
            ServerMessage::Watchlist { events } => Event::Watchlist { events },
            ServerMessage::Event(e) => Event::Message {
                event: e.event,
                channel: e.channel,
                data: e.data,
                user_id: e.user_id,
            },
        }
    }

    #[inline(never)]
    fn established<'r>(&mut self, socket_id: &str, activity_timeout: Option<u32>) -> Event<'r> {
        let id = socket_id.as_bytes();
        let Some(dst) = self.socket_id.get_mut(..id.len()) else {
            self.end(Problem::InvalidHandshake, Retry::Backoff);
            return Event::Malformed(EventError::InvalidSocketId);
        };
        dst.copy_from(id);
        self.socket_id_len = id.len() as u8;
        self.phase = Phase::Established;
        self.attempt_deadline = None;
        self.unavailable_at = None;
        self.retry_at = None;
        self.activity = match activity_timeout {
            Some(s) if s > 0 => self
                .config
                .activity_timeout
                .min(Duration::from_secs(u64::from(s))),
            _ => self.config.activity_timeout,
        };
        self.activity_at = Some(self.now.after(self.activity));
        self.stable_at = Some(self.now.after(self.config.stable_after));
        self.bucket = Bucket {
            milli: u64::from(self.config.client_events_per_sec) * 1000,
            at: self.now,
        };
        for i in 0..CHANNELS {
            self.start_subscription(i);
        }
        if self.signin != Signin::Off {
            self.signin = Signin::Due;
        }
        let previous = self.state;
        self.state = State::Connected;
        Event::StateChanged {
            previous,
            current: State::Connected,
        }
    }
}

fn retry_in(ms: u32) -> Option<Duration> {
    (ms != u32::MAX).then(|| Duration::from_millis(u64::from(ms)))
}

fn copy(out: &mut [u8], text: &str) -> Result<usize, BufferTooSmall> {
    let dst = out
        .get_mut(..text.len())
        .ok_or(BufferTooSmall { needed: text.len() })?;
    dst.copy_from(text.as_bytes());
    Ok(text.len())
}
