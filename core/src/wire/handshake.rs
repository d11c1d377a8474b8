//! The HTTP/1.1 WebSocket upgrade: the client's request and the check of the server's `101`,
//! plus the server side of both (for tests and a development server).

use core::fmt;

use super::http::HttpError;
use crate::buf::{BufferTooSmall, Status, Writer};

/// Most response headers inspected; a response with more is rejected.
pub use super::http::MAX_HEADERS;
/// Pusher protocol version this crate speaks.
pub const PROTOCOL_VERSION: u8 = 7;

const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Why an upgrade failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HandshakeError {
    /// The output buffer is too small.
    BufferTooSmall(BufferTooSmall),
    /// A request parameter would break the request line (app key, client name, version, host).
    InvalidParameter(&'static str),
    /// Not a well-formed HTTP/1.1 head.
    Malformed,
    /// More than [`MAX_HEADERS`] headers.
    TooManyHeaders,
    /// The server answered with this status instead of `101`.
    Status(u16),
    /// `Upgrade: websocket` missing.
    MissingUpgrade,
    /// `Connection: Upgrade` missing.
    MissingConnection,
    /// `Sec-WebSocket-Accept` missing or wrong.
    BadAccept,
    /// The server enabled an extension or subprotocol that was not offered.
    UnexpectedExtension,
    /// (Server role) not a GET with `Sec-WebSocket-Version: 13` and a 16-byte key.
    BadRequest,
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::BufferTooSmall(e) => e.fmt(f),
            HandshakeError::InvalidParameter(what) => write!(f, "invalid characters in {what}"),
            HandshakeError::Malformed => f.write_str("malformed HTTP response"),
            HandshakeError::TooManyHeaders => f.write_str("too many HTTP headers"),
            HandshakeError::Status(s) => write!(f, "server answered HTTP {s} instead of 101"),
            HandshakeError::MissingUpgrade => f.write_str("missing `Upgrade: websocket`"),
            HandshakeError::MissingConnection => f.write_str("missing `Connection: Upgrade`"),
            HandshakeError::BadAccept => f.write_str("wrong Sec-WebSocket-Accept"),
            HandshakeError::UnexpectedExtension => {
                f.write_str("server enabled an extension that was not offered")
            }
            HandshakeError::BadRequest => f.write_str("not a WebSocket upgrade request"),
        }
    }
}

impl core::error::Error for HandshakeError {}

impl From<HttpError> for HandshakeError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Malformed => HandshakeError::Malformed,
            HttpError::TooManyHeaders => HandshakeError::TooManyHeaders,
        }
    }
}

impl From<BufferTooSmall> for HandshakeError {
    fn from(e: BufferTooSmall) -> Self {
        HandshakeError::BufferTooSmall(e)
    }
}

/// `base64(SHA-1(key ++ GUID))`, the value a server must return for `key`.
pub fn accept_for(key: &[u8]) -> [u8; 28] {
    crate::base64::encode(&crate::sha1::digest(&[key, GUID]))
}

/// What goes into the upgrade request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RequestParams<'a> {
    /// `Host` header value, with `:port` when not the scheme's default.
    pub host: &'a str,
    /// Path before `/app/{key}` (usually empty).
    pub path_prefix: &'a str,
    /// The app key.
    pub app_key: &'a str,
    /// Client name sent as `client=` (`platform-library`).
    pub client: &'a str,
    /// Library version sent as `version=`.
    pub version: &'a str,
}

fn url_safe(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

fn host_safe(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']'))
}

/// The client side of one upgrade: holds the `Sec-WebSocket-Key` made from caller randomness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClientHandshake {
    key: [u8; 24],
}

impl ClientHandshake {
    /// A handshake whose key is the base64 of 16 random bytes.
    pub fn new(nonce: [u8; 16]) -> Self {
        ClientHandshake {
            key: crate::base64::encode(&nonce),
        }
    }

    /// The `Sec-WebSocket-Key` value.
    pub fn key(&self) -> &[u8; 24] {
        &self.key
    }

    /// Writes `GET {prefix}/app/{key}?protocol=7&client=..&version=.. HTTP/1.1` and its headers.
    pub fn write_request(
        &self,
        out: &mut [u8],
        p: &RequestParams<'_>,
    ) -> Result<usize, HandshakeError> {
        if p.app_key.is_empty() || !url_safe(p.app_key) {
            return Err(HandshakeError::InvalidParameter("app key"));
        }
        if !url_safe(p.client) || !url_safe(p.version) {
            return Err(HandshakeError::InvalidParameter("client or version"));
        }
        if !host_safe(p.host) {
            return Err(HandshakeError::InvalidParameter("host"));
        }
        if !p.path_prefix.bytes().all(|b| url_safe_byte(b) || b == b'/') {
            return Err(HandshakeError::InvalidParameter("path prefix"));
        }
        let mut w = Writer::new(out);
        w.push_str("GET ");
        w.push_str(p.path_prefix.trim_end_matches('/'));
        w.push_str("/app/");
        w.push_str(p.app_key);
        w.push_str("?protocol=");
        w.push_u64(u64::from(PROTOCOL_VERSION));
        w.push_str("&client=");
        w.push_str(p.client);
        w.push_str("&version=");
        w.push_str(p.version);
        w.push_str(" HTTP/1.1\r\nHost: ");
        w.push_str(p.host);
        w.push_str("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
        w.push(&self.key);
        w.push_str("\r\nSec-WebSocket-Version: 13\r\n\r\n");
        Ok(w.finish_len()?)
    }

    /// Checks the server's response head. `Complete(())` carries the head's length: any bytes
    /// after it are already WebSocket frames.
    // Not inlined: SHA-1 of the accept key stays out of the caller's frame.
    #[inline(never)]
    pub fn parse_response(&self, buf: &[u8]) -> Result<Status<()>, HandshakeError> {
        let (head, len) = match super::http::parse(buf)? {
            Status::Partial => return Ok(Status::Partial),
            Status::Complete(h, n) => (h, n),
        };
        let code = head.status()?;
        if code != 101 {
            return Err(HandshakeError::Status(code));
        }
        let (mut upgrade, mut connection, mut accept) = (false, false, false);
        let expected = accept_for(&self.key);
        for h in head.headers() {
            let (name, value) = h?;
            if name.eq_ignore_ascii_case(b"upgrade") {
                upgrade |= value.eq_ignore_ascii_case(b"websocket");
            } else if name.eq_ignore_ascii_case(b"connection") {
                connection |= has_token(value, b"upgrade");
            } else if name.eq_ignore_ascii_case(b"sec-websocket-accept") {
                accept = trim(value) == expected;
                if !accept {
                    return Err(HandshakeError::BadAccept);
                }
            } else if (name.eq_ignore_ascii_case(b"sec-websocket-extensions")
                || name.eq_ignore_ascii_case(b"sec-websocket-protocol"))
                && !trim(value).is_empty()
            {
                return Err(HandshakeError::UnexpectedExtension);
            }
        }
        if !upgrade {
            return Err(HandshakeError::MissingUpgrade);
        }
        if !connection {
            return Err(HandshakeError::MissingConnection);
        }
        if !accept {
            return Err(HandshakeError::BadAccept);
        }
        Ok(Status::Complete((), len))
    }
}

fn url_safe_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

fn trim(v: &[u8]) -> &[u8] {
    v.trim_ascii()
}

/// True when a comma-separated header value holds `token` (case-insensitive).
fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|b| *b == b',')
        .any(|t| trim(t).eq_ignore_ascii_case(token))
}

/// An upgrade request as a server sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UpgradeRequest<'a> {
    /// Request target, e.g. `/app/KEY?protocol=7&client=js&version=8.6.0`.
    pub path: &'a str,
    /// The client's `Sec-WebSocket-Key`.
    pub key: &'a [u8],
}

impl<'a> UpgradeRequest<'a> {
    /// The `Sec-WebSocket-Accept` value to answer with.
    pub fn accept(&self) -> [u8; 28] {
        accept_for(self.key)
    }

    /// The app key from a `/app/{key}` path.
    pub fn app_key(&self) -> Option<&'a str> {
        let after = self.path.split_once("/app/")?.1;
        Some(after.split(['?', '/']).next().unwrap_or(after))
    }

    /// A query parameter's value.
    pub fn query(&self, name: &str) -> Option<&'a str> {
        let q = self.path.split_once('?')?.1;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then_some(v)
        })
    }
}

/// (Server role) parses an upgrade request head.
pub fn parse_request(buf: &[u8]) -> Result<Status<UpgradeRequest<'_>>, HandshakeError> {
    let (head, len) = match super::http::parse(buf)? {
        Status::Partial => return Ok(Status::Partial),
        Status::Complete(h, n) => (h, n),
    };
    let [method, path, version_text] = head.start;
    if method != b"GET" || !version_text.starts_with(b"HTTP/1.") {
        return Err(HandshakeError::BadRequest);
    }
    let path = core::str::from_utf8(path).map_err(|_| HandshakeError::Malformed)?;
    let (mut upgrade, mut connection, mut version, mut key) = (false, false, false, None);
    for h in head.headers() {
        let (name, value) = h?;
        if name.eq_ignore_ascii_case(b"upgrade") {
            upgrade |= has_token(value, b"websocket");
        } else if name.eq_ignore_ascii_case(b"connection") {
            connection |= has_token(value, b"upgrade");
        } else if name.eq_ignore_ascii_case(b"sec-websocket-version") {
            version = trim(value) == b"13";
        } else if name.eq_ignore_ascii_case(b"sec-websocket-key") {
            key = Some(trim(value));
        }
    }
    let key = key.filter(|k| crate::base64::decode::<16>(k).is_some());
    match (upgrade, connection, version, key) {
        (true, true, true, Some(key)) => Ok(Status::Complete(UpgradeRequest { path, key }, len)),
        (false, ..) => Err(HandshakeError::MissingUpgrade),
        (_, false, ..) => Err(HandshakeError::MissingConnection),
        _ => Err(HandshakeError::BadRequest),
    }
}

/// (Server role) writes the `101 Switching Protocols` answer.
pub fn write_response(out: &mut [u8], req: &UpgradeRequest<'_>) -> Result<usize, BufferTooSmall> {
    let mut w = Writer::new(out);
    w.push_str("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
    w.push(&req.accept());
    w.push_str("\r\n\r\n");
    w.finish_len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_accept_example() {
        assert_eq!(
            &accept_for(b"dGhlIHNhbXBsZSBub25jZQ=="),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn request_bytes() {
        let hs = ClientHandshake::new(*b"the sample nonce");
        assert_eq!(hs.key(), b"dGhlIHNhbXBsZSBub25jZQ==");
        let mut out = [0u8; 256];
        let p = RequestParams {
            host: "ws-mt1.pusher.com",
            path_prefix: "",
            app_key: "app-key",
            client: "rust-pusher",
            version: "0.1.0",
        };
        let n = hs.write_request(&mut out, &p).unwrap();
        let text = core::str::from_utf8(&out[..n]).unwrap();
        assert_eq!(
            text,
            "GET /app/app-key?protocol=7&client=rust-pusher&version=0.1.0 HTTP/1.1\r\nHost: ws-mt1.pusher.com\r\n\
             Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        // The server side understands it.
        let (req, len) = parse_request(&out[..n]).unwrap().complete().unwrap();
        assert_eq!(len, n);
        assert_eq!(req.app_key(), Some("app-key"));
        assert_eq!(req.query("protocol"), Some("7"));
        let mut resp = [0u8; 256];
        let m = write_response(&mut resp, &req).unwrap();
        assert_eq!(hs.parse_response(&resp[..m]), Ok(Status::Complete((), m)));
        assert!(matches!(
            hs.write_request(&mut out[..10], &p),
            Err(HandshakeError::BufferTooSmall(_))
        ));
        let bad = RequestParams {
            app_key: "a b",
            ..p
        };
        assert_eq!(
            hs.write_request(&mut out, &bad),
            Err(HandshakeError::InvalidParameter("app key"))
        );
        let bad = RequestParams {
            host: "h\r\nX: y",
            ..p
        };
        assert_eq!(
            hs.write_request(&mut out, &bad),
            Err(HandshakeError::InvalidParameter("host"))
        );
    }

    fn response_errors(resp: &str, key: &str) -> Result<Status<()>, HandshakeError> {
        let nonce = crate::base64::decode::<16>(key.as_bytes()).unwrap();
        ClientHandshake::new(nonce).parse_response(resp.as_bytes())
    }

    #[test]
    fn response_checks() {
        let key = "gRygJHjWrqqqN9Y8l6fDYA==";
        let ok = "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\
                  Sec-WebSocket-Accept: d0ysVxBI5yjpXlIuv1TXoT4KQkA=\r\n\r\n";
        assert!(matches!(response_errors(ok, key), Ok(Status::Complete(..))));
        for cut in 0..ok.len() {
            assert_eq!(
                response_errors(&ok[..cut], key),
                Ok(Status::Partial),
                "{cut}"
            );
        }
        assert_eq!(
            response_errors("HTTP/1.1 404 Not Found\r\n\r\n", key),
            Err(HandshakeError::Status(404))
        );
        assert_eq!(
            response_errors("garbage\r\n\r\n", key),
            Err(HandshakeError::Malformed)
        );
        let no_upgrade = ok.replace("upgrade: WebSocket\r\n", "");
        assert_eq!(
            response_errors(&no_upgrade, key),
            Err(HandshakeError::MissingUpgrade)
        );
        let no_conn = ok.replace("Connection: keep-alive, Upgrade\r\n", "");
        assert_eq!(
            response_errors(&no_conn, key),
            Err(HandshakeError::MissingConnection)
        );
        let bad_accept = ok.replace("d0ys", "e0ys");
        assert_eq!(
            response_errors(&bad_accept, key),
            Err(HandshakeError::BadAccept)
        );
        let no_accept = ok.replace("Sec-WebSocket-Accept: d0ysVxBI5yjpXlIuv1TXoT4KQkA=\r\n", "");
        assert_eq!(
            response_errors(&no_accept, key),
            Err(HandshakeError::BadAccept)
        );
        let ext = ok.replace(
            "\r\n\r\n",
            "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        );
        assert_eq!(
            response_errors(&ext, key),
            Err(HandshakeError::UnexpectedExtension)
        );
        let many: std::string::String = (0..30).map(|i| std::format!("X-{i}: y\r\n")).collect();
        let many = ok.replace("\r\n\r\n", &std::format!("\r\n{many}\r\n"));
        assert_eq!(
            response_errors(&many, key),
            Err(HandshakeError::TooManyHeaders)
        );
    }
}
