//! Async authorizers: the driver asks one for each `AuthRequired` / `SigninRequired` on a
//! task of its own (with the options' auth timeout), so a slow endpoint never holds up the
//! connection. Answers and failures are pusher-std's types, as in every std-side adapter.

use std::future::Future;
use std::pin::Pin;

use pusher_core::name::{ChannelName, SocketId};
pub use pusher_std::auth::{AuthFailure, ChannelAuth, UserAuth};

/// A boxed authorizer answer.
pub type AuthFuture<T> = Pin<Box<dyn Future<Output = Result<T, AuthFailure>> + Send>>;

/// Signs subscriptions (and sign-ins). The names come typed and in the same order as in
/// every adapter (`socket_id`, then `channel`), owned so the future can run on its own task.
pub trait Authorizer: Send + Sync + 'static {
    /// Authorizes `socket_id` on a private or presence `channel`.
    fn authorize(
        &self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> AuthFuture<ChannelAuth>;

    /// Signs in `socket_id`; refused unless implemented.
    fn authenticate_user(&self, socket_id: SocketId<'_>) -> AuthFuture<UserAuth> {
        let _ = socket_id;
        Box::pin(async {
            Err(AuthFailure {
                status: None,
                message: "this authorizer does not sign users in".into(),
            })
        })
    }
}

/// Any pusher-std authorizer (`LocalSigner`, the ureq-based `HttpAuthorizer`, a callback),
/// asked on tokio's blocking pool: signing locally takes microseconds, and a blocking HTTP
/// call there does not stall the runtime.
pub struct Blocking<A>(pub std::sync::Arc<A>);

impl<A: pusher_std::auth::Authorizer> Blocking<A> {
    /// Wraps `authorizer`.
    pub fn new(authorizer: A) -> Self {
        Blocking(std::sync::Arc::new(authorizer))
    }
}

fn refused(e: tokio::task::JoinError) -> AuthFailure {
    AuthFailure {
        status: None,
        message: format!("the authorizer failed: {e}"),
    }
}

impl<A: pusher_std::auth::Authorizer> Authorizer for Blocking<A> {
    fn authorize(
        &self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> AuthFuture<ChannelAuth> {
        let (a, sid, ch) = (
            self.0.clone(),
            socket_id.as_str().to_owned(),
            channel.as_str().to_owned(),
        );
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let sid = SocketId::new(&sid).map_err(|e| failure(e.to_string()))?;
                let ch = ChannelName::with_max_len(&ch, 200).map_err(|e| failure(e.to_string()))?;
                a.authorize(sid, ch)
            })
            .await
            .map_err(refused)?
        })
    }

    fn authenticate_user(&self, socket_id: SocketId<'_>) -> AuthFuture<UserAuth> {
        let (a, sid) = (self.0.clone(), socket_id.as_str().to_owned());
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let sid = SocketId::new(&sid).map_err(|e| failure(e.to_string()))?;
                a.authenticate_user(sid)
            })
            .await
            .map_err(refused)?
        })
    }
}

fn failure(message: String) -> AuthFailure {
    AuthFailure {
        status: None,
        message,
    }
}

/// Answers from an async closure: `CallbackAuthorizer(|socket_id, channel| async move { .. })`
/// with owned `String`s.
pub struct CallbackAuthorizer<F>(pub F);

impl<F, Fut> Authorizer for CallbackAuthorizer<F>
where
    F: Fn(String, String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ChannelAuth, AuthFailure>> + Send + 'static,
{
    fn authorize(
        &self,
        socket_id: SocketId<'_>,
        channel: ChannelName<'_>,
    ) -> AuthFuture<ChannelAuth> {
        Box::pin((self.0)(
            socket_id.as_str().to_owned(),
            channel.as_str().to_owned(),
        ))
    }
}
