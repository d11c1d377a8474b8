//! (b) A complete client: WebSocket, Pusher codec, state machine and HMAC, driven through
//! connect, the upgrade, received bytes, auth, a client event, timeouts and close.
#![no_std]
#![no_main]

use core::hint::black_box;

use panic_halt as _;
#[cfg(feature = "local-signing")]
use pusher_core::auth::Credentials;
use pusher_core::client::{Buffers, Client, Config, Instant};
#[cfg(feature = "private")]
use pusher_core::wire::message::Payload;
use pusher_footprint::{opaque, text};

static mut RX: [u8; 2048] = [0; 2048];
static mut TX: [u8; 512] = [0; 512];
static mut PRESENCE: [u8; 256] = [0; 256];

#[inline(never)]
fn step(c: &mut Client<'static>) {
    let now = Instant::from_millis(black_box(5));
    let _ = c.subscribe(text());
    c.connect(now);
    let _ = c.poll_action();
    c.handle_connected(now);
    let bytes = opaque();
    let mut n = 0;
    for (d, s) in c.rx_buffer().iter_mut().zip(bytes.iter()) {
        *d = *s;
        n += 1;
    }
    c.commit_rx(n, now);
    while let Some(e) = c.poll_event() {
        black_box(e);
    }
    // Private channels: the signature from the app's backend, or made on the device.
    #[cfg(feature = "private")]
    {
        let _ = c.provide_auth(text(), text(), text(), Some(text()));
        let _ = c.trigger(text(), text(), Payload::Json(text()));
    }
    #[cfg(feature = "local-signing")]
    {
        let creds = Credentials::new(text(), text());
        let _ = c.authorize_locally(text(), &creds, Some(text()));
    }
    #[cfg(feature = "signin")]
    {
        let creds = Credentials::new(text(), text());
        c.signin();
        let _ = c.signin_locally(&creds, text());
    }
    #[cfg(feature = "typed")]
    typed(c);
    #[cfg(feature = "encryption")]
    decrypt();
    #[cfg(feature = "tls")]
    wss::connect();
    c.handle_timeout(now);
    while let Some(out) = c.poll_transmit() {
        let k = black_box(out.len());
        c.consume_tx(k);
    }
    c.handle_closed(now);
}

/// A reading, decoded from an event's data and sent back as a client event.
#[cfg(feature = "typed")]
#[derive(serde::Deserialize, serde::Serialize)]
struct Reading<'a> {
    sensor: &'a str,
    temp: i32,
    ok: bool,
    #[cfg(feature = "typed-float")]
    volts: f32,
}

#[cfg(feature = "typed")]
#[inline(never)]
fn typed(c: &mut Client<'static>) {
    let ev = pusher_core::client::EventData {
        event: text(),
        channel: Some(text()),
        data: Some(text()),
        user_id: None,
    };
    let mut scratch = [0u8; 256];
    if let Ok(r) = ev.json::<Reading>(&mut scratch) {
        let _ = c.trigger_json(text(), text(), &r);
    }
}

/// One encrypted event's data opened with a channel's shared secret (the core's
/// `encryption` feature: secretbox and the `{nonce, ciphertext}` codec).
#[cfg(feature = "encryption")]
#[inline(never)]
fn decrypt() {
    let key: [u8; 32] = black_box([7; 32]);
    let mut out = [0u8; 256];
    let _ = black_box(pusher_core::encrypted::decrypt(&key, text(), &mut out));
}

/// A wss:// connection as pusher-embassy's `TlsConnector` opens one (the same embedded-tls
/// cipher suite, verifier and buffers), over a transport that reads opaque bytes: the
/// handshake, the server's chain checked against a CA, one record written and one read.
#[cfg(feature = "tls")]
mod wss {
    use core::hint::black_box;

    use embedded_io_async::{ErrorKind, ErrorType, Read, Write};
    use embedded_tls::{
        Aes128GcmSha256, Certificate, CryptoProvider, CryptoRngCore, NoClock, TlsConfig,
        TlsConnection, TlsContext, TlsVerifier, pki::CertVerifier,
    };
    use pusher_footprint::opaque;

    static mut READ_RECORD: [u8; 16640] = [0; 16640];
    static mut WRITE_RECORD: [u8; 2048] = [0; 2048];

    /// Reads opaque bytes, swallows writes.
    struct Stub;

    impl ErrorType for Stub {
        type Error = ErrorKind;
    }

    impl Read for Stub {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
            let src = opaque();
            let n = src.len().min(buf.len());
            buf[..n].copy_from_slice(&src[..n]);
            Ok(n)
        }
    }

    impl Write for Stub {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
            Ok(black_box(buf).len())
        }

        async fn flush(&mut self) -> Result<(), ErrorKind> {
            Ok(())
        }
    }

    /// Bytes the optimizer cannot predict (a device has its TRNG here).
    struct Rng;

    impl rand_core::RngCore for Rng {
        fn next_u32(&mut self) -> u32 {
            black_box(4)
        }
        fn next_u64(&mut self) -> u64 {
            black_box(4)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(black_box(4));
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    impl rand_core::CryptoRng for Rng {}

    struct Provider {
        rng: Rng,
        verifier: CertVerifier<'static, Aes128GcmSha256, NoClock, 2048>,
    }

    impl CryptoProvider for Provider {
        type CipherSuite = Aes128GcmSha256;
        type Signature = &'static [u8];

        fn rng(&mut self) -> impl CryptoRngCore {
            &mut self.rng
        }

        fn verifier(
            &mut self,
        ) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, embedded_tls::TlsError> {
            Ok(&mut self.verifier)
        }
    }

    #[inline(never)]
    pub fn connect() {
        // SAFETY: the only references ever made to these buffers.
        let (read, write) = unsafe {
            (
                &mut *core::ptr::addr_of_mut!(READ_RECORD),
                &mut *core::ptr::addr_of_mut!(WRITE_RECORD),
            )
        };
        let mut conn: TlsConnection<'_, Stub, Aes128GcmSha256> =
            TlsConnection::new(Stub, read, write);
        let config = TlsConfig::new().with_server_name(pusher_footprint::text());
        let mut provider = Provider {
            rng: Rng,
            verifier: CertVerifier::new(Certificate::X509(opaque())),
        };
        embassy_futures::block_on(async {
            if conn
                .open(TlsContext::new(&config, &mut provider))
                .await
                .is_ok()
            {
                let _ = conn.write(opaque()).await;
                let _ = conn.flush().await;
                let mut buf = [0u8; 64];
                let _ = black_box(conn.read(&mut buf).await);
            }
        });
    }
}

#[cortex_m_rt::entry]
fn main() -> ! {
    // SAFETY: the only references ever made to these buffers.
    let (rx, tx, presence) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(RX),
            &mut *core::ptr::addr_of_mut!(TX),
            &mut *core::ptr::addr_of_mut!(PRESENCE),
        )
    };
    let mut c: Client<'static> = Client::new(
        Config::new("key", "host"),
        Buffers { rx, tx, presence },
        black_box(1),
    );
    let _ = c.subscribe(text());
    #[cfg(feature = "stack")]
    let top = {
        pusher_footprint::stack::paint();
        cortex_m::register::msp::read() as usize
    };
    step(&mut c);
    #[cfg(feature = "stack")]
    {
        cortex_m_semihosting::hprintln!(
            "client step stack: {} bytes",
            pusher_footprint::stack::used(top)
        );
        cortex_m_semihosting::hprintln!(
            "client state: {} bytes",
            Client::<'static, 8, 48>::STATE_SIZE
        );
        cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_SUCCESS);
    }
    black_box(&c);
    loop {
        cortex_m::asm::wfi();
    }
}
