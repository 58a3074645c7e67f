//! A custom JSON endpoint, for the "custom HTTP" probe (the user points JSON pointers at the
//! text and the usage): `POST /generate` with `{"prompt": "...", "stream": bool}`. Streaming
//! answers NDJSON `{"token":{"text"}}` lines and a `{"done":true,"stats":{...}}` line;
//! otherwise one `{"output":{"text"},"stats":{...}}` once the whole text is generated.

use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::wire::{self, ndjson, ApiError, Ctx, Wire};

pub(crate) async fn handle(ctx: Ctx) -> Response {
    if let Err(e) = ctx.auth(&[ctx.bearer()]) {
        return error(&e);
    }
    let Some(body) = ctx.json_object() else {
        return error(&ApiError::BadRequest("body must be a JSON object".into()));
    };
    if !body.get("prompt").is_some_and(Value::is_string) {
        return error(&ApiError::BadRequest(
            "missing string field 'prompt'".into(),
        ));
    }
    if let Some(e) = ctx.early_fault().await {
        return error(&e);
    }
    let w = Custom {
        stats: json!({
            "prompt_tokens": ctx.script.input_tokens,
            "generated_tokens": ctx.script.output_tokens
        }),
    };
    if body.get("stream") == Some(&Value::Bool(true)) {
        let steps = ctx.plan(&w);
        wire::stream_response("application/x-ndjson", steps)
    } else {
        let body = json!({"output": {"text": ctx.full_text()}, "stats": w.stats});
        wire::whole(&ctx, body, error).await
    }
}

struct Custom {
    stats: Value,
}

impl Wire for Custom {
    fn opening(&self) -> Vec<Bytes> {
        Vec::new()
    }

    fn chunk(&self, _i: u32, text: &str, _last: bool) -> Bytes {
        ndjson(&json!({"token": {"text": text}}))
    }

    fn corrupt(&self) -> Bytes {
        Bytes::from_static(b"{\"token\":{\"text\":\n")
    }

    fn stream_error(&self) -> Bytes {
        ndjson(&json!({"error": "generation failed: worker crashed"}))
    }

    fn closing(&self) -> Vec<Bytes> {
        vec![ndjson(&json!({"done": true, "stats": self.stats}))]
    }
}

/// `{"error": "..."}`; the 401 echoes the token as received.
fn error(e: &ApiError) -> Response {
    let (status, message) = match e {
        ApiError::Unauthorized(Some(key)) => {
            (StatusCode::UNAUTHORIZED, format!("invalid token: {key}"))
        }
        ApiError::Unauthorized(None) => (StatusCode::UNAUTHORIZED, "missing token".to_string()),
        ApiError::NotFound => (StatusCode::NOT_FOUND, "model not found".to_string()),
        ApiError::RateLimited(s, _) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("rate limited, retry in {s} s"),
        ),
        ApiError::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal server error".to_string(),
        ),
        ApiError::BadRequest(msg) => (StatusCode::BAD_REQUEST, msg.clone()),
    };
    wire::json_error(status, &json!({ "error": message }), &[], e)
}
