//! A Pusher Channels client on an STM32 Nucleo-F429ZI: DHCP over the on-board Ethernet,
//! DNS for the cluster's host, a public channel and a private one signed by the app's backend
//! (a form POST over a second socket, as pusher-js does; the `lab-signer` feature signs on
//! the device instead), and the blue user button sends a client event. Everything is printed
//! over defmt (RTT).
//!
//! Two tasks share the work: the network task runs the client and copies each `reading`
//! event into an [`OwnedEvent`] (capacities in its type, no heap), which goes through an
//! `embassy-sync` channel to the readings task; that one decodes it into a typed [`Reading`]
//! while the client reads on.
//!
//! Settings come from the build environment: `PUSHER_KEY`, `PUSHER_HOST`, `PUSHER_AUTH`
//! (the backend's `host:port`) and `PUSHER_AUTH_PATH`, or `PUSHER_SECRET` with `lab-signer`
//! (see README.md).

#![no_std]
#![no_main]

use core::ops::ControlFlow;

use defmt::{info, warn};
use embassy_executor::Spawner;
use embassy_net::{Runner, StackResources};
use embassy_stm32::eth::{Ethernet, GenericPhy, PacketQueue};
use embassy_stm32::exti::ExtiInput;
use embassy_stm32::gpio::Pull;
use embassy_stm32::peripherals::ETH;
use embassy_stm32::rng::Rng;
use embassy_stm32::time::Hertz;
use embassy_stm32::{Config, bind_interrupts, eth, exti, interrupt, mode, peripherals, rng};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use pusher_embassy::pusher_core::client::{self, Buffers, Client, Event, OwnedEvent};
use pusher_embassy::{Authorizer, Driver, Handler, TcpConnector};
use static_cell::StaticCell;
use {defmt_rtt as _, panic_probe as _};

bind_interrupts!(struct Irqs {
    ETH => eth::InterruptHandler;
    HASH_RNG => rng::InterruptHandler<peripherals::RNG>;
    EXTI15_10 => exti::InterruptHandler<interrupt::typelevel::EXTI15_10>;
});

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
/// `ws-{cluster}.pusher.com`, built at compile time from `PUSHER_CLUSTER` (default `mt1`).
const HOST: &str = match option_env!("PUSHER_HOST") {
    Some(h) => h,
    None => "ws-mt1.pusher.com",
};
const PUBLIC: &str = "sensors";
const PRIVATE: &str = "private-device-1";

type Device =
    Ethernet<'static, ETH, GenericPhy<embassy_stm32::eth::Sma<'static, peripherals::ETH_SMA>>>;

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
                info!(
                    "reading {} {=str} (range {} to {})",
                    r.temp, r.unit, low, high
                );
            }
            Err(e) => warn!("reading not understood: {}", e),
        }
    }
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Device>) -> ! {
    runner.run().await
}

/// Prints events and passes readings on; the button sends `client-button` on the private
/// channel.
struct App {
    button: ExtiInput<'static, mode::Async>,
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
            Err(e) => warn!("reading too large to pass on: {}", e),
        }
    }
}

impl Handler for App {
    fn event(&mut self, event: Event<'_>) -> ControlFlow<()> {
        match event {
            Event::StateChanged { previous, current } => info!("state {} -> {}", previous, current),
            Event::Subscribed { channel } => info!("subscribed to {=str}", channel),
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
                "{=str} on {=str}: {=str}",
                event,
                channel.unwrap_or("-"),
                data.unwrap_or("")
            ),
            Event::Disconnected {
                problem, retry_in, ..
            } => warn!("disconnected: {}, retry in {}", problem, retry_in),
            Event::SubscriptionError { channel, status } => {
                warn!("subscription to {=str} failed: {}", channel, status)
            }
            Event::Error { code, .. } => warn!("pusher:error {}", code),
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
                Err(e) => warn!("client event not sent: {}", e),
            }
        }
        ControlFlow::Continue(())
    }

    async fn wait(&mut self) {
        self.button.wait_for_rising_edge().await;
        self.pressed = true;
    }

    fn connect_failed(&mut self, error: &dyn core::fmt::Display) {
        warn!("cannot connect: {}", defmt::Display2Format(error));
    }
}

/// What the button sends: `{"presses":N}`, written by serde straight into the frame.
#[derive(serde::Serialize)]
struct Button {
    presses: u32,
}

#[embassy_executor::main]
async fn main(spawner: Spawner) -> ! {
    let mut config = Config::default();
    {
        use embassy_stm32::rcc::*;
        // 8 MHz from the ST-LINK's MCO; 168 MHz core, 48 MHz for the RNG.
        config.rcc.hse = Some(Hse {
            freq: Hertz(8_000_000),
            mode: HseMode::Bypass,
        });
        config.rcc.pll_src = PllSource::HSE;
        config.rcc.pll = Some(Pll {
            prediv: PllPreDiv::DIV4,
            mul: PllMul::MUL168,
            divp: Some(PllPDiv::DIV2),
            divq: Some(PllQDiv::DIV7),
            divr: None,
        });
        config.rcc.ahb_pre = AHBPrescaler::DIV1;
        config.rcc.apb1_pre = APBPrescaler::DIV4;
        config.rcc.apb2_pre = APBPrescaler::DIV2;
        config.rcc.sys = Sysclk::PLL1_P;
    }
    let p = embassy_stm32::init(config);
    info!("pusher on nucleo-f429zi");

    let mut rng = Rng::new(p.RNG, Irqs);
    let seed = rng.next_u64();

    // The MAC comes from the chip's unique id, so two boards on one LAN differ.
    let uid = embassy_stm32::uid::uid();
    let mac = [0x02, 0x00, uid[0], uid[1], uid[2], uid[3]];
    static PACKETS: StaticCell<PacketQueue<4, 4>> = StaticCell::new();
    let device = Ethernet::new(
        PACKETS.init(PacketQueue::<4, 4>::new()),
        p.ETH,
        Irqs,
        p.PA1,  // REF_CLK
        p.PA7,  // CRS_DV
        p.PC4,  // RXD0
        p.PC5,  // RXD1
        p.PG13, // TXD0
        p.PB13, // TXD1
        p.PG11, // TX_EN
        mac,
        p.ETH_SMA,
        p.PA2, // MDIO
        p.PC1, // MDC
    );

    static RESOURCES: StaticCell<StackResources<4>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        seed,
    );
    spawner.spawn(net_task(runner).expect("net task"));
    stack.wait_config_up().await;
    info!("network up: {}", stack.config_v4().map(|c| c.address));

    // The client's buffers: 2 KiB per frame, 512 B to send. No presence buffer: this firmware
    // leaves out the `presence` feature (public and private channels only, ~2.5 KB less flash).
    static RX: StaticCell<[u8; 2048]> = StaticCell::new();
    static TX: StaticCell<[u8; 512]> = StaticCell::new();
    let mut config = client::Config::new(KEY, HOST);
    // ws:// on port 80; for wss:// wrap the connector in `TlsConnector` (feature `tls`).
    config.use_tls = false;
    config.max_message = 2048 - 16;
    let client: Client<'static, 4, 32> = Client::new(
        config,
        Buffers {
            rx: RX.init([0; 2048]),
            tx: TX.init([0; 512]),
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
        // Its own socket buffers: the request and answer are a few hundred bytes each.
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
        button: ExtiInput::new(p.PC13, p.EXTI13, Pull::Down, Irqs),
        presses: 0,
        pressed: false,
        dropped: 0,
    };
    spawner.spawn(readings_task().expect("readings task"));
    run(stack, client, authorizer, app).await
}

/// Subscribes, connects and runs the client for good (starting over 10 s after it stops).
async fn run<A: Authorizer>(
    stack: embassy_net::Stack<'static>,
    client: Client<'static, 4, 32>,
    authorizer: A,
    mut app: App,
) -> ! {
    let mut driver = Driver::new(client, authorizer);
    for channel in [PUBLIC, PRIVATE] {
        if let Err(e) = driver.client().subscribe(channel) {
            warn!("cannot subscribe to {=str}: {}", channel, e);
        }
    }

    static SOCKET_RX: StaticCell<[u8; 2048]> = StaticCell::new();
    static SOCKET_TX: StaticCell<[u8; 1024]> = StaticCell::new();
    let mut connector = TcpConnector::new(
        stack,
        HOST,
        SOCKET_RX.init([0; 2048]),
        SOCKET_TX.init([0; 1024]),
    );
    loop {
        driver.connect();
        let stop = driver.run(&mut connector, &mut app).await;
        warn!("client stopped: {}; starting over in 10 s", stop);
        embassy_time::Timer::after_secs(10).await;
    }
}
