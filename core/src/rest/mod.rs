//! The REST API: request signing (auth_version 1.0), request bodies and response parsing.
//!
//! ```text
//! auth_signature = hex(HMAC-SHA256(secret, METHOD "\n" path "\n" sorted_params))
//! ```
//!
//! `sorted_params` holds every query parameter but `auth_signature` (`auth_key`,
//! `auth_timestamp`, `auth_version=1.0`, `body_md5` of the exact body when there is one, and
//! the caller's), keys lower-cased and sorted, joined as `k=v` with `&`, *not* URL-escaped. The
//! query string actually sent is the same list URL-escaped, with `auth_signature` in its place.
//! Nothing is buffered: parameters are visited in sorted order by repeated minimum search.

mod body;
mod error;
mod limits;
mod response;
mod sign;

#[cfg(test)]
mod tests;

#[cfg(feature = "encryption")]
pub use body::write_encrypted_trigger_body;
pub use body::{BatchEvent, write_batch_body, write_trigger_body};
pub use error::RestError;
pub use limits::{MAX_BATCH_EVENTS, MAX_DATA_LEN, MAX_TRIGGER_CHANNELS};
pub use response::{Body, Response, ResponseError, dechunk, parse_response};
pub use sign::{Request, sign, write_query, write_string_to_sign};
