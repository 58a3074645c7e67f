//! Team dashboards in D1 (issue 16): saved views with a version. A save names the version it
//! was made from (`If-Match`), and D1 applies it only if that is still the stored version, in
//! one conditional `UPDATE`: of two editors saving from the same version, one wins and the
//! other gets 409 and reloads, so neither change is lost without its author knowing.

use super::http::json;
use super::store::{num, Store};
use super::team::audit;
use crate::dashboard::{self, Save};
use crate::error::ApiError;
use crate::team::Caller;
use serde::Deserialize;
use serde_json::json;
use worker::{Request, Response};

type Answer<T> = std::result::Result<T, ApiError>;

#[derive(Deserialize)]
struct Listed {
    id: String,
    name: String,
    version: f64,
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
}

/// `GET /dashboards`: `[{"id", "name", "version"}]`, by id.
pub async fn list(store: &Store) -> Answer<Response> {
    let rows = store
        .db()
        .prepare("SELECT id, name, version FROM dashboards ORDER BY id")
        .all()
        .await
        .map_err(|e| format!("D1: cannot read dashboards: {e}"))?
        .results::<Listed>()?;
    let list = rows
        .into_iter()
        .map(|d| json!({"id": d.id, "name": d.name, "version": d.version as i64}))
        .collect();
    json(200, &serde_json::Value::Array(list))
}

/// `GET /dashboards/{id}`: `{"id", "name", "version", "body"}`, with `ETag: "<version>"`.
pub async fn get(store: &Store, id: &str) -> Answer<Response> {
    dashboard::check_id(id).map_err(ApiError::NotFound)?;
    let d = store
        .db()
        .prepare("SELECT id, name, version, body FROM dashboards WHERE id = ?1")
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
        &json!({"id": d.id, "name": d.name, "version": version, "body": body}),
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
    audit(store, caller, "dashboard.save", &format!("{id} v{version}")).await?;
    json(200, &json!({"version": version}))
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
        None => Err(ApiError::Conflict(dashboard::exists(
            id,
            stored_version(store, id).await?,
        ))),
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
    match stored_version(store, id).await? {
        Some(now) => Err(ApiError::Conflict(dashboard::stale(id, base, now))),
        None => Err(ApiError::NotFound(format!(
            "no dashboard {id:?} to save over: PUT without If-Match creates it"
        ))),
    }
}

async fn stored_version(store: &Store, id: &str) -> Answer<Option<i64>> {
    Ok(store
        .db()
        .prepare("SELECT version FROM dashboards WHERE id = ?1")
        .bind(&[id.into()])?
        .first::<Version>(None)
        .await
        .map_err(|e| format!("D1: cannot read a dashboard: {e}"))?
        .map(|v| v.version as i64))
}
