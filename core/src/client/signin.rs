//! User sign-in: asking, answering, and the `#server-to-user-` channel it opens.

use super::error::SigninError;
use super::machine::{Client, Phase, Signin};
use super::tx::CONTROL_RESERVE;
#[cfg(feature = "signin")]
use crate::auth::{Credentials, Signature};
use crate::buf::Bytes as _;
#[cfg(feature = "signin")]
use crate::name::SocketId;
use crate::name::{ChannelName, SERVER_TO_USER_PREFIX, UserId};
use crate::wire::json::Value;
use crate::wire::message::{self, Token};
use crate::wire::ws::Opcode;

/// See [`sign_channel`].
#[inline(never)]
#[cfg(feature = "signin")]
pub(super) fn sign_user(
    creds: &Credentials<'_>,
    socket_id: SocketId<'_>,
    user_data: &str,
) -> Signature {
    creds.user_signature(socket_id, user_data)
}

impl<'a, const CHANNELS: usize, const NAME: usize> Client<'a, CHANNELS, NAME> {
    /// Asks to sign in: [`Event::SigninRequired`](crate::client::Event::SigninRequired) follows once connected (and after every
    /// reconnect).
    #[cfg(feature = "signin")]
    pub fn signin(&mut self) {
        if matches!(
            self.inner.signin,
            Signin::Off | Signin::Waiting | Signin::Refused
        ) {
            self.inner.signin = Signin::Due;
        }
    }

    /// Answers [`Event::SigninRequired`](crate::client::Event::SigninRequired) with a failure
    /// (the authorizer refused or timed out): no sign-in on this connection, and the request
    /// is not handed out again ([`Client::auth_request`]) until the next reconnect asks anew.
    pub fn signin_failed(&mut self, socket_id: &str) -> Result<(), SigninError> {
        let inner = &mut self.inner;
        if inner.phase != Phase::Established {
            return Err(SigninError::NotConnected);
        }
        if inner.socket_id() != Some(socket_id) {
            return Err(SigninError::StaleSocketId);
        }
        if inner.signin == Signin::Waiting {
            inner.signin = Signin::Refused;
        }
        Ok(())
    }

    /// Answers [`Event::SigninRequired`](crate::client::Event::SigninRequired) with `auth` (`key:signature` over
    /// `socket_id::user::user_data`) and the exact signed `user_data`.
    pub fn provide_user_auth(
        &mut self,
        socket_id: &str,
        auth: &str,
        user_data: &str,
    ) -> Result<(), SigninError> {
        self.send_signin(socket_id, Token::Text(auth), user_data)
    }

    /// Queues `pusher:signin` for an answered sign-in request.
    pub(super) fn send_signin(
        &mut self,
        socket_id: &str,
        auth: Token<'_>,
        user_data: &str,
    ) -> Result<(), SigninError> {
        let inner = &mut self.inner;
        if inner.phase != Phase::Established {
            return Err(SigninError::NotConnected);
        }
        if inner.socket_id() != Some(socket_id) {
            return Err(SigninError::StaleSocketId);
        }
        let v = Value::parse(user_data).map_err(|_| SigninError::BadUserData)?;
        let id = v
            .get("id")
            .and_then(|v| v.as_raw_str())
            .map(|s| s.raw())
            .ok_or(SigninError::BadUserData)?;
        let user = UserId::new(id).map_err(|_| SigninError::BadUserData)?;
        // Reserve the server-to-user channel now, so success cannot find the table full.
        let mut name = [0u8; SERVER_TO_USER_PREFIX.len() + crate::name::USER_ID_MAX];
        let prefix = SERVER_TO_USER_PREFIX.len();
        name.get_mut(..prefix)
            .ok_or(SigninError::NoChannelSlot)?
            .copy_from(SERVER_TO_USER_PREFIX.as_bytes());
        name.get_mut(prefix..prefix + user.as_str().len())
            .ok_or(SigninError::NoChannelSlot)?
            .copy_from(user.as_str().as_bytes());
        let name = core::str::from_utf8(name.get(..prefix + user.as_str().len()).unwrap_or(&[]))
            .map_err(|_| SigninError::BadUserData)?;
        let name = ChannelName::with_max_len(name, crate::name::CHANNEL_NAME_MAX_LIMIT)
            .map_err(|_| SigninError::BadUserData)?;
        if let Some(old) = inner
            .channels
            .slots
            .iter()
            .position(|s| s.used && s.internal)
        {
            inner.channels.free(old);
        }
        let i = inner
            .channels
            .insert(name)
            .ok_or(SigninError::NoChannelSlot)?;
        if let Some(s) = inner.channels.get_mut(i) {
            s.internal = true;
        }
        let mask = inner.rng.bytes();
        if let Err(e) = inner
            .tx
            .push_frame(Opcode::Text, mask, CONTROL_RESERVE, |out| {
                message::signin_with(out, auth, user_data)
            })
        {
            inner.channels.free(i);
            return Err(e.into());
        }
        inner.signin = Signin::Sent;
        Ok(())
    }

    /// Signs in locally with the app secret.
    #[cfg(feature = "signin")]
    pub fn signin_locally(
        &mut self,
        creds: &Credentials<'_>,
        user_data: &str,
    ) -> Result<(), SigninError> {
        // A copy, so the client can be borrowed mutably while signing.
        let socket = self
            .inner
            .socket_id_copy()
            .ok_or(SigninError::NotConnected)?;
        let sid = socket.as_str();
        let signature = sign_user(creds, SocketId::new(sid)?, user_data);
        self.send_signin(sid, Token::Signed(creds.key(), &signature.0), user_data)
    }
}
