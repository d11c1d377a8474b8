//! One WebSocket connection, after the upgrade: admission (app key, protocol version,
//! capacity), then one loop that reads client frames with the core's reader, sends what the
//! hub queued, and keeps the connection alive (ping after `activity_timeout` of silence,
//! 4201 when the pong does not come).

use std::io;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use pusher_core::server::ClientMessage;
use pusher_core::wire::ws::{MAX_HEADER_LEN, Opcode, Reader, Role, WsError, parse_close};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::Shared;
use crate::activity::Activity;
use crate::config::Compat;
use crate::frames;
use crate::hub::ConnId;
use crate::outbox::{Out, outbox};

/// The protocol versions spoken (pusher-js sends 7).
const PROTOCOLS: std::ops::RangeInclusive<u32> = 4..=7;

/// Each connection's receive buffer starts this small (Pusher messages are mostly well under
/// a kilobyte) and grows to the largest message allowed when one needs it: idle connections
/// cost little.
const FIRST_BUFFER: usize = 1024;

/// Checks what the upgrade request asked for; `Err` is the close code and reason.
fn admission(shared: &Shared, target: &str) -> Result<(), (u16, String)> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some(key) = path.strip_prefix("/app/") else {
        return Err((4005, format!("Path not found: {path}")));
    };
    if key != shared.cfg.key {
        return Err((
            4001,
            format!("Application does not exist: unknown app key '{key}'"),
        ));
    }
    let protocol = query.split('&').find_map(|kv| kv.strip_prefix("protocol="));
    match protocol.map(str::parse::<u32>) {
        None => Err((4008, "No protocol version supplied".into())),
        Some(Err(_)) => Err((4006, "Invalid version string format".into())),
        Some(Ok(v)) if !PROTOCOLS.contains(&v) => {
            Err((4007, format!("Unsupported protocol version {v}")))
        }
        Some(Ok(_)) => Ok(()),
    }
}

fn client_of(target: &str) -> String {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let get = |k: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
            .unwrap_or("?")
    };
    format!("client {} {}", get("client"), get("version"))
}

/// Serves one upgraded connection until it ends.
pub async fn run<IO>(io: IO, shared: Arc<Shared>, target: String)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let (mut rd, mut wr) = tokio::io::split(io);
    let compat = shared.cfg.compat;
    let refuse = |code: u16, reason: String| {
        shared.observe(Activity::Refused {
            code,
            reason: reason.clone(),
        });
        let mut bytes = frames::error(compat, Some(code), &reason).to_vec();
        bytes.extend_from_slice(&frames::close(code, &reason));
        bytes
    };
    if let Err((code, reason)) = admission(&shared, &target) {
        let _ = wr.write_all(&refuse(code, reason)).await;
        return;
    }
    let (out, inbox) = outbox(shared.cfg.max_queued_bytes);
    let admitted = shared.hub().connect(out);
    let (id, socket_id) = match admitted {
        Ok(a) => a,
        Err(_) => {
            let code = if compat == Compat::Reverb { 4004 } else { 4100 };
            let _ = wr.write_all(&refuse(code, "Over capacity".into())).await;
            return;
        }
    };
    shared.observe(Activity::Connected {
        socket_id: socket_id.clone(),
        client: client_of(&target),
    });
    let timeout = shared
        .cfg
        .activity_timeout
        .as_secs()
        .clamp(1, u64::from(u32::MAX)) as u32;
    let mut session = Session {
        id,
        shared: shared.clone(),
        reader: Reader::new(vec![0u8; FIRST_BUFFER], Role::Server, compat.max_message()),
        scratch: Vec::new(),
        pending: vec![frames::connection_established(&socket_id, timeout)],
        last_heard: Instant::now(),
        pinged: None,
        control_pings: false,
    };
    let (code, reason) = session.serve(&mut rd, &mut wr, inbox).await;
    shared.hub().disconnect(id);
    shared.observe(Activity::Disconnected {
        socket_id,
        code,
        reason,
    });
}

struct Session {
    id: ConnId,
    shared: Arc<Shared>,
    reader: Reader<Vec<u8>>,
    /// Room for `ClientMessage::decode` (twice the message).
    scratch: Vec<u8>,
    /// Frames to write before waiting again.
    pending: Vec<Bytes>,
    last_heard: Instant,
    /// When the server's ping went out, while it waits for the answer.
    pinged: Option<Instant>,
    /// Reverb pings with control frames once the client has sent one.
    control_pings: bool,
}

/// What woke the connection up.
enum Wake {
    Read(io::Result<usize>),
    Queued(Option<Out>),
    Timer,
}

/// How a connection ended: the close code (if any) and why.
type Ending = (Option<u16>, String);

impl Session {
    async fn serve<R, W>(
        &mut self,
        rd: &mut R,
        wr: &mut W,
        mut inbox: crate::outbox::Inbox,
    ) -> Ending
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        loop {
            for frame in self.pending.drain(..) {
                if let Err(e) = wr.write_all(&frame).await {
                    return (None, format!("write failed: {e}"));
                }
            }
            let deadline = match self.pinged {
                Some(at) => at + self.shared.cfg.pong_timeout,
                None => self.last_heard + self.shared.cfg.activity_timeout,
            };
            let wake = tokio::select! {
                r = rd.read(self.reader.spare()) => Wake::Read(r),
                q = inbox.recv() => Wake::Queued(q),
                _ = tokio::time::sleep_until(deadline.into()) => Wake::Timer,
            };
            let ending = match wake {
                Wake::Read(Ok(0)) => Some((None, "the client closed the TCP connection".into())),
                Wake::Read(Err(e)) => Some((None, format!("read failed: {e}"))),
                Wake::Read(Ok(n)) => {
                    self.reader.commit(n);
                    self.last_heard = Instant::now();
                    self.pinged = None;
                    self.read_messages()
                }
                Wake::Queued(Some(Out::Frame(f))) => {
                    self.pending.push(f);
                    None
                }
                Wake::Queued(Some(Out::Close(f))) => {
                    let code = parse_close(&f[2..]).ok().flatten().map(|c| c.code);
                    let reason = "closed by the server".to_owned();
                    self.pending.push(f);
                    Some((code, reason))
                }
                Wake::Queued(None) => Some((None, "server stopped".into())),
                Wake::Timer => self.on_timer(),
            };
            if let Some(ending) = ending {
                for frame in self.pending.drain(..) {
                    let _ = wr.write_all(&frame).await;
                }
                let _ = wr.flush().await;
                let _ = wr.shutdown().await;
                return ending;
            }
        }
    }

    fn on_timer(&mut self) -> Option<Ending> {
        let compat = self.shared.cfg.compat;
        if self.pinged.is_some() {
            let reason = "Pong reply not received";
            if compat == Compat::Reverb {
                self.pending.push(frames::error(compat, Some(4201), reason));
            }
            self.pending.push(frames::close(4201, reason));
            return Some((Some(4201), reason.into()));
        }
        self.pending.push(if self.control_pings {
            frames::control(Opcode::Ping, b"")
        } else {
            frames::heartbeat(compat, false)
        });
        self.pinged = Some(Instant::now());
        None
    }

    /// Handles every complete message received; `Some` ends the connection.
    fn read_messages(&mut self) -> Option<Ending> {
        loop {
            let full = self.shared.cfg.compat.max_message() + MAX_HEADER_LEN;
            let ready = match self.reader.next_message() {
                Ok(Some(r)) => r,
                Ok(None) => return None,
                // The buffer, not the limit, was too small: grow it and read again.
                Err(WsError::MessageTooLarge { .. }) if self.reader.buffer_mut().len() < full => {
                    self.reader.buffer_mut().resize(full, 0);
                    continue;
                }
                Err(e) => return Some(self.protocol_error(e)),
            };
            match ready.opcode {
                Opcode::Text => {
                    let len = self.reader.payload(ready).len();
                    if self.scratch.len() < 2 * len {
                        self.scratch.resize(2 * len, 0);
                    }
                    let text = std::str::from_utf8(self.reader.payload(ready)).unwrap_or("");
                    handle_text(&self.shared, self.id, text, &mut self.scratch);
                }
                Opcode::Binary | Opcode::Continuation => {
                    let reason = "Binary messages are not supported";
                    self.pending.push(frames::close(1003, reason));
                    return Some((Some(1003), reason.into()));
                }
                Opcode::Ping => {
                    self.control_pings = true;
                    let payload = self.reader.payload(ready).to_vec();
                    self.pending.push(frames::control(Opcode::Pong, &payload));
                }
                Opcode::Pong => self.control_pings = true,
                Opcode::Close => {
                    let close = parse_close(self.reader.payload(ready)).ok().flatten();
                    let (code, reason) =
                        close.map_or((1000, String::new()), |c| (c.code, c.reason.to_owned()));
                    self.pending.push(frames::close(code, ""));
                    let why = if reason.is_empty() {
                        "closed by the client".to_owned()
                    } else {
                        format!("closed by the client: {reason}")
                    };
                    return Some((Some(code), why));
                }
            }
        }
    }

    fn protocol_error(&mut self, e: WsError) -> Ending {
        let reason = e.to_string();
        self.pending.push(frames::close(e.close_code(), &reason));
        (Some(e.close_code()), reason)
    }
}

/// Decodes one client message and does what it asks, under the hub's lock.
fn handle_text(shared: &Shared, id: ConnId, text: &str, scratch: &mut [u8]) {
    let compat = shared.cfg.compat;
    let message = ClientMessage::decode(text, scratch);
    let mut hub = shared.hub();
    match message {
        Ok(ClientMessage::Subscribe {
            channel,
            auth,
            channel_data,
        }) => hub.subscribe(id, channel, auth, channel_data),
        Ok(ClientMessage::Unsubscribe { channel }) => hub.unsubscribe(id, channel.as_str()),
        Ok(ClientMessage::Ping) => hub.pong(id),
        Ok(ClientMessage::Pong) => {}
        Ok(ClientMessage::Signin { auth, user_data }) => hub.signin(id, auth, user_data),
        Ok(ClientMessage::ClientEvent {
            event,
            channel,
            data,
            ..
        }) => hub.client_event(id, event, channel, data),
        Ok(ClientMessage::Unknown { event }) => {
            hub.error(id, None, &format!("Unsupported event received: {event}"))
        }
        Ok(_) => {}
        Err(e) if compat == Compat::Reverb => {
            let _ = e;
            hub.error(id, Some(4200), "Invalid message format")
        }
        Err(e) => hub.error(id, None, &format!("Invalid message: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn shared(key: &str) -> Shared {
        Shared::new(Config::default().credentials("1", key, "s"), None)
    }

    #[test]
    fn admission_checks_key_path_and_protocol() {
        let s = shared("k");
        assert_eq!(admission(&s, "/app/k?protocol=7&client=js"), Ok(()));
        assert_eq!(admission(&s, "/app/x?protocol=7").unwrap_err().0, 4001);
        assert_eq!(admission(&s, "/socket?protocol=7").unwrap_err().0, 4005);
        assert_eq!(admission(&s, "/app/k").unwrap_err().0, 4008);
        assert_eq!(admission(&s, "/app/k?protocol=seven").unwrap_err().0, 4006);
        assert_eq!(admission(&s, "/app/k?protocol=9").unwrap_err().0, 4007);
        assert_eq!(
            client_of("/app/k?protocol=7&client=js&version=8.4"),
            "client js 8.4"
        );
    }
}
