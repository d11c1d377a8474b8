//! The REST server library, mirroring the official Ruby library: trigger (1-100 channels,
//! socket exclusion, `info`), batch trigger, channel and user queries, sending to users,
//! terminating user connections, auth for channels and users, and webhooks.
//!
//! Requests are built and signed by `pusher-core`; limits and names are checked before
//! anything is sent. Errors follow the Ruby split: configuration, validation, authentication
//! (401), HTTP (any other non-2xx status, with the body) and transport.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pusher_core::auth::Credentials;
use pusher_core::name::NameError;
use pusher_core::rest::RestError;
use pusher_core::rest::{self as signing, BatchEvent, Request};
use pusher_core::webhook::WebhookError;
use pusher_core::webhook::{self, Webhook};
use pusher_core::{ChannelName, EventName, SocketId, UserId};

use crate::auth::parse_url;
use crate::http::{self, AgentConfig, Endpoint, ProxyConfig};

/// A REST error.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Bad configuration (URL, credentials, proxy, CA certificates).
    Config(String),
    /// The request breaks a rule (names, limits) and was not sent: which argument, and the
    /// core's typed reason.
    Invalid {
        /// `channels`, `event`, `socket_id`, `user_id`, `data`, `batch`, `channel`...
        argument: &'static str,
        /// Why.
        reason: Invalid,
    },
    /// The server refused the credentials or signature (HTTP 401).
    Auth {
        /// Response body.
        body: String,
    },
    /// Any other non-success status.
    Http {
        /// HTTP status.
        status: u16,
        /// Response body.
        body: String,
    },
    /// The connection failed or timed out (DNS, refused, TLS, proxy, timeout): the HTTP
    /// client's own typed error (`ureq::Error` here, `reqwest::Error` in pusher-tokio), to
    /// downcast.
    Transport(Box<dyn std::error::Error + Send + Sync>),
    /// A 2xx answer whose body is not what the API documents.
    Response(String),
    /// A webhook was refused: wrong key, bad signature, malformed body. (Not a 401 from
    /// the API: the request came to us.)
    Webhook(WebhookError),
    /// An encrypted channel's data did not open with the configured master key.
    Decrypt(pusher_core::encrypted::DecryptError),
}

/// Why a request was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invalid {
    /// A channel, event, socket or user name is not valid.
    Name(NameError),
    /// The request breaks a REST rule (channel count, batch size, data size, ...).
    Rule(RestError),
    /// Anything else, said in words.
    Other(String),
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::Name(e) => e.fmt(f),
            Invalid::Rule(e) => e.fmt(f),
            Invalid::Other(m) => f.write_str(m),
        }
    }
}

impl From<NameError> for Invalid {
    fn from(e: NameError) -> Invalid {
        Invalid::Name(e)
    }
}

impl From<RestError> for Invalid {
    fn from(e: RestError) -> Invalid {
        Invalid::Rule(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(m) => write!(f, "configuration: {m}"),
            Error::Invalid { argument, reason } => {
                write!(f, "invalid request: {argument}: {reason}")
            }
            Error::Auth { body } => write!(f, "authentication failed (401): {body}"),
            Error::Http { status, body } => write!(f, "HTTP {status}: {body}"),
            Error::Transport(e) => write!(f, "transport: {e}"),
            Error::Response(m) => write!(f, "unexpected answer: {m}"),
            Error::Webhook(e) => write!(f, "webhook refused: {e}"),
            Error::Decrypt(e) => write!(f, "encrypted data: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// An `Invalid` error for `argument`.
fn invalid<E: Into<Invalid>>(argument: &'static str) -> impl FnOnce(E) -> Error {
    move |e| Error::Invalid {
        argument,
        reason: e.into(),
    }
}

/// An `Invalid` error for `argument`, in words (for callers building requests themselves).
pub fn invalid_because(argument: &'static str, why: impl Into<String>) -> Error {
    Error::Invalid {
        argument,
        reason: Invalid::Other(why.into()),
    }
}

/// Where and as whom to talk to the REST API.
#[derive(Debug, Clone)]
pub struct Config {
    /// Numeric app id.
    pub app_id: String,
    /// App key.
    pub key: String,
    /// App secret.
    pub secret: String,
    /// API host, port and scheme.
    pub endpoint: Endpoint,
    /// Longest a request may take, from connecting to the last byte of the answer (10 s).
    pub timeout: Duration,
    /// Longest the TCP (and TLS) connect may take (5 s).
    pub connect_timeout: Duration,
    /// The proxy: from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` by default.
    pub proxy: ProxyConfig,
    /// CA certificates (PEM) to trust for https instead of the Mozilla roots (a private
    /// server).
    pub ca_pem: Option<Vec<u8>>,
    /// More `(key, secret)` pairs whose webhooks [`Rest::webhook`] accepts (key rotation).
    pub webhook_keys: Vec<(String, String)>,
    /// The encryption master key (32 bytes) for `private-encrypted-` channels: their
    /// triggers are sealed, their auth responses carry the shared secret, and their
    /// webhook client events are opened. Set it with [`Config::encryption_master_key_base64`].
    pub encryption_master_key: Option<[u8; 32]>,
}

impl Config {
    /// Credentials for the `mt1` cluster over https.
    pub fn new(app_id: &str, key: &str, secret: &str) -> Self {
        Config {
            app_id: app_id.to_owned(),
            key: key.to_owned(),
            secret: secret.to_owned(),
            endpoint: Endpoint {
                tls: true,
                host: "api-mt1.pusher.com".into(),
                port: 443,
            },
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            proxy: ProxyConfig::FromEnv,
            ca_pem: None,
            webhook_keys: Vec::new(),
            encryption_master_key: None,
        }
    }

    /// Uses `api-{cluster}.pusher.com`.
    pub fn cluster(mut self, cluster: &str) -> Self {
        self.endpoint.host = format!("api-{cluster}.pusher.com");
        self
    }

    /// Uses another server (soketi, a proxy, a test host).
    pub fn host(mut self, host: &str, port: u16, tls: bool) -> Self {
        self.endpoint = Endpoint {
            tls,
            host: host.to_owned(),
            port,
        };
        self
    }

    /// Parses `http(s)://KEY:SECRET@HOST[:PORT]/apps/APP_ID`.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        let (endpoint, path) = parse_url(url).map_err(Error::Config)?;
        let after_scheme = url.split_once("://").map_or("", |(_, r)| r);
        let userinfo = after_scheme
            .split('/')
            .next()
            .unwrap_or("")
            .rsplit_once('@')
            .map(|(u, _)| u);
        let (key, secret) = userinfo
            .and_then(|u| u.split_once(':'))
            .ok_or_else(|| Error::Config("URL needs KEY:SECRET@".into()))?;
        let app_id = path
            .strip_prefix("/apps/")
            .map(|s| s.trim_end_matches('/'))
            .filter(|s| !s.is_empty() && !s.contains('/'))
            .ok_or_else(|| Error::Config("URL path must be /apps/APP_ID".into()))?;
        let mut cfg = Config::new(app_id, key, secret);
        cfg.endpoint = endpoint;
        Ok(cfg)
    }

    /// Sets the encryption master key from its base64 (as the dashboard and the official
    /// libraries give it); it must decode to exactly 32 bytes.
    pub fn encryption_master_key_base64(mut self, b64: &str) -> Result<Self, Error> {
        let key = pusher_core::auth::decode_master_key(b64)
            .map_err(|e| Error::Config(format!("encryption master key: {e}")))?;
        self.encryption_master_key = Some(key);
        Ok(self)
    }

    /// Reads `PUSHER_URL`.
    pub fn from_env() -> Result<Self, Error> {
        let url = std::env::var("PUSHER_URL")
            .map_err(|_| Error::Config("PUSHER_URL is not set".into()))?;
        Self::from_url(&url)
    }
}

/// One event of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    /// Channel.
    pub channel: String,
    /// Event name.
    pub event: String,
    /// Data string.
    pub data: String,
    /// Socket to exclude.
    pub socket_id: Option<String>,
    /// Channel attributes to return for this event (`user_count`, `subscription_count`).
    pub info: Option<String>,
}

/// An event of a verified webhook, owned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebhookEvent {
    /// `channel_occupied`, `member_added`, `client_event`, ...
    pub name: String,
    /// Channel.
    pub channel: Option<String>,
    /// Client event name.
    pub event: Option<String>,
    /// Client event data.
    pub data: Option<String>,
    /// Sender socket.
    pub socket_id: Option<String>,
    /// User id.
    pub user_id: Option<String>,
    /// Subscribers (`subscription_count`).
    pub subscription_count: Option<u64>,
}

/// A signed REST request, ready for any HTTP client ([`Rest::prepare`] and the
/// `prepare_*` calls); [`answer`] reads its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The full URL with the signed query.
    pub url: String,
    /// Headers to send.
    pub headers: Vec<(&'static str, &'static str)>,
    /// The JSON body, for POSTs.
    pub body: Option<Vec<u8>>,
}

/// A response as the API means it: the body for 2xx, else the error its status says.
pub fn answer(status: u16, body: String) -> Result<String, Error> {
    match status {
        200..=299 => Ok(body),
        401 => Err(Error::Auth { body }),
        status => Err(Error::Http { status, body }),
    }
}

/// A REST client. Its connections are kept alive and reused between calls (clone it to
/// share them across threads); independent instances share nothing.
#[derive(Clone)]
pub struct Rest {
    config: Config,
    agent: ureq::Agent,
}

impl fmt::Debug for Rest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rest")
            .field("app_id", &self.config.app_id)
            .field("endpoint", &self.config.endpoint)
            .finish_non_exhaustive()
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn unescaped(raw: Option<pusher_core::wire::json::RawStr<'_>>) -> Option<String> {
    let raw = raw?;
    let mut out = vec![0u8; raw.raw().len()];
    raw.unescape_into(&mut out).ok().map(str::to_owned)
}

impl Rest {
    /// A client for `config`.
    pub fn new(config: Config) -> Result<Self, Error> {
        let agent = http::agent(&AgentConfig {
            timeout: config.timeout,
            connect_timeout: config.connect_timeout,
            proxy: &config.proxy,
            ca_pem: config.ca_pem.as_deref(),
        })
        .map_err(Error::Config)?;
        Ok(Rest { config, agent })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn credentials(&self) -> Credentials<'_> {
        Credentials::new(&self.config.key, &self.config.secret)
    }

    /// The signed query string for any request (`timestamp` in Unix seconds).
    pub fn signed_query(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        body: Option<&[u8]>,
        timestamp: u64,
    ) -> Result<String, Error> {
        let req = Request {
            method,
            path,
            params,
            body,
            timestamp,
        };
        let mut out = vec![
            0u8;
            1024 + params
                .iter()
                .map(|(k, v)| (k.len() + v.len()) * 3 + 2)
                .sum::<usize>()
        ];
        let q = signing::write_query(&mut out, &self.credentials(), &req)
            .map_err(invalid("request"))?;
        Ok(q.to_owned())
    }

    /// The signed request to `/apps/{id}{suffix}`, for any HTTP client.
    pub fn prepare(
        &self,
        method: &'static str,
        suffix: &str,
        params: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Prepared, Error> {
        let path = format!("/apps/{}{}", self.config.app_id, suffix);
        let query = self.signed_query(method, &path, params, body, now_secs())?;
        let mut headers = vec![(
            "X-Pusher-Library",
            concat!("pusher-rs ", env!("CARGO_PKG_VERSION")),
        )];
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        Ok(Prepared {
            method,
            url: format!("{}{path}?{query}", self.config.endpoint.base_url()),
            headers,
            body: body.map(<[u8]>::to_vec),
        })
    }

    /// Sends a prepared request with this client's agent; the answer's body, or the error
    /// its status means.
    pub fn send(&self, request: Prepared) -> Result<String, Error> {
        let resp = http::send(
            &self.agent,
            request.method,
            &request.url,
            &request.headers,
            request.body.as_deref(),
        )
        .map_err(|e| Error::Transport(Box::new(e)))?;
        answer(resp.status, resp.body)
    }

    /// Sends a signed request to `/apps/{id}{suffix}` and returns the response body.
    pub fn request(
        &self,
        method: &'static str,
        suffix: &str,
        params: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<String, Error> {
        self.send(self.prepare(method, suffix, params, body)?)
    }

    /// Checks the credentials with a signed `GET /channels` and returns how far this
    /// machine's clock is ahead of the server's (seconds, negative when behind), from the
    /// answer's `Date` header; `None` when the server sent none. Pusher refuses signatures
    /// more than 600 s off.
    pub fn clock_skew(&self) -> Result<Option<i64>, Error> {
        let path = format!("/apps/{}/channels", self.config.app_id);
        let query = self.signed_query("GET", &path, &[], None, now_secs())?;
        let url = format!("{}{path}?{query}", self.config.endpoint.base_url());
        let resp = http::send(&self.agent, "GET", &url, &[], None)
            .map_err(|e| Error::Transport(Box::new(e)))?;
        match resp.status {
            200..=299 => {}
            401 => return Err(Error::Auth { body: resp.body }),
            status => {
                return Err(Error::Http {
                    status,
                    body: resp.body,
                });
            }
        }
        let server = resp
            .date
            .as_deref()
            .and_then(|d| httpdate::parse_http_date(d).ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok());
        Ok(server.map(|t| {
            let server = i64::try_from(t.as_secs()).unwrap_or(i64::MAX);
            i64::try_from(now_secs()).unwrap_or(i64::MAX) - server
        }))
    }

    /// Triggers `event` on 1 to 100 channels. `data` is sent as is (JSON text, usually);
    /// `socket_id` excludes that connection; `info` asks for channel attributes.
    pub fn trigger_with(
        &self,
        channels: &[&str],
        event: &str,
        data: &str,
        socket_id: Option<&str>,
        info: Option<&str>,
    ) -> Result<String, Error> {
        self.send(self.prepare_trigger_with(channels, event, data, socket_id, info)?)
    }

    /// The signed request [`Rest::trigger_with`] sends, for any HTTP client.
    pub fn prepare_trigger_with(
        &self,
        channels: &[&str],
        event: &str,
        data: &str,
        socket_id: Option<&str>,
        info: Option<&str>,
    ) -> Result<Prepared, Error> {
        let names = channels
            .iter()
            .map(|c| ChannelName::with_max_len(c, 200))
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid("channels"))?;
        let ev = EventName::new(event).map_err(invalid("event"))?;
        let socket = socket_id
            .map(SocketId::new)
            .transpose()
            .map_err(invalid("socket_id"))?;
        if names.iter().any(|c| c.kind().is_encrypted()) {
            return self.prepare_encrypted_trigger(&names, ev, data, socket, info);
        }
        let mut body =
            vec![0u8; data.len() * 6 + channels.iter().map(|c| c.len() + 3).sum::<usize>() + 512];
        let n = signing::write_trigger_body(&mut body, &names, ev, data, socket, info).map_err(
            |e| {
                let argument = match e {
                    RestError::DataTooLarge => "data",
                    _ => "channels",
                };
                invalid(argument)(e)
            },
        )?;
        self.prepare("POST", "/events", &[], Some(&body[..n]))
    }

    /// An encrypted channel's trigger: sealed with its shared secret under a fresh random
    /// nonce; the channel must be the trigger's only one and a master key configured.
    fn prepare_encrypted_trigger(
        &self,
        names: &[ChannelName<'_>],
        event: EventName<'_>,
        data: &str,
        socket: Option<SocketId<'_>>,
        info: Option<&str>,
    ) -> Result<Prepared, Error> {
        let [channel] = names else {
            return Err(invalid_because(
                "channels",
                "an encrypted channel must be the only channel of its trigger",
            ));
        };
        let key = self.config.encryption_master_key.as_ref().ok_or_else(|| {
            invalid_because(
                "channels",
                "triggering an encrypted channel needs Config::encryption_master_key",
            )
        })?;
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce)
            .map_err(|e| Error::Config(format!("no randomness for the nonce: {e}")))?;
        let mut scratch = vec![0u8; data.len() * 3 + 128];
        let mut body = vec![0u8; data.len() * 8 + channel.as_str().len() + 512];
        let n = signing::write_encrypted_trigger_body(
            &mut body,
            &mut scratch,
            *channel,
            event,
            data,
            key,
            &nonce,
            socket,
            info,
        )
        .map_err(invalid("data"))?;
        self.prepare("POST", "/events", &[], Some(&body[..n]))
    }

    /// Triggers `event` on channels.
    pub fn trigger(&self, channels: &[&str], event: &str, data: &str) -> Result<String, Error> {
        self.trigger_with(channels, event, data, None, None)
    }

    /// Triggers an event whose data is any `T: Serialize`, sent as its JSON text (as the
    /// official libraries send non-string data).
    pub fn trigger_json<T: serde::Serialize + ?Sized>(
        &self,
        channels: &[&str],
        event: &str,
        data: &T,
    ) -> Result<String, Error> {
        let json = serde_json::to_string(data)
            .map_err(|e| invalid_because("data", format!("cannot be written as JSON: {e}")))?;
        self.trigger(channels, event, &json)
    }

    /// Triggers up to 10 events in one request.
    pub fn trigger_batch(&self, items: &[BatchItem]) -> Result<String, Error> {
        self.send(self.prepare_trigger_batch(items)?)
    }

    /// The signed request [`Rest::trigger_batch`] sends, for any HTTP client.
    pub fn prepare_trigger_batch(&self, items: &[BatchItem]) -> Result<Prepared, Error> {
        let mut events = Vec::with_capacity(items.len());
        for it in items {
            events.push(BatchEvent {
                channel: ChannelName::with_max_len(&it.channel, 200).map_err(invalid("channel"))?,
                event: EventName::new(&it.event).map_err(invalid("event"))?,
                data: &it.data,
                socket_id: it
                    .socket_id
                    .as_deref()
                    .map(SocketId::new)
                    .transpose()
                    .map_err(invalid("socket_id"))?,
                info: it.info.as_deref(),
            });
        }
        let size = items
            .iter()
            .map(|i| i.data.len() * 6 + i.channel.len() + i.event.len() + 128)
            .sum::<usize>()
            + 64;
        let mut body = vec![0u8; size];
        let n = signing::write_batch_body(&mut body, &events).map_err(invalid("batch"))?;
        self.prepare("POST", "/batch_events", &[], Some(&body[..n]))
    }

    /// `GET /channels`, optionally filtered by prefix and with `info` attributes.
    pub fn channels(&self, prefix: Option<&str>, info: Option<&str>) -> Result<String, Error> {
        self.send(self.prepare_channels(prefix, info)?)
    }

    /// The signed request [`Rest::channels`] sends, for any HTTP client.
    pub fn prepare_channels(
        &self,
        prefix: Option<&str>,
        info: Option<&str>,
    ) -> Result<Prepared, Error> {
        let mut params = Vec::new();
        if let Some(p) = prefix {
            params.push(("filter_by_prefix", p));
        }
        if let Some(i) = info {
            params.push(("info", i));
        }
        self.prepare("GET", "/channels", &params, None)
    }

    /// `GET /channels/{name}` with optional `info` attributes.
    pub fn channel(&self, name: &str, info: Option<&str>) -> Result<String, Error> {
        self.send(self.prepare_channel(name, info)?)
    }

    /// The signed request [`Rest::channel`] sends, for any HTTP client.
    pub fn prepare_channel(&self, name: &str, info: Option<&str>) -> Result<Prepared, Error> {
        ChannelName::with_max_len(name, 200).map_err(invalid("channel"))?;
        let params: Vec<(&str, &str)> = info.map(|i| ("info", i)).into_iter().collect();
        self.prepare("GET", &format!("/channels/{name}"), &params, None)
    }

    /// `GET /channels/{name}/users` of a presence channel.
    pub fn users(&self, name: &str) -> Result<String, Error> {
        self.send(self.prepare_users(name)?)
    }

    /// The signed request [`Rest::users`] sends, for any HTTP client.
    pub fn prepare_users(&self, name: &str) -> Result<Prepared, Error> {
        let c = ChannelName::with_max_len(name, 200).map_err(invalid("channel"))?;
        if !c.kind().is_presence() {
            return Err(invalid_because(
                "channel",
                "users are listed for presence channels only",
            ));
        }
        self.prepare("GET", &format!("/channels/{name}/users"), &[], None)
    }

    /// Sends an event to every connection signed in as `user_id`.
    pub fn send_to_user(&self, user_id: &str, event: &str, data: &str) -> Result<String, Error> {
        self.send(self.prepare_send_to_user(user_id, event, data)?)
    }

    /// The signed request [`Rest::send_to_user`] sends, for any HTTP client.
    pub fn prepare_send_to_user(
        &self,
        user_id: &str,
        event: &str,
        data: &str,
    ) -> Result<Prepared, Error> {
        UserId::new(user_id).map_err(invalid("user_id"))?;
        self.prepare_trigger_with(
            &[&format!("#server-to-user-{user_id}")],
            event,
            data,
            None,
            None,
        )
    }

    /// Closes every connection signed in as `user_id`.
    pub fn terminate_user_connections(&self, user_id: &str) -> Result<String, Error> {
        self.send(self.prepare_terminate_user_connections(user_id)?)
    }

    /// The signed request [`Rest::terminate_user_connections`] sends, for any HTTP client.
    pub fn prepare_terminate_user_connections(&self, user_id: &str) -> Result<Prepared, Error> {
        UserId::new(user_id).map_err(invalid("user_id"))?;
        self.prepare(
            "POST",
            &format!("/users/{user_id}/terminate_connections"),
            &[],
            Some(b"{}"),
        )
    }

    /// The JSON an auth endpoint returns for a private or presence channel.
    pub fn authorize_channel(
        &self,
        socket_id: &str,
        channel: &str,
        channel_data: Option<&str>,
    ) -> Result<String, Error> {
        let socket = SocketId::new(socket_id).map_err(invalid("socket_id"))?;
        let name = ChannelName::with_max_len(channel, 200).map_err(invalid("channel"))?;
        let mut out = vec![0u8; 256 + channel_data.map_or(0, |d| d.len() * 6)];
        let json = self
            .credentials()
            .channel_auth_response(
                &mut out,
                socket,
                name,
                channel_data,
                self.config.encryption_master_key.as_ref(),
            )
            .map_err(|e| invalid_because("channel_data", e.to_string()))?;
        Ok(json.to_owned())
    }

    /// The JSON a user-auth endpoint returns.
    pub fn authenticate_user(&self, socket_id: &str, user_data: &str) -> Result<String, Error> {
        let socket = SocketId::new(socket_id).map_err(invalid("socket_id"))?;
        let mut out = vec![0u8; 256 + user_data.len() * 6];
        let json = self
            .credentials()
            .user_auth_response(&mut out, socket, user_data)
            .map_err(|e| invalid_because("user_data", e.to_string()))?;
        Ok(json.to_owned())
    }

    /// Verifies a webhook (key and signature headers against the raw body) and returns its
    /// `time_ms` and events. The app's own key and secret are accepted, and so is every pair
    /// in [`Config::webhook_keys`] (key rotation): the one whose key the `X-Pusher-Key`
    /// header names signs.
    pub fn webhook(
        &self,
        key_header: &str,
        signature_header: &str,
        body: &[u8],
    ) -> Result<(u64, Vec<WebhookEvent>), Error> {
        let own = (self.config.key.as_str(), self.config.secret.as_str());
        let extra = self
            .config
            .webhook_keys
            .iter()
            .map(|(k, s)| (k.as_str(), s.as_str()));
        let (key, secret) = std::iter::once(own)
            .chain(extra)
            .find(|(k, _)| *k == key_header)
            .ok_or(Error::Webhook(WebhookError::KeyMismatch))?;
        webhook::verify(
            &Credentials::new(key, secret),
            key_header,
            signature_header,
            body,
        )
        .map_err(Error::Webhook)?;
        let text = std::str::from_utf8(body)
            .map_err(|_| invalid_because("body", "webhook body is not UTF-8"))?;
        let hook = Webhook::parse(text).map_err(Error::Webhook)?;
        let mut events = Vec::new();
        for e in hook.events() {
            let e = e.map_err(Error::Webhook)?;
            let channel = unescaped(e.channel);
            let mut data = unescaped(e.data);
            if let (Some(c), Some(d), Some(key)) = (
                channel.as_deref(),
                data.as_deref(),
                self.config.encryption_master_key.as_ref(),
            ) && let Ok(name) = ChannelName::with_max_len(c, 200)
                && name.kind().is_encrypted()
            {
                let secret = pusher_core::auth::shared_secret(name, key);
                let mut out = vec![0u8; d.len()];
                let plain = pusher_core::encrypted::decrypt(&secret, d, &mut out)
                    .map_err(Error::Decrypt)?;
                data = Some(plain.to_owned());
            }
            events.push(WebhookEvent {
                name: unescaped(Some(e.name)).unwrap_or_default(),
                channel,
                event: unescaped(e.event),
                data,
                socket_id: unescaped(e.socket_id),
                user_id: unescaped(e.user_id),
                subscription_count: e.subscription_count,
            });
        }
        Ok((hook.time_ms, events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_from_url() {
        let c = Config::from_url("http://KEY:SECRET@127.0.0.1:6001/apps/123456").unwrap();
        assert_eq!(
            (c.key.as_str(), c.secret.as_str(), c.app_id.as_str()),
            ("KEY", "SECRET", "123456")
        );
        assert_eq!(
            (c.endpoint.host.as_str(), c.endpoint.port, c.endpoint.tls),
            ("127.0.0.1", 6001, false)
        );
        assert!(matches!(
            Config::from_url("http://host/apps/1"),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Config::from_url("http://k:s@host/nope"),
            Err(Error::Config(_))
        ));
        let c = Config::new("1", "k", "s").cluster("eu");
        assert_eq!(c.endpoint.host, "api-eu.pusher.com");
    }

    #[test]
    fn limits_are_checked_before_sending() {
        // Port 9 on loopback: nothing is ever sent, because validation fails first.
        let rest = Rest::new(Config::new("1", "k", "s").host("127.0.0.1", 9, false)).unwrap();
        let many: Vec<String> = (0..101).map(|i| format!("c{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(matches!(
            rest.trigger(&refs, "e", "{}"),
            Err(Error::Invalid { .. })
        ));
        assert!(matches!(
            rest.trigger(&["bad name"], "e", "{}"),
            Err(Error::Invalid { .. })
        ));
        assert!(matches!(
            rest.trigger(&["c"], "e", &"x".repeat(10_241)),
            Err(Error::Invalid { .. })
        ));
        let batch: Vec<BatchItem> = (0..11)
            .map(|_| BatchItem {
                channel: "c".into(),
                event: "e".into(),
                data: "{}".into(),
                socket_id: None,
                info: None,
            })
            .collect();
        assert!(matches!(
            rest.trigger_batch(&batch),
            Err(Error::Invalid { .. })
        ));
        assert!(matches!(rest.users("public"), Err(Error::Invalid { .. })));
        assert!(matches!(
            rest.trigger_with(&["c"], "e", "{}", Some("1.1:"), None),
            Err(Error::Invalid { .. })
        ));
    }

    #[test]
    fn auth_and_webhooks_match_the_vectors() {
        let rest = Rest::new(Config::new(
            "1",
            "278d425bdf160c739803",
            "7ad3773142a6692b25b8",
        ))
        .unwrap();
        assert_eq!(
            rest.authorize_channel("1234.1234", "private-foobar", None)
                .unwrap(),
            r#"{"auth":"278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"}"#
        );
        let rest = Rest::new(Config::new("1", "123456789", "tofu")).unwrap();
        let body = br#"{"time_ms":1403175510755,"events":[{"channel":"test_channel","name":"channel_vacated"}]}"#;
        let (t, events) = rest
            .webhook(
                "123456789",
                "c17257e92037cd7de407ebc1ed174ceb7b2e518db127f44411b9ffc4f5b28cc5",
                body,
            )
            .unwrap();
        assert_eq!(t, 1403175510755);
        assert_eq!(events[0].name, "channel_vacated");
        assert!(matches!(
            rest.webhook("123456789", "00", body),
            Err(Error::Webhook(WebhookError::MalformedSignature))
        ));
        assert!(matches!(
            rest.webhook("123456789", &"0".repeat(64), body),
            Err(Error::Webhook(WebhookError::BadSignature))
        ));
        assert!(matches!(
            rest.webhook("other-key", &"0".repeat(64), body),
            Err(Error::Webhook(WebhookError::KeyMismatch))
        ));
    }
}

#[cfg(test)]
mod encryption_tests {
    use super::*;

    const MASTER: &str = "zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=";

    fn rest() -> Rest {
        Rest::new(
            Config::new("1", "f00d", "tofu")
                .encryption_master_key_base64(MASTER)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn auth_responses_carry_the_node_librarys_shared_secret() {
        let json = rest()
            .authorize_channel("123.456", "private-encrypted-bla", None)
            .unwrap();
        assert!(
            json.contains(r#""shared_secret":"nlr49ISQHz91yS3cy/yWmW8wFMNeTnNL5tNHnbPJcLQ=""#),
            "{json}"
        );
        assert!(matches!(
            Config::new("1", "k", "s").encryption_master_key_base64("c2hvcnQ="),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn encrypted_triggers_are_sealed_alone_and_need_the_key() {
        let r = rest();
        let p = r
            .prepare_trigger_with(&["private-encrypted-bla"], "e", r#"{"n":1}"#, None, None)
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&p.body.unwrap()).unwrap();
        let data = body["data"].as_str().unwrap();
        let key = pusher_core::auth::decode_master_key(MASTER).unwrap();
        let secret = pusher_core::auth::shared_secret(
            ChannelName::new("private-encrypted-bla").unwrap(),
            &key,
        );
        let mut out = [0u8; 256];
        assert_eq!(
            pusher_core::encrypted::decrypt(&secret, data, &mut out),
            Ok(r#"{"n":1}"#)
        );
        // Two triggers never share a nonce.
        let again = r
            .prepare_trigger_with(&["private-encrypted-bla"], "e", r#"{"n":1}"#, None, None)
            .unwrap();
        assert_ne!(again.body, Some(serde_json::to_vec(&body).unwrap()));
        assert!(matches!(
            r.prepare_trigger_with(&["private-encrypted-bla", "public"], "e", "{}", None, None),
            Err(Error::Invalid {
                argument: "channels",
                ..
            })
        ));
        let no_key = Rest::new(Config::new("1", "f00d", "tofu")).unwrap();
        assert!(matches!(
            no_key.prepare_trigger_with(&["private-encrypted-bla"], "e", "{}", None, None),
            Err(Error::Invalid {
                argument: "channels",
                ..
            })
        ));
    }

    #[test]
    fn webhook_client_events_on_encrypted_channels_are_opened() {
        let r = rest();
        let key = pusher_core::auth::decode_master_key(MASTER).unwrap();
        let channel = ChannelName::new("private-encrypted-bla").unwrap();
        let secret = pusher_core::auth::shared_secret(channel, &key);
        let (mut scratch, mut sealed) = ([0u8; 128], [0u8; 256]);
        let data = pusher_core::encrypted::encrypt(
            &secret,
            &[1; 24],
            r#"{"t":"hi"}"#,
            &mut scratch,
            &mut sealed,
        )
        .unwrap();
        let body = serde_json::json!({"time_ms": 1, "events": [
            {"name": "client_event", "channel": "private-encrypted-bla", "event": "client-x", "data": data}
        ]})
        .to_string();
        let sig = {
            let creds = Credentials::new("f00d", "tofu");
            let s = creds.sign(&[body.as_bytes()]);
            String::from_utf8(s.to_hex().to_vec()).unwrap()
        };
        let (_, events) = r.webhook("f00d", &sig, body.as_bytes()).unwrap();
        assert_eq!(events[0].data.as_deref(), Some(r#"{"t":"hi"}"#));
    }
}
