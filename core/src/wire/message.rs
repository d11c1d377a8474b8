//! Encoders for Pusher messages, written as JSON into caller buffers.
//!
//! Client-to-server messages put an object in `data`, as pusher-js does; `auth`, `channel_data`
//! and `user_data` are embedded as escaped JSON strings whose decoded bytes are exactly the
//! bytes that were signed. Server-to-client encoders (for tests and a development server)
//! double-encode `data` as real servers do.

use core::fmt;

use super::json::{JsonError, Value, write_string};
use crate::buf::{BufferTooSmall, Writer};
use crate::name::{ChannelName, EventName, SocketId};

/// Why a message was not encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is too small.
    BufferTooSmall(BufferTooSmall),
    /// A payload declared as JSON is not one valid JSON value.
    InvalidJson(JsonError),
    /// Client events must be named `client-...`.
    NotClientEvent,
    /// Client events are only allowed on private and presence channels (not encrypted ones).
    ClientEventsNotAllowed,
    /// A typed payload could not be written as JSON (the `serde` feature).
    Serialize,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall(e) => e.fmt(f),
            EncodeError::InvalidJson(e) => write!(f, "payload is not valid JSON: {e}"),
            EncodeError::NotClientEvent => {
                f.write_str("client event names must start with `client-`")
            }
            EncodeError::Serialize => f.write_str("the payload cannot be written as JSON"),
            EncodeError::ClientEventsNotAllowed => f.write_str(
                "client events need a private or presence channel that is not encrypted",
            ),
        }
    }
}

impl core::error::Error for EncodeError {}

impl From<BufferTooSmall> for EncodeError {
    fn from(e: BufferTooSmall) -> Self {
        EncodeError::BufferTooSmall(e)
    }
}

/// An event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Payload<'a> {
    /// JSON text, embedded as a value (checked to be exactly one JSON value).
    Json(&'a str),
    /// Any text, embedded as a JSON string.
    Text(&'a str),
}

fn payload(w: &mut Writer<'_>, p: Payload<'_>) -> Result<(), EncodeError> {
    match p {
        Payload::Json(text) => {
            Value::parse(text).map_err(EncodeError::InvalidJson)?;
            w.push_str(text.trim_ascii());
        }
        Payload::Text(text) => write_string(w, text),
    }
    Ok(())
}

/// Writes `pusher:subscribe`. `auth` is omitted for public channels; `channel_data` is for
/// presence channels.
pub fn subscribe(
    out: &mut [u8],
    channel: ChannelName<'_>,
    auth: Option<&str>,
    channel_data: Option<&str>,
) -> Result<usize, BufferTooSmall> {
    subscribe_with(out, channel, auth.map(Token::Text), channel_data)
}

/// An `auth` value: given as text, or as the key and the raw HMAC-SHA256 signature it is
/// made of (written straight into the frame as `key:hex`, so signing on the device needs no
/// token buffer).
#[derive(Clone, Copy)]
pub(crate) enum Token<'a> {
    Text(&'a str),
    Signed(&'a str, &'a [u8; 32]),
}

fn write_token(w: &mut Writer<'_>, token: Token<'_>) {
    match token {
        Token::Text(t) => write_string(w, t),
        Token::Signed(key, signature) => {
            w.push_byte(b'"');
            super::json::write_escaped(w, key);
            w.push_byte(b':');
            for b in signature {
                for nibble in [b >> 4, b & 15] {
                    w.push_byte(
                        b"0123456789abcdef"
                            .get(usize::from(nibble))
                            .copied()
                            .unwrap_or(b'0'),
                    );
                }
            }
            w.push_byte(b'"');
        }
    }
}

/// [`subscribe`] with either kind of token.
pub(crate) fn subscribe_with(
    out: &mut [u8],
    channel: ChannelName<'_>,
    auth: Option<Token<'_>>,
    channel_data: Option<&str>,
) -> Result<usize, BufferTooSmall> {
    let mut w = Writer::new(out);
    w.push_str(r#"{"event":"pusher:subscribe","data":{"#);
    if let Some(auth) = auth {
        w.push_str(r#""auth":"#);
        write_token(&mut w, auth);
        w.push_byte(b',');
    }
    if let Some(data) = channel_data {
        w.push_str(r#""channel_data":"#);
        write_string(&mut w, data);
        w.push_byte(b',');
    }
    w.push_str(r#""channel":"#);
    write_string(&mut w, channel.as_str());
    w.push_str("}}");
    w.finish_len()
}

/// Writes `pusher:unsubscribe`.
pub fn unsubscribe(out: &mut [u8], channel: ChannelName<'_>) -> Result<usize, BufferTooSmall> {
    let mut w = Writer::new(out);
    w.push_str(r#"{"event":"pusher:unsubscribe","data":{"channel":"#);
    write_string(&mut w, channel.as_str());
    w.push_str("}}");
    w.finish_len()
}

/// `pusher:ping`, as pusher-js sends it.
pub const PING: &str = r#"{"event":"pusher:ping","data":{}}"#;
/// `pusher:pong`, the answer to every `pusher:ping`.
pub const PONG: &str = r#"{"event":"pusher:pong","data":{}}"#;

/// Writes a client event (`client-*` on a private or presence channel).
pub fn client_event(
    out: &mut [u8],
    channel: ChannelName<'_>,
    event: EventName<'_>,
    data: Payload<'_>,
) -> Result<usize, EncodeError> {
    if !event.is_client() {
        return Err(EncodeError::NotClientEvent);
    }
    if !channel.kind().allows_client_events() {
        return Err(EncodeError::ClientEventsNotAllowed);
    }
    let mut w = Writer::new(out);
    w.push_str(r#"{"event":"#);
    write_string(&mut w, event.as_str());
    w.push_str(r#","channel":"#);
    write_string(&mut w, channel.as_str());
    w.push_str(r#","data":"#);
    payload(&mut w, data)?;
    w.push_byte(b'}');
    Ok(w.finish_len()?)
}

/// Writes a client event whose `data` is written by `data` into the rest of the buffer (a
/// typed payload, serialized in place: no second buffer, no re-parse); `data` returns the
/// length it wrote. (It repeats [`client_event`]'s head on purpose: routing that one through
/// this cost the complete client 44 B of flash and 8 B of stack, `scripts/footprint`.)
pub fn client_event_with(
    out: &mut [u8],
    channel: ChannelName<'_>,
    event: EventName<'_>,
    data: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>,
) -> Result<usize, EncodeError> {
    if !event.is_client() {
        return Err(EncodeError::NotClientEvent);
    }
    if !channel.kind().allows_client_events() {
        return Err(EncodeError::ClientEventsNotAllowed);
    }
    let mut w = Writer::new(out);
    w.push_str(r#"{"event":"#);
    write_string(&mut w, event.as_str());
    w.push_str(r#","channel":"#);
    write_string(&mut w, channel.as_str());
    w.push_str(r#","data":"#);
    let head = w.finish_len()?;
    let rest = out.get_mut(head..).unwrap_or(&mut []);
    let body = data(rest)?;
    let end = head + body;
    *out.get_mut(end)
        .ok_or(EncodeError::BufferTooSmall(BufferTooSmall {
            needed: end + 1,
        }))? = b'}';
    Ok(end + 1)
}

/// Writes `pusher:signin` with the auth token and the exact signed `user_data`.
pub fn signin(out: &mut [u8], auth: &str, user_data: &str) -> Result<usize, BufferTooSmall> {
    signin_with(out, Token::Text(auth), user_data)
}

/// [`signin`] with either kind of token.
pub(crate) fn signin_with(
    out: &mut [u8],
    auth: Token<'_>,
    user_data: &str,
) -> Result<usize, BufferTooSmall> {
    let mut w = Writer::new(out);
    w.push_str(r#"{"event":"pusher:signin","data":{"auth":"#);
    write_token(&mut w, auth);
    w.push_str(r#","user_data":"#);
    write_string(&mut w, user_data);
    w.push_str("}}");
    w.finish_len()
}

/// Server-to-client encoders, for tests and development servers.
pub mod server {
    use super::*;

    /// Writes `{"event":..,"channel":..,"data":..,"user_id":..}`, the shape every server frame
    /// has. A JSON payload is double-encoded (sent as a string), as Pusher does.
    pub fn event(
        out: &mut [u8],
        event: &str,
        channel: Option<&str>,
        data: Option<Payload<'_>>,
        user_id: Option<&str>,
    ) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        w.push_str(r#"{"event":"#);
        write_string(&mut w, event);
        if let Some(c) = channel {
            w.push_str(r#","channel":"#);
            write_string(&mut w, c);
        }
        if let Some(d) = data {
            w.push_str(r#","data":"#);
            match d {
                Payload::Json(text) => {
                    Value::parse(text).map_err(EncodeError::InvalidJson)?;
                    write_string(&mut w, text.trim_ascii());
                }
                Payload::Text(text) => write_string(&mut w, text),
            }
        }
        if let Some(u) = user_id {
            w.push_str(r#","user_id":"#);
            write_string(&mut w, u);
        }
        w.push_byte(b'}');
        Ok(w.finish_len()?)
    }

    /// Writes `pusher:connection_established`.
    pub fn connection_established(
        out: &mut [u8],
        socket_id: SocketId<'_>,
        activity_timeout: u32,
    ) -> Result<usize, BufferTooSmall> {
        let mut w = Writer::new(out);
        w.push_str(r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\""#);
        w.push_str(socket_id.as_str());
        w.push_str(r#"\",\"activity_timeout\":"#);
        w.push_u64(u64::from(activity_timeout));
        w.push_str(r#"}"}"#);
        w.finish_len()
    }

    /// Writes `pusher:error` with an object `data`, as the real service does.
    pub fn error(
        out: &mut [u8],
        code: Option<u16>,
        message: &str,
    ) -> Result<usize, BufferTooSmall> {
        let mut w = Writer::new(out);
        w.push_str(r#"{"event":"pusher:error","data":{"code":"#);
        match code {
            Some(c) => w.push_u64(u64::from(c)),
            None => w.push_str("null"),
        }
        w.push_str(r#","message":"#);
        write_string(&mut w, message);
        w.push_str("}}");
        w.finish_len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::event::{Event, ServerMessage};
    use crate::wire::json::Value;

    fn enc(f: impl FnOnce(&mut [u8]) -> Result<usize, BufferTooSmall>) -> std::string::String {
        let mut buf = [0u8; 512];
        let n = f(&mut buf).unwrap();
        std::string::String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn subscribe_shapes() {
        let ch = ChannelName::new("my-channel").unwrap();
        assert_eq!(
            enc(|b| subscribe(b, ch, None, None)),
            r#"{"event":"pusher:subscribe","data":{"channel":"my-channel"}}"#
        );
        let ch = ChannelName::new("presence-x").unwrap();
        let data = r#"{"user_id":"1","user_info":{"name":"a \"q\" é"}}"#;
        let text = enc(|b| subscribe(b, ch, Some("KEY:SIG"), Some(data)));
        assert_eq!(
            text,
            r#"{"event":"pusher:subscribe","data":{"auth":"KEY:SIG","channel_data":"{\"user_id\":\"1\",\"user_info\":{\"name\":\"a \\\"q\\\" é\"}}","channel":"presence-x"}}"#
        );
        // The embedded channel_data decodes to exactly the signed bytes.
        let v = Value::parse(&text).unwrap();
        let cd = v
            .get("data")
            .unwrap()
            .get("channel_data")
            .unwrap()
            .as_raw_str()
            .unwrap();
        let mut out = [0u8; 128];
        assert_eq!(cd.unescape_into(&mut out).unwrap(), data);
    }

    #[test]
    fn other_client_messages() {
        let ch = ChannelName::new("private-c").unwrap();
        assert_eq!(
            enc(|b| unsubscribe(b, ch)),
            r#"{"event":"pusher:unsubscribe","data":{"channel":"private-c"}}"#
        );
        assert_eq!(
            enc(|b| signin(b, "k:s", r#"{"id":"1"}"#)),
            r#"{"event":"pusher:signin","data":{"auth":"k:s","user_data":"{\"id\":\"1\"}"}}"#
        );
        let mut buf = [0u8; 128];
        let ev = EventName::new("client-typing").unwrap();
        let n = client_event(&mut buf, ch, ev, Payload::Json(r#" {"a":1} "#)).unwrap();
        assert_eq!(
            &buf[..n],
            br#"{"event":"client-typing","channel":"private-c","data":{"a":1}}"#
        );
        let n = client_event(&mut buf, ch, ev, Payload::Text("hi \"x\"")).unwrap();
        assert_eq!(
            &buf[..n],
            br#"{"event":"client-typing","channel":"private-c","data":"hi \"x\""}"#
        );
        assert!(matches!(
            client_event(&mut buf, ch, ev, Payload::Json("{\"a\":1}, {}")),
            Err(EncodeError::InvalidJson(_))
        ));
        let public = ChannelName::new("public").unwrap();
        assert_eq!(
            client_event(&mut buf, public, ev, Payload::Json("{}")),
            Err(EncodeError::ClientEventsNotAllowed)
        );
        let enc_ch = ChannelName::new("private-encrypted-x").unwrap();
        assert_eq!(
            client_event(&mut buf, enc_ch, ev, Payload::Json("{}")),
            Err(EncodeError::ClientEventsNotAllowed)
        );
        let plain = EventName::new("typing").unwrap();
        assert_eq!(
            client_event(&mut buf, ch, plain, Payload::Json("{}")),
            Err(EncodeError::NotClientEvent)
        );
        assert!(matches!(
            client_event(&mut buf[..10], ch, ev, Payload::Json("{}")),
            Err(EncodeError::BufferTooSmall(_))
        ));
    }

    #[test]
    fn server_frames_round_trip() {
        let mut buf = [0u8; 256];
        let n =
            server::connection_established(&mut buf, SocketId::new("1.2").unwrap(), 120).unwrap();
        let text = core::str::from_utf8(&buf[..n]).unwrap();
        let mut scratch = [0u8; 256];
        assert!(matches!(
            ServerMessage::decode(text, &mut scratch),
            Ok(ServerMessage::ConnectionEstablished {
                activity_timeout: Some(120),
                ..
            })
        ));
        let n = server::event(
            &mut buf,
            "ev",
            Some("ch"),
            Some(Payload::Json(r#"{"m":"🎉\n"}"#)),
            Some("u1"),
        )
        .unwrap();
        let text = core::str::from_utf8(&buf[..n]).unwrap();
        let ev = Event::decode(text, &mut scratch).unwrap();
        assert_eq!(
            (ev.event, ev.channel, ev.user_id, ev.data),
            ("ev", Some("ch"), Some("u1"), Some(r#"{"m":"🎉\n"}"#))
        );
        let n = server::error(&mut buf, None, "bad \"sig\"").unwrap();
        let text = core::str::from_utf8(&buf[..n]).unwrap();
        match ServerMessage::decode(text, &mut scratch).unwrap() {
            ServerMessage::Error {
                code: None,
                message,
            } => assert!(message.eq_str("bad \"sig\"")),
            other => panic!("{other:?}"),
        }
    }
}
