//! A fault-injecting TCP proxy for the fault matrix: it sits between a client and a server on
//! loopback, counts connections, and on the test's word resets connections mid-frame, stalls
//! both directions, swallows the server's pongs, injects close codes, refuses connections,
//! or trickles the server's bytes one at a time.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the proxy treats traffic from now on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bytes pass both ways.
    Pass,
    /// New connections are accepted and closed at once (a server that is down).
    Refuse,
    /// Nothing passes either way; connections stay open (a silent network).
    Stall,
    /// The server's `pusher:pong` frames are dropped; everything else passes.
    SwallowPongs,
    /// The server's bytes go one at a time, a millisecond apart.
    Trickle,
}

struct Shared {
    mode: Mode,
    /// The next server chunk is cut in half and the connection reset.
    reset_next: bool,
    links: Vec<(TcpStream, TcpStream)>,
}

/// The proxy; it runs until the test ends.
pub struct FaultProxy {
    pub port: u16,
    /// Connections accepted (refused ones included): the client's attempts.
    pub connections: Arc<AtomicUsize>,
    shared: Arc<Mutex<Shared>>,
}

impl FaultProxy {
    /// A proxy on `ip` (loopback, or an address inside a test's network namespace) to the
    /// server on loopback port `upstream`.
    pub fn start(ip: std::net::IpAddr, upstream: u16) -> FaultProxy {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Mutex::new(Shared {
            mode: Mode::Pass,
            reset_next: false,
            links: Vec::new(),
        }));
        let (count, sh) = (connections.clone(), shared.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::Relaxed);
                if sh.lock().unwrap().mode == Mode::Refuse {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    drop(client);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                sh.lock()
                    .unwrap()
                    .links
                    .push((client.try_clone().unwrap(), server.try_clone().unwrap()));
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let up = sh.clone();
                std::thread::spawn(move || pump_up(c2, s2, &up));
                let down = sh.clone();
                std::thread::spawn(move || pump_down(server, client, &down));
            }
        });
        FaultProxy {
            port,
            connections,
            shared,
        }
    }

    pub fn set(&self, mode: Mode) {
        self.shared.lock().unwrap().mode = mode;
    }

    /// The next bytes from the server are cut in the middle and the connection reset.
    pub fn reset_mid_frame(&self) {
        self.shared.lock().unwrap().reset_next = true;
    }

    /// Sends each client a close frame with `code`, then closes.
    pub fn close_with(&self, code: u16) {
        let links = std::mem::take(&mut self.shared.lock().unwrap().links);
        for (mut client, server) in links {
            let mut frame = vec![0x88, 2 + 3];
            frame.extend_from_slice(&code.to_be_bytes());
            frame.extend_from_slice(b"bye");
            let _ = client.write_all(&frame);
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }

    /// Cuts every connection (a transport loss).
    pub fn drop_all(&self) {
        let links = std::mem::take(&mut self.shared.lock().unwrap().links);
        for (client, server) in links {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }

    pub fn attempts(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

fn mode(shared: &Mutex<Shared>) -> Mode {
    shared.lock().unwrap().mode
}

/// Waits while the proxy stalls.
fn hold(shared: &Mutex<Shared>) {
    while mode(shared) == Mode::Stall {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Client to server: passes bytes, but not while stalled.
fn pump_up(mut from: TcpStream, mut to: TcpStream, shared: &Mutex<Shared>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        hold(shared);
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}

/// Server to client: frames are told apart after the HTTP head, so pongs can be swallowed.
fn pump_down(mut from: TcpStream, mut to: TcpStream, shared: &Mutex<Shared>) {
    let mut buf = [0u8; 16 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut head_done = false;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        hold(shared);
        let reset = std::mem::take(&mut shared.lock().unwrap().reset_next);
        if reset {
            let _ = to.write_all(&buf[..n.div_ceil(2)]);
            break;
        }
        pending.extend_from_slice(&buf[..n]);
        let mut out = Vec::new();
        if !head_done {
            let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            out.extend(pending.drain(..end + 4));
            head_done = true;
        }
        while let Some(len) = frame_len(&pending) {
            let frame: Vec<u8> = pending.drain(..len).collect();
            let is_pong = frame.windows(11).any(|w| w == b"pusher:pong");
            if !(is_pong && mode(shared) == Mode::SwallowPongs) {
                out.extend(frame);
            }
        }
        let sent = if mode(shared) == Mode::Trickle {
            out.iter().all(|b| {
                std::thread::sleep(Duration::from_millis(1));
                to.write_all(std::slice::from_ref(b)).is_ok()
            })
        } else {
            to.write_all(&out).is_ok()
        };
        if !sent {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// The length of the unmasked server frame at the start of `b`, once all of it is there.
fn frame_len(b: &[u8]) -> Option<usize> {
    let (head, len) = match *b.get(1)? & 0x7f {
        126 => (4, u16::from_be_bytes([*b.get(2)?, *b.get(3)?]) as usize),
        127 => (
            10,
            u64::from_be_bytes(b.get(2..10)?.try_into().ok()?) as usize,
        ),
        n => (2, n as usize),
    };
    (b.len() >= head + len).then_some(head + len)
}
