//! A Pusher Channels client on an ESP32-C3 over Wi-Fi: DHCP, DNS for the cluster's host,
//! wss:// with the server's certificate chain verified against a root built into the image,
//! a public channel and a private one signed by the app's backend (a form POST over a second
//! socket, as pusher-js does; the `lab-signer` feature signs on the device instead), a typed
//! `reading` event decoded, and the BOOT button (GPIO9) sends a client event. The log goes to
//! the USB serial port (esp-println).
//!
//! Two tasks beside the Wi-Fi ones share the work, as on the Nucleo: the network task runs
//! the client and copies each `reading` event into an [`OwnedEvent`] (capacities in its
//! type), which goes through an `embassy-sync` channel to the readings task; that one decodes
//! it into a typed [`Reading`] while the client reads on.
//!
//! Settings come from the build environment: `WIFI_SSID`, `WIFI_PASSWORD`, `PUSHER_KEY`,
//! `PUSHER_HOST`, `PUSHER_AUTH` (the backend's `host:port`), `PUSHER_AUTH_PATH`,
//! `PUSHER_CA_DER` (the root to trust), or `PUSHER_SECRET` with `lab-signer` (see README.md).
//! The heap (esp-alloc) is there for the Wi-Fi driver and RSA signature checks; the Pusher
//! client itself does not allocate.

#![no_std]
#![no_main]

use core::ops::ControlFlow;

use embassy_executor::Spawner;
use embassy_net::{Runner, StackResources};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_time::Timer;
use esp_hal::clock::CpuClock;
use esp_hal::gpio::{Input, InputConfig, Pull};
use esp_hal::interrupt::software::SoftwareInterruptControl;
use esp_hal::rng::{Rng, Trng, TrngSource};
use esp_hal::timer::timg::TimerGroup;
use esp_radio::wifi::sta::StationConfig;
use esp_radio::wifi::{Config as WifiConfig, Interface, WifiController};
use log::{info, warn};
use pusher_embassy::pusher_core::client::{self, Buffers, Client, Event, OwnedEvent};
use pusher_embassy::{Authorizer, Driver, Handler, TcpConnector, TlsConnector, Verify};
use static_cell::StaticCell;
use {esp_backtrace as _, esp_println as _};

esp_bootloader_esp_idf::esp_app_desc!();

const SSID: &str = match option_env!("WIFI_SSID") {
    Some(s) => s,
    None => "my-network",
};
const PASSWORD: &str = match option_env!("WIFI_PASSWORD") {
    Some(p) => p,
    None => "",
};
const KEY: &str = match option_env!("PUSHER_KEY") {
    Some(k) => k,
    None => "app-key",
};
/// The app secret, on lab boards only (the `lab-signer` feature).
#[cfg(feature = "lab-signer")]
const SECRET: &str = match option_env!("PUSHER_SECRET") {
    Some(s) => s,
    None => "app-secret",
};
/// The app's backend that signs private channels: `host:port` (an IPv4 address or a name),
/// as its `Host` header says it.
#[cfg(not(feature = "lab-signer"))]
const AUTH: &str = match option_env!("PUSHER_AUTH") {
    Some(a) => a,
    None => "192.168.1.10:3000",
};
/// The backend's auth path (pusher-js's default).
#[cfg(not(feature = "lab-signer"))]
const AUTH_PATH: &str = match option_env!("PUSHER_AUTH_PATH") {
    Some(p) => p,
    None => "/pusher/auth",
};
/// The cluster's WebSocket host, `ws-{cluster}.pusher.com`.
const HOST: &str = match option_env!("PUSHER_HOST") {
    Some(h) => h,
    None => "ws-mt1.pusher.com",
};
/// The root certificate (DER) that signed the last certificate the server sends; build.rs
/// picks the file (`PUSHER_CA_DER`, else `certs/AmazonRootCA1.der`).
const CA_DER: &[u8] = include_bytes!(env!("PUSHER_CA_DER_PATH"));
const PUBLIC: &str = "sensors";
const PRIVATE: &str = "private-device-1";

/// A `reading` event as the network task hands it over: names up to 32 bytes, data up to 128.
type ReadingEvent = OwnedEvent<32, 128>;

/// From the network task to the readings task; four events deep, so a burst of readings waits
/// here while the readings task is busy.
static READINGS: Channel<CriticalSectionRawMutex, ReadingEvent, 4> = Channel::new();

/// What a sensor publishes on `sensors`: `{"temp":21.5,"unit":"C"}`. `unit` borrows from the
/// decode's scratch buffer (escaped text such as `"\u00b0C"` is unescaped into it).
#[derive(serde::Deserialize)]
struct Reading<'a> {
    temp: f32,
    unit: &'a str,
}

/// What the button sends: `{"presses":N}`, written by serde straight into the frame.
#[derive(serde::Serialize)]
struct Button {
    presses: u32,
}

/// Decodes the readings the network task passes on, and keeps their range.
#[embassy_executor::task]
async fn readings_task() -> ! {
    let (mut low, mut high) = (f32::INFINITY, f32::NEG_INFINITY);
    loop {
        let owned = READINGS.receive().await;
        let mut scratch = [0u8; 128];
        match owned.as_data().json::<Reading>(&mut scratch) {
            Ok(r) => {
                low = low.min(r.temp);
                high = high.max(r.temp);
                info!("reading {} {} (range {low} to {high})", r.temp, r.unit);
            }
            Err(e) => warn!("reading not understood: {e}"),
        }
    }
}

/// Joins the access point and joins again whenever it drops us.
#[embassy_executor::task]
async fn wifi_task(mut controller: WifiController<'static>) -> ! {
    let config = WifiConfig::Station(
        StationConfig::default()
            .with_ssid(SSID)
            .with_password(PASSWORD.into()),
    );
    if let Err(e) = controller.set_config(&config) {
        warn!("Wi-Fi configuration refused: {e:?}");
    }
    loop {
        match controller.connect_async().await {
            Ok(_) => {
                info!("Wi-Fi joined {SSID}");
                if let Err(e) = controller.wait_for_disconnect_async().await {
                    warn!("Wi-Fi: {e:?}");
                }
                warn!("Wi-Fi lost; joining again in 5 s");
            }
            Err(e) => warn!("cannot join {SSID}: {e:?}; again in 5 s"),
        }
        Timer::after_secs(5).await;
    }
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Interface<'static>>) -> ! {
    runner.run().await
}

/// Prints events and passes readings on; the button sends `client-button` on the private
/// channel.
struct App {
    button: Input<'static>,
    presses: u32,
    pressed: bool,
    /// Readings the readings task could not take (its channel was full), said in the log.
    dropped: u32,
}

impl App {
    /// Copies a `reading` out of the client's buffer and hands it to the readings task.
    fn pass_on(&mut self, event: Event<'_>) {
        let Some(data) = event.message() else { return };
        match ReadingEvent::copy_of(&data) {
            Ok(owned) => {
                if READINGS.try_send(owned).is_err() {
                    self.dropped += 1;
                    warn!("readings task busy: {} readings dropped", self.dropped);
                }
            }
            Err(e) => warn!("reading too large to pass on: {e}"),
        }
    }
}

impl Handler for App {
    fn event(&mut self, event: Event<'_>) -> ControlFlow<()> {
        match event {
            Event::StateChanged { previous, current } => info!("state {previous:?} -> {current:?}"),
            Event::Subscribed { channel } => info!("subscribed to {channel}"),
            Event::Message {
                event: "reading",
                channel: Some(PUBLIC),
                ..
            } => self.pass_on(event),
            Event::Message {
                event,
                channel,
                data,
                ..
            } => info!(
                "{event} on {}: {}",
                channel.unwrap_or("-"),
                data.unwrap_or("")
            ),
            Event::Disconnected {
                problem, retry_in, ..
            } => match retry_in {
                Some(delay) => warn!("disconnected: {problem}; retry in {delay}"),
                None => warn!("disconnected: {problem}; not retrying"),
            },
            Event::SubscriptionError { channel, status } => match status {
                Some(status) => warn!("subscription to {channel} failed: HTTP {status}"),
                None => warn!("subscription to {channel} failed"),
            },
            Event::Error {
                code: Some(code), ..
            } => warn!("pusher:error {code}"),
            Event::Error { .. } => warn!("pusher:error without a code"),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn work<const CHANNELS: usize, const NAME: usize>(
        &mut self,
        client: &mut Client<'_, CHANNELS, NAME>,
    ) -> ControlFlow<()> {
        if core::mem::take(&mut self.pressed) {
            self.presses += 1;
            let button = Button {
                presses: self.presses,
            };
            match client.trigger_json(PRIVATE, "client-button", &button) {
                Ok(()) => info!("sent client-button, presses {}", self.presses),
                Err(e) => warn!("client event not sent: {e}"),
            }
        }
        ControlFlow::Continue(())
    }

    async fn wait(&mut self) {
        // BOOT pulls GPIO9 low while pressed.
        self.button.wait_for_falling_edge().await;
        self.pressed = true;
    }

    fn connect_failed(&mut self, error: &dyn core::fmt::Display) {
        warn!("cannot connect: {error}");
    }
}

#[esp_rtos::main]
async fn main(spawner: Spawner) -> ! {
    esp_println::logger::init_logger_from_env();
    let p = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
    // The Wi-Fi driver allocates; 64 KiB of it in the RAM the bootloader leaves behind.
    esp_alloc::heap_allocator!(#[esp_hal::ram(reclaimed)] size: 64 * 1024);
    esp_alloc::heap_allocator!(size: 32 * 1024);
    let timers = TimerGroup::new(p.TIMG0);
    let interrupts = SoftwareInterruptControl::new(p.SW_INTERRUPT);
    esp_rtos::start(timers.timer0, interrupts.software_interrupt0);
    info!("pusher on esp32c3");

    // The TRNG (RNG seeded by the ADC's noise, and by the radio once it runs) for TLS keys;
    // the source must live as long as the generator is used: main never returns.
    let _entropy = TrngSource::new(p.RNG, p.ADC1);
    let trng = Trng::try_new().expect("the entropy source is on");
    let seed = u64::from(Rng::new().random()) << 32 | u64::from(Rng::new().random());

    let (controller, interfaces) =
        esp_radio::wifi::new(p.WIFI, Default::default()).expect("Wi-Fi starts");
    static RESOURCES: StaticCell<StackResources<4>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        interfaces.station,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        seed,
    );
    spawner.spawn(wifi_task(controller).expect("Wi-Fi task"));
    spawner.spawn(net_task(runner).expect("net task"));
    stack.wait_config_up().await;
    info!("network up: {:?}", stack.config_v4().map(|c| c.address));

    // The client's buffers: 4 KiB per frame, 1 KiB to send. No presence buffer: this firmware
    // leaves out the `presence` feature (public and private channels only).
    static RX: StaticCell<[u8; 4096]> = StaticCell::new();
    static TX: StaticCell<[u8; 1024]> = StaticCell::new();
    let mut config = client::Config::new(KEY, HOST);
    config.max_message = 4096 - 16;
    let client: Client<'static, 4, 32> = Client::new(
        config,
        Buffers {
            rx: RX.init([0; 4096]),
            tx: TX.init([0; 1024]),
            presence: &mut [],
        },
        seed,
    );
    #[cfg(feature = "lab-signer")]
    let authorizer = pusher_embassy::LocalSigner::<96>::new(
        pusher_embassy::pusher_core::auth::Credentials::new(KEY, SECRET),
    );
    #[cfg(not(feature = "lab-signer"))]
    let authorizer = {
        use pusher_embassy::HttpAuthorizer;
        use pusher_embassy::pusher_core::auth_endpoint::Endpoint;
        let (host, port) = AUTH.split_once(':').unwrap_or((AUTH, "80"));
        let port = port.parse().unwrap_or(80);
        // Its own socket buffers: the request and answer are a few hundred bytes each. Plain
        // HTTP on the LAN; for HTTPS wrap it in a `TlsConnector` and call `over_tls`.
        static AUTH_RX: StaticCell<[u8; 1024]> = StaticCell::new();
        static AUTH_TX: StaticCell<[u8; 512]> = StaticCell::new();
        let backend =
            TcpConnector::new(stack, host, AUTH_RX.init([0; 1024]), AUTH_TX.init([0; 512]))
                .with_ports(port, port);
        let endpoint = Endpoint::new(AUTH, AUTH_PATH)
            .expect("PUSHER_AUTH and PUSHER_AUTH_PATH form a valid endpoint");
        HttpAuthorizer::<_, 768, 256>::new(backend, endpoint)
    };
    let app = App {
        button: Input::new(p.GPIO9, InputConfig::default().with_pull(Pull::Up)),
        presses: 0,
        pressed: false,
        dropped: 0,
    };
    spawner.spawn(readings_task().expect("readings task"));
    run(stack, client, authorizer, trng, app).await
}

/// Subscribes, connects over wss:// and runs the client for good (starting over 10 s after
/// it stops).
async fn run<A: Authorizer>(
    stack: embassy_net::Stack<'static>,
    client: Client<'static, 4, 32>,
    authorizer: A,
    trng: Trng,
    mut app: App,
) -> ! {
    let mut driver = Driver::new(client, authorizer);
    for channel in [PUBLIC, PRIVATE] {
        if let Err(e) = driver.client().subscribe(channel) {
            warn!("cannot subscribe to {channel}: {e}");
        }
    }

    static SOCKET_RX: StaticCell<[u8; 2048]> = StaticCell::new();
    static SOCKET_TX: StaticCell<[u8; 1024]> = StaticCell::new();
    // A whole TLS record is read at once (16 KiB + overhead; the server does not honour a
    // smaller fragment length); the write record holds the largest frame we send.
    static READ_RECORD: StaticCell<[u8; 16640]> = StaticCell::new();
    static WRITE_RECORD: StaticCell<[u8; 2048]> = StaticCell::new();
    let tcp = TcpConnector::new(
        stack,
        HOST,
        SOCKET_RX.init([0; 2048]),
        SOCKET_TX.init([0; 1024]),
    );
    // 6 KiB holds the server's chain (leaf and intermediates, RSA-2048) while it is checked.
    let mut connector: TlsConnector<'_, Trng, 6144> = TlsConnector::new(
        tcp,
        READ_RECORD.init([0; 16640]),
        WRITE_RECORD.init([0; 2048]),
        Verify::Ca(CA_DER),
        trng,
    );
    loop {
        driver.connect();
        let stop = driver.run(&mut connector, &mut app).await;
        warn!("client stopped: {stop}; starting over in 10 s");
        Timer::after_secs(10).await;
    }
}
