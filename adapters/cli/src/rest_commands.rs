//! The REST API as commands (the Event Creator, and queries): trigger, batch, channels,
//! channel, users, send-to-user, terminate. Each prints the server's JSON answer on stdout
//! and exits non-zero with the status and body on any refusal.

use std::io::Read;

use clap::Args;
use pusher_std::rest::{BatchItem, Rest};

use crate::App;

/// `-` reads stdin, `@path` reads a file, anything else is the text itself.
fn text_arg(value: &str) -> Result<String, String> {
    if value == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("stdin: {e}"))?;
        return Ok(s.trim_end_matches('\n').to_owned());
    }
    match value.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map(|s| s.trim_end_matches('\n').to_owned())
            .map_err(|e| format!("{path}: {e}")),
        None => Ok(value.to_owned()),
    }
}

fn rest(app: &App) -> Result<Rest, String> {
    Rest::new(app.rest_config()?).map_err(|e| e.to_string())
}

fn done(answer: Result<String, pusher_std::rest::Error>) -> Result<(), String> {
    let body = answer.map_err(|e| e.to_string())?;
    println!("{body}");
    Ok(())
}

#[derive(Args)]
#[command(after_help = "Examples:
  pusher trigger orders order-shipped '{\"id\":42}'
  pusher trigger orders,public news @news.json --info subscription_count
  echo '{\"n\":1}' | pusher trigger presence-room tick - --socket-id 1234.5678
  pusher trigger private-encrypted-orders shipped '{\"id\":7}' --encryption-master-key \"$KEY_B64\"")]
pub(crate) struct Trigger {
    #[command(flatten)]
    app: App,
    /// Comma-separated channels (1-100).
    channels: String,
    /// Event name.
    event: String,
    /// Data (JSON text, usually); `-` reads stdin, `@file` a file.
    data: String,
    /// Exclude this connection.
    #[arg(long)]
    socket_id: Option<String>,
    /// Ask for channel attributes back (`user_count`, `subscription_count`).
    #[arg(long)]
    info: Option<String>,
}

pub(crate) fn trigger(a: Trigger) -> Result<(), String> {
    let channels: Vec<&str> = a
        .channels
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let data = text_arg(&a.data)?;
    done(rest(&a.app)?.trigger_with(
        &channels,
        &a.event,
        &data,
        a.socket_id.as_deref(),
        a.info.as_deref(),
    ))
}

#[derive(Args)]
#[command(after_help = "Examples:
  pusher batch events.json
  cat events.json | pusher batch -

The file holds a JSON array of up to 10 events:
  [{\"channel\":\"orders\",\"name\":\"created\",\"data\":\"{\\\"id\\\":1}\",\"info\":\"subscription_count\"}]")]
pub(crate) struct Batch {
    #[command(flatten)]
    app: App,
    /// The events: a JSON array of `{channel, name, data, socket_id?, info?}`; `-` for stdin.
    file: String,
}

pub(crate) fn batch(a: Batch) -> Result<(), String> {
    let text = text_arg(&if a.file == "-" {
        a.file.clone()
    } else {
        format!("@{}", a.file)
    })?;
    let items: Vec<serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| format!("{}: not a JSON array: {e}", a.file))?;
    let field = |v: &serde_json::Value, k: &str| -> Result<Option<String>, String> {
        match v.get(k) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            // Non-string data is sent as its JSON text, as the official libraries do.
            Some(other) if k == "data" => Ok(Some(other.to_string())),
            Some(_) => Err(format!("event field `{k}` must be a string")),
        }
    };
    let mut batch = Vec::new();
    for (i, v) in items.iter().enumerate() {
        let need = |k: &str| field(v, k)?.ok_or_else(|| format!("event {i}: `{k}` is required"));
        batch.push(BatchItem {
            channel: need("channel")?,
            event: need("name")?,
            data: need("data")?,
            socket_id: field(v, "socket_id")?,
            info: field(v, "info")?,
        });
    }
    done(rest(&a.app)?.trigger_batch(&batch))
}

#[derive(Args)]
#[command(after_help = "Examples:
  pusher channels
  pusher channels --prefix presence- --info user_count")]
pub(crate) struct Channels {
    #[command(flatten)]
    app: App,
    #[command(flatten)]
    filter: ChannelFilter,
}

/// Which channels a listing covers, and with which attributes.
#[derive(Args)]
pub(crate) struct ChannelFilter {
    /// Only channels starting with this prefix.
    #[arg(long)]
    pub(crate) prefix: Option<String>,
    /// Attributes: `user_count` (with a presence- prefix), `subscription_count`.
    #[arg(long)]
    pub(crate) info: Option<String>,
}

pub(crate) fn channels(a: Channels) -> Result<(), String> {
    done(rest(&a.app)?.channels(a.filter.prefix.as_deref(), a.filter.info.as_deref()))
}

#[derive(Args)]
#[command(after_help = "Examples:
  pusher channel orders --info subscription_count
  pusher channel presence-room --info user_count")]
pub(crate) struct Channel {
    #[command(flatten)]
    app: App,
    /// The channel.
    name: String,
    /// Attributes (`user_count`, `subscription_count`, `cache`).
    #[arg(long)]
    info: Option<String>,
}

pub(crate) fn channel(a: Channel) -> Result<(), String> {
    done(rest(&a.app)?.channel(&a.name, a.info.as_deref()))
}

#[derive(Args)]
#[command(after_help = "Example:
  pusher users presence-room")]
pub(crate) struct Users {
    #[command(flatten)]
    app: App,
    /// A presence channel.
    name: String,
}

pub(crate) fn users(a: Users) -> Result<(), String> {
    done(rest(&a.app)?.users(&a.name))
}

#[derive(Args)]
#[command(after_help = "Example:
  pusher send-to-user 42 notice '{\"text\":\"hello\"}'")]
pub(crate) struct SendToUser {
    #[command(flatten)]
    app: App,
    /// The user id.
    user_id: String,
    /// Event name.
    event: String,
    /// Data; `-` reads stdin, `@file` a file.
    data: String,
}

pub(crate) fn send_to_user(a: SendToUser) -> Result<(), String> {
    let data = text_arg(&a.data)?;
    done(rest(&a.app)?.send_to_user(&a.user_id, &a.event, &data))
}

#[derive(Args)]
#[command(after_help = "Example:
  pusher terminate 42")]
pub(crate) struct Terminate {
    #[command(flatten)]
    app: App,
    /// The user whose connections to close.
    user_id: String,
}

pub(crate) fn terminate(a: Terminate) -> Result<(), String> {
    done(rest(&a.app)?.terminate_user_connections(&a.user_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_comes_from_the_argument_or_a_file() {
        assert_eq!(text_arg("{}").unwrap(), "{}");
        let path = std::env::temp_dir().join(format!("pusher-cli-{}.json", std::process::id()));
        std::fs::write(&path, "{\"a\":1}\n").unwrap();
        assert_eq!(
            text_arg(&format!("@{}", path.display())).unwrap(),
            "{\"a\":1}"
        );
        let _ = std::fs::remove_file(&path);
        assert!(
            text_arg("@/nonexistent/x")
                .unwrap_err()
                .contains("/nonexistent/x")
        );
    }
}
