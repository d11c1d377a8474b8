//! The client in the caller's memory: its size, its configuration, `init`, and the calls that
//! drive the transport (connect, connected, closed, timeout, receive, transmit).

use core::ffi::c_void;

use pusher_core::client::{Action, Buffers, Client, Config, Duration, Instant, State};

use crate::raw::{self, PusherStr};
use crate::result::PusherResult;

/// Subscriptions a client keeps (the core's `CHANNELS`).
pub const PUSHER_MAX_CHANNELS: usize = 8;
/// Longest channel name a client keeps, in bytes (the core's `NAME`).
pub const PUSHER_MAX_CHANNEL_NAME: usize = 64;

/// The core client with the ABI's capacities.
pub(crate) type Core = Client<'static, PUSHER_MAX_CHANNELS, PUSHER_MAX_CHANNEL_NAME>;

/// "pusher-c" in ASCII: the first word of an initialized handle.
const MAGIC: u64 = 0x7075_7368_6572_2d63;

/// Room for the readable reason of a disconnect or a malformed message (`PusherEvent.reason`).
pub(crate) const REASON_LEN: usize = 96;

/// What lives in the caller's memory.
#[repr(C)]
pub(crate) struct Handle {
    magic: u64,
    pub(crate) client: Core,
    /// Where `pusher_poll_event` writes an event's reason text.
    pub(crate) reason: [u8; REASON_LEN],
    /// Bytes `pusher_rx_buffer` last offered, not committed yet: the bound of
    /// `pusher_commit_rx` (checked without asking the core again, which could move bytes).
    offered: usize,
}

/// A client, in memory the caller owns (`pusher_client_size()` bytes aligned to
/// `pusher_client_align()`), set up by `pusher_client_init`. Opaque.
pub struct PusherClient {
    _opaque: [u8; 0],
}

/// The client's view of the caller's handle, after the checks that can be made.
///
/// # Safety
/// `c` is null or points to memory of `pusher_client_size()` bytes given to
/// `pusher_client_init` (the module docs of `raw` hold the rest of the contract).
pub(crate) unsafe fn handle<'c>(c: *mut PusherClient) -> Result<&'c mut Handle, PusherResult> {
    let p = c.cast::<Handle>();
    if p.is_null() {
        return Err(PusherResult::NullPointer);
    }
    if !p.is_aligned() {
        return Err(PusherResult::Misaligned);
    }
    // SAFETY: non-null and aligned; the handle's first field is the `u64` magic.
    if unsafe { raw::magic(p.cast::<u64>()) } != MAGIC {
        return Err(PusherResult::NotInitialized);
    }
    // SAFETY: the magic says `pusher_client_init` wrote a `Handle` here.
    Ok(unsafe { &mut *p })
}

/// Runs `f` on the client, or returns the error code of a bad handle.
///
/// # Safety
/// As [`handle`].
pub(crate) unsafe fn with(c: *mut PusherClient, f: impl FnOnce(&mut Core) -> i32) -> i32 {
    // SAFETY: forwarded.
    match unsafe { handle(c) } {
        Ok(h) => f(&mut h.client),
        Err(e) => e.code(),
    }
}

/// [`with`], with one output argument checked first.
///
/// # Safety
/// As [`handle`]; `out` is null or points to writable memory for a `T`.
unsafe fn with_out<T>(
    c: *mut PusherClient,
    out: *mut T,
    f: impl FnOnce(&mut Core, raw::Out<'_, T>) -> i32,
) -> i32 {
    // SAFETY: forwarded.
    match unsafe { raw::out(out) } {
        Ok(o) => unsafe { with(c, |core| f(core, o)) },
        Err(e) => e.code(),
    }
}

/// [`with`], with a pointer and a length to hand out.
///
/// # Safety
/// As [`with_out`], for both.
unsafe fn with_slice_out<P>(
    c: *mut PusherClient,
    ptr: *mut P,
    len: *mut usize,
    f: impl FnOnce(&mut Core, raw::Out<'_, P>, raw::Out<'_, usize>) -> i32,
) -> i32 {
    // SAFETY: forwarded.
    match unsafe { (raw::out(ptr), raw::out(len)) } {
        (Ok(p), Ok(l)) => unsafe { with(c, |core| f(core, p, l)) },
        (Err(e), _) | (_, Err(e)) => e.code(),
    }
}

/// Bytes of memory a client needs (for `pusher_client_init`).
#[unsafe(no_mangle)]
pub extern "C" fn pusher_client_size() -> usize {
    core::mem::size_of::<Handle>()
}

/// Alignment the client memory needs (for `pusher_client_init`).
#[unsafe(no_mangle)]
pub extern "C" fn pusher_client_align() -> usize {
    core::mem::align_of::<Handle>()
}

/// Connection settings. Fill it with `pusher_config_default`, then change what you need.
/// Times are in milliseconds. The strings are borrowed: they must outlive the client.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PusherConfig {
    /// The app key.
    pub app_key: PusherStr,
    /// `Host` header: `ws-{cluster}.pusher.com`, or `host:port` for other servers.
    pub host: PusherStr,
    /// Path before `/app/{key}` (usually empty).
    pub path_prefix: PusherStr,
    /// `client=` query value.
    pub client_name: PusherStr,
    /// `version=` query value.
    pub version: PusherStr,
    /// Start with TLS (`wss://`): `pusher_poll_action` then asks for a TLS transport.
    pub use_tls: bool,
    /// Ping after this much silence (capped by the server's `activity_timeout`).
    pub activity_timeout_ms: u64,
    /// How long to wait for anything after a ping.
    pub pong_timeout_ms: u64,
    /// `CONNECTING` becomes `UNAVAILABLE` after this long.
    pub unavailable_timeout_ms: u64,
    /// Longest time from opening a transport to `connection_established`.
    pub connect_timeout_ms: u64,
    /// First backoff ceiling.
    pub backoff_base_ms: u64,
    /// Largest backoff.
    pub backoff_cap_ms: u64,
    /// A connection that lasts this long resets the backoff.
    pub stable_after_ms: u64,
    /// Give up (state `FAILED`) after this many failed attempts in a row; 0: never.
    pub max_attempts: u32,
    /// Largest message accepted, in bytes (also bounded by the receive buffer).
    pub max_message: usize,
    /// Client events allowed per second (Pusher's limit is 10).
    pub client_events_per_sec: u32,
}

/// Fills `out` with pusher-js's defaults for an app key and host (TLS on: set `use_tls` to
/// false for a plain `ws://` server such as a local one).
///
/// Returns 0, or `PUSHER_RESULT_NULL_POINTER` / `PUSHER_RESULT_INVALID_UTF8`.
///
/// # Safety
/// `out` is null or writable; the strings follow the header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_config_default(
    out: *mut PusherConfig,
    app_key: PusherStr,
    host: PusherStr,
) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    let r = unsafe { (raw::out(out), raw::text(app_key), raw::text(host)) };
    let (out, key, host_text) = match r {
        (Ok(o), Ok(k), Ok(h)) => (o, k, h),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return e.code(),
    };
    let d = Config::new(key, host_text);
    out.put(PusherConfig {
        app_key,
        host,
        path_prefix: PusherStr::of(d.path_prefix),
        client_name: PusherStr::of("pusher-c"),
        version: PusherStr::of(d.version),
        use_tls: d.use_tls,
        activity_timeout_ms: d.activity_timeout.as_millis(),
        pong_timeout_ms: d.pong_timeout.as_millis(),
        unavailable_timeout_ms: d.unavailable_timeout.as_millis(),
        connect_timeout_ms: d.connect_timeout.as_millis(),
        backoff_base_ms: d.backoff_base.as_millis(),
        backoff_cap_ms: d.backoff_cap.as_millis(),
        stable_after_ms: d.stable_after.as_millis(),
        max_attempts: d.max_attempts.unwrap_or(0),
        max_message: d.max_message,
        client_events_per_sec: d.client_events_per_sec,
    });
    PusherResult::Ok.code()
}

/// The core's configuration, strings checked.
///
/// # Safety
/// The strings follow the header's pointer rules and outlive the client.
unsafe fn config(c: &PusherConfig) -> Result<Config<'static>, PusherResult> {
    // SAFETY: forwarded.
    let (app_key, host, path_prefix, client_name, version) = unsafe {
        (
            raw::text(c.app_key)?,
            raw::text(c.host)?,
            raw::text(c.path_prefix)?,
            raw::text(c.client_name)?,
            raw::text(c.version)?,
        )
    };
    if app_key.is_empty() || host.is_empty() || c.backoff_base_ms > c.backoff_cap_ms {
        return Err(PusherResult::OutOfRange);
    }
    Ok(Config {
        app_key,
        host,
        path_prefix,
        client_name,
        version,
        use_tls: c.use_tls,
        activity_timeout: Duration::from_millis(c.activity_timeout_ms),
        pong_timeout: Duration::from_millis(c.pong_timeout_ms),
        unavailable_timeout: Duration::from_millis(c.unavailable_timeout_ms),
        connect_timeout: Duration::from_millis(c.connect_timeout_ms),
        backoff_base: Duration::from_millis(c.backoff_base_ms),
        backoff_cap: Duration::from_millis(c.backoff_cap_ms),
        stable_after: Duration::from_millis(c.stable_after_ms),
        max_attempts: (c.max_attempts != 0).then_some(c.max_attempts),
        max_message: c.max_message,
        client_events_per_sec: c.client_events_per_sec,
    })
}

/// The memory a client works in; nothing is allocated. `rx` bounds the largest frame (4 KiB
/// and up is usual), `tx` holds outgoing frames (a few hundred bytes unless the app sends large
/// client events), `presence` holds presence members (may be `{NULL, 0}`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PusherBuffers {
    /// Receive buffer.
    pub rx: *mut u8,
    /// Its length.
    pub rx_len: usize,
    /// Transmit buffer.
    pub tx: *mut u8,
    /// Its length.
    pub tx_len: usize,
    /// Presence member store.
    pub presence: *mut u8,
    /// Its length.
    pub presence_len: usize,
}

/// Sets up a client in `mem` (`mem_len` >= `pusher_client_size()`, aligned to
/// `pusher_client_align()`), working in `buffers`, with `seed` feeding WebSocket masks, keys
/// and backoff jitter (use real randomness). On success `*out` is the client (it is `mem`).
/// `mem`, the buffers and the config's strings must stay valid and unmoved while the client is
/// used; there is nothing to free afterwards. Calling it again on the same memory starts over.
///
/// Returns 0, `PUSHER_RESULT_NULL_POINTER`, `PUSHER_RESULT_BUFFER_TOO_SMALL` (`mem` too small,
/// or `rx`/`tx` under 128 bytes), `PUSHER_RESULT_MISALIGNED`, `PUSHER_RESULT_INVALID_UTF8` or
/// `PUSHER_RESULT_OUT_OF_RANGE` (empty key or host, backoff base above its cap).
///
/// # Safety
/// The header's pointer rules; the memory is the caller's to overwrite.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_client_init(
    mem: *mut c_void,
    mem_len: usize,
    config: *const PusherConfig,
    buffers: PusherBuffers,
    seed: u64,
    out: *mut *mut PusherClient,
) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    let made = unsafe { make(mem, mem_len, config, buffers, seed, out) };
    match made {
        Ok(()) => PusherResult::Ok.code(),
        Err(e) => e.code(),
    }
}

/// Smallest receive and transmit buffers taken: a handshake line and a ping fit.
const MIN_BUFFER: usize = 128;

/// # Safety
/// As [`pusher_client_init`].
unsafe fn make(
    mem: *mut c_void,
    mem_len: usize,
    config: *const PusherConfig,
    b: PusherBuffers,
    seed: u64,
    out: *mut *mut PusherClient,
) -> Result<(), PusherResult> {
    // SAFETY: forwarded.
    let (out, config) = unsafe { (raw::out(out)?, raw::input(config)?) };
    let slot = raw::room_for::<Handle>(mem, mem_len)?;
    // SAFETY: forwarded.
    let config = unsafe { self::config(config)? };
    if b.rx_len < MIN_BUFFER || b.tx_len < MIN_BUFFER {
        return Err(PusherResult::BufferTooSmall);
    }
    // SAFETY: forwarded; the three buffers are the caller's, distinct, for the client's life.
    let buffers = unsafe {
        Buffers {
            rx: raw::bytes_mut(b.rx, b.rx_len)?,
            tx: raw::bytes_mut(b.tx, b.tx_len)?,
            presence: raw::bytes_mut(b.presence, b.presence_len)?,
        }
    };
    let handle = Handle {
        magic: MAGIC,
        client: Client::new(config, buffers, seed),
        reason: [0; REASON_LEN],
        offered: 0,
    };
    // SAFETY: `slot` passed room_for; the caller gives the memory up.
    unsafe { raw::write(slot, handle) };
    out.put(slot.cast());
    Ok(())
}

/// Gives the client room (`len` bytes at `buf`) to keep events of encrypted channels that did
/// not open while it asks for the channel's auth again (the key may have been rotated); they
/// are opened with the new secret and handed out then. Without it such an event is reported
/// at once as `PUSHER_EVENT_KIND_DECRYPTION_FAILED`. A few hundred bytes hold a few events.
/// The buffer must outlive the client. Returns 0, `PUSHER_RESULT_ENCRYPTION_DISABLED` when
/// the library is built without encrypted channels, or an argument or handle error.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_client_hold_for_rekey(
    client: *mut PusherClient,
    buf: *mut u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    let buf = match unsafe { raw::bytes_mut(buf, len) } {
        Ok(b) => b,
        Err(e) => return e.code(),
    };
    // SAFETY: as above.
    unsafe {
        with(client, |c| {
            #[cfg(feature = "encryption")]
            {
                c.hold_for_rekey(buf);
                0
            }
            #[cfg(not(feature = "encryption"))]
            {
                let _ = (c, buf);
                PusherResult::EncryptionDisabled.code()
            }
        })
    }
}

/// Mixes more entropy into the client's generator (call with fresh randomness at will).
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_client_reseed(client: *mut PusherClient, entropy: u64) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(client, |c| {
            c.reseed(entropy);
            0
        })
    }
}

/// One of the transport calls, which cannot fail once the handle is good.
///
/// # Safety
/// As [`handle`].
unsafe fn transport(c: *mut PusherClient, now_ms: u64, call: fn(&mut Core, Instant)) -> i32 {
    // SAFETY: forwarded.
    unsafe {
        with(c, |c| {
            call(c, Instant::from_millis(now_ms));
            0
        })
    }
}

/// Starts connecting (and resets the backoff): `pusher_poll_action` then asks for a
/// transport. `now_ms` is a monotonic clock in milliseconds, the same for every call.
///
/// Returns 0, or an error code for a bad handle.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_connect(client: *mut PusherClient, now_ms: u64) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    unsafe { transport(client, now_ms, Core::connect) }
}

/// Disconnects on purpose (state `DISCONNECTED`, no retries until `pusher_connect`).
///
/// Returns 0, or an error code for a bad handle.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_disconnect(client: *mut PusherClient, now_ms: u64) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    unsafe { transport(client, now_ms, Core::disconnect) }
}

/// The transport asked for by `PUSHER_ACTION_OPEN_*` is open: the upgrade request is queued.
///
/// Returns 0, or an error code for a bad handle.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_handle_connected(client: *mut PusherClient, now_ms: u64) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    unsafe { transport(client, now_ms, Core::handle_connected) }
}

/// The transport closed, failed to open, or failed to read or write: the reconnect policy
/// decides what comes next (see `pusher_poll_action` and `pusher_poll_timeout`).
///
/// Returns 0, or an error code for a bad handle.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_handle_closed(client: *mut PusherClient, now_ms: u64) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    unsafe { transport(client, now_ms, Core::handle_closed) }
}

/// The deadline from `pusher_poll_timeout` has passed: pings, pong and connect timeouts,
/// retries.
///
/// Returns 0, or an error code for a bad handle.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_handle_timeout(client: *mut PusherClient, now_ms: u64) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    unsafe { transport(client, now_ms, Core::handle_timeout) }
}

/// What the driver must do with the transport.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PusherAction {
    /// Open a plain TCP connection to the host, then call `pusher_handle_connected` (or
    /// `pusher_handle_closed` if it fails).
    OpenPlain = 1,
    /// Open a TLS connection to the host (port 443), then as for `OpenPlain`.
    OpenTls = 2,
    /// Send what `pusher_poll_transmit` still holds, close the transport, then call
    /// `pusher_handle_closed`.
    Close = 3,
}

/// The next transport action. Returns 1 and writes `*out`, 0 when there is none, or an error.
/// Call until 0 after every call into the client.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pusher_poll_action(
    client: *mut PusherClient,
    out: *mut PusherAction,
) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    unsafe {
        with_out(client, out, |c, out| match c.poll_action() {
            None => 0,
            Some(a) => {
                out.put(match a {
                    Action::Open { tls: false } => PusherAction::OpenPlain,
                    Action::Open { tls: true } => PusherAction::OpenTls,
                    Action::Close => PusherAction::Close,
                });
                1
            }
        })
    }
}

/// The next deadline: returns 1 and writes `*deadline_ms` (same clock as `now_ms`) when there
/// is one, 0 when nothing is timed. Call `pusher_handle_timeout` once it has passed.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pusher_poll_timeout(
    client: *mut PusherClient,
    deadline_ms: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    unsafe {
        with_out(client, deadline_ms, |c, out| match c.poll_timeout() {
            None => 0,
            Some(t) => {
                out.put(t.as_millis());
                1
            }
        })
    }
}

/// Where to receive: `*len` writable bytes at `*ptr` (inside the rx buffer). Read from the
/// socket into it, then call `pusher_commit_rx` with the count. `*len` is 0 when a frame
/// larger than the buffer arrived: poll events (it is reported) instead of reading.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_rx_buffer(
    client: *mut PusherClient,
    ptr: *mut *mut u8,
    len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    let (h, ptr, len) = match unsafe { (handle(client), raw::out(ptr), raw::out(len)) } {
        (Ok(h), Ok(p), Ok(l)) => (h, p, l),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return e.code(),
    };
    let spare = h.client.rx_buffer();
    ptr.put(spare.as_mut_ptr());
    len.put(spare.len());
    h.offered = spare.len();
    0
}

/// `n` bytes were received into the space `pusher_rx_buffer` gave. Then poll events.
///
/// Returns 0, `PUSHER_RESULT_OUT_OF_RANGE` when `n` is more than that space, or than what is
/// left of it after an earlier commit (nothing is taken), or an error for a bad handle.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_commit_rx(client: *mut PusherClient, n: usize, now_ms: u64) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    let h = match unsafe { handle(client) } {
        Ok(h) => h,
        Err(e) => return e.code(),
    };
    if n > h.offered {
        return PusherResult::OutOfRange.code();
    }
    h.offered -= n;
    h.client.commit_rx(n, Instant::from_millis(now_ms));
    0
}

/// Bytes to send: returns 1 with `*len` bytes at `*ptr` (valid until the next call on this
/// client), 0 when nothing is queued. After writing some, call `pusher_consume_tx`; call again
/// until 0 after every call into the client.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pusher_poll_transmit(
    client: *mut PusherClient,
    ptr: *mut *const u8,
    len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    unsafe {
        with_slice_out(client, ptr, len, |c, ptr, len| match c.poll_transmit() {
            None => 0,
            Some(bytes) => {
                ptr.put(bytes.as_ptr());
                len.put(bytes.len());
                1
            }
        })
    }
}

/// `n` of the bytes `pusher_poll_transmit` gave were written to the socket.
///
/// Returns 0, `PUSHER_RESULT_OUT_OF_RANGE` when `n` is more than was pending (nothing is
/// consumed), or an error for a bad handle.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_consume_tx(client: *mut PusherClient, n: usize) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    unsafe {
        with(client, |c| {
            if n > c.poll_transmit().map_or(0, <[u8]>::len) {
                return PusherResult::OutOfRange.code();
            }
            c.consume_tx(n);
            0
        })
    }
}

/// Connection state, with pusher-js's meanings.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PusherState {
    /// Created, `pusher_connect` not called yet.
    Initialized = 0,
    /// Trying to connect (also while waiting to retry).
    Connecting = 1,
    /// `connection_established` received; the socket id is known.
    Connected = 2,
    /// Still trying after the unavailable timeout.
    Unavailable = 3,
    /// Closed on purpose (by the app or a refusing close code); no retries.
    Disconnected = 4,
    /// Gave up after `max_attempts`.
    Failed = 5,
}

impl From<State> for PusherState {
    fn from(s: State) -> Self {
        match s {
            State::Initialized => PusherState::Initialized,
            State::Connecting => PusherState::Connecting,
            State::Connected => PusherState::Connected,
            State::Unavailable => PusherState::Unavailable,
            State::Disconnected => PusherState::Disconnected,
            State::Failed => PusherState::Failed,
        }
    }
}

/// The connection state, into `*out`. Returns 0 or an error.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_client_state(
    client: *mut PusherClient,
    out: *mut PusherState,
) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    unsafe {
        with_out(client, out, |c, out| {
            out.put(c.state().into());
            0
        })
    }
}

/// The socket id of the current connection: returns 1 and writes `*out` (valid until the next
/// call on this client), 0 when not connected.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pusher_socket_id(client: *mut PusherClient, out: *mut PusherStr) -> i32 {
    // SAFETY: the caller's contract (raw's module docs).
    unsafe {
        with_out(client, out, |c, out| match c.socket_id() {
            None => 0,
            Some(id) => {
                out.put(PusherStr::of(id));
                1
            }
        })
    }
}
