//! The one signing path for adapters that hold the app secret (servers, trusted devices,
//! labs and tests): private and presence subscriptions and user sign-in, with the rules
//! checked in one place (presence needs `channel_data` with a `user_id`, other channels take
//! none, public channels are not signed, `user_data` needs an `id`).
//!
//! Every adapter's authorizer answers with the same two grants, and asks with typed
//! arguments in the same order (`socket_id`, then `channel`), so a swap does not compile.

use crate::auth::{AuthError, Credentials, check_user_data};
use crate::name::{ChannelName, SocketId};
use crate::wire::json::{Kind, Value};

/// The answer to a channel auth request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChannelGrant<'a> {
    /// `key:signature`.
    pub auth: &'a str,
    /// For presence channels: the exact `channel_data` that was signed.
    pub channel_data: Option<&'a str>,
    /// For `private-encrypted-` channels: the channel's shared secret, base64 of 32 bytes
    /// (what auth endpoints answer as `shared_secret`); kept by the client, never sent.
    pub shared_secret: Option<&'a str>,
}

/// The answer to a sign-in request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UserGrant<'a> {
    /// `key:signature`.
    pub auth: &'a str,
    /// The exact `user_data` that was signed.
    pub user_data: &'a str,
}

/// Signs with the app secret.
///
/// ```
/// use pusher_core::auth::Credentials;
/// use pusher_core::signer::LocalSigner;
/// use pusher_core::{ChannelName, SocketId};
///
/// let signer = LocalSigner::new(Credentials::new("278d425bdf160c739803", "7ad3773142a6692b25b8"));
/// let mut token = [0u8; 96];
/// let grant = signer
///     .channel(SocketId::new("1234.1234")?, ChannelName::new("private-foobar")?, &mut token)
///     .unwrap();
/// assert!(grant.auth.ends_with(":58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"));
/// # Ok::<(), pusher_core::NameError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LocalSigner<'a> {
    credentials: Credentials<'a>,
    channel_data: Option<&'a str>,
    user_data: Option<&'a str>,
    master_key: Option<&'a [u8; 32]>,
}

impl<'a> LocalSigner<'a> {
    /// A signer for private channels (presence and sign-in need the builders below).
    pub fn new(credentials: Credentials<'a>) -> Self {
        LocalSigner {
            credentials,
            channel_data: None,
            user_data: None,
            master_key: None,
        }
    }

    /// Encrypted channels get their shared secret derived from this master key
    /// (SHA-256 of the channel name and the key; see
    /// [`decode_master_key`](crate::auth::decode_master_key) for the base64 form).
    pub fn with_encryption_master_key(mut self, master_key: &'a [u8; 32]) -> Self {
        self.master_key = Some(master_key);
        self
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

    /// Signs a subscription of `socket_id` to `channel`; the token is written into `out`
    /// (`key:` plus 64 hex digits), followed for an encrypted channel by its shared secret's
    /// 44 base64 characters.
    pub fn channel<'o>(
        &self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
        out: &'o mut [u8],
    ) -> Result<ChannelGrant<'o>, AuthError>
    where
        'a: 'o,
    {
        let kind = channel.kind();
        if !kind.needs_auth() {
            return Err(AuthError::NotProtected);
        }
        let channel_data = if kind.is_presence() {
            let data = self.channel_data.ok_or(AuthError::MissingChannelData)?;
            let v = Value::parse(data).map_err(|_| AuthError::InvalidChannelData)?;
            if v.kind() != Kind::Object || v.get("user_id").is_none() {
                return Err(AuthError::InvalidChannelData);
            }
            Some(data)
        } else {
            None
        };
        let secret = match (kind.is_encrypted(), self.master_key) {
            (false, _) => None,
            (true, None) => return Err(AuthError::MissingMasterKey),
            (true, Some(key)) => Some(crate::auth::shared_secret(channel, key)),
        };
        let n = self
            .credentials
            .channel_auth(out, socket_id, channel, channel_data)?
            .len();
        let (token, rest) = out.split_at_mut(n);
        let auth = core::str::from_utf8(token).unwrap_or("");
        let shared_secret = match secret {
            None => None,
            Some(secret) => {
                let b64: [u8; 44] = crate::base64::encode(&secret);
                let dst = rest.get_mut(..b64.len()).ok_or(AuthError::BufferTooSmall(
                    crate::buf::BufferTooSmall {
                        needed: n + b64.len(),
                    },
                ))?;
                crate::buf::Bytes::copy_from(dst, &b64);
                Some(core::str::from_utf8(dst).unwrap_or(""))
            }
        };
        Ok(ChannelGrant {
            auth,
            channel_data,
            shared_secret,
        })
    }

    /// Signs a sign-in of `socket_id`; the token is written into `out`.
    pub fn user<'o>(
        &self,
        socket_id: SocketId<'_>,
        out: &'o mut [u8],
    ) -> Result<UserGrant<'o>, AuthError>
    where
        'a: 'o,
    {
        let user_data = self.user_data.ok_or(AuthError::InvalidUserData)?;
        check_user_data(user_data)?;
        let auth = self.credentials.user_auth(out, socket_id, user_data)?;
        Ok(UserGrant { auth, user_data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "278d425bdf160c739803";

    fn signer() -> LocalSigner<'static> {
        LocalSigner::new(Credentials::new(KEY, "7ad3773142a6692b25b8"))
    }

    fn sid() -> SocketId<'static> {
        SocketId::new("1234.1234").unwrap()
    }

    #[test]
    fn the_rules_are_checked_here() {
        let mut out = [0u8; 96];
        let name = |n| ChannelName::new(n).unwrap();
        assert_eq!(
            signer().channel(sid(), name("public"), &mut out),
            Err(AuthError::NotProtected)
        );
        assert_eq!(
            signer().channel(sid(), name("presence-room"), &mut out),
            Err(AuthError::MissingChannelData)
        );
        let bad = signer().with_channel_data(r#"{"name":"no user id"}"#);
        assert_eq!(
            bad.channel(sid(), name("presence-room"), &mut out),
            Err(AuthError::InvalidChannelData)
        );
        let data = r#"{"user_id":"10","user_info":{"name":"Mr. Pusher"}}"#;
        let ok = signer().with_channel_data(data);
        let g = ok
            .channel(sid(), name("presence-foobar"), &mut out)
            .unwrap();
        // The official libraries' presence vector (R1 in vectors.json).
        assert_eq!(
            g.auth,
            "278d425bdf160c739803:48dac51d2d7569e1e9c0f48c227d4b26f238fa68e5c0bb04222c966909c4f7c4"
        );
        assert_eq!(g.channel_data, Some(data));
        let mut short = [0u8; 10];
        assert!(matches!(
            ok.channel(sid(), name("private-x"), &mut short),
            Err(AuthError::BufferTooSmall(_))
        ));
        assert_eq!(
            signer().user(sid(), &mut out),
            Err(AuthError::InvalidUserData)
        );
        let u = signer().with_user_data(r#"{"id":"12345"}"#);
        let g = u.user(sid(), &mut out).unwrap();
        assert!(g.auth.starts_with("278d425bdf160c739803:"));
        assert_eq!(g.user_data, r#"{"id":"12345"}"#);
    }

    /// protocol.md §7.4 E1 (the Node library's vector): the token and the shared secret.
    #[test]
    fn encrypted_channels_get_their_shared_secret() {
        let master =
            crate::auth::decode_master_key("zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=").unwrap();
        let creds = Credentials::new("f00d", "tofu");
        let socket = SocketId::new("123.456").unwrap();
        let channel = ChannelName::new("private-encrypted-bla").unwrap();
        let mut out = [0u8; 128];
        assert_eq!(
            LocalSigner::new(creds.clone()).channel(socket, channel, &mut out),
            Err(AuthError::MissingMasterKey)
        );
        let signer = LocalSigner::new(creds).with_encryption_master_key(&master);
        let g = signer.channel(socket, channel, &mut out).unwrap();
        assert_eq!(
            g.shared_secret,
            Some("nlr49ISQHz91yS3cy/yWmW8wFMNeTnNL5tNHnbPJcLQ=")
        );
        assert!(g.auth.starts_with("f00d:"));
        let mut short = [0u8; 80];
        assert!(matches!(
            signer.channel(socket, channel, &mut short),
            Err(AuthError::BufferTooSmall(crate::buf::BufferTooSmall {
                needed: 113
            }))
        ));
        let private = ChannelName::new("private-x").unwrap();
        assert_eq!(
            signer
                .channel(socket, private, &mut out)
                .unwrap()
                .shared_secret,
            None
        );
    }
}
