//! The HTTP API (workers/README.md) and the cron run. Every answer is JSON; every endpoint
//! needs `Authorization: Bearer <token>`, a member's or `LLMSCOPE_TOKEN` (the bootstrap
//! owner), whose role the permission matrix ([`crate::team`]) must allow, but `GET /health`
//! (which without it says only whether the Worker is up) and `GET /share/{id}`; CORS admits
//! `LLMSCOPE_ORIGINS`. Errors are [`ApiError`]s: plain words to the client, details to the log.

use super::config::{all_secret_values, Config};
use super::http::{self, json};
use super::probe;
use super::store::Store;
use super::team::need;
use crate::access::{self, Throttle};
use crate::alert::{self, Metric};
use crate::error::ApiError;
use crate::forecast;
use crate::team::{self, Caller};
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
    let mut config = Config::load(env);
    let origin = req.headers().get("origin").ok().flatten();
    let mut r = match route(req, env, &mut config).await {
        Ok(r) => r,
        Err(e) => http::refusal(&e, &all_secret_values(env, &config))?,
    };
    if let Some(o) = access::allowed_origin(origin.as_deref(), &config.origins) {
        let h = r.headers_mut();
        h.set("access-control-allow-origin", o)?;
        h.set("vary", "origin")?;
        h.set(
            "access-control-allow-methods",
            "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        )?;
        h.set(
            "access-control-allow-headers",
            "authorization, content-type, if-match",
        )?;
        use super::destinations::{REROUTED, UNROUTABLE};
        let exposed = format!("etag, {REROUTED}, {UNROUTABLE}");
        h.set("access-control-expose-headers", &exposed)?;
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

/// Who is calling: `Ok(None)` without a token; the bootstrap owner with `LLMSCOPE_TOKEN`
/// (compared in constant time); a member whose token's digest D1 holds, live; else 401, and
/// the wrong token counts against the client's [`Throttle`] (checked first: while a client
/// waits, no token of any kind is looked at).
async fn caller(req: &Request, config: &Config, store: &Store) -> Answer<Option<Caller>> {
    let who = client(req);
    let now = http::now_ms();
    if let Some(retry_after_s) = THROTTLE.with(|t| t.borrow().wait_s(&who, now)) {
        return Err(ApiError::TooManyAttempts { retry_after_s });
    }
    let Some(header) = req.headers().get("authorization").ok().flatten() else {
        return Ok(None);
    };
    let found = if access::authorized(Some(&header), &config.token) {
        Some(Caller::bootstrap())
    } else {
        match access::bearer(&header).filter(|t| !t.is_empty()) {
            Some(given) => super::team::member_by_token(store, given, now as i64).await?,
            None => None,
        }
    };
    match found {
        Some(c) => {
            THROTTLE.with(|t| t.borrow_mut().succeeded(&who));
            Ok(Some(c))
        }
        None => {
            THROTTLE.with(|t| t.borrow_mut().failed(&who, now));
            Err(ApiError::Unauthorized)
        }
    }
}

async fn route(mut req: Request, env: &Env, config: &mut Config) -> Answer<Response> {
    let method = req.method();
    let path = req.path();
    if method == Method::Options {
        return Ok(Response::empty()?.with_status(204));
    }
    if let (Method::Get, Some(id)) = (&method, path.strip_prefix("/share/")) {
        return super::share::fetch(id, env).await; // the unguessable id is the capability
    }
    let token = req.headers().get("authorization").ok().flatten();
    if method == Method::Get && path == "/health" && token.is_none() {
        return health(env, config, None).await; // the variables alone: D1 is not touched
    }
    let store = Store::open(env).await?;
    if method == Method::Post && path == "/slack/actions" {
        return super::alerts::slack_actions(req, env, config, &store).await; // Slack's signature, no token
    }
    super::targets::load(&store, config).await?;
    super::destinations::load(&store, config).await?;
    let caller = caller(&req, config, &store).await?;
    if method == Method::Get && path == "/health" {
        return health(env, config, caller.as_ref()).await;
    }
    let Some(caller) = caller else {
        return Err(ApiError::Unauthorized);
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if let Some(permission) = team::endpoint(method.as_ref(), &segments) {
        need(&caller, permission)?;
    }
    let me = &caller;
    match (method, segments.as_slice()) {
        (Method::Get, ["targets"]) => super::targets::list(config),
        (Method::Put, ["targets"]) => super::targets::put(req, env, &store, me, config).await,
        (Method::Post, ["probe", name]) => {
            let name = decode(name);
            let answer = probe_now(env, config, &store, &name, colo(&req)).await?;
            super::team::audit(&store, me, "probe", &name).await?;
            Ok(answer)
        }
        (Method::Get, ["results"]) => results(&req, &store).await,
        (Method::Get, ["compare"]) => super::compare::get(&req, env, config).await,
        (Method::Post, ["share"]) => super::share::create(req, env, &store, me).await,
        (Method::Get, ["dashboards"]) => super::dashboards::list(&store).await,
        (Method::Get, ["dashboards", id]) => super::dashboards::get(&store, id).await,
        (Method::Put, ["dashboards", id]) => {
            let id = id.to_string();
            super::dashboards::put(req, &store, me, &id).await
        }
        (Method::Delete, ["dashboards", id]) => super::dashboards::delete(&store, me, id).await,
        (Method::Get, ["alerts"]) => super::alerts::list(&req, &store).await,
        (Method::Post, ["alerts", id, "ack"]) => {
            let id = id.to_string();
            super::alerts::ack(req, &store, me, &id).await
        }
        (Method::Get, ["destinations"]) => super::destinations::list(config),
        (Method::Put, ["destinations"]) => {
            super::destinations::put(req, env, &store, me, config).await
        }
        (Method::Get, ["members"]) => super::team::list(&store).await,
        (Method::Get, ["audit"]) => super::team::read_audit(&req, &store).await,
        (Method::Post | Method::Patch | Method::Delete, ["members", ..]) => {
            members(
                req,
                &store,
                me,
                &segments.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
            .await
        }
        _ => {
            let _ = req.text().await;
            Err(ApiError::NotFound(format!(
                "no endpoint {path}: see GET /health, /targets, /results, /compare, /dashboards, /alerts, /destinations, /members, /audit, /share/ID, POST /probe/NAME, /share, /members, /alerts/ID/ack, /slack/actions, PUT /targets, /destinations, /dashboards/ID, DELETE /dashboards/ID, PATCH and DELETE /members/ID"
            )))
        }
    }
}

/// `POST /members`, `PATCH` and `DELETE /members/{id}`: admins at least, then owners for
/// anything touching an admin or an owner ([`team::member_change`], checked once the roles
/// involved are known).
async fn members(
    req: Request,
    store: &Store,
    me: &Caller,
    segments: &[String],
) -> Answer<Response> {
    need(me, team::Permission::Administer)?;
    match (req.method(), segments) {
        (Method::Post, [_]) => super::team::create(req, store, me).await,
        (Method::Patch, [_, id]) => super::team::set_role(req, store, me, id).await,
        (Method::Delete, [_, id]) => super::team::revoke(store, me, id).await,
        _ => Err(ApiError::NotFound(
            "no such endpoint: POST /members, PATCH /members/ID or DELETE /members/ID".into(),
        )),
    }
}

fn decode(segment: &str) -> String {
    js_sys::decode_uri_component(segment)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| segment.to_string())
}

/// Without a token: whether the Worker is up and its version, judged on its variables and
/// secrets alone (D1 is not read: an unauthenticated caller cannot make the Worker query it).
/// With one: the configuration's problems, the targets' count, the price table's date, the
/// alerts waiting for their destinations (in all and per destination) and those no
/// destination takes, and who the token is (its member's name, or `bootstrap`) and their role.
async fn health(env: &Env, config: &Config, caller: Option<&Caller>) -> Answer<Response> {
    let mut problems: Vec<_> = config
        .problems(env)
        .into_iter()
        .map(|e| json!({"target": e.target, "field": e.field, "message": e.message}))
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    let Some(caller) = caller else {
        return json(200, &json!({"ok": problems.is_empty(), "version": version}));
    };
    let names: Vec<String> = config
        .destinations
        .valid
        .iter()
        .map(|d| d.name.clone())
        .collect();
    let (per_destination, undelivered, unroutable) = match waiting(env, &names).await {
        Ok(((per, n), lost)) => {
            let per: serde_json::Map<String, serde_json::Value> =
                per.into_iter().map(|(d, n)| (d, json!(n))).collect();
            (Some(per), Some(n), Some(lost))
        }
        Err(e) => {
            let detail = ApiError::Internal(format!("/health: {e}"));
            http::log(&detail, &all_secret_values(env, config));
            problems.push(json!({"target": "*", "field": "DB", "message": "D1 cannot be read: see the Worker's log"}));
            (None, None, None)
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
            "undelivered": per_destination,
            "unroutable_alerts": unroutable,
            "brand": config.brand,
            "member": caller.name,
            "role": caller.role.as_str(),
        }),
    )
}

/// The alerts waiting, per destination of `names` and in all, and those no destination takes.
async fn waiting(
    env: &Env,
    names: &[String],
) -> std::result::Result<((Vec<(String, u64)>, u64), u64), String> {
    let store = Store::open(env).await?;
    let counts = super::outbox::undelivered(&store, names).await?;
    Ok((counts, super::outbox::unroutable(&store).await?))
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
    store: &Store,
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
    store.insert(&result).await?;
    json(200, &serde_json::to_value(&result)?)
}

async fn results(req: &Request, store: &Store) -> Answer<Response> {
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
    let rows = store.results(&target, since, limit).await?;
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
    let mut config = Config::load(env);
    if let Err(e) = cron_run(env, &mut config).await {
        let e = match e {
            ApiError::Internal(detail) => ApiError::Internal(format!("cron: {detail}")),
            other => other,
        };
        http::log(&e, &all_secret_values(env, &config));
    }
}

/// Deletes what is past the retentions (results and alerts, the audit log), probes every target (at most [`SIMULTANEOUS_PROBES`]
/// at a time), stores the results, evaluates each target's history, records new alerts in
/// the outbox, delivers every undelivered one, and sends the daily digest when it is due.
/// Returns a summary.
async fn cron_run(env: &Env, config: &mut Config) -> Answer<serde_json::Value> {
    let store = Store::open(env).await?;
    super::targets::load(&store, config).await?;
    super::destinations::load(&store, config).await?;
    for e in config.targets.errors.iter().chain(&config.errors) {
        worker::console_error!("llmscope: {e}");
    }
    let config = &*config;
    let day_ms = 86_400_000.0;
    let before = http::now_ms() - config.retention_days as f64 * day_ms;
    store.forget_before(before as i64).await?;
    let audit_before = http::now_ms() - config.audit_days as f64 * day_ms;
    store.forget_audit_before(audit_before as i64).await?;
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
    let cron = Caller {
        id: None,
        name: "cron".into(),
        role: team::Role::Owner,
    };
    let moved = super::webhook::reroute_orphans(config, &store, &cron).await?;
    let secrets = all_secret_values(env, config);
    let delivered = super::webhook::deliver_pending(env, config, &store, &secrets).await?;
    let digest = super::digest::send_daily(env, config, &store, &secrets).await?;
    Ok(json!({
        "probed": results.len(),
        "ok": results.iter().filter(|r| r.ok).count(),
        "alerts": opened,
        "rerouted": moved.rerouted,
        "unroutable": moved.unroutable.len(),
        "delivered": delivered,
        "digest": digest,
    }))
}
