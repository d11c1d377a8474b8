//! Every way a connection can fail reaches the error callback with its typed cause, within
//! 2 s (or the configured connect timeout): a wrong key (the server refuses with 4001), a
//! wrong secret, nothing listening, an unknown host, a TLS server that never answers. (A
//! certificate from another CA is in `tests/soketi.rs`, which has a TLS server.)

mod common;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use pusher_core::client::Problem;
use pusher_std::auth::LocalSigner;
use pusher_std::client_error::ClientError;
use pusher_std::connect_error::ConnectError;
use pusher_std::pusher::{Buffers, Options, Pusher};

/// Runs a client until `wanted` matches a reported error (or 3 s pass); returns that error,
/// how long it took, and everything reported.
fn first_error(
    options: Options,
    setup: impl FnOnce(&mut Pusher<'_>),
    wanted: impl Fn(&ClientError) -> bool,
) -> (ClientError, Duration, Vec<ClientError>) {
    let mut buffers = Buffers::default();
    let mut p = Pusher::new(&options, &mut buffers).unwrap();
    let seen: Arc<Mutex<Vec<ClientError>>> = Arc::default();
    let log = seen.clone();
    p.on_error(move |e| log.lock().unwrap().push(e.clone()));
    setup(&mut p);
    let start = Instant::now();
    p.connect();
    let found = p.run_until(
        |_| seen.lock().unwrap().iter().any(&wanted),
        Duration::from_secs(3),
    );
    let took = start.elapsed();
    let all = seen.lock().unwrap().clone();
    assert!(found, "the wanted error never came: {all:?}");
    let e = all.iter().find(|e| wanted(e)).unwrap().clone();
    (e, took, all)
}

fn within_2s(took: Duration, e: &ClientError) {
    assert!(took < Duration::from_secs(2), "{e} after {took:?}");
    println!("{took:?}: {e}");
}

#[test]
fn a_wrong_key_is_refused_with_4001_and_not_retried() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let mut options = server.options();
    options.key = "wrong-key".into();
    let (e, took, all) = first_error(
        options,
        |_| {},
        |e| matches!(e, ClientError::Disconnected { .. }),
    );
    within_2s(took, &e);
    assert_eq!(
        e,
        ClientError::Disconnected {
            problem: Problem::Closed(4001),
            retry_in: None
        }
    );
    assert!(
        all.iter().any(|e| matches!(
            e,
            ClientError::Server {
                code: Some(4001),
                ..
            }
        )),
        "the server's own words come first: {all:?}"
    );
}

#[test]
fn a_wrong_secret_gets_the_private_subscription_refused() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let (e, took, all) = first_error(
        server.options(),
        |p| {
            p.set_authorizer(LocalSigner::new(KEY, "wrong-secret"));
            p.subscribe("private-orders").unwrap();
        },
        |e| {
            matches!(e, ClientError::SubscriptionRefused { .. })
                || matches!(e, ClientError::Server { .. })
        },
    );
    within_2s(took, &e);
    assert!(
        all.iter().any(|e| matches!(e,
            ClientError::SubscriptionRefused { channel, .. } if channel == "private-orders")
            || matches!(e, ClientError::Server { message, .. } if message.contains("private-orders"))),
        "the channel is named: {all:?}"
    );
}

#[test]
fn nothing_listening_is_a_refused_connection_and_retried() {
    let port = free_port();
    let options = Options::host(KEY, "127.0.0.1", port, port, false);
    let (e, took, _) = first_error(
        options,
        |_| {},
        |e| matches!(e, ClientError::Connect { .. }),
    );
    within_2s(took, &e);
    let ClientError::Connect { cause, retry_in } = &e else {
        unreachable!()
    };
    assert_eq!(
        cause,
        &ConnectError::Refused {
            addr: format!("127.0.0.1:{port}")
        }
    );
    assert!(retry_in.is_some(), "a dead server is retried: {e}");
}

#[test]
fn an_unknown_host_is_a_dns_failure() {
    let options = Options::host(KEY, "no-such-host.invalid", 80, 443, false);
    let (e, took, _) = first_error(
        options,
        |_| {},
        |e| matches!(e, ClientError::Connect { .. }),
    );
    within_2s(took, &e);
    assert!(
        matches!(&e, ClientError::Connect { cause: ConnectError::Dns { host, .. }, .. } if host == "no-such-host.invalid"),
        "{e:?}"
    );
}

#[test]
fn a_tls_server_that_never_answers_times_out_at_the_connect_timeout() {
    // Accepts TCP and says nothing: the TLS handshake waits for a ServerHello that never comes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(3));
        drop(held);
    });
    let mut options = Options::host(KEY, "localhost", port, port, true);
    options.connect_timeout = Duration::from_millis(500);
    let (e, took, _) = first_error(
        options,
        |_| {},
        |e| matches!(e, ClientError::Connect { .. }),
    );
    within_2s(took, &e);
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(
        matches!(
            &e,
            ClientError::Connect {
                cause: ConnectError::Timeout {
                    during: "TLS handshake"
                },
                retry_in: Some(_)
            }
        ),
        "{e:?}"
    );
    hold.join().unwrap();
}

#[test]
fn core_settings_from_options_reach_the_client_an_attempt_limit_gives_up() {
    let port = free_port();
    let options = Options::host(KEY, "127.0.0.1", port, port, false).tune(|c| {
        c.max_attempts = Some(2);
        c.backoff_base = pusher_core::client::Duration::from_millis(50);
        c.backoff_cap = pusher_core::client::Duration::from_millis(50);
    });
    let (e, took, all) = first_error(options, |_| {}, |e| *e == ClientError::GaveUp);
    within_2s(took, &e);
    let attempts = all
        .iter()
        .filter(|e| matches!(e, ClientError::Connect { .. }))
        .count();
    assert_eq!(attempts, 2, "{all:?}");
}
