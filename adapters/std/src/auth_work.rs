//! Auth requests in flight: each one is asked on a worker thread, so a slow or hanging auth
//! endpoint never holds up the socket (public channels, pings and events go on meanwhile).
//! Every request has a deadline; an answer that comes after it, or for an earlier
//! connection's socket id, is dropped.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use pusher_core::client::AuthRequest;

use crate::auth::{AuthFailure, Authorizer, ChannelAuth, UserAuth};

/// An answer from the authorizer.
#[derive(Debug)]
pub(crate) enum Answer {
    Channel(Result<ChannelAuth, AuthFailure>),
    Signin(Result<UserAuth, AuthFailure>),
}

/// A request that is done: answered, or out of time.
#[derive(Debug)]
pub(crate) struct Settled<const N: usize> {
    pub(crate) request: AuthRequest<N>,
    /// `None`: no answer within the timeout.
    pub(crate) answer: Option<Answer>,
}

struct Pending<const N: usize> {
    id: u64,
    request: AuthRequest<N>,
    deadline: Instant,
}

/// The requests in flight (channel names up to `N` bytes) and the channel their answers come
/// back on.
pub(crate) struct AuthWork<const N: usize> {
    tx: Sender<(u64, Answer)>,
    rx: Receiver<(u64, Answer)>,
    pending: Vec<Pending<N>>,
    next_id: u64,
    /// How long an answer may take.
    pub(crate) timeout: Duration,
}

impl<const N: usize> AuthWork<N> {
    pub(crate) fn new(timeout: Duration) -> Self {
        let (tx, rx) = channel();
        AuthWork {
            tx,
            rx,
            pending: Vec::new(),
            next_id: 0,
            timeout,
        }
    }

    /// The failure of a request that got no answer in time.
    pub(crate) fn timed_out(&self) -> AuthFailure {
        AuthFailure {
            status: None,
            message: format!("no answer within {} ms", self.timeout.as_millis()),
        }
    }

    /// Whether any request waits for its answer.
    pub(crate) fn busy(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Asks `authorizer` on a worker thread.
    pub(crate) fn ask(&mut self, authorizer: &Arc<dyn Authorizer>, request: AuthRequest<N>) {
        let id = self.next_id;
        self.next_id += 1;
        let tx = self.tx.clone();
        let a = Arc::clone(authorizer);
        let asked = request.clone();
        let spawned = std::thread::Builder::new()
            .name("pusher-auth".into())
            .spawn(move || {
                let invalid = |e: pusher_core::NameError| AuthFailure {
                    status: None,
                    message: e.to_string(),
                };
                let answer = match asked.names() {
                    Ok((s, Some(c))) => Answer::Channel(a.authorize(s, c)),
                    Ok((s, None)) => Answer::Signin(a.authenticate_user(s)),
                    Err(e) if asked.channel().is_some() => Answer::Channel(Err(invalid(e))),
                    Err(e) => Answer::Signin(Err(invalid(e))),
                };
                // The client may be gone; then nobody needs the answer.
                let _ = tx.send((id, answer));
            });
        if let Err(e) = spawned {
            // Answered at once with the failure.
            let failure = AuthFailure {
                status: None,
                message: format!("could not start the auth worker: {e}"),
            };
            let answer = match request.channel() {
                Some(_) => Answer::Channel(Err(failure)),
                None => Answer::Signin(Err(failure)),
            };
            let _ = self.tx.send((id, answer));
        }
        self.pending.push(Pending {
            id,
            request,
            deadline: Instant::now() + self.timeout,
        });
    }

    /// The next answered or timed-out request.
    pub(crate) fn next_settled(&mut self) -> Option<Settled<N>> {
        while let Ok((id, answer)) = self.rx.try_recv() {
            if let Some(i) = self.pending.iter().position(|p| p.id == id) {
                let p = self.pending.swap_remove(i);
                return Some(Settled {
                    request: p.request,
                    answer: Some(answer),
                });
            }
            // Too late: it was already reported as timed out.
        }
        let now = Instant::now();
        let i = self.pending.iter().position(|p| p.deadline <= now)?;
        let p = self.pending.swap_remove(i);
        Some(Settled {
            request: p.request,
            answer: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::CallbackAuthorizer;
    use pusher_core::client::Event;
    use pusher_core::{ChannelName, SocketId};

    fn channel_request(channel: &str) -> AuthRequest<64> {
        AuthRequest::from_event(&Event::AuthRequired {
            channel,
            socket_id: "1.1",
        })
        .unwrap()
    }

    #[test]
    fn a_hanging_authorizer_times_out_and_a_fast_one_is_not_held_up_by_it() {
        let a: Arc<dyn Authorizer> = Arc::new(CallbackAuthorizer(
            |_: SocketId<'_>, channel: ChannelName<'_>| {
                let channel = channel.as_str();
                if channel == "private-slow" {
                    std::thread::sleep(Duration::from_millis(600));
                }
                Ok(ChannelAuth {
                    auth: format!("k:{channel}"),
                    channel_data: None,
                    shared_secret: None,
                })
            },
        ));
        let mut w = AuthWork::<64>::new(Duration::from_millis(300));
        w.ask(&a, channel_request("private-slow"));
        w.ask(&a, channel_request("private-fast"));
        let start = Instant::now();
        let mut settled = Vec::new();
        while settled.len() < 2 {
            assert!(start.elapsed() < Duration::from_secs(5));
            if let Some(s) = w.next_settled() {
                settled.push(s);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(!w.busy());
        assert_eq!(settled[0].request, channel_request("private-fast"));
        assert!(
            matches!(&settled[0].answer, Some(Answer::Channel(Ok(a))) if a.auth == "k:private-fast")
        );
        assert_eq!(settled[1].request, channel_request("private-slow"));
        assert!(settled[1].answer.is_none(), "timed out");
        // The late answer is dropped.
        std::thread::sleep(Duration::from_millis(400));
        assert!(w.next_settled().is_none());
    }
}
