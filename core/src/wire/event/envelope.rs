//! The zero-copy envelope: `event`, `channel`, `data` and `user_id` as raw slices of the frame, in
//! any order.

use super::error::EventError;
use crate::name::CHANNEL_NAME_MAX_LIMIT;
use crate::wire::json::{JsonError, Kind, RawStr, Scanner, Value};

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

/// How `data` was encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DataForm {
    /// No `data`.
    Absent,
    /// A JSON string; [`Event::data`](super::Event::data) holds its decoded contents.
    String,
    /// A JSON value; [`Event::data`](super::Event::data) holds its JSON text.
    Json,
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
pub(super) enum Field {
    Event,
    Channel,
    Data,
    UserId,
    Other,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Event => "event",
            Field::Channel => "channel",
            Field::Data => "data",
            Field::UserId => "user_id",
            Field::Other => "",
        }
    }
}

/// The `channel` field: a string or `null`, and no longer than a channel name can be
/// (Pusher's limit is 200 bytes; an escaped name may take six bytes a character).
pub(super) fn channel_field<'a>(sc: &mut Scanner<'a>) -> Result<Option<RawStr<'a>>, EventError> {
    let channel = nullable_string(sc, "channel")?;
    if let Some(c) = channel {
        let limit = if c.is_escaped() {
            6 * CHANNEL_NAME_MAX_LIMIT
        } else {
            CHANNEL_NAME_MAX_LIMIT
        };
        if c.raw().len() > limit {
            return Err(EventError::Field("channel"));
        }
    }
    Ok(channel)
}

pub(super) fn field_of(key: RawStr<'_>) -> Field {
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
/// (and validated). A known key that appears twice is an error: two parsers (ours and a
/// proxy's, say) would otherwise read one frame differently.
pub(super) fn walk<'a>(
    text: &'a str,
    mut on: impl FnMut(Field, &mut Scanner<'a>) -> Result<(), EventError>,
) -> Result<(), EventError> {
    let mut sc = Scanner::new(text);
    if sc.peek() != Some(b'{') {
        return Err(EventError::NotObject);
    }
    sc.consume(b'{')?;
    let mut seen = 0u8;
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
                f => {
                    let bit = 1u8 << (f as u8);
                    if seen & bit != 0 {
                        return Err(EventError::DuplicateField(f.name()));
                    }
                    seen |= bit;
                    on(f, &mut sc)?
                }
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

pub(super) fn string_field<'a>(
    sc: &mut Scanner<'a>,
    name: &'static str,
) -> Result<RawStr<'a>, EventError> {
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
                Field::Channel => channel = channel_field(sc)?,
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

pub(super) fn nullable_string<'a>(
    sc: &mut Scanner<'a>,
    name: &'static str,
) -> Result<Option<RawStr<'a>>, EventError> {
    let v = sc.value()?;
    if v.is_null() {
        return Ok(None);
    }
    v.as_raw_str().map(Some).ok_or(EventError::Field(name))
}

pub(super) fn user_id_value<'a>(sc: &mut Scanner<'a>) -> Result<Option<Value<'a>>, EventError> {
    let v = sc.value()?;
    match v.kind() {
        Kind::Null => Ok(None),
        Kind::String | Kind::Number => Ok(Some(v)),
        _ => Err(EventError::Field("user_id")),
    }
}
