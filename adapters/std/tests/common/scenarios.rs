//! The interop scenarios, each a function of the server it runs against, so the same suite
//! runs on soketi and on our dev server in every compat mode.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::*;
use pusher_std::rest::BatchItem;

pub const WAIT: Duration = Duration::from_secs(10);

/// Public, private and presence channels, client events, and our REST library, with our
/// client on both ends.
pub fn channels_presence_client_events_and_rest(server: &dyn Server) {
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
        info: None,
    };
    rest.trigger_batch(&[item("batch-1"), item("batch-2")])
        .unwrap();
    a.wait_for("batch-1 public-ch", WAIT);
    a.wait_for("batch-2 public-ch", WAIT);

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

/// pusher-js in Node receives what our REST library triggers.
pub fn pusher_js_receives_our_trigger(server: &dyn Server) {
    let rest = server.rest();
    let dir = peers_dir();
    let mut js = Command::new("node")
        .env("NODE_PATH", dir.join("node_modules"))
        .arg(peer_script("pusher_js_listen.js"))
        .args([
            KEY,
            "127.0.0.1",
            &server.port().to_string(),
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

/// Sign-in, then an event sent to the user over REST.
pub fn signin_and_send_to_user(server: &dyn Server) {
    let rest = server.rest();
    let c = ClientThread::spawn(server.options(), &[], Some("carol"));
    c.socket();
    c.send(Cmd::Signin);
    if !server.signs_in() {
        // Reverb: no user authentication. The client reports the refusal and carries on
        // on the same socket.
        c.wait_for("error pusher:error 4200", WAIT);
        let socket = c.socket();
        c.send(Cmd::Subscribe("after-refusal".into()));
        c.wait_for("pusher:subscription_succeeded after-refusal", WAIT);
        rest.trigger(&["after-refusal"], "still-here", "{}")
            .unwrap();
        c.wait_for("still-here after-refusal", WAIT);
        assert_eq!(c.socket(), socket, "the socket stayed open");
        assert_eq!(
            c.count("state Connecting"),
            1,
            "{:#?}",
            c.log.lock().unwrap()
        );
        c.stop();
        return;
    }
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

/// The server goes away and comes back on the same port: everything is subscribed again.
pub fn server_restart_mid_session_resubscribes_everything<S: Server>(
    start: impl Fn(Option<u16>) -> S,
) {
    let server = start(None);
    let port = server.port();
    let a = ClientThread::spawn(
        server.options(),
        &["public-ch", "private-ch", "presence-room"],
        Some("dave"),
    );
    a.wait_for("pusher:subscription_succeeded presence-room", WAIT);
    let first = a.socket();
    drop(server);
    a.wait_for("state Connecting", WAIT);
    let server = start(Some(port));
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
pub fn auth_endpoint() -> (u16, std::thread::JoinHandle<usize>) {
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

/// pusher-js style HTTP auth endpoint for private and presence channels.
pub fn http_auth_endpoint_authorizes_private_and_presence(server: &dyn Server) {
    use pusher_std::auth::HttpAuthorizer;
    use pusher_std::pusher::{Buffers, Pusher};
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

/// The official PyPI and npm libraries trigger; our client receives.
pub fn official_libraries_trigger(server: &dyn Server) {
    let a = ClientThread::spawn(server.options(), &["public-ch", "private-ch"], None);
    a.wait_for("pusher:subscription_succeeded private-ch", WAIT);
    a.wait_for("pusher:subscription_succeeded public-ch", WAIT);
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
                    &server.port().to_string(),
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

    a.stop();
}

/// A third-party client.
#[derive(Debug, Clone, Copy)]
pub enum Peer {
    /// pusher-js 8.6.0 in Node.
    PusherJs,
    /// pysher 1.0.8.
    Pysher,
}

/// A third-party client subscribes to a public, a private and a presence channel; the
/// official npm library triggers on the private and presence ones, the PyPI one on the public
/// one; the client receives all three.
pub fn third_party_client_receives_official_triggers(server: &dyn Server, peer: Peer) {
    let dir = peers_dir();
    let port = server.port().to_string();
    let prefix = match peer {
        Peer::PusherJs => "js-peer",
        Peer::Pysher => "py-peer",
    };
    let mut cmd = match peer {
        Peer::PusherJs => {
            let mut c = Command::new("node");
            c.env("NODE_PATH", dir.join("node_modules"))
                .arg(peer_script("pusher_js_channels.js"))
                .args([APP_ID, KEY, SECRET, "127.0.0.1", &port, "peer-user", prefix]);
            c
        }
        Peer::Pysher => {
            let mut c = Command::new(dir.join("venv/bin/python"));
            c.arg(peer_script("pysher_channels.py")).args([
                KEY,
                "127.0.0.1",
                &port,
                SECRET,
                "peer-user",
                prefix,
            ]);
            c
        }
    };
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().map(|l| l.unwrap()).unwrap_or_default();
    let mut members = None;
    loop {
        let line = next();
        if let Some(m) = line.strip_prefix("MEMBERS ") {
            members = Some(m.to_owned());
        } else if line == "READY" {
            break;
        } else {
            panic!(
                "{peer:?} did not subscribe: {line:?}, exit {:?}",
                child.wait()
            );
        }
    }
    assert!(
        members.unwrap().starts_with('1'),
        "one presence member: itself"
    );
    let trigger = |mut cmd: Command, script: &str, channel: &str, data: &str| {
        let out = cmd
            .arg(peer_script(script))
            .args([APP_ID, KEY, SECRET, &port, channel, "greeting", data])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let node = || {
        let mut c = Command::new("node");
        c.env("NODE_PATH", dir.join("node_modules"));
        c
    };
    let private = format!("private-{prefix}");
    let presence = format!("presence-{prefix}");
    trigger(
        node(),
        "pusher_node_trigger.js",
        &private,
        r#"{"from":"node","to":"private"}"#,
    );
    trigger(
        node(),
        "pusher_node_trigger.js",
        &presence,
        r#"{"from":"node","to":"presence"}"#,
    );
    let python = Command::new(dir.join("venv/bin/python"));
    trigger(
        python,
        "pusher_py_trigger.py",
        prefix,
        r#"{"from":"python","to":"public"}"#,
    );
    let mut got = std::collections::BTreeMap::new();
    for _ in 0..3 {
        let line = next();
        let (channel, data) = line.split_once(' ').unwrap_or((&line, ""));
        let data: serde_json::Value =
            serde_json::from_str(data).unwrap_or_else(|e| panic!("{peer:?} printed {line:?}: {e}"));
        got.insert(channel.to_owned(), data);
    }
    assert_eq!(got[prefix]["from"], "python");
    assert_eq!(got[&private]["to"], "private");
    assert_eq!(got[&presence]["to"], "presence");
    assert!(child.wait().unwrap().success(), "{peer:?} exit status");
}

/// The official libraries' batch triggers and channel/user queries, with our client in the
/// channels.
pub fn official_libraries_query_and_batch(server: &dyn Server) {
    let dir = peers_dir();
    let port = server.port().to_string();
    let a = ClientThread::spawn(server.options(), &["public-q", "presence-q"], Some("alice"));
    a.wait_for("pusher:subscription_succeeded presence-q", WAIT);
    a.wait_for("pusher:subscription_succeeded public-q", WAIT);
    let run = |mut cmd: Command, script: &str| -> serde_json::Value {
        let out = cmd
            .arg(peer_script(script))
            .args([APP_ID, KEY, SECRET, &port, "public-q", "presence-q"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let mut node = Command::new("node");
    node.env("NODE_PATH", dir.join("node_modules"));
    let python = Command::new(dir.join("venv/bin/python"));
    for (out, lib) in [
        (run(node, "pusher_node_queries.js"), "node"),
        (run(python, "pusher_py_queries.py"), "py"),
    ] {
        for c in ["public-q", "presence-q"] {
            assert!(out["channels"]["channels"].get(c).is_some(), "{lib}: {out}");
        }
        let listed = &out["presence"]["channels"]["presence-q"];
        assert!(listed.is_object(), "{lib}: {out}");
        if server.lists_user_count() {
            assert_eq!(listed["user_count"], 1, "{lib}: {out}");
        }
        assert!(
            out["presence"]["channels"].get("public-q").is_none(),
            "{lib}: {out}"
        );
        assert_eq!(out["channel"]["occupied"], true, "{lib}: {out}");
        assert_eq!(out["channel"]["user_count"], 1, "{lib}: {out}");
        assert_eq!(
            out["users"]["users"],
            serde_json::json!([{"id": "alice"}]),
            "{lib}: {out}"
        );
        a.wait_for(&format!("batch-{lib}-1 public-q"), WAIT);
        a.wait_for(&format!("batch-{lib}-2 public-q"), WAIT);
    }
    a.stop();
}

/// A reading as firmware would send it: nested objects, arrays, numbers, booleans, nulls,
/// quotes and non-ASCII text.
#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
pub struct Reading<'a> {
    pub sensor: &'a str,
    pub temp: f32,
    pub ok: bool,
    pub tags: Vec<&'a str>,
    pub note: Option<String>,
    pub limits: Limits,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
pub struct Limits {
    pub low: i16,
    pub high: i16,
}

/// Typed payloads with third parties: a struct our client sends as a client event arrives
/// at pusher-js equal field by field, and what a Python app triggers through the official
/// PyPI library with data it encoded with json.dumps (every non-ASCII character escaped,
/// emoji as surrogate pairs) decodes into our struct.
pub fn typed_payloads_with_third_parties(server: &dyn Server) {
    let dir = peers_dir();
    let port = server.port().to_string();
    let a = ClientThread::spawn(server.options(), &["private-typed", "public-typed"], None);
    a.wait_for("pusher:subscription_succeeded private-typed", WAIT);
    a.wait_for("pusher:subscription_succeeded public-typed", WAIT);
    let mut js = Command::new("node")
        .env("NODE_PATH", dir.join("node_modules"))
        .arg(peer_script("pusher_js_client_event.js"))
        .args([APP_ID, KEY, SECRET, "127.0.0.1", &port, "private-typed"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(js.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "READY");
    a.send(Cmd::Call(Box::new(|p| {
        let reading = Reading {
            sensor: "küche \"nord\" 🌡",
            temp: -4.5,
            ok: true,
            tags: vec!["a", "b"],
            note: None,
            limits: Limits { low: -40, high: 85 },
        };
        p.trigger_json("private-typed", "client-reading", &reading)
            .map_err(|e| e.to_string())
    })));
    let got: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        got,
        serde_json::json!({"sensor":"küche \"nord\" 🌡","temp":-4.5,"ok":true,"tags":["a","b"],"note":null,"limits":{"low":-40,"high":85}})
    );
    assert!(js.wait().unwrap().success());

    let python = Command::new(dir.join("venv/bin/python"));
    let sent = r#"{"sensor":"caf\u00e9 \ud83c\udf55","temp":21.5,"ok":false,"tags":["x"],"note":"say \"hi\"\n","limits":{"low":0,"high":1}}"#;
    let out = {
        let mut c = python;
        c.arg(peer_script("pusher_py_trigger.py"))
            .args([
                APP_ID,
                KEY,
                SECRET,
                &port,
                "public-typed",
                "from-python-typed",
                sent,
                "dumps",
            ])
            .output()
            .unwrap()
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = a.wait_for("from-python-typed public-typed ", WAIT);
    let data = line
        .strip_prefix("from-python-typed public-typed ")
        .and_then(|l| l.strip_suffix(" -"))
        .unwrap();
    assert!(
        data.contains("\\u00e9"),
        "json.dumps escapes non-ASCII: {data}"
    );
    let mut scratch = vec![0u8; 2 * data.len()];
    let r: Reading = pusher_core::client::EventData {
        event: "from-python-typed",
        channel: Some("public-typed"),
        data: Some(data),
        user_id: None,
    }
    .json(&mut scratch)
    .unwrap();
    assert_eq!((r.sensor, r.temp, r.ok), ("café 🍕", 21.5, false));
    assert_eq!(
        (r.tags, r.note.as_deref()),
        (vec!["x"], Some("say \"hi\"\n"))
    );
    assert_eq!(r.limits, Limits { low: 0, high: 1 });
    a.stop();
}

/// The REST answers as types: channel lists, one channel, a presence channel's users, a
/// typed trigger with `info`.
pub fn typed_rest(server: &dyn Server) {
    let rest = server.rest();
    let a = ClientThread::spawn(
        server.options(),
        &["presence-tr", "public-tr"],
        Some("alice"),
    );
    a.wait_for("pusher:subscription_succeeded presence-tr", WAIT);
    a.wait_for("pusher:subscription_succeeded public-tr", WAIT);
    let all = rest.channels_info(None, None).unwrap();
    assert!(all.channels.contains_key("presence-tr") && all.channels.contains_key("public-tr"));
    let presence = rest
        .channels_info(Some("presence-"), Some("user_count"))
        .unwrap();
    assert_eq!(
        presence.channels.keys().collect::<Vec<_>>(),
        ["presence-tr"]
    );
    if server.lists_user_count() {
        assert_eq!(presence.channels["presence-tr"].user_count, Some(1));
    }
    let one = rest
        .channel_info("presence-tr", Some("user_count"))
        .unwrap();
    assert!(one.occupied);
    assert_eq!(one.user_count, Some(1));
    assert!(!rest.channel_info("empty-tr", None).unwrap().occupied);
    assert_eq!(rest.user_ids("presence-tr").unwrap(), ["alice"]);
    #[derive(serde::Serialize)]
    struct Note<'a> {
        text: &'a str,
        n: u8,
    }
    let info = rest
        .trigger_json_info(
            &["public-tr"],
            "note",
            &Note { text: "é", n: 1 },
            "subscription_count",
        )
        .unwrap();
    if server.answers_trigger_info() {
        assert_eq!(info.channels["public-tr"].subscription_count, Some(1));
    }
    a.wait_for(r#"note public-tr {"text":"é","n":1}"#, WAIT);
    // `info` on batch items: the answer lists each item's attributes, index-aligned.
    let batch = rest
        .trigger_batch(&[
            BatchItem {
                channel: "public-tr".into(),
                event: "b1".into(),
                data: "{}".into(),
                socket_id: None,
                info: Some("subscription_count".into()),
            },
            BatchItem {
                channel: "presence-tr".into(),
                event: "b2".into(),
                data: "{}".into(),
                socket_id: None,
                info: Some("user_count".into()),
            },
        ])
        .unwrap();
    if server.answers_trigger_info() {
        let v: serde_json::Value = serde_json::from_str(&batch).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"batch":[{"subscription_count":1},{"user_count":1}]}),
            "{batch}"
        );
    }
    a.wait_for("b1 public-tr", WAIT);
    a.stop();
}

/// A payload of every JSON shape, as a Rust app declares it.
#[derive(serde::Deserialize, Debug, PartialEq)]
struct Shape {
    text: String,
    n: i64,
    x: f64,
    ok: bool,
    nothing: Option<String>,
    tags: Vec<String>,
    nested: Nested,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Nested {
    deep: Vec<Vec<u8>>,
    empty: Nested2,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Nested2 {}

/// Payloads of every shape triggered through REST reach a handler bound on a pusher-std
/// client, which decodes them into a struct through the core's no_std path (`EventData::json`)
/// and through serde_json, with the same result: nested objects, arrays, numbers, booleans,
/// null, escaped quotes and backslashes, raw UTF-8 as JSON.stringify writes it, and `\u`
/// escapes with a surrogate pair as Python's json.dumps writes it.
pub fn typed_payload_shapes_through_handlers(server: &dyn Server) {
    let stringify = "{\"text\":\"caf\u{e9} \\\"q\\\" \\\\ \u{1f355}\\n\",\"n\":-42,\"x\":1.5e3,\"ok\":true,\"nothing\":null,\"tags\":[\"a\",\"\u{fc}\"],\"nested\":{\"deep\":[[1,2],[]],\"empty\":{}}}";
    let dumps = r#"{"text": "caf\u00e9 \"q\" \\ \ud83c\udf55\n", "n": -42, "x": 1500.0, "ok": true, "nothing": null, "tags": ["a", "\u00fc"], "nested": {"deep": [[1, 2], []], "empty": {}}}"#;
    let want = Shape {
        text: "café \"q\" \\ 🍕\n".into(),
        n: -42,
        x: 1500.0,
        ok: true,
        nothing: None,
        tags: vec!["a".into(), "ü".into()],
        nested: Nested {
            deep: vec![vec![1, 2], vec![]],
            empty: Nested2 {},
        },
    };

    type Decoded = (String, Result<Shape, String>, Result<Shape, String>);
    let (tx, rx) = std::sync::mpsc::channel::<Decoded>();
    let (ready_tx, ready) = std::sync::mpsc::channel::<()>();
    let stop = Arc::new(AtomicBool::new(false));
    let options = server.options();
    let stop2 = stop.clone();
    let client = std::thread::spawn(move || {
        let mut buffers = Buffers::default();
        let mut p = Pusher::new(&options, &mut buffers).unwrap();
        p.bind("public-shapes", "shape", move |d| {
            let data = d.data.unwrap_or("");
            let mut scratch = vec![0u8; 2 * data.len()];
            let core = d.json::<Shape>(&mut scratch).map_err(|e| e.to_string());
            let std = serde_json::from_str::<Shape>(data).map_err(|e| e.to_string());
            tx.send((data.to_owned(), core, std)).unwrap();
        });
        p.bind_event("pusher:subscription_succeeded", move |_| {
            let _ = ready_tx.send(());
        });
        p.subscribe("public-shapes").unwrap();
        p.connect();
        while !stop2.load(Ordering::Relaxed) {
            p.run_for(Duration::from_millis(20));
        }
    });
    ready
        .recv_timeout(WAIT)
        .expect("subscribed to public-shapes");

    let rest = server.rest();
    for (style, text) in [("JSON.stringify", stringify), ("json.dumps", dumps)] {
        rest.trigger(&["public-shapes"], "shape", text).unwrap();
        let (data, core, std) = rx.recv_timeout(WAIT).expect("the handler saw the event");
        assert_eq!(
            data, text,
            "{style}: the handler gets the data as triggered"
        );
        assert_eq!(core.as_ref(), Ok(&want), "{style}, core path: {data}");
        assert_eq!(std.as_ref(), Ok(&want), "{style}, serde_json: {data}");
    }
    // A payload that is not the struct reaches the handler as a typed error, not a panic.
    rest.trigger(&["public-shapes"], "shape", r#"{"text":1}"#)
        .unwrap();
    let (_, core, std) = rx.recv_timeout(WAIT).unwrap();
    assert!(core.is_err() && std.is_err(), "{core:?} {std:?}");
    stop.store(true, Ordering::Relaxed);
    client.join().unwrap();
}

/// The owned client: started once, subscribed from one thread, its events received on
/// another, a callback calling back into it; dropping it closes the connection, and the
/// server sees the channel empty.
pub fn background_client_across_threads(server: &dyn Server) {
    use pusher_std::background::{Background, Handle, Update};

    let rest = server.rest();
    let slot: Arc<Mutex<Option<Handle>>> = Arc::default();
    let slot2 = slot.clone();
    let (client, updates) = Background::start(server.options(), move |p| {
        // A callback that uses the client: on `hello`, it subscribes to a second channel
        // (queued, since it runs on the client's own thread).
        p.bind("public-bg", "hello", move |_| {
            if let Some(h) = slot2.lock().unwrap().as_ref() {
                h.subscribe("public-bg-2").unwrap();
            }
        });
    })
    .unwrap();
    *slot.lock().unwrap() = Some(client.handle());
    let handle = client.handle();
    std::thread::spawn(move || handle.subscribe("public-bg").unwrap())
        .join()
        .unwrap();
    let receiver = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + WAIT;
        while let Ok(u) = updates.recv_timeout(deadline - std::time::Instant::now()) {
            if let Update::Event {
                event,
                channel,
                data,
                ..
            } = u
            {
                let done = event == "pusher:subscription_succeeded"
                    && channel.as_deref() == Some("public-bg-2");
                seen.push(format!(
                    "{event} {} {}",
                    channel.unwrap_or_default(),
                    data.unwrap_or_default()
                ));
                if done {
                    break;
                }
            }
        }
        seen
    });
    wait_until(|| rest.channel_info("public-bg", None).unwrap().occupied);
    // The handles' view follows the client thread's steps (within one 10 ms poll).
    wait_until(|| client.socket_id().is_some());
    assert_eq!(client.state(), pusher_core::client::State::Connected);
    rest.trigger(&["public-bg"], "hello", r#"{"n":1}"#).unwrap();
    let seen = receiver.join().unwrap();
    assert!(
        seen.contains(&"pusher:subscription_succeeded public-bg ".to_owned()),
        "{seen:?}"
    );
    assert!(
        seen.contains(&r#"hello public-bg {"n":1}"#.to_owned()),
        "{seen:?}"
    );
    assert!(
        seen.last()
            .unwrap()
            .starts_with("pusher:subscription_succeeded public-bg-2"),
        "{seen:?}"
    );
    // From another thread, a question answered on the client's thread.
    let handle = client.handle();
    let state =
        std::thread::spawn(move || handle.with(|p| p.client().channel_state("public-bg-2")))
            .join()
            .unwrap()
            .unwrap();
    assert_eq!(state, Some(pusher_core::client::ChannelState::Subscribed));
    assert!(rest.channel_info("public-bg-2", None).unwrap().occupied);
    *slot.lock().unwrap() = None;
    drop(client);
    wait_until(|| !rest.channel_info("public-bg", None).unwrap().occupied);
    assert!(!rest.channel_info("public-bg-2", None).unwrap().occupied);
}

fn wait_until(mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "not within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Signs like [`LocalSigner`], but the auth endpoint refuses `private-refused` with 403.
struct RefusingOne(LocalSigner);

impl pusher_std::auth::Authorizer for RefusingOne {
    fn authorize(
        &self,
        socket_id: pusher_core::name::SocketId<'_>,
        channel: pusher_core::name::ChannelName<'_>,
    ) -> Result<pusher_std::auth::ChannelAuth, pusher_std::auth::AuthFailure> {
        if channel.as_str() == "private-refused" {
            return Err(pusher_std::auth::AuthFailure {
                status: Some(403),
                message: "not for you".into(),
            });
        }
        self.0.authorize(socket_id, channel)
    }

    fn authenticate_user(
        &self,
        socket_id: pusher_core::name::SocketId<'_>,
    ) -> Result<pusher_std::auth::UserAuth, pusher_std::auth::AuthFailure> {
        self.0.authenticate_user(socket_id)
    }
}

/// What the server offers beyond the common protocol.
pub struct Extras {
    /// `pusher_internal:subscription_count` (an app setting on Pusher).
    pub subscription_count: bool,
    /// Watchlist events after sign-in.
    pub watchlist: bool,
}

/// pusher-js parity of pusher-std: handlers bound per channel, event, globally, to the
/// user and the watchlist, removed by id, by name and all at once; the channel handle
/// (state, members, me, trigger, bind); `all_channels`; the synthesized
/// `pusher:subscription_succeeded` with presence members, `pusher:subscription_error` with
/// the status, `pusher:subscription_count` and `pusher:cache_miss`.
pub fn pusher_js_parity(server: &dyn Server, extras: Extras) {
    use pusher_core::client::ChannelState;
    use pusher_std::pusher::EventData;

    let rest = server.rest();
    let mut buffers = Buffers::default();
    let mut p = Pusher::new(&server.options(), &mut buffers).unwrap();
    let mut signer = LocalSigner::new(KEY, SECRET)
        .member("alice", &serde_json::json!({"name": "Alice"}))
        .unwrap();
    signer.user_data = Some(r#"{"id":"alice","watchlist":["bob"]}"#.into());
    p.set_authorizer(RefusingOne(signer));
    let log: Log = Arc::default();
    let tap = |tag: &'static str| {
        let log = log.clone();
        move |e: &EventData<'_>| {
            log.lock().unwrap().push(format!(
                "{tag} {} {} {}",
                e.event,
                e.channel.unwrap_or("-"),
                e.data.unwrap_or("-")
            ))
        }
    };
    let errors = log.clone();
    p.on_error(move |e| errors.lock().unwrap().push(format!("failure {e}")));
    let global = p.bind_global(tap("global"));
    p.bind_event("pusher:subscription_error", tap("error"));
    p.bind_event("pusher:cache_miss", tap("miss"));
    p.bind_event("pusher:subscription_count", tap("count"));
    p.bind(
        "presence-room",
        "pusher:subscription_succeeded",
        tap("joined"),
    );
    p.bind_user("notice", tap("user"));
    p.bind_watchlist("online", tap("online"));
    p.bind_watchlist("offline", tap("offline"));
    for c in [
        "public-p",
        "presence-room",
        "cache-empty",
        "private-refused",
    ] {
        p.subscribe(c).unwrap();
    }
    p.signin();
    p.connect();
    let seen = |needle: &str| log.lock().unwrap().iter().any(|l| l.starts_with(needle));
    let ok = p.run_until(
        |p| {
            p.all_channels()
                .iter()
                .filter(|(_, s)| *s == ChannelState::Subscribed)
                .count()
                == 3
                && seen("error pusher:subscription_error private-refused")
                && seen("miss pusher:cache_miss cache-empty")
        },
        WAIT,
    );
    assert!(ok, "{:#?} {:?}", log.lock().unwrap(), p.all_channels());
    let mut all = p.all_channels();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        all,
        [
            ("cache-empty".to_owned(), ChannelState::Subscribed),
            ("presence-room".to_owned(), ChannelState::Subscribed),
            ("private-refused".to_owned(), ChannelState::Failed),
            ("public-p".to_owned(), ChannelState::Subscribed),
        ]
    );
    let lines = log.lock().unwrap().clone();
    assert!(
        lines.contains(
            &r#"error pusher:subscription_error private-refused {"type":"AuthError","status":403}"#
                .to_owned()
        ),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&r#"joined pusher:subscription_succeeded presence-room {"count":1,"me":{"id":"alice","info":{"name":"Alice"}},"members":{"alice":{"name":"Alice"}}}"#.to_owned()),
        "{lines:#?}"
    );

    // The channel handle.
    let mut room = p.channel("presence-room").unwrap();
    assert_eq!(room.name(), "presence-room");
    assert!(room.subscribed());
    assert_eq!(room.me().as_deref(), Some("alice"));
    assert_eq!(
        room.members(),
        [("alice".to_owned(), r#"{"name":"Alice"}"#.to_owned())]
    );
    let from_bob = room.bind("client-hi", tap("room"));
    assert!(p.channel("not-subscribed").is_none());

    // Bob joins the room and public-p, signs in (alice watches him) and says hi.
    let bob = ClientThread::spawn(
        server.options(),
        &["presence-room", "public-p"],
        Some("bob"),
    );
    bob.wait_for("pusher:subscription_succeeded presence-room", WAIT);
    bob.send(Cmd::Signin);
    bob.send(Cmd::Trigger(
        "presence-room".into(),
        "client-hi".into(),
        r#"{"from":"bob"}"#.into(),
    ));
    let ok = p.run_until(
        |p| {
            seen(r#"room client-hi presence-room {"from":"bob"}"#)
                && p.channel("presence-room").unwrap().member_count() == 2
                && (!extras.watchlist || seen(r#"online online - ["bob"]"#))
                && (!extras.subscription_count
                    || seen(r#"count pusher:subscription_count public-p {"subscription_count":2}"#))
        },
        WAIT,
    );
    assert!(ok, "{:#?}", log.lock().unwrap());
    // Alice answers through the handle; bob receives it.
    p.channel("presence-room")
        .unwrap()
        .trigger("client-hello", r#"{"from":"alice"}"#)
        .unwrap();
    p.run_for(Duration::from_millis(200));
    bob.wait_for(r#"client-hello presence-room {"from":"alice"}"#, WAIT);

    // Server-to-user events reach the user's handlers (where the server signs users in).
    if server.signs_in() {
        let ok = p.run_until(|_| seen("global pusher:signin_success"), WAIT);
        assert!(ok, "{:#?}", log.lock().unwrap());
        rest.send_to_user("alice", "notice", r#"{"n":1}"#).unwrap();
        assert!(
            p.run_until(
                |_| seen(r#"user notice #server-to-user-alice {"n":1}"#),
                WAIT
            ),
            "{:#?}",
            log.lock().unwrap()
        );
    }

    // Unbinding: by id, by event name, a channel's, and everything.
    assert!(p.unbind(global));
    assert!(!p.unbind(global));
    assert!(p.unbind(from_bob));
    assert_eq!(p.unbind_event("pusher:cache_miss"), 1);
    assert_eq!(
        p.channel("presence-room")
            .unwrap()
            .unbind("pusher:subscription_succeeded"),
        1
    );
    log.lock().unwrap().clear();
    rest.trigger(&["public-p"], "after", "{}").unwrap();
    bob.send(Cmd::Trigger(
        "presence-room".into(),
        "client-hi".into(),
        r#"{"again":1}"#.into(),
    ));
    p.run_for(Duration::from_millis(500));
    let lines = log.lock().unwrap().clone();
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("global") || l.starts_with("room")),
        "unbound handlers were called: {lines:#?}"
    );
    p.unbind_all();
    if server.signs_in() {
        rest.send_to_user("alice", "notice", "{}").unwrap();
    }
    bob.stop();
    p.run_for(Duration::from_millis(500));
    let lines = log.lock().unwrap().clone();
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("user") || l.starts_with("offline")),
        "{lines:#?}"
    );
}

/// An encrypted channel end to end with our std client: events our REST library seals (and,
/// with `official`, events the official npm library seals with the same master key) reach the
/// handler as plaintext; a tampered event is a typed decryption error, never data.
pub fn encrypted_channel_events_decrypt(server: &dyn Server, official: bool) {
    use pusher_std::pusher::{Buffers, Pusher};
    const MASTER: &str = "zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=";
    let mut buffers = Buffers::default();
    let mut p = Pusher::new(&server.options(), &mut buffers).unwrap();
    let mut signer = LocalSigner::new(KEY, SECRET);
    signer.encryption_master_key = Some(pusher_core::auth::decode_master_key(MASTER).unwrap());
    p.set_authorizer(signer);
    let seen = follow_encrypted(&mut p, "private-encrypted-e2e");
    let has = |needle: &str| seen.lock().unwrap().iter().any(|l| l == needle);

    let mut config = pusher_std::rest::Config::new(APP_ID, KEY, SECRET)
        .host("127.0.0.1", server.port(), false)
        .encryption_master_key_base64(MASTER)
        .unwrap();
    config.proxy = pusher_std::http::ProxyConfig::Off;
    let rest = pusher_std::rest::Rest::new(config).unwrap();
    rest.trigger(&["private-encrypted-e2e"], "ours", r#"{"n":1,"t":"é"}"#)
        .unwrap();
    assert!(
        p.run_until(|_| has(r#"ours {"n":1,"t":"é"}"#), WAIT),
        "{:?}",
        seen.lock().unwrap()
    );
    if official {
        let out = Command::new("node")
            .env("NODE_PATH", peers_dir().join("node_modules"))
            .arg(peer_script("pusher_node_trigger_encrypted.js"))
            .args([
                APP_ID,
                KEY,
                SECRET,
                &server.port().to_string(),
                MASTER,
                "private-encrypted-e2e",
                "theirs",
                r#"{"from":"node","n":2}"#,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            p.run_until(|_| has(r#"theirs {"from":"node","n":2}"#), WAIT),
            "{:?}",
            seen.lock().unwrap()
        );
    }
    // A forged event (sealed with another key) is reported, and no data reaches the handler.
    let mut wrong = pusher_std::rest::Config::new(APP_ID, KEY, SECRET)
        .host("127.0.0.1", server.port(), false)
        .encryption_master_key_base64("OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk=")
        .unwrap();
    wrong.proxy = pusher_std::http::ProxyConfig::Off;
    pusher_std::rest::Rest::new(wrong)
        .unwrap()
        .trigger(&["private-encrypted-e2e"], "forged", "{}")
        .unwrap();
    assert!(
        p.run_until(|_| has("undecryptable Forged"), WAIT),
        "{:?}",
        seen.lock().unwrap()
    );
    assert!(!seen.lock().unwrap().iter().any(|l| l.starts_with("forged")));
}

/// The app rotates its encryption master key while a client is subscribed: the first event
/// sealed with the new key fails with the old shared secret, the client authorizes the channel
/// once more (counted at the authorizer), and the held event reaches the handler as plaintext;
/// no decryption error is reported and the subscription is never redone.
pub fn encrypted_channel_key_rotation(server: &dyn Server) {
    use pusher_std::auth::{Authorizer, CallbackAuthorizer};
    use pusher_std::pusher::{Buffers, Pusher};
    use std::sync::atomic::{AtomicUsize, Ordering};
    const OLD: &str = "zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=";
    const NEW: &str = "OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk=";
    let current = Arc::new(Mutex::new(OLD));
    let asked = Arc::new(AtomicUsize::new(0));
    let (key_now, count) = (current.clone(), asked.clone());
    let authorizer = CallbackAuthorizer(
        move |socket_id: pusher_core::name::SocketId<'_>,
              channel: pusher_core::name::ChannelName<'_>| {
            count.fetch_add(1, Ordering::SeqCst);
            let mut signer = LocalSigner::new(KEY, SECRET);
            signer.encryption_master_key =
                Some(pusher_core::auth::decode_master_key(*key_now.lock().unwrap()).unwrap());
            signer.authorize(socket_id, channel)
        },
    );
    let mut buffers = Buffers::default();
    let mut p = Pusher::new(&server.options(), &mut buffers).unwrap();
    p.set_authorizer(authorizer);
    let seen = follow_encrypted(&mut p, "private-encrypted-rotating");
    let has = |needle: &str| seen.lock().unwrap().iter().any(|l| l == needle);
    let rest_with = |master: &str| {
        let mut config = pusher_std::rest::Config::new(APP_ID, KEY, SECRET)
            .host("127.0.0.1", server.port(), false)
            .encryption_master_key_base64(master)
            .unwrap();
        config.proxy = pusher_std::http::ProxyConfig::Off;
        pusher_std::rest::Rest::new(config).unwrap()
    };
    rest_with(OLD)
        .trigger(&["private-encrypted-rotating"], "before", r#"{"n":1}"#)
        .unwrap();
    assert!(p.run_until(|_| has(r#"before {"n":1}"#), WAIT));
    assert_eq!(asked.load(Ordering::SeqCst), 1);

    *current.lock().unwrap() = NEW;
    let new = rest_with(NEW);
    new.trigger(&["private-encrypted-rotating"], "after", r#"{"n":2}"#)
        .unwrap();
    new.trigger(&["private-encrypted-rotating"], "after", r#"{"n":3}"#)
        .unwrap();
    assert!(
        p.run_until(|_| has(r#"after {"n":3}"#), WAIT),
        "{:?}",
        seen.lock().unwrap()
    );
    let lines = seen.lock().unwrap().clone();
    let after: Vec<&String> = lines.iter().filter(|l| l.starts_with("after")).collect();
    assert_eq!(after, [r#"after {"n":2}"#, r#"after {"n":3}"#], "{lines:?}");
    assert!(
        !lines.iter().any(|l| l.starts_with("undecryptable")),
        "{lines:?}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("pusher:subscription_succeeded"))
            .count(),
        1,
        "{lines:?}"
    );
    assert_eq!(asked.load(Ordering::SeqCst), 2, "asked once more");
}

/// Subscribes `channel` and connects, logging its events as `EVENT DATA` and decryption
/// errors as `undecryptable ERROR`; returns once the subscription succeeded.
fn follow_encrypted(p: &mut pusher_std::pusher::Pusher<'_>, channel: &str) -> Log {
    use pusher_std::client_error::ClientError;
    let seen: Log = Arc::default();
    let log = seen.clone();
    p.bind_channel(channel, move |e| {
        log.lock()
            .unwrap()
            .push(format!("{} {}", e.event, e.data.unwrap_or("-")));
    });
    let errors = seen.clone();
    p.on_error(move |e| {
        if let ClientError::Decryption { error, .. } = e {
            errors
                .lock()
                .unwrap()
                .push(format!("undecryptable {error:?}"));
        }
    });
    p.subscribe(channel).unwrap();
    p.connect();
    let subscribed = |_: &mut pusher_std::pusher::Pusher<'_>| {
        seen.lock()
            .unwrap()
            .iter()
            .any(|l| l == "pusher:subscription_succeeded -")
    };
    assert!(p.run_until(subscribed, WAIT), "{:?}", seen.lock().unwrap());
    seen
}
