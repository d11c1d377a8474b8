//! Why a connection attempt failed, typed: the connector wraps it in the `io::Error` it
//! returns (so the driver's `Connect` contract stays `io::Result`), and the client reports it
//! with the retry decision.

use std::fmt;
use std::io;

/// Why opening a connection failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectError {
    /// The host name did not resolve.
    Dns {
        /// The name looked up.
        host: String,
        /// The resolver's words.
        message: String,
    },
    /// Nothing listens there: the connection was refused.
    Refused {
        /// `host:port`.
        addr: String,
    },
    /// No answer within the connect timeout.
    Timeout {
        /// `TCP connect` or `TLS handshake`.
        during: &'static str,
    },
    /// The server's TLS certificate was not accepted (another CA, another name, expired).
    Certificate(String),
    /// The TLS handshake failed otherwise.
    Tls(String),
    /// Any other transport error.
    Io {
        /// Its kind.
        kind: io::ErrorKind,
        /// Its text.
        message: String,
    },
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Dns { host, message } => {
                write!(f, "cannot resolve {host}: {message}")
            }
            ConnectError::Refused { addr } => {
                write!(f, "connection refused by {addr} (is the server running?)")
            }
            ConnectError::Timeout { during } => write!(f, "{during} timed out"),
            ConnectError::Certificate(m) => write!(f, "TLS certificate not accepted: {m}"),
            ConnectError::Tls(m) => write!(f, "TLS handshake failed: {m}"),
            ConnectError::Io { message, .. } => write!(f, "connect failed: {message}"),
        }
    }
}

impl std::error::Error for ConnectError {}

impl From<ConnectError> for io::Error {
    fn from(e: ConnectError) -> io::Error {
        let kind = match &e {
            ConnectError::Dns { .. } => io::ErrorKind::NotFound,
            ConnectError::Refused { .. } => io::ErrorKind::ConnectionRefused,
            ConnectError::Timeout { .. } => io::ErrorKind::TimedOut,
            ConnectError::Certificate(_) | ConnectError::Tls(_) => io::ErrorKind::InvalidData,
            ConnectError::Io { kind, .. } => *kind,
        };
        io::Error::new(kind, e)
    }
}

impl ConnectError {
    /// The typed cause inside an `io::Error` from a connector (any other error as `Io`).
    pub fn of(e: &io::Error) -> ConnectError {
        match e.get_ref().and_then(|r| r.downcast_ref::<ConnectError>()) {
            Some(c) => c.clone(),
            None => ConnectError::Io {
                kind: e.kind(),
                message: e.to_string(),
            },
        }
    }

    /// A TCP connect error for `addr`.
    pub fn tcp(e: io::Error, addr: &str) -> ConnectError {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => ConnectError::Refused {
                addr: addr.to_owned(),
            },
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ConnectError::Timeout {
                during: "TCP connect",
            },
            kind => ConnectError::Io {
                kind,
                message: format!("{addr}: {e}"),
            },
        }
    }

    /// A TLS handshake error: rustls's certificate errors apart from the rest.
    pub fn tls(e: io::Error) -> ConnectError {
        if matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        ) {
            return ConnectError::Timeout {
                during: "TLS handshake",
            };
        }
        match e.get_ref().and_then(|r| r.downcast_ref::<rustls::Error>()) {
            Some(rustls::Error::InvalidCertificate(c)) => ConnectError::Certificate(match c {
                rustls::CertificateError::UnknownIssuer => {
                    "issued by a CA this client does not trust (UnknownIssuer; a private CA goes in `ca_pem`)".into()
                }
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. } => {
                    format!("not issued for this host name ({c})")
                }
                rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. } => {
                    format!("expired ({c})")
                }
                other => other.to_string(),
            }),
            Some(other) => ConnectError::Tls(other.to_string()),
            None => ConnectError::Tls(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typed_cause_survives_the_io_error() {
        let e: io::Error = ConnectError::Refused {
            addr: "127.0.0.1:1".into(),
        }
        .into();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(
            ConnectError::of(&e),
            ConnectError::Refused {
                addr: "127.0.0.1:1".into()
            }
        );
        let plain = io::Error::other("x");
        assert!(matches!(ConnectError::of(&plain), ConnectError::Io { .. }));
    }

    #[test]
    fn tls_errors_are_told_apart() {
        let cert = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert!(matches!(
            ConnectError::tls(cert),
            ConnectError::Certificate(_)
        ));
        assert_eq!(
            ConnectError::tls(io::Error::from(io::ErrorKind::WouldBlock)),
            ConnectError::Timeout {
                during: "TLS handshake"
            }
        );
    }
}
