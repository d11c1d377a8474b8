//! The sans-IO Pusher client: a deterministic state machine driven by bytes, time and
//! randomness, with no I/O of its own.
//!
//! ```text
//!   app/driver                      Client
//!   connect(now)            ──▶  wants a transport         ◀── poll_action(): Open{tls}
//!   (open TCP/TLS)
//!   handle_connected(now)   ──▶  upgrade request queued    ◀── poll_transmit()/consume_tx(n)
//!   rx_buffer()/commit_rx(n, now) ──▶ frames parsed lazily ◀── poll_event(): Event<'_>
//!   handle_timeout(now)     ──▶  pings, pong and connect timeouts, retries
//!   handle_closed(now)      ──▶  reconnect policy          ◀── poll_timeout(): next deadline
//! ```
//!
//! * Lifecycle as pusher-js: `Initialized`, `Connecting`, `Connected`, `Unavailable` (still
//!   trying after 10 s), `Disconnected` (by the app or a refusing close code), `Failed` (gave
//!   up after the configured number of attempts). Each transition is a
//!   [`Event::StateChanged`].
//! * Liveness: the activity timer is `min(config, server activity_timeout)`; any received
//!   byte resets it; on expiry a `pusher:ping` goes out and a pong (or anything) must come
//!   within the pong timeout, else the connection is dropped and redialed at once.
//! * Reconnects follow the close code ([`retry_for`]); backoff is exponential with full jitter
//!   from the caller's seed and is reset after a stable connection (or by `connect`).
//!   A retry the server asks to be immediate (4000, 4200-4299, and a pong timeout) is
//!   immediate once: until the backoff is reset, the next one backs off like a lost
//!   transport, whether the close came during the handshake or after it.
//! * Subscriptions are kept across reconnects; protected channels are re-authorized for every
//!   new socket id ([`Event::AuthRequired`] carries it, and stale answers are refused).
//!
//! Nothing here allocates: the receive, transmit and presence buffers belong to the caller,
//! and the client state itself fits in well under a kilobyte with the default capacities.

mod auth_request;
mod backoff;
mod channels;
mod config;
#[cfg(feature = "encryption")]
mod decrypt;
mod error;
mod event;
mod inbound;
mod lifecycle;
mod machine;
mod members;
mod notices;
mod outbound;
#[cfg(feature = "heapless")]
mod owned;
mod presence;
mod rate;
mod reconnect;
#[cfg(feature = "encryption")]
mod rekey;
mod retry;
mod signin;
mod subscriptions;
mod time;
mod timers;
mod tx;

#[cfg(test)]
mod tests;

pub use auth_request::AuthRequest;
pub use channels::ChannelState;
pub use config::Config;
pub use error::{
    AnswerError, ClientError, SigninError, SubscribeError, TriggerError, UnsubscribeError,
};
pub use event::{Action, Event, EventData, State};
pub use machine::{Buffers, Client, MAX_SOCKET_ID};
#[cfg(feature = "heapless")]
pub use owned::{OwnedEvent, OwnedEventError};
pub use presence::{MAX_ID as MAX_MEMBER_ID, StoreFull};
pub use retry::{Problem, Retry, retry_for};
pub use time::{Duration, Instant};
