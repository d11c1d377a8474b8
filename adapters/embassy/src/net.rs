//! Opening embassy-net TCP connections: resolve the host (an IPv4 literal, or DNS under the
//! `dns` feature), connect a [`TcpSocket`] over the caller's socket buffers.

use core::fmt;
use core::net::Ipv4Addr;

use embassy_net::tcp::{ConnectError, TcpSocket};
use embassy_net::{IpAddress, Stack};
use embassy_time::Duration;
use embedded_io_async::{ErrorType, Read, Write};

use crate::connect::{Close, Connect};

/// Why a TCP connection could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NetError {
    /// The host is a name and the stack has no DNS (enable the `dns` feature).
    NoDns,
    /// DNS found no address.
    Dns,
    /// The TCP connection failed.
    Connect(ConnectError),
    /// `wss://` was asked of a plain TCP connector (wrap it in a `TlsConnector`).
    TlsUnavailable,
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::NoDns => f.write_str("host is a name and DNS is not enabled"),
            NetError::Dns => f.write_str("DNS lookup failed"),
            NetError::Connect(e) => f.write_str(match e {
                ConnectError::ConnectionReset => {
                    "TCP connect refused (nothing listens on that port, or the host reset it)"
                }
                ConnectError::TimedOut => "TCP connect timed out (no answer from the host)",
                ConnectError::NoRoute => "TCP connect failed: no route to the host",
                ConnectError::InvalidState => "TCP connect failed: the socket was in use",
            }),
            NetError::TlsUnavailable => f.write_str("TLS requested without a TLS connector"),
        }
    }
}

impl core::error::Error for NetError {}

/// Opens TCP connections to one host through an embassy-net stack, reusing the caller's
/// socket buffers for each connection.
pub struct TcpConnector<'d> {
    stack: Stack<'d>,
    rx: &'d mut [u8],
    tx: &'d mut [u8],
    host: &'d str,
    ws_port: u16,
    wss_port: u16,
    timeout: Option<Duration>,
}

impl<'d> TcpConnector<'d> {
    /// Connects to `host` (an IPv4 address, or a name when DNS is enabled) on ports 80 / 443.
    /// `rx` and `tx` are the socket's buffers (1-4 KiB each is plenty for Pusher).
    pub fn new(stack: Stack<'d>, host: &'d str, rx: &'d mut [u8], tx: &'d mut [u8]) -> Self {
        TcpConnector {
            stack,
            rx,
            tx,
            host,
            ws_port: 80,
            wss_port: 443,
            timeout: Some(Duration::from_secs(60)),
        }
    }

    /// Other ports for `ws://` and `wss://`.
    pub fn with_ports(mut self, ws: u16, wss: u16) -> Self {
        self.ws_port = ws;
        self.wss_port = wss;
        self
    }

    /// How long an unacknowledged connection may stay silent before TCP gives up (the client
    /// has its own, shorter, liveness checks).
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// The host this connector dials.
    pub fn host(&self) -> &'d str {
        self.host
    }

    /// Opens a plain TCP connection on `port`.
    pub async fn open(&mut self, port: u16) -> Result<TcpConn<'_>, NetError> {
        let address = resolve(self.stack, self.host).await?;
        let mut socket = TcpSocket::new(self.stack, self.rx, self.tx);
        socket.set_timeout(self.timeout);
        socket
            .connect((address, port))
            .await
            .map_err(NetError::Connect)?;
        Ok(TcpConn { socket })
    }

    /// The port for `ws://` or `wss://`.
    pub fn port(&self, tls: bool) -> u16 {
        if tls { self.wss_port } else { self.ws_port }
    }
}

impl Connect for TcpConnector<'_> {
    type Error = NetError;
    type Conn<'c>
        = TcpConn<'c>
    where
        Self: 'c;

    async fn connect(&mut self, tls: bool) -> Result<TcpConn<'_>, NetError> {
        if tls {
            return Err(NetError::TlsUnavailable);
        }
        let port = self.port(false);
        self.open(port).await
    }
}

async fn resolve(stack: Stack<'_>, host: &str) -> Result<IpAddress, NetError> {
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return Ok(IpAddress::Ipv4(v4));
    }
    #[cfg(feature = "dns")]
    {
        let found = stack
            .dns_query(host, embassy_net::dns::DnsQueryType::A)
            .await
            .map_err(|_| NetError::Dns)?;
        found.first().copied().ok_or(NetError::Dns)
    }
    #[cfg(not(feature = "dns"))]
    {
        let _ = stack;
        Err(NetError::NoDns)
    }
}

/// An open TCP connection.
pub struct TcpConn<'c> {
    socket: TcpSocket<'c>,
}

impl<'c> TcpConn<'c> {
    /// The socket.
    pub fn socket(&mut self) -> &mut TcpSocket<'c> {
        &mut self.socket
    }
}

impl ErrorType for TcpConn<'_> {
    type Error = embassy_net::tcp::Error;
}

impl Read for TcpConn<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.socket.read(buf).await
    }
}

impl Write for TcpConn<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.socket.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.socket.flush().await
    }
}

impl Close for TcpConn<'_> {
    async fn close(&mut self) {
        // FIN, then wait (bounded by the socket timeout) until the peer has everything.
        self.socket.close();
        let _ = self.socket.flush().await;
    }
}
