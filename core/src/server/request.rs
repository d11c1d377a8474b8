//! What a client sends, decoded for a server: subscribe (with `auth` and `channel_data`),
//! unsubscribe, ping, pong, sign-in and client events.

use core::fmt;

use crate::name::{ChannelName, EventName, NameError};
use crate::wire::event::{DataForm, Event, EventError};
use crate::wire::json::{JsonError, RawStr, Value};

/// A decoded client-to-server message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ClientMessage<'b> {
    /// `pusher:subscribe`.
    Subscribe {
        /// The channel asked for.
        channel: ChannelName<'b>,
        /// `auth` (`key:signature`); absent or empty for public channels.
        auth: Option<&'b str>,
        /// `channel_data`, decoded: the exact bytes the signature covers (presence channels).
        channel_data: Option<&'b str>,
    },
    /// `pusher:unsubscribe`.
    Unsubscribe {
        /// The channel.
        channel: ChannelName<'b>,
    },
    /// `pusher:ping`: answer with `pusher:pong`.
    Ping,
    /// `pusher:pong`.
    Pong,
    /// `pusher:signin`.
    Signin {
        /// `key:signature`.
        auth: &'b str,
        /// `user_data`, decoded: the exact bytes the signature covers.
        user_data: &'b str,
    },
    /// A `client-` event for the other subscribers of `channel`.
    ClientEvent {
        /// The event name (`client-...`).
        event: EventName<'b>,
        /// The channel it is sent on.
        channel: ChannelName<'b>,
        /// The payload: decoded text when it was a string, else its JSON text.
        data: Option<&'b str>,
        /// How `data` was sent.
        form: DataForm,
    },
    /// Any other event name (Pusher answers with `pusher:error`).
    Unknown {
        /// The event name.
        event: &'b str,
    },
}

/// Why a client frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ClientMessageError {
    /// Not a Pusher envelope (bad JSON, no event name, ...).
    Envelope(EventError),
    /// A field of `data` is missing or of the wrong type.
    Field(&'static str),
    /// The channel name is invalid.
    Channel(NameError),
    /// A client event's name does not start with `client-` or is invalid.
    EventName(NameError),
    /// The scratch buffer is too small (twice the frame length always suffices).
    BufferTooSmall,
}

impl fmt::Display for ClientMessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientMessageError::Envelope(e) => write!(f, "invalid message: {e}"),
            ClientMessageError::Field(name) => {
                write!(f, "invalid message: bad or missing `{name}`")
            }
            ClientMessageError::Channel(e) => write!(f, "invalid channel name: {e}"),
            ClientMessageError::EventName(e) => write!(f, "invalid event name: {e}"),
            ClientMessageError::BufferTooSmall => f.write_str("scratch buffer too small"),
        }
    }
}

impl core::error::Error for ClientMessageError {}

impl From<EventError> for ClientMessageError {
    fn from(e: EventError) -> Self {
        ClientMessageError::Envelope(e)
    }
}

impl From<JsonError> for ClientMessageError {
    fn from(e: JsonError) -> Self {
        match e {
            JsonError::BufferTooSmall { .. } => ClientMessageError::BufferTooSmall,
            e => ClientMessageError::Envelope(EventError::Json(e)),
        }
    }
}

impl<'b> ClientMessage<'b> {
    /// Decodes one client frame. `data` may be an object (pusher-js) or a string holding one
    /// (some other clients); `channel_data` and `user_data` are unescaped into `scratch`, which
    /// twice the length of `text` always suffices for.
    ///
    /// ```
    /// use pusher_core::server::ClientMessage;
    /// let frame = r#"{"event":"pusher:subscribe","data":{"auth":"","channel":"news"}}"#;
    /// let mut scratch = [0u8; 256];
    /// match ClientMessage::decode(frame, &mut scratch)? {
    ///     ClientMessage::Subscribe { channel, auth, .. } => {
    ///         assert_eq!((channel.as_str(), auth), ("news", Some("")));
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), pusher_core::server::ClientMessageError>(())
    /// ```
    pub fn decode(
        text: &'b str,
        scratch: &'b mut [u8],
    ) -> Result<ClientMessage<'b>, ClientMessageError> {
        let half = scratch.len() / 2;
        let (for_event, mut for_fields) = scratch.split_at_mut(half);
        let ev = Event::decode(text, for_event)?;
        let Some(name) = ev.event.strip_prefix("pusher:") else {
            return client_event(ev);
        };
        let data = || -> Result<Value<'b>, ClientMessageError> {
            let text = ev.data.ok_or(ClientMessageError::Field("data"))?;
            Ok(Value::parse(text)?)
        };
        Ok(match name {
            "subscribe" => {
                let d = data()?;
                let channel = channel_of(&d)?;
                let auth = optional_str(&d, "auth")?;
                let channel_data = match optional_raw(&d, "channel_data")? {
                    Some(raw) => Some(unescape(raw, &mut for_fields)?),
                    None => None,
                };
                ClientMessage::Subscribe {
                    channel,
                    auth,
                    channel_data,
                }
            }
            "unsubscribe" => ClientMessage::Unsubscribe {
                channel: channel_of(&data()?)?,
            },
            "ping" => ClientMessage::Ping,
            "pong" => ClientMessage::Pong,
            "signin" => {
                let d = data()?;
                let auth = optional_str(&d, "auth")?.ok_or(ClientMessageError::Field("auth"))?;
                let raw =
                    optional_raw(&d, "user_data")?.ok_or(ClientMessageError::Field("user_data"))?;
                ClientMessage::Signin {
                    auth,
                    user_data: unescape(raw, &mut for_fields)?,
                }
            }
            _ => ClientMessage::Unknown { event: ev.event },
        })
    }
}

fn client_event(ev: Event<'_>) -> Result<ClientMessage<'_>, ClientMessageError> {
    if !ev.event.starts_with("client-") {
        return Ok(ClientMessage::Unknown { event: ev.event });
    }
    let event = EventName::client(ev.event).map_err(ClientMessageError::EventName)?;
    let channel = ev.channel.ok_or(ClientMessageError::Field("channel"))?;
    Ok(ClientMessage::ClientEvent {
        event,
        channel: ChannelName::new(channel).map_err(ClientMessageError::Channel)?,
        data: ev.data,
        form: ev.form,
    })
}

fn optional_raw<'b>(
    d: &Value<'b>,
    field: &'static str,
) -> Result<Option<RawStr<'b>>, ClientMessageError> {
    match d.get(field) {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(None),
        Some(v) => v
            .as_raw_str()
            .map(Some)
            .ok_or(ClientMessageError::Field(field)),
    }
}

/// A short field that never needs escapes (`auth` is `key:hex`, channel names are ASCII
/// without quotes or backslashes); an escaped one is refused rather than decoded.
fn optional_str<'b>(
    d: &Value<'b>,
    field: &'static str,
) -> Result<Option<&'b str>, ClientMessageError> {
    match optional_raw(d, field)? {
        None => Ok(None),
        Some(raw) => raw
            .as_str()
            .map(Some)
            .ok_or(ClientMessageError::Field(field)),
    }
}

fn channel_of<'b>(d: &Value<'b>) -> Result<ChannelName<'b>, ClientMessageError> {
    let name = optional_str(d, "channel")?.ok_or(ClientMessageError::Field("channel"))?;
    ChannelName::new(name).map_err(ClientMessageError::Channel)
}

/// Unescapes `raw` into the front of `buf`, leaving the rest in `buf`.
fn unescape<'b>(raw: RawStr<'b>, buf: &mut &'b mut [u8]) -> Result<&'b str, ClientMessageError> {
    if let Some(plain) = raw.as_str() {
        return Ok(plain);
    }
    let need = raw.raw().len();
    let taken = core::mem::take(buf);
    let (slot, rest) = taken
        .split_at_mut_checked(need)
        .ok_or(ClientMessageError::BufferTooSmall)?;
    *buf = rest;
    Ok(raw.unescape_into(slot)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(frame: &str) -> Result<ClientMessage<'_>, ClientMessageError> {
        let scratch = std::vec![0u8; 2 * frame.len()].leak();
        ClientMessage::decode(frame, scratch)
    }

    #[test]
    fn what_pusher_js_and_other_clients_send() {
        // pusher-js presence subscribe (protocol.md 2.1): channel_data decodes to the signed bytes.
        let frame = r#"{"event":"pusher:subscribe","data":{"auth":"KEY:SIG","channel_data":"{\"user_id\":\"1\",\"user_info\":{\"n\":\"\u00e9\"}}","channel":"presence-x"}}"#;
        assert_eq!(
            decode(frame).unwrap(),
            ClientMessage::Subscribe {
                channel: ChannelName::new("presence-x").unwrap(),
                auth: Some("KEY:SIG"),
                channel_data: Some(r#"{"user_id":"1","user_info":{"n":"é"}}"#),
            }
        );
        // Java omits auth for public channels; some clients send data as a string.
        let frame = r#"{"event":"pusher:subscribe","data":"{\"channel\":\"news\"}"}"#;
        assert!(matches!(
            decode(frame).unwrap(),
            ClientMessage::Subscribe { auth: None, channel_data: None, channel } if channel.as_str() == "news"
        ));
        assert!(matches!(
            decode(r#"{"event":"pusher:unsubscribe","data":{"channel":"news"}}"#).unwrap(),
            ClientMessage::Unsubscribe { .. }
        ));
        assert_eq!(
            decode(r#"{"event":"pusher:ping"}"#).unwrap(),
            ClientMessage::Ping
        );
        assert_eq!(
            decode(r#"{"event":"pusher:pong","data":{}}"#).unwrap(),
            ClientMessage::Pong
        );
        let frame =
            r#"{"event":"pusher:signin","data":{"auth":"k:s","user_data":"{\"id\":\"1\"}"}}"#;
        assert_eq!(
            decode(frame).unwrap(),
            ClientMessage::Signin {
                auth: "k:s",
                user_data: r#"{"id":"1"}"#
            }
        );
        let frame = r#"{"event":"client-typing","channel":"private-c","data":{"a":1}}"#;
        assert!(matches!(
            decode(frame).unwrap(),
            ClientMessage::ClientEvent {
                data: Some(r#"{"a":1}"#),
                form: DataForm::Json,
                ..
            }
        ));
        assert_eq!(
            decode(r#"{"event":"pusher:whatever","data":{}}"#).unwrap(),
            ClientMessage::Unknown {
                event: "pusher:whatever"
            }
        );
    }

    #[test]
    fn bad_frames_are_typed_errors() {
        for (frame, want) in [
            ("not json", "invalid message"),
            (r#"{"event":"pusher:subscribe"}"#, "`data`"),
            (r#"{"event":"pusher:subscribe","data":{}}"#, "`channel`"),
            (
                r#"{"event":"pusher:subscribe","data":{"channel":"a b"}}"#,
                "channel name",
            ),
            (
                r#"{"event":"pusher:subscribe","data":{"channel":"x","auth":7}}"#,
                "`auth`",
            ),
            (
                r#"{"event":"pusher:signin","data":{"auth":"k:s"}}"#,
                "`user_data`",
            ),
            (r#"{"event":"client-x","data":{}}"#, "`channel`"),
            (
                r#"{"event":"client-x","channel":"a:b","data":{}}"#,
                "channel name",
            ),
        ] {
            let err = decode(frame).unwrap_err();
            let text = std::format!("{err}");
            assert!(text.contains(want), "{frame}: {text}");
        }
        let frame =
            r#"{"event":"pusher:signin","data":{"auth":"k:s","user_data":"{\"id\":\"1\"}"}}"#;
        let mut small = [0u8; 20];
        assert!(ClientMessage::decode(frame, &mut small).is_err());
    }
}
