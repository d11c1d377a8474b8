//! Async Pusher Channels client for embassy: a driver that runs [`pusher_core`]'s sans-IO
//! client over any `embedded_io_async` transport, with embassy-time for its deadlines.
//!
//! No heap, no protocol logic: the [`Driver`] only writes what the client queued, races a
//! read against the client's next deadline (and the app's own wake-ups), and hands events to
//! the app. Transports come from a [`Connect`]or: [`TcpConnector`] opens embassy-net sockets
//! (with DNS under the `dns` feature), `TlsConnector` (feature `tls`) adds wss:// through
//! embedded-tls. Private and presence channels are signed by an [`Authorizer`], for instance
//! [`LocalSigner`] on trusted devices.
//!
//! ```ignore
//! let mut driver = Driver::new(client, LocalSigner::<256>::new(creds));
//! driver.client().subscribe("private-sensors")?;
//! driver.client().connect(driver.now());
//! driver.run(&mut connector, &mut |event: Event<'_>| {
//!     if let Event::Message { event, data, .. } = event { /* ... */ }
//!     ControlFlow::Continue(())
//! }).await;
//! ```
#![no_std]
#![forbid(unsafe_code)]
// The traits are used on single-threaded embassy executors; no `Send` bound is wanted.
#![allow(async_fn_in_trait)]

mod auth;
mod connect;
mod driver;
mod fmt;
#[cfg(feature = "net")]
mod net;
#[cfg(feature = "tls")]
mod tls;

pub use auth::{AuthError, Authorizer, ChannelGrant, LocalSigner, NoAuth, UserGrant};
pub use connect::{Close, Connect};
pub use driver::{Driver, Handler, Stop};
#[cfg(feature = "net")]
pub use net::{NetError, TcpConn, TcpConnector};
#[cfg(feature = "tls")]
pub use tls::{MaybeTls, StreamError, TlsConnector, TlsError, Verify};

pub use pusher_core;
pub use pusher_core::client::{Client, Config, Event, State};
