//! What the client tells the app, as one tagged C struct whose strings point into the client's
//! memory (valid until the next call on the same client).

use core::fmt::{self, Write};

use pusher_core::client::{Event, Problem, Retry};

use crate::client::{PusherClient, PusherState, handle};
use crate::raw::{self, PusherStr};

/// Which event `PusherEvent` holds; the fields each kind fills are listed with it (the others
/// are `{NULL, 0}`, -1 or 0).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PusherEventKind {
    /// The connection state changed: `previous`, `current`.
    StateChanged = 1,
    /// A connection or attempt ended: `reason` (readable), `code` (the close code, or -1),
    /// `retry`, `retry_in_ms` (-1 when no attempt follows).
    Disconnected = 2,
    /// Gave up after `max_attempts` (state `FAILED`).
    GaveUp = 3,
    /// A `pusher:error`: `code` (or -1) and `data` (the message, still JSON-escaped).
    Error = 4,
    /// A frame that is not a valid Pusher message (the connection stays up): `reason`.
    Malformed = 5,
    /// A protected channel needs auth for `socket_id`: answer with `pusher_provide_auth`,
    /// `pusher_provide_encrypted_auth`, `pusher_authorize_locally` or `pusher_auth_failed`.
    AuthRequired = 6,
    /// Sign-in was asked for: answer with `pusher_provide_user_auth` for `socket_id`.
    SigninRequired = 7,
    /// The server confirmed the subscription of `channel`.
    Subscribed = 8,
    /// A subscription of `channel` failed: `code` is the HTTP-like status, or -1.
    SubscriptionError = 9,
    /// A channel event: `name`, `channel` (may be none), `data` (decoded string contents, or
    /// the raw JSON of a non-string `data`; decrypted on encrypted channels), `user_id`.
    Message = 10,
    /// A presence member joined `channel`: `user_id`, `data` (its `user_info` JSON), `is_new`
    /// (false when it was already a member).
    MemberAdded = 11,
    /// A presence member left `channel`: `user_id`.
    MemberRemoved = 12,
    /// The presence store is full: a member of `channel` was not recorded.
    PresenceOverflow = 13,
    /// `channel` has `count` subscribers.
    SubscriptionCount = 14,
    /// A cache channel had nothing cached: `channel`.
    CacheMiss = 15,
    /// Signed in: `data` is the accepted user data (JSON-escaped).
    SignedIn = 16,
    /// Watchlist events: `data` is the JSON array.
    Watchlist = 17,
    /// An event on encrypted `channel` did not open (dropped, never handed out): `reason`.
    DecryptionFailed = 18,
    /// The server pinged; the pong is queued.
    Ping = 19,
    /// The server answered a ping.
    Pong = 20,
    /// An event this version of the ABI has no kind for.
    Other = 99,
}

/// What the reconnect policy decided after a disconnect.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PusherRetry {
    /// Not a disconnect event.
    None = 0,
    /// No reconnect: the app must change something (close codes 4001-4099, 4300 up).
    Never = 1,
    /// Reconnect after a backoff.
    Backoff = 2,
    /// Reconnect at once.
    Now = 3,
    /// Reconnect at once over TLS.
    Tls = 4,
}

/// One event. Strings point into the client's memory and stay valid until the next call on
/// the same client.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PusherEvent {
    /// Which event this is.
    pub kind: PusherEventKind,
    /// The channel.
    pub channel: PusherStr,
    /// The event name (`MESSAGE`).
    pub name: PusherStr,
    /// The payload (see each kind).
    pub data: PusherStr,
    /// A user id (the sender of a client event, a presence member).
    pub user_id: PusherStr,
    /// The socket id to sign for.
    pub socket_id: PusherStr,
    /// A readable reason (`DISCONNECTED`, `MALFORMED`, `DECRYPTION_FAILED`).
    pub reason: PusherStr,
    /// A close code, a `pusher:error` code or an HTTP status; -1 when none.
    pub code: i32,
    /// Milliseconds before the next connection attempt; -1 when none.
    pub retry_in_ms: i64,
    /// Subscriber count (`SUBSCRIPTION_COUNT`).
    pub count: u64,
    /// State before (`STATE_CHANGED`).
    pub previous: PusherState,
    /// State now (`STATE_CHANGED`).
    pub current: PusherState,
    /// The reconnect decision (`DISCONNECTED`).
    pub retry: PusherRetry,
    /// A member that was not one before (`MEMBER_ADDED`).
    pub is_new: bool,
}

impl PusherEvent {
    pub(crate) fn new(kind: PusherEventKind) -> Self {
        PusherEvent {
            kind,
            channel: PusherStr::NONE,
            name: PusherStr::NONE,
            data: PusherStr::NONE,
            user_id: PusherStr::NONE,
            socket_id: PusherStr::NONE,
            reason: PusherStr::NONE,
            code: -1,
            retry_in_ms: -1,
            count: 0,
            previous: PusherState::Initialized,
            current: PusherState::Initialized,
            retry: PusherRetry::None,
            is_new: false,
        }
    }

    fn on(kind: PusherEventKind, channel: &str) -> Self {
        PusherEvent {
            channel: PusherStr::of(channel),
            ..PusherEvent::new(kind)
        }
    }
}

/// Formats into a fixed buffer, cutting at a character boundary when it is full.
struct Truncating<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl Write for Truncating<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        if let (Some(dst), Some(src)) = (self.buf.get_mut(self.len..self.len + n), s.get(..n)) {
            dst.copy_from_slice(src.as_bytes());
            self.len += n;
        }
        Ok(())
    }
}

/// `what`'s text in `buf`, as a string borrowed from it.
fn reason(buf: &mut [u8], what: impl fmt::Display) -> PusherStr {
    let mut w = Truncating { buf, len: 0 };
    let _ = write!(w, "{what}");
    let len = w.len;
    let text = w
        .buf
        .get(..len)
        .and_then(|b| core::str::from_utf8(b).ok())
        .unwrap_or("");
    PusherStr::of(text)
}

fn retry(r: Retry) -> PusherRetry {
    match r {
        Retry::Never => PusherRetry::Never,
        Retry::Backoff => PusherRetry::Backoff,
        Retry::Now => PusherRetry::Now,
        Retry::Tls => PusherRetry::Tls,
    }
}

fn convert(ev: Event<'_>, buf: &mut [u8]) -> PusherEvent {
    use PusherEventKind as K;
    match ev {
        Event::StateChanged { previous, current } => PusherEvent {
            previous: previous.into(),
            current: current.into(),
            ..PusherEvent::new(K::StateChanged)
        },
        Event::Disconnected {
            problem,
            retry: r,
            retry_in,
        } => PusherEvent {
            reason: reason(buf, problem),
            code: match problem {
                Problem::Closed(code) => i32::from(code),
                _ => -1,
            },
            retry: retry(r),
            retry_in_ms: retry_in.map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(-1)),
            ..PusherEvent::new(K::Disconnected)
        },
        Event::GaveUp => PusherEvent::new(K::GaveUp),
        Event::Error { code, message } => PusherEvent {
            code: code.map_or(-1, i32::from),
            data: PusherStr::of(message.raw()),
            ..PusherEvent::new(K::Error)
        },
        Event::Malformed(e) => PusherEvent {
            reason: reason(buf, e),
            ..PusherEvent::new(K::Malformed)
        },
        Event::AuthRequired { channel, socket_id } => PusherEvent {
            socket_id: PusherStr::of(socket_id),
            ..PusherEvent::on(K::AuthRequired, channel)
        },
        Event::SigninRequired { socket_id } => PusherEvent {
            socket_id: PusherStr::of(socket_id),
            ..PusherEvent::new(K::SigninRequired)
        },
        Event::Subscribed { channel } => PusherEvent::on(K::Subscribed, channel),
        Event::SubscriptionError { channel, status } => PusherEvent {
            code: status.map_or(-1, i32::from),
            ..PusherEvent::on(K::SubscriptionError, channel)
        },
        Event::Message {
            event,
            channel,
            data,
            user_id,
        } => PusherEvent {
            name: PusherStr::of(event),
            channel: PusherStr::of_opt(channel),
            data: PusherStr::of_opt(data),
            user_id: PusherStr::of_opt(user_id),
            ..PusherEvent::new(K::Message)
        },
        Event::MemberAdded {
            channel,
            id,
            info,
            new,
        } => PusherEvent {
            user_id: PusherStr::of(id),
            data: PusherStr::of(info),
            is_new: new,
            ..PusherEvent::on(K::MemberAdded, channel)
        },
        Event::MemberRemoved { channel, id } => PusherEvent {
            user_id: PusherStr::of(id),
            ..PusherEvent::on(K::MemberRemoved, channel)
        },
        Event::PresenceOverflow { channel } => PusherEvent::on(K::PresenceOverflow, channel),
        Event::SubscriptionCount { channel, count } => PusherEvent {
            count,
            ..PusherEvent::on(K::SubscriptionCount, channel)
        },
        Event::CacheMiss { channel } => PusherEvent::on(K::CacheMiss, channel),
        Event::SignedIn { user_data } => PusherEvent {
            data: PusherStr::of(user_data.raw()),
            ..PusherEvent::new(K::SignedIn)
        },
        Event::Watchlist { events } => PusherEvent {
            data: PusherStr::of(events.raw()),
            ..PusherEvent::new(K::Watchlist)
        },
        #[cfg(feature = "encryption")]
        Event::DecryptionFailed { channel, error } => PusherEvent {
            reason: reason(buf, error),
            ..PusherEvent::on(K::DecryptionFailed, channel)
        },
        Event::Ping => PusherEvent::new(K::Ping),
        Event::Pong => PusherEvent::new(K::Pong),
        _ => PusherEvent::new(K::Other),
    }
}

/// The next event: returns 1 and writes `*out`, 0 when there is none, or an error. Call until
/// 0 after every call into the client (events are decoded lazily from the receive buffer).
/// The strings in `*out` stay valid until the next call on this client.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pusher_poll_event(
    client: *mut PusherClient,
    out: *mut PusherEvent,
) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    let (h, out) = match unsafe { (handle(client), raw::out(out)) } {
        (Ok(h), Ok(o)) => (h, o),
        (Err(e), _) | (_, Err(e)) => return e.code(),
    };
    match h.client.poll_event() {
        None => 0,
        Some(ev) => {
            out.put(convert(ev, &mut h.reason));
            1
        }
    }
}
