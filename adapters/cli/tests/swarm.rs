//! `pusher swarm` against our dev server: every delivery arrives once, the report and the
//! plots are written; a wrong key stops the run with the server's words.

#[path = "../../std/tests/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::process::Command;

use common::{APP_ID, Dev, KEY, SECRET, Server};

fn swarm(port: u16, key: &str, out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pusher"))
        .env_remove("PUSHER_URL")
        .args(["swarm", "--host", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .args([
            "--insecure",
            "--app-id",
            APP_ID,
            "--key",
            key,
            "--secret",
            SECRET,
        ])
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn three_hundred_devices_receive_every_event_once() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let out = std::env::temp_dir().join(format!("pusher-swarm-test-{}", std::process::id()));
    let run = swarm(
        server.port(),
        KEY,
        &out,
        &["--devices", "300", "--events", "5", "--interval-ms", "50"],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let d = &summary["deliveries"];
    assert_eq!(d["expected"], 1500, "{summary:#}");
    assert_eq!(d["received"], 1500, "{summary:#}");
    assert_eq!(d["duplicates"], 0, "{summary:#}");
    assert_eq!(summary["connection_attempts"], 300, "{summary:#}");
    assert!(summary["latency_ms"]["p99"].as_f64().unwrap() > 0.0);
    assert!(summary["rss_per_connection_bytes"].as_f64().unwrap() > 0.0);
    for plot in ["latency.svg", "connections.svg"] {
        let svg = std::fs::read_to_string(out.join(plot)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("300 devices"),
            "{plot}"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_wrong_key_stops_the_swarm_with_the_servers_words() {
    let server = Dev::start(pusher_dev_server::Compat::Pusher);
    let out = std::env::temp_dir().join(format!("pusher-swarm-key-{}", std::process::id()));
    let run = swarm(server.port(), "wrong-key", &out, &["--devices", "5"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no device connected in 10 s") && stderr.contains("4001"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&out);
}
