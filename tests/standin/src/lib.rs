//! `llmscope-standin`: a faithful, scriptable local stand-in for six LLM providers' streaming
//! APIs (OpenAI chat completions, Anthropic messages, Gemini streamGenerateContent, Bedrock
//! ConverseStream, Ollama /api/chat and a custom JSON endpoint).
//!
//! Why it exists: the probe Worker measures time to first token and total latency against real
//! providers. End-to-end tests run the Worker in `wrangler dev` against this server instead, so
//! every delay is known in advance (the test can assert the probe measured what was scripted),
//! every fault can be produced on demand (401, 429 with retry-after, a cut stream, a corrupt
//! frame, a hang), every answer can be scripted (a known text, wrong on a known fraction of
//! requests, for quality checks) and every request the probe sent is recorded (headers, body,
//! whether it was answered wrongly) for inspection.
//!
//! Each test uses its own *profile* (a path prefix `/p/{profile}`), so tests share one server
//! without interfering. Delays are measured from the moment a request was fully received and
//! every chunk is written and flushed when it is due.
#![deny(missing_docs)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, put};
use axum::{Json, Router};
use serde_json::json;
use tokio::task::JoinHandle;

mod anthropic;
mod bedrock;
mod custom;
mod gemini;
mod ollama;
mod openai;
mod script;
mod wire;

pub use bedrock::{encode_frame, EventHeader};
pub use script::{Fault, Quota, Script, Throttle, Wrong};

use llmscope_spc::Rng;
use wire::Ctx;

/// The text of chunk `i` (from 0): `" tok{i}"`. Tests compare the probe's text with it.
pub fn chunk_text(i: u32) -> String {
    format!(" tok{i}")
}

/// The text of thinking chunk `i` (from 0): `"thought {i}. "`. Never the answer's text.
pub fn thinking_text(i: u32) -> String {
    format!("thought {i}. ")
}

/// The whole generated text of a reply of `chunks` chunks.
pub fn full_text(chunks: u32) -> String {
    (0..chunks).map(chunk_text).collect()
}

/// A request as received, recorded before any check (so rejected requests show up too).
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// As received, including the `/p/{profile}` prefix.
    pub path_and_query: String,
    /// Header names are lowercase; values that are not UTF-8 are decoded lossily.
    pub headers: Vec<(String, String)>,
    /// The body, decoded lossily as UTF-8.
    pub body: String,
    /// When the request was fully received (the origin of the scripted delays).
    pub received_at: Instant,
    /// Whether it was answered with the script's wrong answer ([`Wrong`]).
    pub wrong: bool,
    /// Whether it was answered 429 by the script's [`Throttle`].
    pub throttled: bool,
}

impl Recorded {
    /// The first value of a header (name in lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Profile {
    /// `None` until set: the profile answers 404.
    script: Option<Script>,
    rng: Option<Rng>,
    requests: Vec<Recorded>,
}

#[derive(Default)]
struct Inner {
    profiles: Mutex<HashMap<String, Profile>>,
    serial: AtomicU64,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Profile>> {
        // A panic elsewhere must not take the stand-in down with it.
        self.profiles.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, profile: &str, script: Script) {
        let mut map = self.lock();
        let p = map.entry(profile.to_string()).or_default();
        p.script = Some(script);
        p.rng = Some(script::profile_rng(profile));
    }

    /// Records the request; returns the script, this request's ttft (with jitter) and the
    /// text of each chunk (right or wrong).
    fn take(&self, profile: &str, mut rec: Recorded) -> Option<(Script, Duration, Vec<String>)> {
        let mut map = self.lock();
        let p = map.entry(profile.to_string()).or_default();
        let Some(mut script) = p.script.clone() else {
            p.requests.push(rec);
            return None;
        };
        let rng = p.rng.get_or_insert_with(|| script::profile_rng(profile));
        let jitter = script::jitter(rng, script.jitter_ms);
        script.gap_ms = script
            .gap_ms
            .saturating_add(script::jitter(rng, script.gap_jitter_ms));
        let ttft = Duration::from_millis(script.ttft_ms.saturating_add(jitter));
        rec.wrong = script::answers_wrongly(rng, script.wrong.as_ref());
        let answer = match &script.wrong {
            Some(w) if rec.wrong => Some(w.text.as_str()),
            _ => script.answer.as_deref(),
        };
        let text = script::chunk_texts(answer, script.chunks);
        rec.throttled = script::throttled(rng, script.throttle.as_ref());
        if let (true, Some(t)) = (rec.throttled, &script.throttle) {
            script.fault = Some(Fault::RateLimited {
                retry_after_s: t.retry_after_s,
            });
        }
        p.requests.push(rec);
        Some((script, ttft, text))
    }

    fn requests(&self, profile: &str) -> Vec<Recorded> {
        self.lock()
            .get(profile)
            .map(|p| p.requests.clone())
            .unwrap_or_default()
    }
}

/// The stand-in server: serves every provider route under `/p/{profile}/...`, plus
/// `PUT /profiles/{profile}` (a [`Script`] as JSON) and `GET /profiles/{profile}/requests`.
/// Dropping it stops accepting connections.
pub struct Standin {
    addr: SocketAddr,
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

impl Standin {
    /// Binds 127.0.0.1:0 and serves in a tokio task.
    pub async fn start() -> std::io::Result<Standin> {
        Standin::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Binds `addr` (for the binary's `--listen`) and serves in a tokio task.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Standin> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner::default());
        let app = router(inner.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("llmscope-standin: server stopped: {e}");
            }
        });
        Ok(Standin { addr, inner, task })
    }

    /// Where it listens (127.0.0.1 and a free port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// "http://127.0.0.1:PORT/p/{profile}" — the base URL a probe target uses.
    pub fn base_url(&self, profile: &str) -> String {
        format!("http://{}/p/{profile}", self.addr)
    }

    /// Sets (or replaces) the script of a profile, and resets its jitter PRNG. Unknown
    /// profiles answer 404 with a plain message.
    pub fn set(&self, profile: &str, script: Script) {
        self.inner.set(profile, script);
    }

    /// Requests received for a profile, oldest first (also those of a profile not set yet).
    pub fn requests(&self, profile: &str) -> Vec<Recorded> {
        self.inner.requests(profile)
    }

    /// Resolves when the server task ends (never, unless it fails): for the binary.
    pub async fn serve_forever(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/profiles/{profile}", put(put_profile))
        .route("/profiles/{profile}/requests", get(get_requests))
        .route("/p/{*rest}", any(provider))
        .fallback(|| async { (StatusCode::NOT_FOUND, "llmscope-standin: no such route\n") })
        .with_state(inner)
}

async fn put_profile(
    State(inner): State<Arc<Inner>>,
    Path(profile): Path<String>,
    body: Bytes,
) -> Response {
    match serde_json::from_slice::<Script>(&body) {
        Ok(script) => {
            inner.set(&profile, script);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("invalid script: {e}\n")).into_response(),
    }
}

async fn get_requests(State(inner): State<Arc<Inner>>, Path(profile): Path<String>) -> Response {
    let list: Vec<_> = inner
        .requests(&profile)
        .into_iter()
        .map(|r| {
            json!({
                "method": r.method,
                "path_and_query": r.path_and_query,
                "headers": r.headers,
                "body": r.body,
                "wrong": r.wrong,
                "throttled": r.throttled,
            })
        })
        .collect();
    Json(list).into_response()
}

/// Every provider route: records the request, finds the profile's script, dispatches on the
/// path (split by hand so percent-encoded segments such as Bedrock's model id decode exactly).
async fn provider(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t0 = Instant::now();
    let path = uri.path();
    let rest = path.strip_prefix("/p/").unwrap_or(path);
    let mut segments: Vec<String> = rest.split('/').map(wire::percent_decode).collect();
    let profile = if segments.is_empty() {
        String::new()
    } else {
        segments.remove(0)
    };
    let rec = Recorded {
        method: method.to_string(),
        path_and_query: uri
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_else(|| path.to_string()),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
        received_at: t0,
        wrong: false,
        throttled: false,
    };
    let Some((script, ttft, text)) = inner.take(&profile, rec) else {
        let msg = format!("llmscope-standin: unknown profile '{profile}'\n");
        return (StatusCode::NOT_FOUND, msg).into_response();
    };
    let ctx = Ctx {
        t0,
        script,
        ttft,
        text,
        headers,
        query: uri.query().map(str::to_string),
        body,
        serial: inner.serial.fetch_add(1, Ordering::Relaxed),
    };
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let route = match seg.as_slice() {
        ["v1", "chat", "completions"] => Route::OpenAi,
        ["v1", "messages"] => Route::Anthropic,
        ["v1beta", "models", m] => match m.rsplit_once(':') {
            Some((model, "streamGenerateContent")) => Route::Gemini(model.to_string(), true),
            Some((model, "generateContent")) => Route::Gemini(model.to_string(), false),
            _ => Route::None,
        },
        ["model", id, "converse-stream"] => Route::Bedrock(id.to_string()),
        ["api", "chat"] => Route::Ollama,
        ["generate"] => Route::Custom,
        _ => Route::None,
    };
    if matches!(route, Route::None) {
        let msg = format!("llmscope-standin: no provider route at {path}\n");
        return (StatusCode::NOT_FOUND, msg).into_response();
    }
    if method != Method::POST {
        let msg = "llmscope-standin: provider routes take POST\n";
        return (StatusCode::METHOD_NOT_ALLOWED, msg).into_response();
    }
    // What each provider's every answer carries (errors too): request ids, rate limits.
    let context = match &route {
        Route::OpenAi => openai::headers(&ctx),
        Route::Anthropic => anthropic::headers(&ctx),
        Route::Bedrock(_) => bedrock::headers(&ctx),
        _ => Vec::new(),
    };
    let mut response = match route {
        Route::OpenAi => openai::handle(ctx).await,
        Route::Anthropic => anthropic::handle(ctx).await,
        Route::Gemini(model, stream) => gemini::handle(ctx, &model, stream).await,
        Route::Bedrock(model_id) => bedrock::handle(ctx, &model_id).await,
        Route::Ollama => ollama::handle(ctx).await,
        Route::Custom => custom::handle(ctx).await,
        Route::None => StatusCode::NOT_FOUND.into_response(),
    };
    wire::add_headers(&mut response, context);
    response
}

enum Route {
    OpenAi,
    Anthropic,
    /// Model, and whether it is the streaming method.
    Gemini(String, bool),
    /// The model id, percent-decoded.
    Bedrock(String),
    Ollama,
    Custom,
    None,
}
