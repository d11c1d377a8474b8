//! The axum auth endpoint example signs for pusher-js (a browser's client, over its form
//! POST) and for our tokio client (pusher-std's HTTP authorizer), against the dev server.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const APP_ID: &str = "123456";
const KEY: &str = "app-key";
const SECRET: &str = "app-secret";

struct Endpoint {
    child: Child,
    url: String,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn endpoint(server_port: u16) -> Endpoint {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auth_server"))
        .arg("0")
        .env(
            "PUSHER_URL",
            format!("http://{KEY}:{SECRET}@127.0.0.1:{server_port}/apps/{APP_ID}"),
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("auth endpoint on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    Endpoint { child, url }
}

fn dev_server() -> pusher_dev_server::DevServer {
    pusher_dev_server::DevServer::start(
        pusher_dev_server::Config::default().credentials(APP_ID, KEY, SECRET),
    )
    .unwrap()
}

/// A tokio client on the dev server at `port`, authorized through the endpoint.
async fn connect(port: u16, auth: pusher_std::auth::HttpAuthorizer) -> pusher_tokio::Pusher {
    let options = pusher_std::pusher::Options::host(KEY, "127.0.0.1", port, port, false);
    pusher_tokio::Pusher::builder(options)
        .authorizer(pusher_tokio::auth::Blocking::new(auth))
        .connect()
        .await
        .unwrap()
}

#[test]
fn the_tokio_client_subscribes_through_the_endpoint() {
    let server = dev_server();
    let ep = endpoint(server.port());
    let url = ep.url.clone();
    let port = server.port();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let mut auth = pusher_std::auth::HttpAuthorizer::new(&url).unwrap();
            auth.headers.push(("X-User".into(), "device-7".into()));
            let pusher = connect(port, auth).await;
            pusher.subscribe("private-ep").await.unwrap();
            let room = pusher.subscribe("presence-ep").await.unwrap();
            assert_eq!(
                room.members().await,
                [("device-7".to_owned(), r#"{"name":"device-7"}"#.to_owned())]
            );
            pusher.shutdown().await;
        });
    // Without the header the endpoint refuses, and the subscription says so.
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let auth = pusher_std::auth::HttpAuthorizer::new(&ep.url).unwrap();
            let pusher = connect(port, auth).await;
            let e = pusher.subscribe("private-ep").await.unwrap_err();
            assert_eq!(e, pusher_tokio::SubscribeFailure::Refused(Some(403)), "{e}");
            pusher.shutdown().await;
        });
}

#[cfg(feature = "interop-peers")]
#[test]
fn pusher_js_subscribes_through_the_endpoint() {
    let server = dev_server();
    let ep = endpoint(server.port());
    let peers = std::env::var_os("PUSHER_PEERS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap())
                .join(".cache/pusher-rs-peers")
        });
    let out = Command::new("node")
        .env("NODE_PATH", peers.join("node_modules"))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../adapters/std/tests/peers/pusher_js_auth_endpoint.js"
        ))
        .args([
            KEY,
            "127.0.0.1",
            &server.port().to_string(),
            &ep.url,
            "browser-1",
            "ep",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("MEMBERS 1 browser-1"), "{stdout}");
    assert!(stdout.contains("READY"), "{stdout}");
}
