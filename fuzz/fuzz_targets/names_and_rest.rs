//! Name validation against the official libraries' rule, and REST signing of arbitrary
//! parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pusher_core::auth::Credentials;
use pusher_core::rest::{Request, sign, write_query, write_string_to_sign};
use pusher_core::{ChannelName, EventName, SocketId, UserId};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The regex `\A[-a-zA-Z0-9_=@,.;]+\z`, up to 164 bytes.
    let plain = !text.is_empty()
        && text.len() <= 164
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=@,.;".contains(&b));
    let ours = ChannelName::new(text);
    if !text.starts_with('#') {
        assert_eq!(ours.is_ok(), plain, "{text:?}");
    }
    let _ = EventName::new(text);
    let _ = UserId::new(text);
    let socket = SocketId::new(text);
    if let Some((a, b)) = text.split_once('.') {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
        assert_eq!(socket.is_ok(), digits(a) && digits(b), "{text:?}");
    }
    let creds = Credentials::new("key", "secret");
    let pairs: Vec<(&str, &str)> = text
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let req = Request {
        method: "GET",
        path: "/apps/1/channels",
        params: &pairs,
        body: Some(data),
        timestamp: 1,
    };
    let mut out = [0u8; 4096];
    let signed = sign(&creds, &req);
    let query = write_query(&mut out, &creds, &req).map(str::len);
    assert_eq!(
        signed.is_ok(),
        query.is_ok() || matches!(query, Err(pusher_core::rest::RestError::BufferTooSmall(_)))
    );
    let _ = write_string_to_sign(&mut out, &creds, &req);
});
