//! The fault matrix (`adapters/std/tests/common/matrix.rs`) for the tokio driver: the same
//! proxy, faults and checks as for the std driver, with `pusher_tokio::Pusher` on a runtime
//! of its own.

#[path = "../../std/tests/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::matrix::{self, Driver};
use common::{KEY, Log, SECRET};
use pusher_std::auth::LocalSigner;
use pusher_tokio::Pusher;
use pusher_tokio::auth::Blocking;
use tokio_stream::StreamExt;

struct TokioClient {
    log: Log,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Driver for TokioClient {
    fn spawn(options: pusher_std::pusher::Options, channels: &[&str], user: &str) -> Self {
        let log: Log = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        let mut signer = LocalSigner::new(KEY, SECRET);
        signer.channel_data = Some(format!(
            r#"{{"user_id":"{user}","user_info":{{"name":"{user}"}}}}"#
        ));
        let (l, s) = (log.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let p = Pusher::builder(options)
                    .authorizer(Blocking::new(signer))
                    .start();
                let mut events = p.events();
                let mut errors = p.errors();
                let mut states = p.state_changes();
                let mut subscribed = Vec::new();
                for c in &channels {
                    subscribed.push(p.subscribe(c).await.unwrap());
                }
                let push = |line: String| l.lock().unwrap().push(line);
                while !s.load(Ordering::Relaxed) {
                    tokio::select! {
                        Some(e) = events.next() => push(format!(
                            "{} {} {} {}",
                            e.event,
                            e.channel.as_deref().unwrap_or("-"),
                            e.data.as_deref().unwrap_or("-"),
                            e.user_id.as_deref().unwrap_or("-")
                        )),
                        Some(e) = errors.next() => push(format!("error {e}")),
                        Some(st) = states.next() => push(format!("state {st:?}")),
                        _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    }
                }
                p.shutdown().await;
            });
        });
        TokioClient {
            log,
            stop,
            thread: Some(thread),
        }
    }

    fn log(&self) -> &Log {
        &self.log
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for TokioClient {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn reset_mid_frame() {
    matrix::reset_mid_frame::<TokioClient>();
}

#[test]
fn stall_both_ways() {
    matrix::stall_both_ways::<TokioClient>();
}

#[test]
fn swallowed_pongs() {
    matrix::swallowed_pongs::<TokioClient>();
}

#[test]
fn close_4100_backs_off() {
    matrix::close_4100_backs_off::<TokioClient>();
}

#[test]
fn close_4201_reconnects_at_once() {
    matrix::close_4201_reconnects_at_once::<TokioClient>();
}

#[test]
fn refused_connections_for_three_seconds() {
    matrix::refused_connections_for_three_seconds::<TokioClient>();
}

#[test]
fn server_restart() {
    matrix::server_restart::<TokioClient>();
}

#[test]
fn twenty_rapid_faults() {
    matrix::twenty_rapid_faults::<TokioClient>();
}

#[test]
fn trickled_bytes_lose_nothing() {
    matrix::trickled_bytes_lose_nothing::<TokioClient>();
}
