//! Presence members, with and without the `presence` feature.

use super::*;

#[cfg(feature = "presence")]
#[test]
fn presence_members_and_reset_on_resubscribe() {
    let mut r = Rig::new();
    r.c.subscribe("presence-room").unwrap();
    r.connected("1.1");
    r.take();
    let data = r#"{"user_id":"me1","user_info":{"n":"Me"}}"#;
    r.c.provide_auth("presence-room", "1.1", "k:s", Some(data))
        .unwrap();
    r.pump();
    let sent = r.s.take_got();
    assert!(
        sent[0].contains(r#""channel_data":"{\"user_id\":\"me1\",\"user_info\":{\"n\":\"Me\"}}""#),
        "{sent:?}"
    );
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{\"presence\":{\"count\":2,\"ids\":[\"me1\",\"u2\"],\"hash\":{\"me1\":{\"n\":\"Me\"},\"u2\":null}}}"}"#);
    r.s.text(r#"{"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"u3\",\"user_info\":{\"n\":3}}"}"#);
    r.s.text(r#"{"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"u3\",\"user_info\":{\"n\":33}}"}"#);
    r.s.text(r#"{"event":"pusher_internal:member_removed","channel":"presence-room","data":"{\"user_id\":\"u2\"}"}"#);
    r.pump();
    assert_eq!(
        r.take(),
        [
            "subscribed presence-room",
            r#"member+ presence-room u3 {"n":3} true"#,
            r#"member+ presence-room u3 {"n":33} false"#,
            "member- presence-room u2"
        ]
    );
    assert_eq!(r.c.member_count("presence-room"), 2);
    assert_eq!(r.c.me("presence-room"), Some("me1"));
    assert_eq!(r.c.member("presence-room", "u3"), Some(r#"{"n":33}"#));
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Info {
        n: u32,
    }
    let mut scratch = [0u8; 32];
    assert_eq!(
        r.c.member_info::<Info>("presence-room", "u3", &mut scratch),
        Some(Ok(Info { n: 33 }))
    );
    let mut scratch = [0u8; 32];
    assert_eq!(
        r.c.member_info::<Info>("presence-room", "nobody", &mut scratch),
        None
    );
    let mut ids: Vec<&str> = r.c.members("presence-room").map(|(id, _)| id).collect();
    ids.sort();
    assert_eq!(ids, ["me1", "u3"]);
    // After a reconnect the set starts empty until the new subscription_succeeded.
    r.closed();
    assert_eq!(r.c.member_count("presence-room"), 0);
    let t = r.c.poll_timeout().unwrap().as_millis();
    r.advance(t);
    r.accept();
    r.s.established("2.2", 120);
    r.pump();
    r.c.provide_auth("presence-room", "2.2", "k:s", Some(data))
        .unwrap();
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{\"presence\":{\"count\":1,\"ids\":[\"me1\"],\"hash\":{\"me1\":null}}}"}"#);
    r.pump();
    assert_eq!(r.c.member_count("presence-room"), 1);
}

/// Without the `presence` feature: presence channels are refused up front, and member events
/// a server sends anyway pass through as plain events (not decoded) without being recorded.
#[cfg(not(feature = "presence"))]
#[test]
fn presence_needs_the_feature() {
    let mut r = Rig::new();
    assert_eq!(
        r.c.subscribe("presence-room"),
        Err(SubscribeError::PresenceDisabled)
    );
    assert_eq!(r.c.channel_state("presence-room"), None);
    r.c.subscribe("private-c").unwrap();
    r.connected("1.1");
    r.take();
    r.c.provide_auth("private-c", "1.1", "k:s", None).unwrap();
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-c","data":"{\"presence\":{\"count\":1,\"ids\":[\"u1\"],\"hash\":{\"u1\":null}}}"}"#);
    r.s.text(r#"{"event":"pusher_internal:member_added","channel":"private-c","data":"{\"user_id\":\"u3\",\"user_info\":{\"n\":3}}"}"#);
    r.pump();
    assert_eq!(
        r.take(),
        [
            "subscribed private-c",
            r#"message pusher_internal:member_added Some("private-c") Some("{\"user_id\":\"u3\",\"user_info\":{\"n\":3}}") None"#
        ]
    );
    assert_eq!(r.c.member_count("private-c"), 0);
    assert_eq!(r.c.members("private-c").count(), 0);
    r.s.text(r#"{"event":"pusher_internal:member_removed","channel":"private-c","data":"{\"user_id\":\"u3\"}"}"#);
    r.pump();
    assert_eq!(
        r.take(),
        [
            r#"message pusher_internal:member_removed Some("private-c") Some("{\"user_id\":\"u3\"}") None"#
        ]
    );
}

#[cfg(feature = "presence")]
#[test]
fn a_member_list_larger_than_the_store_is_reported() {
    let mut r = Rig::new();
    r.c.subscribe("presence-big").unwrap();
    r.connected("1.1");
    r.take();
    r.c.provide_auth("presence-big", "1.1", "k:s", Some(r#"{"user_id":"u0"}"#))
        .unwrap();
    r.pump();
    // 100 members of about 30 bytes each against the rig's 1 KiB store.
    let hash: Vec<String> = (0..100)
        .map(|k| format!(r#"\"u{k}\":{{\"name\":\"member {k:03}\"}}"#))
        .collect();
    r.s.text(&format!(
        r#"{{"event":"pusher_internal:subscription_succeeded","channel":"presence-big","data":"{{\"presence\":{{\"count\":100,\"hash\":{{{}}}}}}}"}}"#,
        hash.join(",")
    ));
    r.pump();
    assert_eq!(
        r.take(),
        ["subscribed presence-big", "overflow presence-big"]
    );
    let kept = r.c.member_count("presence-big");
    assert!(kept > 10 && kept < 100, "{kept}");
    // The ones kept are the first ones, whole.
    assert_eq!(
        r.c.member("presence-big", "u0"),
        Some(r#"{"name":"member 000"}"#)
    );
}
