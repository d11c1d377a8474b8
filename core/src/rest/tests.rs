//! Signing against the official vectors, bodies, and responses.

use super::*;
use crate::auth::Credentials;
use crate::buf::Status;
use crate::name::{ChannelName, EventName, SocketId};

#[test]
fn responses() {
    let ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
    assert_eq!(
        parse_response(ok, false),
        Ok(Status::Complete(
            Response {
                status: 200,
                body: Body::Plain(b"{\"ok\":true}")
            },
            ok.len()
        ))
    );
    for cut in 0..ok.len() {
        assert_eq!(
            parse_response(&ok[..cut], false),
            Ok(Status::Partial),
            "{cut}"
        );
        assert!(parse_response(&ok[..cut], true).is_err(), "{cut}");
    }
    let chunked = b"HTTP/1.1 413 Too Large\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
    let Ok(Status::Complete(
        Response {
            status: 413,
            body: Body::Chunked(enc),
        },
        n,
    )) = parse_response(chunked, false)
    else {
        panic!("chunked")
    };
    assert_eq!(n, chunked.len());
    let mut out = [0u8; 32];
    let len = dechunk(enc, &mut out).unwrap();
    assert_eq!(&out[..len], b"hello world");
    let to_close = b"HTTP/1.1 401 Unauthorized\r\n\r\nInvalid signature";
    assert_eq!(parse_response(to_close, false), Ok(Status::Partial));
    assert_eq!(
        parse_response(to_close, true),
        Ok(Status::Complete(
            Response {
                status: 401,
                body: Body::Plain(b"Invalid signature")
            },
            to_close.len()
        ))
    );
    assert_eq!(
        parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false),
        Err(ResponseError::Malformed)
    );
    assert_eq!(
        parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            false
        ),
        Err(ResponseError::BadChunk)
    );
    assert_eq!(
        parse_response(b"nonsense\r\n\r\n", false),
        Err(ResponseError::Malformed)
    );
}

#[test]
fn sorted_lowercase_and_escaped() {
    let c = Credentials::new("key", "secret");
    let params = [("Zeta", "a b&c"), ("info", "user_count,subscription_count")];
    let req = Request {
        method: "GET",
        path: "/apps/1/channels",
        params: &params,
        body: None,
        timestamp: 1000,
    };
    let mut out = [0u8; 512];
    let s = write_string_to_sign(&mut out, &c, &req).unwrap();
    assert_eq!(
        s,
        "GET\n/apps/1/channels\nauth_key=key&auth_timestamp=1000&auth_version=1.0&info=user_count,subscription_count&zeta=a b&c"
    );
    let q = write_query(&mut out, &c, &req).unwrap();
    assert!(q.starts_with("auth_key=key&auth_signature="), "{q}");
    assert!(q.ends_with(
        "&auth_timestamp=1000&auth_version=1.0&info=user_count%2Csubscription_count&zeta=a%20b%26c"
    ));
}

#[test]
fn parameter_rules() {
    let c = Credentials::new("key", "secret");
    let mut out = [0u8; 512];
    let req = |params: &'static [(&'static str, &'static str)]| Request {
        method: "GET",
        path: "/apps/1/channels",
        params,
        body: None,
        timestamp: 1,
    };
    assert_eq!(
        write_query(&mut out, &c, &req(&[("Auth_Key", "x")])),
        Err(RestError::ReservedParam)
    );
    assert_eq!(
        write_query(&mut out, &c, &req(&[("a", "1"), ("A", "2")])),
        Err(RestError::DuplicateParam)
    );
    assert_eq!(
        write_query(&mut out, &c, &req(&[("a=b", "1")])),
        Err(RestError::InvalidParamKey)
    );
    let bad = Request {
        method: "get",
        ..req(&[])
    };
    assert_eq!(sign(&c, &bad), Err(RestError::InvalidRequestLine));
    let bad = Request {
        path: "/apps/1?x=1",
        ..req(&[])
    };
    assert_eq!(sign(&c, &bad), Err(RestError::InvalidRequestLine));
    assert!(matches!(
        write_query(&mut out[..20], &c, &req(&[])),
        Err(RestError::BufferTooSmall(_))
    ));
}

#[test]
fn bodies_and_limits() {
    let ch = [
        ChannelName::new("a").unwrap(),
        ChannelName::new("b").unwrap(),
    ];
    let ev = EventName::new("my-event").unwrap();
    let mut out = [0u8; 256];
    let n = write_trigger_body(
        &mut out,
        &ch,
        ev,
        r#"{"x":1}"#,
        Some(SocketId::new("1.2").unwrap()),
        None,
    )
    .unwrap();
    assert_eq!(
        &out[..n],
        br#"{"name":"my-event","data":"{\"x\":1}","channels":["a","b"],"socket_id":"1.2"}"#
    );
    assert_eq!(
        write_trigger_body(&mut out, &[], ev, "", None, None),
        Err(RestError::NoChannels)
    );
    let many = [ChannelName::new("a").unwrap(); 101];
    assert_eq!(
        write_trigger_body(&mut out, &many, ev, "", None, None),
        Err(RestError::TooManyChannels)
    );
    let big = "x".repeat(10 * 1024 + 1);
    assert_eq!(
        write_trigger_body(&mut out, &ch, ev, &big, None, None),
        Err(RestError::DataTooLarge)
    );
    let enc = [ChannelName::new("private-encrypted-a").unwrap()];
    assert_eq!(
        write_trigger_body(&mut out, &enc, ev, "", None, None),
        Err(RestError::EncryptedChannel)
    );
    let e = BatchEvent {
        channel: ch[0],
        event: ev,
        data: "d",
        socket_id: None,
        info: Some("subscription_count"),
    };
    let n = write_batch_body(&mut out, &[e, e]).unwrap();
    assert_eq!(
        &out[..n],
        br#"{"batch":[{"channel":"a","name":"my-event","data":"d","info":"subscription_count"},{"channel":"a","name":"my-event","data":"d","info":"subscription_count"}]}"#
    );
    assert_eq!(
        write_batch_body(&mut out, &[e; 11]),
        Err(RestError::BatchSize)
    );
    assert_eq!(write_batch_body(&mut out, &[]), Err(RestError::BatchSize));
}
