//! Subscribing and unsubscribing, and answering auth requests for protected channels.

use super::channels::{ChannelState, Due};
use super::error::{AnswerError, SubscribeError, UnsubscribeError};
use super::machine::{Client, Inner, PRESENCE, Phase, Signin};
use super::tx::CONTROL_RESERVE;
use crate::auth::{Credentials, Signature};
use crate::name::{ChannelKind, ChannelName, SocketId};
use crate::wire::json::{Kind, Value};
use crate::wire::message::{self, Token};
use crate::wire::ws::Opcode;

/// Signing apart from the client's step, so HMAC's blocks never share a frame with the
/// decoder's (the deepest stack is the larger of the two, not their sum).
#[inline(never)]
pub(super) fn sign_channel(
    creds: &Credentials<'_>,
    socket_id: SocketId<'_>,
    channel: ChannelName<'_>,
    channel_data: Option<&str>,
) -> Signature {
    creds.channel_signature(socket_id, channel, channel_data)
}

impl<'a, const CHANNELS: usize, const NAME: usize> Client<'a, CHANNELS, NAME> {
    /// Subscribes (queued while disconnected). Protected channels raise
    /// [`Event::AuthRequired`](crate::client::Event::AuthRequired) once connected. Subscribing twice is a no-op.
    pub fn subscribe(&mut self, name: &str) -> Result<(), SubscribeError> {
        let channel = ChannelName::with_max_len(name, crate::name::CHANNEL_NAME_MAX_LIMIT)?;
        if channel.kind() == ChannelKind::ServerToUser {
            return Err(SubscribeError::ReservedChannel);
        }
        if !PRESENCE && channel.kind().is_presence() {
            return Err(SubscribeError::PresenceDisabled);
        }
        if !cfg!(feature = "encryption") && channel.kind().is_encrypted() {
            return Err(SubscribeError::EncryptionDisabled);
        }
        if self.inner.channels.find(name).is_some() {
            return Ok(());
        }
        let i = self
            .inner
            .channels
            .insert(channel)
            .ok_or(SubscribeError::NoChannelSlot)?;
        if self.inner.phase == Phase::Established {
            self.inner.start_subscription(i);
        }
        Ok(())
    }

    /// Unsubscribes (the `pusher:unsubscribe` is sent when connected).
    pub fn unsubscribe(&mut self, name: &str) -> Result<(), UnsubscribeError> {
        let i = self
            .inner
            .channels
            .find(name)
            .ok_or(UnsubscribeError::UnknownChannel)?;
        if PRESENCE && let Ok(slot) = u8::try_from(i) {
            self.inner.members.clear_channel(slot);
        }
        let Some(s) = self.inner.channels.get_mut(i) else {
            return Err(UnsubscribeError::UnknownChannel);
        };
        let on_server = matches!(
            s.state,
            ChannelState::Subscribing | ChannelState::Subscribed
        );
        if on_server && self.inner.phase == Phase::Established {
            s.due = Due::Unsubscribe;
            s.auth_due = false;
        } else {
            self.inner.channels.free(i);
        }
        Ok(())
    }

    /// Answers [`Event::AuthRequired`](crate::client::Event::AuthRequired): `auth` is `key:signature`; presence channels also
    /// need the exact `channel_data` that was signed. Sends the subscription.
    pub fn provide_auth(
        &mut self,
        channel: &str,
        socket_id: &str,
        auth: &str,
        channel_data: Option<&str>,
    ) -> Result<(), AnswerError> {
        self.send_subscription(channel, socket_id, Token::Text(auth), channel_data)
    }

    /// Answers an encrypted channel's auth request ([`Event::AuthRequired`] for a
    /// `private-encrypted-` channel) with the auth endpoint's `auth` and `shared_secret`
    /// (base64 of 32 bytes). The secret stays in the client, which opens the channel's
    /// events with it; it is not sent to the server. The `encryption` feature.
    ///
    /// [`Event::AuthRequired`]: crate::client::Event::AuthRequired
    #[cfg(feature = "encryption")]
    pub fn provide_encrypted_auth(
        &mut self,
        channel: &str,
        socket_id: &str,
        auth: &str,
        shared_secret: &str,
    ) -> Result<(), AnswerError> {
        let secret = crate::base64::decode::<32>(shared_secret.trim_ascii().as_bytes())
            .ok_or(AnswerError::BadSharedSecret)?;
        let i = self.inner.check_auth_answer(channel, socket_id)?;
        if let Some(slot) = self.inner.channels.get_mut(i) {
            slot.secret = Some(secret);
        }
        // Re-keying a subscribed channel: the new secret is all that was wanted.
        self.send_subscription(channel, socket_id, Token::Text(auth), None)
    }

    /// Queues the subscription for an answered auth request.
    pub(super) fn send_subscription(
        &mut self,
        channel: &str,
        socket_id: &str,
        auth: Token<'_>,
        channel_data: Option<&str>,
    ) -> Result<(), AnswerError> {
        let inner = &mut self.inner;
        let i = inner.check_auth_answer(channel, socket_id)?;
        #[cfg(feature = "encryption")]
        if inner.rekeyed(i) {
            return Ok(());
        }
        let slot = inner.channels.get(i).ok_or(AnswerError::UnknownChannel)?;
        let name = slot.channel();
        let me = if PRESENCE && slot.kind().is_presence() {
            let data = channel_data.ok_or(AnswerError::BadChannelData)?;
            let v = Value::parse(data).map_err(|_| AnswerError::BadChannelData)?;
            let id = v.get("user_id").ok_or(AnswerError::BadChannelData)?;
            match id.kind() {
                Kind::String => id.as_raw_str().map(|s| s.raw()),
                Kind::Number => Some(id.raw()),
                _ => None,
            }
            .ok_or(AnswerError::BadChannelData)?
        } else {
            if channel_data.is_some() {
                return Err(AnswerError::BadChannelData);
            }
            ""
        };
        let mask = inner.rng.bytes();
        inner
            .tx
            .push_frame(Opcode::Text, mask, CONTROL_RESERVE, |out| {
                message::subscribe_with(out, name, Some(auth), channel_data)
            })?;
        if let (Ok(s), false) = (u8::try_from(i), me.is_empty()) {
            // Without room for `me` presence still works; only `me()` is unknown.
            let _ = inner.members.set_me(s, me);
        }
        if let Some(s) = inner.channels.get_mut(i) {
            s.state = ChannelState::Subscribing;
        }
        Ok(())
    }

    /// Signs the auth locally with the app secret (for trusted devices and tests) and sends
    /// the subscription. `channel_data` for presence channels.
    #[inline(never)]
    pub fn authorize_locally(
        &mut self,
        channel: &str,
        creds: &Credentials<'_>,
        channel_data: Option<&str>,
    ) -> Result<(), AnswerError> {
        // A copy, so the client can be borrowed mutably while signing.
        let socket = self
            .inner
            .socket_id_copy()
            .ok_or(AnswerError::NotConnected)?;
        let sid = socket.as_str();
        let name = ChannelName::with_max_len(channel, crate::name::CHANNEL_NAME_MAX_LIMIT)?;
        let signature = sign_channel(creds, SocketId::new(sid)?, name, channel_data);
        // Written into the frame as `key:hex`: no token buffer.
        let token = Token::Signed(creds.key(), &signature.0);
        self.send_subscription(channel, sid, token, channel_data)
    }

    /// Answers [`Event::AuthRequired`](crate::client::Event::AuthRequired) with a failure (the auth endpoint refused, failed or
    /// timed out; `status` is its HTTP status, if it answered). The app gets an
    /// [`Event::SubscriptionError`](crate::client::Event::SubscriptionError) with that status; the channel is retried after the next
    /// reconnect.
    pub fn auth_failed(
        &mut self,
        channel: &str,
        socket_id: &str,
        status: Option<u16>,
    ) -> Result<(), AnswerError> {
        let i = self.inner.check_auth_answer(channel, socket_id)?;
        // Re-keying: the subscription stands; held events are reported as they fail.
        #[cfg(feature = "encryption")]
        if self.inner.rekeyed(i) {
            return Ok(());
        }
        if let Some(s) = self.inner.channels.get_mut(i) {
            s.state = ChannelState::Failed;
            s.error_due = true;
            s.error_status = status.unwrap_or(0);
        }
        Ok(())
    }
}

impl<'a, const CHANNELS: usize, const NAME: usize> Inner<'a, CHANNELS, NAME> {
    /// Every channel back to `Pending`, members forgotten, the internal channel dropped.
    pub(super) fn reset_channels(&mut self) {
        for i in 0..CHANNELS {
            let Some(s) = self.channels.get_mut(i) else {
                continue;
            };
            if s.internal || s.due == Due::Unsubscribe {
                self.channels.free(i);
            } else {
                s.state = ChannelState::Pending;
                s.due = Due::Nothing;
                s.auth_due = false;
                // The next connection's auth brings the secret afresh.
                #[cfg(feature = "encryption")]
                {
                    s.rekey = super::rekey::Rekey::Trusted;
                }
            }
            if PRESENCE && let Ok(slot) = u8::try_from(i) {
                self.members.clear_channel(slot);
            }
        }
        if self.signin != Signin::Off {
            self.signin = Signin::Due;
        }
        self.socket_id.clear();
    }

    pub(super) fn check_auth_answer(
        &self,
        channel: &str,
        socket_id: &str,
    ) -> Result<usize, AnswerError> {
        if self.phase != Phase::Established {
            return Err(AnswerError::NotConnected);
        }
        if self.socket_id() != Some(socket_id) {
            return Err(AnswerError::StaleSocketId);
        }
        let i = self
            .channels
            .find(channel)
            .ok_or(AnswerError::UnknownChannel)?;
        let slot = self.channels.get(i).ok_or(AnswerError::UnknownChannel)?;
        #[cfg(feature = "encryption")]
        if slot.rekey == super::rekey::Rekey::Asked {
            return Ok(i);
        }
        match slot.state {
            ChannelState::AwaitingAuth | ChannelState::Failed => Ok(i),
            _ => Err(AnswerError::NotAwaitingAuth),
        }
    }

    /// For an answer to a re-keying request (an encrypted channel's event did not open):
    /// the request is settled, with or without a new secret, and nothing is sent.
    #[cfg(feature = "encryption")]
    fn rekeyed(&mut self, i: usize) -> bool {
        match self.channels.get_mut(i) {
            Some(s) if s.rekey == super::rekey::Rekey::Asked => {
                s.rekey = super::rekey::Rekey::Spent;
                true
            }
            _ => false,
        }
    }

    /// Subscribes slot `i` on the current connection.
    pub(super) fn start_subscription(&mut self, i: usize) {
        let Some(s) = self.channels.get_mut(i) else {
            return;
        };
        if s.internal {
            return;
        }
        if s.kind().needs_auth() {
            s.state = ChannelState::AwaitingAuth;
            s.auth_due = true;
        } else {
            s.state = ChannelState::Subscribing;
            s.due = Due::Subscribe;
        }
    }
}
