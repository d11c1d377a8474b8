//! The auth request a driver owes an answer to, owned: copied out of the client so that
//! asking an authorizer (which may take a while, and may be raced against the socket) does
//! not hold a borrow of the client.

use super::channels::ChannelState;
use super::event::Event;
use super::machine::{Client, MAX_SOCKET_ID, Phase, Signin};
use crate::name::{CHANNEL_NAME_MAX_LIMIT, ChannelName, NameError, SocketId};

/// A channel subscription or a sign-in waiting for its signature, for the current socket id.
///
/// The client keeps asking: [`Client::auth_request`] returns the same request until it is
/// answered ([`Client::provide_auth`], [`Client::auth_failed`],
/// [`Client::provide_user_auth`]) or the connection changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest<const NAME: usize> {
    socket_id: heapless::String<MAX_SOCKET_ID, u8>,
    /// Empty for a sign-in.
    channel: heapless::String<NAME, u8>,
}

impl<const NAME: usize> AuthRequest<NAME> {
    /// The request of an [`Event::AuthRequired`] or [`Event::SigninRequired`], owned (so it
    /// can go to another task or thread); `None` for other events or a name over `NAME`.
    pub fn from_event(event: &Event<'_>) -> Option<Self> {
        match *event {
            Event::AuthRequired { channel, socket_id } => Self::new(socket_id, Some(channel)),
            Event::SigninRequired { socket_id } => Self::new(socket_id, None),
            _ => None,
        }
    }

    fn new(socket_id: &str, channel: Option<&str>) -> Option<Self> {
        Some(AuthRequest {
            socket_id: heapless::String::try_from(socket_id).ok()?,
            channel: match channel {
                Some(name) => heapless::String::try_from(name).ok()?,
                None => heapless::String::new(),
            },
        })
    }

    /// The socket id to sign for.
    pub fn socket_id(&self) -> &str {
        self.socket_id.as_str()
    }

    /// The channel to sign; `None` for a sign-in.
    pub fn channel(&self) -> Option<&str> {
        (!self.channel.is_empty()).then(|| self.channel.as_str())
    }

    /// The socket id and channel as the typed names authorizers take.
    pub fn names(&self) -> Result<(SocketId<'_>, Option<ChannelName<'_>>), NameError> {
        let socket_id = SocketId::new(self.socket_id())?;
        let channel = match self.channel() {
            Some(c) => Some(ChannelName::with_max_len(c, CHANNEL_NAME_MAX_LIMIT)?),
            None => None,
        };
        Ok((socket_id, channel))
    }
}

impl<const CHANNELS: usize, const NAME: usize> Client<'_, CHANNELS, NAME> {
    /// The oldest auth request still unanswered on this connection: channels first (in table
    /// order), then a sign-in the app was asked for. `None` when nothing waits.
    pub fn auth_request(&self) -> Option<AuthRequest<NAME>> {
        let inner = &self.inner;
        if inner.phase != Phase::Established {
            return None;
        }
        let sid = inner.socket_id()?;
        let waiting = (0..CHANNELS)
            .filter_map(|i| inner.channels.get(i))
            .find(|s| {
                s.used && !s.internal && (s.state == ChannelState::AwaitingAuth || rekeying(s))
            });
        match waiting {
            Some(slot) => AuthRequest::new(sid, Some(slot.name())),
            None if inner.signin == Signin::Waiting => AuthRequest::new(sid, None),
            None => None,
        }
    }
}

/// An encrypted channel asking for its new secret (an event did not open).
fn rekeying<const NAME: usize>(slot: &super::channels::Slot<NAME>) -> bool {
    #[cfg(feature = "encryption")]
    return slot.rekey == super::rekey::Rekey::Asked;
    #[cfg(not(feature = "encryption"))]
    {
        let _ = slot;
        false
    }
}
