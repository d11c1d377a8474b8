//! The driver: one task, one loop over the sans-IO client. Each turn it hands the client's
//! events out, performs its actions, writes what it queued, then waits for whichever comes
//! first: bytes, the client's next deadline, a command from a handle, an auth answer. No
//! protocol decision is made here: the core decides, this only moves bytes, time and events.

use std::sync::Arc;
use std::time::Duration;

use pusher_core::client::{self, Action, AuthRequest, Client, Event};
use pusher_std::client_error::ClientError;
use pusher_std::connect_error::ConnectError;
use pusher_std::pusher::{NAME, Options};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::auth::{AuthFailure, Authorizer, ChannelAuth, UserAuth};
use crate::client::{ChannelEvent, Command, Subscribed, Subscribers};
use crate::net::{Conn, Connector};

/// Channels a tokio client can hold.
pub const CHANNELS: usize = pusher_std::pusher::CHANNELS;

/// An authorizer's answer, back from its task.
enum Answer {
    Channel(AuthRequest<NAME>, Result<ChannelAuth, AuthFailure>),
    User(AuthRequest<NAME>, Result<UserAuth, AuthFailure>),
}

/// Runs one client until every handle is gone or it is shut down.
pub(crate) async fn run(
    options: Options,
    authorizer: Option<Arc<dyn Authorizer>>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    mut subs: Subscribers,
) {
    let key = options.key.clone();
    let port = if options.tls {
        options.wss_port
    } else {
        options.ws_port
    };
    let host = pusher_std::net::host_header(&options.host, port, options.tls);
    let tls = match pusher_std::net::tls_config(options.ca_pem.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            subs.error(&ClientError::Connect {
                cause: ConnectError::Tls(format!("CA certificates: {e}")),
                retry_in: None,
            });
            return;
        }
    };
    let connector = Connector {
        host: options.host.clone(),
        ws_port: options.ws_port,
        wss_port: options.wss_port,
        timeout: options.connect_timeout,
        tls,
    };
    // pusher-std's default sizes: 64 KiB per frame, 16 KiB to send, 16 KiB of members,
    // 16 KiB for encrypted events waiting for a rotated key.
    let (mut rx, mut tx, mut presence, mut hold) = (
        vec![0u8; 64 * 1024],
        vec![0u8; 16 * 1024],
        vec![0u8; 16 * 1024],
        vec![0u8; 16 * 1024],
    );
    let config = client::Config {
        app_key: &key,
        host: &host,
        use_tls: options.tls,
        max_message: options.client.max_message.min(rx.len().saturating_sub(16)),
        ..options.client
    };
    let mut client: Client<'_, CHANNELS, NAME> = Client::new(
        config,
        client::Buffers {
            rx: &mut rx,
            tx: &mut tx,
            presence: &mut presence,
        },
        options.seed,
    );
    client.hold_for_rekey(&mut hold);
    let epoch = tokio::time::Instant::now();
    let now = || {
        client::Instant::from_millis(u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX))
    };
    let (answers_tx, mut answers) = mpsc::unbounded_channel::<Answer>();
    let mut conn: Option<Box<dyn Conn>> = None;
    let mut connect_error: Option<ConnectError> = None;
    let mut chunk = vec![0u8; 16 * 1024];
    client.connect(now());
    loop {
        // Events out (after each of them the client may have more to say).
        while let Some(ev) = client.poll_event() {
            let owed = dispatch(&ev, &mut subs, &mut connect_error);
            if let Some(request) = owed {
                ask(
                    &authorizer,
                    request,
                    options.auth_timeout,
                    &answers_tx,
                    &mut client,
                );
            }
        }
        subs.state(client.state());
        // Actions: open or close the transport.
        while let Some(action) = client.poll_action() {
            match action {
                Action::Open { tls } => match connector.open(tls).await {
                    Ok(c) => {
                        conn = Some(c);
                        connect_error = None;
                        client.handle_connected(now());
                    }
                    Err(e) => {
                        log::debug!("connect failed: {e}");
                        connect_error = Some(e);
                        client.handle_closed(now());
                    }
                },
                Action::Close => {
                    if let Some(mut c) = conn.take() {
                        flush(&mut client, &mut c).await;
                        let _ = c.shutdown().await;
                    }
                    client.handle_closed(now());
                }
            }
        }
        if let Some(c) = conn.as_mut()
            && !flush(&mut client, c).await
        {
            conn = None;
            client.handle_closed(now());
            continue;
        }
        let deadline = client
            .poll_timeout()
            .map(|t| epoch + Duration::from_millis(t.as_millis()));
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let spare = client.rx_buffer().len().min(chunk.len());
        let read = async {
            match conn.as_mut() {
                Some(c) if spare > 0 => c.read(&mut chunk[..spare]).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            answer = answers.recv() => {
                if let Some(answer) = answer {
                    settle(&mut client, answer, &mut subs);
                }
            }
            command = commands.recv() => match command {
                Some(Command::Shutdown(done)) => {
                    shutdown(&mut client, &mut conn, now()).await;
                    subs.state(client.state());
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                    return;
                }
                // Every handle is gone: close as politely.
                None => {
                    shutdown(&mut client, &mut conn, now()).await;
                    return;
                }
                Some(cmd) => crate::client::apply(cmd, &mut client, &mut subs, now()),
            },
            got = read => match got {
                Ok(0) | Err(_) => {
                    conn = None;
                    client.handle_closed(now());
                }
                Ok(n) => {
                    client.rx_buffer()[..n].copy_from_slice(&chunk[..n]);
                    client.commit_rx(n, now());
                }
            },
            () = sleep => client.handle_timeout(now()),
        }
    }
}

/// Disconnects on purpose: the close frame (1000) goes out, then the transport closes.
async fn shutdown(
    client: &mut Client<'_, CHANNELS, NAME>,
    conn: &mut Option<Box<dyn Conn>>,
    now: client::Instant,
) {
    client.disconnect(now);
    if let Some(mut c) = conn.take() {
        flush(client, &mut c).await;
        let _ = c.shutdown().await;
    }
    client.handle_closed(now);
}

/// Writes everything the client queued; false when the transport failed.
async fn flush(client: &mut Client<'_, CHANNELS, NAME>, conn: &mut Box<dyn Conn>) -> bool {
    while let Some(out) = client.poll_transmit() {
        let n = out.len();
        if conn.write_all(out).await.is_err() {
            return false;
        }
        client.consume_tx(n);
    }
    conn.flush().await.is_ok()
}

/// Hands one event to the subscribers; returns an auth request the client owes.
fn dispatch(
    ev: &Event<'_>,
    subs: &mut Subscribers,
    connect_error: &mut Option<ConnectError>,
) -> Option<AuthRequest<NAME>> {
    if let Some(e) = ev.bindable() {
        subs.event(&ChannelEvent::of(&e));
    }
    match *ev {
        Event::AuthRequired { .. } | Event::SigninRequired { .. } => {
            return AuthRequest::from_event(ev);
        }
        Event::Subscribed { channel } => subs.subscribed(channel, Subscribed::Ok),
        Event::SubscriptionError { channel, status } => {
            subs.subscribed(channel, Subscribed::Refused(status));
        }
        _ => {}
    }
    let error = ClientError::of_event(ev).map(|e| e.with_connect_cause(|| connect_error.take()));
    if let Some(e) = error {
        log::warn!("{e}");
        subs.error(&e);
    }
    None
}

/// Asks the authorizer on a task of its own, bounded by `timeout`; answers come back on
/// `answers`. Without an authorizer the request fails at once.
fn ask(
    authorizer: &Option<Arc<dyn Authorizer>>,
    request: AuthRequest<NAME>,
    timeout: Duration,
    answers: &mpsc::UnboundedSender<Answer>,
    client: &mut Client<'_, CHANNELS, NAME>,
) {
    let Some(a) = authorizer.clone() else {
        if let Some(channel) = request.channel() {
            let _ = client.auth_failed(channel, request.socket_id(), None);
        } else {
            let _ = client.signin_failed(request.socket_id());
        }
        return;
    };
    let answers = answers.clone();
    tokio::spawn(async move {
        let late = || AuthFailure {
            status: None,
            message: format!("no answer within {} ms", timeout.as_millis()),
        };
        let answer = match request.names() {
            Ok((sid, Some(ch))) => {
                let fut = a.authorize(sid, ch);
                let r = tokio::time::timeout(timeout, fut)
                    .await
                    .unwrap_or_else(|_| Err(late()));
                Answer::Channel(request, r)
            }
            Ok((sid, None)) => {
                let fut = a.authenticate_user(sid);
                let r = tokio::time::timeout(timeout, fut)
                    .await
                    .unwrap_or_else(|_| Err(late()));
                Answer::User(request, r)
            }
            Err(e) => Answer::Channel(
                request,
                Err(AuthFailure {
                    status: None,
                    message: e.to_string(),
                }),
            ),
        };
        let _ = answers.send(answer);
    });
}

/// Hands an authorizer's answer to the client (for the connection it was asked for).
fn settle(client: &mut Client<'_, CHANNELS, NAME>, answer: Answer, subs: &mut Subscribers) {
    match answer {
        Answer::Channel(req, result) => {
            let Some(channel) = req.channel() else { return };
            let failure = match result {
                Ok(a) => match a.answer(client, channel, req.socket_id()) {
                    Ok(()) => return,
                    // Asked for an earlier connection: the new one asks again.
                    Err(pusher_core::client::AnswerError::StaleSocketId) => return,
                    Err(e) => AuthFailure {
                        status: None,
                        message: format!("the authorizer's answer cannot be used: {e}"),
                    },
                },
                Err(e) => e,
            };
            let status = failure.status;
            subs.error(&ClientError::Auth {
                channel: Some(channel.to_owned()),
                failure,
            });
            let _ = client.auth_failed(channel, req.socket_id(), status);
        }
        Answer::User(req, result) => match result {
            Ok(u) => {
                if let Err(e) = client.provide_user_auth(req.socket_id(), &u.auth, &u.user_data) {
                    subs.error(&ClientError::Signin(format!("answer not used: {e}")));
                }
            }
            Err(failure) => {
                subs.error(&ClientError::Auth {
                    channel: None,
                    failure,
                });
                let _ = client.signin_failed(req.socket_id());
            }
        },
    }
}
