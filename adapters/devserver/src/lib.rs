//! A Pusher Channels server for development, tests and bench devices, built on the core's
//! server role: one loopback port for WebSocket clients and the REST API, real signature
//! checks, presence, cache, encrypted (opaque) and user channels, client events, sign-in and
//! watchlists, webhooks, Pusher's limits and error codes, and the quirks of soketi and Reverb
//! on request ([`Compat`]).
//!
//! It is not a production server: one process, state in memory, no cluster. Production
//! traffic goes to Pusher, or to soketi, sockudo or Reverb scaled out with their adapters.
//!
//! ```
//! use pusher_dev_server::{Config, DevServer};
//! let server = DevServer::start(Config::default())?;
//! assert!(server.ws_url().starts_with("ws://127.0.0.1:"));
//! println!("key {} secret {} app {}", server.key(), server.secret(), server.app_id());
//! // Stops when dropped.
//! # Ok::<(), pusher_dev_server::StartError>(())
//! ```

#![forbid(unsafe_code)]

mod activity;
mod config;
mod frames;
mod http;
mod hub;
mod outbox;
mod rest;
mod socket;
mod webhooks;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

pub use activity::{Activity, Observer};
pub use config::{Compat, Config};
pub use webhooks::BadWebhookUrl;

/// What every connection task shares.
pub(crate) struct Shared {
    cfg: Arc<config::Config>,
    hub: Mutex<hub::Hub>,
    observer: Option<Observer>,
    /// TCP connections accepted since the start (HTTP and WebSocket alike).
    accepted: std::sync::atomic::AtomicUsize,
}

impl Shared {
    #[cfg(test)]
    fn new(cfg: Config, observer: Option<Observer>) -> Shared {
        Self::with_hooks(Arc::new(cfg), observer, None)
    }

    fn with_hooks(
        cfg: Arc<Config>,
        observer: Option<Observer>,
        hooks: Option<tokio::sync::mpsc::UnboundedSender<webhooks::HookEvent>>,
    ) -> Shared {
        Shared {
            hub: Mutex::new(hub::Hub::new(cfg.clone(), observer.clone(), hooks)),
            cfg,
            observer,
            accepted: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The hub, locked. A panic while it was held cannot leave it half-changed in a way
    /// that matters more than stopping would, so a poisoned lock is taken over.
    fn hub(&self) -> MutexGuard<'_, hub::Hub> {
        self.hub.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn observe(&self, activity: Activity) {
        if let Some(o) = &self.observer {
            o(&activity);
        }
    }
}

/// Why a server did not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The address could not be bound (in use, not permitted).
    Bind(SocketAddr, std::io::Error),
    /// The runtime could not be created.
    Runtime(std::io::Error),
    /// The webhook URL is not one the server can post to.
    Webhook(BadWebhookUrl),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            StartError::Runtime(e) => write!(f, "cannot start the server's runtime: {e}"),
            StartError::Webhook(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Bind(_, e) | StartError::Runtime(e) => Some(e),
            StartError::Webhook(e) => Some(e),
        }
    }
}

/// A running server on its own threads; stops when dropped.
pub struct DevServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl DevServer {
    /// Starts a server (on a free port of 127.0.0.1 with the default config).
    pub fn start(config: Config) -> Result<DevServer, StartError> {
        Self::start_observed(config, None)
    }

    /// Starts a server that reports everything that happens to `observer`.
    pub fn start_observed(
        config: Config,
        observer: Option<Observer>,
    ) -> Result<DevServer, StartError> {
        let target = config
            .webhook_url
            .as_deref()
            .map(webhooks::Target::parse)
            .transpose()
            .map_err(StartError::Webhook)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.worker_threads.max(1))
            .thread_name("pusher-dev-server")
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let listener = {
            let _guard = runtime.enter();
            listen(config.listen).map_err(|e| StartError::Bind(config.listen, e))?
        };
        let addr = listener
            .local_addr()
            .map_err(|e| StartError::Bind(config.listen, e))?;
        let cfg = Arc::new(config);
        let shared = runtime.block_on(async {
            let hooks = target.map(|t| webhooks::spawn(cfg.clone(), t, observer.clone()));
            Arc::new(Shared::with_hooks(cfg.clone(), observer, hooks))
        });
        shared.observe(Activity::Listening {
            addr: addr.to_string(),
        });
        runtime.spawn(http::accept(listener, shared.clone()));
        Ok(DevServer {
            addr,
            shared,
            runtime: Some(runtime),
        })
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The host clients connect to.
    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// The URL a client connects to (`ws://127.0.0.1:PORT/app/KEY?protocol=7`).
    pub fn ws_url(&self) -> String {
        format!("ws://{}/app/{}?protocol=7", self.addr, self.shared.cfg.key)
    }

    /// The base of the REST API (`http://127.0.0.1:PORT`).
    pub fn rest_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The app id.
    pub fn app_id(&self) -> &str {
        &self.shared.cfg.app_id
    }

    /// The app key.
    pub fn key(&self) -> &str {
        &self.shared.cfg.key
    }

    /// The app secret.
    pub fn secret(&self) -> &str {
        &self.shared.cfg.secret
    }

    /// The config it runs with.
    pub fn config(&self) -> &Config {
        &self.shared.cfg
    }

    /// How many TCP connections it has accepted since it started, HTTP and WebSocket alike
    /// (to see whether a client reuses its connections).
    pub fn accepted_connections(&self) -> usize {
        self.shared
            .accepted
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many WebSocket connections are open now.
    pub fn connections(&self) -> usize {
        self.shared.hub().connections()
    }

    /// Stops the server: every connection is dropped at once, and the port is free again
    /// when this returns (called outside an async runtime).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(rt) = self.runtime.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                // Inside another runtime a blocking wait is not allowed.
                rt.shutdown_background();
            } else {
                // Waits until every task is dropped, so the port is free when this returns.
                rt.shutdown_timeout(std::time::Duration::from_secs(2));
            }
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A listener with a backlog for many clients connecting at once (std's is 128).
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

impl fmt::Debug for DevServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevServer")
            .field("addr", &self.addr)
            .field("compat", &self.shared.cfg.compat)
            .finish_non_exhaustive()
    }
}
