//! (a) The codecs and signatures alone: WebSocket frames and handshake, the Pusher envelope
//! and typed messages, client message encoders, channel auth.
#![no_std]
#![no_main]

use core::hint::black_box;

use panic_halt as _;
use pusher_core::auth::Credentials;
use pusher_core::wire::event::ServerMessage;
use pusher_core::wire::handshake::{ClientHandshake, RequestParams};
use pusher_core::wire::message;
use pusher_core::wire::ws::{Reader, Role};
use pusher_core::{ChannelName, SocketId};
use pusher_footprint::{opaque, text};

static mut FRAMES: [u8; 512] = [0; 512];

/// Reading and decoding one server frame, in place: the path every received byte takes.
#[inline(never)]
fn decode(reader: &mut Reader<&'static mut [u8]>) {
    while let Ok(Some(m)) = reader.read_mut() {
        if let pusher_core::wire::ws::MessageMut::Text(t) = m {
            let _ = black_box(ServerMessage::decode_in_place(t).map(black_box));
        }
    }
}

#[inline(never)]
fn work() {
    let mut out = [0u8; 256];
    let hs = ClientHandshake::new(black_box([1; 16]));
    let params = RequestParams {
        host: text(),
        path_prefix: "",
        app_key: text(),
        client: "c",
        version: "1",
    };
    let _ = black_box(hs.write_request(&mut out, &params));
    let _ = black_box(hs.parse_response(opaque()));
    // SAFETY: the only reference made to FRAMES.
    let frames: &'static mut [u8] = unsafe { &mut *core::ptr::addr_of_mut!(FRAMES) };
    let mut reader = Reader::new(frames, Role::Client, 500);
    reader.feed(opaque());
    #[cfg(feature = "stack")]
    let top = {
        pusher_footprint::stack::paint();
        cortex_m::register::msp::read() as usize
    };
    decode(&mut reader);
    #[cfg(feature = "stack")]
    cortex_m_semihosting::hprintln!("decode stack: {} bytes", pusher_footprint::stack::used(top));
    if let (Ok(ch), Ok(sid)) = (ChannelName::new(text()), SocketId::new(text())) {
        let creds = Credentials::new(text(), text());
        if let Ok(auth) = creds.channel_auth(&mut out, sid, ch, None) {
            let mut frame = [0u8; 256];
            let _ = black_box(message::subscribe(&mut frame, ch, Some(auth), None));
        }
    }
}

#[cortex_m_rt::entry]
fn main() -> ! {
    work();
    #[cfg(feature = "stack")]
    cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}
