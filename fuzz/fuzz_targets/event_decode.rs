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
});
