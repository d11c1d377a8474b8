//! Auth requests in flight: each one is asked on a worker thread, so a slow or hanging auth
//! endpoint never holds up the socket (public channels, pings and events go on meanwhile).
//! Every request has a deadline; an answer that comes after it, or for an earlier
//! connection's socket id, is dropped.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use pusher_core::name::{CHANNEL_NAME_MAX_LIMIT, ChannelName, SocketId};

use crate::auth::{AuthFailure, Authorizer, ChannelAuth, UserAuth};

/// A request's socket id, typed (the core handed out a valid one).
fn socket(id: &str) -> Result<SocketId<'_>, AuthFailure> {
    SocketId::new(id).map_err(|e| invalid(e.to_string()))
}

fn invalid(message: String) -> AuthFailure {
    AuthFailure {
        status: None,
        message,
    }
}

/// What was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    /// A subscription to `channel` for `socket_id`.
    Channel { channel: String, socket_id: String },
    /// A user sign-in for `socket_id`.
    Signin { socket_id: String },
}

/// An answer from the authorizer.
#[derive(Debug)]
pub(crate) enum Answer {
    Channel(Result<ChannelAuth, AuthFailure>),
    Signin(Result<UserAuth, AuthFailure>),
}

/// A request that is done: answered, or out of time.
#[derive(Debug)]
pub(crate) struct Settled {
    pub(crate) request: Request,
    /// `None`: no answer within the timeout.
    pub(crate) answer: Option<Answer>,
}

struct Pending {
    id: u64,
    request: Request,
    deadline: Instant,
}

/// The requests in flight and the channel their answers come back on.
pub(crate) struct AuthWork {
    tx: Sender<(u64, Answer)>,
    rx: Receiver<(u64, Answer)>,
    pending: Vec<Pending>,
    next_id: u64,
    /// How long an answer may take.
    pub(crate) timeout: Duration,
}

impl AuthWork {
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
    pub(crate) fn ask(&mut self, authorizer: &Arc<dyn Authorizer>, request: Request) {
        let id = self.next_id;
        self.next_id += 1;
        let tx = self.tx.clone();
        let a = Arc::clone(authorizer);
        let asked = request.clone();
        let spawned = std::thread::Builder::new()
            .name("pusher-auth".into())
            .spawn(move || {
                let answer = match &asked {
                    Request::Channel { channel, socket_id } => {
                        Answer::Channel(socket(socket_id).and_then(|s| {
                            let c = ChannelName::with_max_len(channel, CHANNEL_NAME_MAX_LIMIT)
                                .map_err(|e| invalid(e.to_string()))?;
                            a.authorize(s, c)
                        }))
                    }
                    Request::Signin { socket_id } => {
                        Answer::Signin(socket(socket_id).and_then(|s| a.authenticate_user(s)))
                    }
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
            let answer = match &request {
                Request::Channel { .. } => Answer::Channel(Err(failure)),
                Request::Signin { .. } => Answer::Signin(Err(failure)),
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
    pub(crate) fn next_settled(&mut self) -> Option<Settled> {
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

    fn channel_request(channel: &str) -> Request {
        Request::Channel {
            channel: channel.into(),
            socket_id: "1.1".into(),
        }
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
                })
            },
        ));
        let mut w = AuthWork::new(Duration::from_millis(300));
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
