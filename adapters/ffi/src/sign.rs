//! The stateless parts: name validation, channel and user signatures (what an auth endpoint
//! answers), REST request signing and webhook verification. No client needed.

use core::ffi::c_char;

use pusher_core::auth::{AuthError, Credentials};
use pusher_core::rest::{self, RestError};
use pusher_core::signer::LocalSigner;
use pusher_core::{ChannelName, EventName, SocketId, UserId, webhook};

use crate::raw::{self, PusherStr};
use crate::result::{PusherResult, status};

/// Checks every string argument, or returns its error code.
macro_rules! strings {
    ($($s:ident),*) => {
        // SAFETY: the caller's contract (raw's module docs): each string is readable for the
        // call.
        $( let $s = match unsafe { raw::text($s) } { Ok(s) => s, Err(e) => return e.code() }; )*
    };
}

/// A string of `len` bytes at `s` (for a string that is not NUL-terminated); for C strings
/// see `pusher_str_from_c`. Never fails; the pointer rules apply when it is used.
#[unsafe(no_mangle)]
pub extern "C" fn pusher_str(s: *const c_char, len: usize) -> PusherStr {
    PusherStr { ptr: s, len }
}

/// The `PusherStr` of a NUL-terminated C string (`{NULL, 0}` for NULL).
///
/// # Safety
/// `s` is null or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_str_from_c(s: *const c_char) -> PusherStr {
    // SAFETY: forwarded.
    unsafe { raw::c_string(s) }
}

/// Whether `name` is a valid channel name (up to 200 bytes of `A-Za-z0-9_-=@,.;`, not
/// starting with `#`). Returns 0, `PUSHER_RESULT_INVALID_NAME` or an argument error.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_validate_channel_name(name: PusherStr) -> i32 {
    strings!(name);
    status(ChannelName::new(name).map(drop))
}

/// Whether `name` is a valid event name. Returns as `pusher_validate_channel_name`.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_validate_event_name(name: PusherStr) -> i32 {
    strings!(name);
    status(EventName::new(name).map(drop))
}

/// Whether `id` is a socket id (`digits.digits`). Returns as `pusher_validate_channel_name`.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_validate_socket_id(id: PusherStr) -> i32 {
    strings!(id);
    status(SocketId::new(id).map(drop))
}

/// Whether `id` is a valid user id. Returns as `pusher_validate_channel_name`.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_validate_user_id(id: PusherStr) -> i32 {
    strings!(id);
    status(UserId::new(id).map(drop))
}

/// `*len` is the length written, or on `PUSHER_RESULT_BUFFER_TOO_SMALL` the length needed.
fn finish(r: Result<usize, (PusherResult, usize)>, len: raw::Out<'_, usize>) -> i32 {
    match r {
        Ok(n) => {
            len.put(n);
            PusherResult::Ok.code()
        }
        Err((e, needed)) => {
            len.put(needed);
            e.code()
        }
    }
}

fn auth_error(e: AuthError) -> (PusherResult, usize) {
    match e {
        AuthError::BufferTooSmall(b) => (PusherResult::BufferTooSmall, b.needed),
        e => (e.into(), 0),
    }
}

fn rest_error(e: RestError) -> (PusherResult, usize) {
    match e {
        RestError::BufferTooSmall(b) => (PusherResult::BufferTooSmall, b.needed),
        e => (e.into(), 0),
    }
}

/// An output buffer and its length out-parameter.
///
/// # Safety
/// The header's pointer rules.
unsafe fn output<'o>(
    out: *mut u8,
    cap: usize,
    len: *mut usize,
) -> Result<(&'o mut [u8], raw::Out<'o, usize>), PusherResult> {
    // SAFETY: forwarded.
    unsafe { Ok((raw::bytes_mut(out, cap)?, raw::out(len)?)) }
}

/// The 32-byte master key, when given.
///
/// # Safety
/// `key` is null or points to 32 readable bytes.
unsafe fn master_key_of<'k>(key: *const u8) -> Option<&'k [u8; 32]> {
    // SAFETY: forwarded; `bytes` of 32 cannot fail for a non-null pointer.
    let bytes = unsafe { raw::bytes(key, 32) }.ok()?;
    bytes.try_into().ok()
}

/// Decodes a base64 encryption master key (`PUSHER_ENCRYPTION_MASTER_KEY_BASE64`) into the
/// 32 bytes at `out`, for `pusher_sign_channel`.
///
/// Returns 0, `PUSHER_RESULT_BAD_SHARED_SECRET` (not base64 of exactly 32 bytes), or an
/// argument error.
///
/// # Safety
/// The header's pointer rules; `out` is 32 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_decode_master_key(b64: PusherStr, out: *mut u8) -> i32 {
    strings!(b64);
    // SAFETY: the caller's contract (raw's module docs).
    let out = match unsafe { raw::bytes_mut(out, 32) } {
        Ok(o) => o,
        Err(e) => return e.code(),
    };
    match pusher_core::auth::decode_master_key(b64) {
        Ok(key) => {
            out.copy_from_slice(&key);
            PusherResult::Ok.code()
        }
        Err(_) => PusherResult::BadSharedSecret.code(),
    }
}

/// Signs the subscription of `socket_id` to a private, presence or encrypted `channel` as an
/// auth endpoint does. Writes the `auth` token into `out` (`key:` and 64 hex digits), followed
/// for an encrypted channel by its shared secret (44 base64 characters, derived from the
/// 32-byte `master_key`, which is NULL for other channels). `channel_data` is required for
/// presence channels (JSON with a `user_id`) and `{NULL, 0}` otherwise. `*auth` and
/// `*shared_secret` (may be NULL) point into `out`; `*len` is the bytes written, or needed.
///
/// Returns 0, `PUSHER_RESULT_BUFFER_TOO_SMALL`, `PUSHER_RESULT_NOT_PROTECTED`,
/// `PUSHER_RESULT_BAD_CHANNEL_DATA`, `PUSHER_RESULT_MISSING_MASTER_KEY`,
/// `PUSHER_RESULT_INVALID_NAME`, or an argument error.
///
/// # Safety
/// The header's pointer rules; `master_key` is NULL or 32 readable bytes.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn pusher_sign_channel(
    key: PusherStr,
    secret: PusherStr,
    master_key: *const u8,
    socket_id: PusherStr,
    channel: PusherStr,
    channel_data: PusherStr,
    out: *mut u8,
    cap: usize,
    len: *mut usize,
    auth: *mut PusherStr,
    shared_secret: *mut PusherStr,
) -> i32 {
    strings!(key, secret, socket_id, channel);
    // SAFETY: the caller's contract (raw's module docs).
    let (channel_data, master, outputs, auth) = unsafe {
        (
            raw::optional_text(channel_data),
            master_key_of(master_key),
            output(out, cap, len),
            raw::out(auth),
        )
    };
    let (channel_data, (out, len), auth) = match (channel_data, outputs, auth) {
        (Ok(d), Ok(o), Ok(a)) => (d, o, a),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return e.code(),
    };
    let (socket, name) = match (SocketId::new(socket_id), ChannelName::new(channel)) {
        (Ok(s), Ok(n)) => (s, n),
        (Err(e), _) | (_, Err(e)) => return PusherResult::from(e).code(),
    };
    let mut signer = LocalSigner::new(Credentials::new(key, secret));
    if let Some(data) = channel_data {
        signer = signer.with_channel_data(data);
    }
    if let Some(m) = master {
        signer = signer.with_encryption_master_key(m);
    }
    let start = out.as_ptr() as usize;
    let r = signer.channel(socket, name, out).map(|grant| {
        auth.put(PusherStr::of(grant.auth));
        if !shared_secret.is_null() {
            let s = PusherStr::of_opt(grant.shared_secret);
            // SAFETY: non-null; the caller's contract for output pointers.
            if let Ok(slot) = unsafe { raw::out(shared_secret) } {
                slot.put(s);
            }
        }
        let end = grant.shared_secret.unwrap_or(grant.auth);
        end.as_ptr() as usize + end.len() - start
    });
    finish(r.map_err(auth_error), len)
}

/// Signs a sign-in of `socket_id` with `user_data` (JSON with a string `id`), as an auth
/// endpoint does: writes the `auth` token into `out`; `*len` is the bytes written, or needed.
///
/// Returns 0, `PUSHER_RESULT_BUFFER_TOO_SMALL`, `PUSHER_RESULT_BAD_USER_DATA`,
/// `PUSHER_RESULT_INVALID_NAME`, or an argument error.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_sign_user(
    key: PusherStr,
    secret: PusherStr,
    socket_id: PusherStr,
    user_data: PusherStr,
    out: *mut u8,
    cap: usize,
    len: *mut usize,
) -> i32 {
    strings!(key, secret, socket_id, user_data);
    // SAFETY: the caller's contract (raw's module docs).
    let (out, len) = match unsafe { output(out, cap, len) } {
        Ok(o) => o,
        Err(e) => return e.code(),
    };
    let socket = match SocketId::new(socket_id) {
        Ok(s) => s,
        Err(e) => return PusherResult::from(e).code(),
    };
    let signer = LocalSigner::new(Credentials::new(key, secret)).with_user_data(user_data);
    let r = signer.user(socket, out).map(|grant| grant.auth.len());
    finish(r.map_err(auth_error), len)
}

/// Most query parameters `pusher_sign_rest` takes besides the signature's own.
pub const PUSHER_MAX_REST_PARAMS: usize = 8;

/// A REST query parameter, unescaped.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PusherParam {
    /// Its name.
    pub key: PusherStr,
    /// Its value.
    pub value: PusherStr,
}

/// Signs a REST API request (auth_version 1.0): writes the query string to send (without `?`,
/// URL-escaped, `auth_key`, `auth_timestamp`, `auth_version`, `body_md5` when there is a body,
/// and `auth_signature` among `params`) into `out`; `*len` is the bytes written, or needed.
/// `path` includes `/apps/{app_id}`; `body` is the exact body (NULL for none); `timestamp` is
/// Unix time in seconds.
///
/// Returns 0, `PUSHER_RESULT_BUFFER_TOO_SMALL`, `PUSHER_RESULT_INVALID_REQUEST`,
/// `PUSHER_RESULT_DUPLICATE_PARAM`, `PUSHER_RESULT_OUT_OF_RANGE` (more than
/// `PUSHER_MAX_REST_PARAMS`), or an argument error.
///
/// # Safety
/// The header's pointer rules; `params` is NULL or `n_params` readable parameters.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn pusher_sign_rest(
    key: PusherStr,
    secret: PusherStr,
    method: PusherStr,
    path: PusherStr,
    params: *const PusherParam,
    n_params: usize,
    body: *const u8,
    body_len: usize,
    timestamp: u64,
    out: *mut u8,
    cap: usize,
    len: *mut usize,
) -> i32 {
    strings!(key, secret, method, path);
    if n_params > PUSHER_MAX_REST_PARAMS {
        return PusherResult::OutOfRange.code();
    }
    if n_params > 0 && params.is_null() {
        return PusherResult::NullPointer.code();
    }
    let mut pairs: [(&str, &str); PUSHER_MAX_REST_PARAMS] = [("", ""); PUSHER_MAX_REST_PARAMS];
    for (i, pair) in pairs.iter_mut().enumerate().take(n_params) {
        // SAFETY: `i < n_params` readable parameters (the caller's contract).
        let p = unsafe { &*params.add(i) };
        // SAFETY: the caller's contract (raw's module docs).
        match unsafe { (raw::text(p.key), raw::text(p.value)) } {
            (Ok(k), Ok(v)) => *pair = (k, v),
            (Err(e), _) | (_, Err(e)) => return e.code(),
        }
    }
    // SAFETY: the caller's contract (raw's module docs).
    let (body, outputs) = unsafe {
        (
            (!body.is_null()).then(|| raw::bytes(body, body_len)),
            output(out, cap, len),
        )
    };
    let body = match body.transpose() {
        Ok(b) => b,
        Err(e) => return e.code(),
    };
    let (out, len) = match outputs {
        Ok(o) => o,
        Err(e) => return e.code(),
    };
    let req = rest::Request {
        method,
        path,
        params: pairs.get(..n_params).unwrap_or(&[]),
        body,
        timestamp,
    };
    let creds = Credentials::new(key, secret);
    let r = rest::write_query(out, &creds, &req).map(str::len);
    finish(r.map_err(rest_error), len)
}

/// Verifies a webhook: the `X-Pusher-Key` and `X-Pusher-Signature` headers against the raw
/// body, in constant time.
///
/// Returns 0 when it is genuine, `PUSHER_RESULT_WEBHOOK_KEY_MISMATCH`,
/// `PUSHER_RESULT_WEBHOOK_MALFORMED_SIGNATURE`, `PUSHER_RESULT_WEBHOOK_BAD_SIGNATURE`, or an
/// argument error.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_verify_webhook(
    key: PusherStr,
    secret: PusherStr,
    key_header: PusherStr,
    signature_header: PusherStr,
    body: *const u8,
    body_len: usize,
) -> i32 {
    strings!(key, secret, key_header, signature_header);
    // SAFETY: the caller's contract (raw's module docs).
    let body = match unsafe { raw::bytes(body, body_len) } {
        Ok(b) => b,
        Err(e) => return e.code(),
    };
    let creds = Credentials::new(key, secret);
    status(webhook::verify(&creds, key_header, signature_header, body))
}
