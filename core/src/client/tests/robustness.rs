//! Disconnecting from every state, byte-at-a-time transport, malformed input, real soketi bytes.

use super::*;

#[test]
fn disconnect_from_every_state() {
    // Initialized.
    let mut r = Rig::new();
    r.c.disconnect(ms(0));
    r.pump();
    assert_eq!(r.c.state(), State::Disconnected);
    assert!(r.take_actions().is_empty());
    // Connecting, before the transport opened.
    let mut r = Rig::new();
    r.c.connect(ms(0));
    r.c.disconnect(ms(0));
    r.pump();
    assert!(r.take_actions().is_empty() || r.c.state() == State::Disconnected);
    assert_eq!(r.c.poll_timeout(), None);
    // Connecting, Open delivered but not connected yet: the late transport is closed.
    let mut r = Rig::new();
    r.c.connect(ms(0));
    r.pump();
    assert_eq!(r.take_actions(), [Action::Open { tls: false }]);
    r.c.disconnect(ms(0));
    r.pump();
    assert_eq!(r.take_actions(), [Action::Close]);
    r.c.handle_connected(ms(1));
    r.pump();
    assert_eq!(r.take_actions(), [Action::Close]);
    r.closed();
    assert_eq!(r.c.state(), State::Disconnected);
    assert_eq!(r.c.poll_timeout(), None);
    // Upgrading.
    let mut r = Rig::new();
    r.c.connect(ms(0));
    r.pump();
    r.take_actions();
    r.c.handle_connected(ms(0));
    r.c.disconnect(ms(0));
    r.pump();
    assert_eq!(r.take_actions(), [Action::Close]);
    // Connected: a close frame, then Close; a pending retry is cancelled.
    let mut r = Rig::new();
    r.c.subscribe("keep").unwrap();
    r.connected("1.1");
    r.c.disconnect(ms(r.now));
    r.pump();
    assert_eq!(r.s.control, ["close Some(1000)"]);
    assert_eq!(r.take_actions(), [Action::Close]);
    r.closed();
    assert_eq!(r.c.state(), State::Disconnected);
    assert_eq!(r.c.poll_timeout(), None);
    assert_eq!(r.c.channel_state("keep"), Some(ChannelState::Pending));
    // Waiting to retry: the retry is cancelled.
    let mut r = Rig::new();
    r.connected("1.1");
    r.closed();
    assert!(r.c.poll_timeout().is_some());
    r.c.disconnect(ms(r.now));
    r.pump();
    assert_eq!(r.c.poll_timeout(), None);
    r.advance(r.now + 60_000);
    assert!(r.take_actions().is_empty());
    // Disconnected and Failed: connect() works again.
    r.c.connect(ms(r.now));
    r.pump();
    assert_eq!(r.take_actions(), [Action::Open { tls: false }]);
}

#[test]
fn byte_at_a_time_both_ways() {
    for chunk in [1, 2, 3, 7, 13, 64] {
        let mut r = Rig::new();
        r.chunk = chunk;
        r.c.subscribe("my-channel").unwrap();
        r.connected("9.9");
        r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"my-channel"}"#);
        r.s.text(r#"{"event":"e","channel":"my-channel","data":"{\"emoji\":\"\\ud83c\\udf89\",\"q\":\"\\\"\"}"}"#);
        r.pump();
        let ev = r.take();
        assert_eq!(
            &ev[2..],
            [
                "subscribed my-channel",
                r#"message e Some("my-channel") Some("{\"emoji\":\"\\ud83c\\udf89\",\"q\":\"\\\"\"}") None"#
            ],
            "chunk {chunk}"
        );
        assert_eq!(
            r.s.take_got(),
            [r#"{"event":"pusher:subscribe","data":{"channel":"my-channel"}}"#]
        );
    }
}

#[test]
fn protocol_violations_and_malformed_messages() {
    let mut r = Rig::new();
    r.connected("1.1");
    r.take();
    r.s.text("this isn't JSON");
    r.pump();
    assert_eq!(r.take(), ["malformed NotObject"]);
    assert_eq!(r.c.state(), State::Connected);
    // A masked frame from the server is a protocol error: close 1002 and back off.
    r.s.out.extend_from_slice(&[0x81, 0x81, 1, 2, 3, 4, 5]);
    r.pump();
    let ev = r.take();
    assert!(
        ev.iter()
            .any(|e| e.starts_with("disconnected Protocol(MaskedFrame) Backoff")),
        "{ev:?}"
    );
    assert_eq!(r.s.control, ["close Some(1002)"]);
}

#[test]
fn a_text_frame_that_is_not_utf8_closes_with_1007() {
    let mut r = Rig::new();
    r.connected("1.1");
    r.take();
    // Checked once, by the decoder: the reader hands text frames over unchecked.
    r.s.out.extend_from_slice(&[0x81, 0x03, b'{', 0xff, b'}']);
    r.pump();
    let ev = r.take();
    assert_eq!(
        ev.first().map(String::as_str),
        Some("malformed InvalidUtf8"),
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .any(|e| e.starts_with("disconnected Protocol(InvalidUtf8) Backoff")),
        "{ev:?}"
    );
    assert_eq!(r.s.control, ["close Some(1007)"]);
}

#[test]
fn replays_real_soketi_bytes() {
    let capture = include_str!("../../../tests/fixtures/soketi-wire-capture.txt");
    // Server-to-client bytes of the WebSocket connection, after the 101 head.
    let mut server = Vec::new();
    let mut take = false;
    for line in capture.lines() {
        if line.starts_with("#1 S->C") {
            take = true;
        } else if line.starts_with('#') {
            take = false;
        } else if take && !line.is_empty() && line.bytes().all(|b| b.is_ascii_hexdigit()) {
            for pair in line.as_bytes().chunks(2) {
                server.push(u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap());
            }
        }
    }
    let head = server.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut r = Rig::new();
    r.c.subscribe("my-channel").unwrap();
    r.c.subscribe("private-my-channel").unwrap();
    r.c.connect(ms(0));
    r.pump();
    r.take_actions();
    r.s.upgraded = true;
    r.c.handle_connected(ms(0));
    let request = r.c.poll_transmit().unwrap().to_vec();
    r.c.consume_tx(request.len());
    // Answer the client's own upgrade like soketi would, then replay soketi's frames.
    let mut fake = Server::new();
    fake.receive(&request);
    r.s.out = fake.out;
    r.s.out.extend_from_slice(&server[head..]);
    r.chunk = 5;
    r.pump();
    let ev = r.take();
    assert_eq!(
        ev[..2],
        [
            "state Initialized->Connecting",
            "state Connecting->Connected"
        ]
    );
    assert!(
        ev.contains(&"auth private-my-channel 2991148437.7070406786".to_string()),
        "{ev:?}"
    );
    assert!(ev.contains(&"subscribed my-channel".to_string()));
    assert!(ev.contains(&r#"message my-event Some("my-channel") Some("{\"message\": \"hello from python\"}") None"#.to_string()));
    assert!(ev.contains(&"subscription error private-bad Some(401)".to_string()));
    assert!(
        ev.iter()
            .any(|e| e.starts_with("disconnected Closed(1000) Backoff")),
        "{ev:?}"
    );
}

#[test]
fn internal_messages_for_channels_never_subscribed_are_dropped() {
    let mut r = Rig::new();
    r.c.subscribe("public-a").unwrap();
    r.connected("1.1");
    r.take();
    // A hostile or confused server confirms, populates and counts channels nobody asked for.
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"never","data":"{}"}"#);
    r.s.text(r#"{"event":"pusher_internal:member_added","channel":"presence-x","data":"{\"user_id\":\"u\",\"user_info\":{}}"}"#);
    r.s.text(r#"{"event":"pusher_internal:member_removed","channel":"presence-x","data":"{\"user_id\":\"u\"}"}"#);
    r.s.text(r#"{"event":"pusher_internal:subscription_count","channel":"never","data":"{\"subscription_count\":9}"}"#);
    // The app's own channel still gets its own; a plain event on another channel still
    // reaches the app, as pusher-js's global bindings see it.
    r.s.text(
        r#"{"event":"pusher_internal:subscription_succeeded","channel":"public-a","data":"{}"}"#,
    );
    r.s.text(r#"{"event":"pusher_internal:subscription_count","channel":"public-a","data":"{\"subscription_count\":2}"}"#);
    r.s.text(r#"{"event":"news","channel":"elsewhere","data":"1"}"#);
    r.pump();
    assert_eq!(
        r.take(),
        [
            "subscribed public-a",
            "count public-a 2",
            r#"message news Some("elsewhere") Some("1") None"#
        ]
    );
    assert_eq!(r.c.channel_state("never"), None);
    assert_eq!(r.c.channels().count(), 1);
}
