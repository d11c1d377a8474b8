//! `pusher demo`: the whole loop on this machine with nothing installed. The dev server starts
//! on a free loopback port, our client connects and subscribes to a public and a private
//! channel (signed locally), our REST client triggers events, and what arrives is printed.

use std::cell::RefCell;
use std::time::Duration;

use pusher_core::client::ChannelState;
use pusher_dev_server::{Config, DevServer};
use pusher_std::auth::LocalSigner;
use pusher_std::pusher::{Buffers, Options, Pusher};
use pusher_std::rest::{Config as RestConfig, Rest};

const CHANNELS: [&str; 2] = ["public-demo", "private-demo"];
const WAIT: Duration = Duration::from_secs(10);

pub(crate) fn run(verbose_server: bool) -> Result<(), String> {
    let observer = verbose_server.then(|| crate::serve::print_activity("   server "));
    let server = DevServer::start_observed(Config::default().port(0), observer)
        .map_err(|e| format!("dev server: {e}"))?;
    let (host, port) = (server.host(), server.port());
    println!(
        "== dev server on {} (key {}, secret {})",
        server.addr(),
        server.key(),
        server.secret()
    );

    let received = RefCell::new(Vec::<String>::new());
    let errors = RefCell::new(Vec::<String>::new());
    let mut buffers = Buffers::default();
    let options = Options::host(server.key(), &host, port, port, false);
    let mut pusher = Pusher::new(&options, &mut buffers).map_err(|e| format!("client: {e}"))?;
    pusher.set_authorizer(LocalSigner::new(server.key(), server.secret()));
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
    let rest = Rest::new(
        RestConfig::new(server.app_id(), server.key(), server.secret()).host(&host, port, false),
    )
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
