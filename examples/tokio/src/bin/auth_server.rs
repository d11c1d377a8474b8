//! An auth endpoint on axum for browsers (pusher-js) and devices: it signs private and
//! presence channels and user sign-ins with the app secret, which never leaves the server.
//!
//! `auth_server PORT` with `PUSHER_URL=http://KEY:SECRET@HOST/apps/ID`; the user is named by
//! the `X-User` header (a real app takes it from its session).
//!
//! `POST /pusher/auth` (form: `socket_id`, `channel_name`) and `POST /pusher/user-auth` (form:
//! `socket_id`), as pusher-js sends them.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use pusher_std::rest::{Config, Rest};

#[derive(serde::Deserialize)]
struct ChannelForm {
    socket_id: String,
    channel_name: String,
}

#[derive(serde::Deserialize)]
struct UserForm {
    socket_id: String,
}

/// The signed-in user (`None`: refuse with 403).
fn user(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
}

fn who_are_you() -> Response {
    (StatusCode::FORBIDDEN, "who are you? (X-User)").into_response()
}

fn json(result: Result<String, pusher_std::rest::Error>) -> Response {
    match result {
        Ok(body) => ([("content-type", "application/json")], body).into_response(),
        Err(e) => (StatusCode::FORBIDDEN, e.to_string()).into_response(),
    }
}

async fn channel_auth(
    State(rest): State<Arc<Rest>>,
    headers: HeaderMap,
    Form(form): Form<ChannelForm>,
) -> Response {
    let Some(user) = user(&headers) else {
        return who_are_you();
    };
    // Presence members are the signed-in user; private channels need only the signature.
    let channel_data = form.channel_name.starts_with("presence-").then(|| {
        let id = serde_json_string(&user);
        format!(r#"{{"user_id":{id},"user_info":{{"name":{id}}}}}"#)
    });
    json(rest.authorize_channel(&form.socket_id, &form.channel_name, channel_data.as_deref()))
}

async fn user_auth(
    State(rest): State<Arc<Rest>>,
    headers: HeaderMap,
    Form(form): Form<UserForm>,
) -> Response {
    let Some(user) = user(&headers) else {
        return who_are_you();
    };
    let user_data = format!(r#"{{"id":{}}}"#, serde_json_string(&user));
    json(rest.authenticate_user(&form.socket_id, &user_data))
}

/// A JSON string literal (quotes and escapes).
fn serde_json_string(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "3000".into())
        .parse()?;
    let rest = Arc::new(Rest::new(Config::from_env()?)?);
    let app = Router::new()
        .route("/pusher/auth", post(channel_auth))
        .route("/pusher/user-auth", post(user_auth))
        .with_state(rest);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "auth endpoint on http://{}/pusher/auth",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
