//! User sign-in and the `#server-to-user-` channel.

use super::*;

#[test]
fn signin_and_server_to_user_channel() {
    let mut r = Rig::new();
    r.c.signin();
    r.connected("5.5");
    assert!(r.take().contains(&"signin required 5.5".to_string()));
    let creds = Credentials::new("app-key", "app-secret");
    r.c.signin_locally(&creds, r#"{"id":"42"}"#).unwrap();
    r.pump();
    let got = r.s.take_got();
    // The token written into the frame equals the one the signing API returns.
    let mut token = [0u8; 128];
    let sid = crate::name::SocketId::new("5.5").unwrap();
    let want = creds.user_auth(&mut token, sid, r#"{"id":"42"}"#).unwrap();
    assert_eq!(
        got[0],
        format!(
            r#"{{"event":"pusher:signin","data":{{"auth":"{want}","user_data":"{{\"id\":\"42\"}}"}}}}"#
        ),
    );
    r.s.text(
        r#"{"event":"pusher:signin_success","data":"{\"user_data\":\"{\\\"id\\\":\\\"42\\\"}\"}"}"#,
    );
    r.pump();
    assert_eq!(r.take(), [r#"signed in {\"id\":\"42\"}"#]);
    assert_eq!(
        r.s.take_got(),
        [r##"{"event":"pusher:subscribe","data":{"auth":"","channel":"#server-to-user-42"}}"##]
    );
    r.s.text(r#"{"event":"pusher_internal:watchlist_events","data":"{\"events\":[{\"name\":\"online\",\"user_ids\":[\"1\"]}]}"}"#);
    r.pump();
    assert_eq!(
        r.take(),
        [r#"watchlist [{"name":"online","user_ids":["1"]}]"#]
    );
    // Reconnect: sign-in is asked for again.
    r.closed();
    let t = r.c.poll_timeout().unwrap().as_millis();
    r.advance(t);
    r.accept();
    r.s.established("6.6", 120);
    r.pump();
    assert!(r.take().contains(&"signin required 6.6".to_string()));
    assert_eq!(
        r.c.provide_user_auth("6.6", "k:s", r#"{"id":""}"#),
        Err(SigninError::BadUserData)
    );
}

#[test]
fn channels_lists_the_apps_subscriptions_without_the_internal_one() {
    let mut r = Rig::new();
    r.c.subscribe("public-a").unwrap();
    r.c.subscribe("private-b").unwrap();
    r.c.signin();
    r.connected("5.5");
    let creds = Credentials::new("app-key", "app-secret");
    r.c.signin_locally(&creds, r#"{"id":"42"}"#).unwrap();
    r.pump();
    r.s.text(
        r#"{"event":"pusher:signin_success","data":"{\"user_data\":\"{\\\"id\\\":\\\"42\\\"}\"}"}"#,
    );
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"public-a"}"#);
    r.pump();
    r.take();
    let all: std::vec::Vec<_> = r.c.channels().collect();
    assert_eq!(
        all,
        [
            ("public-a", ChannelState::Subscribed),
            ("private-b", ChannelState::AwaitingAuth)
        ]
    );
    r.c.unsubscribe("public-a").unwrap();
    let all: std::vec::Vec<_> = r.c.channels().map(|(n, _)| n).collect();
    assert_eq!(all, ["private-b"]);
}
