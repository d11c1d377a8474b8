//! The typed protocol messages a server sends, decoded from an event.

use super::decoded::Event;
use super::error::EventError;
#[cfg(feature = "presence")]
use super::presence::member_id;
use super::presence::{Member, Presence};
use super::watchlist::WatchlistEvent;
use crate::name::SocketId;
use crate::wire::json::{Kind, RawStr, Value};

/// A decoded server-to-client message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ServerMessage<'b> {
    /// `pusher:connection_established`: the connection's socket id and the server's activity
    /// timeout in seconds (absent from pre-7 servers).
    ConnectionEstablished {
        /// This connection's socket id.
        socket_id: SocketId<'b>,
        /// Seconds of silence after which the client should ping.
        activity_timeout: Option<u32>,
    },
    /// `pusher:error`. `code` may be null or absent.
    Error {
        /// Pusher error code (4000-4399), if any.
        code: Option<u16>,
        /// Message text, still escaped.
        message: RawStr<'b>,
    },
    /// `pusher:ping`: answer with `pusher:pong`.
    Ping,
    /// `pusher:pong`.
    Pong,
    /// `pusher_internal:subscription_succeeded`; `presence` on presence channels.
    SubscriptionSucceeded {
        /// The channel.
        channel: &'b str,
        /// Members, for presence channels.
        presence: Option<Presence<'b>>,
    },
    /// `pusher:subscription_error` (soketi's form of an auth rejection).
    SubscriptionError {
        /// The channel.
        channel: &'b str,
        /// `type`, e.g. `AuthError`.
        kind: Option<RawStr<'b>>,
        /// `error` text.
        error: Option<RawStr<'b>>,
        /// HTTP-like status.
        status: Option<u16>,
    },
    /// `pusher_internal:member_added`.
    MemberAdded {
        /// The presence channel.
        channel: &'b str,
        /// The new member.
        member: Member<'b>,
    },
    /// `pusher_internal:member_removed`.
    MemberRemoved {
        /// The presence channel.
        channel: &'b str,
        /// The member's id.
        id: RawStr<'b>,
    },
    /// `pusher_internal:subscription_count`.
    SubscriptionCount {
        /// The channel.
        channel: &'b str,
        /// Subscribers.
        count: u64,
    },
    /// `pusher:signin_success`; `user_data` is the signed JSON text, still escaped.
    SigninSuccess {
        /// The user data the server accepted.
        user_data: RawStr<'b>,
    },
    /// `pusher_internal:watchlist_events`.
    Watchlist {
        /// The `events` array.
        events: Value<'b>,
    },
    /// `pusher:cache_miss` on a cache channel.
    CacheMiss {
        /// The channel.
        channel: &'b str,
    },
    /// Any other event: channel events, client events, and unknown protocol events.
    Event(Event<'b>),
}

impl<'b> ServerMessage<'b> {
    /// Decodes a server frame; `scratch` as long as `text` always suffices.
    pub fn decode(text: &'b str, scratch: &'b mut [u8]) -> Result<ServerMessage<'b>, EventError> {
        Self::from_event(Event::decode(text, scratch)?)
    }

    /// Decodes a server frame in place (see [`Event::decode_in_place`]): no scratch buffer.
    // Not inlined: a caller's frame then holds the decoder's locals only while it runs.
    #[inline(never)]
    pub fn decode_in_place(frame: &'b mut [u8]) -> Result<ServerMessage<'b>, EventError> {
        Self::from_event(Event::decode_in_place(frame)?)
    }

    /// [`ServerMessage::decode_in_place`] with spare memory to unescape through (see
    /// [`Event::decode_in_place_with`]).
    #[inline(never)]
    pub fn decode_in_place_with(
        frame: &'b mut [u8],
        scratch: &mut [u8],
    ) -> Result<ServerMessage<'b>, EventError> {
        Self::from_event(Event::decode_in_place_with(frame, scratch)?)
    }

    /// Types a decoded event: protocol events get their fields, others pass through.
    pub fn from_event(ev: Event<'b>) -> Result<ServerMessage<'b>, EventError> {
        let Some(name) = ev.event.strip_prefix("pusher") else {
            return Ok(ServerMessage::Event(ev));
        };
        let channel = || ev.channel.ok_or(EventError::Field("channel"));
        let data = || -> Result<Value<'b>, EventError> {
            match ev.data {
                Some(text) => Ok(Value::parse(text)?),
                None => Err(EventError::Field("data")),
            }
        };
        let field = |v: &Value<'b>, name: &'static str| v.get(name).ok_or(EventError::Field(name));
        Ok(match name {
            ":connection_established" => {
                let d = data()?;
                let id = field(&d, "socket_id")?
                    .as_raw_str()
                    .and_then(|s| s.as_str());
                let socket_id = SocketId::new(id.ok_or(EventError::Field("socket_id"))?)
                    .map_err(|_| EventError::InvalidSocketId)?;
                let activity_timeout = match d.get("activity_timeout") {
                    None => None,
                    Some(v) if v.is_null() => None,
                    Some(v) => Some(
                        v.as_u64()
                            .and_then(|t| u32::try_from(t).ok())
                            .ok_or(EventError::Field("activity_timeout"))?,
                    ),
                };
                ServerMessage::ConnectionEstablished {
                    socket_id,
                    activity_timeout,
                }
            }
            ":error" => {
                let d = data()?;
                let code = match d.get("code") {
                    None => None,
                    Some(v) if v.is_null() => None,
                    Some(v) => Some(
                        v.as_u64()
                            .and_then(|c| u16::try_from(c).ok())
                            .ok_or(EventError::Field("code"))?,
                    ),
                };
                let message = match d.get("message") {
                    None => RawStr::new(""),
                    Some(v) => v.as_raw_str().ok_or(EventError::Field("message"))?,
                };
                ServerMessage::Error { code, message }
            }
            ":ping" => ServerMessage::Ping,
            ":pong" => ServerMessage::Pong,
            "_internal:subscription_succeeded" => {
                let data = ev.data.map(Value::parse).transpose()?;
                let presence = data.and_then(|d| d.get("presence")).map(|p| Presence {
                    count: p
                        .get("count")
                        .and_then(|c| c.as_u64())
                        .and_then(|c| u32::try_from(c).ok()),
                    ids: p.get("ids").filter(|i| i.kind() == Kind::Array),
                    hash: p.get("hash").filter(|h| h.kind() == Kind::Object),
                });
                ServerMessage::SubscriptionSucceeded {
                    channel: channel()?,
                    presence,
                }
            }
            ":subscription_error" => {
                let d = ev.data.map(Value::parse).transpose()?;
                let get = |k: &str| d.as_ref().and_then(|d| d.get(k));
                ServerMessage::SubscriptionError {
                    channel: channel()?,
                    kind: get("type").and_then(|v| v.as_raw_str()),
                    error: get("error").and_then(|v| v.as_raw_str()),
                    status: get("status")
                        .and_then(|v| v.as_u64())
                        .and_then(|s| u16::try_from(s).ok()),
                }
            }
            #[cfg(feature = "presence")]
            "_internal:member_added" => {
                let d = data()?;
                let id = member_id(&d)?;
                let info = match d.get("user_info") {
                    Some(v) => v,
                    None => Value::parse("null")?,
                };
                ServerMessage::MemberAdded {
                    channel: channel()?,
                    member: Member { id, info },
                }
            }
            #[cfg(feature = "presence")]
            "_internal:member_removed" => {
                let d = data()?;
                ServerMessage::MemberRemoved {
                    channel: channel()?,
                    id: member_id(&d)?,
                }
            }
            "_internal:subscription_count" => {
                let d = data()?;
                let count = field(&d, "subscription_count")?
                    .as_u64()
                    .ok_or(EventError::Field("subscription_count"))?;
                ServerMessage::SubscriptionCount {
                    channel: channel()?,
                    count,
                }
            }
            #[cfg(feature = "signin")]
            ":signin_success" => {
                let d = data()?;
                let user_data = field(&d, "user_data")?
                    .as_raw_str()
                    .ok_or(EventError::Field("user_data"))?;
                ServerMessage::SigninSuccess { user_data }
            }
            #[cfg(feature = "signin")]
            "_internal:watchlist_events" => {
                let d = data()?;
                let events = field(&d, "events")?;
                if events.kind() != Kind::Array {
                    return Err(EventError::Field("events"));
                }
                ServerMessage::Watchlist { events }
            }
            ":cache_miss" => ServerMessage::CacheMiss {
                channel: channel()?,
            },
            _ => ServerMessage::Event(ev),
        })
    }

    /// The entries of a [`ServerMessage::Watchlist`] `events` array.
    pub fn watchlist_entries(
        events: Value<'b>,
    ) -> impl Iterator<Item = Result<WatchlistEvent<'b>, EventError>> + 'b {
        events.array().into_iter().flatten().map(|e| {
            let e = e?;
            let name = e
                .get("name")
                .and_then(|n| n.as_raw_str())
                .ok_or(EventError::Field("name"))?;
            let user_ids = e
                .get("user_ids")
                .filter(|v| v.kind() == Kind::Array)
                .ok_or(EventError::Field("user_ids"))?;
            Ok(WatchlistEvent { name, user_ids })
        })
    }
}
