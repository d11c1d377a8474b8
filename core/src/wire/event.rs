//! The Pusher envelope `{"event", "channel", "data", "user_id"}` and the typed protocol
//! messages inside it.
//!
//! Three levels, pick the cheapest that does the job:
//!
//! * [`Envelope::parse`]: zero-copy; fields stay raw ([`RawStr`], [`Data`]). No buffer needed.
//! * [`Event::decode`]: every field decoded; a `data` string is unescaped into the caller's
//!   scratch buffer in the same pass that finds its end (what a client delivers to the app).
//! * [`ServerMessage::decode`]: [`Event::decode`] plus typed parsing of the protocol events
//!   (`pusher:connection_established`, `pusher:error`, presence, sign-in, watchlist, ...).
//!
//! `data` arrives as a JSON string holding JSON (the usual case), a bare string, an object
//! (`pusher:error`, soketi's `subscription_error` and `pong`), or not at all; all are accepted.

use core::fmt;

use super::json::{Elements, JsonError, Kind, Members, RawStr, Scanner, Value};
use crate::name::SocketId;

/// Why a frame is not a valid Pusher message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EventError {
    /// The frame (or its `data`) is not valid JSON.
    Json(JsonError),
    /// The frame is not a JSON object.
    NotObject,
    /// The frame has no `event` string.
    MissingEvent,
    /// A required field is missing or has the wrong type.
    Field(&'static str),
    /// `connection_established` carries a socket id that is not `digits.digits`.
    InvalidSocketId,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::Json(e) => write!(f, "invalid JSON: {e}"),
            EventError::NotObject => f.write_str("frame is not a JSON object"),
            EventError::MissingEvent => f.write_str("frame has no event name"),
            EventError::Field(name) => write!(f, "field `{name}` missing or of the wrong type"),
            EventError::InvalidSocketId => f.write_str("invalid socket id"),
        }
    }
}

impl core::error::Error for EventError {}

impl From<JsonError> for EventError {
    fn from(e: JsonError) -> Self {
        EventError::Json(e)
    }
}

/// The `data` field as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Data<'a> {
    /// No `data` field (or `null`).
    Absent,
    /// A JSON string: usually JSON text escaped once more, sometimes plain text.
    Str(RawStr<'a>),
    /// Any other JSON value (objects from `pusher:error`, numbers, arrays).
    Json(Value<'a>),
}

/// A frame with its fields located but not decoded. Borrows the frame text; needs no buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Envelope<'a> {
    /// Event name.
    pub event: RawStr<'a>,
    /// Channel, for channel events.
    pub channel: Option<RawStr<'a>>,
    /// Sender's user id on presence channels (a string, or a number as written).
    pub user_id: Option<Value<'a>>,
    /// The payload.
    pub data: Data<'a>,
}

/// Which field a key names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Event,
    Channel,
    Data,
    UserId,
    Other,
}

fn field_of(key: RawStr<'_>) -> Field {
    match key.raw() {
        "event" => Field::Event,
        "channel" => Field::Channel,
        "data" => Field::Data,
        "user_id" => Field::UserId,
        _ if !key.is_escaped() => Field::Other,
        _ if key.eq_str("event") => Field::Event,
        _ if key.eq_str("channel") => Field::Channel,
        _ if key.eq_str("data") => Field::Data,
        _ if key.eq_str("user_id") => Field::UserId,
        _ => Field::Other,
    }
}

/// Walks the top-level object, handing each known field to `on`. Unknown keys are skipped
/// (and validated); the last occurrence of a duplicated key wins.
fn walk<'a>(
    text: &'a str,
    mut on: impl FnMut(Field, &mut Scanner<'a>) -> Result<(), EventError>,
) -> Result<(), EventError> {
    let mut sc = Scanner::new(text);
    if sc.peek() != Some(b'{') {
        return Err(EventError::NotObject);
    }
    sc.consume(b'{')?;
    if sc.peek() == Some(b'}') {
        sc.consume(b'}')?;
    } else {
        loop {
            let key = sc.string()?;
            sc.consume(b':')?;
            match field_of(key) {
                Field::Other => {
                    sc.value()?;
                }
                f => on(f, &mut sc)?,
            }
            match sc.peek() {
                Some(b',') => sc.consume(b',')?,
                Some(b'}') => {
                    sc.consume(b'}')?;
                    break;
                }
                Some(_) => return Err(JsonError::UnexpectedByte { at: sc.pos() }.into()),
                None => return Err(JsonError::UnexpectedEnd.into()),
            }
        }
    }
    sc.end()?;
    Ok(())
}

fn string_field<'a>(sc: &mut Scanner<'a>, name: &'static str) -> Result<RawStr<'a>, EventError> {
    sc.value()?.as_raw_str().ok_or(EventError::Field(name))
}

impl<'a> Envelope<'a> {
    /// Locates the fields of a frame, validating its JSON structure. Escapes inside a `data`
    /// string are checked when it is unescaped (by [`RawStr::unescape_into`]).
    pub fn parse(text: &'a str) -> Result<Envelope<'a>, EventError> {
        let mut event = None;
        let mut channel = None;
        let mut user_id = None;
        let mut data = Data::Absent;
        walk(text, |field, sc| {
            match field {
                Field::Event => event = Some(string_field(sc, "event")?),
                Field::Channel => channel = nullable_string(sc, "channel")?,
                Field::UserId => user_id = user_id_value(sc)?,
                Field::Data => {
                    data = if sc.peek() == Some(b'"') {
                        // Escapes inside are checked when the data is unescaped.
                        Data::Str(sc.string_lazy()?)
                    } else {
                        let v = sc.value()?;
                        if v.is_null() {
                            Data::Absent
                        } else {
                            Data::Json(v)
                        }
                    };
                }
                Field::Other => {}
            }
            Ok(())
        })?;
        Ok(Envelope {
            event: event.ok_or(EventError::MissingEvent)?,
            channel,
            user_id,
            data,
        })
    }
}

fn nullable_string<'a>(
    sc: &mut Scanner<'a>,
    name: &'static str,
) -> Result<Option<RawStr<'a>>, EventError> {
    let v = sc.value()?;
    if v.is_null() {
        return Ok(None);
    }
    v.as_raw_str().map(Some).ok_or(EventError::Field(name))
}

fn user_id_value<'a>(sc: &mut Scanner<'a>) -> Result<Option<Value<'a>>, EventError> {
    let v = sc.value()?;
    match v.kind() {
        Kind::Null => Ok(None),
        Kind::String | Kind::Number => Ok(Some(v)),
        _ => Err(EventError::Field("user_id")),
    }
}

/// How `data` was encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DataForm {
    /// No `data`.
    Absent,
    /// A JSON string; [`Event::data`] holds its decoded contents.
    String,
    /// A JSON value; [`Event::data`] holds its JSON text.
    Json,
}

/// A frame with every field decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Event<'b> {
    /// Event name.
    pub event: &'b str,
    /// Channel, for channel events.
    pub channel: Option<&'b str>,
    /// Sender's user id (presence channel client events).
    pub user_id: Option<&'b str>,
    /// The payload text: the decoded string, or the raw JSON of a non-string value.
    pub data: Option<&'b str>,
    /// How `data` was encoded.
    pub form: DataForm,
}

/// The caller's scratch buffer, shared out: `data` from the front, escaped names from the back.
struct Scratch<'b> {
    buf: &'b mut [u8],
}

impl<'b> Scratch<'b> {
    /// A short string: borrowed when plain, else decoded into the back of the buffer.
    fn name(&mut self, s: RawStr<'b>) -> Result<&'b str, EventError> {
        if let Some(plain) = s.as_str() {
            return Ok(plain);
        }
        let buf = core::mem::take(&mut self.buf);
        let need = s.raw().len();
        let split = buf
            .len()
            .checked_sub(need)
            .ok_or(JsonError::BufferTooSmall { needed: need })?;
        let (front, slot) = buf
            .split_at_mut_checked(split)
            .ok_or(JsonError::BufferTooSmall { needed: need })?;
        self.buf = front;
        Ok(s.unescape_into(slot)?)
    }

    /// The `data` string at the scanner, unescaped into the front of the buffer in one pass.
    fn data(&mut self, sc: &mut Scanner<'b>) -> Result<&'b str, EventError> {
        let buf = core::mem::take(&mut self.buf);
        let (data, rest) = sc.string_into_split(buf)?;
        self.buf = rest;
        Ok(data)
    }
}

impl<'b> Event<'b> {
    /// Decodes a frame. A `data` string is unescaped into `scratch` in the same pass that finds
    /// its end; escaped names (rare: `App\\Events\\X`) take room from the back of `scratch`.
    /// `scratch` as long as `text` always suffices.
    pub fn decode(text: &'b str, scratch: &'b mut [u8]) -> Result<Event<'b>, EventError> {
        let mut sc_buf = Scratch { buf: scratch };
        let mut event = None;
        let mut channel = None;
        let mut user_id = None;
        let mut data = None;
        let mut form = DataForm::Absent;
        walk(text, |field, sc| {
            match field {
                Field::Event => event = Some(sc_buf.name(string_field(sc, "event")?)?),
                Field::Channel => {
                    channel = match nullable_string(sc, "channel")? {
                        Some(s) => Some(sc_buf.name(s)?),
                        None => None,
                    }
                }
                Field::UserId => {
                    user_id = match user_id_value(sc)? {
                        Some(v) => match v.as_raw_str() {
                            Some(s) => Some(sc_buf.name(s)?),
                            None => Some(v.raw()),
                        },
                        None => None,
                    }
                }
                Field::Data => {
                    if sc.peek() == Some(b'"') {
                        data = Some(sc_buf.data(sc)?);
                        form = DataForm::String;
                    } else {
                        let v = sc.value()?;
                        if v.is_null() {
                            data = None;
                            form = DataForm::Absent;
                        } else {
                            data = Some(v.raw());
                            form = DataForm::Json;
                        }
                    }
                }
                Field::Other => {}
            }
            Ok(())
        })?;
        Ok(Event {
            event: event.ok_or(EventError::MissingEvent)?,
            channel,
            user_id,
            data,
            form,
        })
    }

    /// Decodes a frame inside its own buffer: escaped strings are unescaped where they lie
    /// (they only shrink), so the fields borrow `frame` and no second buffer is needed. The
    /// frame bytes are rewritten; `frame` must hold UTF-8 (it is checked).
    pub fn decode_in_place(frame: &'b mut [u8]) -> Result<Event<'b>, EventError> {
        let text =
            crate::utf8(frame).ok_or(EventError::Json(JsonError::InvalidEscape { at: 0 }))?;
        let base = text.as_ptr() as usize;
        let env = Envelope::parse(text)?;
        let span = |s: &str| (s.as_ptr() as usize - base, s.len());
        let event = (span(env.event.raw()), env.event.is_escaped());
        let channel = env.channel.map(|c| (span(c.raw()), c.is_escaped()));
        let user_id = env.user_id.map(|v| match v.as_raw_str() {
            Some(s) => (span(s.raw()), s.is_escaped()),
            None => (span(v.raw()), false),
        });
        let (data, form) = match env.data {
            Data::Absent => (None, DataForm::Absent),
            Data::Str(s) => (Some((span(s.raw()), s.is_escaped())), DataForm::String),
            Data::Json(v) => (Some((span(v.raw()), false)), DataForm::Json),
        };
        // The text borrow ends here; rewrite the escaped fields in place.
        let mut fix = |field: ((usize, usize), bool)| -> Result<(usize, usize), EventError> {
            let ((start, len), escaped) = field;
            if !escaped {
                return Ok((start, len));
            }
            let region = frame
                .get_mut(start..start + len)
                .ok_or(EventError::NotObject)?;
            let n =
                super::json::unescape_in_place(region).map_err(|e| super::json::shift(e, start))?;
            // Blank the freed tail so the whole frame stays UTF-8.
            region.get_mut(n..).unwrap_or(&mut []).fill(b' ');
            Ok((start, n))
        };
        let event = fix(event)?;
        let channel = channel.map(&mut fix).transpose()?;
        let user_id = user_id.map(&mut fix).transpose()?;
        let data = data.map(&mut fix).transpose()?;
        let text: &'b str =
            crate::utf8(frame).ok_or(EventError::Json(JsonError::InvalidEscape { at: 0 }))?;
        let get = |(start, len): (usize, usize)| {
            text.get(start..start + len).ok_or(EventError::NotObject)
        };
        Ok(Event {
            event: get(event)?,
            channel: channel.map(get).transpose()?,
            user_id: user_id.map(get).transpose()?,
            data: data.map(get).transpose()?,
            form,
        })
    }

    /// The payload parsed as JSON (for string data, the decoded text is parsed).
    pub fn data_json(&self) -> Result<Value<'b>, EventError> {
        Ok(Value::parse(self.data.ok_or(EventError::Field("data"))?)?)
    }
}

/// One member of a presence channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Member<'b> {
    /// User id (a string as written; numbers keep their digits).
    pub id: RawStr<'b>,
    /// `user_info` as raw JSON (`null` when absent).
    pub info: Value<'b>,
}

/// The `presence` object of a presence channel's `subscription_succeeded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Presence<'b> {
    /// Member count as announced by the server.
    pub count: Option<u32>,
    ids: Option<Value<'b>>,
    hash: Option<Value<'b>>,
}

impl<'b> Presence<'b> {
    /// The members: every id of `ids` with its `hash` entry (`null` when the server left it
    /// out, as soketi does for members without `user_info`), or the `hash` alone when there
    /// is no `ids` array.
    pub fn members(&self) -> PresenceMembers<'b> {
        let hash = self.hash;
        match self.ids.and_then(|v| v.array()) {
            Some(ids) => PresenceMembers {
                ids: Some(ids),
                hash,
                only_hash: None,
            },
            None => PresenceMembers {
                ids: None,
                hash: None,
                only_hash: hash.and_then(|h| h.object()),
            },
        }
    }
}

/// The members of a presence channel (see [`Presence::members`]). A plain struct rather than
/// an adapter chain: it keeps one scanner per list, which matters on a 1 KiB stack.
#[derive(Debug, Clone)]
pub struct PresenceMembers<'b> {
    ids: Option<Elements<'b>>,
    hash: Option<Value<'b>>,
    only_hash: Option<Members<'b>>,
}

impl<'b> PresenceMembers<'b> {
    /// `user_info` of `id` in the hash (`null` when absent).
    fn info_of(&self, id: RawStr<'b>) -> Result<Value<'b>, EventError> {
        if let Some(members) = self.hash.and_then(|h| h.object()) {
            for member in members {
                let (k, v) = member?;
                if k.raw() == id.raw() {
                    return Ok(v);
                }
            }
        }
        Value::parse("null").map_err(EventError::from)
    }
}

impl<'b> Iterator for PresenceMembers<'b> {
    type Item = Result<Member<'b>, EventError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(ids) = self.ids.as_mut() {
            let id = match ids.next()? {
                Ok(id) => id,
                Err(e) => return Some(Err(e.into())),
            };
            let id = match id.kind() {
                Kind::String => id.as_raw_str(),
                Kind::Number => Some(RawStr::new(id.raw())),
                _ => None,
            };
            let Some(id) = id else {
                return Some(Err(EventError::Field("ids")));
            };
            return Some(self.info_of(id).map(|info| Member { id, info }));
        }
        let m = self.only_hash.as_mut()?.next()?;
        Some(
            m.map(|(id, info)| Member { id, info })
                .map_err(EventError::from),
        )
    }
}

/// One entry of `pusher_internal:watchlist_events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WatchlistEvent<'b> {
    /// `online` or `offline`.
    pub name: RawStr<'b>,
    /// The user ids, a JSON array of strings.
    pub user_ids: Value<'b>,
}

impl<'b> WatchlistEvent<'b> {
    /// The user ids.
    pub fn ids(&self) -> impl Iterator<Item = Result<RawStr<'b>, EventError>> + 'b {
        self.user_ids.array().into_iter().flatten().map(|v| {
            v.map_err(EventError::from)?
                .as_raw_str()
                .ok_or(EventError::Field("user_ids"))
        })
    }
}

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
            ":signin_success" => {
                let d = data()?;
                let user_data = field(&d, "user_data")?
                    .as_raw_str()
                    .ok_or(EventError::Field("user_data"))?;
                ServerMessage::SigninSuccess { user_data }
            }
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

fn member_id<'b>(d: &Value<'b>) -> Result<RawStr<'b>, EventError> {
    let v = d.get("user_id").ok_or(EventError::Field("user_id"))?;
    match v.kind() {
        Kind::String => v.as_raw_str().ok_or(EventError::Field("user_id")),
        Kind::Number => Ok(RawStr::new(v.raw())),
        _ => Err(EventError::Field("user_id")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    /// Decodes with a scratch buffer and in place; both must agree.
    fn decode(text: &str) -> Result<String, EventError> {
        let mut scratch = [0u8; 1024];
        let copied = ServerMessage::decode(text, &mut scratch).map(describe);
        let mut frame = text.as_bytes().to_vec();
        let in_place = ServerMessage::decode_in_place(&mut frame).map(describe);
        assert_eq!(copied, in_place, "{text}");
        copied
    }

    fn describe(m: ServerMessage<'_>) -> String {
        match m {
            ServerMessage::ConnectionEstablished {
                socket_id,
                activity_timeout,
            } => {
                std::format!("established {socket_id} {activity_timeout:?}")
            }
            ServerMessage::Error { code, message } => {
                std::format!("error {code:?} {}", message.raw())
            }
            ServerMessage::SubscriptionSucceeded {
                channel,
                presence: Some(p),
            } => {
                let members: Vec<String> = p
                    .members()
                    .map(|m| {
                        let m = m.unwrap();
                        std::format!("{}={}", m.id.raw(), m.info.raw())
                    })
                    .collect();
                std::format!("presence {channel} {:?} {}", p.count, members.join(" "))
            }
            ServerMessage::SubscriptionSucceeded {
                channel,
                presence: None,
            } => std::format!("subscribed {channel}"),
            ServerMessage::MemberAdded { channel, member } => {
                std::format!("added {channel} {} {}", member.id.raw(), member.info.raw())
            }
            ServerMessage::MemberRemoved { channel, id } => {
                std::format!("removed {channel} {}", id.raw())
            }
            ServerMessage::SubscriptionCount { channel, count } => {
                std::format!("count {channel} {count}")
            }
            ServerMessage::SigninSuccess { user_data } => {
                std::format!("signin {}", user_data.raw())
            }
            ServerMessage::Watchlist { events } => {
                let parts: Vec<String> = ServerMessage::watchlist_entries(events)
                    .map(|e| {
                        let e = e.unwrap();
                        let ids: Vec<&str> = e.ids().map(|i| i.unwrap().raw()).collect();
                        std::format!("{}:{}", e.name.raw(), ids.join(","))
                    })
                    .collect();
                std::format!("watchlist {}", parts.join(" "))
            }
            ServerMessage::CacheMiss { channel } => std::format!("cache_miss {channel}"),
            ServerMessage::Ping => "ping".into(),
            ServerMessage::Pong => "pong".into(),
            ServerMessage::SubscriptionError {
                channel, status, ..
            } => std::format!("sub_error {channel} {status:?}"),
            ServerMessage::Event(e) => std::format!(
                "event {} {:?} {:?} {:?} {:?}",
                e.event,
                e.channel,
                e.user_id,
                e.data,
                e.form
            ),
        }
    }

    #[test]
    fn official_client_fixtures() {
        let cases = [
            (
                r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"45481.3166671\",\"activity_timeout\":120}"}"#,
                "established 45481.3166671 Some(120)",
            ),
            (
                r#"{"event":"pusher_internal:subscription_succeeded","channel":"test-channel","data":"{}"}"#,
                "subscribed test-channel",
            ),
            (
                r#"{"event":"pusher_internal:subscription_succeeded","data":"{\"presence\":{\"count\":1,\"ids\":[\"123\"],\"hash\":{\"123\":{\"twitter\":\"hamchapman\"}}}}","channel":"presence-test"}"#,
                r#"presence presence-test Some(1) 123={"twitter":"hamchapman"}"#,
            ),
            (
                r#"{"event":"pusher_internal:subscription_succeeded","data":"{\"presence\":{\"count\":1,\"ids\":[\"46123.486095\"],\"hash\":{\"46123.486095\":null}}}","channel":"presence-channel"}"#,
                "presence presence-channel Some(1) 46123.486095=null",
            ),
            (
                r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-s","data":"{\"presence\":{\"ids\":[\"a\",\"b\"],\"hash\":{\"b\":{\"n\":1}},\"count\":2}}"}"#,
                r#"presence presence-s Some(2) a=null b={"n":1}"#,
            ),
            (
                r#"{"event":"pusher:error","data":{"code":null,"message":"Invalid signature: Expected HMAC SHA256 hex digest of x"}}"#,
                "error None Invalid signature: Expected HMAC SHA256 hex digest of x",
            ),
            (
                r#"{"event":"pusher:error","data":{"code":4301,"message":"rate"}}"#,
                "error Some(4301) rate",
            ),
            (
                r#"{"event":"pusher:error","data":"{\"message\":\"no code\"}"}"#,
                "error None no code",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(decode(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn data_forms() {
        // JS protocol_spec: object stays object, plain string stays string, JSON string is JSON.
        assert_eq!(
            decode(r#"{"event":"e","channel":"c","data":{"x":"y"}}"#).unwrap(),
            r#"event e Some("c") None Some("{\"x\":\"y\"}") Json"#
        );
        assert_eq!(
            decode(r#"{"event":"e","channel":"c","data":"just a string"}"#).unwrap(),
            r#"event e Some("c") None Some("just a string") String"#
        );
        assert_eq!(
            decode(r#"{"event":"e","data":"{\"x\":\"y\",\"z\":1}"}"#).unwrap(),
            r#"event e None None Some("{\"x\":\"y\",\"z\":1}") String"#
        );
        assert_eq!(
            decode(r#"{"event":"e"}"#).unwrap(),
            "event e None None None Absent"
        );
        assert_eq!(
            decode(r#"{"event":"e","data":null}"#).unwrap(),
            "event e None None None Absent"
        );
        assert_eq!(
            decode(r#"{"event":"e","data":12}"#).unwrap(),
            r#"event e None None Some("12") Json"#
        );
        assert!(matches!(
            decode("this isn't JSON"),
            Err(EventError::NotObject)
        ));
        assert!(matches!(
            decode(r#"{"event":"e""#),
            Err(EventError::Json(_))
        ));
        assert_eq!(decode(r#"{"channel":"c"}"#), Err(EventError::MissingEvent));
        assert_eq!(decode(r#"{"event":1}"#), Err(EventError::Field("event")));
        assert_eq!(decode("[]"), Err(EventError::NotObject));
    }

    #[test]
    fn traps() {
        // Surrogate pairs inside double-encoded data.
        assert_eq!(
            decode(
                r#"{"event":"chat","channel":"c","data":"{\"text\":\"party \\ud83c\\udf89\"}"}"#
            )
            .unwrap(),
            r#"event chat Some("c") None Some("{\"text\":\"party \\ud83c\\udf89\"}") String"#
        );
        assert_eq!(
            decode(r#"{"event":"chat","channel":"c","data":"party \ud83c\udf89"}"#).unwrap(),
            r#"event chat Some("c") None Some("party 🎉") String"#
        );
        // Lone surrogates are an error.
        assert!(matches!(
            decode(r#"{"event":"chat","data":"bad \ud83c"}"#),
            Err(EventError::Json(JsonError::LoneSurrogate { .. }))
        ));
        // Escaped event names (Laravel).
        assert_eq!(
            decode(r#"{"event":"App\\Events\\OrderShipped","channel":"orders","data":"{}"}"#)
                .unwrap(),
            r#"event App\Events\OrderShipped Some("orders") None Some("{}") String"#
        );
        // Pong with an object, a string, or nothing.
        for pong in [
            r#"{"event":"pusher:pong","data":{}}"#,
            r#"{"event":"pusher:pong","data":"{}"}"#,
            r#"{"event":"pusher:pong"}"#,
        ] {
            assert_eq!(decode(pong).unwrap(), "pong");
        }
        // Client events on presence channels carry user_id, string or number.
        assert_eq!(
            decode(r#"{"event":"client-x","channel":"presence-c","data":{"a":1},"user_id":"u1"}"#)
                .unwrap(),
            r#"event client-x Some("presence-c") Some("u1") Some("{\"a\":1}") Json"#
        );
        assert_eq!(
            decode(r#"{"user_id":10,"event":"client-x","channel":"presence-c"}"#).unwrap(),
            r#"event client-x Some("presence-c") Some("10") None Absent"#
        );
    }

    #[test]
    fn protocol_events() {
        let cases = [
            (
                r#"{"event":"pusher_internal:member_added","channel":"presence-c","data":"{\"user_id\":\"7\",\"user_info\":{\"n\":1}}"}"#,
                r#"added presence-c 7 {"n":1}"#,
            ),
            (
                r#"{"event":"pusher_internal:member_added","channel":"presence-c","data":"{\"user_id\":7}"}"#,
                "added presence-c 7 null",
            ),
            (
                r#"{"event":"pusher_internal:member_removed","channel":"presence-c","data":"{\"user_id\":\"7\"}"}"#,
                "removed presence-c 7",
            ),
            (
                r#"{"event":"pusher_internal:subscription_count","channel":"c","data":"{\"subscription_count\":51}"}"#,
                "count c 51",
            ),
            (
                r#"{"event":"pusher_internal:subscription_count","channel":"c","data":{"subscription_count":3}}"#,
                "count c 3",
            ),
            (
                r#"{"event":"pusher:signin_success","data":"{\"user_data\":\"{\\\"id\\\":\\\"1\\\"}\"}"}"#,
                r#"signin {\"id\":\"1\"}"#,
            ),
            (
                r#"{"event":"pusher:signin_success","data":{"user_data":"{\"id\":\"1\"}"}}"#,
                r#"signin {\"id\":\"1\"}"#,
            ),
            (
                r#"{"event":"pusher_internal:watchlist_events","data":"{\"events\":[{\"name\":\"online\",\"user_ids\":[\"1\",\"2\"]},{\"name\":\"offline\",\"user_ids\":[]}]}"}"#,
                "watchlist online:1,2 offline:",
            ),
            (
                r#"{"event":"pusher:cache_miss","channel":"cache-x"}"#,
                "cache_miss cache-x",
            ),
            (
                r#"{"event":"pusher:cache_miss","channel":"cache-x","data":"{}"}"#,
                "cache_miss cache-x",
            ),
            (r#"{"event":"pusher:ping","data":{}}"#, "ping"),
            (
                r#"{"event":"pusher:subscription_error","channel":"private-bad","data":{"type":"AuthError","error":"x","status":401}}"#,
                "sub_error private-bad Some(401)",
            ),
            (
                r#"{"event":"pusher:something_new","data":"{}"}"#,
                r#"event pusher:something_new None None Some("{}") String"#,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(decode(text).unwrap(), want, "{text}");
        }
        let errors = [
            (
                r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.1x\"}"}"#,
                EventError::InvalidSocketId,
            ),
            (
                r#"{"event":"pusher:connection_established","data":"{}"}"#,
                EventError::Field("socket_id"),
            ),
            (
                r#"{"event":"pusher:connection_established"}"#,
                EventError::Field("data"),
            ),
            (
                r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.1\",\"activity_timeout\":-1}"}"#,
                EventError::Field("activity_timeout"),
            ),
            (
                r#"{"event":"pusher_internal:subscription_succeeded","data":"{}"}"#,
                EventError::Field("channel"),
            ),
            (
                r#"{"event":"pusher_internal:member_added","channel":"p","data":"{}"}"#,
                EventError::Field("user_id"),
            ),
            (
                r#"{"event":"pusher:error","data":{"code":99999}}"#,
                EventError::Field("code"),
            ),
            (
                r#"{"event":"pusher_internal:watchlist_events","data":"{\"events\":{}}"}"#,
                EventError::Field("events"),
            ),
        ];
        for (text, want) in errors {
            assert_eq!(decode(text), Err(want), "{text}");
        }
    }

    #[test]
    fn in_place_with_control_escapes() {
        let text = "{\"even!\0\0\0\0\0\0\0er:pong\",\"data\":{}}";
        let mut out = [0u8; 512];
        let n = crate::wire::message::server::event(
            &mut out,
            text,
            Some(text),
            Some(crate::wire::message::Payload::Text(text)),
            Some(text),
        )
        .unwrap();
        let mut frame = out[..n].to_vec();
        let ev = Event::decode_in_place(&mut frame).unwrap();
        assert_eq!(
            (ev.event, ev.channel, ev.data, ev.user_id),
            (text, Some(text), Some(text), Some(text))
        );
    }

    #[test]
    fn envelope_is_zero_copy() {
        let text = r#" { "data" : "{\"a\":\"\\u00e9\"}" , "event" : "e" , "extra" : [1,{"k":null}], "channel":null } "#;
        let env = Envelope::parse(text).unwrap();
        assert!(env.event.eq_str("e"));
        assert_eq!(env.channel, None);
        match env.data {
            Data::Str(s) => {
                assert!(s.is_escaped());
                let mut out = [0u8; 64];
                assert_eq!(s.unescape_into(&mut out).unwrap(), r#"{"a":"\u00e9"}"#);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scratch_too_small_is_an_error() {
        let text = r#"{"event":"e","data":"0123456789abcdef0123456789"}"#;
        let mut small = [0u8; 8];
        assert!(matches!(
            Event::decode(text, &mut small),
            Err(EventError::Json(JsonError::BufferTooSmall { .. }))
        ));
        let text = r#"{"event":"a\\b","data":"x"}"#;
        let mut small = [0u8; 2];
        assert!(matches!(
            Event::decode(text, &mut small),
            Err(EventError::Json(JsonError::BufferTooSmall { .. }))
        ));
        let mut enough = [0u8; 5];
        let ev = Event::decode(text, &mut enough).unwrap();
        assert_eq!((ev.event, ev.data), (r"a\b", Some("x")));
    }
}
