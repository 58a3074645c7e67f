//! Any HTTP endpoint, described by the target: method, URL, headers, a JSON body template,
//! JSON pointers to the text and the usage counts, and how the answer arrives (SSE, NDJSON,
//! or one body), and a pointer whose presence marks an in-stream error. In templates, `{{prompt}}`, `{{model}}` and `{{max_tokens}}` fill body
//! strings and `{{key}}` fills header values with the key secret.

use super::frame::{Lines, Sse, TooLong, MAX_FRAME_BYTES};
use super::{count, Context, HttpRequest, Outcome, Provider, StreamParser};
use crate::target::{ConfigError, StreamFormat, Target};
use serde_json::Value;

pub struct Custom;

/// Fills `{{...}}` placeholders in every string of a JSON template. A string that is exactly
/// `{{max_tokens}}` becomes a number.
fn fill(template: &Value, t: &Target, prompt: &str) -> Value {
    match template {
        Value::String(s) if s == "{{max_tokens}}" => Value::from(t.max_tokens),
        Value::String(s) => Value::String(
            s.replace("{{prompt}}", prompt)
                .replace("{{model}}", &t.model)
                .replace("{{max_tokens}}", &t.max_tokens.to_string()),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, t, prompt)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill(v, t, prompt)))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl Provider for Custom {
    fn request(&self, ctx: &Context) -> Result<HttpRequest, ConfigError> {
        let t = ctx.target;
        let needs_key = t.headers.values().any(|v| v.contains("{{key}}"));
        let key = match needs_key {
            true => ctx.secret("key_secret", t.key_secret.as_deref())?,
            false => String::new(),
        };
        let mut headers: Vec<(String, String)> = t
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.replace("{{key}}", &key)))
            .collect();
        let body = match &t.body {
            Some(template) => {
                if !headers.iter().any(|(k, _)| k == "content-type") {
                    headers.push(("content-type".into(), "application/json".into()));
                }
                fill(template, t, ctx.prompt).to_string().into_bytes()
            }
            None => Vec::new(),
        };
        let url = t
            .url
            .clone()
            .ok_or_else(|| ConfigError::new(&t.name, "url", "is required for provider http"))?;
        Ok(HttpRequest {
            method: t.method.clone().unwrap_or_else(|| "POST".into()),
            url,
            headers,
            body,
        })
    }

    fn parser(&self, t: &Target) -> Box<dyn StreamParser> {
        Box::new(Parser {
            target: t.clone(),
            sse: Sse::default(),
            lines: Lines::default(),
            body: Vec::new(),
        })
    }
}

struct Parser {
    target: Target,
    sse: Sse,
    lines: Lines,
    body: Vec<u8>,
}

/// Reads the text and the counts the target points at.
fn frame(t: &Target, out: &mut Outcome, data: &str) {
    if out.failure.is_some() || data.trim().is_empty() {
        return;
    }
    if data.trim() == "[DONE]" {
        out.done = true;
        return;
    }
    let Some(v) = out.json(data) else { return };
    let error_pointer = t.error_pointer.as_deref().unwrap_or("/error");
    if let Some(e) = v.pointer(error_pointer).filter(|e| !e.is_null()) {
        let message = e
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string());
        out.fail(llmscope_protocol::probe::ErrorKind::Server, message);
        return;
    }
    let text = t.text_pointer.as_deref().and_then(|p| v.pointer(p));
    out.text(text.and_then(Value::as_str));
    let read = |p: &Option<String>| p.as_deref().and_then(|p| count(&v, p));
    out.usage.input = read(&t.input_tokens_pointer).or(out.usage.input);
    out.usage.output = read(&t.output_tokens_pointer).or(out.usage.output);
    out.usage.cached_input = read(&t.cached_input_tokens_pointer).or(out.usage.cached_input);
}

impl StreamParser for Parser {
    fn feed(&mut self, bytes: &[u8], out: &mut Outcome) {
        let t = &self.target;
        let fed = match t.stream {
            StreamFormat::Sse => self.sse.feed(bytes, |_, d| frame(t, out, d)),
            StreamFormat::Ndjson => self.lines.feed(bytes, |l| frame(t, out, l)),
            StreamFormat::None if self.body.len() + bytes.len() > MAX_FRAME_BYTES => {
                self.body = Vec::new();
                Err(TooLong("a body"))
            }
            StreamFormat::None => {
                self.body.extend_from_slice(bytes);
                Ok(())
            }
        };
        if let Err(e) = fed {
            e.report(out);
        }
    }

    /// A custom endpoint has no terminal event the probe can know of: a body that ends
    /// without a transport error is complete.
    fn finish(&mut self, out: &mut Outcome) {
        let t = &self.target;
        match t.stream {
            StreamFormat::Sse => self.sse.finish(|_, d| frame(t, out, d)),
            StreamFormat::Ndjson => self.lines.finish(|l| frame(t, out, l)),
            StreamFormat::None => {
                let body = String::from_utf8_lossy(&self.body).into_owned();
                frame(t, out, &body);
            }
        }
        out.done = true;
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{parse, secrets, target};
    use super::*;

    const NDJSON: &str = r#"{"name":"c","provider":"http","url":"http://h/generate","key_secret":"K",
        "headers":{"Authorization":"Bearer {{key}}"},
        "body":{"prompt":"{{prompt}}","stream":true,"n":"{{max_tokens}}"},
        "stream":"ndjson","text_pointer":"/token/text",
        "input_tokens_pointer":"/stats/prompt_tokens","output_tokens_pointer":"/stats/generated_tokens"}"#;

    #[test]
    fn templates_are_filled_and_pointers_read() {
        let t = target(NDJSON);
        let s = secrets(&[("K", "k1")]);
        let ctx = Context {
            target: &t,
            prompt: "say \"hi\"",
            now_ms: 0,
            secrets: &s,
        };
        let r = Custom.request(&ctx).unwrap();
        assert!(r
            .headers
            .contains(&("authorization".into(), "Bearer k1".into())));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"prompt": "say \"hi\"", "stream": true, "n": 64})
        );
        let stream = "{\"token\":{\"text\":\"a\"}}\n{\"token\":{\"text\":\"b\"}}\n{\"done\":true,\"stats\":{\"prompt_tokens\":7,\"generated_tokens\":2}}\n";
        let out = parse(&t, stream.as_bytes());
        assert_eq!(out.text_chunks, 2);
        assert_eq!((out.usage.input, out.usage.output), (Some(7), Some(2)));
        let out = parse(
            &t,
            b"{\"token\":{\"text\":\"a\"}}\n{\"error\":\"overloaded\"}\n",
        );
        assert_eq!(out.failure.map(|f| f.message), Some("overloaded".into()));
    }

    #[test]
    fn a_whole_body_is_one_chunk() {
        let t = target(
            r#"{"name":"c","provider":"http","url":"http://h/x","stream":"none","text_pointer":"/output/text","output_tokens_pointer":"/n"}"#,
        );
        let out = parse(&t, br#"{"output":{"text":"hello"},"n":3}"#);
        assert_eq!(
            (out.text_chunks, out.usage.output, out.done),
            (1, Some(3), true)
        );
    }

    #[test]
    fn a_body_past_the_limit_is_malformed() {
        let t = target(
            r#"{"name":"c","provider":"http","url":"http://h/x","stream":"none","text_pointer":"/t"}"#,
        );
        let mut parser = Custom.parser(&t);
        let mut out = Outcome::default();
        let piece = vec![b' '; 64 * 1024];
        for _ in 0..=MAX_FRAME_BYTES / piece.len() {
            parser.feed(&piece, &mut out);
        }
        let f = out.failure.unwrap();
        assert_eq!(f.kind, llmscope_protocol::probe::ErrorKind::Malformed);
        assert_eq!(f.message, "a body longer than 1048576 bytes");
    }
}
