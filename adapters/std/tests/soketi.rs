//! Interop against a real server nobody here wrote: soketi 1.6.1 on loopback, with pusher-js
//! and the official npm and PyPI `pusher` libraries as the other peers.

mod common;

use std::process::Command;
use std::time::Duration;

use common::scenarios::{self, WAIT};
use common::*;

#[test]
fn channels_presence_client_events_and_rest() {
    scenarios::channels_presence_client_events_and_rest(&Soketi::start());
}

#[test]
fn typed_payload_shapes_through_handlers() {
    scenarios::typed_payload_shapes_through_handlers(&Soketi::start());
}

#[test]
fn background_client_across_threads() {
    scenarios::background_client_across_threads(&Soketi::start());
}

#[test]
fn pusher_js_parity() {
    // soketi 1.6 sends neither subscription counts nor watchlist events.
    let extras = scenarios::Extras {
        subscription_count: false,
        watchlist: false,
    };
    scenarios::pusher_js_parity(&Soketi::start_with_user_auth(), extras);
}

#[test]
fn encrypted_channel_events_decrypt() {
    scenarios::encrypted_channel_events_decrypt(&Soketi::start(), true);
}

#[test]
fn encrypted_channel_key_rotation() {
    scenarios::encrypted_channel_key_rotation(&Soketi::start());
}

#[test]
fn official_libraries_trigger() {
    scenarios::official_libraries_trigger(&Soketi::start());
}

#[test]
fn pusher_js_receives_our_trigger() {
    scenarios::pusher_js_receives_our_trigger(&Soketi::start());
}

#[test]
fn signin_and_send_to_user() {
    scenarios::signin_and_send_to_user(&Soketi::start_with_user_auth());
}

#[test]
fn server_restart_mid_session_resubscribes_everything() {
    scenarios::server_restart_mid_session_resubscribes_everything(|port| match port {
        Some(p) => Soketi::start_on(p),
        None => Soketi::start(),
    });
}

#[test]
fn http_auth_endpoint_authorizes_private_and_presence() {
    scenarios::http_auth_endpoint_authorizes_private_and_presence(&Soketi::start());
}

/// A throwaway CA and a `localhost` certificate it signs (openssl CLI).
fn certificates(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    std::fs::create_dir_all(dir).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=pusher-rs test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (
        dir.join("server.pem"),
        dir.join("server.key"),
        std::fs::read(dir.join("ca.pem")).unwrap(),
    )
}

#[test]
fn wss_and_https_with_a_custom_ca_and_verification_by_default() {
    use pusher_std::pusher::{Buffers, Options, Pusher};
    let dir = std::env::temp_dir().join(format!("pusher-rs-tls-{}", std::process::id()));
    let (cert, key, ca) = certificates(&dir);
    let server = Soketi::start_tls(&cert, &key);

    // Without the CA the certificate is rejected: no connection.
    let mut untrusted = Options::host(KEY, "localhost", server.port, server.port, true);
    untrusted.seed = 3;
    let mut buffers = Buffers::default();
    let mut p = Pusher::new(&untrusted, &mut buffers).unwrap();
    let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = errors.clone();
    p.on_error(move |e| log.lock().unwrap().push(e.clone()));
    let start = std::time::Instant::now();
    p.connect();
    // The error callback is told why, within 2 s: the certificate, with the retry decision.
    let told = p.run_until(
        |_| !errors.lock().unwrap().is_empty(),
        Duration::from_secs(2),
    );
    let errors = errors.lock().unwrap().clone();
    assert!(told, "no error within 2 s");
    println!("{:?}: {}", start.elapsed(), errors[0]);
    assert!(
        matches!(
            &errors[0],
            pusher_std::client_error::ClientError::Connect {
                cause: pusher_std::connect_error::ConnectError::Certificate(_),
                retry_in: Some(_)
            }
        ),
        "{errors:?}"
    );
    assert_ne!(p.state(), pusher_core::client::State::Connected);
    drop(p);

    // With it: wss:// connects and https:// triggers.
    let mut trusted = untrusted.clone();
    trusted.ca_pem = Some(ca.clone());
    let a = ClientThread::spawn(trusted, &["private-tls"], None);
    a.wait_for("pusher:subscription_succeeded private-tls", WAIT);
    let mut cfg =
        pusher_std::rest::Config::new(APP_ID, KEY, SECRET).host("localhost", server.port, true);
    cfg.ca_pem = Some(ca);
    let rest = pusher_std::rest::Rest::new(cfg).unwrap();
    rest.trigger(&["private-tls"], "secure", r#"{"tls":true}"#)
        .unwrap();
    a.wait_for(r#"secure private-tls {"tls":true}"#, WAIT);
    a.stop();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn pusher_js_on_public_private_and_presence_channels() {
    scenarios::third_party_client_receives_official_triggers(
        &Soketi::start(),
        scenarios::Peer::PusherJs,
    );
}

#[test]
fn pysher_on_public_private_and_presence_channels() {
    scenarios::third_party_client_receives_official_triggers(
        &Soketi::start(),
        scenarios::Peer::Pysher,
    );
}

#[test]
fn official_libraries_query_and_batch() {
    scenarios::official_libraries_query_and_batch(&Soketi::start());
}

#[test]
fn typed_payloads_with_third_parties() {
    scenarios::typed_payloads_with_third_parties(&Soketi::start());
}

#[test]
fn typed_rest() {
    scenarios::typed_rest(&Soketi::start());
}

/// pusher-js, with its encryption support and the official library's auth (which carries the
/// shared secret), decrypts an event our REST library sealed for an encrypted channel.
#[test]
fn pusher_js_decrypts_our_encrypted_trigger() {
    use std::io::{BufRead, BufReader};
    const MASTER: &str = "zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=";
    let server = Soketi::start();
    let dir = peers_dir();
    let mut js = Command::new("node")
        .env("NODE_PATH", dir.join("node_modules"))
        .arg(peer_script("pusher_js_encrypted.js"))
        .args([
            APP_ID,
            KEY,
            SECRET,
            "127.0.0.1",
            &server.port.to_string(),
            MASTER,
            "private-encrypted-orders",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(js.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "READY");
    let mut config = pusher_std::rest::Config::new(APP_ID, KEY, SECRET)
        .host("127.0.0.1", server.port, false)
        .encryption_master_key_base64(MASTER)
        .unwrap();
    config.proxy = pusher_std::http::ProxyConfig::Off;
    let rest = pusher_std::rest::Rest::new(config).unwrap();
    rest.trigger(
        &["private-encrypted-orders"],
        "secret",
        r#"{"id":42,"note":"é 🔒"}"#,
    )
    .unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), r#"{"id":42,"note":"é 🔒"}"#);
    assert!(js.wait().unwrap().success());
}
