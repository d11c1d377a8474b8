//! The driver against a scripted in-memory server: the handshake, subscriptions answered by
//! the authorizer, events handed to the app, and cancel-safety (dropping `run` mid-session
//! and calling it again reconnects and resubscribes without losing anything).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::ops::ControlFlow;
use std::rc::Rc;
use std::task::{Poll, Waker};

use embassy_futures::block_on;
use embassy_futures::select::{Either, select};
use embassy_time::{Duration, Timer};
use embedded_io_async::{ErrorType, Read, Write};
use pusher_core::Status;
use pusher_core::auth::Credentials;
use pusher_core::client::{self, Buffers, Client, Event};
use pusher_core::wire::handshake::{parse_request, write_response};
use pusher_core::wire::json::Value;
use pusher_core::wire::message::{Payload, server};
use pusher_core::wire::ws::{Message, Opcode, Reader, Role, emit_frame};
use pusher_core::{ChannelName, SocketId};
use pusher_embassy::{Authorizer, Close, Connect, Driver, Handler, LocalSigner, Stop};

const KEY: &str = "app-key";
const SECRET: &str = "app-secret";

/// One connection's server side: answers the upgrade, sends connection_established, confirms
/// each subscription, and keeps every text frame the client sent.
struct Server {
    socket_id: String,
    request: Vec<u8>,
    reader: Option<Reader<Vec<u8>>>,
    out: VecDeque<u8>,
    got: Vec<String>,
    closed: bool,
    waker: Option<Waker>,
}

impl Server {
    fn new(socket_id: &str) -> Self {
        Server {
            socket_id: socket_id.into(),
            request: Vec::new(),
            reader: None,
            out: VecDeque::new(),
            got: Vec::new(),
            closed: false,
            waker: None,
        }
    }

    fn send_text(&mut self, text: &str) {
        let mut frame = vec![0u8; text.len() + 14];
        let n = emit_frame(&mut frame, true, Opcode::Text, text.as_bytes(), None).unwrap();
        self.out.extend(&frame[..n]);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    fn receive(&mut self, bytes: &[u8]) {
        let Some(reader) = self.reader.as_mut() else {
            self.request.extend_from_slice(bytes);
            let Ok(Status::Complete(req, _)) = parse_request(&self.request) else {
                return;
            };
            let mut resp = [0u8; 256];
            let n = write_response(&mut resp, &req).unwrap();
            self.out.extend(&resp[..n]);
            self.reader = Some(Reader::new(vec![0u8; 4096], Role::Server, 4096));
            let mut buf = [0u8; 128];
            let sid = SocketId::new(&self.socket_id).unwrap();
            let n = server::connection_established(&mut buf, sid, 120).unwrap();
            self.send_text(std::str::from_utf8(&buf[..n]).unwrap());
            return;
        };
        let mut bytes = bytes;
        let mut texts = Vec::new();
        while !bytes.is_empty() {
            let n = reader.feed(bytes);
            bytes = &bytes[n..];
            while let Some(m) = reader.read().unwrap() {
                if let Message::Text(t) = m {
                    texts.push(t.to_string());
                }
            }
        }
        for t in texts {
            let v = Value::parse(&t).unwrap();
            if v.get("event").and_then(|e| e.as_raw_str()).map(|e| e.raw())
                == Some("pusher:subscribe")
            {
                let channel = v
                    .get("data")
                    .unwrap()
                    .get("channel")
                    .unwrap()
                    .as_raw_str()
                    .unwrap();
                let mut buf = [0u8; 256];
                let n = server::event(
                    &mut buf,
                    "pusher_internal:subscription_succeeded",
                    Some(channel.raw()),
                    Some(Payload::Json("{}")),
                    None,
                )
                .unwrap();
                self.send_text(std::str::from_utf8(&buf[..n]).unwrap());
                // Then an event on it.
                let n = server::event(
                    &mut buf,
                    "order",
                    Some(channel.raw()),
                    Some(Payload::Json(r#"{"id":7}"#)),
                    None,
                )
                .unwrap();
                self.send_text(std::str::from_utf8(&buf[..n]).unwrap());
            }
            self.got.push(t);
        }
    }
}

/// Opens in-memory connections, each with a fresh [`Server`] (socket ids 1.1, 2.2, ...).
#[derive(Default)]
struct Connector {
    servers: Vec<Rc<RefCell<Server>>>,
}

struct Conn(Rc<RefCell<Server>>);

impl Connect for Connector {
    type Error = Infallible;
    type Conn<'c>
        = Conn
    where
        Self: 'c;

    async fn connect(&mut self, _tls: bool) -> Result<Conn, Infallible> {
        let k = self.servers.len() + 1;
        let server = Rc::new(RefCell::new(Server::new(&format!("{k}.{k}"))));
        self.servers.push(server.clone());
        Ok(Conn(server))
    }
}

impl ErrorType for Conn {
    type Error = Infallible;
}

impl Read for Conn {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        std::future::poll_fn(|cx| {
            let mut s = self.0.borrow_mut();
            if s.closed {
                return Poll::Ready(Ok(0));
            }
            if s.out.is_empty() {
                s.waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let n = buf.len().min(s.out.len());
            for (d, b) in buf.iter_mut().zip(s.out.drain(..n)) {
                *d = b;
            }
            Poll::Ready(Ok(n))
        })
        .await
    }
}

impl Write for Conn {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.0.borrow_mut().receive(buf);
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl Close for Conn {
    async fn close(&mut self) {
        self.0.borrow_mut().closed = true;
    }
}

fn client() -> Client<'static> {
    let mut config = client::Config::new(KEY, "test.invalid");
    config.use_tls = false;
    client_with(config)
}

fn client_with(config: client::Config<'static>) -> Client<'static> {
    let leak = |n: usize| Box::leak(vec![0u8; n].into_boxed_slice());
    Client::new(
        config,
        Buffers {
            rx: leak(4096),
            tx: leak(1024),
            presence: leak(512),
        },
        7,
    )
}

fn signer() -> LocalSigner<'static, 128> {
    LocalSigner::new(Credentials::new(KEY, SECRET))
}

/// The subscribe frame the client must send for `channel` on `socket_id`.
fn signed_subscribe(channel: &str, socket_id: &str) -> String {
    let mut token = [0u8; 128];
    let auth = Credentials::new(KEY, SECRET)
        .channel_auth(
            &mut token,
            SocketId::new(socket_id).unwrap(),
            ChannelName::new(channel).unwrap(),
            None,
        )
        .unwrap();
    format!(r#"{{"event":"pusher:subscribe","data":{{"auth":"{auth}","channel":"{channel}"}}}}"#)
}

fn describe(event: &Event<'_>) -> Option<String> {
    match event {
        Event::Subscribed { channel } => Some(format!("subscribed {channel}")),
        Event::Message {
            event,
            channel,
            data,
            ..
        } => Some(format!(
            "message {} {event} {}",
            channel.unwrap_or("-"),
            data.unwrap_or("")
        )),
        Event::StateChanged { current, .. } => Some(format!("state {current:?}")),
        _ => None,
    }
}

#[test]
fn subscribes_signs_and_hands_events_to_the_app() {
    let mut connector = Connector::default();
    let mut driver = Driver::new(client(), signer());
    driver.client().subscribe("public-a").unwrap();
    driver.client().subscribe("private-b").unwrap();
    driver.connect();
    let mut seen = Vec::new();
    let stop = block_on(driver.run(&mut connector, &mut |event: Event<'_>| {
        if let Some(line) = describe(&event) {
            seen.push(line);
        }
        // Stop once both channels delivered their event.
        if seen.iter().filter(|l| l.starts_with("message")).count() == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }));
    assert_eq!(stop, Stop::App);
    for want in [
        "state Connected",
        "subscribed public-a",
        "subscribed private-b",
        r#"message public-a order {"id":7}"#,
        r#"message private-b order {"id":7}"#,
    ] {
        assert!(seen.contains(&want.to_string()), "{want} not in {seen:?}");
    }
    // One connection; the private subscription carried the signature for its socket id.
    assert_eq!(connector.servers.len(), 1);
    let got = connector.servers[0].borrow().got.clone();
    assert!(
        got.contains(&signed_subscribe("private-b", "1.1")),
        "{got:?}"
    );
    assert!(
        got.contains(&r#"{"event":"pusher:subscribe","data":{"channel":"public-a"}}"#.to_string()),
        "{got:?}"
    );
    // Stopping closed the connection politely.
    assert!(connector.servers[0].borrow().closed);
}

#[test]
fn dropping_run_mid_session_reconnects_and_resubscribes_on_the_next_run() {
    let mut connector = Connector::default();
    let mut driver = Driver::new(client(), signer());
    driver.client().subscribe("private-b").unwrap();
    driver.connect();
    // Cancel the run as soon as the subscription is confirmed (the connection is open).
    let subscribed = std::cell::Cell::new(0);
    block_on(async {
        let mut app = |event: Event<'_>| {
            if matches!(event, Event::Subscribed { .. }) {
                subscribed.set(subscribed.get() + 1);
            }
            ControlFlow::Continue(())
        };
        let run = driver.run(&mut connector, &mut app);
        let deadline = async {
            while subscribed.get() == 0 {
                Timer::after(Duration::from_millis(5)).await;
            }
        };
        match select(run, deadline).await {
            Either::First(stop) => panic!("run stopped by itself: {stop:?}"),
            Either::Second(()) => {}
        }
    });
    assert_eq!(subscribed.get(), 1);
    assert_eq!(connector.servers.len(), 1);

    // The next run sees the lost transport, reconnects (after backoff) and subscribes again,
    // signed for the new socket id.
    let mut seen = Vec::new();
    let stop = block_on(driver.run(&mut connector, &mut |event: Event<'_>| {
        if let Some(line) = describe(&event) {
            seen.push(line);
        }
        if seen.contains(&"subscribed private-b".to_string()) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }));
    assert_eq!(stop, Stop::App);
    assert_eq!(connector.servers.len(), 2, "{seen:?}");
    let got = connector.servers[1].borrow().got.clone();
    assert!(
        got.contains(&signed_subscribe("private-b", "2.2")),
        "{got:?}"
    );
}

#[test]
fn disconnect_ends_the_run() {
    let mut connector = Connector::default();
    let mut driver = Driver::new(client(), signer());
    driver.connect();
    let mut connected = false;
    struct App<'s>(&'s mut bool);
    impl pusher_embassy::Handler for App<'_> {
        fn event(&mut self, event: Event<'_>) -> ControlFlow<()> {
            if matches!(
                event,
                Event::StateChanged {
                    current: pusher_core::client::State::Connected,
                    ..
                }
            ) {
                *self.0 = true;
            }
            ControlFlow::Continue(())
        }
        fn work<const C: usize, const N: usize>(
            &mut self,
            client: &mut Client<'_, C, N>,
        ) -> ControlFlow<()> {
            if *self.0 {
                client.disconnect(client::Instant::from_millis(1));
            }
            ControlFlow::Continue(())
        }
    }
    let stop = block_on(driver.run(&mut connector, &mut App(&mut connected)));
    assert!(connected);
    assert_eq!(stop, Stop::Disconnected);
    // The connection was shut down politely.
    assert!(connector.servers[0].borrow().closed);
}

#[test]
fn a_callback_signs_and_a_refusal_becomes_a_subscription_error() {
    use pusher_embassy::{AuthError, CallbackAuthorizer};
    let sign =
        |socket: SocketId<'_>, name: ChannelName<'_>, out: &mut [u8]| -> Result<usize, AuthError> {
            if name.as_str() == "private-denied" {
                return Err(AuthError::Unavailable);
            }
            let creds = Credentials::new(KEY, SECRET);
            let token = creds
                .channel_auth(out, socket, name, None)
                .map_err(|_| AuthError::BufferTooSmall)?;
            Ok(token.len())
        };
    let mut connector = Connector::default();
    let mut driver = Driver::new(client(), CallbackAuthorizer::<_, 128>::new(sign));
    driver.client().subscribe("private-b").unwrap();
    driver.client().subscribe("private-denied").unwrap();
    driver.connect();
    let mut seen = Vec::new();
    let stop = block_on(driver.run(&mut connector, &mut |event: Event<'_>| {
        match event {
            Event::SubscriptionError { channel, status } => {
                seen.push(format!("refused {channel} {status:?}"))
            }
            other => seen.extend(describe(&other)),
        }
        let done = seen.iter().any(|l| l.starts_with("refused"))
            && seen.contains(&"subscribed private-b".to_string());
        if done {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }));
    assert_eq!(stop, Stop::App);
    assert!(
        seen.contains(&"refused private-denied None".to_string()),
        "{seen:?}"
    );
    let got = connector.servers[0].borrow().got.clone();
    assert!(
        got.contains(&signed_subscribe("private-b", "1.1")),
        "{got:?}"
    );
    assert!(!got.iter().any(|g| g.contains("private-denied")), "{got:?}");
}

/// Signs like [`LocalSigner`], except that it never answers for `private-slow`.
struct Hanging(LocalSigner<'static, 128>);

impl pusher_embassy::Authorizer for Hanging {
    async fn authorize(
        &mut self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> Result<pusher_embassy::ChannelGrant<'_>, pusher_embassy::AuthError> {
        if channel.as_str() == "private-slow" {
            std::future::pending::<()>().await;
        }
        self.0.authorize(socket_id, channel).await
    }
}

#[test]
fn a_hanging_authorizer_holds_up_nothing_and_times_out_into_a_subscription_error() {
    let mut connector = Connector::default();
    let mut driver = Driver::new(client(), Hanging(signer()));
    driver.set_auth_timeout(Duration::from_millis(300));
    // The hanging channel first, so its request is asked before the others.
    driver.client().subscribe("private-slow").unwrap();
    driver.client().subscribe("public-a").unwrap();
    driver.client().subscribe("private-b").unwrap();
    driver.connect();
    let start = std::time::Instant::now();
    let mut seen: Vec<(u128, String)> = Vec::new();
    let stop = block_on(driver.run(&mut connector, &mut |event: Event<'_>| {
        let line = match event {
            Event::SubscriptionError { channel, .. } => Some(format!("refused {channel}")),
            other => describe(&other),
        };
        if let Some(line) = line {
            seen.push((start.elapsed().as_millis(), line));
        }
        let has = |l: &str| seen.iter().any(|(_, s)| s == l);
        if has("refused private-slow") && has("subscribed private-b") {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }));
    assert_eq!(stop, Stop::App);
    let at = |l: &str| {
        seen.iter()
            .find(|(_, s)| s == l)
            .map(|(t, _)| *t)
            .unwrap_or_else(|| panic!("no {l:?} in {seen:?}"))
    };
    // The public channel and its event did not wait for the authorizer.
    assert!(at("subscribed public-a") < 200, "{seen:?}");
    assert!(at(r#"message public-a order {"id":7}"#) < 200, "{seen:?}");
    // The hanging request times out on its own; the next one is signed after it.
    let refused = at("refused private-slow");
    assert!((300..2000).contains(&refused), "{seen:?}");
    assert!(at("subscribed private-b") >= refused, "{seen:?}");
    let got = connector.servers[0].borrow().got.clone();
    assert!(!got.iter().any(|g| g.contains("private-slow")), "{got:?}");
    assert!(
        got.contains(&signed_subscribe("private-b", "1.1")),
        "{got:?}"
    );
}

/// Refuses every sign-in, counting how often it is asked.
struct RefusesSignin(std::rc::Rc<std::cell::Cell<u32>>);

impl pusher_embassy::Authorizer for RefusesSignin {
    async fn authorize(
        &mut self,
        _: SocketId<'_>,
        _: ChannelName<'_>,
    ) -> Result<pusher_embassy::ChannelGrant<'_>, pusher_embassy::AuthError> {
        Err(pusher_embassy::AuthError::Refused)
    }

    async fn authenticate_user(
        &mut self,
        _: SocketId<'_>,
    ) -> Result<pusher_embassy::UserGrant<'_>, pusher_embassy::AuthError> {
        self.0.set(self.0.get() + 1);
        // Asked again every turn, the loop would never yield to the test's timer.
        assert!(self.0.get() < 100, "sign-in asked in a loop");
        Err(pusher_embassy::AuthError::Refused)
    }
}

#[test]
fn a_refused_signin_is_asked_once_per_connection_not_in_a_loop() {
    let asked = Rc::new(std::cell::Cell::new(0));
    let mut connector = Connector::default();
    let mut driver = Driver::new(client(), RefusesSignin(asked.clone()));
    driver.client().subscribe("public-a").unwrap();
    driver.client().signin();
    driver.connect();
    // Run for 300 ms after connecting; a refusal that is asked again every turn would count
    // thousands.
    block_on(select(
        driver.run(
            &mut connector,
            &mut |_: Event<'_>| ControlFlow::Continue(()),
        ),
        Timer::after(Duration::from_millis(300)),
    ));
    assert_eq!(asked.get(), 1);
    assert_eq!(connector.servers.len(), 1);
}

/// Signs like [`LocalSigner`] after 300 ms (a backend over a slow link), counting how often a
/// request is started.
struct Slow(LocalSigner<'static, 128>, Rc<std::cell::Cell<u32>>);

impl pusher_embassy::Authorizer for Slow {
    async fn authorize(
        &mut self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> Result<pusher_embassy::ChannelGrant<'_>, pusher_embassy::AuthError> {
        self.1.set(self.1.get() + 1);
        Timer::after(Duration::from_millis(300)).await;
        self.0.authorize(socket_id, channel).await
    }
}

#[test]
fn a_slow_authorizer_is_asked_once_while_frames_keep_arriving() {
    let started = Rc::new(std::cell::Cell::new(0));
    let mut connector = Connector::default();
    let mut driver = Driver::new(client(), Slow(signer(), started.clone()));
    driver.client().subscribe("private-b").unwrap();
    driver.client().subscribe("public-a").unwrap();
    driver.connect();
    let mut seen = Vec::new();
    let stop = block_on(driver.run(&mut connector, &mut |event: Event<'_>| {
        if let Some(line) = describe(&event) {
            seen.push(line);
        }
        if seen.iter().any(|l| l == "subscribed private-b") {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }));
    assert_eq!(stop, Stop::App);
    // The public channel's confirmation and event came in while the request was out, and
    // the request went on rather than starting over at each frame.
    let public = seen.iter().position(|l| l == "subscribed public-a");
    let private = seen.iter().position(|l| l == "subscribed private-b");
    assert!(public < private && public.is_some(), "{seen:?}");
    assert!(
        seen.iter()
            .any(|l| l == r#"message public-a order {"id":7}"#),
        "{seen:?}"
    );
    assert_eq!(started.get(), 1, "{seen:?}");
}

/// A connector whose first `connect` never answers (a dead route, a TLS handshake the
/// server never finishes); later ones open as usual.
#[derive(Default)]
struct FirstConnectHangs {
    attempts: u32,
    inner: Connector,
}

impl Connect for FirstConnectHangs {
    type Error = Infallible;
    type Conn<'c>
        = Conn
    where
        Self: 'c;

    async fn connect(&mut self, tls: bool) -> Result<Conn, Infallible> {
        self.attempts += 1;
        if self.attempts == 1 {
            std::future::pending::<()>().await;
        }
        self.inner.connect(tls).await
    }
}

#[test]
fn a_connect_that_never_answers_gives_up_at_the_connect_timeout_and_retries() {
    let mut config = client::Config::new(KEY, "test.invalid");
    config.use_tls = false;
    config.connect_timeout = client::Duration::from_millis(300);
    let mut driver = Driver::new(client_with(config), signer());
    driver.client().subscribe("public-a").unwrap();
    driver.connect();
    let mut connector = FirstConnectHangs::default();
    let start = std::time::Instant::now();
    let subscribed = block_on(async {
        let mut app = |event: Event<'_>| {
            if matches!(event, Event::Subscribed { .. }) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let run = driver.run(&mut connector, &mut app);
        // Without the bound the run waits on the first connect for ever.
        match select(run, Timer::after(Duration::from_secs(10))).await {
            Either::First(stop) => Some(stop),
            Either::Second(()) => None,
        }
    });
    assert_eq!(subscribed, Some(Stop::App), "still connecting after 10 s");
    assert_eq!(connector.attempts, 2);
    // The attempt was abandoned at its timeout, then retried after a backoff.
    assert!(start.elapsed() >= std::time::Duration::from_millis(300));
}

/// A connector whose first `connect` is refused with a reason; later ones open as usual.
#[derive(Default)]
struct FirstConnectRefused {
    attempts: u32,
    inner: Connector,
}

impl Connect for FirstConnectRefused {
    type Error = &'static str;
    type Conn<'c>
        = Conn
    where
        Self: 'c;

    async fn connect(&mut self, tls: bool) -> Result<Conn, &'static str> {
        self.attempts += 1;
        if self.attempts == 1 {
            return Err("TLS handshake failed: InvalidCertificate");
        }
        Ok(self.inner.connect(tls).await.unwrap_or_else(|e| match e {}))
    }
}

/// Remembers why connections failed, and stops once subscribed.
#[derive(Default)]
struct Reasons {
    failed: Vec<String>,
}

impl Handler for Reasons {
    fn event(&mut self, event: Event<'_>) -> ControlFlow<()> {
        if matches!(event, Event::Subscribed { .. }) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn connect_failed(&mut self, error: &dyn core::fmt::Display) {
        self.failed.push(error.to_string());
    }
}

/// Runs the driver until it stops, or 10 s have passed (`None`).
fn run_at_most_10s<A: Authorizer, C: Connect, H: Handler>(
    driver: &mut Driver<'static, A>,
    connector: &mut C,
    app: &mut H,
) -> Option<Stop> {
    block_on(async {
        match select(
            driver.run(connector, app),
            Timer::after(Duration::from_secs(10)),
        )
        .await
        {
            Either::First(stop) => Some(stop),
            Either::Second(()) => None,
        }
    })
}

#[test]
fn why_a_connection_failed_reaches_the_app_before_the_retry() {
    let mut driver = Driver::new(client(), signer());
    driver.client().subscribe("public-a").unwrap();
    driver.connect();
    let mut connector = FirstConnectRefused::default();
    let mut app = Reasons::default();
    let stop = run_at_most_10s(&mut driver, &mut connector, &mut app);
    assert_eq!(stop, Some(Stop::App), "not subscribed after 10 s");
    assert_eq!(
        app.failed,
        ["TLS handshake failed: InvalidCertificate"],
        "the cause of the failed attempt"
    );
    assert_eq!(connector.attempts, 2);
}

#[test]
fn a_connect_timeout_is_said_to_the_app() {
    let mut config = client::Config::new(KEY, "test.invalid");
    config.use_tls = false;
    config.connect_timeout = client::Duration::from_millis(200);
    let mut driver = Driver::new(client_with(config), signer());
    driver.client().subscribe("public-a").unwrap();
    driver.connect();
    let mut connector = FirstConnectHangs::default();
    let mut app = Reasons::default();
    let stop = run_at_most_10s(&mut driver, &mut connector, &mut app);
    assert_eq!(stop, Some(Stop::App));
    assert_eq!(app.failed, ["no connection within the connect timeout"]);
}
