//! The simulated devices: one core client each, in small buffers carved from one arena, all
//! driven by one thread over one `mio` poll (no task, no allocation per device). This is the
//! loop a gateway serving thousands of devices would run.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use pusher_core::client::{Action, Buffers, Client, Config, Event, Instant, State};

/// Channels per device (one: the swarm's channel) and the longest channel name.
pub(crate) type DeviceClient<'a> = Client<'a, 1, 24>;

/// One simulated device.
pub(crate) struct Device<'a> {
    pub(crate) client: DeviceClient<'a>,
    stream: Option<TcpStream>,
    /// The TCP connect is under way (the first writable readiness settles it).
    opening: bool,
    pub(crate) subscribed: bool,
}

/// What the devices saw, for the report.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) connected: usize,
    /// Connections that reached `Connected`, over the run.
    pub(crate) ever_connected: usize,
    pub(crate) subscribed: usize,
    pub(crate) connects: usize,
    /// Disconnect causes, told as the core words them.
    pub(crate) problems: BTreeMap<String, usize>,
}

/// A received stamped event: which device, which event, sent when (monotonic ns).
pub(crate) struct Delivery {
    pub(crate) device: usize,
    pub(crate) index: u32,
    pub(crate) stamp_ns: u64,
}

/// The devices, their poll and their counts.
pub(crate) struct Swarm<'a> {
    pub(crate) devices: Vec<Device<'a>>,
    poll: Poll,
    events: Events,
    /// The ready devices of one poll turn (kept, so a turn allocates nothing).
    ready: Vec<(usize, bool, bool)>,
    server: SocketAddr,
    pub(crate) tally: Tally,
}

impl<'a> Swarm<'a> {
    /// `arena` is split into one `rx + tx` slice per device.
    pub(crate) fn new(
        arena: &'a mut [u8],
        rx: usize,
        tx: usize,
        config: &Config<'a>,
        server: SocketAddr,
        seed: u64,
    ) -> std::io::Result<Swarm<'a>> {
        let devices = arena
            .chunks_exact_mut(rx + tx)
            .enumerate()
            .map(|(i, chunk)| {
                let (rx, tx) = chunk.split_at_mut(rx);
                let buffers = Buffers {
                    rx,
                    tx,
                    presence: &mut [],
                };
                Device {
                    client: Client::new(*config, buffers, seed ^ (i as u64 + 1)),
                    stream: None,
                    opening: false,
                    subscribed: false,
                }
            })
            .collect();
        Ok(Swarm {
            devices,
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            ready: Vec::with_capacity(1024),
            server,
            tally: Tally::default(),
        })
    }

    /// Starts device `i` connecting.
    pub(crate) fn start(&mut self, i: usize, channel: &str, now: Instant) -> Result<(), String> {
        let d = &mut self.devices[i];
        d.client
            .subscribe(channel)
            .map_err(|e| format!("cannot subscribe {channel}: {e}"))?;
        d.client.connect(now);
        self.service(i, now, &mut |_| {});
        Ok(())
    }

    /// Waits up to `timeout_ms` for readiness, then serves every device that has some;
    /// received stamped events go to `deliver`.
    pub(crate) fn turn(
        &mut self,
        timeout_ms: u64,
        now: impl Fn() -> Instant,
        deliver: &mut impl FnMut(Delivery),
    ) -> std::io::Result<()> {
        match self.poll.poll(
            &mut self.events,
            Some(std::time::Duration::from_millis(timeout_ms)),
        ) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        let mut ready = core::mem::take(&mut self.ready);
        ready.clear();
        ready.extend(self.events.iter().map(|e| {
            (
                e.token().0,
                e.is_readable() || e.is_read_closed() || e.is_error(),
                e.is_writable(),
            )
        }));
        let t = now();
        for &(i, readable, writable) in &ready {
            if i >= self.devices.len() {
                continue;
            }
            if writable && self.devices[i].opening {
                self.opened(i, t);
            }
            if readable {
                self.read(i, t, deliver);
            }
            self.service(i, t, deliver);
        }
        self.ready = ready;
        Ok(())
    }

    /// Fires every timer that is due.
    pub(crate) fn timers(&mut self, now: Instant, deliver: &mut impl FnMut(Delivery)) {
        for i in 0..self.devices.len() {
            let due = self.devices[i]
                .client
                .poll_timeout()
                .is_some_and(|t| t <= now);
            if due {
                self.devices[i].client.handle_timeout(now);
                self.service(i, now, deliver);
            }
        }
    }

    /// The TCP connect finished: up, or failed.
    fn opened(&mut self, i: usize, now: Instant) {
        let d = &mut self.devices[i];
        d.opening = false;
        let up = d
            .stream
            .as_ref()
            .is_some_and(|s| matches!(s.take_error(), Ok(None)) && s.peer_addr().is_ok());
        if up {
            d.client.handle_connected(now);
        } else {
            self.close(i, now);
        }
    }

    fn read(&mut self, i: usize, now: Instant, deliver: &mut impl FnMut(Delivery)) {
        loop {
            let d = &mut self.devices[i];
            let Some(stream) = d.stream.as_mut() else {
                return;
            };
            if d.opening {
                return;
            }
            let spare = d.client.rx_buffer();
            if spare.is_empty() {
                // A frame larger than the buffer: the core reports it and closes.
                self.drain(i, deliver);
                if self.devices[i].client.rx_buffer().is_empty() {
                    return;
                }
                continue;
            }
            match stream.read(spare) {
                Ok(0) => {
                    self.close(i, now);
                    return;
                }
                Ok(n) => {
                    d.client.commit_rx(n, now);
                    self.drain(i, deliver);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.close(i, now);
                    return;
                }
            }
        }
    }

    /// Everything the client wants done: actions, bytes to send, events.
    fn service(&mut self, i: usize, now: Instant, deliver: &mut impl FnMut(Delivery)) {
        for _ in 0..4 {
            let mut progressed = false;
            while let Some(action) = self.devices[i].client.poll_action() {
                progressed = true;
                match action {
                    Action::Open { .. } => self.open(i, now),
                    Action::Close => self.close(i, now),
                }
            }
            let d = &mut self.devices[i];
            if let (Some(stream), false) = (d.stream.as_mut(), d.opening) {
                while let Some(out) = d.client.poll_transmit() {
                    match stream.write(out) {
                        Ok(0) => break,
                        Ok(n) => {
                            d.client.consume_tx(n);
                            progressed = true;
                        }
                        // Writable readiness comes back when there is room.
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(_) => {
                            self.close(i, now);
                            break;
                        }
                    }
                }
            }
            progressed |= self.drain(i, deliver);
            if !progressed {
                break;
            }
        }
    }

    fn open(&mut self, i: usize, now: Instant) {
        self.tally.connects += 1;
        let result = TcpStream::connect(self.server).and_then(|mut s| {
            self.poll.registry().register(
                &mut s,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            Ok(s)
        });
        let d = &mut self.devices[i];
        match result {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                d.stream = Some(s);
                d.opening = true;
            }
            Err(e) => {
                *self
                    .tally
                    .problems
                    .entry(format!("TCP connect: {e}"))
                    .or_default() += 1;
                d.client.handle_closed(now);
            }
        }
    }

    fn close(&mut self, i: usize, now: Instant) {
        let d = &mut self.devices[i];
        if let Some(mut s) = d.stream.take() {
            let _ = self.poll.registry().deregister(&mut s);
            d.opening = false;
            d.client.handle_closed(now);
        }
    }

    /// Polls every event of device `i`; whether there was any.
    fn drain(&mut self, i: usize, deliver: &mut impl FnMut(Delivery)) -> bool {
        let mut any = false;
        let d = &mut self.devices[i];
        while let Some(ev) = d.client.poll_event() {
            any = true;
            match ev {
                Event::StateChanged { previous, current } => {
                    if current == State::Connected {
                        self.tally.connected += 1;
                        self.tally.ever_connected += 1;
                    } else if previous == State::Connected {
                        self.tally.connected -= 1;
                    }
                }
                Event::Subscribed { .. } if !d.subscribed => {
                    d.subscribed = true;
                    self.tally.subscribed += 1;
                }
                Event::Disconnected { problem, .. } => {
                    if d.subscribed {
                        d.subscribed = false;
                        self.tally.subscribed -= 1;
                    }
                    *self.tally.problems.entry(problem.to_string()).or_default() += 1;
                }
                Event::Error { code, message } => {
                    let code = code.map_or(String::new(), |c| format!(" {c}"));
                    *self
                        .tally
                        .problems
                        .entry(format!("pusher:error{code} {:?}", message.raw()))
                        .or_default() += 1;
                }
                Event::Message {
                    data: Some(data), ..
                } => {
                    if let Some((index, stamp_ns)) = stamp(data) {
                        deliver(Delivery {
                            device: i,
                            index,
                            stamp_ns,
                        });
                    }
                }
                _ => {}
            }
        }
        any
    }
}

/// The sender's stamp, `{"i":INDEX,"t":MONOTONIC_NS}`.
pub(crate) fn stamp(data: &str) -> Option<(u32, u64)> {
    let number = |key: &str| -> Option<u64> {
        let at = data.find(key)? + key.len();
        let digits = data.get(at..)?;
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        digits.get(..end)?.parse().ok()
    };
    Some((u32::try_from(number("\"i\":")?).ok()?, number("\"t\":")?))
}

#[cfg(test)]
mod tests {
    use super::stamp;

    #[test]
    fn stamps_are_read_back() {
        assert_eq!(stamp(r#"{"i":7,"t":123456789}"#), Some((7, 123456789)));
        assert_eq!(stamp(r#"{"t":5,"i":0}"#), Some((0, 5)));
        assert_eq!(stamp(r#"{"i":"x"}"#), None);
        assert_eq!(stamp("no"), None);
    }
}
