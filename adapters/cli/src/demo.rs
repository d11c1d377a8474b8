//! `pusher demo`: the whole loop on this machine with nothing installed. The dev server starts
//! on a free loopback port (or `--server HOST:PORT` names another one, soketi say), our client
//! connects and subscribes to a public and a private channel (signed locally), our REST
//! client triggers events, and what arrives is printed.

use std::cell::RefCell;
use std::time::Duration;

use pusher_core::client::ChannelState;
use pusher_dev_server::{Config, DevServer};
use pusher_std::auth::LocalSigner;
use pusher_std::pusher::{Buffers, Options, Pusher};
use pusher_std::rest::{Config as RestConfig, Rest};

const CHANNELS: [&str; 2] = ["public-demo", "private-demo"];
const WAIT: Duration = Duration::from_secs(10);

/// Where the demo runs: its own dev server, or one given on the command line.
pub(crate) struct Target {
    /// `HOST:PORT` of a running Pusher-protocol server (plain ws:// and http://).
    pub server: Option<String>,
    /// App id, key and secret of that server's app.
    pub app: (String, String, String),
    /// Print the dev server's side too.
    pub server_log: bool,
}

pub(crate) fn run(target: &Target) -> Result<(), String> {
    let own;
    let (host, port, app_id, key, secret) = match &target.server {
        Some(addr) => {
            let (host, port) = addr
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
                .ok_or_else(|| format!("--server {addr}: expected HOST:PORT"))?;
            let (app_id, key, secret) = target.app.clone();
            println!("== server on {addr}");
            (host, port, app_id, key, secret)
        }
        None => {
            let observer = target
                .server_log
                .then(|| crate::serve::print_activity("   server "));
            own = DevServer::start_observed(Config::default().port(0), observer)
                .map_err(|e| format!("dev server: {e}"))?;
            println!(
                "== dev server on {} (key {}, secret {})",
                own.addr(),
                own.key(),
                own.secret()
            );
            (
                own.host(),
                own.port(),
                own.app_id().to_owned(),
                own.key().to_owned(),
                own.secret().to_owned(),
            )
        }
    };
    let received = RefCell::new(Vec::<String>::new());
    let errors = RefCell::new(Vec::<String>::new());
    let mut buffers = Buffers::default();
    let options = Options::host(&key, &host, port, port, false);
    let mut pusher = Pusher::new(&options, &mut buffers).map_err(|e| format!("client: {e}"))?;
    pusher.set_authorizer(LocalSigner::new(&key, &secret));
    pusher.on_state_change(|prev, cur| println!("state: {prev:?} -> {cur:?}"));
    pusher.on_error(|e| {
        println!("error: {e}");
        errors.borrow_mut().push(e.to_string());
    });
    pusher.bind_global(|e| {
        println!(
            "<< {} on {}: {}",
            e.event,
            e.channel.unwrap_or("-"),
            e.data.unwrap_or("-")
        );
        if !e.event.starts_with("pusher") {
            received.borrow_mut().push(e.event.to_owned());
        }
    });
    for channel in CHANNELS {
        pusher
            .subscribe(channel)
            .map_err(|e| format!("subscribe {channel}: {e}"))?;
    }
    pusher.connect();
    let subscribed = pusher.run_until(
        |p| {
            CHANNELS
                .iter()
                .all(|c| p.client().channel_state(c) == Some(ChannelState::Subscribed))
        },
        WAIT,
    );
    if !subscribed {
        return Err(format!(
            "not subscribed within {} s (errors: {:?})",
            WAIT.as_secs(),
            errors.borrow()
        ));
    }
    let rest = Rest::new(RestConfig::new(&app_id, &key, &secret).host(&host, port, false))
        .map_err(|e| format!("REST client: {e}"))?;
    let triggers: [(&[&str], &str, &str); 3] = [
        (
            &["public-demo"],
            "greeting",
            r#"{"text":"hello from the REST API"}"#,
        ),
        (
            &["private-demo"],
            "secret",
            r#"{"text":"only for authorized sockets 🔒"}"#,
        ),
        (&CHANNELS, "both", r#"{"n":2}"#),
    ];
    for (channels, event, data) in triggers {
        println!(">> REST trigger {event} on {channels:?}");
        rest.trigger(channels, event, data)
            .map_err(|e| format!("trigger {event}: {e}"))?;
    }
    let all = pusher.run_until(|_| received.borrow().len() >= 4, WAIT);
    pusher.disconnect();
    if !all {
        return Err(format!("missing events: got {:?}", received.borrow()));
    }
    println!("received all {} events", received.borrow().len());
    Ok(())
}
