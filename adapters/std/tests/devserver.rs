//! The interop scenarios against our dev server, in every compat mode, with our client and
//! REST library on both ends (no Node or Python needed: this runs in plain `cargo test`).
//! The same scenarios run against soketi in `tests/soketi.rs`, and with third-party peers
//! against the dev server in `tests/devserver_peers.rs`.

mod common;

use common::scenarios;
use common::*;

#[test]
fn channels_presence_client_events_and_rest() {
    for compat in COMPATS {
        scenarios::channels_presence_client_events_and_rest(&Dev::start(compat));
    }
}

#[test]
fn signin_and_send_to_user() {
    for compat in COMPATS {
        scenarios::signin_and_send_to_user(&Dev::start(compat));
    }
}

#[test]
fn server_restart_mid_session_resubscribes_everything() {
    for compat in COMPATS {
        scenarios::server_restart_mid_session_resubscribes_everything(|port| match port {
            Some(p) => Dev::start_on(compat, p),
            None => Dev::start(compat),
        });
    }
}

#[test]
fn http_auth_endpoint_authorizes_private_and_presence() {
    for compat in COMPATS {
        scenarios::http_auth_endpoint_authorizes_private_and_presence(&Dev::start(compat));
    }
}

#[test]
fn typed_rest() {
    for compat in COMPATS {
        scenarios::typed_rest(&Dev::start(compat));
    }
}

#[test]
fn typed_payload_shapes_through_handlers() {
    for compat in COMPATS {
        scenarios::typed_payload_shapes_through_handlers(&Dev::start(compat));
    }
}

#[test]
fn background_client_across_threads() {
    for compat in COMPATS {
        scenarios::background_client_across_threads(&Dev::start(compat));
    }
}

#[test]
fn pusher_js_parity() {
    for compat in COMPATS {
        let mut config = pusher_dev_server::Config::default().compat(compat);
        config.subscription_count = true;
        let extras = scenarios::Extras {
            subscription_count: true,
            watchlist: compat != pusher_dev_server::Compat::Reverb,
        };
        scenarios::pusher_js_parity(&Dev::start_with(config), extras);
    }
}

#[test]
fn dropping_the_client_closes_its_connection() {
    use pusher_std::pusher::{Buffers, Pusher};
    let closes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = closes.clone();
    let observer: pusher_dev_server::Observer = std::sync::Arc::new(move |a| {
        if let pusher_dev_server::Activity::Disconnected { code, .. } = a {
            seen.lock().unwrap().push(*code);
        }
    });
    let config = pusher_dev_server::Config::default().credentials(APP_ID, KEY, SECRET);
    let server = Dev(pusher_dev_server::DevServer::start_observed(config, Some(observer)).unwrap());
    let rest = server.rest();
    let mut buffers = Buffers::default();
    let mut p = Pusher::new(&server.options(), &mut buffers).unwrap();
    p.subscribe("public-drop").unwrap();
    p.connect();
    assert!(p.run_until(
        |p| p.client().channel_state("public-drop")
            == Some(pusher_core::client::ChannelState::Subscribed),
        scenarios::WAIT
    ));
    assert_eq!(server.0.connections(), 1);
    drop(p);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while server.0.connections() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the server still sees it"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(!rest.channel_info("public-drop", None).unwrap().occupied);
    assert_eq!(
        *closes.lock().unwrap(),
        [Some(1000)],
        "a clean close, not a dropped socket"
    );
}

#[test]
fn encrypted_channel_events_decrypt() {
    for compat in COMPATS {
        scenarios::encrypted_channel_events_decrypt(&Dev::start(compat), false);
    }
}

#[test]
fn encrypted_channel_key_rotation() {
    for compat in COMPATS {
        scenarios::encrypted_channel_key_rotation(&Dev::start(compat));
    }
}
