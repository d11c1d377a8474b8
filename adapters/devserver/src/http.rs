//! HTTP on one port, as soketi does: WebSocket upgrades on `/app/{key}` and the REST API
//! beside them. hyper does HTTP/1.1 (keep-alive, chunked bodies, the header timeout that
//! stops a slow-loris upgrade); the core computes the upgrade's accept key and does the rest.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use pusher_core::wire::handshake::accept_for;
use tokio::net::TcpListener;

use crate::Shared;
use crate::rest;
use crate::socket;

/// Accepts connections until the listener fails or the runtime stops.
pub async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(_) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        shared
            .accepted
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let shared = shared.clone();
        tokio::spawn(async move {
            let svc = {
                let shared = shared.clone();
                service_fn(move |req| route(req, shared.clone()))
            };
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(shared.cfg.header_timeout)
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
                .await;
        });
    }
}

async fn route(
    req: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let wants_upgrade = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if wants_upgrade {
        return Ok(upgrade(req, shared));
    }
    if req.uri().path().starts_with("/app/") {
        return Ok(plain(
            StatusCode::UPGRADE_REQUIRED,
            "This is a WebSocket endpoint: connect with a Pusher client",
        ));
    }
    Ok(rest::handle(req, shared).await)
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *res.status_mut() = status;
    res
}

fn has_token(req: &Request<Incoming>, name: header::HeaderName, token: &str) -> bool {
    req.headers().get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// Answers an upgrade with 101 and serves the WebSocket once hyper hands the socket over.
fn upgrade(mut req: Request<Incoming>, shared: Arc<Shared>) -> Response<Full<Bytes>> {
    let key = req
        .headers()
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| k.as_bytes().to_vec())
        .filter(|k| k.len() == 24);
    let version_ok = req
        .headers()
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v.as_bytes() == b"13");
    let get = req.method() == hyper::Method::GET;
    let (Some(key), true, true, true) = (
        key,
        version_ok,
        get,
        has_token(&req, header::CONNECTION, "upgrade"),
    ) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "A WebSocket upgrade needs GET, Connection: Upgrade, Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key",
        );
    };
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            socket::run(TokioIo::new(upgraded), shared, target).await;
        }
    });
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = res.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_bytes(&accept_for(&key)) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    res
}
