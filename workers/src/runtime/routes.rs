//! The HTTP API (workers/README.md) and the cron run. Every answer is JSON; every endpoint
//! needs `Authorization: Bearer <LLMSCOPE_TOKEN>` but `GET /health` (which without it says
//! only whether the Worker is up) and `GET /share/{id}`; CORS admits `LLMSCOPE_ORIGINS`.
//! Errors are [`ApiError`]s: plain words to the client, details to the log.

use super::config::{all_secret_values, Config};
use super::http::{self, json};
use super::probe;
use super::store::Store;
use crate::access::{self, Throttle};
use crate::alert::{self, Metric};
use crate::error::ApiError;
use crate::forecast;
use futures_util::StreamExt;
use serde_json::json;
use std::cell::RefCell;
use worker::{Env, Method, Request, Response, Result};

/// What every handler returns: its response, or the error that becomes one in [`handle`].
type Answer<T> = std::result::Result<T, ApiError>;

/// Results per `/results` answer when `limit` is not given, and the most it may ask for.
const DEFAULT_LIMIT: u32 = 1000;
const MAX_LIMIT: u32 = 10_000;
/// Probes per target the alerting looks back on.
const HISTORY: u32 = 2000;
/// Probes run at once by the cron: Workers open at most 6 connections at a time and queue
/// the rest, so a 7th probe would wait for a connection inside its own TTFT.
const SIMULTANEOUS_PROBES: usize = 6;

thread_local! {
    /// Wrong tokens per client address, in this isolate's memory (see [`Throttle`]).
    static THROTTLE: RefCell<Throttle> = RefCell::default();
}

/// Answers one request, with CORS headers for an allowed origin. Every handler returns
/// `Result<Response, ApiError>`; an error becomes its answer here, in one place.
pub async fn handle(req: Request, env: &Env) -> Result<Response> {
    let config = Config::load(env);
    let origin = req.headers().get("origin").ok().flatten();
    let mut r = match route(req, env, &config).await {
        Ok(r) => r,
        Err(e) => http::refusal(&e, &all_secret_values(env, &config))?,
    };
    if let Some(o) = access::allowed_origin(origin.as_deref(), &config.origins) {
        let h = r.headers_mut();
        h.set("access-control-allow-origin", o)?;
        h.set("vary", "origin")?;
        h.set("access-control-allow-methods", "GET, POST, OPTIONS")?;
        h.set(
            "access-control-allow-headers",
            "authorization, content-type",
        )?;
        h.set("access-control-max-age", "600")?;
    }
    Ok(r)
}

/// Who is calling, for the throttle: the address Cloudflare saw.
fn client(req: &Request) -> String {
    req.headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into())
}

/// Checks the token: `Ok(true)` with the right one, `Ok(false)` with none, an error with a
/// wrong one or while this client must wait.
fn check_token(req: &Request, config: &Config) -> Answer<bool> {
    let who = client(req);
    let now = http::now_ms();
    if let Some(retry_after_s) = THROTTLE.with(|t| t.borrow().wait_s(&who, now)) {
        return Err(ApiError::TooManyAttempts { retry_after_s });
    }
    let Some(header) = req.headers().get("authorization").ok().flatten() else {
        return Ok(false);
    };
    if access::authorized(Some(&header), &config.token) {
        THROTTLE.with(|t| t.borrow_mut().succeeded(&who));
        Ok(true)
    } else {
        THROTTLE.with(|t| t.borrow_mut().failed(&who, now));
        Err(ApiError::Unauthorized)
    }
}

async fn route(mut req: Request, env: &Env, config: &Config) -> Answer<Response> {
    let method = req.method();
    let path = req.path();
    if method == Method::Options {
        return Ok(Response::empty()?.with_status(204));
    }
    if let (Method::Get, Some(id)) = (&method, path.strip_prefix("/share/")) {
        return super::share::fetch(id, env).await; // the unguessable id is the capability
    }
    let authorized = check_token(&req, config)?;
    if method == Method::Get && path == "/health" {
        return health(env, config, authorized).await;
    }
    if !authorized {
        return Err(ApiError::Unauthorized);
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (Method::Get, ["targets"]) => targets(config),
        (Method::Post, ["probe", name]) => probe_now(env, config, &decode(name), colo(&req)).await,
        (Method::Get, ["results"]) => results(&req, env).await,
        (Method::Get, ["compare"]) => super::compare::get(&req, env, config).await,
        (Method::Post, ["share"]) => super::share::create(req, env).await,
        _ => {
            let _ = req.text().await;
            Err(ApiError::NotFound(format!(
                "no endpoint {path}: see GET /health, /targets, /results, /compare, /share/ID, POST /probe/NAME, /share"
            )))
        }
    }
}

fn decode(segment: &str) -> String {
    js_sys::decode_uri_component(segment)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| segment.to_string())
}

/// Without the token: whether the Worker is up and its version. With it: the configuration's
/// problems, the targets' count, the price table's date, and the alerts waiting for the
/// webhook.
async fn health(env: &Env, config: &Config, authorized: bool) -> Answer<Response> {
    let mut problems: Vec<_> = config
        .problems(env)
        .into_iter()
        .map(|e| json!({"target": e.target, "field": e.field, "message": e.message}))
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    if !authorized {
        return json(200, &json!({"ok": problems.is_empty(), "version": version}));
    }
    let undelivered = match Store::open(env).await {
        Ok(store) => store.undelivered_count().await,
        Err(e) => Err(e),
    };
    let undelivered = match undelivered {
        Ok(n) => Some(n),
        Err(e) => {
            let detail = ApiError::Internal(format!("/health: {e}"));
            http::log(&detail, &all_secret_values(env, config));
            problems.push(json!({"target": "*", "field": "DB", "message": "D1 cannot be read: see the Worker's log"}));
            None
        }
    };
    json(
        200,
        &json!({
            "ok": problems.is_empty(),
            "version": version,
            "targets": config.targets.valid.len(),
            "problems": problems,
            "prices_taken": config.prices.taken,
            "webhook": config.webhook.is_some(),
            "undelivered_alerts": undelivered,
        }),
    )
}

fn targets(config: &Config) -> Answer<Response> {
    let list: Vec<_> = config
        .targets
        .valid
        .iter()
        .map(|t| json!({"name": t.name, "provider": t.provider.as_str(), "model": t.model}))
        .collect();
    json(200, &serde_json::Value::Array(list))
}

/// The colo this request reached (`request.cf.colo`), read without the runtime's unwrap (a
/// `cf` without a colo must not panic), and never miniflare's placeholder.
fn colo(req: &Request) -> Option<String> {
    use js_sys::Reflect;
    let cf = Reflect::get(req.inner().as_ref(), &"cf".into()).ok()?;
    let field = |name: &str| Reflect::get(&cf, &name.into()).ok();
    let colo = field("colo").and_then(|v| v.as_string());
    let asn = field("asn").and_then(|v| v.as_f64());
    let postal = field("postalCode").and_then(|v| v.as_string());
    crate::context::worker_colo(colo.as_deref(), asn, postal.as_deref())
}

async fn probe_now(
    env: &Env,
    config: &Config,
    name: &str,
    colo: Option<String>,
) -> Answer<Response> {
    let Some(target) = config.targets.get(name) else {
        if let Some(e) = config.targets.errors.iter().find(|e| e.target == name) {
            return Err(ApiError::BadRequest(e.to_string()));
        }
        return Err(ApiError::NotFound(format!(
            "no target named {name:?}: GET /targets lists them"
        )));
    };
    let result = probe::run(env, target, &config.prices, colo).await;
    Store::open(env).await?.insert(&result).await?;
    json(200, &serde_json::to_value(&result)?)
}

async fn results(req: &Request, env: &Env) -> Answer<Response> {
    let url = req.url()?;
    let (mut target, mut since, mut limit) = (None, 0i64, DEFAULT_LIMIT);
    let bad = |m: String| Err(ApiError::BadRequest(m));
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "target" => target = Some(v.to_string()),
            "since" => match v.parse::<f64>() {
                Ok(s) if s.is_finite() => since = s as i64,
                _ => return bad(format!("since={v}: must be epoch milliseconds")),
            },
            "limit" => match v.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => limit = n,
                _ => return bad(format!("limit={v}: must be 1 to {MAX_LIMIT}")),
            },
            other => {
                return bad(format!(
                    "unknown parameter {other:?}: use target, since, limit"
                ))
            }
        }
    }
    let Some(target) = target else {
        return bad("target is required: /results?target=NAME&since=<epoch ms>&limit=N".into());
    };
    let rows = Store::open(env)
        .await?
        .results(&target, since, limit)
        .await?;
    let mut r = Response::ok(format!("[{}]", rows.join(",")))?;
    r.headers_mut().set("content-type", "application/json")?;
    Ok(r)
}

/// The predictive alert of one metric of one target ([`forecast`]): forecasts it against
/// its limit (`chart` is the metric's alert state, whose frozen UCL stands in for a missing
/// SLO) and records the alert when an episode opens. Returns how many it recorded.
async fn predict(
    store: &Store,
    config: &Config,
    t: &crate::target::Target,
    metric: Metric,
    history: &[llmscope_protocol::probe::ProbeResult],
    chart: &alert::State,
) -> Answer<usize> {
    if !forecast::METRICS.contains(&metric) {
        return Ok(0);
    }
    let Some(limit) = forecast::limit(t, metric, chart) else {
        return Ok(0);
    };
    let key = forecast::state_key(metric);
    let mut state: forecast::State = store.state(&t.name, &key).await?;
    match forecast::evaluate(
        &t.name,
        metric,
        history,
        limit,
        &config.forecast,
        &mut state,
    ) {
        Ok(alert) => {
            if let Some(a) = &alert {
                store.record_alert(a).await?;
            }
            store.save_state(&t.name, &key, &state).await?;
            Ok(alert.map_or(0, |_| 1))
        }
        Err(e) => {
            worker::console_warn!("llmscope: {} {}: no forecast: {e}", t.name, metric.name());
            Ok(0)
        }
    }
}

/// The cron run: logs the configuration's problems, then [`cron_run`]s; a failure is logged
/// like an internal error of a request (secrets redacted).
pub async fn cron(env: &Env) {
    let config = Config::load(env);
    for e in config.targets.errors.iter().chain(&config.errors) {
        worker::console_error!("llmscope: {e}");
    }
    if let Err(e) = cron_run(env, &config).await {
        let e = match e {
            ApiError::Internal(detail) => ApiError::Internal(format!("cron: {detail}")),
            other => other,
        };
        http::log(&e, &all_secret_values(env, &config));
    }
}

/// Deletes what is past the retention, probes every target (at most [`SIMULTANEOUS_PROBES`]
/// at a time), stores the results, evaluates each target's history, records new alerts in
/// the outbox, delivers every undelivered one, and sends the daily digest when it is due.
/// Returns a summary.
async fn cron_run(env: &Env, config: &Config) -> Answer<serde_json::Value> {
    let store = Store::open(env).await?;
    let day_ms = 86_400_000.0;
    let before = http::now_ms() - config.retention_days as f64 * day_ms;
    store.forget_before(before as i64).await?;
    let results: Vec<_> = futures_util::stream::iter(&config.targets.valid)
        .map(|t| probe::run(env, t, &config.prices, None))
        .buffered(SIMULTANEOUS_PROBES)
        .collect()
        .await;
    for r in &results {
        store.insert(r).await?;
    }
    let mut opened = 0;
    for t in &config.targets.valid {
        let history = store.history(&t.name, HISTORY).await?;
        for metric in Metric::ALL {
            let mut state = store.state(&t.name, metric.name()).await?;
            match alert::evaluate(&t.name, metric, &history, &config.alerts, &mut state) {
                Ok(alerts) => {
                    for a in &alerts {
                        store.record_alert(a).await?;
                    }
                    opened += alerts.len();
                }
                Err(e) => {
                    worker::console_warn!(
                        "llmscope: {} {}: no chart yet: {e}",
                        t.name,
                        metric.name()
                    );
                    // An SLO needs no chart: the forecast still runs against it.
                    opened += predict(&store, config, t, metric, &history, &state).await?;
                    continue;
                }
            }
            store.save_state(&t.name, metric.name(), &state).await?;
            opened += predict(&store, config, t, metric, &history, &state).await?;
        }
    }
    let secrets = all_secret_values(env, config);
    let delivered = super::webhook::deliver_pending(config, &store, &secrets).await?;
    let digest = super::digest::send_daily(config, &store, &secrets).await?;
    Ok(json!({
        "probed": results.len(),
        "ok": results.iter().filter(|r| r.ok).count(),
        "alerts": opened,
        "delivered": delivered,
        "digest": digest,
    }))
}
