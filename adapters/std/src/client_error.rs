//! What the client's error callbacks receive: every failure with its typed cause, so an app
//! can tell a wrong key from a dead server from a refused certificate without reading logs.

use std::fmt;
use std::time::Duration;

use pusher_core::client::{Event, Problem};
use pusher_core::wire::event::EventError;

use crate::auth::AuthFailure;
use crate::connect_error::ConnectError;

/// A failure the client reports ([`Pusher::on_error`](crate::pusher::Pusher::on_error)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// The server sent `pusher:error`: 4001 for an app key it does not know, 4004 over
    /// quota, 4009 unauthorized, ...
    Server {
        /// The error code, if the server gave one.
        code: Option<u16>,
        /// The server's message.
        message: String,
    },
    /// A subscription was refused: by the server (a signature it rejects: a wrong secret), or
    /// because its auth failed (then `status` is the auth endpoint's HTTP status, if any).
    SubscriptionRefused {
        /// The channel.
        channel: String,
        /// The HTTP status, if one was given.
        status: Option<u16>,
    },
    /// The authorizer failed: for a channel, or (`channel: None`) for a sign-in.
    Auth {
        /// The channel; `None` for a sign-in.
        channel: Option<String>,
        /// Why.
        failure: AuthFailure,
    },
    /// A connection attempt failed before the WebSocket was up.
    Connect {
        /// Why: DNS, refused, timeout, TLS certificate...
        cause: ConnectError,
        /// When the client tries again (`None`: it does not).
        retry_in: Option<Duration>,
    },
    /// An open connection ended (or its upgrade failed).
    Disconnected {
        /// Why.
        problem: Problem,
        /// When the client tries again (`None`: it does not, the close code forbids it).
        retry_in: Option<Duration>,
    },
    /// A message from the server could not be understood (and was skipped).
    Malformed(EventError),
    /// An encrypted channel's event did not open (wrong or missing shared secret, tampered);
    /// it was dropped.
    Decryption {
        /// The channel.
        channel: String,
        /// Why.
        error: pusher_core::encrypted::DecryptError,
    },
    /// The client stopped reconnecting (its attempt limit).
    GaveUp,
    /// A presence channel's members did not fit the presence buffer.
    PresenceOverflow {
        /// The channel.
        channel: String,
    },
    /// Sign-in was asked for, but no authorizer is configured, or its answer was unusable.
    Signin(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let retry = |f: &mut fmt::Formatter<'_>, r: &Option<Duration>| match r {
            Some(d) => write!(f, "; reconnecting in {} ms", d.as_millis()),
            None => f.write_str("; not reconnecting"),
        };
        match self {
            ClientError::Server {
                code: Some(c),
                message,
            } => write!(f, "pusher:error {c}: {message}"),
            ClientError::Server {
                code: None,
                message,
            } => write!(f, "pusher:error: {message}"),
            ClientError::SubscriptionRefused {
                channel,
                status: Some(s),
            } => write!(f, "subscription to {channel} failed (status {s})"),
            ClientError::SubscriptionRefused {
                channel,
                status: None,
            } => write!(f, "subscription to {channel} failed"),
            ClientError::Auth {
                channel: Some(c),
                failure,
            } => write!(f, "auth for {c}: {failure}"),
            ClientError::Auth {
                channel: None,
                failure,
            } => write!(f, "sign-in: {failure}"),
            ClientError::Connect { cause, retry_in } => {
                write!(f, "cannot connect: {cause}")?;
                retry(f, retry_in)
            }
            ClientError::Disconnected { problem, retry_in } => {
                write!(f, "disconnected: {problem}")?;
                retry(f, retry_in)
            }
            ClientError::Malformed(e) => write!(f, "malformed message: {e}"),
            ClientError::Decryption { channel, error } => {
                write!(f, "an event on {channel} did not decrypt: {error}")
            }
            ClientError::GaveUp => f.write_str("gave up reconnecting"),
            ClientError::PresenceOverflow { channel } => {
                write!(f, "presence store full on {channel}")
            }
            ClientError::Signin(m) => write!(f, "sign-in: {m}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    /// The failure a core event reports, if it is one; every driver reports through this
    /// (then [`ClientError::with_connect_cause`] for a failed attempt).
    pub fn of_event(event: &Event<'_>) -> Option<Self> {
        Some(match *event {
            Event::Error { code, message } => ClientError::Server {
                code,
                message: match message.as_str() {
                    Some(s) => s.to_owned(),
                    None => {
                        let mut out = vec![0u8; message.raw().len()];
                        message
                            .unescape_into(&mut out)
                            .map_or_else(|_| message.raw().to_owned(), str::to_owned)
                    }
                },
            },
            Event::SubscriptionError { channel, status } => ClientError::SubscriptionRefused {
                channel: channel.to_owned(),
                status,
            },
            Event::Disconnected {
                problem, retry_in, ..
            } => {
                let retry_in = retry_in.map(|d| Duration::from_millis(d.as_millis()));
                ClientError::Disconnected { problem, retry_in }
            }
            Event::Malformed(e) => ClientError::Malformed(e),
            Event::DecryptionFailed { channel, error } => ClientError::Decryption {
                channel: channel.to_owned(),
                error,
            },
            Event::GaveUp => ClientError::GaveUp,
            Event::PresenceOverflow { channel } => ClientError::PresenceOverflow {
                channel: channel.to_owned(),
            },
            _ => return None,
        })
    }

    /// A `Disconnected` for an attempt that never connected becomes `Connect` with the
    /// cause the driver kept (`cause` is asked only then); anything else stays as it is.
    pub fn with_connect_cause(self, cause: impl FnOnce() -> Option<ConnectError>) -> Self {
        match self {
            ClientError::Disconnected { problem, retry_in } => match cause() {
                Some(cause) => ClientError::Connect { cause, retry_in },
                None => ClientError::Disconnected { problem, retry_in },
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_cause_and_the_retry_decision() {
        let e = ClientError::Connect {
            cause: ConnectError::Refused {
                addr: "127.0.0.1:9".into(),
            },
            retry_in: Some(Duration::from_millis(1500)),
        };
        assert_eq!(
            e.to_string(),
            "cannot connect: connection refused by 127.0.0.1:9 (is the server running?); reconnecting in 1500 ms"
        );
        let e = ClientError::Disconnected {
            problem: Problem::Closed(4001),
            retry_in: None,
        };
        assert_eq!(
            e.to_string(),
            "disconnected: closed by the server with code 4001; not reconnecting"
        );
    }
}
