//! `pusher watch`: the debug console's channel view. Polls the channel list over REST and
//! prints each change as it happens: a channel occupied or vacated, a count that moved.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Args;
use pusher_std::rest::Rest;
use serde_json::Value;

use crate::App;
use crate::rest_commands::ChannelFilter;

#[derive(Args)]
#[command(after_help = "Examples:
  pusher watch
  pusher watch --prefix presence- --info user_count
  pusher watch --info subscription_count --interval-ms 250")]
pub(crate) struct Watch {
    #[command(flatten)]
    app: App,
    #[command(flatten)]
    filter: ChannelFilter,
    /// How often to ask, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
    /// Stop after this many changes.
    #[arg(long)]
    count: Option<usize>,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<u64>,
}

/// One channel's attributes as the API lists them.
type Listing = BTreeMap<String, BTreeMap<String, Value>>;

fn listing(rest: &Rest, a: &Watch) -> Result<Listing, String> {
    let body = rest
        .channels(a.filter.prefix.as_deref(), a.filter.info.as_deref())
        .map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("channel list: {e}"))?;
    let mut out = Listing::new();
    if let Some(channels) = v.get("channels").and_then(Value::as_object) {
        for (name, attrs) in channels {
            let attrs = attrs
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            out.insert(name.clone(), attrs);
        }
    }
    Ok(out)
}

/// The lines that say how `before` became `after`.
fn changes(before: &Listing, after: &Listing) -> Vec<Value> {
    let mut lines = Vec::new();
    for (name, attrs) in after {
        match before.get(name) {
            None => {
                let mut line = serde_json::json!({"event": "channel_occupied", "channel": name});
                for (k, v) in attrs {
                    line[k] = v.clone();
                }
                lines.push(line);
            }
            Some(old) => {
                for (k, v) in attrs {
                    if old.get(k) != Some(v) {
                        lines.push(serde_json::json!({
                            "event": format!("{k}_changed"),
                            "channel": name,
                            "from": old.get(k).cloned().unwrap_or(Value::Null),
                            "to": v,
                        }));
                    }
                }
            }
        }
    }
    for name in before.keys().filter(|n| !after.contains_key(*n)) {
        lines.push(serde_json::json!({"event": "channel_vacated", "channel": name}));
    }
    lines
}

pub(crate) fn run(a: &Watch) -> Result<(), String> {
    let rest = Rest::new(a.app.rest_config()?).map_err(|e| e.to_string())?;
    let end = a.seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let mut known = listing(&rest, a)?;
    let mut printed = 0usize;
    for (name, attrs) in &known {
        let mut line =
            serde_json::json!({"event": "channel_occupied", "channel": name, "initial": true});
        for (k, v) in attrs {
            line[k] = v.clone();
        }
        crate::out::line(&line.to_string());
    }
    eprintln!("watching {} occupied channels", known.len());
    loop {
        if end.is_some_and(|e| Instant::now() >= e)
            || a.count.is_some_and(|n| printed >= n)
            || crate::out::gone()
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(a.interval_ms.max(50)));
        let now = match listing(&rest, a) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("pusher: {e} (retrying)");
                continue;
            }
        };
        for line in changes(&known, &now) {
            crate::out::line(&line.to_string());
            printed += 1;
        }
        known = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occupied_vacated_and_counts() {
        let l = |v: Value| -> Listing { serde_json::from_value(v).unwrap() };
        let before = l(serde_json::json!({"a": {"user_count": 1}, "b": {}}));
        let after = l(serde_json::json!({"a": {"user_count": 2}, "c": {}}));
        let got: Vec<String> = changes(&before, &after)
            .iter()
            .map(Value::to_string)
            .collect();
        assert_eq!(
            got,
            [
                r#"{"channel":"a","event":"user_count_changed","from":1,"to":2}"#,
                r#"{"channel":"c","event":"channel_occupied"}"#,
                r#"{"channel":"b","event":"channel_vacated"}"#,
            ]
        );
    }
}
