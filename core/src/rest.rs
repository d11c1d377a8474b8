//! REST API request signing (auth_version 1.0) and request bodies.
//!
//! ```text
//! auth_signature = hex(HMAC-SHA256(secret, METHOD "\n" path "\n" sorted_params))
//! ```
//!
//! `sorted_params` holds every query parameter but `auth_signature` (`auth_key`,
//! `auth_timestamp`, `auth_version=1.0`, `body_md5` of the exact body when there is one, and
//! the caller's), keys lower-cased and sorted, joined as `k=v` with `&`, *not* URL-escaped. The
//! query string actually sent is the same list URL-escaped, with `auth_signature` in its place.
//! Nothing is buffered: parameters are visited in sorted order by repeated minimum search.

use core::cmp::Ordering;
use core::fmt;

use md5::{Digest, Md5};

use crate::auth::{Credentials, Signature};
use crate::buf::{BufferTooSmall, Status, Writer};
use crate::name::{ChannelName, EventName, SocketId};
use crate::wire::json::write_string;

/// Most channels one trigger may name.
pub const MAX_TRIGGER_CHANNELS: usize = 100;
/// Most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 10;
/// Largest event `data`, in bytes.
pub const MAX_DATA_LEN: usize = 10 * 1024;

const RESERVED: [&str; 5] = [
    "auth_key",
    "auth_timestamp",
    "auth_version",
    "auth_signature",
    "body_md5",
];

/// Why a REST request was not signed or built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RestError {
    /// The output buffer is too small.
    BufferTooSmall(BufferTooSmall),
    /// Method not upper-case letters, or path not starting with `/` or holding `?`, space or `#`.
    InvalidRequestLine,
    /// A parameter key that is empty or holds characters other than `A-Za-z0-9_-.[]`.
    InvalidParamKey,
    /// Two parameters with the same (lower-cased) key.
    DuplicateParam,
    /// A caller parameter named like one the signature sets (`auth_*`, `body_md5`).
    ReservedParam,
    /// A trigger names no channel.
    NoChannels,
    /// A trigger names more than 100 channels.
    TooManyChannels,
    /// A batch holds no events or more than 10.
    BatchSize,
    /// Event data over 10 KB.
    DataTooLarge,
    /// Encrypted channels need end-to-end encryption of `data`, which this call does not do,
    /// and may not share a trigger with other channels.
    EncryptedChannel,
}

impl fmt::Display for RestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestError::BufferTooSmall(e) => e.fmt(f),
            RestError::InvalidRequestLine => f.write_str("invalid method or path"),
            RestError::InvalidParamKey => f.write_str("invalid query parameter name"),
            RestError::DuplicateParam => f.write_str("duplicate query parameter"),
            RestError::ReservedParam => {
                f.write_str("auth_* and body_md5 parameters are set by the signer")
            }
            RestError::NoChannels => f.write_str("trigger needs at least one channel"),
            RestError::TooManyChannels => {
                write!(f, "at most {MAX_TRIGGER_CHANNELS} channels per trigger")
            }
            RestError::BatchSize => write!(f, "a batch holds 1 to {MAX_BATCH_EVENTS} events"),
            RestError::DataTooLarge => write!(f, "event data over {MAX_DATA_LEN} bytes"),
            RestError::EncryptedChannel => {
                f.write_str("encrypted channels need encrypted data and a trigger of their own")
            }
        }
    }
}

impl core::error::Error for RestError {}

impl From<BufferTooSmall> for RestError {
    fn from(e: BufferTooSmall) -> Self {
        RestError::BufferTooSmall(e)
    }
}

/// A REST request to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// Full path, including `/apps/{app_id}`.
    pub path: &'a str,
    /// Query parameters besides the signature's own, unescaped.
    pub params: &'a [(&'a str, &'a str)],
    /// The exact body bytes, if the request has a body.
    pub body: Option<&'a [u8]>,
    /// Unix time in seconds.
    pub timestamp: u64,
}

fn cmp_lower(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

fn push_lower(w: &mut Writer<'_>, s: &str) {
    for b in s.bytes() {
        w.push_byte(b.to_ascii_lowercase());
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn push_escaped(w: &mut Writer<'_>, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            w.push_byte(b);
        } else {
            w.push_byte(b'%');
            let [hi, lo] = crate::buf::hex_pair(b);
            w.push_byte(hi.to_ascii_uppercase());
            w.push_byte(lo.to_ascii_uppercase());
        }
    }
}

/// The parameters of a request in signing order.
struct Params<'a> {
    user: &'a [(&'a str, &'a str)],
    /// The signer's own parameters; the last slot takes `auth_signature` when writing the query.
    auth: [(&'a str, &'a str); 5],
    auth_len: usize,
}

impl<'a> Params<'a> {
    fn get(&self, i: usize) -> Option<(&'a str, &'a str)> {
        match i.checked_sub(self.user.len()) {
            None => self.user.get(i).copied(),
            Some(j) if j < self.auth_len => self.auth.get(j).copied(),
            Some(_) => None,
        }
    }

    fn len(&self) -> usize {
        self.user.len() + self.auth_len
    }

    /// Visits parameters by ascending lower-cased key (keys are unique).
    fn for_each_sorted(&self, mut f: impl FnMut(&'a str, &'a str)) {
        let mut last: Option<&str> = None;
        for _ in 0..self.len() {
            let mut best: Option<(&str, &str)> = None;
            for i in 0..self.len() {
                let Some((k, v)) = self.get(i) else { continue };
                let after_last = last.is_none_or(|l| cmp_lower(k, l) == Ordering::Greater);
                let before_best = best.is_none_or(|(b, _)| cmp_lower(k, b) == Ordering::Less);
                if after_last && before_best {
                    best = Some((k, v));
                }
            }
            let Some((k, v)) = best else { return };
            f(k, v);
            last = Some(k);
        }
    }
}

/// Per-request text the parameters borrow: timestamp digits and the body MD5.
struct Derived {
    timestamp: [u8; 20],
    timestamp_len: usize,
    md5: [u8; 32],
}

impl Derived {
    fn new(req: &Request<'_>) -> Self {
        let mut timestamp = [0u8; 20];
        let mut w = Writer::new(&mut timestamp);
        w.push_u64(req.timestamp);
        let timestamp_len = w.len();
        let mut md5 = [0u8; 32];
        if let Some(body) = req.body {
            let digest: [u8; 16] = Md5::digest(body).into();
            let mut w = Writer::new(&mut md5);
            w.push_hex(&digest);
        }
        Derived {
            timestamp,
            timestamp_len,
            md5,
        }
    }
}

fn params<'a>(
    creds: &Credentials<'a>,
    req: &Request<'a>,
    d: &'a Derived,
) -> Result<Params<'a>, RestError> {
    if req.method.is_empty() || !req.method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(RestError::InvalidRequestLine);
    }
    if !req.path.starts_with('/')
        || req
            .path
            .bytes()
            .any(|b| b <= b' ' || b == b'?' || b == b'#' || b >= 0x7f)
    {
        return Err(RestError::InvalidRequestLine);
    }
    for (i, (k, _)) in req.params.iter().enumerate() {
        if k.is_empty()
            || !k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']'))
        {
            return Err(RestError::InvalidParamKey);
        }
        if RESERVED.iter().any(|r| cmp_lower(k, r) == Ordering::Equal) {
            return Err(RestError::ReservedParam);
        }
        if req
            .params
            .iter()
            .skip(i + 1)
            .any(|(o, _)| cmp_lower(k, o) == Ordering::Equal)
        {
            return Err(RestError::DuplicateParam);
        }
    }
    let ts = core::str::from_utf8(d.timestamp.get(..d.timestamp_len).unwrap_or(&[])).unwrap_or("0");
    let md5 = core::str::from_utf8(&d.md5).unwrap_or("");
    let mut auth = [
        ("auth_key", creds.key()),
        ("auth_timestamp", ts),
        ("auth_version", "1.0"),
        ("", ""),
        ("", ""),
    ];
    let mut auth_len = 3;
    if req.body.is_some() {
        auth[3] = ("body_md5", md5);
        auth_len = 4;
    }
    Ok(Params {
        user: req.params,
        auth,
        auth_len,
    })
}

fn feed_string_to_sign(req: &Request<'_>, p: &Params<'_>, mut feed: impl FnMut(&[u8])) {
    feed(req.method.as_bytes());
    feed(b"\n");
    feed(req.path.as_bytes());
    feed(b"\n");
    let mut first = true;
    p.for_each_sorted(|k, v| {
        if !first {
            feed(b"&");
        }
        first = false;
        let mut lower = [0u8; 64];
        let mut rest = k.as_bytes();
        while !rest.is_empty() {
            let n = rest.len().min(lower.len());
            let (chunk, tail) = rest.split_at(n);
            for (d, s) in lower.iter_mut().zip(chunk) {
                *d = s.to_ascii_lowercase();
            }
            feed(lower.get(..n).unwrap_or(&[]));
            rest = tail;
        }
        feed(b"=");
        feed(v.as_bytes());
    });
}

/// The request's `auth_signature`.
pub fn sign(creds: &Credentials<'_>, req: &Request<'_>) -> Result<Signature, RestError> {
    let d = Derived::new(req);
    let p = params(creds, req, &d)?;
    Ok(sign_params(creds, req, &p))
}

fn sign_params(creds: &Credentials<'_>, req: &Request<'_>, p: &Params<'_>) -> Signature {
    let mut mac = creds.keyed_mac();
    feed_string_to_sign(req, p, |b| mac.update(b));
    Signature(mac.finalize())
}

/// Writes the string to sign (for debugging signatures against a server's complaint).
pub fn write_string_to_sign<'o>(
    out: &'o mut [u8],
    creds: &Credentials<'_>,
    req: &Request<'_>,
) -> Result<&'o str, RestError> {
    let d = Derived::new(req);
    let p = params(creds, req, &d)?;
    let mut w = Writer::new(out);
    feed_string_to_sign(req, &p, |b| w.push(b));
    let out = w.finish()?;
    Ok(core::str::from_utf8(out).unwrap_or_default())
}

/// Writes the signed, URL-escaped query string (without `?`), parameters in sorted order with
/// `auth_signature` among them.
pub fn write_query<'o>(
    out: &'o mut [u8],
    creds: &Credentials<'_>,
    req: &Request<'_>,
) -> Result<&'o str, RestError> {
    // One pass over the body (its MD5) serves both the signature and the query.
    let d = Derived::new(req);
    let mut p = params(creds, req, &d)?;
    let sig = sign_params(creds, req, &p).to_hex();
    let sig = core::str::from_utf8(&sig).unwrap_or_default();
    if let Some(slot) = p.auth.get_mut(p.auth_len) {
        *slot = ("auth_signature", sig);
        p.auth_len += 1;
    }
    let mut w = Writer::new(out);
    let mut first = true;
    p.for_each_sorted(|k, v| {
        if !first {
            w.push_byte(b'&');
        }
        first = false;
        push_lower(&mut w, k);
        w.push_byte(b'=');
        push_escaped(&mut w, v);
    });
    let out = w.finish()?;
    Ok(core::str::from_utf8(out).unwrap_or_default())
}

/// An event for a batch trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchEvent<'a> {
    /// The channel.
    pub channel: ChannelName<'a>,
    /// The event name.
    pub event: EventName<'a>,
    /// The data string (JSON text, usually).
    pub data: &'a str,
    /// A socket to exclude from delivery.
    pub socket_id: Option<SocketId<'a>>,
    /// `info` attributes to return (`user_count,subscription_count`).
    pub info: Option<&'a str>,
}

/// Writes the body of `POST /apps/{id}/events`: `{"name","data","channels","socket_id"?,"info"?}`.
pub fn write_trigger_body(
    out: &mut [u8],
    channels: &[ChannelName<'_>],
    event: EventName<'_>,
    data: &str,
    socket_id: Option<SocketId<'_>>,
    info: Option<&str>,
) -> Result<usize, RestError> {
    if channels.is_empty() {
        return Err(RestError::NoChannels);
    }
    if channels.len() > MAX_TRIGGER_CHANNELS {
        return Err(RestError::TooManyChannels);
    }
    if data.len() > MAX_DATA_LEN {
        return Err(RestError::DataTooLarge);
    }
    if channels.iter().any(|c| c.kind().is_encrypted()) {
        return Err(RestError::EncryptedChannel);
    }
    let mut w = Writer::new(out);
    w.push_str(r#"{"name":"#);
    write_string(&mut w, event.as_str());
    w.push_str(r#","data":"#);
    write_string(&mut w, data);
    w.push_str(r#","channels":["#);
    for (i, c) in channels.iter().enumerate() {
        if i > 0 {
            w.push_byte(b',');
        }
        write_string(&mut w, c.as_str());
    }
    w.push_byte(b']');
    optional_fields(&mut w, socket_id, info);
    w.push_byte(b'}');
    Ok(w.finish_len()?)
}

fn optional_fields(w: &mut Writer<'_>, socket_id: Option<SocketId<'_>>, info: Option<&str>) {
    if let Some(s) = socket_id {
        w.push_str(r#","socket_id":"#);
        write_string(w, s.as_str());
    }
    if let Some(i) = info {
        w.push_str(r#","info":"#);
        write_string(w, i);
    }
}

/// Writes the body of `POST /apps/{id}/batch_events`.
pub fn write_batch_body(out: &mut [u8], events: &[BatchEvent<'_>]) -> Result<usize, RestError> {
    if events.is_empty() || events.len() > MAX_BATCH_EVENTS {
        return Err(RestError::BatchSize);
    }
    let mut w = Writer::new(out);
    w.push_str(r#"{"batch":["#);
    for (i, e) in events.iter().enumerate() {
        if e.data.len() > MAX_DATA_LEN {
            return Err(RestError::DataTooLarge);
        }
        if e.channel.kind().is_encrypted() {
            return Err(RestError::EncryptedChannel);
        }
        if i > 0 {
            w.push_byte(b',');
        }
        w.push_str(r#"{"channel":"#);
        write_string(&mut w, e.channel.as_str());
        w.push_str(r#","name":"#);
        write_string(&mut w, e.event.as_str());
        w.push_str(r#","data":"#);
        write_string(&mut w, e.data);
        optional_fields(&mut w, e.socket_id, e.info);
        w.push_byte(b'}');
    }
    w.push_str("]}");
    Ok(w.finish_len()?)
}

/// Why a REST response could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ResponseError {
    /// Not an HTTP/1.x response head.
    Malformed,
    /// More headers than [`crate::wire::http::MAX_HEADERS`].
    TooManyHeaders,
    /// A chunked body with a bad chunk size or framing.
    BadChunk,
    /// The connection ended before the declared body did.
    Truncated,
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::Malformed => f.write_str("malformed HTTP response"),
            ResponseError::TooManyHeaders => f.write_str("too many HTTP headers"),
            ResponseError::BadChunk => f.write_str("bad chunked encoding"),
            ResponseError::Truncated => f.write_str("response ended before its body"),
        }
    }
}

impl core::error::Error for ResponseError {}

/// How a response body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Body<'a> {
    /// The body bytes (Content-Length, or everything up to the end of the connection).
    Plain(&'a [u8]),
    /// A complete chunked body, still encoded: decode with [`dechunk`].
    Chunked(&'a [u8]),
}

/// A REST API response: status and body (error bodies are plain text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Response<'a> {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Body<'a>,
}

/// Parses a response from the bytes received so far; `eof` says the connection has ended (a
/// body without a length runs to the end). `Partial` until the whole body is there.
pub fn parse_response(buf: &[u8], eof: bool) -> Result<Status<Response<'_>>, ResponseError> {
    use crate::wire::http::{self, HttpError};
    let (head, len) = match http::parse(buf) {
        Ok(Status::Partial) if eof => return Err(ResponseError::Truncated),
        Ok(Status::Partial) => return Ok(Status::Partial),
        Ok(Status::Complete(h, n)) => (h, n),
        Err(HttpError::TooManyHeaders) => return Err(ResponseError::TooManyHeaders),
        Err(_) => return Err(ResponseError::Malformed),
    };
    let status = head.status().map_err(|_| ResponseError::Malformed)?;
    let (mut chunked, mut length) = (false, None);
    for h in head.headers() {
        let (name, value) = h.map_err(|_| ResponseError::Malformed)?;
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked |= value
                .split(|b| *b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let n = core::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<usize>().ok());
            length = Some(n.ok_or(ResponseError::Malformed)?);
        }
    }
    let rest = buf.get(len..).unwrap_or(&[]);
    if chunked {
        return match chunked_end(rest)? {
            Some(end) => Ok(Status::Complete(
                Response {
                    status,
                    body: Body::Chunked(rest.get(..end).unwrap_or(&[])),
                },
                len + end,
            )),
            None if eof => Err(ResponseError::Truncated),
            None => Ok(Status::Partial),
        };
    }
    match length {
        Some(n) => match rest.get(..n) {
            Some(body) => Ok(Status::Complete(
                Response {
                    status,
                    body: Body::Plain(body),
                },
                len + n,
            )),
            None if eof => Err(ResponseError::Truncated),
            None => Ok(Status::Partial),
        },
        None if eof => Ok(Status::Complete(
            Response {
                status,
                body: Body::Plain(rest),
            },
            buf.len(),
        )),
        None => Ok(Status::Partial),
    }
}

/// Walks a chunked body: `Some(len)` of the complete encoding, `None` while incomplete.
fn chunked_end(body: &[u8]) -> Result<Option<usize>, ResponseError> {
    let mut at = 0;
    loop {
        let Some(line) = body
            .get(at..)
            .and_then(|r| r.windows(2).position(|w| w == b"\r\n"))
        else {
            return Ok(None);
        };
        let size_text = body.get(at..at + line).unwrap_or(&[]);
        let digits = size_text
            .split(|b| *b == b';')
            .next()
            .unwrap_or(&[])
            .trim_ascii();
        if digits.is_empty() || digits.len() > 8 {
            return Err(ResponseError::BadChunk);
        }
        let size = digits
            .iter()
            .try_fold(0usize, |acc, d| {
                Some(acc << 4 | usize::from(crate::buf::hex_value(*d)?))
            })
            .ok_or(ResponseError::BadChunk)?;
        at += line + 2;
        if size == 0 {
            // Trailers end with an empty line.
            return match body
                .get(at..)
                .and_then(|r| r.windows(4).position(|w| w == b"\r\n\r\n").map(|p| (r, p)))
            {
                _ if body.get(at..at + 2) == Some(b"\r\n") => Ok(Some(at + 2)),
                Some((_, p)) => Ok(Some(at + p + 4)),
                None => Ok(None),
            };
        }
        let end = at + size;
        match body.get(end..end + 2) {
            Some(b"\r\n") => at = end + 2,
            Some(_) => return Err(ResponseError::BadChunk),
            None => return Ok(None),
        }
    }
}

/// Decodes a complete chunked body (from [`Body::Chunked`]) into `out`; returns its length.
pub fn dechunk(encoded: &[u8], out: &mut [u8]) -> Result<usize, ResponseError> {
    let mut w = Writer::new(out);
    let mut at = 0;
    loop {
        let line = encoded
            .get(at..)
            .and_then(|r| r.windows(2).position(|w| w == b"\r\n"))
            .ok_or(ResponseError::BadChunk)?;
        let digits = encoded
            .get(at..at + line)
            .unwrap_or(&[])
            .split(|b| *b == b';')
            .next()
            .unwrap_or(&[])
            .trim_ascii();
        let size = digits
            .iter()
            .try_fold(0usize, |acc, d| {
                Some(acc << 4 | usize::from(crate::buf::hex_value(*d)?))
            })
            .filter(|_| !digits.is_empty() && digits.len() <= 8)
            .ok_or(ResponseError::BadChunk)?;
        at += line + 2;
        if size == 0 {
            return w.finish_len().map_err(|_| ResponseError::Truncated);
        }
        w.push(encoded.get(at..at + size).ok_or(ResponseError::BadChunk)?);
        at += size + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
        assert_eq!(
            parse_response(ok, false),
            Ok(Status::Complete(
                Response {
                    status: 200,
                    body: Body::Plain(b"{\"ok\":true}")
                },
                ok.len()
            ))
        );
        for cut in 0..ok.len() {
            assert_eq!(
                parse_response(&ok[..cut], false),
                Ok(Status::Partial),
                "{cut}"
            );
            assert!(parse_response(&ok[..cut], true).is_err(), "{cut}");
        }
        let chunked = b"HTTP/1.1 413 Too Large\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
        let Ok(Status::Complete(
            Response {
                status: 413,
                body: Body::Chunked(enc),
            },
            n,
        )) = parse_response(chunked, false)
        else {
            panic!("chunked")
        };
        assert_eq!(n, chunked.len());
        let mut out = [0u8; 32];
        let len = dechunk(enc, &mut out).unwrap();
        assert_eq!(&out[..len], b"hello world");
        let to_close = b"HTTP/1.1 401 Unauthorized\r\n\r\nInvalid signature";
        assert_eq!(parse_response(to_close, false), Ok(Status::Partial));
        assert_eq!(
            parse_response(to_close, true),
            Ok(Status::Complete(
                Response {
                    status: 401,
                    body: Body::Plain(b"Invalid signature")
                },
                to_close.len()
            ))
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false),
            Err(ResponseError::Malformed)
        );
        assert_eq!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                false
            ),
            Err(ResponseError::BadChunk)
        );
        assert_eq!(
            parse_response(b"nonsense\r\n\r\n", false),
            Err(ResponseError::Malformed)
        );
    }

    #[test]
    fn sorted_lowercase_and_escaped() {
        let c = Credentials::new("key", "secret");
        let params = [("Zeta", "a b&c"), ("info", "user_count,subscription_count")];
        let req = Request {
            method: "GET",
            path: "/apps/1/channels",
            params: &params,
            body: None,
            timestamp: 1000,
        };
        let mut out = [0u8; 512];
        let s = write_string_to_sign(&mut out, &c, &req).unwrap();
        assert_eq!(
            s,
            "GET\n/apps/1/channels\nauth_key=key&auth_timestamp=1000&auth_version=1.0&info=user_count,subscription_count&zeta=a b&c"
        );
        let q = write_query(&mut out, &c, &req).unwrap();
        assert!(q.starts_with("auth_key=key&auth_signature="), "{q}");
        assert!(q.ends_with("&auth_timestamp=1000&auth_version=1.0&info=user_count%2Csubscription_count&zeta=a%20b%26c"));
    }

    #[test]
    fn parameter_rules() {
        let c = Credentials::new("key", "secret");
        let mut out = [0u8; 512];
        let req = |params: &'static [(&'static str, &'static str)]| Request {
            method: "GET",
            path: "/apps/1/channels",
            params,
            body: None,
            timestamp: 1,
        };
        assert_eq!(
            write_query(&mut out, &c, &req(&[("Auth_Key", "x")])),
            Err(RestError::ReservedParam)
        );
        assert_eq!(
            write_query(&mut out, &c, &req(&[("a", "1"), ("A", "2")])),
            Err(RestError::DuplicateParam)
        );
        assert_eq!(
            write_query(&mut out, &c, &req(&[("a=b", "1")])),
            Err(RestError::InvalidParamKey)
        );
        let bad = Request {
            method: "get",
            ..req(&[])
        };
        assert_eq!(sign(&c, &bad), Err(RestError::InvalidRequestLine));
        let bad = Request {
            path: "/apps/1?x=1",
            ..req(&[])
        };
        assert_eq!(sign(&c, &bad), Err(RestError::InvalidRequestLine));
        assert!(matches!(
            write_query(&mut out[..20], &c, &req(&[])),
            Err(RestError::BufferTooSmall(_))
        ));
    }

    #[test]
    fn bodies_and_limits() {
        let ch = [
            ChannelName::new("a").unwrap(),
            ChannelName::new("b").unwrap(),
        ];
        let ev = EventName::new("my-event").unwrap();
        let mut out = [0u8; 256];
        let n = write_trigger_body(
            &mut out,
            &ch,
            ev,
            r#"{"x":1}"#,
            Some(SocketId::new("1.2").unwrap()),
            None,
        )
        .unwrap();
        assert_eq!(
            &out[..n],
            br#"{"name":"my-event","data":"{\"x\":1}","channels":["a","b"],"socket_id":"1.2"}"#
        );
        assert_eq!(
            write_trigger_body(&mut out, &[], ev, "", None, None),
            Err(RestError::NoChannels)
        );
        let many = [ChannelName::new("a").unwrap(); 101];
        assert_eq!(
            write_trigger_body(&mut out, &many, ev, "", None, None),
            Err(RestError::TooManyChannels)
        );
        let big = "x".repeat(10 * 1024 + 1);
        assert_eq!(
            write_trigger_body(&mut out, &ch, ev, &big, None, None),
            Err(RestError::DataTooLarge)
        );
        let enc = [ChannelName::new("private-encrypted-a").unwrap()];
        assert_eq!(
            write_trigger_body(&mut out, &enc, ev, "", None, None),
            Err(RestError::EncryptedChannel)
        );
        let e = BatchEvent {
            channel: ch[0],
            event: ev,
            data: "d",
            socket_id: None,
            info: Some("subscription_count"),
        };
        let n = write_batch_body(&mut out, &[e, e]).unwrap();
        assert_eq!(
            &out[..n],
            br#"{"batch":[{"channel":"a","name":"my-event","data":"d","info":"subscription_count"},{"channel":"a","name":"my-event","data":"d","info":"subscription_count"}]}"#
        );
        assert_eq!(
            write_batch_body(&mut out, &[e; 11]),
            Err(RestError::BatchSize)
        );
        assert_eq!(write_batch_body(&mut out, &[]), Err(RestError::BatchSize));
    }
}
