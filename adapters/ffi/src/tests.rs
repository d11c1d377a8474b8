//! Misuse through the ABI returns error codes and never crashes: one test per kind (null
//! pointers, buffers too small, calls in the wrong state, invalid UTF-8, bad handles), and a
//! scripted session that goes through every transport call.

use core::ffi::c_void;
use core::ptr::{null, null_mut};

use crate::channels::*;
use crate::client::*;
use crate::event::*;
use crate::result::PusherResult as R;
use crate::sign::*;
use crate::{PusherStr, raw};

fn s(text: &str) -> PusherStr {
    PusherStr::of(text)
}

const NONE: PusherStr = PusherStr::NONE;

/// Client memory, buffers and config that outlive the test (leaked: tests only).
struct Setup {
    mem: &'static mut [u64],
    rx: &'static mut [u8],
    tx: &'static mut [u8],
    config: PusherConfig,
}

fn setup() -> Setup {
    let words = pusher_client_size().div_ceil(8);
    let mut config = unsafe { core::mem::zeroed() };
    assert_eq!(
        unsafe { pusher_config_default(&mut config, s("key"), s("127.0.0.1:6001")) },
        0
    );
    config.use_tls = false;
    Setup {
        mem: vec![0u64; words].leak(),
        rx: vec![0u8; 4096].leak(),
        tx: vec![0u8; 1024].leak(),
        config,
    }
}

fn buffers(rx: &mut [u8], tx: &mut [u8]) -> PusherBuffers {
    PusherBuffers {
        rx: rx.as_mut_ptr(),
        rx_len: rx.len(),
        tx: tx.as_mut_ptr(),
        tx_len: tx.len(),
        presence: null_mut(),
        presence_len: 0,
    }
}

fn client() -> *mut PusherClient {
    let st = setup();
    let mut out = null_mut();
    let r = unsafe {
        pusher_client_init(
            st.mem.as_mut_ptr().cast(),
            st.mem.len() * 8,
            &st.config,
            buffers(st.rx, st.tx),
            42,
            &mut out,
        )
    };
    assert_eq!(r, 0);
    let config = Box::leak(Box::new(st.config));
    let _ = config;
    out
}

fn drain(c: *mut PusherClient) -> Vec<PusherEvent> {
    let mut out = Vec::new();
    let mut ev = PusherEvent::zeroed();
    while unsafe { pusher_poll_event(c, &mut ev) } == 1 {
        out.push(ev);
    }
    out
}

impl PusherEvent {
    fn zeroed() -> Self {
        PusherEvent::new(PusherEventKind::Other)
    }
}

fn text<'a>(p: PusherStr) -> &'a str {
    unsafe { raw::text(p) }.unwrap()
}

fn sent(c: *mut PusherClient) -> Vec<u8> {
    let mut all = Vec::new();
    let (mut p, mut n) = (null(), 0usize);
    while unsafe { pusher_poll_transmit(c, &mut p, &mut n) } == 1 {
        all.extend_from_slice(unsafe { core::slice::from_raw_parts(p, n) });
        assert_eq!(unsafe { pusher_consume_tx(c, n) }, 0);
    }
    all
}

fn receive(c: *mut PusherClient, bytes: &[u8], now: u64) {
    let (mut p, mut n) = (null_mut(), 0usize);
    assert_eq!(unsafe { pusher_rx_buffer(c, &mut p, &mut n) }, 0);
    assert!(n >= bytes.len());
    unsafe { core::slice::from_raw_parts_mut(p, bytes.len()) }.copy_from_slice(bytes);
    assert_eq!(unsafe { pusher_commit_rx(c, bytes.len(), now) }, 0);
}

/// The payloads of the masked client frames in `bytes`, as text.
fn unmask(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = bytes;
    while rest.len() >= 6 {
        let (mut len, mut at) = (usize::from(rest[1] & 0x7f), 2);
        if len == 126 {
            len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
            at = 4;
        }
        let mask = [rest[at], rest[at + 1], rest[at + 2], rest[at + 3]];
        let payload = &rest[at + 4..at + 4 + len];
        out.extend(
            payload
                .iter()
                .enumerate()
                .map(|(i, b)| char::from(b ^ mask[i % 4])),
        );
        out.push('\n');
        rest = &rest[at + 4 + len..];
    }
    out
}

/// An unmasked server text frame.
fn frame(text: &str) -> Vec<u8> {
    let mut f = vec![0x81];
    match text.len() {
        n if n < 126 => f.push(n as u8),
        n => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    f.extend_from_slice(text.as_bytes());
    f
}

/// Connects through the ABI to a scripted server, up to `connection_established`.
fn connected() -> *mut PusherClient {
    let c = client();
    assert_eq!(unsafe { pusher_connect(c, 0) }, 0);
    let mut action = PusherAction::Close;
    assert_eq!(unsafe { pusher_poll_action(c, &mut action) }, 1);
    assert_eq!(action, PusherAction::OpenPlain);
    assert_eq!(unsafe { pusher_handle_connected(c, 1) }, 0);
    let request = String::from_utf8(sent(c)).unwrap();
    assert!(request.starts_with("GET /app/key?"), "{request}");
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let accept = accept_for(key);
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    receive(c, response.as_bytes(), 2);
    let est = r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"123.456\",\"activity_timeout\":120}"}"#;
    receive(c, &frame(est), 3);
    let events = drain(c);
    assert!(
        events.iter().any(|e| e.kind == PusherEventKind::StateChanged
            && e.current == PusherState::Connected),
        "{events:?}"
    );
    c
}

fn accept_for(key: &str) -> String {
    use base64::Engine;
    use sha1::Digest;
    let mut h = sha1::Sha1::new();
    h.update(key.as_bytes());
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

#[test]
fn a_scripted_session_goes_through_every_transport_call() {
    let c = connected();
    let mut id = NONE;
    assert_eq!(unsafe { pusher_socket_id(c, &mut id) }, 1);
    assert_eq!(text(id), "123.456");
    assert_eq!(unsafe { pusher_subscribe(c, s("orders")) }, 0);
    assert_eq!(unsafe { pusher_subscribe(c, s("private-inbox")) }, 0);
    let out = unmask(&sent(c));
    assert!(out.contains("orders"), "{out:?}");
    let auth = drain(c)
        .into_iter()
        .find(|e| e.kind == PusherEventKind::AuthRequired)
        .expect("auth asked");
    assert_eq!(text(auth.channel), "private-inbox");
    let (ch, sid) = (
        text(auth.channel).to_owned(),
        text(auth.socket_id).to_owned(),
    );
    assert_eq!(
        unsafe { pusher_authorize_locally(c, s(&ch), s("key"), s("secret"), NONE) },
        0
    );
    let out = unmask(&sent(c));
    assert!(out.contains("key:"), "{out:?}");
    // The same answer again: nothing is waiting for it any more.
    assert_eq!(
        unsafe { pusher_authorize_locally(c, s(&ch), s("key"), s("secret"), NONE) },
        R::NotAwaitingAuth.code()
    );
    let _ = sid;
    receive(
        c,
        &frame(
            r#"{"event":"pusher_internal:subscription_succeeded","channel":"orders","data":"{}"}"#,
        ),
        4,
    );
    receive(
        c,
        &frame(r#"{"event":"created","channel":"orders","data":"{\"id\":7}"}"#),
        5,
    );
    let events = drain(c);
    let msg = events
        .iter()
        .find(|e| e.kind == PusherEventKind::Message)
        .expect("message");
    assert_eq!(
        (text(msg.name), text(msg.channel), text(msg.data)),
        ("created", "orders", r#"{"id":7}"#)
    );
    // A close from the server: a disconnect event with its reason and code, then a retry.
    receive(c, &[0x88, 0x02, 0x0f, 0xa0], 6); // 4000
    let events = drain(c);
    let d = events
        .iter()
        .find(|e| e.kind == PusherEventKind::Disconnected);
    let mut action = PusherAction::OpenPlain;
    while unsafe { pusher_poll_action(c, &mut action) } == 1 {
        if action == PusherAction::Close {
            let _ = sent(c);
            assert_eq!(unsafe { pusher_handle_closed(c, 7) }, 0);
        }
    }
    let d = d.copied().or_else(|| {
        drain(c)
            .into_iter()
            .find(|e| e.kind == PusherEventKind::Disconnected)
    });
    let d = d.expect("disconnect reported");
    assert_eq!(d.code, 4000);
    assert!(text(d.reason).contains("4000"), "{}", text(d.reason));
    assert_eq!(d.retry, PusherRetry::Tls);
    let mut deadline = 0;
    let timed = unsafe { pusher_poll_timeout(c, &mut deadline) };
    assert!(timed == 1 || timed == 0);
}

#[test]
fn null_pointers_are_refused() {
    let c = client();
    let null_client: *mut PusherClient = null_mut();
    let np = R::NullPointer.code();
    assert_eq!(unsafe { pusher_connect(null_client, 0) }, np);
    assert_eq!(unsafe { pusher_subscribe(null_client, s("a")) }, np);
    let mut ev = PusherEvent::zeroed();
    assert_eq!(unsafe { pusher_poll_event(null_client, &mut ev) }, np);
    assert_eq!(unsafe { pusher_poll_event(c, null_mut()) }, np);
    assert_eq!(unsafe { pusher_poll_action(c, null_mut()) }, np);
    assert_eq!(unsafe { pusher_poll_timeout(c, null_mut()) }, np);
    assert_eq!(
        unsafe { pusher_poll_transmit(c, null_mut(), null_mut()) },
        np
    );
    assert_eq!(unsafe { pusher_rx_buffer(c, null_mut(), null_mut()) }, np);
    assert_eq!(unsafe { pusher_client_state(c, null_mut()) }, np);
    // A string with a length but no pointer.
    let dangling = PusherStr {
        ptr: null(),
        len: 5,
    };
    assert_eq!(unsafe { pusher_subscribe(c, dangling) }, np);
    assert_eq!(unsafe { pusher_validate_channel_name(dangling) }, np);
    // Init: no memory, no config, no out pointer, no buffers.
    let st = setup();
    let mut out = null_mut();
    let b = buffers(st.rx, st.tx);
    let mem = st.mem.as_mut_ptr().cast::<c_void>();
    let len = st.mem.len() * 8;
    unsafe {
        assert_eq!(
            pusher_client_init(null_mut(), len, &st.config, b, 1, &mut out),
            np
        );
        assert_eq!(pusher_client_init(mem, len, null(), b, 1, &mut out), np);
        assert_eq!(
            pusher_client_init(mem, len, &st.config, b, 1, null_mut()),
            np
        );
        let no_rx = PusherBuffers {
            rx: null_mut(),
            ..b
        };
        assert_eq!(
            pusher_client_init(mem, len, &st.config, no_rx, 1, &mut out),
            np
        );
        assert_eq!(pusher_config_default(null_mut(), s("k"), s("h")), np);
    }
    // The stateless parts.
    let mut n = 0;
    unsafe {
        assert_eq!(
            pusher_sign_user(
                s("k"),
                s("s"),
                s("1.1"),
                s(r#"{"id":"a"}"#),
                null_mut(),
                10,
                &mut n
            ),
            np
        );
        assert_eq!(
            pusher_verify_webhook(s("k"), s("s"), s("k"), s("x"), null(), 3),
            np
        );
        assert_eq!(
            pusher_sign_rest(
                s("k"),
                s("s"),
                s("GET"),
                s("/apps/1/channels"),
                null(),
                2,
                null(),
                0,
                1,
                null_mut(),
                0,
                &mut n
            ),
            np
        );
    }
    // The client is still fine.
    assert_eq!(unsafe { pusher_subscribe(c, s("a")) }, 0);
}

#[test]
fn buffers_too_small_are_refused_with_the_size_needed() {
    let st = setup();
    let mut out = null_mut();
    let b = buffers(st.rx, st.tx);
    let mem = st.mem.as_mut_ptr().cast::<c_void>();
    unsafe {
        assert_eq!(
            pusher_client_init(mem, pusher_client_size() - 1, &st.config, b, 1, &mut out),
            R::BufferTooSmall.code()
        );
        let tiny = PusherBuffers { rx_len: 16, ..b };
        assert_eq!(
            pusher_client_init(mem, pusher_client_size(), &st.config, tiny, 1, &mut out),
            R::BufferTooSmall.code()
        );
        // Misaligned memory.
        let odd = mem.cast::<u8>().add(1).cast::<c_void>();
        assert_eq!(
            pusher_client_init(odd, pusher_client_size() + 8, &st.config, b, 1, &mut out),
            R::Misaligned.code()
        );
    }
    let mut small = [0u8; 10];
    let mut n = 0;
    let (mut auth, mut secret) = (NONE, NONE);
    let r = unsafe {
        pusher_sign_channel(
            s("key"),
            s("secret"),
            null(),
            s("1.1"),
            s("private-a"),
            NONE,
            small.as_mut_ptr(),
            small.len(),
            &mut n,
            &mut auth,
            &mut secret,
        )
    };
    assert_eq!(r, R::BufferTooSmall.code());
    assert_eq!(n, "key:".len() + 64);
    let mut q = [0u8; 20];
    let r = unsafe {
        pusher_sign_rest(
            s("key"),
            s("secret"),
            s("GET"),
            s("/apps/1/channels"),
            null(),
            0,
            null(),
            0,
            1,
            q.as_mut_ptr(),
            q.len(),
            &mut n,
        )
    };
    assert_eq!(r, R::BufferTooSmall.code());
    assert!(n > q.len());
    // A client event larger than the transmit buffer.
    let c = connected();
    let big = "x".repeat(4000);
    assert_eq!(unsafe { pusher_subscribe(c, s("private-a")) }, 0);
    let _ = sent(c);
    let _ = drain(c);
    assert_eq!(
        unsafe { pusher_authorize_locally(c, s("private-a"), s("key"), s("secret"), NONE) },
        0
    );
    let _ = sent(c);
    receive(
        c,
        &frame(
            r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-a","data":"{}"}"#,
        ),
        9,
    );
    let _ = drain(c);
    assert_eq!(
        unsafe { pusher_trigger(c, s("private-a"), s("client-big"), s(&big), false) },
        R::TransmitBufferFull.code()
    );
    assert_eq!(
        unsafe { pusher_trigger(c, s("private-a"), s("client-ok"), s("{}"), true) },
        0
    );
}

#[test]
fn calls_in_the_wrong_state_are_refused() {
    let c = client();
    // Before connecting.
    assert_eq!(
        unsafe { pusher_trigger(c, s("private-a"), s("client-x"), s("1"), true) },
        R::UnknownChannel.code()
    );
    assert_eq!(unsafe { pusher_subscribe(c, s("private-a")) }, 0);
    assert_eq!(
        unsafe { pusher_trigger(c, s("private-a"), s("client-x"), s("1"), true) },
        R::NotConnected.code()
    );
    assert_eq!(
        unsafe { pusher_provide_auth(c, s("private-a"), s("1.1"), s("key:00"), NONE) },
        R::NotConnected.code()
    );
    assert_eq!(
        unsafe { pusher_signin_failed(c, s("1.1")) },
        R::NotConnected.code()
    );
    assert_eq!(
        unsafe { pusher_unsubscribe(c, s("other")) },
        R::UnknownChannel.code()
    );
    // More received than offered, more consumed than pending: refused, nothing taken.
    let (mut p, mut n) = (null_mut(), 0usize);
    assert_eq!(unsafe { pusher_rx_buffer(c, &mut p, &mut n) }, 0);
    assert_eq!(
        unsafe { pusher_commit_rx(c, n + 1, 0) },
        R::OutOfRange.code()
    );
    // Committing more, in total, than was offered, or without asking for room first.
    let fresh = client();
    let (mut p2, mut n2) = (null_mut(), 0usize);
    assert_eq!(
        unsafe { pusher_commit_rx(fresh, 1, 0) },
        R::OutOfRange.code()
    );
    assert_eq!(unsafe { pusher_rx_buffer(fresh, &mut p2, &mut n2) }, 0);
    assert_eq!(unsafe { pusher_commit_rx(fresh, n2 - 1, 0) }, 0);
    assert_eq!(
        unsafe { pusher_commit_rx(fresh, 2, 0) },
        R::OutOfRange.code()
    );
    assert_eq!(unsafe { pusher_consume_tx(c, 1) }, R::OutOfRange.code());
    // Connected: an answer for another socket id, for a public channel, an unsubscribed one.
    let c = connected();
    assert_eq!(unsafe { pusher_subscribe(c, s("private-b")) }, 0);
    let _ = sent(c);
    let _ = drain(c);
    assert_eq!(
        unsafe { pusher_provide_auth(c, s("private-b"), s("9.9"), s("key:00"), NONE) },
        R::StaleSocketId.code()
    );
    assert_eq!(unsafe { pusher_subscribe(c, s("public")) }, 0);
    assert_eq!(
        unsafe { pusher_provide_auth(c, s("public"), s("123.456"), s("key:00"), NONE) },
        R::NotAwaitingAuth.code()
    );
    assert_eq!(
        unsafe { pusher_trigger(c, s("private-b"), s("client-x"), s("1"), true) },
        R::NotSubscribed.code()
    );
    assert_eq!(
        unsafe { pusher_trigger(c, s("public"), s("client-x"), s("1"), true) },
        R::ClientEventsNotAllowed.code()
    );
    assert_eq!(
        unsafe {
            pusher_provide_encrypted_auth(
                c,
                s("private-b"),
                s("123.456"),
                s("key:00"),
                s("not base64"),
            )
        },
        if cfg!(feature = "encryption") {
            R::BadSharedSecret.code()
        } else {
            R::EncryptionDisabled.code()
        }
    );
    assert_eq!(
        unsafe { pusher_auth_failed(c, s("private-b"), s("123.456"), 70000) },
        R::OutOfRange.code()
    );
    assert_eq!(
        unsafe { pusher_auth_failed(c, s("private-b"), s("123.456"), 403) },
        0
    );
    assert!(
        drain(c)
            .iter()
            .any(|e| e.kind == PusherEventKind::SubscriptionError && e.code == 403)
    );
}

#[test]
fn invalid_utf8_and_invalid_names_are_refused() {
    let c = client();
    let bad = [b'o', 0xff, b'k'];
    let bad = PusherStr {
        ptr: bad.as_ptr().cast(),
        len: bad.len(),
    };
    let utf8 = R::InvalidUtf8.code();
    assert_eq!(unsafe { pusher_subscribe(c, bad) }, utf8);
    assert_eq!(unsafe { pusher_unsubscribe(c, bad) }, utf8);
    assert_eq!(
        unsafe { pusher_trigger(c, s("private-a"), bad, s("1"), true) },
        utf8
    );
    assert_eq!(unsafe { pusher_validate_channel_name(bad) }, utf8);
    assert_eq!(unsafe { pusher_validate_event_name(bad) }, utf8);
    assert_eq!(
        unsafe { pusher_verify_webhook(s("k"), bad, s("k"), s("x"), null(), 0) },
        utf8
    );
    let mut config = unsafe { core::mem::zeroed() };
    assert_eq!(
        unsafe { pusher_config_default(&mut config, bad, s("h")) },
        utf8
    );
    // Valid UTF-8 but not a name.
    let name = R::InvalidName.code();
    assert_eq!(
        unsafe { pusher_subscribe(c, s("spaces are not allowed")) },
        name
    );
    assert_eq!(unsafe { pusher_subscribe(c, s("")) }, name);
    assert_eq!(
        unsafe { pusher_subscribe(c, s("#server-to-user-1")) },
        R::ReservedChannel.code()
    );
    assert_eq!(
        unsafe { pusher_subscribe(c, s(&"a".repeat(PUSHER_MAX_CHANNEL_NAME + 1))) },
        R::NoChannelSlot.code()
    );
    assert_eq!(unsafe { pusher_validate_socket_id(s("12")) }, name);
    assert_eq!(unsafe { pusher_validate_socket_id(s("12.34")) }, 0);
    assert_eq!(
        unsafe { pusher_validate_channel_name(s("presence-room")) },
        0
    );
    // The client still works.
    assert_eq!(unsafe { pusher_subscribe(c, s("fine")) }, 0);
}

#[test]
fn handles_that_were_never_initialized_are_refused() {
    let mut zeroed = vec![0u64; pusher_client_size().div_ceil(8)];
    let c = zeroed.as_mut_ptr().cast::<PusherClient>();
    let ni = R::NotInitialized.code();
    assert_eq!(unsafe { pusher_connect(c, 0) }, ni);
    assert_eq!(unsafe { pusher_subscribe(c, s("a")) }, ni);
    let mut ev = PusherEvent::zeroed();
    assert_eq!(unsafe { pusher_poll_event(c, &mut ev) }, ni);
    let garbage = vec![0xa5a5_a5a5_a5a5_a5a5u64; pusher_client_size().div_ceil(8)];
    let g = garbage.as_ptr() as *mut PusherClient;
    assert_eq!(unsafe { pusher_handle_timeout(g, 0) }, ni);
    let odd = unsafe { c.cast::<u8>().add(1) }.cast::<PusherClient>();
    assert_eq!(unsafe { pusher_connect(odd, 0) }, R::Misaligned.code());
}

#[test]
fn stateless_signatures_match_the_official_vectors() {
    // protocol.md's vectors (from the official libraries' tests).
    let mut out = [0u8; 200];
    let mut n = 0;
    let (mut auth, mut secret) = (NONE, NONE);
    let r = unsafe {
        pusher_sign_channel(
            s("278d425bdf160c739803"),
            s("7ad3773142a6692b25b8"),
            null(),
            s("1234.1234"),
            s("private-foobar"),
            NONE,
            out.as_mut_ptr(),
            out.len(),
            &mut n,
            &mut auth,
            &mut secret,
        )
    };
    assert_eq!(r, 0);
    assert_eq!(
        text(auth),
        "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
    );
    assert!(secret.ptr.is_null());
    assert_eq!(n, text(auth).len());
    // Webhook: a signature over the body, checked in constant time.
    let body = br#"{"time_ms":1,"events":[]}"#;
    let sig = {
        use hmac::{KeyInit, Mac};
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"secret").unwrap();
        m.update(body);
        hex(&m.finalize().into_bytes())
    };
    unsafe {
        assert_eq!(
            pusher_verify_webhook(
                s("key"),
                s("secret"),
                s("key"),
                s(&sig),
                body.as_ptr(),
                body.len()
            ),
            0
        );
        assert_eq!(
            pusher_verify_webhook(
                s("key"),
                s("wrong"),
                s("key"),
                s(&sig),
                body.as_ptr(),
                body.len()
            ),
            R::WebhookBadSignature.code()
        );
        assert_eq!(
            pusher_verify_webhook(
                s("key"),
                s("secret"),
                s("other"),
                s(&sig),
                body.as_ptr(),
                body.len()
            ),
            R::WebhookKeyMismatch.code()
        );
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn a_library_without_encryption_refuses_encrypted_channels() {
    let c = client();
    let subscribed = unsafe { pusher_subscribe(c, s("private-encrypted-vault")) };
    let mut hold = [0u8; 64];
    let held = unsafe { pusher_client_hold_for_rekey(c, hold.as_mut_ptr(), hold.len()) };
    if cfg!(feature = "encryption") {
        assert_eq!((subscribed, held), (0, 0));
    } else {
        let off = R::EncryptionDisabled.code();
        assert_eq!((subscribed, held), (off, off));
    }
}
