//! `pusher serve`: the dev server in the foreground, printing what happens as the Pusher
//! debug console does, one timestamped line per connection, subscription, event, REST call
//! and webhook.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use pusher_dev_server::{Activity, Compat, Config, DevServer};

#[derive(Args)]
#[command(after_help = "Examples:
  pusher serve
  pusher serve --port 6001 --compat soketi
  pusher serve --webhook http://127.0.0.1:8000/hooks")]
pub(crate) struct Serve {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 6001)]
    port: u16,
    /// Address to bind (loopback unless you mean it).
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// App id.
    #[arg(long, env = "PUSHER_APP_ID", default_value = "123456")]
    app_id: String,
    /// App key.
    #[arg(long, env = "PUSHER_KEY", default_value = "app-key")]
    key: String,
    /// App secret.
    #[arg(long, env = "PUSHER_SECRET", default_value = "app-secret")]
    secret: String,
    /// Which server to imitate: pusher, soketi or reverb.
    #[arg(long, default_value = "pusher", value_parser = parse_compat)]
    compat: Compat,
    /// activity_timeout to announce, in seconds (default: the compat mode's).
    #[arg(long)]
    activity_timeout: Option<u64>,
    /// Refuse client events (4301), as an app with the setting off.
    #[arg(long)]
    no_client_events: bool,
    /// Send pusher_internal:subscription_count to subscribers.
    #[arg(long)]
    subscription_count: bool,
    /// Post webhooks to this http:// URL.
    #[arg(long)]
    webhook: Option<String>,
    /// Print nothing but the startup lines.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_compat(s: &str) -> Result<Compat, String> {
    Compat::parse(s)
        .ok_or_else(|| format!("unknown compat mode {s:?}: use pusher, soketi or reverb"))
}

impl Serve {
    fn config(&self) -> Config {
        let mut cfg = Config::default().compat(self.compat).credentials(
            &self.app_id,
            &self.key,
            &self.secret,
        );
        cfg.listen = std::net::SocketAddr::new(self.bind, self.port);
        if let Some(t) = self.activity_timeout {
            cfg.activity_timeout = Duration::from_secs(t);
        }
        cfg.client_events = !self.no_client_events;
        cfg.subscription_count = self.subscription_count;
        cfg.webhook_url = self.webhook.clone();
        cfg
    }
}

/// Prints an activity line with the time of day (UTC).
pub(crate) fn print_activity(prefix: &'static str) -> pusher_dev_server::Observer {
    Arc::new(move |a: &Activity| {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let (h, m, s, ms) = (
            secs / 3_600_000 % 24,
            secs / 60_000 % 60,
            secs / 1000 % 60,
            secs % 1000,
        );
        println!("{prefix}{h:02}:{m:02}:{s:02}.{ms:03} {a}");
    })
}

pub(crate) fn run(a: &Serve) -> Result<(), String> {
    let observer = (!a.quiet).then(|| print_activity(""));
    let server = DevServer::start_observed(a.config(), observer).map_err(|e| e.to_string())?;
    let port = server.port();
    println!(
        "pusher dev server ({} compat) on {}\n  app id {}  key {}  secret {}\n  WebSocket {}\n  REST      {}\n  try: pusher listen --url http://{}:{}@127.0.0.1:{port}/apps/{} --host 127.0.0.1 --port {port} --insecure my-channel",
        server.config().compat.name(),
        server.addr(),
        server.app_id(),
        server.key(),
        server.secret(),
        server.ws_url(),
        server.rest_url(),
        server.key(),
        server.secret(),
        server.app_id(),
    );
    // Runs until the process is stopped (Ctrl-C).
    loop {
        std::thread::park();
    }
}
