//! The Pusher envelope `{"event", "channel", "data", "user_id"}` and the typed protocol
//! messages inside it.
//!
//! Three levels, pick the cheapest that does the job:
//!
//! * [`Envelope::parse`]: zero-copy; fields stay raw ([`RawStr`](crate::wire::json::RawStr), [`Data`]). No buffer needed.
//! * [`Event::decode`]: every field decoded; a `data` string is unescaped into the caller's
//!   scratch buffer in the same pass that finds its end (what a client delivers to the app).
//! * [`ServerMessage::decode`]: [`Event::decode`] plus typed parsing of the protocol events
//!   (`pusher:connection_established`, `pusher:error`, presence, sign-in, watchlist, ...).
//!
//! `data` arrives as a JSON string holding JSON (the usual case), a bare string, an object
//! (`pusher:error`, soketi's `subscription_error` and `pong`), or not at all; all are accepted.

mod decoded;
mod envelope;
mod error;
mod presence;
mod server;
mod watchlist;

#[cfg(test)]
mod tests;

pub use decoded::Event;
pub(crate) use decoded::Layout;
pub use envelope::{Data, DataForm, Envelope};
pub use error::EventError;
pub use presence::{Member, Presence, PresenceMembers};
pub use server::ServerMessage;
pub use watchlist::{WatchlistEvent, WatchlistStatus};
