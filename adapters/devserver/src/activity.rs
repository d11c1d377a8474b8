//! What happens on the server, as the Pusher debug console shows it: one record per
//! connection, subscription, event, REST call and webhook, handed to an observer.

use std::fmt;
use std::sync::Arc;

/// One thing that happened. `Display` is a one-line description.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Activity {
    /// The server is listening.
    Listening {
        /// `host:port`.
        addr: String,
    },
    /// A client connected and was given a socket id.
    Connected {
        /// Its socket id.
        socket_id: String,
        /// The client's `client`/`version` query parameters, if it sent them.
        client: String,
    },
    /// A connection attempt was refused before it got a socket id.
    Refused {
        /// The close code sent.
        code: u16,
        /// Why.
        reason: String,
    },
    /// A connection ended.
    Disconnected {
        /// Its socket id.
        socket_id: String,
        /// The close code, if one was sent or received.
        code: Option<u16>,
        /// Why.
        reason: String,
    },
    /// A subscription succeeded.
    Subscribed {
        /// The subscriber.
        socket_id: String,
        /// The channel.
        channel: String,
    },
    /// A subscription or other request was answered with `pusher:error`.
    ClientError {
        /// The client.
        socket_id: String,
        /// The error code sent, if any.
        code: Option<u16>,
        /// The message sent.
        message: String,
    },
    /// A client left a channel.
    Unsubscribed {
        /// The client.
        socket_id: String,
        /// The channel.
        channel: String,
    },
    /// A client signed in.
    SignedIn {
        /// The client.
        socket_id: String,
        /// The user id.
        user_id: String,
    },
    /// An event was published (REST or client event) to `receivers` connections.
    Published {
        /// The channel.
        channel: String,
        /// The event name.
        event: String,
        /// The size of its data.
        bytes: usize,
        /// How many connections it was sent to.
        receivers: usize,
        /// `rest` or the sender's socket id.
        from: String,
    },
    /// A REST request was answered.
    Rest {
        /// `GET`, `POST`.
        method: String,
        /// The path.
        path: String,
        /// The HTTP status sent.
        status: u16,
        /// The error body, when it failed.
        error: Option<String>,
    },
    /// A webhook request was delivered, or failed.
    Webhook {
        /// How many events it carried.
        events: usize,
        /// The HTTP status, or the error that kept it from being delivered.
        outcome: Result<u16, String>,
    },
}

impl fmt::Display for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activity::Listening { addr } => write!(f, "listening on {addr}"),
            Activity::Connected { socket_id, client } => {
                write!(f, "connection {socket_id} opened ({client})")
            }
            Activity::Refused { code, reason } => write!(f, "connection refused: {code} {reason}"),
            Activity::Disconnected {
                socket_id,
                code,
                reason,
            } => match code {
                Some(c) => write!(f, "connection {socket_id} closed: {c} {reason}"),
                None => write!(f, "connection {socket_id} closed: {reason}"),
            },
            Activity::Subscribed { socket_id, channel } => {
                write!(f, "{socket_id} subscribed to {channel}")
            }
            Activity::ClientError {
                socket_id,
                code,
                message,
            } => match code {
                Some(c) => write!(f, "{socket_id} error {c}: {message}"),
                None => write!(f, "{socket_id} error: {message}"),
            },
            Activity::Unsubscribed { socket_id, channel } => {
                write!(f, "{socket_id} unsubscribed from {channel}")
            }
            Activity::SignedIn { socket_id, user_id } => {
                write!(f, "{socket_id} signed in as {user_id}")
            }
            Activity::Published {
                channel,
                event,
                bytes,
                receivers,
                from,
            } => write!(
                f,
                "event {event} on {channel} ({bytes} B) from {from} to {receivers} connection(s)"
            ),
            Activity::Rest {
                method,
                path,
                status,
                error,
            } => match error {
                Some(e) => write!(f, "REST {method} {path} -> {status}: {e}"),
                None => write!(f, "REST {method} {path} -> {status}"),
            },
            Activity::Webhook { events, outcome } => match outcome {
                Ok(status) => write!(f, "webhook with {events} event(s) -> {status}"),
                Err(e) => write!(f, "webhook with {events} event(s) failed: {e}"),
            },
        }
    }
}

/// Receives every [`Activity`]; called on the server's threads, so keep it short.
pub type Observer = Arc<dyn Fn(&Activity) + Send + Sync>;
