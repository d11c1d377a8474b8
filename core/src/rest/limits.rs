//! The limits Pusher enforces on a trigger, checked before anything is sent.

/// Most channels one trigger may name.
pub const MAX_TRIGGER_CHANNELS: usize = 100;
/// Most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 10;
/// Largest event `data`, in bytes.
pub const MAX_DATA_LEN: usize = 10 * 1024;
