//! The reconnect policy of each close code, and why a connection ended.

use crate::wire::handshake::HandshakeError;
use crate::wire::ws::WsError;
use core::fmt;

/// What a close code asks of the client (Pusher protocol, "Error Codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Retry {
    /// 4001-4099 and 4300 up: do not reconnect; the app must change something.
    Never,
    /// 4100-4199, standard codes and transport loss: reconnect after a backoff.
    Backoff,
    /// 4200-4299: reconnect at once (once; repeated, it backs off).
    Now,
    /// 4000: reconnect at once over TLS (once; repeated, it backs off).
    Tls,
}

/// The reconnect policy for a close code.
pub fn retry_for(code: u16) -> Retry {
    match code {
        4000 => Retry::Tls,
        4001..=4099 => Retry::Never,
        4100..=4199 => Retry::Backoff,
        4200..=4299 => Retry::Now,
        // pusher-js refuses every code from 4300 up.
        4300.. => Retry::Never,
        _ => Retry::Backoff,
    }
}

/// Why a connection (or an attempt) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Problem {
    /// The server closed with this code (or sent it in `pusher:error` during the handshake).
    Closed(u16),
    /// The server closed without a code.
    ClosedWithoutCode,
    /// The transport went away.
    TransportLost,
    /// The HTTP upgrade failed.
    Handshake(HandshakeError),
    /// The server broke the WebSocket protocol.
    Protocol(WsError),
    /// The first message was not `connection_established`.
    InvalidHandshake,
    /// Nothing came back after a ping.
    PongTimeout,
    /// No `connection_established` within the connect timeout.
    ConnectTimeout,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Closed(code) => write!(f, "closed by the server with code {code}"),
            Problem::ClosedWithoutCode => f.write_str("closed by the server"),
            Problem::TransportLost => f.write_str("transport lost"),
            Problem::Handshake(e) => write!(f, "upgrade failed: {e}"),
            Problem::Protocol(e) => write!(f, "protocol violation: {e}"),
            Problem::InvalidHandshake => {
                f.write_str("first message was not connection_established")
            }
            Problem::PongTimeout => f.write_str("no answer to ping"),
            Problem::ConnectTimeout => f.write_str("connect timed out"),
        }
    }
}
