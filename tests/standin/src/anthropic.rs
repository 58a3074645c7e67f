//! Anthropic messages: `POST /v1/messages` with `x-api-key` and `anthropic-version`, named
//! server-sent events. `message_delta.usage.output_tokens` is the CUMULATIVE final count while
//! `message_start` already reported 1: a probe that adds instead of assigning gets it wrong.
//! With `"thinking": {"type": "enabled", "budget_tokens": N}` a thinking block (thinking
//! deltas, a signature) comes first and the text is block 1; its tokens are in `output_tokens`,
//! with no count of their own.

use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::thinking_text;
use crate::wire::{self, sse_event, ApiError, Ctx, Wire};

pub(crate) async fn handle(ctx: Ctx) -> Response {
    if let Err(e) = ctx.auth(&[ctx.header("x-api-key")]) {
        return error(&e, "");
    }
    if ctx.header("anthropic-version").is_none() {
        let msg = "anthropic-version: header is required";
        return error(&ApiError::BadRequest(msg.into()), "");
    }
    let Some(body) = ctx.json_object() else {
        return error(
            &ApiError::BadRequest("There was an issue with the request body: invalid JSON".into()),
            "",
        );
    };
    let Some(model) = body
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return error(&ApiError::BadRequest("model: Field required".into()), "");
    };
    if !body.get("max_tokens").is_some_and(Value::is_u64) {
        return error(
            &ApiError::BadRequest("max_tokens: Field required".into()),
            &model,
        );
    }
    if !body.get("messages").is_some_and(Value::is_array) {
        return error(
            &ApiError::BadRequest("messages: Field required".into()),
            &model,
        );
    }
    let thinking = match thinking_requested(&body) {
        Ok(on) => on,
        Err(msg) => return error(&ApiError::BadRequest(msg), &model),
    };
    if let Some(e) = ctx.early_fault().await {
        return error(&e, &model);
    }
    let s = &ctx.script;
    let w = Anthropic {
        id: format!("msg_standin{}", ctx.serial),
        thinking_chunks: if thinking { s.thinking_chunks } else { 0 },
        model: ctx.reported_model(&model),
        input_tokens: s.input_tokens,
        output_tokens: s.output_tokens,
        cache_read: s.cached_input_tokens,
        cache_write: s.cache_write_tokens,
    };
    if body.get("stream") == Some(&Value::Bool(true)) {
        let steps = ctx.plan(&w);
        wire::stream_response("text/event-stream; charset=utf-8", steps)
    } else {
        let body = json!({
            "id": w.id,
            "type": "message",
            "role": "assistant",
            "model": w.model,
            "content": w.content(&ctx.full_text()),
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": w.usage(w.output_tokens)
        });
        let model = w.model.clone();
        wire::whole(&ctx, body, |e| error(e, &model)).await
    }
}

/// Whether the request turns extended thinking on, checked as the API checks it: a budget of
/// at least 1024 tokens, below `max_tokens`.
fn thinking_requested(body: &serde_json::Map<String, Value>) -> Result<bool, String> {
    let Some(t) = body.get("thinking") else {
        return Ok(false);
    };
    match t.get("type").and_then(Value::as_str) {
        Some("disabled") => Ok(false),
        Some("enabled") => {
            let budget = t.get("budget_tokens").and_then(Value::as_u64);
            let max = body.get("max_tokens").and_then(Value::as_u64).unwrap_or(0);
            match budget {
                None => Err("thinking.enabled.budget_tokens: Field required".into()),
                Some(b) if b < 1024 => Err(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
                        .into(),
                ),
                Some(b) if b >= max => {
                    Err("`max_tokens` must be greater than `thinking.budget_tokens`.".into())
                }
                Some(_) => Ok(true),
            }
        }
        _ => Err(
            "thinking: Input tag does not match any of the expected tags: 'enabled', 'disabled'"
                .into(),
        ),
    }
}

struct Anthropic {
    id: String,
    /// Thinking deltas before the text (0: no thinking block).
    thinking_chunks: u32,
    model: String,
    input_tokens: u64,
    output_tokens: u64,
    cache_read: u64,
    cache_write: u64,
}

impl Anthropic {
    /// A whole message's content blocks.
    fn content(&self, text: &str) -> Value {
        let text = json!({"type": "text", "text": text});
        if self.thinking_chunks == 0 {
            return json!([text]);
        }
        let thought: String = (0..self.thinking_chunks).map(thinking_text).collect();
        json!([{"type": "thinking", "thinking": thought, "signature": "EqQBCgIYAhIMstandin"}, text])
    }

    /// The text block's index: 1 after a thinking block.
    fn text_index(&self) -> u32 {
        u32::from(self.thinking_chunks > 0)
    }

    fn text_start(&self) -> Bytes {
        sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": self.text_index(),
                    "content_block": {"type": "text", "text": ""}}),
        )
    }

    fn usage(&self, output_tokens: u64) -> Value {
        json!({
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_write,
            "cache_read_input_tokens": self.cache_read,
            "output_tokens": output_tokens
        })
    }
}

impl Wire for Anthropic {
    fn opening(&self) -> Vec<Bytes> {
        let mut out = vec![
            sse_event(
                "message_start",
                &json!({"type": "message_start", "message": {
                    "id": self.id,
                    "type": "message",
                    "role": "assistant",
                    "model": self.model,
                    "content": [],
                    "stop_reason": null,
                    "stop_sequence": null,
                    "usage": self.usage(1)
                }}),
            ),
            sse_event("ping", &json!({"type": "ping"})),
        ];
        if self.thinking_chunks == 0 {
            out.insert(1, self.text_start()); // before the ping, as Anthropic sends it
        }
        out
    }

    /// A thinking block (its deltas, its signature), then the text block's start.
    fn thinking(&self) -> Vec<Bytes> {
        if self.thinking_chunks == 0 {
            return Vec::new();
        }
        let delta = |delta: Value| {
            sse_event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": 0, "delta": delta}),
            )
        };
        let mut out = vec![sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        )];
        out.extend(
            (0..self.thinking_chunks)
                .map(|i| delta(json!({"type": "thinking_delta", "thinking": thinking_text(i)}))),
        );
        out.push(delta(
            json!({"type": "signature_delta", "signature": "EqQBCgIYAhIMstandin"}),
        ));
        out.push(sse_event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 0}),
        ));
        out.push(self.text_start());
        out
    }

    fn chunk(&self, _i: u32, text: &str, _last: bool) -> Bytes {
        sse_event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": self.text_index(),
                    "delta": {"type": "text_delta", "text": text}}),
        )
    }

    fn corrupt(&self) -> Bytes {
        Bytes::from_static(
            b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":\n\n",
        )
    }

    fn stream_error(&self) -> Bytes {
        sse_event(
            "error",
            &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        )
    }

    fn closing(&self) -> Vec<Bytes> {
        vec![
            sse_event(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": self.text_index()}),
            ),
            sse_event(
                "message_delta",
                &json!({"type": "message_delta",
                        "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                        "usage": {"output_tokens": self.output_tokens}}),
            ),
            sse_event("message_stop", &json!({"type": "message_stop"})),
        ]
    }
}

/// Anthropic's error bodies; the 401 echoes the key as received.
/// The headers of every Anthropic answer (API reference, "Errors" and "Rate limits"):
/// `request-id`, `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}` (resets in
/// RFC 3339), and Cloudflare's `cf-ray` when the script names a colo.
pub(crate) fn headers(ctx: &Ctx) -> Vec<(&'static str, String)> {
    let q = &ctx.script.quota;
    let reset = wire::rfc3339_now();
    let mut h = vec![
        ("request-id", format!("req_standin{:020}", ctx.serial)),
        (
            "anthropic-ratelimit-requests-limit",
            q.requests_limit.to_string(),
        ),
        (
            "anthropic-ratelimit-requests-remaining",
            q.requests_remaining.to_string(),
        ),
        ("anthropic-ratelimit-requests-reset", reset.clone()),
        (
            "anthropic-ratelimit-tokens-limit",
            q.tokens_limit.to_string(),
        ),
        (
            "anthropic-ratelimit-tokens-remaining",
            q.tokens_remaining.to_string(),
        ),
        ("anthropic-ratelimit-tokens-reset", reset),
    ];
    if let Some(colo) = &ctx.script.colo {
        h.push(("cf-ray", wire::cf_ray(ctx.serial, colo)));
    }
    h
}

fn error(e: &ApiError, model: &str) -> Response {
    let (status, kind, message) = match e {
        ApiError::Unauthorized(Some(key)) => (
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            format!("invalid x-api-key: {key}"),
        ),
        ApiError::Unauthorized(None) => (
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "x-api-key header is required".to_string(),
        ),
        ApiError::NotFound => (
            StatusCode::NOT_FOUND,
            "not_found_error",
            format!("model: {model}"),
        ),
        ApiError::RateLimited(..) => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit".to_string(),
        ),
        ApiError::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "Internal server error".to_string(),
        ),
        ApiError::BadRequest(msg) => (
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            msg.clone(),
        ),
    };
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    wire::json_error(status, &body, &[], e)
}
