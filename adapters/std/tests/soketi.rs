//! Interop against a real server nobody here wrote: soketi 1.6.1 on loopback, with pusher-js
//! and the official npm and PyPI `pusher` libraries as the other peers.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use pusher_std::rest::BatchItem;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn channels_presence_client_events_and_rest() {
    let server = Soketi::start();
    let rest = server.rest();

    let a = ClientThread::spawn(
        server.options(),
        &["public-ch", "private-ch", "presence-room"],
        Some("alice"),
    );
    a.wait_for("pusher:subscription_succeeded presence-room", WAIT);
    a.wait_for("pusher:subscription_succeeded private-ch", WAIT);
    a.wait_for("pusher:subscription_succeeded public-ch", WAIT);

    // Presence: a second client joins, both see each other.
    let b = ClientThread::spawn(
        server.options(),
        &["public-ch", "private-ch", "presence-room"],
        Some("bob"),
    );
    b.wait_for("pusher:subscription_succeeded presence-room", WAIT);
    a.wait_for("pusher:member_added presence-room", WAIT);
    assert!(a.wait_for("pusher:member_added", WAIT).contains("bob"));
    b.wait_for("pusher:subscription_succeeded private-ch", WAIT);

    // Client events between the two, not echoed to the sender.
    a.send(Cmd::Trigger(
        "private-ch".into(),
        "client-hello".into(),
        r#"{"from":"alice"}"#.into(),
    ));
    b.wait_for(r#"client-hello private-ch {"from":"alice"}"#, WAIT);
    a.send(Cmd::Trigger(
        "presence-room".into(),
        "client-wave".into(),
        r#"{"n":1}"#.into(),
    ));
    let wave = b.wait_for("client-wave presence-room", WAIT);
    assert!(
        wave.ends_with("alice"),
        "presence client events carry user_id: {wave}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(a.count("client-hello"), 0);

    // Our REST library triggers; our client receives (unicode and escapes intact).
    rest.trigger(&["public-ch"], "news", r#"{"text":"héllo \"world\" 🎉"}"#)
        .unwrap();
    a.wait_for(r#"news public-ch {"text":"héllo \"world\" 🎉"}"#, WAIT);

    // socket_id exclusion: a does not get it, b does.
    let sa = a.socket();
    rest.trigger_with(&["public-ch"], "excluded", r#"{"x":1}"#, Some(&sa), None)
        .unwrap();
    b.wait_for("excluded public-ch", WAIT);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(a.count("excluded"), 0);

    // Batch trigger.
    let item = |e: &str| BatchItem {
        channel: "public-ch".into(),
        event: e.into(),
        data: "{}".into(),
        socket_id: None,
    };
    rest.trigger_batch(&[item("batch-1"), item("batch-2")])
        .unwrap();
    a.wait_for("batch-1 public-ch", WAIT);
    a.wait_for("batch-2 public-ch", WAIT);

    // The official PyPI library triggers; our client receives.
    let dir = peers_dir();
    let official_trigger =
        |mut cmd: Command, script: &str, channel: &str, event: &str, data: &str| {
            let out = cmd
                .arg(peer_script(script))
                .args([
                    APP_ID,
                    KEY,
                    SECRET,
                    &server.port.to_string(),
                    channel,
                    event,
                    data,
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{script}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
    let python = Command::new(dir.join("venv/bin/python"));
    official_trigger(
        python,
        "pusher_py_trigger.py",
        "public-ch",
        "from-python",
        r#"{"m":"hi from python"}"#,
    );
    a.wait_for(r#"from-python public-ch {"m": "hi from python"}"#, WAIT);

    // The official npm library triggers on a private channel; our client receives.
    let mut node = Command::new("node");
    node.env("NODE_PATH", dir.join("node_modules"));
    official_trigger(
        node,
        "pusher_node_trigger.js",
        "private-ch",
        "from-node",
        r#"{"m":"hi from node"}"#,
    );
    a.wait_for(r#"from-node private-ch {"m":"hi from node"}"#, WAIT);

    // Channel and user queries.
    let channels: serde_json::Value =
        serde_json::from_str(&rest.channels(None, None).unwrap()).unwrap();
    for c in ["public-ch", "private-ch", "presence-room"] {
        assert!(channels["channels"].get(c).is_some(), "{channels}");
    }
    let info: serde_json::Value =
        serde_json::from_str(&rest.channel("presence-room", Some("user_count")).unwrap()).unwrap();
    assert_eq!(info["occupied"], true);
    assert_eq!(info["user_count"], 2);
    let users: serde_json::Value =
        serde_json::from_str(&rest.users("presence-room").unwrap()).unwrap();
    let mut ids: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["alice", "bob"]);

    // Bob leaves; Alice sees it.
    b.stop();
    a.wait_for("pusher:member_removed presence-room - bob", WAIT);
    a.stop();
}

#[test]
fn pusher_js_receives_our_trigger() {
    let server = Soketi::start();
    let rest = server.rest();
    let dir = peers_dir();
    let mut js = Command::new("node")
        .env("NODE_PATH", dir.join("node_modules"))
        .arg(peer_script("pusher_js_listen.js"))
        .args([
            KEY,
            "127.0.0.1",
            &server.port.to_string(),
            "js-channel",
            "greeting",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(js.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "READY");
    rest.trigger(&["js-channel"], "greeting", r#"{"from":"pusher-rs","n":1}"#)
        .unwrap();
    assert_eq!(
        lines.next().unwrap().unwrap(),
        r#"{"from":"pusher-rs","n":1}"#
    );
    assert!(js.wait().unwrap().success());
}

#[test]
fn signin_and_send_to_user() {
    let server = Soketi::start_with_user_auth();
    let rest = server.rest();
    let c = ClientThread::spawn(server.options(), &[], Some("carol"));
    c.socket();
    c.send(Cmd::Signin);
    c.wait_for(r#"pusher:signin_success - {\"id\":\"carol\"}"#, WAIT);
    // The #server-to-user channel is subscribed once the server accepts the sign-in.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let _ = rest.send_to_user("carol", "direct", r#"{"private":true}"#);
        if c.count("direct #server-to-user-carol") > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{:#?}",
            c.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    c.stop();
}

#[test]
fn server_restart_mid_session_resubscribes_everything() {
    let server = Soketi::start();
    let port = server.port;
    let a = ClientThread::spawn(
        server.options(),
        &["public-ch", "private-ch", "presence-room"],
        Some("dave"),
    );
    a.wait_for("pusher:subscription_succeeded presence-room", WAIT);
    let first = a.socket();
    server.stop();
    a.wait_for("state Connecting", WAIT);
    let server = Soketi::start_on(port);
    // Back: a new socket id, and every channel subscribed again (private and presence with
    // fresh auth for the new socket id).
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    while a.count("pusher:subscription_succeeded presence-room") < 2
        || a.count("pusher:subscription_succeeded private-ch") < 2
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{:#?}",
            a.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_ne!(a.socket(), first);
    let rest = server.rest();
    rest.trigger(&["private-ch", "public-ch"], "after-restart", "{}")
        .unwrap();
    a.wait_for("after-restart private-ch", WAIT);
    a.wait_for("after-restart public-ch", WAIT);
    a.stop();
}

/// A pusher-js style auth endpoint (form POST), served here by our REST library's signer.
fn auth_endpoint() -> (u16, std::thread::JoinHandle<usize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let rest = pusher_std::rest::Rest::new(pusher_std::rest::Config::new(APP_ID, KEY, SECRET))
            .unwrap();
        let mut served = 0;
        for stream in listener.incoming().take(2) {
            let mut stream = stream.unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 2048];
            // Read the head and the form body (Content-Length).
            loop {
                let n = stream.read(&mut buf).unwrap();
                req.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&req);
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if req.len() >= head_end + 4 + len {
                        break;
                    }
                }
            }
            let text = String::from_utf8_lossy(&req).into_owned();
            let form = text.split("\r\n\r\n").nth(1).unwrap();
            let field = |k: &str| {
                form.split('&')
                    .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                    .map(|v| v.replace("%2D", "-"))
                    .unwrap()
            };
            let (socket, channel) = (field("socket_id"), field("channel_name"));
            let data = channel
                .starts_with("presence-")
                .then_some(r#"{"user_id":"endpoint-user"}"#);
            let body = rest.authorize_channel(&socket, &channel, data).unwrap();
            write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                .unwrap();
            served += 1;
        }
        served
    });
    (port, handle)
}

#[test]
fn http_auth_endpoint_authorizes_private_and_presence() {
    use pusher_std::auth::HttpAuthorizer;
    use pusher_std::pusher::{Buffers, Pusher};
    let server = Soketi::start();
    let (port, endpoint) = auth_endpoint();
    let mut buffers = Buffers::default();
    let mut p = Pusher::new(&server.options(), &mut buffers).unwrap();
    p.set_authorizer(HttpAuthorizer::new(&format!("http://127.0.0.1:{port}/pusher/auth")).unwrap());
    p.subscribe("private-ep").unwrap();
    p.subscribe("presence-ep").unwrap();
    p.connect();
    let ok = p.run_until(
        |p| {
            use pusher_core::client::ChannelState::Subscribed;
            p.client().channel_state("private-ep") == Some(Subscribed)
                && p.client().channel_state("presence-ep") == Some(Subscribed)
        },
        WAIT,
    );
    assert!(ok, "not subscribed through the auth endpoint");
    assert_eq!(p.client().me("presence-ep"), Some("endpoint-user"));
    assert_eq!(p.client().member_count("presence-ep"), 1);
    p.disconnect();
    assert_eq!(endpoint.join().unwrap(), 2);
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
    p.connect();
    assert!(!p.run_until(
        |p| p.state() == pusher_core::client::State::Connected,
        Duration::from_secs(2)
    ));
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
