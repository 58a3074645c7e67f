//! Google Gemini streamGenerateContent with `alt=sse`
//! (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent).
//!
//! Every `data:` frame is a whole GenerateContentResponse: text in
//! `candidates[0].content.parts[].text` (a part with `thought: true` is a thought summary),
//! counts in `usageMetadata` (complete on the last frame; `thoughtsTokenCount` is billed as
//! output and reported apart). There is no end marker: the frame with a `finishReason` is the last one, so a
//! stream that ends before it was cut.

use super::frame::SseParser;
use super::{count, json_request, Context, HttpRequest, Outcome, Provider, StreamParser};
use crate::target::{ConfigError, Target};
use llmscope_protocol::probe::ErrorKind;
use serde_json::{json, Value};

pub struct Gemini;

impl Provider for Gemini {
    fn request(&self, ctx: &Context) -> Result<HttpRequest, ConfigError> {
        let t = ctx.target;
        let key = ctx.secret("key_secret", t.key_secret.as_deref())?;
        let mut body = json!({
            "contents": [{"role": "user", "parts": [{"text": ctx.prompt}]}],
            "generationConfig": {"maxOutputTokens": t.max_tokens},
        });
        if let Some(budget) = t.thinking_budget {
            body["generationConfig"]["thinkingConfig"] =
                json!({"thinkingBudget": budget, "includeThoughts": true});
        }
        let base = ctx.base("https://generativelanguage.googleapis.com");
        Ok(json_request(
            format!(
                "{base}/v1beta/models/{}:streamGenerateContent?alt=sse",
                t.model
            ),
            vec![("x-goog-api-key".into(), key)],
            &body,
        ))
    }

    fn parser(&self, _: &Target) -> Box<dyn StreamParser> {
        SseParser::boxed(event)
    }
}

fn event(out: &mut Outcome, data: &str) {
    if out.failure.is_some() {
        return;
    }
    let Some(v) = out.json(data) else { return };
    out.note("response_model", v.get("modelVersion"));
    out.note("request_id", v.get("responseId"));
    if v.get("error").is_some() {
        let kind = match v.pointer("/error/status").and_then(Value::as_str) {
            Some("RESOURCE_EXHAUSTED") => ErrorKind::RateLimited,
            Some("UNAUTHENTICATED" | "PERMISSION_DENIED") => ErrorKind::Auth,
            Some("NOT_FOUND") => ErrorKind::NotFound,
            Some("DEADLINE_EXCEEDED") => ErrorKind::Timeout,
            _ => ErrorKind::Server,
        };
        out.fail(kind, super::error_message(data));
        return;
    }
    let parts = v
        .pointer("/candidates/0/content/parts")
        .and_then(Value::as_array);
    for part in parts.into_iter().flatten() {
        let text = part.get("text").and_then(Value::as_str);
        // A thought summary (`includeThoughts`) is reasoning, not the answer's first token.
        match part.get("thought").and_then(Value::as_bool) {
            Some(true) => out.reasoning(text),
            _ => out.text(text),
        }
    }
    if let Some(u) = v.get("usageMetadata") {
        out.usage.input = count(u, "/promptTokenCount").or(out.usage.input);
        // Thinking tokens are billed as output.
        let candidates = count(u, "/candidatesTokenCount");
        let thoughts = count(u, "/thoughtsTokenCount");
        out.reasoning_tokens = thoughts.or(out.reasoning_tokens);
        if candidates.is_some() || thoughts.is_some() {
            out.usage.output = Some(candidates.unwrap_or(0) + thoughts.unwrap_or(0));
        }
        out.usage.cached_input = count(u, "/cachedContentTokenCount").or(out.usage.cached_input);
    }
    if v.pointer("/candidates/0/finishReason").is_some() {
        out.done = true;
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{parse, request_body, secrets, target};
    use super::*;

    #[test]
    fn the_frame_with_a_finish_reason_ends_the_stream() {
        let stream = concat!(
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"One\"}],\"role\":\"model\"}}],\"usageMetadata\":{\"promptTokenCount\":9}}\r\n\r\n",
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" two\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":2,\"totalTokenCount\":11,\"cachedContentTokenCount\":4}}\r\n\r\n",
        );
        let t = target(
            r#"{"name":"g","provider":"gemini","model":"gemini-2.0-flash","key_secret":"K"}"#,
        );
        let out = parse(&t, stream.as_bytes());
        assert!(out.done);
        assert_eq!(out.text_chunks, 2);
        assert_eq!(
            (out.usage.input, out.usage.output, out.usage.cached_input),
            (Some(9), Some(2), Some(4))
        );
        let first = &stream[..stream.find("\r\n\r\n").unwrap() + 4];
        assert!(!parse(&t, first.as_bytes()).done);
        assert_eq!(out.reasoning_tokens, None);
        let err = parse(&t, b"data: {\"error\":{\"code\":429,\"message\":\"quota\",\"status\":\"RESOURCE_EXHAUSTED\"}}\n\n");
        assert_eq!(err.failure.map(|f| f.kind), Some(ErrorKind::RateLimited));
    }

    #[test]
    fn thoughts_are_reasoning_counted_apart_and_billed_as_output() {
        let stream = concat!(
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Counting up.\",\"thought\":true}],\"role\":\"model\"}}],\"usageMetadata\":{\"promptTokenCount\":9,\"thoughtsTokenCount\":120}}\r\n\r\n",
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"1 2\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":2,\"thoughtsTokenCount\":130,\"totalTokenCount\":141}}\r\n\r\n",
        );
        let t = target(
            r#"{"name":"g","provider":"gemini","model":"gemini-2.5-flash","key_secret":"K"}"#,
        );
        let out = parse(&t, stream.as_bytes());
        assert_eq!(
            (out.text_chunks, out.reasoning_chunks, out.reasoning_chars),
            (1, 1, 12)
        );
        assert_eq!(
            (out.usage.output, out.reasoning_tokens),
            (Some(132), Some(130))
        );
    }

    #[test]
    fn a_thinking_budget_asks_for_the_thinking_and_none_asks_for_nothing() {
        let s = secrets(&[("K", "k")]);
        let body = |json: &str| request_body(json, &s);
        let thinking = body(
            r#"{"name":"x","provider":"gemini","model":"gemini-2.5-flash","key_secret":"K","max_tokens":2048,"thinking_budget":1024}"#,
        );
        assert_eq!(
            thinking.pointer("/generationConfig/thinkingConfig"),
            Some(&json!({"thinkingBudget": 1024, "includeThoughts": true}))
        );
        let plain =
            body(r#"{"name":"x","provider":"gemini","model":"gemini-2.5-flash","key_secret":"K"}"#);
        assert_eq!(plain.pointer("/generationConfig/thinkingConfig"), None);
    }
}
