//! OpenAI chat completions (https://platform.openai.com/docs/api-reference/chat-streaming), and
//! every server that copies it (vLLM, llama.cpp, LiteLLM, OpenRouter, Azure OpenAI).
//!
//! Server-sent events, each `data:` a `chat.completion.chunk`; text in
//! `choices[0].delta.content`; with `stream_options.include_usage`, a last chunk whose `usage`
//! holds the counts (`completion_tokens` includes `completion_tokens_details.reasoning_tokens`);
//! then `data: [DONE]`. The first chunk usually carries only the role, so it is not the first
//! token.

use super::frame::SseParser;
use super::{count, json_request, Context, HttpRequest, Outcome, Provider, StreamParser};
use crate::target::{ConfigError, OpenaiAuth, Target};
use llmscope_protocol::probe::ErrorKind;
use serde_json::{json, Value};

pub struct OpenAi;

/// `{base}/chat/completions`, unless the base already is the whole path (Azure deployments
/// end in `/chat/completions?api-version=...`).
fn url(base: &str) -> String {
    if base.contains("/chat/completions") {
        base.to_string()
    } else {
        format!("{base}/chat/completions")
    }
}

impl Provider for OpenAi {
    fn request(&self, ctx: &Context) -> Result<HttpRequest, ConfigError> {
        let t = ctx.target;
        let key = ctx.secret("key_secret", t.key_secret.as_deref())?;
        let auth = match t.auth {
            OpenaiAuth::Bearer => ("authorization".to_string(), format!("Bearer {key}")),
            OpenaiAuth::ApiKey => ("api-key".to_string(), key),
        };
        let mut body = json!({
            "model": t.model,
            "messages": [{"role": "user", "content": ctx.prompt}],
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        // Reasoning models refuse `max_tokens` with a 400 (target.rs, `TokenLimitField`).
        body[t.token_limit_field().as_str()] = t.max_tokens.into();
        Ok(json_request(
            url(&ctx.base("https://api.openai.com/v1")),
            vec![auth],
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
    if data.trim() == "[DONE]" {
        out.done = true;
        return;
    }
    let Some(v) = out.json(data) else { return };
    if let Some(e) = v.get("error") {
        let message = super::error_message(&v.to_string());
        let kind = match e.get("code").or(e.get("type")).and_then(Value::as_str) {
            Some("rate_limit_exceeded") => ErrorKind::RateLimited,
            _ => ErrorKind::Server,
        };
        out.fail(kind, message);
        return;
    }
    out.note("response_model", v.get("model"));
    let delta = v.pointer("/choices/0/delta");
    let field = |name: &str| delta.and_then(|d| d.get(name)).and_then(Value::as_str);
    out.text(field("content"));
    // OpenAI streams no reasoning text; compatible servers do (vLLM and DeepSeek
    // `reasoning_content`, OpenRouter `reasoning`). It is not the answer's first token.
    out.reasoning(field("reasoning_content").or(field("reasoning")));
    if v.get("usage").is_some_and(Value::is_object) {
        out.usage.input = count(&v, "/usage/prompt_tokens");
        out.usage.output = count(&v, "/usage/completion_tokens");
        out.usage.cached_input = count(&v, "/usage/prompt_tokens_details/cached_tokens");
        out.reasoning_tokens = count(&v, "/usage/completion_tokens_details/reasoning_tokens");
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{parse, secrets, target};
    use super::*;

    const STREAM: &str = concat!(
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"1 2\"}}]}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" 3\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":3,\"total_tokens\":23,\"prompt_tokens_details\":{\"cached_tokens\":16}}}\n\n",
        "data: [DONE]\n\n",
    );

    #[test]
    fn the_role_chunk_is_not_text_and_usage_comes_from_the_last_chunk() {
        let t =
            target(r#"{"name":"o","provider":"openai","model":"gpt-4o-mini","key_secret":"K"}"#);
        let out = parse(&t, STREAM.as_bytes());
        assert_eq!(out.text_chunks, 2);
        assert!(out.done);
        assert_eq!(out.usage.input, Some(20));
        assert_eq!(out.usage.output, Some(3));
        assert_eq!(out.usage.cached_input, Some(16));
        assert_eq!(out.failure, None);
    }

    #[test]
    fn reasoning_tokens_come_from_the_usage_and_reasoning_text_is_not_the_first_token() {
        let t = target(r#"{"name":"o","provider":"openai","model":"o4-mini","key_secret":"K"}"#);
        let stream = concat!(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Let me count.\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":null,\"reasoning\":\"Ok\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"1 2 3\"},\"finish_reason\":\"stop\"}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":200,\"completion_tokens_details\":{\"reasoning_tokens\":192,\"audio_tokens\":0}}}\n\n",
            "data: [DONE]\n\n",
        );
        let out = parse(&t, stream.as_bytes());
        assert_eq!(
            (out.text_chunks, out.reasoning_chunks, out.reasoning_chars),
            (1, 2, 15)
        );
        assert_eq!(
            (out.usage.output, out.reasoning_tokens),
            (Some(200), Some(192))
        );
        // A chat model's usage without details reports no reasoning count (not 0).
        assert_eq!(parse(&t, STREAM.as_bytes()).reasoning_tokens, None);
    }

    #[test]
    fn a_stream_without_done_is_not_done_and_a_broken_frame_is_malformed() {
        let t = target(r#"{"name":"o","provider":"openai","model":"m","key_secret":"K"}"#);
        let cut = &STREAM[..STREAM
            .find("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[]")
            .unwrap()];
        let out = parse(&t, cut.as_bytes());
        assert!(!out.done);
        let out = parse(&t, b"data: {\"choices\":[{\"delta\":\n\n");
        assert_eq!(out.failure.map(|f| f.kind), Some(ErrorKind::Malformed));
        let out = parse(
            &t,
            b"data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n",
        );
        assert_eq!(
            out.failure.map(|f| (f.kind, f.message)),
            Some((ErrorKind::Server, "overloaded".into()))
        );
    }

    #[test]
    fn the_request_streams_with_usage_and_azure_style_auth() {
        let t = target(
            r#"{"name":"o","provider":"openai","model":"m","key_secret":"K","base_url":"https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21","auth":"api-key"}"#,
        );
        let s = secrets(&[("K", "sk-1")]);
        let ctx = Context {
            target: &t,
            prompt: "hi",
            now_ms: 0,
            secrets: &s,
        };
        let r = OpenAi.request(&ctx).unwrap();
        assert_eq!(r.url, "https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21");
        assert!(r.headers.contains(&("api-key".into(), "sk-1".into())));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["messages"][0]["content"], "hi");
        assert_eq!(
            (
                body["max_tokens"].as_u64(),
                body.get("max_completion_tokens")
            ),
            (Some(64), None)
        );
        let t = target(r#"{"name":"o","provider":"openai","model":"m","key_secret":"K"}"#);
        let ctx = Context {
            target: &t,
            prompt: "hi",
            now_ms: 0,
            secrets: &s,
        };
        assert_eq!(
            OpenAi.request(&ctx).unwrap().url,
            "https://api.openai.com/v1/chat/completions"
        );
        let o4 = target(
            r#"{"name":"o","provider":"openai","model":"o4-mini","key_secret":"K","max_tokens":900}"#,
        );
        let ctx = Context {
            target: &o4,
            prompt: "hi",
            now_ms: 0,
            secrets: &s,
        };
        let body: Value = serde_json::from_slice(&OpenAi.request(&ctx).unwrap().body).unwrap();
        assert_eq!(
            (
                body["max_completion_tokens"].as_u64(),
                body.get("max_tokens")
            ),
            (Some(900), None)
        );
        let none = secrets(&[]);
        let ctx = Context {
            target: &t,
            prompt: "hi",
            now_ms: 0,
            secrets: &none,
        };
        let e = OpenAi.request(&ctx).unwrap_err();
        assert_eq!(e.field, "key_secret");
        assert!(e.message.contains("the secret K is not set"), "{e}");
    }
}
