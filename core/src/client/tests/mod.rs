//! Deterministic tests: a scripted fake server and a manual clock drive the client through
//! every state, close-code class, timer and subscription path (quinn-proto's in-memory style).

mod client_events;
mod connection;
mod presence;
#[cfg(feature = "encryption")]
mod rekey;
mod robustness;
#[cfg(feature = "signin")]
mod signin;
#[cfg(feature = "presence")]
mod soak;
mod subscriptions;

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
        #[cfg(feature = "encryption")]
        Event::DecryptionFailed { channel, error } => format!("undecryptable {channel} {error:?}"),
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
