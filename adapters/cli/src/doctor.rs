//! `pusher doctor`: walks the connection step by step (DNS, TCP, TLS, upgrade,
//! `connection_established`, ping/pong, then with the secret a private and a presence
//! subscribe, an auth endpoint, and the REST credentials with the clock skew), timing each
//! and explaining a failure; `--json` prints one JSON line per step.

use std::io::{Read, Write};
use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use pusher_core::Status;
use pusher_core::wire::event::ServerMessage;
use pusher_core::wire::handshake::{ClientHandshake, RequestParams};
use pusher_core::wire::message;
use pusher_core::wire::ws::{Message, Opcode, Reader, Role, emit_frame};

use crate::App;

/// `--json`: steps as JSON lines, else aligned text.
static JSON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn json() -> bool {
    JSON.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prints a step's outcome.
fn report(name: &str, ms: u128, outcome: Result<&str, &str>, hint: &str) {
    if json() {
        let line = match outcome {
            Ok(detail) => serde_json::json!({"step": name, "ok": true, "ms": ms, "detail": detail}),
            Err(e) => {
                serde_json::json!({"step": name, "ok": false, "ms": ms, "error": e, "hint": hint})
            }
        };
        crate::out::line(&line.to_string());
        return;
    }
    match outcome {
        Ok(detail) => crate::out::line(&format!("ok    {ms:>6} ms  {name}: {detail}")),
        Err(e) => {
            crate::out::line(&format!("FAIL  {ms:>6} ms  {name}: {e}"));
            crate::out::line(&format!("      {hint}"));
        }
    }
}

/// A plain or TLS connection.
enum Conn {
    Plain(std::net::TcpStream),
    Tls(Box<dyn ReadWrite>),
}

/// Read and write, for a boxed TLS stream.
trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

fn step<T>(
    name: &str,
    f: impl FnOnce() -> Result<(T, String), String>,
    hint: &str,
) -> Result<T, String> {
    let start = Instant::now();
    match f() {
        Ok((v, detail)) => {
            report(name, start.elapsed().as_millis(), Ok(&detail), hint);
            Ok(v)
        }
        Err(e) => {
            report(name, start.elapsed().as_millis(), Err(&e), hint);
            Err(format!("{name} failed: {e}"))
        }
    }
}

/// Extra checks beyond the connection.
pub(crate) struct Extras<'a> {
    /// An auth endpoint to try (`--auth-endpoint`).
    pub(crate) auth_endpoint: Option<&'a str>,
}

/// Runs the checks.
pub(crate) fn run(app: &App, as_json: bool, extras: &Extras<'_>) -> Result<(), String> {
    JSON.store(as_json, std::sync::atomic::Ordering::Relaxed);
    let options = app.ws_options()?;
    let port = if options.tls {
        options.wss_port
    } else {
        options.ws_port
    };
    let timeout = Duration::from_secs(10);
    if !json() {
        crate::out::line(&format!(
            "checking {}://{}:{} with key {}",
            if options.tls { "wss" } else { "ws" },
            options.host,
            port,
            options.key
        ));
    }
    let addrs = step(
        "DNS",
        || {
            let addrs: Vec<_> = (options.host.as_str(), port)
                .to_socket_addrs()
                .map_err(|e| e.to_string())?
                .collect();
            let shown = addrs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            if addrs.is_empty() {
                Err("no addresses".into())
            } else {
                Ok((addrs, shown))
            }
        },
        "the host name does not resolve: check the cluster or --host",
    )?;
    let tcp = step(
        "TCP",
        || {
            let mut last = String::from("no address");
            for a in &addrs {
                match std::net::TcpStream::connect_timeout(a, timeout) {
                    Ok(s) => return Ok((s, format!("connected to {a}"))),
                    Err(e) => last = format!("{a}: {e}"),
                }
            }
            Err(last)
        },
        "nothing accepts connections there: a firewall, a wrong port, or the server is down",
    )?;
    tcp.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let mut conn = if options.tls {
        let tls = step(
            "TLS",
            || {
                let config = pusher_std::net::tls_config(None).map_err(|e| e.to_string())?;
                let s = pusher_std::net::tls_wrap(tcp, &options.host, config, timeout)
                    .map_err(|e| e.to_string())?;
                let version = s
                    .conn
                    .protocol_version()
                    .map_or("?".into(), |v| format!("{v:?}"));
                let chain = s.conn.peer_certificates().map_or(0, <[_]>::len);
                let suite = s
                    .conn
                    .negotiated_cipher_suite()
                    .map_or("?".into(), |c| format!("{:?}", c.suite()));
                Ok((
                    s,
                    format!(
                        "handshake done, {version}, {suite}, chain of {chain} certificates verified for {}",
                        options.host
                    ),
                ))
            },
            "the TLS handshake failed: a certificate the webpki roots do not trust, or not a TLS port",
        )?;
        Conn::Tls(Box::new(tls))
    } else {
        Conn::Plain(tcp)
    };
    let host_header = pusher_std::net::host_header(&options.host, port, options.tls);
    let mut reader = Reader::new(vec![0u8; 64 * 1024], Role::Client, 60 * 1024);
    step(
        "upgrade",
        || {
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(7, |d| d.as_nanos());
            let hs = ClientHandshake::new(seed.to_le_bytes());
            let params = RequestParams {
                host: &host_header,
                path_prefix: "",
                app_key: &options.key,
                client: "rust-pusher-doctor",
                version: env!("CARGO_PKG_VERSION"),
            };
            let mut req = [0u8; 1024];
            let n = hs
                .write_request(&mut req, &params)
                .map_err(|e| e.to_string())?;
            conn.write_all(&req[..n]).map_err(|e| e.to_string())?;
            loop {
                let spare = reader.spare();
                let got = conn.read(spare).map_err(|e| e.to_string())?;
                if got == 0 {
                    return Err("connection closed before the 101 answer".into());
                }
                reader.commit(got);
                match hs.parse_response(reader.unread()) {
                    Ok(Status::Partial) => continue,
                    Ok(Status::Complete((), len)) => {
                        reader.skip(len);
                        return Ok((
                            (),
                            "101 Switching Protocols, Sec-WebSocket-Accept verified".into(),
                        ));
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
        },
        "the server did not upgrade: wrong path or key (404), not a WebSocket endpoint, or a proxy in the way",
    )?;
    let mut next_text = |conn: &mut Conn| -> Result<String, String> {
        loop {
            loop {
                match reader.read().map_err(|e| e.to_string())? {
                    Some(Message::Text(t)) => return Ok(t.to_owned()),
                    Some(Message::Close(c)) => {
                        return Err(match c {
                            Some(c) => format!("server closed with code {}: {}", c.code, c.reason),
                            None => "server closed without a code".into(),
                        });
                    }
                    Some(_) => continue,
                    None => break,
                }
            }
            let spare = reader.spare();
            let got = conn.read(spare).map_err(|e| e.to_string())?;
            if got == 0 {
                return Err("connection closed".into());
            }
            reader.commit(got);
        }
    };
    let socket_id = step(
        "connection_established",
        || {
            let text = next_text(&mut conn)?;
            let mut scratch = vec![0u8; text.len()];
            match ServerMessage::decode(&text, &mut scratch).map_err(|e| e.to_string())? {
                ServerMessage::ConnectionEstablished {
                    socket_id,
                    activity_timeout,
                } => Ok((
                    socket_id.as_str().to_owned(),
                    match activity_timeout {
                        Some(t) => format!("socket_id {socket_id}, activity_timeout {t} s"),
                        None => format!("socket_id {socket_id}, no activity_timeout"),
                    },
                )),
                ServerMessage::Error { code, message } => Err(format!(
                    "pusher:error {}: {}",
                    code_text(code),
                    message.raw()
                )),
                _ => Err(format!("unexpected first message: {text}")),
            }
        },
        "the server refused the app: 4001 unknown app key, 4003 disabled, 4004 over quota (see the code)",
    )?;
    step(
        "ping/pong",
        || {
            let mut frame = [0u8; 64];
            let n = emit_frame(
                &mut frame,
                true,
                Opcode::Text,
                message::PING.as_bytes(),
                Some([1, 2, 3, 4]),
            )
            .map_err(|e| e.to_string())?;
            conn.write_all(&frame[..n]).map_err(|e| e.to_string())?;
            loop {
                let text = next_text(&mut conn)?;
                let mut scratch = vec![0u8; text.len()];
                if let Ok(ServerMessage::Pong) = ServerMessage::decode(&text, &mut scratch) {
                    return Ok(((), "pusher:pong received".into()));
                }
            }
        },
        "no pong: the server or a proxy drops client messages",
    )?;
    let mut failed = Vec::new();
    if let Some(secret) = app.secret() {
        let creds = pusher_core::auth::Credentials::new(&options.key, &secret);
        for (name, channel, channel_data) in [
            ("private subscribe", "private-pusher-doctor", None),
            (
                "presence subscribe",
                "presence-pusher-doctor",
                Some(r#"{"user_id":"pusher-doctor","user_info":{"name":"pusher doctor"}}"#),
            ),
        ] {
            let r = step(
                name,
                || {
                    let sid = pusher_core::SocketId::new(&socket_id).map_err(|e| e.to_string())?;
                    let ch = pusher_core::ChannelName::new(channel).map_err(|e| e.to_string())?;
                    let mut token = [0u8; 256];
                    let auth = creds
                        .channel_auth(&mut token, sid, ch, channel_data)
                        .map_err(|e| e.to_string())?;
                    let mut text = vec![0u8; 1024];
                    let n = message::subscribe(&mut text, ch, Some(auth), channel_data)
                        .map_err(|e| e.to_string())?;
                    let mut frame = vec![0u8; n + 16];
                    let m = emit_frame(
                        &mut frame,
                        true,
                        Opcode::Text,
                        &text[..n],
                        Some([9, 8, 7, 6]),
                    )
                    .map_err(|e| e.to_string())?;
                    conn.write_all(&frame[..m]).map_err(|e| e.to_string())?;
                    loop {
                        let text = next_text(&mut conn)?;
                        let mut scratch = vec![0u8; text.len()];
                        match ServerMessage::decode(&text, &mut scratch) {
                            Ok(ServerMessage::SubscriptionSucceeded { channel: c, .. })
                                if c == channel =>
                            {
                                return Ok(((), format!("{channel} subscribed, signed locally")));
                            }
                            Ok(ServerMessage::Error { code, message }) => {
                                return Err(format!(
                                    "pusher:error {}: {}",
                                    code_text(code),
                                    message.raw()
                                ));
                            }
                            Ok(ServerMessage::SubscriptionError { .. }) => {
                                return Err(format!("refused: {text}"));
                            }
                            _ => continue,
                        }
                    }
                },
                "the server rejects our signature: the secret does not belong to this key (or the app has no such channel type enabled)",
            );
            if let Err(e) = r {
                failed.push(e);
            }
        }
    }
    if let Some(url) = extras.auth_endpoint {
        let r = step(
            "auth endpoint",
            || {
                use pusher_std::auth::Authorizer as _;
                let auth = pusher_std::auth::HttpAuthorizer::new(url)?;
                let sid = pusher_core::SocketId::new(&socket_id).map_err(|e| e.to_string())?;
                let ch = pusher_core::ChannelName::new("private-pusher-doctor")
                    .map_err(|e| e.to_string())?;
                let answer = auth.authorize(sid, ch).map_err(|e| e.to_string())?;
                let mut detail = format!("{url} answered {}", answer.auth);
                if let Some(secret) = app.secret() {
                    let creds = pusher_core::auth::Credentials::new(&options.key, &secret);
                    let mut token = [0u8; 256];
                    let want = creds
                        .channel_auth(&mut token, sid, ch, None)
                        .map_err(|e| e.to_string())?;
                    if want != answer.auth {
                        return Err(format!(
                            "{url} signs with another secret or key: answered {}, expected {want}",
                            answer.auth
                        ));
                    }
                    detail.push_str(", matching the secret");
                }
                Ok(((), detail))
            },
            "the auth endpoint must answer a form POST of socket_id and channel_name with {\"auth\":\"KEY:SIGNATURE\"}",
        );
        if let Err(e) = r {
            failed.push(e);
        }
    }
    if let Ok(config) = app.rest_config() {
        let r = step(
            "REST",
            || {
                let rest = pusher_std::rest::Rest::new(config).map_err(|e| e.to_string())?;
                match rest.clock_skew().map_err(|e| e.to_string())? {
                    Some(skew) if skew.abs() > 600 => Err(format!(
                        "credentials accepted, but this clock is {skew} s off the server's"
                    )),
                    Some(skew) => Ok((
                        (),
                        format!("signed GET /channels accepted, clock skew {skew} s"),
                    )),
                    None => Ok((
                        (),
                        "signed GET /channels accepted (no Date header to compare clocks)".into(),
                    )),
                }
            },
            "a 401 means a wrong secret or app id; a clock more than 600 s off makes every signature expire (sync it: timedatectl set-ntp true)",
        );
        if let Err(e) = r {
            failed.push(e);
        }
    }
    if !failed.is_empty() {
        return Err(failed.join("; "));
    }
    if !json() {
        crate::out::line("all checks passed");
    }
    Ok(())
}

/// A `pusher:error` code as people read it.
fn code_text(code: Option<u16>) -> String {
    code.map_or("(no code)".into(), |c| c.to_string())
}
