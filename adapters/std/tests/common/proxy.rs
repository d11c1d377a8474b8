//! A CONNECT proxy on loopback for the tests: checks credentials, counts tunnels.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A CONNECT proxy on loopback: checks `Proxy-Authorization` against `user:pa@ss`, counts
/// tunnels, and pipes bytes both ways.
pub struct ConnectProxy {
    pub port: u16,
    pub tunnels: Arc<AtomicUsize>,
    pub refused: Arc<AtomicUsize>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let (t, r) = (tunnels.clone(), refused.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (t, r) = (t.clone(), r.clone());
                std::thread::spawn(move || tunnel(client, &t, &r));
            }
        });
        ConnectProxy {
            port,
            tunnels,
            refused,
        }
    }
}

fn tunnel(client: TcpStream, tunnels: &AtomicUsize, refused: &AtomicUsize) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        head.push(line.trim_end().to_owned());
    }
    let mut client = client;
    let Some(target) = head[0]
        .strip_prefix("CONNECT ")
        .and_then(|r| r.split(' ').next())
    else {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    // base64("user:pa@ss")
    let authorized = head.iter().any(|h| {
        h.to_ascii_lowercase().starts_with("proxy-authorization:")
            && h.ends_with("Basic dXNlcjpwYUBzcw==")
    });
    if !authorized {
        refused.fetch_add(1, Ordering::Relaxed);
        let _ = client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic\r\ncontent-length: 0\r\n\r\n",
        );
        return;
    }
    let Ok(upstream) = TcpStream::connect(target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    tunnels.fetch_add(1, Ordering::Relaxed);
    client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .unwrap();
    let buffered = reader.buffer().to_vec();
    let (mut up_w, mut up_r) = (upstream.try_clone().unwrap(), upstream);
    up_w.write_all(&buffered).unwrap();
    let mut client_r = client.try_clone().unwrap();
    let forward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_r, &mut up_w);
        let _ = up_w.shutdown(std::net::Shutdown::Write);
    });
    let mut buf = [0u8; 8192];
    while let Ok(n) = up_r.read(&mut buf) {
        if n == 0 || client.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = client.shutdown(std::net::Shutdown::Both);
    let _ = forward.join();
}
