//! Typed payloads (the `serde` feature): a message's `data` decoded into any
//! `T: Deserialize` through serde-json-core, and any `T: Serialize` written as JSON, with no
//! heap.
//!
//! serde-json-core alone fails on what Python-style publishers send: `json.dumps` escapes
//! every non-ASCII character, so `"café 🍕"` arrives as `"caf\u00e9 \ud83c\udf55"`, and
//! serde-json-core rejects the surrogate pair and cannot hand out a borrowed `&str` for any
//! escaped string. So the text is first copied into the caller's scratch buffer with every
//! `\u` escape turned into its UTF-8 bytes (a pair into one scalar; a lone surrogate is an
//! error), leaving escaped only what must stay escaped in JSON: `\"`, `\\` and control
//! characters. The copy is never longer than the text. Strings without those remaining
//! escapes are then borrowed from the scratch (zero-copy `&str` fields); strings with them
//! are unescaped into the rest of the scratch, which owned fields (`heapless::String`) take.

use core::fmt;

use super::JsonError;

/// Why a payload did not decode into the type asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DataError {
    /// The message has no `data`.
    Absent,
    /// A `\u` escape is malformed or half of a surrogate pair.
    Escape(JsonError),
    /// The scratch buffer is shorter than the text.
    BufferTooSmall {
        /// Bytes that always suffice: the text's length, plus room for escaped strings
        /// that owned fields take.
        needed: usize,
    },
    /// The JSON does not fit the type (or is not JSON).
    Json(serde_json_core::de::Error),
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Absent => f.write_str("the message has no data"),
            DataError::Escape(e) => write!(f, "bad escape in data: {e}"),
            DataError::BufferTooSmall { needed } => {
                write!(
                    f,
                    "scratch buffer too small for the data ({needed} bytes needed)"
                )
            }
            DataError::Json(e) => write!(f, "data does not fit the type: {e}"),
        }
    }
}

impl core::error::Error for DataError {}

/// Decodes JSON text into `T`, borrowing from the text, or from `scratch` when `\u` escapes
/// had to be folded first (see the module docs). `scratch` needs the text's length, plus the
/// length of any string with `\"`, `\\` or control escapes that an owned field takes;
/// twice the text always suffices.
///
/// ```
/// use pusher_core::wire::json::from_json;
/// #[derive(serde::Deserialize)]
/// struct Order<'a> { item: &'a str, qty: u32, gift: bool }
/// // As Python's json.dumps sends it: non-ASCII escaped, emoji as a surrogate pair.
/// let text = r#"{"item":"caf\u00e9 \ud83c\udf55","qty":2,"gift":false}"#;
/// let mut scratch = [0u8; 128];
/// let order: Order = from_json(text, &mut scratch)?;
/// assert_eq!((order.item, order.qty, order.gift), ("café 🍕", 2, false));
/// # Ok::<(), pusher_core::wire::json::DataError>(())
/// ```
pub fn from_json<'s, T: serde::Deserialize<'s>>(
    text: &'s str,
    scratch: &'s mut [u8],
) -> Result<T, DataError> {
    let needed = text.len();
    let too_long = |e| match e {
        serde_json_core::de::Error::EscapedStringIsTooLong => DataError::BufferTooSmall {
            needed: needed.saturating_mul(2),
        },
        e => DataError::Json(e),
    };
    if !text.as_bytes().windows(2).any(|w| w == b"\\u") {
        // Nothing to fold: decode the text itself, borrowing from it.
        let (value, _) =
            serde_json_core::from_slice_escaped(text.as_bytes(), scratch).map_err(too_long)?;
        return Ok(value);
    }
    let n = fold_unicode_escapes(text.as_bytes(), scratch)?;
    let (folded, unescape) = scratch.split_at_mut(n);
    let (value, _) = serde_json_core::from_slice_escaped(folded, unescape).map_err(too_long)?;
    Ok(value)
}

/// Copies JSON text into `out` with every `\uXXXX` escape (and surrogate pair) replaced by
/// its UTF-8 bytes, except `"`, `\` and control characters, which stay escaped. Returns the
/// length written, never more than `text.len()`.
pub fn fold_unicode_escapes(text: &[u8], out: &mut [u8]) -> Result<usize, DataError> {
    let too_small = DataError::BufferTooSmall { needed: text.len() };
    let mut put = |at: usize, bytes: &[u8]| -> Result<usize, DataError> {
        out.get_mut(at..at + bytes.len())
            .ok_or(too_small)?
            .copy_from_slice(bytes);
        Ok(at + bytes.len())
    };
    let (mut i, mut w) = (0, 0);
    while let Some(&b) = text.get(i) {
        if b != b'\\' {
            w = put(w, &[b])?;
            i += 1;
            continue;
        }
        if text.get(i + 1) != Some(&b'u') {
            // Another escape (or a backslash at the very end): copied as it is.
            let two = text.get(i..(i + 2).min(text.len())).unwrap_or(&[]);
            w = put(w, two)?;
            i += two.len().max(1);
            continue;
        }
        let unit =
            hex4(text, i + 2).ok_or(DataError::Escape(JsonError::InvalidEscape { at: i }))?;
        let (scalar, len) = match unit {
            0xD800..=0xDBFF => {
                let low = (text.get(i + 6) == Some(&b'\\') && text.get(i + 7) == Some(&b'u'))
                    .then(|| hex4(text, i + 8))
                    .flatten()
                    .filter(|l| (0xDC00..=0xDFFF).contains(l))
                    .ok_or(DataError::Escape(JsonError::LoneSurrogate { at: i }))?;
                (0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), 12)
            }
            0xDC00..=0xDFFF => return Err(DataError::Escape(JsonError::LoneSurrogate { at: i })),
            u => (u, 6),
        };
        match char::from_u32(scalar) {
            Some(c) if c >= ' ' && c != '"' && c != '\\' => {
                w = put(w, c.encode_utf8(&mut [0u8; 4]).as_bytes())?;
            }
            _ => w = put(w, text.get(i..i + len).unwrap_or(&[]))?,
        }
        i += len;
    }
    Ok(w)
}

fn hex4(text: &[u8], at: usize) -> Option<u32> {
    let digits = text.get(at..at + 4)?;
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        Some(acc * 16 + v)
    })
}

/// Writes `value` as JSON into `out`; returns the length.
pub fn to_json<T: serde::Serialize + ?Sized>(
    value: &T,
    out: &mut [u8],
) -> Result<usize, ToJsonError> {
    serde_json_core::to_slice(value, out).map_err(|e| match e {
        serde_json_core::ser::Error::BufferFull => ToJsonError::BufferTooSmall,
        _ => ToJsonError::Unsupported,
    })
}

/// Why a value was not written as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ToJsonError {
    /// The output buffer is too small.
    BufferTooSmall,
    /// The value has a shape JSON (or serde-json-core) cannot write.
    Unsupported,
}

impl fmt::Display for ToJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ToJsonError::BufferTooSmall => "buffer too small for the JSON",
            ToJsonError::Unsupported => "value cannot be written as JSON",
        })
    }
}

impl core::error::Error for ToJsonError {}

/// A presence member's `channel_data`: `{"user_id":..,"user_info":..}` with `user_info` any
/// `T: Serialize`. Writes it into `out` and returns it: sign and send these same bytes
/// (`Credentials::channel_auth_response`, `Client::authorize_locally`).
///
/// ```
/// use pusher_core::wire::json::channel_data;
/// #[derive(serde::Serialize)]
/// struct Info<'a> { name: &'a str, admin: bool }
/// let mut out = [0u8; 128];
/// let data = channel_data(&mut out, "42", Some(&Info { name: "Ada", admin: false }))?;
/// assert_eq!(data, r#"{"user_id":"42","user_info":{"name":"Ada","admin":false}}"#);
/// # Ok::<(), pusher_core::wire::json::ToJsonError>(())
/// ```
pub fn channel_data<'o, T: serde::Serialize + ?Sized>(
    out: &'o mut [u8],
    user_id: &str,
    user_info: Option<&T>,
) -> Result<&'o str, ToJsonError> {
    member_json(out, "user_id", user_id, user_info)
}

/// A sign-in's `user_data`: `{"id":..,"user_info":..}` with `user_info` any
/// `T: Serialize`; returns the bytes to sign and send.
pub fn user_data<'o, T: serde::Serialize + ?Sized>(
    out: &'o mut [u8],
    id: &str,
    user_info: Option<&T>,
) -> Result<&'o str, ToJsonError> {
    member_json(out, "id", id, user_info)
}

struct Member<'a, T: ?Sized> {
    id_key: &'static str,
    id: &'a str,
    info: Option<&'a T>,
}

impl<T: serde::Serialize + ?Sized> serde::Serialize for Member<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Member", 2)?;
        st.serialize_field(self.id_key, self.id)?;
        if let Some(info) = self.info {
            st.serialize_field("user_info", info)?;
        }
        st.end()
    }
}

fn member_json<'o, T: serde::Serialize + ?Sized>(
    out: &'o mut [u8],
    id_key: &'static str,
    id: &str,
    info: Option<&T>,
) -> Result<&'o str, ToJsonError> {
    let n = to_json(&Member { id_key, id, info }, out)?;
    core::str::from_utf8(out.get(..n).unwrap_or(&[])).map_err(|_| ToJsonError::Unsupported)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    fn fold(s: &str) -> Result<std::string::String, DataError> {
        let mut out = std::vec![0u8; s.len()];
        let n = fold_unicode_escapes(s.as_bytes(), &mut out)?;
        Ok(std::string::String::from_utf8(out[..n].to_vec()).unwrap())
    }

    #[test]
    fn folding_keeps_what_json_needs_escaped() {
        assert_eq!(fold(r#""caf\u00e9""#).unwrap(), "\"café\"");
        assert_eq!(fold(r#""\ud83c\udf55!""#).unwrap(), "\"🍕!\"");
        assert_eq!(
            fold(r#""\u0022 \u005c \u000a \" \\ \n""#).unwrap(),
            r#""\u0022 \u005c \u000a \" \\ \n""#
        );
        // An escaped backslash followed by "u0041" is not an escape.
        assert_eq!(fold(r#""\\u0041""#).unwrap(), r#""\\u0041""#);
        assert!(matches!(
            fold(r#""\ud83c""#),
            Err(DataError::Escape(JsonError::LoneSurrogate { at: 1 }))
        ));
        assert!(matches!(
            fold(r#""\udf55""#),
            Err(DataError::Escape(JsonError::LoneSurrogate { .. }))
        ));
        assert!(matches!(
            fold(r#""\u00zz""#),
            Err(DataError::Escape(JsonError::InvalidEscape { .. }))
        ));
        assert!(matches!(fold(r#""\u00"#), Err(DataError::Escape(_))));
        assert_eq!(fold("\\").unwrap(), "\\");
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Reading<'a> {
        sensor: &'a str,
        temp: f32,
        ok: bool,
        tags: heapless::Vec<&'a str, 4>,
        note: Option<heapless::String<32>>,
        nested: Nested,
    }

    #[derive(Deserialize, Serialize, Debug, PartialEq)]
    struct Nested {
        level: i8,
        limits: [u16; 2],
    }

    #[test]
    fn real_payload_shapes_decode() {
        let shapes = [
            // JSON.stringify: raw UTF-8.
            r#"{"sensor":"küche","temp":21.5,"ok":true,"tags":["a","b"],"note":null,"nested":{"level":-3,"limits":[0,65535]}}"#,
            // Python json.dumps: non-ASCII escaped, spaces after separators.
            r#"{"sensor": "k\u00fcche", "temp": 21.5, "ok": true, "tags": ["a", "b"], "note": null, "nested": {"level": -3, "limits": [0, 65535]}}"#,
        ];
        for text in shapes {
            let mut scratch = [0u8; 512];
            let r: Reading = from_json(text, &mut scratch).unwrap();
            assert_eq!(r.sensor, "küche");
            assert_eq!(
                (r.temp, r.ok, r.tags.as_slice()),
                (21.5, true, &["a", "b"][..])
            );
            assert_eq!(
                r.nested,
                Nested {
                    level: -3,
                    limits: [0, 65535]
                }
            );
            assert_eq!(r.note, None);
        }
        // Escaped quotes and newlines go to owned fields.
        let text = r#"{"sensor":"s","temp":0,"ok":false,"tags":[],"note":"say \"hi\"\n\ud83c\udf89","nested":{"level":0,"limits":[1,2]}}"#;
        let mut scratch = [0u8; 512];
        let r: Reading = from_json(text, &mut scratch).unwrap();
        assert_eq!(r.note.as_deref(), Some("say \"hi\"\n🎉"));
        // Wrong shapes and small buffers are typed errors.
        let mut scratch = [0u8; 512];
        assert!(matches!(
            from_json::<Nested>(r#"{"level":"x"}"#, &mut scratch),
            Err(DataError::Json(_))
        ));
        // Text without `\u` escapes borrows from itself: no scratch needed.
        let mut none = [0u8; 0];
        assert!(from_json::<Nested>(r#"{"level":1,"limits":[1,2]}"#, &mut none).is_ok());
        let mut tiny = [0u8; 4];
        assert!(matches!(
            from_json::<Nested>(r#"{"level":1,"limits":[1,2],"x":"\u00e9"}"#, &mut tiny),
            Err(DataError::BufferTooSmall { .. })
        ));
    }

    #[test]
    fn serde_json_core_alone_fails_on_python_style_text() {
        // Why the folding exists: json.dumps output, straight into serde-json-core.
        #[derive(Deserialize)]
        struct Owned {
            #[allow(dead_code)]
            s: heapless::String<32>,
        }
        #[derive(Deserialize)]
        struct Borrowed<'a> {
            s: &'a str,
        }
        let text = r#"{"s": "caf\u00e9 \ud83c\udf55"}"#;
        let mut buf = [0u8; 64];
        assert!(serde_json_core::from_str_escaped::<Owned>(text, &mut buf).is_err());
        assert!(
            serde_json_core::from_str_escaped::<Borrowed>(r#"{"s": "caf\u00e9"}"#, &mut buf)
                .is_err()
        );
        // Without an unescape buffer it "succeeds" with the escapes left in the text.
        let (b, _) = serde_json_core::from_str::<Borrowed>(r#"{"s": "caf\u00e9"}"#).unwrap();
        assert_eq!(b.s, r"caf\u00e9");
        // Folded first, both work.
        let mut scratch = [0u8; 64];
        assert_eq!(
            from_json::<Borrowed>(r#"{"s": "caf\u00e9"}"#, &mut scratch)
                .unwrap()
                .s,
            "café"
        );
        let mut scratch = [0u8; 64];
        assert_eq!(
            from_json::<Owned>(text, &mut scratch).unwrap().s.as_str(),
            "café 🍕"
        );
    }

    #[test]
    fn typed_member_data_is_what_gets_signed() {
        use crate::auth::Credentials;
        use crate::name::{ChannelName, SocketId};
        #[derive(Serialize)]
        struct Info<'a> {
            name: &'a str,
        }
        let mut out = [0u8; 128];
        let data = channel_data(&mut out, "10", Some(&Info { name: "Mr. Pusher" })).unwrap();
        assert_eq!(
            data,
            r#"{"user_id":"10","user_info":{"name":"Mr. Pusher"}}"#
        );
        let creds = Credentials::new("278d425bdf160c739803", "7ad3773142a6692b25b8");
        let (sid, ch) = (
            SocketId::new("1234.1234").unwrap(),
            ChannelName::new("presence-foobar").unwrap(),
        );
        let sig = creds.channel_signature(sid, ch, Some(data)).to_hex();
        let auth = std::format!(
            "278d425bdf160c739803:{}",
            core::str::from_utf8(&sig).unwrap()
        );
        let member = crate::server::verify_subscription(&creds, sid, ch, Some(&auth), Some(data))
            .unwrap()
            .unwrap();
        assert_eq!(member.user_id.raw(), "10");
        let mut out = [0u8; 64];
        assert_eq!(
            user_data::<()>(&mut out, "ada", None).unwrap(),
            r#"{"id":"ada"}"#
        );
    }

    #[test]
    fn values_serialize_into_a_buffer() {
        let mut out = [0u8; 64];
        let n = to_json(
            &Nested {
                level: 1,
                limits: [2, 3],
            },
            &mut out,
        )
        .unwrap();
        assert_eq!(&out[..n], br#"{"level":1,"limits":[2,3]}"#);
        assert_eq!(
            to_json(
                &Nested {
                    level: 1,
                    limits: [2, 3]
                },
                &mut out[..5]
            ),
            Err(ToJsonError::BufferTooSmall)
        );
    }
}
