//! A JSON value as a borrowed slice of the text with its kind, and iteration over objects and
//! arrays.

use super::string::RawStr;

/// The type of a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// `"..."`
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
    /// `{...}`
    Object,
    /// `[...]`
    Array,
}

/// A validated JSON value, borrowed from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Value<'a> {
    pub(super) kind: Kind,
    pub(super) raw: &'a str,
    pub(super) escaped: bool,
}

impl<'a> Value<'a> {
    /// Its type.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The exact JSON text of the value (strings with their quotes).
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The string, if it is one.
    pub fn as_raw_str(&self) -> Option<RawStr<'a>> {
        if self.kind != Kind::String {
            return None;
        }
        let inner = self.raw.get(1..self.raw.len().saturating_sub(1))?;
        Some(RawStr {
            raw: inner,
            escaped: self.escaped,
        })
    }

    /// A non-negative integer, if it is one that fits.
    pub fn as_u64(&self) -> Option<u64> {
        if self.kind != Kind::Number {
            return None;
        }
        self.raw.parse().ok()
    }

    /// The boolean, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match (self.kind, self.raw) {
            (Kind::Bool, "true") => Some(true),
            (Kind::Bool, _) => Some(false),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        self.kind == Kind::Null
    }
}
