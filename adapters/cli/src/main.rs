//! `pusher`: the debug console and event creator on the command line.
//!
//! Credentials come from flags or the environment: `PUSHER_URL`
//! (`http://KEY:SECRET@HOST[:PORT]/apps/APP_ID`), `PUSHER_KEY`, `PUSHER_SECRET`,
//! `PUSHER_APP_ID`, `PUSHER_CLUSTER`.
#![forbid(unsafe_code)]

mod demo;
mod doctor;
mod json;
mod serve;

use std::cell::Cell;
use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use pusher_core::auth::Credentials;
use pusher_core::rest::{self as signing, Request};
use pusher_core::{ChannelName, SocketId};
use pusher_std::auth::{HttpAuthorizer, LocalSigner};
use pusher_std::pusher::{Buffers, Options, Pusher};
use pusher_std::rest::{Config, Rest};

#[derive(Parser)]
#[command(
    name = "pusher",
    version,
    about = "Pusher Channels from the command line"
)]
struct Cli {
    /// Log to stderr (`-v` info, `-vv` debug and the wire).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Connect, subscribe, and print each event as a JSON line.
    Listen(Listen),
    /// Trigger an event on channels over the REST API.
    Trigger(Trigger),
    /// Print the auth JSON for a socket id and channel (or for a user sign-in).
    Auth(Auth),
    /// Print the signed REST query string (and the string to sign) for a request.
    Sign(Sign),
    /// Verify a webhook body (stdin) against its headers and print its events.
    Webhook(Webhook),
    /// Check DNS, TCP, TLS, the upgrade, connection_established and ping/pong, step by step.
    Doctor(Doctor),
    /// Run a Pusher-protocol dev server on loopback, printing what happens.
    Serve(serve::Serve),
    /// Start the dev server on a free port, connect, subscribe, trigger, print what arrives.
    Demo(Demo),
}

#[derive(Args)]
struct Demo {
    /// Also print the dev server's side of things.
    #[arg(long)]
    server_log: bool,
    /// Run against this server (`HOST:PORT`, plain ws:// and http://) instead of a dev server.
    #[arg(long)]
    server: Option<String>,
    /// App id on --server.
    #[arg(long, default_value = "123456")]
    app_id: String,
    /// App key on --server.
    #[arg(long, default_value = "app-key")]
    key: String,
    /// App secret on --server.
    #[arg(long, default_value = "app-secret")]
    secret: String,
}

/// Where the app lives and who we are.
#[derive(Args, Clone)]
struct App {
    /// `http(s)://KEY:SECRET@HOST[:PORT]/apps/APP_ID`.
    #[arg(long, env = "PUSHER_URL")]
    url: Option<String>,
    /// App id.
    #[arg(long, env = "PUSHER_APP_ID")]
    app_id: Option<String>,
    /// App key.
    #[arg(long, env = "PUSHER_KEY")]
    key: Option<String>,
    /// App secret.
    #[arg(long, env = "PUSHER_SECRET")]
    secret: Option<String>,
    /// Cluster (`mt1`, `eu`, ...).
    #[arg(long, env = "PUSHER_CLUSTER", default_value = "mt1")]
    cluster: String,
    /// Another server's host (soketi, a proxy); overrides the cluster.
    #[arg(long)]
    host: Option<String>,
    /// Port for --host.
    #[arg(long)]
    port: Option<u16>,
    /// Plain ws:// and http:// (for --host).
    #[arg(long)]
    insecure: bool,
}

impl App {
    fn rest_config(&self) -> Result<Config, String> {
        let mut cfg = match &self.url {
            Some(url) => Config::from_url(url).map_err(|e| e.to_string())?,
            None => Config::new(
                self.app_id
                    .as_deref()
                    .ok_or("--app-id (or PUSHER_APP_ID, PUSHER_URL) is required")?,
                self.key
                    .as_deref()
                    .ok_or("--key (or PUSHER_KEY, PUSHER_URL) is required")?,
                self.secret
                    .as_deref()
                    .ok_or("--secret (or PUSHER_SECRET, PUSHER_URL) is required")?,
            )
            .cluster(&self.cluster),
        };
        if let Some(host) = &self.host {
            let tls = !self.insecure;
            cfg = cfg.host(host, self.port.unwrap_or(if tls { 443 } else { 80 }), tls);
        }
        Ok(cfg)
    }

    fn key(&self) -> Result<String, String> {
        match (&self.key, &self.url) {
            (Some(k), _) => Ok(k.clone()),
            (None, Some(url)) => Ok(Config::from_url(url).map_err(|e| e.to_string())?.key),
            _ => Err("--key (or PUSHER_KEY, PUSHER_URL) is required".into()),
        }
    }

    fn credentials(&self) -> Result<(String, String), String> {
        let secret = self
            .secret()
            .ok_or("--secret (or PUSHER_SECRET, PUSHER_URL) is required")?;
        Ok((self.key()?, secret))
    }

    fn secret(&self) -> Option<String> {
        self.secret.clone().or_else(|| {
            self.url
                .as_deref()
                .and_then(|u| Config::from_url(u).ok())
                .map(|c| c.secret)
        })
    }

    fn ws_options(&self) -> Result<Options, String> {
        let key = self.key()?;
        Ok(match &self.host {
            Some(host) => {
                let tls = !self.insecure;
                let port = self.port.unwrap_or(if tls { 443 } else { 80 });
                Options::host(&key, host, port, port, tls)
            }
            None => match self.url.as_deref().map(Config::from_url) {
                Some(Ok(cfg)) if !cfg.endpoint.host.starts_with("api") => Options::host(
                    &key,
                    &cfg.endpoint.host,
                    cfg.endpoint.port,
                    cfg.endpoint.port,
                    cfg.endpoint.tls,
                ),
                _ => Options::cluster(&key, &self.cluster),
            },
        })
    }
}

#[derive(Args)]
struct Listen {
    #[command(flatten)]
    app: App,
    /// Channels to subscribe to.
    #[arg(required = true)]
    channels: Vec<String>,
    /// Auth endpoint for private and presence channels (else the secret signs locally).
    #[arg(long)]
    auth_endpoint: Option<String>,
    /// `channel_data` for presence channels when signing locally.
    #[arg(long)]
    channel_data: Option<String>,
    /// Sign in with this `user_data` (local signing).
    #[arg(long)]
    user_data: Option<String>,
    /// Stop after this many events.
    #[arg(long)]
    count: Option<usize>,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<u64>,
}

#[derive(Args)]
struct Trigger {
    #[command(flatten)]
    app: App,
    /// Comma-separated channels (1-100).
    channels: String,
    /// Event name.
    event: String,
    /// Data (JSON text, usually).
    data: String,
    /// Exclude this connection.
    #[arg(long)]
    socket_id: Option<String>,
}

#[derive(Args)]
struct Auth {
    #[command(flatten)]
    app: App,
    /// The socket id.
    #[arg(long)]
    socket_id: String,
    /// The channel.
    #[arg(long, required_unless_present = "user")]
    channel: Option<String>,
    /// Presence `channel_data`.
    #[arg(long)]
    channel_data: Option<String>,
    /// Sign a user in with this `user_data` instead.
    #[arg(long)]
    user: Option<String>,
}

#[derive(Args)]
struct Sign {
    #[command(flatten)]
    app: App,
    /// GET or POST.
    method: String,
    /// Path including /apps/APP_ID.
    path: String,
    /// Body file (`-` for stdin).
    #[arg(long)]
    body: Option<String>,
    /// Unix timestamp (default: now).
    #[arg(long)]
    timestamp: Option<u64>,
    /// Extra query parameters, `key=value`.
    #[arg(long = "param")]
    params: Vec<String>,
}

#[derive(Args)]
struct Webhook {
    #[command(flatten)]
    app: App,
    /// The `X-Pusher-Key` header.
    #[arg(long)]
    key_header: String,
    /// The `X-Pusher-Signature` header.
    #[arg(long)]
    signature: String,
}

#[derive(Args)]
pub(crate) struct Doctor {
    #[command(flatten)]
    app: App,
}

struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("[{}] {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.verbose > 0 {
        let _ = log::set_logger(&LOGGER);
        log::set_max_level(if cli.verbose > 1 {
            log::LevelFilter::Trace
        } else {
            log::LevelFilter::Info
        });
    }
    let result = match cli.command {
        Command::Listen(a) => listen(a),
        Command::Trigger(a) => trigger(a),
        Command::Auth(a) => auth(a),
        Command::Sign(a) => sign(a),
        Command::Webhook(a) => webhook(a),
        Command::Doctor(a) => doctor::run(&a.app),
        Command::Serve(a) => serve::run(&a),
        Command::Demo(a) => demo::run(&demo::Target {
            server: a.server,
            app: (a.app_id, a.key, a.secret),
            server_log: a.server_log,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pusher: {e}");
            ExitCode::FAILURE
        }
    }
}

fn listen(a: Listen) -> Result<(), String> {
    let options = a.app.ws_options()?;
    let seen = Cell::new(0usize);
    let mut buffers = Buffers::default();
    let mut p = Pusher::new(&options, &mut buffers).map_err(|e| e.to_string())?;
    match (&a.auth_endpoint, a.app.secret()) {
        (Some(url), _) => p.set_authorizer(HttpAuthorizer::new(url)?),
        (None, Some(secret)) => {
            let mut s = LocalSigner::new(&options.key, &secret);
            s.channel_data = a.channel_data.clone();
            s.user_data = a.user_data.clone();
            p.set_authorizer(s);
        }
        (None, None) => {}
    }
    p.bind_global(|e| {
        if e.event.starts_with("pusher:")
            && !e.event.ends_with("member_added")
            && !e.event.ends_with("member_removed")
        {
            log::info!("{} {}", e.event, e.channel.unwrap_or(""));
            if e.event != "pusher:subscription_succeeded" {
                return;
            }
        }
        println!("{}", json::event_line(e));
        if !e.event.starts_with("pusher:") {
            seen.set(seen.get() + 1);
        }
    });
    p.on_error(|e| log::warn!("{e}"));
    p.on_state_change(|prev, cur| log::info!("state {prev:?} -> {cur:?}"));
    for c in &a.channels {
        p.subscribe(c).map_err(|e| format!("{c}: {e}"))?;
    }
    if a.user_data.is_some() {
        p.signin();
    }
    p.connect();
    let limit = Duration::from_secs(a.seconds.unwrap_or(u64::MAX / 4));
    let count = a.count;
    p.run_until(|_| count.is_some_and(|n| seen.get() >= n), limit);
    p.disconnect();
    Ok(())
}

fn trigger(a: Trigger) -> Result<(), String> {
    let rest = Rest::new(a.app.rest_config()?).map_err(|e| e.to_string())?;
    let channels: Vec<&str> = a
        .channels
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let body = rest
        .trigger_with(&channels, &a.event, &a.data, a.socket_id.as_deref(), None)
        .map_err(|e| e.to_string())?;
    println!("{body}");
    Ok(())
}

fn auth(a: Auth) -> Result<(), String> {
    let (key, secret) = a.app.credentials()?;
    let creds = Credentials::new(&key, &secret);
    let socket = SocketId::new(&a.socket_id).map_err(|e| format!("socket id: {e}"))?;
    let mut out = vec![
        0u8;
        1024 + a.channel_data.as_deref().map_or(0, str::len) * 6
            + a.user.as_deref().map_or(0, str::len) * 6
    ];
    let json = match (&a.user, &a.channel) {
        (Some(user_data), _) => creds
            .user_auth_response(&mut out, socket, user_data)
            .map_err(|e| e.to_string())?,
        (None, Some(channel)) => {
            let name =
                ChannelName::with_max_len(channel, 200).map_err(|e| format!("channel: {e}"))?;
            creds
                .channel_auth_response(&mut out, socket, name, a.channel_data.as_deref(), None)
                .map_err(|e| e.to_string())?
        }
        (None, None) => return Err("--channel or --user is required".into()),
    };
    println!("{json}");
    Ok(())
}

fn sign(a: Sign) -> Result<(), String> {
    let (key, secret) = a.app.credentials()?;
    let creds = Credentials::new(&key, &secret);
    let body = match a.body.as_deref() {
        None => None,
        Some("-") => {
            let mut b = Vec::new();
            std::io::stdin()
                .read_to_end(&mut b)
                .map_err(|e| e.to_string())?;
            Some(b)
        }
        Some(path) => Some(std::fs::read(path).map_err(|e| format!("{path}: {e}"))?),
    };
    let params: Vec<(&str, &str)> = a
        .params
        .iter()
        .map(|p| {
            p.split_once('=')
                .ok_or(format!("--param {p}: expected key=value"))
        })
        .collect::<Result<_, _>>()?;
    let timestamp = a.timestamp.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let method = a.method.to_ascii_uppercase();
    let req = Request {
        method: &method,
        path: &a.path,
        params: &params,
        body: body.as_deref(),
        timestamp,
    };
    let mut out = vec![
        0u8;
        4096 + params
            .iter()
            .map(|(k, v)| (k.len() + v.len()) * 3)
            .sum::<usize>()
    ];
    let sts = signing::write_string_to_sign(&mut out, &creds, &req)
        .map_err(|e| e.to_string())?
        .to_owned();
    let query = signing::write_query(&mut out, &creds, &req).map_err(|e| e.to_string())?;
    eprintln!("string to sign:\n{sts}\n");
    println!("{}?{query}", a.path);
    Ok(())
}

fn webhook(a: Webhook) -> Result<(), String> {
    let rest = Rest::new(a.app.rest_config()?).map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    std::io::stdin()
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    let (time_ms, events) = rest
        .webhook(&a.key_header, &a.signature, &body)
        .map_err(|e| e.to_string())?;
    eprintln!("valid webhook, time_ms {time_ms}");
    for e in events {
        println!("{}", json::webhook_line(&e));
    }
    Ok(())
}
