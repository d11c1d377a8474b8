//! Lines to stdout that never panic: when the reader goes away (`pusher listen | head`),
//! writing stops, [`gone`] says so, and the command ends quietly.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static GONE: AtomicBool = AtomicBool::new(false);

/// Prints one line (flushed, for pipes).
pub(crate) fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
        GONE.store(true, Ordering::Relaxed);
    }
}

/// Whether stdout is closed.
pub(crate) fn gone() -> bool {
    GONE.load(Ordering::Relaxed)
}
