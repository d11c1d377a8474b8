//! Deterministic tests: a scripted fake server and a manual clock drive the client through
//! every state, close-code class, timer and subscription path (quinn-proto's in-memory style).

use std::boxed::Box;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use super::*;
use crate::auth::Credentials;
use crate::buf::Status;
use crate::name::{NameError, SocketId};
use crate::wire::handshake::{parse_request, write_response};
use crate::wire::message::{self, Payload, server};
use crate::wire::ws::{CloseFrame, Message, Opcode, Reader, Role, emit_close, emit_frame};

type TestClient = Client<'static>;

fn leak(n: usize) -> &'static mut [u8] {
    Box::leak(std::vec![0u8; n].into_boxed_slice())
}

fn ms(t: u64) -> Instant {
    Instant::from_millis(t)
}

/// The server side of one connection, scripted by the test.
struct Server {
    reader: Reader<Vec<u8>>,
    upgraded: bool,
    request: Vec<u8>,
    /// Text messages the client sent, in order.
    got: Vec<String>,
    /// Close codes and pings the client sent.
    control: Vec<String>,
    /// Bytes for the client.
    out: Vec<u8>,
}

impl Server {
    fn new() -> Self {
        Server {
            reader: Reader::new(std::vec![0u8; 8192], Role::Server, 8192),
            upgraded: false,
            request: Vec::new(),
            got: Vec::new(),
            control: Vec::new(),
            out: Vec::new(),
        }
    }

    fn receive(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        if !self.upgraded {
            self.request.extend_from_slice(bytes);
            let Ok(Status::Complete(req, n)) = parse_request(&self.request) else {
                return;
            };
            let mut resp = [0u8; 256];
            let m = write_response(&mut resp, &req).unwrap();
            self.out.extend_from_slice(&resp[..m]);
            self.upgraded = true;
            let rest = self.request[n..].to_vec();
            self.feed(&rest);
            return;
        }
        while !bytes.is_empty() {
            let n = self.reader.feed(bytes);
            bytes = &bytes[n..];
            self.drain();
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.reader.feed(bytes);
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(m) = self.reader.read().unwrap() {
            match m {
                Message::Text(t) => self.got.push(t.to_string()),
                Message::Close(c) => self.control.push(format!("close {:?}", c.map(|c| c.code))),
                Message::Ping(p) => self.control.push(format!("ping {p:?}")),
                Message::Pong(p) => self.control.push(format!("pong {p:?}")),
                Message::Binary(_) => self.control.push("binary".into()),
            }
        }
    }

    fn text(&mut self, text: &str) {
        let mut frame = std::vec![0u8; text.len() + 14];
        let n = emit_frame(&mut frame, true, Opcode::Text, text.as_bytes(), None).unwrap();
        self.out.extend_from_slice(&frame[..n]);
    }

    fn established(&mut self, socket_id: &str, timeout: u32) {
        let mut buf = [0u8; 256];
        let n =
            server::connection_established(&mut buf, SocketId::new(socket_id).unwrap(), timeout)
                .unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap().to_string();
        self.text(&text);
    }

    fn close(&mut self, code: u16) {
        let mut frame = [0u8; 64];
        let n = emit_close(
            &mut frame,
            Some(CloseFrame {
                code,
                reason: "bye",
            }),
            None,
        )
        .unwrap();
        self.out.extend_from_slice(&frame[..n]);
    }

    fn take_got(&mut self) -> Vec<String> {
        core::mem::take(&mut self.got)
    }
}

/// Client, server and clock.
struct Rig {
    c: TestClient,
    s: Server,
    now: u64,
    /// Events seen, described.
    events: Vec<String>,
    /// Actions seen.
    actions: Vec<Action>,
    /// Read/write chunk size (0: everything at once).
    chunk: usize,
}

fn describe(e: &Event<'_>) -> String {
    match e {
        Event::StateChanged { previous, current } => format!("state {previous:?}->{current:?}"),
        Event::Disconnected {
            problem,
            retry,
            retry_in,
        } => {
            format!(
                "disconnected {problem:?} {retry:?} {:?}",
                retry_in.map(|d| d.as_millis())
            )
        }
        Event::GaveUp => "gave up".into(),
        Event::Error { code, message } => format!("error {code:?} {}", message.raw()),
        Event::Malformed(e) => format!("malformed {e:?}"),
        Event::AuthRequired { channel, socket_id } => format!("auth {channel} {socket_id}"),
        Event::SigninRequired { socket_id } => format!("signin required {socket_id}"),
        Event::Subscribed { channel } => format!("subscribed {channel}"),
        Event::SubscriptionError { channel, status } => {
            format!("subscription error {channel} {status:?}")
        }
        Event::Message {
            event,
            channel,
            data,
            user_id,
        } => {
            format!("message {event} {channel:?} {data:?} {user_id:?}")
        }
        Event::MemberAdded {
            channel,
            id,
            info,
            new,
        } => format!("member+ {channel} {id} {info} {new}"),
        Event::MemberRemoved { channel, id } => format!("member- {channel} {id}"),
        Event::PresenceOverflow { channel } => format!("overflow {channel}"),
        Event::SubscriptionCount { channel, count } => format!("count {channel} {count}"),
        Event::CacheMiss { channel } => format!("cache miss {channel}"),
        Event::SignedIn { user_data } => format!("signed in {}", user_data.raw()),
        Event::Watchlist { events } => format!("watchlist {}", events.raw()),
        Event::Ping => "ping".into(),
        Event::Pong => "pong".into(),
    }
}

impl Rig {
    fn new() -> Self {
        Self::with(|_| {})
    }

    fn with(tune: impl FnOnce(&mut Config<'static>)) -> Self {
        let mut config = Config::new("app-key", "127.0.0.1:6001");
        config.use_tls = false;
        tune(&mut config);
        let c = Client::new(
            config,
            Buffers {
                rx: leak(4096),
                tx: leak(2048),
                presence: leak(1024),
            },
            7,
        );
        Rig {
            c,
            s: Server::new(),
            now: 0,
            events: Vec::new(),
            actions: Vec::new(),
            chunk: 0,
        }
    }

    /// Moves bytes both ways and collects events until nothing changes.
    fn pump(&mut self) {
        for _ in 0..1000 {
            let mut moved = false;
            while let Some(a) = self.c.poll_action() {
                self.actions.push(a);
                moved = true;
            }
            while let Some(out) = self.c.poll_transmit() {
                let n = if self.chunk == 0 {
                    out.len()
                } else {
                    out.len().min(self.chunk)
                };
                let bytes = out[..n].to_vec();
                self.c.consume_tx(n);
                self.s.receive(&bytes);
                moved = true;
            }
            if !self.s.out.is_empty() {
                let spare = self.c.rx_buffer();
                let mut n = spare.len().min(self.s.out.len());
                if self.chunk != 0 {
                    n = n.min(self.chunk);
                }
                spare[..n].copy_from_slice(&self.s.out[..n]);
                self.s.out.drain(..n);
                self.c.commit_rx(n, ms(self.now));
                moved = n > 0;
            }
            while let Some(e) = self.c.poll_event() {
                self.events.push(describe(&e));
                moved = true;
            }
            if !moved {
                return;
            }
        }
        panic!("pump did not settle");
    }

    fn take(&mut self) -> Vec<String> {
        core::mem::take(&mut self.events)
    }

    fn take_actions(&mut self) -> Vec<Action> {
        core::mem::take(&mut self.actions)
    }

    /// Runs the transport side of an `Open`: a fresh server, then `handle_connected`.
    fn accept(&mut self) {
        self.s = Server::new();
        self.c.handle_connected(ms(self.now));
        self.pump();
    }

    /// connect + open + upgrade + established.
    fn connected(&mut self, socket_id: &str) {
        self.c.connect(ms(self.now));
        self.pump();
        assert_eq!(self.take_actions(), [Action::Open { tls: false }]);
        self.accept();
        self.s.established(socket_id, 120);
        self.pump();
        assert_eq!(self.c.state(), State::Connected);
    }

    fn advance(&mut self, to: u64) {
        let mut steps = 0;
        while let Some(t) = self.c.poll_timeout() {
            if t.as_millis() > to {
                break;
            }
            steps += 1;
            assert!(steps < 1000, "deadline {t:?} never clears");
            self.now = self.now.max(t.as_millis());
            self.c.handle_timeout(ms(self.now));
            self.pump();
        }
        self.now = to;
        self.c.handle_timeout(ms(self.now));
        self.pump();
    }

    fn closed(&mut self) {
        self.c.handle_closed(ms(self.now));
        self.pump();
    }
}

#[test]
fn state_size_fits_the_budget() {
    std::println!(
        "client state with default capacities: {} bytes",
        TestClient::STATE_SIZE
    );
    // Checked when this test compiles: the budget is 1 KiB besides the caller's buffers.
    const { assert!(TestClient::STATE_SIZE <= 1024) };
}

#[test]
fn connects_and_reports_each_transition() {
    let mut r = Rig::new();
    assert_eq!(r.c.state(), State::Initialized);
    assert_eq!(r.c.poll_action(), None);
    r.connected("1.2");
    assert_eq!(
        r.take(),
        [
            "state Initialized->Connecting",
            "state Connecting->Connected"
        ]
    );
    assert_eq!(r.c.socket_id(), Some("1.2"));
    let req = std::str::from_utf8(&r.s.request).unwrap();
    assert!(
        req.starts_with("GET /app/app-key?protocol=7&client=rust-pusher&version="),
        "{req}"
    );
    // connect() again is a no-op.
    r.c.connect(ms(r.now));
    r.pump();
    assert!(r.take().is_empty() && r.take_actions().is_empty());
}

#[test]
fn subscriptions_queue_until_connected_and_auth_is_per_socket() {
    let mut r = Rig::new();
    r.c.subscribe("my-channel").unwrap();
    r.c.subscribe("private-x").unwrap();
    r.c.subscribe("my-channel").unwrap();
    assert_eq!(
        r.c.subscribe("#server-to-user-1"),
        Err(ClientError::ReservedChannel)
    );
    assert_eq!(
        r.c.subscribe("bad name"),
        Err(ClientError::Name(NameError::InvalidByte { at: 3 }))
    );
    assert_eq!(r.c.channel_state("my-channel"), Some(ChannelState::Pending));
    r.connected("1.2");
    assert_eq!(
        r.s.take_got(),
        [r#"{"event":"pusher:subscribe","data":{"channel":"my-channel"}}"#]
    );
    assert!(r.take().contains(&"auth private-x 1.2".to_string()));
    assert_eq!(
        r.c.channel_state("private-x"),
        Some(ChannelState::AwaitingAuth)
    );
    // A stale answer is refused; the right one subscribes.
    assert_eq!(
        r.c.provide_auth("private-x", "9.9", "k:s", None),
        Err(ClientError::StaleSocketId)
    );
    assert_eq!(
        r.c.provide_auth("private-x", "1.2", "k:s", Some("{}")),
        Err(ClientError::BadChannelData)
    );
    r.c.provide_auth("private-x", "1.2", "k:s", None).unwrap();
    assert_eq!(
        r.c.provide_auth("private-x", "1.2", "k:s", None),
        Err(ClientError::NotAwaitingAuth)
    );
    r.pump();
    assert_eq!(
        r.s.take_got(),
        [r#"{"event":"pusher:subscribe","data":{"auth":"k:s","channel":"private-x"}}"#]
    );
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-x"}"#);
    r.s.text(
        r#"{"event":"pusher_internal:subscription_succeeded","channel":"my-channel","data":"{}"}"#,
    );
    r.s.text(r#"{"event":"greet","channel":"my-channel","data":"{\"hi\":\"\\u00e9\"}"}"#);
    r.pump();
    assert_eq!(
        r.take(),
        [
            "subscribed private-x",
            "subscribed my-channel",
            r#"message greet Some("my-channel") Some("{\"hi\":\"\\u00e9\"}") None"#
        ]
    );
    assert_eq!(
        r.c.channel_state("private-x"),
        Some(ChannelState::Subscribed)
    );
    // Subscribing while connected goes out at once; unsubscribing sends the frame.
    r.c.subscribe("later").unwrap();
    r.c.unsubscribe("my-channel").unwrap();
    r.pump();
    assert_eq!(
        r.s.take_got(),
        [
            r#"{"event":"pusher:unsubscribe","data":{"channel":"my-channel"}}"#,
            r#"{"event":"pusher:subscribe","data":{"channel":"later"}}"#
        ]
    );
    assert_eq!(r.c.channel_state("my-channel"), None);
    assert_eq!(r.c.unsubscribe("nope"), Err(ClientError::UnknownChannel));
}

#[test]
fn auth_failure_and_server_rejection_are_per_channel_events() {
    let mut r = Rig::new();
    r.c.subscribe("private-a").unwrap();
    r.c.subscribe("private-b").unwrap();
    r.connected("3.4");
    r.take();
    r.c.auth_failed("private-a", "3.4", Some(403)).unwrap();
    assert_eq!(r.c.channel_state("private-a"), Some(ChannelState::Failed));
    r.pump();
    assert_eq!(r.take(), ["subscription error private-a Some(403)"]);
    r.c.provide_auth("private-b", "3.4", "k:bad", None).unwrap();
    r.pump();
    r.s.text(r#"{"event":"pusher:subscription_error","channel":"private-b","data":{"type":"AuthError","error":"no","status":401}}"#);
    r.s.text(r#"{"event":"pusher:error","data":{"code":null,"message":"Invalid signature"}}"#);
    r.pump();
    assert_eq!(
        r.take(),
        [
            "subscription error private-b Some(401)",
            "error None Invalid signature"
        ]
    );
    assert_eq!(r.c.channel_state("private-b"), Some(ChannelState::Failed));
    assert_eq!(r.c.state(), State::Connected);
    r.s.text(r#"{"event":"pusher:cache_miss","channel":"cache-x"}"#);
    r.s.text(r#"{"event":"pusher_internal:subscription_count","channel":"c","data":"{\"subscription_count\":5}"}"#);
    r.pump();
    assert_eq!(r.take(), ["cache miss cache-x", "count c 5"]);
}

#[test]
fn reconnect_resubscribes_with_fresh_auth() {
    let mut r = Rig::new();
    r.c.subscribe("public").unwrap();
    r.c.subscribe("private-x").unwrap();
    r.connected("1.1");
    r.c.provide_auth("private-x", "1.1", "k:one", None).unwrap();
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-x"}"#);
    r.pump();
    r.take();
    // The transport dies.
    r.closed();
    let ev = r.take();
    assert!(
        ev[0].starts_with("disconnected TransportLost Backoff Some("),
        "{ev:?}"
    );
    assert_eq!(ev[1], "state Connected->Connecting");
    assert_eq!(r.c.channel_state("private-x"), Some(ChannelState::Pending));
    assert_eq!(r.c.socket_id(), None);
    // An answer for the old socket is refused now.
    assert_eq!(
        r.c.provide_auth("private-x", "1.1", "k:one", None),
        Err(ClientError::NotConnected)
    );
    let retry = r.c.poll_timeout().unwrap().as_millis();
    assert!(retry <= 1000);
    r.advance(retry);
    assert_eq!(r.take_actions(), [Action::Open { tls: false }]);
    r.accept();
    r.s.established("2.2", 120);
    r.pump();
    assert_eq!(
        r.s.take_got(),
        [r#"{"event":"pusher:subscribe","data":{"channel":"public"}}"#]
    );
    assert!(r.take().contains(&"auth private-x 2.2".to_string()));
    assert_eq!(
        r.c.provide_auth("private-x", "1.1", "k:one", None),
        Err(ClientError::StaleSocketId)
    );
    r.c.provide_auth("private-x", "2.2", "k:two", None).unwrap();
    r.pump();
    assert_eq!(
        r.s.take_got(),
        [r#"{"event":"pusher:subscribe","data":{"auth":"k:two","channel":"private-x"}}"#]
    );
}

#[test]
fn local_signer_answers_auth() {
    let mut r = Rig::new();
    r.c.subscribe("private-my-channel").unwrap();
    r.connected("2991148437.7070406786");
    let creds = Credentials::new("app-key", "app-secret");
    r.c.authorize_locally("private-my-channel", &creds, None)
        .unwrap();
    r.pump();
    // The same signature openssl gives for this socket and channel.
    assert_eq!(
        r.s.take_got(),
        [
            r#"{"event":"pusher:subscribe","data":{"auth":"app-key:8d3ae0c0ec188bf04a5c56e6a7d83ad0b81bbaeeb3bc098016e1156b087ec738","channel":"private-my-channel"}}"#
        ]
    );
}

fn close_with(code: u16) -> (Rig, Vec<String>) {
    let mut r = Rig::new();
    r.connected("1.1");
    r.take();
    r.s.close(code);
    r.pump();
    let ev = r.take();
    (r, ev)
}

#[test]
fn close_code_classes() {
    // 4000: TLS, at once.
    let (mut r, ev) = close_with(4000);
    assert_eq!(
        ev,
        [
            "disconnected Closed(4000) Tls Some(0)",
            "state Connected->Connecting"
        ]
    );
    assert_eq!(r.s.control, ["close Some(4000)"]);
    assert_eq!(r.take_actions(), [Action::Close]);
    r.closed();
    assert_eq!(r.take_actions(), [Action::Open { tls: true }]);

    // 4001-4099: stop.
    for code in [4001, 4009, 4099] {
        let (mut r, ev) = close_with(code);
        assert_eq!(
            ev,
            [
                format!("disconnected Closed({code}) Never None"),
                "state Connected->Disconnected".into()
            ]
        );
        r.closed();
        assert_eq!(r.take_actions(), [Action::Close]);
        assert_eq!(r.c.poll_timeout(), None);
        assert_eq!(r.c.state(), State::Disconnected);
    }

    // 4100-4199: back off at least a second.
    for code in [4100, 4199] {
        let (mut r, ev) = close_with(code);
        let delay: u64 = ev[0]
            .rsplit("Some(")
            .next()
            .unwrap()
            .trim_end_matches(')')
            .parse()
            .unwrap();
        assert!((1000..=1000).contains(&delay), "{ev:?}");
        r.closed();
        r.take_actions();
        r.advance(r.now + delay - 1);
        assert!(r.take_actions().is_empty());
        r.advance(r.now + 1);
        assert_eq!(r.take_actions(), [Action::Open { tls: false }]);
    }

    // 4200-4299: at once.
    let (mut r, ev) = close_with(4201);
    assert_eq!(ev[0], "disconnected Closed(4201) Now Some(0)");
    r.closed();
    assert_eq!(
        r.take_actions(),
        [Action::Close, Action::Open { tls: false }]
    );

    // 4300-4399: refused.
    let (_, ev) = close_with(4301);
    assert_eq!(ev[0], "disconnected Closed(4301) Never None");

    // Standard codes: back off.
    let (_, ev) = close_with(1001);
    assert!(ev[0].starts_with("disconnected Closed(1001) Backoff Some("));
}

#[test]
fn pusher_error_during_the_handshake_uses_its_code_class() {
    for (code, retry) in [
        (4001, "Never"),
        (4100, "Backoff"),
        (4200, "Now"),
        (4000, "Tls"),
    ] {
        let mut r = Rig::new();
        r.c.connect(ms(0));
        r.pump();
        r.accept();
        r.s.text(&format!(
            r#"{{"event":"pusher:error","data":{{"code":{code},"message":"no"}}}}"#
        ));
        r.pump();
        let ev = r.take();
        assert!(ev.contains(&format!("error Some({code}) no")), "{ev:?}");
        assert!(
            ev.iter()
                .any(|e| e.starts_with(&format!("disconnected Closed({code}) {retry}"))),
            "{ev:?}"
        );
    }
    // Anything else first is an invalid handshake.
    let mut r = Rig::new();
    r.c.connect(ms(0));
    r.pump();
    r.accept();
    r.s.text(r#"{"event":"my-event","channel":"x","data":"{}"}"#);
    r.pump();
    let ev = r.take();
    assert!(
        ev.iter()
            .any(|e| e.starts_with("disconnected InvalidHandshake Backoff")),
        "{ev:?}"
    );
}

#[test]
fn ping_pong_timing() {
    let stable = |c: &mut Config<'static>| c.stable_after = Duration::from_secs(3600);
    // The client's own timeout applies when it is shorter than the server's.
    let mut r = Rig::with(|c| {
        stable(c);
        c.activity_timeout = Duration::from_secs(20);
    });
    r.connected("1.1");
    assert_eq!(r.c.poll_timeout(), Some(ms(20_000)));
    // The server's 30 s wins over the client's 120 s.
    let mut r = Rig::with(stable);
    r.c.connect(ms(0));
    r.pump();
    r.accept();
    r.s.established("1.1", 30);
    r.pump();
    assert_eq!(r.c.poll_timeout(), Some(ms(30_000)));
    // Traffic at 20 s pushes the ping to 50 s.
    r.now = 20_000;
    r.s.text(r#"{"event":"x","channel":"c"}"#);
    r.pump();
    r.s.take_got();
    r.advance(49_999);
    assert!(r.s.take_got().is_empty());
    r.advance(50_000);
    assert_eq!(r.s.take_got(), [message::PING]);
    // A pong in time keeps the connection.
    r.now = 60_000;
    r.s.text(r#"{"event":"pusher:pong","data":{}}"#);
    r.pump();
    assert_eq!(r.take().last().map(String::as_str), Some("pong"));
    r.advance(89_999);
    assert!(r.s.take_got().is_empty());
    r.advance(90_000);
    assert_eq!(r.s.take_got(), [message::PING]);
    // No answer within 30 s: drop and redial at once.
    r.advance(119_999);
    assert_eq!(r.c.state(), State::Connected);
    r.take_actions();
    r.advance(120_000);
    assert_eq!(r.c.state(), State::Connecting);
    assert!(
        r.take()
            .contains(&"disconnected PongTimeout Now Some(0)".to_string())
    );
    assert_eq!(r.take_actions(), [Action::Close]);
    r.closed();
    assert_eq!(r.take_actions(), [Action::Open { tls: false }]);
}

#[test]
fn answers_pings() {
    let mut r = Rig::new();
    r.connected("1.1");
    r.s.text(r#"{"event":"pusher:ping","data":{}}"#);
    let mut ping = [0u8; 16];
    let n = emit_frame(&mut ping, true, Opcode::Ping, b"hb", None).unwrap();
    r.s.out.extend_from_slice(&ping[..n]);
    r.s.text(r#"{"event":"pusher:ping"}"#);
    r.pump();
    assert_eq!(r.s.take_got(), [message::PONG, message::PONG]);
    assert_eq!(r.s.control, [r#"pong [104, 98]"#]);
}

#[test]
fn backoff_grows_with_jitter_and_resets_after_a_stable_connection() {
    let mut r = Rig::with(|c| c.unavailable_timeout = Duration::from_secs(10));
    r.c.connect(ms(0));
    r.pump();
    let mut delays = Vec::new();
    for attempt in 0..8 {
        assert_eq!(
            r.take_actions(),
            [Action::Open { tls: false }],
            "attempt {attempt} {:?}",
            r.take()
        );
        // The TCP connect fails.
        r.closed();
        let failed_at = r.now;
        while r.actions.is_empty() {
            let next = r.c.poll_timeout().unwrap().as_millis();
            r.advance(next);
        }
        delays.push(r.now - failed_at);
    }
    for (n, d) in delays.iter().enumerate() {
        assert!(*d <= (1000u64 << n).min(30_000), "attempt {n}: {d}");
    }
    assert!(delays.iter().any(|d| *d != delays[0]), "jitter: {delays:?}");
    assert_eq!(r.c.state(), State::Unavailable, "after 10 s of trying");
    assert!(
        r.take()
            .contains(&"state Connecting->Unavailable".to_string())
    );
    // Success, then 30 s of stability resets the backoff.
    r.accept();
    r.s.established("1.1", 120);
    r.pump();
    assert!(
        r.take()
            .contains(&"state Unavailable->Connected".to_string())
    );
    let t = r.now;
    r.advance(t + 30_000);
    r.closed();
    let d = r.c.poll_timeout().unwrap().as_millis() - r.now;
    assert!(d <= 1000, "reset backoff: {d}");
}

/// How a refusing server closes each new connection.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    /// `pusher:error` 4200 instead of `connection_established` (soketi while shutting down).
    ErrorInHandshake,
    /// A close frame right after the upgrade.
    CloseAfterUpgrade,
    /// `connection_established`, a subscription, then a close frame.
    CloseAfterEstablished,
}

/// Runs the client for `until` ms against a server that refuses every connection with
/// `code`; returns the number of connection attempts.
fn attempts_against(refusal: Refusal, code: u16, until: u64) -> usize {
    let mut r = Rig::new();
    r.c.subscribe("public").unwrap();
    r.c.connect(ms(0));
    r.pump();
    let mut opens = 0;
    loop {
        let actions = r.take_actions();
        for a in &actions {
            match a {
                Action::Open { .. } => {
                    opens += 1;
                    assert!(opens < 1000, "{refusal:?} {code}: hot loop at {} ms", r.now);
                    r.take();
                    r.accept();
                    match refusal {
                        Refusal::ErrorInHandshake => r.s.text(&format!(
                            r#"{{"event":"pusher:error","data":{{"code":{code},"message":"go away"}}}}"#
                        )),
                        Refusal::CloseAfterUpgrade => r.s.close(code),
                        Refusal::CloseAfterEstablished => {
                            r.s.established("1.1", 120);
                            r.pump();
                            r.s.close(code);
                        }
                    }
                    r.pump();
                }
                Action::Close => r.closed(),
            }
        }
        if !actions.is_empty() {
            continue;
        }
        match r.c.poll_timeout() {
            Some(t) if t.as_millis() <= until => r.advance(t.as_millis().max(r.now)),
            _ => return opens,
        }
    }
}

#[test]
fn a_server_that_keeps_refusing_with_an_immediate_code_is_backed_off() {
    // 1 immediate retry, then jittered exponential backoff from 1 s: a handful in 10 s.
    for refusal in [
        Refusal::ErrorInHandshake,
        Refusal::CloseAfterUpgrade,
        Refusal::CloseAfterEstablished,
    ] {
        for code in [4200, 4299, 4000] {
            let n = attempts_against(refusal, code, 10_000);
            std::println!("{refusal:?} {code}: {n} attempts in 10 s");
            assert!(
                (2..=8).contains(&n),
                "{refusal:?} {code}: {n} attempts in 10 s"
            );
        }
    }
    // Over ten minutes the cap (30 s) bounds it: at most 10 + 600 / 15 on average.
    let n = attempts_against(Refusal::CloseAfterEstablished, 4200, 600_000);
    assert!(n <= 60, "{n} attempts in 10 min");
}

#[test]
fn an_immediate_retry_after_a_stable_connection_is_immediate_again() {
    let mut r = Rig::new();
    for round in 0..3 {
        if round == 0 {
            r.connected("1.1");
        } else {
            assert_eq!(
                r.take_actions(),
                [Action::Open { tls: false }],
                "round {round}"
            );
            r.accept();
            r.s.established("1.1", 120);
            r.pump();
        }
        // Stable for 30 s (the pings are answered).
        for t in (20_000..=30_000).step_by(10_000) {
            r.advance(r.now + t - 10_000);
            r.s.text(r#"{"event":"pusher:pong","data":{}}"#);
            r.pump();
        }
        r.advance(r.now + 1);
        r.take();
        r.s.close(4200);
        r.pump();
        assert!(
            r.take()
                .contains(&"disconnected Closed(4200) Now Some(0)".to_string()),
            "round {round}"
        );
        r.take_actions();
        r.closed();
    }
}

#[test]
fn max_attempts_gives_up() {
    let mut r = Rig::with(|c| c.max_attempts = Some(3));
    r.c.connect(ms(0));
    r.pump();
    for _ in 0..3 {
        assert_eq!(r.take_actions(), [Action::Open { tls: false }]);
        r.closed();
        if let Some(t) = r.c.poll_timeout() {
            r.advance(t.as_millis());
        }
    }
    assert_eq!(r.c.state(), State::Failed);
    assert!(r.take().contains(&"gave up".to_string()));
    assert_eq!(r.c.poll_timeout(), None);
    // connect() starts again from Failed.
    r.c.connect(ms(r.now));
    r.pump();
    assert_eq!(r.take_actions(), [Action::Open { tls: false }]);
}

#[test]
fn connect_timeout_and_handshake_failures() {
    let mut r = Rig::new();
    r.c.connect(ms(0));
    r.pump();
    r.take_actions();
    r.c.handle_connected(ms(0));
    // The server never answers.
    r.advance(15_000);
    assert!(
        r.take()
            .iter()
            .any(|e| e.starts_with("disconnected ConnectTimeout Backoff"))
    );
    assert_eq!(r.take_actions(), [Action::Close]);
    // A 404 answer is final.
    let mut r = Rig::new();
    r.c.connect(ms(0));
    r.pump();
    r.take_actions();
    r.s.upgraded = true;
    r.c.handle_connected(ms(0));
    let req = r.c.poll_transmit().unwrap().len();
    r.c.consume_tx(req);
    r.s.out.extend_from_slice(b"HTTP/1.1 404 Not Found\r\n\r\n");
    r.pump();
    assert!(
        r.take()
            .contains(&"disconnected Handshake(Status(404)) Never None".to_string())
    );
    assert_eq!(r.c.state(), State::Disconnected);
}

#[cfg(feature = "presence")]
#[test]
fn presence_members_and_reset_on_resubscribe() {
    let mut r = Rig::new();
    r.c.subscribe("presence-room").unwrap();
    r.connected("1.1");
    r.take();
    let data = r#"{"user_id":"me1","user_info":{"n":"Me"}}"#;
    r.c.provide_auth("presence-room", "1.1", "k:s", Some(data))
        .unwrap();
    r.pump();
    let sent = r.s.take_got();
    assert!(
        sent[0].contains(r#""channel_data":"{\"user_id\":\"me1\",\"user_info\":{\"n\":\"Me\"}}""#),
        "{sent:?}"
    );
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{\"presence\":{\"count\":2,\"ids\":[\"me1\",\"u2\"],\"hash\":{\"me1\":{\"n\":\"Me\"},\"u2\":null}}}"}"#);
    r.s.text(r#"{"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"u3\",\"user_info\":{\"n\":3}}"}"#);
    r.s.text(r#"{"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"u3\",\"user_info\":{\"n\":33}}"}"#);
    r.s.text(r#"{"event":"pusher_internal:member_removed","channel":"presence-room","data":"{\"user_id\":\"u2\"}"}"#);
    r.pump();
    assert_eq!(
        r.take(),
        [
            "subscribed presence-room",
            r#"member+ presence-room u3 {"n":3} true"#,
            r#"member+ presence-room u3 {"n":33} false"#,
            "member- presence-room u2"
        ]
    );
    assert_eq!(r.c.member_count("presence-room"), 2);
    assert_eq!(r.c.me("presence-room"), Some("me1"));
    assert_eq!(r.c.member("presence-room", "u3"), Some(r#"{"n":33}"#));
    let mut ids: Vec<&str> = r.c.members("presence-room").map(|(id, _)| id).collect();
    ids.sort();
    assert_eq!(ids, ["me1", "u3"]);
    // After a reconnect the set starts empty until the new subscription_succeeded.
    r.closed();
    assert_eq!(r.c.member_count("presence-room"), 0);
    let t = r.c.poll_timeout().unwrap().as_millis();
    r.advance(t);
    r.accept();
    r.s.established("2.2", 120);
    r.pump();
    r.c.provide_auth("presence-room", "2.2", "k:s", Some(data))
        .unwrap();
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{\"presence\":{\"count\":1,\"ids\":[\"me1\"],\"hash\":{\"me1\":null}}}"}"#);
    r.pump();
    assert_eq!(r.c.member_count("presence-room"), 1);
}

/// Without the `presence` feature: presence channels are refused up front, and member events
/// a server sends anyway pass through as events without being recorded.
#[cfg(not(feature = "presence"))]
#[test]
fn presence_needs_the_feature() {
    let mut r = Rig::new();
    assert_eq!(
        r.c.subscribe("presence-room"),
        Err(ClientError::PresenceDisabled)
    );
    assert_eq!(r.c.channel_state("presence-room"), None);
    r.c.subscribe("private-c").unwrap();
    r.connected("1.1");
    r.take();
    r.c.provide_auth("private-c", "1.1", "k:s", None).unwrap();
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-c","data":"{\"presence\":{\"count\":1,\"ids\":[\"u1\"],\"hash\":{\"u1\":null}}}"}"#);
    r.s.text(r#"{"event":"pusher_internal:member_added","channel":"private-c","data":"{\"user_id\":\"u3\",\"user_info\":{\"n\":3}}"}"#);
    r.pump();
    assert_eq!(
        r.take(),
        [
            "subscribed private-c",
            r#"member+ private-c u3 {"n":3} true"#
        ]
    );
    assert_eq!(r.c.member_count("private-c"), 0);
    assert_eq!(r.c.members("private-c").count(), 0);
    r.s.text(r#"{"event":"pusher_internal:member_removed","channel":"private-c","data":"{\"user_id\":\"u3\"}"}"#);
    r.pump();
    assert_eq!(r.take(), ["member- private-c u3"]);
}

#[test]
fn client_events_rules_and_rate_limit() {
    let mut r = Rig::new();
    r.c.subscribe("private-c").unwrap();
    r.c.subscribe("public").unwrap();
    r.c.subscribe("private-encrypted-e").unwrap();
    assert_eq!(
        r.c.trigger("private-c", "client-x", Payload::Json("{}")),
        Err(ClientError::NotConnected)
    );
    r.connected("1.1");
    r.take();
    assert_eq!(
        r.c.trigger("private-c", "client-x", Payload::Json("{}")),
        Err(ClientError::NotSubscribed)
    );
    r.c.provide_auth("private-c", "1.1", "k:s", None).unwrap();
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-c"}"#);
    r.pump();
    assert_eq!(
        r.c.trigger("public", "client-x", Payload::Json("{}")),
        Err(ClientError::ClientEventsNotAllowed)
    );
    assert_eq!(
        r.c.trigger("private-encrypted-e", "client-x", Payload::Json("{}")),
        Err(ClientError::ClientEventsNotAllowed)
    );
    assert_eq!(
        r.c.trigger("private-c", "x", Payload::Json("{}")),
        Err(ClientError::Name(NameError::NotClientEvent))
    );
    assert_eq!(
        r.c.trigger("private-c", "client-x", Payload::Json("{")),
        Err(ClientError::InvalidJson)
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
        Err(ClientError::RateLimited {
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
        Err(ClientError::BadUserData)
    );
}

#[test]
fn disconnect_from_every_state() {
    // Initialized.
    let mut r = Rig::new();
    r.c.disconnect(ms(0));
    r.pump();
    assert_eq!(r.c.state(), State::Disconnected);
    assert!(r.take_actions().is_empty());
    // Connecting, before the transport opened.
    let mut r = Rig::new();
    r.c.connect(ms(0));
    r.c.disconnect(ms(0));
    r.pump();
    assert!(r.take_actions().is_empty() || r.c.state() == State::Disconnected);
    assert_eq!(r.c.poll_timeout(), None);
    // Connecting, Open delivered but not connected yet: the late transport is closed.
    let mut r = Rig::new();
    r.c.connect(ms(0));
    r.pump();
    assert_eq!(r.take_actions(), [Action::Open { tls: false }]);
    r.c.disconnect(ms(0));
    r.pump();
    assert_eq!(r.take_actions(), [Action::Close]);
    r.c.handle_connected(ms(1));
    r.pump();
    assert_eq!(r.take_actions(), [Action::Close]);
    r.closed();
    assert_eq!(r.c.state(), State::Disconnected);
    assert_eq!(r.c.poll_timeout(), None);
    // Upgrading.
    let mut r = Rig::new();
    r.c.connect(ms(0));
    r.pump();
    r.take_actions();
    r.c.handle_connected(ms(0));
    r.c.disconnect(ms(0));
    r.pump();
    assert_eq!(r.take_actions(), [Action::Close]);
    // Connected: a close frame, then Close; a pending retry is cancelled.
    let mut r = Rig::new();
    r.c.subscribe("keep").unwrap();
    r.connected("1.1");
    r.c.disconnect(ms(r.now));
    r.pump();
    assert_eq!(r.s.control, ["close Some(1000)"]);
    assert_eq!(r.take_actions(), [Action::Close]);
    r.closed();
    assert_eq!(r.c.state(), State::Disconnected);
    assert_eq!(r.c.poll_timeout(), None);
    assert_eq!(r.c.channel_state("keep"), Some(ChannelState::Pending));
    // Waiting to retry: the retry is cancelled.
    let mut r = Rig::new();
    r.connected("1.1");
    r.closed();
    assert!(r.c.poll_timeout().is_some());
    r.c.disconnect(ms(r.now));
    r.pump();
    assert_eq!(r.c.poll_timeout(), None);
    r.advance(r.now + 60_000);
    assert!(r.take_actions().is_empty());
    // Disconnected and Failed: connect() works again.
    r.c.connect(ms(r.now));
    r.pump();
    assert_eq!(r.take_actions(), [Action::Open { tls: false }]);
}

#[test]
fn byte_at_a_time_both_ways() {
    for chunk in [1, 2, 3, 7, 13, 64] {
        let mut r = Rig::new();
        r.chunk = chunk;
        r.c.subscribe("my-channel").unwrap();
        r.connected("9.9");
        r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"my-channel"}"#);
        r.s.text(r#"{"event":"e","channel":"my-channel","data":"{\"emoji\":\"\\ud83c\\udf89\",\"q\":\"\\\"\"}"}"#);
        r.pump();
        let ev = r.take();
        assert_eq!(
            &ev[2..],
            [
                "subscribed my-channel",
                r#"message e Some("my-channel") Some("{\"emoji\":\"\\ud83c\\udf89\",\"q\":\"\\\"\"}") None"#
            ],
            "chunk {chunk}"
        );
        assert_eq!(
            r.s.take_got(),
            [r#"{"event":"pusher:subscribe","data":{"channel":"my-channel"}}"#]
        );
    }
}

#[test]
fn protocol_violations_and_malformed_messages() {
    let mut r = Rig::new();
    r.connected("1.1");
    r.take();
    r.s.text("this isn't JSON");
    r.pump();
    assert_eq!(r.take(), ["malformed NotObject"]);
    assert_eq!(r.c.state(), State::Connected);
    // A masked frame from the server is a protocol error: close 1002 and back off.
    r.s.out.extend_from_slice(&[0x81, 0x81, 1, 2, 3, 4, 5]);
    r.pump();
    let ev = r.take();
    assert!(
        ev.iter()
            .any(|e| e.starts_with("disconnected Protocol(MaskedFrame) Backoff")),
        "{ev:?}"
    );
    assert_eq!(r.s.control, ["close Some(1002)"]);
}

#[test]
fn replays_real_soketi_bytes() {
    let capture = include_str!("../../tests/fixtures/soketi-wire-capture.txt");
    // Server-to-client bytes of the WebSocket connection, after the 101 head.
    let mut server = Vec::new();
    let mut take = false;
    for line in capture.lines() {
        if line.starts_with("#1 S->C") {
            take = true;
        } else if line.starts_with('#') {
            take = false;
        } else if take && !line.is_empty() && line.bytes().all(|b| b.is_ascii_hexdigit()) {
            for pair in line.as_bytes().chunks(2) {
                server.push(u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap());
            }
        }
    }
    let head = server.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut r = Rig::new();
    r.c.subscribe("my-channel").unwrap();
    r.c.subscribe("private-my-channel").unwrap();
    r.c.connect(ms(0));
    r.pump();
    r.take_actions();
    r.s.upgraded = true;
    r.c.handle_connected(ms(0));
    let request = r.c.poll_transmit().unwrap().to_vec();
    r.c.consume_tx(request.len());
    // Answer the client's own upgrade like soketi would, then replay soketi's frames.
    let mut fake = Server::new();
    fake.receive(&request);
    r.s.out = fake.out;
    r.s.out.extend_from_slice(&server[head..]);
    r.chunk = 5;
    r.pump();
    let ev = r.take();
    assert_eq!(
        ev[..2],
        [
            "state Initialized->Connecting",
            "state Connecting->Connected"
        ]
    );
    assert!(
        ev.contains(&"auth private-my-channel 2991148437.7070406786".to_string()),
        "{ev:?}"
    );
    assert!(ev.contains(&"subscribed my-channel".to_string()));
    assert!(ev.contains(&r#"message my-event Some("my-channel") Some("{\"message\": \"hello from python\"}") None"#.to_string()));
    assert!(ev.contains(&"subscription error private-bad Some(401)".to_string()));
    assert!(
        ev.iter()
            .any(|e| e.starts_with("disconnected Closed(1000) Backoff")),
        "{ev:?}"
    );
}
