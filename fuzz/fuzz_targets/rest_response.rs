//! REST API responses: head, Content-Length, chunked and read-to-close bodies, at every
//! end-of-stream position.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pusher_core::Status;
use pusher_core::rest::{Body, dechunk, parse_response};

fuzz_target!(|data: &[u8]| {
    for eof in [false, true] {
        if let Ok(Status::Complete(r, n)) = parse_response(data, eof) {
            assert!(n <= data.len());
            if let Body::Chunked(enc) = r.body {
                let mut out = vec![0u8; enc.len()];
                let len = dechunk(enc, &mut out).expect("a complete chunked body decodes");
                assert!(len <= enc.len());
            }
        }
    }
});
