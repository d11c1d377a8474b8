//! JSON output lines (escaping through the core's encoder).

use pusher_core::Writer;
use pusher_core::wire::json::write_string;
use pusher_std::client_error::ClientError;
use pusher_std::connect_error::ConnectError;
use pusher_std::pusher::EventData;
use pusher_std::rest::WebhookEvent;

fn object(fields: &[(&str, Option<&str>)]) -> String {
    let size: usize = fields
        .iter()
        .map(|(k, v)| k.len() + v.map_or(4, |v| v.len() * 6 + 2) + 4)
        .sum::<usize>()
        + 2;
    let mut buf = vec![0u8; size];
    let mut w = Writer::new(&mut buf);
    w.push_byte(b'{');
    let mut first = true;
    for (k, v) in fields {
        let Some(v) = v else { continue };
        if !first {
            w.push_byte(b',');
        }
        first = false;
        write_string(&mut w, k);
        w.push_byte(b':');
        write_string(&mut w, v);
    }
    w.push_byte(b'}');
    let n = w.len();
    buf.truncate(n);
    String::from_utf8(buf).unwrap_or_default()
}

/// `{"event":..,"channel":..,"data":..,"user_id":..}` for one received event.
pub fn event_line(e: &EventData<'_>) -> String {
    object(&[
        ("event", Some(e.event)),
        ("channel", e.channel),
        ("data", e.data),
        ("user_id", e.user_id),
    ])
}

/// One webhook event.
pub fn webhook_line(e: &WebhookEvent) -> String {
    object(&[
        ("name", Some(e.name.as_str())),
        ("channel", e.channel.as_deref()),
        ("event", e.event.as_deref()),
        ("data", e.data.as_deref()),
        ("socket_id", e.socket_id.as_deref()),
        ("user_id", e.user_id.as_deref()),
        (
            "subscription_count",
            e.subscription_count.map(|n| n.to_string()).as_deref(),
        ),
    ])
}

/// `{"event":"pusher:state_change","data":{"previous":..,"current":..}}`, as pusher-js's
/// `connection.bind("state_change")` sees it.
pub fn state_line(previous: &str, current: &str) -> String {
    let data = serde_json::json!({"previous": previous, "current": current});
    format!(r#"{{"event":"pusher:state_change","data":{data}}}"#)
}

/// `{"event":"pusher:error","data":{"type":..,"message":..,...}}`: the typed failure, its
/// code, status, channel and retry decision where it has them, and its message.
pub fn error_line(e: &ClientError) -> String {
    use serde_json::{Value, json};
    let retry = |r: &Option<std::time::Duration>| {
        r.map_or(Value::Null, |d| {
            json!(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        })
    };
    let mut data = match e {
        ClientError::Server { code, .. } => json!({"type": "ServerError", "code": code}),
        ClientError::SubscriptionRefused { channel, status } => {
            json!({"type": "SubscriptionRefused", "channel": channel, "status": status})
        }
        ClientError::Auth { channel, failure } => {
            json!({"type": "AuthError", "channel": channel, "status": failure.status})
        }
        ClientError::Connect { cause, retry_in } => {
            let kind = match cause {
                ConnectError::Dns { .. } => "dns",
                ConnectError::Refused { .. } => "refused",
                ConnectError::Timeout { .. } => "timeout",
                ConnectError::Certificate(_) => "certificate",
                ConnectError::Tls(_) => "tls",
                _ => "io",
            };
            json!({"type": "ConnectError", "cause": kind, "retry_in_ms": retry(retry_in)})
        }
        ClientError::Disconnected { problem, retry_in } => {
            let code = match problem {
                pusher_core::client::Problem::Closed(c) => json!(c),
                _ => Value::Null,
            };
            json!({"type": "Disconnected", "code": code, "retry_in_ms": retry(retry_in)})
        }
        ClientError::GaveUp => json!({"type": "GaveUp"}),
        _ => json!({"type": "Other"}),
    };
    data["message"] = json!(e.to_string());
    format!(r#"{{"event":"pusher:error","data":{data}}}"#)
}
