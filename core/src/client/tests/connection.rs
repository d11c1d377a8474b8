//! Connecting, close-code classes, liveness, backoff and giving up.

use super::*;

#[test]
fn state_size_fits_the_budget() {
    std::println!(
        "client state with default capacities: {} bytes",
        TestClient::STATE_SIZE
    );
    // Checked when this test compiles: the budget is 1 KiB besides the caller's buffers,
    // plus, with the `encryption` feature, each channel slot's 32-byte shared secret (and
    // its tag, re-key state and alignment) and the re-key hold's place.
    const SECRETS: usize = if cfg!(feature = "encryption") {
        8 * 40
    } else {
        0
    };
    const { assert!(TestClient::STATE_SIZE <= 1024 + SECRETS) };
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
