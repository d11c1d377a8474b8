//! The naive assembly of existing crates, doing the same handshake, envelope decode,
//! subscribe encode and one auth: embedded-websocket 0.9 + serde-json-core 0.7 + hmac 0.13 /
//! sha2 0.11.
#![no_std]
#![no_main]

use core::hint::black_box;

#[cfg(feature = "lean-naive")]
use panic_halt as _;

use embedded_websocket::{WebSocketClient, WebSocketOptions, WebSocketSendMessageType};
use hmac::{Hmac, KeyInit, Mac};
use pusher_footprint::{opaque, text};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

struct Rng(u32);

impl rand_core::RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_103_515_245).wrapping_add(12345);
        self.0
    }
    fn next_u64(&mut self) -> u64 {
        u64::from(self.next_u32()) << 32 | u64::from(self.next_u32())
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.next_u32() as u8;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    event: &'a str,
    channel: Option<&'a str>,
    data: Option<&'a str>,
}

#[derive(Serialize)]
struct SubscribeData<'a> {
    channel: &'a str,
    auth: &'a str,
}

#[derive(Serialize)]
struct Subscribe<'a> {
    event: &'a str,
    data: SubscribeData<'a>,
}

#[inline(never)]
fn work() {
    let mut ws = WebSocketClient::new_client(Rng(black_box(7)));
    let options = WebSocketOptions {
        path: text(),
        host: text(),
        origin: "",
        sub_protocols: None,
        additional_headers: None,
    };
    let mut out = [0u8; 512];
    if let Ok((_, key)) = ws.client_connect(&options, &mut out) {
        let _ = black_box(ws.client_accept(&key, opaque()));
    }
    let mut payload = [0u8; 512];
    if let Ok(r) = ws.read(opaque(), &mut payload) {
        let text = core::str::from_utf8(&payload[..r.len_to]).unwrap_or("");
        if let Ok((env, _)) = serde_json_core::from_str::<Envelope<'_>>(text) {
            black_box((env.event, env.channel, env.data));
        }
    }
    // The naive way: unwrap (HMAC accepts any key length, so it never fires).
    let mut mac = Hmac::<Sha256>::new_from_slice(text().as_bytes()).unwrap();
    mac.update(text().as_bytes());
    let sig = mac.finalize().into_bytes();
    let mut hex = [0u8; 64];
    for (i, b) in sig.iter().enumerate() {
        hex[2 * i] = b"0123456789abcdef"[usize::from(b >> 4)];
        hex[2 * i + 1] = b"0123456789abcdef"[usize::from(b & 15)];
    }
    let auth = core::str::from_utf8(&hex).unwrap_or("");
    let msg = Subscribe {
        event: "pusher:subscribe",
        data: SubscribeData {
            channel: text(),
            auth,
        },
    };
    let mut json = [0u8; 256];
    if let Ok(n) = serde_json_core::to_slice(&msg, &mut json) {
        let _ = black_box(ws.write(WebSocketSendMessageType::Text, true, &json[..n], &mut out));
    }
}

/// What a typical firmware panic handler does: format the message somewhere (here a buffer a
/// debugger would read), then halt. The `lean-naive` build halts without formatting instead.
#[cfg(not(feature = "lean-naive"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    struct Buf([u8; 128], usize);
    impl core::fmt::Write for Buf {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            for b in s.bytes() {
                if let Some(slot) = self.0.get_mut(self.1) {
                    *slot = b;
                    self.1 += 1;
                }
            }
            Ok(())
        }
    }
    let mut buf = Buf([0; 128], 0);
    let _ = core::fmt::write(&mut buf, format_args!("{info}"));
    black_box(&buf.0);
    loop {
        cortex_m::asm::wfi();
    }
}

#[cortex_m_rt::entry]
fn main() -> ! {
    work();
    loop {
        cortex_m::asm::wfi();
    }
}
