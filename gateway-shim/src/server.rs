//! The WebSocket server of the stream protocol (docs/protocol.md), plus `/health`, `/status`
//! and, with `site` set, the dashboard's static files on the same port.
//!
//! Security: the Origin header (sent by every browser) must be in the allowlist or the server's
//! own origin; when a token is set, every client presents it (`Authorization: Bearer`, the
//! `token` query parameter, or an `auth` frame within 5 s), compared in constant time.

use crate::hub::{Catchup, Hub, Update};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use llmscope_protocol::{ClientFrame, Sample, ServerFrame};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// Samples per `batch` frame, at most.
const BATCH: usize = 1000;
/// How long a client has to send its `auth` frame.
const AUTH_WAIT: Duration = Duration::from_secs(5);

/// Who may connect, and what else is served.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Shared token, if any.
    pub token: Option<String>,
    /// Allowed browser origins.
    pub origins: Vec<String>,
    /// Static site to serve.
    pub site: Option<PathBuf>,
}

#[derive(Clone)]
struct App {
    hub: Arc<Hub>,
    options: Arc<Options>,
    shutdown: CancellationToken,
}

/// Serves until `shutdown` is cancelled.
pub async fn serve(
    listener: tokio::net::TcpListener,
    hub: Arc<Hub>,
    options: Options,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let site = options.site.clone();
    let app = App {
        hub,
        options: Arc::new(options),
        shutdown: shutdown.clone(),
    };
    let mut router = Router::new()
        .route("/ws", get(websocket))
        .route("/status", get(status))
        .route(
            "/health",
            get(|| async { Json(serde_json::json!({"ok": true})) }),
        );
    if let Some(site) = site {
        router = router.fallback_service(tower_http::services::ServeDir::new(site));
    }
    axum::serve(listener, router.with_state(app))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

/// Constant-time comparison, so a wrong token's timing says nothing about the right one.
fn same_token(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}

fn reject(code: StatusCode, why: &str) -> Response {
    (code, Json(serde_json::json!({"error": why}))).into_response()
}

/// The Origin check: absent (not a browser), our own, or in the allowlist.
fn origin_allowed(headers: &HeaderMap, options: &Options) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let own = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"));
    own.as_deref() == Some(origin) || options.origins.iter().any(|o| o == origin)
}

/// The token from the header or the query, if any was given.
fn presented_token<'a>(
    headers: &'a HeaderMap,
    query: &'a HashMap<String, String>,
) -> Option<&'a str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .or(query.get("token").map(String::as_str))
}

async fn status(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !origin_allowed(&headers, &app.options) {
        return reject(StatusCode::FORBIDDEN, "origin not allowed");
    }
    if let Some(expected) = &app.options.token {
        if !presented_token(&headers, &query).is_some_and(|t| same_token(t, expected)) {
            return reject(StatusCode::UNAUTHORIZED, "a valid token is required");
        }
    }
    Json(app.hub.stats()).into_response()
}

async fn websocket(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&headers, &app.options) {
        return reject(StatusCode::FORBIDDEN, "origin not allowed");
    }
    let since = match query.get("since").map(|s| s.parse::<u64>()) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return reject(
                StatusCode::BAD_REQUEST,
                "since must be the last seq received, a whole number",
            )
        }
    };
    let authorized = match (&app.options.token, presented_token(&headers, &query)) {
        (None, _) => true,
        (Some(expected), Some(given)) if same_token(given, expected) => true,
        (Some(_), Some(_)) => return reject(StatusCode::UNAUTHORIZED, "wrong token"),
        (Some(_), None) => false,
    };
    upgrade.on_upgrade(move |socket| session(socket, app, since, authorized))
}

async fn session(socket: WebSocket, app: App, since: Option<u64>, authorized: bool) {
    let (mut tx, mut rx) = socket.split();
    if !authorized {
        let expected = app.options.token.clone().unwrap_or_default();
        let ok = match tokio::time::timeout(AUTH_WAIT, rx.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                matches!(ClientFrame::parse(&text), Ok(ClientFrame::Auth { token }) if same_token(&token, &expected))
            }
            _ => false,
        };
        if !ok {
            let close = axum::extract::ws::CloseFrame {
                code: 1008,
                reason: "a valid auth frame is required".into(),
            };
            let _ = tx.send(Message::Close(Some(close))).await;
            return;
        }
    }
    let catchup = app.hub.subscribe_since(since);
    let mut last = catchup.delivered;
    let Ok(mut live) = send_catchup(&mut tx, catchup, &mut last).await else {
        return;
    };
    loop {
        tokio::select! {
            update = live.recv() => {
                let sent = match update {
                    Ok(Update::Frame(frame)) => send(&mut tx, &frame).await,
                    Ok(Update::Sample(first)) => {
                        // Whatever else is already queued goes out in the same frame.
                        let mut samples = vec![first];
                        while samples.len() < BATCH {
                            match live.try_recv() {
                                Ok(Update::Sample(s)) => samples.push(s),
                                Ok(Update::Frame(f)) => {
                                    if send_samples(&mut tx, &samples, &mut last).await.is_err() { return }
                                    samples.clear();
                                    if send(&mut tx, &f).await.is_err() { return }
                                }
                                Err(_) => break,
                            }
                        }
                        send_samples(&mut tx, &samples, &mut last).await
                    }
                    Err(RecvError::Lagged(_)) => {
                        // Too slow for the live feed: catch up from the buffer, as a reconnect would.
                        match send_catchup(&mut tx, app.hub.subscribe_since(Some(last)), &mut last).await {
                            Ok(fresh) => { live = fresh; Ok(()) }
                            Err(()) => return,
                        }
                    }
                    Err(RecvError::Closed) => return,
                };
                if sent.is_err() { return }
            }
            incoming = rx.next() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
            () = app.shutdown.cancelled() => {
                let _ = tx.send(Message::Close(None)).await;
                return;
            }
        }
    }
}

type Tx = futures_util::stream::SplitSink<WebSocket, Message>;

async fn send(tx: &mut Tx, frame: &ServerFrame) -> Result<(), ()> {
    tx.send(Message::Text(frame.to_json().into()))
        .await
        .map_err(|_| ())
}

/// Sends samples newer than `last` as one `sample` or `batch` frame (or several batches).
async fn send_samples(tx: &mut Tx, samples: &[Arc<Sample>], last: &mut u64) -> Result<(), ()> {
    let fresh: Vec<Sample> = samples
        .iter()
        .filter(|s| s.seq > *last)
        .map(|s| (**s).clone())
        .collect();
    for chunk in fresh.chunks(BATCH) {
        let frame = match chunk {
            [one] => ServerFrame::Sample(one.clone()),
            many => ServerFrame::Batch {
                samples: many.to_vec(),
            },
        };
        send(tx, &frame).await?;
        if let Some(s) = chunk.last() {
            *last = s.seq;
        }
    }
    Ok(())
}

async fn send_catchup(
    tx: &mut Tx,
    catchup: Catchup,
    last: &mut u64,
) -> Result<tokio::sync::broadcast::Receiver<Update>, ()> {
    *last = catchup.delivered;
    send(tx, &catchup.hello).await?;
    for status in &catchup.statuses {
        send(tx, status).await?;
    }
    if catchup.missed > 0 {
        send(
            tx,
            &ServerFrame::Gap {
                missed: catchup.missed,
            },
        )
        .await?;
    }
    send_samples(tx, &catchup.replay, last).await?;
    Ok(catchup.live)
}

#[cfg(test)]
mod tests {
    use super::same_token;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("change-me", "change-me"));
        assert!(!same_token("change-m", "change-me"));
        assert!(!same_token("change-me!", "change-me"));
        assert!(!same_token("", "change-me"));
        assert!(!same_token("Change-me", "change-me"));
    }
}
