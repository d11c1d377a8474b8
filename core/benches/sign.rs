//! Channel auth cost against raw HMAC-SHA256 of the same string to sign (key setup included):
//!
//! * `raw_hmac_sha256`: `Hmac::new_from_slice` + update + finalize, no formatting.
//! * `channel_auth_cold`: the same work through the core: credentials built, string fed in
//!   pieces, `key:hex` token written.
//! * `channel_auth`: credentials built once, as an auth endpoint keeps them (the keyed HMAC
//!   state is reused, so two SHA-256 blocks per signature instead of four).
//!
//! Run: `cargo bench -p pusher-core --bench sign`

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use pusher_core::auth::Credentials;
use pusher_core::{ChannelName, SocketId};
use sha2::Sha256;

fn bench(c: &mut Criterion) {
    let (key, secret) = ("278d425bdf160c739803", "7ad3773142a6692b25b8");
    let creds = Credentials::new(key, secret);
    let socket = SocketId::new("2991148437.7070406786").unwrap();
    let channel = ChannelName::new("private-my-channel").unwrap();
    let joined = format!("{socket}:{channel}");
    let mut g = c.benchmark_group("sign");
    g.bench_function("raw_hmac_sha256", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(secret.as_bytes())).unwrap();
            mac.update(black_box(joined.as_bytes()));
            black_box(mac.finalize().into_bytes())
        })
    });
    let mut out = [0u8; 128];
    g.bench_function("channel_auth_cold", |b| {
        b.iter(|| {
            let creds = Credentials::new(key, black_box(secret));
            let tok = creds
                .channel_auth(&mut out, black_box(socket), black_box(channel), None)
                .unwrap();
            black_box(tok.len())
        })
    });
    g.bench_function("channel_auth", |b| {
        b.iter(|| {
            let tok = creds
                .channel_auth(&mut out, black_box(socket), black_box(channel), None)
                .unwrap();
            black_box(tok.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
