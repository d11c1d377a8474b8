//! The client's whole receive path against what a std user would pick instead, in one run, on
//! the default corpus and on the harder one (`corpus::hard_corpus`):
//!
//! * `client`: a connected `Client` fed the byte stream through `rx_buffer`/`commit_rx` in
//!   16 KiB reads, every event polled (frame parsing, UTF-8, envelope, unescaping in place,
//!   protocol typing, the state machine).
//! * `core_decode`: `Event::decode` on each frame's text (the decoder alone).
//! * `tungstenite_serde_json`: tungstenite reading the same stream (client role) and
//!   serde_json into owned strings.
//! * `serde_json_owned`: serde_json alone on each frame's text.
//!
//! Run: `cargo bench -p pusher-core --bench receive`

#![allow(missing_docs)]

mod corpus;

use corpus::OwnedFrame;

use std::hint::black_box;
use std::io::{Cursor, Read, Write};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pusher_core::Status;
use pusher_core::client::{Buffers, Client, Config, Instant};
use pusher_core::wire::event::{Envelope, Event};
use pusher_core::wire::handshake::{parse_request, write_response};
use pusher_core::wire::ws::{Role, parse_header};

const READ: usize = 16 * 1024;

/// A client past the upgrade and `connection_established`.
fn connected(rx: &'static mut [u8], tx: &'static mut [u8]) -> Client<'static> {
    let mut config = Config::new("app-key", "127.0.0.1:6001");
    config.use_tls = false;
    config.max_message = rx.len();
    let mut c: Client<'static> = Client::new(
        config,
        Buffers {
            rx,
            tx,
            presence: &mut [],
        },
        1,
    );
    c.connect(Instant::from_millis(0));
    let _ = c.poll_action();
    c.handle_connected(Instant::from_millis(0));
    let request = c.poll_transmit().unwrap().to_vec();
    c.consume_tx(request.len());
    let Ok(Status::Complete(req, _)) = parse_request(&request) else {
        panic!("no upgrade request")
    };
    let mut resp = [0u8; 256];
    let n = write_response(&mut resp, &req).unwrap();
    let mut stream = resp[..n].to_vec();
    stream.extend(corpus::frame_of(
        r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\",\"activity_timeout\":120}"}"#,
    ));
    feed(&mut c, &stream, |_| {});
    c
}

/// Feeds `stream` in 16 KiB reads, polling every event; returns the events seen.
fn feed(
    c: &mut Client<'static>,
    stream: &[u8],
    mut each: impl FnMut(&pusher_core::client::Event<'_>),
) -> usize {
    let mut events = 0;
    let mut at = 0;
    while at < stream.len() {
        let spare = c.rx_buffer();
        let n = spare.len().min(READ).min(stream.len() - at);
        spare[..n].copy_from_slice(&stream[at..at + n]);
        at += n;
        c.commit_rx(n, Instant::from_millis(1));
        while let Some(e) = c.poll_event() {
            each(&e);
            events += 1;
        }
    }
    while let Some(t) = c.poll_transmit() {
        let n = t.len();
        c.consume_tx(n);
    }
    events
}

fn group(c: &mut Criterion, name: &str, frames: &[Vec<u8>]) {
    let stream: Vec<u8> = frames.concat();
    let total = stream.len();
    let backslashes = stream.iter().filter(|b| **b == b'\\').count();
    eprintln!(
        "{name}: {} frames, {total} bytes, {backslashes} backslashes",
        frames.len()
    );
    let rx: &'static mut [u8] = Box::leak(vec![0u8; 64 * 1024].into_boxed_slice());
    let tx: &'static mut [u8] = Box::leak(vec![0u8; 1024].into_boxed_slice());
    let mut client = connected(rx, tx);
    // Every frame is an event, and its data is what serde_json reads.
    let mut checked = 0;
    let seen = feed(&mut client, &stream, |e| {
        if let pusher_core::client::Event::Message { data, .. } = e {
            assert!(data.is_some());
            checked += 1;
        }
    });
    assert_eq!((seen, checked), (frames.len(), frames.len()));

    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("client", |b| {
        b.iter(|| {
            black_box(feed(&mut client, &stream, |e| {
                black_box(e);
            }))
        })
    });
    let mut scratch = vec![0u8; 64 * 1024];
    g.bench_function("core_envelope", |b| {
        b.iter(|| {
            for f in frames {
                let Ok(Status::Complete(h, n)) = parse_header(f, Role::Client) else {
                    unreachable!()
                };
                let text = pusher_core::utf8(&f[n..n + h.payload_len as usize]).unwrap();
                black_box(Envelope::parse(text).unwrap());
            }
        })
    });
    g.bench_function("core_decode", |b| {
        b.iter(|| {
            for f in frames {
                let Ok(Status::Complete(h, n)) = parse_header(f, Role::Client) else {
                    unreachable!()
                };
                let text = pusher_core::utf8(&f[n..n + h.payload_len as usize]).unwrap();
                let ev = Event::decode(text, &mut scratch).unwrap();
                black_box((ev.event, ev.channel, ev.data));
            }
        })
    });
    g.bench_function("tungstenite_serde_json", |b| {
        b.iter(|| {
            let mut ws = tungstenite::WebSocket::from_raw_socket(
                Mem(Cursor::new(&stream[..])),
                tungstenite::protocol::Role::Client,
                None,
            );
            let mut n = 0;
            while let Ok(msg) = ws.read() {
                if let tungstenite::Message::Text(t) = msg {
                    let v: OwnedFrame = serde_json::from_str(t.as_str()).unwrap();
                    black_box((v.event, v.channel, v.data));
                    n += 1;
                }
            }
            assert_eq!(n, frames.len());
        })
    });
    g.bench_function("serde_json_owned", |b| {
        b.iter(|| {
            for f in frames {
                let Ok(Status::Complete(h, n)) = parse_header(f, Role::Client) else {
                    unreachable!()
                };
                let v: OwnedFrame =
                    serde_json::from_slice(&f[n..n + h.payload_len as usize]).unwrap();
                black_box(v);
            }
        })
    });
    g.finish();
}

/// An in-memory stream for tungstenite: reads the corpus, swallows writes (pongs).
struct Mem<'a>(Cursor<&'a [u8]>);

impl Read for Mem<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let room = buf.len().min(READ);
        let n = self.0.read(&mut buf[..room])?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(n)
    }
}

impl Write for Mem<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    group(c, "receive_default", &corpus::corpus(0x5eed_cafe, 2_000));
    group(c, "receive_hard", &corpus::hard_corpus(0x5eed_f00d, 2_000));
}

criterion_group!(benches, bench);
criterion_main!(benches);
