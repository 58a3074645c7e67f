//! `POST /share` and `GET /share/{id}`: opaque, end-to-end encrypted session blobs in KV
//! (binding `SHARES`), with an expiry. The dashboard encrypts before uploading and keeps the
//! key in the link's fragment, so what is stored here is ciphertext the Worker cannot read.

use super::config::string;
use super::http::{self, json};
use super::store::Store;
use crate::access::{is_share_id, new_share_id, padded_len};
use crate::error::ApiError;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use worker::{Env, Request, Response};

/// Default most bytes one share may take (KV takes up to 25 MiB per value).
const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Default days a share lives.
const TTL_DAYS: u64 = 30;

fn limit(env: &Env, name: &str, default: u64) -> u64 {
    string(env, name)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// A share's KV metadata: its length before padding.
#[derive(Serialize, Deserialize)]
struct Stored {
    len: usize,
}

/// Default shares one token may store per UTC day.
const QUOTA_PER_DAY: u64 = 100;

/// The bearer token of an (already authorized) request.
fn req_token(req: &Request) -> String {
    req.headers()
        .get("authorization")
        .ok()
        .flatten()
        .and_then(|h| crate::access::bearer(&h).map(str::to_string))
        .unwrap_or_default()
}

/// Counts one share against the token's quota for today (UTC), in D1 so every isolate sees
/// the same count.
async fn quota(env: &Env, store: &Store, token: String) -> Result<(), ApiError> {
    let per_day = limit(env, "LLMSCOPE_SHARE_QUOTA_PER_DAY", QUOTA_PER_DAY);
    let day = (http::now_ms() / 86_400_000.0).floor() as i64;
    let used = store.count_share(&token, day).await?;
    if used > per_day {
        return Err(ApiError::QuotaExceeded(format!(
            "this token has stored {per_day} shares today (UTC), its quota (LLMSCOPE_SHARE_QUOTA_PER_DAY); try again tomorrow"
        )));
    }
    Ok(())
}

/// The request body, read chunk by chunk and kept only while it stays within `max` bytes (a
/// chunked body has no length to check up front): memory never holds more than `max`.
/// `too_big` words the refusal, given the size ("more than N" when it is not known).
pub async fn body_within(
    req: &mut Request,
    max: usize,
    too_big: impl Fn(String) -> ApiError,
) -> Result<Vec<u8>, ApiError> {
    if let Some(length) = req
        .headers()
        .get("content-length")?
        .and_then(|l| l.parse::<usize>().ok())
    {
        if length > max {
            return Err(too_big(length.to_string()));
        }
    }
    let mut body = Vec::new();
    let mut over = false;
    let mut stream = req.stream()?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        // Past the limit nothing more is kept, but the rest is read: a refused body left
        // unread stalls the connection (wrangler dev then serves no other request).
        over |= body.len() + chunk.len() > max;
        if !over {
            body.extend_from_slice(&chunk);
        }
    }
    if over {
        return Err(too_big(format!("more than {max}")));
    }
    Ok(body)
}

/// Stores the request body; answers `{"id", "expires_at", "bytes"}` (epoch ms). The audit
/// log records who shared (`share`, the id).
pub async fn create(
    mut req: Request,
    env: &Env,
    store: &Store,
    caller: &crate::team::Caller,
) -> Result<Response, ApiError> {
    let max = limit(env, "LLMSCOPE_SHARE_MAX_BYTES", MAX_BYTES as u64) as usize;
    let body = body_within(&mut req, max, |n| {
        ApiError::TooLarge(format!(
            "the share is {n} bytes; this Worker takes at most {max} (LLMSCOPE_SHARE_MAX_BYTES)"
        ))
    })
    .await?;
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "the share is empty: POST the encrypted session as the body".into(),
        ));
    }
    quota(env, store, req_token(&req)).await?;
    let kv = env.kv("SHARES").map_err(|_| {
        ApiError::Internal("the KV binding SHARES is missing: add [[kv_namespaces]] with binding = \"SHARES\" to wrangler.toml".into())
    })?;
    let id = new_share_id()
        .map_err(|e| ApiError::Internal(format!("no random bytes for a share id: {e}")))?;
    let ttl = limit(env, "LLMSCOPE_SHARE_TTL_DAYS", TTL_DAYS) * 86_400;
    let mut stored = body.clone();
    stored.resize(padded_len(body.len(), max), 0);
    kv.put_bytes(&id, &stored)
        .map_err(|e| ApiError::Internal(format!("KV: {e}")))?
        .metadata(Stored { len: body.len() })
        .map_err(|e| ApiError::Internal(format!("KV: {e}")))?
        .expiration_ttl(ttl)
        .execute()
        .await
        .map_err(|e| ApiError::Internal(format!("KV: cannot store the share: {e}")))?;
    super::team::audit(store, caller, "share", &id).await?;
    let expires_at = http::now_ms() + (ttl * 1000) as f64;
    json(
        201,
        &serde_json::json!({"id": id, "expires_at": expires_at as i64, "bytes": body.len()}),
    )
}

/// The stored ciphertext, as `application/octet-stream`. No token: the id is the capability.
pub async fn fetch(id: &str, env: &Env) -> Result<Response, ApiError> {
    if !is_share_id(id) {
        return Err(ApiError::BadRequest(format!(
            "{id:?} is not a share id (22 base64url characters)"
        )));
    }
    let kv = env
        .kv("SHARES")
        .map_err(|_| ApiError::Internal("the KV binding SHARES is missing".into()))?;
    match kv.get(id).bytes_with_metadata::<Stored>().await {
        Ok((Some(mut bytes), meta)) => {
            if let Some(m) = meta {
                bytes.truncate(m.len);
            }
            let mut r = Response::from_bytes(bytes)?;
            r.headers_mut()
                .set("content-type", "application/octet-stream")?;
            r.headers_mut().set("cache-control", "no-store")?;
            Ok(r)
        }
        Ok((None, _)) => Err(ApiError::NotFound(
            "no such share: it expired, or the id is wrong".into(),
        )),
        Err(e) => Err(ApiError::Internal(format!("KV: {e}"))),
    }
}
