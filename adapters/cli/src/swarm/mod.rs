//! `pusher swarm`: N simulated devices in one process, each a core client in a few hundred
//! bytes of buffers, connect at a set rate to a server, subscribe one channel and answer
//! pings; a sender triggers stamped events over REST; the report gives the connect rate,
//! the delivery ratio, trigger-to-receive latency percentiles, RSS per connection, a JSON
//! summary and two SVG plots. Bounded in devices and time, and aimed at loopback or private
//! (network namespace) addresses unless told otherwise.

mod devices;
mod report;
mod sender;

use std::io::IsTerminal as _;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use clap::Args;
use pusher_core::client::{Config, Instant as CoreInstant};
use pusher_std::rest::Rest;
use serde_json::json;

use crate::App;
use devices::Swarm;
use report::Sample;

/// The most devices one run may start (each needs a file descriptor).
const MAX_DEVICES: usize = 50_000;

#[derive(Args)]
#[command(after_help = "Examples:
  pusher serve --port 6001 &
  pusher swarm --host 127.0.0.1 --port 6001 --insecure --app-id 123456 --key app-key --secret app-secret --devices 10000
  pusher swarm ... --devices 0 --events 100      # only the sender (for another client's swarm)")]
pub(crate) struct SwarmArgs {
    #[command(flatten)]
    app: App,
    /// Simulated devices (each one TCP connection).
    #[arg(long, default_value_t = 1000)]
    devices: usize,
    /// New connections per second.
    #[arg(long, default_value_t = 2000)]
    rate: u32,
    /// The channel every device subscribes to and every event goes to.
    #[arg(long, default_value = "swarm")]
    channel: String,
    /// Stamped events to trigger once every device is subscribed.
    #[arg(long, default_value_t = 100)]
    events: u32,
    /// Milliseconds between triggers.
    #[arg(long, default_value_t = 100)]
    interval_ms: u64,
    /// Receive buffer per device (bounds the largest message).
    #[arg(long, default_value_t = 256)]
    rx: usize,
    /// Transmit buffer per device (holds the upgrade request).
    #[arg(long, default_value_t = 320)]
    tx: usize,
    /// Give up after this many seconds, whatever is left (the report says what was).
    #[arg(long, default_value_t = 300)]
    max_seconds: u64,
    /// Where the JSON summary and the plots go.
    #[arg(long, default_value = "swarm-report")]
    out: PathBuf,
    /// Allow a server outside loopback and private networks.
    #[arg(long)]
    allow_remote: bool,
}

/// Whether an address is on this machine or a private network (a namespace, a lab).
fn local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback(),
    }
}

/// This process's resident memory, from /proc (bytes).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Raises the open-file limit to what `devices` need, or says why it cannot.
fn files_for(devices: usize) -> Result<(), String> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let need = devices as u64 + 64;
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|c| c >= need) {
        return Ok(());
    }
    if limit.maximum.is_some_and(|m| m < need) {
        return Err(format!(
            "{devices} devices need {need} open files; this system allows {} (hard limit; raise it with `ulimit -Hn` as root)",
            limit.maximum.unwrap_or(0)
        ));
    }
    limit.current = Some(need);
    setrlimit(Resource::Nofile, limit)
        .map_err(|e| format!("cannot raise the open-file limit to {need}: {e}"))
}

/// Progress on stderr: rewritten in place on a terminal, a line every 5 s otherwise.
struct Progress {
    tty: bool,
    last: Instant,
}

impl Progress {
    fn show(&mut self, line: &str, force: bool) {
        let every = if self.tty {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(5)
        };
        if !force && self.last.elapsed() < every {
            return;
        }
        self.last = Instant::now();
        if self.tty {
            eprint!("\r\x1b[K{line}");
        } else {
            eprintln!("{line}");
        }
    }

    fn done(&mut self) {
        if self.tty {
            eprintln!();
        }
    }
}

/// Where the devices stand and why, for a run that ends early.
fn stuck(tally: &devices::Tally, devices: usize) -> String {
    let mut causes: Vec<(&String, &usize)> = tally.problems.iter().collect();
    causes.sort_by(|x, y| y.1.cmp(x.1));
    let causes: Vec<String> = causes
        .iter()
        .take(3)
        .map(|(why, n)| format!("{why} ({n}x)"))
        .collect();
    format!(
        "{} of {devices} devices subscribed, {} connection attempts; {}",
        tally.subscribed,
        tally.connects,
        if causes.is_empty() {
            "no disconnect seen".to_string()
        } else {
            format!("disconnects: {}", causes.join(", "))
        }
    )
}

pub(crate) fn run(a: &SwarmArgs) -> Result<(), String> {
    if a.devices > MAX_DEVICES {
        return Err(format!(
            "--devices {} is over the bound of {MAX_DEVICES}",
            a.devices
        ));
    }
    if a.rate == 0 {
        return Err("--rate must be at least 1 connection per second".into());
    }
    let rest_config = a.app.rest_config()?;
    let endpoint = rest_config.endpoint.clone();
    if endpoint.tls && a.devices > 0 {
        return Err(
            "swarm devices speak plain ws:// (give --insecure with --host): TLS per device would measure the TLS stack, not the client"
                .into(),
        );
    }
    let server: SocketAddr = (endpoint.host.as_str(), endpoint.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", endpoint.host))?
        .next()
        .ok_or_else(|| format!("{} has no address", endpoint.host))?;
    if !local(server.ip()) && !a.allow_remote {
        return Err(format!(
            "{} ({}) is not a loopback or private address: a swarm of {} connections goes only there unless --allow-remote",
            endpoint.host,
            server.ip(),
            a.devices
        ));
    }
    files_for(a.devices)?;
    let rest = Rest::new(rest_config.clone()).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&a.out)
        .map_err(|e| format!("cannot create {}: {e}", a.out.display()))?;

    // The sender's thread starts now, so its memory is in the baseline; it waits for "go".
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let sent_so_far = Arc::new(AtomicU32::new(0));
    let sender = {
        let (channel, events, interval) = (
            a.channel.clone(),
            a.events,
            Duration::from_millis(a.interval_ms),
        );
        let counter = sent_so_far.clone();
        std::thread::spawn(move || {
            if go_rx.recv().is_err() {
                return sender::Sent::default();
            }
            sender::send(&rest, &channel, events, interval, &|n| {
                counter.store(n, Ordering::Relaxed)
            })
        })
    };

    let started = Instant::now();
    let deadline = started + Duration::from_secs(a.max_seconds);
    let mut progress = Progress {
        tty: std::io::stderr().is_terminal(),
        last: started,
    };
    let baseline_rss = rss_bytes();

    // Every device's buffers in one arena; its pages are touched as the devices use them.
    let per_device = a.rx + a.tx;
    let mut arena = vec![0u8; per_device * a.devices.max(1)];
    let host = format!("{}:{}", endpoint.host, endpoint.port);
    let mut config = Config::new(&rest_config.key, &host);
    config.use_tls = false;
    config.max_message = a.rx.saturating_sub(16);
    let mut swarm = Swarm::new(
        &mut arena[..per_device * a.devices],
        a.rx,
        a.tx,
        &config,
        server,
        u64::from(std::process::id()) << 20,
    )
    .map_err(|e| format!("cannot start the poll: {e}"))?;

    // Deliveries: latency per (device, event), and one bit per pair to catch duplicates.
    // Allocated now, touched only once events flow (after the memory sample).
    let events = a.events as usize;
    let mut latencies_ms: Vec<f64> = Vec::with_capacity(a.devices * events);
    let mut seen = vec![0u64; (a.devices * events).div_ceil(64)];
    let mut duplicates = 0usize;
    let mut strays = 0usize;

    let core_now =
        |started: Instant| move || CoreInstant::from_millis(started.elapsed().as_millis() as u64);
    let now = core_now(started);
    let mut samples = Vec::new();
    let mut last_sample = started;
    let mut next_device = 0usize;
    let mut all_subscribed_at = None;
    let mut settled_rss = None;
    let mut sending_since = None::<(Instant, usize)>;
    let mut sender_done_at = None::<Instant>;
    let mut last_timers = started;
    let mut aborted = None::<String>;

    loop {
        let elapsed = started.elapsed();
        // Start devices at the set rate.
        let due = ((elapsed.as_secs_f64() * f64::from(a.rate)) as usize + 1).min(a.devices);
        while next_device < due {
            swarm.start(next_device, &a.channel, now())?;
            next_device += 1;
        }
        let mut deliver = |d: devices::Delivery| {
            let pair = d.device * events + d.index as usize;
            if d.index as usize >= events || sending_since.is_none() {
                strays += 1;
                return;
            }
            let (word, bit) = (pair / 64, 1u64 << (pair % 64));
            if seen[word] & bit != 0 {
                duplicates += 1;
                return;
            }
            seen[word] |= bit;
            let now_ns = sender::monotonic_ns();
            latencies_ms.push(now_ns.saturating_sub(d.stamp_ns) as f64 / 1e6);
        };
        swarm
            .turn(5, now, &mut deliver)
            .map_err(|e| format!("poll failed: {e}"))?;
        if last_timers.elapsed() >= Duration::from_millis(20) {
            swarm.timers(now(), &mut deliver);
            last_timers = Instant::now();
        }
        if last_sample.elapsed() >= Duration::from_millis(100) {
            samples.push(Sample {
                seconds: started.elapsed().as_secs_f64(),
                connected: swarm.tally.connected,
                subscribed: swarm.tally.subscribed,
            });
            last_sample = Instant::now();
        }
        let sent = sent_so_far.load(Ordering::Relaxed);
        progress.show(
            &format!(
                "[{:6.1} s] devices {}/{} connected {} subscribed {} | events {}/{} deliveries {}",
                started.elapsed().as_secs_f64(),
                next_device,
                a.devices,
                swarm.tally.connected,
                swarm.tally.subscribed,
                sent,
                a.events,
                latencies_ms.len()
            ),
            false,
        );
        if Instant::now() > deadline {
            aborted = Some(format!(
                "stopped at --max-seconds {}: {}",
                a.max_seconds,
                stuck(&swarm.tally, a.devices)
            ));
            break;
        }
        if a.devices > 0
            && swarm.tally.ever_connected == 0
            && started.elapsed() > Duration::from_secs(10)
        {
            aborted = Some(format!(
                "no device connected in 10 s: {}",
                stuck(&swarm.tally, a.devices)
            ));
            break;
        }
        // Everyone in: sample memory once things settle, then let the sender go.
        if all_subscribed_at.is_none()
            && next_device == a.devices
            && swarm.tally.subscribed == a.devices
        {
            all_subscribed_at = Some(Instant::now());
        }
        if let (Some(at), None) = (all_subscribed_at, settled_rss)
            && at.elapsed() >= Duration::from_secs(1)
        {
            settled_rss = Some(rss_bytes());
            sending_since = Some((Instant::now(), swarm.tally.subscribed));
            go_tx
                .send(())
                .map_err(|_| "the sender thread ended early")?;
        }
        if sending_since.is_some() && sent == a.events && sender_done_at.is_none() {
            sender_done_at = Some(Instant::now());
        }
        // Done when every delivery arrived, or 3 s after the last trigger.
        if let Some(done) = sender_done_at {
            let expected = sending_since.map_or(0, |(_, n)| n) * a.events as usize;
            if latencies_ms.len() >= expected || done.elapsed() > Duration::from_secs(3) {
                break;
            }
        }
    }
    progress.show("", true);
    progress.done();
    drop(go_tx);
    let sent = sender.join().map_err(|_| "the sender thread panicked")?;

    let subscribed_at_send = sending_since.map_or(0, |(_, n)| n);
    let expected = subscribed_at_send * sent.accepted.len();
    let connect_seconds = all_subscribed_at.map(|t| (t - started).as_secs_f64());
    let mut sorted = latencies_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let mut rtt = sent.rtt_ms.clone();
    rtt.sort_by(f64::total_cmp);
    let rss_per_connection = settled_rss
        .filter(|_| a.devices > 0)
        .map(|r| r.saturating_sub(baseline_rss) as f64 / a.devices as f64);
    let delivery_ratio = if expected == 0 {
        0.0
    } else {
        latencies_ms.len() as f64 / expected as f64
    };
    let summary = json!({
        "client": "pusher-rs swarm",
        "server": host,
        "devices": a.devices,
        "rate_per_second": a.rate,
        "buffers_per_device": { "rx": a.rx, "tx": a.tx },
        "client_state_bytes": std::mem::size_of::<devices::Device<'_>>(),
        "all_subscribed_seconds": connect_seconds,
        "connect_rate_per_second": connect_seconds.map(|s| a.devices as f64 / s),
        "connection_attempts": swarm.tally.connects,
        "disconnects": swarm.tally.problems,
        "events": { "asked": a.events, "accepted": sent.accepted.len(), "failed": sent.failed, "first_error": sent.first_error },
        "subscribed_when_sending": subscribed_at_send,
        "deliveries": { "expected": expected, "received": latencies_ms.len(), "duplicates": duplicates, "strays": strays, "ratio": delivery_ratio },
        "latency_ms": report::percentiles(&sorted),
        "rest_rtt_ms": report::percentiles(&rtt),
        "rss_bytes": { "baseline": baseline_rss, "settled": settled_rss },
        "rss_per_connection_bytes": rss_per_connection.map(|v| v.round()),
        "aborted": aborted,
    });
    let text = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
    let json_path = a.out.join("summary.json");
    std::fs::write(&json_path, &text)
        .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
    if a.devices > 0 {
        report::latency_svg(
            &a.out.join("latency.svg"),
            &sorted,
            &format!("{} devices on {host}: trigger to receive", a.devices),
        )?;
        report::connections_svg(
            &a.out.join("connections.svg"),
            &samples,
            &format!("{} devices on {host}: connections over time", a.devices),
        )?;
    }
    println!("{text}");
    if a.devices > 0 {
        eprintln!(
            "wrote {} and the plots latency.svg, connections.svg beside it",
            json_path.display()
        );
    }
    if let Some(why) = aborted {
        return Err(why);
    }
    if let Some(e) = sent.first_error {
        return Err(format!(
            "{} of {} triggers failed: {e}",
            sent.failed, a.events
        ));
    }
    if a.devices > 0 && all_subscribed_at.is_none() {
        return Err("not every device subscribed".into());
    }
    Ok(())
}
