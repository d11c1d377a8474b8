//! Received bytes: the upgrade response, control frames and Pusher messages, turned into events.

use super::channels::{ChannelState, Due};
use super::event::{Event, State};
use super::machine::{Bucket, Client, Inner, PRESENCE, Phase, Signin};
use super::notices::Notice;
use super::presence::StoreFull;
use super::retry::{Problem, Retry, retry_for};
use super::time::Duration;
use super::timers::Timer;
use crate::buf::Status;
#[cfg(feature = "encryption")]
use crate::name::ChannelKind;
use crate::wire::event::{Event as Decoded, EventError, Layout, ServerMessage};
use crate::wire::handshake::HandshakeError;
use crate::wire::ws::{self, Opcode};

impl<'a, const CHANNELS: usize, const NAME: usize> Client<'a, CHANNELS, NAME> {
    /// The next event; call until `None` after receiving bytes or any other call. Received
    /// frames are parsed here, one at a time.
    #[inline(never)]
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        if let Some(n) = self.inner.notices.pop() {
            return Some(n.event());
        }
        if let Some(i) = self.inner.channels.take_flag(|s| &mut s.auth_due) {
            let channel = self.inner.channels.get(i).map_or("", |s| s.name());
            let socket_id = self.inner.socket_id().unwrap_or("");
            return Some(Event::AuthRequired { channel, socket_id });
        }
        if let Some(i) = self.inner.channels.take_flag(|s| &mut s.overflow_due) {
            let channel = self.inner.channels.get(i).map_or("", |s| s.name());
            return Some(Event::PresenceOverflow { channel });
        }
        if let Some(i) = self.inner.channels.take_flag(|s| &mut s.error_due) {
            let (channel, status) = self
                .inner
                .channels
                .get(i)
                .map_or(("", 0), |s| (s.name(), s.error_status));
            return Some(Event::SubscriptionError {
                channel,
                status: (status != 0).then_some(status),
            });
        }
        #[cfg(feature = "encryption")]
        if let Some(held) = self.next_held() {
            return Some(self.open_held(held));
        }
        if self.inner.signin == Signin::Due && self.inner.phase == Phase::Established {
            self.inner.signin = Signin::Waiting;
            return Some(Event::SigninRequired {
                socket_id: self.inner.socket_id().unwrap_or(""),
            });
        }
        if !matches!(
            self.inner.phase,
            Phase::Upgrading | Phase::AwaitingEstablished | Phase::Established
        ) {
            return None;
        }
        if self.inner.phase == Phase::Upgrading {
            let hs = self.inner.handshake?;
            match hs.parse_response(self.reader.unread()) {
                Ok(Status::Partial) => return None,
                Ok(Status::Complete((), n)) => {
                    self.reader.skip(n);
                    self.inner.phase = Phase::AwaitingEstablished;
                }
                Err(e) => {
                    let retry = match e {
                        HandshakeError::Status(401 | 403 | 404) => Retry::Never,
                        _ => Retry::Backoff,
                    };
                    self.inner.end(Problem::Handshake(e), retry);
                    return self.poll_notice();
                }
            }
        }
        // Control frames are handled here; the first text message leaves the loop. An
        // encrypted channel's event is opened in place, decided before the frame is decoded
        // from a read-only look at its envelope; one held for its channel's new secret goes
        // on to the next frame.
        #[cfg(feature = "encryption")]
        let mut outcome = None;
        let (ready, layout) = loop {
            // Text is UTF-8 checked once, by the decoder (`EventError::InvalidUtf8` below).
            match self.reader.next_message_unchecked_text() {
                Ok(None) => return None,
                Err(e) => {
                    self.inner.close_frame = Some(e.close_code());
                    self.inner.end(Problem::Protocol(e), Retry::Backoff);
                    return self.poll_notice();
                }
                Ok(Some(r)) => match r.opcode {
                    Opcode::Text => {
                        #[cfg(feature = "encryption")]
                        if let Some(slot) = self.encrypted_slot(r) {
                            let opened = self.open_encrypted(r, slot);
                            if matches!(opened, super::decrypt::Outcome::Held) {
                                continue;
                            }
                            outcome = Some(opened);
                        }
                        // Located once; what it names decides whether it reaches the app.
                        let layout = Layout::of(self.reader.payload(r));
                        if let Ok(l) = &layout
                            && self.foreign_internal(r, l)
                        {
                            continue;
                        }
                        break (r, layout);
                    }
                    Opcode::Ping => {
                        let payload = self.reader.payload(r);
                        self.inner.send_control(Opcode::Ping, payload);
                    }
                    Opcode::Close => {
                        let code = ws::parse_close(self.reader.payload(r))
                            .ok()
                            .flatten()
                            .map(|c| c.code);
                        self.inner.on_close_frame(code);
                        return self.poll_notice();
                    }
                    Opcode::Pong | Opcode::Binary | Opcode::Continuation => {}
                },
            }
        };
        #[cfg(feature = "encryption")]
        if let Some(opened) = outcome {
            return self.encrypted_event(ready, opened);
        }
        // The free end of the receive buffer is scratch for the fast unescaper.
        let (frame, free) = self.reader.payload_and_free_mut(ready);
        let msg = layout
            .and_then(|l| Decoded::finish_in_place_keeping(frame, free, l))
            .and_then(ServerMessage::from_event);
        Some(self.inner.on_message(msg))
    }

    /// For a channel event (not `pusher:`) on an encrypted channel: `Some` with its
    /// slot in the table, if subscribed.
    #[cfg(feature = "encryption")]
    fn encrypted_slot(&self, ready: ws::Ready) -> Option<Option<usize>> {
        // Before `connection_established` every frame takes the handshake's path, and a
        // client with no encrypted subscription has no frame to look at.
        if self.inner.phase != Phase::Established || !self.inner.channels.has_encrypted() {
            return None;
        }
        let frame = self.reader.payload(ready);
        // Then most frames still name no encrypted channel: a byte scan settles them.
        if !frame.windows(18).any(|w| w == b"private-encrypted-") {
            return None;
        }
        let text = core::str::from_utf8(frame).ok()?;
        let env = crate::wire::event::Envelope::parse(text).ok()?;
        let channel = env.channel?.as_str()?;
        if !ChannelKind::of(channel).is_encrypted() || env.event.raw().starts_with("pusher") {
            return None;
        }
        Some(self.inner.channels.find(channel))
    }

    /// A `pusher_internal:` message (subscription succeeded, member added or removed,
    /// subscription count) for a channel this client never subscribed to: dropped unseen, as
    /// pusher-js drops them, so a hostile or confused server cannot make the app see a
    /// subscription or members it did not ask for. Decided from the frame's layout (the names
    /// as written), before anything is unescaped.
    fn foreign_internal(&self, ready: ws::Ready, layout: &Layout) -> bool {
        if self.inner.phase != Phase::Established {
            return false;
        }
        let frame = self.reader.payload(ready);
        if !layout.event.raw(frame).starts_with(b"pusher_internal:") {
            return false;
        }
        match layout.channel.filter(|c| !c.escaped) {
            Some(c) => core::str::from_utf8(c.raw(frame))
                .is_ok_and(|channel| self.inner.channels.find(channel).is_none()),
            None => false,
        }
    }

    pub(super) fn poll_notice(&mut self) -> Option<Event<'_>> {
        self.inner.notices.pop().map(Notice::event)
    }
}

impl<'a, const CHANNELS: usize, const NAME: usize> Inner<'a, CHANNELS, NAME> {
    /// A close frame from the server: echo it, then apply the code's policy.
    pub(super) fn on_close_frame(&mut self, code: Option<u16>) {
        if self.phase == Phase::Closing {
            // Our own close was acknowledged.
            self.close_wanted = true;
            return;
        }
        self.close_frame = Some(code.unwrap_or(1000));
        match code {
            Some(c) => self.end(Problem::Closed(c), retry_for(c)),
            None => self.end(Problem::ClosedWithoutCode, Retry::Backoff),
        }
    }

    /// Replaces a presence channel's members with the server's list. Kept out of
    /// `on_message` so the member walk's frame is not part of every message's stack.
    #[inline(never)]
    ///
    /// Linear in the number of members: the list is one JSON object's keys, appended to the
    /// cleared channel without a lookup each (a hostile hash that repeats a key would count
    /// that member twice until it leaves). When the store fills up, the rest is not recorded
    /// and the app gets [`Event::PresenceOverflow`](super::Event::PresenceOverflow).
    pub(super) fn load_members(&mut self, slot: u8, presence: crate::wire::event::Presence<'_>) {
        self.members.clear_members(slot);
        for m in presence.members().flatten() {
            if self.members.append(slot, m.id.raw(), m.info.raw()).is_err() {
                if let Some(s) = self.channels.get_mut(usize::from(slot)) {
                    s.overflow_due = true;
                }
                break;
            }
        }
    }

    /// Handles one decoded text message; every text message yields an event.
    #[inline(never)]
    pub(super) fn on_message<'r>(
        &mut self,
        msg: Result<ServerMessage<'r>, EventError>,
    ) -> Event<'r> {
        let msg = match msg {
            Ok(m) => m,
            // A text frame that is not UTF-8 breaks the WebSocket protocol, not just Pusher's.
            Err(e @ EventError::InvalidUtf8) => {
                self.close_frame = Some(ws::WsError::InvalidUtf8.close_code());
                self.end(Problem::Protocol(ws::WsError::InvalidUtf8), Retry::Backoff);
                return Event::Malformed(e);
            }
            Err(e) => {
                if self.phase == Phase::AwaitingEstablished {
                    self.end(Problem::InvalidHandshake, Retry::Backoff);
                }
                return Event::Malformed(e);
            }
        };
        if self.phase == Phase::AwaitingEstablished {
            return match msg {
                ServerMessage::ConnectionEstablished {
                    socket_id,
                    activity_timeout,
                } => self.established(socket_id.as_str(), activity_timeout),
                ServerMessage::Error { code, message } => {
                    let problem = code.map_or(Problem::InvalidHandshake, Problem::Closed);
                    let retry = code.map_or(Retry::Backoff, retry_for);
                    self.end(problem, retry);
                    Event::Error { code, message }
                }
                _ => {
                    self.end(Problem::InvalidHandshake, Retry::Backoff);
                    Event::Malformed(EventError::Field("connection_established"))
                }
            };
        }
        match msg {
            ServerMessage::ConnectionEstablished { .. } => {
                Event::Malformed(EventError::Field("event"))
            }
            ServerMessage::Error { code, message } => Event::Error { code, message },
            ServerMessage::Ping => {
                self.pongs_due = self.pongs_due.saturating_add(1).min(4);
                Event::Ping
            }
            ServerMessage::Pong => Event::Pong,
            ServerMessage::SubscriptionSucceeded { channel, presence } => {
                if let Some(i) = self.channels.find(channel) {
                    if let Some(s) = self.channels.get_mut(i) {
                        s.state = ChannelState::Subscribed;
                    }
                    if PRESENCE && let (Ok(slot), Some(p)) = (u8::try_from(i), presence) {
                        self.load_members(slot, p);
                    }
                }
                Event::Subscribed { channel }
            }
            ServerMessage::SubscriptionError {
                channel, status, ..
            } => {
                if let Some(s) = self
                    .channels
                    .find(channel)
                    .and_then(|i| self.channels.get_mut(i))
                {
                    s.state = ChannelState::Failed;
                }
                Event::SubscriptionError { channel, status }
            }
            ServerMessage::MemberAdded { channel, member } => {
                match self
                    .slot_u8(channel)
                    .filter(|_| PRESENCE)
                    .map(|s| self.members.insert(s, member.id.raw(), member.info.raw()))
                {
                    Some(Err(StoreFull)) => Event::PresenceOverflow { channel },
                    Some(Ok(new)) => Event::MemberAdded {
                        channel,
                        id: member.id.raw(),
                        info: member.info.raw(),
                        new,
                    },
                    None => Event::MemberAdded {
                        channel,
                        id: member.id.raw(),
                        info: member.info.raw(),
                        new: true,
                    },
                }
            }
            ServerMessage::MemberRemoved { channel, id } => {
                if PRESENCE && let Some(s) = self.slot_u8(channel) {
                    self.members.remove(s, id.raw());
                }
                Event::MemberRemoved {
                    channel,
                    id: id.raw(),
                }
            }
            ServerMessage::SubscriptionCount { channel, count } => {
                Event::SubscriptionCount { channel, count }
            }
            ServerMessage::CacheMiss { channel } => Event::CacheMiss { channel },
            ServerMessage::SigninSuccess { user_data } => {
                self.signin = Signin::Done;
                if let Some(s) = self
                    .channels
                    .slots
                    .iter_mut()
                    .find(|s| s.used && s.internal)
                {
                    s.state = ChannelState::Subscribing;
                    s.due = Due::Subscribe;
                }
                Event::SignedIn { user_data }
            }
            ServerMessage::Watchlist { events } => Event::Watchlist { events },
            ServerMessage::Event(e) => Event::Message {
                event: e.event,
                channel: e.channel,
                data: e.data,
                user_id: e.user_id,
            },
        }
    }

    #[inline(never)]
    pub(super) fn established<'r>(
        &mut self,
        socket_id: &str,
        activity_timeout: Option<u32>,
    ) -> Event<'r> {
        let Some(id) = heapless::String::try_from(socket_id).ok() else {
            self.end(Problem::InvalidHandshake, Retry::Backoff);
            return Event::Malformed(EventError::InvalidSocketId);
        };
        self.socket_id = id;
        self.phase = Phase::Established;
        self.timers.stop(Timer::Attempt);
        self.timers.stop(Timer::Unavailable);
        self.timers.stop(Timer::Retry);
        self.activity = match activity_timeout {
            Some(s) if s > 0 => self
                .config
                .activity_timeout
                .min(Duration::from_secs(u64::from(s))),
            _ => self.config.activity_timeout,
        };
        self.timers
            .set(Timer::Activity, self.now.after(self.activity));
        self.timers
            .set(Timer::Stable, self.now.after(self.config.stable_after));
        self.bucket = Bucket {
            milli: u64::from(self.config.client_events_per_sec) * 1000,
            at: self.now,
        };
        for i in 0..CHANNELS {
            self.start_subscription(i);
        }
        if self.signin != Signin::Off {
            self.signin = Signin::Due;
        }
        let previous = self.state;
        self.state = State::Connected;
        Event::StateChanged {
            previous,
            current: State::Connected,
        }
    }
}
