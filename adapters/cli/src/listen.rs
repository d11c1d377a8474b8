//! `pusher listen`: connect, subscribe, and print everything that happens (events, states,
//! errors, refusals, members) as JSON lines or readable lines; never silent, and a non-zero
//! exit with the reason when the server refuses for good or a channel never subscribed.

use std::cell::{Cell, RefCell};
use std::io::IsTerminal;
use std::time::Duration;

use clap::Args;
use pusher_core::client::{ChannelState, State};
use pusher_std::auth::{HttpAuthorizer, LocalSigner};
use pusher_std::client_error::ClientError;
use pusher_std::pusher::{Buffers, EventData, Pusher};

use crate::{App, json, out};

#[derive(Args)]
#[command(after_help = "Examples:
  pusher listen --url \"$PUSHER_URL\" orders private-orders
  pusher listen --key KEY --cluster eu presence-room --channel-data '{\"user_id\":\"1\"}'
  pusher listen --host 127.0.0.1 --port 6001 --insecure --key app-key news --event breaking --count 1")]
pub(crate) struct Listen {
    #[command(flatten)]
    pub(crate) app: App,
    /// Channels to subscribe to.
    #[arg(required = true)]
    channels: Vec<String>,
    /// Auth endpoint for private and presence channels (else the secret signs locally).
    #[arg(long)]
    auth_endpoint: Option<String>,
    /// User auth endpoint for sign-in (with --auth-endpoint).
    #[arg(long)]
    user_auth_endpoint: Option<String>,
    /// A header for the auth endpoints, `Name: value` (repeatable).
    #[arg(long = "auth-header")]
    auth_headers: Vec<String>,
    /// `channel_data` for presence channels when signing locally.
    #[arg(long)]
    channel_data: Option<String>,
    /// Sign in with this `user_data` (local signing), or through --user-auth-endpoint.
    #[arg(long)]
    user_data: Option<String>,
    /// Print only these events (repeatable; states and errors are always printed).
    #[arg(long = "event")]
    events: Vec<String>,
    /// Print only events on these channels (repeatable).
    #[arg(long = "channel")]
    only_channels: Vec<String>,
    /// JSON lines (the default when stdout is not a terminal).
    #[arg(long, conflicts_with = "human")]
    json: bool,
    /// Readable, timestamped lines (the default on a terminal).
    #[arg(long)]
    human: bool,
    /// Stop after this many events.
    #[arg(long)]
    count: Option<usize>,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<u64>,
}

/// How lines look.
#[derive(Clone, Copy)]
enum Style {
    Json,
    Human { color: bool },
}

/// What one line says.
enum Line<'e> {
    Event(&'e EventData<'e>),
    State(State, State),
    Error(&'e ClientError),
}

fn state_name(s: State) -> &'static str {
    match s {
        State::Initialized => "initialized",
        State::Connecting => "connecting",
        State::Connected => "connected",
        State::Unavailable => "unavailable",
        State::Failed => "failed",
        State::Disconnected => "disconnected",
    }
}

/// `HH:MM:SS.mmm` (UTC).
fn clock() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let s = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60,
        ms % 1000
    )
}

fn print(style: Style, line: Line<'_>) {
    let text = match (style, line) {
        (Style::Json, Line::Event(e)) => json::event_line(e),
        (Style::Json, Line::State(previous, current)) => {
            json::state_line(state_name(previous), state_name(current))
        }
        (Style::Json, Line::Error(e)) => json::error_line(e),
        (Style::Human { color }, line) => {
            let paint = |code: &str, s: String| {
                if color {
                    format!("\x1b[{code}m{s}\x1b[0m")
                } else {
                    s
                }
            };
            let body = match line {
                Line::Event(e) => {
                    let head = format!("{} {}", e.event, e.channel.unwrap_or("-"));
                    let head = if e.event.starts_with("pusher:") {
                        paint("36", head)
                    } else {
                        paint("1", head)
                    };
                    let user = e
                        .user_id
                        .map(|u| format!(" (user {u})"))
                        .unwrap_or_default();
                    format!("{head} {}{user}", e.data.unwrap_or(""))
                }
                Line::State(p, c) => paint(
                    "33",
                    format!("state {} -> {}", state_name(p), state_name(c)),
                ),
                Line::Error(e) => paint("31", format!("error {e}")),
            };
            format!("{} {body}", paint("2", clock()))
        }
    };
    out::line(&text);
}

/// Whether the error means the client will not connect again.
fn final_error(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Disconnected { retry_in: None, .. }
            | ClientError::Connect { retry_in: None, .. }
            | ClientError::GaveUp
    )
}

pub(crate) fn run(a: Listen) -> Result<(), String> {
    let options = a.app.ws_options()?;
    let style = if a.json || (!a.human && !std::io::stdout().is_terminal()) {
        Style::Json
    } else {
        Style::Human {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    };
    let seen = Cell::new(0usize);
    let fatal: RefCell<Option<String>> = RefCell::new(None);
    let last_error: RefCell<Option<String>> = RefCell::new(None);
    let connected = Cell::new(false);
    let wanted = |e: &EventData<'_>| {
        (a.events.is_empty() || a.events.iter().any(|n| n == e.event))
            && (a.only_channels.is_empty()
                || e.channel
                    .is_some_and(|c| a.only_channels.iter().any(|n| n == c)))
    };
    let mut buffers = Buffers::default();
    let mut p = Pusher::new(&options, &mut buffers).map_err(|e| e.to_string())?;
    match (&a.auth_endpoint, a.app.secret()) {
        (Some(url), _) => {
            let mut auth = HttpAuthorizer::new(url)?;
            if let Some(user_url) = &a.user_auth_endpoint {
                auth = auth.with_user_endpoint(user_url)?;
            }
            for h in &a.auth_headers {
                let (name, value) = h
                    .split_once(':')
                    .ok_or(format!("--auth-header {h:?}: expected `Name: value`"))?;
                auth.headers
                    .push((name.trim().to_owned(), value.trim().to_owned()));
            }
            p.set_authorizer(auth);
        }
        (None, Some(secret)) => {
            let mut s = LocalSigner::new(&options.key, &secret);
            s.channel_data = a.channel_data.clone();
            s.user_data = a.user_data.clone();
            // Encrypted channels: their shared secret, so their events print decrypted.
            s.encryption_master_key = a.app.master_key()?;
            p.set_authorizer(s);
        }
        (None, None) => {}
    }
    p.bind_global(|e| {
        if !wanted(e) {
            return;
        }
        print(style, Line::Event(e));
        if !e.event.starts_with("pusher:") {
            seen.set(seen.get() + 1);
        }
    });
    p.on_error(|e| {
        print(style, Line::Error(e));
        *last_error.borrow_mut() = Some(e.to_string());
        if final_error(e) && fatal.borrow().is_none() {
            *fatal.borrow_mut() = Some(e.to_string());
        }
    });
    p.on_state_change(|prev, cur| {
        if cur == State::Connected {
            connected.set(true);
        }
        print(style, Line::State(prev, cur));
    });
    for c in &a.channels {
        p.subscribe(c).map_err(|e| format!("{c}: {e}"))?;
    }
    if a.user_data.is_some() || a.user_auth_endpoint.is_some() {
        p.signin();
    }
    eprintln!(
        "connecting to {}://{} as key {}",
        if options.tls { "wss" } else { "ws" },
        p.host(),
        options.key
    );
    p.connect();
    let limit = Duration::from_secs(a.seconds.unwrap_or(u64::MAX / 4));
    let count = a.count;
    let counted = p.run_until(
        |_| count.is_some_and(|n| seen.get() >= n) || fatal.borrow().is_some() || out::gone(),
        limit,
    );
    let missing: Vec<String> = a
        .channels
        .iter()
        .filter(|c| p.client().channel_state(c) != Some(ChannelState::Subscribed))
        .cloned()
        .collect();
    p.disconnect();
    drop(p);
    if out::gone() {
        return Ok(());
    }
    if let Some(why) = fatal.take() {
        return Err(format!("the server refused the connection for good: {why}"));
    }
    let last = last_error
        .take()
        .map(|e| format!(" (last error: {e})"))
        .unwrap_or_default();
    if !connected.get() {
        return Err(format!("never connected{last}"));
    }
    if !missing.is_empty() {
        return Err(format!("never subscribed to {}{last}", missing.join(", ")));
    }
    if !counted && count.is_some() {
        return Err(format!(
            "{} of {} events arrived in {} s",
            seen.get(),
            count.unwrap_or(0),
            a.seconds.unwrap_or(0)
        ));
    }
    Ok(())
}
