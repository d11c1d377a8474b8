//! Typed payloads on arbitrary text: folding `\u` escapes never grows the text and keeps
//! valid JSON strings valid, and decoding into a struct never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pusher_core::wire::json::{fold_unicode_escapes, from_json};

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Shape<'a> {
    name: &'a str,
    note: Option<heapless::String<16>>,
    n: Option<i64>,
    tags: Option<heapless::Vec<&'a str, 4>>,
    nested: Option<Inner>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Inner {
    ok: bool,
    v: Option<u32>,
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut out = vec![0u8; text.len()];
    if let Ok(n) = fold_unicode_escapes(text.as_bytes(), &mut out) {
        assert!(n <= text.len());
        let folded = std::str::from_utf8(&out[..n]).expect("folding keeps UTF-8");
        // A JSON string stays the same string once folded.
        if let Ok(s) = serde_json::from_str::<String>(text) {
            assert_eq!(serde_json::from_str::<String>(folded).ok(), Some(s));
        }
    }
    let mut scratch = vec![0u8; 2 * text.len()];
    let _ = from_json::<Shape>(text, &mut scratch);
});
