//! A friendly client in the spirit of pusher-js: subscribe, bind handlers to events per
//! channel or globally, watch connection states. Auth requests are answered by the
//! configured [`Authorizer`] on worker threads (so a slow auth endpoint never holds up the
//! connection). Everything else runs on the caller's thread inside [`Pusher::run_for`] /
//! [`Pusher::run_until`].

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pusher_core::client::{
    self, AuthRequest, Client, Config, Event, State, SubscribeError, TriggerError, UnsubscribeError,
};
use pusher_core::wire::message::Payload;

use crate::auth::{AuthFailure, Authorizer};
use crate::auth_work::{Answer, AuthWork, Settled};
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
    key: String,
    host: String,
}

impl Default for Buffers {
    /// 64 KiB for frames, 16 KiB to send, 16 KiB of presence members.
    fn default() -> Self {
        Buffers::new(64 * 1024, 16 * 1024, 16 * 1024)
    }
}

impl Buffers {
    /// Buffers of the given sizes.
    pub fn new(rx: usize, tx: usize, presence: usize) -> Self {
        Buffers {
            rx: vec![0; rx],
            tx: vec![0; tx],
            presence: vec![0; presence],
            key: String::new(),
            host: String::new(),
        }
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
        }
    }
}

/// An event as handlers see it (also the core's view of a channel event).
pub use pusher_core::client::EventData;

type Handler<'a> = Box<dyn FnMut(&EventData<'_>) + 'a>;
type StateHandler<'a> = Box<dyn FnMut(State, State) + 'a>;
type ErrorHandler<'a> = Box<dyn FnMut(&ClientError) + 'a>;

/// The client.
pub struct Pusher<'a> {
    driver: Driver<'a, NetConnector, CHANNELS, NAME>,
    authorizer: Option<Arc<dyn Authorizer>>,
    auth: AuthWork<NAME>,
    handlers: Vec<(Option<String>, Option<String>, Handler<'a>)>,
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
            key,
            host,
        } = buffers;
        key.clone_from(&options.key);
        host.clone_from(&host_header);
        let mut config = Config::new(key, host);
        config.use_tls = options.tls;
        config.max_message = rx.len().saturating_sub(16);
        let buffers = client::Buffers { rx, tx, presence };
        let client = Client::new(config, buffers, options.seed);
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
            handlers: Vec::new(),
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
    pub fn bind(&mut self, channel: &str, event: &str, f: impl FnMut(&EventData<'_>) + 'a) {
        self.handlers.push((
            Some(channel.to_owned()),
            Some(event.to_owned()),
            Box::new(f),
        ));
    }

    /// Calls `f` for `event` on any channel (pusher-js `pusher.bind(event, f)`).
    pub fn bind_event(&mut self, event: &str, f: impl FnMut(&EventData<'_>) + 'a) {
        self.handlers
            .push((None, Some(event.to_owned()), Box::new(f)));
    }

    /// Calls `f` for every event on `channel` (pusher-js `channel.bind_global(f)`).
    pub fn bind_channel(&mut self, channel: &str, f: impl FnMut(&EventData<'_>) + 'a) {
        self.handlers
            .push((Some(channel.to_owned()), None, Box::new(f)));
    }

    /// Calls `f` for every event (pusher-js `pusher.bind_global(f)`).
    pub fn bind_global(&mut self, f: impl FnMut(&EventData<'_>) + 'a) {
        self.handlers.push((None, None, Box::new(f)));
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
            if let Some(e) = ev.bindable() {
                call(&mut self.handlers, &e);
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
                    let error = match other {
                        Event::Error { code, message } => Some(ClientError::Server {
                            code,
                            message: unescaped(message),
                        }),
                        Event::SubscriptionError { channel, status } => {
                            Some(ClientError::SubscriptionRefused {
                                channel: channel.to_owned(),
                                status,
                            })
                        }
                        Event::Disconnected {
                            problem, retry_in, ..
                        } => {
                            let retry_in = retry_in.map(|d| Duration::from_millis(d.as_millis()));
                            Some(match self.driver.take_connect_error() {
                                Some(e) => ClientError::Connect {
                                    cause: ConnectError::of(&e),
                                    retry_in,
                                },
                                None => ClientError::Disconnected { problem, retry_in },
                            })
                        }
                        Event::Malformed(e) => Some(ClientError::Malformed(e)),
                        Event::GaveUp => Some(ClientError::GaveUp),
                        Event::PresenceOverflow { channel } => {
                            Some(ClientError::PresenceOverflow {
                                channel: channel.to_owned(),
                            })
                        }
                        _ => None,
                    };
                    if let Some(e) = error {
                        self.report(e);
                    }
                    None
                }
            };
            if let Some(request) = owed {
                self.ask(request);
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
            Ok(a) => {
                match client.provide_auth(channel, socket_id, &a.auth, a.channel_data.as_deref()) {
                    Ok(()) => return,
                    Err(e) => AuthFailure {
                        status: None,
                        message: format!("the authorizer's answer cannot be used: {e}"),
                    },
                }
            }
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

/// Calls the handlers bound to this event's channel and name.
fn call(handlers: &mut [(Option<String>, Option<String>, Handler<'_>)], e: &EventData<'_>) {
    for (c, name, h) in handlers {
        let channel_ok = c.as_deref().is_none_or(|c| Some(c) == e.channel);
        let event_ok = name.as_deref().is_none_or(|n| n == e.event);
        if channel_ok && event_ok {
            h(e);
        }
    }
}

/// A JSON-escaped server message as text (escapes resolved where they can be).
fn unescaped(message: pusher_core::wire::json::RawStr<'_>) -> String {
    match message.as_str() {
        Some(s) => s.to_owned(),
        None => {
            let mut out = vec![0u8; message.raw().len()];
            message
                .unescape_into(&mut out)
                .map_or_else(|_| message.raw().to_owned(), str::to_owned)
        }
    }
}
