//! Reading a REST response: the status, and the body by Content-Length, chunked or to the end.

use core::fmt;

use crate::buf::{Status, Writer};

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
