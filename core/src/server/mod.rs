//! The server role: what a Pusher server needs besides sockets, for anyone writing one (this
//! project's dev server is built on it).
//!
//! * [`ClientMessage`]: decodes what a client sends (subscribe with `auth` and
//!   `channel_data`, unsubscribe, ping/pong, sign-in, client events).
//! * [`reply`]: encodes every server message, with the quirks of soketi and Reverb as options.
//! * [`verify_subscription`] and [`verify_signin`]: check channel, presence and user signatures
//!   in constant time and say why a refusal happened, in Pusher's words.
//! * [`verify_rest`]: checks a signed REST request (`auth_key`, `auth_version`, the
//!   `auth_timestamp` window, `body_md5`, `auth_signature`).
//!
//! The WebSocket side needs nothing extra: [`crate::wire::handshake::parse_request`] and
//! [`crate::wire::handshake::write_response`] do the upgrade, and [`crate::wire::ws::Reader`]
//! with [`crate::wire::ws::Role::Server`] reads masked client frames.

pub mod reply;
mod request;
mod rest;
mod verify;

pub use request::{ClientMessage, ClientMessageError};
pub use rest::{Query, RestRefusal, RestRequest, TIMESTAMP_WINDOW, verify_rest};
pub use verify::{
    MAX_USER_ID, MAX_USER_INFO, PresenceMember, SignedInUser, SigninRefusal, SubscriptionRefusal,
    verify_signin, verify_subscription,
};
