//! Client events: which channels allow them, and the rate limit.

use super::*;

#[test]
fn client_events_rules_and_rate_limit() {
    let mut r = Rig::new();
    r.c.subscribe("private-c").unwrap();
    r.c.subscribe("public").unwrap();
    let encrypted = r.c.subscribe("private-encrypted-e").is_ok();
    assert_eq!(
        r.c.trigger("private-c", "client-x", Payload::Json("{}")),
        Err(TriggerError::NotConnected)
    );
    r.connected("1.1");
    r.take();
    assert_eq!(
        r.c.trigger("private-c", "client-x", Payload::Json("{}")),
        Err(TriggerError::NotSubscribed)
    );
    r.c.provide_auth("private-c", "1.1", "k:s", None).unwrap();
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-c"}"#);
    r.pump();
    assert_eq!(
        r.c.trigger("public", "client-x", Payload::Json("{}")),
        Err(TriggerError::ClientEventsNotAllowed)
    );
    // Subscribed with the `encryption` feature (refused without it).
    assert_eq!(encrypted, cfg!(feature = "encryption"));
    if encrypted {
        assert_eq!(
            r.c.trigger("private-encrypted-e", "client-x", Payload::Json("{}")),
            Err(TriggerError::ClientEventsNotAllowed)
        );
    }
    assert_eq!(
        r.c.trigger("private-c", "x", Payload::Json("{}")),
        Err(TriggerError::Name(NameError::NotClientEvent))
    );
    assert_eq!(
        r.c.trigger("private-c", "client-x", Payload::Json("{")),
        Err(TriggerError::InvalidJson)
    );
    r.s.take_got();
    for i in 0..10 {
        r.c.trigger(
            "private-c",
            "client-x",
            Payload::Json(&format!(r#"{{"n":{i}}}"#)),
        )
        .unwrap();
    }
    let limited = r.c.trigger("private-c", "client-x", Payload::Json("{}"));
    assert_eq!(
        limited,
        Err(TriggerError::RateLimited {
            retry_at: ms(r.now + 100)
        })
    );
    r.pump();
    assert_eq!(r.s.take_got().len(), 10);
    r.advance(r.now + 100);
    r.c.trigger("private-c", "client-x", Payload::Text("hi"))
        .unwrap();
    r.pump();
    assert_eq!(
        r.s.take_got(),
        [r#"{"event":"client-x","channel":"private-c","data":"hi"}"#]
    );
}

#[derive(serde::Serialize)]
struct Typing<'a> {
    user: &'a str,
    active: bool,
    at: [u16; 2],
    note: Option<&'a str>,
}

#[test]
fn typed_client_events_are_written_straight_into_the_frame() {
    let mut r = Rig::new();
    r.c.subscribe("private-c").unwrap();
    r.connected("1.1");
    r.take();
    r.c.provide_auth("private-c", "1.1", "k:s", None).unwrap();
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-c"}"#);
    r.pump();
    r.s.take_got();
    let typing = Typing {
        user: "Zoë \"z\"",
        active: true,
        at: [1, 65535],
        note: None,
    };
    r.c.trigger_json("private-c", "client-typing", &typing)
        .unwrap();
    r.pump();
    assert_eq!(
        r.s.take_got(),
        [
            r#"{"event":"client-typing","channel":"private-c","data":{"user":"Zoë \"z\"","active":true,"at":[1,65535],"note":null}}"#
        ]
    );
    assert_eq!(
        r.c.trigger_json("public", "client-typing", &typing),
        Err(TriggerError::UnknownChannel)
    );
    let huge = "x".repeat(100_000);
    let big = Typing {
        user: &huge,
        ..typing
    };
    assert!(matches!(
        r.c.trigger_json("private-c", "client-typing", &big),
        Err(TriggerError::BufferFull(_))
    ));
    // Nothing half-written went out.
    r.pump();
    assert!(r.s.take_got().is_empty());
}
