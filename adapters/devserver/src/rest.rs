//! The REST API: every request's signature checked by the core (`auth_key`, the 600 s
//! window, `body_md5`, `auth_signature`), then events, batches, channel and user queries and
//! terminating a user's connections, with Pusher's limits and status codes.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use pusher_core::auth::Credentials;
use pusher_core::name::{ChannelKind, ChannelName, SocketId};
use pusher_core::server::{RestRequest, verify_rest};
use serde_json::{Map, Value, json};

use crate::Shared;
use crate::activity::Activity;
use crate::hub::{Hub, MAX_CHANNEL_NAME, MAX_EVENT_DATA};

/// Pusher's limits on one trigger and one batch.
const MAX_CHANNELS: usize = 100;
const MAX_BATCH: usize = 10;
const MAX_EVENT_NAME: usize = 200;

/// A refused request: its status and plain-text body.
#[derive(Debug)]
struct Failure(StatusCode, String);

fn bad(message: impl Into<String>) -> Failure {
    Failure(StatusCode::BAD_REQUEST, message.into())
}

type Answer = Result<Value, Failure>;

/// Answers one REST request.
pub async fn handle(req: Request<Incoming>, shared: Arc<Shared>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    if path == "/" && method == Method::GET {
        return reply(StatusCode::OK, "OK".into(), "text/plain");
    }
    let query = req.uri().query().unwrap_or("").to_owned();
    let body = Limited::new(req.into_body(), shared.cfg.max_body)
        .collect()
        .await;
    let answer = match body {
        Ok(b) => answer(&shared, &method, &path, &query, &b.to_bytes()),
        Err(_) => Err(Failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body over the {} byte limit", shared.cfg.max_body),
        )),
    };
    let (status, text, error) = match answer {
        Ok(v) => (StatusCode::OK, v.to_string(), None),
        Err(Failure(status, message)) => (status, message.clone(), Some(message)),
    };
    shared.observe(Activity::Rest {
        method: method.to_string(),
        path,
        status: status.as_u16(),
        error: error.clone(),
    });
    let kind = if error.is_some() {
        "text/plain"
    } else {
        "application/json"
    };
    reply(status, text, kind)
}

fn reply(status: StatusCode, body: String, kind: &str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = status;
    if let Ok(v) = kind.parse() {
        res.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    res
}

fn answer(shared: &Shared, method: &Method, path: &str, query: &str, body: &[u8]) -> Answer {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let route: &[&str] = match segments.as_slice() {
        ["apps", app, rest @ ..] => {
            if *app != shared.cfg.app_id {
                return Err(Failure(StatusCode::NOT_FOUND, format!("Unknown app {app}")));
            }
            rest
        }
        // The official Python library posts here, without `/apps/{id}` (protocol.md 6).
        ["users", _, "terminate_connections"] => &segments,
        _ => return Err(Failure(StatusCode::NOT_FOUND, format!("Not found: {path}"))),
    };
    let params = verify(shared, method, path, query, body)?;
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut hub = shared.hub();
    match (method, route) {
        (&Method::POST, ["events"]) => events(&mut hub, &json_body(body)?),
        (&Method::POST, ["batch_events"]) => batch(&mut hub, &json_body(body)?),
        (&Method::GET, ["channels"]) => channels(&hub, param("filter_by_prefix"), param("info")),
        (&Method::GET, ["channels", name]) => channel(&hub, &decode(name)?, param("info")),
        (&Method::GET, ["channels", name, "users"]) => users(&hub, &decode(name)?),
        (&Method::POST, ["users", user, "terminate_connections"]) => {
            hub.terminate(&decode(user)?);
            Ok(json!({}))
        }
        (_, ["events" | "batch_events" | "channels" | "users", ..]) => Err(Failure(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed on {path}"),
        )),
        _ => Err(Failure(StatusCode::NOT_FOUND, format!("Not found: {path}"))),
    }
}

/// Checks the signature; returns the other query parameters.
fn verify(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: &str,
    body: &[u8],
) -> Result<Vec<(String, String)>, Failure> {
    let creds = Credentials::new(&shared.cfg.key, &shared.cfg.secret);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let req = RestRequest {
        method: method.as_str(),
        path,
        query,
        body,
    };
    let mut scratch = vec![0u8; query.len() + path.len() + 256];
    match verify_rest::<32>(&creds, &req, now, &mut scratch) {
        Ok(q) => Ok(q
            .params()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()),
        Err(refusal) => Err(Failure(
            StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST),
            refusal.to_string(),
        )),
    }
}

fn json_body(body: &[u8]) -> Result<Value, Failure> {
    serde_json::from_slice(body).map_err(|e| bad(format!("Invalid JSON body: {e}")))
}

fn decode(segment: &str) -> Result<String, Failure> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| bad(format!("Invalid percent-encoding in {segment}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad(format!("Invalid UTF-8 in {segment}")))
}

/// One event to publish, checked.
struct Trigger<'a> {
    name: &'a str,
    data: &'a str,
    channels: Vec<&'a str>,
    socket_id: Option<&'a str>,
    info: Option<&'a str>,
}

fn parse_trigger(v: &Value, batch: bool) -> Result<Trigger<'_>, Failure> {
    let name = v["name"]
        .as_str()
        .ok_or_else(|| bad("Missing event name"))?;
    if name.is_empty() || name.len() > MAX_EVENT_NAME {
        return Err(bad(format!(
            "Event name must be 1 to {MAX_EVENT_NAME} characters"
        )));
    }
    let data = match &v["data"] {
        Value::String(s) => s.as_str(),
        Value::Null => return Err(bad("Missing data")),
        _ => return Err(bad("data must be a string (encode JSON data as a string)")),
    };
    if data.len() > MAX_EVENT_DATA {
        return Err(Failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Event data is {} bytes, over the {MAX_EVENT_DATA} byte limit",
                data.len()
            ),
        ));
    }
    let channels: Vec<&str> = match (&v["channels"], &v["channel"]) {
        (Value::Array(list), _) if !batch => list
            .iter()
            .map(|c| c.as_str().ok_or_else(|| bad("channels must be strings")))
            .collect::<Result<_, _>>()?,
        (_, Value::String(c)) => vec![c.as_str()],
        _ => return Err(bad("Missing channels")),
    };
    if channels.is_empty() || channels.len() > MAX_CHANNELS {
        return Err(bad(format!(
            "An event goes to 1 to {MAX_CHANNELS} channels"
        )));
    }
    for c in &channels {
        let name = ChannelName::with_max_len(c, MAX_CHANNEL_NAME)
            .map_err(|e| bad(format!("Invalid channel name {c:?}: {e}")))?;
        if name.kind().is_encrypted() && channels.len() > 1 {
            return Err(bad(
                "An event to an encrypted channel must go to that channel only",
            ));
        }
    }
    let socket_id = match &v["socket_id"] {
        Value::Null => None,
        Value::String(s) => {
            SocketId::new(s).map_err(|e| bad(format!("Invalid socket_id {s:?}: {e}")))?;
            Some(s.as_str())
        }
        _ => return Err(bad("socket_id must be a string")),
    };
    Ok(Trigger {
        name,
        data,
        channels,
        socket_id,
        info: v["info"].as_str(),
    })
}

fn publish(hub: &mut Hub, t: &Trigger<'_>) {
    for c in &t.channels {
        hub.publish(c, t.name, t.data, t.socket_id);
    }
}

/// The `info` attributes asked for, for one channel.
fn attributes(hub: &Hub, channel: &str, info: &str) -> Value {
    let state = hub.channel_info(channel);
    let mut m = Map::new();
    for attr in info.split(',').map(str::trim) {
        match attr {
            "user_count" => {
                if let Some(n) = state.user_count {
                    m.insert("user_count".into(), n.into());
                }
            }
            "subscription_count" => {
                m.insert("subscription_count".into(), state.subscription_count.into());
            }
            _ => {}
        }
    }
    Value::Object(m)
}

fn events(hub: &mut Hub, body: &Value) -> Answer {
    let t = parse_trigger(body, false)?;
    publish(hub, &t);
    Ok(match t.info {
        None => json!({}),
        Some(info) => {
            let channels: Map<String, Value> = t
                .channels
                .iter()
                .map(|c| ((*c).to_owned(), attributes(hub, c, info)))
                .collect();
            json!({ "channels": channels })
        }
    })
}

fn batch(hub: &mut Hub, body: &Value) -> Answer {
    let list = body["batch"]
        .as_array()
        .ok_or_else(|| bad("Missing batch"))?;
    if list.len() > MAX_BATCH {
        return Err(bad(format!(
            "Batch of {} events is over the limit of {MAX_BATCH}",
            list.len()
        )));
    }
    let triggers: Vec<Trigger<'_>> = list
        .iter()
        .map(|v| parse_trigger(v, true))
        .collect::<Result<_, _>>()?;
    for t in &triggers {
        publish(hub, t);
    }
    if triggers.iter().all(|t| t.info.is_none()) {
        return Ok(json!({}));
    }
    let infos: Vec<Value> = triggers
        .iter()
        .map(|t| {
            t.info
                .map_or(json!({}), |i| attributes(hub, t.channels[0], i))
        })
        .collect();
    Ok(json!({ "batch": infos }))
}

fn channels(hub: &Hub, prefix: Option<&str>, info: Option<&str>) -> Answer {
    let prefix = prefix.unwrap_or("");
    let info = info.unwrap_or("");
    if info.split(',').any(|a| a.trim() == "user_count") && !prefix.starts_with("presence-") {
        return Err(bad(
            "user_count may only be requested for presence channels (filter_by_prefix=presence-)",
        ));
    }
    let list: Map<String, Value> = hub
        .occupied(prefix)
        .into_iter()
        .map(|c| {
            let attrs = attributes(hub, &c.name, info);
            (c.name, attrs)
        })
        .collect();
    Ok(json!({ "channels": list }))
}

fn channel(hub: &Hub, name: &str, info: Option<&str>) -> Answer {
    let kind = ChannelName::new(name)
        .map_err(|e| bad(format!("Invalid channel name {name:?}: {e}")))?
        .kind();
    let state = hub.channel_info(name);
    let mut m = Map::new();
    m.insert("occupied".into(), (state.subscription_count > 0).into());
    for attr in info
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        match attr {
            "user_count" if kind.is_presence() => {
                m.insert("user_count".into(), state.user_count.unwrap_or(0).into());
            }
            "user_count" => return Err(bad("user_count is only available for presence channels")),
            "subscription_count" => {
                m.insert("subscription_count".into(), state.subscription_count.into());
            }
            "cache" if kind.is_cache() => {
                if let Some((data, ttl)) = &state.cache {
                    m.insert("cache".into(), json!({ "data": data, "ttl": ttl }));
                }
            }
            "cache" => return Err(bad("cache is only available for cache channels")),
            other => return Err(bad(format!("Unknown info attribute {other:?}"))),
        }
    }
    Ok(Value::Object(m))
}

fn users(hub: &Hub, name: &str) -> Answer {
    if !ChannelKind::of(name).is_presence() {
        return Err(bad("Users can only be retrieved for presence channels"));
    }
    let users: Vec<Value> = hub
        .members(name)
        .iter()
        .map(|id| json!({ "id": crate::hub::plain(id) }))
        .collect();
    Ok(json!({ "users": users }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_are_checked_against_pushers_limits() {
        let ok = json!({"name":"e","data":"{}","channels":["a","b"],"socket_id":"1.2"});
        assert_eq!(parse_trigger(&ok, false).unwrap().channels, ["a", "b"]);
        let cases = [
            (json!({"data":"x","channel":"a"}), 400),
            (json!({"name":"e","data":{"a":1},"channel":"a"}), 400),
            (
                json!({"name":"e","data":"x".repeat(10_241),"channel":"a"}),
                413,
            ),
            (json!({"name":"e","data":"x","channels":[]}), 400),
            (
                json!({"name":"e","data":"x","channels":vec!["a"; 101]}),
                400,
            ),
            (json!({"name":"e","data":"x","channel":"a:b"}), 400),
            (
                json!({"name":"e","data":"x","channel":"c".repeat(165)}),
                400,
            ),
            (
                json!({"name":"e","data":"x","channels":["private-encrypted-a","b"]}),
                400,
            ),
            (
                json!({"name":"e","data":"x","channel":"a","socket_id":"1.2\n"}),
                400,
            ),
        ];
        for (body, status) in cases {
            let err = parse_trigger(&body, false)
                .err()
                .unwrap_or_else(|| panic!("{body}"));
            assert_eq!(err.0.as_u16(), status, "{body}: {}", err.1);
        }
        assert_eq!(
            parse_trigger(
                &json!({"name":"e","data":"x".repeat(10_240),"channel":"a"}),
                false
            )
            .unwrap()
            .data
            .len(),
            10_240
        );
    }

    #[test]
    fn path_segments_are_percent_decoded() {
        assert_eq!(decode("%23server-to-user-1").unwrap(), "#server-to-user-1");
        assert!(decode("%zz").is_err());
    }
}
