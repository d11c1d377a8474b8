//! A tour of `pusher-core` on real bytes: replays a captured session with soketi (a real
//! Pusher-protocol server) through the core's handshake check, WebSocket reader and Pusher
//! decoder, then signs a private channel, a presence channel and a REST request.
//!
//! Run: `cargo run -p pusher-examples --bin demo`

#![forbid(unsafe_code)]

#[path = "../../../../core/tests/fixtures/capture.rs"]
mod capture;

use std::process::ExitCode;

use pusher_core::auth::Credentials;
use pusher_core::rest::{self, Request};
use pusher_core::wire::event::ServerMessage;
use pusher_core::wire::handshake::ClientHandshake;
use pusher_core::wire::ws::{Message, Reader, Role};
use pusher_core::{ChannelName, SocketId, Status};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("== Replaying a captured soketi 1.6.1 session (real server bytes)\n");
    let chunks = capture::chunks();
    let request = chunks.first().ok_or("empty capture")?;
    let request_text = std::str::from_utf8(&request.bytes)?;
    println!(
        "client upgrade request:\n  {}",
        request_text.lines().next().unwrap_or_default()
    );

    // The captured client used this key; our handshake recomputes the expected accept value.
    let key = request_text
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .ok_or("no key in the captured request")?;
    let mut nonce = [0u8; 16];
    base64_decode(key, &mut nonce)?;
    let handshake = ClientHandshake::new(nonce);

    let server = capture::stream(1, false);
    let Status::Complete((), head_len) = handshake.parse_response(&server)? else {
        return Err("response head incomplete".into());
    };
    println!("server answered 101, Sec-WebSocket-Accept verified ({head_len} bytes of head)\n");

    // Feed the frames three bytes at a time, as a slow network would deliver them.
    let mut reader = Reader::new([0u8; 1024], Role::Client, 1024);
    let mut scratch = [0u8; 1024];
    let mut socket_id = None;
    for piece in server[head_len..].chunks(3) {
        let mut rest = piece;
        while !rest.is_empty() {
            let n = reader.feed(rest);
            rest = &rest[n..];
            while let Some(msg) = reader.read()? {
                match msg {
                    Message::Text(text) => {
                        let decoded = ServerMessage::decode(text, &mut scratch)?;
                        if let ServerMessage::ConnectionEstablished { socket_id: id, .. } = decoded
                        {
                            socket_id = Some(id.as_str().to_owned());
                        }
                        println!("<< {}", describe(&decoded));
                    }
                    Message::Close(close) => {
                        println!("<< close {:?}", close.map(|c| c.code));
                    }
                    other => println!("<< {other:?}"),
                }
            }
        }
    }

    println!("\n== Signing with the app secret (no I/O, no heap)\n");
    let creds = Credentials::new("app-key", "app-secret");
    let socket_id = socket_id.ok_or("no connection_established in the capture")?;
    let socket = SocketId::new(&socket_id)?;
    let private = ChannelName::new("private-my-channel")?;
    let mut out = [0u8; 512];
    println!("private auth for {private} on socket {socket}:");
    println!(
        "  {}",
        creds.channel_auth_response(&mut out, socket, private, None, None)?
    );
    let presence = ChannelName::new("presence-lobby")?;
    let channel_data = r#"{"user_id":"42","user_info":{"name":"Ada 🎉"}}"#;
    println!("presence auth for {presence}:");
    println!(
        "  {}",
        creds.channel_auth_response(&mut out, socket, presence, Some(channel_data), None)?
    );

    let body = br#"{"name":"my-event","data":"{\"message\":\"hello\"}","channels":["my-channel"]}"#;
    let req = Request {
        method: "POST",
        path: "/apps/123456/events",
        params: &[],
        body: Some(body),
        timestamp: 1_795_388_343,
    };
    println!("signed REST trigger:");
    println!(
        "  POST /apps/123456/events?{}",
        rest::write_query(&mut out, &creds, &req)?
    );
    Ok(())
}

fn describe(m: &ServerMessage<'_>) -> String {
    match m {
        ServerMessage::ConnectionEstablished {
            socket_id,
            activity_timeout,
        } => {
            format!(
                "connection_established socket_id={socket_id} activity_timeout={activity_timeout:?}"
            )
        }
        ServerMessage::SubscriptionSucceeded { channel, .. } => {
            format!("subscription_succeeded {channel}")
        }
        ServerMessage::SubscriptionError {
            channel, status, ..
        } => format!("subscription_error {channel} status={status:?}"),
        ServerMessage::Pong => "pong".to_owned(),
        ServerMessage::Event(e) => {
            format!(
                "{} on {} data={}",
                e.event,
                e.channel.unwrap_or("-"),
                e.data.unwrap_or("-")
            )
        }
        other => format!("{other:?}"),
    }
}

fn base64_decode(text: &str, out: &mut [u8; 16]) -> Result<(), Box<dyn std::error::Error>> {
    use base64::Engine as _;
    let n = base64::engine::general_purpose::STANDARD.decode_slice(text, out)?;
    if n == 16 {
        Ok(())
    } else {
        Err("key is not 16 bytes".into())
    }
}
