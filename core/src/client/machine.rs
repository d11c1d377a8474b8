//! The client and its state: the transport phase, the timers, sign-in and the client-event budget.

use super::backoff::{Backoff, Rng};
use super::channels::{ChannelState, Table};
use super::config::Config;
use super::event::State;
use super::notices::{Notice, Notices};
use super::presence::Store;
use super::time::{Duration, Instant};
use super::timers::Timers;
use super::tx::Tx;
use crate::wire::handshake::ClientHandshake;
use crate::wire::ws::{Reader, Role};

/// Longest socket id kept (two 64-bit numbers and a dot fit).
pub const MAX_SOCKET_ID: usize = 48;

/// Whether the presence member store is built in (the `presence` feature). Checked as a
/// constant, so both configurations are type-checked and the unused one is compiled out.
pub(super) const PRESENCE: bool = cfg!(feature = "presence");

/// Where the transport stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// No transport, none wanted.
    Idle,
    /// An `Open` action is owed.
    OpenWanted,
    /// `Open` delivered; waiting for `handle_connected`.
    Opening,
    /// Upgrade request sent; waiting for `101`.
    Upgrading,
    /// Upgraded; waiting for `connection_established`.
    AwaitingEstablished,
    /// Connected.
    Established,
    /// This connection is over; waiting for the transport to close.
    Closing,
}

/// Sign-in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Signin {
    Off,
    /// Wanted; a `SigninRequired` event is owed once connected.
    Due,
    /// `SigninRequired` delivered; waiting for the app's answer.
    Waiting,
    /// The app could not sign in on this connection; asked again after the next reconnect.
    Refused,
    /// `pusher:signin` sent.
    Sent,
    /// `signin_success` received.
    Done,
}

/// Client event budget: a token bucket in thousandths of an event.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bucket {
    pub(super) milli: u64,
    pub(super) at: Instant,
}

/// The client. `CHANNELS` subscriptions of names up to `NAME` bytes are kept inline.
///
/// Names and the socket id are `heapless::String`s with a one-byte length, so `NAME` is at
/// most 255 (a larger one fails to compile); Pusher's own limit is 200
/// ([`crate::name::CHANNEL_NAME_MAX_LIMIT`]). heapless replaced the core's own buffers at
/// 20 B less flash in the complete client and the same stack (`scripts/footprint`).
///
/// The entry points that decode, sign or check the handshake are `#[inline(never)]`, as are
/// their heavy helpers: their frames then sit side by side instead of adding up in the
/// caller's, which keeps one client step under 1 KiB of stack on Cortex-M (`scripts/footprint`
/// measures it under QEMU).
pub struct Client<'a, const CHANNELS: usize = 8, const NAME: usize = 48> {
    pub(super) reader: Reader<&'a mut [u8]>,
    pub(super) inner: Inner<'a, CHANNELS, NAME>,
}

pub(super) struct Inner<'a, const CHANNELS: usize, const NAME: usize> {
    pub(super) config: Config<'a>,
    pub(super) rng: Rng,
    pub(super) state: State,
    pub(super) phase: Phase,
    pub(super) tx: Tx<'a>,
    pub(super) members: Store<'a>,
    pub(super) channels: Table<CHANNELS, NAME>,
    pub(super) notices: Notices,
    pub(super) backoff: Backoff,
    pub(super) use_tls: bool,
    pub(super) handshake: Option<ClientHandshake>,
    /// Empty while not connected.
    pub(super) socket_id: heapless::String<MAX_SOCKET_ID, u8>,
    pub(super) now: Instant,
    pub(super) timers: Timers,
    pub(super) activity: Duration,
    pub(super) transport_up: bool,
    pub(super) close_wanted: bool,
    pub(super) close_frame: Option<u16>,
    pub(super) ping_due: bool,
    pub(super) pongs_due: u8,
    pub(super) signin: Signin,
    pub(super) bucket: Bucket,
    /// Encrypted events waiting for their channel's new secret.
    #[cfg(feature = "encryption")]
    pub(super) hold: super::rekey::Hold<'a>,
}

/// The caller's memory a [`Client`] works in (nothing is allocated).
#[derive(Debug)]
pub struct Buffers<'a> {
    /// Received bytes: bounds the largest frame (and `Config::max_message`).
    pub rx: &'a mut [u8],
    /// Outgoing frames: a few hundred bytes suffice unless the app sends large client events.
    pub tx: &'a mut [u8],
    /// Presence members; may be empty (unused without the `presence` feature).
    pub presence: &'a mut [u8],
}

impl<'a, const CHANNELS: usize, const NAME: usize> Client<'a, CHANNELS, NAME> {
    /// A client working in the caller's [`Buffers`]; `seed` feeds masks, keys and jitter.
    ///
    /// ```
    /// use pusher_core::client::{Buffers, Client, Config, Instant};
    ///
    /// let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    /// let buffers = Buffers { rx: &mut rx, tx: &mut tx, presence: &mut [] };
    /// let mut client: Client<'_> = Client::new(Config::new("app-key", "ws-eu.pusher.com"), buffers, 7);
    /// client.subscribe("orders").unwrap();
    /// client.connect(Instant::from_millis(0));
    /// ```
    pub fn new(config: Config<'a>, buffers: Buffers<'a>, seed: u64) -> Self {
        let Buffers { rx, tx, presence } = buffers;
        let max = config.max_message;
        Client {
            reader: Reader::new(rx, Role::Client, max),
            inner: Inner {
                config,
                rng: Rng::new(seed),
                state: State::Initialized,
                phase: Phase::Idle,
                tx: Tx::new(tx),
                members: Store::new(presence),
                channels: Table::new(),
                notices: Notices::new(),
                backoff: Backoff::default(),
                use_tls: config.use_tls,
                handshake: None,
                socket_id: heapless::String::new(),
                now: Instant::default(),
                timers: Timers::default(),
                activity: config.activity_timeout,
                transport_up: false,
                close_wanted: false,
                close_frame: None,
                ping_due: false,
                pongs_due: 0,
                signin: Signin::Off,
                bucket: Bucket {
                    milli: u64::from(config.client_events_per_sec) * 1000,
                    at: Instant::default(),
                },
                #[cfg(feature = "encryption")]
                hold: super::rekey::Hold::new(&mut []),
            },
        }
    }

    /// Gives the client room to keep encrypted events that did not open while it asks for
    /// their channel's secret again (it may have been rotated): they are opened with the new
    /// one and handed out then. Without room (the default) such an event is reported as
    /// [`Event::DecryptionFailed`](super::Event::DecryptionFailed) at once and the channel is
    /// still re-authorized, so later events open. An event needs its names, 28 bytes and its
    /// decoded data (three quarters of the base64); a few hundred bytes hold a few commands.
    /// The `encryption` feature.
    ///
    /// ```
    /// use pusher_core::client::{Buffers, Client, Config};
    ///
    /// let (mut rx, mut tx, mut hold) = ([0u8; 4096], [0u8; 512], [0u8; 512]);
    /// let buffers = Buffers { rx: &mut rx, tx: &mut tx, presence: &mut [] };
    /// let mut client: Client<'_> = Client::new(Config::new("app-key", "127.0.0.1"), buffers, 7);
    /// client.hold_for_rekey(&mut hold);
    /// ```
    #[cfg(feature = "encryption")]
    pub fn hold_for_rekey(&mut self, buf: &'a mut [u8]) {
        self.inner.hold = super::rekey::Hold::new(buf);
    }

    /// Mixes more entropy into the generator (call with fresh hardware randomness at will).
    pub fn reseed(&mut self, entropy: u64) {
        self.inner.rng.mix(entropy);
    }

    /// The connection state.
    pub fn state(&self) -> State {
        self.inner.state
    }

    /// The socket id of the current connection.
    pub fn socket_id(&self) -> Option<&str> {
        self.inner.socket_id()
    }

    /// A subscription's state.
    pub fn channel_state(&self, name: &str) -> Option<ChannelState> {
        let i = self.inner.channels.find(name)?;
        self.inner.channels.get(i).map(|s| s.state)
    }

    /// The app's subscriptions and their states, in table order (pusher-js `allChannels()`):
    /// the client's own `#server-to-user-` channel and channels being unsubscribed are left
    /// out.
    pub fn channels(&self) -> impl Iterator<Item = (&str, ChannelState)> + '_ {
        self.inner
            .channels
            .slots
            .iter()
            .filter(|s| s.used && !s.internal && s.due != super::channels::Due::Unsubscribe)
            .map(|s| (s.name(), s.state))
    }

    /// Size of the client state in bytes, buffers excluded.
    pub const STATE_SIZE: usize = core::mem::size_of::<Self>();
}

impl<'a, const CHANNELS: usize, const NAME: usize> Inner<'a, CHANNELS, NAME> {
    pub(super) fn socket_id(&self) -> Option<&str> {
        (!self.socket_id.is_empty()).then(|| self.socket_id.as_str())
    }

    /// A copy of the socket id (so the client can be borrowed mutably while signing for
    /// it); `None` when not connected.
    pub(super) fn socket_id_copy(&self) -> Option<heapless::String<MAX_SOCKET_ID, u8>> {
        (!self.socket_id.is_empty()).then(|| self.socket_id.clone())
    }

    pub(super) fn set_state(&mut self, next: State) {
        if self.state != next {
            self.notices.push(Notice::State(self.state, next));
            self.state = next;
        }
    }

    pub(super) fn clear_timers(&mut self) {
        self.timers.stop_all();
    }
}
