//! Signing private and presence subscriptions and user sign-in. The driver asks its
//! [`Authorizer`] when the client reports `AuthRequired` / `SigninRequired`; the answer
//! borrows the authorizer, which owns whatever buffer it writes the token into.

use core::fmt;

use pusher_core::auth::Credentials;
use pusher_core::name::{ChannelName, SocketId};
use pusher_core::signer;

pub use pusher_core::signer::{ChannelGrant, UserGrant};

/// Why an authorizer gave no answer. The driver reports the channel as failed (it is tried
/// again after the next reconnect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AuthError {
    /// This authorizer does not sign that (no secret, no user data, not allowed).
    Refused,
    /// The channel name or socket id is not valid.
    BadInput,
    /// The token does not fit the authorizer's buffer.
    BufferTooSmall,
    /// The remote auth service could not be reached, or the connection to it failed.
    Unavailable,
    /// The auth endpoint answered with this HTTP status (403: the backend said no); the
    /// subscription error carries it.
    Status(u16),
    /// The auth endpoint's answer is not `{"auth": ..}` (or is not HTTP).
    BadAnswer,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthError::Refused => "authorization refused",
            AuthError::BadInput => "invalid channel name or socket id",
            AuthError::BufferTooSmall => "auth token does not fit the buffer",
            AuthError::Unavailable => "auth service unavailable",
            AuthError::Status(status) => return write!(f, "auth endpoint answered HTTP {status}"),
            AuthError::BadAnswer => "auth endpoint answer is not {\"auth\": ..}",
        })
    }
}

impl core::error::Error for AuthError {}

/// Signs subscriptions and sign-ins. Implement it to ask your backend (over another socket)
/// or use [`LocalSigner`]. The arguments are typed and in the same order in every adapter
/// (`socket_id`, then `channel`), so a swap does not compile.
///
/// The driver polls each request's future beside the socket, the client's timers and the
/// app until it answers, so public channels, pings and events go on meanwhile and a request
/// to a backend is never started over; the future is dropped only when its time is up
/// ([`Driver::set_auth_timeout`](crate::Driver::set_auth_timeout)) or the connection ends.
pub trait Authorizer {
    /// Signs a subscription of `socket_id` to a private or presence `channel`.
    async fn authorize(
        &mut self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> Result<ChannelGrant<'_>, AuthError>;

    /// Signs a user sign-in of `socket_id`. Refused unless implemented.
    async fn authenticate_user(
        &mut self,
        socket_id: SocketId<'_>,
    ) -> Result<UserGrant<'_>, AuthError> {
        let _ = socket_id;
        Err(AuthError::Refused)
    }
}

/// Signs through a callback: `sign(socket_id, channel, out)` writes the `key:signature`
/// token into `out` (obtained however the app likes: a secure element, a precomputed table)
/// and returns its length. Presence channels are joined with the `channel_data` given here.
pub struct CallbackAuthorizer<'a, F, const TOKEN: usize = 128> {
    sign: F,
    channel_data: Option<&'a str>,
    token: [u8; TOKEN],
}

impl<'a, F, const TOKEN: usize> CallbackAuthorizer<'a, F, TOKEN>
where
    F: FnMut(SocketId<'_>, ChannelName<'_>, &mut [u8]) -> Result<usize, AuthError>,
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
    F: FnMut(SocketId<'_>, ChannelName<'_>, &mut [u8]) -> Result<usize, AuthError>,
{
    async fn authorize(
        &mut self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> Result<ChannelGrant<'_>, AuthError> {
        let n = (self.sign)(socket_id, channel, &mut self.token)?;
        let token = self.token.get(..n).ok_or(AuthError::BufferTooSmall)?;
        let auth = core::str::from_utf8(token).map_err(|_| AuthError::BadInput)?;
        let channel_data = if channel.kind().is_presence() {
            Some(self.channel_data.ok_or(AuthError::Refused)?)
        } else {
            None
        };
        Ok(ChannelGrant {
            auth,
            channel_data,
            shared_secret: None,
        })
    }
}

/// Refuses every request: for apps that use public channels only.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl Authorizer for NoAuth {
    async fn authorize(
        &mut self,
        _: SocketId<'_>,
        _: ChannelName<'_>,
    ) -> Result<ChannelGrant<'_>, AuthError> {
        Err(AuthError::Refused)
    }
}

/// Signs locally with the app secret, for trusted devices and labs (production firmware
/// asks its backend): the core's [`signer::LocalSigner`](pusher_core::signer::LocalSigner)
/// with a token buffer of `TOKEN` bytes (`key:` plus 64 hex digits, and 44 more for an
/// encrypted channel's shared secret).
pub struct LocalSigner<'a, const TOKEN: usize = 160> {
    signer: signer::LocalSigner<'a>,
    token: [u8; TOKEN],
}

impl<'a, const TOKEN: usize> LocalSigner<'a, TOKEN> {
    /// A signer for private channels (presence and sign-in need the builders below).
    pub fn new(credentials: Credentials<'a>) -> Self {
        LocalSigner {
            signer: signer::LocalSigner::new(credentials),
            token: [0; TOKEN],
        }
    }

    /// Presence channels are joined with this `channel_data` (`{"user_id":..,"user_info":..}`).
    pub fn with_channel_data(mut self, channel_data: &'a str) -> Self {
        self.signer = self.signer.with_channel_data(channel_data);
        self
    }

    /// Sign-in uses this `user_data` (`{"id":..}`).
    pub fn with_user_data(mut self, user_data: &'a str) -> Self {
        self.signer = self.signer.with_user_data(user_data);
        self
    }

    /// `private-encrypted-` channels get their shared secret from this master key (the
    /// `encryption` feature opens their events).
    pub fn with_encryption_master_key(mut self, master_key: &'a [u8; 32]) -> Self {
        self.signer = self.signer.with_encryption_master_key(master_key);
        self
    }

    /// Presence channels are joined as `user_id` with `user_info` from any `T: Serialize`
    /// (the `serde` feature): the `channel_data` is written once into `buf` by
    /// [`channel_data`](pusher_core::wire::json::channel_data), and those bytes are signed
    /// and sent.
    #[cfg(feature = "serde")]
    pub fn with_member<T: serde::Serialize + ?Sized>(
        self,
        buf: &'a mut [u8],
        user_id: &str,
        user_info: &T,
    ) -> Result<Self, pusher_core::wire::json::ToJsonError> {
        let data = pusher_core::wire::json::channel_data(buf, user_id, Some(user_info))?;
        Ok(self.with_channel_data(data))
    }

    /// Sign-in as `id` with `user_info` from any `T: Serialize` (the `serde` feature), the
    /// `user_data` written into `buf` by [`user_data`](pusher_core::wire::json::user_data).
    #[cfg(feature = "serde")]
    pub fn with_user<T: serde::Serialize + ?Sized>(
        self,
        buf: &'a mut [u8],
        id: &str,
        user_info: &T,
    ) -> Result<Self, pusher_core::wire::json::ToJsonError> {
        let data = pusher_core::wire::json::user_data(buf, id, Some(user_info))?;
        Ok(self.with_user_data(data))
    }
}

/// The driver-facing form of the core signer's refusals.
fn refusal(e: pusher_core::auth::AuthError) -> AuthError {
    match e {
        pusher_core::auth::AuthError::BufferTooSmall(_) => AuthError::BufferTooSmall,
        _ => AuthError::Refused,
    }
}

impl<const TOKEN: usize> Authorizer for LocalSigner<'_, TOKEN> {
    async fn authorize(
        &mut self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> Result<ChannelGrant<'_>, AuthError> {
        self.signer
            .channel(socket_id, channel, &mut self.token)
            .map_err(refusal)
    }

    async fn authenticate_user(
        &mut self,
        socket_id: SocketId<'_>,
    ) -> Result<UserGrant<'_>, AuthError> {
        self.signer
            .user(socket_id, &mut self.token)
            .map_err(refusal)
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    #[test]
    fn typed_member_is_signed_as_sent() {
        #[derive(serde::Serialize)]
        struct Info<'a> {
            name: &'a str,
        }
        let creds = Credentials::new("key", "secret");
        let mut buf = [0u8; 64];
        let mut signer = LocalSigner::<128>::new(creds.clone())
            .with_member(&mut buf, "42", &Info { name: "Zoë" })
            .unwrap();
        let sid = SocketId::new("1.2").unwrap();
        let room = ChannelName::new("presence-room").unwrap();
        let grant = embassy_futures::block_on(signer.authorize(sid, room)).unwrap();
        let data = grant.channel_data.unwrap();
        assert_eq!(data, r#"{"user_id":"42","user_info":{"name":"Zoë"}}"#);
        let want = creds.channel_signature(sid, room, Some(data)).to_hex();
        assert_eq!(
            grant.auth.strip_prefix("key:"),
            core::str::from_utf8(&want).ok()
        );
        let mut small = [0u8; 8];
        assert!(
            LocalSigner::<128>::new(creds.clone())
                .with_member(&mut small, "42", &Info { name: "Zoë" })
                .is_err()
        );
    }
}
