//! An owned client: [`Background`] owns its buffers and runs a [`Pusher`] on a thread of its
//! own, and hands out a cloneable [`Handle`] (`Send + Sync`) that any thread can use to
//! subscribe, trigger, sign in or ask anything of the client. Events arrive as [`Update`]s on a
//! receiver, and in whatever callbacks the setup closure binds (on the client's thread, so
//! they need only be `Send` to get there). Dropping the `Background` closes the connection
//! with 1000 and joins the thread.
//!
//! Commands reach the client within one poll slice ([`POLL`]): std cannot wait on a socket
//! and a channel at once, so the client thread looks at its queue between reads.

use std::fmt;
use std::io;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use pusher_core::client::{State, SubscribeError, TriggerError, UnsubscribeError};

use crate::client_error::ClientError;
use crate::pusher::{Buffers, Options, Pusher};

/// How long the client thread reads the socket before it looks at its command queue again.
pub const POLL: Duration = Duration::from_millis(10);

/// What the client saw, owned, for another thread.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Update {
    /// A channel event, or a protocol event pusher-js apps bind to (see
    /// `pusher_core::client::Event::bindable`).
    Event {
        /// Event name.
        event: String,
        /// Channel, if any.
        channel: Option<String>,
        /// Payload.
        data: Option<String>,
        /// Sender's user id (client events on presence channels).
        user_id: Option<String>,
    },
    /// The connection state changed.
    State {
        /// Before.
        previous: State,
        /// Now.
        current: State,
    },
    /// A failure with its typed cause, as the [`Pusher::on_error`] callbacks see it.
    Error(ClientError),
    /// A call queued from a callback on the client's thread was refused (its error's text).
    Refused(String),
}

/// Why a [`Handle`] call did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandleError<E> {
    /// The client thread has stopped (its [`Background`] was dropped).
    Closed,
    /// Called from a callback on the client's own thread, where waiting for the answer would
    /// never end. (The fire-and-forget calls are queued there instead.)
    OnClientThread,
    /// The client refused.
    Client(E),
}

impl<E: fmt::Display> fmt::Display for HandleError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleError::Closed => f.write_str("the client has stopped"),
            HandleError::OnClientThread => {
                f.write_str("cannot wait for the client from its own thread (a callback)")
            }
            HandleError::Client(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for HandleError<E> {}

type Command = Box<dyn FnOnce(&mut Pusher<'_>) + Send>;

/// What every handle sees of the client without asking its thread.
#[derive(Debug)]
struct Shared {
    state: State,
    socket_id: Option<String>,
}

/// A cloneable, `Send + Sync` way into a [`Background`] client from any thread.
#[derive(Clone)]
pub struct Handle {
    commands: Sender<Option<Command>>,
    shared: Arc<Mutex<Shared>>,
    worker: ThreadId,
    updates: Sender<Update>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// Runs `f` on the client's thread and returns its result: anything the [`Pusher`] or
    /// its core client can tell or do (members, channel states, ...).
    ///
    /// Not from a callback (that runs on the client's thread): [`HandleError::OnClientThread`].
    pub fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Pusher<'_>) -> R + Send + 'static,
    ) -> Result<R, HandleError<std::convert::Infallible>> {
        if std::thread::current().id() == self.worker {
            return Err(HandleError::OnClientThread);
        }
        let (tx, rx) = mpsc::channel();
        let cmd: Command = Box::new(move |p| {
            let _ = tx.send(f(p));
        });
        self.commands
            .send(Some(cmd))
            .map_err(|_| HandleError::Closed)?;
        rx.recv().map_err(|_| HandleError::Closed)
    }

    /// Runs a call that may fail: waits for its answer from other threads; from a callback
    /// on the client's thread, queues it and reports a refusal as an [`Update::Refused`].
    fn call<E: fmt::Display + Send + 'static>(
        &self,
        f: impl FnOnce(&mut Pusher<'_>) -> Result<(), E> + Send + 'static,
    ) -> Result<(), HandleError<E>> {
        if std::thread::current().id() == self.worker {
            let updates = self.updates.clone();
            let cmd: Command = Box::new(move |p| {
                if let Err(e) = f(p) {
                    log::warn!("{e}");
                    let _ = updates.send(Update::Refused(e.to_string()));
                }
            });
            return self
                .commands
                .send(Some(cmd))
                .map_err(|_| HandleError::Closed);
        }
        match self.with(f) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(HandleError::Client(e)),
            Err(_) => Err(HandleError::Closed),
        }
    }

    /// Subscribes to a channel.
    pub fn subscribe(&self, channel: &str) -> Result<(), HandleError<SubscribeError>> {
        let channel = channel.to_owned();
        self.call(move |p| p.subscribe(&channel))
    }

    /// Unsubscribes.
    pub fn unsubscribe(&self, channel: &str) -> Result<(), HandleError<UnsubscribeError>> {
        let channel = channel.to_owned();
        self.call(move |p| p.unsubscribe(&channel))
    }

    /// Triggers a client event with JSON data.
    pub fn trigger(
        &self,
        channel: &str,
        event: &str,
        json: &str,
    ) -> Result<(), HandleError<TriggerError>> {
        let (channel, event, json) = (channel.to_owned(), event.to_owned(), json.to_owned());
        self.call(move |p| p.trigger(&channel, &event, &json))
    }

    /// Triggers a client event whose data is any `T: Serialize` (written as JSON here, then
    /// sent as written).
    pub fn trigger_json<T: serde::Serialize + ?Sized>(
        &self,
        channel: &str,
        event: &str,
        data: &T,
    ) -> Result<(), HandleError<TriggerError>> {
        let json = serde_json::to_string(data)
            .map_err(|_| HandleError::Client(TriggerError::Unserializable))?;
        self.trigger(channel, event, &json)
    }

    /// Asks to sign in (the authorizer answers).
    pub fn signin(&self) -> Result<(), HandleError<std::convert::Infallible>> {
        self.call(|p| {
            p.signin();
            Ok::<(), std::convert::Infallible>(())
        })
    }

    /// Connects again after [`Handle::disconnect`].
    pub fn connect(&self) -> Result<(), HandleError<std::convert::Infallible>> {
        self.call(|p| {
            p.connect();
            Ok::<(), std::convert::Infallible>(())
        })
    }

    /// Disconnects on purpose (close 1000); the thread stays, [`Handle::connect`] resumes.
    pub fn disconnect(&self) -> Result<(), HandleError<std::convert::Infallible>> {
        self.call(|p| {
            p.disconnect();
            Ok::<(), std::convert::Infallible>(())
        })
    }

    /// The connection state, as of the client thread's last step.
    pub fn state(&self) -> State {
        self.shared.lock().map_or(State::Disconnected, |s| s.state)
    }

    /// The socket id, when connected.
    pub fn socket_id(&self) -> Option<String> {
        self.shared.lock().ok().and_then(|s| s.socket_id.clone())
    }
}

/// A client that owns its buffers and runs on its own thread. Dropping it closes the
/// connection (1000) and joins the thread.
///
/// ```no_run
/// use pusher_std::background::{Background, Update};
/// use pusher_std::pusher::Options;
///
/// let (client, updates) = Background::start(Options::cluster("app-key", "eu"), |p| {
///     p.bind("orders", "created", |e| println!("order {:?}", e.data));
/// })?;
/// let handle = client.handle();
/// std::thread::spawn(move || handle.subscribe("orders"));
/// for update in updates.iter().take(10) {
///     if let Update::Error(e) = update {
///         eprintln!("{e}");
///     }
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Background {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Background {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Background")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl Background {
    /// Starts a client for `options` on a new thread with default [`Buffers`], calls `setup`
    /// there first (set the authorizer, bind callbacks, subscribe), then connects. Returns
    /// the client and the receiver of its [`Update`]s (drop the receiver to ignore them).
    pub fn start(
        options: Options,
        setup: impl FnOnce(&mut Pusher<'_>) + Send + 'static,
    ) -> io::Result<(Background, Receiver<Update>)> {
        Self::start_with(options, Buffers::default(), setup)
    }

    /// [`Background::start`] with buffers of the caller's sizes.
    pub fn start_with(
        options: Options,
        buffers: Buffers,
        setup: impl FnOnce(&mut Pusher<'_>) + Send + 'static,
    ) -> io::Result<(Background, Receiver<Update>)> {
        let (commands, queue) = mpsc::channel::<Option<Command>>();
        let (updates, received) = mpsc::channel();
        let shared = Arc::new(Mutex::new(Shared {
            state: State::Initialized,
            socket_id: None,
        }));
        let (ready_tx, ready) = mpsc::channel::<io::Result<()>>();
        let (shared2, updates2) = (shared.clone(), updates.clone());
        let thread = std::thread::Builder::new()
            .name("pusher-client".into())
            .spawn(move || run(options, buffers, setup, queue, shared2, updates2, ready_tx))?;
        let worker = thread.thread().id();
        ready
            .recv()
            .map_err(|_| io::Error::other("the client thread ended before starting"))??;
        Ok((
            Background {
                handle: Handle {
                    commands,
                    shared,
                    worker,
                    updates,
                },
                thread: Some(thread),
            },
            received,
        ))
    }

    /// A handle for other threads (clone it freely).
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }
}

impl std::ops::Deref for Background {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.handle.commands.send(None);
        if let Some(t) = self.thread.take() {
            if t.thread().id() == std::thread::current().id() {
                return;
            }
            let _ = t.join();
        }
    }
}

/// The client thread: build, set up, connect, then run until told to stop (or every
/// sender is gone), closing with 1000.
fn run(
    options: Options,
    mut buffers: Buffers,
    setup: impl FnOnce(&mut Pusher<'_>),
    queue: Receiver<Option<Command>>,
    shared: Arc<Mutex<Shared>>,
    updates: Sender<Update>,
    ready: Sender<io::Result<()>>,
) {
    let mut p = match Pusher::new(&options, &mut buffers) {
        Ok(p) => p,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let tx = updates.clone();
    p.bind_global(move |e| {
        let _ = tx.send(Update::Event {
            event: e.event.to_owned(),
            channel: e.channel.map(str::to_owned),
            data: e.data.map(str::to_owned),
            user_id: e.user_id.map(str::to_owned),
        });
    });
    let (tx, now) = (updates.clone(), shared.clone());
    p.on_state_change(move |previous, current| {
        // Handles see a new state at once (the socket id follows after the step).
        if let Ok(mut s) = now.lock() {
            s.state = current;
        }
        let _ = tx.send(Update::State { previous, current });
    });
    let tx = updates;
    p.on_error(move |e| {
        let _ = tx.send(Update::Error(e.clone()));
    });
    setup(&mut p);
    p.connect();
    let _ = ready.send(Ok(()));
    loop {
        loop {
            match queue.try_recv() {
                Ok(Some(cmd)) => cmd(&mut p),
                Ok(None) | Err(mpsc::TryRecvError::Disconnected) => {
                    p.disconnect();
                    publish(&mut p, &shared);
                    return;
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        p.run_for(POLL);
        publish(&mut p, &shared);
    }
}

fn publish(p: &mut Pusher<'_>, shared: &Mutex<Shared>) {
    let (state, socket_id) = (p.state(), p.socket_id());
    if let Ok(mut s) = shared.lock() {
        s.state = state;
        s.socket_id = socket_id;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_go_to_any_thread_and_the_client_too() {
        assert_send_sync::<Handle>();
        fn assert_send<T: Send>() {}
        assert_send::<Background>();
    }

    #[test]
    fn a_stopped_client_answers_closed_and_a_failed_start_is_an_error() {
        let mut options = Options::host("key", "127.0.0.1", 1, 1, false);
        options.ca_pem =
            Some(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n".to_vec());
        assert!(Background::start(options, |_| {}).is_err());

        let options = Options::host("key", "127.0.0.1", 1, 1, false);
        let (client, _updates) = Background::start(options, |_| {}).unwrap();
        let handle = client.handle();
        drop(client);
        assert_eq!(handle.subscribe("a"), Err(HandleError::Closed));
        assert_eq!(handle.with(|_| 1), Err(HandleError::Closed));
    }
}
