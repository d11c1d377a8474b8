//! Stateless wire codecs: WebSocket frames, the HTTP upgrade, JSON scanning and Pusher messages.

// The only module with `unsafe` code (vector instructions, one skipped UTF-8 check), each
// exception measured and argued there.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod arch;
pub mod event;
pub mod handshake;
pub mod http;
pub mod json;
pub mod message;
mod scan;
pub mod ws;
