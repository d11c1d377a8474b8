//! `pusher`: the debug console and event creator on the command line.
//!
//! Credentials come from flags or the environment: `PUSHER_URL`
//! (`http://KEY:SECRET@HOST[:PORT]/apps/APP_ID`), `PUSHER_KEY`, `PUSHER_SECRET`,
//! `PUSHER_APP_ID`, `PUSHER_CLUSTER`.
#![forbid(unsafe_code)]

mod demo;
mod doctor;
mod json;
mod listen;
mod out;
mod rest_commands;
mod serve;
mod swarm;
mod watch;
mod webhook_serve;

use std::io::Read;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pusher_core::auth::Credentials;
use pusher_core::rest::{self as signing, Request};
use pusher_core::{ChannelName, SocketId};
use pusher_std::pusher::Options;
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
    /// Connect, subscribe, and print every event, state change and error.
    Listen(listen::Listen),
    /// Trigger an event on channels over the REST API.
    Trigger(rest_commands::Trigger),
    /// Trigger up to 10 events in one request, from a JSON file.
    Batch(rest_commands::Batch),
    /// List occupied channels (optionally by prefix, with attributes).
    Channels(rest_commands::Channels),
    /// One channel's state and attributes.
    Channel(rest_commands::Channel),
    /// The users on a presence channel.
    Users(rest_commands::Users),
    /// Send an event to every connection of a signed-in user.
    SendToUser(rest_commands::SendToUser),
    /// Close every connection of a signed-in user.
    Terminate(rest_commands::Terminate),
    /// Print the auth JSON for a socket id and channel (or for a user sign-in).
    Auth(Auth),
    /// Print the signed REST query string (and the string to sign) for a request.
    Sign(Sign),
    /// Verify a webhook body (stdin) against its headers and print its events; or `serve`.
    Webhook(Webhook),
    /// Watch channels: print them becoming occupied or vacated and their counts changing.
    Watch(watch::Watch),
    /// Check DNS, TCP, TLS, the upgrade, connection_established and ping/pong, step by step.
    Doctor(Doctor),
    /// Run a Pusher-protocol dev server on loopback, printing what happens.
    Serve(serve::Serve),
    /// Start the dev server on a free port, connect, subscribe, trigger, print what arrives.
    Demo(Demo),
    /// Simulate N devices in one process against a server: connect rate, delivery, latency,
    /// memory per connection, with a JSON summary and SVG plots.
    Swarm(swarm::SwarmArgs),
}

#[derive(Args)]
#[command(after_help = "Examples:
  pusher demo
  pusher demo --server-log
  pusher demo --server 127.0.0.1:6001 --key app-key --secret app-secret")]
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
pub(crate) struct App {
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
    /// The encryption master key (base64, 32 bytes): triggers to private-encrypted-
    /// channels are sealed with it.
    #[arg(long, env = "PUSHER_ENCRYPTION_MASTER_KEY_BASE64")]
    encryption_master_key: Option<String>,
}

impl App {
    pub(crate) fn rest_config(&self) -> Result<Config, String> {
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
        if let Some(key) = &self.encryption_master_key {
            cfg = cfg
                .encryption_master_key_base64(key)
                .map_err(|e| e.to_string())?;
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

    /// The decoded `--encryption-master-key`, if given.
    pub(crate) fn master_key(&self) -> Result<Option<[u8; 32]>, String> {
        self.encryption_master_key
            .as_deref()
            .map(|k| {
                pusher_core::auth::decode_master_key(k)
                    .map_err(|e| format!("--encryption-master-key: {e}"))
            })
            .transpose()
    }

    pub(crate) fn secret(&self) -> Option<String> {
        self.secret.clone().or_else(|| {
            self.url
                .as_deref()
                .and_then(|u| Config::from_url(u).ok())
                .map(|c| c.secret)
        })
    }

    pub(crate) fn ws_options(&self) -> Result<Options, String> {
        let key = self.key()?;
        Ok(match &self.host {
            Some(host) => {
                let tls = !self.insecure;
                let port = self.port.unwrap_or(if tls { 443 } else { 80 });
                Options::host(&key, host, port, port, tls)
            }
            None => match self.url.as_deref().map(Config::from_url) {
                // Pusher's own hosts: `api-CLUSTER.pusher.com` (or `api.pusherapp.com`, mt1)
                // serves REST; the WebSocket of that cluster is `ws-CLUSTER.pusher.com`.
                Some(Ok(cfg)) => match pusher_cluster(&cfg.endpoint.host) {
                    Some(cluster) => Options::cluster(&key, cluster),
                    None => Options::host(
                        &key,
                        &cfg.endpoint.host,
                        cfg.endpoint.port,
                        cfg.endpoint.port,
                        cfg.endpoint.tls,
                    ),
                },
                _ => Options::cluster(&key, &self.cluster),
            },
        })
    }
}

/// The cluster of a Pusher REST host: `api-eu.pusher.com` is `eu`, `api.pusherapp.com` is
/// `mt1`; `None` for any other host.
fn pusher_cluster(host: &str) -> Option<&str> {
    if host == "api.pusherapp.com" || host == "api.pusher.com" {
        return Some("mt1");
    }
    host.strip_prefix("api-")?.strip_suffix(".pusher.com")
}

#[derive(Args)]
#[command(after_help = "Examples:
  pusher auth --socket-id 1234.1234 --channel private-foobar
  pusher auth --socket-id 1234.1234 --channel presence-room --channel-data '{\"user_id\":\"1\"}'
  pusher auth --socket-id 1234.1234 --user '{\"id\":\"1\"}'")]
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
#[command(after_help = "Example:
  pusher sign POST /apps/3/events --body body.json --timestamp 1353088179")]
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
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:
  pusher webhook --key-header \"$KEY\" --signature \"$SIG\" < body.json
  pusher webhook serve --port 8000"
)]
struct Webhook {
    #[command(subcommand)]
    serve: Option<WebhookCommand>,
    #[command(flatten)]
    app: App,
    /// The `X-Pusher-Key` header.
    #[arg(long, required = true)]
    key_header: Option<String>,
    /// The `X-Pusher-Signature` header.
    #[arg(long, required = true)]
    signature: Option<String>,
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Receive webhooks over HTTP on loopback, verify each, and print its events.
    Serve(webhook_serve::WebhookServe),
}

#[derive(Args)]
#[command(after_help = "Examples:
  pusher doctor --key KEY --cluster eu
  pusher doctor --host 127.0.0.1 --port 6001 --insecure --key app-key
  pusher doctor --url \"$PUSHER_URL\" --auth-endpoint http://localhost:3000/pusher/auth --json")]
pub(crate) struct Doctor {
    #[command(flatten)]
    app: App,
    /// One JSON line per step.
    #[arg(long)]
    json: bool,
    /// Also check this auth endpoint (and, with the secret, that it signs with it).
    #[arg(long)]
    auth_endpoint: Option<String>,
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
        Command::Listen(a) => listen::run(a),
        Command::Trigger(a) => rest_commands::trigger(a),
        Command::Batch(a) => rest_commands::batch(a),
        Command::Channels(a) => rest_commands::channels(a),
        Command::Channel(a) => rest_commands::channel(a),
        Command::Users(a) => rest_commands::users(a),
        Command::SendToUser(a) => rest_commands::send_to_user(a),
        Command::Terminate(a) => rest_commands::terminate(a),
        Command::Auth(a) => auth(a),
        Command::Sign(a) => sign(a),
        Command::Webhook(a) => webhook(a),
        Command::Watch(a) => watch::run(&a),
        Command::Doctor(a) => doctor::run(
            &a.app,
            a.json,
            &doctor::Extras {
                auth_endpoint: a.auth_endpoint.as_deref(),
            },
        ),
        Command::Serve(a) => serve::run(&a),
        Command::Swarm(a) => swarm::run(&a),
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
    if let Some(WebhookCommand::Serve(serve)) = &a.serve {
        return webhook_serve::run(serve);
    }
    // Verifying needs only the key and secret (no app id).
    let (key, secret) = a.app.credentials()?;
    let app_id = a.app.app_id.as_deref().unwrap_or("0");
    let rest = Rest::new(Config::new(app_id, &key, &secret)).map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    std::io::stdin()
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    let (time_ms, events) = rest
        .webhook(
            a.key_header.as_deref().unwrap_or(""),
            a.signature.as_deref().unwrap_or(""),
            &body,
        )
        .map_err(|e| e.to_string())?;
    eprintln!("valid webhook, time_ms {time_ms}");
    for e in events {
        println!("{}", json::webhook_line(&e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap's own checks of every command (duplicate flags and the like), which otherwise
    /// only fire when that command runs.
    #[test]
    fn every_command_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn pusher_rest_hosts_map_to_their_websocket_cluster() {
        assert_eq!(pusher_cluster("api-eu.pusher.com"), Some("eu"));
        assert_eq!(pusher_cluster("api-ap1.pusher.com"), Some("ap1"));
        assert_eq!(pusher_cluster("api.pusherapp.com"), Some("mt1"));
        assert_eq!(pusher_cluster("127.0.0.1"), None);
        assert_eq!(pusher_cluster("api.example.com"), None);
    }
}
