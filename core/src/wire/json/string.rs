//! A JSON string as it stands in the text, still escaped, and its unescaped forms.

use super::error::JsonError;
use super::escape::decode_escape;
use super::unescape::unescape;

/// A JSON string as it appears in the text: the bytes between the quotes, still escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RawStr<'a> {
    pub(super) raw: &'a str,
    pub(super) escaped: bool,
}

impl<'a> RawStr<'a> {
    /// A raw string from already-scanned contents. `escaped` must say whether it holds a `\`.
    pub fn new(raw: &'a str) -> Self {
        RawStr {
            raw,
            escaped: raw.as_bytes().contains(&b'\\'),
        }
    }

    /// The text between the quotes, with escapes as written.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// True when the string holds at least one escape.
    pub fn is_escaped(&self) -> bool {
        self.escaped
    }

    /// The value without copying, when it holds no escapes.
    pub fn as_str(&self) -> Option<&'a str> {
        if self.escaped { None } else { Some(self.raw) }
    }

    /// Decodes the value into `out`; returns it. `out` of `raw().len()` bytes always suffices.
    pub fn unescape_into<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, JsonError>
    where
        'a: 'b,
    {
        let (_, n, closed) = unescape(self.raw.as_bytes(), 0, out)?;
        if closed {
            // A raw string never holds an unescaped quote.
            return Err(JsonError::UnexpectedByte { at: 0 });
        }
        let out = out.get(..n).ok_or(JsonError::BufferTooSmall {
            needed: self.raw.len(),
        })?;
        crate::utf8(out).ok_or(JsonError::InvalidEscape { at: 0 })
    }

    /// The value: borrowed when it has no escapes, else decoded into `out`.
    pub fn to_str<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, JsonError>
    where
        'a: 'b,
    {
        match self.as_str() {
            Some(s) => Ok(s),
            None => self.unescape_into(out),
        }
    }

    /// Compares the decoded value with `s`, without a buffer.
    pub fn eq_str(&self, s: &str) -> bool {
        if !self.escaped {
            return self.raw == s;
        }
        let (raw, want) = (self.raw.as_bytes(), s.as_bytes());
        let (mut i, mut j) = (0, 0);
        while i < raw.len() {
            let Some(&b) = raw.get(i) else { return false };
            if b == b'\\' {
                let Ok((c, used)) = decode_escape(raw, i) else {
                    return false;
                };
                let mut tmp = [0u8; 4];
                let enc = c.encode_utf8(&mut tmp).as_bytes();
                if want.get(j..j + enc.len()) != Some(enc) {
                    return false;
                }
                i += used;
                j += enc.len();
            } else {
                if want.get(j) != Some(&b) {
                    return false;
                }
                i += 1;
                j += 1;
            }
        }
        j == want.len()
    }
}
