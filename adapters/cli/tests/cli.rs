//! The `pusher` binary: outputs equal the official libraries' vectors; listen, trigger and
//! doctor work against our dev server (and soketi, with the `interop-peers` feature); demo
//! runs on its own.

#[path = "../../std/tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::{APP_ID, Dev, KEY, SECRET, Server};

fn pusher() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pusher"));
    for var in [
        "PUSHER_URL",
        "PUSHER_KEY",
        "PUSHER_SECRET",
        "PUSHER_APP_ID",
        "PUSHER_CLUSTER",
        "PUSHER_ENCRYPTION_MASTER_KEY_BASE64",
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ] {
        c.env_remove(var);
    }
    c
}

fn stdout(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

#[test]
fn auth_matches_the_official_vectors() {
    let docs = [
        "--key",
        "278d425bdf160c739803",
        "--secret",
        "7ad3773142a6692b25b8",
        "--socket-id",
        "1234.1234",
    ];
    assert_eq!(
        stdout(
            pusher()
                .arg("auth")
                .args(docs)
                .args(["--channel", "private-foobar"])
        ),
        r#"{"auth":"278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"}"#
    );
    assert_eq!(
        stdout(pusher().arg("auth").args(docs).args([
            "--channel",
            "presence-foobar",
            "--channel-data",
            r#"{"user_id":"10","user_info":{"name":"Mr. Pusher"}}"#
        ])),
        r#"{"auth":"278d425bdf160c739803:48dac51d2d7569e1e9c0f48c227d4b26f238fa68e5c0bb04222c966909c4f7c4","channel_data":"{\"user_id\":\"10\",\"user_info\":{\"name\":\"Mr. Pusher\"}}"}"#
    );
    assert_eq!(
        stdout(
            pusher()
                .arg("auth")
                .args(docs)
                .args(["--user", r#"{"id":"12345"}"#])
        ),
        r#"{"auth":"278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba","user_data":"{\"id\":\"12345\"}"}"#
    );
    let bad = pusher()
        .arg("auth")
        .args(docs)
        .args(["--channel", "bad name"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn sign_matches_the_go_library_url() {
    let dir = std::env::temp_dir().join(format!("pusher-cli-sign-{}", std::process::id()));
    std::fs::write(
        &dir,
        br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#,
    )
    .unwrap();
    let out = stdout(
        pusher()
            .args([
                "sign",
                "POST",
                "/apps/3/events",
                "--timestamp",
                "1353088179",
            ])
            .args([
                "--key",
                "278d425bdf160c739803",
                "--secret",
                "7ad3773142a6692b25b8",
                "--body",
                dir.to_str().unwrap(),
            ]),
    );
    assert_eq!(
        out,
        "/apps/3/events?auth_key=278d425bdf160c739803&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
    );
    let _ = std::fs::remove_file(dir);
}

#[test]
fn webhook_verifies_and_prints_events() {
    let body = br#"{"time_ms":1403175510755,"events":[{"channel":"test_channel","name":"channel_vacated"}]}"#;
    let run = |sig: &str| {
        let mut child = pusher()
            .args([
                "webhook",
                "--app-id",
                "1",
                "--key",
                "123456789",
                "--secret",
                "tofu",
                "--key-header",
                "123456789",
            ])
            .args(["--signature", sig])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(body).unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = run("c17257e92037cd7de407ebc1ed174ceb7b2e518db127f44411b9ffc4f5b28cc5");
    assert!(ok.status.success());
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        r#"{"name":"channel_vacated","channel":"test_channel"}"#
    );
    assert!(!run("not-hex").status.success());
    assert!(!run(&"0".repeat(64)).status.success());
}

#[test]
fn listen_trigger_and_doctor_against_the_dev_server() {
    for compat in common::COMPATS {
        listen_trigger_and_doctor(&Dev::start(compat));
    }
}

#[cfg(feature = "interop-peers")]
#[test]
fn listen_trigger_and_doctor_against_soketi() {
    listen_trigger_and_doctor(&common::Soketi::start());
}

#[test]
fn trigger_goes_through_the_proxy_the_environment_names() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let proxy = common::proxy::ConnectProxy::start();
    let url = app_url(server.port(), SECRET);
    let via = format!("http://user:pa%40ss@127.0.0.1:{}", proxy.port);
    stdout(
        pusher()
            .env("PUSHER_URL", &url)
            .env("HTTP_PROXY", &via)
            .args(["trigger", "cli-proxy", "e", "{}"]),
    );
    let tunnels = proxy.tunnels.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(tunnels, 1, "the trigger went around the proxy");
}

#[test]
fn demo_runs_on_its_own_dev_server() {
    let out = stdout(pusher().arg("demo"));
    assert!(out.ends_with("received all 4 events"), "{out}");
    assert!(
        out.contains(r#"<< secret on private-demo: {"text":"only for authorized sockets 🔒"}"#),
        "{out}"
    );
}

fn listen_trigger_and_doctor(server: &dyn Server) {
    let url = app_url(server.port(), SECRET);
    let port = server.port().to_string();
    let mut listen = pusher()
        .env("PUSHER_URL", &url)
        .args([
            "listen",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--insecure",
            "--count",
            "2",
            "--seconds",
            "20",
        ])
        .args(["cli-public", "private-cli"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(listen.stdout.take().unwrap()).lines();
    // States first (JSON lines: stdout is a pipe), then both subscriptions.
    let mut subscribed = 0;
    while subscribed < 2 {
        let line = lines.next().unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        match v["event"].as_str() {
            Some("pusher:subscription_succeeded") => subscribed += 1,
            Some("pusher:state_change") => {}
            _ => panic!("{line}"),
        }
    }
    let trigger = |channels: &str, data: &str| {
        stdout(
            pusher()
                .env("PUSHER_URL", &url)
                .args(["trigger", channels, "cli-event", data]),
        )
    };
    trigger("cli-public", r#"{"n":1}"#);
    trigger("private-cli", r#"{"n":2,"t":"é\"🎉"}"#);
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let second: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        (
            first["event"].as_str(),
            first["channel"].as_str(),
            first["data"].as_str()
        ),
        (Some("cli-event"), Some("cli-public"), Some(r#"{"n":1}"#))
    );
    assert_eq!(second["data"].as_str(), Some(r#"{"n":2,"t":"é\"🎉"}"#));
    assert!(listen.wait().unwrap().success());

    let doctor = stdout(pusher().env("PUSHER_URL", &url).args([
        "doctor",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--insecure",
    ]));
    assert!(doctor.ends_with("all checks passed"), "{doctor}");
    assert!(
        doctor.contains("ok") && doctor.contains("connection_established: socket_id"),
        "{doctor}"
    );
    // A wrong port fails at the TCP step, with an explanation.
    let closed = common::free_port().to_string();
    let out = pusher()
        .args([
            "doctor",
            "--key",
            KEY,
            "--host",
            "127.0.0.1",
            "--port",
            &closed,
            "--insecure",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL") && text.contains("TCP"), "{text}");
}

/// `PUSHER_URL` for the test app on a local server, with this secret.
fn app_url(port: u16, secret: &str) -> String {
    format!("http://{KEY}:{secret}@127.0.0.1:{port}/apps/{APP_ID}")
}

/// Runs `pusher` and returns (exit code, stdout, stderr).
fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn listen_at(port: u16) -> Command {
    let mut c = pusher();
    c.args([
        "listen",
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--insecure",
    ]);
    c
}

fn wrong_key_is_reported_and_exits_non_zero(server: &dyn Server) {
    let (code, out, err) =
        run(listen_at(server.port()).args(["--key", "WRONG", "news", "--seconds", "5"]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("refused the connection for good") && err.contains("4001"),
        "{err}"
    );
    let refusal = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["event"] == "pusher:error" && v["data"]["type"] == "Disconnected")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(refusal["data"]["code"], 4001, "{out}");
}

#[test]
fn listen_with_a_wrong_key_says_so_and_exits_1() {
    wrong_key_is_reported_and_exits_non_zero(&Dev::start(pusher_dev_server::Compat::Pusher));
}

#[cfg(feature = "interop-peers")]
#[test]
fn listen_with_a_wrong_key_says_so_and_exits_1_on_soketi() {
    wrong_key_is_reported_and_exits_non_zero(&common::Soketi::start());
}

#[test]
fn listen_with_a_wrong_secret_names_the_channel_and_exits_1() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let (code, out, err) = run(listen_at(server.port()).args([
        "--key",
        KEY,
        "--secret",
        "wrong",
        "private-orders",
        "--seconds",
        "2",
    ]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("never subscribed to private-orders"), "{err}");
    assert!(
        out.contains("Invalid signature"),
        "the server's words are shown: {out}"
    );
}

#[test]
fn listen_with_nothing_listening_says_so_and_exits_1() {
    let port = common::free_port();
    let (code, out, err) = run(listen_at(port).args(["--key", KEY, "news", "--seconds", "2"]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("never connected") && err.contains("connection refused"),
        "{err}"
    );
    assert!(out.contains(r#""cause":"refused""#), "{out}");
}

#[test]
fn listen_on_a_terminal_style_prints_readable_lines() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let (code, out, err) =
        run(listen_at(server.port()).args(["--key", KEY, "--human", "news", "--seconds", "1"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("state connecting -> connected"), "{out}");
    assert!(out.contains("pusher:subscription_succeeded news"), "{out}");
    assert!(
        !out.contains('\x1b'),
        "no colour when stdout is not a terminal: {out:?}"
    );
}

#[test]
fn trigger_with_a_wrong_secret_exits_1_with_the_status() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let url = app_url(server.port(), "wrong");
    let (code, out, err) = run(pusher()
        .env("PUSHER_URL", &url)
        .args(["trigger", "news", "e", "{}"]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.is_empty(), "nothing on stdout: {out}");
    assert!(err.contains("401"), "{err}");
}

#[test]
fn verbose_logs_each_line_once() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let (_, _, err) =
        run(listen_at(server.port()).args(["-v", "--key", "WRONG", "news", "--seconds", "3"]));
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with('[')).collect();
    assert!(!lines.is_empty(), "{err}");
    let mut unique = lines.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), lines.len(), "a line logged twice: {err}");
}

#[test]
fn a_pusher_url_on_api_eu_connects_to_ws_eu() {
    let (_, out, err) = run(pusher()
        .env("PUSHER_URL", "https://k:s@api-eu.pusher.com/apps/1")
        .args(["listen", "news", "--seconds", "1"]));
    assert!(
        err.contains("connecting to wss://ws-eu.pusher.com"),
        "{err}"
    );
    assert!(
        !out.contains("ws-mt1") && !err.contains("ws-mt1"),
        "{out}{err}"
    );
}

#[test]
fn a_bad_webhook_signature_is_a_refused_webhook_not_a_401() {
    let mut child = pusher()
        .args([
            "webhook",
            "--key",
            KEY,
            "--secret",
            SECRET,
            "--key-header",
            KEY,
            "--signature",
            &"0".repeat(64),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"time_ms":1,"events":[]}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("webhook refused") && err.contains("does not match"),
        "{err}"
    );
    assert!(!err.contains("401"), "{err}");
}

#[test]
fn rest_commands_against_the_dev_server() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let url = app_url(server.port(), SECRET);
    let a = common::ClientThread::spawn(
        server.options(),
        &["presence-cli", "public-cli"],
        Some("alice"),
    );
    a.wait_for(
        "pusher:subscription_succeeded presence-cli",
        common::scenarios::WAIT,
    );
    a.wait_for(
        "pusher:subscription_succeeded public-cli",
        common::scenarios::WAIT,
    );
    a.send(common::Cmd::Signin);
    let cmd = |args: &[&str]| stdout(pusher().env("PUSHER_URL", &url).args(args));
    let json = |s: String| serde_json::from_str::<serde_json::Value>(&s).unwrap();

    let all = json(cmd(&[
        "channels",
        "--prefix",
        "presence-",
        "--info",
        "user_count",
    ]));
    assert_eq!(all["channels"]["presence-cli"]["user_count"], 1, "{all}");
    assert_eq!(json(cmd(&["channel", "public-cli"]))["occupied"], true);
    let users = json(cmd(&["users", "presence-cli"]));
    assert_eq!(users["users"][0]["id"], "alice", "{users}");

    let file = std::env::temp_dir().join(format!("pusher-cli-batch-{}.json", std::process::id()));
    std::fs::write(
        &file,
        r#"[{"channel":"public-cli","name":"b1","data":"{}","info":"subscription_count"},{"channel":"public-cli","name":"b2","data":{"n":2}}]"#,
    )
    .unwrap();
    let batch = json(cmd(&["batch", file.to_str().unwrap()]));
    assert_eq!(batch["batch"][0]["subscription_count"], 1, "{batch}");
    a.wait_for(r#"b2 public-cli {"n":2}"#, common::scenarios::WAIT);
    let _ = std::fs::remove_file(&file);

    let info = json(cmd(&[
        "trigger",
        "public-cli",
        "t",
        "{}",
        "--info",
        "subscription_count",
    ]));
    assert_eq!(
        info["channels"]["public-cli"]["subscription_count"], 1,
        "{info}"
    );
    a.wait_for("pusher:signin_success", common::scenarios::WAIT);
    cmd(&["send-to-user", "alice", "notice", r#"{"hi":1}"#]);
    a.wait_for(
        r#"notice #server-to-user-alice {"hi":1}"#,
        common::scenarios::WAIT,
    );
    cmd(&["terminate", "alice"]);
    a.wait_for("state Connecting", common::scenarios::WAIT);
}

#[test]
fn watch_shows_a_channel_occupied_then_vacated() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let url = app_url(server.port(), SECRET);
    let mut watch = pusher()
        .env("PUSHER_URL", &url)
        .args([
            "watch",
            "--interval-ms",
            "50",
            "--count",
            "2",
            "--seconds",
            "20",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let a = common::ClientThread::spawn(server.options(), &["public-watch"], None);
    a.wait_for(
        "pusher:subscription_succeeded public-watch",
        common::scenarios::WAIT,
    );
    let first = lines.next().unwrap().unwrap();
    assert_eq!(
        first,
        r#"{"channel":"public-watch","event":"channel_occupied"}"#
    );
    a.stop();
    let second = lines.next().unwrap().unwrap();
    assert_eq!(
        second,
        r#"{"channel":"public-watch","event":"channel_vacated"}"#
    );
    assert!(watch.wait().unwrap().success());
}

#[test]
fn webhook_serve_receives_and_verifies_the_dev_servers_webhooks() {
    let hook_port = common::free_port();
    let config = pusher_dev_server::Config::default()
        .credentials(APP_ID, KEY, SECRET)
        .webhook(&format!("http://127.0.0.1:{hook_port}/"));
    let server = Dev::start_with(config);
    let mut serve = pusher()
        .args([
            "webhook",
            "serve",
            "--key",
            KEY,
            "--secret",
            SECRET,
            "--port",
            &hook_port.to_string(),
            "--count",
            "2",
            "--seconds",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(serve.stderr.take().unwrap()).lines();
    let ready = err.next().unwrap().unwrap();
    assert!(ready.starts_with("listening for webhooks"), "{ready}");
    let a = common::ClientThread::spawn(server.options(), &["public-hook"], None);
    a.wait_for(
        "pusher:subscription_succeeded public-hook",
        common::scenarios::WAIT,
    );
    a.stop();
    let out = serve.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(r#"{"name":"channel_occupied","channel":"public-hook"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"{"name":"channel_vacated","channel":"public-hook"}"#),
        "{text}"
    );
}

#[test]
fn doctor_with_a_wrong_secret_fails_the_signed_steps_as_json() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let url = app_url(server.port(), "wrong");
    let port = server.port().to_string();
    let (code, out, err) = run(pusher().env("PUSHER_URL", &url).args([
        "doctor",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--insecure",
        "--json",
    ]));
    assert_eq!(code, 1, "{out}\n{err}");
    let steps: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcome = |name: &str| {
        steps
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("no {name} step: {out}"))["ok"]
            .as_bool()
    };
    assert_eq!(outcome("ping/pong"), Some(true));
    assert_eq!(outcome("private subscribe"), Some(false));
    assert_eq!(outcome("presence subscribe"), Some(false));
    assert_eq!(outcome("REST"), Some(false));
    assert!(err.contains("401"), "{err}");
}

#[test]
fn listen_through_an_auth_endpoint_with_headers() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let (port, endpoint) = common::scenarios::auth_endpoint();
    let (code, out, err) = run(listen_at(server.port()).args([
        "--key",
        KEY,
        "--auth-endpoint",
        &format!("http://127.0.0.1:{port}/pusher/auth"),
        "--auth-header",
        "Authorization: Bearer t0ken",
        "private-ep",
        "presence-ep",
        "--seconds",
        "2",
    ]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(r#""event":"pusher:subscription_succeeded","channel":"presence-ep""#),
        "{out}"
    );
    assert!(
        out.contains(r#""event":"pusher:subscription_succeeded","channel":"private-ep""#),
        "{out}"
    );
    assert_eq!(endpoint.join().unwrap(), 2);
    // A malformed header is refused before anything is sent.
    let (code, _, err) = run(listen_at(server.port()).args([
        "--key",
        KEY,
        "--auth-endpoint",
        "http://127.0.0.1:9/x",
        "--auth-header",
        "no colon",
        "private-ep",
        "--seconds",
        "1",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("expected `Name: value`"), "{err}");
}

#[test]
fn every_command_has_an_example_in_its_help() {
    for command in [
        "listen",
        "trigger",
        "batch",
        "channels",
        "channel",
        "users",
        "send-to-user",
        "terminate",
        "watch",
        "auth",
        "sign",
        "webhook",
        "doctor",
        "serve",
        "demo",
    ] {
        let help = stdout(pusher().args([command, "--help"]));
        assert!(
            help.contains("Example"),
            "{command} --help has no example:\n{help}"
        );
    }
    let help = stdout(pusher().args(["webhook", "serve", "--help"]));
    assert!(help.contains("Example"), "{help}");
}

#[test]
fn trigger_seals_events_for_encrypted_channels() {
    const MASTER: &str = common::MASTER_KEY;
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let url = app_url(server.port(), SECRET);
    let a = common::ClientThread::spawn(server.options(), &["private-encrypted-cli"], None);
    a.wait_for(
        "pusher:subscription_succeeded private-encrypted-cli",
        common::scenarios::WAIT,
    );
    // Without the key: refused before sending.
    let (code, _, err) =
        run(pusher()
            .env("PUSHER_URL", &url)
            .args(["trigger", "private-encrypted-cli", "e", "{}"]));
    assert_eq!(code, 1);
    assert!(err.contains("encryption_master_key"), "{err}");
    stdout(pusher().env("PUSHER_URL", &url).args([
        "trigger",
        "private-encrypted-cli",
        "sealed",
        r#"{"id":7}"#,
        "--encryption-master-key",
        MASTER,
    ]));
    // The client opens it with the channel's shared secret: it was sealed with that key
    // (plain data on an encrypted channel would be refused as undecryptable).
    a.wait_for(
        r#"sealed private-encrypted-cli {"id":7}"#,
        common::scenarios::WAIT,
    );
    assert_eq!(a.count("did not decrypt"), 0);
    a.stop();
}

#[test]
fn listen_decrypts_encrypted_channels_with_the_master_key() {
    const MASTER: &str = "zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=";
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let url = app_url(server.port(), SECRET);
    let port = server.port().to_string();
    let mut listen = pusher()
        .env("PUSHER_URL", &url)
        .env("PUSHER_ENCRYPTION_MASTER_KEY_BASE64", MASTER)
        .args([
            "listen",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--insecure",
        ])
        .args(["private-encrypted-l", "--count", "1", "--seconds", "20"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(listen.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().unwrap().unwrap();
        if line.contains("pusher:subscription_succeeded") {
            break;
        }
    }
    stdout(pusher().env("PUSHER_URL", &url).args([
        "trigger",
        "private-encrypted-l",
        "sealed",
        r#"{"id":9}"#,
        "--encryption-master-key",
        MASTER,
    ]));
    let event: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(event["event"], "sealed");
    assert_eq!(event["data"], r#"{"id":9}"#, "decrypted: {event}");
    assert!(listen.wait().unwrap().success());
}
