//! The driver: one loop that moves bytes between a transport and the sans-IO client. No
//! protocol logic lives here; it only performs the client's actions, writes what it asks,
//! reads with a timeout up to its next deadline, and reports time.

use std::time::{Duration, Instant};

use embedded_io::{Error as _, ErrorKind, Read as _, Write as _};
use pusher_core::client::{self, Action, Client};

/// A byte stream the driver can use: `embedded_io` read and write plus a read timeout (so a
/// blocking read wakes up for the client's next deadline).
pub trait Stream: embedded_io::Read + embedded_io::Write {
    /// Bounds how long the next read may block.
    fn set_read_timeout(&mut self, timeout: Duration) -> Result<(), Self::Error>;
}

/// Opens transports when the client asks for one.
pub trait Connect {
    /// The stream it makes.
    type Stream: Stream;
    /// Opens a connection, with TLS when `tls`.
    fn connect(&mut self, tls: bool) -> std::io::Result<Self::Stream>;
}

/// Drives a [`Client`] over streams from a [`Connect`]or.
pub struct Driver<'a, C: Connect, const CHANNELS: usize = 8, const NAME: usize = 48> {
    client: Client<'a, CHANNELS, NAME>,
    connector: C,
    stream: Option<C::Stream>,
    epoch: Instant,
    connect_error: Option<std::io::Error>,
}

impl<'a, C: Connect, const CHANNELS: usize, const NAME: usize> Driver<'a, C, CHANNELS, NAME> {
    /// A driver for `client`, opening transports with `connector`.
    pub fn new(client: Client<'a, CHANNELS, NAME>, connector: C) -> Self {
        Driver {
            client,
            connector,
            stream: None,
            epoch: Instant::now(),
            connect_error: None,
        }
    }

    /// The client (subscribe, trigger, answer auth, poll events).
    pub fn client(&mut self) -> &mut Client<'a, CHANNELS, NAME> {
        &mut self.client
    }

    /// The client's clock: milliseconds since the driver was made.
    pub fn now(&self) -> client::Instant {
        client::Instant::from_millis(
            u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX),
        )
    }

    /// Why the last connection attempt failed, once (the client reports the attempt as a
    /// lost transport; this is the cause).
    pub fn take_connect_error(&mut self) -> Option<std::io::Error> {
        self.connect_error.take()
    }

    /// Whether a transport is open.
    pub fn is_open(&self) -> bool {
        self.stream.is_some()
    }

    /// Performs the client's pending actions, sends what it queued, then waits up to
    /// `max_wait` (or the client's next deadline) for bytes and handles a due timeout. Call
    /// `poll_event` on the client after each step until it returns `None`.
    pub fn step(&mut self, max_wait: Duration) {
        self.act();
        self.flush();
        let now = self.now();
        let wait = self
            .client
            .poll_timeout()
            .map(|t| Duration::from_millis(t.as_millis().saturating_sub(now.as_millis())))
            .map_or(max_wait, |d| d.min(max_wait))
            .max(Duration::from_millis(1));
        match self.stream.as_mut() {
            None => std::thread::sleep(wait),
            Some(stream) => {
                let spare = self.client.rx_buffer();
                if spare.is_empty() {
                    // A frame larger than the buffer: `poll_event` reports it and closes.
                    return;
                }
                let read = stream
                    .set_read_timeout(wait)
                    .and_then(|()| stream.read(spare));
                let now = clock(self.epoch);
                match read {
                    Ok(0) => self.lost("closed by peer"),
                    Ok(n) => {
                        log::trace!(
                            "<< {}",
                            String::from_utf8_lossy(spare.get(..n).unwrap_or(&[]))
                        );
                        self.client.commit_rx(n, now)
                    }
                    Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                    Err(e) => {
                        log::debug!("read failed: {:?}", e.kind());
                        self.lost("read failed");
                    }
                }
            }
        }
        let now = self.now();
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        // Sends what the timeout queued (a ping); a transport it asks to open or close waits
        // for the next step, so each step makes at most one attempt and the caller polls its
        // events in between (the client's event queue is short, and one connect error is
        // kept per attempt).
        self.flush();
    }

    fn act(&mut self) {
        while let Some(action) = self.client.poll_action() {
            let now = self.now();
            match action {
                Action::Open { tls } => match self.connector.connect(tls) {
                    Ok(stream) => {
                        log::debug!("transport open (tls: {tls})");
                        self.connect_error = None;
                        self.stream = Some(stream);
                        self.client.handle_connected(now);
                    }
                    Err(e) => {
                        log::debug!("connect failed: {e}");
                        self.connect_error = Some(e);
                        self.client.handle_closed(now);
                    }
                },
                Action::Close => {
                    self.flush();
                    self.stream = None;
                    self.client.handle_closed(self.now());
                }
            }
        }
    }

    fn flush(&mut self) {
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        let mut failed = false;
        while let Some(out) = self.client.poll_transmit() {
            match stream.write(out) {
                Ok(0) => {
                    failed = true;
                    break;
                }
                Ok(n) => {
                    log::trace!(">> {} bytes (masked)", n);
                    self.client.consume_tx(n)
                }
                Err(e) => {
                    log::debug!("write failed: {:?}", e.kind());
                    failed = true;
                    break;
                }
            }
        }
        if !failed && stream.flush().is_err() {
            failed = true;
        }
        if failed {
            self.lost("write failed");
        }
    }

    fn lost(&mut self, why: &str) {
        log::debug!("transport lost: {why}");
        self.stream = None;
        self.client.handle_closed(self.now());
    }
}

/// Milliseconds since `epoch` as the client's clock.
fn clock(epoch: Instant) -> client::Instant {
    client::Instant::from_millis(u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX))
}
