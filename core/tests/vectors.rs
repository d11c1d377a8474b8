//! Every signature vector of the protocol reference (§7), recomputed by the core.
//! The vectors come from the official libraries' tests and docs (`fixtures/vectors.json`).

use pusher_core::auth::{self, Credentials};
use pusher_core::rest::{self, Request};
use pusher_core::webhook;
use pusher_core::{ChannelName, SocketId};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("fixtures/vectors.json")).unwrap()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("field {k} in {v}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn channel_and_presence_auth() {
    let v = vectors();
    let all = v["channel_auth"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["presence_auth"].as_array().unwrap());
    let mut count = 0;
    for case in all {
        let creds = Credentials::new(s(case, "key"), s(case, "secret"));
        let socket = SocketId::new(s(case, "socket_id")).unwrap();
        let channel = ChannelName::new(s(case, "channel")).unwrap();
        let data = case.get("channel_data").and_then(Value::as_str);
        let mut out = [0u8; 256];
        let auth = creds.channel_auth(&mut out, socket, channel, data).unwrap();
        assert_eq!(auth, s(case, "auth"), "{}", s(case, "id"));
        count += 1;
    }
    assert_eq!(count, 9);
}

#[test]
fn presence_response_embeds_channel_data_verbatim() {
    // R1: the Go library's full response.
    let creds = Credentials::new("278d425bdf160c739803", "7ad3773142a6692b25b8");
    let data = r#"{"user_id":"10","user_info":{"name":"Mr. Pusher"}}"#;
    let mut out = [0u8; 512];
    let json = creds
        .channel_auth_response(
            &mut out,
            SocketId::new("1234.1234").unwrap(),
            ChannelName::new("presence-foobar").unwrap(),
            Some(data),
            None,
        )
        .unwrap();
    let parsed: Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        parsed["auth"],
        "278d425bdf160c739803:48dac51d2d7569e1e9c0f48c227d4b26f238fa68e5c0bb04222c966909c4f7c4"
    );
    assert_eq!(parsed["channel_data"], data);
    assert_eq!(
        json,
        r#"{"auth":"278d425bdf160c739803:48dac51d2d7569e1e9c0f48c227d4b26f238fa68e5c0bb04222c966909c4f7c4","channel_data":"{\"user_id\":\"10\",\"user_info\":{\"name\":\"Mr. Pusher\"}}"}"#
    );
}

#[test]
fn user_auth() {
    let v = vectors();
    for case in v["user_auth"].as_array().unwrap() {
        let creds = Credentials::new(s(case, "key"), s(case, "secret"));
        let socket = SocketId::new(s(case, "socket_id")).unwrap();
        let mut out = [0u8; 256];
        assert_eq!(
            creds
                .user_auth(&mut out, socket, s(case, "user_data"))
                .unwrap(),
            s(case, "auth")
        );
        let json = creds
            .user_auth_response(&mut out, socket, s(case, "user_data"))
            .unwrap();
        let parsed: Value = serde_json::from_str(json).unwrap();
        assert_eq!(parsed["auth"], s(case, "auth"));
        assert_eq!(parsed["user_data"], s(case, "user_data"));
    }
}

#[test]
fn encrypted_channel_shared_secrets() {
    let v = vectors();
    for case in v["shared_secret"].as_array().unwrap() {
        let key_hex = s(case, "master_key_hex");
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(&key_hex[2 * i..2 * i + 2], 16).unwrap();
        }
        if let Some(b64) = case.get("master_key_base64").and_then(Value::as_str) {
            assert_eq!(auth::decode_master_key(b64).unwrap(), key);
        }
        let channel = ChannelName::new(s(case, "channel")).unwrap();
        assert_eq!(
            hex(&auth::shared_secret(channel, &key)),
            s(case, "shared_secret_hex"),
            "{}",
            s(case, "id")
        );
    }
    // E1's response from the Node library's test: shared_secret in base64 next to the auth.
    let key = auth::decode_master_key("zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=").unwrap();
    let creds = Credentials::new("f00d", "tofu");
    let mut out = [0u8; 256];
    let channel = ChannelName::new("private-encrypted-bla").unwrap();
    let socket = SocketId::new("123.456").unwrap();
    assert_eq!(
        // The Node library JSON-encodes the channel data "foo", so the signed bytes are `"foo"`.
        creds
            .channel_auth(&mut out, socket, channel, Some("\"foo\""))
            .unwrap(),
        "f00d:962c48b78bf93d98ff4c92ee7dff04865821455b7b401e9d60a9e0a90af2c105"
    );
    let json = creds
        .channel_auth_response(&mut out, socket, channel, None, Some(&key))
        .unwrap();
    let parsed: Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        parsed["shared_secret"],
        "nlr49ISQHz91yS3cy/yWmW8wFMNeTnNL5tNHnbPJcLQ="
    );
    // E2 in the Python library's test: auth plus shared secret for foo/bar.
    let key = auth::decode_master_key("OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk=").unwrap();
    let creds = Credentials::new("foo", "bar");
    let channel = ChannelName::new("private-encrypted-channel").unwrap();
    let json = creds
        .channel_auth_response(
            &mut out,
            SocketId::new("345.23").unwrap(),
            channel,
            None,
            Some(&key),
        )
        .unwrap();
    let parsed: Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        parsed["auth"],
        "foo:fff0503dfe4929f5162efe4d1dacbce524b0d8e7e1331117a8651c0e74d369e3"
    );
    assert_eq!(
        parsed["shared_secret"],
        "VmIsNZtCSteh8kazd2toc+ofhohBtUouQRSDtRvuyVI="
    );
}

/// Rebuilds each request from its string to sign and checks both the string and the signature.
#[test]
fn rest_signatures() {
    let v = vectors();
    let mut count = 0;
    for case in v["rest_signature"].as_array().unwrap() {
        let sts = s(case, "string_to_sign");
        let mut lines = sts.splitn(3, '\n');
        let (method, path, query) = (
            lines.next().unwrap(),
            lines.next().unwrap(),
            lines.next().unwrap(),
        );
        let mut key = "";
        let mut timestamp = 0;
        let mut has_md5 = false;
        let mut params = Vec::new();
        for kv in query.split('&') {
            let (k, val) = kv.split_once('=').unwrap();
            match k {
                "auth_key" => key = val,
                "auth_timestamp" => timestamp = val.parse().unwrap(),
                "auth_version" => assert_eq!(val, "1.0"),
                "body_md5" => has_md5 = true,
                _ => params.push((k, val)),
            }
        }
        let body = case.get("body").and_then(Value::as_str).unwrap_or("");
        let creds = Credentials::new(key, s(case, "secret"));
        let req = Request {
            method,
            path,
            params: &params,
            body: has_md5.then_some(body.as_bytes()),
            timestamp,
        };
        let mut out = [0u8; 512];
        assert_eq!(
            rest::write_string_to_sign(&mut out, &creds, &req).unwrap(),
            sts,
            "{}",
            s(case, "id")
        );
        assert_eq!(
            hex(&rest::sign(&creds, &req).unwrap().0),
            s(case, "signature"),
            "{}",
            s(case, "id")
        );
        count += 1;
    }
    assert_eq!(count, 8);
}

#[test]
fn rest_query_string_matches_the_go_library_url() {
    // H1: the full URL from the docs and the Go library's test.
    let creds = Credentials::new("278d425bdf160c739803", "7ad3773142a6692b25b8");
    let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
    let req = Request {
        method: "POST",
        path: "/apps/3/events",
        params: &[],
        body: Some(body),
        timestamp: 1353088179,
    };
    let mut out = [0u8; 512];
    assert_eq!(
        rest::write_query(&mut out, &creds, &req).unwrap(),
        "auth_key=278d425bdf160c739803&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
    );
}

#[test]
fn webhook_signatures() {
    let v = vectors();
    for case in v["webhook"].as_array().unwrap() {
        let creds = Credentials::new(s(case, "key"), s(case, "secret"));
        let body = s(case, "body").as_bytes();
        assert_eq!(
            webhook::verify(&creds, s(case, "key"), s(case, "signature"), body),
            Ok(()),
            "{}",
            s(case, "id")
        );
        let mut tampered = body.to_vec();
        tampered.push(b' ');
        assert_eq!(
            webhook::verify(&creds, s(case, "key"), s(case, "signature"), &tampered),
            Err(webhook::WebhookError::BadSignature)
        );
    }
}
