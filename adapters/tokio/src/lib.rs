//! `pusher-tokio`: Pusher Channels for tokio programs, one loop over the sans-IO
//! `pusher-core` (the same core firmware links).
//!
//! ```no_run
//! use pusher_tokio::Pusher;
//! use pusher_std::pusher::Options;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let pusher = Pusher::connect(Options::cluster("APP_KEY", "eu")).await?;
//! let mut orders = pusher.subscribe("orders").await?;
//! while let Some(event) = orders.next().await {
//!     println!("{} {:?}", event.event, event.data);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! * [`Pusher`]: the handle (`Clone + Send + Sync`): subscribe (resolves when the server
//!   confirms), client events, sign-in, streams of events, states and typed errors.
//! * [`Channel`]: a subscribed channel, a `Stream` of its events.
//! * [`rest::AsyncRest`]: the REST API, async, on a keep-alive pool (the blocking library's
//!   requests, checks and errors).
//! * [`auth`]: async authorizers: any pusher-std authorizer on the blocking pool, or an async
//!   closure.
//!
//! The driver task only moves bytes, time and events; reconnects, backoff, auth rules and
//! every protocol decision are the core's.
#![forbid(unsafe_code)]

pub mod auth;
mod client;
mod driver;
mod net;
pub mod rest;

pub use client::{Builder, CallError, Channel, ChannelEvent, Pusher, SubscribeFailure};
pub use driver::CHANNELS;
pub use futures_core;
pub use pusher_core;
pub use pusher_std;
