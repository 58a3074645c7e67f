//! Ollama: `POST /api/chat`, newline-delimited JSON (streaming is Ollama's default; only
//! `"stream": false` gets one JSON). The last line reports server-side timings in NANOSECONDS,
//! consistent with the scripted delays: load_duration (part of the ttft, only reported),
//! prompt_eval_duration (the rest of the ttft), eval_duration (first chunk to last) and
//! total_duration. No auth unless the script sets a key (Ollama behind a proxy).

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::wire::{self, ndjson, ApiError, Ctx, Timeline, Wire};

pub(crate) async fn handle(ctx: Ctx) -> Response {
    if let Err(e) = ctx.auth(&[ctx.bearer()]) {
        return error(&e, "");
    }
    let Some(body) = ctx.json_object() else {
        return error(&ApiError::BadRequest("invalid request body".into()), "");
    };
    let Some(model) = body
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return error(&ApiError::BadRequest("model is required".into()), "");
    };
    if let Some(e) = ctx.early_fault().await {
        return error(&e, &model);
    }
    let w = Ollama {
        model: ctx.reported_model(&model),
        created_at: wire::rfc3339_now(),
        tl: ctx.timeline(),
        load: Duration::from_millis(ctx.script.load_duration_ms),
        input: ctx.script.input_tokens,
        output: ctx.script.output_tokens,
    };
    if body.get("stream") == Some(&Value::Bool(false)) {
        let body = w.last(&ctx.full_text());
        let model = w.model.clone();
        wire::whole(&ctx, body, |e| error(e, &model)).await
    } else {
        let steps = ctx.plan(&w);
        wire::stream_response("application/x-ndjson", steps)
    }
}

struct Ollama {
    model: String,
    created_at: String,
    tl: Timeline,
    load: Duration,
    input: u64,
    output: u64,
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Ollama {
    /// The final object, with the timings and counts.
    fn last(&self, content: &str) -> Value {
        let ttft = self.tl.ttft;
        let total = self.tl.end_offset().max(self.load);
        json!({
            "model": self.model,
            "created_at": self.created_at,
            "message": {"role": "assistant", "content": content},
            "done": true,
            "done_reason": "stop",
            "total_duration": ns(total),
            "load_duration": ns(self.load),
            "prompt_eval_count": self.input,
            "prompt_eval_duration": ns(ttft.saturating_sub(self.load)),
            "eval_count": self.output,
            "eval_duration": ns(self.tl.end_offset().saturating_sub(ttft))
        })
    }
}

impl Wire for Ollama {
    fn opening(&self) -> Vec<Bytes> {
        Vec::new()
    }

    fn chunk(&self, _i: u32, text: &str, _last: bool) -> Bytes {
        ndjson(&json!({
            "model": self.model,
            "created_at": self.created_at,
            "message": {"role": "assistant", "content": text},
            "done": false
        }))
    }

    fn corrupt(&self) -> Bytes {
        Bytes::from(format!(
            "{{\"model\":\"{}\",\"created_at\":\"{}\",\"message\":{{\"role\":\n",
            self.model.replace(['"', '\\'], ""),
            self.created_at
        ))
    }

    fn stream_error(&self) -> Bytes {
        ndjson(
            &json!({"error": "an error was encountered while running the model: unexpected EOF"}),
        )
    }

    fn closing(&self) -> Vec<Bytes> {
        vec![ndjson(&self.last(""))]
    }
}

/// Ollama's error bodies: `{"error": "..."}`; the 401 echoes the key as received.
fn error(e: &ApiError, model: &str) -> Response {
    let (status, message) = match e {
        ApiError::Unauthorized(Some(key)) => (
            StatusCode::UNAUTHORIZED,
            format!("unauthorized: invalid key {key}"),
        ),
        ApiError::Unauthorized(None) => (StatusCode::UNAUTHORIZED, "unauthorized".to_string()),
        ApiError::NotFound => (StatusCode::NOT_FOUND, format!("model '{model}' not found")),
        ApiError::RateLimited(..) => (
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests, please retry later".to_string(),
        ),
        ApiError::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "llama runner process has terminated: exit status 2".to_string(),
        ),
        ApiError::BadRequest(msg) => (StatusCode::BAD_REQUEST, msg.clone()),
    };
    wire::json_error(status, &json!({ "error": message }), &[], e)
}
