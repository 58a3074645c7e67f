//! The probe result: what the probe Worker (`workers/`) records for every request it sends to an
//! LLM provider, stores, and answers on `GET /results`. The field names are a fixed contract
//! (workers/README.md); the dashboard reads them.

use serde::{Deserialize, Serialize};

/// One probe of one target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// The target's name from the Worker's configuration.
    pub target: String,
    /// `openai`, `anthropic`, `gemini`, `bedrock`, `ollama` or `http`.
    pub provider: String,
    /// The model asked for.
    pub model: String,
    /// When the request was sent, Unix epoch milliseconds.
    pub t: i64,
    /// Whether the stream completed normally.
    pub ok: bool,
    /// The HTTP status, or null when no response arrived (timeout, network error).
    pub status: Option<u16>,
    /// Request sent to the first chunk carrying non-empty generated text.
    pub ttft_ms: Option<f64>,
    /// Request sent to the end of the stream.
    pub total_ms: Option<f64>,
    /// From the provider's usage report, never from counting chunks.
    pub input_tokens: Option<u64>,
    /// From the provider's usage report.
    pub output_tokens: Option<u64>,
    /// Input tokens served from the provider's prompt cache.
    pub cached_input_tokens: Option<u64>,
    /// Output tokens / (total − TTFT), in tokens per second.
    pub tokens_per_s: Option<f64>,
    /// Null when the model's price is unknown (never 0 for "unknown").
    pub cost_usd: Option<f64>,
    /// Null for a successful probe.
    pub error: Option<ProbeError>,
    /// Whether the answer passed the target's `check`: null when the target has none or the
    /// probe failed (a failed call is an error, not a wrong answer). Absent in results from
    /// before it existed, which read as null.
    #[serde(default)]
    pub quality_pass: Option<bool>,
    /// Provider extras, e.g. Ollama's `load_duration_ms`, Bedrock's `latency_ms`, and the
    /// probe's context (workers/README.md, "The result", has every key), each present only
    /// when known: `colo` (the Cloudflare colo the Worker ran in, `request.cf.colo`; absent
    /// for cron probes and under `wrangler dev`), `provider_colo` (the colo in the response's
    /// `cf-ray`), `request_id` (OpenAI `x-request-id`, Anthropic `request-id`, Bedrock
    /// `x-amzn-requestid`, Gemini `responseId`), `processing_ms` (`openai-processing-ms`),
    /// `ratelimit_{limit,remaining}_{requests,tokens}` (OpenAI `x-ratelimit-*`, Anthropic
    /// `anthropic-ratelimit-*`), `response_model` (the model the response names), and
    /// `reasoning_tokens`. Never a key, a prompt or an answer.
    #[serde(default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Why a probe failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeError {
    /// The class of failure.
    pub kind: ErrorKind,
    /// What happened, in words; secrets are redacted.
    pub message: String,
    /// From a rate limit's `retry-after`, in seconds.
    pub retry_after_s: Option<f64>,
}

/// The classes a failed probe falls in (a fixed contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 401/403, or credentials missing from the configuration.
    Auth,
    /// 404: no such model or path.
    NotFound,
    /// 429, or the provider's throttling event.
    RateLimited,
    /// No answer in time (the probe's timeout, 408, 504).
    Timeout,
    /// 5xx, or the provider's in-stream error event.
    Server,
    /// The stream ended before its terminal event.
    StreamCut,
    /// A frame that does not parse, or a configuration the probe cannot use.
    Malformed,
}

impl ErrorKind {
    /// The contract's name for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Server => "server",
            ErrorKind::StreamCut => "stream_cut",
            ErrorKind::Malformed => "malformed",
        }
    }

    /// The kind an HTTP error status means (providers.md, "Errors a probe must classify").
    pub fn of_status(status: u16) -> ErrorKind {
        match status {
            401 | 403 => ErrorKind::Auth,
            404 => ErrorKind::NotFound,
            408 | 504 => ErrorKind::Timeout,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::Malformed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_pass_is_null_when_absent_and_kept_when_given() {
        let old = r#"{"target":"a","provider":"openai","model":"m","t":1,"ok":true,"status":200,
            "ttft_ms":1.0,"total_ms":2.0,"input_tokens":1,"output_tokens":1,
            "cached_input_tokens":null,"tokens_per_s":1.0,"cost_usd":null,"error":null}"#;
        let r: ProbeResult = serde_json::from_str(old).expect("a result from before the field");
        assert_eq!(r.quality_pass, None);
        let mut v = serde_json::to_value(&r).expect("serializes");
        assert_eq!(v["quality_pass"], serde_json::Value::Null, "always written");
        v["quality_pass"] = false.into();
        let judged: ProbeResult = serde_json::from_value(v.clone()).expect("judged");
        assert_eq!(judged.quality_pass, Some(false));
        v["quality_pass"] = "yes".into();
        assert!(serde_json::from_value::<ProbeResult>(v).is_err());
    }
}
