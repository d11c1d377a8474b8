//! Webhook verification and parsing on arbitrary headers and bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pusher_core::auth::Credentials;
use pusher_core::webhook::{Webhook, verify};

fuzz_target!(|data: &[u8]| {
    let creds = Credentials::new("key", "secret");
    let split = data
        .first()
        .map_or(0, |b| usize::from(*b) % 80)
        .min(data.len());
    let (sig, body) = data.split_at(split);
    let sig = String::from_utf8_lossy(sig);
    let _ = verify(&creds, "key", &sig, body);
    if let Some(w) = std::str::from_utf8(body)
        .ok()
        .and_then(|t| Webhook::parse(t).ok())
    {
        let parsed = w.events().count();
        assert!(parsed <= body.len());
    }
});
