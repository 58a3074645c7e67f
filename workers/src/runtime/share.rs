//! `POST /share` and `GET /share/{id}`: opaque, end-to-end encrypted session blobs in KV
//! (binding `SHARES`), with an expiry. The dashboard encrypts before uploading and keeps the
//! key in the link's fragment, so what is stored here is ciphertext the Worker cannot read.

use super::config::string;
use super::http::{self, error, json};
use crate::access::{is_share_id, share_id};
use worker::{Env, Request, Response, Result};

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

/// Stores the request body; answers `{"id", "expires_at"}` (epoch ms).
pub async fn create(mut req: Request, env: &Env) -> Result<Response> {
    let max = limit(env, "LLMSCOPE_SHARE_MAX_BYTES", MAX_BYTES as u64) as usize;
    if let Some(length) = req
        .headers()
        .get("content-length")?
        .and_then(|l| l.parse::<usize>().ok())
    {
        if length > max {
            return error(413, format!("the share is {length} bytes; this Worker takes at most {max} (LLMSCOPE_SHARE_MAX_BYTES)"));
        }
    }
    let body = req.bytes().await?;
    if body.len() > max {
        return error(
            413,
            format!(
                "the share is {} bytes; this Worker takes at most {max} (LLMSCOPE_SHARE_MAX_BYTES)",
                body.len()
            ),
        );
    }
    if body.is_empty() {
        return error(
            400,
            "the share is empty: POST the encrypted session as the body",
        );
    }
    let Ok(kv) = env.kv("SHARES") else {
        return error(500, "the KV binding SHARES is missing: add [[kv_namespaces]] with binding = \"SHARES\" to wrangler.toml");
    };
    let id = match http::random_bytes(ID_BYTES) {
        Ok(b) => share_id(&b),
        Err(e) => return error(500, e),
    };
    let ttl = limit(env, "LLMSCOPE_SHARE_TTL_DAYS", TTL_DAYS) * 86_400;
    let put = kv
        .put_bytes(&id, &body)
        .map_err(|e| worker::Error::RustError(e.to_string()))?
        .expiration_ttl(ttl);
    if let Err(e) = put.execute().await {
        return error(500, format!("KV: cannot store the share: {e}"));
    }
    let expires_at = http::now_ms() + (ttl * 1000) as f64;
    json(
        201,
        &serde_json::json!({"id": id, "expires_at": expires_at as i64, "bytes": body.len()}),
    )
}

/// The stored ciphertext, as `application/octet-stream`. No token: the id is the capability.
pub async fn fetch(id: &str, env: &Env) -> Result<Response> {
    if !is_share_id(id) {
        return error(
            400,
            format!("{id:?} is not a share id (22 base64url characters)"),
        );
    }
    let Ok(kv) = env.kv("SHARES") else {
        return error(500, "the KV binding SHARES is missing");
    };
    match kv.get(id).bytes().await {
        Ok(Some(bytes)) => {
            let mut r = Response::from_bytes(bytes)?;
            r.headers_mut()
                .set("content-type", "application/octet-stream")?;
            r.headers_mut().set("cache-control", "no-store")?;
            Ok(r)
        }
        Ok(None) => error(404, "no such share: it expired, or the id is wrong"),
        Err(e) => error(500, format!("KV: {e}")),
    }
}
