//! Async REST: the blocking library's requests (built, checked and signed by pusher-std and
//! the core: the same config, limits and error split), sent with reqwest, whose pool keeps
//! connections alive. TLS is pusher-std's rustls configuration (ring, the Mozilla roots or
//! the caller's CA), handed to reqwest as is.

use pusher_std::http::ProxyConfig;
use pusher_std::rest::{self, BatchItem, Config, Error, Prepared};
use pusher_std::rest_typed::{ChannelInfo, Channels, TriggerInfo, parse_user_ids};

/// The async REST client. Clone it freely: clones share the connection pool.
#[derive(Clone)]
pub struct AsyncRest {
    signer: rest::Rest,
    http: reqwest::Client,
}

impl std::fmt::Debug for AsyncRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncRest")
            .field("app_id", &self.signer.config().app_id)
            .finish_non_exhaustive()
    }
}

impl AsyncRest {
    /// A client for `config` (`Config::from_env()` reads `PUSHER_URL`).
    pub fn new(config: Config) -> Result<Self, Error> {
        let tls = pusher_std::net::tls_config(config.ca_pem.as_deref())
            .map_err(|e| Error::Config(format!("CA certificates: {e}")))?;
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("pusher-rs/", env!("CARGO_PKG_VERSION")));
        builder = match &config.proxy {
            // reqwest reads HTTP(S)_PROXY / ALL_PROXY / NO_PROXY itself.
            ProxyConfig::FromEnv => builder,
            ProxyConfig::Off => builder.no_proxy(),
            ProxyConfig::Url(url) => builder.proxy(
                reqwest::Proxy::all(url)
                    .map_err(|e| Error::Config(format!("proxy {url:?}: {e}")))?,
            ),
            _ => builder,
        };
        let http = builder
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(AsyncRest {
            signer: rest::Rest::new(config)?,
            http,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        self.signer.config()
    }

    /// Sends a prepared request; the body, or the error its status means.
    pub async fn send(&self, request: Prepared) -> Result<String, Error> {
        let method = if request.method == "GET" {
            reqwest::Method::GET
        } else {
            reqwest::Method::POST
        };
        let mut r = self.http.request(method, &request.url);
        for (k, v) in &request.headers {
            r = r.header(*k, *v);
        }
        if let Some(body) = request.body {
            r = r.body(body);
        }
        let resp = r.send().await.map_err(|e| Error::Transport(Box::new(e)))?;
        let status = resp.status().as_u16();
        let body = resp
            .text()
            .await
            .map_err(|e| Error::Transport(Box::new(e)))?;
        rest::answer(status, body)
    }

    /// Triggers `event` on 1 to 100 channels (`socket_id` excluded, `info` asked back).
    pub async fn trigger_with(
        &self,
        channels: &[&str],
        event: &str,
        data: &str,
        socket_id: Option<&str>,
        info: Option<&str>,
    ) -> Result<String, Error> {
        self.send(
            self.signer
                .prepare_trigger_with(channels, event, data, socket_id, info)?,
        )
        .await
    }

    /// Triggers `event` on channels.
    pub async fn trigger(
        &self,
        channels: &[&str],
        event: &str,
        data: &str,
    ) -> Result<String, Error> {
        self.trigger_with(channels, event, data, None, None).await
    }

    /// Triggers any `T: Serialize` as the event's JSON data.
    pub async fn trigger_json<T: serde::Serialize + ?Sized>(
        &self,
        channels: &[&str],
        event: &str,
        data: &T,
    ) -> Result<String, Error> {
        let json = serde_json::to_string(data).map_err(|e| {
            rest::invalid_because("data", format!("cannot be written as JSON: {e}"))
        })?;
        self.trigger(channels, event, &json).await
    }

    /// Triggers with `info` and returns the channels' attributes, typed.
    pub async fn trigger_info(
        &self,
        channels: &[&str],
        event: &str,
        data: &str,
        info: &str,
    ) -> Result<TriggerInfo, Error> {
        TriggerInfo::parse(
            &self
                .trigger_with(channels, event, data, None, Some(info))
                .await?,
        )
    }

    /// Triggers up to 10 events in one request.
    pub async fn trigger_batch(&self, items: &[BatchItem]) -> Result<String, Error> {
        self.send(self.signer.prepare_trigger_batch(items)?).await
    }

    /// The occupied channels, typed.
    pub async fn channels(
        &self,
        prefix: Option<&str>,
        info: Option<&str>,
    ) -> Result<Channels, Error> {
        Channels::parse(
            &self
                .send(self.signer.prepare_channels(prefix, info)?)
                .await?,
        )
    }

    /// One channel's state, typed.
    pub async fn channel(&self, name: &str, info: Option<&str>) -> Result<ChannelInfo, Error> {
        ChannelInfo::parse(&self.send(self.signer.prepare_channel(name, info)?).await?)
    }

    /// A presence channel's user ids.
    pub async fn user_ids(&self, name: &str) -> Result<Vec<String>, Error> {
        parse_user_ids(&self.send(self.signer.prepare_users(name)?).await?)
    }

    /// Sends an event to every connection signed in as `user_id`.
    pub async fn send_to_user(
        &self,
        user_id: &str,
        event: &str,
        data: &str,
    ) -> Result<String, Error> {
        self.send(self.signer.prepare_send_to_user(user_id, event, data)?)
            .await
    }

    /// Closes every connection signed in as `user_id`.
    pub async fn terminate_user_connections(&self, user_id: &str) -> Result<String, Error> {
        self.send(self.signer.prepare_terminate_user_connections(user_id)?)
            .await
    }

    /// The blocking client this one signs with (auth responses, webhooks, anything else).
    pub fn blocking(&self) -> &rest::Rest {
        &self.signer
    }
}
