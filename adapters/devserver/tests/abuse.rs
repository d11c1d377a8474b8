//! Bad input to the dev server, on real sockets: every case gets Pusher's error code or HTTP
//! status, and the server keeps serving others. Clients here are raw sockets driven by the
//! core's client-side codecs, so nothing is hidden by a well-behaved client library.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pusher_core::auth::Credentials;
use pusher_core::rest::{self as signing, Request};
use pusher_core::wire::ws::{Message, Opcode, Reader, Role, emit_frame};
use pusher_dev_server::{Compat, Config, DevServer};
use serde_json::{Value, json};

const KEY: &str = "app-key";
const SECRET: &str = "app-secret";

fn server(cfg: Config) -> DevServer {
    DevServer::start(cfg.credentials("1", KEY, SECRET)).unwrap()
}

/// A WebSocket client on a raw socket.
struct Raw {
    stream: TcpStream,
    reader: Reader<Vec<u8>>,
}

/// What a raw client read: a text message as JSON, a close code, or a control frame.
#[derive(Debug, PartialEq)]
enum Got {
    Json(Value),
    Close(u16),
    Ping,
    Eof,
}

impl Raw {
    fn connect(s: &DevServer, target: &str) -> Raw {
        let mut stream = TcpStream::connect(s.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
        Raw {
            stream,
            reader: Reader::new(vec![0u8; 1 << 17], Role::Client, 1 << 17),
        }
    }

    fn pusher(s: &DevServer) -> (Raw, String) {
        let mut c = Raw::connect(s, &format!("/app/{KEY}?protocol=7&client=raw&version=1"));
        let Got::Json(v) = c.next() else {
            panic!("no connection_established")
        };
        assert_eq!(v["event"], "pusher:connection_established");
        let data: Value = serde_json::from_str(v["data"].as_str().unwrap()).unwrap();
        let sid = data["socket_id"].as_str().unwrap().to_owned();
        (c, sid)
    }

    fn send_frame(&mut self, opcode: Opcode, payload: &[u8]) {
        let mut buf = vec![0u8; payload.len() + 14];
        let n = emit_frame(&mut buf, true, opcode, payload, Some([1, 2, 3, 4])).unwrap();
        self.stream.write_all(&buf[..n]).unwrap();
    }

    fn send(&mut self, v: Value) {
        self.send_frame(Opcode::Text, v.to_string().as_bytes());
    }

    fn next(&mut self) -> Got {
        loop {
            match self.reader.read() {
                Ok(Some(Message::Text(t))) => return Got::Json(serde_json::from_str(t).unwrap()),
                Ok(Some(Message::Close(c))) => return Got::Close(c.map_or(1005, |c| c.code)),
                Ok(Some(Message::Ping(_))) => return Got::Ping,
                Ok(Some(Message::Pong(_))) => continue,
                Ok(Some(other)) => panic!("{other:?}"),
                Ok(None) => {}
                Err(e) => panic!("{e}"),
            }
            let n = match self.stream.read(self.reader.spare()) {
                Ok(0) | Err(_) => return Got::Eof,
                Ok(n) => n,
            };
            self.reader.commit(n);
        }
    }

    /// The next `pusher:error`'s code and message.
    fn error(&mut self) -> (Option<u64>, String) {
        match self.next() {
            Got::Json(v) if v["event"] == "pusher:error" => {
                let data = match &v["data"] {
                    Value::String(s) => serde_json::from_str(s).unwrap(),
                    d => d.clone(),
                };
                (
                    data["code"].as_u64(),
                    data["message"].as_str().unwrap().to_owned(),
                )
            }
            other => panic!("expected pusher:error, got {other:?}"),
        }
    }
}

/// `auth` for a private channel.
fn sign(socket_id: &str, channel: &str) -> String {
    let creds = Credentials::new(KEY, SECRET);
    let sig = creds.channel_signature(
        pusher_core::name::SocketId::new(socket_id).unwrap(),
        pusher_core::name::ChannelName::new(channel).unwrap(),
        None,
    );
    format!(
        "{KEY}:{}",
        String::from_utf8(sig.to_hex().to_vec()).unwrap()
    )
}

/// Refused at once: the error event, then the close code.
fn refused(s: &DevServer, target: &str) -> u16 {
    let mut c = Raw::connect(s, target);
    let (code, _) = c.error();
    let Got::Close(close) = c.next() else {
        panic!("no close")
    };
    assert_eq!(code, Some(u64::from(close)));
    close
}

#[test]
fn admission_errors_carry_pushers_codes() {
    let s = server(Config::default());
    assert_eq!(refused(&s, "/app/nope?protocol=7"), 4001);
    assert_eq!(refused(&s, &format!("/app/{KEY}")), 4008);
    assert_eq!(refused(&s, &format!("/app/{KEY}?protocol=x")), 4006);
    assert_eq!(refused(&s, &format!("/app/{KEY}?protocol=99")), 4007);
    assert_eq!(refused(&s, "/elsewhere?protocol=7"), 4005);
    let full = server({
        let mut c = Config::default();
        c.max_connections = 1;
        c
    });
    let _first = Raw::pusher(&full);
    assert_eq!(refused(&full, &format!("/app/{KEY}?protocol=7")), 4100);
    let reverb = server({
        let mut c = Config::default().compat(Compat::Reverb);
        c.max_connections = 0;
        c
    });
    assert_eq!(refused(&reverb, &format!("/app/{KEY}?protocol=7")), 4004);
}

#[test]
fn malformed_and_oversize_frames_close_only_that_connection() {
    let s = server(Config::default());
    // An unmasked client frame is a protocol error (1002).
    let (mut c, _) = Raw::pusher(&s);
    c.stream.write_all(&[0x81, 0x02, b'{', b'}']).unwrap();
    assert_eq!(c.next(), Got::Close(1002));
    // A message larger than a connection's first buffer but within the limit is read whole.
    let (mut big, sid) = Raw::pusher(&s);
    let data = "y".repeat(9_000);
    big.send(json!({"event":"pusher:subscribe","data":{"channel":"private-big","auth":sign(&sid, "private-big")}}));
    let (mut other, osid) = Raw::pusher(&s);
    other.send(json!({"event":"pusher:subscribe","data":{"channel":"private-big","auth":sign(&osid, "private-big")}}));
    let _ = (big.next(), other.next());
    big.send(json!({"event":"client-big","channel":"private-big","data":data}));
    match other.next() {
        Got::Json(v) => assert_eq!(v["data"].as_str().map(str::len), Some(9_000)),
        got => panic!("{got:?}"),
    }
    // A message over the limit: 1009.
    let (mut c, _) = Raw::pusher(&s);
    c.send_frame(Opcode::Text, &vec![b' '; 20_000]);
    assert_eq!(c.next(), Got::Close(1009));
    // Invalid UTF-8: 1007.
    let (mut c, _) = Raw::pusher(&s);
    c.send_frame(Opcode::Text, &[0xff, 0xfe]);
    assert_eq!(c.next(), Got::Close(1007));
    // Binary: 1003.
    let (mut c, _) = Raw::pusher(&s);
    c.send_frame(Opcode::Binary, b"x");
    assert_eq!(c.next(), Got::Close(1003));
    // Not JSON, unknown events: an error, and the socket stays.
    let (mut c, _) = Raw::pusher(&s);
    c.send_frame(Opcode::Text, b"{not json");
    assert!(c.error().1.starts_with("Invalid message"));
    c.send(json!({"event":"pusher:teleport","data":{}}));
    assert!(c.error().1.contains("pusher:teleport"));
    c.send(json!({"event":"pusher:ping","data":{}}));
    assert_eq!(
        c.next(),
        Got::Json(json!({"event":"pusher:pong","data":"{}"}))
    );
    // Reverb's form of the same error.
    let r = server(Config::default().compat(Compat::Reverb));
    let (mut c, _) = Raw::pusher(&r);
    c.send_frame(Opcode::Text, b"[]");
    assert_eq!(c.error(), (Some(4200), "Invalid message format".into()));
    assert_eq!(s.connections(), 3, "only the well-behaved ones are left");
}

#[test]
fn bad_signatures_and_subscribe_floods_are_refused() {
    let s = server({
        let mut c = Config::default();
        c.max_channels_per_connection = 100;
        c
    });
    let (mut c, sid) = Raw::pusher(&s);
    c.send(json!({"event":"pusher:subscribe","data":{"channel":"private-x","auth":"app-key:00"}}));
    let (code, message) = c.error();
    assert_eq!(code, None);
    assert!(
        message.contains(&format!("{sid}:private-x")),
        "names the string to sign: {message}"
    );
    c.send(json!({"event":"pusher:subscribe","data":{"channel":"presence-x","auth":"app-key:00"}}));
    assert!(c.error().1.contains("channel_data"));
    for n in 0..1000 {
        c.send(json!({"event":"pusher:subscribe","data":{"channel":format!("flood-{n}")}}));
    }
    let (mut ok, mut refused) = (0, 0);
    while ok + refused < 1000 {
        match c.next() {
            Got::Json(v) if v["event"] == "pusher_internal:subscription_succeeded" => ok += 1,
            Got::Json(v) if v["event"] == "pusher:error" => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((ok, refused), (100, 900));
    // Still serving: a new client subscribes.
    let (mut d, _) = Raw::pusher(&s);
    d.send(json!({"event":"pusher:subscribe","data":{"channel":"flood-1"}}));
    assert!(
        matches!(d.next(), Got::Json(v) if v["event"] == "pusher_internal:subscription_succeeded")
    );
}

#[test]
fn a_silent_client_is_pinged_then_closed_with_4201() {
    let cfg = |compat| {
        let mut c = Config::default().compat(compat);
        c.activity_timeout = Duration::from_millis(300);
        c.pong_timeout = Duration::from_millis(300);
        c
    };
    let s = server(cfg(Compat::Pusher));
    let (mut c, _) = Raw::pusher(&s);
    let started = Instant::now();
    assert_eq!(
        c.next(),
        Got::Json(json!({"event":"pusher:ping","data":"{}"}))
    );
    assert_eq!(c.next(), Got::Close(4201));
    assert!(started.elapsed() >= Duration::from_millis(550));
    // Answering keeps it open.
    let (mut c, _) = Raw::pusher(&s);
    for _ in 0..3 {
        assert!(matches!(c.next(), Got::Json(v) if v["event"] == "pusher:ping"));
        c.send(json!({"event":"pusher:pong","data":{}}));
    }
    // Reverb: control-frame pings once the client sent a control frame, and pusher:error
    // 4201 before the close.
    let r = server(cfg(Compat::Reverb));
    let (mut c, _) = Raw::pusher(&r);
    c.send_frame(Opcode::Ping, b"hi");
    // (Its pong is skipped by `next`.) Then the server's own pings are control frames.
    assert_eq!(c.next(), Got::Ping);
    assert_eq!(c.error(), (Some(4201), "Pong reply not received".into()));
    assert_eq!(c.next(), Got::Close(4201));
}

#[test]
fn a_slow_loris_upgrade_is_cut_off_and_others_are_served() {
    let s = server({
        let mut c = Config::default();
        c.header_timeout = Duration::from_millis(500);
        c
    });
    let mut slow = TcpStream::connect(s.addr()).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /app/app-key?protocol=7 HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // Meanwhile a normal client connects at once.
    let (mut c, _) = Raw::pusher(&s);
    c.send(json!({"event":"pusher:ping"}));
    assert!(matches!(c.next(), Got::Json(v) if v["event"] == "pusher:pong"));
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    assert!(
        !String::from_utf8_lossy(&rest).contains("101"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
}

/// A signed REST request; returns the status and body.
fn rest(
    s: &DevServer,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let creds = Credentials::new(KEY, SECRET);
    rest_as(s, &creds, method, path, params, body, now())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn rest_as(
    s: &DevServer,
    creds: &Credentials<'_>,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    body: &[u8],
    timestamp: u64,
) -> (u16, String) {
    let req = Request {
        method,
        path,
        params,
        body: (!body.is_empty()).then_some(body),
        timestamp,
    };
    let mut out = vec![0u8; 4096];
    let query = signing::write_query(&mut out, creds, &req)
        .unwrap()
        .to_owned();
    let mut stream = TcpStream::connect(s.addr()).unwrap();
    write!(
        stream,
        "{method} {path}?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

#[test]
fn rest_requests_over_the_limits_or_badly_signed_get_pushers_statuses() {
    let s = server(Config::default());
    let ev = |data: String| json!({"name":"e","channel":"c","data":data}).to_string();
    assert_eq!(
        rest(&s, "POST", "/apps/1/events", &[], ev("x".into()).as_bytes()).0,
        200
    );
    assert_eq!(
        rest(
            &s,
            "POST",
            "/apps/1/events",
            &[],
            ev("x".repeat(10_241)).as_bytes()
        )
        .0,
        413
    );
    let batch = json!({"batch": vec![json!({"name":"e","channel":"c","data":"{}"}); 11]});
    let (status, body) = rest(
        &s,
        "POST",
        "/apps/1/batch_events",
        &[],
        batch.to_string().as_bytes(),
    );
    assert_eq!(
        (status, body.contains("limit of 10")),
        (400, true),
        "{body}"
    );
    let huge = vec![b' '; 300 * 1024];
    assert_eq!(rest(&s, "POST", "/apps/1/events", &[], &huge).0, 413);
    assert_eq!(rest(&s, "POST", "/apps/1/events", &[], b"{not json").0, 400);
    assert_eq!(rest(&s, "GET", "/apps/2/channels", &[], b"").0, 404);
    let wrong = Credentials::new(KEY, "not-the-secret");
    let (status, body) = rest_as(&s, &wrong, "GET", "/apps/1/channels", &[], b"", now());
    assert_eq!(status, 401);
    assert!(
        body.contains(r"GET\n/apps/1/channels\nauth_key=app-key"),
        "{body}"
    );
    let creds = Credentials::new(KEY, SECRET);
    let (status, body) = rest_as(&s, &creds, "GET", "/apps/1/channels", &[], b"", now() - 601);
    assert_eq!(status, 401, "{body}");
    let unknown = Credentials::new("other-key", SECRET);
    assert_eq!(
        rest_as(&s, &unknown, "GET", "/apps/1/channels", &[], b"", now()).0,
        401
    );
    let info = [("info", "user_count")];
    assert_eq!(rest(&s, "GET", "/apps/1/channels", &info, b"").0, 400);
    assert_eq!(rest(&s, "GET", "/apps/1/channels/c/users", &[], b"").0, 400);
    assert_eq!(rest(&s, "DELETE", "/apps/1/events", &[], b"").0, 405);
    // And the server still answers.
    let (status, body) = rest(&s, "GET", "/apps/1/channels/presence-x", &info, b"");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"occupied":false,"user_count":0}"#)
    );
}

#[test]
fn webhooks_are_signed_batched_and_name_what_happened() {
    let receiver = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", receiver.local_addr().unwrap());
    let s = server({
        let mut c = Config::default().webhook(&url);
        c.webhook_batch = Duration::from_millis(300);
        c
    });
    let (mut c, _) = Raw::pusher(&s);
    c.send(json!({"event":"pusher:subscribe","data":{"channel":"hooked"}}));
    let _ = c.next();
    c.send(json!({"event":"pusher:unsubscribe","data":{"channel":"hooked"}}));
    let (mut conn, _) = receiver.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    let (head, body) = loop {
        let n = conn.read(&mut buf).unwrap();
        req.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&req).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap();
            if body.len() >= len {
                break (head.to_owned(), body.to_owned());
            }
        }
    };
    conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    assert!(head.starts_with("POST /hooks HTTP/1.1"), "{head}");
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                l.split_once(": ")
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.to_owned())
            })
            .unwrap()
    };
    let creds = Credentials::new(KEY, SECRET);
    pusher_core::webhook::verify(
        &creds,
        &header("x-pusher-key"),
        &header("x-pusher-signature"),
        body.as_bytes(),
    )
    .unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["channel_occupied", "channel_vacated"],
        "one batch: {body}"
    );
    assert_eq!(v["events"][0]["channel"], "hooked");
}
