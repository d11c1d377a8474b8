//! A small HTTP/1.1 client for the REST API and auth endpoints: one request per connection,
//! `httparse` for the response head, Content-Length, chunked or read-to-close bodies, an
//! optional HTTP proxy (absolute-form for http, CONNECT for https).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;

use crate::net::{tcp_connect, tls_wrap};

/// Where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https` when true.
    pub tls: bool,
    /// Host name.
    pub host: String,
    /// Port.
    pub port: u16,
}

/// An HTTP proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// Proxy host.
    pub host: String,
    /// Proxy port.
    pub port: u16,
}

/// A response: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

fn host_header(ep: &Endpoint) -> String {
    crate::net::host_header(&ep.host, ep.port, ep.tls)
}

/// Sends one request and reads the whole response.
#[allow(clippy::too_many_arguments)]
pub fn request(
    ep: &Endpoint,
    tls: &Arc<ClientConfig>,
    proxy: Option<&Proxy>,
    timeout: Duration,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Response> {
    let (tcp, absolute) = match proxy {
        None => (tcp_connect(&ep.host, ep.port, timeout)?, false),
        Some(p) => {
            let mut tcp = tcp_connect(&p.host, p.port, timeout)?;
            tcp.set_read_timeout(Some(timeout))?;
            if ep.tls {
                let target = format!("{}:{}", ep.host, ep.port);
                write!(tcp, "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n")?;
                let head = read_head(&mut tcp)?;
                if head.0 != 200 {
                    return Err(io::Error::other(format!(
                        "proxy CONNECT answered {}",
                        head.0
                    )));
                }
                (tcp, false)
            } else {
                (tcp, true)
            }
        }
    };
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))?;
    let mut conn = if ep.tls {
        Conn::Tls(Box::new(tls_wrap(tcp, &ep.host, tls.clone(), timeout)?))
    } else {
        Conn::Plain(tcp)
    };
    let target = if absolute {
        format!("http://{}{}", host_header(ep), path_and_query)
    } else {
        path_and_query.to_owned()
    };
    let mut req = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        host_header(ep)
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    let deadline = std::time::Instant::now() + timeout;
    let timed_out = |what: &str| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "{} did not {what} within {} ms",
                host_header(ep),
                timeout.as_millis()
            ),
        )
    };
    let late = |e: io::Error, what: &str| {
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            timed_out(what)
        } else {
            e
        }
    };
    conn.write_all(&bytes)
        .and_then(|()| conn.flush())
        .map_err(|e| late(e, "take the request"))?;
    let mut raw = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        match conn.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
            // rustls reports a peer that closed without close_notify this way.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(late(e, "answer")),
        }
        if std::time::Instant::now() > deadline {
            // A server that trickles bytes: the timeout bounds the whole response.
            return Err(timed_out("finish its answer"));
        }
        if let Some(done) = complete(&raw, false)? {
            return Ok(done);
        }
    }
    complete(&raw, true)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "response ended early"))
}

/// Reads a response head only (for CONNECT).
fn read_head(tcp: &mut TcpStream) -> io::Result<(u16, usize)> {
    let mut raw = Vec::new();
    loop {
        let mut b = [0u8; 512];
        let n = tcp.read(&mut b)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "proxy closed"));
        }
        raw.extend_from_slice(&b[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(len) = resp
            .parse(&raw)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
        {
            return Ok((resp.code.unwrap_or(0), len));
        }
    }
}

/// The response, once `raw` holds all of it (parsed by the core).
fn complete(raw: &[u8], eof: bool) -> io::Result<Option<Response>> {
    use pusher_core::Status;
    use pusher_core::rest::{Body, dechunk, parse_response};
    match parse_response(raw, eof) {
        Ok(Status::Partial) => Ok(None),
        Ok(Status::Complete(r, _)) => {
            let body = match r.body {
                Body::Plain(b) => b.to_vec(),
                Body::Chunked(enc) => {
                    let mut out = vec![0u8; enc.len()];
                    let n = dechunk(enc, &mut out)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                    out.truncate(n);
                    out
                }
            };
            Ok(Some(Response {
                status: r.status,
                body,
            }))
        }
        Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
    }
}

/// Form-encodes one value (`application/x-www-form-urlencoded`).
pub fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        let r = complete(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", false)
            .unwrap()
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"{}"[..]));
        assert_eq!(
            complete(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}", false).unwrap(),
            None
        );
        assert!(complete(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}", true).is_err());
        let r = complete(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.body, b"{}");
        assert_eq!(
            complete(b"HTTP/1.1 200 OK\r\n\r\nabc", false).unwrap(),
            None
        );
        assert_eq!(
            complete(b"HTTP/1.1 200 OK\r\n\r\nabc", true)
                .unwrap()
                .unwrap()
                .body,
            b"abc"
        );
        assert_eq!(form_encode("a b&c=é"), "a+b%26c%3D%C3%A9");
    }
}
