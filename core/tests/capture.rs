//! The real bytes of a soketi session (upgrade, frames, close, signed REST requests from the
//! official PyPI and npm libraries) decoded by the core.

#[path = "fixtures/capture.rs"]
mod capture;

use base64::Engine as _;
use pusher_core::Status;
use pusher_core::auth::Credentials;
use pusher_core::rest::{self, Request};
use pusher_core::wire::event::{DataForm, Envelope, Event, ServerMessage};
use pusher_core::wire::handshake::ClientHandshake;
use pusher_core::wire::ws::{Message, Reader, Role};

fn request_key(request: &[u8]) -> [u8; 16] {
    let text = std::str::from_utf8(request).unwrap();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let mut nonce = [0u8; 16];
    base64::engine::general_purpose::STANDARD
        .decode_slice(key, &mut nonce)
        .unwrap();
    nonce
}

/// Server-to-client messages of connection #1, described in one line each.
fn server_messages(chunk_size: usize) -> Vec<String> {
    let hs = ClientHandshake::new(request_key(&capture::chunks()[0].bytes));
    let bytes = capture::stream(1, false);
    let Status::Complete((), head) = hs.parse_response(&bytes).unwrap() else {
        panic!("partial")
    };
    let mut reader = Reader::new([0u8; 512], Role::Client, 512);
    let mut scratch = [0u8; 512];
    let mut out = Vec::new();
    for piece in bytes[head..].chunks(chunk_size) {
        let mut rest = piece;
        while !rest.is_empty() {
            let n = reader.feed(rest);
            rest = &rest[n..];
            while let Some(msg) = reader.read().unwrap() {
                out.push(match msg {
                    Message::Text(text) => {
                        describe(ServerMessage::decode(text, &mut scratch).unwrap())
                    }
                    Message::Close(c) => format!("close {:?}", c.map(|c| c.code)),
                    other => format!("{other:?}"),
                });
            }
        }
    }
    out
}

fn describe(m: ServerMessage<'_>) -> String {
    match m {
        ServerMessage::ConnectionEstablished {
            socket_id,
            activity_timeout,
        } => {
            format!("established {socket_id} {activity_timeout:?}")
        }
        ServerMessage::Pong => "pong".into(),
        ServerMessage::SubscriptionSucceeded { channel, presence } => {
            format!("subscribed {channel} {presence:?}")
        }
        ServerMessage::SubscriptionError {
            channel,
            kind,
            error,
            status,
        } => format!(
            "subscription_error {channel} {} {} {status:?}",
            kind.unwrap().raw(),
            error.unwrap().raw()
        ),
        ServerMessage::Event(e) => format!(
            "event {} {:?} {:?} {:?}",
            e.event, e.channel, e.data, e.form
        ),
        other => format!("unexpected {other:?}"),
    }
}

#[test]
fn server_frames_decode_in_any_chunking() {
    let expected = [
        "established 2991148437.7070406786 Some(30)",
        "pong",
        "subscribed my-channel None",
        "subscribed private-my-channel None",
        "subscription_error private-bad AuthError The connection is unauthorized. Some(401)",
        r#"event my-event Some("my-channel") Some("{\"message\": \"hello from python\"}") String"#,
        r#"event my-event Some("private-my-channel") Some("{\"message\":\"hello from node\"}") String"#,
        "close Some(1000)",
    ];
    for chunk in [1, 2, 3, 5, 8, 13, 64, 4096] {
        assert_eq!(server_messages(chunk), expected, "chunk size {chunk}");
    }
}

#[test]
fn client_frames_decode_in_the_server_role() {
    let chunks = capture::chunks();
    let request = &chunks[0].bytes;
    let Status::Complete(req, n) = pusher_core::wire::handshake::parse_request(request).unwrap()
    else {
        panic!("partial")
    };
    assert_eq!(n, request.len());
    assert_eq!(req.app_key(), Some("app-key"));
    assert_eq!(&req.accept(), b"d0ysVxBI5yjpXlIuv1TXoT4KQkA=");

    let bytes = capture::stream(1, true);
    let mut reader = Reader::new(vec![0u8; 1024], Role::Server, 1024);
    assert_eq!(
        reader.feed(&bytes[request.len()..]),
        bytes.len() - request.len()
    );
    let mut seen = Vec::new();
    while let Some(msg) = reader.read().unwrap() {
        match msg {
            Message::Text(text) => {
                let env = Envelope::parse(text).unwrap();
                let mut scratch = [0u8; 512];
                let ev = Event::decode(text, &mut scratch).unwrap();
                assert_eq!(ev.form, DataForm::Json);
                seen.push(format!("{} {}", env.event.raw(), ev.data.unwrap()));
            }
            Message::Close(c) => seen.push(format!("close {}", c.unwrap().code)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen[0], r#"pusher:ping {}"#);
    assert_eq!(seen[1], r#"pusher:subscribe {"channel":"my-channel"}"#);
    assert!(
        seen[2].starts_with(r#"pusher:subscribe {"channel":"private-my-channel","auth":"app-key:"#)
    );
    assert_eq!(seen.last().unwrap(), "close 1000");
    assert_eq!(seen.len(), 5);
}

/// Splits a captured REST request into path, query pairs and body.
fn rest_request(conn: u32) -> (String, Vec<(String, String)>, Vec<u8>) {
    let bytes = capture::stream(conn, true);
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(head) = req.parse(&bytes).unwrap() else {
        panic!("partial")
    };
    let (path, query) = req.path.unwrap().split_once('?').unwrap();
    let pairs = query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    (path.to_string(), pairs, bytes[head..].to_vec())
}

#[test]
fn official_libraries_rest_signatures_match() {
    // #2 is the PyPI `pusher` 3.3.4 library, #3 the npm `pusher` 5.3.4 library.
    let creds = Credentials::new("app-key", "app-secret");
    for conn in [2, 3] {
        let (path, pairs, body) = rest_request(conn);
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let req = Request {
            method: "POST",
            path: &path,
            params: &[],
            body: Some(&body),
            timestamp: get("auth_timestamp").parse().unwrap(),
        };
        let sig = rest::sign(&creds, &req).unwrap();
        assert_eq!(
            std::str::from_utf8(&sig.to_hex()).unwrap(),
            get("auth_signature"),
            "connection #{conn}"
        );
        let mut out = [0u8; 512];
        let query = rest::write_query(&mut out, &creds, &req).unwrap();
        let mut ours: Vec<_> = query.split('&').map(str::to_string).collect();
        let mut theirs: Vec<_> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "connection #{conn}");
    }
}

#[test]
fn rest_response_bodies_parse() {
    for conn in [2, 3] {
        let bytes = capture::stream(conn, false);
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut resp = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(head) = resp.parse(&bytes).unwrap() else {
            panic!("partial")
        };
        assert_eq!(resp.code, Some(200));
        let body = std::str::from_utf8(&bytes[head..]).unwrap();
        let v = pusher_core::wire::json::Value::parse(body).unwrap();
        assert_eq!(v.get("ok").and_then(|v| v.as_bool()), Some(true));
    }
}
