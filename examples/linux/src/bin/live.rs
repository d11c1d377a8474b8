//! The whole loop against a real server: our client connects to soketi, subscribes to a
//! public and a private channel (signed locally), our REST client triggers events, and what
//! arrives is printed.
//!
//! Run: `./scripts/demo` (it installs and starts soketi), or against any server:
//! `cargo run -p pusher-examples --bin live -- HOST PORT APP_ID KEY SECRET`

#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::process::ExitCode;
use std::time::Duration;

use pusher_std::auth::LocalSigner;
use pusher_std::pusher::{Buffers, Options, Pusher};
use pusher_std::rest::{Config, Rest};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, port, app_id, key, secret] = args.as_slice() else {
        eprintln!("usage: live HOST PORT APP_ID KEY SECRET");
        return ExitCode::FAILURE;
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("bad port {port}");
        return ExitCode::FAILURE;
    };
    let received = RefCell::new(Vec::new());
    let mut buffers = Buffers::default();
    let options = Options::host(key, host, port, port, false);
    let mut pusher = match Pusher::new(&options, &mut buffers) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("client: {e}");
            return ExitCode::FAILURE;
        }
    };
    pusher.set_authorizer(LocalSigner::new(key, secret));
    pusher.on_state_change(|prev, cur| println!("state: {prev:?} -> {cur:?}"));
    pusher.on_error(|e| println!("error: {e}"));
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
    for channel in ["public-demo", "private-demo"] {
        if let Err(e) = pusher.subscribe(channel) {
            eprintln!("subscribe {channel}: {e}");
            return ExitCode::FAILURE;
        }
    }
    pusher.connect();
    let subscribed = pusher.run_until(
        |p| {
            p.client().channel_state("public-demo")
                == Some(pusher_core::client::ChannelState::Subscribed)
                && p.client().channel_state("private-demo")
                    == Some(pusher_core::client::ChannelState::Subscribed)
        },
        Duration::from_secs(10),
    );
    if !subscribed {
        eprintln!("not subscribed within 10 s");
        return ExitCode::FAILURE;
    }
    let rest = match Rest::new(Config::new(app_id, key, secret).host(host, port, false)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rest: {e}");
            return ExitCode::FAILURE;
        }
    };
    let triggers = [
        (
            vec!["public-demo"],
            "greeting",
            r#"{"text":"hello from the REST API"}"#,
        ),
        (
            vec!["private-demo"],
            "secret",
            r#"{"text":"only for authorized sockets 🔒"}"#,
        ),
        (vec!["public-demo", "private-demo"], "both", r#"{"n":2}"#),
    ];
    for (channels, event, data) in &triggers {
        println!(">> REST trigger {event} on {channels:?}");
        if let Err(e) = rest.trigger(channels, event, data) {
            eprintln!("trigger: {e}");
            return ExitCode::FAILURE;
        }
    }
    let all = pusher.run_until(|_| received.borrow().len() >= 4, Duration::from_secs(10));
    pusher.disconnect();
    if all {
        println!("received all {} events", received.borrow().len());
        ExitCode::SUCCESS
    } else {
        eprintln!("missing events: got {:?}", received.borrow());
        ExitCode::FAILURE
    }
}
