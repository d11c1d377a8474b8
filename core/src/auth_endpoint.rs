//! Asking the app's auth endpoint, sans-IO: the form POST pusher-js sends (`socket_id` and
//! `channel_name`, or `socket_id` alone for user sign-in) and its JSON answer read back into
//! a grant. For drivers that have a socket but no HTTP crate (firmware); the answer is the
//! one every backend library writes (`{"auth": .., "channel_data"?: .., "shared_secret"?: ..}`),
//! with any JSON escapes decoded (PHP backends write `\/`).
//!
//! ```
//! use pusher_core::auth_endpoint::{Endpoint, read_channel_answer, write_channel_request};
//! use pusher_core::{ChannelName, SocketId, Status};
//!
//! let endpoint = Endpoint::new("backend.local:3000", "/pusher/auth")?;
//! let (socket_id, channel) = (SocketId::new("1.2")?, ChannelName::new("private-a")?);
//! let mut request = [0u8; 256];
//! let n = write_channel_request(&mut request, &endpoint, socket_id, channel).unwrap();
//! assert!(request[..n].ends_with(b"\r\n\r\nsocket_id=1.2&channel_name=private-a"));
//!
//! // The bytes read back from the backend (here all at once, then the connection closed).
//! let received = b"HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n{\"auth\":\"key:0123ab\"}";
//! let mut token = [0u8; 64];
//! let Status::Complete(grant, _) = read_channel_answer(received, true, &mut token).unwrap() else {
//!     unreachable!("the whole answer is there")
//! };
//! assert_eq!(grant.auth, "key:0123ab");
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

use core::fmt;

use crate::buf::{BufferTooSmall, Status, Writer};
use crate::name::{ChannelName, SocketId};
use crate::rest::{Body, ResponseError, dechunk, parse_response};
use crate::signer::{ChannelGrant, UserGrant};
use crate::wire::json::Value;

/// Where the auth endpoint is: the `Host` header, the path, and extra headers (a device
/// token in `Authorization`, say), each checked once so a request cannot be split.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Endpoint<'a> {
    host: &'a str,
    path: &'a str,
    headers: &'a [(&'a str, &'a str)],
}

/// Why an [`Endpoint`] was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EndpointError {
    /// The host is empty or has characters a `Host` header cannot carry.
    BadHost,
    /// The path does not start with `/`, or has spaces or control characters.
    BadPath,
    /// A header name is not a token, or a value has control characters.
    BadHeader,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndpointError::BadHost => "auth endpoint host is empty or invalid",
            EndpointError::BadPath => "auth endpoint path must start with / and have no spaces",
            EndpointError::BadHeader => "auth endpoint header is invalid",
        })
    }
}

impl core::error::Error for EndpointError {}

/// Bytes an HTTP head can carry in a path, host or header value: visible ASCII and beyond.
fn visible(s: &str) -> bool {
    s.bytes().all(|b| b > b' ' && b != 0x7f)
}

impl<'a> Endpoint<'a> {
    /// The endpoint at `path` (`/pusher/auth`) on `host` (`backend.local:3000`, as the
    /// `Host` header says it).
    pub fn new(host: &'a str, path: &'a str) -> Result<Self, EndpointError> {
        if host.is_empty() || !visible(host) || host.contains(['/', '?', '#', '@']) {
            return Err(EndpointError::BadHost);
        }
        if !path.starts_with('/') || !visible(path) {
            return Err(EndpointError::BadPath);
        }
        Ok(Endpoint {
            host,
            path,
            headers: &[],
        })
    }

    /// The same endpoint at another path (the sign-in endpoint, `/pusher/user-auth`).
    pub fn with_path(self, path: &'a str) -> Result<Self, EndpointError> {
        let headers = self.headers;
        Ok(Endpoint {
            headers,
            ..Endpoint::new(self.host, path)?
        })
    }

    /// Extra headers sent with every request.
    pub fn with_headers(
        mut self,
        headers: &'a [(&'a str, &'a str)],
    ) -> Result<Self, EndpointError> {
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        };
        let value = |s: &str| s.bytes().all(|b| b == b'\t' || (b >= b' ' && b != 0x7f));
        if !headers.iter().all(|(n, v)| token(n) && value(v)) {
            return Err(EndpointError::BadHeader);
        }
        self.headers = headers;
        Ok(self)
    }

    /// The `Host` header.
    pub fn host(&self) -> &'a str {
        self.host
    }

    /// The path.
    pub fn path(&self) -> &'a str {
        self.path
    }
}

/// `application/x-www-form-urlencoded` needs these as they are; everything else is escaped.
fn form_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*')
}

fn form_len(s: &str) -> usize {
    s.bytes().map(|b| if form_safe(b) { 1 } else { 3 }).sum()
}

fn push_form(w: &mut Writer<'_>, s: &str) {
    for b in s.bytes() {
        if form_safe(b) {
            w.push_byte(b);
        } else {
            // Upper-case digits, as `encodeURIComponent` writes them.
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            w.push(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// Writes the POST with `fields` as its form body; returns its length.
fn write_request(
    out: &mut [u8],
    endpoint: &Endpoint<'_>,
    fields: &[(&str, &str)],
) -> Result<usize, BufferTooSmall> {
    let body_len: usize = fields
        .iter()
        .map(|(k, v)| k.len() + 1 + form_len(v))
        .sum::<usize>()
        + fields.len().saturating_sub(1);
    let mut w = Writer::new(out);
    w.push_str("POST ");
    w.push_str(endpoint.path);
    w.push_str(" HTTP/1.1\r\nHost: ");
    w.push_str(endpoint.host);
    w.push_str("\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ");
    w.push_u64(body_len as u64);
    w.push_str("\r\nConnection: close\r\n");
    for (name, value) in endpoint.headers {
        w.push_str(name);
        w.push_str(": ");
        w.push_str(value);
        w.push_str("\r\n");
    }
    w.push_str("\r\n");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            w.push_byte(b'&');
        }
        w.push_str(k);
        w.push_byte(b'=');
        push_form(&mut w, v);
    }
    w.finish_len()
}

/// Writes the request for a private or presence subscription of `socket_id` to `channel`
/// into `out`; returns its length.
pub fn write_channel_request(
    out: &mut [u8],
    endpoint: &Endpoint<'_>,
    socket_id: SocketId<'_>,
    channel: ChannelName<'_>,
) -> Result<usize, BufferTooSmall> {
    let fields = [
        ("socket_id", socket_id.as_str()),
        ("channel_name", channel.as_str()),
    ];
    write_request(out, endpoint, &fields)
}

/// Writes the request for a user sign-in of `socket_id` into `out`; returns its length.
pub fn write_user_request(
    out: &mut [u8],
    endpoint: &Endpoint<'_>,
    socket_id: SocketId<'_>,
) -> Result<usize, BufferTooSmall> {
    write_request(out, endpoint, &[("socket_id", socket_id.as_str())])
}

/// Why the endpoint's answer gave no grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AnswerError {
    /// The endpoint answered with this HTTP status, not 200 (403: the backend said no).
    Status(u16),
    /// The response is not HTTP/1.x, or its body framing is broken.
    Http(ResponseError),
    /// The body is not a JSON object with a string `auth` (and `user_data`, for sign-in).
    Malformed,
    /// The answer does not fit the output buffer.
    BufferTooSmall,
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerError::Status(status) => write!(f, "auth endpoint answered HTTP {status}"),
            AnswerError::Http(e) => write!(f, "auth endpoint response: {e}"),
            AnswerError::Malformed => {
                f.write_str("auth endpoint answer is not a JSON object with a string \"auth\"")
            }
            AnswerError::BufferTooSmall => f.write_str("auth endpoint answer does not fit"),
        }
    }
}

impl core::error::Error for AnswerError {}

/// The JSON body of a complete 200 answer, and the part of `out` left to decode into.
fn answer_body<'o>(
    received: &'o [u8],
    eof: bool,
    out: &'o mut [u8],
) -> Result<Status<(Value<'o>, &'o mut [u8])>, AnswerError> {
    let (response, used) = match parse_response(received, eof).map_err(AnswerError::Http)? {
        Status::Partial => return Ok(Status::Partial),
        Status::Complete(r, n) => (r, n),
    };
    if response.status != 200 {
        return Err(AnswerError::Status(response.status));
    }
    let (body, out): (&'o [u8], &'o mut [u8]) = match response.body {
        Body::Plain(body) => (body, out),
        Body::Chunked(encoded) => {
            let n = dechunk(encoded, out).map_err(|e| match e {
                ResponseError::Truncated => AnswerError::BufferTooSmall,
                e => AnswerError::Http(e),
            })?;
            let (body, rest) = out.split_at_mut(n);
            (&*body, rest)
        }
    };
    let text = core::str::from_utf8(body).map_err(|_| AnswerError::Malformed)?;
    let value = Value::parse(text).map_err(|_| AnswerError::Malformed)?;
    Ok(Status::Complete((value, out), used))
}

/// Decodes the string member `key` of `answer` into the front of `out`; returns it and the
/// rest of `out`. `None` when absent or null; an error when it is not a string.
fn take_str<'o>(
    answer: &Value<'o>,
    key: &str,
    out: &'o mut [u8],
) -> Result<(Option<&'o str>, &'o mut [u8]), AnswerError> {
    let Some(value) = answer.get(key).filter(|v| !v.is_null()) else {
        return Ok((None, out));
    };
    let raw = value.as_raw_str().ok_or(AnswerError::Malformed)?;
    if out.len() < raw.raw().len() {
        return Err(AnswerError::BufferTooSmall);
    }
    let (front, rest) = out.split_at_mut(raw.raw().len());
    let text = raw
        .unescape_into(front)
        .map_err(|_| AnswerError::Malformed)?;
    Ok((Some(text), rest))
}

/// Reads a channel auth answer from the bytes `received` so far (`eof`: the connection has
/// ended), decoding its strings into `out` (the body's length is always enough; twice that
/// for a chunked body). `Partial` until the whole response is there; returns the grant and
/// how many bytes of `received` the response took.
pub fn read_channel_answer<'o>(
    received: &'o [u8],
    eof: bool,
    out: &'o mut [u8],
) -> Result<Status<ChannelGrant<'o>>, AnswerError> {
    let ((answer, out), used) = match answer_body(received, eof, out)? {
        Status::Partial => return Ok(Status::Partial),
        Status::Complete(parts, used) => (parts, used),
    };
    let (auth, out) = take_str(&answer, "auth", out)?;
    let (channel_data, out) = take_str(&answer, "channel_data", out)?;
    let (shared_secret, _) = take_str(&answer, "shared_secret", out)?;
    let grant = ChannelGrant {
        auth: auth.ok_or(AnswerError::Malformed)?,
        channel_data,
        shared_secret,
    };
    Ok(Status::Complete(grant, used))
}

/// Reads a sign-in answer (`{"auth": .., "user_data": ..}`), as [`read_channel_answer`] does.
pub fn read_user_answer<'o>(
    received: &'o [u8],
    eof: bool,
    out: &'o mut [u8],
) -> Result<Status<UserGrant<'o>>, AnswerError> {
    let ((answer, out), used) = match answer_body(received, eof, out)? {
        Status::Partial => return Ok(Status::Partial),
        Status::Complete(parts, used) => (parts, used),
    };
    let (auth, out) = take_str(&answer, "auth", out)?;
    let (user_data, _) = take_str(&answer, "user_data", out)?;
    match (auth, user_data) {
        (Some(auth), Some(user_data)) => Ok(Status::Complete(UserGrant { auth, user_data }, used)),
        _ => Err(AnswerError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid() -> SocketId<'static> {
        SocketId::new("123.456").unwrap()
    }

    fn answer<'o>(
        received: &'o [u8],
        out: &'o mut [u8],
    ) -> Result<Option<ChannelGrant<'o>>, AnswerError> {
        read_channel_answer(received, true, out).map(|s| s.complete().map(|(g, _)| g))
    }

    #[test]
    fn the_request_is_the_form_pusher_js_posts() {
        let ep = Endpoint::new("10.0.0.1:3000", "/pusher/auth")
            .unwrap()
            .with_headers(&[("Authorization", "Bearer t0k")])
            .unwrap();
        let mut out = [0u8; 512];
        let channel = ChannelName::new("presence-a=b@c,d;e").unwrap();
        let n = write_channel_request(&mut out, &ep, sid(), channel).unwrap();
        let text = core::str::from_utf8(&out[..n]).unwrap();
        let body = "socket_id=123.456&channel_name=presence-a%3Db%40c%2Cd%3Be";
        assert_eq!(
            text,
            std::format!(
                "POST /pusher/auth HTTP/1.1\r\nHost: 10.0.0.1:3000\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
                 Connection: close\r\nAuthorization: Bearer t0k\r\n\r\n{body}",
                body.len()
            )
        );
        let n = write_user_request(&mut out, &ep.with_path("/u").unwrap(), sid()).unwrap();
        assert!(out[..n].starts_with(b"POST /u HTTP/1.1\r\n"));
        assert!(out[..n].ends_with(b"Bearer t0k\r\n\r\nsocket_id=123.456"));
        // Every size short of the request reports the shortfall, never a cut request.
        let whole = write_channel_request(&mut out, &ep, sid(), channel).unwrap();
        for size in 0..whole {
            let mut small = std::vec![0u8; size];
            assert!(write_channel_request(&mut small, &ep, sid(), channel).is_err());
        }
    }

    #[test]
    fn endpoints_that_would_split_the_request_are_refused() {
        assert_eq!(
            Endpoint::new("a\r\nX: y", "/p").unwrap_err(),
            EndpointError::BadHost
        );
        assert_eq!(Endpoint::new("", "/p").unwrap_err(), EndpointError::BadHost);
        assert_eq!(Endpoint::new("h", "p").unwrap_err(), EndpointError::BadPath);
        assert_eq!(
            Endpoint::new("h", "/p q").unwrap_err(),
            EndpointError::BadPath
        );
        let ep = Endpoint::new("h", "/p").unwrap();
        assert!(ep.with_headers(&[("X-Bad Name", "v")]).is_err());
        assert!(ep.with_headers(&[("X-Ok", "v\r\nInjected: 1")]).is_err());
        assert!(ep.with_headers(&[("X-Ok", "a b\tc")]).is_ok());
    }

    #[test]
    fn an_answer_is_read_with_its_escapes_decoded() {
        let body =
            r#"{"auth":"key:ab\/cd","channel_data":"{\"user_id\":\"7\"}","shared_secret":null}"#;
        let received = std::format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut out = [0u8; 128];
        let grant = answer(received.as_bytes(), &mut out).unwrap().unwrap();
        assert_eq!(grant.auth, "key:ab/cd");
        assert_eq!(grant.channel_data, Some(r#"{"user_id":"7"}"#));
        assert_eq!(grant.shared_secret, None);
    }

    #[test]
    fn a_chunked_answer_arriving_in_pieces_is_read_once_whole() {
        let received =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"aut\r\nf\r\nh\":\"k:1\",\"x\":1}\r\n0\r\n\r\n";
        let mut out = [0u8; 64];
        for cut in 0..received.len() {
            let got = read_channel_answer(&received[..cut], false, &mut out).unwrap();
            assert_eq!(got, Status::Partial, "cut at {cut}");
        }
        let Status::Complete(grant, used) = read_channel_answer(received, false, &mut out).unwrap()
        else {
            panic!("complete")
        };
        assert_eq!((grant.auth, used), ("k:1", received.len()));
    }

    #[test]
    fn refusals_and_bad_answers_are_typed() {
        let mut out = [0u8; 64];
        let forbidden = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nForbidden";
        assert_eq!(answer(forbidden, &mut out), Err(AnswerError::Status(403)));
        let not_json = b"HTTP/1.1 200 OK\r\n\r\n<html>";
        assert_eq!(answer(not_json, &mut out), Err(AnswerError::Malformed));
        let no_auth = b"HTTP/1.1 200 OK\r\n\r\n{\"channel_data\":\"{}\"}";
        assert_eq!(answer(no_auth, &mut out), Err(AnswerError::Malformed));
        let number = b"HTTP/1.1 200 OK\r\n\r\n{\"auth\":5}";
        assert_eq!(answer(number, &mut out), Err(AnswerError::Malformed));
        let cut = b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{\"auth\":";
        assert_eq!(
            answer(cut, &mut out),
            Err(AnswerError::Http(ResponseError::Truncated))
        );
        let big = b"HTTP/1.1 200 OK\r\n\r\n{\"auth\":\"0123456789\"}";
        assert_eq!(answer(big, &mut [0u8; 4]), Err(AnswerError::BufferTooSmall));
        let user = b"HTTP/1.1 200 OK\r\n\r\n{\"auth\":\"k:1\"}";
        assert_eq!(
            read_user_answer(user, true, &mut out),
            Err(AnswerError::Malformed)
        );
        let user =
            b"HTTP/1.1 200 OK\r\n\r\n{\"auth\":\"k:1\",\"user_data\":\"{\\\"id\\\":\\\"1\\\"}\"}";
        let Ok(Status::Complete(grant, _)) = read_user_answer(user, true, &mut out) else {
            panic!("complete")
        };
        assert_eq!((grant.auth, grant.user_data), ("k:1", r#"{"id":"1"}"#));
    }

    #[test]
    fn no_input_panics() {
        // Every prefix and every single-byte corruption of a valid answer.
        let good = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n{\"auth\":\"k\"\r\n1\r\n}\r\n0\r\n\r\n";
        let mut out = [0u8; 32];
        for cut in 0..=good.len() {
            for eof in [false, true] {
                let _ = read_channel_answer(&good[..cut], eof, &mut out);
                let _ = read_user_answer(&good[..cut], eof, &mut out);
            }
        }
        for i in 0..good.len() {
            for b in [0u8, b'"', b'\\', b'\r', b'0', b'f', 0xff] {
                let mut bad = *good;
                bad[i] = b;
                let _ = read_channel_answer(&bad, true, &mut out);
            }
        }
    }
}
