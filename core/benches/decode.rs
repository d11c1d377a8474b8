//! Decode throughput on realistic server traffic, the core against the decoders existing Rust
//! clients use, in one run:
//!
//! * `core_full`: frame header, UTF-8 check, envelope, event/channel, `data` unescaped into a
//!   buffer ([`Event::decode`]).
//! * `core_envelope`: the same without unescaping (`data` stays a raw slice).
//! * `serde_json_owned`: `serde_json` into owned `String`s (what existing Rust clients do).
//! * `simd_json`: simd-json into borrowed `&str`s (its fastest path; it unescapes in place, so
//!   the frame is first copied into a mutable buffer).
//! * `memchr`: a scan of the same bytes, the ceiling for any single pass.
//!
//! And typed decode (`typed` group): the ticker events' `data`, already unescaped, into a
//! struct: the core's no_std path (`from_json`: `\u` folding, then serde-json-core) against
//! `serde_json::from_str` on the same text.
//!
//! Run: `cargo bench -p pusher-core --bench decode`

#![allow(missing_docs)]

mod corpus;

use corpus::OwnedFrame;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pusher_core::Status;
use pusher_core::wire::event::{Envelope, Event};
use pusher_core::wire::ws::{Role, parse_header};
use serde::Deserialize;

#[derive(Deserialize)]
struct BorrowedFrame<'a> {
    #[serde(borrow)]
    event: &'a str,
    #[serde(borrow)]
    channel: Option<&'a str>,
    #[serde(borrow)]
    data: Option<&'a str>,
}

fn payload(frame: &[u8]) -> &[u8] {
    match parse_header(frame, Role::Client) {
        Ok(Status::Complete(h, n)) => &frame[n..n + h.payload_len as usize],
        other => panic!("bad frame: {other:?}"),
    }
}

/// Every decoder must agree with serde_json on every frame before anything is timed.
fn check(frames: &[Vec<u8>]) {
    let mut scratch = vec![0u8; 16 * 1024];
    let mut simd_buf = Vec::new();
    for f in frames {
        let p = payload(f);
        let want: OwnedFrame = serde_json::from_slice(p).expect("serde_json");
        let ev = Event::decode(std::str::from_utf8(p).unwrap(), &mut scratch).expect("core");
        assert_eq!(ev.event, want.event);
        assert_eq!(ev.channel, want.channel.as_deref());
        assert_eq!(ev.data, want.data.as_deref());
        simd_buf.clear();
        simd_buf.extend_from_slice(p);
        let s: BorrowedFrame<'_> = simd_json::serde::from_slice(&mut simd_buf).expect("simd-json");
        assert_eq!(s.data, want.data.as_deref());
    }
}

fn bench(c: &mut Criterion) {
    let frames = corpus::corpus(0x5eed_cafe, 2_000);
    check(&frames);
    let total: usize = frames.iter().map(Vec::len).sum();
    let backslashes = frames.iter().flatten().filter(|b| **b == b'\\').count();
    eprintln!(
        "corpus: {} frames, {total} bytes, {backslashes} backslashes",
        frames.len()
    );
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(total as u64));

    let mut scratch = vec![0u8; 16 * 1024];
    g.bench_function("core_full", |b| {
        b.iter(|| {
            for f in &frames {
                let Ok(Status::Complete(h, n)) = parse_header(f, Role::Client) else {
                    unreachable!()
                };
                let text = pusher_core::utf8(&f[n..n + h.payload_len as usize]).unwrap();
                let ev = Event::decode(text, &mut scratch).unwrap();
                black_box((ev.event, ev.channel, ev.data));
            }
        })
    });
    g.bench_function("core_envelope", |b| {
        b.iter(|| {
            for f in &frames {
                let Ok(Status::Complete(h, n)) = parse_header(f, Role::Client) else {
                    unreachable!()
                };
                let text = pusher_core::utf8(&f[n..n + h.payload_len as usize]).unwrap();
                black_box(Envelope::parse(text).unwrap());
            }
        })
    });
    g.bench_function("serde_json_owned", |b| {
        b.iter(|| {
            for f in &frames {
                let Ok(Status::Complete(h, n)) = parse_header(f, Role::Client) else {
                    unreachable!()
                };
                let v: OwnedFrame =
                    serde_json::from_slice(&f[n..n + h.payload_len as usize]).unwrap();
                black_box(v);
            }
        })
    });
    let mut simd_buf = Vec::with_capacity(16 * 1024);
    g.bench_function("simd_json", |b| {
        b.iter(|| {
            for f in &frames {
                let Ok(Status::Complete(h, n)) = parse_header(f, Role::Client) else {
                    unreachable!()
                };
                simd_buf.clear();
                simd_buf.extend_from_slice(&f[n..n + h.payload_len as usize]);
                let v: BorrowedFrame<'_> = simd_json::serde::from_slice(&mut simd_buf).unwrap();
                black_box((v.event, v.channel, v.data));
            }
        })
    });
    g.bench_function("memchr_ceiling", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(memchr::memchr(0, f));
            }
        })
    });
    g.finish();
}

#[derive(Deserialize, PartialEq, Debug)]
struct Tick<'a> {
    symbol: &'a str,
    price: f64,
    volume: u64,
    ts: u64,
}

fn typed(c: &mut Criterion) {
    let frames = corpus::corpus(0x5eed_cafe, 2_000);
    let mut scratch = vec![0u8; 16 * 1024];
    let ticks: Vec<String> = frames
        .iter()
        .filter_map(|f| {
            let ev = Event::decode(std::str::from_utf8(payload(f)).unwrap(), &mut scratch).ok()?;
            ev.data
                .filter(|d| d.starts_with(r#"{"symbol""#))
                .map(str::to_owned)
        })
        .collect();
    let mut buf = vec![0u8; 1024];
    for t in &ticks {
        let ours: Tick<'_> = pusher_core::wire::json::from_json(t, &mut buf).unwrap();
        let theirs: Tick<'_> = serde_json::from_str(t).unwrap();
        assert_eq!(ours, theirs);
    }
    let total: usize = ticks.iter().map(String::len).sum();
    eprintln!("typed: {} ticker payloads, {total} bytes", ticks.len());
    let mut g = c.benchmark_group("typed");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("core_serde_json_core", |b| {
        b.iter(|| {
            for t in &ticks {
                let v: Tick<'_> = pusher_core::wire::json::from_json(t, &mut buf).unwrap();
                black_box(v);
            }
        })
    });
    g.bench_function("serde_json", |b| {
        b.iter(|| {
            for t in &ticks {
                let v: Tick<'_> = serde_json::from_str(t).unwrap();
                black_box(v);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench, typed);
criterion_main!(benches);
