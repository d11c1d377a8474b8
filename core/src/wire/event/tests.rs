//! Envelopes, decoded events and typed messages against real and hostile frames.

use super::*;
use crate::wire::json::JsonError;
use std::string::String;
use std::vec::Vec;
use std::{format, vec};

/// Decodes with a scratch buffer and in place; both must agree.
fn decode(text: &str) -> Result<String, EventError> {
    let mut scratch = [0u8; 1024];
    let copied = ServerMessage::decode(text, &mut scratch).map(describe);
    let mut frame = text.as_bytes().to_vec();
    let in_place = ServerMessage::decode_in_place(&mut frame).map(describe);
    assert_eq!(copied, in_place, "{text}");
    copied
}

fn describe(m: ServerMessage<'_>) -> String {
    match m {
        ServerMessage::ConnectionEstablished {
            socket_id,
            activity_timeout,
        } => {
            std::format!("established {socket_id} {activity_timeout:?}")
        }
        ServerMessage::Error { code, message } => {
            std::format!("error {code:?} {}", message.raw())
        }
        ServerMessage::SubscriptionSucceeded {
            channel,
            presence: Some(p),
        } => {
            let members: Vec<String> = p
                .members()
                .map(|m| {
                    let m = m.unwrap();
                    std::format!("{}={}", m.id.raw(), m.info.raw())
                })
                .collect();
            std::format!("presence {channel} {:?} {}", p.count, members.join(" "))
        }
        ServerMessage::SubscriptionSucceeded {
            channel,
            presence: None,
        } => std::format!("subscribed {channel}"),
        ServerMessage::MemberAdded { channel, member } => {
            std::format!("added {channel} {} {}", member.id.raw(), member.info.raw())
        }
        ServerMessage::MemberRemoved { channel, id } => {
            std::format!("removed {channel} {}", id.raw())
        }
        ServerMessage::SubscriptionCount { channel, count } => {
            std::format!("count {channel} {count}")
        }
        ServerMessage::SigninSuccess { user_data } => {
            std::format!("signin {}", user_data.raw())
        }
        ServerMessage::Watchlist { events } => {
            let parts: Vec<String> = ServerMessage::watchlist_entries(events)
                .map(|e| {
                    let e = e.unwrap();
                    let ids: Vec<&str> = e.ids().map(|i| i.unwrap().raw()).collect();
                    std::format!("{}:{}", e.name.raw(), ids.join(","))
                })
                .collect();
            std::format!("watchlist {}", parts.join(" "))
        }
        ServerMessage::CacheMiss { channel } => std::format!("cache_miss {channel}"),
        ServerMessage::Ping => "ping".into(),
        ServerMessage::Pong => "pong".into(),
        ServerMessage::SubscriptionError {
            channel, status, ..
        } => std::format!("sub_error {channel} {status:?}"),
        ServerMessage::Event(e) => std::format!(
            "event {} {:?} {:?} {:?} {:?}",
            e.event,
            e.channel,
            e.user_id,
            e.data,
            e.form
        ),
    }
}

#[test]
fn official_client_fixtures() {
    let cases = [
        (
            r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"45481.3166671\",\"activity_timeout\":120}"}"#,
            "established 45481.3166671 Some(120)",
        ),
        (
            r#"{"event":"pusher_internal:subscription_succeeded","channel":"test-channel","data":"{}"}"#,
            "subscribed test-channel",
        ),
        (
            r#"{"event":"pusher_internal:subscription_succeeded","data":"{\"presence\":{\"count\":1,\"ids\":[\"123\"],\"hash\":{\"123\":{\"twitter\":\"hamchapman\"}}}}","channel":"presence-test"}"#,
            r#"presence presence-test Some(1) 123={"twitter":"hamchapman"}"#,
        ),
        (
            r#"{"event":"pusher_internal:subscription_succeeded","data":"{\"presence\":{\"count\":1,\"ids\":[\"46123.486095\"],\"hash\":{\"46123.486095\":null}}}","channel":"presence-channel"}"#,
            "presence presence-channel Some(1) 46123.486095=null",
        ),
        (
            r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-s","data":"{\"presence\":{\"ids\":[\"a\",\"b\"],\"hash\":{\"b\":{\"n\":1}},\"count\":2}}"}"#,
            r#"presence presence-s Some(2) a=null b={"n":1}"#,
        ),
        (
            r#"{"event":"pusher:error","data":{"code":null,"message":"Invalid signature: Expected HMAC SHA256 hex digest of x"}}"#,
            "error None Invalid signature: Expected HMAC SHA256 hex digest of x",
        ),
        (
            r#"{"event":"pusher:error","data":{"code":4301,"message":"rate"}}"#,
            "error Some(4301) rate",
        ),
        (
            r#"{"event":"pusher:error","data":"{\"message\":\"no code\"}"}"#,
            "error None no code",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(decode(text).unwrap(), want, "{text}");
    }
}

#[test]
fn data_forms() {
    // JS protocol_spec: object stays object, plain string stays string, JSON string is JSON.
    assert_eq!(
        decode(r#"{"event":"e","channel":"c","data":{"x":"y"}}"#).unwrap(),
        r#"event e Some("c") None Some("{\"x\":\"y\"}") Json"#
    );
    assert_eq!(
        decode(r#"{"event":"e","channel":"c","data":"just a string"}"#).unwrap(),
        r#"event e Some("c") None Some("just a string") String"#
    );
    assert_eq!(
        decode(r#"{"event":"e","data":"{\"x\":\"y\",\"z\":1}"}"#).unwrap(),
        r#"event e None None Some("{\"x\":\"y\",\"z\":1}") String"#
    );
    assert_eq!(
        decode(r#"{"event":"e"}"#).unwrap(),
        "event e None None None Absent"
    );
    assert_eq!(
        decode(r#"{"event":"e","data":null}"#).unwrap(),
        "event e None None None Absent"
    );
    assert_eq!(
        decode(r#"{"event":"e","data":12}"#).unwrap(),
        r#"event e None None Some("12") Json"#
    );
    assert!(matches!(
        decode("this isn't JSON"),
        Err(EventError::NotObject)
    ));
    assert!(matches!(
        decode(r#"{"event":"e""#),
        Err(EventError::Json(_))
    ));
    assert_eq!(decode(r#"{"channel":"c"}"#), Err(EventError::MissingEvent));
    assert_eq!(decode(r#"{"event":1}"#), Err(EventError::Field("event")));
    assert_eq!(decode("[]"), Err(EventError::NotObject));
}

#[test]
fn traps() {
    // Surrogate pairs inside double-encoded data.
    assert_eq!(
        decode(r#"{"event":"chat","channel":"c","data":"{\"text\":\"party \\ud83c\\udf89\"}"}"#)
            .unwrap(),
        r#"event chat Some("c") None Some("{\"text\":\"party \\ud83c\\udf89\"}") String"#
    );
    assert_eq!(
        decode(r#"{"event":"chat","channel":"c","data":"party \ud83c\udf89"}"#).unwrap(),
        r#"event chat Some("c") None Some("party 🎉") String"#
    );
    // Lone surrogates are an error.
    assert!(matches!(
        decode(r#"{"event":"chat","data":"bad \ud83c"}"#),
        Err(EventError::Json(JsonError::LoneSurrogate { .. }))
    ));
    // Escaped event names (Laravel).
    assert_eq!(
        decode(r#"{"event":"App\\Events\\OrderShipped","channel":"orders","data":"{}"}"#).unwrap(),
        r#"event App\Events\OrderShipped Some("orders") None Some("{}") String"#
    );
    // Pong with an object, a string, or nothing.
    for pong in [
        r#"{"event":"pusher:pong","data":{}}"#,
        r#"{"event":"pusher:pong","data":"{}"}"#,
        r#"{"event":"pusher:pong"}"#,
    ] {
        assert_eq!(decode(pong).unwrap(), "pong");
    }
    // Client events on presence channels carry user_id, string or number.
    assert_eq!(
        decode(r#"{"event":"client-x","channel":"presence-c","data":{"a":1},"user_id":"u1"}"#)
            .unwrap(),
        r#"event client-x Some("presence-c") Some("u1") Some("{\"a\":1}") Json"#
    );
    assert_eq!(
        decode(r#"{"user_id":10,"event":"client-x","channel":"presence-c"}"#).unwrap(),
        r#"event client-x Some("presence-c") Some("10") None Absent"#
    );
}

#[test]
fn protocol_events() {
    let cases = [
        (
            r#"{"event":"pusher_internal:member_added","channel":"presence-c","data":"{\"user_id\":\"7\",\"user_info\":{\"n\":1}}"}"#,
            r#"added presence-c 7 {"n":1}"#,
        ),
        (
            r#"{"event":"pusher_internal:member_added","channel":"presence-c","data":"{\"user_id\":7}"}"#,
            "added presence-c 7 null",
        ),
        (
            r#"{"event":"pusher_internal:member_removed","channel":"presence-c","data":"{\"user_id\":\"7\"}"}"#,
            "removed presence-c 7",
        ),
        (
            r#"{"event":"pusher_internal:subscription_count","channel":"c","data":"{\"subscription_count\":51}"}"#,
            "count c 51",
        ),
        (
            r#"{"event":"pusher_internal:subscription_count","channel":"c","data":{"subscription_count":3}}"#,
            "count c 3",
        ),
        (
            r#"{"event":"pusher:signin_success","data":"{\"user_data\":\"{\\\"id\\\":\\\"1\\\"}\"}"}"#,
            r#"signin {\"id\":\"1\"}"#,
        ),
        (
            r#"{"event":"pusher:signin_success","data":{"user_data":"{\"id\":\"1\"}"}}"#,
            r#"signin {\"id\":\"1\"}"#,
        ),
        (
            r#"{"event":"pusher_internal:watchlist_events","data":"{\"events\":[{\"name\":\"online\",\"user_ids\":[\"1\",\"2\"]},{\"name\":\"offline\",\"user_ids\":[]}]}"}"#,
            "watchlist online:1,2 offline:",
        ),
        (
            r#"{"event":"pusher:cache_miss","channel":"cache-x"}"#,
            "cache_miss cache-x",
        ),
        (
            r#"{"event":"pusher:cache_miss","channel":"cache-x","data":"{}"}"#,
            "cache_miss cache-x",
        ),
        (r#"{"event":"pusher:ping","data":{}}"#, "ping"),
        (
            r#"{"event":"pusher:subscription_error","channel":"private-bad","data":{"type":"AuthError","error":"x","status":401}}"#,
            "sub_error private-bad Some(401)",
        ),
        (
            r#"{"event":"pusher:something_new","data":"{}"}"#,
            r#"event pusher:something_new None None Some("{}") String"#,
        ),
    ];
    for (text, want) in cases {
        match left_out(text) {
            // Without its feature, the message is a plain event.
            Some(event) => assert!(
                decode(text)
                    .unwrap()
                    .starts_with(&format!("event {event} ")),
                "{text}"
            ),
            None => assert_eq!(decode(text).unwrap(), want, "{text}"),
        }
    }
    let errors = [
        (
            r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.1x\"}"}"#,
            EventError::InvalidSocketId,
        ),
        (
            r#"{"event":"pusher:connection_established","data":"{}"}"#,
            EventError::Field("socket_id"),
        ),
        (
            r#"{"event":"pusher:connection_established"}"#,
            EventError::Field("data"),
        ),
        (
            r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.1\",\"activity_timeout\":-1}"}"#,
            EventError::Field("activity_timeout"),
        ),
        (
            r#"{"event":"pusher_internal:subscription_succeeded","data":"{}"}"#,
            EventError::Field("channel"),
        ),
        (
            r#"{"event":"pusher_internal:member_added","channel":"p","data":"{}"}"#,
            EventError::Field("user_id"),
        ),
        (
            r#"{"event":"pusher:error","data":{"code":99999}}"#,
            EventError::Field("code"),
        ),
        (
            r#"{"event":"pusher_internal:watchlist_events","data":"{\"events\":{}}"}"#,
            EventError::Field("events"),
        ),
    ];
    for (text, want) in errors {
        if left_out(text).is_none() {
            assert_eq!(decode(text), Err(want), "{text}");
        }
    }
}

/// The event name of a message whose decoding this build leaves out (member messages
/// without `presence`, sign-in ones without `signin`).
fn left_out(text: &str) -> Option<&'static str> {
    let gated: [(&'static str, bool); 4] = [
        ("pusher_internal:member_added", cfg!(feature = "presence")),
        ("pusher_internal:member_removed", cfg!(feature = "presence")),
        ("pusher:signin_success", cfg!(feature = "signin")),
        ("pusher_internal:watchlist_events", cfg!(feature = "signin")),
    ];
    gated
        .into_iter()
        .find(|(event, on)| !on && text.contains(&format!("\"{event}\"")))
        .map(|(event, _)| event)
}

#[test]
fn in_place_with_control_escapes() {
    let text = "{\"even!\0\0\0\0\0\0\0er:pong\",\"data\":{}}";
    let mut out = [0u8; 512];
    let n = crate::wire::message::server::event(
        &mut out,
        text,
        Some(text),
        Some(crate::wire::message::Payload::Text(text)),
        Some(text),
    )
    .unwrap();
    let mut frame = out[..n].to_vec();
    let ev = Event::decode_in_place(&mut frame).unwrap();
    assert_eq!(
        (ev.event, ev.channel, ev.data, ev.user_id),
        (text, Some(text), Some(text), Some(text))
    );
}

#[test]
fn envelope_is_zero_copy() {
    let text = r#" { "data" : "{\"a\":\"\\u00e9\"}" , "event" : "e" , "extra" : [1,{"k":null}], "channel":null } "#;
    let env = Envelope::parse(text).unwrap();
    assert!(env.event.eq_str("e"));
    assert_eq!(env.channel, None);
    match env.data {
        Data::Str(s) => {
            assert!(s.is_escaped());
            let mut out = [0u8; 64];
            assert_eq!(s.unescape_into(&mut out).unwrap(), r#"{"a":"\u00e9"}"#);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn scratch_too_small_is_an_error() {
    let text = r#"{"event":"e","data":"0123456789abcdef0123456789"}"#;
    let mut small = [0u8; 8];
    assert!(matches!(
        Event::decode(text, &mut small),
        Err(EventError::Json(JsonError::BufferTooSmall { .. }))
    ));
    let text = r#"{"event":"a\\b","data":"x"}"#;
    let mut small = [0u8; 2];
    assert!(matches!(
        Event::decode(text, &mut small),
        Err(EventError::Json(JsonError::BufferTooSmall { .. }))
    ));
    let mut enough = [0u8; 5];
    let ev = Event::decode(text, &mut enough).unwrap();
    assert_eq!((ev.event, ev.data), (r"a\b", Some("x")));
}

#[test]
fn a_duplicated_field_is_an_error_not_a_last_one_wins() {
    for frame in [
        r#"{"event":"a","event":"b","channel":"c"}"#,
        r#"{"event":"a","channel":"c","channel":"d"}"#,
        r#"{"event":"a","data":"1","data":"2"}"#,
        r#"{"event":"a","user_id":"1","\u0075ser_id":"2"}"#,
    ] {
        let want = Err(EventError::DuplicateField(
            if frame.contains("\"channel\":\"d") {
                "channel"
            } else if frame.contains("\"data\":\"2") {
                "data"
            } else if frame.contains("ser_id") {
                "user_id"
            } else {
                "event"
            },
        ));
        assert_eq!(Envelope::parse(frame).map(|_| ()), want, "{frame}");
        let mut scratch = [0u8; 128];
        assert_eq!(
            Event::decode(frame, &mut scratch).map(|_| ()),
            want,
            "{frame}"
        );
        let mut bytes = frame.as_bytes().to_vec();
        assert_eq!(
            Event::decode_in_place(&mut bytes).map(|_| ()),
            want,
            "{frame}"
        );
    }
    // Unknown keys may repeat.
    assert!(Envelope::parse(r#"{"event":"a","x":1,"x":2}"#).is_ok());
}

#[test]
fn a_channel_longer_than_any_channel_name_is_refused() {
    let at_limit = "c".repeat(200);
    let frame = format!(r#"{{"event":"e","channel":"{at_limit}"}}"#);
    assert_eq!(
        Envelope::parse(&frame).unwrap().channel.unwrap().raw(),
        at_limit
    );
    let over = format!(r#"{{"event":"e","channel":"{}"}}"#, "c".repeat(201));
    assert_eq!(
        Envelope::parse(&over).map(|_| ()),
        Err(EventError::Field("channel"))
    );
    let mut scratch = vec![0u8; over.len()];
    assert_eq!(
        Event::decode(&over, &mut scratch).map(|_| ()),
        Err(EventError::Field("channel"))
    );
}
