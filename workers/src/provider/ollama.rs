//! Ollama /api/chat (https://github.com/ollama/ollama/blob/main/docs/api.md): one JSON object
//! per line; the last has `done: true` and the server's own timings in NANOSECONDS, reported
//! in `extra` as milliseconds (`load_duration_ms` shows a cold model load).

use super::frame::LinesParser;
use super::{count, json_request, Context, HttpRequest, Outcome, Provider, StreamParser};
use crate::target::{ConfigError, Target};
use llmscope_protocol::probe::ErrorKind;
use serde_json::{json, Value};

pub struct Ollama;

impl Provider for Ollama {
    fn request(&self, ctx: &Context) -> Result<HttpRequest, ConfigError> {
        let t = ctx.target;
        let mut headers = Vec::new();
        if t.key_secret.is_some() {
            let key = ctx.secret("key_secret", t.key_secret.as_deref())?;
            headers.push(("authorization".into(), format!("Bearer {key}")));
        }
        let body = json!({
            "model": t.model,
            "messages": [{"role": "user", "content": ctx.prompt}],
            "stream": true,
            "options": {"num_predict": t.max_tokens},
        });
        Ok(json_request(
            format!("{}/api/chat", ctx.base("http://127.0.0.1:11434")),
            headers,
            &body,
        ))
    }

    fn parser(&self, _: &Target) -> Box<dyn StreamParser> {
        LinesParser::boxed(line)
    }
}

fn line(out: &mut Outcome, line: &str) {
    if out.failure.is_some() || line.trim().is_empty() {
        return;
    }
    let Some(v) = out.json(line) else { return };
    out.note("response_model", v.get("model"));
    if let Some(e) = v.get("error") {
        let message = e
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string());
        out.fail(ErrorKind::Server, message);
        return;
    }
    let text = v
        .pointer("/message/content")
        .or(v.get("response"))
        .and_then(Value::as_str);
    out.text(text);
    // A thinking model's reasoning (`think: true`) comes in `message.thinking`.
    out.reasoning(v.pointer("/message/thinking").and_then(Value::as_str));
    if v.get("done").and_then(Value::as_bool) == Some(true) {
        out.done = true;
        out.usage.input = count(&v, "/prompt_eval_count");
        out.usage.output = count(&v, "/eval_count");
        for name in [
            "total_duration",
            "load_duration",
            "prompt_eval_duration",
            "eval_duration",
        ] {
            if let Some(ns) = v.get(name).and_then(Value::as_f64) {
                out.extra.insert(format!("{name}_ms"), json!(ns / 1e6));
            }
        }
        let eval = v
            .get("eval_duration")
            .and_then(Value::as_f64)
            .filter(|d| *d > 0.0);
        if let (Some(n), Some(ns)) = (out.usage.output, eval) {
            out.extra
                .insert("server_tokens_per_s".into(), json!(n as f64 / ns * 1e9));
        }
        if let Some(r) = v.get("done_reason") {
            out.extra.insert("done_reason".into(), r.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{parse, target};

    #[test]
    fn durations_are_nanoseconds_and_come_out_in_milliseconds() {
        let stream = concat!(
            "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"Hmm\"},\"done\":false}\n",
            "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"1\"},\"done\":false}\n",
            "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\" 2\"},\"done\":false}\n",
            "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",",
            "\"total_duration\":5000000000,\"load_duration\":2500000000,\"prompt_eval_count\":26,\"prompt_eval_duration\":130000000,",
            "\"eval_count\":2,\"eval_duration\":40000000}\n",
        );
        let t = target(r#"{"name":"l","provider":"ollama","model":"llama3.2"}"#);
        let out = parse(&t, stream.as_bytes());
        assert!(out.done);
        assert_eq!(
            (out.text_chunks, out.reasoning_chunks, out.reasoning_chars),
            (2, 1, 3)
        );
        assert_eq!((out.usage.input, out.usage.output), (Some(26), Some(2)));
        assert_eq!(out.extra["load_duration_ms"], 2500.0);
        assert_eq!(out.extra["server_tokens_per_s"], 50.0);
        let err = parse(&t, b"{\"error\":\"model 'x' not found\"}\n");
        assert_eq!(
            err.failure.map(|f| f.message),
            Some("model 'x' not found".into())
        );
    }
}
