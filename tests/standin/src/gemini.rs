//! Google Gemini: `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` (key in
//! `x-goog-api-key` or `?key=`). Every `data:` event is a whole GenerateContentResponse; the
//! usage grows frame by frame and is complete on the last one, which also carries
//! finishReason. There is no `[DONE]`: the end of the body is the end of the stream.
//! `:generateContent` answers the whole response as one JSON. A thinking model reports
//! `thoughtsTokenCount` apart from `candidatesTokenCount` (both billed as output), and with
//! `thinkingConfig.includeThoughts` streams thought summaries (`"thought": true` parts) first.

use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::thinking_text;
use crate::wire::{self, sse_data, ApiError, Ctx, Wire};

pub(crate) async fn handle(ctx: Ctx, model: &str, stream: bool) -> Response {
    let key_param = ctx.query_param("key");
    if let Err(e) = ctx.auth(&[ctx.header("x-goog-api-key"), key_param.as_deref()]) {
        return error(&e, model);
    }
    if stream && ctx.query_param("alt").as_deref() != Some("sse") {
        // Without alt=sse Gemini streams one JSON array; the probe must ask for SSE.
        let msg = "llmscope-standin serves streamGenerateContent only with ?alt=sse";
        return error(&ApiError::BadRequest(msg.into()), model);
    }
    let Some(body) = ctx.json_object() else {
        let msg = "Invalid JSON payload received.";
        return error(&ApiError::BadRequest(msg.into()), model);
    };
    if !body.get("contents").is_some_and(Value::is_array) {
        let msg = "* GenerateContentRequest.contents: contents is not specified";
        return error(&ApiError::BadRequest(msg.into()), model);
    }
    if let Some(e) = ctx.early_fault().await {
        return error(&e, model);
    }
    let s = &ctx.script;
    let include_thoughts = body
        .get("generationConfig")
        .and_then(|g| g.pointer("/thinkingConfig/includeThoughts"))
        == Some(&Value::Bool(true));
    let w = Gemini {
        thoughts: s.reasoning_tokens,
        thought_chunks: if include_thoughts {
            s.thinking_chunks
        } else {
            0
        },
        model: ctx.reported_model(model),
        response_id: format!("standin{}", ctx.serial),
        chunks: s.chunks,
        input: s.input_tokens,
        output: s.output_tokens,
        cached: s.cached_input_tokens,
    };
    if stream {
        let steps = ctx.plan(&w);
        wire::stream_response("text/event-stream", steps)
    } else {
        let body = w.frame(&ctx.full_text(), true, w.candidates());
        wire::whole(&ctx, body, |e| error(e, model)).await
    }
}

struct Gemini {
    /// `thoughtsTokenCount`, reported when non-zero; `output` includes it.
    thoughts: u64,
    /// Thought-summary frames before the text (`includeThoughts`).
    thought_chunks: u32,
    model: String,
    response_id: String,
    chunks: u32,
    input: u64,
    output: u64,
    cached: u64,
}

impl Gemini {
    /// `candidatesTokenCount`: the output without the thoughts (Gemini bills both as output).
    fn candidates(&self) -> u64 {
        self.output.saturating_sub(self.thoughts)
    }

    /// One GenerateContentResponse. `candidates_so_far` is the cumulative output count.
    fn frame(&self, text: &str, last: bool, candidates_so_far: u64) -> Value {
        self.frame_of(json!([{"text": text}]), last, candidates_so_far)
    }

    /// One GenerateContentResponse with these parts. The thoughts come before any candidate
    /// token, so their whole count is on every frame.
    fn frame_of(&self, parts: Value, last: bool, candidates_so_far: u64) -> Value {
        let mut candidate = json!({
            "content": {"parts": parts, "role": "model"},
            "index": 0
        });
        let mut usage = json!({
            "promptTokenCount": self.input,
            "candidatesTokenCount": candidates_so_far,
            "totalTokenCount": self.input.saturating_add(candidates_so_far).saturating_add(self.thoughts)
        });
        if self.thoughts > 0 {
            usage["thoughtsTokenCount"] = json!(self.thoughts);
        }
        if last {
            candidate["finishReason"] = json!("STOP");
            if self.cached > 0 {
                usage["cachedContentTokenCount"] = json!(self.cached);
            }
        }
        json!({
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": self.model,
            "responseId": self.response_id
        })
    }
}

impl Wire for Gemini {
    fn opening(&self) -> Vec<Bytes> {
        Vec::new()
    }

    fn thinking(&self) -> Vec<Bytes> {
        (0..self.thought_chunks)
            .map(|i| {
                let part = json!([{"text": thinking_text(i), "thought": true}]);
                sse_data(&self.frame_of(part, false, 0))
            })
            .collect()
    }

    fn chunk(&self, i: u32, text: &str, last: bool) -> Bytes {
        let candidates = self.candidates();
        let so_far = if last {
            candidates
        } else {
            // Grows with the chunks, reaching the candidates' count on the last frame.
            candidates * u64::from(i + 1) / u64::from(self.chunks.max(1))
        };
        sse_data(&self.frame(text, last, so_far))
    }

    fn corrupt(&self) -> Bytes {
        Bytes::from_static(b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\n\n")
    }

    fn stream_error(&self) -> Bytes {
        sse_data(&json!({"error": {
            "code": 500,
            "message": "An internal error has occurred. Please retry or report in \
                        https://developers.generativeai.google/guide/troubleshooting",
            "status": "INTERNAL"
        }}))
    }

    fn closing(&self) -> Vec<Bytes> {
        if self.chunks == 0 {
            // No text chunk carried the finish: a last, empty frame does.
            vec![sse_data(&self.frame("", true, self.candidates()))]
        } else {
            Vec::new()
        }
    }
}

/// Gemini's error bodies; the 401 echoes the key as received.
fn error(e: &ApiError, model: &str) -> Response {
    let (status, message, kind) = match e {
        ApiError::Unauthorized(Some(key)) => (
            StatusCode::UNAUTHORIZED,
            format!("API key not valid: {key}. Please pass a valid API key."),
            "UNAUTHENTICATED",
        ),
        ApiError::Unauthorized(None) => (
            StatusCode::UNAUTHORIZED,
            "Method doesn't allow unregistered callers (callers without established \
             identity). Please use API Key or other form of API consumer identity to call \
             this API."
                .to_string(),
            "UNAUTHENTICATED",
        ),
        ApiError::NotFound => (
            StatusCode::NOT_FOUND,
            format!(
                "models/{model} is not found for API version v1beta, or is not supported for \
                 generateContent. Call ListModels to see the list of available models and \
                 their supported methods."
            ),
            "NOT_FOUND",
        ),
        ApiError::RateLimited(..) => (
            StatusCode::TOO_MANY_REQUESTS,
            "Resource has been exhausted (e.g. check quota).".to_string(),
            "RESOURCE_EXHAUSTED",
        ),
        ApiError::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "An internal error has occurred. Please retry or report in \
             https://developers.generativeai.google/guide/troubleshooting"
                .to_string(),
            "INTERNAL",
        ),
        ApiError::BadRequest(msg) => (StatusCode::BAD_REQUEST, msg.clone(), "INVALID_ARGUMENT"),
    };
    let body = json!({"error": {"code": status.as_u16(), "message": message, "status": kind}});
    wire::json_error(status, &body, &[], e)
}
