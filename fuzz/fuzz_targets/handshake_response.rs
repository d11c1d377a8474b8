//! The `101` response check and the server-side request parser on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pusher_core::wire::handshake::{ClientHandshake, parse_request};

fuzz_target!(|data: &[u8]| {
    let hs = ClientHandshake::new([7; 16]);
    let _ = hs.parse_response(data);
    let _ = parse_request(data);
});
