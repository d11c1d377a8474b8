//! HTTP for the REST API and auth endpoints, on `ureq` (rustls, the Mozilla roots or the
//! caller's CA): one agent per client keeps connections alive between requests, with connect
//! and overall timeouts and an HTTP(S) proxy from the configuration or the environment.

use std::sync::Arc;
use std::time::Duration;

use ureq::Agent;
use ureq::tls::{PemItem, RootCerts, TlsConfig};

/// Where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https` when true.
    pub tls: bool,
    /// Host name.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Endpoint {
    /// `http(s)://host[:port]`, the port only when it is not the scheme's default.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "{scheme}://{}",
            crate::net::host_header(&host, self.port, self.tls)
        )
    }
}

/// Which proxy requests go through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyConfig {
    /// `ALL_PROXY`, `HTTPS_PROXY` or `HTTP_PROXY` when set (honouring `NO_PROXY`), else
    /// none: what curl and most tools do.
    #[default]
    FromEnv,
    /// No proxy, whatever the environment says.
    Off,
    /// This proxy: `http://[user:password@]host:port` (CONNECT tunnels for every request),
    /// `https://...`, or `socks5://...`.
    Url(String),
}

/// How an agent is built.
pub(crate) struct AgentConfig<'a> {
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) proxy: &'a ProxyConfig,
    pub(crate) ca_pem: Option<&'a [u8]>,
}

/// An agent for these settings; `Err` names what is wrong with them.
pub(crate) fn agent(c: &AgentConfig<'_>) -> Result<Agent, String> {
    let proxy = match c.proxy {
        ProxyConfig::FromEnv => ureq::Proxy::try_from_env(),
        ProxyConfig::Off => None,
        ProxyConfig::Url(url) => {
            Some(ureq::Proxy::new(url).map_err(|e| format!("proxy {url:?}: {e}"))?)
        }
    };
    let mut tls = TlsConfig::builder();
    if let Some(pem) = c.ca_pem {
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            if let PemItem::Certificate(cert) = item.map_err(|e| format!("CA certificates: {e}"))? {
                certs.push(cert);
            }
        }
        if certs.is_empty() {
            return Err("CA certificates: no certificate in the PEM".into());
        }
        tls = tls.root_certs(RootCerts::Specific(Arc::new(certs)));
    }
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(c.timeout))
        .timeout_connect(Some(c.connect_timeout))
        .proxy(proxy)
        .tls_config(tls.build())
        .user_agent(concat!("pusher-rs/", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(config.into())
}

/// A response: status and body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: String,
    /// The `Date` header, when the server sent one.
    pub(crate) date: Option<String>,
}

/// Sends one request and reads the whole response (any status).
pub(crate) fn send(
    agent: &Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Response, ureq::Error> {
    let mut response = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()?
        }
        (_, body) => {
            let mut r = agent.post(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send(body.unwrap_or(&[]))?
        }
    };
    let status = response.status().as_u16();
    let date = response
        .headers()
        .get("date")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.body_mut().read_to_string()?;
    Ok(Response { status, body, date })
}

/// Form-encodes one value (`application/x-www-form-urlencoded`).
pub fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_forms() {
        let ep = |tls, host: &str, port| Endpoint {
            tls,
            host: host.into(),
            port,
        };
        assert_eq!(
            ep(true, "api.pusher.com", 443).base_url(),
            "https://api.pusher.com"
        );
        assert_eq!(
            ep(false, "127.0.0.1", 6001).base_url(),
            "http://127.0.0.1:6001"
        );
        assert_eq!(ep(false, "::1", 80).base_url(), "http://[::1]");
        assert_eq!(form_encode("a b&c=é"), "a+b%26c%3D%C3%A9");
    }

    #[test]
    fn bad_settings_are_named() {
        let proxy = ProxyConfig::Url("::nonsense".into());
        let c = AgentConfig {
            timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            proxy: &proxy,
            ca_pem: None,
        };
        assert!(agent(&c).unwrap_err().contains("proxy"));
        let c = AgentConfig {
            proxy: &ProxyConfig::Off,
            ca_pem: Some(b"no pem here"),
            ..c
        };
        assert!(agent(&c).unwrap_err().contains("CA"));
    }
}
