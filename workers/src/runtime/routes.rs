//! The HTTP API (workers/README.md) and the cron run. Every answer is JSON; every endpoint but
//! `/health` needs `Authorization: Bearer <LLMSCOPE_TOKEN>`; CORS admits `LLMSCOPE_ORIGINS`.

use super::config::{secret_values, Config};
use super::http::{self, error, json};
use super::probe;
use super::store::Store;
use crate::access;
use crate::alert::{self, Metric};
use futures_util::future::join_all;
use serde_json::json;
use worker::{Env, Method, Request, Response, Result};

/// Results per `/results` answer when `limit` is not given, and the most it may ask for.
const DEFAULT_LIMIT: u32 = 1000;
const MAX_LIMIT: u32 = 10_000;
/// Probes per target the alerting looks back on.
const HISTORY: u32 = 2000;

/// Answers one request, with CORS headers for an allowed origin.
pub async fn handle(req: Request, env: &Env) -> Result<Response> {
    let config = Config::load(env);
    let origin = req.headers().get("origin").ok().flatten();
    let mut r = match route(req, env, &config).await {
        Ok(r) => r,
        Err(e) => error(500, format!("internal error: {e}"))?,
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

async fn route(mut req: Request, env: &Env, config: &Config) -> Result<Response> {
    let method = req.method();
    let path = req.path();
    if method == Method::Options {
        return Ok(Response::empty()?.with_status(204));
    }
    if method == Method::Get && path == "/health" {
        return health(env, config);
    }
    if let (Method::Get, Some(id)) = (&method, path.strip_prefix("/share/")) {
        return super::share::fetch(id, env).await; // the unguessable id is the capability
    }
    let auth = req.headers().get("authorization").ok().flatten();
    if !access::authorized(auth.as_deref(), &config.token) {
        let mut r = error(
            401,
            "missing or wrong token: send Authorization: Bearer <LLMSCOPE_TOKEN>",
        )?;
        let _ = r.headers_mut().set("www-authenticate", "Bearer");
        return Ok(r);
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (Method::Get, ["targets"]) => targets(config),
        (Method::Post, ["probe", name]) => probe_now(env, config, &decode(name)).await,
        (Method::Get, ["results"]) => results(&req, env).await,
        (Method::Post, ["share"]) => super::share::create(req, env).await,
        _ => {
            let _ = req.text().await;
            error(
                404,
                format!(
                    "no endpoint {path}: see GET /health, /targets, /results, /share/ID, POST /probe/NAME, /share"
                ),
            )
        }
    }
}

fn decode(segment: &str) -> String {
    js_sys::decode_uri_component(segment)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| segment.to_string())
}

fn health(env: &Env, config: &Config) -> Result<Response> {
    let problems: Vec<_> = config
        .problems(env)
        .into_iter()
        .map(|e| json!({"target": e.target, "field": e.field, "message": e.message}))
        .collect();
    json(
        200,
        &json!({
            "ok": problems.is_empty(),
            "version": env!("CARGO_PKG_VERSION"),
            "targets": config.targets.valid.len(),
            "problems": problems,
            "prices_taken": crate::prices::TAKEN,
            "webhook": config.webhook.is_some(),
        }),
    )
}

fn targets(config: &Config) -> Result<Response> {
    let list: Vec<_> = config
        .targets
        .valid
        .iter()
        .map(|t| json!({"name": t.name, "provider": t.provider.as_str(), "model": t.model}))
        .collect();
    json(200, &serde_json::Value::Array(list))
}

async fn probe_now(env: &Env, config: &Config, name: &str) -> Result<Response> {
    let Some(target) = config.targets.get(name) else {
        if let Some(e) = config.targets.errors.iter().find(|e| e.target == name) {
            return error(400, e.to_string());
        }
        return error(
            404,
            format!("no target named {name:?}: GET /targets lists them"),
        );
    };
    let result = probe::run(env, target).await;
    let store = match Store::open(env).await {
        Ok(s) => s,
        Err(e) => return error(500, e),
    };
    if let Err(e) = store.insert(&result).await {
        return error(500, e);
    }
    json(200, &serde_json::to_value(&result)?)
}

async fn results(req: &Request, env: &Env) -> Result<Response> {
    let url = req.url()?;
    let (mut target, mut since, mut limit) = (None, 0i64, DEFAULT_LIMIT);
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "target" => target = Some(v.to_string()),
            "since" => match v.parse::<f64>() {
                Ok(s) if s.is_finite() => since = s as i64,
                _ => return error(400, format!("since={v}: must be epoch milliseconds")),
            },
            "limit" => match v.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => limit = n,
                _ => return error(400, format!("limit={v}: must be 1 to {MAX_LIMIT}")),
            },
            other => {
                return error(
                    400,
                    format!("unknown parameter {other:?}: use target, since, limit"),
                )
            }
        }
    }
    let Some(target) = target else {
        return error(
            400,
            "target is required: /results?target=NAME&since=<epoch ms>&limit=N",
        );
    };
    let store = match Store::open(env).await {
        Ok(s) => s,
        Err(e) => return error(500, e),
    };
    match store.results(&target, since, limit).await {
        Ok(rows) => {
            let mut r = Response::ok(format!("[{}]", rows.join(",")))?;
            r.headers_mut().set("content-type", "application/json")?;
            Ok(r)
        }
        Err(e) => error(500, e),
    }
}

/// The cron run: probes every target at once, stores the results, then evaluates each
/// target's history and POSTs new alerts. Returns a summary (also what `POST /cron` answers).
pub async fn cron(env: &Env) -> std::result::Result<serde_json::Value, String> {
    let config = Config::load(env);
    for e in &config.targets.errors {
        worker::console_error!("llmscope: {e}");
    }
    let store = Store::open(env).await?;
    let results = join_all(config.targets.valid.iter().map(|t| probe::run(env, t))).await;
    for r in &results {
        store.insert(r).await?;
    }
    let mut sent = Vec::new();
    for t in &config.targets.valid {
        let history = store.history(&t.name, HISTORY).await?;
        let mut opened = Vec::new();
        for metric in Metric::ALL {
            let mut state = store.state(&t.name, metric.name()).await?;
            match alert::evaluate(&t.name, metric, &history, &config.alerts, &mut state) {
                Ok(alerts) => opened.extend(alerts),
                Err(e) => {
                    worker::console_warn!(
                        "llmscope: {} {}: no chart yet: {e}",
                        t.name,
                        metric.name()
                    );
                    continue;
                }
            }
            store.save_state(&t.name, metric.name(), &state).await?;
        }
        if opened.is_empty() {
            continue;
        }
        let delivered = deliver(
            &config,
            &alert::webhook_body(&t.name, &opened),
            &secret_values(env, t),
        )
        .await;
        for a in &opened {
            store.record_alert(a, delivered).await?;
            sent.push(
                json!({"target": a.target, "metric": a.metric, "t": a.t, "delivered": delivered}),
            );
        }
    }
    Ok(
        json!({"probed": results.len(), "ok": results.iter().filter(|r| r.ok).count(), "alerts": sent}),
    )
}

/// POSTs a webhook body; false when there is none or it refused.
async fn deliver(config: &Config, body: &serde_json::Value, secrets: &[String]) -> bool {
    let Some(url) = &config.webhook else {
        return false;
    };
    let body = crate::measure::redact(&body.to_string(), secrets);
    let request = crate::provider::HttpRequest {
        method: "POST".into(),
        url: url.clone(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into_bytes(),
    };
    match http::send(&request, None).await {
        Ok(r) if (200..300).contains(&r.status_code()) => true,
        Ok(r) => {
            worker::console_error!("llmscope: the webhook answered {}", r.status_code());
            false
        }
        Err(e) => {
            worker::console_error!("llmscope: cannot reach the webhook: {e}");
            false
        }
    }
}
