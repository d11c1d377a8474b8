//! Other tasks of the firmware talking through the driver: commands (subscribe, unsubscribe,
//! trigger a client event) come in through an `embassy-sync` [`Channel`], and what the
//! client reports goes out, owned, through a [`PubSubChannel`] any number of tasks listen
//! to. The driver's task stays the only one that touches the client.
//!
//! ```no_run
//! use embassy_sync::blocking_mutex::raw::NoopRawMutex;
//! use embassy_sync::channel::Channel;
//! use embassy_sync::pubsub::{PubSubChannel, WaitResult};
//! use pusher_embassy::bridge::{Bridge, Command, Notice};
//! use pusher_embassy::{Connect, Driver, NoAuth};
//!
//! // Capacities in the types: names up to 64 bytes, a command's data up to 256 and an
//! // event's up to 1 KiB; 4 commands queued, 8 notices kept for 2 listening tasks.
//! type Commands = Channel<NoopRawMutex, Command<64, 256>, 4>;
//! type Notices = PubSubChannel<NoopRawMutex, Notice<64, 1024>, 8, 2, 1>;
//!
//! async fn network<C: Connect>(driver: &mut Driver<'_, NoAuth>, net: &mut C, commands: &Commands, notices: &Notices) {
//!     let mut bridge = Bridge::new(commands.receiver(), notices.immediate_publisher());
//!     driver.run(net, &mut bridge).await;
//! }
//!
//! async fn sensor(commands: &Commands, notices: &Notices) {
//!     let mut events = notices.subscriber().expect("a free subscriber slot");
//!     commands.send(Command::subscribe("private-sensor").expect("fits")).await;
//!     loop {
//!         match events.next_message().await {
//!             WaitResult::Message(Notice::Subscribed(channel)) => {
//!                 let reading = Command::trigger(&channel, "client-reading", r#"{"t":21.5}"#);
//!                 commands.send(reading.expect("fits")).await;
//!             }
//!             WaitResult::Message(_) => {}
//!             // Fell behind: this many notices were overwritten before this task read them.
//!             WaitResult::Lagged(missed) => { let _ = missed; }
//!         }
//!     }
//! }
//! ```

use core::fmt;
use core::ops::ControlFlow;

use embassy_sync::blocking_mutex::raw::RawMutex;
use embassy_sync::channel::Receiver;
use embassy_sync::pubsub::ImmediatePublisher;
use heapless::String;
use pusher_core::client::{
    Client, Event, EventData, OwnedEvent, OwnedEventError, State, SubscribeError, TriggerError,
    UnsubscribeError,
};
use pusher_core::wire::message::Payload;

#[cfg(doc)]
use embassy_sync::{channel::Channel, pubsub::PubSubChannel};

use crate::driver::Handler;

/// What another task asks the driver to do. `N` bounds channel and event names, `D` the data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Command<const N: usize = 164, const D: usize = 256> {
    /// Subscribe to a channel (private and presence ones are signed by the driver's authorizer).
    Subscribe(String<N>),
    /// Unsubscribe from a channel.
    Unsubscribe(String<N>),
    /// Trigger a client event (`client-` name) on a subscribed private or presence channel,
    /// with JSON `data`.
    Trigger {
        /// The channel.
        channel: String<N>,
        /// The event name.
        event: String<N>,
        /// The payload, JSON text.
        data: String<D>,
    },
}

/// A command's text did not fit its capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TooLong {
    /// Its length.
    pub len: usize,
    /// The capacity it had to fit.
    pub capacity: usize,
}

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes do not fit a capacity of {}",
            self.len, self.capacity
        )
    }
}

impl core::error::Error for TooLong {}

fn owned<const C: usize>(s: &str) -> Result<String<C>, TooLong> {
    let mut out = String::new();
    out.push_str(s).map_err(|_| TooLong {
        len: s.len(),
        capacity: C,
    })?;
    Ok(out)
}

impl<const N: usize, const D: usize> Command<N, D> {
    /// Subscribe to `channel`.
    pub fn subscribe(channel: &str) -> Result<Self, TooLong> {
        Ok(Command::Subscribe(owned(channel)?))
    }

    /// Unsubscribe from `channel`.
    pub fn unsubscribe(channel: &str) -> Result<Self, TooLong> {
        Ok(Command::Unsubscribe(owned(channel)?))
    }

    /// Trigger client event `event` on `channel` with JSON `data`.
    pub fn trigger(channel: &str, event: &str, data: &str) -> Result<Self, TooLong> {
        Ok(Command::Trigger {
            channel: owned(channel)?,
            event: owned(event)?,
            data: owned(data)?,
        })
    }
}

/// Why a command was not carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CommandError {
    /// Subscribing was refused (bad name, table full).
    Subscribe(SubscribeError),
    /// Unsubscribing was refused (not subscribed).
    Unsubscribe(UnsubscribeError),
    /// The client event was refused (not subscribed, not a `client-` name, over the rate).
    Trigger(TriggerError),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Subscribe(e) => write!(f, "subscribe: {e}"),
            CommandError::Unsubscribe(e) => write!(f, "unsubscribe: {e}"),
            CommandError::Trigger(e) => write!(f, "trigger: {e}"),
        }
    }
}

impl core::error::Error for CommandError {}

/// What the driver tells the listening tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Notice<const N: usize = 164, const D: usize = 1024> {
    /// A channel event (or a client event from another member), owned.
    Message(OwnedEvent<N, D>),
    /// An event arrived that does not fit an [`OwnedEvent<N, D>`]: which field, how long.
    TooLarge(OwnedEventError),
    /// A subscription was confirmed.
    Subscribed(String<N>),
    /// A subscription failed (the auth endpoint's HTTP status, when it answered).
    SubscriptionError {
        /// The channel (cut to `N` bytes if longer).
        channel: String<N>,
        /// HTTP-like status, when known.
        status: Option<u16>,
    },
    /// The connection state changed to this.
    State(State),
    /// A command was not carried out.
    CommandFailed(CommandError),
    /// A connection could not be opened: why (DNS, TCP, TLS, the certificate), cut to `N`
    /// bytes. The client retries after its backoff.
    ConnectFailed(String<N>),
}

/// A channel name for a notice, cut at a character boundary if it is longer than `N`.
fn name<const N: usize>(s: &str) -> String<N> {
    let mut out = String::new();
    for c in s.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    out
}

/// A [`Handler`] that carries commands in and notices out; run the driver with it. `N`
/// bounds names, `CMD` a command's data, `DATA` an event's; `Q`, `CAP` and `SUBS` are the
/// channels' depths and listener count.
///
/// Notices are published without waiting: a listener that falls more than the channel's
/// capacity behind is told how many it missed (`WaitResult::Lagged`), and the driver never
/// stalls on a slow task.
pub struct Bridge<
    'c,
    M: RawMutex,
    const N: usize,
    const CMD: usize,
    const DATA: usize,
    const Q: usize,
    const CAP: usize,
    const SUBS: usize,
> {
    commands: Receiver<'c, M, Command<N, CMD>, Q>,
    notices: ImmediatePublisher<'c, M, Notice<N, DATA>, CAP, SUBS, 1>,
}

impl<
    'c,
    M: RawMutex,
    const N: usize,
    const CMD: usize,
    const DATA: usize,
    const Q: usize,
    const CAP: usize,
    const SUBS: usize,
> Bridge<'c, M, N, CMD, DATA, Q, CAP, SUBS>
{
    /// A bridge taking commands from `commands` and publishing to `notices`.
    pub fn new(
        commands: Receiver<'c, M, Command<N, CMD>, Q>,
        notices: ImmediatePublisher<'c, M, Notice<N, DATA>, CAP, SUBS, 1>,
    ) -> Self {
        Bridge { commands, notices }
    }
}

/// Carries out one command on the client.
fn carry_out<const N: usize, const CMD: usize, const CHANNELS: usize, const NAME: usize>(
    client: &mut Client<'_, CHANNELS, NAME>,
    command: &Command<N, CMD>,
) -> Result<(), CommandError> {
    match command {
        Command::Subscribe(channel) => client.subscribe(channel).map_err(CommandError::Subscribe),
        Command::Unsubscribe(channel) => client
            .unsubscribe(channel)
            .map_err(CommandError::Unsubscribe),
        Command::Trigger {
            channel,
            event,
            data,
        } => client
            .trigger(channel, event, Payload::Json(data))
            .map_err(CommandError::Trigger),
    }
}

impl<
    M: RawMutex,
    const N: usize,
    const CMD: usize,
    const DATA: usize,
    const Q: usize,
    const CAP: usize,
    const SUBS: usize,
> Handler for Bridge<'_, M, N, CMD, DATA, Q, CAP, SUBS>
{
    fn event(&mut self, event: Event<'_>) -> ControlFlow<()> {
        let notice = match event {
            Event::Message {
                event,
                channel,
                data,
                user_id,
            } => {
                let data = EventData {
                    event,
                    channel,
                    data,
                    user_id,
                };
                match OwnedEvent::copy_of(&data) {
                    Ok(owned) => Notice::Message(owned),
                    Err(e) => Notice::TooLarge(e),
                }
            }
            Event::Subscribed { channel } => Notice::Subscribed(name(channel)),
            Event::SubscriptionError { channel, status } => Notice::SubscriptionError {
                channel: name(channel),
                status,
            },
            Event::StateChanged { current, .. } => Notice::State(current),
            _ => return ControlFlow::Continue(()),
        };
        self.notices.publish_immediate(notice);
        ControlFlow::Continue(())
    }

    fn work<const CHANNELS: usize, const NAME: usize>(
        &mut self,
        client: &mut Client<'_, CHANNELS, NAME>,
    ) -> ControlFlow<()> {
        while let Ok(command) = self.commands.try_receive() {
            if let Err(e) = carry_out(client, &command) {
                self.notices.publish_immediate(Notice::CommandFailed(e));
            }
        }
        ControlFlow::Continue(())
    }

    async fn wait(&mut self) {
        self.commands.ready_to_receive().await
    }

    fn connect_failed(&mut self, error: &dyn core::fmt::Display) {
        let mut why = String::<N>::new();
        // What does not fit is left out: the start says what failed.
        let _ = core::fmt::write(&mut why, format_args!("{error}"));
        self.notices.publish_immediate(Notice::ConnectFailed(why));
    }
}
