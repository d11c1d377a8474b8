//! Asking the app's backend to sign, as pusher-js does: a form POST of `socket_id` and
//! `channel_name` over a second connection (plain or TLS, from any [`Connect`]or), written
//! and read by the core's [`auth_endpoint`](pusher_core::auth_endpoint). Devices then hold
//! no app secret; the backend decides who may join what.

use embedded_io_async::{Read, Write};
use pusher_core::Status;
use pusher_core::auth_endpoint::{self, AnswerError, Endpoint};
use pusher_core::name::{ChannelName, SocketId};

use crate::auth::{AuthError, Authorizer, ChannelGrant, UserGrant};
use crate::connect::{Close, Connect};
use crate::fmt::debug;

/// Signs through the app's auth endpoint. `BUF` bytes hold the request and then the response
/// (its head and body; 1 KiB fits the usual answers, presence `channel_data` included),
/// `TOKEN` bytes the decoded grant (the body's length suffices; twice that if the backend
/// answers chunked).
///
/// ```no_run
/// use pusher_embassy::pusher_core::auth_endpoint::Endpoint;
/// use pusher_embassy::{Connect, HttpAuthorizer};
///
/// fn authorizer<C: Connect>(backend: C) -> HttpAuthorizer<'static, C> {
///     let endpoint = Endpoint::new("192.168.1.10:3000", "/pusher/auth").expect("valid");
///     HttpAuthorizer::new(backend, endpoint)
/// }
/// ```
pub struct HttpAuthorizer<'a, C, const BUF: usize = 1024, const TOKEN: usize = 512> {
    connector: C,
    endpoint: Endpoint<'a>,
    user_endpoint: Option<Endpoint<'a>>,
    tls: bool,
    buf: [u8; BUF],
    token: [u8; TOKEN],
}

impl<'a, C: Connect, const BUF: usize, const TOKEN: usize> HttpAuthorizer<'a, C, BUF, TOKEN> {
    /// Asks `endpoint` over connections from `connector` (plain HTTP; see
    /// [`HttpAuthorizer::over_tls`]).
    pub fn new(connector: C, endpoint: Endpoint<'a>) -> Self {
        HttpAuthorizer {
            connector,
            endpoint,
            user_endpoint: None,
            tls: false,
            buf: [0; BUF],
            token: [0; TOKEN],
        }
    }

    /// Asks over HTTPS (the connector must be a `TlsConnector`).
    pub fn over_tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Signs users in at `endpoint` too (`/pusher/user-auth`); refused otherwise.
    pub fn with_user_endpoint(mut self, endpoint: Endpoint<'a>) -> Self {
        self.user_endpoint = Some(endpoint);
        self
    }

    /// The connector (to change its host or timeouts).
    pub fn connector(&mut self) -> &mut C {
        &mut self.connector
    }

    /// Sends the first `len` bytes of the buffer and reads the response into it; returns
    /// how many bytes came and whether the backend closed the connection.
    async fn exchange(&mut self, len: usize) -> Result<(usize, bool), AuthError> {
        let request = self.buf.get(..len).ok_or(AuthError::BufferTooSmall)?;
        let mut conn = self.connector.connect(self.tls).await.map_err(|e| {
            #[cfg(feature = "log")]
            log::debug!("auth endpoint: connect failed: {e:?}");
            let _ = e;
            AuthError::Unavailable
        })?;
        let sent = match conn.write_all(request).await {
            Ok(()) => conn.flush().await.is_ok(),
            Err(_) => false,
        };
        if !sent {
            debug!("auth endpoint: request not sent");
            conn.close().await;
            return Err(AuthError::Unavailable);
        }
        let mut got = 0;
        let result = loop {
            let Some(spare) = self.buf.get_mut(got..).filter(|s| !s.is_empty()) else {
                break Err(AuthError::BufferTooSmall);
            };
            let (n, eof) = match conn.read(spare).await {
                Ok(0) => (0, true),
                Ok(n) => (n, false),
                Err(_) => break Err(AuthError::Unavailable),
            };
            got += n;
            let received = self.buf.get(..got).unwrap_or(&[]);
            match pusher_core::rest::parse_response(received, eof) {
                Ok(Status::Partial) => continue,
                Ok(Status::Complete(..)) => break Ok((got, eof)),
                Err(_) => break Err(AuthError::BadAnswer),
            }
        };
        conn.close().await;
        result
    }
}

/// The driver-facing form of a bad answer.
fn answer_error(e: AnswerError) -> AuthError {
    match e {
        AnswerError::Status(status) => AuthError::Status(status),
        AnswerError::BufferTooSmall => AuthError::BufferTooSmall,
        _ => AuthError::BadAnswer,
    }
}

impl<C: Connect, const BUF: usize, const TOKEN: usize> Authorizer
    for HttpAuthorizer<'_, C, BUF, TOKEN>
{
    async fn authorize(
        &mut self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> Result<ChannelGrant<'_>, AuthError> {
        let len =
            auth_endpoint::write_channel_request(&mut self.buf, &self.endpoint, socket_id, channel)
                .map_err(|_| AuthError::BufferTooSmall)?;
        let (got, eof) = self.exchange(len).await?;
        let received = self.buf.get(..got).unwrap_or(&[]);
        match auth_endpoint::read_channel_answer(received, eof, &mut self.token) {
            Ok(Status::Complete(grant, _)) => Ok(grant),
            Ok(Status::Partial) => Err(AuthError::BadAnswer),
            Err(e) => Err(answer_error(e)),
        }
    }

    async fn authenticate_user(
        &mut self,
        socket_id: SocketId<'_>,
    ) -> Result<UserGrant<'_>, AuthError> {
        let endpoint = self.user_endpoint.ok_or(AuthError::Refused)?;
        let len = auth_endpoint::write_user_request(&mut self.buf, &endpoint, socket_id)
            .map_err(|_| AuthError::BufferTooSmall)?;
        let (got, eof) = self.exchange(len).await?;
        let received = self.buf.get(..got).unwrap_or(&[]);
        match auth_endpoint::read_user_answer(received, eof, &mut self.token) {
            Ok(Status::Complete(grant, _)) => Ok(grant),
            Ok(Status::Partial) => Err(AuthError::BadAnswer),
            Err(e) => Err(answer_error(e)),
        }
    }
}
