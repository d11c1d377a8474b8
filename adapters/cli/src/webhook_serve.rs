//! `pusher webhook serve`: an HTTP endpoint on loopback that verifies each webhook POST
//! (`X-Pusher-Key`, `X-Pusher-Signature` against the raw body) and prints its events as they
//! arrive (channel occupied/vacated, member added/removed, client events, ...). A refused
//! webhook is answered 401 and printed with the reason.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use pusher_std::rest::{Config, Rest};

use crate::{json, out};

#[derive(Args)]
#[command(after_help = "Example:
  pusher webhook serve --port 8000 --url \"$PUSHER_URL\"
  pusher serve --webhook http://127.0.0.1:8000/    # in another terminal: the dev server posts here")]
pub(crate) struct WebhookServe {
    /// `http(s)://KEY:SECRET@HOST[:PORT]/apps/APP_ID` (only the key and secret are used).
    #[arg(long, env = "PUSHER_URL")]
    url: Option<String>,
    /// App key.
    #[arg(long, env = "PUSHER_KEY")]
    key: Option<String>,
    /// App secret.
    #[arg(long, env = "PUSHER_SECRET")]
    secret: Option<String>,
    /// Also accept webhooks signed with this `KEY:SECRET` (key rotation; repeatable).
    #[arg(long = "also-accept")]
    also_accept: Vec<String>,
    /// Port on 127.0.0.1 (0 picks a free one, printed first).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Stop after this many events from verified webhooks.
    #[arg(long)]
    count: Option<usize>,
    /// Stop after this many seconds (non-zero exit if --count events had not come).
    #[arg(long)]
    seconds: Option<u64>,
}

/// Largest body accepted.
const MAX_BODY: usize = 1024 * 1024;

pub(crate) fn run(a: &WebhookServe) -> Result<(), String> {
    let mut config = match (&a.url, &a.key, &a.secret) {
        (_, Some(key), Some(secret)) => Config::new("0", key, secret),
        (Some(url), _, _) => Config::from_url(url).map_err(|e| e.to_string())?,
        _ => return Err(
            "--url, or --key and --secret (or PUSHER_URL, PUSHER_KEY, PUSHER_SECRET), is required"
                .into(),
        ),
    };
    for pair in &a.also_accept {
        let (k, s) = pair
            .split_once(':')
            .ok_or(format!("--also-accept {pair:?}: expected KEY:SECRET"))?;
        config.webhook_keys.push((k.to_owned(), s.to_owned()));
    }
    let rest = Arc::new(Rest::new(config).map_err(|e| e.to_string())?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let limit = std::time::Duration::from_secs(a.seconds.unwrap_or(u64::MAX / 4));
    match runtime
        .block_on(async { tokio::time::timeout(limit, serve(rest, a.port, a.count)).await })
    {
        Ok(done) => done,
        Err(_) if a.count.is_some() => Err(format!(
            "fewer than {} events in {} s",
            a.count.unwrap_or(0),
            a.seconds.unwrap_or(0)
        )),
        Err(_) => Ok(()),
    }
}

async fn serve(rest: Arc<Rest>, port: u16, count: Option<usize>) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("127.0.0.1:{port}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("listening for webhooks on http://{addr}/");
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
    let mut verified = 0usize;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (rest, done) = (rest.clone(), done_tx.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(req, rest.clone(), done.clone()));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
            Some(events) = done_rx.recv() => {
                verified += events;
                if count.is_some_and(|n| verified >= n) || out::gone() {
                    return Ok(());
                }
            }
        }
    }
}

fn answer(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(text.to_owned())));
    *r.status_mut() = status;
    r
}

async fn handle(
    req: Request<Incoming>,
    rest: Arc<Rest>,
    done: tokio::sync::mpsc::UnboundedSender<usize>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() != Method::POST {
        return Ok(answer(
            StatusCode::METHOD_NOT_ALLOWED,
            "webhooks are POSTed\n",
        ));
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (key, signature) = (header("x-pusher-key"), header("x-pusher-signature"));
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            eprintln!("webhook body not read: {e}");
            return Ok(answer(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n"));
        }
    };
    match rest.webhook(&key, &signature, &body) {
        Ok((time_ms, events)) => {
            eprintln!("valid webhook, time_ms {time_ms}, {} events", events.len());
            for e in &events {
                out::line(&json::webhook_line(e));
            }
            let _ = done.send(events.len());
            Ok(answer(StatusCode::OK, "ok\n"))
        }
        Err(e) => {
            out::line(
                &serde_json::json!({"name": "webhook_refused", "reason": e.to_string()})
                    .to_string(),
            );
            Ok(answer(StatusCode::UNAUTHORIZED, &format!("{e}\n")))
        }
    }
}
