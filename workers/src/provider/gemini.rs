//! Google Gemini streamGenerateContent with `alt=sse`
//! (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent).
//!
//! Every `data:` frame is a whole GenerateContentResponse: text in
//! `candidates[0].content.parts[].text`, counts in `usageMetadata` (complete on the last
//! frame). There is no end marker: the frame with a `finishReason` is the last one, so a
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
        let body = json!({
            "contents": [{"role": "user", "parts": [{"text": ctx.prompt}]}],
            "generationConfig": {"maxOutputTokens": t.max_tokens},
        });
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
        out.text(part.get("text").and_then(Value::as_str));
    }
    if let Some(u) = v.get("usageMetadata") {
        out.usage.input = count(u, "/promptTokenCount").or(out.usage.input);
        // Thinking tokens are billed as output.
        let candidates = count(u, "/candidatesTokenCount");
        let thoughts = count(u, "/thoughtsTokenCount");
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
    use super::super::testing::{parse, target};
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
        let err = parse(&t, b"data: {\"error\":{\"code\":429,\"message\":\"quota\",\"status\":\"RESOURCE_EXHAUSTED\"}}\n\n");
        assert_eq!(err.failure.map(|f| f.kind), Some(ErrorKind::RateLimited));
    }
}
