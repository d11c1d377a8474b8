//! (b) A complete client: WebSocket, Pusher codec, state machine and HMAC, driven through
//! connect, the upgrade, received bytes, auth, a client event, timeouts and close.
#![no_std]
#![no_main]

use core::hint::black_box;

use panic_halt as _;
#[cfg(feature = "local-signing")]
use pusher_core::auth::Credentials;
use pusher_core::client::{Buffers, Client, Config, Instant};
#[cfg(feature = "private")]
use pusher_core::wire::message::Payload;
use pusher_footprint::{opaque, text};

static mut RX: [u8; 2048] = [0; 2048];
static mut TX: [u8; 512] = [0; 512];
static mut PRESENCE: [u8; 256] = [0; 256];

#[inline(never)]
fn step(c: &mut Client<'static>) {
    let now = Instant::from_millis(black_box(5));
    let _ = c.subscribe(text());
    c.connect(now);
    let _ = c.poll_action();
    c.handle_connected(now);
    let bytes = opaque();
    let mut n = 0;
    for (d, s) in c.rx_buffer().iter_mut().zip(bytes.iter()) {
        *d = *s;
        n += 1;
    }
    c.commit_rx(n, now);
    while let Some(e) = c.poll_event() {
        black_box(e);
    }
    // Private channels: the signature from the app's backend, or made on the device.
    #[cfg(feature = "private")]
    {
        let _ = c.provide_auth(text(), text(), text(), Some(text()));
        let _ = c.trigger(text(), text(), Payload::Json(text()));
    }
    #[cfg(feature = "local-signing")]
    {
        let creds = Credentials::new(text(), text());
        let _ = c.authorize_locally(text(), &creds, Some(text()));
    }
    #[cfg(feature = "signin")]
    {
        let creds = Credentials::new(text(), text());
        c.signin();
        let _ = c.signin_locally(&creds, text());
    }
    #[cfg(feature = "typed")]
    typed(c);
    #[cfg(feature = "encryption")]
    decrypt();
    c.handle_timeout(now);
    while let Some(out) = c.poll_transmit() {
        let k = black_box(out.len());
        c.consume_tx(k);
    }
    c.handle_closed(now);
}

/// A reading, decoded from an event's data and sent back as a client event.
#[cfg(feature = "typed")]
#[derive(serde::Deserialize, serde::Serialize)]
struct Reading<'a> {
    sensor: &'a str,
    temp: i32,
    ok: bool,
    #[cfg(feature = "typed-float")]
    volts: f32,
}

#[cfg(feature = "typed")]
#[inline(never)]
fn typed(c: &mut Client<'static>) {
    let ev = pusher_core::client::EventData {
        event: text(),
        channel: Some(text()),
        data: Some(text()),
        user_id: None,
    };
    let mut scratch = [0u8; 256];
    if let Ok(r) = ev.json::<Reading>(&mut scratch) {
        let _ = c.trigger_json(text(), text(), &r);
    }
}

/// One encrypted event's data opened with a channel's shared secret (the core's
/// `encryption` feature: secretbox and the `{nonce, ciphertext}` codec).
#[cfg(feature = "encryption")]
#[inline(never)]
fn decrypt() {
    let key: [u8; 32] = black_box([7; 32]);
    let mut out = [0u8; 256];
    let _ = black_box(pusher_core::encrypted::decrypt(&key, text(), &mut out));
}

#[cortex_m_rt::entry]
fn main() -> ! {
    // SAFETY: the only references ever made to these buffers.
    let (rx, tx, presence) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(RX),
            &mut *core::ptr::addr_of_mut!(TX),
            &mut *core::ptr::addr_of_mut!(PRESENCE),
        )
    };
    let mut c: Client<'static> = Client::new(
        Config::new("key", "host"),
        Buffers { rx, tx, presence },
        black_box(1),
    );
    let _ = c.subscribe(text());
    #[cfg(feature = "stack")]
    let top = {
        pusher_footprint::stack::paint();
        cortex_m::register::msp::read() as usize
    };
    step(&mut c);
    #[cfg(feature = "stack")]
    {
        cortex_m_semihosting::hprintln!(
            "client step stack: {} bytes",
            pusher_footprint::stack::used(top)
        );
        cortex_m_semihosting::hprintln!(
            "client state: {} bytes",
            Client::<'static, 8, 48>::STATE_SIZE
        );
        cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_SUCCESS);
    }
    black_box(&c);
    loop {
        cortex_m::asm::wfi();
    }
}
