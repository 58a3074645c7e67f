//! OpenAI chat completions (and so every "OpenAI-compatible" server, Azure's `api-key` header
//! included): `POST /v1/chat/completions`, server-sent `data: {chunk}` events, usage only when
//! `stream_options.include_usage` is true, then `data: [DONE]`.

use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::wire::{self, sse_data, ApiError, Ctx, Wire};

pub(crate) async fn handle(ctx: Ctx) -> Response {
    if let Err(e) = ctx.auth(&[ctx.bearer(), ctx.header("api-key")]) {
        return error(&e, "");
    }
    let Some(body) = ctx.json_object() else {
        let msg = "We could not parse the JSON body of your request. (HINT: This likely means \
                   you aren't using your HTTP library correctly.)";
        return error(&ApiError::BadRequest(msg.into()), "");
    };
    let Some(model) = body
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        let msg = "you must provide a model parameter";
        return error(&ApiError::BadRequest(msg.into()), "");
    };
    if !body.get("messages").is_some_and(Value::is_array) {
        let msg = "Missing required parameter: 'messages'.";
        return error(&ApiError::BadRequest(msg.into()), &model);
    }
    if reasoning_model(&model) && body.contains_key("max_tokens") {
        return unsupported_max_tokens();
    }
    if let Some(e) = ctx.early_fault().await {
        return error(&e, &model);
    }
    let stream = body.get("stream") == Some(&Value::Bool(true));
    let include_usage = body
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        == Some(&Value::Bool(true));
    let w = OpenAi {
        id: format!("chatcmpl-standin{}", ctx.serial),
        created: wire::unix_seconds(),
        model: ctx.reported_model(&model),
        include_usage,
        usage: usage(&ctx),
    };
    if stream {
        let steps = ctx.plan(&w);
        wire::stream_response("text/event-stream; charset=utf-8", steps)
    } else {
        let body = json!({
            "id": w.id,
            "object": "chat.completion",
            "created": w.created,
            "model": w.model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": ctx.full_text(), "refusal": null},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": w.usage,
            "system_fingerprint": "fp_standin"
        });
        let model = w.model.clone();
        wire::whole(&ctx, body, |e| error(e, &model)).await
    }
}

/// OpenAI's reasoning families (o1, o3, o4, gpt-5), after any provider prefix, which refuse
/// `max_tokens`. Written apart from the Worker's rule on purpose: the stand-in is the API.
pub(crate) fn reasoning_model(model: &str) -> bool {
    let id = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase();
    ["o1", "o3", "o4", "gpt-5"].iter().any(|f| {
        id.strip_prefix(f)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '.']))
    })
}

/// The 400 OpenAI answers a reasoning model's `max_tokens` with, word for word.
fn unsupported_max_tokens() -> Response {
    let body = json!({"error": {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. \
                    Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter"
    }});
    let e = ApiError::BadRequest(String::new());
    wire::json_error(StatusCode::BAD_REQUEST, &body, &[], &e)
}

/// The headers of every OpenAI answer (API reference, "Debugging requests" and "Rate
/// limits"): `x-request-id`, `openai-processing-ms`, `openai-version`, the
/// `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` headers (resets as durations), and
/// Cloudflare's `cf-ray` when the script names a colo.
pub(crate) fn headers(ctx: &Ctx) -> Vec<(&'static str, String)> {
    let s = &ctx.script;
    let q = &s.quota;
    let processing = s
        .processing_ms
        .unwrap_or(u64::try_from(ctx.ttft.as_millis()).unwrap_or(u64::MAX));
    let mut h = vec![
        (
            "x-request-id",
            format!("req_{:032x}", u128::from(ctx.serial) * 0x9e37_79b9),
        ),
        ("openai-processing-ms", processing.to_string()),
        ("openai-version", "2020-10-01".into()),
        ("x-ratelimit-limit-requests", q.requests_limit.to_string()),
        (
            "x-ratelimit-remaining-requests",
            q.requests_remaining.to_string(),
        ),
        ("x-ratelimit-reset-requests", "12ms".into()),
        ("x-ratelimit-limit-tokens", q.tokens_limit.to_string()),
        (
            "x-ratelimit-remaining-tokens",
            q.tokens_remaining.to_string(),
        ),
        ("x-ratelimit-reset-tokens", "0s".into()),
    ];
    if let Some(colo) = &s.colo {
        h.push(("cf-ray", wire::cf_ray(ctx.serial, colo)));
    }
    h
}

fn usage(ctx: &Ctx) -> Value {
    let s = &ctx.script;
    json!({
        "prompt_tokens": s.input_tokens,
        "completion_tokens": s.output_tokens,
        "total_tokens": s.input_tokens.saturating_add(s.output_tokens),
        "prompt_tokens_details": {"cached_tokens": s.cached_input_tokens, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": s.reasoning_tokens, "audio_tokens": 0}
    })
}

struct OpenAi {
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
    usage: Value,
}

impl OpenAi {
    fn chunk_json(&self, delta: Value, finish_reason: Value) -> Bytes {
        let mut v = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_standin",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}]
        });
        // With include_usage, every chunk but the last carries `"usage": null` (as OpenAI does).
        if self.include_usage {
            v["usage"] = Value::Null;
        }
        sse_data(&v)
    }
}

impl Wire for OpenAi {
    fn opening(&self) -> Vec<Bytes> {
        vec![self.chunk_json(json!({"role": "assistant", "content": ""}), Value::Null)]
    }

    fn chunk(&self, _i: u32, text: &str, _last: bool) -> Bytes {
        self.chunk_json(json!({"content": text}), Value::Null)
    }

    fn corrupt(&self) -> Bytes {
        Bytes::from_static(b"data: {\"choices\":[{\"delta\":\n\n")
    }

    fn stream_error(&self) -> Bytes {
        sse_data(&json!({"error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": null,
            "code": null
        }}))
    }

    fn closing(&self) -> Vec<Bytes> {
        let mut out = vec![self.chunk_json(json!({}), json!("stop"))];
        if self.include_usage {
            out.push(sse_data(&json!({
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "system_fingerprint": "fp_standin",
                "choices": [],
                "usage": self.usage
            })));
        }
        out.push(Bytes::from_static(b"data: [DONE]\n\n"));
        out
    }
}

/// OpenAI's error bodies. The 401 echoes the key as received (OpenAI masks it; echoing it whole
/// lets the tests check that the probe redacts secrets from what it stores).
fn error(e: &ApiError, model: &str) -> Response {
    let (status, message, kind, code) = match e {
        ApiError::Unauthorized(Some(key)) => (
            StatusCode::UNAUTHORIZED,
            format!(
                "Incorrect API key provided: {key}. You can find your API key at \
                 https://platform.openai.com/account/api-keys."
            ),
            "invalid_request_error",
            json!("invalid_api_key"),
        ),
        ApiError::Unauthorized(None) => (
            StatusCode::UNAUTHORIZED,
            "You didn't provide an API key. You need to provide your API key in an \
             Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                .to_string(),
            "invalid_request_error",
            Value::Null,
        ),
        ApiError::NotFound => (
            StatusCode::NOT_FOUND,
            format!("The model `{model}` does not exist or you do not have access to it."),
            "invalid_request_error",
            json!("model_not_found"),
        ),
        ApiError::RateLimited(s, _) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, \
                 Requested 1. Please try again in {s}s."
            ),
            "requests",
            json!("rate_limit_exceeded"),
        ),
        ApiError::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server had an error while processing your request. Sorry about that!".to_string(),
            "server_error",
            Value::Null,
        ),
        ApiError::BadRequest(msg) => (
            StatusCode::BAD_REQUEST,
            msg.clone(),
            "invalid_request_error",
            Value::Null,
        ),
    };
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    wire::json_error(status, &body, &[], e)
}
