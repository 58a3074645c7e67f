//! People acting on alerts (issue 16): `GET /alerts` (each alert with its acknowledgement,
//! its cause and its deliveries), `POST /alerts/{id}/ack` for members, and `POST
//! /slack/actions` for Slack's Acknowledge button and Set cause menu: the one endpoint
//! without a bearer token (Slack cannot send one), verified by Slack's signature instead.
//! Every acknowledgement and cause is written to `alert_marks` and to the audit log.

use super::config::{string, Config, DEV_RESPONSE_PREFIX, SLACK_SIGNING_SECRET};
use super::http::{self, json};
use super::store::{num, Store};
use super::team::audit;
use crate::alert::Alert;
use crate::error::ApiError;
use crate::notify::slack::{self, Act};
use crate::notify::{self, Severity};
use crate::provider::HttpRequest;
use crate::team::{Caller, Role};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Request, Response};

type Answer<T> = std::result::Result<T, ApiError>;

/// Alerts per `GET /alerts` answer by default, and at most.
const DEFAULT_LIMIT: i64 = 1000;
const MAX_LIMIT: i64 = 10_000;
/// The largest body of `POST /slack/actions` or `POST /alerts/{id}/ack`, bytes.
const MAX_BODY: usize = 256 * 1024;

#[derive(Deserialize)]
struct Row {
    id: f64,
    json: String,
    acked_at: Option<f64>,
    acked_by: Option<String>,
    cause: Option<String>,
    cause_by: Option<String>,
}

#[derive(Deserialize)]
struct Delivery {
    alert_id: f64,
    destination: String,
    delivered: f64,
    sent_at: Option<f64>,
    sends: f64,
}

const SELECT: &str = "SELECT a.id AS id, a.json AS json, m.acked_at AS acked_at, m.acked_by AS acked_by, m.cause AS cause, m.cause_by AS cause_by FROM alerts a LEFT JOIN alert_marks m ON m.alert_id = a.id";

/// An alert as `GET /alerts` shows it: its stored fields, and `id`, `severity`, `summary`,
/// `acknowledged_at`, `acknowledged_by`, `cause`, `cause_by` and `deliveries`.
fn shown(row: &Row, deliveries: &[Delivery]) -> Value {
    let mut v: Value = serde_json::from_str(&row.json).unwrap_or_else(|_| json!({}));
    let alert = Alert::from_stored(&row.json);
    let extra = json!({
        "id": row.id as i64,
        "severity": alert.as_ref().map(|a| Severity::of(a).as_str()),
        "summary": alert.as_ref().map(Alert::describe),
        "acknowledged_at": row.acked_at.map(|t| t as i64),
        "acknowledged_by": row.acked_by,
        "cause": row.cause,
        "cause_by": row.cause_by,
        "deliveries": deliveries.iter().filter(|d| d.alert_id == row.id).map(|d| json!({
            "destination": d.destination, "delivered": d.delivered > 0.0,
            "unroutable": d.delivered < 0.0,
            "sent_at": d.sent_at.map(|t| t as i64), "sends": d.sends as i64,
        })).collect::<Vec<_>>(),
    });
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v
}

async fn deliveries_of(store: &Store, ids: &[i64]) -> Answer<Vec<Delivery>> {
    let ids = serde_json::to_string(ids)?;
    Ok(store
        .db()
        .prepare("SELECT alert_id, destination, delivered, sent_at, sends FROM deliveries WHERE alert_id IN (SELECT value FROM json_each(?1)) ORDER BY destination")
        .bind(&[ids.as_str().into()])?
        .all()
        .await
        .map_err(|e| format!("D1: cannot read deliveries: {e}"))?
        .results::<Delivery>()?)
}

/// `GET /alerts?since=<epoch ms>&target=NAME&limit=N`: alerts with `t > since`, oldest first.
pub async fn list(req: &Request, store: &Store) -> Answer<Response> {
    let (mut since, mut target, mut limit) = (0i64, None, DEFAULT_LIMIT);
    let bad = |m: String| Err(ApiError::BadRequest(m));
    for (k, v) in req.url()?.query_pairs() {
        match k.as_ref() {
            "since" => match v.parse::<f64>() {
                Ok(s) if s.is_finite() => since = s as i64,
                _ => return bad(format!("since={v}: must be epoch milliseconds")),
            },
            "target" => target = Some(v.to_string()),
            "limit" => match v.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => limit = n,
                _ => return bad(format!("limit={v}: must be 1 to {MAX_LIMIT}")),
            },
            other => {
                return bad(format!(
                    "unknown parameter {other:?}: use since, target, limit"
                ))
            }
        }
    }
    let sql = format!(
        "{SELECT} WHERE a.t > ?1 AND (?2 IS NULL OR a.target = ?2) ORDER BY a.t, a.id LIMIT ?3"
    );
    let target = target.map_or(wasm_bindgen::JsValue::NULL, |t| t.as_str().into());
    let rows = store
        .db()
        .prepare(sql)
        .bind(&[num(since), target, num(limit)])?
        .all()
        .await
        .map_err(|e| format!("D1: cannot read alerts: {e}"))?
        .results::<Row>()?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id as i64).collect();
    let deliveries = deliveries_of(store, &ids).await?;
    json(
        200,
        &Value::Array(rows.iter().map(|r| shown(r, &deliveries)).collect()),
    )
}

/// The alert `id` as `GET /alerts` shows it, or 404.
async fn one(store: &Store, id: i64) -> Answer<Value> {
    let row = store
        .db()
        .prepare(format!("{SELECT} WHERE a.id = ?1"))
        .bind(&[num(id)])?
        .first::<Row>(None)
        .await
        .map_err(|e| format!("D1: cannot read an alert: {e}"))?
        .ok_or_else(|| ApiError::NotFound(format!("no alert {id}: GET /alerts lists them")))?;
    Ok(shown(&row, &deliveries_of(store, &[id]).await?))
}

/// Records `act` on alert `id` by `who` (the alert must exist), and its audit line.
async fn mark(store: &Store, id: i64, act: &Act, who: &Caller) -> Answer<()> {
    let alert = one(store, id).await?;
    let now = num(http::now_ms() as i64);
    let what = format!(
        "{id} {} {}",
        alert["target"].as_str().unwrap_or("?"),
        alert["metric"].as_str().unwrap_or("?")
    );
    let (statement, args, action, target) = match act {
        Act::Ack => (
            "INSERT INTO alert_marks (alert_id, acked_at, acked_by) VALUES (?1, ?2, ?3) ON CONFLICT (alert_id) DO UPDATE SET acked_at = COALESCE(acked_at, excluded.acked_at), acked_by = COALESCE(acked_by, excluded.acked_by)",
            vec![num(id), now, who.name.as_str().into()],
            "alert.ack",
            what,
        ),
        Act::Cause(c) => (
            "INSERT INTO alert_marks (alert_id, cause, cause_by, cause_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (alert_id) DO UPDATE SET cause = excluded.cause, cause_by = excluded.cause_by, cause_at = excluded.cause_at",
            vec![num(id), (*c).into(), who.name.as_str().into(), now],
            "alert.cause",
            format!("{what}: {c}"),
        ),
    };
    store
        .db()
        .prepare(statement)
        .bind(&args)?
        .run()
        .await
        .map_err(|e| format!("D1: cannot record {action}: {e}"))?;
    audit(store, who, action, &target).await
}

/// An alert id in a path.
fn alert_id(segment: &str) -> Answer<i64> {
    segment
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::NotFound(format!("no alert {segment:?}: GET /alerts lists them")))
}

async fn body(req: &mut Request) -> Answer<Vec<u8>> {
    super::share::body_within(req, MAX_BODY, |n| {
        ApiError::TooLarge(format!("the body is {n} bytes; at most {MAX_BODY}"))
    })
    .await
}

/// `POST /alerts/{id}/ack` with an optional body `{"cause": "<one of the causes>"}`:
/// acknowledges the alert (the first acknowledgement stands) and sets its cause; answers the
/// alert as `GET /alerts` shows it.
pub async fn ack(mut req: Request, store: &Store, caller: &Caller, id: &str) -> Answer<Response> {
    let id = alert_id(id)?;
    let bytes = body(&mut req).await?;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Ack {
        #[serde(default)]
        cause: Option<String>,
    }
    let given: Ack = if bytes.iter().all(u8::is_ascii_whitespace) {
        Ack { cause: None }
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::BadRequest(format!(
                "{e}: send nothing, or {{\"cause\": \"rate limiting\"}}"
            ))
        })?
    };
    let cause = given
        .cause
        .map(|c| notify::cause(&c).map_err(ApiError::BadRequest))
        .transpose()?;
    mark(store, id, &Act::Ack, caller).await?;
    if let Some(c) = cause {
        mark(store, id, &Act::Cause(c), caller).await?;
    }
    json(200, &one(store, id).await?)
}

/// `POST /slack/actions`: Slack's interaction request, verified with `SLACK_SIGNING_SECRET`
/// (401 naming what is wrong, recording nothing), then each action recorded as the Slack user,
/// and the message pressed on updated to say so.
pub async fn slack_actions(
    mut req: Request,
    env: &Env,
    config: &Config,
    store: &Store,
) -> Answer<Response> {
    let Some(secret) = string(env, SLACK_SIGNING_SECRET).filter(|s| !s.is_empty()) else {
        return Err(ApiError::BadSignature(format!(
            "Slack interactivity is off: the Worker has no {SLACK_SIGNING_SECRET}"
        )));
    };
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let (timestamp, signature) = (
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
    );
    let bytes = body(&mut req).await?;
    let now_s = (http::now_ms() / 1000.0) as i64;
    slack::verify(
        &secret,
        timestamp.as_deref(),
        signature.as_deref(),
        &bytes,
        now_s,
    )
    .map_err(ApiError::BadSignature)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))?;
    let interaction = slack::interaction(&text).map_err(ApiError::BadRequest)?;
    let who = Caller {
        id: Some(format!("slack:{}", interaction.user_id)),
        name: interaction.member(),
        role: Role::Editor,
    };
    for (id, act) in &interaction.acts {
        mark(store, *id, act, &who).await?;
    }
    let mut ids: Vec<i64> = interaction.acts.iter().map(|(id, _)| *id).collect();
    ids.dedup();
    if let Some(url) = &interaction.response_url {
        for id in ids {
            update_message(env, config, store, url, interaction.message.as_ref(), id).await?;
        }
    }
    json(200, &json!({"ok": true}))
}

/// Replaces the Slack message pressed on with one saying who acknowledged the alert and its
/// cause ([`notify::slack_update`]), through the interaction's `response_url`, only on Slack's
/// host (or `LLMSCOPE_DEV_SLACK_RESPONSE_PREFIX`'s). The press is recorded whatever happens
/// here: a refused update is logged, not an error.
async fn update_message(
    env: &Env,
    config: &Config,
    store: &Store,
    url: &str,
    original: Option<&Value>,
    id: i64,
) -> Answer<()> {
    let dev = string(env, DEV_RESPONSE_PREFIX);
    if let Err(why) = slack::response_url_allowed(url, dev.as_deref()) {
        worker::console_warn!("llmscope: Slack alert {id}: {why}");
        return Ok(());
    }
    let alert = one(store, id).await?;
    let text = |k: &str| alert[k].as_str().map(str::to_string);
    let marks = notify::Marks {
        acked_by: text("acknowledged_by"),
        cause: text("cause"),
        cause_by: text("cause_by"),
    };
    let request = HttpRequest {
        method: "POST".into(),
        url: url.to_string(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: notify::slack_update(original, id, &marks)
            .to_string()
            .into_bytes(),
    };
    let timeout_ms = config.webhook_timeout_ms.min(UPDATE_TIMEOUT_MS);
    let why = match http::send_within(&request, timeout_ms, false).await {
        Ok((status, _)) if (200..300).contains(&status) => return Ok(()),
        Ok((status, _)) => format!("Slack answered HTTP {status}"),
        Err(e) => e,
    };
    worker::console_error!("llmscope: Slack alert {id}: the message was not updated ({why})");
    Ok(())
}

/// The longest wait for Slack to take a message update, ms: one attempt, so the press is
/// answered within the 3 s Slack gives an interaction request.
const UPDATE_TIMEOUT_MS: u64 = 2000;
