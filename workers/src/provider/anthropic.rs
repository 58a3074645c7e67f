//! Anthropic messages (https://docs.anthropic.com/en/api/messages-streaming).
//!
//! Named server-sent events: `message_start` (input and cache counts), `content_block_delta`
//! (`text_delta`; with extended thinking, a `thinking` block's `thinking_delta`s come first), `message_delta` (output tokens, CUMULATIVE: assigned, never added),
//! `message_stop`; an `error` event may arrive mid-stream (e.g. `overloaded_error`).

use super::frame::SseParser;
use super::{count, json_request, Context, HttpRequest, Outcome, Provider, StreamParser};
use crate::target::{ConfigError, Target};
use llmscope_protocol::probe::ErrorKind;
use serde_json::{json, Value};

pub struct Anthropic;

/// The API version sent when the target does not name one.
const VERSION: &str = "2023-06-01";

impl Provider for Anthropic {
    fn request(&self, ctx: &Context) -> Result<HttpRequest, ConfigError> {
        let t = ctx.target;
        let key = ctx.secret("key_secret", t.key_secret.as_deref())?;
        let version = t.anthropic_version.as_deref().unwrap_or(VERSION);
        let mut body = json!({
            "model": t.model,
            "max_tokens": t.max_tokens,
            "messages": [{"role": "user", "content": ctx.prompt}],
            "stream": true,
        });
        if let Some(budget) = t.thinking_budget {
            body["thinking"] = json!({"type": "enabled", "budget_tokens": budget});
        }
        Ok(json_request(
            format!("{}/v1/messages", ctx.base("https://api.anthropic.com")),
            vec![
                ("x-api-key".into(), key),
                ("anthropic-version".into(), version.into()),
            ],
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
    match v.get("type").and_then(Value::as_str) {
        Some("message_start") => {
            out.note("response_model", v.pointer("/message/model"));
            let uncached = count(&v, "/message/usage/input_tokens");
            let read = count(&v, "/message/usage/cache_read_input_tokens");
            let written = count(&v, "/message/usage/cache_creation_input_tokens");
            out.usage.input = uncached.map(|n| n + read.unwrap_or(0) + written.unwrap_or(0));
            out.usage.cached_input = read;
            out.usage.cache_write = written;
            out.usage.output = count(&v, "/message/usage/output_tokens");
        }
        Some("content_block_delta") => match v.pointer("/delta/type").and_then(Value::as_str) {
            Some("text_delta") => out.text(v.pointer("/delta/text").and_then(Value::as_str)),
            // Extended thinking: counted in `output_tokens`, with no count of its own, so
            // only its characters are kept. Never the first visible text.
            Some("thinking_delta") => {
                out.reasoning(v.pointer("/delta/thinking").and_then(Value::as_str))
            }
            _ => {} // signature_delta, input_json_delta
        },
        Some("message_delta") => {
            if let Some(n) = count(&v, "/usage/output_tokens") {
                out.usage.output = Some(n); // cumulative
            }
        }
        Some("message_stop") => out.done = true,
        Some("error") => {
            let kind = match v.pointer("/error/type").and_then(Value::as_str) {
                Some("rate_limit_error") => ErrorKind::RateLimited,
                Some("authentication_error" | "permission_error") => ErrorKind::Auth,
                Some("not_found_error") => ErrorKind::NotFound,
                _ => ErrorKind::Server,
            };
            out.fail(kind, super::error_message(data));
        }
        _ => {} // ping, content_block_start/stop, and event types added later
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{parse, request_body, secrets, target};
    use super::*;

    #[test]
    fn output_tokens_are_cumulative_and_cache_counts_are_input() {
        let stream = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":5,\"cache_read_input_tokens\":100,\"cache_creation_input_tokens\":20,\"output_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: ping\ndata: {\"type\":\"ping\"}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" there\"}}\n\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        );
        let t = target(
            r#"{"name":"a","provider":"anthropic","model":"claude-3-5-haiku","key_secret":"K"}"#,
        );
        let out = parse(&t, stream.as_bytes());
        assert!(out.done);
        assert_eq!(out.text_chunks, 2);
        assert_eq!(out.usage.input, Some(125));
        assert_eq!(out.usage.cached_input, Some(100));
        assert_eq!(out.usage.cache_write, Some(20));
        assert_eq!(out.usage.output, Some(15));
    }

    #[test]
    fn thinking_is_reasoning_not_the_first_text() {
        let stream = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Count: 1, 2\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"é.\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQBCgIYAhIM\"}}\n\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"1 2\"}}\n\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":90}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        );
        let t = target(r#"{"name":"a","provider":"anthropic","model":"m","key_secret":"K"}"#);
        let out = parse(&t, stream.as_bytes());
        assert!(out.done);
        assert_eq!(
            (out.text_chunks, out.reasoning_chunks, out.reasoning_chars),
            (1, 2, 13)
        );
        assert_eq!((out.usage.output, out.reasoning_tokens), (Some(90), None));
    }

    #[test]
    fn an_error_event_mid_stream_is_a_failure() {
        let stream = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        let t = target(r#"{"name":"a","provider":"anthropic","model":"m","key_secret":"K"}"#);
        let out = parse(&t, stream.as_bytes());
        let f = out.failure.unwrap();
        assert_eq!(
            (f.kind, f.message.as_str()),
            (ErrorKind::Server, "Overloaded")
        );
    }

    #[test]
    fn a_thinking_budget_asks_for_the_thinking_and_none_asks_for_nothing() {
        let s = secrets(&[("K", "k")]);
        let body = |json: &str| request_body(json, &s);
        let thinking = body(
            r#"{"name":"x","provider":"anthropic","model":"claude-sonnet-4-5","key_secret":"K","max_tokens":2048,"thinking_budget":1024}"#,
        );
        assert_eq!(
            thinking.pointer("/thinking"),
            Some(&json!({"type": "enabled", "budget_tokens": 1024}))
        );
        let plain = body(
            r#"{"name":"x","provider":"anthropic","model":"claude-sonnet-4-5","key_secret":"K"}"#,
        );
        assert_eq!(plain.pointer("/thinking"), None);
    }
}
