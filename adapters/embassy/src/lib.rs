//! Async Pusher Channels client for embassy: a driver that runs [`pusher_core`]'s sans-IO
//! client over any `embedded_io_async` transport, with embassy-time for its deadlines.
//!
//! No heap, no protocol logic: the [`Driver`] only writes what the client queued, races a
//! read against the client's next deadline (and the app's own wake-ups), and hands events to
//! the app. Transports come from a [`Connect`]or: [`TcpConnector`] opens embassy-net sockets
//! (with DNS under the `dns` feature), `TlsConnector` (feature `tls`) adds wss:// through
//! embedded-tls. Private and presence channels are signed by an [`Authorizer`]: the
//! [`HttpAuthorizer`] asks the app's backend over a second connection, the [`LocalSigner`]
//! holds the secret (trusted devices, labs). Other tasks reach the client through a `bridge`
//! (feature `bridge`). A [`Router`] gives pusher-js style `bind` on channel and event names,
//! without a heap.
//!
//! ```no_run
//! use core::ops::ControlFlow;
//! use pusher_embassy::pusher_core::auth::Credentials;
//! use pusher_embassy::{Client, Connect, Driver, Event, LocalSigner, Stop};
//!
//! async fn listen<C: Connect>(client: Client<'static>, connector: &mut C) -> Stop {
//!     let signer = LocalSigner::<128>::new(Credentials::new("app-key", "app-secret"));
//!     let mut driver = Driver::new(client, signer);
//!     let _ = driver.client().subscribe("private-sensors");
//!     driver.connect();
//!     let mut on_event = |event: Event<'_>| {
//!         if let Event::Message { event, data, .. } = event {
//!             let _ = (event, data); // act on it
//!         }
//!         ControlFlow::Continue(())
//!     };
//!     driver.run(connector, &mut on_event).await
//! }
//! ```
#![no_std]
#![forbid(unsafe_code)]
// The traits are used on single-threaded embassy executors; no `Send` bound is wanted.
#![allow(async_fn_in_trait)]

mod auth;
mod bind;
#[cfg(feature = "bridge")]
pub mod bridge;
mod connect;
mod driver;
mod fmt;
mod http_auth;
#[cfg(feature = "net")]
mod net;
#[cfg(feature = "tls")]
mod tls;

pub use auth::{
    AuthError, Authorizer, CallbackAuthorizer, ChannelGrant, LocalSigner, NoAuth, UserGrant,
};
pub use bind::{Router, RouterFull};
pub use connect::{Close, Connect};
pub use driver::{Driver, Handler, Stop};
/// The clock `TlsConnector` checks certificate validity against (`now()` in Unix seconds,
/// `None` when unknown); [`NoClock`] skips the check.
#[cfg(feature = "tls")]
pub use embedded_tls::{NoClock, TlsClock};
pub use http_auth::HttpAuthorizer;
#[cfg(feature = "net")]
pub use net::{NetError, TcpConn, TcpConnector};
#[cfg(feature = "tls")]
pub use tls::{MaybeTls, StreamError, TlsConnector, TlsError, Verify};

pub use pusher_core;
pub use pusher_core::client::{Buffers, Client, Config, Event, EventData, State};

/// The README's code snippets, compiled as doctests of this crate (it can see every crate
/// they use).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
