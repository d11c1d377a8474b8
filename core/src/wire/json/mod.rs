//! Zero-copy JSON scanning and string unescaping.
//!
//! Pusher frames are small JSON objects whose `data` string usually holds more JSON, escaped.
//! Backslashes are dense there (about one byte in nine), so the scanner looks at eight bytes per
//! step with exact SWAR byte tests (no `unsafe`, no lookup tables) and the unescaper copies each
//! run between escapes with one 8-byte store. Both reject what JSON rejects: control characters
//! in strings, unknown escapes, bad `\u` hex, and lone UTF-16 surrogates (surrogate pairs are
//! joined into one scalar, so emoji sent as `\ud83c\udf89` decode).
//!
//! Nothing allocates: values borrow from the input ([`Value`], [`RawStr`]), and unescaping
//! writes into a caller buffer.

mod encode;
mod error;
mod escape;
mod scanner;
mod string;
#[cfg(feature = "serde")]
mod typed;
mod unescape;
mod value;
mod walk;

#[cfg(test)]
mod tests;

pub use encode::{write_escaped, write_string};
pub(crate) use error::shift;
pub use error::{JsonError, MAX_DEPTH};
pub use scanner::Scanner;
pub use string::RawStr;
#[cfg(feature = "serde")]
pub use typed::{
    DataError, ToJsonError, channel_data, fold_unicode_escapes, from_json, to_json, user_data,
};
pub(crate) use unescape::{
    fits_scratch, unescape_into_scratch, unescape_with_scratch, unescaped_text,
};
pub use value::{Kind, Value};
pub use walk::{Elements, Members};
