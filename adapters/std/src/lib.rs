//! `pusher-std`: Pusher Channels on Linux (and any std target), built on the sans-IO
//! `pusher-core`.
//!
//! * [`driver`]: the one I/O loop that feeds a core [`Client`](pusher_core::client::Client)
//!   from any `embedded_io` byte stream and a [`driver::Connect`]or.
//! * [`net`]: TCP (`ws://`) and rustls (`wss://`, webpki roots or a custom CA) connectors.
//! * [`auth`]: authorizers for protected channels: an HTTP auth endpoint (form POST, as
//!   pusher-js does), a callback, or a local signer holding the app secret.
//! * [`pusher`]: a friendly client in the spirit of pusher-js: subscribe, bind, callbacks.
//! * [`background`]: the same client owning its buffers on a thread of its own, with a
//!   cloneable `Send + Sync` handle and its events on a receiver; dropping it closes.
//! * [`http`]: the HTTP client settings shared by REST and auth endpoints (ureq; proxies).
//! * [`rest`]: the server library: trigger, batch, channel queries, users, auth, webhooks.
#![forbid(unsafe_code)]

pub mod auth;
mod auth_work;
pub mod background;
pub mod bindings;
pub mod channel;
pub mod client_error;
pub mod connect_error;
pub mod driver;
pub mod http;
pub mod net;
pub mod pusher;
pub mod rest;
pub mod rest_typed;

pub use pusher_core;
