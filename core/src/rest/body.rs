//! Request bodies: a trigger to up to 100 channels, and a batch of up to 10 events.

use super::error::RestError;
use super::limits::{MAX_BATCH_EVENTS, MAX_DATA_LEN, MAX_TRIGGER_CHANNELS};
use crate::buf::Writer;
use crate::name::{ChannelName, EventName, SocketId};
use crate::wire::json::write_string;

/// An event for a batch trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchEvent<'a> {
    /// The channel.
    pub channel: ChannelName<'a>,
    /// The event name.
    pub event: EventName<'a>,
    /// The data string (JSON text, usually).
    pub data: &'a str,
    /// A socket to exclude from delivery.
    pub socket_id: Option<SocketId<'a>>,
    /// `info` attributes to return (`user_count,subscription_count`).
    pub info: Option<&'a str>,
}

/// Writes the body of `POST /apps/{id}/events`: `{"name","data","channels","socket_id"?,"info"?}`.
pub fn write_trigger_body(
    out: &mut [u8],
    channels: &[ChannelName<'_>],
    event: EventName<'_>,
    data: &str,
    socket_id: Option<SocketId<'_>>,
    info: Option<&str>,
) -> Result<usize, RestError> {
    if channels.is_empty() {
        return Err(RestError::NoChannels);
    }
    if channels.len() > MAX_TRIGGER_CHANNELS {
        return Err(RestError::TooManyChannels);
    }
    if data.len() > MAX_DATA_LEN {
        return Err(RestError::DataTooLarge);
    }
    if channels.iter().any(|c| c.kind().is_encrypted()) {
        return Err(RestError::EncryptedChannel);
    }
    event_body(out, channels, event, data, socket_id, info)
}

/// `{"name","data","channels","socket_id"?,"info"?}`, the inputs already checked.
fn event_body(
    out: &mut [u8],
    channels: &[ChannelName<'_>],
    event: EventName<'_>,
    data: &str,
    socket_id: Option<SocketId<'_>>,
    info: Option<&str>,
) -> Result<usize, RestError> {
    let mut w = Writer::new(out);
    w.push_str(r#"{"name":"#);
    write_string(&mut w, event.as_str());
    w.push_str(r#","data":"#);
    write_string(&mut w, data);
    w.push_str(r#","channels":["#);
    for (i, c) in channels.iter().enumerate() {
        if i > 0 {
            w.push_byte(b',');
        }
        write_string(&mut w, c.as_str());
    }
    w.push_byte(b']');
    optional_fields(&mut w, socket_id, info);
    w.push_byte(b'}');
    Ok(w.finish_len()?)
}

/// Writes the body of a trigger to an encrypted channel (`private-encrypted-`): `plaintext`
/// sealed with the channel's shared secret (SHA-256 of the name and `master_key`) under
/// `nonce` (24 random bytes, never reused), as `{"nonce","ciphertext"}` data; the channel
/// is the trigger's only one, as the official libraries require. `scratch` holds the sealed
/// bytes and their JSON: `plaintext.len() * 3 + 128` bytes suffice.
#[cfg(feature = "encryption")]
#[allow(clippy::too_many_arguments)]
pub fn write_encrypted_trigger_body(
    out: &mut [u8],
    scratch: &mut [u8],
    channel: ChannelName<'_>,
    event: EventName<'_>,
    plaintext: &str,
    master_key: &[u8; 32],
    nonce: &[u8; 24],
    socket_id: Option<SocketId<'_>>,
    info: Option<&str>,
) -> Result<usize, RestError> {
    if !channel.kind().is_encrypted() {
        return Err(RestError::EncryptedChannel);
    }
    let secret = crate::auth::shared_secret(channel, master_key);
    let sealed_len = plaintext.len() + 16;
    let needed = sealed_len + sealed_len.div_ceil(3) * 4 + 64;
    let (sealed, json) =
        scratch
            .split_at_mut_checked(sealed_len)
            .ok_or(RestError::BufferTooSmall(crate::buf::BufferTooSmall {
                needed,
            }))?;
    let data = crate::encrypted::encrypt(&secret, nonce, plaintext, sealed, json)
        .map_err(|_| RestError::BufferTooSmall(crate::buf::BufferTooSmall { needed }))?;
    if data.len() > MAX_DATA_LEN {
        return Err(RestError::DataTooLarge);
    }
    event_body(out, &[channel], event, data, socket_id, info)
}

fn optional_fields(w: &mut Writer<'_>, socket_id: Option<SocketId<'_>>, info: Option<&str>) {
    if let Some(s) = socket_id {
        w.push_str(r#","socket_id":"#);
        write_string(w, s.as_str());
    }
    if let Some(i) = info {
        w.push_str(r#","info":"#);
        write_string(w, i);
    }
}

/// Writes the body of `POST /apps/{id}/batch_events`.
pub fn write_batch_body(out: &mut [u8], events: &[BatchEvent<'_>]) -> Result<usize, RestError> {
    if events.is_empty() || events.len() > MAX_BATCH_EVENTS {
        return Err(RestError::BatchSize);
    }
    let mut w = Writer::new(out);
    w.push_str(r#"{"batch":["#);
    for (i, e) in events.iter().enumerate() {
        if e.data.len() > MAX_DATA_LEN {
            return Err(RestError::DataTooLarge);
        }
        if e.channel.kind().is_encrypted() {
            return Err(RestError::EncryptedChannel);
        }
        if i > 0 {
            w.push_byte(b',');
        }
        w.push_str(r#"{"channel":"#);
        write_string(&mut w, e.channel.as_str());
        w.push_str(r#","name":"#);
        write_string(&mut w, e.event.as_str());
        w.push_str(r#","data":"#);
        write_string(&mut w, e.data);
        optional_fields(&mut w, e.socket_id, e.info);
        w.push_byte(b'}');
    }
    w.push_str("]}");
    Ok(w.finish_len()?)
}
