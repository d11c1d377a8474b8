//! The zero-copy JSON scanner: validates and walks a text without allocating.

use super::error::{JsonError, MAX_DEPTH, shift};
use super::escape::{WORDWISE, check_escapes};
use super::string::RawStr;
use super::unescape::{unescape, unescaped_text};
use super::value::{Kind, Value};
use crate::wire::scan::{BLOCK, Escapes, Masks, load8, specials};

/// A cursor over JSON text. Everything it returns borrows the text.
#[derive(Debug, Clone)]
pub struct Scanner<'a> {
    pub(super) text: &'a str,
    pub(super) pos: usize,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Scanner { text, pos: 0 }
    }

    /// Current offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn slice(&self, from: usize, to: usize) -> Result<&'a str, JsonError> {
        self.text.get(from..to).ok_or(JsonError::UnexpectedEnd)
    }

    /// Skips white space; returns the next byte.
    #[inline]
    pub fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes().get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Steps over `b` (after white space); anything else is a typed error, never a panic.
    #[inline]
    pub fn consume(&mut self, b: u8) -> Result<(), JsonError> {
        match self.peek() {
            Some(c) if c == b => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(JsonError::UnexpectedByte { at: self.pos }),
            None => Err(JsonError::UnexpectedEnd),
        }
    }

    /// Checks that only white space remains.
    pub fn end(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(JsonError::TrailingData { at: self.pos }),
        }
    }

    /// Scans a string (the scanner is at its opening quote), checking every escape.
    #[inline]
    pub fn string(&mut self) -> Result<RawStr<'a>, JsonError> {
        let raw = self.string_lazy()?;
        if raw.escaped {
            check_escapes(raw.raw.as_bytes())
                .map_err(|e| shift(e, self.pos - 1 - raw.raw.len()))?;
        }
        Ok(raw)
    }

    /// Scans a string, finding its end without checking what follows each backslash (that is
    /// checked when it is unescaped). Control characters are still rejected.
    #[inline]
    pub fn string_lazy(&mut self) -> Result<RawStr<'a>, JsonError> {
        self.consume(b'"')?;
        if !WORDWISE {
            return self.string_lazy_bytes();
        }
        let s = self.bytes();
        let start = self.pos;
        // Keys and names: one word, no escapes.
        if let Some(w) = load8(s, start) {
            let m = specials(w);
            if m != 0 {
                let end = start + (m.trailing_zeros() / 8) as usize;
                if s.get(end) == Some(&b'"') {
                    self.pos = end + 1;
                    return Ok(RawStr {
                        raw: self.slice(start, end)?,
                        escaped: false,
                    });
                }
            }
        }
        let mut escapes = Escapes::default();
        let mut any_backslash = false;
        let mut i = start;
        while i < s.len() {
            let m = Masks::at(s, i);
            let quotes = m.quote & !escapes.escaped(m.backslash);
            let before = match quotes {
                0 => u64::MAX,
                q => (1u64 << q.trailing_zeros()) - 1,
            };
            if m.control & before != 0 {
                return Err(JsonError::ControlCharacter {
                    at: i + (m.control.trailing_zeros() as usize),
                });
            }
            any_backslash |= m.backslash & before != 0;
            if quotes != 0 {
                let end = i + quotes.trailing_zeros() as usize;
                self.pos = end + 1;
                return Ok(RawStr {
                    raw: self.slice(start, end)?,
                    escaped: any_backslash,
                });
            }
            i += BLOCK;
        }
        Err(JsonError::UnexpectedEnd)
    }

    /// [`Scanner::string_lazy`] a byte at a time (32-bit targets), after the opening quote.
    pub(super) fn string_lazy_bytes(&mut self) -> Result<RawStr<'a>, JsonError> {
        let s = self.bytes();
        let start = self.pos;
        let mut escaped = false;
        let mut i = start;
        while let Some(&b) = s.get(i) {
            match b {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(RawStr {
                        raw: self.slice(start, i)?,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    // The escaped byte is skipped, but it must not be a control byte either.
                    if s.get(i + 1).is_some_and(|&n| n < 0x20) {
                        return Err(JsonError::ControlCharacter { at: i + 1 });
                    }
                    i += 2;
                }
                0..0x20 => return Err(JsonError::ControlCharacter { at: i }),
                _ => i += 1,
            }
        }
        Err(JsonError::UnexpectedEnd)
    }

    /// Scans a string and unescapes it straight into `out` in the same pass.
    pub fn string_into<'b>(&mut self, out: &'b mut [u8]) -> Result<&'b str, JsonError> {
        self.string_into_split(out).map(|(text, _)| text)
    }

    /// Unescapes the string at the scanner into the front of `out`; returns the text and the
    /// rest of `out`.
    pub(crate) fn string_into_split<'b>(
        &mut self,
        out: &'b mut [u8],
    ) -> Result<(&'b str, &'b mut [u8]), JsonError> {
        let n = self.string_unescape(out)?;
        let at = self.pos;
        let (text, rest) = out
            .split_at_mut_checked(n)
            .ok_or(JsonError::UnexpectedEnd)?;
        Ok((
            unescaped_text(text).ok_or(JsonError::InvalidEscape { at })?,
            rest,
        ))
    }

    /// Like [`Scanner::string_into`], returning the number of bytes written to `out`.
    pub fn string_unescape(&mut self, out: &mut [u8]) -> Result<usize, JsonError> {
        self.consume(b'"')?;
        let (end, n, closed) = unescape(self.bytes(), self.pos, out)?;
        if !closed {
            return Err(JsonError::UnexpectedEnd);
        }
        self.pos = end;
        Ok(n)
    }

    /// Scans any value, validating it completely.
    pub fn value(&mut self) -> Result<Value<'a>, JsonError> {
        let start = match self.peek() {
            Some(_) => self.pos,
            None => return Err(JsonError::UnexpectedEnd),
        };
        let (kind, escaped) = match self.bytes().get(start) {
            Some(b'"') => {
                let s = self.string()?;
                (Kind::String, s.escaped)
            }
            Some(b'{') => {
                self.container()?;
                (Kind::Object, false)
            }
            Some(b'[') => {
                self.container()?;
                (Kind::Array, false)
            }
            Some(b't') => {
                self.literal("true")?;
                (Kind::Bool, false)
            }
            Some(b'f') => {
                self.literal("false")?;
                (Kind::Bool, false)
            }
            Some(b'n') => {
                self.literal("null")?;
                (Kind::Null, false)
            }
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                (Kind::Number, false)
            }
            _ => return Err(JsonError::UnexpectedByte { at: start }),
        };
        Ok(Value {
            kind,
            raw: self.slice(start, self.pos)?,
            escaped,
        })
    }

    fn literal(&mut self, word: &str) -> Result<(), JsonError> {
        let end = self.pos + word.len();
        match self.bytes().get(self.pos..end) {
            Some(b) if b == word.as_bytes() => {
                self.pos = end;
                Ok(())
            }
            Some(_) => Err(JsonError::UnexpectedByte { at: self.pos }),
            None => Err(JsonError::UnexpectedEnd),
        }
    }

    fn number(&mut self) -> Result<(), JsonError> {
        let s = self.bytes();
        let start = self.pos;
        let bad = JsonError::InvalidNumber { at: start };
        let mut i = start;
        let digits = |i: &mut usize| {
            let from = *i;
            while s.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        if s.get(i) == Some(&b'0') {
            i += 1;
        } else if !digits(&mut i) {
            return Err(bad);
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return Err(bad);
            }
        }
        if matches!(s.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(s.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                return Err(bad);
            }
        }
        if s.get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
        {
            return Err(bad);
        }
        self.pos = i;
        Ok(())
    }

    /// Skips a whole object or array, checking its grammar, without recursion.
    fn container(&mut self) -> Result<(), JsonError> {
        // Bit n of `stack` is 1 when nesting level n is an object.
        let mut stack: u64 = 0;
        let mut depth: u32 = 0;
        'open: loop {
            let is_object = match self.peek() {
                Some(b'{') => true,
                Some(b'[') => false,
                _ => return Err(JsonError::UnexpectedByte { at: self.pos }),
            };
            if depth >= MAX_DEPTH {
                return Err(JsonError::TooDeep);
            }
            self.pos += 1;
            stack = stack << 1 | u64::from(is_object);
            depth += 1;
            let close = if is_object { b'}' } else { b']' };
            if self.peek() == Some(close) {
                self.pos += 1;
                stack >>= 1;
                depth -= 1;
            } else {
                // First member or element.
                if is_object {
                    self.string()?;
                    self.consume(b':')?;
                }
                if matches!(self.peek(), Some(b'{' | b'[')) {
                    continue 'open;
                }
                self.value()?;
            }
            // After a value (or an empty container): commas, or close levels.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let in_object = stack & 1 == 1;
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if in_object {
                            self.string()?;
                            self.consume(b':')?;
                        }
                        if matches!(self.peek(), Some(b'{' | b'[')) {
                            continue 'open;
                        }
                        self.value()?;
                    }
                    Some(b'}') if in_object => {
                        self.pos += 1;
                        stack >>= 1;
                        depth -= 1;
                    }
                    Some(b']') if !in_object => {
                        self.pos += 1;
                        stack >>= 1;
                        depth -= 1;
                    }
                    Some(_) => return Err(JsonError::UnexpectedByte { at: self.pos }),
                    None => return Err(JsonError::UnexpectedEnd),
                }
            }
        }
    }
}
