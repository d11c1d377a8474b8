//! Many connections and fan-out, measured by hand (not a test): N WebSocket clients connect to
//! a running server and subscribe to one channel; the server's resident memory is read before
//! and after; then events are triggered over REST and every subscriber's receive time is
//! taken against the send time. Run by `scripts/bench-devserver`, which raises the file limit
//! and runs the same load against the dev server and soketi.
//!
//! `cargo run --release -p pusher-dev-server --example fanout -- PORT SERVER_PID [CLIENTS] [EVENTS]`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pusher_core::auth::Credentials;
use pusher_core::rest::{self as signing, Request};
use pusher_core::wire::ws::{Message, Opcode, Reader, Role, emit_frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

const KEY: &str = "app-key";
const SECRET: &str = "app-secret";
const APP_ID: &str = "123456";
const CHANNEL: &str = "fanout";

/// The server's resident memory, from /proc.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One subscriber: connects, subscribes, then records when each `tick` arrives.
async fn subscriber(
    port: u16,
    ready: Arc<Semaphore>,
    gate: Arc<Semaphore>,
    arrivals: Arc<Mutex<Vec<(usize, Instant)>>>,
) -> Result<(), String> {
    let permit = gate.acquire().await.map_err(|e| e.to_string())?;
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let req = format!(
        "GET /app/{KEY}?protocol=7&client=bench&version=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut reader = Reader::new(vec![0u8; 16 * 1024], Role::Client, 16 * 1024);
    // The upgrade answer's head, byte by byte up to the blank line.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let b = s.read_u8().await.map_err(|e| format!("upgrade: {e}"))?;
        head.push(b);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return Err(String::from_utf8_lossy(&head).into_owned());
    }
    let subscribe = format!(r#"{{"event":"pusher:subscribe","data":{{"channel":"{CHANNEL}"}}}}"#);
    let mut frame = vec![0u8; subscribe.len() + 14];
    let n = emit_frame(
        &mut frame,
        true,
        Opcode::Text,
        subscribe.as_bytes(),
        Some([7, 7, 7, 7]),
    )
    .map_err(|e| e.to_string())?;
    s.write_all(&frame[..n]).await.map_err(|e| e.to_string())?;
    let mut subscribed = false;
    let mut permit = Some(permit);
    loop {
        while let Some(msg) = reader.read().map_err(|e| e.to_string())? {
            let Message::Text(text) = msg else {
                if let Message::Ping(p) = msg {
                    let mut pong = [0u8; 140];
                    let n = emit_frame(&mut pong, true, Opcode::Pong, p, Some([1, 1, 1, 1]))
                        .map_err(|e| e.to_string())?;
                    let _ = s.write_all(&pong[..n]).await;
                }
                continue;
            };
            if text.contains("subscription_succeeded") && !subscribed {
                subscribed = true;
                drop(permit.take());
                ready.add_permits(1);
            } else if text.contains(r#""event":"tick""#) {
                let seq = text
                    .split("seq\\\":")
                    .nth(1)
                    .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(usize::MAX);
                arrivals.lock().unwrap().push((seq, Instant::now()));
            } else if text.contains("pusher:ping") {
                let pong = r#"{"event":"pusher:pong","data":{}}"#;
                let mut f = [0u8; 64];
                let n = emit_frame(
                    &mut f,
                    true,
                    Opcode::Text,
                    pong.as_bytes(),
                    Some([1, 1, 1, 1]),
                )
                .map_err(|e| e.to_string())?;
                let _ = s.write_all(&f[..n]).await;
            }
        }
        let n = s.read(reader.spare()).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed by the server".into());
        }
        reader.commit(n);
    }
}

/// Triggers one `tick` over REST.
async fn trigger(port: u16, seq: usize) -> Result<(), String> {
    let body = format!(r#"{{"name":"tick","channels":["{CHANNEL}"],"data":"{{\"seq\":{seq}}}"}}"#);
    let path = format!("/apps/{APP_ID}/events");
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let creds = Credentials::new(KEY, SECRET);
    let req = Request {
        method: "POST",
        path: &path,
        params: &[],
        body: Some(body.as_bytes()),
        timestamp,
    };
    let mut out = vec![0u8; 1024];
    let query = signing::write_query(&mut out, &creds, &req)
        .map_err(|e| e.to_string())?
        .to_owned();
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let head = format!(
        "POST {path}?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .await
        .map_err(|e| e.to_string())?;
    if !answer.starts_with(b"HTTP/1.1 200") {
        return Err(String::from_utf8_lossy(&answer).into_owned());
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args
        .first()
        .and_then(|p| p.parse().ok())
        .ok_or("usage: fanout PORT SERVER_PID [CLIENTS] [EVENTS]")?;
    let pid: u32 = args
        .get(1)
        .and_then(|p| p.parse().ok())
        .ok_or("SERVER_PID missing")?;
    let clients: usize = args.get(2).and_then(|c| c.parse().ok()).unwrap_or(10_000);
    let events: usize = args.get(3).and_then(|c| c.parse().ok()).unwrap_or(20);

    let idle = rss_kib(pid);
    let ready = Arc::new(Semaphore::new(0));
    // At most 200 handshakes in flight, so the listen backlog is never the bottleneck.
    let gate = Arc::new(Semaphore::new(200));
    let arrivals = Arc::new(Mutex::new(Vec::with_capacity(clients * events)));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    for _ in 0..clients {
        let (ready, gate, arrivals, failures) = (
            ready.clone(),
            gate.clone(),
            arrivals.clone(),
            failures.clone(),
        );
        tokio::spawn(async move {
            if let Err(e) = subscriber(port, ready, gate, arrivals).await {
                failures.lock().unwrap().push(e);
            }
        });
    }
    let all =
        tokio::time::timeout(Duration::from_secs(120), ready.acquire_many(clients as u32)).await;
    if all.is_err() {
        let f = failures.lock().unwrap();
        return Err(format!(
            "only {} of {clients} subscribed in 120 s; {} failed, first: {:?}",
            ready.available_permits(),
            f.len(),
            f.first()
        ));
    }
    let connect_time = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = rss_kib(pid);

    let mut sent = Vec::with_capacity(events);
    for seq in 0..events {
        sent.push(Instant::now());
        trigger(port, seq).await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while arrivals.lock().unwrap().len() < clients * events && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let arrivals = arrivals.lock().unwrap().clone();
    let mut latencies: Vec<Duration> = arrivals
        .iter()
        .filter_map(|(seq, at)| sent.get(*seq).map(|s| at.duration_since(*s)))
        .collect();
    latencies.sort();
    let mut last_per_event = vec![Duration::ZERO; events];
    for (seq, at) in &arrivals {
        if let Some(s) = sent.get(*seq) {
            let d = at.duration_since(*s);
            last_per_event[*seq] = last_per_event[*seq].max(d);
        }
    }
    last_per_event.sort();
    let lost = clients * events - arrivals.len();
    let per_conn = (held.saturating_sub(idle)) as f64 * 1024.0 / clients as f64;
    let failed = failures.lock().unwrap().len();
    println!(
        "clients {clients} subscribed in {:.1} s, still connected at the end {}, failed {failed}",
        connect_time.as_secs_f64(),
        clients - failed,
    );
    println!(
        "server RSS idle {idle} KiB, holding {clients}: {held} KiB, {per_conn:.0} B per connection"
    );
    println!(
        "fan-out of {events} events to {clients}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; last subscriber per event p50 {:.2} ms; lost {lost}",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        percentile(&last_per_event, 0.50).as_secs_f64() * 1e3,
    );
    println!(
        "RESULT per_conn_bytes={per_conn:.0} p50_ms={:.3} p99_ms={:.3} lost={lost}",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
    std::process::exit(0);
}
