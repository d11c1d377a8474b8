//! The REST client's transport: connections kept alive (counted at the dev server), and
//! requests through an HTTP CONNECT proxy with credentials, which the test runs itself.

mod common;

use std::sync::atomic::Ordering;

use common::proxy::ConnectProxy;
use common::*;
use pusher_std::http::ProxyConfig;
use pusher_std::rest::{Config, Error, Rest};

#[test]
fn many_triggers_share_one_kept_alive_connection() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let rest = server.rest();
    let before = server.0.accepted_connections();
    for i in 0..20 {
        rest.trigger(&["public-ka"], "tick", &format!(r#"{{"i":{i}}}"#))
            .unwrap();
    }
    rest.channels(None, None).unwrap();
    let opened = server.0.accepted_connections() - before;
    println!("21 requests over {opened} connection(s)");
    assert_eq!(opened, 1, "21 requests opened {opened} connections");
    // A clone shares the pool.
    let clone = rest.clone();
    clone.trigger(&["public-ka"], "tick", "{}").unwrap();
    assert_eq!(server.0.accepted_connections() - before, 1);
}

fn rest_via(server: &Dev, proxy: &str) -> Rest {
    let mut config = Config::new(APP_ID, KEY, SECRET).host("127.0.0.1", server.port(), false);
    config.proxy = ProxyConfig::Url(proxy.to_owned());
    Rest::new(config).unwrap()
}

#[test]
fn triggers_go_through_a_connect_proxy_with_credentials() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let proxy = ConnectProxy::start();
    let client = ClientThread::spawn(server.options(), &["public-px"], None);
    client.wait_for("pusher:subscription_succeeded public-px", scenarios::WAIT);

    let rest = rest_via(
        &server,
        &format!("http://user:pa%40ss@127.0.0.1:{}", proxy.port),
    );
    for i in 0..5 {
        rest.trigger(&["public-px"], "via-proxy", &format!(r#"{{"i":{i}}}"#))
            .unwrap();
    }
    client.wait_for(r#"via-proxy public-px {"i":4}"#, scenarios::WAIT);
    assert_eq!(
        proxy.tunnels.load(Ordering::Relaxed),
        1,
        "five triggers through one kept-alive tunnel"
    );

    // Wrong credentials: the proxy's refusal reaches the caller as a transport error.
    let wrong = rest_via(
        &server,
        &format!("http://user:nope@127.0.0.1:{}", proxy.port),
    );
    let e = wrong.trigger(&["public-px"], "never", "{}").unwrap_err();
    println!("{e}");
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    assert!(proxy.refused.load(Ordering::Relaxed) >= 1);
    assert_eq!(client.count("never"), 0);
}
