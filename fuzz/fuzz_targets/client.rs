//! The client state machine under arbitrary server bytes, clock steps, transport events and
//! API calls. Invariants: no panic, no deadline left in the past after `handle_timeout`,
//! `Connected` exactly when a socket id is known, transmit output never larger than its buffer,
//! and no lost event: a channel event delivered while connected comes out as a `Message`
//! unless the connection visibly broke (a protocol error in earlier garbage bytes).
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use pusher_core::Status;
use pusher_core::auth::Credentials;
use pusher_core::client::{Action, Buffers, Client, Config, Event, Instant, State};
use pusher_core::wire::handshake::{parse_request, write_response};
use pusher_core::wire::message::Payload;
use pusher_core::wire::ws::{Opcode, emit_frame};

/// Room for the largest frame the target builds (255 bytes of text and its header).
const FRAME: usize = 300;

const CHANNELS: [&str; 6] = [
    "public",
    "private-a",
    "presence-p",
    "private-encrypted-e",
    "cache-c",
    "#server-to-user-1",
];

fuzz_target!(|data: &[u8]| {
    let mut rx = [0u8; 1024];
    let mut tx = [0u8; 768];
    let mut presence = [0u8; 256];
    let mut config = Config::new("app-key", "127.0.0.1");
    config.max_message = 900;
    let seed = data.first().copied().unwrap_or(0);
    let mut c: Client<'_, 4, 32> = Client::new(
        config,
        Buffers {
            rx: &mut rx,
            tx: &mut tx,
            presence: &mut presence,
        },
        u64::from(seed),
    );
    let creds = Credentials::new("app-key", "app-secret");
    let mut now = 0u64;
    // Buffers reused across operations: allocation dominated the run time under ASan.
    let mut sent = Vec::new();
    let mut text = Vec::with_capacity(256);
    let mut frame = [0u8; FRAME];
    // Raw bytes may leave a partial frame that swallows what follows; until the transport
    // closes (which resets the reader) a later event may legitimately vanish.
    let mut dirty = false;
    let mut bytes = data.get(1..).unwrap_or(&[]).iter().copied();
    let mut next = move || bytes.next();
    while let Some(op) = next() {
        let arg = next().unwrap_or(0);
        match op % 17 {
            0 => c.connect(Instant::from_millis(now)),
            1 => c.disconnect(Instant::from_millis(now)),
            2 => c.handle_connected(Instant::from_millis(now)),
            3 => {
                c.handle_closed(Instant::from_millis(now));
                dirty = false;
            }
            4 => {
                now += u64::from(arg) * 997;
                c.handle_timeout(Instant::from_millis(now));
                if let Some(t) = c.poll_timeout() {
                    assert!(
                        t.as_millis() > now
                            || c.state() != State::Connected
                            || t.as_millis() == now
                    );
                }
            }
            5 => {
                dirty |= c.state() != State::Connecting;
                // Answer the client's upgrade request, if it sent one.
                if let Ok(Status::Complete(req, _)) = parse_request(&sent) {
                    let mut resp = [0u8; 256];
                    if let Ok(n) = write_response(&mut resp, &req) {
                        let _ = deliver(&mut c, &resp[..n], now, b"");
                    }
                }
                sent.clear();
            }
            6 | 7 => {
                // A server text frame made of the next `arg` input bytes.
                text.clear();
                for _ in 0..arg {
                    text.push(next().unwrap_or(b' '));
                }
                if op % 16 == 7 {
                    text.clear();
                    write!(text, r#"{{"event":"pusher:connection_established","data":"{{\"socket_id\":\"{}.{}\",\"activity_timeout\":{}}}"}}"#, arg, seed, arg % 7).expect("vec");
                }
                let _ = deliver(&mut c, text_frame(&mut frame, &text), now, b"");
            }
            8 => {
                dirty = true;
                // Raw bytes.
                let mut raw = [0u8; 32];
                let len = usize::from(arg % 32);
                for b in &mut raw[..len] {
                    *b = next().unwrap_or(0);
                }
                let _ = deliver(&mut c, &raw[..len], now, b"");
            }
            9 => {
                let _ = c.subscribe(CHANNELS[usize::from(arg) % CHANNELS.len()]);
            }
            10 => {
                let _ = c.unsubscribe(CHANNELS[usize::from(arg) % CHANNELS.len()]);
            }
            11 => {
                let ch = CHANNELS[usize::from(arg) % CHANNELS.len()];
                let data = if ch.starts_with("presence-") {
                    Some(r#"{"user_id":"u1"}"#)
                } else {
                    None
                };
                let _ = c.authorize_locally(ch, &creds, data);
            }
            12 => {
                let ch = CHANNELS[usize::from(arg) % CHANNELS.len()];
                let _ = c.trigger(ch, "client-x", Payload::Json(r#"{"a":1}"#));
            }
            13 => {
                c.signin();
                let _ = c.signin_locally(&creds, r#"{"id":"1"}"#);
            }
            14 => {
                let _ = c.auth_failed(
                    CHANNELS[usize::from(arg) % CHANNELS.len()],
                    "1.1",
                    Some(401),
                );
            }
            15 => {
                // A well-formed channel event: must not vanish.
                let connected = c.state() == State::Connected && !dirty;
                text.clear();
                write!(text, r#"{{"event":"e","channel":"public","data":"{arg}"}}"#).expect("vec");
                let mut needle = [0u8; 3];
                let needle_len = {
                    let mut w = &mut needle[..];
                    write!(w, "{arg}").expect("three digits");
                    3 - w.len()
                };
                let seen = deliver(
                    &mut c,
                    text_frame(&mut frame, &text),
                    now,
                    &needle[..needle_len],
                );
                assert!(
                    !connected || seen.delivered || seen.broke,
                    "event {arg} lost"
                );
            }
            _ => {}
        }
        // Drain everything the client wants to say, sending `arg`-sized pieces.
        while let Some(a) = c.poll_action() {
            if a == Action::Close {
                sent.clear();
            }
        }
        let piece = usize::from(arg % 64) + 1;
        while let Some(out) = c.poll_transmit() {
            assert!(out.len() <= 768);
            let n = out.len().min(piece);
            sent.extend_from_slice(&out[..n]);
            c.consume_tx(n);
        }
        while let Some(ev) = c.poll_event() {
            if let Event::Message { data: Some(d), .. } = ev {
                assert!(d.len() <= 900);
            }
        }
        assert_eq!(
            c.state() == State::Connected,
            c.socket_id().is_some(),
            "{:?}",
            c.state()
        );
    }
});

/// What feeding bytes showed: whether a `Message` carried `needle` as its data, and whether
/// anything ended or garbled the connection.
#[derive(Default)]
struct Seen {
    delivered: bool,
    broke: bool,
}

/// Feeds bytes, polling every event.
fn deliver(c: &mut Client<'_, 4, 32>, bytes: &[u8], now: u64, needle: &[u8]) -> Seen {
    let mut seen = Seen::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        let spare = c.rx_buffer();
        let n = spare.len().min(rest.len());
        spare[..n].copy_from_slice(&rest[..n]);
        c.commit_rx(n, Instant::from_millis(now));
        rest = &rest[n..];
        let mut events = 0;
        while let Some(ev) = c.poll_event() {
            events += 1;
            assert!(events < 100_000);
            match ev {
                Event::Message { data: Some(d), .. } => seen.delivered |= d.as_bytes() == needle,
                Event::Disconnected { .. } | Event::Malformed(_) => seen.broke = true,
                _ => {}
            }
        }
        if n == 0 {
            seen.broke = true;
            break;
        }
    }
    seen
}

/// Writes `text` as one unmasked server text frame into `frame`; the frame's bytes.
fn text_frame<'f>(frame: &'f mut [u8; FRAME], text: &[u8]) -> &'f [u8] {
    match emit_frame(frame, true, Opcode::Text, text, None) {
        Ok(n) => &frame[..n],
        Err(_) => &[],
    }
}
