//! The HTTP/1.1 message head, as far as a WebSocket upgrade and a REST response need it: a
//! start line, then `name: value` lines, then an empty line. Written out rather than using
//! `httparse`, whose SIMD scanning keeps panic paths the link-time check (`panic-check/`)
//! rejects. The handshake and the REST response parser both build on it.

use core::fmt;

use crate::buf::Status;

/// Most headers accepted in one head.
pub const MAX_HEADERS: usize = 24;

/// Why a head is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HttpError {
    /// Not a well-formed HTTP/1.1 head (or longer than [`MAX_HEAD`]).
    Malformed,
    /// More than [`MAX_HEADERS`] headers.
    TooManyHeaders,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HttpError::Malformed => "malformed HTTP head",
            HttpError::TooManyHeaders => "too many HTTP headers",
        })
    }
}

impl core::error::Error for HttpError {}

/// Longest head accepted (larger is `Malformed`, so a peer cannot make us wait forever).
pub const MAX_HEAD: usize = 8 * 1024;

/// A parsed head: the three parts of the start line and the header block.
pub(crate) struct Head<'a> {
    pub(crate) start: [&'a [u8]; 3],
    block: &'a [u8],
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Finds the end of the head; checks the start line and every header line.
pub(crate) fn parse(buf: &[u8]) -> Result<Status<Head<'_>>, HttpError> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        // Reject early what can never become a head.
        if buf.len() > MAX_HEAD || buf.contains(&0) {
            return Err(HttpError::Malformed);
        }
        return Ok(Status::Partial);
    };
    if end > MAX_HEAD {
        return Err(HttpError::Malformed);
    }
    let head = buf.get(..end).ok_or(HttpError::Malformed)?;
    let (line, block) = match head.windows(2).position(|w| w == b"\r\n") {
        Some(i) => (
            head.get(..i).unwrap_or(&[]),
            head.get(i + 2..).unwrap_or(&[]),
        ),
        None => (head, &[][..]),
    };
    let mut parts = line.splitn(3, |b| *b == b' ');
    let start = [
        parts.next().unwrap_or(&[]),
        parts.next().unwrap_or(&[]),
        parts.next().unwrap_or(&[]),
    ];
    if start.iter().take(2).any(|p| p.is_empty()) || line.iter().any(|b| b.is_ascii_control()) {
        return Err(HttpError::Malformed);
    }
    let h = Head { start, block };
    let mut count = 0;
    for header in h.headers() {
        header?;
        count += 1;
        if count > MAX_HEADERS {
            return Err(HttpError::TooManyHeaders);
        }
    }
    Ok(Status::Complete(h, end + 4))
}

impl<'a> Head<'a> {
    /// `(name, value)` pairs, values trimmed.
    pub(crate) fn headers(
        &self,
    ) -> impl Iterator<Item = Result<(&'a [u8], &'a [u8]), HttpError>> + 'a {
        let block = self.block;
        block
            .split(|b| *b == b'\n')
            .filter(move |_| !block.is_empty())
            .map(|line| {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let colon = line
                    .iter()
                    .position(|b| *b == b':')
                    .ok_or(HttpError::Malformed)?;
                let name = line.get(..colon).unwrap_or(&[]);
                let value = line.get(colon + 1..).unwrap_or(&[]).trim_ascii();
                if name.is_empty()
                    || !name.iter().all(|b| is_tchar(*b))
                    || value.iter().any(|b| *b < 0x20 && *b != b'\t')
                {
                    return Err(HttpError::Malformed);
                }
                Ok((name, value))
            })
    }

    /// The status code of a response (`HTTP/1.x NNN reason`).
    pub(crate) fn status(&self) -> Result<u16, HttpError> {
        let [version, code, _] = self.start;
        if !version.starts_with(b"HTTP/1.")
            || code.len() != 3
            || !code.iter().all(u8::is_ascii_digit)
        {
            return Err(HttpError::Malformed);
        }
        Ok(code
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        let Ok(Status::Complete(h, n)) =
            parse(b"HTTP/1.1 101 Switching Protocols\r\nA: b\r\nC:d \r\n\r\nrest")
        else {
            panic!("complete")
        };
        assert_eq!(n, 48);
        assert_eq!(h.status(), Ok(101));
        let hs: std::vec::Vec<_> = h.headers().map(Result::unwrap).collect();
        assert_eq!(hs, [(&b"A"[..], &b"b"[..]), (&b"C"[..], &b"d"[..])]);
        assert!(matches!(
            parse(b"HTTP/1.1 101 OK\r\nA: b\r\n"),
            Ok(Status::Partial)
        ));
        assert!(matches!(
            parse(b"HTTP/1.1 101 OK\r\nbad header\r\n\r\n"),
            Err(HttpError::Malformed)
        ));
        assert!(matches!(
            parse(b"HTTP/1.1 101 OK\r\n: x\r\n\r\n"),
            Err(HttpError::Malformed)
        ));
        assert!(matches!(
            parse(b"garbage\r\n\r\n"),
            Err(HttpError::Malformed)
        ));
        let Ok(Status::Complete(h, _)) = parse(b"HTTP/1.1 9x9 OK\r\n\r\n") else {
            panic!()
        };
        assert_eq!(h.status(), Err(HttpError::Malformed));
        assert!(matches!(
            parse(&[b'a'; MAX_HEAD + 1]),
            Err(HttpError::Malformed)
        ));
    }
}
