//! The handles: [`Pusher`] (clone it into any task), each subscribed [`Channel`] as a
//! `Stream` of its events, and streams of every event, state change and error. Commands go to
//! the driver task and come back answered; nothing here touches the protocol.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use pusher_core::client::{
    self, Client, EventData, State, SubscribeError, TriggerError, UnsubscribeError,
};
use pusher_core::wire::message::Payload;
use pusher_std::client_error::ClientError;
use pusher_std::pusher::{NAME, Options};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_stream::wrappers::UnboundedReceiverStream;

use crate::auth::Authorizer;
use crate::driver::CHANNELS;

/// An event, owned: a channel event or a protocol event pusher-js apps bind to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelEvent {
    /// Event name.
    pub event: String,
    /// Channel, if any.
    pub channel: Option<String>,
    /// Payload.
    pub data: Option<String>,
    /// Sender's user id (client events on presence channels).
    pub user_id: Option<String>,
}

impl ChannelEvent {
    pub(crate) fn of(e: &EventData<'_>) -> Self {
        ChannelEvent {
            event: e.event.to_owned(),
            channel: e.channel.map(str::to_owned),
            data: e.data.map(str::to_owned),
            user_id: e.user_id.map(str::to_owned),
        }
    }

    /// The event as the core's handlers see it.
    pub fn as_data(&self) -> EventData<'_> {
        EventData {
            event: &self.event,
            channel: self.channel.as_deref(),
            data: self.data.as_deref(),
            user_id: self.user_id.as_deref(),
        }
    }

    /// `data` decoded into `T` with serde_json.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.data.as_deref().unwrap_or("null"))
    }
}

/// Why [`Pusher::subscribe`] did not give a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubscribeFailure {
    /// The client refused at once (a bad name, a full table, presence without the store).
    Client(SubscribeError),
    /// The subscription was refused (auth failed or the server said no); the status if any.
    Refused(Option<u16>),
    /// No answer within the timeout; the last error reported meanwhile, if any.
    Timeout(Option<ClientError>),
    /// The client has stopped.
    Closed,
}

impl std::fmt::Display for SubscribeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubscribeFailure::Client(e) => e.fmt(f),
            SubscribeFailure::Refused(Some(s)) => write!(f, "subscription refused (status {s})"),
            SubscribeFailure::Refused(None) => f.write_str("subscription refused"),
            SubscribeFailure::Timeout(Some(e)) => write!(f, "no answer from the server ({e})"),
            SubscribeFailure::Timeout(None) => f.write_str("no answer from the server"),
            SubscribeFailure::Closed => f.write_str("the client has stopped"),
        }
    }
}

impl std::error::Error for SubscribeFailure {}

/// Why a call did not reach the client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallError<E> {
    /// The client refused.
    Client(E),
    /// The client has stopped.
    Closed,
}

impl<E: std::fmt::Display> std::fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Client(e) => e.fmt(f),
            CallError::Closed => f.write_str("the client has stopped"),
        }
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for CallError<E> {}

/// How a subscription ended up.
pub(crate) enum Subscribed {
    Ok,
    Refused(Option<u16>),
}

type Job = Box<dyn FnOnce(&mut Client<'_, CHANNELS, NAME>, client::Instant) + Send>;

/// What a handle asks of the driver.
pub(crate) enum Command {
    /// Run this on the client.
    Call(Job),
    /// Subscribe, answering when the server confirms or refuses.
    Subscribe(String, oneshot::Sender<Result<(), SubscribeFailure>>),
    /// Deliver this channel's events (or every event, `None`) here.
    Listen(Option<String>, mpsc::UnboundedSender<ChannelEvent>),
    /// Deliver errors here.
    Errors(mpsc::UnboundedSender<ClientError>),
    /// Close (1000) and stop; answered when done.
    Shutdown(Option<oneshot::Sender<()>>),
}

/// Who wants what the driver sees (lives on the driver task).
pub(crate) struct Subscribers {
    listeners: Vec<(Option<String>, mpsc::UnboundedSender<ChannelEvent>)>,
    errors: Vec<mpsc::UnboundedSender<ClientError>>,
    pending: HashMap<String, Vec<oneshot::Sender<Result<(), SubscribeFailure>>>>,
    state: watch::Sender<State>,
}

impl Subscribers {
    pub(crate) fn event(&mut self, e: &ChannelEvent) {
        self.listeners.retain(|(channel, tx)| {
            if channel.is_some() && channel.as_deref() != e.channel.as_deref() {
                return !tx.is_closed();
            }
            tx.send(e.clone()).is_ok()
        });
    }

    pub(crate) fn error(&mut self, e: &ClientError) {
        self.errors.retain(|tx| tx.send(e.clone()).is_ok());
    }

    pub(crate) fn subscribed(&mut self, channel: &str, how: Subscribed) {
        for waiter in self.pending.remove(channel).unwrap_or_default() {
            let _ = waiter.send(match how {
                Subscribed::Ok => Ok(()),
                Subscribed::Refused(status) => Err(SubscribeFailure::Refused(status)),
            });
        }
    }

    pub(crate) fn state(&mut self, s: State) {
        self.state.send_if_modified(|current| {
            let changed = *current != s;
            *current = s;
            changed
        });
    }
}

/// Performs a handle's command on the driver task.
pub(crate) fn apply(
    cmd: Command,
    client: &mut Client<'_, CHANNELS, NAME>,
    subs: &mut Subscribers,
    now: client::Instant,
) {
    match cmd {
        Command::Call(job) => job(client, now),
        Command::Subscribe(name, reply) => match client.subscribe(&name) {
            Ok(()) if client.channel_state(&name) == Some(client::ChannelState::Subscribed) => {
                let _ = reply.send(Ok(()));
            }
            Ok(()) => subs.pending.entry(name).or_default().push(reply),
            Err(e) => {
                let _ = reply.send(Err(SubscribeFailure::Client(e)));
            }
        },
        Command::Listen(channel, tx) => subs.listeners.push((channel, tx)),
        Command::Errors(tx) => subs.errors.push(tx),
        // Handled by the loop itself.
        Command::Shutdown(_) => {}
    }
}

/// How long [`Pusher::subscribe`] waits for the server.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(15);

/// The async client: clone it into any task (`Send + Sync + 'static`). The connection runs
/// on a task of its own and reconnects as the core decides; dropping the last handle closes
/// it (1000), [`Pusher::shutdown`] does so and waits.
#[derive(Clone)]
pub struct Pusher {
    commands: mpsc::UnboundedSender<Command>,
    state: watch::Receiver<State>,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pusher")
            .field("state", &*self.state.borrow())
            .finish_non_exhaustive()
    }
}

/// Sets a [`Pusher`] up before it starts.
pub struct Builder {
    options: Options,
    authorizer: Option<Arc<dyn Authorizer>>,
}

impl Builder {
    /// Who signs private and presence channels and sign-ins.
    pub fn authorizer(mut self, a: impl Authorizer) -> Self {
        self.authorizer = Some(Arc::new(a));
        self
    }

    /// Starts the client (it connects in the background; watch [`Pusher::state`]).
    /// Needs a tokio runtime.
    pub fn start(self) -> Pusher {
        let (commands, queue) = mpsc::unbounded_channel();
        let (state_tx, state) = watch::channel(State::Initialized);
        let subs = Subscribers {
            listeners: Vec::new(),
            errors: Vec::new(),
            pending: HashMap::new(),
            state: state_tx,
        };
        tokio::spawn(crate::driver::run(
            self.options,
            self.authorizer,
            queue,
            subs,
        ));
        Pusher { commands, state }
    }

    /// Starts the client and waits until it is connected; the first failure is an error
    /// (and the client is stopped).
    pub async fn connect(self) -> Result<Pusher, ClientError> {
        let pusher = self.start();
        let mut errors = pusher.errors();
        let mut state = pusher.state.clone();
        loop {
            let connected = *state.borrow_and_update() == State::Connected;
            if connected {
                return Ok(pusher);
            }
            tokio::select! {
                changed = state.changed() => {
                    if changed.is_err() {
                        return Err(ClientError::GaveUp);
                    }
                }
                e = futures_next(&mut errors) => {
                    let e = e.unwrap_or(ClientError::GaveUp);
                    pusher.shutdown().await;
                    return Err(e);
                }
            }
        }
    }
}

async fn futures_next<S: Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
}

impl Pusher {
    /// A client for `options` (pusher-std's: host, ports, TLS, CA, timeouts, every core
    /// setting through `Options::tune`).
    pub fn builder(options: Options) -> Builder {
        Builder {
            options,
            authorizer: None,
        }
    }

    /// [`Builder::connect`] without an authorizer (public channels).
    pub async fn connect(options: Options) -> Result<Pusher, ClientError> {
        Self::builder(options).connect().await
    }

    /// The connection state now.
    pub fn state(&self) -> State {
        *self.state.borrow()
    }

    /// The connection states as they change.
    pub fn state_changes(&self) -> tokio_stream::wrappers::WatchStream<State> {
        tokio_stream::wrappers::WatchStream::new(self.state.clone())
    }

    /// Every failure, typed (pusher-std's `ClientError`), from now on.
    pub fn errors(&self) -> UnboundedReceiverStream<ClientError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = self.commands.send(Command::Errors(tx));
        UnboundedReceiverStream::new(rx)
    }

    /// Every event, from now on.
    pub fn events(&self) -> UnboundedReceiverStream<ChannelEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = self.commands.send(Command::Listen(None, tx));
        UnboundedReceiverStream::new(rx)
    }

    /// Calls `f` for `event` on `channel` (pusher-js `channel.bind`) on a task of its own,
    /// until the client stops.
    pub fn bind(
        &self,
        channel: &str,
        event: &str,
        mut f: impl FnMut(ChannelEvent) + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let _ = self
            .commands
            .send(Command::Listen(Some(channel.to_owned()), tx));
        let event = event.to_owned();
        tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                if e.event == event {
                    f(e);
                }
            }
        })
    }

    /// Runs `f` on the client (on the driver task) and returns its result.
    pub async fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client<'_, CHANNELS, NAME>, client::Instant) -> R + Send + 'static,
    ) -> Result<R, CallError<std::convert::Infallible>> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |c, now| {
            let _ = tx.send(f(c, now));
        });
        self.commands
            .send(Command::Call(job))
            .map_err(|_| CallError::Closed)?;
        rx.await.map_err(|_| CallError::Closed)
    }

    /// Subscribes and resolves once the server confirms (or refuses): the channel's events
    /// are then a `Stream`. A protected channel is signed by the authorizer meanwhile.
    pub async fn subscribe(&self, name: &str) -> Result<Channel, SubscribeFailure> {
        let (events_tx, events) = mpsc::unbounded_channel();
        // Listening first, so nothing sent right after the confirmation is missed.
        self.commands
            .send(Command::Listen(Some(name.to_owned()), events_tx))
            .map_err(|_| SubscribeFailure::Closed)?;
        let mut errors = self.errors();
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Subscribe(name.to_owned(), tx))
            .map_err(|_| SubscribeFailure::Closed)?;
        let mut last = None;
        let wait = async {
            let mut rx = rx;
            loop {
                tokio::select! {
                    r = &mut rx => return r.map_err(|_| SubscribeFailure::Closed)?,
                    Some(e) = futures_next(&mut errors) => last = Some(e),
                }
            }
        };
        match tokio::time::timeout(SUBSCRIBE_TIMEOUT, wait).await {
            Ok(Ok(())) => Ok(Channel {
                name: name.to_owned(),
                events: UnboundedReceiverStream::new(events),
                pusher: self.clone(),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SubscribeFailure::Timeout(last)),
        }
    }

    /// Triggers a client event (`client-*` on a subscribed private or presence channel).
    pub async fn trigger(
        &self,
        channel: &str,
        event: &str,
        json: &str,
    ) -> Result<(), CallError<TriggerError>> {
        let (channel, event, json) = (channel.to_owned(), event.to_owned(), json.to_owned());
        self.with(move |c, _| c.trigger(&channel, &event, Payload::Json(&json)))
            .await
            .map_err(|_| CallError::Closed)?
            .map_err(CallError::Client)
    }

    /// Triggers a client event whose data is any `T: Serialize`.
    pub async fn trigger_json<T: serde::Serialize + ?Sized>(
        &self,
        channel: &str,
        event: &str,
        data: &T,
    ) -> Result<(), CallError<TriggerError>> {
        let json = serde_json::to_string(data)
            .map_err(|_| CallError::Client(TriggerError::Unserializable))?;
        self.trigger(channel, event, &json).await
    }

    /// Unsubscribes.
    pub async fn unsubscribe(&self, name: &str) -> Result<(), CallError<UnsubscribeError>> {
        let name = name.to_owned();
        self.with(move |c, _| c.unsubscribe(&name))
            .await
            .map_err(|_| CallError::Closed)?
            .map_err(CallError::Client)
    }

    /// Asks to sign in (the authorizer answers).
    pub async fn signin(&self) -> Result<(), CallError<std::convert::Infallible>> {
        self.with(|c, _| c.signin()).await
    }

    /// The socket id, when connected.
    pub async fn socket_id(&self) -> Option<String> {
        self.with(|c, _| c.socket_id().map(str::to_owned))
            .await
            .ok()
            .flatten()
    }

    /// Closes the connection (1000) and stops the driver; resolves when it has.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown(Some(tx))).is_ok() {
            let _ = rx.await;
        }
    }
}

/// A subscribed channel: a `Stream` of its events (channel events and the pusher-js
/// protocol events on it, such as `pusher:member_added`).
pub struct Channel {
    name: String,
    events: UnboundedReceiverStream<ChannelEvent>,
    pusher: Pusher,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel").field("name", &self.name).finish()
    }
}

impl Channel {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next event (`None` once the client has stopped).
    pub async fn next(&mut self) -> Option<ChannelEvent> {
        futures_next(&mut self.events).await
    }

    /// Triggers a client event on this channel.
    pub async fn trigger(&self, event: &str, json: &str) -> Result<(), CallError<TriggerError>> {
        self.pusher.trigger(&self.name, event, json).await
    }

    /// Presence members: `(user id, user_info JSON)`.
    pub async fn members(&self) -> Vec<(String, String)> {
        let name = self.name.clone();
        self.pusher
            .with(move |c, _| {
                c.members(&name)
                    .map(|(id, info)| (id.to_owned(), info.to_owned()))
                    .collect()
            })
            .await
            .unwrap_or_default()
    }

    /// Unsubscribes.
    pub async fn unsubscribe(self) -> Result<(), CallError<UnsubscribeError>> {
        self.pusher.unsubscribe(&self.name).await
    }
}

impl Stream for Channel {
    type Item = ChannelEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ChannelEvent>> {
        Pin::new(&mut self.events).poll_next(cx)
    }
}
