//! AWS Bedrock ConverseStream
//! (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html):
//! a SigV4-signed POST (service `bedrock`) answered in the binary event-stream framing, every
//! frame's CRCs checked. Events: `contentBlockDelta` (text), `messageStop`, `metadata`
//! (usage, and the service's own `metrics.latencyMs`, kept as `extra.latency_ms`); exception
//! frames carry the error class in `:exception-type`.

use super::{count, Context, HttpRequest, Outcome, Provider, StreamParser};
use crate::aws::eventstream::{Decoder, Message};
use crate::aws::sigv4::{self, Credentials, SignInput};
use crate::target::{ConfigError, Target};
use llmscope_protocol::probe::ErrorKind;
use serde_json::{json, Value};

pub struct Bedrock;

/// `https://host[:port]/path?query` split into host (with port) and path; query kept apart.
fn split_url(url: &str) -> Option<(&str, &str, &str)> {
    let rest = url.split_once("://")?.1;
    let (authority, path_query) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    Some((authority, path, query))
}

impl Provider for Bedrock {
    fn request(&self, ctx: &Context) -> Result<HttpRequest, ConfigError> {
        let t = ctx.target;
        let region = t.region.as_deref().unwrap_or("us-east-1");
        let creds = Credentials {
            access_key_id: ctx.secret("access_key_secret", t.access_key_secret.as_deref())?,
            secret_access_key: ctx.secret("secret_key_secret", t.secret_key_secret.as_deref())?,
            session_token: match &t.session_token_secret {
                Some(name) => Some(ctx.secret("session_token_secret", Some(name))?),
                None => None,
            },
        };
        let base = ctx.base(&format!("https://bedrock-runtime.{region}.amazonaws.com"));
        let url = format!(
            "{base}/model/{}/converse-stream",
            sigv4::encode_segment(&t.model)
        );
        let (host, path, query) =
            split_url(&url).ok_or_else(|| ConfigError::new(&t.name, "base_url", "is not a URL"))?;
        let body = json!({
            "messages": [{"role": "user", "content": [{"text": ctx.prompt}]}],
            "inferenceConfig": {"maxTokens": t.max_tokens},
        })
        .to_string()
        .into_bytes();
        let extra = [
            ("content-type", "application/json"),
            ("accept", "application/vnd.amazon.eventstream"),
        ];
        let amz_date = sigv4::amz_date(ctx.now_ms).ok_or_else(|| {
            ConfigError::new(
                &t.name,
                "now",
                format!("the clock says {} ms, outside the calendar", ctx.now_ms),
            )
        })?;
        let signed = sigv4::sign(
            &SignInput {
                method: "POST",
                host,
                path,
                query,
                headers: &extra,
                body: &body,
                region,
                service: "bedrock",
                amz_date: &amz_date,
                sign_content_sha256: true,
            },
            &creds,
        );
        let mut headers: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        headers.extend(signed);
        Ok(HttpRequest {
            method: "POST".into(),
            url,
            headers,
            body,
        })
    }

    fn parser(&self, _: &Target) -> Box<dyn StreamParser> {
        Box::<Parser>::default()
    }
}

#[derive(Default)]
struct Parser {
    frames: Decoder,
}

/// The contract's class of a Bedrock exception.
fn kind_of(exception: &str) -> ErrorKind {
    match exception {
        "throttlingException" | "ThrottlingException" => ErrorKind::RateLimited,
        "validationException" | "ValidationException" => ErrorKind::Malformed,
        "accessDeniedException" | "AccessDeniedException" => ErrorKind::Auth,
        "resourceNotFoundException" | "ResourceNotFoundException" => ErrorKind::NotFound,
        _ => ErrorKind::Server, // internalServer, modelStreamError, serviceUnavailable, ...
    }
}

fn message(out: &mut Outcome, m: &Message) {
    let payload = String::from_utf8_lossy(&m.payload);
    if m.header(":message-type") == Some("exception") {
        let exception = m.header(":exception-type").unwrap_or("exception");
        out.fail(
            kind_of(exception),
            format!("{exception}: {}", super::error_message(&payload)),
        );
        return;
    }
    let event = m.header(":event-type").unwrap_or_default().to_string();
    let Some(v) = out.json(&payload) else { return };
    match event.as_str() {
        "contentBlockDelta" => {
            out.text(v.pointer("/delta/text").and_then(Value::as_str));
            // A reasoning model's thinking (Claude's extended thinking, DeepSeek-R1).
            out.reasoning(
                v.pointer("/delta/reasoningContent/text")
                    .and_then(Value::as_str),
            );
        }
        "messageStop" => {
            out.done = true;
            if let Some(r) = v.get("stopReason") {
                out.extra.insert("stop_reason".into(), r.clone());
            }
        }
        "metadata" => {
            let read = count(&v, "/usage/cacheReadInputTokens");
            let written = count(&v, "/usage/cacheWriteInputTokens");
            out.usage.input = count(&v, "/usage/inputTokens")
                .map(|n| n + read.unwrap_or(0) + written.unwrap_or(0));
            out.usage.output = count(&v, "/usage/outputTokens");
            out.usage.cached_input = read;
            out.usage.cache_write = written;
            if let Some(ms) = v.pointer("/metrics/latencyMs") {
                out.extra.insert("latency_ms".into(), ms.clone());
            }
        }
        _ => {} // messageStart, contentBlockStart/Stop, and events added later
    }
}

impl StreamParser for Parser {
    fn feed(&mut self, bytes: &[u8], out: &mut Outcome) {
        self.frames.push(bytes);
        while out.failure.is_none() {
            match self.frames.next_message() {
                Ok(Some(m)) => message(out, &m),
                Ok(None) => break,
                Err(e) => out.fail(ErrorKind::Malformed, e.to_string()),
            }
        }
    }

    fn finish(&mut self, _: &mut Outcome) {}
}

#[cfg(test)]
mod tests {
    use super::super::testing::{parse, secrets, target};
    use super::*;
    use crate::aws::eventstream::encode;

    fn event(kind: &str, payload: &str) -> Vec<u8> {
        encode(
            &[
                (":event-type", kind),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            payload.as_bytes(),
        )
    }

    #[test]
    fn frames_are_decoded_and_crcs_checked() {
        let mut body = event("messageStart", r#"{"role":"assistant"}"#);
        body.extend(event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Say hi."}}}"#,
        ));
        body.extend(event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"c2ln"}}}"#,
        ));
        body.extend(event("contentBlockStop", r#"{"contentBlockIndex":0}"#));
        body.extend(event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":1,"delta":{"text":"Hi"}}"#,
        ));
        body.extend(event("contentBlockStop", r#"{"contentBlockIndex":1}"#));
        body.extend(event("messageStop", r#"{"stopReason":"end_turn"}"#));
        body.extend(event("metadata", r#"{"usage":{"inputTokens":11,"outputTokens":1,"totalTokens":12},"metrics":{"latencyMs":321}}"#));
        let t = target(
            r#"{"name":"b","provider":"bedrock","model":"anthropic.claude-3-haiku-20240307-v1:0","region":"us-east-1","access_key_secret":"A","secret_key_secret":"S"}"#,
        );
        let out = parse(&t, &body);
        assert!(out.done);
        assert_eq!(out.text_chunks, 1);
        assert_eq!((out.reasoning_chunks, out.reasoning_chars), (1, 7));
        assert_eq!((out.usage.input, out.usage.output), (Some(11), Some(1)));
        assert_eq!(out.extra["latency_ms"], 321);

        let mut corrupt = body.clone();
        let at = corrupt.len() - 10;
        corrupt[at] ^= 0x20;
        let out = parse(&t, &corrupt);
        assert_eq!(out.failure.map(|f| f.kind), Some(ErrorKind::Malformed));

        let exception = encode(
            &[
                (":message-type", "exception"),
                (":exception-type", "throttlingException"),
            ],
            br#"{"message":"slow down"}"#,
        );
        let out = parse(&t, &exception);
        let f = out.failure.unwrap();
        assert_eq!(
            (f.kind, f.message.as_str()),
            (ErrorKind::RateLimited, "throttlingException: slow down")
        );
    }

    #[test]
    fn the_request_is_signed_for_bedrock_with_the_model_id_encoded() {
        let t = target(
            r#"{"name":"b","provider":"bedrock","model":"anthropic.claude-3-haiku-20240307-v1:0","region":"eu-west-1","access_key_secret":"A","secret_key_secret":"S"}"#,
        );
        let s = secrets(&[("A", "AKIDEXAMPLE"), ("S", "secret")]);
        let ctx = Context {
            target: &t,
            prompt: "hi",
            now_ms: 1_440_938_160_000,
            secrets: &s,
        };
        let r = Bedrock.request(&ctx).unwrap();
        assert_eq!(r.url, "https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream");
        let auth = &r
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .unwrap()
            .1;
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/bedrock/aws4_request"
            ),
            "{auth}"
        );
        assert!(r
            .headers
            .contains(&("x-amz-date".into(), "20150830T123600Z".into())));
        assert_eq!(
            split_url("http://127.0.0.1:9/p/x/model/m/converse-stream?a=1"),
            Some(("127.0.0.1:9", "/p/x/model/m/converse-stream", "a=1"))
        );
    }
}
