//! The firmware's twin on Linux: the same pusher-embassy driver over embassy-net, on a TAP
//! device (run it inside a network namespace that has one). Prints one line per event on
//! stdout so a test can follow it.
//!
//! `embassy-twin TAP DEVICE_IP SERVER_IP PORT KEY SECRET ACTIVITY_SECS CHANNEL...`
//!
//! With `TWIN_CA=ca.der` in the environment it speaks wss:// through embedded-tls and
//! verifies the server against that CA, checking validity periods against the system clock
//! (or `TWIN_CLOCK`, Unix seconds, to play a device whose clock is elsewhere). With `TWIN_MASTER_KEY=BASE64` it signs
//! `private-encrypted-` channels with their shared secret and prints their events opened.
//! `TWIN_TIMEOUTS=ACTIVITY,PONG,CONNECT,BACKOFF_BASE,BACKOFF_CAP,STABLE_AFTER` (milliseconds)
//! shortens the client's timers, as the fault matrix does. With `TWIN_AUTH=PORT/PATH` it asks
//! the backend at `SERVER_IP:PORT` to sign (the `HttpAuthorizer`, over a second socket)
//! instead of signing locally. With `TWIN_BRIDGE=1` another task (a sensor loop) drives the
//! client through the task bridge: it prints what it hears, and when `private-twin` is
//! subscribed it triggers `client-reading` there.

use std::io::Write as _;
use std::net::Ipv4Addr;
use std::ops::ControlFlow;

use embassy_executor::{Executor, Spawner};
use embassy_net::{Config, Ipv4Cidr, Runner, StackResources, StaticConfigV4};
use embassy_net_tuntap::TunTapDevice;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_sync::pubsub::{PubSubChannel, WaitResult};
use pusher_core::auth::Credentials;
use pusher_core::auth_endpoint::Endpoint;
use pusher_core::client::{self, Buffers, Client, Duration, Event};
use pusher_embassy::bridge::{Bridge, Command, Notice};
use pusher_embassy::{
    Authorizer, Driver, Handler, HttpAuthorizer, LocalSigner, Stop, TcpConnector, TlsConnector,
    Verify,
};

/// Commands from the sensor task to the network task: names up to 64 bytes, data up to 256.
type Commands = Channel<CriticalSectionRawMutex, Command<64, 256>, 4>;
/// What the network task tells the sensor task (8 kept, 1 listener).
type Notices = PubSubChannel<CriticalSectionRawMutex, Notice<64, 1024>, 8, 1, 1>;

/// Command line.
struct Args {
    tap: String,
    device_ip: Ipv4Addr,
    server_ip: String,
    port: u16,
    key: String,
    secret: String,
    activity_secs: u64,
    channels: Vec<String>,
}

fn args() -> Result<Args, String> {
    let mut a = std::env::args().skip(1);
    let mut next = |what: &str| a.next().ok_or(format!("missing {what}"));
    let tap = next("TAP")?;
    let device_ip = next("DEVICE_IP")?.parse().map_err(|_| "bad DEVICE_IP")?;
    let server_ip = next("SERVER_IP")?;
    let port = next("PORT")?.parse().map_err(|_| "bad PORT")?;
    let key = next("KEY")?;
    let secret = next("SECRET")?;
    let activity_secs = next("ACTIVITY_SECS")?
        .parse()
        .map_err(|_| "bad ACTIVITY_SECS")?;
    let channels = a.collect();
    Ok(Args {
        tap,
        device_ip,
        server_ip,
        port,
        key,
        secret,
        activity_secs,
        channels,
    })
}

fn leak<T>(t: T) -> &'static mut T {
    Box::leak(Box::new(t))
}

/// One line per event, flushed at once (the test reads them as they come).
fn say(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, TunTapDevice>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn main_task(spawner: Spawner, args: Args) {
    let device = match TunTapDevice::new(&args.tap) {
        Ok(d) => d,
        Err(e) => {
            say(format_args!("fatal tap {}: {e}", args.tap));
            std::process::exit(2);
        }
    };
    let config = Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(args.device_ip, 24),
        gateway: None,
        dns_servers: Default::default(),
    });
    let seed = std::process::id().into();
    let (stack, runner) = embassy_net::new(device, config, leak(StackResources::<4>::new()), seed);
    spawner.spawn(net_task(runner).expect("net task"));
    stack.wait_config_up().await;
    say(format_args!("net up"));

    let key: &'static str = leak(args.key).as_str();
    let host: &'static str = leak(format!("{}:{}", args.server_ip, args.port)).as_str();
    let server: &'static str = leak(args.server_ip).as_str();
    let mut config = client::Config::new(key, host);
    let ca = std::env::var_os("TWIN_CA").map(|path| match std::fs::read(&path) {
        Ok(der) => leak(der).as_slice(),
        Err(e) => {
            say(format_args!("fatal CA {}: {e}", path.to_string_lossy()));
            std::process::exit(2);
        }
    });
    config.use_tls = ca.is_some();
    config.activity_timeout = Duration::from_secs(args.activity_secs);
    if let Ok(list) = std::env::var("TWIN_TIMEOUTS") {
        let ms: Vec<u64> = list.split(',').filter_map(|v| v.parse().ok()).collect();
        let [activity, pong, connect, base, cap, stable] = ms[..] else {
            say(format_args!(
                "fatal TWIN_TIMEOUTS {list:?}: six numbers of milliseconds"
            ));
            std::process::exit(2);
        };
        config.activity_timeout = Duration::from_millis(activity);
        config.pong_timeout = Duration::from_millis(pong);
        config.connect_timeout = Duration::from_millis(connect);
        config.backoff_base = Duration::from_millis(base);
        config.backoff_cap = Duration::from_millis(cap);
        config.stable_after = Duration::from_millis(stable);
    }
    let rx = leak([0u8; 4096]);
    let tx = leak([0u8; 1024]);
    let presence = leak([0u8; 1024]);
    config.max_message = rx.len() - 16;
    let mut client: Client<'static, 8, 48> =
        Client::new(config, Buffers { rx, tx, presence }, seed);
    // Encrypted events that arrive sealed with a rotated key wait here for the new one.
    client.hold_for_rekey(leak([0u8; 1024]));
    for channel in &args.channels {
        if let Err(e) = client.subscribe(channel) {
            say(format_args!("fatal subscribe {channel}: {e}"));
            std::process::exit(2);
        }
    }
    let tcp = TcpConnector::new(stack, server, leak([0u8; 2048]), leak([0u8; 2048]))
        .with_ports(args.port, args.port);
    let stop = match std::env::var("TWIN_AUTH") {
        // The backend signs: a second socket to SERVER_IP:PORT.
        Ok(spec) => {
            let Some((port, path)) = spec
                .split_once('/')
                .and_then(|(port, path)| Some((port.parse::<u16>().ok()?, path)))
            else {
                say(format_args!("fatal TWIN_AUTH {spec:?}: PORT/PATH"));
                std::process::exit(2);
            };
            let host: &'static str = leak(format!("{server}:{port}")).as_str();
            let path: &'static str = leak(format!("/{path}")).as_str();
            let endpoint = match Endpoint::new(host, path) {
                Ok(e) => e,
                Err(e) => {
                    say(format_args!("fatal TWIN_AUTH {spec:?}: {e}"));
                    std::process::exit(2);
                }
            };
            let backend = TcpConnector::new(stack, server, leak([0u8; 1024]), leak([0u8; 1024]))
                .with_ports(port, port);
            let authorizer: HttpAuthorizer<'static, _> = HttpAuthorizer::new(backend, endpoint);
            drive(spawner, Driver::new(client, authorizer), tcp, ca).await
        }
        Err(_) => {
            let mut signer = LocalSigner::<160>::new(Credentials::new(key, leak(args.secret)))
                .with_channel_data(r#"{"user_id":"twin","user_info":{"board":"tap"}}"#);
            if let Ok(b64) = std::env::var("TWIN_MASTER_KEY") {
                match pusher_core::auth::decode_master_key(&b64) {
                    Ok(master) => signer = signer.with_encryption_master_key(leak(master)),
                    Err(e) => {
                        say(format_args!("fatal TWIN_MASTER_KEY: {e}"));
                        std::process::exit(2);
                    }
                }
            }
            drive(spawner, Driver::new(client, signer), tcp, ca).await
        }
    };
    say(format_args!("stopped {stop:?}"));
    std::process::exit(if stop == Stop::App { 0 } else { 1 });
}

/// Connects (over TLS when a CA was given) and runs the driver: with the events printed
/// here, or, under `TWIN_BRIDGE=1`, through the bridge to the sensor task.
async fn drive<A: Authorizer>(
    spawner: Spawner,
    mut driver: Driver<'static, A, 8, 48>,
    tcp: TcpConnector<'static>,
    ca: Option<&'static [u8]>,
) -> Stop {
    driver.connect();
    if std::env::var_os("TWIN_BRIDGE").is_some() {
        let commands: &'static Commands = leak(Channel::new());
        let notices: &'static Notices = leak(PubSubChannel::new());
        let Ok(listener) = notices.subscriber() else {
            say(format_args!("fatal: no subscriber slot"));
            std::process::exit(2);
        };
        spawner.spawn(sensor_task(commands, listener).expect("sensor task"));
        let mut bridge = Bridge::new(commands.receiver(), notices.immediate_publisher());
        run(&mut driver, tcp, ca, &mut bridge).await
    } else {
        run(&mut driver, tcp, ca, &mut Report).await
    }
}

/// The device's clock for certificate validity: `TWIN_CLOCK` (Unix seconds) or the system's.
struct Clock;

impl pusher_embassy::TlsClock for Clock {
    fn now() -> Option<u64> {
        match std::env::var("TWIN_CLOCK") {
            Ok(secs) => secs.parse().ok(),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs()),
        }
    }
}

async fn run<A: Authorizer, H: Handler>(
    driver: &mut Driver<'static, A, 8, 48>,
    mut tcp: TcpConnector<'static>,
    ca: Option<&'static [u8]>,
    app: &mut H,
) -> Stop {
    match ca {
        None => driver.run(&mut tcp, app).await,
        Some(der) => {
            let mut tls = TlsConnector::<_, 4096, Clock>::new(
                tcp,
                leak([0u8; 16640]),
                leak([0u8; 4096]),
                Verify::Ca(der),
                rand_core::OsRng,
            );
            driver.run(&mut tls, app).await
        }
    }
}

/// Another task of the firmware: hears the client's notices through the bridge (printed as
/// the network task would print them) and sends a client event once `private-twin` is up.
#[embassy_executor::task]
async fn sensor_task(
    commands: &'static Commands,
    mut notices: embassy_sync::pubsub::Subscriber<
        'static,
        CriticalSectionRawMutex,
        Notice<64, 1024>,
        8,
        1,
        1,
    >,
) {
    loop {
        match notices.next_message().await {
            WaitResult::Message(Notice::Subscribed(channel)) => {
                say(format_args!("subscribed {channel}"));
                if channel == "private-twin" {
                    let reading = r#"{"from":"sensor-task"}"#;
                    match Command::trigger(&channel, "client-reading", reading) {
                        Ok(command) => commands.send(command).await,
                        Err(e) => say(format_args!("task command too long: {e}")),
                    }
                    say(format_args!("task sent client-reading"));
                }
            }
            WaitResult::Message(Notice::Message(event)) => {
                let event = event.as_data();
                say(format_args!(
                    "message {} {} {}",
                    event.channel.unwrap_or("-"),
                    event.event,
                    event.data.unwrap_or("")
                ));
            }
            WaitResult::Message(Notice::SubscriptionError { channel, status }) => {
                say(format_args!("subscription_error {channel} {status:?}"))
            }
            WaitResult::Message(Notice::State(state)) => say(format_args!("task state {state:?}")),
            WaitResult::Message(Notice::ConnectFailed(why)) => {
                say(format_args!("connect_failed {why}"))
            }
            WaitResult::Message(other) => say(format_args!("task notice {other:?}")),
            WaitResult::Lagged(missed) => say(format_args!("task lagged {missed}")),
        }
    }
}

/// Prints the events a test looks for, and why connections failed.
struct Report;

impl Handler for Report {
    fn event(&mut self, event: Event<'_>) -> ControlFlow<()> {
        report(event)
    }

    fn connect_failed(&mut self, error: &dyn std::fmt::Display) {
        say(format_args!("connect_failed {error}"));
    }
}

/// Prints the events a test looks for.
fn report(event: Event<'_>) -> ControlFlow<()> {
    match event {
        Event::StateChanged { previous, current } => {
            say(format_args!("state {previous:?} {current:?}"))
        }
        Event::Subscribed { channel } => say(format_args!("subscribed {channel}")),
        Event::SubscriptionError { channel, status } => {
            say(format_args!("subscription_error {channel} {status:?}"))
        }
        Event::Message {
            event,
            channel,
            data,
            ..
        } => say(format_args!(
            "message {} {event} {}",
            channel.unwrap_or("-"),
            data.unwrap_or("")
        )),
        Event::DecryptionFailed { channel, error } => {
            say(format_args!("undecryptable {channel} {error:?}"))
        }
        Event::MemberAdded { channel, id, .. } => say(format_args!("member_added {channel} {id}")),
        Event::Disconnected { problem, .. } => say(format_args!("disconnected {problem}")),
        Event::Ping => say(format_args!("ping")),
        Event::Pong => say(format_args!("pong")),
        Event::Error { code, .. } => say(format_args!("error {code:?}")),
        _ => {}
    }
    ControlFlow::Continue(())
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .target(env_logger::Target::Stderr)
        .init();
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "{e}\nusage: embassy-twin TAP DEVICE_IP SERVER_IP PORT KEY SECRET ACTIVITY_SECS CHANNEL..."
            );
            std::process::exit(2);
        }
    };
    let executor = leak(Executor::new());
    executor.run(|spawner| spawner.spawn(main_task(spawner, args).expect("main task")));
}
