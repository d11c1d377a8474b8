//! An owned channel event (the `heapless` feature): copied out of the client's receive
//! buffer, with its capacities in its type, so the network task can hand it through a
//! channel (an `embassy-sync` `Channel`, say) to another task while the client reads on.

use core::fmt;

use super::event::EventData;

/// A channel event that owns its bytes. `N` bounds the event name, channel and user id
/// (Pusher's channel names take up to 164), `D` the data.
///
/// ```
/// use pusher_core::client::{EventData, OwnedEvent};
/// let ev = EventData { event: "reading", channel: Some("sensors"), data: Some(r#"{"t":21.5}"#), user_id: None };
/// let owned: OwnedEvent<64, 256> = OwnedEvent::copy_of(&ev)?;
/// // ... sent to another task, which reads it back as it came:
/// assert_eq!(owned.as_data(), ev);
/// # Ok::<(), pusher_core::client::OwnedEventError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OwnedEvent<const N: usize = 164, const D: usize = 1024> {
    /// Event name.
    pub event: heapless::String<N>,
    /// Channel, if any.
    pub channel: Option<heapless::String<N>>,
    /// Payload, as [`EventData::data`].
    pub data: Option<heapless::String<D>>,
    /// Sender's user id (client events on presence channels).
    pub user_id: Option<heapless::String<N>>,
}

/// Which field did not fit an [`OwnedEvent`]'s capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OwnedEventError {
    /// `event`, `channel`, `data` or `user_id`.
    pub field: &'static str,
    /// Its length.
    pub len: usize,
    /// The capacity it had to fit.
    pub capacity: usize,
}

impl fmt::Display for OwnedEventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event {} of {} bytes does not fit its capacity of {}",
            self.field, self.len, self.capacity
        )
    }
}

impl core::error::Error for OwnedEventError {}

fn copy<const C: usize>(
    field: &'static str,
    s: &str,
) -> Result<heapless::String<C>, OwnedEventError> {
    let mut out = heapless::String::new();
    out.push_str(s).map_err(|_| OwnedEventError {
        field,
        len: s.len(),
        capacity: C,
    })?;
    Ok(out)
}

impl<const N: usize, const D: usize> OwnedEvent<N, D> {
    /// Copies an event; a field longer than its capacity is an error, never cut.
    pub fn copy_of(ev: &EventData<'_>) -> Result<Self, OwnedEventError> {
        Ok(OwnedEvent {
            event: copy("event", ev.event)?,
            channel: ev.channel.map(|c| copy("channel", c)).transpose()?,
            data: ev.data.map(|d| copy("data", d)).transpose()?,
            user_id: ev.user_id.map(|u| copy("user_id", u)).transpose()?,
        })
    }

    /// The event as handlers see it (borrowing this one).
    pub fn as_data(&self) -> EventData<'_> {
        EventData {
            event: &self.event,
            channel: self.channel.as_deref(),
            data: self.data.as_deref(),
            user_id: self.user_id.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_over_capacity_are_refused_not_cut() {
        let ev = EventData {
            event: "e",
            channel: Some("private-c"),
            data: Some("0123456789"),
            user_id: Some("u"),
        };
        assert_eq!(
            OwnedEvent::<16, 4>::copy_of(&ev),
            Err(OwnedEventError {
                field: "data",
                len: 10,
                capacity: 4
            })
        );
        let owned = OwnedEvent::<16, 10>::copy_of(&ev).unwrap();
        assert_eq!(owned.as_data(), ev);
        assert_eq!(
            OwnedEvent::<4, 10>::copy_of(&ev).unwrap_err().field,
            "channel"
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn owned_events_decode_typed_in_another_task() {
        #[derive(serde::Deserialize)]
        struct Reading<'a> {
            unit: &'a str,
            temp: f32,
        }
        let ev = EventData {
            event: "reading",
            channel: Some("sensors"),
            data: Some(r#"{"unit":"\u00b0C","temp":-4.5}"#),
            user_id: None,
        };
        let owned: OwnedEvent = OwnedEvent::copy_of(&ev).unwrap();
        let handle = std::thread::spawn(move || {
            let mut scratch = [0u8; 64];
            let r: Reading = owned.as_data().json(&mut scratch).unwrap();
            (std::string::String::from(r.unit), r.temp)
        });
        assert_eq!(handle.join().unwrap(), ("°C".into(), -4.5));
    }
}
