//! What the app asks of a connected client: subscriptions, answers to auth and sign-in
//! requests, client events.

use pusher_core::auth::Credentials;
use pusher_core::wire::message::Payload;

use crate::client::{PusherClient, with};
use crate::raw::{self, PusherStr};
use crate::result::{PusherResult, client_status};

/// Checks the strings, then runs `f` on the client with them.
macro_rules! call {
    ($client:expr, [$($s:ident),*], [$($o:ident),*], |$c:ident| $body:expr) => {{
        // SAFETY: the caller's contract (raw's module docs): each string is readable for the
        // call, the handle is checked by `with`.
        unsafe {
            $( let $s = match raw::text($s) { Ok(s) => s, Err(e) => return e.code() }; )*
            $( let $o = match raw::optional_text($o) { Ok(s) => s, Err(e) => return e.code() }; )*
            with($client, |$c| $body)
        }
    }};
}

/// Subscribes to a channel (now, or as soon as connected; kept across reconnects). A
/// protected channel is announced by a `PUSHER_EVENT_KIND_AUTH_REQUIRED` event.
///
/// Returns 0, `PUSHER_RESULT_INVALID_NAME`, `PUSHER_RESULT_RESERVED_CHANNEL`,
/// `PUSHER_RESULT_NO_CHANNEL_SLOT` (table full, or the name is over `PUSHER_MAX_CHANNEL_NAME`),
/// `PUSHER_RESULT_INVALID_UTF8`, `PUSHER_RESULT_NULL_POINTER` or a handle error.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_subscribe(client: *mut PusherClient, channel: PusherStr) -> i32 {
    call!(client, [channel], [], |c| client_status(
        c.subscribe(channel)
    ))
}

/// Unsubscribes (and forgets the channel).
///
/// Returns 0, `PUSHER_RESULT_UNKNOWN_CHANNEL` or an argument or handle error.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_unsubscribe(client: *mut PusherClient, channel: PusherStr) -> i32 {
    call!(client, [channel], [], |c| client_status(
        c.unsubscribe(channel)
    ))
}

/// Answers an auth request with what an auth endpoint returned: `auth` (`key:signature`), and
/// for presence channels `channel_data` (`{NULL, 0}` otherwise).
///
/// Returns 0, `PUSHER_RESULT_NOT_AWAITING_AUTH`, `PUSHER_RESULT_STALE_SOCKET_ID` (the
/// connection changed: wait for the new request), `PUSHER_RESULT_BAD_CHANNEL_DATA`,
/// `PUSHER_RESULT_TRANSMIT_BUFFER_FULL`, or an argument or handle error.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_provide_auth(
    client: *mut PusherClient,
    channel: PusherStr,
    socket_id: PusherStr,
    auth: PusherStr,
    channel_data: PusherStr,
) -> i32 {
    call!(client, [channel, socket_id, auth], [channel_data], |c| {
        client_status(c.provide_auth(channel, socket_id, auth, channel_data))
    })
}

/// Answers an encrypted channel's auth request: `auth` and the endpoint's `shared_secret`
/// (base64 of 32 bytes). Also the answer to a re-key request while subscribed.
///
/// Returns as `pusher_provide_auth`, plus `PUSHER_RESULT_BAD_SHARED_SECRET`, and
/// `PUSHER_RESULT_ENCRYPTION_DISABLED` when the library is built without encrypted channels.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_provide_encrypted_auth(
    client: *mut PusherClient,
    channel: PusherStr,
    socket_id: PusherStr,
    auth: PusherStr,
    shared_secret: PusherStr,
) -> i32 {
    call!(client, [channel, socket_id, auth, shared_secret], [], |c| {
        #[cfg(feature = "encryption")]
        {
            client_status(c.provide_encrypted_auth(channel, socket_id, auth, shared_secret))
        }
        #[cfg(not(feature = "encryption"))]
        {
            let _ = (c, channel, socket_id, auth, shared_secret);
            PusherResult::EncryptionDisabled.code()
        }
    })
}

/// Answers an auth request by signing on the device with the app's key and secret (for
/// trusted devices and tests; others ask an auth endpoint). Presence channels need
/// `channel_data`. Not for encrypted channels (they need the master key: see
/// `pusher_shared_secret` and `pusher_provide_encrypted_auth`).
///
/// Returns as `pusher_provide_auth`.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_authorize_locally(
    client: *mut PusherClient,
    channel: PusherStr,
    key: PusherStr,
    secret: PusherStr,
    channel_data: PusherStr,
) -> i32 {
    call!(client, [channel, key, secret], [channel_data], |c| {
        let creds = Credentials::new(key, secret);
        client_status(c.authorize_locally(channel, &creds, channel_data))
    })
}

/// Reports that auth for a channel could not be had: `status` is the auth endpoint's HTTP
/// status, or -1 when it did not answer. The channel gets a
/// `PUSHER_EVENT_KIND_SUBSCRIPTION_ERROR` and is asked again after the next reconnect.
///
/// Returns 0, `PUSHER_RESULT_OUT_OF_RANGE` (status not -1 nor 0-65535), or as
/// `pusher_provide_auth`.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_auth_failed(
    client: *mut PusherClient,
    channel: PusherStr,
    socket_id: PusherStr,
    status_code: i32,
) -> i32 {
    let code = match status_code {
        -1 => None,
        s => match u16::try_from(s) {
            Ok(s) => Some(s),
            Err(_) => return PusherResult::OutOfRange.code(),
        },
    };
    call!(client, [channel, socket_id], [], |c| {
        client_status(c.auth_failed(channel, socket_id, code))
    })
}

/// Sends a client event (`client-` name) on a subscribed private or presence channel, within
/// the configured rate. `data` is sent as JSON when `data_is_json` (it must be one JSON
/// value), else as a JSON string.
///
/// Returns 0, `PUSHER_RESULT_NOT_CONNECTED`, `PUSHER_RESULT_NOT_SUBSCRIBED`,
/// `PUSHER_RESULT_CLIENT_EVENTS_NOT_ALLOWED`, `PUSHER_RESULT_RATE_LIMITED`,
/// `PUSHER_RESULT_INVALID_JSON`, `PUSHER_RESULT_TRANSMIT_BUFFER_FULL`, or an argument or handle
/// error.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_trigger(
    client: *mut PusherClient,
    channel: PusherStr,
    event: PusherStr,
    data: PusherStr,
    data_is_json: bool,
) -> i32 {
    call!(client, [channel, event, data], [], |c| {
        let payload = if data_is_json {
            Payload::Json(data)
        } else {
            Payload::Text(data)
        };
        client_status(c.trigger(channel, event, payload))
    })
}

/// Asks to sign in as a user once connected (and after every reconnect): a
/// `PUSHER_EVENT_KIND_SIGNIN_REQUIRED` event follows.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_signin(client: *mut PusherClient) -> i32 {
    call!(client, [], [], |c| {
        c.signin();
        0
    })
}

/// Answers a sign-in request with an auth endpoint's `auth` and `user_data`.
///
/// Returns 0, `PUSHER_RESULT_NOT_CONNECTED`, `PUSHER_RESULT_STALE_SOCKET_ID`,
/// `PUSHER_RESULT_BAD_USER_DATA`, `PUSHER_RESULT_NO_CHANNEL_SLOT`,
/// `PUSHER_RESULT_TRANSMIT_BUFFER_FULL`, or an argument or handle error.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_provide_user_auth(
    client: *mut PusherClient,
    socket_id: PusherStr,
    auth: PusherStr,
    user_data: PusherStr,
) -> i32 {
    call!(client, [socket_id, auth, user_data], [], |c| {
        client_status(c.provide_user_auth(socket_id, auth, user_data))
    })
}

/// Signs in by signing on the device with the app's key and secret.
///
/// Returns as `pusher_provide_user_auth`.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_signin_locally(
    client: *mut PusherClient,
    key: PusherStr,
    secret: PusherStr,
    user_data: PusherStr,
) -> i32 {
    call!(client, [key, secret, user_data], [], |c| {
        let creds = Credentials::new(key, secret);
        client_status(c.signin_locally(&creds, user_data))
    })
}

/// Reports that sign-in could not be had for this socket id (asked again after a reconnect).
///
/// Returns 0, `PUSHER_RESULT_NOT_AWAITING_AUTH`, `PUSHER_RESULT_STALE_SOCKET_ID`, or an
/// argument or handle error.
///
/// # Safety
/// The header's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pusher_signin_failed(
    client: *mut PusherClient,
    socket_id: PusherStr,
) -> i32 {
    call!(client, [socket_id], [], |c| client_status(
        c.signin_failed(socket_id)
    ))
}
