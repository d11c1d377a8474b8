//! wss:// through embedded-tls (TLS 1.3, AES-128-GCM): a [`TlsConnector`] wraps a
//! [`TcpConnector`] and the caller's two record buffers, and verifies the server's
//! certificate against a CA the app trusts (or, explicitly, not at all).

use core::fmt;

use embedded_io_async::{ErrorKind, ErrorType, Read, Write};
use embedded_tls::pki::CertVerifier;
use embedded_tls::{
    Aes128GcmSha256, Certificate, CryptoProvider, CryptoRngCore, NoClock, TlsClock, TlsConfig,
    TlsConnection, TlsContext, TlsVerifier,
};

use crate::connect::{Close, Connect};
use crate::net::{NetError, TcpConn, TcpConnector};

/// How the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify<'d> {
    /// The chain must lead to this CA certificate (DER), and name the host. ECDSA P-256 chains
    /// are supported (embedded-tls's `rustpki`); RSA ones under the `tls-rsa` feature,
    /// P-384 ones under `tls-p384`. Give the root that signed the last certificate the server sends (an
    /// intermediate pins only if the server sends the leaf alone).
    Ca(&'d [u8]),
    /// No verification: anyone on the path can read and forge traffic. For lab use only.
    Nothing,
}

/// Why a TLS connection could not be opened.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TlsError {
    /// The TCP connection failed.
    Net(NetError),
    /// The TLS handshake failed (including a certificate that did not verify).
    Handshake(embedded_tls::TlsError),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Net(e) => e.fmt(f),
            TlsError::Handshake(e) => {
                f.write_str("TLS handshake failed: ")?;
                handshake_failure(e, f)
            }
        }
    }
}

/// Says what an embedded-tls handshake error means for the app (its own `Display` is its
/// variant's name).
fn handshake_failure(e: &embedded_tls::TlsError, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use embedded_tls::TlsError as E;
    match e {
        E::InvalidCertificate => f.write_str(
            "the server's certificate does not verify (its chain does not lead to the trusted \
             root, it names another host, or it is outside its validity period)",
        ),
        E::InvalidSignatureScheme => f.write_str(
            "the server's chain or handshake uses an algorithm this build leaves out (RSA needs \
             the `tls-rsa` feature, P-384 `tls-p384`)",
        ),
        E::InvalidSignature => f.write_str("the server's handshake signature does not verify"),
        E::InsufficientSpace | E::OutOfMemory => f.write_str(
            "a buffer is too small (the certificate chain for CERT, or a record for the \
             record buffers)",
        ),
        E::HandshakeAborted(_, why) | E::AbortHandshake(_, why) => {
            write!(f, "aborted with the alert {why:?}")
        }
        E::ConnectionClosed => f.write_str("the server closed the connection"),
        other => write!(f, "{other:?}"),
    }
}

impl core::error::Error for TlsError {}

/// A read or write failure on a [`MaybeTls`] connection.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StreamError {
    /// On plain TCP.
    Tcp(embassy_net::tcp::Error),
    /// In TLS.
    Tls(embedded_tls::TlsError),
}

impl embedded_io_async::Error for StreamError {
    fn kind(&self) -> ErrorKind {
        match self {
            StreamError::Tcp(e) => e.kind(),
            StreamError::Tls(e) => e.kind(),
        }
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Tcp(e) => write!(f, "TCP: {e:?}"),
            StreamError::Tls(e) => write!(f, "TLS: {e}"),
        }
    }
}

impl core::error::Error for StreamError {}

/// Randomness and certificate checks for one handshake.
struct Provider<'d, R, K: TlsClock, const CERT: usize> {
    rng: R,
    verifier: Option<CertVerifier<'d, Aes128GcmSha256, K, CERT>>,
}

impl<R: CryptoRngCore, K: TlsClock, const CERT: usize> CryptoProvider for Provider<'_, R, K, CERT> {
    type CipherSuite = Aes128GcmSha256;
    // Client certificates are not used.
    type Signature = &'static [u8];

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut self.rng
    }

    fn verifier(
        &mut self,
    ) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, embedded_tls::TlsError> {
        self.verifier
            .as_mut()
            .ok_or(embedded_tls::TlsError::Unimplemented)
    }
}

/// Opens `wss://` connections (and `ws://` when the client asks for plain ones) over a
/// [`TcpConnector`]. `CERT` bounds the server certificate kept while verifying; `K` is the
/// clock for validity periods (none by default: devices rarely know the date). A device that
/// knows the time (SNTP, an RTC) names its [`TlsClock`](crate::TlsClock) in the type, and
/// certificates outside their validity period are refused:
///
/// ```
/// use pusher_embassy::{TlsClock, TlsConnector};
///
/// /// Unix seconds from the device's RTC, once set.
/// struct Rtc;
/// impl TlsClock for Rtc {
///     fn now() -> Option<u64> {
///         Some(1_800_000_000)
///     }
/// }
/// type Wss<'d, R> = TlsConnector<'d, R, 4096, Rtc>;
/// ```
pub struct TlsConnector<'d, R, const CERT: usize = 2048, K: TlsClock = NoClock> {
    tcp: TcpConnector<'d>,
    read_record: &'d mut [u8],
    write_record: &'d mut [u8],
    verify: Verify<'d>,
    rng: R,
    _clock: core::marker::PhantomData<K>,
}

impl<'d, R: CryptoRngCore, const CERT: usize, K: TlsClock> TlsConnector<'d, R, CERT, K> {
    /// TLS over `tcp`. `read_record` must hold a whole TLS record (16 640 bytes is always
    /// enough; servers that honour max_fragment_length need less), `write_record` at least
    /// the largest frame the client sends plus 29 bytes. `rng` must be a real CSPRNG.
    pub fn new(
        tcp: TcpConnector<'d>,
        read_record: &'d mut [u8],
        write_record: &'d mut [u8],
        verify: Verify<'d>,
        rng: R,
    ) -> Self {
        TlsConnector {
            tcp,
            read_record,
            write_record,
            verify,
            rng,
            _clock: core::marker::PhantomData,
        }
    }
}

impl<R: CryptoRngCore, const CERT: usize, K: TlsClock> Connect for TlsConnector<'_, R, CERT, K> {
    type Error = TlsError;
    type Conn<'c>
        = MaybeTls<'c>
    where
        Self: 'c;

    async fn connect(&mut self, tls: bool) -> Result<MaybeTls<'_>, TlsError> {
        let port = self.tcp.port(tls);
        let host = self.tcp.host();
        let tcp = self.tcp.open(port).await.map_err(TlsError::Net)?;
        if !tls {
            return Ok(MaybeTls::Plain(tcp));
        }
        let mut conn = TlsConnection::new(tcp, self.read_record, self.write_record);
        let config = TlsConfig::new().with_server_name(host);
        let mut provider = Provider::<_, K, CERT> {
            rng: &mut self.rng,
            verifier: match self.verify {
                Verify::Ca(der) => Some(CertVerifier::new(Certificate::X509(der))),
                Verify::Nothing => None,
            },
        };
        conn.open(TlsContext::new(&config, &mut provider))
            .await
            .map_err(TlsError::Handshake)?;
        Ok(MaybeTls::Tls(conn))
    }
}

/// A connection from a [`TlsConnector`]: TLS, or plain TCP for `ws://`.
// One connection exists at a time and lives in the driver's future: no heap to box into.
#[allow(clippy::large_enum_variant)]
pub enum MaybeTls<'c> {
    /// `ws://`.
    Plain(TcpConn<'c>),
    /// `wss://`.
    Tls(TlsConnection<'c, TcpConn<'c>, Aes128GcmSha256>),
    /// Shut down.
    Closed,
}

impl ErrorType for MaybeTls<'_> {
    type Error = StreamError;
}

impl Read for MaybeTls<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        match self {
            MaybeTls::Plain(c) => c.read(buf).await.map_err(StreamError::Tcp),
            MaybeTls::Tls(c) => c.read(buf).await.map_err(StreamError::Tls),
            MaybeTls::Closed => Ok(0),
        }
    }
}

impl Write for MaybeTls<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError> {
        match self {
            MaybeTls::Plain(c) => c.write(buf).await.map_err(StreamError::Tcp),
            MaybeTls::Tls(c) => c.write(buf).await.map_err(StreamError::Tls),
            MaybeTls::Closed => Ok(0),
        }
    }

    async fn flush(&mut self) -> Result<(), StreamError> {
        match self {
            MaybeTls::Plain(c) => c.flush().await.map_err(StreamError::Tcp),
            MaybeTls::Tls(c) => c.flush().await.map_err(StreamError::Tls),
            MaybeTls::Closed => Ok(()),
        }
    }
}

impl Close for MaybeTls<'_> {
    async fn close(&mut self) {
        match core::mem::replace(self, MaybeTls::Closed) {
            MaybeTls::Plain(mut c) => c.close().await,
            // close_notify, then FIN.
            MaybeTls::Tls(c) => {
                let (Ok(mut tcp) | Err((mut tcp, _))) = c.close().await;
                tcp.close().await;
            }
            MaybeTls::Closed => {}
        }
    }
}
