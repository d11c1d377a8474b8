//! A connection's outgoing queue, bounded by bytes: a client that stops reading is closed
//! (4100) instead of growing the server's memory without end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::frames;

/// What the connection task is asked to do.
#[derive(Debug)]
pub enum Out {
    /// Send this frame.
    Frame(Bytes),
    /// Send this close frame and end the connection.
    Close(Bytes),
}

/// The sending side, kept by the hub.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Out>,
    queued: Arc<AtomicUsize>,
    closed: Arc<AtomicBool>,
    limit: usize,
}

/// The receiving side, kept by the connection task.
#[derive(Debug)]
pub struct Inbox {
    rx: mpsc::UnboundedReceiver<Out>,
    queued: Arc<AtomicUsize>,
}

/// A queue that holds at most `limit` bytes of frames.
pub fn outbox(limit: usize) -> (Outbox, Inbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicBool::new(false));
    (
        Outbox {
            tx,
            queued: queued.clone(),
            closed,
            limit,
        },
        Inbox { rx, queued },
    )
}

impl Outbox {
    /// Queues a frame; a client over its limit is closed with 4100 instead.
    pub fn send(&self, frame: Bytes) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        let len = frame.len();
        if self.queued.fetch_add(len, Ordering::Relaxed) + len > self.limit {
            self.close(4100, "Over capacity: the client does not read its messages");
            return;
        }
        let _ = self.tx.send(Out::Frame(frame));
    }

    /// Closes the connection with `code` once the frames before it are sent.
    pub fn close(&self, code: u16, reason: &str) {
        if !self.closed.swap(true, Ordering::Relaxed) {
            let _ = self.tx.send(Out::Close(frames::close(code, reason)));
        }
    }
}

impl Inbox {
    /// The next thing to do; `None` when every sender is gone.
    pub async fn recv(&mut self) -> Option<Out> {
        let out = self.rx.recv().await?;
        if let Out::Frame(f) = &out {
            self.queued.fetch_sub(f.len(), Ordering::Relaxed);
        }
        Some(out)
    }
}

#[cfg(test)]
impl Inbox {
    /// Everything queued so far (for tests).
    pub fn drain(&mut self) -> Vec<Out> {
        let mut all = Vec::new();
        while let Ok(out) = self.rx.try_recv() {
            all.push(out);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_that_does_not_read_is_closed_not_buffered_forever() {
        let (tx, mut rx) = outbox(100);
        for _ in 0..10 {
            tx.send(Bytes::from(vec![0u8; 30]));
        }
        let mut frames = 0;
        loop {
            match rx.recv().await.unwrap() {
                Out::Frame(_) => frames += 1,
                Out::Close(c) => {
                    assert_eq!(u16::from_be_bytes([c[2], c[3]]), 4100);
                    break;
                }
            }
        }
        assert_eq!(frames, 3);
    }
}
