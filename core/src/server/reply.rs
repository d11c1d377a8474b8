//! Every message a server sends, written into caller buffers. `data` is double-encoded (a JSON
//! string holding JSON) as Pusher sends it; the quirks of other servers are options here so a
//! dev server can imitate them.

use crate::buf::{BufferTooSmall, Writer};
use crate::wire::json::{write_escaped, write_string};
pub use crate::wire::message::server::{connection_established, error, event};
pub use crate::wire::message::{EncodeError, Payload};

/// Writes `{"event":"<event>"[,"channel":"<channel>"],"data":"` and returns the writer, ready
/// for the inner JSON, which goes through [`inner`] (escaped once more).
fn open<'o>(out: &'o mut [u8], event: &str, channel: Option<&str>) -> Writer<'o> {
    let mut w = Writer::new(out);
    w.push_str(r#"{"event":"#);
    write_string(&mut w, event);
    if let Some(c) = channel {
        w.push_str(r#","channel":"#);
        write_string(&mut w, c);
    }
    w.push_str(r#","data":""#);
    w
}

/// Inner JSON text, escaped for the outer string.
fn inner(w: &mut Writer<'_>, json: &str) {
    write_escaped(w, json);
}

fn close(mut w: Writer<'_>) -> Result<usize, BufferTooSmall> {
    w.push_str(r#""}"#);
    w.finish_len()
}

/// `pusher:ping` or `pusher:pong`, with `data` as Pusher (`"{}"`), soketi (`{}`) or Reverb
/// (absent) sends it.
pub fn heartbeat(out: &mut [u8], pong: bool, data: HeartbeatData) -> Result<usize, BufferTooSmall> {
    let mut w = Writer::new(out);
    w.push_str(if pong {
        r#"{"event":"pusher:pong""#
    } else {
        r#"{"event":"pusher:ping""#
    });
    match data {
        HeartbeatData::String => w.push_str(r#","data":"{}""#),
        HeartbeatData::Object => w.push_str(r#","data":{}"#),
        HeartbeatData::Absent => {}
    }
    w.push_byte(b'}');
    w.finish_len()
}

/// How a ping or pong carries its empty `data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HeartbeatData {
    /// `"data":"{}"` (Pusher).
    String,
    /// `"data":{}` (soketi).
    Object,
    /// No `data` (Reverb).
    Absent,
}

/// `pusher:error` with `data` as a JSON string (Laravel Reverb's form; Pusher sends an object,
/// see [`error`]).
pub fn error_as_string(
    out: &mut [u8],
    code: Option<u16>,
    message: &str,
) -> Result<usize, BufferTooSmall> {
    let mut w = open(out, "pusher:error", None);
    inner(&mut w, r#"{"code":"#);
    match code {
        Some(c) => w.push_u64(u64::from(c)),
        None => w.push_str("null"),
    }
    inner(&mut w, r#","message":""#);
    // Escaped twice: once for the inner JSON string, once for the outer one.
    let mut tmp = [0u8; 8];
    for ch in message.chars() {
        let mut one = Writer::new(&mut tmp);
        write_escaped(&mut one, ch.encode_utf8(&mut [0u8; 4]));
        if let Ok(bytes) = one.finish() {
            inner(&mut w, core::str::from_utf8(bytes).unwrap_or(""));
        }
    }
    inner(&mut w, r#""}"#);
    close(w)
}

/// `pusher_internal:subscription_succeeded` for a channel that is not a presence channel.
pub fn subscription_succeeded(out: &mut [u8], channel: &str) -> Result<usize, BufferTooSmall> {
    let mut w = open(out, "pusher_internal:subscription_succeeded", Some(channel));
    inner(&mut w, "{}");
    close(w)
}

/// One presence member as its `channel_data` gave it: `id` is a JSON string's raw (escaped)
/// contents or a number's digits, `info` is JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MemberEntry<'a> {
    /// The user id, as it appears between the quotes of a JSON string.
    pub id: &'a str,
    /// `user_info` as JSON text, if any.
    pub info: Option<&'a str>,
}

/// `pusher_internal:subscription_succeeded` for a presence channel:
/// `{"presence":{"ids":[..],"hash":{id: info},"count":n}}`. With `omit_bare`, members without
/// `user_info` are left out of `hash` (as soketi does); otherwise they map to `null`.
pub fn presence_succeeded<'m>(
    out: &mut [u8],
    channel: &str,
    members: impl Iterator<Item = MemberEntry<'m>> + Clone,
    omit_bare: bool,
) -> Result<usize, BufferTooSmall> {
    let mut w = open(out, "pusher_internal:subscription_succeeded", Some(channel));
    inner(&mut w, r#"{"presence":{"ids":["#);
    let mut count = 0u64;
    for (k, m) in members.clone().enumerate() {
        if k > 0 {
            inner(&mut w, ",");
        }
        quoted_id(&mut w, m.id);
        count += 1;
    }
    inner(&mut w, r#"],"hash":{"#);
    let mut first = true;
    for m in members {
        if omit_bare && m.info.is_none() {
            continue;
        }
        if !first {
            inner(&mut w, ",");
        }
        first = false;
        quoted_id(&mut w, m.id);
        inner(&mut w, ":");
        inner(&mut w, m.info.unwrap_or("null"));
    }
    inner(&mut w, r#"},"count":"#);
    w.push_u64(count);
    inner(&mut w, "}}");
    close(w)
}

fn quoted_id(w: &mut Writer<'_>, id: &str) {
    inner(w, "\"");
    inner(w, id);
    inner(w, "\"");
}

/// `pusher_internal:member_added`.
pub fn member_added(
    out: &mut [u8],
    channel: &str,
    member: MemberEntry<'_>,
) -> Result<usize, BufferTooSmall> {
    let mut w = open(out, "pusher_internal:member_added", Some(channel));
    inner(&mut w, r#"{"user_id":"#);
    quoted_id(&mut w, member.id);
    if let Some(info) = member.info {
        inner(&mut w, r#","user_info":"#);
        inner(&mut w, info);
    }
    inner(&mut w, "}");
    close(w)
}

/// `pusher_internal:member_removed`.
pub fn member_removed(out: &mut [u8], channel: &str, id: &str) -> Result<usize, BufferTooSmall> {
    let mut w = open(out, "pusher_internal:member_removed", Some(channel));
    inner(&mut w, r#"{"user_id":"#);
    quoted_id(&mut w, id);
    inner(&mut w, "}");
    close(w)
}

/// `pusher_internal:subscription_count`.
pub fn subscription_count(
    out: &mut [u8],
    channel: &str,
    count: u64,
) -> Result<usize, BufferTooSmall> {
    let mut w = open(out, "pusher_internal:subscription_count", Some(channel));
    inner(&mut w, r#"{"subscription_count":"#);
    w.push_u64(count);
    inner(&mut w, "}");
    close(w)
}

/// `pusher:cache_miss` on a cache channel with nothing cached.
pub fn cache_miss(out: &mut [u8], channel: &str) -> Result<usize, BufferTooSmall> {
    let mut w = open(out, "pusher:cache_miss", Some(channel));
    inner(&mut w, "{}");
    close(w)
}

/// `pusher:signin_success` carrying the `user_data` that was signed.
pub fn signin_success(out: &mut [u8], user_data: &str) -> Result<usize, BufferTooSmall> {
    let mut w = open(out, "pusher:signin_success", None);
    inner(&mut w, r#"{"user_data":""#);
    // `user_data` is a string inside the inner JSON: escaped for it, then for the outer one.
    let mut tmp = [0u8; 8];
    for ch in user_data.chars() {
        let mut one = Writer::new(&mut tmp);
        write_escaped(&mut one, ch.encode_utf8(&mut [0u8; 4]));
        if let Ok(bytes) = one.finish() {
            inner(&mut w, core::str::from_utf8(bytes).unwrap_or(""));
        }
    }
    inner(&mut w, r#""}"#);
    close(w)
}

/// `pusher_internal:watchlist_events` with one entry (`online` or `offline`) for `user_ids`
/// (each a JSON string's raw contents).
pub fn watchlist_event<'i>(
    out: &mut [u8],
    name: &str,
    user_ids: impl Iterator<Item = &'i str>,
) -> Result<usize, BufferTooSmall> {
    let mut w = open(out, "pusher_internal:watchlist_events", None);
    inner(&mut w, r#"{"events":[{"name":""#);
    inner(&mut w, name);
    inner(&mut w, r#"","user_ids":["#);
    for (k, id) in user_ids.enumerate() {
        if k > 0 {
            inner(&mut w, ",");
        }
        quoted_id(&mut w, id);
    }
    inner(&mut w, "]}]}");
    close(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::event::ServerMessage;

    fn text(buf: &[u8], n: usize) -> &str {
        core::str::from_utf8(&buf[..n]).unwrap()
    }

    #[test]
    fn our_client_decoder_reads_every_reply() {
        let mut buf = [0u8; 1024];
        let mut scratch = [0u8; 1024];
        let n = subscription_succeeded(&mut buf, "news").unwrap();
        assert_eq!(
            text(&buf, n),
            r#"{"event":"pusher_internal:subscription_succeeded","channel":"news","data":"{}"}"#
        );
        let members = [
            MemberEntry {
                id: "1",
                info: Some(r#"{"name":"A \"q\""}"#),
            },
            MemberEntry {
                id: "2",
                info: None,
            },
        ];
        let n = presence_succeeded(&mut buf, "presence-x", members.iter().copied(), false).unwrap();
        match ServerMessage::decode(text(&buf, n), &mut scratch).unwrap() {
            ServerMessage::SubscriptionSucceeded {
                presence: Some(p), ..
            } => {
                assert_eq!(p.count, Some(2));
                let ids: std::vec::Vec<_> = p.members().map(|m| m.unwrap().id.raw()).collect();
                assert_eq!(ids, ["1", "2"]);
            }
            other => panic!("{other:?}"),
        }
        #[cfg(feature = "presence")]
        {
            let n = member_added(&mut buf, "presence-x", members[0]).unwrap();
            assert!(matches!(
                ServerMessage::decode(text(&buf, n), &mut scratch).unwrap(),
                ServerMessage::MemberAdded { member, .. } if member.id.raw() == "1"
                    && member.info.raw() == r#"{"name":"A \"q\""}"#
            ));
            let n = member_removed(&mut buf, "presence-x", "2").unwrap();
            assert!(matches!(
                ServerMessage::decode(text(&buf, n), &mut scratch).unwrap(),
                ServerMessage::MemberRemoved { id, .. } if id.raw() == "2"
            ));
        }
        let n = subscription_count(&mut buf, "news", 7).unwrap();
        assert!(matches!(
            ServerMessage::decode(text(&buf, n), &mut scratch).unwrap(),
            ServerMessage::SubscriptionCount { count: 7, .. }
        ));
        let n = cache_miss(&mut buf, "cache-x").unwrap();
        assert!(matches!(
            ServerMessage::decode(text(&buf, n), &mut scratch).unwrap(),
            ServerMessage::CacheMiss { channel: "cache-x" }
        ));
        #[cfg(feature = "signin")]
        {
            let user_data = r#"{"id":"u \"1\""}"#;
            let n = signin_success(&mut buf, user_data).unwrap();
            match ServerMessage::decode(text(&buf, n), &mut scratch).unwrap() {
                ServerMessage::SigninSuccess { user_data: got } => {
                    let mut out = [0u8; 64];
                    assert_eq!(got.unescape_into(&mut out).unwrap(), user_data);
                }
                other => panic!("{other:?}"),
            }
        }
        let n = error_as_string(&mut buf, Some(4200), "bad \"x\"").unwrap();
        match ServerMessage::decode(text(&buf, n), &mut scratch).unwrap() {
            ServerMessage::Error {
                code: Some(4200),
                message,
            } => assert!(message.eq_str("bad \"x\"")),
            other => panic!("{other:?}"),
        }
        for data in [
            HeartbeatData::String,
            HeartbeatData::Object,
            HeartbeatData::Absent,
        ] {
            let n = heartbeat(&mut buf, true, data).unwrap();
            assert_eq!(
                ServerMessage::decode(text(&buf, n), &mut scratch).unwrap(),
                ServerMessage::Pong
            );
        }
        #[cfg(feature = "signin")]
        {
            let n = watchlist_event(&mut buf, "online", ["a", "b"].into_iter()).unwrap();
            assert!(matches!(
                ServerMessage::decode(text(&buf, n), &mut scratch).unwrap(),
                ServerMessage::Watchlist { .. }
            ));
        }
        assert!(subscription_succeeded(&mut buf[..10], "news").is_err());
    }
}
