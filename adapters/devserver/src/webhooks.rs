//! Webhooks: events gathered for a short window and posted as one signed request
//! (`{"time_ms":..,"events":[..]}`, `X-Pusher-Key`, `X-Pusher-Signature` = HMAC-SHA256 of
//! the raw body), retried with backoff on failure as Pusher does.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use pusher_core::auth::Credentials;
use serde_json::{Map, Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::activity::{Activity, Observer};
use crate::config::Config;

/// One webhook event, as Pusher names its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEvent {
    name: &'static str,
    fields: Vec<(&'static str, Value)>,
}

impl HookEvent {
    /// `channel_occupied`, `channel_vacated`, `cache_miss`.
    pub fn channel(name: &'static str, channel: &str) -> HookEvent {
        HookEvent {
            name,
            fields: vec![("channel", channel.into())],
        }
    }

    /// `member_added`, `member_removed`.
    pub fn member(name: &'static str, channel: &str, user_id: &str) -> HookEvent {
        HookEvent {
            name,
            fields: vec![("channel", channel.into()), ("user_id", user_id.into())],
        }
    }

    /// `subscription_count`.
    pub fn count(channel: &str, count: u64) -> HookEvent {
        HookEvent {
            name: "subscription_count",
            fields: vec![
                ("channel", channel.into()),
                ("subscription_count", count.into()),
            ],
        }
    }

    /// `client_event`.
    pub fn client_event(
        channel: &str,
        event: &str,
        data: &str,
        socket_id: &str,
        user_id: Option<&str>,
    ) -> HookEvent {
        let mut fields = vec![
            ("channel", channel.into()),
            ("event", event.into()),
            ("data", data.into()),
            ("socket_id", socket_id.into()),
        ];
        if let Some(u) = user_id {
            fields.push(("user_id", u.into()));
        }
        HookEvent {
            name: "client_event",
            fields,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), self.name.into());
        for (k, v) in &self.fields {
            m.insert((*k).into(), v.clone());
        }
        Value::Object(m)
    }
}

/// Where webhooks go: `http://host:port/path` (loopback development needs no TLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    authority: String,
    path: String,
}

/// Why a webhook URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadWebhookUrl(pub String);

impl std::fmt::Display for BadWebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "webhook URL {:?} is not http://host:port/path", self.0)
    }
}

impl std::error::Error for BadWebhookUrl {}

impl Target {
    /// Parses an `http://` URL.
    pub fn parse(url: &str) -> Result<Target, BadWebhookUrl> {
        let bad = || BadWebhookUrl(url.to_owned());
        let rest = url.strip_prefix("http://").ok_or_else(bad)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(bad());
        }
        let authority = if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        Ok(Target {
            authority,
            path: path.to_owned(),
        })
    }
}

/// Starts the webhook sender; returns where the hub queues events.
pub fn spawn(
    cfg: Arc<Config>,
    target: Target,
    observer: Option<Observer>,
) -> mpsc::UnboundedSender<HookEvent> {
    let (tx, mut rx) = mpsc::unbounded_channel::<HookEvent>();
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            tokio::time::sleep(cfg.webhook_batch).await;
            while let Ok(e) = rx.try_recv() {
                batch.push(e);
            }
            let body = body(&batch);
            let signature = Credentials::new(&cfg.key, &cfg.secret).sign(&[body.as_bytes()]);
            let hex = signature.to_hex();
            let signature = String::from_utf8_lossy(&hex).into_owned();
            let outcome = deliver(&cfg, &target, body, &signature).await;
            if let Some(o) = &observer {
                o(&Activity::Webhook {
                    events: batch.len(),
                    outcome,
                });
            }
        }
    });
    tx
}

fn body(events: &[HookEvent]) -> String {
    let time_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let events: Vec<Value> = events.iter().map(HookEvent::to_json).collect();
    json!({ "time_ms": time_ms, "events": events }).to_string()
}

/// Posts, retrying a failed delivery three more times (1, 2, 4 s apart).
async fn deliver(
    cfg: &Config,
    target: &Target,
    body: String,
    signature: &str,
) -> Result<u16, String> {
    let mut delay = Duration::from_secs(1);
    let mut last = String::new();
    for attempt in 0..4 {
        if attempt > 0 {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        match post(cfg, target, body.clone(), signature).await {
            Ok(status) if (200..300).contains(&status) => return Ok(status),
            Ok(status) => last = format!("HTTP {status}"),
            Err(e) => last = e,
        }
    }
    Err(format!("{last} (after 4 attempts)"))
}

async fn post(cfg: &Config, target: &Target, body: String, signature: &str) -> Result<u16, String> {
    let stream = tokio::time::timeout(
        Duration::from_secs(5),
        TcpStream::connect(&target.authority),
    )
    .await
    .map_err(|_| format!("connecting to {} timed out", target.authority))?
    .map_err(|e| format!("connecting to {}: {e}", target.authority))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let req = Request::post(target.path.as_str())
        .header("host", target.authority.as_str())
        .header("content-type", "application/json")
        .header("x-pusher-key", cfg.key.as_str())
        .header("x-pusher-signature", signature)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let res = tokio::time::timeout(Duration::from_secs(10), sender.send_request(req))
        .await
        .map_err(|_| "no answer within 10 s".to_owned())?
        .map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let _ = res.into_body().collect().await;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_with_a_port() {
        let t = Target::parse("http://127.0.0.1:9000/hooks").unwrap();
        assert_eq!(
            (t.authority.as_str(), t.path.as_str()),
            ("127.0.0.1:9000", "/hooks")
        );
        assert_eq!(
            Target::parse("http://localhost").unwrap().authority,
            "localhost:80"
        );
        assert!(Target::parse("https://x/").is_err());
        assert!(Target::parse("http:///x").is_err());
    }

    #[test]
    fn bodies_carry_every_event_with_pusher_field_names() {
        let b = body(&[
            HookEvent::channel("channel_occupied", "a"),
            HookEvent::client_event("private-a", "client-x", "{}", "1.2", Some("u")),
        ]);
        let v: Value = serde_json::from_str(&b).unwrap();
        assert!(v["time_ms"].as_u64().unwrap() > 1_600_000_000_000);
        assert_eq!(
            v["events"][0],
            json!({"name":"channel_occupied","channel":"a"})
        );
        assert_eq!(v["events"][1]["user_id"], "u");
        assert_eq!(v["events"][1]["socket_id"], "1.2");
    }
}
