//! Webhook verification and parsing.
//!
//! A webhook is a `POST` whose `X-Pusher-Key` names the app key and whose `X-Pusher-Signature`
//! is hex HMAC-SHA256 of the raw body with the app secret. Verification compares in constant
//! time and treats a malformed signature as a failure, never a panic.

use core::fmt;

use crate::auth::Credentials;
use crate::wire::json::{JsonError, Kind, RawStr, Value};

/// Why a webhook was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WebhookError {
    /// `X-Pusher-Key` is not this app's key.
    KeyMismatch,
    /// `X-Pusher-Signature` is not 64 hex digits.
    MalformedSignature,
    /// The signature does not match the body.
    BadSignature,
    /// The body is not JSON.
    Json(JsonError),
    /// The body lacks `time_ms` or `events`, or an event lacks `name`.
    Schema(&'static str),
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookError::KeyMismatch => f.write_str("X-Pusher-Key does not match the app key"),
            WebhookError::MalformedSignature => {
                f.write_str("X-Pusher-Signature is not 64 hex digits")
            }
            WebhookError::BadSignature => f.write_str("X-Pusher-Signature does not match the body"),
            WebhookError::Json(e) => write!(f, "webhook body is not JSON: {e}"),
            WebhookError::Schema(field) => {
                write!(f, "webhook field `{field}` missing or of the wrong type")
            }
        }
    }
}

impl core::error::Error for WebhookError {}

/// Checks the key and signature headers against the raw body.
pub fn verify(
    creds: &Credentials<'_>,
    key_header: &str,
    signature_header: &str,
    body: &[u8],
) -> Result<(), WebhookError> {
    if key_header.trim_ascii() != creds.key() {
        return Err(WebhookError::KeyMismatch);
    }
    let sig = signature_header.trim_ascii().as_bytes();
    if sig.len() != 64 || !sig.iter().all(u8::is_ascii_hexdigit) {
        return Err(WebhookError::MalformedSignature);
    }
    if creds.verify_hex(&[body], sig) {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

/// A parsed webhook body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Webhook<'a> {
    /// When Pusher sent it, Unix milliseconds.
    pub time_ms: u64,
    events: Value<'a>,
}

/// One event of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WebhookEvent<'a> {
    /// `channel_occupied`, `channel_vacated`, `member_added`, `member_removed`, `client_event`,
    /// `cache_miss`, `subscription_count`.
    pub name: RawStr<'a>,
    /// The channel.
    pub channel: Option<RawStr<'a>>,
    /// Client event name (`client_event`).
    pub event: Option<RawStr<'a>>,
    /// Client event data, a string (`client_event`).
    pub data: Option<RawStr<'a>>,
    /// Sender socket (`client_event`).
    pub socket_id: Option<RawStr<'a>>,
    /// User (`member_*`, presence `client_event`).
    pub user_id: Option<RawStr<'a>>,
    /// Subscribers (`subscription_count`).
    pub subscription_count: Option<u64>,
}

impl<'a> Webhook<'a> {
    /// Parses a body (verify it first).
    pub fn parse(body: &'a str) -> Result<Webhook<'a>, WebhookError> {
        let v = Value::parse(body).map_err(WebhookError::Json)?;
        let time_ms = v
            .get("time_ms")
            .and_then(|t| t.as_u64())
            .ok_or(WebhookError::Schema("time_ms"))?;
        let events = v
            .get("events")
            .filter(|e| e.kind() == Kind::Array)
            .ok_or(WebhookError::Schema("events"))?;
        Ok(Webhook { time_ms, events })
    }

    /// The events, in order.
    pub fn events(&self) -> impl Iterator<Item = Result<WebhookEvent<'a>, WebhookError>> + 'a {
        self.events.array().into_iter().flatten().map(|e| {
            let e = e.map_err(WebhookError::Json)?;
            if e.kind() != Kind::Object {
                return Err(WebhookError::Schema("events"));
            }
            let s = |k: &str| e.get(k).and_then(|v| v.as_raw_str());
            Ok(WebhookEvent {
                name: s("name").ok_or(WebhookError::Schema("name"))?,
                channel: s("channel"),
                event: s("event"),
                data: s("data"),
                socket_id: s("socket_id"),
                user_id: s("user_id"),
                subscription_count: e.get("subscription_count").and_then(|v| v.as_u64()),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_headers() {
        let c = Credentials::new("key", "secret");
        let body = br#"{"hello":"world"}"#;
        let good = "2677ad3e7c090b2fa2c0fb13020d66d5420879b8316eb356a2d60fb9073bc778";
        assert_eq!(verify(&c, "key", good, body), Ok(()));
        assert_eq!(
            verify(&c, "other", good, body),
            Err(WebhookError::KeyMismatch)
        );
        assert_eq!(
            verify(&c, "key", "abc", body),
            Err(WebhookError::MalformedSignature)
        );
        assert_eq!(
            verify(&c, "key", &"g".repeat(64), body),
            Err(WebhookError::MalformedSignature)
        );
        assert_eq!(
            verify(&c, "key", &"é".repeat(32), body),
            Err(WebhookError::MalformedSignature)
        );
        assert_eq!(
            verify(&c, "key", &"0".repeat(64), body),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(&c, "key", good, b"{\"hello\":\"world\"} "),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn parses_events() {
        let body = r#"{"time_ms":1427233518933,"events":[{"name":"client_event","channel":"private-channel","event":"client-yolo","data":"{\"yolo\":\"woot\"}","socket_id":"44610.7511910"}]}"#;
        let w = Webhook::parse(body).unwrap();
        assert_eq!(w.time_ms, 1427233518933);
        let evs: std::vec::Vec<_> = w.events().collect::<Result<_, _>>().unwrap();
        assert_eq!(evs.len(), 1);
        let e = evs[0];
        assert!(e.name.eq_str("client_event") && e.event.unwrap().eq_str("client-yolo"));
        assert!(e.data.unwrap().eq_str(r#"{"yolo":"woot"}"#));
        assert!(e.socket_id.unwrap().eq_str("44610.7511910"));
        assert_eq!(
            Webhook::parse(r#"{"events":[]}"#),
            Err(WebhookError::Schema("time_ms"))
        );
        assert!(matches!(Webhook::parse("{"), Err(WebhookError::Json(_))));
        let w = Webhook::parse(r#"{"time_ms":1,"events":[{"channel":"x"}]}"#).unwrap();
        assert_eq!(w.events().next(), Some(Err(WebhookError::Schema("name"))));
    }
}
