//! What the client tells the app: connection states, transport actions and events.

use super::retry::{Problem, Retry};
use super::time::Duration;
use crate::wire::event::{EventError, ServerMessage, WatchlistEvent};
use crate::wire::json::{RawStr, Value};

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
    /// Open a connection (TLS when `tls`) and call [`Client::handle_connected`](crate::Client::handle_connected), or
    /// [`Client::handle_closed`](crate::Client::handle_closed) if it fails.
    Open {
        /// `wss://` rather than `ws://`.
        tls: bool,
    },
    /// Close the transport (after sending what [`Client::poll_transmit`](crate::Client::poll_transmit) still holds), then
    /// call [`Client::handle_closed`](crate::Client::handle_closed).
    Close,
}

/// Something the app should know. Borrowed data lives in the client's buffers until the
/// next call that mutates the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
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
    /// [`Client::provide_auth`](crate::Client::provide_auth) (or [`Client::authorize_locally`](crate::Client::authorize_locally)) or [`Client::auth_failed`](crate::Client::auth_failed).
    AuthRequired {
        /// The channel.
        channel: &'a str,
        /// The socket id to sign for.
        socket_id: &'a str,
    },
    /// Sign-in was requested: answer with [`Client::provide_user_auth`](crate::Client::provide_user_auth).
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
    /// An event on an encrypted channel did not open (a wrong or missing shared secret, a
    /// tampered message); it is dropped, never handed out as plaintext. The `encryption`
    /// feature.
    #[cfg(feature = "encryption")]
    DecryptionFailed {
        /// The channel.
        channel: &'a str,
        /// Why.
        error: crate::encrypted::DecryptError,
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

#[cfg(feature = "serde")]
impl<'a> EventData<'a> {
    /// `data` decoded into `T` (see [`crate::wire::json::from_json`]: `\u` escapes and
    /// surrogate pairs work, `&str` fields borrow from `scratch`, which needs the data's
    /// length, twice it when owned fields take escaped strings).
    ///
    /// ```
    /// # use pusher_core::client::EventData;
    /// #[derive(serde::Deserialize)]
    /// struct Reading { temp: f32, unit: heapless::String<4> }
    /// let ev = EventData { event: "reading", channel: Some("sensors"), data: Some(r#"{"temp":21.5,"unit":"C"}"#), user_id: None };
    /// let mut scratch = [0u8; 64];
    /// let r: Reading = ev.json(&mut scratch)?;
    /// assert_eq!((r.temp, r.unit.as_str()), (21.5, "C"));
    /// # Ok::<(), pusher_core::wire::json::DataError>(())
    /// ```
    pub fn json<'s, T: serde::Deserialize<'s>>(
        &self,
        scratch: &'s mut [u8],
    ) -> Result<T, crate::wire::json::DataError>
    where
        'a: 's,
    {
        let data = self.data.ok_or(crate::wire::json::DataError::Absent)?;
        crate::wire::json::from_json(data, scratch)
    }
}

impl<'a> Event<'a> {
    /// The entries of an [`Event::Watchlist`], each with its typed
    /// [`status`](WatchlistEvent::status) and its ids; `None` for every other event.
    ///
    /// ```
    /// use pusher_core::client::Event;
    /// use pusher_core::wire::event::WatchlistStatus;
    /// use pusher_core::wire::json::Value;
    ///
    /// let events = Value::parse(r#"[{"name":"offline","user_ids":["ada"]}]"#)?;
    /// let event = Event::Watchlist { events };
    /// for entry in event.watchlist().into_iter().flatten() {
    ///     let entry = entry?;
    ///     assert_eq!(entry.status()?, WatchlistStatus::Offline);
    ///     assert_eq!(entry.ids().next().unwrap()?.as_str(), Some("ada"));
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn watchlist(
        &self,
    ) -> Option<impl Iterator<Item = Result<WatchlistEvent<'a>, EventError>> + 'a> {
        match *self {
            Event::Watchlist { events } => Some(ServerMessage::watchlist_entries(events)),
            _ => None,
        }
    }

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

    /// The event as handlers bound by name see it, under pusher-js's names: channel events
    /// as they are, and the protocol events a pusher-js app can bind to as
    /// `pusher:subscription_succeeded`, `pusher:subscription_error`, `pusher:member_added`
    /// (`user_id` the member, `data` its `user_info`), `pusher:member_removed`,
    /// `pusher:cache_miss` and `pusher:signin_success` (`data` the user data). `None` for
    /// connection-level events (states, errors, auth requests), which adapters report apart.
    ///
    /// ```
    /// use pusher_core::client::Event;
    ///
    /// let e = Event::Subscribed { channel: "orders" };
    /// let d = e.bindable().unwrap();
    /// assert_eq!((d.event, d.channel), ("pusher:subscription_succeeded", Some("orders")));
    /// ```
    pub fn bindable(&self) -> Option<EventData<'a>> {
        let on = |event, channel, data, user_id| {
            Some(EventData {
                event,
                channel: Some(channel),
                data,
                user_id,
            })
        };
        match *self {
            Event::Message { .. } => self.message(),
            Event::Subscribed { channel } => {
                on("pusher:subscription_succeeded", channel, None, None)
            }
            Event::SubscriptionError { channel, .. } => {
                on("pusher:subscription_error", channel, None, None)
            }
            Event::MemberAdded {
                channel, id, info, ..
            } => on("pusher:member_added", channel, Some(info), Some(id)),
            Event::MemberRemoved { channel, id } => {
                on("pusher:member_removed", channel, None, Some(id))
            }
            Event::CacheMiss { channel } => on("pusher:cache_miss", channel, None, None),
            Event::SignedIn { user_data } => Some(EventData {
                event: "pusher:signin_success",
                channel: None,
                data: Some(user_data.raw()),
                user_id: None,
            }),
            _ => None,
        }
    }
}
