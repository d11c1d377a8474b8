//! REST API request signing (auth_version 1.0).
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

use md5::{Digest, Md5};

use super::error::RestError;
use crate::auth::{Credentials, Signature};
use crate::buf::Writer;

const RESERVED: [&str; 5] = [
    "auth_key",
    "auth_timestamp",
    "auth_version",
    "auth_signature",
    "body_md5",
];

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
