//! The blocking client against servers that misbehave in the two ways seen in the field:
//! one that refuses every connection with an immediate-retry code (soketi during its
//! shutdown grace answers 4200), and an auth endpoint that never answers. The server here is
//! scripted on the core's own server-role codecs, so these tests need no Node.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pusher_core::SocketId;
use pusher_core::Status;
use pusher_core::wire::handshake::{parse_request, write_response};
use pusher_core::wire::message::server;
use pusher_core::wire::ws::{CloseFrame, Message, Opcode, Reader, Role, emit_close, emit_frame};
use pusher_std::auth::HttpAuthorizer;
use pusher_std::pusher::{Buffers, Options, Pusher};

/// How the scripted server treats each connection.
#[derive(Clone, Copy)]
enum Script {
    /// `pusher:error` 4200 and a 4200 close instead of `connection_established`.
    Refuse4200,
    /// Established; public subscriptions succeed; pings are answered.
    Serve,
}

struct ScriptedServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn send_text(s: &mut TcpStream, text: &str) -> std::io::Result<()> {
    let mut frame = vec![0u8; text.len() + 14];
    let n = emit_frame(&mut frame, true, Opcode::Text, text.as_bytes(), None).unwrap();
    s.write_all(&frame[..n])
}

fn serve_one(mut s: TcpStream, script: Script, n: usize) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::new();
    let rest = loop {
        let mut b = [0u8; 1024];
        let k = s.read(&mut b)?;
        if k == 0 {
            return Ok(());
        }
        head.extend_from_slice(&b[..k]);
        if let Ok(Status::Complete(req, used)) = parse_request(&head) {
            let mut resp = [0u8; 512];
            let m = write_response(&mut resp, &req).unwrap();
            s.write_all(&resp[..m])?;
            break head[used..].to_vec();
        }
    };
    match script {
        Script::Refuse4200 => {
            let mut buf = [0u8; 256];
            let m = server::error(&mut buf, Some(4200), "shutting down").unwrap();
            send_text(&mut s, std::str::from_utf8(&buf[..m]).unwrap())?;
            let mut close = [0u8; 64];
            let reason = "reconnect";
            let frame = Some(CloseFrame { code: 4200, reason });
            let m = emit_close(&mut close, frame, None).unwrap();
            s.write_all(&close[..m])
        }
        Script::Serve => {
            let mut buf = [0u8; 256];
            let sid = format!("{n}.{n}");
            let m = server::connection_established(&mut buf, SocketId::new(&sid).unwrap(), 120)
                .unwrap();
            send_text(&mut s, std::str::from_utf8(&buf[..m]).unwrap())?;
            let mut reader = Reader::new(vec![0u8; 16 * 1024], Role::Server, 16 * 1024);
            reader.feed(&rest);
            loop {
                let mut texts = Vec::new();
                while let Ok(Some(m)) = reader.read() {
                    match m {
                        Message::Text(t) => texts.push(t.to_owned()),
                        Message::Close(_) => return Ok(()),
                        _ => {}
                    }
                }
                for t in texts {
                    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                    match v["event"].as_str() {
                        Some("pusher:subscribe") => {
                            let channel = v["data"]["channel"].as_str().unwrap_or("");
                            if !channel.starts_with("private-") {
                                send_text(
                                    &mut s,
                                    &format!(
                                        r#"{{"event":"pusher_internal:subscription_succeeded","channel":"{channel}","data":"{{}}"}}"#
                                    ),
                                )?;
                            }
                        }
                        Some("pusher:ping") => {
                            send_text(&mut s, r#"{"event":"pusher:pong","data":{}}"#)?
                        }
                        _ => {}
                    }
                }
                let mut b = [0u8; 4096];
                let k = s.read(&mut b)?;
                if k == 0 {
                    return Ok(());
                }
                let mut fed = 0;
                while fed < k {
                    fed += reader.feed(&b[fed..k]);
                }
            }
        }
    }
}

impl ScriptedServer {
    fn start(script: Script) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (connections.clone(), stop.clone());
        std::thread::spawn(move || {
            for s in listener.incoming() {
                if halt.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(s) = s else { continue };
                let n = count.fetch_add(1, Ordering::Relaxed) + 1;
                std::thread::spawn(move || serve_one(s, script, n));
            }
        });
        ScriptedServer {
            port,
            connections,
            stop,
        }
    }

    fn options(&self) -> Options {
        Options::host("app-key", "127.0.0.1", self.port, self.port, false)
    }
}

#[test]
fn a_server_that_refuses_every_connection_with_4200_gets_a_handful_of_attempts() {
    let server = ScriptedServer::start(Script::Refuse4200);
    let mut buffers = Buffers::default();
    let mut p = Pusher::new(&server.options(), &mut buffers).unwrap();
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = errors.clone();
    p.on_error(move |e| seen.lock().unwrap().push(e.to_owned()));
    p.subscribe("public-a").unwrap();
    p.connect();
    p.run_for(Duration::from_secs(5));
    let attempts = server.connections.load(Ordering::Relaxed);
    println!("{attempts} connection attempts in 5 s");
    // One immediate retry, then backoff from 1 s (full jitter): about five; before the fix,
    // thousands.
    assert!((2..=8).contains(&attempts), "{attempts} attempts in 5 s");
    let errors = errors.lock().unwrap();
    assert!(
        errors.iter().any(|e| matches!(
            e,
            pusher_std::client_error::ClientError::Disconnected {
                problem: pusher_core::client::Problem::Closed(4200),
                retry_in: Some(_),
            }
        )),
        "the user is told: {errors:?}"
    );
}

/// An HTTP endpoint that accepts connections and never answers.
fn hanging_endpoint() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked = Arc::new(AtomicUsize::new(0));
    let count = asked.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::Relaxed);
            held.push(s);
        }
    });
    (port, asked)
}

#[test]
fn a_hanging_auth_endpoint_does_not_hold_up_public_channels() {
    let server = ScriptedServer::start(Script::Serve);
    let (auth_port, asked) = hanging_endpoint();
    let mut options = server.options();
    options.auth_timeout = Duration::from_millis(1500);
    let mut buffers = Buffers::default();
    let mut p = Pusher::new(&options, &mut buffers).unwrap();
    p.set_authorizer(
        HttpAuthorizer::new(&format!("http://127.0.0.1:{auth_port}/pusher/auth")).unwrap(),
    );
    let events = Arc::new(Mutex::new(Vec::<(Instant, String)>::new()));
    let seen = events.clone();
    p.bind_global(move |e| {
        seen.lock().unwrap().push((
            Instant::now(),
            format!("{} {}", e.event, e.channel.unwrap_or("-")),
        ))
    });
    let seen = events.clone();
    p.on_error(move |e| {
        seen.lock()
            .unwrap()
            .push((Instant::now(), format!("error {e}")))
    });
    // The private channel first, so its auth request is asked before the public subscribe.
    p.subscribe("private-a").unwrap();
    p.subscribe("private-b").unwrap();
    p.subscribe("public-c").unwrap();
    let start = Instant::now();
    p.connect();
    let subscribed = p.run_until(
        |p| {
            p.client().channel_state("public-c")
                == Some(pusher_core::client::ChannelState::Subscribed)
        },
        Duration::from_secs(5),
    );
    let took = start.elapsed();
    println!("public channel subscribed after {} ms", took.as_millis());
    assert!(subscribed, "public channel never subscribed");
    assert!(
        took < Duration::from_secs(1),
        "public channel waited {took:?}"
    );
    // Both auth requests were asked at once, and each times out on its own.
    p.run_for(Duration::from_secs(2));
    assert_eq!(asked.load(Ordering::Relaxed), 2);
    let events = events.lock().unwrap();
    for channel in ["private-a", "private-b"] {
        let (at, line) = events
            .iter()
            .find(|(_, l)| l.contains(&format!("error auth for {channel}")))
            .unwrap_or_else(|| panic!("no auth failure for {channel}: {events:?}"));
        assert!(line.contains("no answer within 1500 ms"), "{line}");
        let after = at.duration_since(start);
        assert!(
            after >= Duration::from_millis(1400) && after < Duration::from_millis(2500),
            "{channel} timed out after {after:?}"
        );
        assert!(
            events
                .iter()
                .any(|(_, l)| l == &format!("error subscription to {channel} failed")),
            "{events:?}"
        );
    }
    assert_eq!(p.state(), pusher_core::client::State::Connected);
}
