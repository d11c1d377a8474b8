//! TCP and TLS transports for the driver.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use embedded_io_adapters::std::FromStd;
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::connect_error::ConnectError;
use crate::driver::{Connect, Stream};

/// A plain or TLS stream.
pub enum NetStream {
    /// `ws://`
    Plain(FromStd<TcpStream>),
    /// `wss://`
    Tls(Box<FromStd<StreamOwned<ClientConnection, TcpStream>>>),
}

impl embedded_io::ErrorType for NetStream {
    type Error = io::Error;
}

impl embedded_io::Read for NetStream {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        let r = match self {
            NetStream::Plain(s) => s.read(buf),
            NetStream::Tls(s) => s.read(buf),
        };
        // A socket read timeout surfaces as `WouldBlock` on Unix; the driver expects
        // `TimedOut` for "nothing yet".
        r.map_err(|e| {
            if e.kind() == io::ErrorKind::WouldBlock {
                io::Error::from(io::ErrorKind::TimedOut)
            } else {
                e
            }
        })
    }
}

impl embedded_io::Write for NetStream {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        match self {
            NetStream::Plain(s) => s.write(buf),
            NetStream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> Result<(), io::Error> {
        match self {
            NetStream::Plain(s) => s.flush(),
            NetStream::Tls(s) => s.flush(),
        }
    }
}

impl Stream for NetStream {
    fn set_read_timeout(&mut self, timeout: Duration) -> Result<(), io::Error> {
        let tcp = match self {
            NetStream::Plain(s) => s.inner(),
            NetStream::Tls(s) => &s.inner().sock,
        };
        tcp.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
    }
}

/// TLS settings: webpki roots by default, or a custom CA (PEM).
pub fn tls_config(extra_ca_pem: Option<&[u8]>) -> io::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert =
                cert.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            roots
                .add(cert)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| io::Error::other(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The `Host` header value: the port only when it is not the scheme's default.
pub fn host_header(host: &str, port: u16, tls: bool) -> String {
    if port == if tls { 443 } else { 80 } {
        host.to_owned()
    } else {
        format!("{host}:{port}")
    }
}

/// Opens a TCP connection with a timeout, trying each resolved address. Failures carry a
/// [`ConnectError`] (DNS, refused, timeout).
pub fn tcp_connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| ConnectError::Dns {
            host: host.to_owned(),
            message: e.to_string(),
        })?;
    let mut last = ConnectError::Dns {
        host: host.to_owned(),
        message: "no address".into(),
    };
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = ConnectError::tcp(e, &addr.to_string()),
        }
    }
    Err(last.into())
}

/// Wraps a TCP stream in TLS for `host` and completes the handshake within `timeout` (a
/// server that accepts and never answers is a [`ConnectError::Timeout`]). Failures carry a
/// [`ConnectError`] (certificate refused, other TLS errors, timeout).
pub fn tls_wrap(
    tcp: TcpStream,
    host: &str,
    config: Arc<ClientConfig>,
    timeout: Duration,
) -> io::Result<StreamOwned<ClientConnection, TcpStream>> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let conn = ClientConnection::new(config, name).map_err(|e| io::Error::other(e.to_string()))?;
    let limit = Some(timeout.max(Duration::from_millis(1)));
    tcp.set_read_timeout(limit)?;
    tcp.set_write_timeout(limit)?;
    let deadline = std::time::Instant::now() + timeout;
    let mut stream = StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        if std::time::Instant::now() >= deadline {
            return Err(ConnectError::Timeout {
                during: "TLS handshake",
            }
            .into());
        }
        stream
            .conn
            .complete_io(&mut stream.sock)
            .map_err(ConnectError::tls)?;
    }
    stream.sock.set_write_timeout(None)?;
    Ok(stream)
}

/// Connects to `host` on `ws_port` or `wss_port`.
pub struct NetConnector {
    /// Host name (and SNI name for TLS).
    pub host: String,
    /// Port for `ws://`.
    pub ws_port: u16,
    /// Port for `wss://`.
    pub wss_port: u16,
    /// Timeout of the TCP connect, and again of the TLS handshake.
    pub timeout: Duration,
    /// TLS settings.
    pub tls: Arc<ClientConfig>,
}

impl NetConnector {
    /// A connector with default ports (80/443), a 10 s timeout and webpki roots.
    pub fn new(host: &str) -> io::Result<Self> {
        Ok(NetConnector {
            host: host.to_owned(),
            ws_port: 80,
            wss_port: 443,
            timeout: Duration::from_secs(10),
            tls: tls_config(None)?,
        })
    }
}

impl Connect for NetConnector {
    type Stream = NetStream;

    fn connect(&mut self, tls: bool) -> io::Result<NetStream> {
        let port = if tls { self.wss_port } else { self.ws_port };
        let tcp = tcp_connect(&self.host, port, self.timeout)?;
        if tls {
            let stream = tls_wrap(tcp, &self.host, self.tls.clone(), self.timeout)?;
            Ok(NetStream::Tls(Box::new(FromStd::new(stream))))
        } else {
            Ok(NetStream::Plain(FromStd::new(tcp)))
        }
    }
}
