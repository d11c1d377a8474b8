//! Calls every public decode and client entry point of `pusher-core` on input the optimizer
//! cannot see. The panic handler calls a function that exists nowhere, so this binary links
//! only if no panic path survives optimization: a link error is a reachable panic.
//!
//! `PLANT_PANIC=1` adds one deliberate panic, to show the check fails when it should.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use pusher_core::auth::Credentials;
use pusher_core::client::{Buffers, Client, Config, Instant};
use pusher_core::rest::{self, Request};
use pusher_core::webhook::{self, Webhook};
use pusher_core::wire::event::{Envelope, Event, ServerMessage};
use pusher_core::wire::handshake::{ClientHandshake, parse_request};
use pusher_core::wire::json::Value;
use pusher_core::wire::message::{self, Payload};
use pusher_core::wire::ws::{Reader, Role, parse_header};
use pusher_core::{ChannelName, EventName, SocketId, UserId, utf8};

static mut INPUT: [u8; 1024] = [0; 1024];

/// Bytes and a length the compiler knows nothing about.
fn opaque() -> &'static mut [u8] {
    // SAFETY: single-threaded; this is the only reference ever made to INPUT.
    let all: &'static mut [u8; 1024] = unsafe { &mut *core::ptr::addr_of_mut!(INPUT) };
    let all = black_box(all);
    let len = usize::from(black_box(all.first().copied().unwrap_or(0)));
    let len = len.min(all.len());
    all.get_mut(..len).unwrap_or(&mut [])
}

fn text() -> &'static str {
    utf8(black_box(opaque())).unwrap_or("")
}

#[entry]
fn main() -> ! {
    let mut scratch = [0u8; 512];
    let mut out = [0u8; 512];

    // Names.
    let t = text();
    let _ = black_box(ChannelName::new(t));
    let _ = black_box(EventName::client(t));
    let _ = black_box(SocketId::new(t));
    let _ = black_box(UserId::new(t));

    // WebSocket and handshake.
    let _ = black_box(parse_header(opaque(), Role::Client));
    let mut reader = Reader::new([0u8; 256], Role::Client, 200);
    reader.feed(opaque());
    while let Ok(Some(m)) = reader.read() {
        black_box(m);
    }
    let hs = ClientHandshake::new(black_box([3; 16]));
    let _ = black_box(hs.parse_response(opaque()));
    let _ = black_box(parse_request(opaque()));

    // Pusher messages.
    let _ = black_box(Envelope::parse(text()));
    let _ = black_box(Value::parse(text()));
    let _ = black_box(Event::decode(text(), &mut scratch));
    let _ = black_box(ServerMessage::decode(text(), &mut scratch));
    let _ = black_box(ServerMessage::decode_in_place(opaque()).map(black_box));
    if let Ok(ch) = ChannelName::new(text()) {
        let _ = black_box(message::subscribe(&mut out, ch, Some(text()), Some(text())));
        let _ = black_box(message::client_event(
            &mut out,
            ch,
            EventName::new("client-x")
                .unwrap_or(EventName::client("client-y").unwrap_or_else(|_| halt())),
            Payload::Json(text()),
        ));
    }

    // Signatures, REST, webhooks.
    let creds = Credentials::new(text(), text());
    if let (Ok(s), Ok(c)) = (SocketId::new(text()), ChannelName::new(text())) {
        let _ =
            black_box(creds.channel_auth_response(&mut out, s, c, Some(text()), Some(&[7; 32])));
        let _ = black_box(creds.user_auth_response(&mut out, s, text()));
    }
    let params = [(text(), text()), (text(), text())];
    let req = Request {
        method: text(),
        path: text(),
        params: &params,
        body: Some(opaque()),
        timestamp: black_box(5),
    };
    let _ = black_box(rest::write_query(&mut out, &creds, &req));
    let _ = black_box(webhook::verify(&creds, text(), text(), opaque()));
    if let Ok(pusher_core::Status::Complete(r, _)) = rest::parse_response(opaque(), black_box(true))
    {
        if let rest::Body::Chunked(enc) = r.body {
            let _ = black_box(rest::dechunk(enc, &mut out));
        }
        black_box(r.status);
    }
    if let Ok(w) = Webhook::parse(text()) {
        for e in w.events() {
            let _ = black_box(e);
        }
    }
    #[cfg(feature = "encryption")]
    {
        // Encrypted channels: open and seal with an opaque key, nonce and data.
        let key: [u8; 32] = black_box([7; 32]);
        let mut out = [0u8; 256];
        let _ = black_box(pusher_core::encrypted::decrypt(&key, text(), &mut out));
        let (mut scratch, mut sealed) = ([0u8; 128], [0u8; 256]);
        let nonce: [u8; 24] = black_box([9; 24]);
        let _ = black_box(pusher_core::encrypted::encrypt(
            &key,
            &nonce,
            text(),
            &mut scratch,
            &mut sealed,
        ));
    }

    // The client, driven by opaque input.
    let mut rx = [0u8; 512];
    let mut tx = [0u8; 512];
    let mut presence = [0u8; 256];
    let mut c: Client<'_> = Client::new(
        Config::new("key", "host"),
        Buffers {
            rx: &mut rx,
            tx: &mut tx,
            presence: &mut presence,
        },
        black_box(1),
    );
    let now = || Instant::from_millis(black_box(9));
    c.connect(now());
    let _ = c.poll_action();
    c.handle_connected(now());
    let _ = c.subscribe(text());
    let bytes = opaque();
    let mut n = 0;
    for (d, s) in c.rx_buffer().iter_mut().zip(bytes.iter()) {
        *d = *s;
        n += 1;
    }
    c.commit_rx(n, now());
    while let Some(e) = c.poll_event() {
        black_box(e);
    }
    let _ = c.provide_auth(text(), text(), text(), Some(text()));
    let _ = c.trigger(text(), text(), Payload::Text(text()));
    let _ = c.provide_user_auth(text(), text(), text());
    c.handle_timeout(now());
    while let Some(out) = c.poll_transmit() {
        let k = black_box(out.len());
        c.consume_tx(k);
    }
    c.handle_closed(now());
    c.disconnect(now());

    #[cfg(plant_panic)]
    if black_box(n) == 3 {
        panic!("planted");
    }
    halt()
}

/// Parks the core (the program's work is done).
fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unsafe extern "C" {
        /// Defined nowhere: linking fails if any panic path is reachable.
        fn pusher_core_panic_path_is_reachable() -> !;
    }
    // SAFETY: never runs; the symbol does not exist, so a binary that calls this cannot link.
    #[cfg(not(find_panics))]
    unsafe {
        pusher_core_panic_path_is_reachable()
    }
    #[cfg(find_panics)]
    halt()
}
