//! Team dashboards in D1 (issue 16): saved views with a version. A save names the version it
//! was made from (`If-Match`), and D1 applies it only if that is still the stored version, in
//! one conditional `UPDATE`: of two editors saving from the same version, one wins and the
//! other gets 409 and reloads, so neither change is lost without its author knowing.
//!
//! Who saved each version is the member the Worker authenticated (`dashboard_saves`, one row
//! per version), never what the body says.

use super::http::json;
use super::store::{num, Store};
use super::team::audit;
use crate::dashboard::{self, Save};
use crate::error::ApiError;
use crate::team::Caller;
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{Request, Response};

type Answer<T> = std::result::Result<T, ApiError>;

#[derive(Deserialize)]
struct Listed {
    id: String,
    name: String,
    version: f64,
    saved_by: Option<String>,
}

#[derive(Deserialize)]
struct Version {
    version: f64,
}

#[derive(Deserialize)]
struct Whole {
    id: String,
    name: String,
    version: f64,
    body: String,
    saved_by: Option<String>,
}

#[derive(Deserialize)]
struct Stored {
    version: f64,
    saved_by: Option<String>,
}

/// Who saved each dashboard's current version, joined to `dashboards` as `d` (null for a
/// version saved before the Worker kept it).
const WITH_SAVER: &str =
    "FROM dashboards d LEFT JOIN dashboard_saves s ON s.id = d.id AND s.version = d.version";

/// `GET /dashboards`: `[{"id", "name", "version", "saved_by"}]`, by id.
pub async fn list(store: &Store) -> Answer<Response> {
    let rows = store
        .db()
        .prepare(format!(
            "SELECT d.id, d.name, d.version, s.saved_by {WITH_SAVER} ORDER BY d.id"
        ))
        .all()
        .await
        .map_err(|e| format!("D1: cannot read dashboards: {e}"))?
        .results::<Listed>()?;
    let list = rows
        .into_iter()
        .map(|d| json!({"id": d.id, "name": d.name, "version": d.version as i64, "saved_by": d.saved_by}))
        .collect();
    json(200, &serde_json::Value::Array(list))
}

/// `GET /dashboards/{id}`: `{"id", "name", "version", "body", "saved_by"}`, with
/// `ETag: "<version>"`.
pub async fn get(store: &Store, id: &str) -> Answer<Response> {
    dashboard::check_id(id).map_err(ApiError::NotFound)?;
    let d = store
        .db()
        .prepare(format!(
            "SELECT d.id, d.name, d.version, d.body, s.saved_by {WITH_SAVER} WHERE d.id = ?1"
        ))
        .bind(&[id.into()])?
        .first::<Whole>(None)
        .await
        .map_err(|e| format!("D1: cannot read a dashboard: {e}"))?
        .ok_or_else(|| {
            ApiError::NotFound(format!("no dashboard {id:?}: GET /dashboards lists them"))
        })?;
    let body: serde_json::Value = serde_json::from_str(&d.body)?;
    let version = d.version as i64;
    let mut r = json(
        200,
        &json!({"id": d.id, "name": d.name, "version": version, "body": body, "saved_by": d.saved_by}),
    )?;
    r.headers_mut().set("etag", &format!("\"{version}\""))?;
    Ok(r)
}

/// `PUT /dashboards/{id}` `{"name", "body"}`: creates it (no `If-Match`) or saves over the
/// version named in `If-Match`; 200 `{"version"}`, or 409 when that version is not the
/// stored one any more (or, creating, when it exists already).
pub async fn put(mut req: Request, store: &Store, caller: &Caller, id: &str) -> Answer<Response> {
    dashboard::check_id(id).map_err(ApiError::BadRequest)?;
    let if_match = req.headers().get("if-match")?;
    let max = dashboard::MAX_BYTES;
    let bytes = super::share::body_within(&mut req, max, |n| {
        ApiError::TooLarge(format!(
            "the dashboard is {n} bytes; this Worker takes at most {max}"
        ))
    })
    .await?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8: send JSON".into()))?;
    let save = dashboard::save(&text, if_match.as_deref()).map_err(ApiError::BadRequest)?;
    let version = match save.base {
        None => create(store, id, &save).await?,
        Some(base) => update(store, id, &save, base).await?,
    };
    saved_by(store, caller, id, version).await?;
    audit(store, caller, "dashboard.save", &format!("{id} v{version}")).await?;
    json(200, &json!({"version": version}))
}

/// Records `caller` as who saved `version` of dashboard `id` (a row left by a deleted
/// dashboard of the same id is replaced).
async fn saved_by(store: &Store, caller: &Caller, id: &str, version: i64) -> Answer<()> {
    let member_id = caller.id.as_deref().map_or(JsValue::NULL, JsValue::from);
    store
        .db()
        .prepare("INSERT OR REPLACE INTO dashboard_saves (id, version, saved_by, member_id, t) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(&[
            id.into(),
            num(version),
            caller.name.as_str().into(),
            member_id,
            num(super::http::now_ms() as i64),
        ])?
        .run()
        .await
        .map_err(|e| format!("D1: cannot record who saved a dashboard: {e}"))?;
    Ok(())
}

/// `DELETE /dashboards/{id}`: removes it and who saved its versions; 204, or 404 when there
/// is no such dashboard.
pub async fn delete(store: &Store, caller: &Caller, id: &str) -> Answer<Response> {
    dashboard::check_id(id).map_err(ApiError::NotFound)?;
    let db = store.db();
    let gone = db
        .prepare("DELETE FROM dashboards WHERE id = ?1 RETURNING version")
        .bind(&[id.into()])?;
    let saves = db
        .prepare("DELETE FROM dashboard_saves WHERE id = ?1")
        .bind(&[id.into()])?;
    let results = db
        .batch(vec![gone, saves])
        .await
        .map_err(|e| format!("D1: cannot delete a dashboard: {e}"))?;
    let version = results
        .into_iter()
        .next()
        .map(|r| r.results::<Version>())
        .transpose()?
        .and_then(|rows| rows.into_iter().next())
        .ok_or_else(|| {
            ApiError::NotFound(format!("no dashboard {id:?}: GET /dashboards lists them"))
        })?;
    let target = format!("{id} v{}", version.version as i64);
    audit(store, caller, "dashboard.delete", &target).await?;
    Ok(Response::empty()?.with_status(204))
}

async fn create(store: &Store, id: &str, save: &Save) -> Answer<i64> {
    let made = store
        .db()
        .prepare("INSERT INTO dashboards (id, name, version, body) VALUES (?1, ?2, 1, ?3) ON CONFLICT (id) DO NOTHING RETURNING version")
        .bind(&[id.into(), save.name.as_str().into(), save.body.as_str().into()])?
        .first::<Version>(None)
        .await
        .map_err(|e| format!("D1: cannot create a dashboard: {e}"))?;
    match made {
        Some(v) => Ok(v.version as i64),
        None => {
            let now = stored(store, id).await?;
            Err(ApiError::Conflict(dashboard::exists(
                id,
                now.as_ref().map(|n| n.version as i64),
                now.as_ref().and_then(|n| n.saved_by.as_deref()),
            )))
        }
    }
}

async fn update(store: &Store, id: &str, save: &Save, base: i64) -> Answer<i64> {
    let saved = store
        .db()
        .prepare("UPDATE dashboards SET name = ?1, body = ?2, version = version + 1 WHERE id = ?3 AND version = ?4 RETURNING version")
        .bind(&[save.name.as_str().into(), save.body.as_str().into(), id.into(), num(base)])?
        .first::<Version>(None)
        .await
        .map_err(|e| format!("D1: cannot save a dashboard: {e}"))?;
    if let Some(v) = saved {
        return Ok(v.version as i64);
    }
    // Not saved: say why (read after the refusal, for the message only).
    match stored(store, id).await? {
        Some(now) => Err(ApiError::Conflict(dashboard::stale(
            id,
            base,
            now.version as i64,
            now.saved_by.as_deref(),
        ))),
        None => Err(ApiError::NotFound(format!(
            "no dashboard {id:?} to save over: PUT without If-Match creates it"
        ))),
    }
}

/// The stored version of dashboard `id` and who saved it.
async fn stored(store: &Store, id: &str) -> Answer<Option<Stored>> {
    Ok(store
        .db()
        .prepare(format!(
            "SELECT d.version, s.saved_by {WITH_SAVER} WHERE d.id = ?1"
        ))
        .bind(&[id.into()])?
        .first::<Stored>(None)
        .await
        .map_err(|e| format!("D1: cannot read a dashboard: {e}"))?)
}
