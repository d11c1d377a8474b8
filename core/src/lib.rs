//! `pusher-core`: the sans-IO heart of a Pusher Channels implementation.
//!
//! Everything here is `no_std`, allocation-free and free of I/O, clocks and randomness: bytes,
//! time and random numbers come in as arguments, and every output is written into a buffer the
//! caller owns. Drivers for real sockets live in the adapter crates.
//!
//! The crate is layered bottom-up; a module imports only from its own layer or those below,
//! and no two modules import each other (`scripts/layers` checks both in the test suite):
//!
//! ```text
//!  3  client        the connection state machine (client/: one idea per file)
//!     server        the server role: client messages in, replies out, signature checks
//!     ─────────────────────────────────────────────────────────────────────
//!  2  auth   rest   webhook          signatures, REST signing, webhooks
//!     ─────────────────────────────────────────────────────────────────────
//!  1  wire: ws  http → handshake  json → event, message     stateless codecs
//!     ─────────────────────────────────────────────────────────────────────
//!  0  name  buf  base64  sha1  hmac  fmt                    names, buffers, primitives
//! ```
//!
//! * [`name`]: validated channel, event, socket and user names, and channel classification.
//! * [`wire`]: stateless codecs.
//!   * [`wire::ws`]: RFC 6455 frames (parse / emit, masking, fragmentation, close codes) and a
//!     [`wire::ws::Reader`] that reassembles messages inside one caller buffer.
//!   * [`wire::http`]: the HTTP/1.1 head, shared by the handshake and REST responses.
//!   * [`wire::handshake`]: the HTTP Upgrade request and the `101` response check.
//!   * [`wire::json`]: the zero-copy JSON scanner and the unescaper (the hot loop).
//!   * [`wire::event`]: the Pusher envelope (`event`, `channel`, `data`, `user_id`) and the typed
//!     protocol messages inside it.
//!   * [`wire::message`]: encoders for every client-to-server message.
//! * [`auth`]: channel, presence and user signatures, encrypted-channel shared secrets.
//! * [`auth_endpoint`]: asking the app's auth endpoint (the form POST, the JSON answer).
//! * [`rest`]: REST API request signing (`auth_signature`, `body_md5`).
//! * [`webhook`]: webhook signature verification and body parsing.
//! * [`client`]: the sans-IO client ([`Client`], configured by [`Config`]).
//! * [`server`]: the server role (client messages, every reply, signature and REST checks).
//!
//! Parsers return [`Status::Partial`] when they need more bytes and borrow from their input;
//! encoders report [`BufferTooSmall`] with the exact size they need. Errors are small `Copy`
//! enums, and no input can make any function here panic.
#![no_std]
// No unsafe code, except the measured exceptions gathered in `wire::arch` on x86_64 (where the
// decoder's throughput matters): vector intrinsics for the JSON string hot loop, which Rust
// reaches only through `unsafe`, and one skipped second UTF-8 validation of text that is valid
// by construction. The safety argument is written once there. Every other target forbids it.
#![cfg_attr(
    not(all(target_arch = "x86_64", target_feature = "sse2")),
    forbid(unsafe_code)
)]
#![cfg_attr(
    all(target_arch = "x86_64", target_feature = "sse2"),
    deny(unsafe_code)
)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("features `defmt` and `log` are mutually exclusive: pick one logging backend");

// Only tests, and under the opt-in `std` feature only `is_x86_feature_detected!` (run-time CPU
// detection for the unescaper); nothing here allocates.
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod auth;
pub mod auth_endpoint;
mod base64;
mod buf;
pub mod client;
#[cfg(feature = "encryption")]
pub mod encrypted;
mod fmt;
mod hmac;
pub mod name;
pub mod rest;
#[cfg(feature = "encryption")]
mod secretbox;
pub mod server;
mod sha1;
pub mod signer;
pub mod webhook;
pub mod wire;

pub use buf::{BufferTooSmall, Status, Writer, utf8};
pub use client::{Client, ClientError, Config};
pub use name::{ChannelKind, ChannelName, EventName, NameError, SocketId, UserId};
