//! The decoded event: every field unescaped, `data` into the caller's scratch buffer in the pass
//! that finds its end.

use super::envelope::{
    Data, DataForm, Envelope, Field, channel_field, string_field, user_id_value, walk,
};
use super::error::EventError;
use crate::wire::json::{JsonError, RawStr, Scanner, Value};

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

/// Where a field lies in its frame, and whether it holds escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    // 32 bits: frames are far smaller, and the layout stays on the client's poll stack.
    start: u32,
    len: u32,
    pub(crate) escaped: bool,
}

impl Span {
    /// Where the field starts in its frame.
    pub(crate) fn start(&self) -> usize {
        self.start as usize
    }

    /// The field's length as written.
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    /// The field's bytes as they lie in `frame` (still escaped when `escaped`).
    pub(crate) fn raw<'f>(&self, frame: &'f [u8]) -> &'f [u8] {
        frame
            .get(self.start()..self.start() + self.len())
            .unwrap_or(&[])
    }
}

/// A frame's fields located, as offsets: holds no borrow, so a caller can look at the frame,
/// decide, and only then take it mutably to unescape ([`Event::finish_in_place`]). The
/// client drops `pusher_internal:` messages for channels it never subscribed to this way,
/// with one parse of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) event: Span,
    pub(crate) channel: Option<Span>,
    pub(crate) user_id: Option<Span>,
    pub(crate) data: Option<Span>,
    pub(crate) form: DataForm,
}

impl Layout {
    /// Checks the frame is UTF-8, parses its envelope and records where each field lies.
    pub(crate) fn of(frame: &[u8]) -> Result<Layout, EventError> {
        let text = crate::utf8(frame).ok_or(EventError::InvalidUtf8)?;
        if u32::try_from(text.len()).is_err() {
            return Err(EventError::NotObject);
        }
        let base = text.as_ptr() as usize;
        let env = Envelope::parse(text)?;
        let span = |s: &str, escaped: bool| Span {
            // In range: the frame's length fits in 32 bits (checked above).
            start: (s.as_ptr() as usize - base) as u32,
            len: s.len() as u32,
            escaped,
        };
        let (data, form) = match env.data {
            Data::Absent => (None, DataForm::Absent),
            Data::Str(s) => (Some(span(s.raw(), s.is_escaped())), DataForm::String),
            Data::Json(v) => (Some(span(v.raw(), false)), DataForm::Json),
        };
        Ok(Layout {
            event: span(env.event.raw(), env.event.is_escaped()),
            channel: env.channel.map(|c| span(c.raw(), c.is_escaped())),
            user_id: env.user_id.map(|v| match v.as_raw_str() {
                Some(s) => span(s.raw(), s.is_escaped()),
                None => span(v.raw(), false),
            }),
            data,
            form,
        })
    }
}

/// The caller's scratch buffer, shared out: `data` from the front, escaped names from the back.
pub(super) struct Scratch<'b> {
    pub(super) buf: &'b mut [u8],
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

#[cfg(feature = "serde")]
impl<'b> Event<'b> {
    /// `data` decoded into `T`; see [`crate::wire::json::from_json`].
    pub fn json<'s, T: serde::Deserialize<'s>>(
        &self,
        scratch: &'s mut [u8],
    ) -> Result<T, crate::wire::json::DataError>
    where
        'b: 's,
    {
        let data = self.data.ok_or(crate::wire::json::DataError::Absent)?;
        crate::wire::json::from_json(data, scratch)
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
                    channel = match channel_field(sc)? {
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
        Self::decode_in_place_with(frame, &mut [])
    }

    /// [`Event::decode_in_place`], with spare memory to unescape through: a field that fits
    /// in `scratch` (its length plus 112 bytes) is unescaped there by the fast unescaper and
    /// copied back, the rest in place. The client hands the free end of its receive buffer,
    /// which made its receive path about twice as fast (`cargo bench --bench receive`).
    pub fn decode_in_place_with(
        frame: &'b mut [u8],
        scratch: &mut [u8],
    ) -> Result<Event<'b>, EventError> {
        let layout = Layout::of(frame)?;
        Self::finish_in_place(frame, scratch, layout)
    }

    /// [`Event::finish_in_place`] for a caller whose scratch lives as long as the frame (the
    /// client's is the free end of the same receive buffer): an escaped `data` is unescaped
    /// into `scratch` and left there, saving the copy back of the largest field.
    pub(crate) fn finish_in_place_keeping(
        frame: &'b mut [u8],
        scratch: &'b mut [u8],
        layout: Layout,
    ) -> Result<Event<'b>, EventError> {
        let Some(data) = layout
            .data
            .filter(|d| d.escaped && crate::wire::json::fits_scratch(d.len(), scratch.len()))
        else {
            return Self::finish_in_place(frame, scratch, layout);
        };
        let (text, rest) = crate::wire::json::unescape_into_scratch(data.raw(frame), scratch)
            .map_err(|e| crate::wire::json::shift(e, data.start()))?;
        // The names as usual (the rest of the scratch as their workspace); `data` is not
        // touched there, and comes from the scratch.
        let names = Layout {
            data: None,
            ..layout
        };
        let ev = Self::finish_in_place(frame, rest, names)?;
        Ok(Event {
            data: Some(text),
            ..ev
        })
    }

    /// The second half of [`Event::decode_in_place_with`]: unescapes the fields `layout`
    /// found in this same, unchanged `frame`.
    pub(crate) fn finish_in_place(
        frame: &'b mut [u8],
        scratch: &mut [u8],
        layout: Layout,
    ) -> Result<Event<'b>, EventError> {
        let Layout {
            event,
            channel,
            user_id,
            data,
            form,
        } = layout;
        // Rewrite the escaped fields in place.
        let mut fix = |field: Span| -> Result<(usize, usize), EventError> {
            let (start, len, escaped) = (field.start(), field.len(), field.escaped);
            if !escaped {
                return Ok((start, len));
            }
            let region = frame
                .get_mut(start..start + len)
                .ok_or(EventError::NotObject)?;
            let n = crate::wire::json::unescape_with_scratch(region, scratch)
                .map_err(|e| crate::wire::json::shift(e, start))?;
            // Blank the freed tail so the whole frame stays UTF-8.
            region.get_mut(n..).unwrap_or(&mut []).fill(b' ');
            Ok((start, n))
        };
        let event = fix(event)?;
        let channel = channel.map(&mut fix).transpose()?;
        let user_id = user_id.map(&mut fix).transpose()?;
        let data = data.map(&mut fix).transpose()?;
        // Valid by construction: the frame was checked by `Layout::of`, and unescaping in
        // place keeps whole characters (the argument is in `wire::arch`); validated again off
        // x86_64.
        let text: &'b str = crate::wire::json::unescaped_text(frame)
            .ok_or(EventError::Json(JsonError::InvalidEscape { at: 0 }))?;
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
