//! Answers to the client's auth requests: an HTTP endpoint, a callback, or a local signer.

use std::time::Duration;

use pusher_core::auth::Credentials;
use pusher_core::signer;
use pusher_core::wire::json::Value;
use pusher_core::{ChannelName, SocketId};

use crate::http::{self, Endpoint, ProxyConfig, form_encode};

/// The signed answer for a channel subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelAuth {
    /// `key:signature`.
    pub auth: String,
    /// Presence channels: the exact signed `channel_data`.
    pub channel_data: Option<String>,
    /// Encrypted channels: the channel's shared secret (base64), kept by the client to open
    /// the channel's events and never sent to the server.
    pub shared_secret: Option<String>,
}

impl ChannelAuth {
    /// Hands this answer to the client for `channel` on `socket_id`: with the shared
    /// secret for an encrypted channel, else with the presence `channel_data` (the one way
    /// every std-side driver answers).
    pub fn answer<const CHANNELS: usize, const NAME: usize>(
        &self,
        client: &mut pusher_core::client::Client<'_, CHANNELS, NAME>,
        channel: &str,
        socket_id: &str,
    ) -> Result<(), pusher_core::client::AnswerError> {
        match &self.shared_secret {
            Some(secret) => client.provide_encrypted_auth(channel, socket_id, &self.auth, secret),
            None => {
                client.provide_auth(channel, socket_id, &self.auth, self.channel_data.as_deref())
            }
        }
    }
}

/// The signed answer for a user sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAuth {
    /// `key:signature`.
    pub auth: String,
    /// The exact signed `user_data`.
    pub user_data: String,
}

/// Why auth failed (reported to the app as a subscription error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    /// HTTP status from an endpoint, if any.
    pub status: Option<u16>,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "auth failed ({s}): {}", self.message),
            None => write!(f, "auth failed: {}", self.message),
        }
    }
}

impl std::error::Error for AuthFailure {}

fn failure(status: Option<u16>, message: impl Into<String>) -> AuthFailure {
    AuthFailure {
        status,
        message: message.into(),
    }
}

/// Something that signs subscriptions (and optionally sign-ins) for a socket.
///
/// The client asks it on worker threads, so that a slow endpoint never holds up the
/// connection: it is shared (`&self`, `Send + Sync`) and may be asked for several channels
/// at once.
///
/// The arguments are typed and in the same order in every adapter (`socket_id`, then
/// `channel`), so a swap does not compile.
pub trait Authorizer: Send + Sync + 'static {
    /// Authorizes `socket_id` on `channel`.
    fn authorize(
        &self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> Result<ChannelAuth, AuthFailure>;
    /// Signs in `socket_id`.
    fn authenticate_user(&self, socket_id: SocketId<'_>) -> Result<UserAuth, AuthFailure> {
        let _ = socket_id;
        Err(failure(None, "this authorizer does not sign users in"))
    }
}

/// Signs locally with the app secret (for servers, trusted devices and tests).
#[derive(Debug, Clone)]
pub struct LocalSigner {
    key: String,
    secret: String,
    /// `channel_data` for presence channels (JSON with `user_id`).
    pub channel_data: Option<String>,
    /// `user_data` for sign-in (JSON with `id`).
    pub user_data: Option<String>,
    /// The encryption master key, for `private-encrypted-` channels (their shared secret).
    pub encryption_master_key: Option<[u8; 32]>,
}

impl LocalSigner {
    /// A signer for an app.
    pub fn new(key: &str, secret: &str) -> Self {
        LocalSigner {
            key: key.to_owned(),
            secret: secret.to_owned(),
            channel_data: None,
            user_data: None,
            encryption_master_key: None,
        }
    }

    /// Joins presence channels as `user_id` with `user_info` from any `T: Serialize`: the
    /// `channel_data` `{"user_id":..,"user_info":..}` is written once, and those same bytes
    /// are signed and sent.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Info<'a> { name: &'a str }
    /// let s = pusher_std::auth::LocalSigner::new("key", "secret").member("42", &Info { name: "Ada" })?;
    /// assert_eq!(s.channel_data.as_deref(), Some(r#"{"user_id":"42","user_info":{"name":"Ada"}}"#));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn member<T: serde::Serialize + ?Sized>(
        mut self,
        user_id: &str,
        user_info: &T,
    ) -> Result<Self, serde_json::Error> {
        self.channel_data = Some(member_json("user_id", user_id, user_info)?);
        Ok(self)
    }

    /// Signs in as `id` with `user_info` from any `T: Serialize` (the `user_data`
    /// `{"id":..,"user_info":..}`, signed and sent as written).
    pub fn user<T: serde::Serialize + ?Sized>(
        mut self,
        id: &str,
        user_info: &T,
    ) -> Result<Self, serde_json::Error> {
        self.user_data = Some(member_json("id", id, user_info)?);
        Ok(self)
    }
}

/// `{"<id_key>":id,"user_info":info}`, the id first as the protocol's examples write it.
fn member_json<T: serde::Serialize + ?Sized>(
    id_key: &str,
    id: &str,
    info: &T,
) -> Result<String, serde_json::Error> {
    let mut out = String::from("{");
    out.push_str(&serde_json::to_string(id_key)?);
    out.push(':');
    out.push_str(&serde_json::to_string(id)?);
    out.push_str(",\"user_info\":");
    out.push_str(&serde_json::to_string(info)?);
    out.push('}');
    Ok(out)
}

impl LocalSigner {
    /// The core's signer over this one's key, secret and data (the one signing path every
    /// adapter uses, so the presence and sign-in rules are checked in one place).
    fn with<R>(&self, f: impl FnOnce(&signer::LocalSigner<'_>, &mut [u8]) -> R) -> R {
        let mut core = signer::LocalSigner::new(Credentials::new(&self.key, &self.secret));
        if let Some(d) = &self.channel_data {
            core = core.with_channel_data(d);
        }
        if let Some(d) = &self.user_data {
            core = core.with_user_data(d);
        }
        let mut out = vec![0u8; self.key.len() + 80];
        f(&core, &mut out)
    }
}

impl Authorizer for LocalSigner {
    fn authorize(
        &self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> Result<ChannelAuth, AuthFailure> {
        if channel.kind().is_encrypted() {
            // The auth response as an endpoint writes it, with the shared secret.
            let mk = self.encryption_master_key.as_ref().ok_or_else(|| {
                failure(None, "an encrypted channel needs the encryption master key")
            })?;
            let creds = Credentials::new(&self.key, &self.secret);
            let mut out = vec![0u8; self.key.len() + 256];
            let json = creds
                .channel_auth_response(&mut out, socket_id, channel, None, Some(mk))
                .map_err(|e| failure(None, e.to_string()))?;
            let v = Value::parse(json).map_err(|e| failure(None, e.to_string()))?;
            return Ok(ChannelAuth {
                auth: string_field(&v, "auth").unwrap_or_default(),
                channel_data: None,
                shared_secret: string_field(&v, "shared_secret"),
            });
        }
        self.with(|core, out| {
            let g = core
                .channel(socket_id, channel, out)
                .map_err(|e| failure(None, e.to_string()))?;
            Ok(ChannelAuth {
                auth: g.auth.to_owned(),
                channel_data: g.channel_data.map(str::to_owned),
                shared_secret: None,
            })
        })
    }

    fn authenticate_user(&self, socket_id: SocketId<'_>) -> Result<UserAuth, AuthFailure> {
        self.with(|core, out| {
            let g = core
                .user(socket_id, out)
                .map_err(|e| failure(None, e.to_string()))?;
            Ok(UserAuth {
                auth: g.auth.to_owned(),
                user_data: g.user_data.to_owned(),
            })
        })
    }
}

/// Answers from a closure.
pub struct CallbackAuthorizer<F>(pub F);

impl<F> Authorizer for CallbackAuthorizer<F>
where
    F: Fn(SocketId<'_>, ChannelName<'_>) -> Result<ChannelAuth, AuthFailure>
        + Send
        + Sync
        + 'static,
{
    fn authorize(
        &self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> Result<ChannelAuth, AuthFailure> {
        (self.0)(socket_id, channel)
    }
}

/// Parses `http(s)://host[:port]/path`.
pub fn parse_url(url: &str) -> Result<(Endpoint, String), String> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(format!("{url}: only http:// and https:// URLs"));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| format!("{url}: bad port"))?),
        None => (authority, if tls { 443 } else { 80 }),
    };
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    Ok((
        Endpoint {
            tls,
            host: host.to_owned(),
            port,
        },
        path.to_owned(),
    ))
}

/// POSTs `socket_id` and `channel_name` as a form to an auth endpoint, as pusher-js does, and
/// reads `{"auth": .., "channel_data"?: ..}`.
pub struct HttpAuthorizer {
    endpoint: Endpoint,
    path: String,
    user_endpoint: Option<(Endpoint, String)>,
    agent: ureq::Agent,
    /// Extra form parameters.
    pub params: Vec<(String, String)>,
    /// Extra headers (e.g. `Authorization`).
    pub headers: Vec<(String, String)>,
}

impl HttpAuthorizer {
    /// An authorizer for `url` (the channel endpoint, e.g. `http://localhost:3000/pusher/auth`),
    /// with a 10 s timeout and the proxy from the environment.
    pub fn new(url: &str) -> Result<Self, String> {
        Self::with_settings(url, Duration::from_secs(10), &ProxyConfig::FromEnv)
    }

    /// An authorizer for `url` whose requests take at most `timeout`, through `proxy`.
    pub fn with_settings(
        url: &str,
        timeout: Duration,
        proxy: &ProxyConfig,
    ) -> Result<Self, String> {
        let (endpoint, path) = parse_url(url)?;
        let agent = crate::http::agent(&crate::http::AgentConfig {
            timeout,
            connect_timeout: timeout,
            proxy,
            ca_pem: None,
        })?;
        Ok(HttpAuthorizer {
            endpoint,
            path,
            user_endpoint: None,
            agent,
            params: Vec::new(),
            headers: Vec::new(),
        })
    }

    /// Also sign users in at `url` (e.g. `/pusher/user-auth`).
    pub fn with_user_endpoint(mut self, url: &str) -> Result<Self, String> {
        self.user_endpoint = Some(parse_url(url)?);
        Ok(self)
    }

    fn post(
        &self,
        ep: &Endpoint,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<String, AuthFailure> {
        let mut body = String::new();
        let extra = self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        for (k, v) in form.iter().copied().chain(extra) {
            if !body.is_empty() {
                body.push('&');
            }
            body.push_str(&form_encode(k));
            body.push('=');
            body.push_str(&form_encode(v));
        }
        let mut headers: Vec<(&str, &str)> =
            vec![("Content-Type", "application/x-www-form-urlencoded")];
        headers.extend(self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let url = format!("{}{path}", ep.base_url());
        let resp = http::send(&self.agent, "POST", &url, &headers, Some(body.as_bytes()))
            .map_err(|e| failure(None, format!("{url}: {e}")))?;
        if resp.status != 200 {
            return Err(failure(Some(resp.status), resp.body));
        }
        Ok(resp.body)
    }
}

fn json(body: &str) -> Result<Value<'_>, AuthFailure> {
    Value::parse(body).map_err(|e| failure(Some(200), format!("response is not JSON: {e}")))
}

fn string_field(v: &Value<'_>, name: &str) -> Option<String> {
    let raw = v.get(name)?.as_raw_str()?;
    let mut out = vec![0u8; raw.raw().len()];
    raw.unescape_into(&mut out).ok().map(str::to_owned)
}

impl Authorizer for HttpAuthorizer {
    fn authorize(
        &self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> Result<ChannelAuth, AuthFailure> {
        let body = self.post(
            &self.endpoint,
            &self.path,
            &[
                ("socket_id", socket_id.as_str()),
                ("channel_name", channel.as_str()),
            ],
        )?;
        let v = json(&body)?;
        let auth =
            string_field(&v, "auth").ok_or_else(|| failure(Some(200), "no auth in response"))?;
        Ok(ChannelAuth {
            auth,
            channel_data: string_field(&v, "channel_data"),
            shared_secret: string_field(&v, "shared_secret"),
        })
    }

    fn authenticate_user(&self, socket_id: SocketId<'_>) -> Result<UserAuth, AuthFailure> {
        let (ep, path) = self
            .user_endpoint
            .clone()
            .ok_or_else(|| failure(None, "no user auth endpoint"))?;
        let body = self.post(&ep, &path, &[("socket_id", socket_id.as_str())])?;
        let v = json(&body)?;
        let auth =
            string_field(&v, "auth").ok_or_else(|| failure(Some(200), "no auth in response"))?;
        let user_data = string_field(&v, "user_data")
            .ok_or_else(|| failure(Some(200), "no user_data in response"))?;
        Ok(UserAuth { auth, user_data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (ep, path) = parse_url("http://127.0.0.1:3000/pusher/auth").unwrap();
        assert_eq!(
            (ep.tls, ep.host.as_str(), ep.port, path.as_str()),
            (false, "127.0.0.1", 3000, "/pusher/auth")
        );
        let (ep, path) = parse_url("https://KEY:SECRET@api.example.com/apps/1").unwrap();
        assert_eq!(
            (ep.tls, ep.host.as_str(), ep.port, path.as_str()),
            (true, "api.example.com", 443, "/apps/1")
        );
        assert!(parse_url("ftp://x").is_err());
    }

    #[test]
    fn local_signer_matches_the_docs_vector() {
        let s = LocalSigner::new("278d425bdf160c739803", "7ad3773142a6692b25b8");
        let sid = SocketId::new("1234.1234").unwrap();
        let a = s
            .authorize(sid, ChannelName::new("private-foobar").unwrap())
            .unwrap();
        assert_eq!(
            a.auth,
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
        );
        let presence = ChannelName::new("presence-x").unwrap();
        assert!(s.authorize(sid, presence).is_err());
    }

    #[test]
    fn typed_member_and_user_are_signed_as_sent() {
        #[derive(serde::Serialize)]
        struct Info<'a> {
            name: &'a str,
            tags: [u8; 2],
        }
        let info = Info {
            name: "Zoë \"z\"",
            tags: [1, 2],
        };
        let s = LocalSigner::new("key", "secret")
            .member("u\u{1f355}", &info)
            .unwrap()
            .user("u1", &info)
            .unwrap();
        let sid = SocketId::new("1.2").unwrap();
        let a = s
            .authorize(sid, ChannelName::new("presence-room").unwrap())
            .unwrap();
        let data = a.channel_data.unwrap();
        assert_eq!(
            data,
            r#"{"user_id":"u🍕","user_info":{"name":"Zoë \"z\"","tags":[1,2]}}"#
        );
        let creds = Credentials::new("key", "secret");
        let want =
            creds.channel_signature(sid, ChannelName::new("presence-room").unwrap(), Some(&data));
        assert_eq!(
            a.auth,
            format!("key:{}", std::str::from_utf8(&want.to_hex()).unwrap())
        );
        let u = s.authenticate_user(sid).unwrap();
        assert_eq!(
            u.user_data,
            r#"{"id":"u1","user_info":{"name":"Zoë \"z\"","tags":[1,2]}}"#
        );
        let want = creds.user_signature(sid, &u.user_data);
        assert_eq!(
            u.auth,
            format!("key:{}", std::str::from_utf8(&want.to_hex()).unwrap())
        );
    }
}
