//! The driver: one loop that moves bytes between a transport and the sans-IO client. Each
//! turn it hands the client's events to the app (answering auth requests through the
//! [`Authorizer`]), performs the client's actions, writes what it queued, then races a read
//! against the client's next deadline and the app's own wake-up.

use core::future::Future;
use core::ops::ControlFlow;
use core::pin::{Pin, pin};

use embassy_futures::select::{Either, Either4, select, select4};
use embassy_time::Timer;
use embedded_io_async::{Read, Write};
use pusher_core::client::{self, Action, AuthRequest, Client, Event, State};

use crate::auth::{AuthError, Authorizer, ChannelGrant, UserGrant};
use crate::connect::{Close, Connect};
use crate::fmt::debug;

/// What the app does with the driver's events.
///
/// A closure `FnMut(Event<'_>) -> ControlFlow<()>` is a handler that only listens.
pub trait Handler {
    /// An event from the client. Events borrow the client's buffers, so act on the client
    /// in [`Handler::work`]. `Break` stops [`Driver::run`].
    fn event(&mut self, event: Event<'_>) -> ControlFlow<()>;

    /// Called once per turn of the loop, after the events: subscribe, trigger, sign in.
    fn work<const CHANNELS: usize, const NAME: usize>(
        &mut self,
        client: &mut Client<'_, CHANNELS, NAME>,
    ) -> ControlFlow<()> {
        let _ = client;
        ControlFlow::Continue(())
    }

    /// Resolves when the app has work for [`Handler::work`] (a button, a sensor reading).
    /// Raced against the read, so it must be cancel-safe. Never resolves by default.
    async fn wait(&mut self) {
        core::future::pending::<()>().await
    }

    /// A connection could not be opened: `error` says why (DNS, TCP, the TLS handshake or
    /// the server's certificate). The client then reports `Disconnected` (transport lost)
    /// and retries after its backoff; this is where the cause reaches the app.
    fn connect_failed(&mut self, error: &dyn core::fmt::Display) {
        let _ = error;
    }
}

impl<F: FnMut(Event<'_>) -> ControlFlow<()>> Handler for F {
    fn event(&mut self, event: Event<'_>) -> ControlFlow<()> {
        self(event)
    }
}

/// Why [`Driver::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Stop {
    /// The handler returned `Break`.
    App,
    /// The client is disconnected and has nothing scheduled (the app called
    /// `disconnect`, or a close code said not to reconnect).
    Disconnected,
    /// The client gave up after `max_attempts` (state `Failed`).
    Failed,
}

impl core::fmt::Display for Stop {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Stop::App => "the app stopped it",
            Stop::Disconnected => "disconnected, with no reconnect scheduled",
            Stop::Failed => "gave up after the configured number of attempts",
        })
    }
}

/// An authorizer's answer, raced against the socket.
enum Answer<'g> {
    Channel(Result<ChannelGrant<'g>, AuthError>),
    User(Result<UserGrant<'g>, AuthError>),
}

/// Drives a [`Client`] over connections from a [`Connect`]or, signing with an
/// [`Authorizer`].
///
/// Auth requests never hold up the connection: the authorizer's future is raced against the
/// socket, the client's timers and the app, so public channels, pings and events go on while
/// it works; an answer that takes longer than [`Driver::set_auth_timeout`] (10 s by default)
/// becomes a subscription error, and the next reconnect asks again.
pub struct Driver<'a, A, const CHANNELS: usize = 8, const NAME: usize = 48> {
    client: Client<'a, CHANNELS, NAME>,
    authorizer: A,
    epoch: embassy_time::Instant,
    /// A connection was being opened or was open when a `run` future was dropped.
    transport: bool,
    auth_timeout: embassy_time::Duration,
}

impl<'a, A: Authorizer, const CHANNELS: usize, const NAME: usize> Driver<'a, A, CHANNELS, NAME> {
    /// A driver for `client`, answering auth requests with `authorizer`.
    pub fn new(client: Client<'a, CHANNELS, NAME>, authorizer: A) -> Self {
        Driver {
            client,
            authorizer,
            epoch: embassy_time::Instant::now(),
            transport: false,
            auth_timeout: embassy_time::Duration::from_secs(10),
        }
    }

    /// How long the authorizer may take for one request (default 10 s).
    pub fn set_auth_timeout(&mut self, timeout: embassy_time::Duration) {
        self.auth_timeout = timeout;
    }

    /// The client: subscribe, trigger, read members and state.
    pub fn client(&mut self) -> &mut Client<'a, CHANNELS, NAME> {
        &mut self.client
    }

    /// The authorizer.
    pub fn authorizer(&mut self) -> &mut A {
        &mut self.authorizer
    }

    /// The client's clock: milliseconds since the driver was made.
    pub fn now(&self) -> client::Instant {
        client::Instant::from_millis(self.epoch.elapsed().as_millis())
    }

    /// Starts connecting (same as `client().connect(now())`).
    pub fn connect(&mut self) {
        let now = self.now();
        self.client.connect(now);
    }

    /// Runs the client until the handler stops it, the client is disconnected for good, or
    /// it gives up. Cancel-safe: dropping the future closes the connection (the client sees
    /// a lost transport and reconnects on the next `run`), and no event or queued byte is lost.
    pub async fn run<C: Connect, H: Handler>(&mut self, connector: &mut C, app: &mut H) -> Stop {
        if core::mem::take(&mut self.transport) {
            // A previous `run` was dropped with a connection open or opening.
            self.client.handle_closed(self.now());
        }
        loop {
            if let ControlFlow::Break(stop) = turn(&mut self.client, app) {
                return stop;
            }
            match self.client.poll_action() {
                Some(Action::Open { tls }) => {
                    self.transport = true;
                    // Bounded by the client's connect timeout (its attempt deadline): a
                    // connector that never answers (a dead route, a stalled TLS handshake)
                    // counts as a failed attempt and backs off like one.
                    let deadline = self.client.poll_timeout().map(|t| self.wall(t));
                    let limit = async {
                        match deadline {
                            Some(at) => Timer::at(at).await,
                            None => core::future::pending().await,
                        }
                    };
                    let opened = match select(connector.connect(tls), limit).await {
                        Either::First(opened) => Some(opened),
                        Either::Second(()) => None,
                    };
                    match opened {
                        None => {
                            debug!("connect timed out");
                            app.connect_failed(&"no connection within the connect timeout");
                            self.transport = false;
                            self.client.handle_closed(self.now());
                        }
                        Some(Ok(mut conn)) => {
                            debug!("transport open");
                            self.client.handle_connected(self.now());
                            let stop = self.session(&mut conn, app).await;
                            conn.close().await;
                            self.transport = false;
                            self.client.handle_closed(self.now());
                            if let Some(stop) = stop {
                                return stop;
                            }
                        }
                        Some(Err(e)) => {
                            #[cfg(feature = "log")]
                            log::debug!("connect failed: {e}");
                            #[cfg(feature = "defmt")]
                            defmt::debug!("connect failed");
                            app.connect_failed(&e);
                            self.transport = false;
                            self.client.handle_closed(self.now());
                        }
                    }
                }
                // Nothing is open: closing is only bookkeeping.
                Some(Action::Close) => self.client.handle_closed(self.now()),
                None => {
                    let Some(deadline) = self.client.poll_timeout() else {
                        match self.client.state() {
                            State::Failed => return Stop::Failed,
                            State::Disconnected | State::Initialized => {
                                return Stop::Disconnected;
                            }
                            _ => {}
                        }
                        app.wait().await;
                        continue;
                    };
                    let timer = Timer::at(self.wall(deadline));
                    if let Either::First(()) = select(timer, app.wait()).await {
                        self.client.handle_timeout(self.now());
                    }
                }
            }
        }
    }

    /// One open connection: returns `None` when it ended (the caller closes it), or why to
    /// stop altogether. Each auth request gets one authorizer future, polled beside the socket
    /// until it answers or times out, so a request to a backend is never started over because
    /// a frame arrived.
    async fn session<T: Read + Write, H: Handler>(
        &mut self,
        conn: &mut T,
        app: &mut H,
    ) -> Option<Stop> {
        let Driver {
            client,
            authorizer,
            epoch,
            auth_timeout,
            ..
        } = self;
        loop {
            let Some(req) = client.auth_request() else {
                let idle = pin!(core::future::pending::<Answer<'_>>());
                match pump(client, conn, app, *epoch, idle, None).await {
                    Pumped::End(stop) => return stop,
                    _ => continue,
                }
            };
            let until = embassy_time::Instant::now() + *auth_timeout;
            let asking = pin!(ask(authorizer, &req));
            match pump(client, conn, app, *epoch, asking, Some(until)).await {
                Pumped::End(stop) => return stop,
                Pumped::Answer(answer) => settle(client, &req, answer),
                // (`NewRequest` only comes when nothing is being asked.)
                Pumped::TimedOut | Pumped::NewRequest => {
                    debug!("auth timed out");
                    let _ = match req.channel() {
                        Some(channel) => client.auth_failed(channel, req.socket_id(), None).ok(),
                        None => client.signin_failed(req.socket_id()).ok(),
                    };
                }
            }
        }
    }

    /// The embassy-time instant of a client instant.
    fn wall(&self, at: client::Instant) -> embassy_time::Instant {
        wall(self.epoch, at)
    }
}

/// The embassy-time instant of a client instant, on a clock started at `epoch`.
fn wall(epoch: embassy_time::Instant, at: client::Instant) -> embassy_time::Instant {
    epoch + embassy_time::Duration::from_millis(at.as_millis())
}

/// The client instant of now, on a clock started at `epoch`.
fn now(epoch: embassy_time::Instant) -> client::Instant {
    client::Instant::from_millis(epoch.elapsed().as_millis())
}

/// Asks the authorizer for `req`.
async fn ask<'g, A: Authorizer, const NAME: usize>(
    authorizer: &'g mut A,
    req: &AuthRequest<NAME>,
) -> Answer<'g> {
    match req.names() {
        Ok((socket_id, Some(channel))) => {
            Answer::Channel(authorizer.authorize(socket_id, channel).await)
        }
        Ok((socket_id, None)) => Answer::User(authorizer.authenticate_user(socket_id).await),
        Err(_) => Answer::Channel(Err(AuthError::BadInput)),
    }
}

/// How [`pump`] ended.
enum Pumped<T> {
    /// The connection ended (`None`), or the app or client said to stop.
    End(Option<Stop>),
    /// The authorizer answered.
    Answer(T),
    /// The auth request was not answered in time.
    TimedOut,
    /// No request was being asked, and now there is one.
    NewRequest,
}

/// Runs one connection (events to the app, queued bytes out, reads in, timers) while `auth`
/// works, until it answers, its deadline `until` passes, the connection ends, or (when no
/// request is being asked, `until` is `None`) the client has a request to ask.
async fn pump<T, H, F, const CHANNELS: usize, const NAME: usize>(
    client: &mut Client<'_, CHANNELS, NAME>,
    conn: &mut T,
    app: &mut H,
    epoch: embassy_time::Instant,
    mut auth: Pin<&mut F>,
    until: Option<embassy_time::Instant>,
) -> Pumped<F::Output>
where
    T: Read + Write,
    H: Handler,
    F: Future,
{
    loop {
        if let ControlFlow::Break(stop) = turn(client, app) {
            return Pumped::End(Some(stop));
        }
        if !flush(client, conn).await {
            return Pumped::End(None);
        }
        // Any action ends the session: `Close` (asked for, or due once `disconnect`'s close
        // frame went out, with no wait for a reply that may never come) after everything
        // queued was written; `Open` is only asked with no transport, so it means start over.
        if client.poll_action().is_some() {
            return Pumped::End(None);
        }
        match until {
            None if client.auth_request().is_some() => return Pumped::NewRequest,
            Some(at) if at <= embassy_time::Instant::now() => return Pumped::TimedOut,
            _ => {}
        }
        let deadline = client
            .poll_timeout()
            .map(|at| wall(epoch, at))
            .into_iter()
            .chain(until)
            .min();
        let timer = async {
            match deadline {
                Some(at) => Timer::at(at).await,
                None => core::future::pending::<()>().await,
            }
        };
        let spare = client.rx_buffer();
        if spare.is_empty() {
            // A frame larger than the buffer: the next `poll_event` reports and closes.
            continue;
        }
        // The authorizer first: a local signer answers at once.
        match select4(auth.as_mut(), conn.read(spare), timer, app.wait()).await {
            Either4::First(answer) => return Pumped::Answer(answer),
            Either4::Second(Ok(0)) => {
                debug!("closed by peer");
                return Pumped::End(None);
            }
            Either4::Second(Ok(n)) => client.commit_rx(n, now(epoch)),
            Either4::Second(Err(e)) => {
                debug!("read failed:", embedded_io_async::Error::kind(&e));
                return Pumped::End(None);
            }
            Either4::Third(()) | Either4::Fourth(()) => {}
        }
        let now = now(epoch);
        if client.poll_timeout().is_some_and(|t| t <= now) {
            client.handle_timeout(now);
        }
    }
}

/// Hands out every pending event, then lets the app work.
fn turn<H: Handler, const CHANNELS: usize, const NAME: usize>(
    client: &mut Client<'_, CHANNELS, NAME>,
    app: &mut H,
) -> ControlFlow<Stop> {
    while let Some(event) = client.poll_event() {
        if app.event(event).is_break() {
            return ControlFlow::Break(Stop::App);
        }
    }
    if app.work(client).is_break() {
        return ControlFlow::Break(Stop::App);
    }
    ControlFlow::Continue(())
}

/// Writes everything the client queued. False when the transport failed.
async fn flush<T: Write, const CHANNELS: usize, const NAME: usize>(
    client: &mut Client<'_, CHANNELS, NAME>,
    conn: &mut T,
) -> bool {
    let mut wrote = false;
    while let Some(out) = client.poll_transmit() {
        match conn.write(out).await {
            Ok(0) => return false,
            Ok(n) => {
                wrote = true;
                client.consume_tx(n);
            }
            Err(e) => {
                debug!("write failed:", embedded_io_async::Error::kind(&e));
                return false;
            }
        }
    }
    !wrote || conn.flush().await.is_ok()
}

/// Hands an authorizer's answer to the client. A refusal, or an answer the client cannot
/// use, becomes a subscription error for the channel (asked again after the next reconnect).
fn settle<const CHANNELS: usize, const NAME: usize>(
    client: &mut Client<'_, CHANNELS, NAME>,
    req: &AuthRequest<NAME>,
    answer: Answer<'_>,
) {
    let socket = req.socket_id();
    match (req.channel(), answer) {
        (Some(channel), Answer::Channel(Ok(grant))) => {
            let taken = match grant.shared_secret {
                #[cfg(feature = "encryption")]
                Some(secret) => client.provide_encrypted_auth(channel, socket, grant.auth, secret),
                _ => client.provide_auth(channel, socket, grant.auth, grant.channel_data),
            };
            if let Err(e) = taken {
                // Stale socket id (reconnected meanwhile) or no room.
                debug!("auth answer not taken:", e);
                let _ = client.auth_failed(channel, socket, None);
            }
        }
        (Some(channel), answer) => {
            let status = match answer {
                Answer::Channel(Err(AuthError::Status(status))) => Some(status),
                _ => None,
            };
            debug!("auth refused");
            let _ = client.auth_failed(channel, socket, status);
        }
        (None, Answer::User(Ok(grant))) => {
            if let Err(e) = client.provide_user_auth(socket, grant.auth, grant.user_data) {
                debug!("sign-in answer not taken:", e);
            }
        }
        (None, _) => {
            debug!("sign-in refused");
            let _ = client.signin_failed(socket);
        }
    }
}
