//! `POST /share` and `GET /share/{id}`: opaque, end-to-end encrypted session blobs in KV
//! (binding `SHARES`), with an expiry. The dashboard encrypts before uploading and keeps the
//! key in the link's fragment, so what is stored here is ciphertext the Worker cannot read.

use super::config::string;
use super::http::{self, json};
use crate::access::{is_share_id, share_id};
use crate::error::ApiError;
use futures_util::StreamExt;
use worker::{Env, Request, Response};

/// Default most bytes one share may take (KV takes up to 25 MiB per value).
const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Default days a share lives.
const TTL_DAYS: u64 = 30;
/// Random bytes in an id: 128 bits, so ids cannot be guessed.
const ID_BYTES: usize = 16;

fn limit(env: &Env, name: &str, default: u64) -> u64 {
    string(env, name)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// The request body, read chunk by chunk and refused as soon as it passes `max` bytes (a
/// chunked body has no length to check up front).
async fn body_within(req: &mut Request, max: usize) -> Result<Vec<u8>, ApiError> {
    let too_big = |n: String| {
        ApiError::TooLarge(format!(
            "the share is {n} bytes; this Worker takes at most {max} (LLMSCOPE_SHARE_MAX_BYTES)"
        ))
    };
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
    let mut stream = req.stream()?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > max {
            return Err(too_big(format!("more than {max}")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Stores the request body; answers `{"id", "expires_at", "bytes"}` (epoch ms).
pub async fn create(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let max = limit(env, "LLMSCOPE_SHARE_MAX_BYTES", MAX_BYTES as u64) as usize;
    let body = body_within(&mut req, max).await?;
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "the share is empty: POST the encrypted session as the body".into(),
        ));
    }
    let kv = env.kv("SHARES").map_err(|_| {
        ApiError::Internal("the KV binding SHARES is missing: add [[kv_namespaces]] with binding = \"SHARES\" to wrangler.toml".into())
    })?;
    let id = share_id(&http::random_bytes(ID_BYTES)?);
    let ttl = limit(env, "LLMSCOPE_SHARE_TTL_DAYS", TTL_DAYS) * 86_400;
    kv.put_bytes(&id, &body)
        .map_err(|e| ApiError::Internal(format!("KV: {e}")))?
        .expiration_ttl(ttl)
        .execute()
        .await
        .map_err(|e| ApiError::Internal(format!("KV: cannot store the share: {e}")))?;
    let expires_at = http::now_ms() + (ttl * 1000) as f64;
    Ok(json(
        201,
        &serde_json::json!({"id": id, "expires_at": expires_at as i64, "bytes": body.len()}),
    )?)
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
    match kv.get(id).bytes().await {
        Ok(Some(bytes)) => {
            let mut r = Response::from_bytes(bytes)?;
            r.headers_mut()
                .set("content-type", "application/octet-stream")?;
            r.headers_mut().set("cache-control", "no-store")?;
            Ok(r)
        }
        Ok(None) => Err(ApiError::NotFound(
            "no such share: it expired, or the id is wrong".into(),
        )),
        Err(e) => Err(ApiError::Internal(format!("KV: {e}"))),
    }
}
