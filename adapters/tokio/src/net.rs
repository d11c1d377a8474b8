//! Transports: tokio TCP, and tokio-rustls over it for `wss://` (webpki roots or a custom CA,
//! the same settings as pusher-std). Failures carry pusher-std's typed `ConnectError`.

use std::sync::Arc;
use std::time::Duration;

use pusher_std::connect_error::ConnectError;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// An open connection: plain or TLS.
pub(crate) trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// Opens connections to one host.
pub(crate) struct Connector {
    pub(crate) host: String,
    pub(crate) ws_port: u16,
    pub(crate) wss_port: u16,
    pub(crate) timeout: Duration,
    pub(crate) tls: Arc<ClientConfig>,
}

impl Connector {
    /// Opens a connection (`wss://` when `tls`), the TCP connect and the TLS handshake each
    /// within the timeout.
    pub(crate) async fn open(&self, tls: bool) -> Result<Box<dyn Conn>, ConnectError> {
        let port = if tls { self.wss_port } else { self.ws_port };
        let addrs: Vec<_> = tokio::net::lookup_host((self.host.as_str(), port))
            .await
            .map_err(|e| ConnectError::Dns {
                host: self.host.clone(),
                message: e.to_string(),
            })?
            .collect();
        let mut last = ConnectError::Dns {
            host: self.host.clone(),
            message: "no address".into(),
        };
        let mut tcp = None;
        for addr in addrs {
            match tokio::time::timeout(self.timeout, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => {
                    tcp = Some(s);
                    break;
                }
                Ok(Err(e)) => last = ConnectError::tcp(e, &addr.to_string()),
                Err(_) => {
                    last = ConnectError::Timeout {
                        during: "TCP connect",
                    }
                }
            }
        }
        let tcp = tcp.ok_or(last)?;
        let _ = tcp.set_nodelay(true);
        if !tls {
            return Ok(Box::new(tcp));
        }
        let name = ServerName::try_from(self.host.clone())
            .map_err(|e| ConnectError::Tls(format!("{}: {e}", self.host)))?;
        let handshake = TlsConnector::from(self.tls.clone()).connect(name, tcp);
        match tokio::time::timeout(self.timeout, handshake).await {
            Ok(Ok(s)) => Ok(Box::new(s)),
            Ok(Err(e)) => Err(ConnectError::tls(e)),
            Err(_) => Err(ConnectError::Timeout {
                during: "TLS handshake",
            }),
        }
    }
}
