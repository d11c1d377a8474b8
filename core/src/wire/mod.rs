//! Stateless wire codecs: WebSocket frames, the HTTP upgrade, JSON scanning and Pusher messages.

pub mod event;
pub mod handshake;
pub mod http;
pub mod json;
pub mod message;
mod scan;
pub mod ws;
