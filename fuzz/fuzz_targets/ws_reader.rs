//! WebSocket byte stream in both roles, fed in chunks whose sizes come from the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pusher_core::wire::ws::{Message, Reader, Role};

fuzz_target!(|data: &[u8]| {
    // The test script's check of itself: an input that runs out of memory (not a crash)
    // must fail the fuzz job.
    #[cfg(plant_oom)]
    if data.starts_with(&[0xaa; 4]) {
        std::hint::black_box(vec![1u8; 1 << 30]);
    }
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk % 32) + 1;
    for role in [Role::Client, Role::Server] {
        let mut reader = Reader::new([0u8; 256], role, 200);
        'feed: for piece in rest.chunks(chunk) {
            let mut piece = piece;
            while !piece.is_empty() {
                let n = reader.feed(piece);
                piece = &piece[n..];
                loop {
                    match reader.read() {
                        Ok(Some(Message::Text(t))) => assert!(t.len() <= 200),
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(_) => break 'feed,
                    }
                }
                if n == 0 && reader.spare().is_empty() {
                    break 'feed;
                }
            }
        }
    }
});
