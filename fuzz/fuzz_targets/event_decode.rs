//! Pusher frames: envelope, full decode with unescaping, typed messages, and round trips of
//! every string the decoder returns.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pusher_core::wire::event::{Data, Envelope, Event, ServerMessage};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut scratch = vec![0u8; text.len()];
    let env = Envelope::parse(text);
    let full = Event::decode(text, &mut scratch).map(|e| (e.event.len(), e.data.map(str::len)));
    // Both levels agree on whether the frame is well formed, unless a data escape is bad
    // (the envelope leaves those to the unescaper).
    if let (
        Ok(Envelope {
            data: Data::Str(s), ..
        }),
        Err(_),
    ) = (&env, &full)
    {
        let mut out = vec![0u8; s.raw().len()];
        let _ = s.unescape_into(&mut out);
    }
    if env.is_err() {
        assert!(full.is_err());
    }
    let mut scratch = vec![0u8; text.len()];
    let _ = ServerMessage::decode(text, &mut scratch);
    // Decoding in place, with and without scratch to unescape through, agrees with the
    // copying decoder on every field (and on whether the frame is well formed).
    let mut copy_scratch = vec![0u8; text.len()];
    let copied = Event::decode(text, &mut copy_scratch).map(|e| {
        (
            e.event.to_owned(),
            e.channel.map(str::to_owned),
            e.data.map(str::to_owned),
            e.user_id.map(str::to_owned),
        )
    });
    let mut plain = data.to_vec();
    let in_place = Event::decode_in_place(&mut plain).map(|e| {
        (
            e.event.to_owned(),
            e.channel.map(str::to_owned),
            e.data.map(str::to_owned),
            e.user_id.map(str::to_owned),
        )
    });
    let mut framed = data.to_vec();
    let mut free = vec![0u8; data.len() + 256];
    let with_scratch = Event::decode_in_place_with(&mut framed, &mut free).map(|e| {
        (
            e.event.to_owned(),
            e.channel.map(str::to_owned),
            e.data.map(str::to_owned),
            e.user_id.map(str::to_owned),
        )
    });
    assert_eq!(copied.is_ok(), in_place.is_ok(), "{text:?}");
    assert_eq!(in_place.is_ok(), with_scratch.is_ok(), "{text:?}");
    if let (Ok(a), Ok(b), Ok(c)) = (copied, in_place, with_scratch) {
        assert_eq!(a, b, "{text:?}");
        assert_eq!(b, c, "{text:?}");
    }
});
