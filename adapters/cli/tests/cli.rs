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
    let url = format!(
        "http://{KEY}:{SECRET}@127.0.0.1:{}/apps/{APP_ID}",
        server.port()
    );
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
    let url = format!(
        "http://{KEY}:{SECRET}@127.0.0.1:{}/apps/{APP_ID}",
        server.port()
    );
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
    let mut subscribed = 0;
    while subscribed < 2 {
        let line = lines.next().unwrap().unwrap();
        assert!(line.contains("pusher:subscription_succeeded"), "{line}");
        subscribed += 1;
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
