//! One adapter per provider behind one trait (Telegraf's input plugins): an adapter builds the
//! streaming request and parses the response stream into an [`Outcome`]. The runtime sends
//! the request, times the bytes and assembles the result; adapters never see a clock or a
//! socket, so every one is tested natively. Adding a provider touches this folder and
//! [`ProviderKind`].

mod anthropic;
mod bedrock;
mod custom;
pub mod frame;
mod gemini;
mod ollama;
mod openai;

use crate::check::ANSWER_BYTES;
use crate::target::{ConfigError, ProviderKind, Target};
use llmscope_protocol::prices::Usage;
use llmscope_protocol::probe::ErrorKind;
use serde_json::Value;

/// A request ready to send.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    /// GET, POST, ...
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The body (JSON for every provider).
    pub body: Vec<u8>,
}

/// Where secret values come from (Worker secrets, or a map in tests).
pub trait Secrets {
    /// The value of the secret `name`, if set.
    fn get(&self, name: &str) -> Option<String>;
}

/// What an adapter needs to build one request.
pub struct Context<'a> {
    /// The target probed.
    pub target: &'a Target,
    /// The prompt for this probe (with its nonce when the target wants a fresh prompt).
    pub prompt: &'a str,
    /// Now, Unix epoch milliseconds (for request signing).
    pub now_ms: i64,
    /// The Worker's secrets.
    pub secrets: &'a dyn Secrets,
}

impl Context<'_> {
    /// The secret named by `field` of the target (e.g. `key_secret`), or an error naming both.
    pub fn secret(&self, field: &str, name: Option<&str>) -> Result<String, ConfigError> {
        let name = name.ok_or_else(|| {
            ConfigError::new(
                &self.target.name,
                field,
                "names the secret to use; required",
            )
        })?;
        self.secrets.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            ConfigError::new(
                &self.target.name,
                field,
                format!(
                    "the secret {name} is not set (`wrangler secret put {name}`, or .dev.vars when local)"
                ),
            )
        })
    }

    /// The target's `base_url`, or the provider's public one.
    pub fn base(&self, default: &str) -> String {
        self.target
            .base_url
            .as_deref()
            .unwrap_or(default)
            .trim_end_matches('/')
            .to_string()
    }
}

/// What a response stream said, as parsed so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Chunks that carried non-empty generated text (TTFT is taken at the first).
    pub text_chunks: u64,
    /// The provider's usage report.
    pub usage: Usage,
    /// Output tokens spent reasoning, when the provider reports them apart (OpenAI's
    /// `reasoning_tokens`, Gemini's `thoughtsTokenCount`); part of `usage.output`.
    pub reasoning_tokens: Option<u64>,
    /// Chunks that carried non-empty reasoning text (Anthropic thinking, Gemini thoughts,
    /// Bedrock reasoningContent, Ollama thinking): never the first visible text.
    pub reasoning_chunks: u64,
    /// Characters of that reasoning text, for providers that count no reasoning tokens.
    pub reasoning_chars: u64,
    /// The provider's terminal event arrived: a stream that ends without it was cut.
    pub done: bool,
    /// A failure reported in the stream or found parsing it; parsing stops there.
    pub failure: Option<Failure>,
    /// Provider extras for the result's `extra`.
    pub extra: serde_json::Map<String, Value>,
    /// The visible text so far, kept only when the target has a `check` ([`Outcome::for_target`]):
    /// at most [`ANSWER_BYTES`], cut at a character boundary.
    pub answer: Option<String>,
    /// The answer reached its bound: no more text is kept, so a character cut at the bound
    /// leaves no gap.
    pub answer_full: bool,
}

/// A classified failure.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// The contract's class.
    pub kind: ErrorKind,
    /// What happened.
    pub message: String,
}

impl Outcome {
    /// An empty outcome that keeps the answer's text when `target` has a check to judge it.
    pub fn for_target(target: &Target) -> Outcome {
        Outcome {
            answer: target.check.as_ref().map(|_| String::new()),
            ..Outcome::default()
        }
    }

    /// Keeps the first identifier a response names under `key` of `extra` (`response_model`,
    /// `request_id`), as [`crate::context::identifier`] cleans it: never a secret, never
    /// unbounded.
    pub fn note(&mut self, key: &str, value: Option<&Value>) {
        if self.extra.contains_key(key) {
            return;
        }
        if let Some(id) = value
            .and_then(Value::as_str)
            .and_then(crate::context::identifier)
        {
            self.extra.insert(key.into(), id.into());
        }
    }

    /// Records a failure, keeping the first. A blank message (a provider's `{"error": ""}`)
    /// becomes words, so every failure says what happened.
    pub fn fail(&mut self, kind: ErrorKind, message: impl Into<String>) {
        if self.failure.is_none() {
            let mut message = message.into();
            if message.trim().is_empty() {
                message = "the provider reported an error without a message".into();
            }
            self.failure = Some(Failure { kind, message });
        }
    }

    /// Parses a JSON frame, or records it as malformed.
    pub fn json(&mut self, frame: &str) -> Option<Value> {
        match serde_json::from_str(frame) {
            Ok(v) => Some(v),
            Err(e) => {
                // Whole: `measure` redacts secrets before it shortens messages.
                self.fail(
                    ErrorKind::Malformed,
                    format!("invalid JSON in the stream ({e}): {frame}"),
                );
                None
            }
        }
    }

    /// Counts a reasoning chunk and its characters when `text` is non-empty.
    pub fn reasoning(&mut self, text: Option<&str>) {
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            self.reasoning_chunks += 1;
            self.reasoning_chars += t.chars().count() as u64;
        }
    }

    /// Counts a text chunk when `text` is non-empty, and keeps its text when the answer is
    /// kept.
    pub fn text(&mut self, text: Option<&str>) {
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            return;
        };
        self.text_chunks += 1;
        match &mut self.answer {
            Some(answer) if !self.answer_full => {
                let room = ANSWER_BYTES.saturating_sub(answer.len());
                let mut end = room.min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                answer.push_str(&text[..end]);
                self.answer_full = end < text.len();
            }
            _ => {}
        }
    }
}

/// Parses one response stream incrementally.
pub trait StreamParser {
    /// Feeds the next bytes of the body.
    fn feed(&mut self, bytes: &[u8], out: &mut Outcome);
    /// The body ended (cleanly, as far as the transport knows).
    fn finish(&mut self, out: &mut Outcome);
}

/// A provider adapter.
pub trait Provider {
    /// The streaming request for one probe.
    fn request(&self, ctx: &Context) -> Result<HttpRequest, ConfigError>;
    /// A parser for one response body.
    fn parser(&self, target: &Target) -> Box<dyn StreamParser>;
}

/// The adapter for `kind`.
pub fn adapter(kind: ProviderKind) -> &'static dyn Provider {
    match kind {
        ProviderKind::Openai => &openai::OpenAi,
        ProviderKind::Anthropic => &anthropic::Anthropic,
        ProviderKind::Gemini => &gemini::Gemini,
        ProviderKind::Bedrock => &bedrock::Bedrock,
        ProviderKind::Ollama => &ollama::Ollama,
        ProviderKind::Http => &custom::Custom,
    }
}

/// A JSON request body.
fn json_request(url: String, headers: Vec<(String, String)>, body: &Value) -> HttpRequest {
    let mut headers = headers;
    headers.push(("content-type".into(), "application/json".into()));
    HttpRequest {
        method: "POST".into(),
        url,
        headers,
        body: body.to_string().into_bytes(),
    }
}

/// A token count at `pointer`, if it is a non-negative integer.
fn count(v: &Value, pointer: &str) -> Option<u64> {
    v.pointer(pointer).and_then(Value::as_u64)
}

/// The message of a provider's error body: `error.message`, `message`, `error` (a string),
/// or the body. Every provider's error JSON has one of these. A blank message counts as none
/// (the body says more), and a blank body says so: a failure always has words. Not shortened
/// here: `measure` redacts secrets first and shortens after, so no key is ever cut in half and
/// half shown.
pub fn error_message(body: &str) -> String {
    let found = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        ["/error/message", "/message", "/error", "/Message"]
            .iter()
            .filter_map(|p| v.pointer(p).and_then(Value::as_str))
            .find(|m| !m.trim().is_empty())
            .map(str::to_string)
    });
    match found {
        Some(m) => m,
        None if body.trim().is_empty() => "no message (empty body)".into(),
        None => body.trim().to_string(),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Feeding a whole recorded stream to a parser in pieces of every size.

    use super::*;
    use std::collections::HashMap;

    pub struct Map(pub HashMap<String, String>);

    impl Secrets for Map {
        fn get(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    pub fn secrets(pairs: &[(&str, &str)]) -> Map {
        Map(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    pub fn target(json: &str) -> Target {
        let t = crate::target::parse(&format!("[{json}]"));
        assert!(t.errors.is_empty(), "{:?}", t.errors);
        t.valid[0].clone()
    }

    /// The JSON body of the request `json`'s target makes (prompt "hi", clock at 0).
    pub fn request_body(json: &str, secrets: &Map) -> serde_json::Value {
        let t = target(json);
        let ctx = Context {
            target: &t,
            prompt: "hi",
            now_ms: 0,
            secrets,
        };
        let request = adapter(t.provider).request(&ctx).expect("a valid request");
        serde_json::from_slice(&request.body).expect("a JSON body")
    }

    /// The outcome of `body` fed in pieces of `split` bytes; asserts every split agrees.
    pub fn parse(target: &Target, body: &[u8]) -> Outcome {
        let whole = run(target, body, body.len().max(1));
        for split in [1, 2, 3, 7, 64] {
            assert_eq!(run(target, body, split), whole, "split {split}");
        }
        whole
    }

    fn run(target: &Target, body: &[u8], split: usize) -> Outcome {
        let mut parser = adapter(target.provider).parser(target);
        let mut out = Outcome::default();
        for piece in body.chunks(split) {
            parser.feed(piece, &mut out);
            if out.failure.is_some() {
                return out;
            }
        }
        parser.finish(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_failure_still_says_what_happened_and_the_first_is_kept() {
        let mut out = Outcome::default();
        out.fail(ErrorKind::Server, " ");
        out.fail(ErrorKind::Auth, "second");
        assert_eq!(
            out.failure,
            Some(Failure {
                kind: ErrorKind::Server,
                message: "the provider reported an error without a message".into()
            })
        );
    }

    #[test]
    fn the_answer_is_kept_only_for_a_check_and_only_up_to_its_bound() {
        let plain = testing::target(r#"{"name": "t", "provider": "ollama", "model": "m"}"#);
        let mut out = Outcome::for_target(&plain);
        out.text(Some("4"));
        assert_eq!((out.text_chunks, out.answer), (1, None));
        let checked = testing::target(
            r#"{"name": "t", "provider": "ollama", "model": "m", "check": {"exact": "4"}}"#,
        );
        let mut out = Outcome::for_target(&checked);
        out.reasoning(Some("let me think"));
        for piece in [Some("The answer"), None, Some(""), Some(" is 4.")] {
            out.text(piece);
        }
        assert_eq!(out.answer.as_deref(), Some("The answer is 4."));
        // Bounded, and never cut inside a character: "é" is two bytes.
        out.answer = Some("x".repeat(ANSWER_BYTES - 1));
        out.text(Some("éa"));
        out.text(Some("more"));
        let kept = out.answer.unwrap_or_default();
        assert_eq!(
            kept.len(),
            ANSWER_BYTES - 1,
            "the é does not fit, nor what follows"
        );
        assert_eq!(out.text_chunks, 4, "chunks are still counted");
    }

    #[test]
    fn the_model_the_response_names_is_kept_first_come_and_cleaned() {
        let t = testing::target(
            r#"{"name":"o","provider":"openai","model":"gpt-4o","key_secret":"K"}"#,
        );
        let stream = concat!(
            "data: {\"model\":\"gpt-4o-2024-11-20\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n",
            "data: {\"model\":\"other\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\n",
            "data: [DONE]\n\n",
        );
        let out = testing::parse(&t, stream.as_bytes());
        assert_eq!(out.extra["response_model"], "gpt-4o-2024-11-20");
        let a = testing::target(
            r#"{"name":"a","provider":"anthropic","model":"claude-sonnet-4-5","key_secret":"K"}"#,
        );
        let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-5-20250929\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n";
        let out = testing::parse(&a, start.as_bytes());
        assert_eq!(out.extra["response_model"], "claude-sonnet-4-5-20250929");
        let mut out = Outcome::default();
        out.note("response_model", Some(&Value::from("a model\nwith lines")));
        out.note("request_id", Some(&Value::from(7)));
        assert!(out.extra.is_empty(), "{:?}", out.extra);
    }

    #[test]
    fn error_messages_come_from_each_providers_error_shape() {
        assert_eq!(
            error_message(r#"{"error":{"message":"bad key","type":"x"}}"#),
            "bad key"
        );
        assert_eq!(
            error_message(
                r#"{"type":"error","error":{"type":"not_found_error","message":"no model"}}"#
            ),
            "no model"
        );
        assert_eq!(
            error_message(r#"{"message":"Too many requests"}"#),
            "Too many requests"
        );
        assert_eq!(
            error_message(r#"{"error":"model 'x' not found"}"#),
            "model 'x' not found"
        );
        assert_eq!(error_message("<html>502</html>"), "<html>502</html>");
        // Found by the fuzz run: a blank message is no message.
        assert_eq!(
            error_message(r#"{"error":{"message":" ","type":"server_error"}}"#),
            r#"{"error":{"message":" ","type":"server_error"}}"#
        );
        assert_eq!(error_message(" \n"), "no message (empty body)");
    }
}
