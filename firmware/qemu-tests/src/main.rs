//! Runs on an emulated Cortex-M0 and Cortex-M4 (QEMU, semihosting): every signature vector of
//! the protocol reference, parsed from the same `vectors.json` the host tests use (with the
//! core's own JSON parser), and a scripted client session against a fake server made of the
//! core's server-role encoders. Exit code 0 means every check passed; a panic exits 1.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use pusher_core::Status;
use pusher_core::auth::{self, Credentials};
use pusher_core::client::{Action, Buffers, Client, Config, Event, Instant, State};
use pusher_core::rest::{self, Request};
use pusher_core::webhook;
use pusher_core::wire::handshake::{parse_request, write_response};
use pusher_core::wire::json::Value;
use pusher_core::wire::message::server;
use pusher_core::wire::ws::{Opcode, emit_frame};
use pusher_core::{ChannelName, SocketId};

const VECTORS: &str = include_str!("../../../core/tests/fixtures/vectors.json");

fn text<'a>(v: &Value<'a>, key: &str) -> &'a str {
    v.get(key)
        .and_then(|s| s.as_raw_str())
        .and_then(|s| s.as_str())
        .unwrap_or("")
}

/// Unescaped string field (channel data and bodies hold escaped quotes).
fn unescaped<'a: 'b, 'b>(v: &Value<'a>, key: &str, buf: &'b mut [u8]) -> &'b str {
    match v.get(key).and_then(|s| s.as_raw_str()) {
        Some(raw) => raw.unescape_into(buf).unwrap_or(""),
        None => "",
    }
}

/// The cases of one vector group (none when the group is missing).
fn cases<'a>(all: &Value<'a>, group: &str) -> impl Iterator<Item = Value<'a>> {
    all.get(group)
        .and_then(|g| g.array())
        .into_iter()
        .flatten()
        .flatten()
}

fn check(ok: bool, what: &str) {
    if !ok {
        hprintln!("FAIL {}", what);
        debug::exit(debug::EXIT_FAILURE);
    }
}

fn vectors() -> usize {
    let all = Value::parse(VECTORS).unwrap_or_else(|_| panic!("vectors.json"));
    let mut checked = 0;
    let mut out = [0u8; 256];
    let mut data_buf = [0u8; 256];
    for group in ["channel_auth", "presence_auth"] {
        for case in cases(&all, group) {
            let creds = Credentials::new(text(&case, "key"), text(&case, "secret"));
            let data = if group == "presence_auth" {
                Some(unescaped(&case, "channel_data", &mut data_buf))
            } else {
                None
            };
            let socket =
                SocketId::new(text(&case, "socket_id")).unwrap_or_else(|_| panic!("socket"));
            let channel =
                ChannelName::new(text(&case, "channel")).unwrap_or_else(|_| panic!("channel"));
            let got = creds
                .channel_auth(&mut out, socket, channel, data)
                .unwrap_or("");
            check(got == text(&case, "auth"), text(&case, "id"));
            checked += 1;
        }
    }
    for case in cases(&all, "user_auth") {
        let creds = Credentials::new(text(&case, "key"), text(&case, "secret"));
        let user = unescaped(&case, "user_data", &mut data_buf);
        let socket = SocketId::new(text(&case, "socket_id")).unwrap_or_else(|_| panic!("socket"));
        check(
            creds.user_auth(&mut out, socket, user).unwrap_or("") == text(&case, "auth"),
            text(&case, "id"),
        );
        checked += 1;
    }
    for case in cases(&all, "shared_secret") {
        let hex = text(&case, "master_key_hex").as_bytes();
        let mut key = [0u8; 32];
        for (i, k) in key.iter_mut().enumerate() {
            let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            *k = digit(hex[2 * i]) << 4 | digit(hex[2 * i + 1]);
        }
        let channel =
            ChannelName::new(text(&case, "channel")).unwrap_or_else(|_| panic!("channel"));
        let secret = auth::shared_secret(channel, &key);
        let want = text(&case, "shared_secret_hex").as_bytes();
        let ok = secret.iter().enumerate().all(|(i, b)| {
            let hexpair = [
                b"0123456789abcdef"[usize::from(b >> 4)],
                b"0123456789abcdef"[usize::from(b & 15)],
            ];
            want.get(2 * i..2 * i + 2) == Some(&hexpair[..])
        });
        check(ok, text(&case, "id"));
        checked += 1;
    }
    let mut body_buf = [0u8; 256];
    for case in cases(&all, "rest_signature") {
        let sts = unescaped(&case, "string_to_sign", &mut data_buf);
        let mut lines = sts.splitn(3, '\n');
        let (method, path, query) = (
            lines.next().unwrap_or(""),
            lines.next().unwrap_or(""),
            lines.next().unwrap_or(""),
        );
        let (mut key, mut timestamp, mut has_md5) = ("", 0u64, false);
        let mut params: [(&str, &str); 4] = [("", ""); 4];
        let mut n = 0;
        for kv in query.split('&') {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            match k {
                "auth_key" => key = v,
                "auth_timestamp" => timestamp = v.parse().unwrap_or(0),
                "auth_version" => {}
                "body_md5" => has_md5 = true,
                _ => {
                    params[n] = (k, v);
                    n += 1;
                }
            }
        }
        let body = unescaped(&case, "body", &mut body_buf);
        let creds = Credentials::new(key, text(&case, "secret"));
        let req = Request {
            method,
            path,
            params: &params[..n],
            body: has_md5.then_some(body.as_bytes()),
            timestamp,
        };
        let sig = rest::sign(&creds, &req)
            .map(|s| s.to_hex())
            .unwrap_or([0; 64]);
        check(
            &sig[..] == text(&case, "signature").as_bytes(),
            text(&case, "id"),
        );
        checked += 1;
    }
    for case in cases(&all, "webhook") {
        let creds = Credentials::new(text(&case, "key"), text(&case, "secret"));
        let body = unescaped(&case, "body", &mut body_buf);
        let ok = webhook::verify(
            &creds,
            text(&case, "key"),
            text(&case, "signature"),
            body.as_bytes(),
        )
        .is_ok();
        check(ok, text(&case, "id"));
        checked += 1;
    }
    checked
}

/// Bytes from the client to the fake server, and the server's answers back.
fn session() -> usize {
    static mut RX: [u8; 2048] = [0; 2048];
    static mut TX: [u8; 512] = [0; 512];
    static mut PRESENCE: [u8; 256] = [0; 256];
    // SAFETY: `session` runs once, on one core; these are its only references.
    let (rx, tx, presence) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(RX),
            &mut *core::ptr::addr_of_mut!(TX),
            &mut *core::ptr::addr_of_mut!(PRESENCE),
        )
    };
    let mut config = Config::new("app-key", "127.0.0.1:6001");
    config.use_tls = false;
    config.max_message = 1800;
    let mut c: Client<'_, 4, 32> = Client::new(config, Buffers { rx, tx, presence }, 0x5eed);
    let creds = Credentials::new("app-key", "app-secret");
    let mut now = 0u64;
    let mut events = 0;
    c.subscribe("public")
        .unwrap_or_else(|_| panic!("subscribe"));
    c.subscribe("private-room")
        .unwrap_or_else(|_| panic!("subscribe"));
    c.connect(Instant::from_millis(now));
    check(c.poll_action() == Some(Action::Open { tls: false }), "open");
    c.handle_connected(Instant::from_millis(now));
    // The upgrade request, answered by the core's server side.
    let mut request = [0u8; 512];
    let mut len = 0;
    while let Some(out) = c.poll_transmit() {
        let n = out.len().min(request.len() - len);
        request[len..len + n].copy_from_slice(&out[..n]);
        len += n;
        c.consume_tx(n);
    }
    let mut wire = [0u8; 1024];
    let mut w = 0;
    if let Ok(Status::Complete(req, _)) = parse_request(&request[..len]) {
        w += write_response(&mut wire[w..], &req).unwrap_or(0);
    }
    let frame = |wire: &mut [u8], w: &mut usize, text: &[u8]| {
        *w += emit_frame(&mut wire[*w..], true, Opcode::Text, text, None).unwrap_or(0);
    };
    let mut buf = [0u8; 256];
    let n = server::connection_established(
        &mut buf,
        SocketId::new("123.456").unwrap_or_else(|_| panic!()),
        30,
    )
    .unwrap_or(0);
    frame(&mut wire, &mut w, &buf[..n]);
    // Delivered in 7-byte pieces, as a slow link would.
    let feed = |c: &mut Client<'_, 4, 32>, bytes: &[u8], now: u64, events: &mut usize| {
        for piece in bytes.chunks(7) {
            let spare = c.rx_buffer();
            spare[..piece.len()].copy_from_slice(piece);
            c.commit_rx(piece.len(), Instant::from_millis(now));
            while let Some(ev) = c.poll_event() {
                *events += 1;
                if let Event::AuthRequired { .. } = ev {
                    // Answered below, after the borrow ends.
                }
            }
        }
    };
    feed(&mut c, &wire[..w], now, &mut events);
    check(c.state() == State::Connected, "connected");
    c.authorize_locally("private-room", &creds, None)
        .unwrap_or_else(|_| panic!("auth"));
    while let Some(out) = c.poll_transmit() {
        let n = out.len();
        c.consume_tx(n);
    }
    let mut w = 0;
    frame(
        &mut wire,
        &mut w,
        br#"{"event":"pusher_internal:subscription_succeeded","channel":"private-room"}"#,
    );
    frame(
        &mut wire,
        &mut w,
        br#"{"event":"pusher_internal:subscription_succeeded","channel":"public"}"#,
    );
    frame(&mut wire, &mut w, br#"{"event":"pusher:ping","data":{}}"#);
    frame(&mut wire, &mut w, br#"{"event":"reading","channel":"private-room","data":"{\"t\":21.5,\"unit\":\"\\u00b0C\"}"}"#);
    feed(&mut c, &wire[..w], now, &mut events);
    check(
        c.channel_state("private-room") == Some(pusher_core::client::ChannelState::Subscribed),
        "subscribed",
    );
    // Silence: the client pings after the server's 30 s, then drops after the pong timeout.
    now += 30_000;
    c.handle_timeout(Instant::from_millis(now));
    let mut pinged = false;
    while let Some(out) = c.poll_transmit() {
        pinged |= out.len() > 6;
        let n = out.len();
        c.consume_tx(n);
    }
    check(pinged, "ping after activity timeout");
    now += 30_000;
    c.handle_timeout(Instant::from_millis(now));
    check(
        c.state() == State::Connecting,
        "reconnect after pong timeout",
    );
    check(c.poll_action() == Some(Action::Close), "close");
    events
}

/// A reading as a firmware would receive it.
#[derive(serde::Deserialize, serde::Serialize)]
struct Reading<'a> {
    sensor: &'a str,
    temp: f32,
    ok: bool,
    tags: heapless::Vec<&'a str, 4>,
    note: Option<heapless::String<32>>,
    limits: Limits,
}

#[derive(serde::Deserialize, serde::Serialize, PartialEq)]
struct Limits {
    low: i16,
    high: i16,
}

/// Typed payloads on the device: JSON.stringify-style and json.dumps-style text (escaped
/// non-ASCII, a surrogate pair, escaped quotes) into a struct, an owned event, and a struct
/// written as JSON and read back.
fn typed() -> usize {
    use pusher_core::client::{EventData, OwnedEvent};
    let shapes = [
        r#"{"sensor":"küche 🍕","temp":21.5,"ok":true,"tags":["a","b"],"note":null,"limits":{"low":-40,"high":85}}"#,
        r#"{"sensor": "k\u00fcche \ud83c\udf55", "temp": 21.5, "ok": true, "tags": ["a", "b"], "note": "say \"hi\"", "limits": {"low": -40, "high": 85}}"#,
    ];
    let mut n = 0;
    for text in shapes {
        let ev = EventData {
            event: "reading",
            channel: Some("sensors"),
            data: Some(text),
            user_id: None,
        };
        let owned: OwnedEvent<32, 256> = match OwnedEvent::copy_of(&ev) {
            Ok(o) => o,
            Err(_) => {
                check(false, "owned event");
                continue;
            }
        };
        let mut scratch = [0u8; 512];
        match owned.as_data().json::<Reading>(&mut scratch) {
            Ok(r) => {
                check(r.sensor == "küche 🍕", "typed: sensor");
                check(r.temp == 21.5 && r.ok, "typed: numbers and booleans");
                check(r.tags.as_slice() == ["a", "b"], "typed: array");
                check(r.limits == Limits { low: -40, high: 85 }, "typed: nested");
                check(
                    r.note.as_deref().is_none_or(|n| n == "say \"hi\""),
                    "typed: escaped quotes",
                );
                let mut out = [0u8; 256];
                let len = pusher_core::wire::json::to_json(&r, &mut out).unwrap_or(0);
                let mut again = [0u8; 512];
                let back = core::str::from_utf8(&out[..len]).ok().and_then(|t| {
                    pusher_core::wire::json::from_json::<Reading>(t, &mut again).ok()
                });
                check(
                    back.is_some_and(|b| b.sensor == "küche 🍕"),
                    "typed: round trip",
                );
            }
            Err(_) => check(false, "typed decode"),
        }
        n += 1;
    }
    n
}

#[entry]
fn main() -> ! {
    let vectors = vectors();
    hprintln!("vectors: {} passed", vectors);
    let typed = typed();
    hprintln!("typed payloads: {} shapes passed", typed);
    let events = session();
    hprintln!("client session: {} events, passed", events);
    hprintln!("{} passed, 0 failed", vectors + typed + 1);
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}
