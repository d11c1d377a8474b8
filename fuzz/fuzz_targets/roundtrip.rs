//! Encoders and decoders agree: a WebSocket frame emitted is read back whole, and every client
//! message the core writes decodes to the strings it was given (escaping is lossless).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pusher_core::wire::event::Event;
use pusher_core::wire::json::Value;
use pusher_core::wire::message::{Payload, server};
use pusher_core::wire::ws::{Message, Opcode, Reader, Role, emit_frame};

fuzz_target!(|data: &[u8]| {
    // WebSocket: emit masked, read in the server role, in chunks.
    let mask = [data.first().copied().unwrap_or(1), 2, 3, 4];
    let mut frame = vec![0u8; data.len() + 14];
    let n = emit_frame(&mut frame, true, Opcode::Binary, data, Some(mask)).expect("room");
    let mut reader = Reader::new(vec![0u8; data.len() + 14], Role::Server, data.len());
    for piece in frame[..n].chunks(7) {
        assert_eq!(reader.feed(piece), piece.len());
    }
    assert_eq!(reader.read(), Ok(Some(Message::Binary(data))));

    // Strings: any text survives encode and decode, as a payload and as names.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Each of the four strings may grow six-fold (control characters become `\u00XX`).
    let mut out = vec![0u8; text.len() * 24 + 128];
    // A channel longer than any channel name (200 bytes) is refused by the decoder.
    let channel = (text.len() <= 200).then_some(text);
    let n = server::event(
        &mut out,
        text,
        channel,
        Some(Payload::Text(text)),
        Some(text),
    )
    .expect("room");
    let encoded = std::str::from_utf8(&out[..n]).expect("utf8");
    assert!(Value::parse(encoded).is_ok());
    let mut scratch = vec![0u8; n];
    let ev = Event::decode(encoded, &mut scratch).expect("decodes");
    assert_eq!(
        (ev.event, ev.channel, ev.data, ev.user_id),
        (text, channel, Some(text), Some(text))
    );
    let mut in_place = out[..n].to_vec();
    let ev = Event::decode_in_place(&mut in_place).expect("decodes in place");
    assert_eq!((ev.event, ev.data), (text, Some(text)));
});
