//! The server role on arbitrary input: client frames decoded and their signatures checked,
//! signed REST requests verified, and what the server encodes read back by the client's
//! decoder unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pusher_core::auth::Credentials;
use pusher_core::name::{ChannelName, SocketId};
use pusher_core::server::reply::{self, MemberEntry, Payload};
use pusher_core::server::{
    ClientMessage, RestRequest, verify_rest, verify_signin, verify_subscription,
};
use pusher_core::wire::event::Event;

fuzz_target!(|data: &[u8]| {
    let creds = Credentials::new("key", "secret");
    let socket = SocketId::new("123.456").unwrap();
    let text = String::from_utf8_lossy(data);

    // A client frame, and what a server does with it.
    let mut scratch = vec![0u8; 2 * text.len() + 16];
    match ClientMessage::decode(&text, &mut scratch) {
        Ok(ClientMessage::Subscribe {
            channel,
            auth,
            channel_data,
        }) => {
            assert!(ChannelName::new(channel.as_str()).is_ok());
            if let Ok(Some(member)) =
                verify_subscription(&creds, socket, channel, auth, channel_data)
            {
                assert!(channel.kind().is_presence());
                assert!(member.user_id.raw().len() <= pusher_core::server::MAX_USER_ID);
            }
        }
        Ok(ClientMessage::Signin { auth, user_data }) => {
            if let Ok(user) = verify_signin(&creds, socket, auth, user_data) {
                assert!(!user.id.raw().is_empty());
            }
        }
        Ok(ClientMessage::ClientEvent { event, .. }) => {
            assert!(event.as_str().starts_with("client-"))
        }
        _ => {}
    }

    // A REST request cut from the input: method, path, query, body.
    let mut parts = text.splitn(4, '\n');
    let req = RestRequest {
        method: parts.next().unwrap_or(""),
        path: parts.next().unwrap_or(""),
        query: parts.next().unwrap_or(""),
        body: parts.next().unwrap_or("").as_bytes(),
    };
    let mut rest_scratch = vec![0u8; req.query.len() + req.path.len() + 80];
    if let Err(refusal) = verify_rest::<16>(&creds, &req, 1_700_000_000, &mut rest_scratch) {
        assert!(matches!(refusal.status(), 400 | 401 | 413));
    }

    // What a server sends, read back by the client: the event and its data unchanged.
    let cut = (usize::from(data.first().copied().unwrap_or(0)) % 32).min(text.len());
    if !text.is_char_boundary(cut) {
        return;
    }
    let (name, rest) = text.split_at(cut);
    let mut out = vec![0u8; 64 + 6 * text.len()];
    if let Ok(n) = reply::event(&mut out, name, Some("ch"), Some(Payload::Text(rest)), None) {
        let encoded = std::str::from_utf8(&out[..n]).unwrap().to_owned();
        let mut back = vec![0u8; 2 * encoded.len()];
        let ev =
            Event::decode(&encoded, &mut back).unwrap_or_else(|e| panic!("{e:?} in {encoded}"));
        assert_eq!((ev.event, ev.data), (name, Some(rest)));
    }
    let member = MemberEntry {
        id: "u1",
        info: Some(r#"{"a":1}"#),
    };
    // (A channel the client would accept: a valid name.)
    let channel_ok = ChannelName::new(rest).is_ok();
    if let (true, Ok(n)) = (
        channel_ok,
        reply::presence_succeeded(&mut out, rest, [member].into_iter(), false),
    ) {
        let encoded = std::str::from_utf8(&out[..n]).unwrap().to_owned();
        let mut back = vec![0u8; 2 * encoded.len()];
        assert_eq!(
            Event::decode(&encoded, &mut back)
                .unwrap_or_else(|e| panic!("{e:?} in {encoded}"))
                .channel,
            Some(rest)
        );
    }
});
