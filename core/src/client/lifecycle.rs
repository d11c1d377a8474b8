//! Connecting, disconnecting, transport events and deadlines: the entry points that move the
//! connection along.

use super::event::{Action, State};
use super::machine::{Client, Phase};
use super::retry::{Problem, Retry};
use super::time::Instant;
use super::timers::Timer;
use crate::buf::BufferTooSmall;
use crate::wire::handshake::{ClientHandshake, HandshakeError, RequestParams};

impl<'a, const CHANNELS: usize, const NAME: usize> Client<'a, CHANNELS, NAME> {
    /// Starts connecting (from any state; a no-op while connecting or connected).
    pub fn connect(&mut self, now: Instant) {
        self.inner.now = now;
        match self.inner.state {
            State::Connecting | State::Connected | State::Unavailable => {}
            State::Initialized | State::Disconnected | State::Failed => {
                self.inner.backoff.reset();
                self.inner.begin_attempt();
            }
        }
    }

    /// Closes the connection on purpose and cancels any pending reconnect. Subscriptions
    /// are kept for the next `connect`.
    pub fn disconnect(&mut self, now: Instant) {
        self.inner.now = now;
        self.inner.clear_timers();
        if self.inner.transport_up && self.inner.phase != Phase::Closing {
            if matches!(self.inner.phase, Phase::Upgrading) {
                self.inner.close_wanted = true;
            } else {
                self.inner.close_frame = Some(1000);
            }
        } else if self.inner.phase == Phase::Opening {
            self.inner.close_wanted = true;
        }
        self.inner.phase = if self.inner.transport_up || self.inner.phase == Phase::Opening {
            Phase::Closing
        } else {
            Phase::Idle
        };
        self.inner.reset_channels();
        self.inner.set_state(State::Disconnected);
    }

    /// The driver's transport is open: the upgrade request is queued.
    #[inline(never)]
    pub fn handle_connected(&mut self, now: Instant) {
        self.inner.now = now;
        self.inner.transport_up = true;
        if self.inner.phase != Phase::Opening {
            // Not asked for (disconnected meanwhile): close it again.
            self.inner.close_wanted = true;
            return;
        }
        self.reader.reset();
        self.inner.tx.clear();
        let hs = ClientHandshake::new(self.inner.rng.bytes());
        let params = RequestParams {
            host: self.inner.config.host,
            path_prefix: self.inner.config.path_prefix,
            app_key: self.inner.config.app_key,
            client: self.inner.config.client_name,
            version: self.inner.config.version,
        };
        let written = self
            .inner
            .tx
            .push_raw(|out| match hs.write_request(out, &params) {
                Ok(n) => Ok(n),
                Err(HandshakeError::BufferTooSmall(e)) => Err(e),
                Err(_) => Err(BufferTooSmall { needed: usize::MAX }),
            });
        match written {
            Ok(()) => {
                self.inner.handshake = Some(hs);
                self.inner.phase = Phase::Upgrading;
            }
            Err(e) => {
                let problem = match hs.write_request(&mut [], &params) {
                    Err(HandshakeError::InvalidParameter(p)) => HandshakeError::InvalidParameter(p),
                    _ => HandshakeError::BufferTooSmall(e),
                };
                // Bad configuration: retrying cannot help.
                self.inner.end(Problem::Handshake(problem), Retry::Never);
            }
        }
    }

    /// The transport closed (or failed to open).
    pub fn handle_closed(&mut self, now: Instant) {
        self.inner.now = now;
        self.inner.transport_up = false;
        self.inner.close_wanted = false;
        self.inner.close_frame = None;
        self.inner.tx.clear();
        self.reader.reset();
        match self.inner.phase {
            Phase::Idle | Phase::OpenWanted => {}
            Phase::Closing => self.inner.phase = Phase::Idle,
            Phase::Opening | Phase::Upgrading | Phase::AwaitingEstablished | Phase::Established => {
                self.inner.end(Problem::TransportLost, Retry::Backoff);
                self.inner.phase = Phase::Idle;
            }
        }
        self.inner.maybe_start_retry();
    }

    /// Deadlines passed: pings, pong and connect timeouts, retries, the unavailable state.
    pub fn handle_timeout(&mut self, now: Instant) {
        let inner = &mut self.inner;
        inner.now = now;
        for timer in Timer::ALL {
            if timer == Timer::Retry || !inner.timers.expire(timer, now) {
                continue;
            }
            match timer {
                Timer::Stable => inner.backoff.reset(),
                Timer::Unavailable => {
                    if inner.state == State::Connecting {
                        inner.set_state(State::Unavailable);
                    }
                }
                Timer::Attempt => inner.end(Problem::ConnectTimeout, Retry::Backoff),
                Timer::Pong => inner.end(Problem::PongTimeout, Retry::Now),
                Timer::Activity => {
                    if inner.phase == Phase::Established {
                        inner.ping_due = true;
                        inner
                            .timers
                            .set(Timer::Pong, now.after(inner.config.pong_timeout));
                    }
                }
                // Started below, once the old transport is gone.
                Timer::Retry => {}
            }
        }
        inner.maybe_start_retry();
    }

    /// The next deadline; call [`Client::handle_timeout`] when it passes.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let i = &self.inner;
        // A retry waits for the old transport to close; until then it is not a deadline.
        let retry_counts = i.phase == Phase::Idle && !i.transport_up;
        i.timers.next(|t| t != Timer::Retry || retry_counts)
    }

    /// What to do with the transport; call until `None` after every call into the client.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        let inner = &mut self.inner;
        if inner.close_wanted
            && inner.close_frame.is_none()
            && (inner.tx.is_empty() || inner.phase != Phase::Closing)
        {
            inner.close_wanted = false;
            if inner.transport_up || inner.phase == Phase::Opening || inner.phase == Phase::Closing
            {
                return Some(Action::Close);
            }
        }
        if inner.phase == Phase::OpenWanted && !inner.transport_up {
            inner.phase = Phase::Opening;
            return Some(Action::Open { tls: inner.use_tls });
        }
        None
    }
}
