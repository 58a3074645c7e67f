//! The WebSocket server of the stream protocol (docs/protocol.md), plus `/health`, `/status`
//! and, with `site` set, the dashboard's static files on the same port.
//!
//! Security (docs/protocol.md, "Connecting"): every request's Host must be a loopback name, the
//! `listen` address or listed in `allowed_hosts` (against DNS rebinding); a browser's Origin
//! must be in the allowlist or the server's own origin; when a token is set, every client
//! presents it (`Authorization: Bearer`, the `token` query parameter, or an `auth` frame within
//! 5 s), compared by [`same_token`]. Before authentication a client can hold at most one of
//! `max_connections` sessions and send frames of at most [`MAX_CLIENT_FRAME`]; an address that
//! keeps presenting wrong tokens is locked out ([`Lockout`]).
//!
//! Nothing is lost silently: a client too slow for the live feed is resynchronised from the
//! replay buffer, and whatever the buffer no longer holds is reported in a `gap` frame. A slow
//! client never slows the others (the live feed is a broadcast that never waits).

use crate::auth::{host_allowed, same_token, Lockout};
use crate::hub::{Catchup, Hub, Update};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use llmscope_protocol::{ClientFrame, Sample, ServerFrame};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// Samples per `batch` frame, at most.
const BATCH: usize = 1000;
/// How long a client has to send its `auth` frame.
const AUTH_WAIT: Duration = Duration::from_secs(5);
/// The largest frame (and message) a client may send. Clients send only the `auth` frame, so
/// this bounds what an unauthenticated client can make the server buffer.
pub const MAX_CLIENT_FRAME: usize = 64 * 1024;
/// Default of `[server] max_connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;

/// Who may connect, and what else is served.
#[derive(Clone, Debug)]
pub struct Options {
    /// Shared token, if any.
    pub token: Option<String>,
    /// Allowed browser origins.
    pub origins: Vec<String>,
    /// Host values accepted besides loopback names (the listen address, `allowed_hosts`).
    pub hosts: Vec<String>,
    /// WebSocket sessions at once, authenticated or not.
    pub max_connections: usize,
    /// Static site to serve.
    pub site: Option<PathBuf>,
    /// The MQTT republisher's counters, shown in `/status` as `publish`.
    pub publish: Option<std::sync::Arc<crate::publish::Stats>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            token: None,
            origins: Vec::new(),
            hosts: Vec::new(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            site: None,
            publish: None,
        }
    }
}

#[derive(Clone)]
struct App {
    hub: Arc<Hub>,
    options: Arc<Options>,
    sessions: Arc<Semaphore>,
    lockout: Arc<Lockout>,
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
        sessions: Arc::new(Semaphore::new(options.max_connections.max(1))),
        options: Arc::new(options),
        lockout: Arc::new(Lockout::default()),
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
        let site = Arc::new(crate::site::Site::load(&site)?);
        router = router.fallback(
            move |method: axum::http::Method,
                  uri: axum::http::Uri,
                  headers: axum::http::HeaderMap| {
                let site = site.clone();
                async move { site.respond(&method, uri.path(), &headers) }
            },
        );
    }
    let (sessions, max) = (app.sessions.clone(), app.sessions.available_permits());
    let router = router
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            check_host,
        ))
        .with_state(app);
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await;
    // Upgraded WebSocket sessions outlive axum's graceful shutdown: wait (bounded) until each
    // has sent its close frame and returned its permit, or the runtime would drop them mid-send
    // and clients would see a reset instead of a close.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(SESSIONS_CLOSE, sessions.acquire_many(all)).await;
    served
}

/// How long sessions get to send their close frames after shutdown.
const SESSIONS_CLOSE: std::time::Duration = std::time::Duration::from_secs(2);

fn reject(code: StatusCode, why: &str) -> Response {
    (code, Json(serde_json::json!({"error": why}))).into_response()
}

/// Every path, the static site included, answers only to the shim's own names.
async fn check_host(State(app): State<App>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if !host.is_some_and(|h| host_allowed(h, &app.options.hosts)) {
        return reject(
            StatusCode::FORBIDDEN,
            "host not allowed: use localhost, the listen address, or add the name to [server] allowed_hosts",
        );
    }
    next.run(request).await
}

/// The Origin check: absent (not a browser), our own, or in the allowlist. The Host it is
/// compared with has passed [`check_host`].
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

/// The token from the header or the query, if any was given. `Bearer` in any case (RFC 9110).
fn presented_token<'a>(
    headers: &'a HeaderMap,
    query: &'a HashMap<String, String>,
) -> Option<&'a str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            let (scheme, token) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .or(query.get("token").map(String::as_str))
}

/// 429 while `ip` is locked out for wrong tokens.
fn locked_out(app: &App, ip: IpAddr) -> Option<Response> {
    let wait = app.lockout.check(ip, Instant::now()).err()?;
    let seconds = wait.as_secs().max(1);
    let mut response = reject(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("too many wrong tokens from this address: retry in {seconds} s"),
    );
    if let Ok(value) = seconds.to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Some(response)
}

/// Checks a presented token against the expected one, counting wrong ones against `ip`.
fn token_ok(app: &App, ip: IpAddr, given: &str, expected: &str) -> bool {
    let ok = same_token(given, expected);
    if ok {
        app.lockout.succeeded(ip);
    } else {
        app.lockout.failed(ip, Instant::now());
    }
    ok
}

async fn status(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !origin_allowed(&headers, &app.options) {
        return reject(StatusCode::FORBIDDEN, "origin not allowed");
    }
    if let Some(expected) = &app.options.token {
        if let Some(locked) = locked_out(&app, peer.ip()) {
            return locked;
        }
        let given = presented_token(&headers, &query);
        if !given.is_some_and(|t| token_ok(&app, peer.ip(), t, expected)) {
            return reject(StatusCode::UNAUTHORIZED, "a valid token is required");
        }
    }
    let mut stats = app.hub.stats();
    if let Some(publish) = &app.options.publish {
        stats["publish"] = publish.to_json();
    }
    Json(stats).into_response()
}

async fn websocket(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
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
    let authorized = match &app.options.token {
        None => true,
        Some(expected) => {
            if let Some(locked) = locked_out(&app, peer.ip()) {
                return locked;
            }
            match presented_token(&headers, &query) {
                Some(given) if token_ok(&app, peer.ip(), given, expected) => true,
                Some(_) => return reject(StatusCode::UNAUTHORIZED, "wrong token"),
                None => false,
            }
        }
    };
    let Ok(permit) = app.sessions.clone().try_acquire_owned() else {
        return reject(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "too many connections ({}): retry later, or raise [server] max_connections",
                app.options.max_connections
            ),
        );
    };
    upgrade
        .max_message_size(MAX_CLIENT_FRAME)
        .max_frame_size(MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| session(socket, app, since, authorized, peer.ip(), permit))
}

type Tx = futures_util::stream::SplitSink<WebSocket, Message>;
type Rx = futures_util::stream::SplitStream<WebSocket>;

/// Waits for the `auth` frame; false (after closing the socket) if it is missing or wrong.
async fn authenticate(tx: &mut Tx, rx: &mut Rx, app: &App, ip: IpAddr) -> bool {
    let expected = app.options.token.as_deref().unwrap_or_default();
    let ok = match tokio::time::timeout(AUTH_WAIT, rx.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => match ClientFrame::parse(&text) {
            Ok(ClientFrame::Auth { token }) => token_ok(app, ip, &token, expected),
            _ => false,
        },
        _ => false,
    };
    if !ok {
        let close = axum::extract::ws::CloseFrame {
            code: 1008,
            reason: "a valid auth frame is required".into(),
        };
        let _ = tx.send(Message::Close(Some(close))).await;
    }
    ok
}

/// What the live feed did.
enum Feed {
    /// Forwarded; keep going.
    Open,
    /// The client fell behind the live queue: updates were dropped for it.
    Lagged,
}

async fn session(
    socket: WebSocket,
    app: App,
    since: Option<u64>,
    authorized: bool,
    ip: IpAddr,
    _permit: OwnedSemaphorePermit,
) {
    let (mut tx, mut rx) = socket.split();
    if !authorized && !authenticate(&mut tx, &mut rx, &app, ip).await {
        return;
    }
    // Every seq up to `last` has been sent or reported in a gap frame.
    let mut last = 0;
    let Ok(mut live) = send_catchup(&mut tx, app.hub.subscribe_since(since), &mut last).await
    else {
        return;
    };
    loop {
        tokio::select! {
            // Shutdown first: when the hub closes with it, the client must still get a close
            // frame rather than a dropped connection.
            biased;
            () = app.shutdown.cancelled() => {
                let _ = tx.send(Message::Close(None)).await;
                return;
            }
            update = live.recv() => {
                let fed = match update {
                    Ok(first) => forward(&mut tx, &mut live, first, &mut last).await,
                    Err(RecvError::Lagged(_)) => Ok(Feed::Lagged),
                    Err(RecvError::Closed) => return,
                };
                match fed {
                    Ok(Feed::Open) => {}
                    // Too slow for the live feed: catch up from the buffer, as a reconnect
                    // would; what the buffer no longer holds goes out as a gap frame.
                    Ok(Feed::Lagged) => match send_catchup(&mut tx, app.hub.resync(last), &mut last).await {
                        Ok(fresh) => live = fresh,
                        Err(()) => return,
                    },
                    Err(()) => return,
                }
            }
            incoming = rx.next() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// Sends `first` and whatever else is already queued, samples batched together.
async fn forward(
    tx: &mut Tx,
    live: &mut broadcast::Receiver<Update>,
    first: Update,
    last: &mut u64,
) -> Result<Feed, ()> {
    let mut samples = Vec::new();
    let mut update = first;
    loop {
        match update {
            Update::Sample(s) => samples.push(s),
            Update::Frame(f) => {
                send_samples(tx, &samples, last).await?;
                samples.clear();
                send(tx, &f).await?;
            }
        }
        if samples.len() >= BATCH {
            break;
        }
        update = match live.try_recv() {
            Ok(u) => u,
            Err(TryRecvError::Lagged(_)) => {
                send_samples(tx, &samples, last).await?;
                return Ok(Feed::Lagged);
            }
            Err(TryRecvError::Empty | TryRecvError::Closed) => break,
        };
    }
    send_samples(tx, &samples, last).await?;
    Ok(Feed::Open)
}

async fn send(tx: &mut Tx, frame: &ServerFrame) -> Result<(), ()> {
    tx.send(Message::Text(frame.to_json().into()))
        .await
        .map_err(|_| ())
}

/// Sends the samples newer than `last` as `sample` or `batch` frames. A seq that does not follow
/// `last` is preceded by a gap frame for the difference, so no loss goes unreported.
async fn send_samples(tx: &mut Tx, samples: &[Arc<Sample>], last: &mut u64) -> Result<(), ()> {
    let mut run: Vec<Sample> = Vec::new();
    for s in samples {
        if s.seq <= *last {
            continue; // never a seq twice
        }
        if s.seq > *last + 1 {
            send_run(tx, &mut run).await?;
            let missed = s.seq - *last - 1;
            send(tx, &ServerFrame::Gap { missed }).await?;
        }
        run.push((**s).clone());
        *last = s.seq;
        if run.len() == BATCH {
            send_run(tx, &mut run).await?;
        }
    }
    send_run(tx, &mut run).await
}

/// One `sample` or `batch` frame of consecutive samples, then empties `run`.
async fn send_run(tx: &mut Tx, run: &mut Vec<Sample>) -> Result<(), ()> {
    let frame = match run.len() {
        0 => return Ok(()),
        1 => ServerFrame::Sample(run.remove(0)),
        _ => ServerFrame::Batch {
            samples: std::mem::take(run),
        },
    };
    send(tx, &frame).await
}

async fn send_catchup(
    tx: &mut Tx,
    catchup: Catchup,
    last: &mut u64,
) -> Result<broadcast::Receiver<Update>, ()> {
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
        *last += catchup.missed;
    }
    send_samples(tx, &catchup.replay, last).await?;
    Ok(catchup.live)
}
