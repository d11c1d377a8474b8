//! The server's side of REST request signing: the query decoded, `auth_key`, `auth_version`,
//! the `auth_timestamp` window and `body_md5` checked, and `auth_signature` compared in constant
//! time with the one the request should carry.

use core::fmt;

use md5::{Digest, Md5};

use crate::auth::Credentials;
use crate::rest::{Request, sign, write_string_to_sign};

/// How far `auth_timestamp` may be from the server's clock, in seconds (Pusher's window).
pub const TIMESTAMP_WINDOW: u64 = 600;

/// A REST request as it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestRequest<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The path, e.g. `/apps/3/events`.
    pub path: &'a str,
    /// The raw (percent-encoded) query string, without `?`.
    pub query: &'a str,
    /// The exact body bytes (empty for GET).
    pub body: &'a [u8],
}

/// Why a REST request was refused; [`status`](RestRefusal::status) is the HTTP status and
/// `Display` the body Pusher sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RestRefusal<'s> {
    /// The query is not `k=v&...` of percent-encoded UTF-8, names a key twice, or holds a key
    /// that is not `A-Za-z0-9_-.[]`.
    MalformedQuery,
    /// More query parameters than the verifier has room for.
    TooManyParams,
    /// The scratch buffer is too small for the decoded query.
    BufferTooSmall,
    /// A required parameter is missing.
    Missing(&'static str),
    /// `auth_key` is not this app's key.
    UnknownKey,
    /// `auth_version` is not `1.0`.
    UnsupportedVersion,
    /// `auth_timestamp` is not within [`TIMESTAMP_WINDOW`] of the server's clock.
    TimestampExpired {
        /// The request's timestamp.
        given: u64,
        /// The server's clock.
        now: u64,
    },
    /// `body_md5` does not match the body.
    BodyMd5Mismatch,
    /// `auth_signature` is wrong; `expected_string` is what should have been signed.
    BadSignature {
        /// The string to sign, for the error message.
        expected_string: &'s str,
        /// The signature sent.
        given: &'s str,
    },
}

impl RestRefusal<'_> {
    /// The HTTP status Pusher answers with: 400 for a malformed request, 401 for auth failures.
    pub fn status(&self) -> u16 {
        match self {
            RestRefusal::MalformedQuery | RestRefusal::TooManyParams => 400,
            RestRefusal::BufferTooSmall => 413,
            _ => 401,
        }
    }
}

impl fmt::Display for RestRefusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestRefusal::MalformedQuery => f.write_str("Malformed query string"),
            RestRefusal::TooManyParams => f.write_str("Too many query parameters"),
            RestRefusal::BufferTooSmall => f.write_str("Query string too long"),
            RestRefusal::Missing(name) => write!(f, "Missing parameter: {name}"),
            RestRefusal::UnknownKey => f.write_str("Unknown auth_key"),
            RestRefusal::UnsupportedVersion => f.write_str("Unsupported auth_version (use 1.0)"),
            RestRefusal::TimestampExpired { given, now } => write!(
                f,
                "Timestamp expired: Given timestamp ({given}) not within {TIMESTAMP_WINDOW}s of server time ({now})"
            ),
            RestRefusal::BodyMd5Mismatch => f.write_str("body_md5 does not match the body"),
            RestRefusal::BadSignature {
                expected_string,
                given,
            } => write!(
                f,
                "Invalid signature: you should have sent HmacSHA256Hex({expected_string:?}, your_secret_key), but you sent \"{given}\""
            ),
        }
    }
}

impl core::error::Error for RestRefusal<'_> {}

/// The request's own parameters (the `auth_*` and `body_md5` ones taken out), decoded; room
/// for `N` in all.
#[derive(Debug, Clone, Copy)]
pub struct Query<'s, const N: usize> {
    pairs: [(&'s str, &'s str); N],
    len: usize,
}

impl<'s, const N: usize> Query<'s, N> {
    /// The value of `key` (exact match), if present.
    pub fn get(&self, key: &str) -> Option<&'s str> {
        self.params()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// Every parameter, in the order sent.
    pub fn params(&self) -> &[(&'s str, &'s str)] {
        self.pairs.get(..self.len).unwrap_or(&[])
    }
}

/// Verifies a signed REST request at Unix time `now` and returns its other parameters. `N`
/// bounds the query's parameters (the five `auth_*`/`body_md5` ones included); `scratch` takes
/// the decoded query and, on a bad signature, the string that should have been signed (the
/// query's length plus the path and 80 bytes always suffices).
///
/// ```
/// use pusher_core::auth::Credentials;
/// use pusher_core::server::{RestRequest, verify_rest};
/// // protocol.md 7.5, H4 (GO request_url_test.go).
/// let creds = Credentials::new("d41a439c438a100756f5", "4bf35003e819bb138249");
/// let req = RestRequest {
///     method: "GET",
///     path: "/apps/102015/channels",
///     query: "auth_key=d41a439c438a100756f5&auth_timestamp=1427036787&auth_version=1.0\
///             &auth_signature=df89248f87f6e6d028925e0b04d60f316527a865992ace6936afa91281d8bef0",
///     body: b"",
/// };
/// let mut scratch = [0u8; 512];
/// let query = verify_rest::<8>(&creds, &req, 1427036787 + 30, &mut scratch).unwrap();
/// assert!(query.params().is_empty());
/// ```
pub fn verify_rest<'s, const N: usize>(
    creds: &Credentials<'_>,
    req: &RestRequest<'_>,
    now: u64,
    scratch: &'s mut [u8],
) -> Result<Query<'s, N>, RestRefusal<'s>> {
    let mut rest: &'s mut [u8] = scratch;
    let mut user = Query {
        pairs: [("", ""); N],
        len: 0,
    };
    let mut seen = 0usize;
    let (mut key, mut timestamp, mut version, mut signature, mut md5) =
        (None, None, None, None, None);
    for pair in req.query.split('&').filter(|p| !p.is_empty()) {
        seen += 1;
        if seen > N {
            return Err(RestRefusal::TooManyParams);
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k, &mut rest)?;
        let v = percent_decode(v, &mut rest)?;
        let slot = match k {
            "auth_key" => &mut key,
            "auth_timestamp" => &mut timestamp,
            "auth_version" => &mut version,
            "auth_signature" => &mut signature,
            "body_md5" => &mut md5,
            _ => {
                if user.get(k).is_some() {
                    return Err(RestRefusal::MalformedQuery);
                }
                let entry = user
                    .pairs
                    .get_mut(user.len)
                    .ok_or(RestRefusal::TooManyParams)?;
                *entry = (k, v);
                user.len += 1;
                continue;
            }
        };
        if slot.replace(v).is_some() {
            return Err(RestRefusal::MalformedQuery);
        }
    }
    if key.ok_or(RestRefusal::Missing("auth_key"))? != creds.key() {
        return Err(RestRefusal::UnknownKey);
    }
    let timestamp = timestamp.ok_or(RestRefusal::Missing("auth_timestamp"))?;
    if version.ok_or(RestRefusal::Missing("auth_version"))? != "1.0" {
        return Err(RestRefusal::UnsupportedVersion);
    }
    let given = signature.ok_or(RestRefusal::Missing("auth_signature"))?;
    let timestamp: u64 = timestamp
        .parse()
        .map_err(|_| RestRefusal::Missing("auth_timestamp"))?;
    if timestamp.abs_diff(now) > TIMESTAMP_WINDOW {
        return Err(RestRefusal::TimestampExpired {
            given: timestamp,
            now,
        });
    }
    let has_body = !req.body.is_empty();
    match md5 {
        None if has_body => return Err(RestRefusal::Missing("body_md5")),
        None => {}
        Some(hex) => {
            let digest: [u8; 16] = Md5::digest(req.body).into();
            let mut want = [0u8; 32];
            for (pair, byte) in want.chunks_exact_mut(2).zip(digest) {
                pair.copy_from_slice(&crate::buf::hex_pair(byte));
            }
            if !hex.as_bytes().eq_ignore_ascii_case(&want) {
                return Err(RestRefusal::BodyMd5Mismatch);
            }
        }
    }
    let request = Request {
        method: req.method,
        path: req.path,
        params: user.params(),
        // `body_md5` is signed whenever it was sent (the Python library sends it on GET too).
        body: md5.map(|_| req.body),
        timestamp,
    };
    let expected = sign(creds, &request).map_err(|_| RestRefusal::MalformedQuery)?;
    if !crate::buf::ct_eq(&expected.to_hex(), given.as_bytes()) {
        let expected_string = write_string_to_sign(rest, creds, &request).unwrap_or("");
        return Err(RestRefusal::BadSignature {
            expected_string,
            given,
        });
    }
    Ok(user)
}

/// Decodes one `%XX`/`+` encoded query component into the front of `buf`.
fn percent_decode<'s>(text: &str, buf: &mut &'s mut [u8]) -> Result<&'s str, RestRefusal<'s>> {
    let taken = core::mem::take(buf);
    let (slot, rest) = taken
        .split_at_mut_checked(text.len())
        .ok_or(RestRefusal::BufferTooSmall)?;
    *buf = rest;
    let bytes = text.as_bytes();
    let (mut i, mut o) = (0, 0);
    while let Some(&b) = bytes.get(i) {
        let (byte, used) = match b {
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|&h| crate::buf::hex_value(h));
                let lo = bytes.get(i + 2).and_then(|&l| crate::buf::hex_value(l));
                match (hi, lo) {
                    (Some(hi), Some(lo)) => (hi << 4 | lo, 3),
                    _ => return Err(RestRefusal::MalformedQuery),
                }
            }
            b'+' => (b' ', 1),
            b => (b, 1),
        };
        *slot.get_mut(o).ok_or(RestRefusal::BufferTooSmall)? = byte;
        o += 1;
        i += used;
    }
    let decoded = slot.get(..o).ok_or(RestRefusal::BufferTooSmall)?;
    core::str::from_utf8(decoded).map_err(|_| RestRefusal::MalformedQuery)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<'s>(
        creds: &Credentials<'_>,
        req: &RestRequest<'_>,
        now: u64,
        scratch: &'s mut [u8],
    ) -> Result<Query<'s, 12>, RestRefusal<'s>> {
        verify_rest::<12>(creds, req, now, scratch)
    }

    #[test]
    fn official_vectors_pass() {
        // protocol.md 7.5 H1: POST with a body.
        let creds = Credentials::new("278d425bdf160c739803", "7ad3773142a6692b25b8");
        let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
        let req = RestRequest {
            method: "POST",
            path: "/apps/3/events",
            query: "auth_key=278d425bdf160c739803&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f",
            body,
        };
        let mut s = [0u8; 1024];
        assert!(check(&creds, &req, 1353088179, &mut s).is_ok());
        // H2: escaped parameters and `info`.
        let creds = Credentials::new("d41a439c438a100756f5", "4bf35003e819bb138249");
        let req = RestRequest {
            method: "GET",
            path: "/apps/102015/channels",
            query: "auth_key=d41a439c438a100756f5&auth_signature=4d8a02edcc8a758b0162cd6da690a9a45fb8ae326a276dca1e06a0bc42796c11&auth_timestamp=1427034994&auth_version=1.0&filter_by_prefix=presence-&info=user%5Fcount",
            body: b"",
        };
        let q = check(&creds, &req, 1427034994 + 599, &mut s).unwrap();
        assert_eq!(q.get("filter_by_prefix"), Some("presence-"));
        assert_eq!(q.get("info"), Some("user_count"));
        // H7: the Python library's body_md5 of an empty GET body is signed too.
        let creds = Credentials::new("key", "secret");
        let req = RestRequest {
            method: "GET",
            path: "/some/obscure/api",
            query: "foo=bar&auth_key=key&auth_timestamp=1000&auth_version=1.0&body_md5=d41d8cd98f00b204e9800998ecf8427e&auth_signature=5c49f04a95eedc9028b1e0e8de7c2c7ad63504a0e3b5c145d2accaef6c14dbac",
            body: b"",
        };
        assert_eq!(
            check(&creds, &req, 1000, &mut s).unwrap().get("foo"),
            Some("bar")
        );
    }

    #[test]
    fn refusals_name_the_cause() {
        let creds = Credentials::new("key", "secret");
        let good = "foo=bar&auth_key=key&auth_timestamp=1000&auth_version=1.0&body_md5=d41d8cd98f00b204e9800998ecf8427e&auth_signature=5c49f04a95eedc9028b1e0e8de7c2c7ad63504a0e3b5c145d2accaef6c14dbac";
        fn req(query: &str) -> RestRequest<'_> {
            RestRequest {
                method: "GET",
                path: "/some/obscure/api",
                query,
                body: b"",
            }
        }
        let mut s = [0u8; 1024];
        assert_eq!(
            check(&creds, &req(good), 1601, &mut s).unwrap_err(),
            RestRefusal::TimestampExpired {
                given: 1000,
                now: 1601
            }
        );
        let wrong_key = good.replace("auth_key=key", "auth_key=nope");
        assert_eq!(
            check(&creds, &req(&wrong_key), 1000, &mut s).unwrap_err(),
            RestRefusal::UnknownKey
        );
        let tampered = good.replace("foo=bar", "foo=baz");
        let err = check(&creds, &req(&tampered), 1000, &mut s).unwrap_err();
        assert_eq!(err.status(), 401);
        let text = std::format!("{err}");
        assert!(text.contains(r#"HmacSHA256Hex("GET\n/some/obscure/api\nauth_key=key&auth_timestamp=1000&auth_version=1.0&body_md5=d41d8cd98f00b204e9800998ecf8427e&foo=baz""#), "{text}");
        let no_sig = good.split("&auth_signature").next().unwrap();
        assert_eq!(
            check(&creds, &req(no_sig), 1000, &mut s).unwrap_err(),
            RestRefusal::Missing("auth_signature")
        );
        let twice = std::format!("{good}&foo=bar");
        assert_eq!(
            check(&creds, &req(&twice), 1000, &mut s).unwrap_err(),
            RestRefusal::MalformedQuery
        );
        for bad in ["%zz=1", "a=%e9", "a=%4"] {
            let q = std::format!("{good}&{bad}");
            assert_eq!(
                check(&creds, &req(&q), 1000, &mut s).unwrap_err().status(),
                400,
                "{bad}"
            );
        }
        let post = RestRequest {
            method: "POST",
            path: "/some/obscure/api",
            query: good,
            body: b"{}",
        };
        assert_eq!(
            check(&creds, &post, 1000, &mut s).unwrap_err(),
            RestRefusal::BodyMd5Mismatch
        );
        let many: std::string::String = (0..20).map(|i| std::format!("a{i}=1&")).collect();
        assert_eq!(
            check(&creds, &req(&many), 1000, &mut s).unwrap_err(),
            RestRefusal::TooManyParams
        );
        assert_eq!(
            check(&creds, &req(good), 1000, &mut s[..20]).unwrap_err(),
            RestRefusal::BufferTooSmall
        );
    }
}
