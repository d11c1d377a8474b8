//! A friendly client in the spirit of pusher-js: subscribe, bind handlers to events per
//! channel or globally, watch connection states. Auth requests are answered by the
//! configured [`Authorizer`] on worker threads (so a slow auth endpoint never holds up the
//! connection). Everything else runs on the caller's thread inside [`Pusher::run_for`] /
//! [`Pusher::run_until`].

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pusher_core::client::{
    self, AuthRequest, ChannelState, Client, Config, Event, State, SubscribeError, TriggerError,
    UnsubscribeError,
};
use pusher_core::name::ChannelKind;
use pusher_core::wire::event::ServerMessage;
use pusher_core::wire::message::Payload;

use crate::auth::{AuthFailure, Authorizer};
use crate::auth_work::{Answer, AuthWork, Settled};
use crate::bindings::{BindId, Bindings, Scope};
use crate::channel::Channel;
use crate::client_error::ClientError;
use crate::connect_error::ConnectError;
use crate::driver::Driver;
use crate::net::NetConnector;

/// Channels a [`Pusher`] can hold.
pub const CHANNELS: usize = 32;
/// Longest channel name it can hold.
pub const NAME: usize = 164;

/// Memory the client works in, owned by the caller (so nothing is self-referential): the
/// frame buffers, and the app key and host the core's configuration borrows.
pub struct Buffers {
    rx: Vec<u8>,
    tx: Vec<u8>,
    presence: Vec<u8>,
    hold: Vec<u8>,
    key: String,
    host: String,
}

impl Default for Buffers {
    /// 64 KiB for frames, 16 KiB to send, 16 KiB of presence members (and 16 KiB for
    /// encrypted events waiting for a rotated key, see [`Buffers::with_rekey_hold`]).
    fn default() -> Self {
        Buffers::new(64 * 1024, 16 * 1024, 16 * 1024)
    }
}

impl Buffers {
    /// Buffers of the given sizes, with a 16 KiB re-key hold.
    pub fn new(rx: usize, tx: usize, presence: usize) -> Self {
        Buffers {
            rx: vec![0; rx],
            tx: vec![0; tx],
            presence: vec![0; presence],
            hold: vec![0; 16 * 1024],
            key: String::new(),
            host: String::new(),
        }
    }

    /// Room for encrypted events that did not open while their channel is authorized again
    /// (its key may have rotated); they are opened with the new key then. With 0 such an
    /// event is reported as an error at once (later ones use the new key).
    pub fn with_rekey_hold(mut self, bytes: usize) -> Self {
        self.hold = vec![0; bytes];
        self
    }
}

/// Where to connect.
#[derive(Debug, Clone)]
pub struct Options {
    /// App key.
    pub key: String,
    /// WebSocket host (`ws-{cluster}.pusher.com`, or a local server).
    pub host: String,
    /// Port for `ws://`.
    pub ws_port: u16,
    /// Port for `wss://`.
    pub wss_port: u16,
    /// Use TLS.
    pub tls: bool,
    /// Extra CA certificates (PEM).
    pub ca_pem: Option<Vec<u8>>,
    /// Randomness for masks, keys and jitter (defaults to the clock and process id).
    pub seed: u64,
    /// How long the authorizer may take for one channel (then the channel gets a
    /// subscription error, and the next reconnect asks again).
    pub auth_timeout: Duration,
    /// How long the TCP connect may take, and again the TLS handshake (10 s).
    pub connect_timeout: Duration,
    /// Every setting of the core client (timeouts, backoff, attempt limit, client event
    /// rate, path prefix, client name...), pusher-js's defaults to start; see
    /// [`Options::tune`]. Its key, host and TLS come from the fields above, and its largest
    /// message is capped by the receive buffer.
    pub client: Config<'static>,
}

impl Options {
    /// A Pusher cluster (`mt1`, `eu`, ...) over TLS.
    pub fn cluster(key: &str, cluster: &str) -> Self {
        Options::host(key, &format!("ws-{cluster}.pusher.com"), 80, 443, true)
    }

    /// Any host.
    pub fn host(key: &str, host: &str, ws_port: u16, wss_port: u16, tls: bool) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        Options {
            key: key.to_owned(),
            host: host.to_owned(),
            ws_port,
            wss_port,
            tls,
            ca_pem: None,
            seed,
            auth_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            // Bounded by the receive buffer in `Pusher::new`.
            client: Config {
                max_message: usize::MAX,
                ..Config::new("", "")
            },
        }
    }

    /// Sets any core client setting, builder style.
    ///
    /// ```
    /// use pusher_std::pusher::Options;
    /// use pusher_std::pusher_core::client::Duration;
    ///
    /// let options = Options::cluster("app-key", "eu").tune(|c| {
    ///     c.activity_timeout = Duration::from_secs(30);
    ///     c.max_attempts = Some(5);
    ///     c.client_events_per_sec = 5;
    /// });
    /// assert_eq!(options.client.max_attempts, Some(5));
    /// ```
    pub fn tune(mut self, f: impl FnOnce(&mut Config<'static>)) -> Self {
        f(&mut self.client);
        self
    }
}

/// An event as handlers see it (also the core's view of a channel event).
pub use pusher_core::client::EventData;

type StateHandler<'a> = Box<dyn FnMut(State, State) + 'a>;
type ErrorHandler<'a> = Box<dyn FnMut(&ClientError) + 'a>;

/// The client.
pub struct Pusher<'a> {
    driver: Driver<'a, NetConnector, CHANNELS, NAME>,
    authorizer: Option<Arc<dyn Authorizer>>,
    auth: AuthWork<NAME>,
    bindings: Bindings<'a>,
    state_handlers: Vec<StateHandler<'a>>,
    error_handlers: Vec<ErrorHandler<'a>>,
    host_header: String,
}

impl<'a> Pusher<'a> {
    /// A client for `options`, working in `buffers`. Call [`Pusher::connect`] to start.
    pub fn new(options: &Options, buffers: &'a mut Buffers) -> io::Result<Self> {
        let port = if options.tls {
            options.wss_port
        } else {
            options.ws_port
        };
        let host_header = crate::net::host_header(&options.host, port, options.tls);
        let Buffers {
            rx,
            tx,
            presence,
            hold,
            key,
            host,
        } = buffers;
        key.clone_from(&options.key);
        host.clone_from(&host_header);
        let mut config = Config {
            app_key: key,
            host,
            ..options.client
        };
        config.use_tls = options.tls;
        config.max_message = config.max_message.min(rx.len().saturating_sub(16));
        let buffers = client::Buffers { rx, tx, presence };
        let mut client = Client::new(config, buffers, options.seed);
        client.hold_for_rekey(hold);
        let connector = NetConnector {
            host: options.host.clone(),
            ws_port: options.ws_port,
            wss_port: options.wss_port,
            timeout: options.connect_timeout,
            tls: crate::net::tls_config(options.ca_pem.as_deref())?,
        };
        Ok(Pusher {
            driver: Driver::new(client, connector),
            authorizer: None,
            auth: AuthWork::new(options.auth_timeout),
            bindings: Bindings::default(),
            state_handlers: Vec::new(),
            error_handlers: Vec::new(),
            host_header,
        })
    }

    /// Who answers auth requests for private and presence channels (and sign-ins).
    pub fn set_authorizer(&mut self, authorizer: impl Authorizer) {
        self.authorizer = Some(Arc::new(authorizer));
    }

    /// The `Host` the client connects to.
    pub fn host(&self) -> &str {
        &self.host_header
    }

    /// Starts connecting (and reconnecting, until [`Pusher::disconnect`]).
    pub fn connect(&mut self) {
        let now = self.driver.now();
        self.driver.client().connect(now);
    }

    /// Disconnects on purpose.
    pub fn disconnect(&mut self) {
        let now = self.driver.now();
        self.driver.client().disconnect(now);
        self.driver.step(Duration::from_millis(1));
    }

    /// Subscribes to a channel.
    pub fn subscribe(&mut self, channel: &str) -> Result<(), SubscribeError> {
        self.driver.client().subscribe(channel)
    }

    /// Unsubscribes.
    pub fn unsubscribe(&mut self, channel: &str) -> Result<(), UnsubscribeError> {
        self.driver.client().unsubscribe(channel)
    }

    /// Calls `f` for `event` on `channel` (pusher-js `channel.bind(event, f)`).
    ///
    /// Every adapter binds the same way: [`Pusher::bind`] (an event on a channel),
    /// [`Pusher::bind_event`] (an event on any channel), [`Pusher::bind_channel`] (every event
    /// on a channel) and [`Pusher::bind_global`] (every event). Handlers see channel events and
    /// the protocol events pusher-js apps bind to (`pusher:subscription_succeeded`,
    /// `pusher:member_added`, ...; see `pusher_core::client::Event::bindable`).
    pub fn bind(
        &mut self,
        channel: &str,
        event: &str,
        f: impl FnMut(&EventData<'_>) + 'a,
    ) -> BindId {
        self.bindings
            .bind(Scope::Channel(Some(channel.to_owned())), Some(event), f)
    }

    /// Calls `f` for `event` on any channel (pusher-js `pusher.bind(event, f)`).
    pub fn bind_event(&mut self, event: &str, f: impl FnMut(&EventData<'_>) + 'a) -> BindId {
        self.bindings.bind(Scope::Channel(None), Some(event), f)
    }

    /// Calls `f` for every event on `channel` (pusher-js `channel.bind_global(f)`).
    pub fn bind_channel(&mut self, channel: &str, f: impl FnMut(&EventData<'_>) + 'a) -> BindId {
        self.bindings
            .bind(Scope::Channel(Some(channel.to_owned())), None, f)
    }

    /// Calls `f` for every event (pusher-js `pusher.bind_global(f)`).
    pub fn bind_global(&mut self, f: impl FnMut(&EventData<'_>) + 'a) -> BindId {
        self.bindings.bind(Scope::Channel(None), None, f)
    }

    /// Calls `f` for `event` sent to the signed-in user (pusher-js `pusher.user.bind(event,
    /// f)`: the REST `send_to_user` events, on the `#server-to-user-` channel).
    pub fn bind_user(&mut self, event: &str, f: impl FnMut(&EventData<'_>) + 'a) -> BindId {
        self.bindings.bind(Scope::User, Some(event), f)
    }

    /// Calls `f` when users of the signed-in user's watchlist come `online` or go `offline`
    /// (pusher-js `pusher.user.watchlist.bind(status, f)`); `e.event` is the status and
    /// `e.data` the user ids, a JSON array.
    pub fn bind_watchlist(&mut self, status: &str, f: impl FnMut(&EventData<'_>) + 'a) -> BindId {
        self.bindings.bind(Scope::Watchlist, Some(status), f)
    }

    /// Removes one handler by the id its `bind*` call returned; whether it was bound.
    pub fn unbind(&mut self, id: BindId) -> bool {
        self.bindings.unbind(id)
    }

    /// Removes the handlers [`Pusher::bind_event`] bound to `event` (pusher-js
    /// `pusher.unbind(event)`); returns how many.
    pub fn unbind_event(&mut self, event: &str) -> usize {
        self.bindings
            .unbind_matching(&Scope::Channel(None), Some(event))
    }

    /// Removes the handlers [`Pusher::bind_global`] bound (pusher-js `unbind_global()`).
    pub fn unbind_global(&mut self) -> usize {
        self.bindings.unbind_matching(&Scope::Channel(None), None)
    }

    pub(crate) fn unbind_channel(&mut self, channel: &str, event: Option<&str>) -> usize {
        self.bindings
            .unbind_matching(&Scope::Channel(Some(channel.to_owned())), event)
    }

    pub(crate) fn unbind_channel_all(&mut self, channel: &str) -> usize {
        self.bindings
            .unbind_scope(&Scope::Channel(Some(channel.to_owned())))
    }

    /// Removes every event handler (pusher-js `unbind_all()`); state and error callbacks
    /// stay.
    pub fn unbind_all(&mut self) {
        self.bindings.clear();
    }

    /// A subscribed channel as pusher-js hands it out (`pusher.channel(name)`): its state,
    /// members, client events and handlers. `None` when it is not subscribed (or being
    /// unsubscribed).
    pub fn channel(&mut self, name: &str) -> Option<Channel<'_, 'a>> {
        self.driver.client().channel_state(name)?;
        Some(Channel {
            pusher: self,
            name: name.to_owned(),
        })
    }

    /// Every subscription and its state (pusher-js `allChannels()`).
    pub fn all_channels(&mut self) -> Vec<(String, ChannelState)> {
        self.driver
            .client()
            .channels()
            .map(|(n, s)| (n.to_owned(), s))
            .collect()
    }

    /// Calls `f(previous, current)` on every state change.
    pub fn on_state_change(&mut self, f: impl FnMut(State, State) + 'a) {
        self.state_handlers.push(Box::new(f));
    }

    /// Calls `f` with every failure and its typed cause: server errors with their code,
    /// refused subscriptions with their status, auth failures, connect failures (DNS, refused,
    /// timeout, TLS certificate) and disconnections, each with the retry decision. Its
    /// `Display` is the message for a person.
    pub fn on_error(&mut self, f: impl FnMut(&ClientError) + 'a) {
        self.error_handlers.push(Box::new(f));
    }

    /// Asks to sign in (the authorizer answers).
    pub fn signin(&mut self) {
        self.driver.client().signin();
    }

    /// Triggers a client event (`client-*` on a subscribed private or presence channel).
    pub fn trigger(&mut self, channel: &str, event: &str, json: &str) -> Result<(), TriggerError> {
        self.driver
            .client()
            .trigger(channel, event, Payload::Json(json))
    }

    /// Triggers a client event whose data is any `T: Serialize`, written straight into the
    /// frame (the core's [`pusher_core::client::Client::trigger_json`]). Receive typed data
    /// with [`pusher_core::client::EventData::json`] in a handler.
    pub fn trigger_json<T: serde::Serialize + ?Sized>(
        &mut self,
        channel: &str,
        event: &str,
        data: &T,
    ) -> Result<(), TriggerError> {
        self.driver.client().trigger_json(channel, event, data)
    }

    /// The connection state.
    pub fn state(&mut self) -> State {
        self.driver.client().state()
    }

    /// The socket id, when connected.
    pub fn socket_id(&mut self) -> Option<String> {
        self.driver.client().socket_id().map(str::to_owned)
    }

    /// The core client, for everything else (presence members, channel states...).
    pub fn client(&mut self) -> &mut Client<'a, CHANNELS, NAME> {
        self.driver.client()
    }

    /// Runs the connection for `duration`, dispatching events to handlers.
    pub fn run_for(&mut self, duration: Duration) {
        let end = Instant::now() + duration;
        self.run_until(|_| Instant::now() >= end, duration);
    }

    /// Runs until `done` returns true (checked after every step) or `limit` passes. Returns
    /// whether `done` was satisfied.
    pub fn run_until(&mut self, mut done: impl FnMut(&mut Self) -> bool, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        loop {
            self.settle_auth();
            self.dispatch();
            if done(self) {
                return true;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            // While an auth answer is awaited, look for it every few milliseconds (the
            // socket read cannot be woken by the worker thread).
            let slice = if self.auth.busy() {
                Duration::from_millis(5)
            } else {
                Duration::from_millis(100)
            };
            self.driver.step(left.min(slice));
        }
    }

    /// Hands every auth answer (or timeout) that came in to the client.
    fn settle_auth(&mut self) {
        while let Some(Settled { request, answer }) = self.auth.next_settled() {
            let socket_id = request.socket_id();
            match request.channel() {
                Some(channel) => {
                    let answer = match answer {
                        Some(Answer::Channel(a)) => a,
                        _ => Err(self.auth.timed_out()),
                    };
                    self.answer_auth(channel, socket_id, answer);
                }
                None => {
                    let answer = match answer {
                        Some(Answer::Signin(a)) => a,
                        _ => Err(self.auth.timed_out()),
                    };
                    self.answer_signin(socket_id, answer);
                }
            }
        }
    }

    fn report(&mut self, error: ClientError) {
        log::warn!("{error}");
        for h in &mut self.error_handlers {
            h(&error);
        }
    }

    fn dispatch(&mut self) {
        loop {
            let Some(ev) = self.driver.client().poll_event() else {
                return;
            };
            // Events pusher-js hands its handlers with data the core's event does not carry
            // as text: built here, after the event is done with (members need the client).
            let mut synthesized = None;
            match ev {
                Event::Subscribed { channel }
                    if matches!(
                        ChannelKind::of(channel),
                        ChannelKind::Presence | ChannelKind::PresenceCache
                    ) =>
                {
                    synthesized = Some(Synth::Members(channel.to_owned()));
                }
                Event::SubscriptionError { channel, status } => {
                    let data = match status {
                        Some(s) => format!(r#"{{"type":"AuthError","status":{s}}}"#),
                        None => r#"{"type":"AuthError","status":null}"#.to_owned(),
                    };
                    synthesized = Some(Synth::Event(
                        "pusher:subscription_error",
                        channel.to_owned(),
                        data,
                    ));
                }
                Event::SubscriptionCount { channel, count } => {
                    synthesized = Some(Synth::Event(
                        "pusher:subscription_count",
                        channel.to_owned(),
                        format!(r#"{{"subscription_count":{count}}}"#),
                    ));
                }
                Event::Watchlist { events } => {
                    for entry in ServerMessage::watchlist_entries(events) {
                        match entry {
                            Ok(w) => {
                                let status = w.name.as_str().unwrap_or("");
                                self.bindings.watchlist(status, w.user_ids.raw());
                            }
                            Err(e) => log::warn!("watchlist entry skipped: {e}"),
                        }
                    }
                }
                _ => {
                    if let Some(e) = ev.bindable() {
                        self.bindings.channel_event(&e);
                    }
                }
            }
            let owed = match ev {
                Event::StateChanged { previous, current } => {
                    log::info!("state {previous:?} -> {current:?}");
                    for h in &mut self.state_handlers {
                        h(previous, current);
                    }
                    None
                }
                Event::AuthRequired { .. } | Event::SigninRequired { .. } => {
                    AuthRequest::from_event(&ev)
                }
                other => {
                    let error = ClientError::of_event(&other).map(|e| {
                        e.with_connect_cause(|| {
                            self.driver
                                .take_connect_error()
                                .map(|e| ConnectError::of(&e))
                        })
                    });
                    if let Some(e) = error {
                        self.report(e);
                    }
                    None
                }
            };
            if let Some(request) = owed {
                self.ask(request);
            }
            match synthesized {
                Some(Synth::Members(channel)) => {
                    let data = members_json(self.driver.client(), &channel);
                    self.bindings.channel_event(&EventData {
                        event: "pusher:subscription_succeeded",
                        channel: Some(&channel),
                        data: Some(&data),
                        user_id: None,
                    });
                }
                Some(Synth::Event(event, channel, data)) => {
                    self.bindings.channel_event(&EventData {
                        event,
                        channel: Some(&channel),
                        data: Some(&data),
                        user_id: None,
                    });
                }
                None => {}
            }
        }
    }

    /// Starts an auth request on a worker thread (or fails it at once without an authorizer).
    fn ask(&mut self, request: AuthRequest<NAME>) {
        match (&self.authorizer, request.channel()) {
            (Some(a), _) => self.auth.ask(a, request),
            (None, Some(channel)) => {
                let none = AuthFailure {
                    status: None,
                    message: "no authorizer configured".into(),
                };
                self.answer_auth(channel, request.socket_id(), Err(none));
            }
            (None, None) => self.report(ClientError::Signin(
                "asked for, but no authorizer is configured".into(),
            )),
        }
    }

    fn answer_auth(
        &mut self,
        channel: &str,
        socket_id: &str,
        answer: Result<crate::auth::ChannelAuth, AuthFailure>,
    ) {
        let client = self.driver.client();
        if client.socket_id() != Some(socket_id) {
            // Reconnected meanwhile: the new connection asks again.
            log::debug!("auth answer for {channel} is for an earlier connection");
            return;
        }
        let failure = match answer {
            Ok(a) => match a.answer(client, channel, socket_id) {
                Ok(()) => return,
                Err(e) => AuthFailure {
                    status: None,
                    message: format!("the authorizer's answer cannot be used: {e}"),
                },
            },
            Err(e) => e,
        };
        let status = failure.status;
        self.report(ClientError::Auth {
            channel: Some(channel.to_owned()),
            failure,
        });
        if let Err(e) = self.driver.client().auth_failed(channel, socket_id, status) {
            log::debug!("auth failure for {channel} not taken: {e}");
        }
    }

    fn answer_signin(
        &mut self,
        socket_id: &str,
        answer: Result<crate::auth::UserAuth, AuthFailure>,
    ) {
        match answer {
            Ok(u) => {
                if let Err(e) =
                    self.driver
                        .client()
                        .provide_user_auth(socket_id, &u.auth, &u.user_data)
                {
                    self.report(ClientError::Signin(format!("answer not used: {e}")));
                }
            }
            Err(e) => {
                self.report(ClientError::Auth {
                    channel: None,
                    failure: e,
                });
                let _ = self.driver.client().signin_failed(socket_id);
            }
        }
    }
}

impl Drop for Pusher<'_> {
    /// Closes an open connection with 1000, so the server sees the client leave at once.
    fn drop(&mut self) {
        if self.driver.is_open() {
            self.disconnect();
        }
    }
}

/// An event for handlers built after the core's event is released.
enum Synth {
    /// `pusher:subscription_succeeded` on a presence channel, with its members.
    Members(String),
    /// Any other: event name, channel, data.
    Event(&'static str, String, String),
}

/// A presence channel's members as pusher-js passes them with `subscription_succeeded`:
/// `{"count":N,"me":{"id":..,"info":..},"members":{"id":info,...}}` (`info` as each member
/// sent it).
fn members_json(client: &Client<'_, CHANNELS, NAME>, channel: &str) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let info = |i: &str| if i.is_empty() { "null" } else { i }.to_owned();
    let mut members = String::new();
    for (id, user_info) in client.members(channel) {
        if !members.is_empty() {
            members.push(',');
        }
        members.push_str(&quote(id));
        members.push(':');
        members.push_str(&info(user_info));
    }
    let me = match client.me(channel) {
        Some(id) => format!(
            r#"{{"id":{},"info":{}}}"#,
            quote(id),
            info(client.member(channel, id).unwrap_or(""))
        ),
        None => "null".to_owned(),
    };
    format!(
        r#"{{"count":{},"me":{me},"members":{{{members}}}}}"#,
        client.member_count(channel)
    )
}
