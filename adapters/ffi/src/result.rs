//! Error codes: one `int32_t` per call, `0` for success, negative for each failure, with a
//! static text from `pusher_strerror`. The core's per-operation error enums map onto them.

use core::ffi::c_char;

use pusher_core::BufferTooSmall;
use pusher_core::NameError;
use pusher_core::auth::AuthError;
use pusher_core::client::ClientError;
use pusher_core::rest::RestError;
use pusher_core::webhook::WebhookError;

/// What a call returned. Functions that poll return `1` when they wrote an output, `0` when
/// there was none, and one of these (negative) on misuse.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PusherResult {
    /// Success.
    Ok = 0,
    /// A pointer that must not be null was null (or a string had a length but no pointer).
    NullPointer = -1,
    /// A string is not valid UTF-8.
    InvalidUtf8 = -2,
    /// An output buffer is too small; the function's `len` output says how large it must be.
    BufferTooSmall = -3,
    /// The client handle was not initialized by `pusher_client_init` (or was overwritten).
    NotInitialized = -4,
    /// The client memory is not aligned to `pusher_client_align()`.
    Misaligned = -5,
    /// A length or count is out of range (more bytes committed than the receive buffer
    /// offered, more consumed than was pending, too many parameters, a bad config value).
    OutOfRange = -6,
    /// An invalid channel, event, socket or user name.
    InvalidName = -7,
    /// Channel names starting with `#` are the client's own.
    ReservedChannel = -8,
    /// The channel table is full, or the name is longer than `PUSHER_MAX_CHANNEL_NAME`.
    NoChannelSlot = -9,
    /// The channel is not in the table.
    UnknownChannel = -10,
    /// Not connected (no socket id yet).
    NotConnected = -11,
    /// The answer was computed for another socket id (the connection changed meanwhile).
    StaleSocketId = -12,
    /// The channel is not waiting for auth (or sign-in is not).
    NotAwaitingAuth = -13,
    /// Presence channels need `channel_data`, a JSON object with a `user_id`.
    BadChannelData = -14,
    /// An encrypted channel's shared secret is not base64 of 32 bytes.
    BadSharedSecret = -15,
    /// `user_data` must be a JSON object with a non-empty string `id`.
    BadUserData = -16,
    /// Client events need a subscribed private or presence channel (not encrypted).
    ClientEventsNotAllowed = -17,
    /// The channel is not subscribed yet.
    NotSubscribed = -18,
    /// More client events than the per-second limit.
    RateLimited = -19,
    /// A payload declared as JSON is not valid JSON.
    InvalidJson = -20,
    /// The transmit buffer is full: send what `pusher_poll_transmit` holds first.
    TransmitBufferFull = -21,
    /// Public channels are not signed.
    NotProtected = -22,
    /// Only presence channels take `channel_data`.
    UnexpectedChannelData = -23,
    /// Encrypted channels need the encryption master key.
    MissingMasterKey = -24,
    /// Invalid REST method or path, or a query parameter name.
    InvalidRequest = -25,
    /// Two REST parameters with the same key, or one the signature sets itself.
    DuplicateParam = -26,
    /// `X-Pusher-Key` does not match the app key.
    WebhookKeyMismatch = -27,
    /// `X-Pusher-Signature` is not 64 hex digits.
    WebhookMalformedSignature = -28,
    /// `X-Pusher-Signature` does not match the body.
    WebhookBadSignature = -29,
    /// Presence channels need the presence member store.
    PresenceDisabled = -30,
    /// Encrypted channels are not built into this library (its `encryption` feature).
    EncryptionDisabled = -31,
    /// A failure this version has no code for.
    Other = -99,
}

impl PusherResult {
    /// The code as returned through the ABI.
    pub(crate) fn code(self) -> i32 {
        self as i32
    }

    /// A static, NUL-terminated description.
    fn text(self) -> &'static core::ffi::CStr {
        match self {
            PusherResult::Ok => c"ok",
            PusherResult::NullPointer => c"a required pointer is null",
            PusherResult::InvalidUtf8 => c"a string is not valid UTF-8",
            PusherResult::BufferTooSmall => c"output buffer too small",
            PusherResult::NotInitialized => c"client not initialized by pusher_client_init",
            PusherResult::Misaligned => c"client memory not aligned to pusher_client_align()",
            PusherResult::OutOfRange => c"length or count out of range",
            PusherResult::InvalidName => c"invalid channel, event, socket or user name",
            PusherResult::ReservedChannel => c"channel names starting with # are reserved",
            PusherResult::NoChannelSlot => c"channel table full or channel name too long",
            PusherResult::UnknownChannel => c"channel not subscribed",
            PusherResult::NotConnected => c"not connected",
            PusherResult::StaleSocketId => c"answer is for another socket id",
            PusherResult::NotAwaitingAuth => c"nothing is waiting for this auth answer",
            PusherResult::BadChannelData => c"channel_data must be JSON with a user_id",
            PusherResult::BadSharedSecret => c"shared secret is not base64 of 32 bytes",
            PusherResult::BadUserData => c"user_data must be JSON with a string id",
            PusherResult::ClientEventsNotAllowed => {
                c"client events need a private or presence channel"
            }
            PusherResult::NotSubscribed => c"channel not subscribed yet",
            PusherResult::RateLimited => c"client event rate limit reached",
            PusherResult::InvalidJson => c"payload is not valid JSON",
            PusherResult::TransmitBufferFull => c"transmit buffer full",
            PusherResult::NotProtected => c"public channels are not signed",
            PusherResult::UnexpectedChannelData => c"only presence channels take channel_data",
            PusherResult::MissingMasterKey => c"encrypted channels need the master key",
            PusherResult::InvalidRequest => c"invalid REST method, path or parameter",
            PusherResult::DuplicateParam => c"duplicate or reserved REST parameter",
            PusherResult::WebhookKeyMismatch => c"X-Pusher-Key does not match the app key",
            PusherResult::WebhookMalformedSignature => c"X-Pusher-Signature is not 64 hex digits",
            PusherResult::WebhookBadSignature => c"X-Pusher-Signature does not match the body",
            PusherResult::PresenceDisabled => c"presence channels are not built in",
            PusherResult::EncryptionDisabled => c"encrypted channels are not built in",
            PusherResult::Other => c"unexpected failure",
        }
    }

    const ALL: [PusherResult; 33] = [
        PusherResult::Ok,
        PusherResult::NullPointer,
        PusherResult::InvalidUtf8,
        PusherResult::BufferTooSmall,
        PusherResult::NotInitialized,
        PusherResult::Misaligned,
        PusherResult::OutOfRange,
        PusherResult::InvalidName,
        PusherResult::ReservedChannel,
        PusherResult::NoChannelSlot,
        PusherResult::UnknownChannel,
        PusherResult::NotConnected,
        PusherResult::StaleSocketId,
        PusherResult::NotAwaitingAuth,
        PusherResult::BadChannelData,
        PusherResult::BadSharedSecret,
        PusherResult::BadUserData,
        PusherResult::ClientEventsNotAllowed,
        PusherResult::NotSubscribed,
        PusherResult::RateLimited,
        PusherResult::InvalidJson,
        PusherResult::TransmitBufferFull,
        PusherResult::NotProtected,
        PusherResult::UnexpectedChannelData,
        PusherResult::MissingMasterKey,
        PusherResult::InvalidRequest,
        PusherResult::DuplicateParam,
        PusherResult::WebhookKeyMismatch,
        PusherResult::WebhookMalformedSignature,
        PusherResult::WebhookBadSignature,
        PusherResult::PresenceDisabled,
        PusherResult::EncryptionDisabled,
        PusherResult::Other,
    ];
}

impl From<NameError> for PusherResult {
    fn from(_: NameError) -> Self {
        PusherResult::InvalidName
    }
}

impl From<BufferTooSmall> for PusherResult {
    fn from(_: BufferTooSmall) -> Self {
        PusherResult::BufferTooSmall
    }
}

impl From<ClientError> for PusherResult {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Name(_) => PusherResult::InvalidName,
            ClientError::ReservedChannel => PusherResult::ReservedChannel,
            ClientError::NoChannelSlot => PusherResult::NoChannelSlot,
            ClientError::UnknownChannel => PusherResult::UnknownChannel,
            ClientError::NotConnected => PusherResult::NotConnected,
            ClientError::StaleSocketId => PusherResult::StaleSocketId,
            ClientError::NotAwaitingAuth => PusherResult::NotAwaitingAuth,
            ClientError::BadChannelData => PusherResult::BadChannelData,
            ClientError::BadSharedSecret => PusherResult::BadSharedSecret,
            ClientError::BadUserData => PusherResult::BadUserData,
            ClientError::ClientEventsNotAllowed => PusherResult::ClientEventsNotAllowed,
            ClientError::NotSubscribed => PusherResult::NotSubscribed,
            ClientError::RateLimited { .. } => PusherResult::RateLimited,
            ClientError::InvalidJson | ClientError::Unserializable => PusherResult::InvalidJson,
            ClientError::PresenceDisabled => PusherResult::PresenceDisabled,
            ClientError::EncryptionDisabled => PusherResult::EncryptionDisabled,
            ClientError::BufferFull(_) => PusherResult::TransmitBufferFull,
            _ => PusherResult::Other,
        }
    }
}

impl From<AuthError> for PusherResult {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::BufferTooSmall(_) => PusherResult::BufferTooSmall,
            AuthError::MissingChannelData | AuthError::InvalidChannelData => {
                PusherResult::BadChannelData
            }
            AuthError::UnexpectedChannelData => PusherResult::UnexpectedChannelData,
            AuthError::InvalidUserData => PusherResult::BadUserData,
            AuthError::MissingMasterKey => PusherResult::MissingMasterKey,
            AuthError::NotProtected => PusherResult::NotProtected,
            _ => PusherResult::Other,
        }
    }
}

impl From<RestError> for PusherResult {
    fn from(e: RestError) -> Self {
        match e {
            RestError::BufferTooSmall(_) => PusherResult::BufferTooSmall,
            RestError::InvalidRequestLine | RestError::InvalidParamKey => {
                PusherResult::InvalidRequest
            }
            RestError::DuplicateParam | RestError::ReservedParam => PusherResult::DuplicateParam,
            _ => PusherResult::Other,
        }
    }
}

impl From<WebhookError> for PusherResult {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::KeyMismatch => PusherResult::WebhookKeyMismatch,
            WebhookError::MalformedSignature => PusherResult::WebhookMalformedSignature,
            WebhookError::BadSignature => PusherResult::WebhookBadSignature,
            _ => PusherResult::Other,
        }
    }
}

/// `0` for `Ok(())`, the error's code otherwise.
pub(crate) fn status<E: Into<PusherResult>>(r: Result<(), E>) -> i32 {
    match r {
        Ok(()) => PusherResult::Ok.code(),
        Err(e) => e.into().code(),
    }
}

/// `0` for `Ok(())`, the code of the client's error otherwise (each operation's error enum
/// converts into `ClientError`).
pub(crate) fn client_status<E: Into<ClientError>>(r: Result<(), E>) -> i32 {
    status(r.map_err(Into::into))
}

/// A static, NUL-terminated English description of a code any function returned (`"ok"` for
/// `0` and `1`, `"unknown error code"` for codes this version does not know). Never null.
#[unsafe(no_mangle)]
pub extern "C" fn pusher_strerror(code: i32) -> *const c_char {
    if code == 1 {
        return c"ok".as_ptr();
    }
    PusherResult::ALL
        .iter()
        .find(|r| r.code() == code)
        .map_or(c"unknown error code", |r| r.text())
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_text() {
        for (i, a) in PusherResult::ALL.iter().enumerate() {
            for b in &PusherResult::ALL[i + 1..] {
                assert_ne!(a.code(), b.code());
                assert_ne!(a.text(), b.text());
            }
            let text = unsafe { core::ffi::CStr::from_ptr(pusher_strerror(a.code())) };
            assert_eq!(text, a.text());
        }
        let unknown = unsafe { core::ffi::CStr::from_ptr(pusher_strerror(-12345)) };
        assert_eq!(unknown, c"unknown error code");
    }
}
