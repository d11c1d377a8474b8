//! A soak: 30 simulated days of seeded random faults through the state machine on a virtual
//! clock, in seconds of real time. A scripted world plays the server and the app: it refuses
//! connections, goes down for minutes, closes with every class of close code (during the
//! handshake and after it), drops the transport, stalls, swallows pings, trickles bytes, and
//! answers auth slowly, late (after the connection changed) or not at all.
//!
//! A server that closes every new connection with a 4200-4299 code for up to a minute (soketi
//! in its shutdown grace) is among the faults: with immediate retries not backed off after
//! the first, this test fails on its attempt bound (checked by planting that bug).
//!
//! Invariants, checked all along: never stuck (a deadline, an action or a scheduled reconnect
//! always exists); connection attempts within the backoff bound (no hot loop: at most 8 in any
//! 10 s); every subscription back after each recovery (but one whose auth was refused on that
//! connection, which is told to the app); no event lost while connected, none duplicated, in
//! order; the client's tables constant (three channels, the member store holding exactly the
//! server's members).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::*;

const DAY: u64 = 24 * 3600 * 1000;
const CHANNELS: [&str; 3] = ["public-feed", "private-inbox", "presence-room"];
/// The presence channel's other members, as the server lists them.
const OTHERS: [&str; 3] = ["u1", "u2", "u3"];
const ME: &str = r#"{"user_id":"me","user_info":{"n":"device"}}"#;

/// xorshift64*: the world's dice (seeded, so a failure replays).
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// How a connection ends.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// The transport goes away.
    Drop,
    /// The server closes with this code.
    Close(u16),
    /// The server goes silent (no bytes, no pongs): the client's ping must find out.
    Stall,
    /// The server keeps sending but never answers a ping.
    SwallowPings,
}

/// What the app saw, owned (the event borrows the client).
enum Seen {
    Reading(String, u64),
    Auth(String, String),
    Refused(String, Option<u16>),
    Down,
    Other,
}

impl Seen {
    fn of(e: Event<'_>) -> Seen {
        match e {
            Event::Message {
                channel: Some(ch),
                data: Some(d),
                event: "reading",
                ..
            } => Seen::Reading(ch.into(), d.parse().unwrap()),
            Event::AuthRequired { channel, socket_id } => {
                Seen::Auth(channel.into(), socket_id.into())
            }
            Event::SubscriptionError { channel, status } => Seen::Refused(channel.into(), status),
            Event::StateChanged {
                current: State::Disconnected | State::Failed,
                ..
            } => Seen::Down,
            _ => Seen::Other,
        }
    }
}

/// One transport connection as the world sees it.
struct Conn {
    server: Server,
    /// When the upgrade completes: the close code to answer with instead of
    /// `connection_established` (a refusal during the handshake).
    refuse_with: Option<u16>,
    established: bool,
    socket_id: String,
    opened_at: u64,
    fault_at: u64,
    fault: Fault,
    faulted: bool,
    silent: bool,
    swallow_pings: bool,
    next_event_at: u64,
    /// Bytes per delivery (0: all at once).
    chunk: usize,
    /// Channels the server confirmed on this connection.
    confirmed: BTreeSet<String>,
    /// Channels whose auth the app refused on this connection.
    refused: BTreeSet<String>,
    /// Event ids queued in the server's output: (end offset in the stream, channel, id).
    queued: VecDeque<(usize, String, u64)>,
    /// Bytes of the server's stream handed to the client so far.
    sent: usize,
    /// Bytes of the server's stream produced so far.
    produced: usize,
}

struct World {
    c: TestClient,
    dice: Dice,
    now: u64,
    conn: Option<Conn>,
    connections: u64,
    /// The server refuses connections until then.
    down_until: u64,
    /// The server closes every new connection with a 4200-4299 code until then (soketi in its
    /// shutdown grace: the hot loop of issue 19).
    grace_until: u64,
    /// The app connects again then (after a refusing close code).
    reconnect_at: Option<u64>,
    /// Auth answers the app will give: (when, channel, socket id, refuse).
    auth_due: Vec<(u64, String, String, bool)>,
    next_id: u64,
    /// Per channel: ids whose last byte reached the client, and ids the app received.
    delivered: BTreeMap<String, Vec<u64>>,
    received: BTreeMap<String, Vec<u64>>,
    attempts: VecDeque<u64>,
    total_attempts: u64,
    recoveries_checked: u64,
    stale_answers: u64,
    refusals_told: u64,
    faults: BTreeMap<&'static str, u64>,
}

impl World {
    fn new(seed: u64) -> World {
        let mut config = Config::new("app-key", "127.0.0.1:6001");
        config.use_tls = false;
        let mut c = Client::new(
            config,
            Buffers {
                rx: leak(4096),
                tx: leak(2048),
                presence: leak(1024),
            },
            seed,
        );
        for ch in CHANNELS {
            c.subscribe(ch).unwrap();
        }
        World {
            c,
            dice: Dice(seed | 1),
            now: 0,
            conn: None,
            connections: 0,
            down_until: 0,
            grace_until: 0,
            reconnect_at: None,
            auth_due: Vec::new(),
            next_id: 1,
            delivered: BTreeMap::new(),
            received: BTreeMap::new(),
            attempts: VecDeque::new(),
            total_attempts: 0,
            recoveries_checked: 0,
            stale_answers: 0,
            refusals_told: 0,
            faults: BTreeMap::new(),
        }
    }

    fn count(&mut self, what: &'static str) {
        *self.faults.entry(what).or_default() += 1;
    }

    /// A close code of a random class: refusing (4001-4099, 4300+), backoff (4100-4199, 1006),
    /// immediate (4200-4299), TLS switch (4000).
    fn close_code(&mut self) -> u16 {
        match self.dice.below(10) {
            0 => 4000,
            1 => self.dice.between(4001, 4099) as u16,
            2 | 3 => self.dice.between(4100, 4199) as u16,
            4..=7 => self.dice.between(4200, 4299) as u16,
            8 => self.dice.between(4300, 4399) as u16,
            _ => 1006,
        }
    }

    fn open(&mut self) {
        self.total_attempts += 1;
        self.attempts.push_back(self.now);
        while self.attempts.front().is_some_and(|t| self.now - t > 10_000) {
            self.attempts.pop_front();
        }
        assert!(
            self.attempts.len() <= 8,
            "hot loop: {} attempts within 10 s at {} ms",
            self.attempts.len(),
            self.now
        );
        if self.now < self.down_until || self.dice.chance(10) {
            self.count("connection refused");
            self.c.handle_closed(ms(self.now));
            return;
        }
        if self.dice.chance(2) {
            // A server restart: down for up to two minutes.
            self.down_until = self.now + self.dice.between(5_000, 120_000);
            self.count("server restart");
        }
        if self.dice.chance(2) {
            self.grace_until = self.now + self.dice.between(3_000, 60_000);
            self.count("shutdown grace (4200s)");
        }
        let refuse_with = if self.now < self.grace_until {
            Some(self.dice.between(4200, 4299) as u16)
        } else {
            self.dice.chance(15).then(|| self.close_code())
        };
        let fault = match self.dice.below(10) {
            0..=3 => Fault::Drop,
            4..=6 => Fault::Close(self.close_code()),
            7 | 8 => Fault::Stall,
            _ => Fault::SwallowPings,
        };
        // Mostly short lives (minutes), sometimes hours.
        let life = if self.dice.chance(80) {
            self.dice.between(1_000, 15 * 60_000)
        } else {
            self.dice.between(3_600_000, 8 * 3_600_000)
        };
        self.connections += 1;
        self.conn = Some(Conn {
            server: Server::new(),
            refuse_with,
            established: false,
            socket_id: format!("{}.{}", self.connections, self.dice.below(1_000_000)),
            opened_at: self.now,
            fault_at: self.now + life,
            fault,
            faulted: false,
            silent: false,
            swallow_pings: false,
            next_event_at: u64::MAX,
            chunk: if self.dice.chance(20) {
                self.dice.between(1, 7) as usize
            } else {
                0
            },
            confirmed: BTreeSet::new(),
            refused: BTreeSet::new(),
            queued: VecDeque::new(),
            sent: 0,
            produced: 0,
        });
        self.c.handle_connected(ms(self.now));
    }

    /// The server's side of what the client sent.
    fn serve(&mut self) {
        let now = self.now;
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if conn.server.upgraded && !conn.established && !conn.silent {
            match conn.refuse_with.take() {
                Some(code) => {
                    conn.server.close(code);
                    conn.silent = true;
                }
                None => {
                    conn.server.established(&conn.socket_id, 120);
                    conn.established = true;
                    conn.next_event_at = now + 5_000;
                }
            }
        }
        for text in conn.server.take_got() {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let data = &v["data"];
            match v["event"].as_str().unwrap() {
                "pusher:subscribe" if !conn.silent => {
                    let ch = data["channel"].as_str().unwrap().to_string();
                    if ch != "public-feed" {
                        let auth = data["auth"].as_str().unwrap();
                        let mut sign: Vec<&[u8]> =
                            std::vec![conn.socket_id.as_bytes(), b":", ch.as_bytes()];
                        let cd = data["channel_data"].as_str();
                        if let Some(cd) = cd {
                            sign.extend_from_slice(&[b":", cd.as_bytes()]);
                        }
                        let creds = Credentials::new("app-key", "app-secret");
                        let hex = auth.strip_prefix("app-key:").unwrap();
                        assert!(
                            creds.verify_hex(&sign, hex.as_bytes()),
                            "bad signature for {ch}"
                        );
                    }
                    let body = if ch.starts_with("presence-") {
                        let mut ids: Vec<&str> = OTHERS.to_vec();
                        ids.push("me");
                        let hash: Vec<String> =
                            ids.iter().map(|i| format!("\\\"{i}\\\":null")).collect();
                        let list: Vec<String> =
                            ids.iter().map(|i| format!("\\\"{i}\\\"")).collect();
                        format!(
                            "{{\\\"presence\\\":{{\\\"count\\\":{},\\\"ids\\\":[{}],\\\"hash\\\":{{{}}}}}}}",
                            ids.len(),
                            list.join(","),
                            hash.join(",")
                        )
                    } else {
                        "{}".into()
                    };
                    conn.server.text(&format!(
                        r#"{{"event":"pusher_internal:subscription_succeeded","channel":"{ch}","data":"{body}"}}"#
                    ));
                    conn.confirmed.insert(ch);
                }
                "pusher:ping" if !conn.silent && !conn.swallow_pings => {
                    conn.server.text(r#"{"event":"pusher:pong","data":{}}"#);
                }
                "pusher:unsubscribe" => panic!("the client unsubscribed on its own"),
                _ => {}
            }
        }
        conn.produced = conn.sent + conn.server.out.len();
    }

    /// Hands the server's bytes to the client (in chunks on a trickling connection).
    fn deliver(&mut self) -> bool {
        let now = self.now;
        let Some(conn) = self.conn.as_mut() else {
            return false;
        };
        if conn.server.out.is_empty() {
            return false;
        }
        let spare = self.c.rx_buffer();
        let mut n = spare.len().min(conn.server.out.len());
        if conn.chunk != 0 {
            n = n.min(conn.chunk);
        }
        spare[..n].copy_from_slice(&conn.server.out[..n]);
        conn.server.out.drain(..n);
        conn.sent += n;
        while conn
            .queued
            .front()
            .is_some_and(|(end, _, _)| *end <= conn.sent)
        {
            let (_, ch, id) = conn.queued.pop_front().unwrap();
            self.delivered.entry(ch).or_default().push(id);
        }
        self.c.commit_rx(n, ms(now));
        n > 0
    }

    fn app(&mut self, e: Seen) {
        match e {
            Seen::Reading(ch, id) => self.received.entry(ch).or_default().push(id),
            Seen::Auth(channel, socket_id) => {
                let (delay, refuse) = match self.dice.below(20) {
                    0..=15 => (self.dice.between(0, 3_000), false),
                    16 | 17 => (self.dice.between(20_000, 40_000), false),
                    _ => (self.dice.between(0, 1_000), true),
                };
                self.auth_due
                    .push((self.now + delay, channel, socket_id, refuse));
            }
            Seen::Refused(channel, status) => {
                assert_eq!(status, Some(500), "{channel}");
                self.refusals_told += 1;
            }
            // The app connects again a minute after a refusing close code.
            Seen::Down => self.reconnect_at = Some(self.now + 60_000),
            Seen::Other => {}
        }
    }

    /// Runs actions, bytes and events until nothing moves.
    fn settle(&mut self) {
        for _ in 0..100_000 {
            let mut moved = false;
            while let Some(a) = self.c.poll_action() {
                moved = true;
                match a {
                    Action::Open { .. } => self.open(),
                    Action::Close => {
                        self.end_connection();
                        self.c.handle_closed(ms(self.now));
                    }
                }
            }
            while let Some(out) = self.c.poll_transmit() {
                let bytes = out.to_vec();
                self.c.consume_tx(bytes.len());
                if let Some(conn) = self.conn.as_mut() {
                    conn.server.receive(&bytes);
                }
                moved = true;
            }
            self.serve();
            moved |= self.deliver();
            while let Some(e) = self.c.poll_event() {
                moved = true;
                let seen = Seen::of(e);
                self.app(seen);
            }
            if !moved {
                return;
            }
        }
        panic!("the world did not settle at {} ms", self.now);
    }

    fn end_connection(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.check_no_loss(&conn);
        }
    }

    /// Every event whose bytes reached the client was handed to the app, once, in order.
    fn check_no_loss(&self, _conn: &Conn) {
        for ch in CHANNELS {
            let got = self.received.get(ch).map(Vec::as_slice).unwrap_or(&[]);
            let sent = self.delivered.get(ch).map(Vec::as_slice).unwrap_or(&[]);
            assert_eq!(
                got, sent,
                "{ch}: events lost or duplicated at {} ms",
                self.now
            );
            assert!(got.windows(2).all(|w| w[0] < w[1]), "{ch}: out of order");
        }
    }

    /// A connection up for a while without a fault has every channel back.
    fn check_restored(&mut self) {
        let Some(conn) = self.conn.as_ref() else {
            return;
        };
        if !conn.established || conn.faulted || conn.silent || self.now - conn.opened_at < 60_000 {
            return;
        }
        assert_eq!(self.c.state(), State::Connected);
        for ch in CHANNELS {
            if conn.refused.contains(ch) {
                continue;
            }
            assert_eq!(
                self.c.channel_state(ch),
                Some(ChannelState::Subscribed),
                "{ch} not restored a minute into connection {} at {} ms",
                self.connections,
                self.now
            );
        }
        if !conn.refused.contains("presence-room") {
            assert_eq!(self.c.member_count("presence-room"), OTHERS.len() + 1);
        }
        self.recoveries_checked += 1;
    }

    fn apply_fault(&mut self) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        conn.faulted = true;
        let fault = conn.fault;
        match fault {
            Fault::Drop => {}
            Fault::Close(code) => {
                conn.server.close(code);
                conn.silent = true;
            }
            Fault::Stall => conn.silent = true,
            Fault::SwallowPings => {
                conn.swallow_pings = true;
                conn.next_event_at = u64::MAX;
            }
        }
        self.count(match fault {
            Fault::Drop => "transport drop",
            Fault::Close(_) => "close code",
            Fault::Stall => "stall",
            Fault::SwallowPings => "swallowed pings",
        });
        if let Fault::Drop = fault {
            self.end_connection();
            self.c.handle_closed(ms(self.now));
        }
    }

    fn answer_auth(&mut self, channel: &str, socket_id: &str, refuse: bool) {
        let r = if refuse {
            self.c.auth_failed(channel, socket_id, Some(500))
        } else {
            // As an auth endpoint answers: signed for the socket id it was asked for.
            let creds = Credentials::new("app-key", "app-secret");
            let data = channel.starts_with("presence-").then_some(ME);
            let mut token = [0u8; 128];
            let sid = SocketId::new(socket_id).unwrap();
            let name = crate::name::ChannelName::new(channel).unwrap();
            let auth = creds.channel_auth(&mut token, sid, name, data).unwrap();
            self.c.provide_auth(channel, socket_id, auth, data)
        };
        match r {
            Ok(()) => {
                if refuse && let Some(conn) = self.conn.as_mut() {
                    conn.refused.insert(channel.into());
                }
            }
            // The connection changed meanwhile: the answer is refused, the new one is asked.
            Err(AnswerError::StaleSocketId | AnswerError::NotConnected) => self.stale_answers += 1,
            Err(e) => panic!("{channel}: {e:?}"),
        }
    }

    fn send_event(&mut self) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let confirmed: Vec<String> = conn.confirmed.iter().cloned().collect();
        if !confirmed.is_empty() {
            let ch = &confirmed[(self.dice.below(confirmed.len() as u64)) as usize];
            let id = self.next_id;
            self.next_id += 1;
            conn.server.text(&format!(
                r#"{{"event":"reading","channel":"{ch}","data":"{id}"}}"#
            ));
            conn.produced = conn.sent + conn.server.out.len();
            conn.queued.push_back((conn.produced, ch.clone(), id));
        }
        conn.next_event_at = self.now + self.dice.between(10_000, 120_000);
    }

    /// Never stuck: something is always going to happen.
    fn check_not_stuck(&self) {
        let connected = self.c.state() == State::Connected;
        let timed = self.c.poll_timeout().is_some();
        assert!(
            connected || timed || self.reconnect_at.is_some() || self.conn.is_some(),
            "stuck in {:?} at {} ms",
            self.c.state(),
            self.now
        );
    }

    fn step(&mut self) {
        let mut next = u64::MAX;
        if let Some(t) = self.c.poll_timeout() {
            next = next.min(t.as_millis());
        }
        if let Some(conn) = &self.conn {
            if !conn.faulted {
                next = next.min(conn.fault_at);
            }
            if conn.established && !conn.silent {
                next = next.min(conn.next_event_at);
            }
        }
        if let Some(t) = self.reconnect_at {
            next = next.min(t);
        }
        for (t, ..) in &self.auth_due {
            next = next.min(*t);
        }
        // Look at the world at least once a minute (for the restored check).
        next = next.min(self.now + 60_000);
        self.now = self.now.max(next);

        if self
            .c
            .poll_timeout()
            .is_some_and(|t| t.as_millis() <= self.now)
        {
            self.c.handle_timeout(ms(self.now));
        }
        let now = self.now;
        if self
            .conn
            .as_ref()
            .is_some_and(|c| !c.faulted && c.fault_at <= now)
        {
            self.apply_fault();
        }
        if self
            .conn
            .as_ref()
            .is_some_and(|c| c.established && !c.silent && c.next_event_at <= now)
        {
            self.send_event();
        }
        if self.reconnect_at.is_some_and(|t| t <= now) {
            self.reconnect_at = None;
            self.c.connect(ms(now));
        }
        let due: Vec<_> = self
            .auth_due
            .iter()
            .filter(|a| a.0 <= now)
            .cloned()
            .collect();
        self.auth_due.retain(|a| a.0 > now);
        for (_, ch, sid, refuse) in due {
            self.answer_auth(&ch, &sid, refuse);
        }
        self.settle();
        assert_eq!(
            self.c.channels().count(),
            CHANNELS.len(),
            "the channel table changed"
        );
        self.check_not_stuck();
        self.check_restored();
    }
}

#[test]
fn thirty_simulated_days_of_faults() {
    for seed in [0x5eed_0001_u64, 0x5eed_0002] {
        let mut w = World::new(seed);
        w.c.connect(ms(0));
        w.settle();
        while w.now < 30 * DAY {
            w.step();
        }
        w.end_connection();
        let events: usize = w.received.values().map(Vec::len).sum();
        std::println!(
            "seed {seed:#x}: {} connections, {} attempts, {events} events in order, {} recoveries checked, {} stale auth answers refused, {} auth refusals told; faults {:?}",
            w.connections,
            w.total_attempts,
            w.recoveries_checked,
            w.stale_answers,
            w.refusals_told,
            w.faults
        );
        assert!(w.connections > 500 && events > 10_000 && w.recoveries_checked > 1_000);
    }
}
