//! Subscriptions, auth per socket id, refusals and resubscription after reconnects.

use super::*;

#[test]
fn subscriptions_queue_until_connected_and_auth_is_per_socket() {
    let mut r = Rig::new();
    r.c.subscribe("my-channel").unwrap();
    r.c.subscribe("private-x").unwrap();
    r.c.subscribe("my-channel").unwrap();
    assert_eq!(
        r.c.subscribe("#server-to-user-1"),
        Err(SubscribeError::ReservedChannel)
    );
    assert_eq!(
        r.c.subscribe("bad name"),
        Err(SubscribeError::Name(NameError::InvalidByte { at: 3 }))
    );
    assert_eq!(r.c.channel_state("my-channel"), Some(ChannelState::Pending));
    r.connected("1.2");
    assert_eq!(
        r.s.take_got(),
        [r#"{"event":"pusher:subscribe","data":{"channel":"my-channel"}}"#]
    );
    assert!(r.take().contains(&"auth private-x 1.2".to_string()));
    assert_eq!(
        r.c.channel_state("private-x"),
        Some(ChannelState::AwaitingAuth)
    );
    // A stale answer is refused; the right one subscribes.
    assert_eq!(
        r.c.provide_auth("private-x", "9.9", "k:s", None),
        Err(AnswerError::StaleSocketId)
    );
    assert_eq!(
        r.c.provide_auth("private-x", "1.2", "k:s", Some("{}")),
        Err(AnswerError::BadChannelData)
    );
    r.c.provide_auth("private-x", "1.2", "k:s", None).unwrap();
    assert_eq!(
        r.c.provide_auth("private-x", "1.2", "k:s", None),
        Err(AnswerError::NotAwaitingAuth)
    );
    r.pump();
    assert_eq!(
        r.s.take_got(),
        [r#"{"event":"pusher:subscribe","data":{"auth":"k:s","channel":"private-x"}}"#]
    );
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-x"}"#);
    r.s.text(
        r#"{"event":"pusher_internal:subscription_succeeded","channel":"my-channel","data":"{}"}"#,
    );
    r.s.text(r#"{"event":"greet","channel":"my-channel","data":"{\"hi\":\"\\u00e9\"}"}"#);
    r.pump();
    assert_eq!(
        r.take(),
        [
            "subscribed private-x",
            "subscribed my-channel",
            r#"message greet Some("my-channel") Some("{\"hi\":\"\\u00e9\"}") None"#
        ]
    );
    assert_eq!(
        r.c.channel_state("private-x"),
        Some(ChannelState::Subscribed)
    );
    // Subscribing while connected goes out at once; unsubscribing sends the frame.
    r.c.subscribe("later").unwrap();
    r.c.unsubscribe("my-channel").unwrap();
    r.pump();
    assert_eq!(
        r.s.take_got(),
        [
            r#"{"event":"pusher:unsubscribe","data":{"channel":"my-channel"}}"#,
            r#"{"event":"pusher:subscribe","data":{"channel":"later"}}"#
        ]
    );
    assert_eq!(r.c.channel_state("my-channel"), None);
    assert_eq!(
        r.c.unsubscribe("nope"),
        Err(UnsubscribeError::UnknownChannel)
    );
}

#[test]
fn auth_failure_and_server_rejection_are_per_channel_events() {
    let mut r = Rig::new();
    r.c.subscribe("private-a").unwrap();
    r.c.subscribe("private-b").unwrap();
    r.connected("3.4");
    r.take();
    r.c.auth_failed("private-a", "3.4", Some(403)).unwrap();
    assert_eq!(r.c.channel_state("private-a"), Some(ChannelState::Failed));
    r.pump();
    assert_eq!(r.take(), ["subscription error private-a Some(403)"]);
    r.c.provide_auth("private-b", "3.4", "k:bad", None).unwrap();
    r.pump();
    r.s.text(r#"{"event":"pusher:subscription_error","channel":"private-b","data":{"type":"AuthError","error":"no","status":401}}"#);
    r.s.text(r#"{"event":"pusher:error","data":{"code":null,"message":"Invalid signature"}}"#);
    r.pump();
    assert_eq!(
        r.take(),
        [
            "subscription error private-b Some(401)",
            "error None Invalid signature"
        ]
    );
    assert_eq!(r.c.channel_state("private-b"), Some(ChannelState::Failed));
    assert_eq!(r.c.state(), State::Connected);
    r.s.text(r#"{"event":"pusher:cache_miss","channel":"cache-x"}"#);
    r.s.text(r#"{"event":"pusher_internal:subscription_count","channel":"private-a","data":"{\"subscription_count\":5}"}"#);
    r.pump();
    assert_eq!(r.take(), ["cache miss cache-x", "count private-a 5"]);
}

#[test]
fn reconnect_resubscribes_with_fresh_auth() {
    let mut r = Rig::new();
    r.c.subscribe("public").unwrap();
    r.c.subscribe("private-x").unwrap();
    r.connected("1.1");
    r.c.provide_auth("private-x", "1.1", "k:one", None).unwrap();
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-x"}"#);
    r.pump();
    r.take();
    // The transport dies.
    r.closed();
    let ev = r.take();
    assert!(
        ev[0].starts_with("disconnected TransportLost Backoff Some("),
        "{ev:?}"
    );
    assert_eq!(ev[1], "state Connected->Connecting");
    assert_eq!(r.c.channel_state("private-x"), Some(ChannelState::Pending));
    assert_eq!(r.c.socket_id(), None);
    // An answer for the old socket is refused now.
    assert_eq!(
        r.c.provide_auth("private-x", "1.1", "k:one", None),
        Err(AnswerError::NotConnected)
    );
    let retry = r.c.poll_timeout().unwrap().as_millis();
    assert!(retry <= 1000);
    r.advance(retry);
    assert_eq!(r.take_actions(), [Action::Open { tls: false }]);
    r.accept();
    r.s.established("2.2", 120);
    r.pump();
    assert_eq!(
        r.s.take_got(),
        [r#"{"event":"pusher:subscribe","data":{"channel":"public"}}"#]
    );
    assert!(r.take().contains(&"auth private-x 2.2".to_string()));
    assert_eq!(
        r.c.provide_auth("private-x", "1.1", "k:one", None),
        Err(AnswerError::StaleSocketId)
    );
    r.c.provide_auth("private-x", "2.2", "k:two", None).unwrap();
    r.pump();
    assert_eq!(
        r.s.take_got(),
        [r#"{"event":"pusher:subscribe","data":{"auth":"k:two","channel":"private-x"}}"#]
    );
}

#[test]
fn local_signer_answers_auth() {
    let mut r = Rig::new();
    r.c.subscribe("private-my-channel").unwrap();
    r.connected("2991148437.7070406786");
    let creds = Credentials::new("app-key", "app-secret");
    r.c.authorize_locally("private-my-channel", &creds, None)
        .unwrap();
    r.pump();
    // The same signature openssl gives for this socket and channel.
    assert_eq!(
        r.s.take_got(),
        [
            r#"{"event":"pusher:subscribe","data":{"auth":"app-key:8d3ae0c0ec188bf04a5c56e6a7d83ad0b81bbaeeb3bc098016e1156b087ec738","channel":"private-my-channel"}}"#
        ]
    );
}

#[test]
#[cfg(feature = "signin")]
fn auth_requests_are_owned_and_asked_until_answered() {
    let mut r = Rig::new();
    r.c.subscribe("public").unwrap();
    r.c.subscribe("private-a").unwrap();
    r.c.subscribe("private-b").unwrap();
    assert_eq!(r.c.auth_request(), None, "not connected");
    r.connected("4.2");
    r.c.signin();
    r.pump();
    let ask = |r: &Rig| {
        r.c.auth_request()
            .map(|q| format!("{} {:?}", q.socket_id(), q.channel()))
    };
    assert_eq!(ask(&r).as_deref(), Some(r#"4.2 Some("private-a")"#));
    // Asked again until answered; a refusal moves on to the next.
    assert_eq!(ask(&r).as_deref(), Some(r#"4.2 Some("private-a")"#));
    r.c.auth_failed("private-a", "4.2", Some(500)).unwrap();
    assert_eq!(ask(&r).as_deref(), Some(r#"4.2 Some("private-b")"#));
    r.c.provide_auth("private-b", "4.2", "k:s", None).unwrap();
    // Then the sign-in the app was asked for.
    assert_eq!(ask(&r).as_deref(), Some("4.2 None"));
    // A refused sign-in is not handed out again on this connection (no busy loop of asking).
    r.c.signin_failed("4.2").unwrap();
    assert_eq!(ask(&r), None);
    // A new connection asks again, for its own socket id.
    r.s.close(4200);
    r.pump();
    r.closed();
    r.take_actions();
    r.accept();
    r.s.established("5.5", 120);
    r.pump();
    assert_eq!(ask(&r).as_deref(), Some(r#"5.5 Some("private-a")"#));
    r.c.auth_failed("private-a", "5.5", None).unwrap();
    r.c.auth_failed("private-b", "5.5", None).unwrap();
    // The new connection asks for the sign-in again; an answer ends it.
    assert_eq!(ask(&r).as_deref(), Some("5.5 None"));
    r.c.provide_user_auth("5.5", "k:s", r#"{"id":"1"}"#)
        .unwrap();
    assert_eq!(ask(&r), None);
}

#[cfg(feature = "encryption")]
#[test]
fn encrypted_channels_are_opened_in_place_and_never_leak_ciphertext() {
    let mut r = Rig::new();
    r.c.subscribe("private-encrypted-cmd").unwrap();
    r.c.subscribe("private-encrypted-bare").unwrap();
    r.connected("1.2");
    assert!(
        r.take()
            .contains(&"auth private-encrypted-cmd 1.2".to_string())
    );
    let secret = [5u8; 32];
    let b64 = "BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=";
    assert_eq!(
        r.c.provide_encrypted_auth("private-encrypted-cmd", "1.2", "k:s", "not base64"),
        Err(AnswerError::BadSharedSecret)
    );
    r.c.provide_encrypted_auth("private-encrypted-cmd", "1.2", "k:s", b64)
        .unwrap();
    // Answered without a secret: its events cannot be opened.
    r.c.provide_auth("private-encrypted-bare", "1.2", "k:s", None)
        .unwrap();
    r.pump();
    // The secret is not sent.
    let got = r.s.take_got();
    assert!(
        got.iter()
            .all(|f| !f.contains("shared_secret") && !f.contains(b64)),
        "{got:?}"
    );
    r.s.text(
        r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-encrypted-cmd"}"#,
    );
    let (mut scratch, mut out) = ([0u8; 128], [0u8; 256]);
    let data = crate::encrypted::encrypt(
        &secret,
        &[1; 24],
        r#"{"open":"door \"2\""}"#,
        &mut scratch,
        &mut out,
    )
    .unwrap();
    let escaped = data.replace('"', "\\\"");
    r.s.text(&format!(
        r#"{{"event":"command","channel":"private-encrypted-cmd","data":"{escaped}"}}"#
    ));
    let forged = {
        let mut d = std::string::String::from(data);
        let at = d.find("ciphertext").unwrap() + 13;
        let c = if d.as_bytes()[at] == b'A' { "B" } else { "A" };
        d.replace_range(at..at + 1, c);
        d.replace('"', "\\\"")
    };
    r.s.text(&format!(
        r#"{{"event":"command","channel":"private-encrypted-cmd","data":"{forged}"}}"#
    ));
    r.s.text(&format!(
        r#"{{"event":"command","channel":"private-encrypted-bare","data":"{escaped}"}}"#
    ));
    r.pump();
    assert_eq!(
        r.take(),
        [
            "subscribed private-encrypted-cmd",
            r#"message command Some("private-encrypted-cmd") Some("{\"open\":\"door \\\"2\\\"\"}") None"#,
            "undecryptable private-encrypted-cmd Forged",
            // Without a hold the event is reported; the key may have rotated, so asked again.
            "auth private-encrypted-cmd 1.2",
            "undecryptable private-encrypted-bare NoSharedSecret",
        ]
    );
    // No client events on encrypted channels.
    assert_eq!(
        r.c.trigger(
            "private-encrypted-cmd",
            "client-x",
            crate::wire::message::Payload::Json("{}")
        ),
        Err(TriggerError::ClientEventsNotAllowed)
    );
}

/// Without the `encryption` feature an encrypted channel is refused up front: its events
/// could not be opened, and handing out their ciphertext as data would be silently wrong.
#[cfg(not(feature = "encryption"))]
#[test]
fn encrypted_channels_need_the_feature() {
    let mut r = Rig::new();
    assert_eq!(
        r.c.subscribe("private-encrypted-cmd"),
        Err(SubscribeError::EncryptionDisabled)
    );
    assert_eq!(r.c.channel_state("private-encrypted-cmd"), None);
}
