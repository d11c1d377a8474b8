//! Server frames, encoded once: a Pusher message is written by the core's encoders straight
//! into its WebSocket frame, so fanning it out to many subscribers is a reference-count bump.

use bytes::Bytes;
use pusher_core::server::reply::{self, HeartbeatData, MemberEntry, Payload};
use pusher_core::wire::ws::CloseFrame;
use pusher_core::wire::ws::{MAX_HEADER_LEN, Opcode, emit_close, emit_frame, emit_header};

use crate::config::Compat;

/// Encodes a text message with `write` (given room for `estimate` bytes, doubled until it
/// fits) and frames it, unmasked, as a server sends it.
fn text(estimate: usize, mut write: impl FnMut(&mut [u8]) -> Option<usize>) -> Bytes {
    let mut cap = estimate.max(64);
    loop {
        let mut buf = vec![0u8; MAX_HEADER_LEN + cap];
        if let Some(len) = write(&mut buf[MAX_HEADER_LEN..]) {
            let mut head = [0u8; MAX_HEADER_LEN];
            let hl = emit_header(&mut head, true, Opcode::Text, len as u64, None)
                .unwrap_or(MAX_HEADER_LEN);
            let start = MAX_HEADER_LEN - hl;
            buf[start..MAX_HEADER_LEN].copy_from_slice(&head[..hl]);
            buf.truncate(MAX_HEADER_LEN + len);
            return Bytes::from(buf).slice(start..);
        }
        cap = cap.saturating_mul(2);
    }
}

/// Room for a JSON string of `n` bytes once escaped (control bytes take six), twice over.
fn escaped(n: usize) -> usize {
    n.saturating_mul(6)
}

/// A channel event, with `data` sent as the string the publisher gave.
pub fn event(channel: &str, event: &str, data: &str, user_id: Option<&str>) -> Bytes {
    let estimate = 96
        + escaped(channel.len() + event.len() + user_id.map_or(0, str::len))
        + data.len()
        + data.len() / 4;
    text(estimate, |out| {
        reply::event(
            out,
            event,
            Some(channel),
            Some(Payload::Text(data)),
            user_id,
        )
        .ok()
    })
}

/// `pusher:connection_established`.
pub fn connection_established(socket_id: &str, activity_timeout: u32) -> Bytes {
    text(160, |out| {
        let id = pusher_core::name::SocketId::new(socket_id).ok()?;
        reply::connection_established(out, id, activity_timeout).ok()
    })
}

/// `pusher:error` in the compat mode's form (Reverb sends `data` as a string).
pub fn error(compat: Compat, code: Option<u16>, message: &str) -> Bytes {
    text(96 + escaped(message.len()) * 2, |out| match compat {
        Compat::Reverb => reply::error_as_string(out, code, message).ok(),
        _ => reply::error(out, code, message).ok(),
    })
}

/// `pusher:ping` or `pusher:pong` with the mode's `data`.
pub fn heartbeat(compat: Compat, pong: bool) -> Bytes {
    let data = match compat {
        Compat::Pusher => HeartbeatData::String,
        Compat::Soketi => HeartbeatData::Object,
        Compat::Reverb => HeartbeatData::Absent,
    };
    text(64, |out| reply::heartbeat(out, pong, data).ok())
}

/// `pusher_internal:subscription_succeeded` for a channel without members.
pub fn subscribed(channel: &str) -> Bytes {
    text(96 + escaped(channel.len()), |out| {
        reply::subscription_succeeded(out, channel).ok()
    })
}

/// `pusher_internal:subscription_succeeded` for a presence channel.
pub fn presence_subscribed<'m>(
    channel: &str,
    members: impl Iterator<Item = MemberEntry<'m>> + Clone,
    omit_bare: bool,
) -> Bytes {
    let size: usize = members
        .clone()
        .map(|m| 16 + 2 * m.id.len() + m.info.map_or(4, str::len))
        .sum();
    text(160 + escaped(channel.len()) + escaped(size), |out| {
        reply::presence_succeeded(out, channel, members.clone(), omit_bare).ok()
    })
}

/// `pusher_internal:member_added`.
pub fn member_added(channel: &str, member: MemberEntry<'_>) -> Bytes {
    let size = member.id.len() + member.info.map_or(0, str::len);
    text(128 + escaped(channel.len() + size), |out| {
        reply::member_added(out, channel, member).ok()
    })
}

/// `pusher_internal:member_removed`.
pub fn member_removed(channel: &str, id: &str) -> Bytes {
    text(128 + escaped(channel.len() + id.len()), |out| {
        reply::member_removed(out, channel, id).ok()
    })
}

/// `pusher_internal:subscription_count`.
pub fn subscription_count(channel: &str, count: u64) -> Bytes {
    text(128 + escaped(channel.len()), |out| {
        reply::subscription_count(out, channel, count).ok()
    })
}

/// `pusher:cache_miss`.
pub fn cache_miss(channel: &str) -> Bytes {
    text(96 + escaped(channel.len()), |out| {
        reply::cache_miss(out, channel).ok()
    })
}

/// `pusher:signin_success`.
pub fn signin_success(user_data: &str) -> Bytes {
    text(96 + escaped(user_data.len()) * 2, |out| {
        reply::signin_success(out, user_data).ok()
    })
}

/// `pusher_internal:watchlist_events` with one `online` or `offline` entry.
pub fn watchlist(name: &str, ids: &[String]) -> Bytes {
    let size: usize = ids.iter().map(|i| 8 + 2 * i.len()).sum();
    text(128 + escaped(size), |out| {
        reply::watchlist_event(out, name, ids.iter().map(String::as_str)).ok()
    })
}

/// A close frame with `code` and `reason`.
pub fn close(code: u16, reason: &str) -> Bytes {
    let mut buf = [0u8; MAX_HEADER_LEN + 125];
    let n = emit_close(&mut buf, Some(CloseFrame { code, reason }), None).unwrap_or(0);
    Bytes::copy_from_slice(&buf[..n])
}

/// A control frame (ping or pong) carrying `payload` (at most 125 bytes).
pub fn control(opcode: Opcode, payload: &[u8]) -> Bytes {
    let mut buf = [0u8; MAX_HEADER_LEN + 125];
    let payload = &payload[..payload.len().min(125)];
    let n = emit_frame(&mut buf, true, opcode, payload, None).unwrap_or(0);
    Bytes::copy_from_slice(&buf[..n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use pusher_core::wire::ws::{Message, Reader, Role};

    fn read_back(frame: &[u8]) -> String {
        let mut r = Reader::new(vec![0u8; frame.len() + 16], Role::Client, 1 << 20);
        assert_eq!(r.feed(frame), frame.len());
        match r.read().unwrap() {
            Some(Message::Text(t)) => t.to_owned(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn frames_carry_the_encoded_message_whatever_its_size() {
        let data = "x\u{1}\"".repeat(30_000);
        let f = event("ch", "ev", &data, None);
        let text = read_back(&f);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["data"].as_str().unwrap(), data);
        assert_eq!(
            read_back(&event("ch", "ev", "{}", Some("u1"))),
            r#"{"event":"ev","channel":"ch","data":"{}","user_id":"u1"}"#
        );
    }

    #[test]
    fn errors_follow_the_compat_mode() {
        let object = read_back(&error(Compat::Pusher, Some(4001), "no"));
        assert_eq!(
            object,
            r#"{"event":"pusher:error","data":{"code":4001,"message":"no"}}"#
        );
        let string = read_back(&error(Compat::Reverb, Some(4200), "no"));
        let v: serde_json::Value = serde_json::from_str(&string).unwrap();
        assert!(v["data"].is_string(), "{string}");
        assert_eq!(
            read_back(&heartbeat(Compat::Reverb, true)),
            r#"{"event":"pusher:pong"}"#
        );
    }
}
