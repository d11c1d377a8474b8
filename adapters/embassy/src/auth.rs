//! Signing private and presence subscriptions and user sign-in. The driver asks its
//! [`Authorizer`] when the client reports `AuthRequired` / `SigninRequired`; the answer
//! borrows the authorizer, which owns whatever buffer it writes the token into.

use core::fmt;

use pusher_core::auth::Credentials;
use pusher_core::name::{CHANNEL_NAME_MAX_LIMIT, ChannelName, SocketId};

/// An answer for a channel subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelGrant<'g> {
    /// `key:signature`.
    pub auth: &'g str,
    /// For presence channels: the exact `channel_data` that was signed.
    pub channel_data: Option<&'g str>,
}

/// An answer for `pusher:signin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserGrant<'g> {
    /// `key:signature`.
    pub auth: &'g str,
    /// The exact `user_data` that was signed.
    pub user_data: &'g str,
}

/// Why an authorizer gave no answer. The driver reports the channel as failed (it is tried
/// again after the next reconnect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AuthError {
    /// This authorizer does not sign that (no secret, no user data, not allowed).
    Refused,
    /// The channel name or socket id is not valid.
    BadInput,
    /// The token does not fit the authorizer's buffer.
    BufferTooSmall,
    /// The remote auth service could not be reached or answered badly.
    Unavailable,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthError::Refused => "authorization refused",
            AuthError::BadInput => "invalid channel name or socket id",
            AuthError::BufferTooSmall => "auth token does not fit the buffer",
            AuthError::Unavailable => "auth service unavailable",
        })
    }
}

impl core::error::Error for AuthError {}

/// Signs subscriptions and sign-ins. Implement it to ask your backend (over another socket)
/// or use [`LocalSigner`].
pub trait Authorizer {
    /// Signs a subscription of `socket_id` to a private or presence `channel`.
    async fn authorize(
        &mut self,
        channel: &str,
        socket_id: &str,
    ) -> Result<ChannelGrant<'_>, AuthError>;

    /// Signs a user sign-in of `socket_id`. Refused unless implemented.
    async fn authenticate(&mut self, socket_id: &str) -> Result<UserGrant<'_>, AuthError> {
        let _ = socket_id;
        Err(AuthError::Refused)
    }
}

/// Signs through a callback: `sign(channel, socket_id, out)` writes the `key:signature`
/// token into `out` (obtained however the app likes: a secure element, a precomputed table)
/// and returns its length. Presence channels are joined with the `channel_data` given here.
pub struct CallbackAuthorizer<'a, F, const TOKEN: usize = 128> {
    sign: F,
    channel_data: Option<&'a str>,
    token: [u8; TOKEN],
}

impl<'a, F, const TOKEN: usize> CallbackAuthorizer<'a, F, TOKEN>
where
    F: FnMut(&str, &str, &mut [u8]) -> Result<usize, AuthError>,
{
    /// An authorizer calling `sign`.
    pub fn new(sign: F) -> Self {
        CallbackAuthorizer {
            sign,
            channel_data: None,
            token: [0; TOKEN],
        }
    }

    /// Presence channels are joined with this `channel_data` (what `sign` must have signed).
    pub fn with_channel_data(mut self, channel_data: &'a str) -> Self {
        self.channel_data = Some(channel_data);
        self
    }
}

impl<F, const TOKEN: usize> Authorizer for CallbackAuthorizer<'_, F, TOKEN>
where
    F: FnMut(&str, &str, &mut [u8]) -> Result<usize, AuthError>,
{
    async fn authorize(
        &mut self,
        channel: &str,
        socket_id: &str,
    ) -> Result<ChannelGrant<'_>, AuthError> {
        let n = (self.sign)(channel, socket_id, &mut self.token)?;
        let token = self.token.get(..n).ok_or(AuthError::BufferTooSmall)?;
        let auth = core::str::from_utf8(token).map_err(|_| AuthError::BadInput)?;
        let presence = ChannelName::with_max_len(channel, CHANNEL_NAME_MAX_LIMIT)
            .map_err(|_| AuthError::BadInput)?
            .kind()
            .is_presence();
        let channel_data = if presence {
            Some(self.channel_data.ok_or(AuthError::Refused)?)
        } else {
            None
        };
        Ok(ChannelGrant { auth, channel_data })
    }
}

/// Refuses every request: for apps that use public channels only.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl Authorizer for NoAuth {
    async fn authorize(&mut self, _: &str, _: &str) -> Result<ChannelGrant<'_>, AuthError> {
        Err(AuthError::Refused)
    }
}

/// Signs locally with the app secret, for trusted devices and tests. `TOKEN` bounds the
/// token (`key:` plus 64 hex digits).
pub struct LocalSigner<'a, const TOKEN: usize = 128> {
    credentials: Credentials<'a>,
    channel_data: Option<&'a str>,
    user_data: Option<&'a str>,
    token: [u8; TOKEN],
}

impl<'a, const TOKEN: usize> LocalSigner<'a, TOKEN> {
    /// A signer for private channels (presence and sign-in need the builders below).
    pub fn new(credentials: Credentials<'a>) -> Self {
        LocalSigner {
            credentials,
            channel_data: None,
            user_data: None,
            token: [0; TOKEN],
        }
    }

    /// Presence channels are joined with this `channel_data` (`{"user_id":..,"user_info":..}`).
    pub fn with_channel_data(mut self, channel_data: &'a str) -> Self {
        self.channel_data = Some(channel_data);
        self
    }

    /// Sign-in uses this `user_data` (`{"id":..}`).
    pub fn with_user_data(mut self, user_data: &'a str) -> Self {
        self.user_data = Some(user_data);
        self
    }
}

impl<const TOKEN: usize> Authorizer for LocalSigner<'_, TOKEN> {
    async fn authorize(
        &mut self,
        channel: &str,
        socket_id: &str,
    ) -> Result<ChannelGrant<'_>, AuthError> {
        let name = ChannelName::with_max_len(channel, CHANNEL_NAME_MAX_LIMIT)
            .map_err(|_| AuthError::BadInput)?;
        let socket = SocketId::new(socket_id).map_err(|_| AuthError::BadInput)?;
        let channel_data = if name.kind().is_presence() {
            Some(self.channel_data.ok_or(AuthError::Refused)?)
        } else {
            None
        };
        let auth = self
            .credentials
            .channel_auth(&mut self.token, socket, name, channel_data)
            .map_err(|_| AuthError::BufferTooSmall)?;
        Ok(ChannelGrant { auth, channel_data })
    }

    async fn authenticate(&mut self, socket_id: &str) -> Result<UserGrant<'_>, AuthError> {
        let user_data = self.user_data.ok_or(AuthError::Refused)?;
        let socket = SocketId::new(socket_id).map_err(|_| AuthError::BadInput)?;
        let auth = self
            .credentials
            .user_auth(&mut self.token, socket, user_data)
            .map_err(|_| AuthError::BufferTooSmall)?;
        Ok(UserGrant { auth, user_data })
    }
}
